/* Linear and physical memory access: the TLB fast path and its slow path.
 *
 * Explicit reads and writes at the current privilege (lin_read, lin_write, ops.h fast_host)
 * look first at the fast TLB (cpu.h struct tlb_fast, tlb_fast_host): per slot and mode, a tag
 * that folds page, permission and the page-crossing test into one compare, and a host addend.
 * It is derived from the entries below (mem.c keeps it so); everything else uses tlb_hit.
 *
 * Every guest memory access goes through a linear address. The TLB (struct tlb_entry in cpu.h)
 * caches, per linear page, the host pointer and one permission bit per access kind and privilege:
 *
 *     bit  0 R_S   1 W_S   2 X_S      supervisor read / write / fetch
 *     bit  3 R_U   4 W_U   5 X_U      user read / write / fetch
 *     bit  6 R_SA  7 W_SA  8 X_SA     supervisor, with CR4.SMAP and EFLAGS.AC = 1
 *     bit  9 R_I  10 W_I              implicit supervisor access (GDT, LDT, IDT, TSS) at any
 *                                     CPL: SMAP applies whatever AC is (SDM vol. 3 4.6.1)
 *
 * so the hot path is a tag compare and a bit test: an explicit access tests the bit shifted by
 * c->acc_shift (0 supervisor, 3 user, 6 supervisor with SMAP and AC set, ACC_SHIFT_AC user with
 * alignment checking). A write bit is
 * withheld while the physical page holds decoded code, so that the slow path can invalidate it
 * first, and while the dirty bit is clear, so that a write walks again to set it. The slow path
 * walks the page tables (when paging is on), raises #PF, handles page-crossing accesses and
 * reaches MMIO through the bus.
 */
#ifndef RINGSIDE_MEM_H
#define RINGSIDE_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cpu/cpu.h"

#define TLB_R_S 0x01u
#define TLB_W_S 0x02u
#define TLB_X_S 0x04u
#define TLB_R_U 0x08u
#define TLB_W_U 0x10u
#define TLB_X_U 0x20u
#define TLB_R_SA 0x40u
#define TLB_W_SA 0x80u
#define TLB_X_SA 0x100u
#define TLB_R_I 0x200u
#define TLB_W_I 0x400u
#define TLB_ANY_W (TLB_W_S | TLB_W_U | TLB_W_SA | TLB_W_I)
#define TLB_ANY_U (TLB_R_U | TLB_W_U | TLB_X_U)
#define TLB_ANY_X (TLB_X_S | TLB_X_U | TLB_X_SA)
#define TLB_ALL 0x7FFu
/* An MMIO page's entry holds its perm bits shifted by this: no fast path (tlb_hit) ever grants
 * an access there, but mem_translate finds the translation without walking again. */
#define TLB_MMIO_SHIFT 16
/* c->acc_shift at CPL 3 with CR0.AM and EFLAGS.AC: the R_U/W_U/X_U bits shifted left by 8,
 * which no TLB entry holds, so every access takes the slow path and its alignment check. */
#define ACC_SHIFT_AC 11

enum acc { ACC_R = 0, ACC_W = 1, ACC_X = 2 };

#define PAGE_SIZE 4096u
#define PAGE_MASK 0xFFFu

/* Slow paths (mem.c). need = the TLB perm bit the access requires. */
uint32_t mem_read_slow(struct cpu *c, uint32_t lin, unsigned size, uint32_t need);
void mem_write_slow(struct cpu *c, uint32_t lin, unsigned size, uint32_t val, uint32_t need);
/* Makes sure a write of size bytes at lin would succeed (faults now if not). */
void mem_probe_write(struct cpu *c, uint32_t lin, unsigned size, uint32_t need);
/* Translates lin for an access (raising #PF as needed); returns the physical address and, if the
 * page is RAM, its host pointer in *host (else NULL). */
uint32_t mem_translate(struct cpu *c, uint32_t lin, uint32_t need, uint8_t **host);

void tlb_flush_all(struct cpu *c);
/* A CR3 load: drops every translation but those of global pages (CR4.PGE). */
void tlb_flush_nonglobal(struct cpu *c);
void tlb_flush_page(struct cpu *c, uint32_t lin);
/* Recomputes c->acc_shift from CPL, CR4.SMAP and EFLAGS.AC; call after any of them changes. */
void cpu_update_acc(struct cpu *c);
/* Withdraws write permission from every TLB entry that maps physical page ppn_base. */
void tlb_protect_code_page(struct cpu *c, uint32_t ppn_base);
/* Withdraws write permission from every TLB entry (pages just marked PGF_WATCH). */
void tlb_protect_all(struct cpu *c);
/* A store is about to reach RAM at physical pa: a watcher of the page (PGF_WATCH) sees it
 * first, then decoded code in that page dies (its generation moves on, and the running block
 * stops). */
void mem_code_written(struct cpu *c, uint32_t pa);

/* Physical access (RAM or MMIO), used by page walks and the loader. */
uint32_t phys_read(struct cpu *c, uint32_t pa, unsigned size);
void phys_write(struct cpu *c, uint32_t pa, unsigned size, uint32_t val);

