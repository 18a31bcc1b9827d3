/* timerq.c: several deadlines fire earliest first, each with the time of the run; re-arming
 * from the callback (a periodic timer, and one that catches up within one run); equal
 * deadlines in slot order, also after a removal freed a slot; removal, disarming and a full
 * queue; the kick a deadline set outside a run gives the machine; and the deadline a halted
 * cpu waits for, which only timers that can wake it count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/devclock.h"
#include "devices/timerq.h"

struct fixture;

/* One test timer. */
struct tm {
    struct fixture *fx;
    char name;
    int id;
    uint64_t period;   /* re-arm at deadline + period after firing (0: one-shot) */
    uint64_t last_deadline;
    bool wakes;        /* what can_wake answers */
};

struct fixture {
    struct devclock clk;
    struct timerq q;
    uint64_t t;          /* fake device time */
    uint64_t kick;       /* the "cpu's" next_event */
    char order[64];      /* names of fired timers */
    uint64_t when[64];   /* the now each was fired with */
    unsigned nfired;
    struct tm tm[TIMERQ_MAX + 1];
};

static uint64_t fake_now(void *ctx)
{
    return ((struct fixture *)ctx)->t;
}

static void fire(void *ctx, uint64_t now)
{
    struct tm *t = ctx;
    struct fixture *fx = t->fx;
    /* Disarmed before its callback runs. */
    assert_int_equal(timerq_deadline(&fx->q, t->id), TIMER_NEVER);
    if (fx->nfired < sizeof fx->order - 1) {
        fx->order[fx->nfired] = t->name;
        fx->when[fx->nfired] = now;
    }
    fx->nfired++;
    if (t->period) {
        t->last_deadline += t->period;
        timerq_arm(&fx->q, t->id, t->last_deadline);
    }
}

