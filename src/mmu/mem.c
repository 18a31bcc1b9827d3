/* The slow path of memory access: TLB fill, page-crossing accesses, MMIO, and the invalidation
 * of decoded code when a store hits a page that holds it. */
#include "mmu/mem.h"

#include "cpu/debug.h"

#include "cpu/icache.h"
#include "devices/bus.h"
#include "mmu/paging.h"

/* The fast tags of a slot in the current mode (cpu.h struct tlb_fast), from its entry (page =
 * vpn << 12, perm, host): a read or write tag is the page's address exactly when tlb_hit would
 * grant that access in this mode (its perm bit; an MMIO entry's bits are shifted out of reach,
 * a code page's or a watched page's write bits are clear). In mode 3 (acc_shift ACC_SHIFT_AC)
 * perm >> acc_shift has neither bit (RAM entries hold bits 0..10, MMIO entries 16..26): its
 * tags stay empty. */
_Static_assert(((TLB_ALL | TLB_ALL << TLB_MMIO_SHIFT) >> ACC_SHIFT_AC & (TLB_R_S | TLB_W_S)) == 0 &&
                   ((TLB_ALL << TLB_MMIO_SHIFT) >> 6 & (TLB_R_S | TLB_W_S)) == 0,
               "no fast tag in mode 3, none for MMIO");
static inline __attribute__((always_inline)) void
tlb_fast_set(struct cpu *c, unsigned slot, uint32_t page, uint32_t perm, const uint8_t *host)
{
    perm >>= c->acc_shift;
    struct tlb_fast *f = (struct tlb_fast *)&c->tlbf_cur[slot * TLB_MODES]; /* in c->tlbf */
    f->rtag = (perm & TLB_R_S) ? page : TLB_TAG_NONE;
    f->wtag = (perm & TLB_W_S) ? page : TLB_TAG_NONE;
    f->addend = (uintptr_t)host - page;
}

/* Empties a slot's fast tags in every mode (mode 3 is always empty). */
static inline void tlb_fast_kill(struct cpu *c, unsigned slot)
{
    for (unsigned m = 0; m < TLB_MODES - 1; m++)
        c->tlbf[slot][m].rtag = c->tlbf[slot][m].wtag = TLB_TAG_NONE;
}

/* Empties a slot (the entry and its fast tags). */
static void tlb_kill(struct cpu *c, unsigned slot)
{
    c->tlb[slot].vpn = TLB_INVALID;
    tlb_fast_kill(c, slot);
}

/* Withdraws every write permission of a slot (the entry's and its fast tags'). */
static void tlb_no_write(struct cpu *c, unsigned slot)
{
    c->tlb[slot].perm &= ~TLB_ANY_W;
    for (unsigned m = 0; m < TLB_MODES - 1; m++)
        c->tlbf[slot][m].wtag = TLB_TAG_NONE;
}

/* The slots a flush must visit: tlb_used[0 .. n) when the list holds (*list set), else every
 * slot 0 .. n) (*list NULL). */
static unsigned tlb_slots(const struct cpu *c, const uint16_t **list)
{
    if (c->tlb_used_ok) {
        *list = c->tlb_used;
        return c->tlb_nused;
    }
    *list = NULL;
    return TLB_ENTRIES;
}

void tlb_flush_all(struct cpu *c)
{
    c->map_epoch++;
    c->fetch_pages = 0;
    c->tlb_large = false;
    const uint16_t *list;
    unsigned n = tlb_slots(c, &list);
    if (!list) /* every slot, and the never-set mode too (a zeroed cpu: cpu_init) */
        for (unsigned k = 0; k < TLB_ENTRIES; k++)
            c->tlbf[k][TLB_MODES - 1].rtag = c->tlbf[k][TLB_MODES - 1].wtag = TLB_TAG_NONE;
    for (unsigned k = 0; k < n; k++)
        tlb_kill(c, list ? list[k] : k);
    c->tlb_nused = 0;
    c->tlb_used_ok = true;
}

