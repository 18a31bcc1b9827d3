/* The guest's debug registers, row by row against the SDM (vol. 3 17.2-17.3, see
 * src/cpu/debug.h): which breakpoint fires, when (fault before / trap after), with what in
 * DR6, which EIP and which RF in the frame the #DB pushes.
 *
 *   row                                       #DB?  class  EIP pushed        DR6          RF
 *   execute, L0, at the instruction           yes   fault  the instruction   B0           0
 *   execute, RF = 1                           no    -      -                 -            -
 *   execute, disabled (L0 = G0 = 0)           no
 *   execute with LEN != 00                    no (undefined: never matches here)
 *   write, G1, byte inside a 4-byte range     yes   trap   the next one      B1
 *   write breakpoint, a read                  no
 *   read/write breakpoint, a read             yes   trap   the next one      B2
 *   DRn unaligned for LEN: rounded down       yes for the rounded range, no beyond it
 *   REP STOSB through the watched byte        yes   trap   the REP (ECX left) B0          1
 *   POP SS reading a watched stack slot       yes, after the NEXT instruction (MOV SS shadow)
 *   DR7.GD, MOV from DR0                      yes   fault  the MOV           BD, GD -> 0  1
 *   TF and a data write together              one #DB      the next one      BS | B0
 *   a later #DB rewrites B0..B3, keeps BS
 *   I/O (R/W 10), CR4.DE = 1, OUT to the port yes   trap   the next one      B0
 *   I/O, CR4.DE = 0                           no (undefined: never matches here)
 *   I/O, LEN 4 rounded down, IN dword inside  yes   trap   the next one      B1
 *   I/O, IN from a port beyond the range      no
 *   I/O, REP OUTSB                            yes   trap   the REP (ECX left) B0          1
 *                                                    after the first iteration
 *   I/O, CR4.DE set by MOV CR4 in the guest   yes (the breakpoint is re-read)
 *   MOV from DR4: CR4.DE = 1                  #UD; CR4.DE = 0: reads DR6
 *   CPUID.1:EDX.DE (bit 2)                    set
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "cpu/debug.h"
#include "cpu/inspect.h"
#include "devices/bus.h"

#define RAM_SIZE (1u << 20)
#define GDT 0x1000u
#define IDT 0x2000u
#define DATA 0x5000u
#define KSTACK_TOP 0x7000u
#define CODE 0x8000u
#define HANDLER 0x9000u

struct rig {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    unsigned dbs;            /* #DB events */
    unsigned uds;            /* #UD events */
    struct trace_event db;   /* the first */
};

static void sink(void *ctx, const struct trace_event *ev)
{
    struct rig *r = ctx;
    if (ev->kind == TR_EXCEPTION && ev->vector == 1) {
        if (r->dbs++ == 0)
            r->db = *ev;
        cpu_request_stop(&r->c);
    }
    if (ev->kind == TR_EXCEPTION && ev->vector == 6)
        r->uds++;
}

static void put32(struct rig *r, uint32_t a, uint32_t v) { memcpy(r->ram + a, &v, 4); }
static uint32_t get32(struct rig *r, uint32_t a)
{
    uint32_t v;
    memcpy(&v, r->ram + a, 4);
    return v;
}

/* Flat code 0x08 and data 0x10, every IDT gate an interrupt gate to HANDLER (hlt), ESP at
 * KSTACK_TOP, code at CODE. */
static struct rig *rig(const uint8_t *code, size_t n)
{
    struct rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->ram = calloc(RAM_SIZE, 1);
    assert_non_null(r->ram);
    bus_init(&r->bus);
    assert_int_equal(cpu_init(&r->c, r->ram, RAM_SIZE, &r->bus), 0);
    cpu_reset_protected_flat(&r->c, CODE);
    put32(r, GDT + 8, 0x0000FFFFu);  put32(r, GDT + 12, 0x00CF9A00u); /* code */
    put32(r, GDT + 16, 0x0000FFFFu); put32(r, GDT + 20, 0x00CF9200u); /* data */
    for (unsigned v = 0; v < 32; v++) {
        put32(r, IDT + 8 * v, (0x08u << 16) | (HANDLER & 0xFFFF));
        put32(r, IDT + 8 * v + 4, (HANDLER & 0xFFFF0000u) | 0x8E00u);
    }
    cpu_set_gdtr(&r->c, &(struct dtable){ GDT, 0x17 });
    cpu_set_idtr(&r->c, &(struct dtable){ IDT, 32 * 8 - 1 });
    r->ram[HANDLER] = 0xF4; /* hlt */
    memcpy(r->ram + CODE, code, n);
    cpu_flush_decoded(&r->c);
    cpu_set_reg(&r->c, REG_ESP, KSTACK_TOP);
    cpu_add_sink(&r->c, sink, r);
    return r;
}

