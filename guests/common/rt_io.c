/* The hardware half of the guest runtime: UART output and the debug-exit port. */
#include "rt.h"

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

void rt_putc(char c)
{
    while (!(inb(UART_LSR) & UART_LSR_THRE))
        ;
    outb(UART_THR, (uint8_t)c);
}

_Noreturn void rt_exit(uint32_t value)
{
    outl(DEBUG_EXIT_PORT, value);
    /* Without a debug-exit device (real hardware), stop here. */
    for (;;)
        __asm__ volatile("cli; hlt");
}

_Noreturn void rt_bad_magic(uint32_t eax)
{
    rt_printf("bad multiboot magic %08x (want 2badb002)\n", eax);
    rt_exit(0x7e);
}
