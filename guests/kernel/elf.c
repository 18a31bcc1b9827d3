/* Loading a user program: an ELF32 i386 executable (ET_EXEC), as `gcc -m32 -static` links it.
 *
 * Only the program headers matter. Each PT_LOAD segment asks for memsz bytes at vaddr, the first
 * filesz of them copied from the file at offset, the rest zero (.bss). Every page gets a fresh
 * zeroed frame, mapped user, and writable only if the segment is (PF_W): so the program's own
 * code is read-only to it. The file itself is never trusted: every offset and size is checked
 * against the file and against user space before it is used. */
#include "kernel.h"

struct elf_header {
    uint8_t ident[16];     /* 0x7F 'E' 'L' 'F', class, data, version, ... */
    uint16_t type;         /* 2 = ET_EXEC */
    uint16_t machine;      /* 3 = EM_386 */
    uint32_t version;
    uint32_t entry;        /* where execution starts */
    uint32_t phoff;        /* file offset of the program headers */
    uint32_t shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_phdr {
    uint32_t type;         /* 1 = PT_LOAD */
    uint32_t offset;       /* file offset of the segment's bytes */
    uint32_t vaddr;        /* where they go */
    uint32_t paddr;
    uint32_t filesz;       /* bytes taken from the file */
    uint32_t memsz;        /* bytes in memory (the rest is zero) */
    uint32_t flags;        /* PF_X 1, PF_W 2, PF_R 4 */
    uint32_t align;
};

#define ET_EXEC 2
#define EM_386  3
#define PT_LOAD 1
#define PF_WRITE 2 /* segment flag: writable */

/* Copies the segment's file bytes that fall in the page at va (already mapped at frame pa). */
static void fill_page(uint32_t pa, uint32_t va, const struct elf_phdr *ph, const uint8_t *image)
{
    uint32_t from = va > ph->vaddr ? va : ph->vaddr;
    uint32_t file_end = ph->vaddr + ph->filesz;
    uint32_t to = va + PAGE_SIZE < file_end ? va + PAGE_SIZE : file_end;
    if (from < to)
        memcpy((uint8_t *)pa + (from - va), image + ph->offset + (from - ph->vaddr), to - from);
}

/* Loads image into the (empty) address space pd. Sets *entry and *end (the first address
 * after the highest segment). Returns 0, -EINVAL for a malformed file, or -ENOMEM. On failure
 * the caller destroys pd, which frees whatever was mapped. */
int elf_load(uint32_t pd, const uint8_t *image, uint32_t size, uint32_t *entry, uint32_t *end)
{
    const struct elf_header *eh = (const struct elf_header *)image;
    if (size < sizeof(*eh) || image[0] != 0x7F || image[1] != 'E' || image[2] != 'L' ||
        image[3] != 'F' || image[4] != 1 /* 32-bit */ || image[5] != 1 /* little-endian */ ||
        eh->type != ET_EXEC || eh->machine != EM_386 || eh->phentsize != sizeof(struct elf_phdr))
        return -EINVAL;
    if (eh->phoff > size || eh->phnum > (size - eh->phoff) / sizeof(struct elf_phdr))
        return -EINVAL;

    uint32_t top = 0;
    bool loaded = false;
    for (unsigned i = 0; i < eh->phnum; i++) {
        const struct elf_phdr *ph =
            (const struct elf_phdr *)(image + eh->phoff + i * sizeof(struct elf_phdr));
        if (ph->type != PT_LOAD || ph->memsz == 0)
            continue;
        if (ph->filesz > ph->memsz || ph->offset > size || ph->filesz > size - ph->offset ||
            ph->vaddr < USER_BASE || ph->vaddr >= USER_GUARD ||
            ph->memsz > USER_GUARD - ph->vaddr) /* below the stack's guard page */
            return -EINVAL;
        uint32_t flags = PTE_U | ((ph->flags & PF_WRITE) ? PTE_W : 0);
        for (uint32_t va = PAGE_DOWN(ph->vaddr); va < ph->vaddr + ph->memsz; va += PAGE_SIZE) {
            uint32_t pte = pte_get(pd, va), pa, page_flags = flags;
            if (pte & PTE_P) { /* a page shared with the previous segment */
                pa = PTE_ADDR(pte);
                page_flags |= pte & PTE_W;
            } else if (!(pa = frame_alloc())) {
                return -ENOMEM;
            }
            if (map_page(pd, va, pa, page_flags) < 0) {
                if (!(pte & PTE_P))
                    frame_free(pa);
                return -ENOMEM;
            }
            fill_page(pa, va, ph, image);
        }
        if (ph->vaddr + ph->memsz > top)
            top = ph->vaddr + ph->memsz;
        loaded = true;
    }
    if (!loaded || eh->entry < USER_BASE || eh->entry >= top)
        return -EINVAL;
    *entry = eh->entry;
    *end = top;
    return 0;
}