/* The global entries stay, and so does their place in the list (moved to its front). */
void tlb_flush_nonglobal(struct cpu *c)
{
    c->map_epoch++;
    c->fetch_pages = 0;
    const uint16_t *list;
    unsigned n = tlb_slots(c, &list), kept = 0;
    for (unsigned k = 0; k < n; k++) {
        unsigned slot = list ? list[k] : k;
        struct tlb_entry *e = &c->tlb[slot];
        if (e->vpn == TLB_INVALID)
            continue;
        if (e->global)
            c->tlb_used[kept++] = (uint16_t)slot; /* kept <= k: in place */
        else
            tlb_kill(c, slot);
    }
    c->tlb_nused = kept;
    c->tlb_used_ok = true;
}

/* INVLPG. A 4 MiB page is cached as one entry per 4 KiB piece touched, and INVLPG of any address
 * in it must drop them all (SDM vol. 3 4.10.4.1); with CR4.PSE, once a 4 MiB page may have been
 * cached since the last full flush (tlb_large), every entry of the 4 MiB-aligned region goes
 * (dropping 4 KiB translations there too is allowed); otherwise only lin's entry can hold it. */
void tlb_flush_page(struct cpu *c, uint32_t lin)
{
    /* The links between decoded blocks (icache.h) hold while map_epoch does. A link made since
     * the last change names code at a linear page whose fetch_pages bit is set; if lin's bit is
     * clear (and no 4 MiB page, whose other pieces would go too, may be cached), no link can
     * name code in the page dropped, and they all stay. */
    if (((c->fetch_pages >> ((lin >> 12) & 63)) & 1) || ((c->cr4 & CR4_PSE) && c->tlb_large)) {
        c->map_epoch++;
        c->fetch_pages = 0;
    }
    if ((c->cr4 & CR4_PSE) && c->tlb_large) {
        const uint16_t *list;
        unsigned n = tlb_slots(c, &list);
        for (unsigned k = 0; k < n; k++) {
            unsigned slot = list ? list[k] : k;
            if (c->tlb[slot].vpn >> 10 == lin >> 22)
                tlb_kill(c, slot);
        }
        return;
    }
    unsigned slot = (lin >> 12) & (TLB_ENTRIES - 1);
    if (c->tlb[slot].vpn == lin >> 12)
        tlb_kill(c, slot);
}

void cpu_update_acc(struct cpu *c)
{
    if (c->cpl == 3)
        c->acc_shift = ((c->cr0 & CR0_AM) && (c->eflags & FL_AC)) ? ACC_SHIFT_AC : 3;
    else if ((c->cr4 & CR4_SMAP) && (c->eflags & FL_AC))
        c->acc_shift = 6;
    else
        c->acc_shift = 0;
    c->acc_need[ACC_R] = TLB_R_S << c->acc_shift;
    c->acc_need[ACC_W] = TLB_W_S << c->acc_shift;
    c->acc_need[ACC_X] = TLB_X_S << c->acc_shift;
    /* The fast TLB's mode (struct tlb_fast: 0 the _S bits, 1 _U, 2 _SA; 3 none). */
    c->acc_mode = c->acc_shift == 0 ? 0 : c->acc_shift == 3 ? 1 : c->acc_shift == 6 ? 2 : 3;
    c->tlbf_cur = &c->tlbf[0][c->acc_mode];
}

void tlb_protect_code_page(struct cpu *c, uint32_t ppn_base)
{
    const uint16_t *list;
    unsigned n = tlb_slots(c, &list);
    for (unsigned k = 0; k < n; k++) {
        unsigned slot = list ? list[k] : k;
        struct tlb_entry *e = &c->tlb[slot];
        if (e->vpn != TLB_INVALID && e->ppn_base == ppn_base)
            tlb_no_write(c, slot);
    }
}

void mem_code_written(struct cpu *c, uint32_t pa)
{
    uint32_t pg = pa >> 12;
    uint8_t f = c->page_flags[pg];
    if (!f)
        return;
    c->page_flags[pg] = 0;
    if (f & PGF_WATCH) {
        cpu_settle(c); /* the watcher sees exact state (exec.c run_block) */
        c->on_page_write(c->page_write_ctx, pg);
    }
    if (f & PGF_CODE) {
        c->page_gen[pg]++;
        c->stop_block = true; /* the running block may be the code just overwritten */
    }
}

