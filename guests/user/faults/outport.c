/* outport: writes to the debug-exit port 0xF4, the machine's power switch, without permission.
 * With IOPL 0, ring 3 port I/O is allowed only for ports open in the TSS I/O bitmap; 0xF4 is
 * not (compare uartdrv, which asks for the serial port with grant()): #GP(0). */
#include "ulib.h"

int main(void)
{
    printf("outport: writing 0 to port 0xf4 to power the machine off\n");
    __asm__ volatile("outb %0, %1" : : "a"((uint8_t)0), "Nd"((uint16_t)0xF4));
    printf("outport: -- this line must never appear\n");
    return 1;
}
