/* The timer queue (see timerq.h). A machine has a handful of timers, so the queue is a small
 * array searched linearly; it is consulted at device events, never per instruction. */
#include "devices/timerq.h"

#include <stddef.h>
#include <string.h>

#include "devices/devclock.h"

void timerq_init(struct timerq *q, struct devclock *clock, uint64_t *kick)
{
    memset(q, 0, sizeof *q);
    for (unsigned k = 0; k < TIMERQ_MAX; k++)
        q->t[k].deadline = TIMER_NEVER;
    q->clock = clock;
    q->kick = kick;
}

int timerq_add(struct timerq *q, timer_fire_fn fire, timer_wake_fn can_wake, void *ctx)
{
    if (!fire)
        return -1;
    for (unsigned k = 0; k < TIMERQ_MAX; k++) {
        if (!q->t[k].fire) {
            q->t[k] = (struct timer){ TIMER_NEVER, fire, can_wake, ctx };
            return (int)k;
        }
    }
    return -1;
}

static bool valid(const struct timerq *q, int id)
{
    return id >= 0 && id < (int)TIMERQ_MAX && q->t[id].fire;
}

void timerq_remove(struct timerq *q, int id)
{
    if (valid(q, id))
        q->t[id] = (struct timer){ .deadline = TIMER_NEVER };
}

void timerq_arm(struct timerq *q, int id, uint64_t deadline)
{
    if (!valid(q, id))
        return;
    q->t[id].deadline = deadline;
    if (!q->running && q->kick) {
        uint64_t now = devclock_now(q->clock);
        if (*q->kick > now)
            *q->kick = now;
    }
}

uint64_t timerq_deadline(const struct timerq *q, int id)
{
    return valid(q, id) ? q->t[id].deadline : TIMER_NEVER;
}

/* The armed timer with the earliest deadline (the first added among equals), or -1. With
 * waking, only timers whose event could end a halt count. */
static int earliest(const struct timerq *q, bool waking)
{
    int best = -1;
    for (unsigned k = 0; k < TIMERQ_MAX; k++) {
        const struct timer *t = &q->t[k];
        if (!t->fire || t->deadline == TIMER_NEVER)
            continue;
        if (best >= 0 && t->deadline >= q->t[best].deadline)
            continue;
        if (waking && !(t->can_wake && t->can_wake(t->ctx)))
            continue;
        best = (int)k;
    }
    return best;
}

uint64_t timerq_next(const struct timerq *q)
{
    int k = earliest(q, false);
    return k < 0 ? TIMER_NEVER : q->t[k].deadline;
}

uint64_t timerq_next_wake(const struct timerq *q)
{
    int k = earliest(q, true);
    return k < 0 ? TIMER_NEVER : q->t[k].deadline;
}

void timerq_run(struct timerq *q, uint64_t now)
{
    bool outer = q->running;
    q->running = true;
    for (int k; (k = earliest(q, false)) >= 0 && q->t[k].deadline <= now;) {
        struct timer *t = &q->t[k];
        t->deadline = TIMER_NEVER;
        t->fire(t->ctx, now);
    }
    q->running = outer;
}
