/* The console as data: the bytes COM1 sends and receives, without files.
 *
 * Input. A client (the CLI's stdin adapter, input_fd.h; later a recording being replayed)
 * pushes bytes into a bounded queue. While the input is open, a timer in the machine's timer
 * queue paces it: once per character time of COM1's programmed baud rate (10 bits at
 * 115200 / divisor baud) the machine looks, and if COM1's receive FIFO is empty it moves the
 * oldest queued byte there (raising IRQ 4 if the guest enabled it). A guest that does not read
 * leaves the bytes in the queue, and a full queue refuses more (machine_input_push returns
 * false): backpressure instead of loss. When the queue is empty at such a moment the machine
 * asks the client's refill callback for more; it may push bytes, end the input, or do nothing
 * (nothing yet: look again one character time later). Once the input has ended and the queue is
 * empty the timer stops, so a halted guest waiting for more input ends the run. The same bytes
 * pushed in the same way reach the guest at the same instructions.
 *
 *     client --push--> [ queue, MACHINE_INPUT_QUEUE bytes ] --one per character time,
 *                                                            FIFO empty--> COM1 RBR
 *
 * Taps. Any number (up to MACHINE_MAX_TAPS) of observers see every byte COM1 transmits and
 * every byte delivered to its receiver, each with the device time and the instruction count
 * at which it happened (for output: the OUT instruction that sent it, counted before it
 * retires; for input: the boundary at which it arrived). A recorder and a view are taps; the
 * console callback given to machine_create is the primary output and runs first.
 *
 * State, for a snapshot: the queue (buf, head, count) and the open/ended flags, with the
 * pacing timer's deadline in the timer queue. The refill callback and the taps are wiring.
 */
#ifndef RINGSIDE_MACHINE_CONSOLE_H
#define RINGSIDE_MACHINE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;

#define MACHINE_INPUT_QUEUE 256u /* console input bytes waiting for COM1's receiver */
#define MACHINE_MAX_TAPS    4u   /* console observers at once */

/* Asked for input when COM1 could take a byte and the queue is empty (see above). May block:
 * the guest then waits for the client, deterministically. */
typedef void (*machine_input_fn)(void *ctx, struct machine *m);

struct machine_input {
    /* State. */
    uint8_t buf[MACHINE_INPUT_QUEUE];
    uint16_t head, count;     /* buf[head] is the oldest of count queued bytes */
    bool open;                /* the pacing timer runs */
    bool ended;               /* no bytes will follow those queued */
    /* Wiring. */
    machine_input_fn refill;  /* NULL: only machine_input_push supplies bytes */
    void *refill_ctx;
    int timer;                /* the pacing timer in machine.timers */
};

/* One console byte as a tap sees it. */
struct console_byte {
    uint64_t time;            /* device time (cpu_time) */
    uint64_t icount;          /* retired instructions */
    uint8_t byte;
    bool input;               /* delivered to COM1's receiver (false: transmitted by COM1) */
};

typedef void (*console_tap_fn)(void *ctx, const struct console_byte *b);

struct console_tap {
    console_tap_fn fn;        /* NULL: a free slot */
    void *ctx;
};

/* Opens the console input: the machine starts pacing it at the next instruction boundary and
 * asks refill (may be NULL) for bytes whenever the queue is empty. Bytes already queued stay;
 * an earlier end of input is forgotten. */
void machine_input_open(struct machine *m, machine_input_fn refill, void *ctx);
/* Queues a byte. Returns false if the queue is full (the byte is not taken). */
bool machine_input_push(struct machine *m, uint8_t byte);
/* No more bytes will be pushed: the input closes once the queue is empty. */
void machine_input_end(struct machine *m);
/* Bytes waiting in the queue. */
size_t machine_input_queued(const struct machine *m);

/* Adds a tap. Returns 0, or -1 if MACHINE_MAX_TAPS are there already. */
int machine_add_tap(struct machine *m, console_tap_fn fn, void *ctx);
/* Removes the tap added with fn and ctx. Returns 0, or -1 if there is none. */
int machine_remove_tap(struct machine *m, console_tap_fn fn, void *ctx);

/* For machine.c: registers the pacing timer and takes COM1's output. Returns 0, or -1 if the
 * timer queue is full. */
int machine_console_init(struct machine *m);

#endif
