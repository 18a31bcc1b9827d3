/* Raw terminal input and its restoration (see terminal.h). */
#include "frontend/terminal.h"

#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "machine/input_fd.h"

/* The saved terminal state is process-wide by nature (one stdin, restored from a signal
 * handler and atexit), so it lives here, not in the machine: the one mutable state of the
 * frontend outside a struct. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_saved;

void terminal_restore(void)
{
    if (tty_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
        tty_saved = 0;
    }
}

static void restore_and_die(int sig)
{
    terminal_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

void terminal_attach_input(struct machine *m)
{
    if (!isatty(STDIN_FILENO)) {
        machine_set_input(m, STDIN_FILENO); /* a file or pipe: read as the guest needs it */
        return;
    }
    struct termios raw;
    if (tcgetattr(STDIN_FILENO, &saved_tty) == 0) {
        raw = saved_tty;
        raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        raw.c_iflag &= (tcflag_t) ~(ICRNL | IXON);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tty_saved = 1;
        atexit(terminal_restore);
        signal(SIGINT, restore_and_die);
        signal(SIGTERM, restore_and_die);
        signal(SIGHUP, restore_and_die);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    /* No O_NONBLOCK: the terminal's file description is stdout's and stderr's too, and their
     * writes would fail with EAGAIN; the input adapter polls instead (input_fd.h). */
    machine_set_input(m, STDIN_FILENO);
}
