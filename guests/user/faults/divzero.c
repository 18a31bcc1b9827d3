/* divzero: divides by zero: #DE (divide error). */
#include "ulib.h"

int main(void)
{
    int a = 42, b = 0;
    OPAQUE(b);
    printf("divzero: dividing %d by %d\n", a, b);
    int q = a / b;
    printf("divzero: got %d -- this line must never appear\n", q);
    return 1;
}
