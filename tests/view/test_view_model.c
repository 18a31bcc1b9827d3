/* The view's model and layout without SDL, on event streams made here:
 *   - the level-of-detail pyramid: view_model_mask over random ranges equals the OR of the
 *     events' masks computed one by one (many thousands of events, every range shape);
 *   - where the CPU is (view_model_state_at) before, at and between events;
 *   - time per space, pairing of a system call with its return and its cost, a fault that
 *     kills its process (no ring 3 in its space after it) and one that does not;
 *   - console lines with the icount of their first byte;
 *   - zoom keeps the instruction under the cursor at the same x; fit and clamping;
 *   - n/p stepping with a class filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frontend/view/layout.h"
#include "frontend/view/model.h"

#define KCR3 0x1000u  /* the kernel's boot space */
#define ACR3 0x2000u  /* process a */
#define BCR3 0x3000u  /* process b */

static struct trace_event ev_make(uint64_t icount, unsigned kind, unsigned vector, unsigned cpl0,
                                  uint32_t cr30, unsigned cpl1, uint32_t cr31)
{
    struct trace_event e = { .icount = icount, .kind = (uint8_t)kind, .vector = (uint8_t)vector };
    e.before = (struct trace_state){ .cpl = (uint8_t)cpl0, .cr3 = cr30,
                                     .cs = cpl0 ? 0x1b : 0x08, .ss = cpl0 ? 0x23 : 0x10 };
    e.after = (struct trace_state){ .cpl = (uint8_t)cpl1, .cr3 = cr31,
                                    .cs = cpl1 ? 0x1b : 0x08, .ss = cpl1 ? 0x23 : 0x10 };
    e.before.r[4] = cpl0 ? 0xbffff000u : 0x110000u;
    e.after.r[4] = cpl1 ? 0xbffff000u : 0x110000u;
    return e;
}

/* A system call from ring 3 in cr3 at t, returning at t + cost. */
static void syscall_pair(struct view_model *m, uint64_t t, uint64_t cost, uint32_t cr3)
{
    struct trace_event in = ev_make(t, TR_SOFTINT, 0x80, 3, cr3, 0, cr3);
    struct trace_event out = ev_make(t + cost, TR_IRET, 0, 0, cr3, 3, cr3);
    out.after.r[4] = in.before.r[4];
    out.after.cs = in.before.cs;
    assert_true(view_model_add_live(m, &in));
    assert_true(view_model_add_live(m, &out));
}

static void test_lod_matches_brute_force(void **state)
{
    (void)state;
    struct view_model m;
    view_model_init(&m);
    /* Random events: rings and kinds vary. */
    srand(12345);
    uint64_t t = 100;
    for (int i = 0; i < 20000; i++) {
        t += 1 + (uint64_t)(rand() % 50);
        unsigned kind = (unsigned)(rand() % TR_KINDS);
        unsigned c0 = (unsigned)(rand() % 4), c1 = (unsigned)(rand() % 4);
        struct trace_event e = ev_make(t, kind, (unsigned)(rand() % 256), c0, KCR3, c1,
                                       (rand() % 2) ? ACR3 : BCR3);
        assert_true(view_model_add_live(&m, &e));
    }
    for (int q = 0; q < 3000; q++) {
        size_t a = (size_t)rand() % (m.n + 1), b = (size_t)rand() % (m.n + 1);
        if (q % 3 == 0)
            b = a + (size_t)(rand() % 20); /* short ranges too */
        if (a > b) {
            size_t x = a;
            a = b;
            b = x;
        }
        if (b > m.n)
            b = m.n;
        unsigned want = 0;
        for (size_t i = a; i < b; i++)
            want |= VIEW_RING_BIT(m.ev[i].cpl_from) | VIEW_RING_BIT(m.ev[i].cpl_to) |
                    VIEW_CLASS_BIT(m.ev[i].cls);
        if (view_model_mask(&m, a, b) != want)
            fail_msg("mask [%zu, %zu): %#x, brute force %#x", a, b, view_model_mask(&m, a, b),
                     want);
    }
    assert_int_equal(view_model_mask(&m, 5, 5), 0);
    view_model_free(&m);
}