static void done(struct rig *r)
{
    cpu_free(&r->c);
    free(r->ram);
    free(r);
}

/* DR7: breakpoint n local-enabled with R/W and LEN fields. */
static uint32_t dr7(unsigned n, unsigned rw, unsigned len)
{
    return DR7_FIXED1 | (1u << (2 * n)) | (rw << (16 + 4 * n)) | (len << (18 + 4 * n));
}
enum { RW_X = 0, RW_W = 1, RW_IO = 2, RW_RW = 3 };
enum { LEN1 = 0, LEN2 = 1, LEN8 = 2, LEN4 = 3 };

/* The frame the #DB pushed (same ring): EIP, CS, EFLAGS at ESP. */
static uint32_t pushed_eflags(struct rig *r) { return get32(r, cpu_get_reg(&r->c, REG_ESP) + 8); }
static uint32_t pushed_eip(struct rig *r) { return get32(r, cpu_get_reg(&r->c, REG_ESP)); }

static void execute_breakpoint(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x90, 0x90, 0x40, 0xF4 }; /* nop nop inc eax hlt */
    struct rig *r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_DR0, CODE + 2);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_X, LEN1));
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    assert_int_equal(r->db.before.eip, CODE + 2);       /* a fault: at the instruction */
    assert_int_equal(cpu_get_reg(&r->c, REG_EAX), 0);   /* which did not run */
    assert_int_equal(cpu_get_reg(&r->c, REG_DR6), DR6_FIXED1 | DR6_B(0));
    assert_int_equal(pushed_eip(r), CODE + 2);
    assert_int_equal(pushed_eflags(r) & FL_RF, 0);      /* not set for this fault */
    done(r);
}

static void execute_rf_disabled_len(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x40, 0xF4 }; /* inc eax; hlt */
    /* RF = 1: the instruction at the breakpoint runs once, RF is cleared after it */
    struct rig *r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_DR0, CODE);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_X, LEN1));
    cpu_set_reg(&r->c, REG_EFLAGS, FL_R1 | FL_RF);
    assert_int_equal(cpu_run(&r->c, 100), RUN_HALT);
    assert_int_equal(r->dbs, 0);
    assert_int_equal(cpu_get_reg(&r->c, REG_EAX), 1);
    assert_int_equal(cpu_get_reg(&r->c, REG_EFLAGS) & FL_RF, 0);
    done(r);
    /* disabled: L0 = G0 = 0 */
    r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_DR0, CODE);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_X, LEN1) & ~3u);
    assert_int_equal(cpu_run(&r->c, 100), RUN_HALT);
    assert_int_equal(r->dbs, 0);
    done(r);
    /* LEN != 00 on an execute breakpoint: undefined, never matches here */
    r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_DR0, CODE);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_X, LEN4));
    assert_int_equal(cpu_run(&r->c, 100), RUN_HALT);
    assert_int_equal(r->dbs, 0);
    done(r);
}