static bool can_wake(void *ctx)
{
    return ((struct tm *)ctx)->wakes;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->clk = (struct devclock){ .now = fake_now, .ctx = fx, .units_per_sec = 1000 };
    fx->kick = UINT64_MAX;
    timerq_init(&fx->q, &fx->clk, &fx->kick);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* Adds timer k, named name, armed at deadline (TIMER_NEVER: not armed). */
static struct tm *add(struct fixture *fx, int k, char name, uint64_t deadline)
{
    struct tm *t = &fx->tm[k];
    *t = (struct tm){ .fx = fx, .name = name, .last_deadline = deadline };
    t->id = timerq_add(&fx->q, fire, can_wake, t);
    assert_true(t->id >= 0);
    if (deadline != TIMER_NEVER)
        timerq_arm(&fx->q, t->id, deadline);
    return t;
}

static void run(struct fixture *fx, uint64_t now)
{
    fx->t = now;
    timerq_run(&fx->q, now);
}

static void several_deadlines(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(timerq_next(&fx->q), TIMER_NEVER);
    add(fx, 0, 'a', 300);
    add(fx, 1, 'b', 100);
    add(fx, 2, 'c', 200);
    assert_int_equal(timerq_next(&fx->q), 100);
    run(fx, 99);
    assert_int_equal(fx->nfired, 0);
    run(fx, 250);
    assert_string_equal(fx->order, "bc"); /* earliest first */
    assert_int_equal(fx->when[0], 250);
    assert_int_equal(fx->when[1], 250);
    assert_int_equal(timerq_next(&fx->q), 300);
    run(fx, 300); /* a deadline equal to now is due */
    assert_string_equal(fx->order, "bca");
    assert_int_equal(timerq_next(&fx->q), TIMER_NEVER);
}

static void rearming(void **state)
{
    struct fixture *fx = *state;
    struct tm *p = add(fx, 0, 'p', 100);
    p->period = 100;
    add(fx, 1, 'o', 150);
    run(fx, 100);
    assert_string_equal(fx->order, "p");
    assert_int_equal(timerq_deadline(&fx->q, p->id), 200); /* armed again by its callback */
    /* A late look: the periodic timer catches up within the run (200, 300, 400 are all due),
     * interleaved with the other by deadline. */
    run(fx, 420);
    assert_string_equal(fx->order, "pop" "pp");
    assert_int_equal(timerq_deadline(&fx->q, p->id), 500);
    /* Arming an armed timer moves its deadline, earlier or later. */
    timerq_arm(&fx->q, p->id, 450);
    assert_int_equal(timerq_next(&fx->q), 450);
    timerq_arm(&fx->q, p->id, 900);
    assert_int_equal(timerq_next(&fx->q), 900);
    /* TIMER_NEVER disarms. */
    timerq_arm(&fx->q, p->id, TIMER_NEVER);
    assert_int_equal(timerq_next(&fx->q), TIMER_NEVER);
    run(fx, 100000);
    assert_int_equal(fx->nfired, 5);
}

static void equal_deadlines(void **state)
{
    struct fixture *fx = *state;
    add(fx, 0, 'a', 50);
    struct tm *b = add(fx, 1, 'b', 50);
    add(fx, 2, 'c', 50);
    run(fx, 50);
    assert_string_equal(fx->order, "abc");
    /* d takes b's freed slot, and with it b's place among equals. */
    timerq_remove(&fx->q, b->id);
    struct tm *d = add(fx, 3, 'd', TIMER_NEVER);
    assert_int_equal(d->id, b->id);
    timerq_arm(&fx->q, fx->tm[2].id, 70);
    timerq_arm(&fx->q, d->id, 70);
    timerq_arm(&fx->q, fx->tm[0].id, 70);
    run(fx, 70);
    assert_string_equal(fx->order, "abc" "adc");
}

static void removal(void **state)
{
    struct fixture *fx = *state;
    struct tm *a = add(fx, 0, 'a', 10);
    add(fx, 1, 'b', 20);
    timerq_remove(&fx->q, a->id);
    assert_int_equal(timerq_deadline(&fx->q, a->id), TIMER_NEVER);
    assert_int_equal(timerq_next(&fx->q), 20);
    timerq_arm(&fx->q, a->id, 5); /* a removed timer cannot be armed */
    assert_int_equal(timerq_next(&fx->q), 20);
    run(fx, 1000);
    assert_string_equal(fx->order, "b");
    /* Ids out of range are ignored too. */
    timerq_arm(&fx->q, -1, 5);
    timerq_arm(&fx->q, TIMERQ_MAX, 5);
    timerq_remove(&fx->q, 99);
    assert_int_equal(timerq_next(&fx->q), TIMER_NEVER);
}

static void bounded(void **state)
{
    struct fixture *fx = *state;
    for (int k = 0; k < TIMERQ_MAX; k++)
        add(fx, k, (char)('a' + k), (uint64_t)k);
    assert_int_equal(timerq_add(&fx->q, fire, NULL, &fx->tm[TIMERQ_MAX]), -1);
    assert_int_equal(timerq_add(&fx->q, NULL, NULL, NULL), -1);
    timerq_remove(&fx->q, 3);
    assert_int_equal(timerq_add(&fx->q, fire, NULL, &fx->tm[TIMERQ_MAX]), 3);
}

/* A deadline set from outside a run (a guest's OUT to the PIT) asks the machine to look at
 * the next instruction boundary: the kick target drops to the current time. Deadlines set
 * from a callback do not (the machine takes the minimum after the run). */
static void kicks(void **state)
{
    struct fixture *fx = *state;
    fx->t = 40;
    struct tm *p = add(fx, 0, 'p', 100);
    assert_int_equal(fx->kick, 40);
    fx->kick = 30; /* already earlier: stays */
    timerq_arm(&fx->q, p->id, 500);
    assert_int_equal(fx->kick, 30);
    fx->kick = 500;
    fx->t = 60;
    timerq_arm(&fx->q, p->id, TIMER_NEVER); /* disarming kicks too: the minimum changed */
    assert_int_equal(fx->kick, 60);

    p->period = 10;
    timerq_arm(&fx->q, p->id, 100);
    fx->kick = UINT64_MAX;
    run(fx, 100);
    assert_int_equal(fx->nfired, 1);
    assert_int_equal(fx->kick, UINT64_MAX); /* re-armed inside the run: no kick */
    assert_int_equal(timerq_next(&fx->q), 110);
}

/* While the cpu halts, only timers whose event can wake it count. */
static void next_wake(void **state)
{
    struct fixture *fx = *state;
    struct tm *a = add(fx, 0, 'a', 100);
    struct tm *b = add(fx, 1, 'b', 200);
    int silent = timerq_add(&fx->q, fire, NULL, &fx->tm[2]); /* no can_wake: never wakes */
    fx->tm[2] = (struct tm){ .fx = fx, .name = 's', .id = silent };
    timerq_arm(&fx->q, silent, 50);
    assert_int_equal(timerq_next(&fx->q), 50);
    assert_int_equal(timerq_next_wake(&fx->q), TIMER_NEVER);
    b->wakes = true;
    assert_int_equal(timerq_next_wake(&fx->q), 200);
    a->wakes = true;
    assert_int_equal(timerq_next_wake(&fx->q), 100);
    /* A disarmed timer does not count however willing. */
    timerq_arm(&fx->q, a->id, TIMER_NEVER);
    assert_int_equal(timerq_next_wake(&fx->q), 200);
    /* The run fires timers that cannot wake as well. */
    run(fx, 300);
    assert_string_equal(fx->order, "sb");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(several_deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown(rearming, setup, teardown),
        cmocka_unit_test_setup_teardown(equal_deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown(removal, setup, teardown),
        cmocka_unit_test_setup_teardown(bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(kicks, setup, teardown),
        cmocka_unit_test_setup_teardown(next_wake, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
