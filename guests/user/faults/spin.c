/* spin: an endless loop that never makes a system call. Interrupts stay on in ring 3 (it
 * cannot turn them off: see cli), so the timer still preempts it and the other processes keep
 * running; when it has used the kernel's cpu limit, the kernel kills it. */
#include "ulib.h"

int main(void)
{
    printf("spin: looping forever (tick %u)\n", uptime());
    for (;;)
        __asm__ volatile("");
}
