/* intgate: raises vector 0x20 with INT, pretending to be a timer tick. That gate's DPL is 0,
 * so INT n from ring 3 gives #GP with an error code naming the vector (0x20 * 8 + 2: bit 1
 * says "IDT"). Only int $0x80 (and int3/into) have DPL 3. */
#include "ulib.h"

int main(void)
{
    printf("intgate: executing INT 0x20 (the timer's vector)\n");
    __asm__ volatile("int $0x20");
    printf("intgate: -- this line must never appear\n");
    return 1;
}
