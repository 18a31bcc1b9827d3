/* QEMU's isa-debug-exit device: a guest writes a value to its port and the machine exits with
 * status (value << 1) | 1, so a test guest can report pass/fail through the emulator's exit
 * status (`-device isa-debug-exit,iobase=0xf4,iosize=0x04` gives the same under QEMU).
 *
 * Any write to any port of the range, of any size, requests the exit with the value written (of
 * the access size). Reads are unclaimed (all ones). The device sets bus->exit_requested and
 * bus->exit_status; the cpu stops after the OUT instruction retires (RUN_EXIT).
 */
#ifndef RINGSIDE_DEBUGEXIT_H
#define RINGSIDE_DEBUGEXIT_H

#include <stdint.h>

struct bus;

#define DEBUGEXIT_IOBASE 0xF4u /* as in QEMU: -device isa-debug-exit,iobase=0xf4 */
#define DEBUGEXIT_IOSIZE 4u    /* ports 0xF4..0xF7 */

struct debugexit {
    struct bus *bus; /* wiring: where the exit request goes (the device has no state) */
};

/* Claims iosize ports from iobase. Returns 0, or -1 if they are taken or the range is empty. */
int debugexit_attach(struct debugexit *d, struct bus *b, uint16_t iobase, uint16_t iosize);

#endif