static void test_path_time_pairing_kills(void **state)
{
    (void)state;
    struct view_model m;
    view_model_init(&m);
    assert_true(view_model_add_space(&m, ACR3, 7, "alpha"));
    /* Boot in the kernel's space until 1000, then a's ring 3. */
    struct trace_event go = ev_make(1000, TR_IRET, 0, 0, KCR3, 3, ACR3);
    assert_true(view_model_add_live(&m, &go));
    syscall_pair(&m, 1500, 120, ACR3);                  /* events 1, 2 */
    struct trace_event irq = ev_make(3000, TR_INTERRUPT, 0x20, 3, ACR3, 0, ACR3);
    assert_true(view_model_add_live(&m, &irq));          /* 3: never returns to a */
    struct trace_event sw = ev_make(3200, TR_IRET, 0, 0, ACR3, 3, BCR3);
    assert_true(view_model_add_live(&m, &sw));           /* 4: b runs */
    struct trace_event pf = ev_make(4000, TR_EXCEPTION, 14, 3, BCR3, 0, BCR3);
    assert_true(view_model_add_live(&m, &pf));           /* 5: b killed */
    struct trace_event back = ev_make(4100, TR_IRET, 0, 0, BCR3, 3, ACR3);
    assert_true(view_model_add_live(&m, &back));         /* 6: a again */
    view_model_set_end(&m, 5000, false, 1, 0);

    unsigned cpl, sp;
    view_model_state_at(&m, 0, &cpl, &sp);
    assert_int_equal(cpl, 0);
    assert_true(view_space_is_boot(&m, sp));
    view_model_state_at(&m, 1000, &cpl, &sp); /* an event at t has happened at t */
    assert_int_equal(cpl, 3);
    assert_int_equal(m.sp[sp].cr3, ACR3);
    view_model_state_at(&m, 1550, &cpl, &sp);
    assert_int_equal(cpl, 0);
    assert_int_equal(m.sp[sp].cr3, ACR3);
    view_model_state_at(&m, 4050, &cpl, &sp);
    assert_int_equal(m.sp[sp].cr3, BCR3);

    /* Pairing: the system call with its iret, 120 instructions. */
    assert_int_equal(m.ev[1].cls, VC_SYSCALL);
    assert_int_equal(m.ev[1].pair, 2);
    assert_int_equal(m.ev[2].pair, 1);
    assert_int_equal(m.cost_n[VC_SYSCALL], 1);
    assert_int_equal(m.cost_sum[VC_SYSCALL], 120);
    /* The interrupt returns to a's ring 3 after b ran: 1100 instructions. */
    assert_int_equal(m.ev[3].pair, 6);
    assert_int_equal(m.cost_n[VC_INTERRUPT], 1);
    assert_int_equal(m.cost_sum[VC_INTERRUPT], 1100);
    /* b's iret into a fresh space returns from nothing. */
    assert_int_equal(m.ev[4].pair, -1);

    /* Time per space: a ran ring 3 [1000,1500) [1620,3000) [4100,5000), ring 0 [1500,1620)
     * [3000,3200); b ring 3 [3200,4000), ring 0 [4000,4100); the kernel [0,1000). */
    unsigned a = 0, b = 0;
    for (unsigned s = 0; s < m.nsp; s++) {
        if (m.sp[s].cr3 == ACR3)
            a = s;
        if (m.sp[s].cr3 == BCR3)
            b = s;
    }
    assert_int_equal(m.sp[a].ring_time[3], 500 + 1380 + 900);
    assert_int_equal(m.sp[a].ring_time[0], 120 + 200);
    assert_int_equal(m.sp[b].ring_time[3], 800);
    assert_int_equal(m.sp[b].ring_time[0], 100);
    assert_int_equal(m.sp[a].nsyscalls, 1);
    assert_int_equal(m.sp[m.boot_space].ring_time[0], 1000);

    /* b's fault killed it; nothing else is a kill. */
    assert_true(view_model_killed(&m, 5));
    for (size_t i = 0; i < m.n; i++)
        if (i != 5)
            assert_false(view_model_killed(&m, i));
    assert_int_equal(m.nfaults, 1);
    assert_int_equal(m.faults[0], 5);

    /* Labels and legend: alpha named, b by its CR3, the kernel's space last. */
    char buf[128];
    view_space_label(&m, a, buf, sizeof buf);
    assert_string_equal(buf, "alpha (pid 7)");
    view_space_label(&m, b, buf, sizeof buf);
    assert_string_equal(buf, "CR3 0x00003000");
    unsigned ent[8];
    unsigned n = view_legend_entries(&m, ent, 8);
    assert_int_equal(n, 3);
    assert_true(view_space_is_boot(&m, ent[2]));
    assert_int_not_equal(view_space_colour(&m, a), view_space_colour(&m, b));
    assert_int_not_equal(view_space_colour(&m, a), view_space_colour(&m, ent[2]));
    view_model_free(&m);
}