static void write_breakpoint(void **state)
{
    (void)state;
    /* mov [DATA+2], al ; inc eax ; hlt */
    static const uint8_t code[] = { 0xA2, 0x02, 0x50, 0x00, 0x00, 0x40, 0xF4 };
    struct rig *r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_EAX, 0x5A);
    cpu_set_reg(&r->c, REG_DR1, DATA);
    cpu_set_reg(&r->c, REG_DR7, DR7_FIXED1 | (2u << 2) | (RW_W << 20) | (LEN4 << 22)); /* G1 */
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    assert_int_equal(r->db.before.eip, CODE + 5);      /* a trap: after the mov */
    assert_int_equal(r->ram[DATA + 2], 0x5A);          /* the write happened */
    assert_int_equal(cpu_get_reg(&r->c, REG_EAX), 0x5A); /* the inc did not */
    assert_int_equal(cpu_get_reg(&r->c, REG_DR6), DR6_FIXED1 | DR6_B(1));
    assert_int_equal(pushed_eip(r), CODE + 5);
    done(r);
    /* a read of the same bytes does not fire a write breakpoint */
    static const uint8_t rd[] = { 0xA0, 0x02, 0x50, 0x00, 0x00, 0xF4 }; /* mov al,[DATA+2] */
    r = rig(rd, sizeof rd);
    cpu_set_reg(&r->c, REG_DR1, DATA);
    cpu_set_reg(&r->c, REG_DR7, DR7_FIXED1 | (2u << 2) | (RW_W << 20) | (LEN4 << 22));
    assert_int_equal(cpu_run(&r->c, 100), RUN_HALT);
    assert_int_equal(r->dbs, 0);
    done(r);
}

static void read_write_breakpoint_and_alignment(void **state)
{
    (void)state;
    static const uint8_t rd[] = { 0xA0, 0x00, 0x50, 0x00, 0x00, 0xF4 };  /* mov al,[DATA] */
    static const uint8_t rd4[] = { 0xA0, 0x04, 0x50, 0x00, 0x00, 0xF4 }; /* mov al,[DATA+4] */
    /* R/W = 11 fires on a read; DR2 = DATA+3 with LEN 4 covers DATA..DATA+3 */
    struct rig *r = rig(rd, sizeof rd);
    cpu_set_reg(&r->c, REG_DR2, DATA + 3);
    cpu_set_reg(&r->c, REG_DR7, dr7(2, RW_RW, LEN4));
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    assert_int_equal(r->db.before.eip, CODE + 5);
    assert_int_equal(cpu_get_reg(&r->c, REG_DR6), DR6_FIXED1 | DR6_B(2));
    done(r);
    /* ... and not DATA+4 */
    r = rig(rd4, sizeof rd4);
    cpu_set_reg(&r->c, REG_DR2, DATA + 3);
    cpu_set_reg(&r->c, REG_DR7, dr7(2, RW_RW, LEN4));
    assert_int_equal(cpu_run(&r->c, 100), RUN_HALT);
    assert_int_equal(r->dbs, 0);
    done(r);
    /* LEN 8 covers DATA..DATA+7 */
    r = rig(rd4, sizeof rd4);
    cpu_set_reg(&r->c, REG_DR3, DATA + 1);
    cpu_set_reg(&r->c, REG_DR7, dr7(3, RW_RW, LEN8));
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    assert_int_equal(cpu_get_reg(&r->c, REG_DR6), DR6_FIXED1 | DR6_B(3));
    done(r);
}

static void rep_iteration(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0xF3, 0xAA, 0xF4 }; /* rep stosb; hlt */
    struct rig *r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_EDI, DATA - 2);
    cpu_set_reg(&r->c, REG_ECX, 8);
    cpu_set_reg(&r->c, REG_EAX, 0xEE);
    cpu_set_reg(&r->c, REG_DR0, DATA);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_W, LEN1));
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    /* after the third iteration (DATA-2, DATA-1, DATA): at the REP again, ECX 5 left */
    assert_int_equal(r->db.before.eip, CODE);
    assert_int_equal(cpu_get_reg(&r->c, REG_ECX), 5);
    assert_int_equal(r->ram[DATA], 0xEE);
    assert_int_equal(r->ram[DATA + 1], 0);
    assert_int_equal(pushed_eip(r), CODE);
    assert_int_equal(pushed_eflags(r) & FL_RF, FL_RF); /* not the last iteration */
    done(r);
}

static void mov_ss_shadow(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x17, 0x40, 0x40, 0xF4 }; /* pop ss; inc eax; inc eax */
    struct rig *r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_ESP, KSTACK_TOP - 4);
    put32(r, KSTACK_TOP - 4, 0x10);
    cpu_set_reg(&r->c, REG_DR0, KSTACK_TOP - 4);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_RW, LEN4));
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    /* held by the shadow: after the first inc, not after the pop */
    assert_int_equal(r->db.before.eip, CODE + 2);
    assert_int_equal(cpu_get_reg(&r->c, REG_EAX), 1);
    assert_true(cpu_get_reg(&r->c, REG_DR6) & DR6_B(0));
    done(r);
}

