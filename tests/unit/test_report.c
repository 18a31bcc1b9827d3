/* report(): Ringside's one line on stderr. Whatever text a flag, a file name or a guest puts
 * into it, the line stays one line and holds no control character: every byte 0x00-0x1F and
 * 0x7F is written as \xNN (an escape sequence in a file name could otherwise recolour the
 * terminal, move the cursor or set its title). Found by the cli fuzz target
 * (tests/fuzz/corpus/cli/seed-control-chars). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "frontend/report.h"

static char *escaped(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    report_write_escaped(f, s);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void control_characters_are_escaped(void **state)
{
    (void)state;
    char *e = escaped("a\x1b[31mred\x07\tb\nc\x7f\x01");
    assert_string_equal(e, "a\\x1b[31mred\\x07\\x09b\\x0ac\\x7f\\x01");
    free(e);
    e = escaped("plain text, UTF-8 \xc3\xa9 and \\ stay");
    assert_string_equal(e, "plain text, UTF-8 \xc3\xa9 and \\ stay");
    free(e);
}

/* The whole line as report() writes it to stderr (fd 2 pointed at a temporary file). */
static void report_writes_one_escaped_line(void **state)
{
    (void)state;
    char path[] = "/tmp/ringside-report-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 2) == 2);
    report("bad value '%s' (%d)", "\x1b]0;title\x07", 7);
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[1000] = '\n';
    report("%s", big); /* longer than report()'s own buffer */
    fflush(stderr);
    assert_true(dup2(saved, 2) == 2);
    close(saved);
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    buf[n] = '\0';
    const char *first = "ringside: bad value '\\x1b]0;title\\x07' (7)\n";
    assert_memory_equal(buf, first, strlen(first));
    const char *second = buf + strlen(first);
    assert_memory_equal(second, "ringside: ", 10);
    assert_int_equal(strlen(second), 10 + 1000 + 4 + 998 + 1);
    assert_memory_equal(second + 10 + 1000, "\\x0a", 4);
    assert_true(strchr(second, '\n') == second + strlen(second) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(control_characters_are_escaped),
        cmocka_unit_test(report_writes_one_escaped_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