/* A fault in ring 0 after which no ring 3 code runs is a panic; one that is followed by ring
 * 3 code is not; a triple fault is the run's fatal event. */
static void test_panic_and_fatal(void **state)
{
    (void)state;
    struct view_model m;
    view_model_init(&m);
    struct trace_event go = ev_make(100, TR_IRET, 0, 0, KCR3, 3, ACR3);
    struct trace_event kpf1 = ev_make(200, TR_EXCEPTION, 14, 0, ACR3, 0, ACR3);
    struct trace_event back = ev_make(300, TR_IRET, 0, 0, ACR3, 3, ACR3);
    struct trace_event sc = ev_make(400, TR_SOFTINT, 0x80, 3, ACR3, 0, ACR3);
    struct trace_event kpf2 = ev_make(500, TR_EXCEPTION, 14, 0, ACR3, 0, ACR3);
    assert_true(view_model_add_live(&m, &go));
    assert_true(view_model_add_live(&m, &kpf1));
    assert_true(view_model_add_live(&m, &back));
    assert_true(view_model_add_live(&m, &sc));
    assert_true(view_model_add_live(&m, &kpf2));
    view_model_set_end(&m, 600, false, 1, 0x1f);
    assert_false(view_model_panic(&m, 1));
    assert_true(view_model_panic(&m, 4));
    assert_false(view_model_killed(&m, 4));
    assert_int_equal(view_model_fatal(&m), 4);
    struct trace_event tf = ev_make(550, TR_SHUTDOWN, 14, 0, ACR3, 0, ACR3);
    assert_true(view_model_add_live(&m, &tf));
    assert_int_equal(view_model_fatal(&m), 5);
    view_model_free(&m);
}

static void test_console_lines(void **state)
{
    (void)state;
    struct view_model m;
    view_model_init(&m);
    const char *s = "hi\nthere\n\tx";
    for (size_t i = 0; s[i]; i++)
        assert_true(view_model_add_output(&m, 100 + i, (uint8_t)s[i]));
    view_model_set_end(&m, 200, false, 1, 0);
    assert_int_equal(m.nlines, 3);
    assert_string_equal(m.lines[0].text, "hi");
    assert_int_equal(m.lines[0].icount, 100);
    assert_string_equal(m.lines[1].text, "there");
    assert_int_equal(m.lines[1].icount, 103);
    assert_string_equal(m.lines[2].text, " x");
    assert_int_equal(m.lines[2].icount, 109);
    view_model_free(&m);
}

