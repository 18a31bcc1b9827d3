/* Differential test: Ringside's executor against the real CPU.
 *
 * usage: diff_test RUNNER [CASES]
 *   RUNNER                  the 32-bit native runner (native_runner.c)
 *   CASES                   number of cases (default: $RINGSIDE_DIFF_CASES, else 200000)
 *   RINGSIDE_DIFF_SEED      generator seed (default fixed; printed)
 *   RINGSIDE_DIFF_FORM      only forms whose name contains this string (e.g. "rcl")
 *   RINGSIDE_DIFF_SHOW      how many mismatches to print in full (default 20)
 *   RINGSIDE_DIFF_STRICT=1  also compare what the SDM leaves undefined (informational)
 *   RINGSIDE_DIFF_STATS=1   print, per form, how many cases completed and how many faulted
 *
 * Each case (gen.c) runs twice from the same state: natively, in user mode, in the runner, and
 * in a Ringside machine set up to match: CPL 3 with the runner's selectors mirrored in the GDT,
 * paging on with only the data area, the code pages (user, writable) and a read-only page
 * present, CR0.AM and CR4.SMEP set as on the host, an IDT whose gates all lead to a HLT at CPL 0
 * through the TSS stack, DPL 3 gates for vectors 3, 4 and 0x80 as Linux has them. Both machines
 * run until the first exception: the instruction under test either faults, or falls through (or
 * jumps) to a HLT, which is #GP(0) at CPL 3. So one run checks the instruction and, for a
 * fault, that it is precise. Compared: the vector, error code, CR2 of a #PF, EIP, all eight
 * registers, EFLAGS (except the bits the SDM leaves undefined for the instruction: gen.c keeps
 * that table, one comment per rule), the data segment selectors and every byte of the data area.
 * Exit status: 0 when nothing differs (known issues outside the files this test may change are
 * reported, not failed), 1 on a mismatch, 2 when the test cannot run.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/segment.h"
#include "devices/bus.h"
#include "diff.h"
#include "mmu/mem.h"

#define RAM_SIZE (8u << 20)
#define PD_PHYS 0x1000u        /* page directory (not mapped linearly) */
#define PT_PHYS 0x2000u        /* page table for 0-4 MiB */
#define KBASE 0x00180000u      /* supervisor pages: GDT, IDT, TSS, handler, stack */
#define K_GDT (KBASE + 0x0000)
#define K_IDT (KBASE + 0x1000)
#define K_TSS (KBASE + 0x2000)
#define K_HANDLER (KBASE + 0x3000)
#define K_STACK_TOP (KBASE + 0x6000)
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS 0x78
#define BATCH 4096u

struct machine {
    struct cpu cpu;
    struct bus bus;
    uint8_t *ram;
    struct layout L;
    struct segment ucs, uds, ues, uss, ufs, ugs;
    unsigned last_code_off, last_code_len;
    int have_event;
    struct diff_result got;
};

/* ---- the native runner ---- */

static pid_t runner_pid;
static int to_runner = -1, from_runner = -1;

static void die(const char *msg)
{
    fprintf(stderr, "diff_test: %s\n", msg);
    exit(2);
}

static void write_all(const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t k = write(to_runner, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("the native runner stopped reading (did it crash?)");
        p += k;
        n -= (size_t)k;
    }
}

static void read_all(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t k = read(from_runner, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("the native runner ended early (did it crash?)");
        p += k;
        n -= (size_t)k;
    }
}

