/* kbug: calls the buggy kernel-mode driver (kdriver system call) with a unit that does not
 * exist. The driver writes through a NULL pointer in ring 0: a kernel fault, which no one can
 * contain. The whole machine panics, and every other process dies with it. */
#include "ulib.h"

int main(void)
{
    printf("kbug: kdriver(0, 1) on a unit that exists: %d\n", kdriver(0, 1));
    printf("kbug: kdriver(2, 1) on a unit that does not\n");
    int r = kdriver(2, 1);
    printf("kbug: returned %d -- this line must never appear\n", r);
    return 1;
}