static void general_detect(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x0F, 0x21, 0xC0, 0xF4 }; /* mov eax, dr0; hlt */
    struct rig *r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_DR0, 0x1234);
    cpu_set_reg(&r->c, REG_DR7, DR7_FIXED1 | DR7_GD);
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    assert_int_equal(r->db.before.eip, CODE);          /* a fault: before the MOV */
    assert_int_equal(cpu_get_reg(&r->c, REG_EAX), 0);
    assert_int_equal(cpu_get_reg(&r->c, REG_DR6) & DR6_BD, DR6_BD);
    assert_int_equal(cpu_get_reg(&r->c, REG_DR7) & DR7_GD, 0); /* cleared for the handler */
    assert_int_equal(pushed_eflags(r) & FL_RF, FL_RF);
    done(r);
}

static void single_step_with_data(void **state)
{
    (void)state;
    /* mov [DATA], al; inc eax; inc eax; hlt */
    static const uint8_t code[] = { 0xA2, 0x00, 0x50, 0x00, 0x00, 0x40, 0x40, 0xF4 };
    struct rig *r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_DR0, DATA);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_W, LEN1));
    cpu_set_reg(&r->c, REG_EFLAGS, FL_R1 | FL_TF);
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);                      /* one #DB for both */
    assert_int_equal(r->db.before.eip, CODE + 5);
    assert_int_equal(cpu_get_reg(&r->c, REG_DR6), DR6_FIXED1 | DR6_BS | DR6_B(0));
    /* back to the code with TF, no data breakpoint: B0..B3 rewritten, BS stays */
    cpu_set_reg(&r->c, REG_DR7, DR7_FIXED1);
    cpu_set_reg(&r->c, REG_EIP, CODE + 5);
    cpu_set_reg(&r->c, REG_EFLAGS, FL_R1 | FL_TF);
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 2);
    assert_int_equal(cpu_get_reg(&r->c, REG_DR6), DR6_FIXED1 | DR6_BS);
    done(r);
}

static void io_breakpoint(void **state)
{
    (void)state;
    /* mov al, 0x5a; out 0x80, al; inc eax; hlt */
    static const uint8_t out[] = { 0xB0, 0x5A, 0xE6, 0x80, 0x40, 0xF4 };
    struct rig *r = rig(out, sizeof out);
    assert_int_equal(cpu_set_reg(&r->c, REG_CR4, CR4_DE), INSP_OK);
    cpu_set_reg(&r->c, REG_DR0, 0x80);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_IO, LEN1));
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    assert_int_equal(r->db.before.eip, CODE + 4);         /* a trap: after the OUT */
    assert_int_equal(cpu_get_reg(&r->c, REG_EAX), 0x5A);  /* the inc did not run */
    assert_int_equal(cpu_get_reg(&r->c, REG_DR6), DR6_FIXED1 | DR6_B(0));
    assert_int_equal(pushed_eip(r), CODE + 4);
    assert_int_equal(pushed_eflags(r) & FL_RF, 0);
    done(r);
    /* CR4.DE = 0: R/W 10 is undefined and never matches */
    r = rig(out, sizeof out);
    cpu_set_reg(&r->c, REG_DR0, 0x80);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_IO, LEN1));
    assert_int_equal(cpu_run(&r->c, 100), RUN_HALT);
    assert_int_equal(r->dbs, 0);
    assert_int_equal(cpu_get_reg(&r->c, REG_EAX), 0x5B);
    done(r);
    /* in eax, dx; hlt: DR1 = 0x3f9 with LEN 4 covers ports 0x3f8..0x3fb */
    static const uint8_t in[] = { 0xED, 0xF4 };
    r = rig(in, sizeof in);
    cpu_set_reg(&r->c, REG_CR4, CR4_DE);
    cpu_set_reg(&r->c, REG_EDX, 0x3FA);
    cpu_set_reg(&r->c, REG_DR1, 0x3F9);
    cpu_set_reg(&r->c, REG_DR7, dr7(1, RW_IO, LEN4));
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    assert_int_equal(r->db.before.eip, CODE + 1);
    assert_int_equal(cpu_get_reg(&r->c, REG_DR6), DR6_FIXED1 | DR6_B(1));
    done(r);
    /* ... and not port 0x3fc */
    r = rig(in, sizeof in);
    cpu_set_reg(&r->c, REG_CR4, CR4_DE);
    cpu_set_reg(&r->c, REG_EDX, 0x3FC);
    cpu_set_reg(&r->c, REG_DR1, 0x3F9);
    cpu_set_reg(&r->c, REG_DR7, dr7(1, RW_IO, LEN4));
    assert_int_equal(cpu_run(&r->c, 100), RUN_HALT);
    assert_int_equal(r->dbs, 0);
    done(r);
}

