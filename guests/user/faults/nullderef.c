/* nullderef: reads through a NULL pointer. Page 0 is never mapped, so the cpu raises a page
 * fault (#PF, "page not present", CR2 = 0) and the kernel kills this process only. */
#include "ulib.h"

int main(void)
{
    volatile int *p = NULL;
    OPAQUE(p);
    printf("nullderef: reading from address 0\n");
    int v = *p;
    printf("nullderef: read %d -- this line must never appear\n", v);
    return 1;
}
