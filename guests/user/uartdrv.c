/* uartdrv: a device driver in user mode. It asks the kernel for the serial port's eight I/O
 * ports with grant(), then drives the 16550 itself with IN and OUT in ring 3: wait until the
 * line status register says the transmitter is empty, write a byte. No system call per byte,
 * and a bug here could only kill this process. The kernel refuses ports it keeps for itself. */
#include "ulib.h"

#define COM1     0x3F8
#define UART_THR (COM1 + 0) /* transmit holding register */
#define UART_LSR (COM1 + 5) /* line status register */
#define LSR_THRE 0x20       /* the transmitter can take a byte */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void uart_puts(const char *s)
{
    for (; *s; s++) {
        while (!(inb(UART_LSR) & LSR_THRE))
            ;
        outb(UART_THR, (uint8_t)*s);
    }
}

int main(void)
{
    int r = grant(0xF4, 1);
    printf("uartdrv: grant(0xf4, 1), the debug-exit port: %d (%s)\n", r, errname(r));
    r = grant(COM1, 8);
    printf("uartdrv: grant(0x3f8, 8), the serial port: %d (%s)\n", r, errname(r));
    if (r < 0)
        return 1;
    uart_puts("uartdrv: this line was written by OUT instructions in ring 3\n");
    uart_puts("uartdrv: no system call was made for it\n");
    return 0;
}
