/* Memory: physical frames, page tables, and checking pointers that come from user programs.
 *
 * Physical frames above the kernel and its modules are kept on a free list threaded through
 * the free frames themselves (the first word of a free frame holds the address of the next).
 * The kernel identity-maps physical memory below KERNEL_MAP_END (virtual = physical), so it can
 * reach any frame, page table or module by its physical address, in every address space. */
#include "kernel.h"

extern char __text_start[], __rodata_end[]; /* kernel.ld: the read-only part of the kernel */

uint32_t kernel_pd;
static uint32_t free_list; /* physical address of the first free frame, 0 = none */
static uint32_t nfree;

void frame_free(uint32_t pa)
{
    *(uint32_t *)pa = free_list;
    free_list = pa;
    nfree++;
}

uint32_t frame_alloc(void)
{
    uint32_t pa = free_list;
    if (!pa)
        return 0;
    free_list = *(uint32_t *)pa;
    nfree--;
    uint32_t *w = (uint32_t *)pa; /* zero it a word at a time: most of the kernel's memory */
    for (unsigned i = 0; i < PAGE_SIZE / 4; i++) /* traffic is this loop */
        w[i] = 0;
    return pa;
}

uint32_t frames_free(void)
{
    return nfree;
}

/* The page-table entry for va in the address space pd, creating its page table if `create`.
 * NULL if there is none (or no memory for one). */
static uint32_t *pte_slot(uint32_t pd, uint32_t va, bool create)
{
    uint32_t *dir = (uint32_t *)pd;
    uint32_t pde = dir[PDX(va)];
    if (!(pde & PTE_P)) {
        if (!create)
            return NULL;
        uint32_t pt = frame_alloc();
        if (!pt)
            return NULL;
        /* A user page table is marked user and writable at the directory level; each PTE
         * then decides (the cpu combines both levels: the stricter one wins). */
        pde = pt | PTE_P | PTE_W | (va >= USER_BASE ? PTE_U : 0);
        dir[PDX(va)] = pde;
    }
    return &((uint32_t *)PTE_ADDR(pde))[PTX(va)];
}

int map_page(uint32_t pd, uint32_t va, uint32_t pa, uint32_t flags)
{
    uint32_t *pte = pte_slot(pd, va, true);
    if (!pte)
        return -ENOMEM;
    *pte = pa | flags | PTE_P;
    if (pd == read_cr3())
        invlpg(va);
    return 0;
}

void unmap_page(uint32_t pd, uint32_t va)
{
    uint32_t *pte = pte_slot(pd, va, false);
    if (!pte || !(*pte & PTE_P))
        return;
    frame_free(PTE_ADDR(*pte));
    *pte = 0;
    if (pd == read_cr3())
        invlpg(va); /* the TLB may still hold the old translation */
}

uint32_t pte_get(uint32_t pd, uint32_t va)
{
    uint32_t *pte = pte_slot(pd, va, false);
    return pte ? *pte : 0;
}

/* Builds the kernel's address space and turns paging on. Frames from first_free up to the end
 * of RAM (or of the identity map) become the free list. */
void mm_init(uint32_t first_free, uint32_t ram_end)
{
    uint32_t end = ram_end < KERNEL_MAP_END ? ram_end : KERNEL_MAP_END;
    /* Free from the top down, so that frame_alloc() hands out ascending addresses. */
    for (uint32_t pa = PAGE_DOWN(end) - PAGE_SIZE; pa >= PAGE_UP(first_free); pa -= PAGE_SIZE)
        frame_free(pa);

    /* Global pages (CR4.PGE) stay in the TLB across CR3 loads: the kernel's mappings are the
     * same in every address space, so there is no point flushing them at each switch. */
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    bool pge = d & (1u << 13);

    kernel_pd = frame_alloc();
    if (!kernel_pd)
        panic("no memory for the kernel page directory");
    /* Page 0 stays unmapped: a NULL pointer faults in ring 0 too. */
    for (uint32_t va = PAGE_SIZE; va < KERNEL_MAP_END; va += PAGE_SIZE) {
        bool ro = va >= (uint32_t)__text_start && va < (uint32_t)__rodata_end;
        uint32_t flags = (ro ? 0 : PTE_W) | (pge ? PTE_G : 0);
        if (map_page(kernel_pd, va, va, flags) < 0)
            panic("no memory for the kernel page tables");
    }
    if (pge)
        write_cr4(read_cr4() | CR4_PGE);
    write_cr3(kernel_pd);
    /* WP: read-only pages are read-only for ring 0 too (a kernel bug writing to its own code
     * faults instead of silently succeeding). */
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

/* A new address space: an empty user half, and the kernel half shared with every other one
 * (the same page tables, so they are only built once). */
uint32_t pd_create(void)
{
    uint32_t pd = frame_alloc();
    if (!pd)
        return 0;
    for (uint32_t i = 0; i < PDX(KERNEL_MAP_END); i++)
        ((uint32_t *)pd)[i] = ((uint32_t *)kernel_pd)[i];
    return pd;
}

void pd_destroy(uint32_t pd)
{
    uint32_t *dir = (uint32_t *)pd;
    for (uint32_t i = PDX(USER_BASE); i < PDX(USER_TOP); i++) {
        if (!(dir[i] & PTE_P))
            continue;
        uint32_t *pt = (uint32_t *)PTE_ADDR(dir[i]);
        for (unsigned j = 0; j < 1024; j++)
            if (pt[j] & PTE_P)
                frame_free(PTE_ADDR(pt[j]));
        frame_free((uint32_t)pt);
    }
    frame_free(pd);
}

/* Is [va, va + len) something the running program may read (or write)? It must lie inside
 * user space and every page of it must be present, user, and writable if written. The kernel
 * checks this before it touches any user pointer, so a bad pointer in a system call gives
 * -EFAULT instead of a fault in ring 0. (The kernel is never preempted, so nothing can change
 * the mapping between the check and the access.) */
bool user_ok(uint32_t va, uint32_t len, bool write)
{
    if (va < USER_BASE || va >= USER_TOP || len > USER_TOP - va)
        return false;
    uint32_t need = PTE_P | PTE_U | (write ? PTE_W : 0);
    uint32_t pd = read_cr3();
    for (uint32_t page = PAGE_DOWN(va); page < va + len; page += PAGE_SIZE)
        if ((pte_get(pd, page) & need) != need)
            return false;
    return true;
}

int copy_from_user(void *dst, uint32_t src, uint32_t len)
{
    if (!user_ok(src, len, false))
        return -EFAULT;
    memcpy(dst, (const void *)src, len);
    return 0;
}

int copy_to_user(uint32_t dst, const void *src, uint32_t len)
{
    if (!user_ok(dst, len, true))
        return -EFAULT;
    memcpy((void *)dst, src, len);
    return 0;
}

/* A NUL-terminated string of at most size - 1 characters. Each page is checked as the copy
 * reaches it, since the string's length is not known in advance. */
int copy_str_from_user(char *dst, uint32_t src, uint32_t size)
{
    for (uint32_t i = 0; i < size; i++) {
        uint32_t va = src + i;
        if ((i == 0 || (va & (PAGE_SIZE - 1)) == 0) && !user_ok(va, 1, false))
            return -EFAULT;
        dst[i] = *(const char *)va;
        if (dst[i] == '\0')
            return (int)i;
    }
    return -EINVAL;
}
