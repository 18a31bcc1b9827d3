/* hello: the smallest program. Prints its pid, its arguments and the ring it runs in (the low
 * two bits of CS), once through each way into the kernel. */
#include "ulib.h"

int main(int argc, char **argv)
{
    uint16_t cs;
    __asm__ volatile("movw %%cs, %0" : "=r"(cs));
    printf("hello: hello, world from pid %d, running in ring %u\n", getpid(), cs & 3u);
    for (int i = 1; i < argc; i++)
        printf("hello: argv[%d] = \"%s\"\n", i, argv[i]);
    use_sysenter = 1;
    printf("hello: this line went through sysenter, the one above through int $0x80\n");
    return 0;
}
