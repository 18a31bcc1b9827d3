/* The local APIC of the one cpu (xAPIC, Intel SDM vol. 3 chapter 10), memory-mapped at
 * 0xFEE00000 with IA32_APIC_BASE (MSR 0x1B).
 *
 * Registers (offset from the base; 32-bit, 16-byte aligned; reset values as the SDM gives them):
 *
 *   0x020 ID            bits 31..24 the APIC ID (0)           0x030 version  0x00050014 (RO)
 *   0x080 TPR           task priority, bits 7..0 (0)          0x0A0 PPR      processor priority (RO)
 *   0x0B0 EOI           write: ends the highest in service    0x0D0 LDR      bits 31..24 (0)
 *   0x0E0 DFR           bits 31..28, the rest ones (all ones) 0x0F0 SVR      0x000000FF
 *   0x100..0x170 ISR    0x180..0x1F0 TMR    0x200..0x270 IRR   (RO, 256 bits each)
 *   0x280 ESR           write latches the errors seen since, read gives them
 *   0x300 ICR low       vector, delivery mode, shorthand; bit 12 delivery status: always idle
 *   0x310 ICR high      bits 31..24 the destination
 *   0x320 LVT timer     0x330 thermal   0x340 perf   0x350 LINT0   0x360 LINT1   0x370 error
 *                       (each 0x00010000 at reset: masked)
 *   0x380 initial count 0x390 current count (RO)   0x3E0 divide configuration (bits 3, 1, 0)
 *
 * Priority (SDM 10.8.3): PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV & 0xF0, where ISRV is
 * the highest vector in service. A requested vector is delivered when its class (bits 7..4) is
 * above PPR's; the acknowledge moves it from IRR to ISR, EOI clears the highest ISR bit and, for
 * a level-triggered vector (TMR), tells the I/O APIC (eoi_broadcast). A vector below 16 is
 * never accepted: ESR bit 6 (received illegal vector), or bit 5 when sending one by the ICR.
 * Software-disabled (SVR bit 8 clear) every LVT entry is masked and stays masked.
 *
 * The timer counts down the initial count at the device clock's rate divided by the divide
 * configuration (1..128): one-shot (LVT timer mode, bits 18..17, 00; the reserved 11 too), or
 * periodic (01), raising the LVT timer's vector at zero. Its deadline lives in the timer queue.
 * TSC-deadline mode (10; SDM 10.5.4.1), when the cpu's TSC is wired (`tsc`; CPUID.1:ECX bit
 * 24 then says so): IA32_TSC_DEADLINE (MSR 0x6E0) arms the timer for the moment the TSC
 * reaches the value written (at once if it has), 0 disarms it, and it reads 0 again once the
 * timer fired; in the other modes the MSR reads 0 and ignores writes. In TSC-deadline mode
 * the initial count ignores writes and the current count reads 0; a change into or out of the
 * mode disarms the timer. (A WRMSR to the TSC after arming moves the deadline later, never
 * earlier: the timer checks the TSC when it fires and re-arms.)
 *
 * The 8259A pair's INTR reaches the cpu through LINT0 as on a PC: when LINT0 is an unmasked
 * ExtINT entry (or the APIC is disabled in IA32_APIC_BASE, bit 11), its level is passed on and
 * the acknowledge is the pair's (extint). The firmware hand-over state (lapic_firmware: SVR
 * enabled, LINT0 ExtINT, LINT1 NMI) is what SeaBIOS leaves for a Multiboot kernel.
 *
 * NMI (delivery mode 4; SDM 10.5.1, 10.6.1) goes to the cpu's NMI input, vector ignored: from
 * the ICR to this cpu (self, all including self, or a matching destination), and from LINT0 or
 * LINT1 on a rising edge when the entry is unmasked (always edge-triggered). INIT (mode 5, but
 * the level de-assert: level 0 with trigger level) to this cpu raises the cpu's INIT signal,
 * which stops the machine with a report (a reset to real mode). Start-up (mode 6) is ignored:
 * the one cpu is never waiting for a SIPI (SDM 8.4.4). SMI (mode 2) is not modelled (ignored).
 *
 * Not modelled: SMI, the thermal and performance-counter sources, lowest-priority arbitration
 * beyond "this cpu", x2APIC, relocating the base (the MSR holds it; the registers stay at
 * 0xFEE00000).
 *
 * State and wiring: `s` is the state (a snapshot copies it); the rest is wiring.
 */
