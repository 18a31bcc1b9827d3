/* kread: reads kernel memory. The kernel's pages are present in every address space but marked
 * supervisor-only (U/S = 0), so a ring 3 read raises #PF, "protection violation". */
#include "ulib.h"

int main(void)
{
    volatile uint32_t *kernel = (volatile uint32_t *)0x00100000; /* the kernel's code */
    printf("kread: reading kernel memory at %p\n", (void *)kernel);
    uint32_t v = *kernel;
    printf("kread: read 0x%08x -- this line must never appear\n", v);
    return 1;
}
