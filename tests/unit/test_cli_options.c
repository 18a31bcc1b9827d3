/* The command line's tables (src/frontend/options.c, commands.c): the usage text they make,
 * the parser (unknown options, options a command does not take, values and their ranges, the
 * --x=v and --x v forms, `--`) and the exit status cli_main gives for each kind of bad usage. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "frontend/cli.h"
#include "frontend/commands.h"
#include "frontend/options.h"

#define MAX_ARGS 16

/* ---- helpers ---- */

/* The usage text for cmd (NULL: the whole program's), as a malloc'd string. */
static char *usage_of(const struct cli_command *cmd)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cli_usage(f, cmd);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* Whether text has the line "  SYNOPSIS<two or more spaces>HELP" for def. */
static bool has_option_line(const char *text, const struct cli_option_def *def)
{
    char syn[CLI_OPTION_SYNOPSIS_LEN];
    cli_option_synopsis(def, syn, sizeof syn);
    for (const char *line = text; *line; ) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        size_t s = strlen(syn), h = strlen(def->help);
        if (n >= 2 + s + 2 + h && strncmp(line, "  ", 2) == 0 && strncmp(line + 2, syn, s) == 0
            && line[2 + s] == ' ' && line[2 + s + 1] == ' '
            && strncmp(line + n - h, def->help, h) == 0) {
            bool spaces = true;
            for (size_t k = 2 + s; k < n - h; k++)
                spaces &= line[k] == ' ';
            if (spaces)
                return true;
        }
        line += n + (end ? 1 : 0);
    }
    return false;
}

/* How many lines of text list an option ("  -" at their start). */
static int option_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += strncmp(p, "  -", 3) == 0;
    return n;
}

struct parsed {
    struct cli_options o;
    int rc;
    char err[512];
};

/* Parses "ringside" followed by the NULL-terminated arguments. */
static void parse(struct parsed *p, ...)
{
    static char *argv[MAX_ARGS];
    int argc = 0;
    va_list ap;
    va_start(ap, p);
    argv[argc++] = "ringside";
    for (char *a; (a = va_arg(ap, char *)) != NULL; )
        argv[argc++] = a;
    va_end(ap);
    assert_true(argc < MAX_ARGS);
    argv[argc] = NULL;
    p->err[0] = '\0';
    p->rc = cli_parse(argc, argv, &p->o, p->err, sizeof p->err);
    cli_options_free(&p->o);
}

#define PARSE_OK(p, ...) do { parse(p, __VA_ARGS__, (char *)NULL); \
                              assert_int_equal((p)->rc, 0); } while (0)
#define PARSE_ERR(p, msg, ...) do { parse(p, __VA_ARGS__, (char *)NULL); \
                                    assert_int_equal((p)->rc, -1); \
                                    assert_string_equal((p)->err, msg); } while (0)

/* ---- the tables ---- */

/* Every row is complete and consistent with its kind; no name or alias is used twice. */
static void test_table_rows(void **state)
{
    (void)state;
    assert_true(cli_option_count > 0);
    for (size_t k = 0; k < cli_option_count; k++) {
        const struct cli_option_def *d = &cli_option_defs[k];
        assert_non_null(d->name);
        assert_int_equal(strncmp(d->name, "--", 2), 0);
        assert_non_null(d->help);
        assert_true(d->help[0] != '\0' && !strchr(d->help, '\n'));
        assert_true(d->commands != 0 && (d->commands & ~CLI_CMDS_ALL) == 0);
        bool valued = d->kind != CLI_OPT_FLAG && d->kind != CLI_OPT_ACTION;
        assert_true(valued == (d->arg != NULL));
        if (d->kind == CLI_OPT_UINT) {
            assert_true(d->size == 4 || d->size == 8);
            assert_true(d->min <= d->max);
            assert_true(d->size == 8 || d->max <= UINT32_MAX);
            assert_non_null(d->what);
        }
        if (d->kind == CLI_OPT_CALL)
            assert_non_null(d->call);
        for (size_t j = 0; j < k; j++) {
            assert_string_not_equal(d->name, cli_option_defs[j].name);
            assert_true(!d->alias || d->alias != cli_option_defs[j].alias);
        }
    }
    for (unsigned c = 0; c < CLI_CMD_COUNT; c++) {
        assert_ptr_equal(cli_command_find(cli_commands[c].name), &cli_commands[c]);
        assert_int_equal(cli_command_id(&cli_commands[c]), c);
        assert_non_null(cli_commands[c].main);
        if (cli_commands[c].operand && cli_commands[c].operand[0] != '[')
            assert_non_null(cli_commands[c].missing);
    }
    assert_null(cli_command_find("frobnicate"));
}

