/* lgdt: loads its own GDT, which could hold ring 0 segments for it to use. LGDT is privileged:
 * #GP(0), before the cpu even reads the operand. */
#include "ulib.h"

static struct __attribute__((packed)) {
    uint16_t limit;
    uint32_t base;
} fake_gdtr = {0xFFFF, 0};

int main(void)
{
    printf("lgdt: loading a GDT of my own\n");
    __asm__ volatile("lgdt %0" : : "m"(fake_gdtr));
    printf("lgdt: -- this line must never appear\n");
    return 1;
}
