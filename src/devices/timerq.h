/* The timer queue: every future device event, as a deadline on the device clock.
 *
 * A device with something to do at a future time (the PIT's next IRQ 0 edge, the pace of console
 * input; later the local APIC timer, the HPET comparators) registers a timer once and keeps its
 * deadline up to date with timerq_arm. The machine gives the cpu the earliest deadline as its
 * next event; when device time reaches it the machine calls timerq_run, which fires each due
 * timer, earliest deadline first and timers with equal deadlines in slot order (the order of
 * timerq_add, a new timer taking the lowest free slot), so the order is always the same.
 * A timer is disarmed just before it fires; its callback arms it again if it has a next event.
 *
 *     deadline (device time) --->
 *     PIT      ........................X.......................X.....
 *     input    ..........X..........X..........X......
 *                        ^ timerq_next: the cpu's next_event
 *
 * A deadline set outside timerq_run (a guest reprogramming the PIT from an OUT instruction)
 * makes the machine look again at the next instruction boundary: the queue writes the current
 * device time into *kick (the cpu's next_event), and the machine then runs whatever is due and
 * takes the new minimum. Inside timerq_run the machine takes the minimum afterwards anyway.
 *
 * Halts: a halted cpu can only be woken by an event that raises an interrupt it will take. Each
 * timer says, through its can_wake callback, whether its event could do that now (the PIT: is
 * IRQ 0 unmasked; console input: would a received byte interrupt); timerq_next_wake is the
 * earliest deadline among those, so a halt that no timer can end stops the run instead of
 * spinning through time.
 *
 * State and wiring: each timer's deadline is state (a snapshot keeps it); the callbacks, their
 * contexts, the clock and the kick pointer are wiring.
 */
#ifndef RINGSIDE_TIMERQ_H
#define RINGSIDE_TIMERQ_H

#include <stdbool.h>
#include <stdint.h>

struct devclock;

#define TIMERQ_MAX  8          /* timers one queue holds */
#define TIMER_NEVER UINT64_MAX /* the deadline of a disarmed timer */

/* The timer's deadline has come: now is the device time (>= the deadline). */
typedef void (*timer_fire_fn)(void *ctx, uint64_t now);
/* Could the timer's event end a halt now (raise an interrupt the cpu would take)? */
typedef bool (*timer_wake_fn)(void *ctx);

struct timer {
    uint64_t deadline;       /* state: device time it fires at, TIMER_NEVER when disarmed */
    timer_fire_fn fire;      /* NULL: the slot is free */
    timer_wake_fn can_wake;  /* NULL: its event never ends a halt */
    void *ctx;
};

struct timerq {
    struct timer t[TIMERQ_MAX];
    struct devclock *clock;  /* the time a kick writes */
    uint64_t *kick;          /* the machine's next event (NULL: nobody to tell) */
    bool running;            /* inside timerq_run: no kicks */
};

void timerq_init(struct timerq *q, struct devclock *clock, uint64_t *kick);

/* Registers a disarmed timer. Returns its id (>= 0), or -1 if the queue is full. */
int timerq_add(struct timerq *q, timer_fire_fn fire, timer_wake_fn can_wake, void *ctx);
/* Unregisters timer id; its slot may be reused by a later timerq_add. */
void timerq_remove(struct timerq *q, int id);

/* Sets timer id's deadline (TIMER_NEVER disarms it); outside timerq_run also kicks. */
void timerq_arm(struct timerq *q, int id, uint64_t deadline);
uint64_t timerq_deadline(const struct timerq *q, int id);

/* The earliest deadline (TIMER_NEVER: none), and the earliest of timers that can wake a
 * halted cpu. */
uint64_t timerq_next(const struct timerq *q);
uint64_t timerq_next_wake(const struct timerq *q);

/* Fires every timer whose deadline is at or before now (see above). A callback that arms its
 * timer at or before now again is fired again in the same run. */
void timerq_run(struct timerq *q, uint64_t now);

#endif
