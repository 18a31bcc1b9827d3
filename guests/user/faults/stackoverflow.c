/* stackoverflow: recurses without end, 256 bytes of stack per call. The stack grows down into
 * the unmapped guard page below it: #PF, "page not present", with CR2 in the guard page. */
#include "ulib.h"

static unsigned recurse(unsigned depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth == 0xFFFFFFFFu) /* never true; without an exit gcc warns of infinite recursion */
        return 0;
    return recurse(depth + 1) + frame[0]; /* not a tail call: every frame stays */
}

int main(void)
{
    printf("stackoverflow: recursing forever\n");
    unsigned r = recurse(0);
    printf("stackoverflow: returned %u -- this line must never appear\n", r);
    return 1;
}