/* `ringside --help` lists every command with its summary and every option with its help. */
static void test_usage_lists_everything(void **state)
{
    (void)state;
    char *text = usage_of(NULL);
    assert_int_equal(strncmp(text, "usage: ringside run IMAGE", 25), 0);
    for (unsigned c = 0; c < CLI_CMD_COUNT; c++) {
        char line[128];
        snprintf(line, sizeof line, "ringside %s%s", c == CLI_CMD_DEFAULT ? "[" : "",
                 cli_commands[c].name);
        assert_non_null(strstr(text, line));
        assert_non_null(strstr(text, cli_commands[c].summary));
    }
    for (size_t k = 0; k < cli_option_count; k++)
        if (!has_option_line(text, &cli_option_defs[k]))
            fail_msg("no usage line for %s", cli_option_defs[k].name);
    assert_int_equal(option_lines(text), (int)cli_option_count);
    assert_non_null(strstr(text, "\noptions for run:\n"));
    assert_non_null(strstr(text, "\noptions for run and demo:\n"));
    assert_non_null(strstr(text, "\noptions for every command:\n"));
    assert_non_null(strstr(text, "124 instruction limit reached"));
    free(text);
}

/* `ringside COMMAND --help` lists exactly the options COMMAND accepts. */
static void test_command_usage_lists_its_options(void **state)
{
    (void)state;
    for (unsigned c = 0; c < CLI_CMD_COUNT; c++) {
        const struct cli_command *cmd = &cli_commands[c];
        char *text = usage_of(cmd);
        char head[128];
        snprintf(head, sizeof head, "usage: ringside %s%s%s", c == CLI_CMD_DEFAULT ? "[" : "",
                 cmd->name, c == CLI_CMD_DEFAULT ? "]" : "");
        assert_int_equal(strncmp(text, head, strlen(head)), 0);
        assert_non_null(strstr(text, cmd->summary));
        int accepted = 0;
        for (size_t k = 0; k < cli_option_count; k++) {
            const struct cli_option_def *d = &cli_option_defs[k];
            bool takes = d->commands & CLI_CMD_BIT(c);
            accepted += takes;
            if (has_option_line(text, d) != takes)
                fail_msg("'%s' help %s %s", cmd->name, takes ? "lacks" : "lists", d->name);
        }
        assert_int_equal(option_lines(text), accepted);
        free(text);
    }
    /* The demo does not take the image's command line and modules; run does. */
    char *demo = usage_of(&cli_commands[CLI_CMD_DEMO]), *run = usage_of(&cli_commands[CLI_CMD_RUN]);
    assert_null(strstr(demo, "--append"));
    assert_null(strstr(demo, "--module"));
    assert_non_null(strstr(run, "--append"));
    assert_non_null(strstr(demo, "--max-insns"));
    free(demo);
    free(run);
}

/* No line of any usage text is wider than 79 columns. */
static void test_usage_fits_80_columns(void **state)
{
    (void)state;
    for (int c = -1; c < CLI_CMD_COUNT; c++) {
        char *text = usage_of(c < 0 ? NULL : &cli_commands[c]);
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
            if (strlen(line) > 79)
                fail_msg("line of %zu columns: %s", strlen(line), line);
        free(text);
    }
}

/* ---- parsing ---- */

