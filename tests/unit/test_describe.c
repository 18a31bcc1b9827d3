/* The one formatter (src/trace/describe.c) and the one exception table (src/cpu/exceptions.c).
 *
 *   - the exception table against the SDM: vol. 3 table 6-1 (mnemonic, type, error code),
 *     table 6-4 (double-fault classes) and table 6-5 with 6.15 "interrupt 8" (what a second
 *     exception during the delivery of a first one becomes), written out here independently;
 *   - the `--log int` line of every kind of event, exactly;
 *   - the #PF explanation of every walk result, and that of a real fault, exactly as the log
 *     has always printed it;
 *   - the explanations of selector faults, from hand-made details and from real faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/inspect.h"
#include "devices/bus.h"
#include "trace/describe.h"

/* ---- the exception table ---- */

/* SDM vol. 3 table 6-1 (F fault, T trap, FT fault/trap, A abort, I interrupt, - reserved),
 * the error-code column, and table 6-4's classes (B benign, C contributory, P page fault;
 * #DF is in none of them: D). */
static const struct {
    unsigned v;
    const char *name;
    char type[3];
    bool error;
    char cls;
} sdm[] = {
    {0, "#DE", "F", false, 'C'},  {1, "#DB", "FT", false, 'B'}, {2, "NMI", "I", false, 'B'},
    {3, "#BP", "T", false, 'B'},  {4, "#OF", "T", false, 'B'},  {5, "#BR", "F", false, 'B'},
    {6, "#UD", "F", false, 'B'},  {7, "#NM", "F", false, 'B'},  {8, "#DF", "A", true, 'D'},
    {9, "#CSO", "F", false, 'B'}, {10, "#TS", "F", true, 'C'},  {11, "#NP", "F", true, 'C'},
    {12, "#SS", "F", true, 'C'},  {13, "#GP", "F", true, 'C'},  {14, "#PF", "F", true, 'P'},
    {15, NULL, "-", false, 'B'},  {16, "#MF", "F", false, 'B'}, {17, "#AC", "F", true, 'B'},
    {18, "#MC", "A", false, 'B'}, {19, "#XM", "F", false, 'B'}, {20, "#VE", "F", false, 'P'},
    {21, "#CP", "F", true, 'C'},
};

static void exception_table_matches_the_sdm(void **state)
{
    (void)state;
    for (unsigned k = 0; k < sizeof sdm / sizeof sdm[0]; k++) {
        const struct exception_info *e = exception_info(sdm[k].v);
        assert_non_null(e);
        assert_int_equal(e->vector, sdm[k].v);
        if (sdm[k].name)
            assert_string_equal(exception_name(sdm[k].v), sdm[k].name);
        else
            assert_null(exception_name(sdm[k].v));
        assert_int_equal(e->has_error, sdm[k].error);
        const char *t = sdm[k].type;
        unsigned want_type = !strcmp(t, "F")    ? EXC_FAULT
                             : !strcmp(t, "T")  ? EXC_TRAP
                             : !strcmp(t, "FT") ? EXC_FAULT_OR_TRAP
                             : !strcmp(t, "A")  ? EXC_ABORT
                             : !strcmp(t, "I")  ? EXC_INTERRUPT
                                                : EXC_RESERVED;
        assert_int_equal(e->type, want_type);
        unsigned want_class = sdm[k].cls == 'C'   ? EXC_CONTRIBUTORY
                              : sdm[k].cls == 'P' ? EXC_PAGE
                              : sdm[k].cls == 'D' ? EXC_DOUBLE
                                                  : EXC_BENIGN;
        assert_int_equal(exception_class(sdm[k].v), want_class);
        /* RF goes into the frame of fault-class exceptions only (#DB is a trap here) */
        assert_int_equal(exception_is_fault(sdm[k].v), want_type == EXC_FAULT);
    }
    for (unsigned v = 22; v < 32; v++) {
        assert_null(exception_name(v));
        assert_int_equal(exception_info(v)->type, EXC_RESERVED);
    }
    assert_null(exception_info(32));
    assert_null(exception_name(0x80));
    assert_int_equal(exception_class(0x80), EXC_BENIGN);
}