void tlb_protect_all(struct cpu *c)
{
    const uint16_t *list;
    unsigned n = tlb_slots(c, &list);
    for (unsigned k = 0; k < n; k++)
        tlb_no_write(c, list ? list[k] : k);
}

/* A device access (out of line: the RAM path stays small). The device sees exact time and
 * state (cpu_settle: EIP and the count are not kept in the middle of a block, exec.c). A read
 * goes back to the dispatch loop's checks between instructions only when the device changed
 * what they look at: INTR or the time of the next device event (an NMI, an INIT or a stop
 * request set stop_block themselves). A read that changed neither, such as xv6's of the local
 * APIC's ID in every mycpu(), has nothing for them to find: the settling is undone (cur, EIP and
 * the count as they were, stop_block as it was) and the block goes on after the instruction, as
 * it would have through its link.
 *
 * dev is the range that claims pa's page when the caller knows it (the page's TLB entry), else
 * NULL (the bus looks). Before coming here, dev_read asks such a range's peek function
 * (bus.h): a read that changes nothing in the device and does not depend on its time (the local
 * APIC's ID, say) needs no settling: the device sees no state, nothing moves for the dispatch
 * loop, and the block goes on as in the undone case above. */
static __attribute__((noinline)) uint32_t mmio_read(struct cpu *c, uint32_t pa, unsigned size,
                                                    const struct mmio_range *dev)
{
    uint32_t v;
    const struct insn *cur = c->cur;
    uint32_t eip = c->eip;
    uint64_t icount = c->icount;
    uint8_t stop = c->stop_block;
    cpu_settle(c);
    uint8_t settled = c->stop_block;
    c->bus_ops++;
    bool intr = c->intr;
    uint64_t next = c->next_event;
    v = dev ? bus_range_read(dev, pa, size) : bus_mmio_read(c->bus, pa, size);
    if (c->intr != intr || c->next_event != next)
        c->stop_block = true; /* a device may have raised an interrupt */
    else if (c->stop_block == settled) {
        c->cur = cur;
        c->eip = eip;
        c->icount = icount;
        c->stop_block = stop;
    }
    return v;
}

static __attribute__((noinline)) void mmio_write(struct cpu *c, uint32_t pa, unsigned size,
                                                 uint32_t val)
{
    cpu_settle(c);
    c->stop_block = true; /* a device may have raised an interrupt */
    c->bus_ops++;
    bus_mmio_write(c->bus, pa, val, size);
}

uint32_t phys_read(struct cpu *c, uint32_t pa, unsigned size)
{
    if ((uint64_t)pa + size <= c->ram_size)
        return host_load(c->ram + pa, size);
    return mmio_read(c, pa, size, NULL);
}

/* A read of size bytes at lin (within one page) through TLB entry e, which has no host pointer
 * (the page lies outside RAM): the bus's range that holds the access, remembered per slot
 * (cpu.tlb_dev) and looked up again when it does not hold it, answers through its peek if it
 * has one and takes the read (bus.h mmio_peek_fn), else through mmio_read without the bus's
 * lookup; an access no range holds whole goes to the bus as before. */
static __attribute__((noinline)) uint32_t dev_read(struct cpu *c, const struct tlb_entry *e,
                                                   uint32_t lin, unsigned size)
{
    uint32_t pa = e->ppn_base | (lin & PAGE_MASK);
    unsigned slot = (lin >> 12) & (TLB_ENTRIES - 1);
    const struct mmio_range *dev = c->tlb_dev[slot];
    if (!dev || (uint64_t)(pa - dev->base) + size > dev->size) {
        dev = bus_mmio_range(c->bus, pa, size);
        if (!dev)
            return mmio_read(c, pa, size, NULL);
        c->tlb_dev[slot] = dev;
    }
    uint32_t v;
    if (dev->peek && dev->peek(dev->dev, pa - dev->base, size, &v)) {
        c->bus_ops++;
        return v;
    }
    return mmio_read(c, pa, size, dev);
}

