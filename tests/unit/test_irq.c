/* irq.h / irq.c: interrupt lines and the fan-out. One source drives two sinks with every level
 * (recording sinks and two real 8259A pairs), "unmasked" is asked of every sink, a full fan-out
 * refuses a fifth sink, an unconnected line is inert; and the 8259A's own answer for its
 * inputs, a slave input counting as unmasked only with the cascade open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/pic8259.h"

/* A controller input that records what it is told. */
struct rec {
    int calls;
    int irq;        /* the input number of the last call */
    bool level;     /* the last level */
    bool history[8];
    bool unmasked;  /* what it answers */
};

static void rec_set(void *ctx, int irq, bool level)
{
    struct rec *r = ctx;
    if (r->calls < 8)
        r->history[r->calls] = level;
    r->calls++;
    r->irq = irq;
    r->level = level;
}

static bool rec_unmasked(void *ctx, int irq)
{
    (void)irq;
    return ((struct rec *)ctx)->unmasked;
}

static struct irq_line rec_line(struct rec *r, int irq)
{
    return (struct irq_line){ rec_set, rec_unmasked, r, irq };
}

static void one_source_two_sinks(void **state)
{
    (void)state;
    struct rec a = { 0 }, b = { 0 };
    struct irq_fanout f;
    irq_fanout_init(&f);
    assert_int_equal(irq_fanout_add(&f, rec_line(&a, 3)), 0);
    assert_int_equal(irq_fanout_add(&f, rec_line(&b, 19)), 0);
    struct irq_line src = irq_fanout_line(&f);

    irq_set(&src, true);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_true(a.level);
    assert_true(b.level);
    assert_int_equal(a.irq, 3);  /* each sink sees its own input number */
    assert_int_equal(b.irq, 19);

    irq_set(&src, false);
    assert_false(a.level);
    assert_false(b.level);

    /* A pulse is a rise then a fall, at each sink. */
    irq_pulse(&src);
    assert_int_equal(a.calls, 4);
    assert_int_equal(b.calls, 4);
    assert_true(a.history[2]);
    assert_false(a.history[3]);
    assert_true(b.history[2]);
    assert_false(b.history[3]);
}

static void unmasked_if_any_sink_is(void **state)
{
    (void)state;
    struct rec a = { 0 }, b = { 0 };
    struct irq_fanout f;
    irq_fanout_init(&f);
    struct irq_line src = irq_fanout_line(&f);
    assert_false(irq_unmasked(&src)); /* no sinks */
    irq_fanout_add(&f, rec_line(&a, 0));
    irq_fanout_add(&f, rec_line(&b, 0));
    assert_false(irq_unmasked(&src));
    b.unmasked = true;
    assert_true(irq_unmasked(&src));
    b.unmasked = false;
    a.unmasked = true;
    assert_true(irq_unmasked(&src));
}

static void fanout_is_bounded(void **state)
{
    (void)state;
    struct rec r[IRQ_FANOUT_MAX + 1] = { { 0 } };
    struct irq_fanout f;
    irq_fanout_init(&f);
    for (int k = 0; k < IRQ_FANOUT_MAX; k++)
        assert_int_equal(irq_fanout_add(&f, rec_line(&r[k], k)), 0);
    assert_int_equal(irq_fanout_add(&f, rec_line(&r[IRQ_FANOUT_MAX], 9)), -1);
    struct irq_line src = irq_fanout_line(&f);
    irq_set(&src, true);
    for (int k = 0; k < IRQ_FANOUT_MAX; k++)
        assert_int_equal(r[k].calls, 1);
    assert_int_equal(r[IRQ_FANOUT_MAX].calls, 0);
}

static void unconnected_line_is_inert(void **state)
{
    (void)state;
    struct irq_line none = { 0 };
    irq_set(&none, true);
    irq_pulse(&none);
    assert_false(irq_unmasked(&none));
    /* Connected, but with nobody to ask about masks: never unmasked. */
    struct rec r = { .unmasked = true };
    struct irq_line half = { rec_set, NULL, &r, 1 };
    irq_set(&half, true);
    assert_true(r.level);
    assert_false(irq_unmasked(&half));
}

