/* Snapshots of a whole machine: the cpu's state (cpu/state.c), every device's state, the timer
 * deadlines, the console input queue and RAM, taken and put back outside cpu_run.
 *
 * RAM is not copied when a snapshot is taken. Every page is watched instead (PGF_WATCH in
 * cpu.h): before the first store to a page after the snapshot, the page is copied into the
 * newest snapshot. A snapshot therefore costs the pages the guest writes after it, not the size
 * of RAM. Several snapshots of one machine form a chain, oldest to newest:
 *
 *     snapshot t's page p  =  the copy of p in t, else in the first newer snapshot holding one,
 *                             else the machine's RAM now (nobody has written p since t)
 *
 *      s1 [p3]  ->  s2 [p3 p7]  ->  s3 [p1]  ->  RAM
 *      s1's p7 is s2's copy; s1's p1 is s3's; s1's p2 is in RAM
 *
 * Restoring t writes back only the pages some snapshot from t on holds (the pages written since
 * t); before a page is overwritten the newest snapshot gets its current content if it has none,
 * so a restore invalidates no snapshot, older or newer: one can go back and forth. Freeing a
 * snapshot hands its pages to the next older one where that one relies on them.
 *
 * A snapshot may be restored into another machine created with the same RAM size (and the same
 * devices): all of RAM is then written, read through the chain and its owner's RAM. A snapshot
 * belongs to the machine it was taken of: machine_destroy frees those still alive.
 *
 * After a restore the machine runs on exactly as it did from the moment of the snapshot: the
 * same instructions, events, console output and device interrupts at the same counts, given
 * the same console input from then on (the input queue is restored; the client's refill
 * callback is wiring and not part of the state). Sinks, hooks, taps and the console callback
 * stay as they are on the machine restored into.
 */
#ifndef RINGSIDE_SNAPSHOT_H
#define RINGSIDE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct machine;
struct snapshot;

/* Takes a snapshot. NULL when out of memory or when called inside cpu_run (from a sink or a
 * hook: the cpu is between two halves of an instruction there). */
struct snapshot *machine_snapshot(struct machine *m);

/* Puts the machine into the state of snapshot s (taken of m or of another machine with the
 * same RAM size and devices). Returns 0, or -1 changing nothing: inside cpu_run, another RAM
 * size or set of devices, or a snapshot that could not save a page (out of memory). */
int machine_restore(struct machine *m, const struct snapshot *s);

/* Frees s (NULL is fine). The other snapshots of its machine stay valid. */
void snapshot_free(struct snapshot *s);

/* Bytes of RAM pages the snapshot holds (what it has cost so far). */
size_t snapshot_ram_bytes(const struct snapshot *s);

/* Used by machine.c: the cpu's PGF_WATCH callback, and freeing every snapshot of m. */
void snapshot_page_write(void *machine, uint32_t page);
void snapshot_free_all(struct machine *m);

#endif
