/* Console input from a file descriptor: the frontend's adapter from stdin to the machine's
 * input queue (machine/console.h). The machine itself reads no file.
 *
 * Whenever COM1 could take a byte and the queue is empty, the adapter polls the fd (without
 * waiting) and reads one byte if one is there. So the guest never waits for the host: a slow
 * pipe, a terminal or an inherited stdin that stays open only decide when input arrives (a
 * guest that never reads runs at full speed; `sleep 8 | ringside run fib.elf` takes as long as
 * fib). A file is always ready, so input from a file reaches the guest at the same
 * instructions in every run; from a pipe or a terminal the arrival depends on the writer. The
 * fd is never put into O_NONBLOCK mode: a terminal's file description is shared with stdout
 * and stderr, which would then drop output. End of file or a read error ends the input.
 */
#ifndef RINGSIDE_INPUT_FD_H
#define RINGSIDE_INPUT_FD_H

#include "machine/machine.h"

/* Feeds COM1's receiver from fd (see above); the fd must stay open while the machine runs. */
void machine_set_input(struct machine *m, int fd);

#endif
