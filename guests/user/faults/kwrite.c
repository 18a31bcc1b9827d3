/* kwrite: writes kernel memory: tries to overwrite the kernel's own code. Supervisor-only pages
 * refuse ring 3 writes as they refuse reads: #PF, "protection violation". */
#include "ulib.h"

int main(void)
{
    volatile uint32_t *kernel = (volatile uint32_t *)0x00100000;
    printf("kwrite: writing to kernel memory at %p\n", (void *)kernel);
    *kernel = 0xDEADBEEF;
    printf("kwrite: the kernel was overwritten -- this line must never appear\n");
    return 1;
}