static inline uint32_t host_load(const uint8_t *p, unsigned size)
{
    if (size == 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    if (size == 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    return *p;
}

static inline void host_store(uint8_t *p, unsigned size, uint32_t v)
{
    if (size == 4) {
        memcpy(p, &v, 4);
    } else if (size == 2) {
        uint16_t w = (uint16_t)v;
        memcpy(p, &w, 2);
    } else {
        *p = (uint8_t)v;
    }
}

static inline struct tlb_entry *tlb_hit(struct cpu *c, uint32_t lin, unsigned size, uint32_t need)
{
    /* The page of the access's last byte (size <= PAGE_SIZE): lin's page exactly when the
     * access does not cross into the next, whose slot is another, so that no entry here can
     * name it (at 4 GiB it wraps to page 0, slot 0, not lin's slot 1023 either). */
    struct tlb_entry *e = &c->tlb[(lin >> 12) & (TLB_ENTRIES - 1)];
    if (__builtin_expect(e->vpn == (lin + size - 1) >> 12 && (e->perm & need), 1)) {
        if (!e->host) /* never: an entry that grants anything is RAM (TLB_MMIO_SHIFT) */
            __builtin_unreachable();
        return e;
    }
    return NULL;
}

/* The host address of an explicit read (write false) or write of size bytes at lin, at the
 * current privilege, when the TLB grants it within one page (exactly when tlb_hit with
 * acc_need(c, TLB_R_S or TLB_W_S) would): one compare of the page of the access's last byte
 * with the mode's tag (struct tlb_fast, cpu.h). The slot is lin's, so a page-crossing access
 * (whose last byte's page has another slot) never matches. NULL otherwise. */
static inline uint8_t *tlb_fast_host(const struct cpu *c, uint32_t lin, unsigned size, bool write)
{
    const struct tlb_fast *f =
        (const struct tlb_fast *)((const char *)c->tlbf_cur +
                                  ((lin >> (12 - TLB_FAST_ROW_SHIFT)) &
                                   ((TLB_ENTRIES - 1) << TLB_FAST_ROW_SHIFT)));
    uint32_t tag = write ? f->wtag : f->rtag;
    if (__builtin_expect(((lin + size - 1) & ~PAGE_MASK) == tag, 1)) {
        uint8_t *p = (uint8_t *)(uintptr_t)(f->addend + lin);
        if (!p) /* never: the addend of a granted tag is a RAM page's host address - page */
            __builtin_unreachable();
        return p;
    }
    return NULL;
}

/* The perm bit an explicit access of `kind` (TLB_R_S, TLB_W_S or TLB_X_S) needs at the current
 * privilege: kind << c->acc_shift, kept in c->acc_need (TLB_R_S >> 1 = ACC_R, TLB_W_S >> 1 =
 * ACC_W, TLB_X_S >> 1 = ACC_X). */
_Static_assert((TLB_R_S >> 1) == ACC_R && (TLB_W_S >> 1) == ACC_W && (TLB_X_S >> 1) == ACC_X,
               "acc_need indexes c->acc_need by kind >> 1");
static inline uint32_t acc_need(const struct cpu *c, uint32_t kind)
{
    return c->acc_need[kind >> 1];
}

/* Reads/writes at a linear address with an explicit permission bit. */
static inline uint32_t lin_read_need(struct cpu *c, uint32_t lin, unsigned size, uint32_t need)
{
    struct tlb_entry *e = tlb_hit(c, lin, size, need);
    if (e)
        return host_load(e->host + (lin & PAGE_MASK), size);
    return mem_read_slow(c, lin, size, need);
}

static inline void lin_write_need(struct cpu *c, uint32_t lin, unsigned size, uint32_t val,
                                  uint32_t need)
{
    struct tlb_entry *e = tlb_hit(c, lin, size, need);
    if (e)
        host_store(e->host + (lin & PAGE_MASK), size, val);
    else
        mem_write_slow(c, lin, size, val, need);
}

/* Accesses with the current privilege (CPL 3 = user). */
static inline uint32_t lin_read(struct cpu *c, uint32_t lin, unsigned size)
{
    const uint8_t *p = tlb_fast_host(c, lin, size, false);
    if (p)
        return host_load(p, size);
    return mem_read_slow(c, lin, size, acc_need(c, TLB_R_S));
}

static inline void lin_write(struct cpu *c, uint32_t lin, unsigned size, uint32_t val)
{
    uint8_t *p = tlb_fast_host(c, lin, size, true);
    if (p)
        host_store(p, size, val);
    else
        mem_write_slow(c, lin, size, val, acc_need(c, TLB_W_S));
}

static inline void lin_probe_write(struct cpu *c, uint32_t lin, unsigned size)
{
    if (!tlb_fast_host(c, lin, size, true))
        mem_probe_write(c, lin, size, acc_need(c, TLB_W_S));
}

/* Implicit supervisor accesses (descriptor tables, IDT, TSS): supervisor whatever the CPL, and
 * EFLAGS.AC never lifts SMAP for them, at CPL 0 either ("If EFLAGS.AC = 0 or the access is
 * implicit, data may not be read from any user-mode address", SDM vol. 3 4.6.1). */
static inline uint32_t lin_read_sup(struct cpu *c, uint32_t lin, unsigned size)
{
    return lin_read_need(c, lin, size, TLB_R_I);
}

static inline void lin_write_sup(struct cpu *c, uint32_t lin, unsigned size, uint32_t val)
{
    lin_write_need(c, lin, size, val, TLB_W_I);
}

#endif
