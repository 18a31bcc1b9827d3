/* Console input from a file descriptor (see input_fd.h). */
#include "machine/input_fd.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

/* The refill callback: one byte per call, as the guest needs it. The fd travels in the context
 * pointer, so the adapter keeps no state of its own. */
static void fd_refill(void *ctx, struct machine *m)
{
    int fd = (int)(intptr_t)ctx;
    uint8_t byte;
    ssize_t n;
    do
        n = read(fd, &byte, 1);
    while (n < 0 && errno == EINTR);
    if (n == 1)
        machine_input_push(m, byte);
    else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        machine_input_end(m); /* end of file, or the fd cannot be read */
}

void machine_set_input(struct machine *m, int fd)
{
    machine_input_open(m, fd_refill, (void *)(intptr_t)fd);
}
