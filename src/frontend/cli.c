/* The `ringside` command line (see cli.h): the process around the command. */
#include "frontend/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "frontend/commands.h"
#include "frontend/console.h"
#include "frontend/options.h"
#include "frontend/report.h"

/* File descriptors 0, 1 and 2 must be open before anything else is: a file opened later (the
 * log) would otherwise get one of their numbers and receive what was meant for it. A closed
 * stdin or stderr gets /dev/null (no input; nowhere to report). A closed stdout is refused:
 * the guest's console would have nowhere to go. Returns false after one line on stderr. */
static bool std_fds_ready(void)
{
    bool stdout_closed = false;
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        stdout_closed |= fd == 1;
        int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
    }
    if (stdout_closed)
        report("standard output is closed: the guest's console needs it (redirect it to "
               "/dev/null to discard it)");
    return !stdout_closed;
}

int cli_main(int argc, char **argv, const char *guest_dir)
{
    struct cli_options o;
    struct console con;
    char err[512];
    int status = CLI_EXIT_USAGE;

    if (!std_fds_ready())
        return CLI_EXIT_USAGE;
    /* A reader that goes away (`ringside ... | head`) is a write error (EPIPE) reported once,
     * not a signal that kills Ringside. */
    signal(SIGPIPE, SIG_IGN);
    console_init(&con, stdout);

    if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
        report("%s", err);
    } else if (o.action == CLI_ACTION_HELP) {
        cli_usage(stdout, o.command_named ? o.command : NULL);
        status = 0;
    } else if (o.action == CLI_ACTION_VERSION) {
        printf("ringside %s\n", RINGSIDE_VERSION);
        status = 0;
    } else {
        struct cli_env env = { guest_dir, &con };
        status = o.command->main(&o, &env);
    }
    cli_options_free(&o);

    /* Whatever went to stdout must have arrived: a write error not told yet (the usage text
     * on a full disk, the guest's last line) is told now and overrides the status. */
    bool told = con.err != 0;
    if (!console_flush(&con) && !told && status != CLI_EXIT_OUTPUT)
        status = console_error(&con, "output is incomplete");
    fflush(stderr);
    return status;
}
