/* The options of `ringside`: one table row per option, from which come the parser, the check
 * that an option applies to the command it is given to, and the usage text.
 *
 * A row names the option (--name, and a one-letter alias -x if any), its argument (none for a
 * flag), the commands that accept it (a mask of CLI_CMD_BIT()s), one line of help, and how its
 * value is stored in struct cli_options:
 *
 *   kind            argument   stored as
 *   CLI_OPT_FLAG    none       bool at offset, set to true
 *   CLI_OPT_UINT    yes        a decimal number in min..max, at offset (size 4 or 8 bytes);
 *                              otherwise "NAME must be a whole number of WHAT[ from MIN to
 *                              MAX], not 'VALUE'"
 *   CLI_OPT_STRING  yes        const char * at offset (the last one given); an empty value is
 *                              refused with "NAME needs WHAT" when what is set
 *   CLI_OPT_LIST    yes        appended to the struct cli_list at offset (repeatable)
 *   CLI_OPT_CALL    yes        call(o, value, err, errlen)
 *   CLI_OPT_ACTION  none       ends parsing: o->action = action (--help, --version)
 *
 * A value follows as the next argument (--mem 64) or after '=' (--mem=64); `--` ends the
 * options (what follows is an operand); `-` alone is an operand.
 */
#ifndef RINGSIDE_OPTIONS_H
#define RINGSIDE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "frontend/commands.h"
#include "frontend/session.h"

/* A repeatable option's values, in the order given (pointing into argv). */
struct cli_list {
    const char **items;
    size_t n;
};

enum cli_action {
    CLI_ACTION_COMMAND,  /* run the command */
    CLI_ACTION_HELP,     /* print the usage: the command's when it was named, else all */
    CLI_ACTION_VERSION,  /* print the version */
};

/* What the command line says. */
struct cli_options {
    const struct cli_command *command;
    bool command_named;         /* named on the command line, not the default */
    enum cli_action action;
    const char *operand;        /* the command's one argument (IMAGE, COMMAND), NULL if none */
    const char *append;         /* --append, NULL when absent */
    struct cli_list modules;    /* --module "FILE[ ARGS]" */
    struct session_options run; /* everything else a run is made of */
    struct trace_cli_options {  /* log, replay and export of a trace */
        const char *format;     /* log --format text|jsonl */
        const char *pid, *space, *kind, *vector, *cpl, *from, *to; /* filter.h */
        const char *perfetto;   /* export --perfetto OUT */
    } trace;
    struct view_cli_options {   /* view TRACE */
        const char *screenshot; /* --screenshot OUT, NULL: a window */
        const char *at, *span, *select; /* NULL: not given */
        uint32_t width, height; /* 0: the default */
    } view;
};

enum cli_opt_kind { CLI_OPT_FLAG, CLI_OPT_UINT, CLI_OPT_STRING, CLI_OPT_LIST, CLI_OPT_CALL,
                    CLI_OPT_ACTION };

struct cli_option_def {
    const char *name;       /* "--mem" */
    char alias;             /* 'h' for -h, 0 for none */
    const char *arg;        /* the argument's name in the usage ("MIB"), NULL: takes none */
    unsigned commands;      /* CLI_CMD_BIT()s of the commands that accept it */
    const char *help;       /* one line of usage text */
    enum cli_opt_kind kind;
    size_t offset;          /* FLAG, UINT, STRING, LIST: the field in struct cli_options */
    size_t size;            /* its size (UINT: 4 or 8) */
    uint64_t min, max;      /* UINT: the range */
    const char *what;       /* UINT: the unit in the error line ("MiB"); STRING: what an
                               empty value lacks ("a file name"), NULL if it may be empty */
    int (*call)(struct cli_options *o, const char *val, char *err, size_t errlen); /* CALL */
    enum cli_action action; /* ACTION */
};

extern const struct cli_option_def cli_option_defs[];
extern const size_t cli_option_count;

#define CLI_OPTION_SYNOPSIS_LEN 64 /* room for the longest "-x, --name ARG" */

/* Parses argv into o: the command (argv[1] when it does not start with '-', else the default),
 * its operand and options, and checks what involves more than one option. Returns 0, or -1
 * with a one-line reason in err. Free with cli_options_free either way. */
int cli_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen);
void cli_options_free(struct cli_options *o);

/* Writes the usage text: every command and every option (grouped by the commands that accept
 * them) when cmd is NULL, else one command's synopsis, options and notes. */
void cli_usage(FILE *out, const struct cli_command *cmd);

/* How the usage text shows an option: "--mem MIB", "-h, --help". */
void cli_option_synopsis(const struct cli_option_def *def, char *buf, size_t len);

#endif
