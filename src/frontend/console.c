/* The guest's console on stdout, and what happens when it cannot be written (see console.h). */
#include "frontend/console.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "frontend/cli.h"
#include "frontend/report.h"

void console_init(struct console *con, FILE *out)
{
    *con = (struct console){ .out = out };
}

static void console_failed(struct console *con, int err)
{
    if (con->err)
        return;
    con->err = err ? err : EIO;
    if (con->cpu)
        cpu_request_stop(con->cpu);
}

void console_release(struct console *con)
{
    if (con->nheld && !con->err && fwrite(con->held, 1, con->nheld, con->out) != con->nheld)
        console_failed(con, errno);
    con->nheld = 0;
}

bool console_flush(struct console *con)
{
    errno = 0;
    if (fflush(con->out) == EOF || ferror(con->out))
        console_failed(con, errno);
    return con->err == 0;
}

void console_out(void *ctx, uint8_t byte)
{
    struct console *con = ctx;
    if (con->err)
        return;
    errno = 0;
    con->midline = byte != '\n';
    if (con->hold && byte != '\n') {
        if (con->nheld == sizeof con->held)
            console_release(con);
        con->held[con->nheld++] = (char)byte;
        return;
    }
    console_release(con);
    if (putc(byte, con->out) == EOF) {
        console_failed(con, errno);
        return;
    }
    if (byte == '\n')
        console_flush(con);
}

void console_end_line(struct console *con)
{
    if (console_flush(con) && con->midline && isatty(fileno(con->out)) &&
        isatty(STDERR_FILENO))
        fputc('\n', stderr);
}

int console_error(const struct console *con, const char *where)
{
    if (con->err == EPIPE) {
        report("standard output was closed by its reader (broken pipe); %s", where);
        return CLI_EXIT_PIPE;
    }
    report("cannot write standard output (the guest's console): %s; %s", strerror(con->err),
           where);
    return CLI_EXIT_OUTPUT;
}
