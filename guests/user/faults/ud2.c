/* ud2: executes UD2, the instruction defined to be invalid: #UD (invalid opcode). */
#include "ulib.h"

int main(void)
{
    printf("ud2: executing UD2\n");
    __asm__ volatile("ud2");
    printf("ud2: -- this line must never appear\n");
    return 1;
}