/* Two real controllers behind one source (as an ISA IRQ will feed the 8259A pair and the
 * I/O APIC): each sees the edge, each raises its own INTR. */
struct pics {
    struct bus bus[2];
    struct pic_pair pic[2];
    bool intr[2];
};

static void intr_line(void *ctx, int irq, bool level)
{
    (void)irq;
    *(bool *)ctx = level;
}

static void init_pair(struct pics *p, int k, uint8_t vector_base, uint8_t imr)
{
    bus_init(&p->bus[k]);
    pic_init(&p->pic[k], (struct irq_line){ intr_line, NULL, &p->intr[k], 0 });
    assert_int_equal(pic_attach(&p->pic[k], &p->bus[k]), 0);
    bus_out(&p->bus[k], 0x20, 0x11, 1);
    bus_out(&p->bus[k], 0x21, vector_base, 1);
    bus_out(&p->bus[k], 0x21, 0x04, 1);
    bus_out(&p->bus[k], 0x21, 0x01, 1);
    bus_out(&p->bus[k], 0x21, imr, 1);
}

static void two_controllers_share_a_source(void **state)
{
    (void)state;
    struct pics *p = calloc(1, sizeof *p);
    assert_non_null(p);
    init_pair(p, 0, 0x20, 0xEF); /* IRQ 4 open */
    init_pair(p, 1, 0x40, 0xFF); /* everything masked */
    struct irq_fanout f;
    irq_fanout_init(&f);
    irq_fanout_add(&f, pic_input(&p->pic[0], 4));
    irq_fanout_add(&f, pic_input(&p->pic[1], 4));
    struct irq_line src = irq_fanout_line(&f);
    assert_true(irq_unmasked(&src)); /* the first pair has it open */

    irq_set(&src, true); /* a level raised and held, as the UART does */
    assert_true(p->intr[0]);
    assert_false(p->intr[1]); /* masked there, but the request is latched */
    assert_int_equal(pic_ack(&p->pic[0]), 0x24);
    bus_out(&p->bus[1], 0x21, 0xEF, 1);
    assert_true(p->intr[1]);
    assert_int_equal(pic_ack(&p->pic[1]), 0x44);

    /* Held high, no new edge: after EOI neither asks again; a fall and rise asks both. */
    bus_out(&p->bus[0], 0x20, 0x20, 1);
    bus_out(&p->bus[1], 0x20, 0x20, 1);
    assert_false(p->intr[0]);
    assert_false(p->intr[1]);
    irq_set(&src, false);
    irq_set(&src, true);
    assert_true(p->intr[0]);
    assert_true(p->intr[1]);
    free(p);
}

static void pic_inputs_answer_unmasked(void **state)
{
    (void)state;
    struct pics *p = calloc(1, sizeof *p);
    assert_non_null(p);
    bus_init(&p->bus[0]);
    pic_init(&p->pic[0], (struct irq_line){ intr_line, NULL, &p->intr[0], 0 });
    assert_int_equal(pic_attach(&p->pic[0], &p->bus[0]), 0);
    struct irq_line irq0 = pic_input(&p->pic[0], 0), irq10 = pic_input(&p->pic[0], 10);
    assert_false(irq_unmasked(&irq0)); /* everything masked at power-on */
    bus_out(&p->bus[0], 0x21, 0xFE, 1);
    assert_true(irq_unmasked(&irq0));
    /* A slave input needs its own bit and the cascade (master input 2) open. */
    bus_out(&p->bus[0], 0xA1, 0xFB, 1);
    assert_false(irq_unmasked(&irq10));
    bus_out(&p->bus[0], 0x21, 0xFA, 1);
    assert_true(irq_unmasked(&irq10));
    bus_out(&p->bus[0], 0xA1, 0xFF, 1);
    assert_false(irq_unmasked(&irq10));
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_source_two_sinks),
        cmocka_unit_test(unmasked_if_any_sink_is),
        cmocka_unit_test(fanout_is_bounded),
        cmocka_unit_test(unconnected_line_is_inert),
        cmocka_unit_test(two_controllers_share_a_source),
        cmocka_unit_test(pic_inputs_answer_unmasked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