static void spawn_runner(const char *path)
{
    int in[2], out[2];
    if (pipe(in) < 0 || pipe(out) < 0)
        die("pipe failed");
    runner_pid = fork();
    if (runner_pid < 0)
        die("fork failed");
    if (runner_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execl(path, path, (char *)NULL);
        fprintf(stderr, "diff_test: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_runner = in[1];
    from_runner = out[0];
}

/* ---- the Ringside machine ---- */

static void put32(uint8_t *ram, uint32_t a, uint32_t v) { memcpy(ram + a, &v, 4); }
static uint32_t get32(const uint8_t *ram, uint32_t a)
{
    uint32_t v;
    memcpy(&v, ram + a, 4);
    return v;
}

/* A flat 4 GiB descriptor: type (4 bits, S = 1 code/data), DPL, AVL (as the host's: LAR
 * returns the attributes). */
static void gdt_flat(uint8_t *ram, unsigned index, unsigned type, unsigned dpl, unsigned avl)
{
    uint32_t lo = 0x0000FFFFu;
    uint32_t hi = 0x000F0000u | (type << 8) | (1u << 12) | (dpl << 13) | (1u << 15) |
                  (avl << 20) | (1u << 22) | (1u << 23);
    put32(ram, K_GDT + index * 8, lo);
    put32(ram, K_GDT + index * 8 + 4, hi);
}

static struct segment user_seg(uint16_t sel, unsigned type)
{
    struct segment s = {0};
    s.sel = sel;
    if ((sel & 0xFFFC) == 0) /* null: unusable */
        return s;
    s.base = 0;
    s.limit = 0xFFFFFFFFu;
    s.attr = (uint16_t)(type | SA_S | (3u << 5) | SA_P | SA_DB | SA_G);
    seg_update_flat(&s);
    return s;
}

static void on_event(void *ctx, const struct trace_event *ev)
{
    struct machine *m = ctx;
    if (m->have_event || (ev->kind != TR_EXCEPTION && ev->kind != TR_SOFTINT))
        return;
    m->have_event = 1;
    struct diff_result *r = &m->got;
    const struct cpu *c = &m->cpu;
    memcpy(r->r, c->r, sizeof r->r);
    r->vector = ev->vector;
    r->cr2 = ev->cr2;
    if (ev->cpl_before != 3 || ev->esp_after + 24 > RAM_SIZE) {
        r->vector = 0xFFFD; /* not from the user code: unexpected */
        return;
    }
    /* The frame on the ring-0 stack: [error] EIP CS EFLAGS ESP SS. */
    uint32_t sp = ev->esp_after;
    r->err = ev->has_error ? get32(m->ram, sp) : 0;
    if (ev->has_error)
        sp += 4;
    r->eip = get32(m->ram, sp);
    r->eflags = get32(m->ram, sp + 8);
    r->r[ESP] = get32(m->ram, sp + 12);
    r->ss = (uint16_t)get32(m->ram, sp + 16);
    r->ds = c->seg[SEG_DS].sel;
    r->es = c->seg[SEG_ES].sel;
    r->fs = c->seg[SEG_FS].sel;
}

static void machine_init(struct machine *m, const struct layout *L)
{
    memset(m, 0, sizeof *m);
    m->L = *L;
    m->ram = calloc(RAM_SIZE, 1);
    if (!m->ram)
        die("out of memory");
    bus_init(&m->bus);
    struct cpu *c = &m->cpu;
    if (cpu_init(c, m->ram, RAM_SIZE, &m->bus) < 0)
        die("cpu_init failed");
    cpu_reset_protected_flat(c, L->code);
    c->trace.event = on_event;
    c->trace.ctx = m;

    /* Page tables: identity mapping of the supervisor pages, the data area and the code page. */
    uint8_t *ram = m->ram;
    put32(ram, PD_PHYS, PT_PHYS | 0x7);
    for (uint32_t a = KBASE; a < K_STACK_TOP; a += 0x1000)
        put32(ram, PT_PHYS + (a >> 12) * 4, a | 0x3);
    for (uint32_t a = L->data; a < L->data + L->dsize; a += 0x1000)
        put32(ram, PT_PHYS + (a >> 12) * 4, a | 0x7);
    for (uint32_t a = L->code; a < L->code + DIFF_CODE_SIZE; a += 0x1000)
        put32(ram, PT_PHYS + (a >> 12) * 4, a | 0x7);
    put32(ram, PT_PHYS + (L->ro >> 12) * 4, L->ro | 0x5); /* user, read-only */
    for (uint32_t k = 0; k < 0x1000; k++)
        ram[L->ro + k] = diff_ro_byte(k);

    /* GDT: kernel code and data, the runner's user selectors, a TSS. */
    unsigned ucs = L->cs >> 3, uds = L->ds >> 3, ugs = L->gs >> 3;
    unsigned used[] = {ucs, uds, L->es >> 3, L->ss >> 3, ugs};
    for (unsigned k = 0; k < sizeof used / sizeof used[0]; k++)
        if (used[k] == 1 || used[k] == 2 || used[k] >= 15 || (L->fs >> 3) != 0)
            die("the runner's selectors collide with the test GDT layout");
    gdt_flat(ram, SEL_KCODE >> 3, 0xB, 0, 0);
    gdt_flat(ram, SEL_KDATA >> 3, 0x3, 0, 0);
    gdt_flat(ram, ucs, 0xB, 3, 0);
    gdt_flat(ram, uds, 0x3, 3, 0);
    gdt_flat(ram, L->es >> 3, 0x3, 3, 0);
    gdt_flat(ram, L->ss >> 3, 0x3, 3, 0);
    if (ugs)
        gdt_flat(ram, ugs, 0x3, 3, 1); /* Linux's TLS descriptor has AVL set */
    put32(ram, K_GDT + (SEL_TSS >> 3) * 8, (K_TSS << 16) | 0x67);
    put32(ram, K_GDT + (SEL_TSS >> 3) * 8 + 4, (K_TSS & 0xFF000000u) | 0x8B00u |
                                                     ((K_TSS >> 16) & 0xFF));
    c->gdtr.base = K_GDT;
    c->gdtr.limit = 16 * 8 - 1;

    /* IDT: 256 interrupt gates to the handler; DPL 3 for INT3, INTO and INT 0x80. */
    for (unsigned v = 0; v < 256; v++) {
        unsigned dpl = (v == 3 || v == 4 || v == 0x80) ? 3 : 0;
        put32(ram, K_IDT + v * 8, (SEL_KCODE << 16) | (K_HANDLER & 0xFFFF));
        put32(ram, K_IDT + v * 8 + 4, (K_HANDLER & 0xFFFF0000u) | 0x8E00u | (dpl << 13));
    }
    c->idtr.base = K_IDT;
    c->idtr.limit = 256 * 8 - 1;

    /* TSS: the ring-0 stack. */
    put32(ram, K_TSS + 4, K_STACK_TOP);
    put32(ram, K_TSS + 8, SEL_KDATA);
    put32(ram, K_TSS + 0x64, 0x0068u << 16); /* I/O map base beyond the limit: no bitmap */
    c->tr.sel = SEL_TSS;
    c->tr.base = K_TSS;
    c->tr.limit = 0x67;
    c->tr.attr = 0x8B; /* busy 32-bit TSS, present */

    /* The handler: hlt; jmp hlt. */
    ram[K_HANDLER] = 0xF4;
    ram[K_HANDLER + 1] = 0xEB;
    ram[K_HANDLER + 2] = 0xFD;

    memset(ram + L->code, 0xF4, DIFF_CODE_SIZE);
    c->cr3 = PD_PHYS;
    c->cr0 |= CR0_PG | CR0_WP | CR0_AM; /* as Linux: alignment checks on for EFLAGS.AC */
    c->cr4 |= CR4_SMEP; /* so that a fetch #PF reports I/D, as on the host (NX on) */
    cpu_flush_decoded(c);

    m->ucs = user_seg(L->cs, 0xB);
    m->uds = user_seg(L->ds, 0x3);
    m->ues = user_seg(L->es, 0x3);
    m->uss = user_seg(L->ss, 0x3);
    m->ufs = user_seg(L->fs, 0x3);
    m->ugs = user_seg(L->gs, 0x3);
}

static void machine_free(struct machine *m)
{
    cpu_free(&m->cpu);
    free(m->ram);
}

/* Runs one case in Ringside; the data area is left as the case left it. */
static void machine_run(struct machine *m, const struct tcase *tc, const uint8_t *bg)
{
    struct cpu *c = &m->cpu;
    const struct diff_case *in = &tc->in;
    const struct layout *L = &m->L;

    memcpy(m->ram + L->data, bg, L->dsize);
    for (unsigned k = 0; k < in->npatch && k < DIFF_PATCHES; k++) {
        const struct diff_patch *p = &in->patch[k];
        if (p->off + p->len <= L->dsize && p->len <= DIFF_PATCH_BYTES)
            memcpy(m->ram + L->data + p->off, p->bytes, p->len);
    }
    /* The code goes in through physical writes, which retire decoded code of the page. */
    for (unsigned k = 0; k < m->last_code_len; k++)
        phys_write(c, L->code + m->last_code_off + k, 1, 0xF4);
    unsigned len = in->code_len;
    if (in->code_off + len > DIFF_CODE_SIZE)
        len = DIFF_CODE_SIZE - in->code_off;
    for (unsigned k = 0; k < len; k++)
        phys_write(c, L->code + in->code_off + k, 1, in->code[k]);
    m->last_code_off = in->code_off;
    m->last_code_len = len;

    memcpy(c->r, in->r, sizeof c->r);
    c->eflags = in->eflags | FL_R1;
    c->lf.op = LF_NONE;
    c->seg[SEG_DS] = m->uds;
    c->seg[SEG_ES] = m->ues;
    c->seg[SEG_SS] = m->uss;
    c->seg[SEG_FS] = m->ufs;
    c->seg[SEG_GS] = m->ugs;
    seg_set_cs(c, m->ucs.sel, 0, 0xFFFFFFFFu, m->ucs.attr);
    c->eip = L->code + in->code_off;
    c->halted = false;
    c->delivering = false;

    memset(&m->got, 0, sizeof m->got);
    m->have_event = 0;
    enum run_result rr = cpu_run(c, 64);
    if (!m->have_event)
        m->got.vector = rr == RUN_SHUTDOWN ? 0xFFFB : 0xFFFC; /* never stopped / shut down */
}

/* ---- comparison and report ---- */

static int has_error_code(uint32_t v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

static const char *vector_name(uint32_t v)
{
    static const char *names[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF",
                                  "#9", "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC"};
    if (v < sizeof names / sizeof names[0])
        return names[v];
    switch (v) {
    case DIFF_TIMEOUT: return "timeout";
    case 0xFFFC: return "no-exception";
    case 0xFFFB: return "shutdown";
    case 0xFFFD: return "fault-in-handler";
    }
    return "?";
}

/* Mismatches explained by a bug outside the files this test may change (src/cpu/system.c,
 * src/mmu/): counted and shown once each, but not failed. Remove an entry when its bug is fixed. */
struct known {
    const char *form;  /* the generator form it occurs in */
    const char *what;
    uint64_t count;
    int shown;
};
static struct known known_issues[] = {
    {NULL, NULL, 0, 0}, /* none today; an entry names a form and its unfixed bug */
};

static struct known *known_issue(const struct layout *L, const struct tcase *tc,
                                 const struct diff_result *n, const struct diff_result *r)
{
    (void)L;
    (void)tc;
    (void)n;
    (void)r;
    return NULL;
}

struct stats {
    uint64_t cases, mismatches, strict_only;
    uint64_t *per_form, *bad_form, *completed, *faulted;
    unsigned shown, show_max;
    int strict;
};

/* Null selectors compare equal whatever their RPL: on the host, an interrupt that returns to
 * the test between the load and the end of the case (a timer tick) may replace a null selector
 * with RPL 3 by 0 (IRET nulls data segment registers the new CPL may not use). */
static uint16_t null_sel(uint16_t sel)
{
    return (sel & 0xFFFC) ? sel : 0;
}

/* Differences between the native result (n, final data nd) and Ringside's (r, rd). Returns a
 * bit set: 1 vector/err/cr2/eip, 2 registers, 4 eflags, 8 selectors, 16 data. */
static unsigned compare(const struct tcase *tc, const struct diff_result *n, const uint8_t *nd,
                        const struct diff_result *r, const uint8_t *rd, uint32_t dsize,
                        uint32_t code, int strict)
{
    unsigned bad = 0;
    if (n->vector != r->vector || n->eip != r->eip || n->truncated)
        bad |= 1;
    if (has_error_code(n->vector) && n->err != r->err)
        bad |= 1;
    if (n->vector == EXC_PF && n->cr2 != r->cr2)
        bad |= 1;
    int own_fault = n->eip == code + tc->in.code_off && n->vector != EXC_BP && n->vector != EXC_OF;
    for (unsigned k = 0; k < 8; k++)
        if ((n->r[k] ^ r->r[k]) & (strict ? 0xFFFFFFFFu : tc->rmask[k]) &&
            !(tc->fault_regs && own_fault && !strict))
            bad |= 2;
    if ((n->eflags ^ r->eflags) & (strict ? 0xFFFFFFFFu : tc->fmask))
        bad |= 4;
    if (null_sel(n->ds) != null_sel(r->ds) || null_sel(n->es) != null_sel(r->es) ||
        null_sel(n->fs) != null_sel(r->fs) || n->ss != r->ss)
        bad |= 8;
    if (memcmp(nd, rd, dsize) == 0)
        return bad;
    for (uint32_t k = 0; k < dsize; k++) {
        if (nd[k] == rd[k])
            continue;
        if (!strict && k >= tc->ign_off && k < (uint32_t)tc->ign_off + tc->ign_len)
            continue;
        bad |= 16;
        break;
    }
    return bad;
}

static void print_result(const char *who, const struct diff_result *x)
{
    printf("  %-8s %s", who, vector_name(x->vector));
    if (has_error_code(x->vector))
        printf("(%#x)", x->err);
    if (x->vector == EXC_PF)
        printf(" cr2=%08x", x->cr2);
    printf(" eip=%08x eflags=%08x ds=%x es=%x fs=%x ss=%x\n", x->eip, x->eflags, x->ds, x->es,
           x->fs, x->ss);
    printf("           eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x "
           "edi=%08x\n",
           x->r[0], x->r[1], x->r[2], x->r[3], x->r[4], x->r[5], x->r[6], x->r[7]);
}

static void show(const struct layout *L, uint64_t index, const struct tcase *tc, unsigned bad,
                 const struct diff_result *n, const uint8_t *nd, const struct diff_result *r,
                 const uint8_t *rd, const uint8_t *init)
{
    const struct diff_case *in = &tc->in;
    printf("MISMATCH case %" PRIu64 " [%s]:", index, gen_form_name(tc->form));
    if (bad & 1)
        printf(" event");
    if (bad & 2)
        printf(" registers");
    if (bad & 4)
        printf(" eflags");
    if (bad & 8)
        printf(" selectors");
    if (bad & 16)
        printf(" data");
    printf("\n  bytes   ");
    for (unsigned k = 0; k < in->code_len; k++)
        printf(" %02x", in->code[k]);
    printf("   at %08x\n", L->code + in->code_off);
    printf("  input    eflags=%08x (compared %08x)\n", in->eflags, tc->fmask);
    printf("           eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x "
           "edi=%08x\n",
           in->r[0], in->r[1], in->r[2], in->r[3], in->r[4], in->r[5], in->r[6], in->r[7]);
    for (unsigned k = 0; k < in->npatch; k++) {
        printf("  memory   %08x:", L->data + in->patch[k].off);
        for (unsigned b = 0; b < in->patch[k].len; b++)
            printf(" %02x", in->patch[k].bytes[b]);
        printf("\n");
    }
    print_result("native", n);
    print_result("ringside", r);
    unsigned shown = 0;
    for (uint32_t k = 0; k < L->dsize && shown < 16; k++) {
        if (nd[k] == rd[k])
            continue;
        printf("  data %08x: initial %02x native %02x ringside %02x\n", L->data + k, init[k],
               nd[k], rd[k]);
        shown++;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: diff_test RUNNER [CASES]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *env = getenv("RINGSIDE_DIFF_CASES");
    uint64_t total = argc == 3 ? strtoull(argv[2], NULL, 0)
                               : env && *env ? strtoull(env, NULL, 0) : 200000;
    env = getenv("RINGSIDE_DIFF_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : 0x52494E47u;
    const char *filter = getenv("RINGSIDE_DIFF_FORM");
    env = getenv("RINGSIDE_DIFF_SHOW");
    struct stats st = {0};
    st.show_max = env && *env ? (unsigned)strtoul(env, NULL, 0) : 20;
    env = getenv("RINGSIDE_DIFF_STRICT");
    st.strict = env && *env == '1';
    env = getenv("RINGSIDE_DIFF_STATS");
    int print_stats = env && *env == '1';

    spawn_runner(argv[1]);
    struct diff_hello hello;
    read_all(&hello, sizeof hello);
    if (hello.magic != DIFF_MAGIC || hello.data_size != DIFF_DATA_SIZE ||
        hello.code_size != DIFF_CODE_SIZE)
        die("the native runner speaks another protocol");
    struct layout L = {hello.data_base, hello.data_size, hello.code_base, hello.ro_base,
                       hello.cs, hello.ds, hello.es, hello.fs, hello.gs, hello.ss};

    static uint8_t bg[DIFF_DATA_SIZE];
    gen_background(seed, bg, sizeof bg);
    write_all(bg, sizeof bg);

    struct machine *m = malloc(sizeof *m);
    struct gen *g = gen_new(seed, &L, filter);
    struct tcase *batch = calloc(BATCH, sizeof *batch);
    struct diff_result *rres = calloc(BATCH, sizeof *rres);
    uint8_t *rdata = malloc((size_t)BATCH * DIFF_DATA_SIZE);
    st.per_form = calloc(gen_form_count(), sizeof *st.per_form);
    st.bad_form = calloc(gen_form_count(), sizeof *st.bad_form);
    st.completed = calloc(gen_form_count(), sizeof *st.completed);
    st.faulted = calloc(gen_form_count() * 32, sizeof *st.faulted);
    if (!m || !g || !batch || !rres || !rdata || !st.per_form || !st.bad_form || !st.completed ||
        !st.faulted)
        die("out of memory");
    machine_init(m, &L);

    printf("diff: seed %#" PRIx64 ", %" PRIu64 " cases (%u in the systematic sweep), layout: "
           "data %08x code %08x%s%s%s\n",
           seed, total, gen_sys_count(g), L.data, L.code, filter ? ", forms matching \"" : "",
           filter ? filter : "", filter ? "\"" : "");
    fflush(stdout);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    uint64_t done = 0;
    static uint8_t nd[DIFF_DATA_SIZE], init[DIFF_DATA_SIZE];
    while (done < total) {
        uint32_t n = total - done < BATCH ? (uint32_t)(total - done) : BATCH;
        for (uint32_t k = 0; k < n; k++)
            gen_case(g, &batch[k]);
        write_all(&n, sizeof n);
        for (uint32_t k = 0; k < n; k++)
            write_all(&batch[k].in, sizeof batch[k].in);
        /* Ringside runs the batch while the runner does. */
        for (uint32_t k = 0; k < n; k++) {
            machine_run(m, &batch[k], bg);
            rres[k] = m->got;
            memcpy(rdata + (size_t)k * DIFF_DATA_SIZE, m->ram + L.data, DIFF_DATA_SIZE);
        }
        for (uint32_t k = 0; k < n; k++) {
            const struct tcase *tc = &batch[k];
            struct diff_result nr;
            read_all(&nr, sizeof nr);
            memcpy(init, bg, sizeof init);
            for (unsigned p = 0; p < tc->in.npatch; p++)
                memcpy(init + tc->in.patch[p].off, tc->in.patch[p].bytes, tc->in.patch[p].len);
            memcpy(nd, init, sizeof nd);
            for (unsigned d = 0; d < nr.ndiff; d++) {
                struct diff_byte b;
                read_all(&b, sizeof b);
                if (b.off < DIFF_DATA_SIZE)
                    nd[b.off] = b.val;
            }
            const uint8_t *rd = rdata + (size_t)k * DIFF_DATA_SIZE;
            st.cases++;
            st.per_form[tc->form]++;
            /* Completed: stopped at a HLT (#GP(0)) that is not the instruction itself. */
            if (nr.vector == EXC_GP && nr.err == 0 && nr.eip != L.code + tc->in.code_off)
                st.completed[tc->form]++;
            else
                st.faulted[tc->form * 32 + (nr.vector < 31 ? nr.vector : 31)]++;
            unsigned bad = compare(tc, &nr, nd, &rres[k], rd, L.dsize, L.code, 0);
            if (!bad && st.strict && compare(tc, &nr, nd, &rres[k], rd, L.dsize, L.code, 1)) {
                st.strict_only++;
                if (st.shown < st.show_max) {
                    printf("(undefined only) ");
                    show(&L, done + k, tc, compare(tc, &nr, nd, &rres[k], rd, L.dsize, L.code, 1), &nr,
                         nd, &rres[k], rd, init);
                    st.shown++;
                }
            }
            if (!bad)
                continue;
            struct known *kn = known_issue(&L, tc, &nr, &rres[k]);
            if (kn) {
                kn->count++;
                if (!kn->shown && st.shown < st.show_max) {
                    printf("(known issue) ");
                    show(&L, done + k, tc, bad, &nr, nd, &rres[k], rd, init);
                    kn->shown = 1;
                }
                continue;
            }
            st.mismatches++;
            st.bad_form[tc->form]++;
            if (st.shown < st.show_max) {
                show(&L, done + k, tc, bad, &nr, nd, &rres[k], rd, init);
                st.shown++;
            }
        }
        done += n;
    }
    uint32_t zero = 0;
    write_all(&zero, sizeof zero);
    close(to_runner);
    int status = 0;
    waitpid(runner_pid, &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    unsigned nforms = 0;
    for (unsigned f = 0; f < gen_form_count(); f++)
        nforms += st.per_form[f] != 0;
    if (print_stats) {
        printf("%-26s %9s %9s  faults of the instruction itself, by vector\n", "form", "cases",
               "completed");
        for (unsigned f = 0; f < gen_form_count(); f++) {
            if (!st.per_form[f])
                continue;
            printf("%-26s %9" PRIu64 " %9" PRIu64 " ", gen_form_name(f), st.per_form[f],
                   st.completed[f]);
            for (unsigned v = 0; v < 32; v++)
                if (st.faulted[f * 32 + v])
                    printf(" %s:%" PRIu64, v < 31 ? vector_name(v) : "other",
                           st.faulted[f * 32 + v]);
            printf("\n");
        }
    }
    if (st.mismatches) {
        printf("mismatches by form:\n");
        for (unsigned f = 0; f < gen_form_count(); f++)
            if (st.bad_form[f])
                printf("  %-24s %" PRIu64 " of %" PRIu64 "\n", gen_form_name(f), st.bad_form[f],
                       st.per_form[f]);
    }
    for (unsigned k = 0; k < sizeof known_issues / sizeof known_issues[0]; k++)
        if (known_issues[k].count)
            printf("diff: known issue, %" PRIu64 " cases (not failed): %s\n",
                   known_issues[k].count, known_issues[k].what);
    if (st.strict)
        printf("diff: %" PRIu64 " cases differ only in what the SDM leaves undefined\n",
               st.strict_only);
    printf("diff: %" PRIu64 " cases, %" PRIu64 " mismatches (%u forms, %.1f s)\n", st.cases,
           st.mismatches, nforms, secs);

    gen_free(g);
    machine_free(m);
    free(m);
    free(batch);
    free(rres);
    free(rdata);
    free(st.per_form);
    free(st.bad_form);
    free(st.completed);
    free(st.faulted);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "diff_test: the native runner failed (status %#x)\n", status);
        return 1;
    }
    return st.mismatches ? 1 : 0;
}