static void double_fault_rules_match_the_sdm(void **state)
{
    (void)state;
    /* Table 6-5: rows the first exception, columns the second. */
    static const char table[3][3] = {
        /*            benign contributory page */
        /* benign */ {'S', 'S', 'S'},
        /* contr. */ {'S', 'D', 'S'},
        /* page   */ {'S', 'D', 'D'},
    };
    static const enum exc_class cls[3] = {EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            assert_int_equal(exception_combine(cls[a], cls[b]),
                             table[a][b] == 'D' ? EXC_TO_DF : EXC_SERIAL);
    /* 6.15, interrupt 8: a contributory exception or a page fault while delivering #DF shuts
     * the processor down; a benign one is handled serially. */
    assert_int_equal(exception_combine(EXC_DOUBLE, EXC_CONTRIBUTORY), EXC_SHUTDOWN);
    assert_int_equal(exception_combine(EXC_DOUBLE, EXC_PAGE), EXC_SHUTDOWN);
    assert_int_equal(exception_combine(EXC_DOUBLE, EXC_BENIGN), EXC_SERIAL);
    /* e.g. #GP then #NP: #DF; #PF then #GP: #DF; #GP then #PF: serial; #UD then #GP: serial */
    assert_int_equal(exception_combine(exception_class(EXC_GP), exception_class(EXC_NP)),
                     EXC_TO_DF);
    assert_int_equal(exception_combine(exception_class(EXC_PF), exception_class(EXC_GP)),
                     EXC_TO_DF);
    assert_int_equal(exception_combine(exception_class(EXC_GP), exception_class(EXC_PF)),
                     EXC_SERIAL);
    assert_int_equal(exception_combine(exception_class(EXC_UD), exception_class(EXC_GP)),
                     EXC_SERIAL);
}

/* ---- the --log int line ---- */

static struct trace_event event(unsigned kind, unsigned vector, bool has_error, uint32_t error)
{
    struct trace_event e;
    memset(&e, 0, sizeof e);
    e.icount = 1234;
    e.kind = (uint8_t)kind;
    e.vector = (uint8_t)vector;
    e.has_error = has_error;
    e.error = error;
    e.before = (struct trace_state){.eip = 0x08048010, .cs = 0x1B, .ss = 0x23, .cpl = 3,
                                    .cr3 = 0x00120000};
    e.before.r[ESP] = 0xBFFFEFE0;
    e.after = (struct trace_state){.eip = 0x00100A40, .cs = 0x08, .ss = 0x10, .cpl = 0,
                                   .cr3 = 0x00120000};
    e.after.r[ESP] = 0x00107FE8;
    return e;
}

static const char *line(const struct trace_event *e)
{
    static char buf[512];
    int n = describe_event(e, buf, sizeof buf);
    assert_int_equal((size_t)n, strlen(buf));
    return buf;
}

static struct walk pte_walk(uint32_t lin, uint32_t pde, uint32_t pte, enum pg_kind k,
                            enum pg_mode m, enum walk_result r)
{
    return (struct walk){.lin = lin, .pde_addr = 0x10000 + pdx(lin) * 4, .pde = pde,
                         .pte_addr = (pde & PTE_FRAME) + ptx(lin) * 4, .pte = pte, .kind = k,
                         .mode = m, .result = r, .level = WALK_PTE,
                         .user = (pde & pte & PTE_U) != 0, .writable = (pde & pte & PTE_W) != 0};
}

static void log_line_of_every_kind(void **state)
{
    (void)state;
    struct trace_event e = event(TR_EXCEPTION, EXC_PF, true, 6);
    e.cr2 = 0xC0001000;
    e.detail.kind = FD_PAGE;
    e.detail.u.page = pte_walk(0xC0001000, 0x11000 | 7, 0x23000 | 5, PG_WRITE, PG_USER,
                               WALK_READ_ONLY);
    assert_string_equal(line(&e),
                        "  1234: cr3=00120000 v=0e e=0006 i=0 cpl=3 IP=001b:08048010 "
                        "SP=0023:bfffefe0 CR2=c0001000 -> cpl=0 IP=0008:00100a40 "
                        "SP=0010:00107fe8 | #PF(0x0006): user write of 0xc0001000: PDE[768] "
                        "U=1 W=1, PTE[1] U=1 W=0 — read-only page");

    /* a selector fault: its explanation is part of the line */
    e = event(TR_EXCEPTION, EXC_GP, true, 0x402);
    e.detail.kind = FD_SELECTOR;
    e.detail.u.sel = (struct sel_fault){.reason = SR_GATE_DPL, .use = SU_IDT, .table = ST_IDT,
                                        .sel = 0x80, .cpl = 3, .dpl = 0, .type = 0xE};
    assert_string_equal(line(&e), "  1234: cr3=00120000 v=0d e=0402 i=0 cpl=3 "
                                  "IP=001b:08048010 SP=0023:bfffefe0 -> cpl=0 IP=0008:00100a40 "
                                  "SP=0010:00107fe8 | #GP(0x0402): IDT gate 0x80 has DPL 0 < "
                                  "CPL 3");

    /* an instruction's own rule (#GP(0) without a selector) */
    e = event(TR_EXCEPTION, EXC_GP, true, 0);
    e.detail.kind = FD_RULE;
    e.detail.u.rule = (struct rule_fault){.reason = RR_IO_DENIED, .cpl = 3, .iopl = 0,
                                          .size = 1, .value = 0xF4};
    assert_string_equal(line(&e), "  1234: cr3=00120000 v=0d e=0000 i=0 cpl=3 "
                                  "IP=001b:08048010 SP=0023:bfffefe0 -> cpl=0 IP=0008:00100a40 "
                                  "SP=0010:00107fe8 | #GP(0x0000): port 0x00f4 (1 byte) at CPL 3 "
                                  "> IOPL 0: denied by the TSS I/O bitmap");

    /* nothing known beyond the vector: the exception's long name */
    e = event(TR_EXCEPTION, EXC_UD, false, 0);
    assert_string_equal(line(&e), "  1234: cr3=00120000 v=06 e=0000 i=0 cpl=3 "
                                  "IP=001b:08048010 SP=0023:bfffefe0 -> cpl=0 IP=0008:00100a40 "
                                  "SP=0010:00107fe8 | #UD: invalid opcode");

    e = event(TR_EXCEPTION, 15, false, 0); /* a reserved vector has no name */
    assert_string_equal(line(&e), "  1234: cr3=00120000 v=0f e=0000 i=0 cpl=3 "
                                  "IP=001b:08048010 SP=0023:bfffefe0 -> cpl=0 IP=0008:00100a40 "
                                  "SP=0010:00107fe8 | vector 15");

    e = event(TR_INTERRUPT, 0x20, false, 0);
    assert_string_equal(line(&e), "  1234: cr3=00120000 v=20 e=0000 i=0 cpl=3 "
                                  "IP=001b:08048010 SP=0023:bfffefe0 -> cpl=0 IP=0008:00100a40 "
                                  "SP=0010:00107fe8 | interrupt 0x20");

    e = event(TR_SOFTINT, 0x80, false, 0);
    e.before.r[EAX] = 4;
    assert_string_equal(line(&e), "  1234: cr3=00120000 v=80 e=0000 i=1 cpl=3 "
                                  "IP=001b:08048010 SP=0023:bfffefe0 -> cpl=0 IP=0008:00100a40 "
                                  "SP=0010:00107fe8 | int 0x80 syscall 4");

    e = event(TR_SOFTINT, EXC_PF, false, 0); /* INT 0x0e: no CR2, no name */
    e.cr2 = 0x1234;
    assert_string_equal(line(&e), "  1234: cr3=00120000 v=0e e=0000 i=1 cpl=3 "
                                  "IP=001b:08048010 SP=0023:bfffefe0 -> cpl=0 IP=0008:00100a40 "
                                  "SP=0010:00107fe8 | int 0x0e");

    static const struct {
        unsigned kind;
        const char *name;
    } transfers[] = {
        {TR_IRET, "iret"},    {TR_SYSENTER, "sysenter"}, {TR_SYSEXIT, "sysexit"},
        {TR_FARCALL, "lcall"}, {TR_FARRET, "lret"},     {TR_FARJMP, "ljmp"},
        {TR_TASK, "task switch"},
    };
    for (unsigned k = 0; k < sizeof transfers / sizeof transfers[0]; k++) {
        e = event(transfers[k].kind, 0, false, 0);
        char want[256];
        snprintf(want, sizeof want, "  1234: cr3=00120000 %s cpl=3 IP=001b:08048010 "
                 "SP=0023:bfffefe0 -> cpl=0 IP=0008:00100a40 SP=0010:00107fe8%s",
                 transfers[k].name, transfers[k].kind == TR_SYSENTER ? " | sysenter syscall 0"
                                                                      : "");
        assert_string_equal(line(&e), want);
        assert_string_equal(trace_kind_name(transfers[k].kind), transfers[k].name);
    }

    e = event(TR_HALT, 0, false, 0);
    assert_string_equal(line(&e), "  1234: cr3=00120000 hlt cpl=3 IP=001b:08048010");

    e = event(TR_SHUTDOWN, EXC_PF, true, 2);
    e.cr2 = 0x007FFFFC;
    assert_string_equal(line(&e), "  1234: cr3=00120000 shutdown (triple fault) v=0e e=0002 "
                                  "cpl=3 IP=001b:08048010 CR2=007ffffc | #PF(0x0002): page fault");
    e = event(TR_SHUTDOWN, EXC_GP, true, 0x43);
    assert_string_equal(line(&e), "  1234: cr3=00120000 shutdown (triple fault) v=0d e=0043 "
                                  "cpl=3 IP=001b:08048010 | #GP(0x0043): general protection");

    e = event(TR_CR3, 0, false, 0);
    e.after.cr3 = 0x00131000;
    assert_string_equal(line(&e), "  1234: cr3=00120000 cr3 cpl=3 IP=001b:08048010 "
                                  "CR3=00120000 -> 00131000 cr3=00131000");

    assert_string_equal(trace_kind_name(TR_EXCEPTION), "exception");
    assert_string_equal(trace_kind_name(TR_CR3), "cr3");
    assert_string_equal(trace_kind_name(TR_KINDS), "?");

    /* a small buffer: truncated and terminated, the full length returned */
    char small[16];
    e = event(TR_HALT, 0, false, 0);
    int n = describe_event(&e, small, sizeof small);
    assert_int_equal(n, (int)strlen("  1234: cr3=00120000 hlt cpl=3 IP=001b:08048010"));
    assert_string_equal(small, "  1234: cr3=001");
}

/* ---- #PF explanations ---- */

static const char *detail(const struct fault_detail *d)
{
    static char buf[256];
    int n = describe_fault_detail(d, buf, sizeof buf);
    assert_int_equal((size_t)n, strlen(buf));
    return buf;
}

static const char *page(struct walk w)
{
    struct fault_detail d = {.kind = FD_PAGE, .u.page = w};
    return detail(&d);
}

static void page_fault_explanations(void **state)
{
    (void)state;
    struct walk w = pte_walk(0, 0x11000 | 3, 0, PG_READ, PG_USER, WALK_NOT_PRESENT);
    assert_string_equal(page(w), "user read of 0x00000000: PDE[0] U=0 W=1, PTE[0] P=0 — page "
                                 "not present");
    w = (struct walk){.lin = 0x00800000, .kind = PG_FETCH, .mode = PG_SUPERVISOR,
                      .result = WALK_NOT_PRESENT, .level = WALK_PDE};
    assert_string_equal(page(w), "supervisor fetch of 0x00800000: PDE[2] P=0 — page table not "
                                 "present");
    w = (struct walk){.lin = 0x00400100, .pde = 0x00402087, .kind = PG_WRITE,
                      .mode = PG_SUPERVISOR, .result = WALK_RESERVED, .level = WALK_PDE,
                      .large = true};
    assert_string_equal(page(w), "supervisor write of 0x00400100: 4 MiB PDE[1] U=1 W=1 — "
                                 "reserved bits 13..21 set");
    w.result = WALK_SMAP;
    w.kind = PG_READ;
    assert_string_equal(page(w), "supervisor read of 0x00400100: 4 MiB PDE[1] U=1 W=1 — "
                                 "supervisor access to a user page with SMAP and AC=0");
    w = pte_walk(0x1000, 0x11000 | 7, 0x1000 | 3, PG_READ, PG_USER, WALK_SUPERVISOR_ONLY);
    assert_string_equal(page(w), "user read of 0x00001000: PDE[0] U=1 W=1, PTE[1] U=0 W=1 — "
                                 "supervisor-only page");
    w = pte_walk(0x1000, 0x11000 | 7, 0x1000 | 5, PG_WRITE, PG_SUPERVISOR, WALK_WP);
    assert_string_equal(page(w), "supervisor write of 0x00001000: PDE[0] U=1 W=1, PTE[1] U=1 "
                                 "W=0 — read-only page with CR0.WP");
    w = pte_walk(0x1000, 0x11000 | 7, 0x1000 | 7, PG_FETCH, PG_SUPERVISOR, WALK_SMEP);
    assert_string_equal(page(w), "supervisor fetch of 0x00001000: PDE[0] U=1 W=1, PTE[1] U=1 "
                                 "W=1 — supervisor fetch from a user page with CR4.SMEP");
    w = pte_walk(0x1000, 0x11000 | 7, 0x1000 | 7, PG_WRITE, PG_IMPLICIT, WALK_SMAP_IMPLICIT);
    assert_string_equal(page(w), "implicit supervisor write of 0x00001000: PDE[0] U=1 W=1, "
                                 "PTE[1] U=1 W=1 — implicit supervisor access to a user page "
                                 "with SMAP");
    w.mode = PG_SUPERVISOR_AC;
    w.kind = PG_READ;
    w.result = WALK_OK;
    assert_string_equal(page(w), "supervisor read of 0x00001000: PDE[0] U=1 W=1, PTE[1] U=1 "
                                 "W=1 — allowed");
    struct fault_detail none = {.kind = FD_NONE};
    assert_string_equal(detail(&none), "");
}

/* ---- selector faults ---- */

static const char *sel(struct sel_fault f)
{
    struct fault_detail d = {.kind = FD_SELECTOR, .u.sel = f};
    return detail(&d);
}

static void selector_fault_explanations(void **state)
{
    (void)state;
    assert_string_equal(sel((struct sel_fault){.reason = SR_GATE_DPL, .use = SU_IDT,
                                               .table = ST_IDT, .sel = 0x80, .cpl = 3}),
                        "IDT gate 0x80 has DPL 0 < CPL 3");
    assert_string_equal(sel((struct sel_fault){.reason = SR_BEYOND_LIMIT, .use = SU_SEGREG,
                                               .table = ST_GDT, .sel = 0x2B, .limit = 0x27,
                                               .seg = SEG_DS}),
                        "selector beyond the GDT limit 0x27");
    assert_string_equal(sel((struct sel_fault){.reason = SR_BEYOND_LIMIT, .use = SU_IDT,
                                               .table = ST_IDT, .sel = 0x0D, .limit = 0x67}),
                        "IDT gate 0x0d beyond the IDT limit 0x67");
    assert_string_equal(sel((struct sel_fault){.reason = SR_TYPE, .use = SU_IDT,
                                               .table = ST_IDT, .sel = 0x0D, .type = 0xC}),
                        "IDT gate 0x0d is a 32-bit call gate, not an interrupt, trap or task "
                        "gate");
    assert_string_equal(sel((struct sel_fault){.reason = SR_TYPE, .use = SU_SEGREG,
                                               .table = ST_GDT, .sel = 0x08, .seg = SEG_SS,
                                               .type = 0x1A}),
                        "the SS selector 0x0008 is a readable code segment, not a writable "
                        "data segment");
    assert_string_equal(sel((struct sel_fault){.reason = SR_TYPE, .use = SU_SEGREG,
                                               .table = ST_LDT, .sel = 0x0C, .seg = SEG_DS,
                                               .type = 0x18}),
                        "the DS selector 0x000c is an execute-only code segment, not a data "
                        "segment or a readable code segment");
    assert_string_equal(sel((struct sel_fault){.reason = SR_NULL, .use = SU_SEGREG,
                                               .seg = SEG_SS}),
                        "null selector for the SS selector");
    assert_string_equal(sel((struct sel_fault){.reason = SR_NOT_PRESENT, .use = SU_HANDLER_CS,
                                               .table = ST_GDT, .sel = 0x08, .type = 0x1A}),
                        "the handler's code segment 0x0008 is not present");
    assert_string_equal(sel((struct sel_fault){.reason = SR_DPL_LT_PRIV, .use = SU_SEGREG,
                                               .table = ST_GDT, .sel = 0x13, .seg = SEG_ES,
                                               .cpl = 3, .rpl = 3, .dpl = 0}),
                        "the ES selector 0x0013 has DPL 0 < max(CPL 3, RPL 3)");
    assert_string_equal(sel((struct sel_fault){.reason = SR_RPL_NE_CPL, .use = SU_RET_SS,
                                               .table = ST_GDT, .sel = 0x10, .cpl = 3,
                                               .rpl = 0}),
                        "the return SS 0x0010 has RPL 0 != the new CPL 3");
    assert_string_equal(sel((struct sel_fault){.reason = SR_RPL_LT_CPL, .use = SU_RET_CS,
                                               .table = ST_GDT, .sel = 0x08, .cpl = 3}),
                        "the return CS 0x0008 has RPL 0 < CPL 3: a return to a more "
                        "privileged level");
    assert_string_equal(sel((struct sel_fault){.reason = SR_NO_LDT, .use = SU_SEGREG,
                                               .table = ST_LDT, .sel = 0x0F, .seg = SEG_FS}),
                        "selector in the LDT, but no LDT is loaded");
    assert_string_equal(sel((struct sel_fault){.reason = SR_NOT_GDT, .use = SU_LTR,
                                               .table = ST_LDT, .sel = 0x2C}),
                        "LTR's selector 0x002c must be in the GDT, not the LDT");
    assert_string_equal(sel((struct sel_fault){.reason = SR_TYPE, .use = SU_LTR,
                                               .table = ST_GDT, .sel = 0x28, .type = 0xB}),
                        "LTR's selector 0x0028 is a busy 32-bit TSS, not an available TSS");
    assert_string_equal(sel((struct sel_fault){.reason = SR_OFFSET_LIMIT, .use = SU_TARGET,
                                               .offset = 0x12345, .limit = 0xFFFF}),
                        "target 0x00012345 beyond the CS limit 0xffff");
    assert_string_equal(sel((struct sel_fault){.reason = SR_OFFSET_LIMIT, .use = SU_SEGMENT,
                                               .seg = SEG_DS, .offset = 0x10000,
                                               .limit = 0xFFFF}),
                        "offset 0x00010000 outside the DS limit 0xffff");
    assert_string_equal(sel((struct sel_fault){.reason = SR_SEG_UNUSABLE, .use = SU_SEGMENT,
                                               .seg = SEG_GS}),
                        "GS holds a null selector");
    assert_string_equal(sel((struct sel_fault){.reason = SR_SEG_NOT_WRITABLE, .use = SU_SEGMENT,
                                               .seg = SEG_DS, .type = 0x10}),
                        "write through DS, a read-only data segment");
    assert_string_equal(sel((struct sel_fault){.reason = SR_PRIVILEGED, .use = SU_INSN,
                                               .cpl = 3}),
                        "privileged instruction at CPL 3");
    assert_string_equal(sel((struct sel_fault){.reason = SR_TSS_LIMIT, .use = SU_CUR_TSS,
                                               .offset = 0x9, .limit = 0}),
                        "the current TSS is too small: limit 0x0, needs 0x9");

    char buf[128];
    struct fault_detail d = {.kind = FD_SELECTOR,
                             .u.sel = {.reason = SR_GATE_DPL, .use = SU_IDT, .table = ST_IDT,
                                       .sel = 0x80, .cpl = 3}};
    describe_fault(EXC_GP, true, 0x402, &d, buf, sizeof buf);
    assert_string_equal(buf, "#GP(0x0402): IDT gate 0x80 has DPL 0 < CPL 3");
    describe_fault(EXC_UD, false, 0, NULL, buf, sizeof buf);
    assert_string_equal(buf, "#UD");
    describe_fault(15, false, 0, NULL, buf, sizeof buf);
    assert_string_equal(buf, "vector 15");
    describe_fault(EXC_GP, true, 0, &(struct fault_detail){.kind = FD_NONE}, buf, sizeof buf);
    assert_string_equal(buf, "#GP(0x0000)");
}

/* ---- explanations of real faults ---- */

#define RAM_SIZE (8u << 20)
#define GDT 0x1000u
#define IDT 0x2000u
#define TSS 0x3000u
#define PD 0x10000u
#define PT0 0x11000u
#define PT1 0x12000u
#define UCODE 0x400000u
#define HANDLER 0x9000u

struct rig {
    struct cpu c;
    struct bus bus;
    uint8_t *ram;
    struct trace_event first;
    bool seen;
};

static void keep_first_exception(void *ctx, const struct trace_event *ev)
{
    struct rig *r = ctx;
    if (!r->seen && ev->kind == TR_EXCEPTION) {
        r->first = *ev;
        r->seen = true;
    }
}

static void put32(struct rig *r, uint32_t pa, uint32_t v) { memcpy(r->ram + pa, &v, 4); }

static void put_desc(struct rig *r, unsigned sel, uint32_t access)
{
    put32(r, GDT + sel, 0x0000FFFF);
    put32(r, GDT + sel + 4, 0x00CF0000u | access << 8);
}

/* Ring 3 at UCODE with paging: PDE[0] supervisor (U=0) with PTE[0] not present, PDE[1] user;
 * GDT limit 0x27; IDT gate 0x80 with DPL 0; runs `code` and explains the first exception. */
static const char *explain_run(const char *code, size_t n)
{
    static char buf[256];
    struct rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->ram = calloc(1, RAM_SIZE);
    assert_non_null(r->ram);
    bus_init(&r->bus);
    struct cpu *c = &r->c;
    assert_int_equal(cpu_init(c, r->ram, RAM_SIZE, &r->bus), 0);
    cpu_reset_protected_flat(c, UCODE);
    put_desc(r, 0x08, 0x9A);
    put_desc(r, 0x10, 0x92);
    put_desc(r, 0x18, 0xFA);
    put_desc(r, 0x20, 0xF2);
    cpu_set_gdtr(c, &(struct dtable){GDT, 0x27});
    for (unsigned v = 0; v < 256; v++) {
        put32(r, IDT + 8 * v, 0x00080000u | HANDLER);
        put32(r, IDT + 8 * v + 4, 0x8E00);
    }
    cpu_set_idtr(c, &(struct dtable){IDT, 0x7FF});
    r->ram[HANDLER] = 0xF4;
    put32(r, TSS + 4, 0x8000);
    put32(r, TSS + 8, 0x10);
    c->tr = (struct segment){.sel = 0x28, .base = TSS, .limit = 0x67, .attr = SA_P | SYS_TSS32_BUSY};
    put32(r, PD, PT0 | PTE_P | PTE_W);
    put32(r, PD + 4, PT1 | PTE_P | PTE_W | PTE_U);
    for (uint32_t k = 1; k < 1024; k++)
        put32(r, PT0 + 4 * k, k << 12 | PTE_P | PTE_W);
    for (uint32_t k = 0; k < 1024; k++)
        put32(r, PT1 + 4 * k, (UCODE + (k << 12)) | PTE_P | PTE_W | PTE_U);
    memcpy(r->ram + UCODE, code, n);
    cpu_set_reg(c, REG_CR3, PD);
    cpu_set_reg(c, REG_CR0, CR0_PE | CR0_PG);
    struct desc d;
    assert_int_equal(cpu_read_desc(c, 0x1B, &d), INSP_OK);
    cpu_set_seg(c, SREG_CS, &(struct seg_value){0x1B, d.base, d.limit, desc_attr(&d)});
    assert_int_equal(cpu_read_desc(c, 0x23, &d), INSP_OK);
    for (enum cpu_sreg s = SREG_ES; s <= SREG_GS; s++)
        if (s != SREG_CS)
            cpu_set_seg(c, s, &(struct seg_value){0x23, d.base, d.limit, desc_attr(&d)});
    cpu_set_reg(c, REG_ESP, UCODE + 0x3000);
    cpu_add_sink(c, keep_first_exception, r);
    cpu_run(c, 10);
    assert_true(r->seen);
    describe_fault(r->first.vector, r->first.has_error, r->first.error, &r->first.detail, buf,
                   sizeof buf);
    cpu_free(c);
    free(r->ram);
    free(r);
    return buf;
}

static void real_faults_explained(void **state)
{
    (void)state;
    /* int 0x80 through a DPL 0 gate from ring 3 */
    assert_string_equal(explain_run("\xcd\x80", 2),
                        "#GP(0x0402): IDT gate 0x80 has DPL 0 < CPL 3");
    /* mov ax, 0x2b; mov ds, ax: beyond the GDT */
    assert_string_equal(explain_run("\x66\xb8\x2b\x00\x8e\xd8", 6),
                        "#GP(0x0028): selector beyond the GDT limit 0x27");
    /* mov ax, 0x10; mov ds, ax: a ring 0 data segment from ring 3 */
    assert_string_equal(explain_run("\x66\xb8\x13\x00\x8e\xd8", 6),
                        "#GP(0x0010): the DS selector 0x0013 has DPL 0 < max(CPL 3, RPL 3)");
    /* mov ax, 0x1b; mov ss, ax: code as a stack */
    assert_string_equal(explain_run("\x66\xb8\x1b\x00\x8e\xd0", 6),
                        "#GP(0x0018): the SS selector 0x001b is a readable code segment, not "
                        "a writable data segment");
    /* mov eax, [0]: the walk, exactly as the log has always said it */
    assert_string_equal(explain_run("\xa1\x00\x00\x00\x00", 5),
                        "#PF(0x0004): user read of 0x00000000: PDE[0] U=0 W=1, PTE[0] P=0 — "
                        "page not present");
    /* mov eax, [0x1000]: present, but supervisor only */
    assert_string_equal(explain_run("\xa1\x00\x10\x00\x00", 5),
                        "#PF(0x0005): user read of 0x00001000: PDE[0] U=0 W=1, PTE[1] U=0 W=1 "
                        "— supervisor-only page");
    /* hlt at ring 3 */
    assert_string_equal(explain_run("\xf4", 1), "#GP(0x0000): privileged instruction at CPL 3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exception_table_matches_the_sdm),
        cmocka_unit_test(double_fault_rules_match_the_sdm),
        cmocka_unit_test(log_line_of_every_kind),
        cmocka_unit_test(page_fault_explanations),
        cmocka_unit_test(selector_fault_explanations),
        cmocka_unit_test(real_faults_explained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