#ifndef RINGSIDE_LAPIC_H
#define RINGSIDE_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devclock.h"
#include "devices/irq.h"

struct bus;
struct timerq;

#define LAPIC_BASE        0xFEE00000u
#define LAPIC_SIZE        0x1000u
#define LAPIC_VERSION     0x00050014u /* version 0x14, six LVT entries (max index 5) */
#define APIC_BASE_BSP     0x100u      /* IA32_APIC_BASE bit 8: the bootstrap processor */
#define APIC_BASE_ENABLE  0x800u      /* bit 11: the APIC is enabled */

/* Register offsets. */
enum {
    LAPIC_ID = 0x20, LAPIC_VER = 0x30, LAPIC_TPR = 0x80, LAPIC_APR = 0x90, LAPIC_PPR = 0xA0,
    LAPIC_EOI = 0xB0, LAPIC_RRD = 0xC0, LAPIC_LDR = 0xD0, LAPIC_DFR = 0xE0, LAPIC_SVR = 0xF0,
    LAPIC_ISR = 0x100, LAPIC_TMR = 0x180, LAPIC_IRR = 0x200, LAPIC_ESR = 0x280,
    LAPIC_ICR_LO = 0x300, LAPIC_ICR_HI = 0x310, LAPIC_LVT_TIMER = 0x320, LAPIC_LVT_THERMAL = 0x330,
    LAPIC_LVT_PERF = 0x340, LAPIC_LVT_LINT0 = 0x350, LAPIC_LVT_LINT1 = 0x360,
    LAPIC_LVT_ERROR = 0x370, LAPIC_TIMER_INIT = 0x380, LAPIC_TIMER_CUR = 0x390,
    LAPIC_TIMER_DIV = 0x3E0,
};

#define LAPIC_LVT_N       6         /* timer, thermal, perf, LINT0, LINT1, error */
#define LVT_MASKED        0x10000u  /* bit 16 */
#define LVT_PERIODIC      0x20000u  /* timer bit 17 */
#define LVT_TSC_DEADLINE  0x40000u  /* timer bit 18 (mode 10: TSC-deadline) */
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3u) /* 0 one-shot, 1 periodic, 2 TSC-deadline */
#define LVT_LEVEL         0x8000u   /* LINT bit 15: level-triggered */
#define LVT_MODE(v)       (((v) >> 8) & 7u) /* delivery mode: 0 fixed, 2 SMI, 4 NMI, 7 ExtINT */
#define DM_FIXED          0u        /* delivery modes (LVT and ICR bits 10..8) */
#define DM_LOWEST         1u
#define DM_SMI            2u
#define DM_NMI            4u
#define DM_INIT           5u
#define DM_STARTUP        6u
#define DM_EXTINT         7u
#define ICR_LEVEL_ASSERT  0x4000u   /* ICR bit 14: level (0 with trigger level: INIT de-assert) */
#define ICR_TRIGGER_LEVEL 0x8000u   /* ICR bit 15 */
#define SVR_ENABLE        0x100u    /* SVR bit 8: software enable */
#define ICR_PENDING       0x1000u   /* ICR bit 12: delivery status (always 0 here: idle) */
#define ESR_SEND_ILLEGAL  0x20u     /* ESR bit 5: sent an illegal vector */
#define ESR_RECV_ILLEGAL  0x40u     /* ESR bit 6: received an illegal vector */
#define ESR_ILLEGAL_REG   0x80u     /* ESR bit 7: illegal register address */

