/* cli: turns interrupts off, which would stop the timer from preempting it. CLI needs
 * CPL <= IOPL; the kernel runs programs with IOPL 0, so it is #GP(0). */
#include "ulib.h"

int main(void)
{
    printf("cli: executing CLI\n");
    __asm__ volatile("cli");
    printf("cli: -- this line must never appear\n");
    return 1;
}