static void test_commands_and_operands(void **state)
{
    (void)state;
    struct parsed p;
    PARSE_OK(&p, (char *)NULL);
    assert_ptr_equal(p.o.command, &cli_commands[CLI_CMD_DEMO]);
    assert_false(p.o.command_named);
    PARSE_OK(&p, "--stats");
    assert_ptr_equal(p.o.command, &cli_commands[CLI_CMD_DEMO]);
    assert_true(p.o.run.stats);
    PARSE_OK(&p, "demo");
    assert_true(p.o.command_named);
    assert_int_equal(p.o.run.mem_mib, 256);
    PARSE_OK(&p, "run", "a.elf");
    assert_ptr_equal(p.o.command, &cli_commands[CLI_CMD_RUN]);
    assert_string_equal(p.o.operand, "a.elf");
    assert_int_equal(p.o.action, CLI_ACTION_COMMAND);
    PARSE_OK(&p, "run", "-");
    assert_string_equal(p.o.operand, "-");
    PARSE_OK(&p, "help", "run");
    assert_ptr_equal(p.o.command, &cli_commands[CLI_CMD_HELP]);
    assert_string_equal(p.o.operand, "run");
    PARSE_OK(&p, "help");
    assert_null(p.o.operand);

    PARSE_ERR(&p, "unknown command 'frobnicate' (try 'ringside --help')", "frobnicate");
    PARSE_ERR(&p, "unknown command 'x.elf' (try 'ringside --help')", "x.elf", "--stats");
    PARSE_ERR(&p, "run needs an IMAGE (usage: ringside run IMAGE [options])", "run");
    PARSE_ERR(&p, "run needs an IMAGE (usage: ringside run IMAGE [options])", "run", "--stats");
    PARSE_ERR(&p, "unexpected argument 'b.elf': one image only (modules go in --module)", "run",
              "a.elf", "b.elf");
    PARSE_ERR(&p, "unexpected argument 'x.elf' (the demo takes no image; use 'ringside run "
              "IMAGE')", "demo", "x.elf");
    PARSE_ERR(&p, "unexpected argument 'demo' (help takes one COMMAND)", "help", "run", "demo");
}

static void test_unknown_option(void **state)
{
    (void)state;
    struct parsed p;
    PARSE_ERR(&p, "unknown option '--frobnicate' (try 'ringside --help')", "run", "x.elf",
              "--frobnicate");
    PARSE_ERR(&p, "unknown option '--frob' (try 'ringside --help')", "--frob=3");
    PARSE_ERR(&p, "unknown option '-x' (try 'ringside --help')", "run", "x.elf", "-x");
    PARSE_ERR(&p, "unknown option '-hx' (try 'ringside --help')", "-hx");
    /* a prefix of an option is not the option */
    PARSE_ERR(&p, "unknown option '--me' (try 'ringside --help')", "--me", "64");
    PARSE_ERR(&p, "unknown option '--mem-size' (try 'ringside --help')", "--mem-size=64");
    /* an unknown option after --help is not looked at; before it, it is */
    PARSE_OK(&p, "run", "x.elf", "--help", "--frobnicate");
    PARSE_ERR(&p, "unknown option '--frobnicate' (try 'ringside --help')", "--frobnicate",
              "--help");
}

static void test_option_not_for_command(void **state)
{
    (void)state;
    struct parsed p;
    PARSE_ERR(&p, "--append does not apply to 'demo' (the demo has its own modules and command "
              "line; use 'ringside run IMAGE' for others)", "demo", "--append", "x");
    PARSE_ERR(&p, "--module does not apply to 'demo' (the demo has its own modules and command "
              "line; use 'ringside run IMAGE' for others)", "--module=m.elf");
    PARSE_ERR(&p, "--max-insns does not apply to 'help'", "help", "--max-insns", "5");
    PARSE_ERR(&p, "--stats does not apply to 'help'", "help", "run", "--stats");
    /* --help and --version apply to every command */
    for (unsigned c = 0; c < CLI_CMD_COUNT; c++) {
        PARSE_OK(&p, cli_commands[c].name, "--version");
        assert_int_equal(p.o.action, CLI_ACTION_VERSION);
    }
}