struct lapic_state {
    uint64_t apic_base;          /* IA32_APIC_BASE */
    uint32_t id, tpr, ldr, dfr, svr, esr, esr_pending, icr_lo, icr_hi;
    uint32_t lvt[LAPIC_LVT_N];
    uint32_t irr[8], isr[8], tmr[8];
    uint8_t src_kind[256], src_num[256]; /* where each requested vector came from */
    uint32_t timer_init, timer_div;
    uint64_t timer_start;        /* device time the count was (re)loaded */
    uint64_t tsc_deadline;       /* IA32_TSC_DEADLINE: TSC value to fire at, 0 disarmed */
    bool timer_running;          /* counting (a one-shot that reached zero stops) */
    bool lint[2];                /* LINT0/LINT1 input levels */
};

/* Tells the I/O APIC that a level-triggered vector ended (EOI). */
typedef void (*lapic_eoi_fn)(void *ctx, uint8_t vector);

struct lapic {
    struct lapic_state s;
    /* Wiring. */
    struct devclock *clock;
    struct timerq *timers;
    int timer;
    struct irq_line intr;         /* to the cpu's INTR input */
    int (*extint_ack)(void *ctx); /* the 8259A pair's acknowledge, for ExtINT */
    void *extint_ctx;
    lapic_eoi_fn eoi_broadcast;
    void *eoi_ctx;
    /* The cpu's NMI input (an edge; `from`: enum nmi_from in cpu/event.h) and INIT signal. */
    void (*nmi)(void *ctx, unsigned from);
    void (*init)(void *ctx);
    uint64_t (*tsc)(void *ctx);    /* the cpu's TSC now; NULL: no TSC-deadline mode */
    void *cpu_ctx;
};

/* Power-on state (SDM 10.4.7.1: every LVT entry masked, ID 0, enabled in IA32_APIC_BASE) and
 * wiring. Returns 0, or -1 when the timer queue is full. */
int lapic_init(struct lapic *a, struct devclock *clock, struct timerq *timers,
               struct irq_line intr);
int lapic_attach(struct lapic *a, struct bus *b);
/* The register values SeaBIOS leaves: SVR 0x1FF, LINT0 ExtINT, LINT1 NMI. */
void lapic_firmware(struct lapic *a);

/* LINT0/LINT1 as input lines (the 8259A pair's INTR drives LINT0). */
struct irq_line lapic_lint(struct lapic *a, unsigned pin);
/* A fixed interrupt arriving from the APIC bus (the I/O APIC): vector, trigger, source. */
void lapic_accept(struct lapic *a, uint8_t vector, bool level, uint8_t kind, uint8_t num);
/* Does an interrupt message for this destination (physical ID or logical, 0xFF broadcast)
 * reach this APIC? */
bool lapic_match(const struct lapic *a, uint8_t dest, bool logical);

/* The cpu's interrupt acknowledge (struct intc): INTC_SOURCE(vector, kind, num). */
int lapic_ack(void *lapic);
/* IA32_APIC_BASE and IA32_TSC_DEADLINE for the cpu (struct msr_dev). */
int lapic_msr_read(void *lapic, uint32_t msr, uint64_t *value);
int lapic_msr_write(void *lapic, uint32_t msr, uint64_t value);

/* Register access (also what the MMIO range does). */
uint32_t lapic_read(struct lapic *a, uint32_t offset);
void lapic_write(struct lapic *a, uint32_t offset, uint32_t value);

/* Would an edge on LINT0/LINT1 send an NMI (enabled, unmasked, NMI mode)? */
bool lapic_lint_nmi(const struct lapic *a, unsigned pin);
/* Could the timer's next expiry interrupt the cpu (for halts)? */
bool lapic_timer_can_wake(const struct lapic *a);

#endif
