/* The PC's CMOS RAM and real-time clock (Motorola MC146818A, as in every PC since the AT):
 * an index port and a data port, 128 bytes behind them.
 *
 *   port 0x70 (write)  index: bits 6..0 select the byte, bit 7 = 1 disables NMI (recorded only:
 *                      the machine has no NMI source). Reads of 0x70 give 0xFF, as in QEMU.
 *   port 0x71          the selected byte
 *
 *   0x00 seconds   0x01 alarm seconds   0x02 minutes   0x03 alarm minutes   0x04 hours
 *   0x05 alarm hours   0x06 day of week (1 = Sunday)   0x07 day of month   0x08 month
 *   0x09 year (00..99)   0x32 century (IBM's byte; 20 for 2000..2099)
 *   0x0A register A: bit 7 UIP (update in progress), bits 6..4 divider (010 = 32.768 kHz,
 *        running), bits 3..0 periodic-interrupt rate. Default 0x26.
 *   0x0B register B: bit 7 SET (updates stopped, time may be written), 6 PIE, 5 AIE, 4 UIE,
 *        3 SQWE, 2 DM (1 = binary, 0 = BCD), 1 24/12 (1 = 24-hour), 0 DSE. Default 0x02.
 *   0x0C register C (read-only, cleared by reading): 7 IRQF, 6 PF, 5 AF, 4 UF
 *   0x0D register D (read-only): bit 7 VRT (valid RAM and time), always 1
 *   0x15/0x16 base memory in KiB (640)           \
 *   0x17/0x18 extended memory above 1 MiB in KiB  } as a BIOS fills them from the RAM size
 *   0x30/0x31 the same as 0x17/0x18 (max 65535)    } (the values QEMU's PC board writes)
 *   0x34/0x35 memory above 16 MiB in 64 KiB units /
 *   everything else: plain battery-backed RAM, zero at power-on.
 *
 * The clock is deterministic: it starts at CMOS_EPOCH_* (2000-01-01 00:00:00, a Saturday) at
 * device time 0 and advances one second per units_per_sec of the machine's device clock
 * (seconds = device time / ips), so the same guest reads the same times. A guest may set it
 * (SET = 1, write the fields, SET = 0; or write a field directly). The time registers follow
 * register B's DM and 24/12 bits on every read and write. UIP is 1 during the last 244 us of
 * every second (the update cycle of the data sheet), so a guest that waits for it to rise or
 * fall sees it within one second of guest time and never waits forever. The flags of register
 * C (UF, PF and AF) are computed from the time elapsed since it was last read; the chip's
 * IRQ 8 is not raised, so the device drives no interrupt line and has no timer.
 */
#ifndef RINGSIDE_CMOS_H
#define RINGSIDE_CMOS_H

#include <stdbool.h>
#include <stdint.h>

struct bus;
struct devclock;

#define CMOS_INDEX_PORT 0x70u /* write: index | NMI-disable bit */
#define CMOS_DATA_PORT  0x71u /* the selected byte */
#define CMOS_SIZE 128u        /* bytes of CMOS RAM (index bits 6..0) */

/* Register numbers. */
#define CMOS_SECONDS   0x00
#define CMOS_ALARM_SEC 0x01
#define CMOS_MINUTES   0x02
#define CMOS_ALARM_MIN 0x03
#define CMOS_HOURS     0x04
#define CMOS_ALARM_HR  0x05
#define CMOS_WEEKDAY   0x06 /* 1 = Sunday .. 7 = Saturday */
#define CMOS_DAY       0x07
#define CMOS_MONTH     0x08
#define CMOS_YEAR      0x09
#define CMOS_REG_A     0x0A
#define CMOS_REG_B     0x0B
#define CMOS_REG_C     0x0C
#define CMOS_REG_D     0x0D
#define CMOS_BASEMEM_LO 0x15 /* base memory, KiB */
#define CMOS_BASEMEM_HI 0x16
#define CMOS_EXTMEM_LO  0x17 /* memory above 1 MiB, KiB, at most 65535 */
#define CMOS_EXTMEM_HI  0x18
#define CMOS_EXTMEM2_LO 0x30 /* the same again (POST's copy) */
#define CMOS_EXTMEM2_HI 0x31
#define CMOS_CENTURY    0x32
#define CMOS_HIGHMEM_LO 0x34 /* memory above 16 MiB, 64 KiB units, at most 65535 */
#define CMOS_HIGHMEM_HI 0x35

/* Register A bits. */
#define CMOS_A_UIP  0x80 /* update in progress */
#define CMOS_A_DV   0x70 /* divider select; 010 = 32.768 kHz time base, running */
#define CMOS_A_RS   0x0F /* periodic rate: 0 off, 1 = 256 Hz, 2 = 128 Hz, 3..15 = 32768 >> (RS - 1)
                            Hz (6 = 1024 Hz) */
#define CMOS_A_DEFAULT 0x26 /* 32.768 kHz, 1024 Hz periodic rate (what a BIOS leaves) */

/* Register B bits. */
#define CMOS_B_SET  0x80 /* updates stopped: the time may be written */
#define CMOS_B_PIE  0x40 /* periodic interrupt enable */
#define CMOS_B_AIE  0x20 /* alarm interrupt enable */
#define CMOS_B_UIE  0x10 /* update-ended interrupt enable */
#define CMOS_B_SQWE 0x08 /* square-wave output */
#define CMOS_B_DM   0x04 /* data mode: 1 binary, 0 BCD */
#define CMOS_B_24H  0x02 /* 1 = 24-hour, 0 = 12-hour (hours bit 7 = PM) */
#define CMOS_B_DSE  0x01 /* daylight saving (not applied) */
#define CMOS_B_DEFAULT CMOS_B_24H

/* Register C bits. */
#define CMOS_C_IRQF 0x80 /* an enabled flag below is set */
#define CMOS_C_PF   0x40 /* periodic */
#define CMOS_C_AF   0x20 /* alarm */
#define CMOS_C_UF   0x10 /* update ended */

#define CMOS_D_VRT 0x80 /* valid RAM and time */

/* The time at device time 0. */
#define CMOS_EPOCH_YEAR 2000
#define CMOS_UIP_US 244u /* length of the update cycle, microseconds */

struct cmos {
    /* State (what a snapshot saves): every field but clock. */
    uint8_t ram[CMOS_SIZE];   /* the bytes; time fields are kept here only while SET = 1 */
    uint8_t index;            /* selected byte (bits 6..0) */
    bool nmi_disabled;        /* index bit 7 as last written */
    struct devclock *clock;   /* wiring: device time */
    /* The running clock: at device time base_time it was base_secs seconds after
     * 2000-01-01 00:00:00 (negative: before it). While it is stopped (SET = 1, or the divider
     * not at 010) the time fields are plain bytes of ram[]. */
    bool stopped;
    int64_t base_secs;
    uint64_t base_time;
    uint64_t c_read_time;     /* device time of the last register C read (for UF, PF, AF) */
};

/* Power-on state with the memory-size bytes for ram_bytes of RAM (below 4 GiB). */
void cmos_init(struct cmos *c, struct devclock *clock, uint32_t ram_bytes);
/* Claims ports 0x70..0x71. Returns 0, or -1 if they are taken. */
int cmos_attach(struct cmos *c, struct bus *b);

/* Register access by index (what the port handlers call), for tests and a debugger. */
uint8_t cmos_read(struct cmos *c, uint8_t index);
void cmos_write(struct cmos *c, uint8_t index, uint8_t value);

/* Seconds since 2000-01-01 00:00:00 that the clock shows now. */
int64_t cmos_seconds(const struct cmos *c);

#endif