/* A value as the next argument or after '='; none for a flag; a missing one. */
static void test_value_forms(void **state)
{
    (void)state;
    struct parsed p;
    PARSE_OK(&p, "run", "x.elf", "--mem=64", "--max-insns", "77");
    assert_int_equal(p.o.run.mem_mib, 64);
    assert_int_equal(p.o.run.max_insns, 77);
    PARSE_OK(&p, "run", "x.elf", "--mem", "64", "--max-insns=77");
    assert_int_equal(p.o.run.mem_mib, 64);
    assert_int_equal(p.o.run.max_insns, 77);
    PARSE_OK(&p, "run", "--append=a=b c", "x.elf");
    assert_string_equal(p.o.append, "a=b c");
    assert_string_equal(p.o.operand, "x.elf");
    PARSE_OK(&p, "run", "x.elf", "--append=");
    assert_string_equal(p.o.append, "");
    /* the next argument is the value, even when it looks like an option */
    PARSE_OK(&p, "run", "x.elf", "--append", "--stats");
    assert_string_equal(p.o.append, "--stats");
    assert_false(p.o.run.stats);
    PARSE_OK(&p, "run", "x.elf", "--append", "--");
    assert_string_equal(p.o.append, "--");
    /* the last one given counts */
    PARSE_OK(&p, "run", "x.elf", "--append", "one", "--append=two", "--mem=4", "--mem", "8");
    assert_string_equal(p.o.append, "two");
    assert_int_equal(p.o.run.mem_mib, 8);

    PARSE_ERR(&p, "option '--mem' needs a value", "run", "x.elf", "--mem");
    PARSE_ERR(&p, "option '--append' needs a value", "run", "x.elf", "--append");
    PARSE_ERR(&p, "option '--stats' takes no value", "run", "x.elf", "--stats=1");
    PARSE_ERR(&p, "option '--stats' takes no value", "run", "x.elf", "--stats=");
    PARSE_ERR(&p, "--log-file needs a file name", "run", "x.elf", "--log", "int",
              "--log-file=");
}

/* Whole numbers: digits only, within the option's range, with the option's own error line. */
static void test_uint_ranges(void **state)
{
    (void)state;
    static const struct {
        const char *opt, *val;
        uint64_t want; /* when ok */
        bool ok;
    } cases[] = {
        { "--mem", "2", 2, true },
        { "--mem", "3072", 3072, true },
        { "--mem", "0128", 128, true },
        { "--mem", "1", 0, false },
        { "--mem", "3073", 0, false },
        { "--mem", "4294967298", 0, false },   /* 2 + 2^32: not cut to 32 bits */
        { "--mem", "", 0, false },
        { "--mem", "64M", 0, false },
        { "--mem", "-5", 0, false },
        { "--mem", "+5", 0, false },
        { "--mem", " 5", 0, false },
        { "--mem", "5 ", 0, false },
        { "--max-insns", "0", 0, true },
        { "--max-insns", "18446744073709551615", UINT64_MAX, true },
        { "--max-insns", "18446744073709551616", 0, false },
        { "--max-insns", "1e9", 0, false },
        { "--max-insns", "0x10", 0, false },
        { "--ips", "1000", 1000, true },
        { "--ips", "100000000000", 100000000000ull, true },
        { "--ips", "999", 0, false },
        { "--ips", "100000000001", 0, false },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct parsed p;
        parse(&p, "run", "x.elf", cases[k].opt, cases[k].val, (char *)NULL);
        if (cases[k].ok) {
            if (p.rc != 0)
                fail_msg("%s %s: %s", cases[k].opt, cases[k].val, p.err);
            uint64_t got = strcmp(cases[k].opt, "--mem") == 0 ? p.o.run.mem_mib
                         : strcmp(cases[k].opt, "--ips") == 0 ? p.o.run.ips
                                                              : p.o.run.max_insns;
            assert_true(got == cases[k].want);
            continue;
        }
        assert_int_equal(p.rc, -1);
        char want[256];
        if (strcmp(cases[k].opt, "--mem") == 0)
            snprintf(want, sizeof want, "--mem must be a whole number of MiB from 2 to 3072, "
                     "not '%s'", cases[k].val);
        else if (strcmp(cases[k].opt, "--ips") == 0)
            snprintf(want, sizeof want, "--ips must be a whole number of instructions per "
                     "second of guest time from 1000 to 100000000000, not '%s'", cases[k].val);
        else
            snprintf(want, sizeof want, "--max-insns must be a whole number of instructions "
                     "(0 = no limit), not '%s'", cases[k].val);
        assert_string_equal(p.err, want);
    }
}

