/* Saving and loading the cpu's state for snapshots (see cpu.h): everything architectural and
 * every counter, nothing that points into this process. */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/icache.h"
#include "cpu/segment.h"
#include "mmu/mem.h"

void cpu_state_save(const struct cpu *c, struct cpu *out)
{
    *out = *c;
    /* A saved state is a record, not a cpu: no pointer in it may be followed. */
    out->ram = NULL;
    out->page_flags = NULL;
    out->page_gen = NULL;
    out->icache = NULL;
    out->last_block = NULL;
    /* In the middle of a decoded block: the exact values (exec.c run_block). */
    out->eip = cpu_eip(c);
    out->insn_eip = cpu_insn_eip(c);
    out->icount = cpu_icount(c);
    out->cur = NULL;
    out->bus = NULL;
    out->intc = (struct intc){0};
    out->msr_dev = (struct msr_dev){0};
    out->on_event = NULL;
    out->event_ctx = NULL;
    out->on_page_write = NULL;
    out->page_write_ctx = NULL;
    memset(out->sinks, 0, sizeof out->sinks);
    out->nsinks = 0;
    out->emitting = false;
    out->end_fn = NULL;
    out->end_ctx = NULL;
    memset(out->hooks, 0, sizeof out->hooks);
    out->nhooks = 0;
    out->insn_hook = NULL;
    out->insn_hook_ctx = NULL;
    out->jmp_ready = false;
    for (unsigned k = 0; k < TLB_ENTRIES; k++) {
        out->tlb[k] = (struct tlb_entry){.vpn = TLB_INVALID};
        out->tlb_dev[k] = NULL;
        for (unsigned m = 0; m < TLB_MODES; m++)
            out->tlbf[k][m] = (struct tlb_fast){.rtag = TLB_TAG_NONE, .wtag = TLB_TAG_NONE};
    }
    out->tlbf_cur = NULL; /* cpu_state_load sets it again */
}

int cpu_state_load(struct cpu *c, const struct cpu *saved)
{
    if (saved->ram_size != c->ram_size || c->jmp_ready)
        return -1;
    struct cpu keep = *c; /* the wiring and the caches, put back below */
    *c = *saved;
    c->ram = keep.ram;
    c->page_flags = keep.page_flags;
    c->page_gen = keep.page_gen;
    c->icache = keep.icache;
    c->bus = keep.bus;
    c->intc = keep.intc;
    c->msr_dev = keep.msr_dev;
    c->on_event = keep.on_event;
    c->event_ctx = keep.event_ctx;
    c->on_page_write = keep.on_page_write;
    c->page_write_ctx = keep.page_write_ctx;
    memcpy(c->sinks, keep.sinks, sizeof c->sinks);
    c->nsinks = keep.nsinks;
    c->emitting = false;
    c->portable = keep.portable;
    c->fold_host = keep.fold_host;
    c->end_fn = keep.end_fn;
    c->end_ctx = keep.end_ctx;
    memcpy(c->hooks, keep.hooks, sizeof c->hooks);
    c->nhooks = keep.nhooks;
    c->insn_hook = keep.insn_hook;
    c->insn_hook_ctx = keep.insn_hook_ctx;
    memcpy(c->jmp, keep.jmp, sizeof c->jmp);
    c->jmp_ready = false;
    /* The caches: RAM may have changed under them. */
    c->map_epoch = keep.map_epoch;
    c->last_block = NULL;
    c->cur = NULL;
    cpu_flush_decoded(c); /* empties decoded code and the TLB, bumps map_epoch */
    seg_memo_clear(c);    /* (they were made with the saved tables: dropped all the same) */
    cpu_update_acc(c);    /* c->tlbf_cur: into this cpu's fast TLB */
    return 0;
}

void cpu_watch_page(struct cpu *c, uint32_t page)
{
    if (page < c->ram_size / PAGE_SIZE)
        c->page_flags[page] |= PGF_WATCH;
}

void cpu_watch_commit(struct cpu *c)
{
    tlb_protect_all(c);
}
