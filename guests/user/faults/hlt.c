/* hlt: stops the cpu -- or tries to. HLT is privileged (CPL 0 only): #GP(0) in ring 3. */
#include "ulib.h"

int main(void)
{
    printf("hlt: executing HLT\n");
    __asm__ volatile("hlt");
    printf("hlt: -- this line must never appear\n");
    return 1;
}
