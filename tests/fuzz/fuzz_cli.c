/* Fuzz target: the command-line parser (src/frontend/options.c). The input is the argument
 * vector after the program name, arguments separated by NUL bytes (at most 32). Properties:
 * cli_parse returns 0 or -1, and -1 always comes with a one-line reason; the line as report()
 * writes it (report_write_escaped) holds no control character, whatever bytes the arguments
 * held; on success every string the options point to lies inside the argument vector or is a
 * constant, so freeing them (cli_options_free) is the parser's business alone. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/options.h"
#include "frontend/report.h"

#define MAX_ARGS 32

static void check_line(const char *err)
{
    if (err[0] == '\0') {
        fprintf(stderr, "fuzz_cli: cli_parse failed without a reason\n");
        abort();
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return; /* out of memory: nothing to check */
    report_write_escaped(f, err);
    if (fclose(f) != 0)
        return;
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)buf[k] < 0x20 || buf[k] == 0x7F) {
            fprintf(stderr, "fuzz_cli: control character 0x%02x in the reported line\n",
                    (unsigned char)buf[k]);
            abort();
        }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "ringside";
    for (size_t k = 0; k <= size && argc <= MAX_ARGS;) {
        argv[argc++] = text + k;
        k += strlen(text + k) + 1;
    }
    if (size == 0)
        argc = 1; /* no input: no arguments */
    argv[argc] = NULL;

    struct cli_options o;
    char err[256];
    err[0] = '\0';
    int rc = cli_parse(argc, argv, &o, err, sizeof err);
    if (rc != 0 && rc != -1)
        abort();
    if (rc < 0)
        check_line(err);
    else if (o.command == NULL)
        abort(); /* success names a command (the default one at least) */
    cli_options_free(&o);
    free(text);
    return 0;
}
