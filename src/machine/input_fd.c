/* Console input from a file descriptor (see input_fd.h). */
#include "machine/input_fd.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

/* The refill callback: at most one byte per call, and only when one can be read without
 * waiting. The fd travels in the context pointer, so the adapter keeps no state of its own. */
static void fd_refill(void *ctx, struct machine *m)
{
    int fd = (int)(intptr_t)ctx;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int ready;
    do
        ready = poll(&p, 1, 0);
    while (ready < 0 && errno == EINTR);
    if (ready == 0)
        return; /* nothing yet: the machine looks again one character time later */
    if (ready < 0 || (p.revents & POLLNVAL)) {
        machine_input_end(m);
        return;
    }
    /* POLLIN, POLLHUP or POLLERR: a read returns at once (a byte, end of file or the error). */
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
