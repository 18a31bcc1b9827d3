/* System control port A (0x92, "fast A20 and init"): bit 1 enables the A20 gate, bit 0 is a
 * fast reset. Ringside has no A20 wrap-around (address line 20 is always on, as after any
 * BIOS), so bit 1 reads as written and changes nothing. Writing bit 0 as 1 pulses the cpu's
 * INIT, as QEMU does on every such write (`reset`: the machine stops with a report, since
 * INIT would restart the cpu in real mode); bit 0 reads 0. Reset value 0x02 (A20 on).
 *
 * State: `s` (a snapshot copies it); reset and its context are wiring.
 */
#ifndef RINGSIDE_PORT92_H
#define RINGSIDE_PORT92_H

#include <stdint.h>

struct bus;

#define PORT92 0x92u

struct port92_state {
    uint8_t value;
};

struct port92 {
    struct port92_state s;
    void (*reset)(void *ctx); /* the cpu's INIT */
    void *reset_ctx;
};

void port92_init(struct port92 *p);
int port92_attach(struct port92 *p, struct bus *b);

#endif
