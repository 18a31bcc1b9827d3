/* Telling the emulator what the address spaces and system calls are called.
 *
 * Ringside's names port (docs/names-port.md in the Ringside tree): write the page directory
 * to 0x700, an id to 0x704, the name byte by byte to 0x708, and a command to 0x709. The port
 * only describes the guest to a person reading Ringside's log; it changes nothing. Elsewhere
 * (QEMU, real hardware) port 0x70A does not read "RS", and the kernel says nothing.
 */
#include "kernel.h"

#define NAMES_PORT_CR3  0x700
#define NAMES_PORT_ID   0x704
#define NAMES_PORT_CHAR 0x708
#define NAMES_PORT_CMD  0x709
#define NAMES_PORT_SIG  0x70A
#define NAMES_SIGNATURE 0x5352 /* "RS" */
#define NAMES_SPACE          1 /* "page directory CR3 is pid ID, name NAME" */
#define NAMES_SYSCALL        2 /* "system call ID is NAME" */
#define NAMES_SYSCALL_VECTOR 3 /* "INT ID is the system-call gate" */

static bool on_ringside;

static void say(unsigned cmd, uint32_t cr3, uint32_t id, const char *name)
{
    if (!on_ringside)
        return;
    outl(NAMES_PORT_CR3, cr3);
    outl(NAMES_PORT_ID, id);
    for (; *name; name++)
        outb(NAMES_PORT_CHAR, (uint8_t)*name);
    outb(NAMES_PORT_CMD, (uint8_t)cmd);
}

static const char *const syscall_names[NSYSCALLS] = {
    [SYS_EXIT] = "exit",     [SYS_WRITE] = "write",   [SYS_READ] = "read",
    [SYS_GETPID] = "getpid", [SYS_YIELD] = "yield",   [SYS_SLEEP] = "sleep",
    [SYS_SBRK] = "sbrk",     [SYS_SPAWN] = "spawn",   [SYS_WAIT] = "wait",
    [SYS_UPTIME] = "uptime", [SYS_GRANT] = "grant",   [SYS_KDRIVER] = "kdriver",
};

void names_init(void)
{
    on_ringside = inw(NAMES_PORT_SIG) == NAMES_SIGNATURE;
    say(NAMES_SYSCALL_VECTOR, 0, SYSCALL_VECTOR, "");
    for (uint32_t nr = 0; nr < NSYSCALLS; nr++)
        say(NAMES_SYSCALL, 0, nr, syscall_names[nr]);
    say(NAMES_SPACE, kernel_pd, 0, "idle");
}

void names_space(uint32_t pd, int pid, const char *name)
{
    say(NAMES_SPACE, pd, (uint32_t)pid, name);
}