/* `--` ends the options: what follows is an operand, whatever it looks like. */
static void test_double_dash(void **state)
{
    (void)state;
    struct parsed p;
    PARSE_OK(&p, "run", "--", "--odd.elf");
    assert_string_equal(p.o.operand, "--odd.elf");
    PARSE_OK(&p, "run", "--stats", "--", "-");
    assert_string_equal(p.o.operand, "-");
    assert_true(p.o.run.stats);
    PARSE_OK(&p, "run", "x.elf", "--");
    assert_string_equal(p.o.operand, "x.elf");
    PARSE_ERR(&p, "unexpected argument '--stats': one image only (modules go in --module)",
              "run", "x.elf", "--", "--stats");
    PARSE_ERR(&p, "unexpected argument '--help' (the demo takes no image; use 'ringside run "
              "IMAGE')", "demo", "--", "--help");
    PARSE_ERR(&p, "run needs an IMAGE (usage: ringside run IMAGE [options])", "run", "--");
}

static void test_flags_lists_and_log(void **state)
{
    (void)state;
    struct parsed p;
    PARSE_OK(&p, "run", "x.elf");
    assert_false(p.o.run.stats || p.o.run.realtime || p.o.run.dump_pages);
    assert_int_equal(p.o.modules.n, 0);
    assert_null(p.o.append);
    assert_null(p.o.run.log_file);
    PARSE_OK(&p, "run", "x.elf", "--stats", "--realtime", "--dump-pages");
    assert_true(p.o.run.stats && p.o.run.realtime && p.o.run.dump_pages);

    static char *argv[] = { "ringside", "run", "x.elf", "--module", "a.elf one", "--module=b",
                            "--module", "c", NULL };
    struct cli_options o;
    char err[256];
    assert_int_equal(cli_parse(8, argv, &o, err, sizeof err), 0);
    assert_int_equal(o.modules.n, 3);
    assert_string_equal(o.modules.items[0], "a.elf one");
    assert_string_equal(o.modules.items[1], "b");
    assert_string_equal(o.modules.items[2], "c");
    cli_options_free(&o);
    assert_null(o.modules.items);

    PARSE_OK(&p, "run", "x.elf", "--log", "insn");
    assert_true(p.o.run.log_insn && !p.o.run.log_regs && !p.o.run.log_int);
    PARSE_OK(&p, "run", "x.elf", "--log=regs");
    assert_true(p.o.run.log_insn && p.o.run.log_regs);
    PARSE_OK(&p, "run", "x.elf", "--log", "int,unimp,", "--log-file", "f.log");
    assert_true(!p.o.run.log_insn && p.o.run.log_int && p.o.run.log_unimp);
    assert_string_equal(p.o.run.log_file, "f.log");
    PARSE_OK(&p, "run", "x.elf", "--log", "insn,regs", "--log", "int");
    assert_true(!p.o.run.log_insn && !p.o.run.log_regs && p.o.run.log_int);
    PARSE_ERR(&p, "unknown --log item 'cpu' (known: insn, regs, int, unimp)", "run", "x.elf",
              "--log", "cpu");
    PARSE_ERR(&p, "unknown --log item '' (known: insn, regs, int, unimp)", "run", "x.elf",
              "--log", "int,,insn");
    PARSE_ERR(&p, "--log needs insn, regs, int or unimp", "run", "x.elf", "--log", "");
    PARSE_ERR(&p, "--log-file needs --log", "run", "x.elf", "--log-file", "out.log");
    PARSE_ERR(&p, "--log-file needs --log", "--log-file", "out.log");
}