static void io_breakpoint_rep_and_cr4(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0xF3, 0x6E, 0xF4 }; /* rep outsb; hlt */
    struct rig *r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_CR4, CR4_DE);
    cpu_set_reg(&r->c, REG_EDX, 0x80);
    cpu_set_reg(&r->c, REG_ESI, DATA);
    cpu_set_reg(&r->c, REG_ECX, 4);
    cpu_set_reg(&r->c, REG_DR0, 0x80);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_IO, LEN1));
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    /* after the first iteration: at the REP again, 3 left, RF = 1 in the frame */
    assert_int_equal(r->db.before.eip, CODE);
    assert_int_equal(cpu_get_reg(&r->c, REG_ECX), 3);
    assert_int_equal(cpu_get_reg(&r->c, REG_ESI), DATA + 1);
    assert_int_equal(pushed_eflags(r) & FL_RF, FL_RF);
    assert_int_equal(cpu_get_reg(&r->c, REG_DR6), DR6_FIXED1 | DR6_B(0));
    done(r);
    /* mov eax, 8; mov cr4, eax; out 0x80, al; hlt: the guest turns CR4.DE on after DR7 */
    static const uint8_t de[] = { 0xB8, 0x08, 0x00, 0x00, 0x00, 0x0F, 0x22, 0xE0, 0xE6, 0x80,
                                  0xF4 };
    r = rig(de, sizeof de);
    cpu_set_reg(&r->c, REG_DR0, 0x80);
    cpu_set_reg(&r->c, REG_DR7, dr7(0, RW_IO, LEN1));
    cpu_run(&r->c, 100);
    assert_int_equal(r->dbs, 1);
    assert_int_equal(r->db.before.eip, CODE + 10);
    done(r);
}

static void dr4_dr5_and_cpuid(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x0F, 0x21, 0xE0, 0xF4 }; /* mov eax, dr4; hlt */
    struct rig *r = rig(code, sizeof code);
    cpu_set_reg(&r->c, REG_CR4, CR4_DE);
    cpu_run(&r->c, 100);
    assert_int_equal(r->uds, 1);                       /* #UD with CR4.DE = 1 */
    assert_int_equal(cpu_get_reg(&r->c, REG_EAX), 0);
    done(r);
    r = rig(code, sizeof code);
    assert_int_equal(cpu_run(&r->c, 100), RUN_HALT);   /* DR6 with CR4.DE = 0 */
    assert_int_equal(r->uds, 0);
    assert_int_equal(cpu_get_reg(&r->c, REG_EAX), DR6_FIXED1);
    done(r);
    static const uint8_t id[] = { 0x0F, 0xA2, 0xF4 }; /* cpuid; hlt */
    r = rig(id, sizeof id);
    cpu_set_reg(&r->c, REG_EAX, 1);
    assert_int_equal(cpu_run(&r->c, 100), RUN_HALT);
    assert_int_equal(cpu_get_reg(&r->c, REG_EDX) & 4u, 4u);
    done(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(execute_breakpoint),
        cmocka_unit_test(execute_rf_disabled_len),
        cmocka_unit_test(write_breakpoint),
        cmocka_unit_test(read_write_breakpoint_and_alignment),
        cmocka_unit_test(rep_iteration),
        cmocka_unit_test(mov_ss_shadow),
        cmocka_unit_test(general_detect),
        cmocka_unit_test(single_step_with_data),
        cmocka_unit_test(io_breakpoint),
        cmocka_unit_test(io_breakpoint_rep_and_cr4),
        cmocka_unit_test(dr4_dr5_and_cpuid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