void phys_write(struct cpu *c, uint32_t pa, unsigned size, uint32_t val)
{
    if ((uint64_t)pa + size <= c->ram_size) {
        mem_code_written(c, pa);
        if (((pa + size - 1) >> 12) != (pa >> 12))
            mem_code_written(c, pa + size - 1);
        host_store(c->ram + pa, size, val);
    } else {
        mmio_write(c, pa, size, val);
    }
}

/* The part of a page-crossing access that lies in one page, n (1..3) bytes at physical pa, bytes
 * in address order. A device sees the naturally aligned accesses of 1 or 2 bytes a bus would
 * make of it (3 bytes: a byte and an aligned word, in address order), never a byte at a time
 * and never a size the bus does not have. */
static uint32_t read_piece(struct cpu *c, uint32_t pa, unsigned n)
{
    uint32_t v = 0;
    for (unsigned k = 0, w; k < n; k += w) {
        w = n - k >= 2 && !((pa + k) & 1) ? 2 : 1;
        v |= phys_read(c, pa + k, w) << (8 * k);
    }
    return v;
}

static void write_piece(struct cpu *c, uint32_t pa, unsigned n, uint32_t val)
{
    for (unsigned k = 0, w; k < n; k += w) {
        w = n - k >= 2 && !((pa + k) & 1) ? 2 : 1;
        phys_write(c, pa + k, w, (val >> (8 * k)) & (w == 2 ? 0xFFFFu : 0xFFu));
    }
}

/* Puts lin's translation (physical address pa, the rights perm of the walk) in its slot. */
static inline __attribute__((always_inline)) struct tlb_entry *
tlb_set(struct cpu *c, uint32_t lin, uint32_t pa, uint32_t perm, bool global)
{
    uint32_t ppn_base = pa & ~PAGE_MASK;
    unsigned slot = (lin >> 12) & (TLB_ENTRIES - 1);
    struct tlb_entry *e = &c->tlb[slot];
    if (e->vpn == TLB_INVALID) { /* a slot in use is in the list already */
        if (c->tlb_nused < TLB_ENTRIES)
            c->tlb_used[c->tlb_nused++] = (uint16_t)slot;
        else
            c->tlb_used_ok = false;
    } else {
        tlb_fast_kill(c, slot); /* an empty slot's fast tags are all empty already */
    }
    e->vpn = lin >> 12;
    e->ppn_base = ppn_base;
    e->global = global;
    uint8_t *host = NULL;
    if ((uint64_t)ppn_base + PAGE_SIZE <= c->ram_size) {
        host = c->ram + ppn_base;
        /* Writes to a page holding decoded code stay on the slow path until one of them has
         * invalidated that code (mem_code_written); the walk above already allowed this access. */
        if (c->page_flags[ppn_base >> 12])
            perm &= ~TLB_ANY_W;
        /* A data breakpoint in the page (debug.h): every read and write takes the slow path. */
        if (c->dbg_data && dbg_page_watched(c, lin))
            perm &= TLB_ANY_X;
    } else {
        perm <<= TLB_MMIO_SHIFT; /* MMIO: always the slow path, but no walk */
    }
    e->host = host;
    e->perm = perm;
    tlb_fast_set(c, slot, lin & ~PAGE_MASK, perm, host);
    return e;
}

/* Fills the TLB entry for lin's page for an access needing `need` through the general walk;
 * faults if it is refused. */
static __attribute__((noinline)) struct tlb_entry *tlb_fill(struct cpu *c, uint32_t lin,
                                                           uint32_t need)
{
    uint32_t perm;
    bool global;
    uint32_t pa = paging_translate(c, lin, need, &perm, &global);
    return tlb_set(c, lin, pa, perm, global);
}

/* The entry for lin's page that allows `need` (an MMIO entry holds its bits shifted: found
 * here, never by tlb_hit), filled if missing: the usual walk inline (paging_walk_fast), any
 * other out of line. */
