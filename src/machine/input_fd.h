/* Console input from a file descriptor: the frontend's adapter from stdin to the machine's
 * input queue (machine/console.h). The machine itself reads no file.
 *
 * Whenever COM1 could take a byte and the queue is empty, the adapter reads one byte from the
 * fd and pushes it. A blocking fd (a pipe or a file) therefore makes the guest wait for input
 * deterministically: the same bytes reach the guest at the same instructions however fast the
 * writer is. A non-blocking one (a terminal in raw mode) is polled: no byte yet means "look
 * again one character time later". End of file or a read error ends the input.
 */
#ifndef RINGSIDE_INPUT_FD_H
#define RINGSIDE_INPUT_FD_H

#include "machine/machine.h"

/* Feeds COM1's receiver from fd (see above); the fd must stay open while the machine runs. */
void machine_set_input(struct machine *m, int fd);

#endif