/* --help and --version stop parsing; --help is the named command's, else the program's. */
static void test_actions(void **state)
{
    (void)state;
    struct parsed p;
    PARSE_OK(&p, "--help");
    assert_int_equal(p.o.action, CLI_ACTION_HELP);
    assert_false(p.o.command_named);
    PARSE_OK(&p, "-h");
    assert_int_equal(p.o.action, CLI_ACTION_HELP);
    PARSE_OK(&p, "--stats", "-h");
    assert_int_equal(p.o.action, CLI_ACTION_HELP);
    assert_false(p.o.command_named);
    PARSE_OK(&p, "run", "--help");
    assert_int_equal(p.o.action, CLI_ACTION_HELP);
    assert_true(p.o.command_named);
    assert_ptr_equal(p.o.command, &cli_commands[CLI_CMD_RUN]);
    PARSE_OK(&p, "-V");
    assert_int_equal(p.o.action, CLI_ACTION_VERSION);
    PARSE_OK(&p, "run", "--version", "a.elf", "b.elf");
    assert_int_equal(p.o.action, CLI_ACTION_VERSION);
    PARSE_ERR(&p, "option '--help' takes no value", "--help=run");
    PARSE_ERR(&p, "unknown option '-V=1' (try 'ringside --help')", "-V=1");
}

/* ---- cli_main: one line on stderr and the status ---- */

struct outcome {
    int status;
    char out[8192], err[1024];
};

static void read_all(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs cli_main with stdout and stderr going to files. */
static void run_main(struct outcome *r, int argc, char **argv)
{
    char out_path[] = "cli_out_XXXXXX", err_path[] = "cli_err_XXXXXX";
    int out = mkstemp(out_path), err = mkstemp(err_path);
    assert_true(out >= 0 && err >= 0);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(out, 1);
    dup2(err, 2);
    r->status = cli_main(argc, argv, "");
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(out);
    close(err);
    read_all(out_path, r->out, sizeof r->out);
    read_all(err_path, r->err, sizeof r->err);
    unlink(out_path);
    unlink(err_path);
}

static void test_main_statuses(void **state)
{
    (void)state;
    struct outcome r;
    static char *unknown[] = { "ringside", "run", "x.elf", "--frobnicate", NULL };
    run_main(&r, 4, unknown);
    assert_int_equal(r.status, CLI_EXIT_USAGE);
    assert_string_equal(r.err, "ringside: unknown option '--frobnicate' (try 'ringside --help')\n");
    assert_string_equal(r.out, "");

    static char *foreign[] = { "ringside", "help", "--max-insns", "5", NULL };
    run_main(&r, 4, foreign);
    assert_int_equal(r.status, CLI_EXIT_USAGE);
    assert_string_equal(r.err, "ringside: --max-insns does not apply to 'help'\n");

    static char *badhelp[] = { "ringside", "help", "frob", NULL };
    run_main(&r, 3, badhelp);
    assert_int_equal(r.status, CLI_EXIT_USAGE);
    assert_string_equal(r.err, "ringside: unknown command 'frob' (try 'ringside --help')\n");
    assert_string_equal(r.out, "");

    /* `ringside help run`, `ringside run --help` and the usage cli_usage makes agree */
    char *run_usage = usage_of(&cli_commands[CLI_CMD_RUN]);
    static char *help_run[] = { "ringside", "help", "run", NULL };
    run_main(&r, 3, help_run);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, run_usage);
    assert_string_equal(r.err, "");
    static char *run_help[] = { "ringside", "run", "--help", NULL };
    run_main(&r, 3, run_help);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, run_usage);
    free(run_usage);

    char *all = usage_of(NULL);
    static char *help[] = { "ringside", "help", NULL };
    run_main(&r, 2, help);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, all);
    static char *dash_h[] = { "ringside", "-h", NULL };
    run_main(&r, 2, dash_h);
    assert_string_equal(r.out, all);
    free(all);

    static char *version[] = { "ringside", "--version", NULL };
    run_main(&r, 2, version);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "ringside " RINGSIDE_VERSION "\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_rows),
        cmocka_unit_test(test_usage_lists_everything),
        cmocka_unit_test(test_command_usage_lists_its_options),
        cmocka_unit_test(test_usage_fits_80_columns),
        cmocka_unit_test(test_commands_and_operands),
        cmocka_unit_test(test_unknown_option),
        cmocka_unit_test(test_option_not_for_command),
        cmocka_unit_test(test_value_forms),
        cmocka_unit_test(test_uint_ranges),
        cmocka_unit_test(test_double_dash),
        cmocka_unit_test(test_flags_lists_and_log),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_main_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