static void test_zoom_pan_step(void **state)
{
    (void)state;
    struct view_model m;
    view_model_init(&m);
    struct trace_event go = ev_make(1000, TR_IRET, 0, 0, KCR3, 3, ACR3);
    assert_true(view_model_add_live(&m, &go));
    for (int k = 0; k < 10; k++)
        syscall_pair(&m, 2000 + 1000 * (uint64_t)k, 100, ACR3);
    struct trace_event irq = ev_make(20000, TR_INTERRUPT, 0x20, 3, ACR3, 0, ACR3);
    assert_true(view_model_add_live(&m, &irq));
    view_model_set_end(&m, 30000, false, 1, 0);
    struct view_state st = { .selected = -1, .space_filter = -1, .vector_filter = -1, .scale = 1,
                             .console_top = -1 };
    view_state_fit(&st, &m);
    assert_true(st.t0 == 0 && st.span == 30000);
    struct view_layout L;
    view_layout_make(&L, 1600, 1000, 1.0f, false);
    double x = view_x_of(&L, &st, 12345);
    view_state_zoom(&st, &m, 0.25, 12345);
    assert_true(st.span == 7500);
    assert_true(view_x_of(&L, &st, 12345) > x - 1e-6 && view_x_of(&L, &st, 12345) < x + 1e-6);
    view_state_pan(&st, &m, 1e9); /* clamped to the end */
    assert_true(st.t0 + st.span == 30000);
    view_state_zoom(&st, &m, 1e9, 0); /* no wider than the run */
    assert_true(st.t0 == 0 && st.span == 30000);
    /* n/p: every entry (returns skipped: event 0 is an iret, 2 is 1's return); with the
     * interrupt filter only the interrupt. */
    long i = view_state_step(&st, &m, 1);
    assert_int_equal(i, 1);
    st.selected = i;
    assert_int_equal(view_state_step(&st, &m, 1), 3);
    assert_int_equal(view_state_step(&st, &m, -1), -1);
    st.vector_filter = 0x20; /* the interrupt's vector: only it */
    assert_int_equal(view_state_step(&st, &m, 1), 21);
    st.vector_filter = 0x80; /* the system calls' */
    assert_int_equal(view_state_step(&st, &m, 1), 3);
    st.vector_filter = -1;
    st.class_filter = VIEW_CLASS_BIT(VC_INTERRUPT);
    assert_int_equal(view_state_step(&st, &m, 1), 21);
    st.selected = 21;
    assert_int_equal(view_state_step(&st, &m, 1), -1);
    assert_int_equal(view_state_step(&st, &m, -1), -1);
    view_model_free(&m);
}

/* A process the kernel ends from an interrupt (the demo's spin at its CPU limit) loses its
 * colour there: the last interrupt that took it out of ring 3, when the run ended by itself.
 * One that left by a system call (exit) or a run cut by --max-insns is no kill. */
static void test_killed_without_fault(void **state)
{
    (void)state;
    for (int cut = 0; cut < 2; cut++) {
        struct view_model m;
        view_model_init(&m);
        struct trace_event evs[] = {
            ev_make(100, TR_IRET, 0, 0, KCR3, 3, ACR3),
            ev_make(200, TR_INTERRUPT, 0x20, 3, ACR3, 0, ACR3),
            ev_make(300, TR_IRET, 0, 0, ACR3, 3, ACR3),
            ev_make(400, TR_INTERRUPT, 0x20, 3, ACR3, 0, ACR3), /* a's last: killed */
            ev_make(500, TR_IRET, 0, 0, BCR3, 3, BCR3),
            ev_make(600, TR_SOFTINT, 0x80, 3, BCR3, 0, BCR3),    /* b's exit call */
        };
        for (size_t k = 0; k < sizeof evs / sizeof *evs; k++)
            assert_true(view_model_add_live(&m, &evs[k]));
        view_model_set_end(&m, 700, false, cut ? TEND_LIMIT : TEND_EXIT, 0);
        unsigned a = 0, b = 0;
        for (unsigned s = 0; s < m.nsp; s++) {
            if (m.sp[s].cr3 == ACR3)
                a = s;
            if (m.sp[s].cr3 == BCR3)
                b = s;
        }
        assert_int_equal(view_model_killed_space(&m, a), cut ? -1 : 3);
        assert_int_equal(view_model_killed_space(&m, b), -1);
        assert_int_equal(view_model_killed_space(&m, m.boot_space), -1);
        view_model_free(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lod_matches_brute_force),
        cmocka_unit_test(test_path_time_pairing_kills),
        cmocka_unit_test(test_panic_and_fatal),
        cmocka_unit_test(test_killed_without_fault),
        cmocka_unit_test(test_console_lines),
        cmocka_unit_test(test_zoom_pan_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