static inline __attribute__((always_inline)) struct tlb_entry *tlb_get(struct cpu *c,
                                                                      uint32_t lin,
                                                                      uint32_t need)
{
    unsigned slot = (lin >> 12) & (TLB_ENTRIES - 1);
    struct tlb_entry *e = &c->tlb[slot];
    if (e->vpn == (lin >> 12) && (e->perm & (need | need << TLB_MMIO_SHIFT))) {
        /* filled in another mode? (a device's page never has fast tags in any mode: its fill
         * left the current mode's empty and emptied the others') */
        if (e->host)
            tlb_fast_set(c, slot, e->vpn << 12, e->perm, e->host);
        return e;
    }
    uint32_t pa, perm;
    bool global;
    if ((c->cr0 & CR0_PG) && paging_walk_fast(c, lin, need, &pa, &perm, &global))
        return tlb_set(c, lin, pa, perm, global);
    return tlb_fill(c, lin, need);
}

uint32_t mem_translate(struct cpu *c, uint32_t lin, uint32_t need, uint8_t **host)
{
    if (need >= (TLB_R_U << 8)) /* an alignment-checked fetch: the user bit */
        need >>= 8;
    struct tlb_entry *e = tlb_get(c, lin, need);
    *host = e->host ? e->host + (lin & PAGE_MASK) : NULL;
    return e->ppn_base | (lin & PAGE_MASK);
}

/* Alignment checking (CR0.AM, EFLAGS.AC, CPL 3): such accesses test bits no TLB entry has, so
 * they all come here; a misaligned data access raises #AC(0), then the access proceeds with the
 * user permission bit (SDM vol. 3 6.15, interrupt 17). */
static uint32_t align_check(struct cpu *c, uint32_t lin, unsigned size, uint32_t need)
{
    if (need < (TLB_R_U << 8))
        return need;
    if ((need & ((TLB_R_U | TLB_W_U) << 8)) && (lin & (size - 1)))
        cpu_raise(c, EXC_AC, true, 0);
    return need >> 8;
}

uint32_t mem_read_slow(struct cpu *c, uint32_t lin, unsigned size, uint32_t need)
{
    uint8_t *host;
    need = align_check(c, lin, size, need);
    if (c->dbg_data && !(need & TLB_ANY_X))
        dbg_data_access(c, lin, size, false);
    if ((lin & PAGE_MASK) <= PAGE_SIZE - size) {
        struct tlb_entry *e = tlb_get(c, lin, need);
        if (e->host)
            return host_load(e->host + (lin & PAGE_MASK), size);
        return dev_read(c, e, lin, size);
    }
    /* Crosses a page: translate both pages (faulting before any data moves), then read the
     * part in the first page and the part in the second (read_piece). */
    uint32_t split = PAGE_SIZE - (lin & PAGE_MASK);
    uint32_t pa1 = mem_translate(c, lin, need, &host);
    uint32_t pa2 = mem_translate(c, lin + split, need, &host);
    uint32_t lo = read_piece(c, pa1, split);
    return lo | read_piece(c, pa2, size - split) << (8 * split);
}

void mem_write_slow(struct cpu *c, uint32_t lin, unsigned size, uint32_t val, uint32_t need)
{
    uint8_t *host;
    need = align_check(c, lin, size, need);
    if (c->dbg_data)
        dbg_data_access(c, lin, size, true);
    if ((lin & PAGE_MASK) <= PAGE_SIZE - size) {
        struct tlb_entry *e = tlb_get(c, lin, need);
        phys_write(c, e->ppn_base | (lin & PAGE_MASK), size, val);
        return;
    }
    uint32_t split = PAGE_SIZE - (lin & PAGE_MASK);
    uint32_t pa1 = mem_translate(c, lin, need, &host);
    uint32_t pa2 = mem_translate(c, lin + split, need, &host);
    write_piece(c, pa1, split, val);
    write_piece(c, pa2, size - split, val >> (8 * split));
}

void mem_probe_write(struct cpu *c, uint32_t lin, unsigned size, uint32_t need)
{
    uint8_t *host;
    need = align_check(c, lin, size, need);
    mem_translate(c, lin, need, &host);
    if ((lin & PAGE_MASK) > PAGE_SIZE - size)
        mem_translate(c, (lin | PAGE_MASK) + 1, need, &host);
}
