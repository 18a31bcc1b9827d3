/* movcr3: loads CR3, i.e. switches to a page directory of its choosing (which would give it
 * all of memory). Moves to control registers are privileged: #GP(0). */
#include "ulib.h"

int main(void)
{
    printf("movcr3: loading CR3 with 0\n");
    __asm__ volatile("movl %0, %%cr3" : : "r"(0) : "memory");
    printf("movcr3: -- this line must never appear\n");
    return 1;
}
