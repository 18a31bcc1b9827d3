/* The CGA/VGA CRT controller's index and data ports (0x3D4, 0x3D5): 25 registers, of which a
 * text-mode kernel uses the cursor location (0x0E high byte, 0x0F low byte) and the cursor
 * shape (0x0A, 0x0B). Writes are kept and read back; nothing is displayed (the text buffer at
 * 0xB8000 is plain RAM here). Index bits 7..5 are ignored; registers 0x19..0x1F read 0.
 *
 * State: `s` (a snapshot copies it).
 */
#ifndef RINGSIDE_CRTC_H
#define RINGSIDE_CRTC_H

#include <stdint.h>

struct bus;

#define CRTC_INDEX 0x3D4u
#define CRTC_DATA  0x3D5u
#define CRTC_REGS  25u

struct crtc_state {
    uint8_t index;
    uint8_t reg[32];
};

struct crtc {
    struct crtc_state s;
};

void crtc_init(struct crtc *c);
int crtc_attach(struct crtc *c, struct bus *b);

#endif
