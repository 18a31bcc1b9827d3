/* rowrite: writes to its own code. The kernel maps a program's text read-only (its ELF segment
 * has no write flag), so the write raises #PF, "protection violation" on a user page. */
#include "ulib.h"

int main(void)
{
    volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)main;
    OPAQUE(code);
    printf("rowrite: patching my own code at %p\n", (void *)code);
    *code = 0xC3; /* ret */
    printf("rowrite: patched -- this line must never appear\n");
    return 1;
}
