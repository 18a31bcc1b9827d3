/* The option table, the parser and the usage text (see options.h). */
#include "frontend/options.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/gdb/stub.h"
#include "machine/machine.h"

#define RUN   CLI_CMD_BIT(CLI_CMD_RUN)
#define DEMO  CLI_CMD_BIT(CLI_CMD_DEMO)
#define RUNS  (RUN | DEMO) /* every command that runs a guest */
#define LOG   CLI_CMD_BIT(CLI_CMD_LOG)
#define EXPORT CLI_CMD_BIT(CLI_CMD_EXPORT)
#define REPLAY CLI_CMD_BIT(CLI_CMD_REPLAY)
#define READS (LOG | EXPORT) /* commands that filter a trace's events */
#define VIEW  CLI_CMD_BIT(CLI_CMD_VIEW)

/* The field of struct cli_options an option sets. */
#define FIELD(f) .offset = offsetof(struct cli_options, f), \
                 .size = sizeof(((struct cli_options *)0)->f)

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* --log insn[,regs][,int][,unimp]: the last --log given counts. */
static int parse_log(struct cli_options *o, const char *spec, char *err, size_t errlen)
{
    struct session_options *r = &o->run;
    const char *p = spec;
    r->log_insn = r->log_regs = r->log_int = r->log_unimp = false;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 4 && strncmp(p, "insn", 4) == 0)
            r->log_insn = true;
        else if (n == 4 && strncmp(p, "regs", 4) == 0)
            r->log_insn = r->log_regs = true;
        else if (n == 3 && strncmp(p, "int", 3) == 0)
            r->log_int = true;
        else if (n == 5 && strncmp(p, "unimp", 5) == 0)
            r->log_unimp = true;
        else
            return fail(err, errlen, "unknown --log item '%.*s' (known: insn, regs, int, "
                        "unimp)", (int)n, p);
        p += n;
        if (*p == ',')
            p++;
    }
    if (!r->log_insn && !r->log_int && !r->log_unimp)
        return fail(err, errlen, "--log needs insn, regs, int or unimp");
    return 0;
}

/* --gdb [HOST:]PORT. */
static int parse_gdb(struct cli_options *o, const char *val, char *err, size_t errlen)
{
    if (!gdb_addr_valid(val, err, errlen))
        return -1;
    o->run.gdb = val;
    return 0;
}

const struct cli_option_def cli_option_defs[] = {
    { .name = "--append", .arg = "\"CMDLINE\"", .commands = RUN,
      .help = "Multiboot command line (after the image path)",
      .kind = CLI_OPT_STRING, FIELD(append) },
    { .name = "--module", .arg = "\"FILE[ ARGS]\"", .commands = RUN,
      .help = "a Multiboot module and its string (repeatable)",
      .kind = CLI_OPT_LIST, FIELD(modules) },
    { .name = "--mem", .arg = "MIB", .commands = RUNS,
      .help = "guest RAM in MiB, 2..3072 (default 256)",
      .kind = CLI_OPT_UINT, FIELD(run.mem_mib), .what = "MiB",
      .min = MACHINE_MEM_MIN_MIB, .max = MACHINE_MEM_MAX_MIB },
    { .name = "--max-insns", .arg = "N", .commands = RUNS,
      .help = "stop after N instructions (default 0 = no limit)",
      .kind = CLI_OPT_UINT, FIELD(run.max_insns), .what = "instructions (0 = no limit)",
      .min = 0, .max = UINT64_MAX },
    { .name = "--stats", .commands = RUNS,
      .help = "at exit: instructions, MIPS, counts per ring and CR3",
      .kind = CLI_OPT_FLAG, FIELD(run.stats) },
    { .name = "--log", .arg = "ITEM[,ITEM]", .commands = RUNS,
      .help = "log insn, regs, int and/or unimp (see below)",
      .kind = CLI_OPT_CALL, .call = parse_log },
    { .name = "--log-file", .arg = "F", .commands = RUNS,
      .help = "write the log to F instead of stderr",
      .kind = CLI_OPT_STRING, FIELD(run.log_file), .what = "a file name" },
    { .name = "--record", .arg = "FILE", .commands = RUNS,
      .help = "write a trace of the run to FILE",
      .kind = CLI_OPT_STRING, FIELD(run.record_file), .what = "a file name" },
    { .name = "--inputs-only", .commands = RUNS,
      .help = "with --record: inputs only (the events regenerated)",
      .kind = CLI_OPT_FLAG, FIELD(run.record_inputs_only) },
    { .name = "--view", .commands = RUNS,
      .help = "watch the run live in the trace view (a window)",
      .kind = CLI_OPT_FLAG, FIELD(run.view) },
    { .name = "--view-speed", .arg = "N", .commands = RUNS,
      .help = "instructions per frame with --view (default 250000)",
      .kind = CLI_OPT_UINT, FIELD(run.view_speed), .what = "instructions",
      .min = 1, .max = 1000000000 },
    { .name = "--format", .arg = "FMT", .commands = LOG,
      .help = "text (the --log int lines, default) or jsonl",
      .kind = CLI_OPT_STRING, FIELD(trace.format), .what = "text or jsonl" },
    { .name = "--pid", .arg = "N", .commands = READS,
      .help = "only events in the address space of process N",
      .kind = CLI_OPT_STRING, FIELD(trace.pid), .what = "a process number" },
    { .name = "--space", .arg = "NAME", .commands = READS,
      .help = "only events in the address space NAME (or CR3 0x...)",
      .kind = CLI_OPT_STRING, FIELD(trace.space), .what = "a name" },
    { .name = "--kind", .arg = "K", .commands = READS,
      .help = "only events of kind K (exception, iret, ...)",
      .kind = CLI_OPT_STRING, FIELD(trace.kind), .what = "a kind" },
    { .name = "--vector", .arg = "V", .commands = READS,
      .help = "only events with vector V (0..255, or 0x..)",
      .kind = CLI_OPT_STRING, FIELD(trace.vector), .what = "a vector" },
    { .name = "--cpl", .arg = "N", .commands = READS,
      .help = "only events that began at CPL N",
      .kind = CLI_OPT_STRING, FIELD(trace.cpl), .what = "0..3" },
    { .name = "--from", .arg = "I", .commands = READS,
      .help = "only events at instruction count I or later",
      .kind = CLI_OPT_STRING, FIELD(trace.from), .what = "an instruction count" },
    { .name = "--to", .arg = "I", .commands = READS,
      .help = "only events at instruction count I or earlier",
      .kind = CLI_OPT_STRING, FIELD(trace.to), .what = "an instruction count" },
    { .name = "--perfetto", .arg = "OUT", .commands = EXPORT,
      .help = "write Chrome trace-event JSON (Perfetto) to OUT",
      .kind = CLI_OPT_STRING, FIELD(trace.perfetto), .what = "a file name" },
    { .name = "--screenshot", .arg = "OUT", .commands = VIEW,
      .help = "render one frame to OUT (PNG) without a display",
      .kind = CLI_OPT_STRING, FIELD(view.screenshot), .what = "a file name" },
    { .name = "--at", .arg = "I", .commands = VIEW,
      .help = "centre the timeline on instruction count I",
      .kind = CLI_OPT_STRING, FIELD(view.at), .what = "an instruction count" },
    { .name = "--span", .arg = "N", .commands = VIEW,
      .help = "show N instructions (default: the whole run)",
      .kind = CLI_OPT_STRING, FIELD(view.span), .what = "an instruction count" },
    { .name = "--select", .arg = "K", .commands = VIEW,
      .help = "select event K (0 is the first) in the details panel",
      .kind = CLI_OPT_STRING, FIELD(view.select), .what = "an event number" },
    { .name = "--width", .arg = "PX", .commands = VIEW | RUNS,
      .help = "window or screenshot width (default 1600)",
      .kind = CLI_OPT_UINT, FIELD(view.width), .what = "pixels", .min = 640, .max = 8192 },
    { .name = "--height", .arg = "PX", .commands = VIEW | RUNS,
      .help = "window or screenshot height (default 1000)",
      .kind = CLI_OPT_UINT, FIELD(view.height), .what = "pixels", .min = 480, .max = 8192 },
    { .name = "--ips", .arg = "N", .commands = RUNS | EXPORT,
      .help = "instructions per guest second (default 100000000)",
      .kind = CLI_OPT_UINT, FIELD(run.ips), .what = "instructions per second of guest time",
      .min = 1000, .max = 100000000000ull },
    { .name = "--realtime", .commands = RUNS,
      .help = "pace device time by the wall clock (not reproducible)",
      .kind = CLI_OPT_FLAG, FIELD(run.realtime) },
    { .name = "--dump-pages", .commands = RUNS,
      .help = "at exit, print the page tables (like QEMU's info mem)",
      .kind = CLI_OPT_FLAG, FIELD(run.dump_pages) },
    { .name = "--gdb", .arg = "[HOST:]PORT", .commands = RUNS | REPLAY,
      .help = "serve gdb there (port 0: any free port; see below)",
      .kind = CLI_OPT_CALL, .call = parse_gdb },
    { .name = "--gdb-local", .alias = 's', .commands = RUNS | REPLAY,
      .help = "the same as --gdb 127.0.0.1:1234",
      .kind = CLI_OPT_FLAG, FIELD(run.gdb_local) },
    { .name = "--gdb-wait", .alias = 'S', .commands = RUNS | REPLAY,
      .help = "start halted until gdb says continue",
      .kind = CLI_OPT_FLAG, FIELD(run.gdb_wait) },
    { .name = "--help", .alias = 'h', .commands = CLI_CMDS_ALL,
      .help = "print this help and exit",
      .kind = CLI_OPT_ACTION, .action = CLI_ACTION_HELP },
    { .name = "--version", .alias = 'V', .commands = CLI_CMDS_ALL,
      .help = "print the version and exit",
      .kind = CLI_OPT_ACTION, .action = CLI_ACTION_VERSION },
};

const size_t cli_option_count = sizeof(cli_option_defs) / sizeof(cli_option_defs[0]);

/* A decimal number with no sign, spaces or suffix, that fits in 64 bits. */
static bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static uint64_t uint_max(size_t size)
{
    return size == sizeof(uint32_t) ? UINT32_MAX : UINT64_MAX;
}

/* Stores val as def says. */
static int apply(const struct cli_option_def *def, struct cli_options *o, const char *val,
                 char *err, size_t errlen)
{
    char *field = (char *)o + def->offset;
    switch (def->kind) {
    case CLI_OPT_FLAG:
        *(bool *)field = true;
        return 0;
    case CLI_OPT_UINT: {
        uint64_t v;
        if (!parse_u64(val, &v) || v < def->min || v > def->max) {
            char range[64] = "";
            if (def->min != 0 || def->max != uint_max(def->size))
                snprintf(range, sizeof range, " from %" PRIu64 " to %" PRIu64, def->min,
                         def->max);
            return fail(err, errlen, "%s must be a whole number of %s%s, not '%s'", def->name,
                        def->what, range, val);
        }
        if (def->size == sizeof(uint32_t))
            *(uint32_t *)field = (uint32_t)v;
        else
            *(uint64_t *)field = v;
        return 0;
    }
    case CLI_OPT_STRING:
        if (!*val && def->what)
            return fail(err, errlen, "%s needs %s", def->name, def->what);
        *(const char **)field = val;
        return 0;
    case CLI_OPT_LIST: {
        struct cli_list *l = (struct cli_list *)field;
        l->items[l->n++] = val;
        return 0;
    }
    case CLI_OPT_CALL:
        return def->call(o, val, err, errlen);
    case CLI_OPT_ACTION:
        o->action = def->action;
        return 0;
    }
    return 0;
}

/* The row for argument a ("--name", "--name=value" or "-x"); *eq is set to the '=' of a
 * long option's value, NULL when there is none. */
static const struct cli_option_def *lookup(const char *a, const char **eq)
{
    *eq = NULL;
    if (a[1] != '-') {
        for (size_t k = 0; k < cli_option_count; k++)
            if (cli_option_defs[k].alias && a[1] == cli_option_defs[k].alias && !a[2])
                return &cli_option_defs[k];
        return NULL;
    }
    *eq = strchr(a, '=');
    size_t len = *eq ? (size_t)(*eq - a) : strlen(a);
    for (size_t k = 0; k < cli_option_count; k++)
        if (strlen(cli_option_defs[k].name) == len &&
            strncmp(cli_option_defs[k].name, a, len) == 0)
            return &cli_option_defs[k];
    return NULL;
}

/* An argument that is not an option: the command's operand. */
static int take_operand(struct cli_options *o, const char *a, char *err, size_t errlen)
{
    const struct cli_command *cmd = o->command;
    if (!cmd->operand || o->operand)
        return fail(err, errlen, "unexpected argument '%s'%s", a, cmd->extra_hint);
    o->operand = a;
    return 0;
}

int cli_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->command = &cli_commands[CLI_CMD_DEFAULT];
    o->run.mem_mib = MACHINE_MEM_DEFAULT_MIB;
    /* room for every argument */
    o->modules.items = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*o->modules.items));
    if (!o->modules.items)
        return fail(err, errlen, "out of memory");

    int i = 1;
    if (argc > 1 && argv[1][0] != '-') {
        o->command = cli_command_find(argv[1]);
        if (!o->command)
            return fail(err, errlen, "unknown command '%s' (try 'ringside --help')", argv[1]);
        o->command_named = true;
        i = 2;
    }
    const struct cli_command *cmd = o->command;

    bool options_done = false;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
            if (take_operand(o, a, err, errlen) < 0)
                return -1;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        const char *eq;
        const struct cli_option_def *def = lookup(a, &eq);
        if (!def)
            return fail(err, errlen, "unknown option '%.*s' (try 'ringside --help')",
                        (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
        if (!(def->commands & CLI_CMD_BIT(cli_command_id(cmd))))
            return fail(err, errlen, "%s does not apply to '%s'%s", def->name, cmd->name,
                        cmd->foreign_hint ? cmd->foreign_hint : "");
        const char *val = NULL;
        if (!def->arg) {
            if (eq)
                return fail(err, errlen, "option '%s' takes no value", def->name);
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            return fail(err, errlen, "option '%s' needs a value", def->name);
        }
        if (apply(def, o, val, err, errlen) < 0)
            return -1;
        if (o->action != CLI_ACTION_COMMAND)
            return 0;
    }

    if (cmd->operand && cmd->operand[0] != '[' && !o->operand)
        return fail(err, errlen, "%s", cmd->missing);
    const struct session_options *r = &o->run;
    if (r->log_file && !r->log_insn && !r->log_int && !r->log_unimp)
        return fail(err, errlen, "--log-file needs --log");
    if (r->gdb_local && !r->gdb)
        o->run.gdb = "127.0.0.1:1234";
    if (r->gdb_wait && !r->gdb)
        return fail(err, errlen, "-S (--gdb-wait) needs --gdb or -s");
    if (r->record_inputs_only && !r->record_file)
        return fail(err, errlen, "--inputs-only needs --record");
    if (r->record_file && o->run.gdb)
        return fail(err, errlen, "--record cannot be used with --gdb (going back in gdb would "
                    "record a stretch of the run twice)");
    if (r->record_file && r->realtime)
        return fail(err, errlen, "--record cannot be used with --realtime (a run paced by the "
                    "wall clock cannot be replayed)");
    if (r->view_speed && !r->view)
        return fail(err, errlen, "--view-speed needs --view");
    if ((o->view.width || o->view.height) && !r->view && cli_command_id(cmd) != CLI_CMD_VIEW)
        return fail(err, errlen, "--width and --height need --view");
    o->run.view_width = o->view.width;
    o->run.view_height = o->view.height;
    if (r->view && (r->gdb || r->gdb_local))
        return fail(err, errlen, "--view cannot be used with --gdb (one of them drives the run)");
    o->run.command = cmd->name;
    o->run.argc = argc;
    o->run.argv = argv;
    return 0;
}

void cli_options_free(struct cli_options *o)
{
    free(o->modules.items);
    o->modules.items = NULL;
    o->modules.n = 0;
}

/* ---- The usage text ---- */

void cli_option_synopsis(const struct cli_option_def *def, char *buf, size_t len)
{
    char alias[8] = "";
    if (def->alias)
        snprintf(alias, sizeof alias, "-%c, ", def->alias);
    snprintf(buf, len, "%s%s%s%s", alias, def->name, def->arg ? " " : "",
             def->arg ? def->arg : "");
}

/* The column where option help begins: two spaces after the longest synopsis. */
static int option_column(void)
{
    size_t w = 0;
    char syn[CLI_OPTION_SYNOPSIS_LEN];
    for (size_t k = 0; k < cli_option_count; k++) {
        cli_option_synopsis(&cli_option_defs[k], syn, sizeof syn);
        if (strlen(syn) > w)
            w = strlen(syn);
    }
    return (int)w + 4;
}

static void print_option(FILE *out, const struct cli_option_def *def, int column)
{
    char syn[CLI_OPTION_SYNOPSIS_LEN];
    cli_option_synopsis(def, syn, sizeof syn);
    fprintf(out, "  %-*s%s\n", column - 2, syn, def->help);
}

/* Whether cmd accepts an option that not every command accepts. */
static bool has_own_options(const struct cli_command *cmd)
{
    unsigned bit = CLI_CMD_BIT(cli_command_id(cmd));
    for (size_t k = 0; k < cli_option_count; k++)
        if ((cli_option_defs[k].commands & bit) && cli_option_defs[k].commands != CLI_CMDS_ALL)
            return true;
    return false;
}

/* "run IMAGE [options]", "[demo] [options]", "help [COMMAND]". */
static void command_synopsis(const struct cli_command *cmd, char *buf, size_t len)
{
    bool dflt = cli_command_id(cmd) == CLI_CMD_DEFAULT;
    snprintf(buf, len, "%s%s%s%s%s%s", dflt ? "[" : "", cmd->name, dflt ? "]" : "",
             cmd->operand ? " " : "", cmd->operand ? cmd->operand : "",
             has_own_options(cmd) ? " [options]" : "");
}

/* "run", "run and demo", "run, demo and help", "every command". */
static void command_list(unsigned mask, char *buf, size_t len)
{
    if (mask == CLI_CMDS_ALL) {
        snprintf(buf, len, "every command");
        return;
    }
    unsigned total = 0, done = 0;
    for (unsigned c = 0; c < CLI_CMD_COUNT; c++)
        total += (mask >> c) & 1;
    buf[0] = '\0';
    for (unsigned c = 0; c < CLI_CMD_COUNT; c++) {
        if (!((mask >> c) & 1))
            continue;
        size_t at = strlen(buf);
        snprintf(buf + at, len - at, "%s%s", done == 0 ? "" : done + 1 == total ? " and " : ", ",
                 cli_commands[c].name);
        done++;
    }
}

static void global_usage(FILE *out, int column)
{
    static const char *const extra[][2] = {
        { "COMMAND --help", "only COMMAND's options" },
        { "--help | --version", "" },
    };
    char syn[CLI_CMD_COUNT][80];
    int w = 0;
    for (unsigned c = 0; c < CLI_CMD_COUNT; c++) {
        command_synopsis(&cli_commands[c], syn[c], sizeof syn[c]);
        if ((int)strlen(syn[c]) > w)
            w = (int)strlen(syn[c]);
    }
    for (unsigned c = 0; c < CLI_CMD_COUNT; c++)
        fprintf(out, "%s ringside %-*s  %s\n", c == 0 ? "usage:" : "      ", w, syn[c],
                cli_commands[c].summary);
    for (size_t e = 0; e < sizeof extra / sizeof extra[0]; e++) {
        if (extra[e][1][0])
            fprintf(out, "       ringside %-*s  %s\n", w, extra[e][0], extra[e][1]);
        else
            fprintf(out, "       ringside %s\n", extra[e][0]);
    }

    /* The options, one group per set of commands, in the order the table first names it. */
    for (size_t k = 0; k < cli_option_count; k++) {
        unsigned mask = cli_option_defs[k].commands;
        bool seen = false;
        for (size_t j = 0; j < k; j++)
            seen |= cli_option_defs[j].commands == mask;
        if (seen)
            continue;
        char who[128];
        command_list(mask, who, sizeof who);
        fprintf(out, "\noptions for %s:\n", who);
        for (size_t j = k; j < cli_option_count; j++)
            if (cli_option_defs[j].commands == mask)
                print_option(out, &cli_option_defs[j], column);
    }

    /* Each command's notes, once. */
    for (unsigned c = 0; c < CLI_CMD_COUNT; c++) {
        const char *notes = cli_commands[c].notes;
        bool seen = false;
        for (unsigned d = 0; d < c; d++)
            seen |= cli_commands[d].notes == notes;
        if (notes && !seen)
            fprintf(out, "\n%s", notes);
    }
}

void cli_usage(FILE *out, const struct cli_command *cmd)
{
    int column = option_column();
    if (!cmd) {
        global_usage(out, column);
        return;
    }
    char syn[80];
    command_synopsis(cmd, syn, sizeof syn);
    fprintf(out, "usage: ringside %s\n%s\n\noptions:\n", syn, cmd->summary);
    unsigned bit = CLI_CMD_BIT(cli_command_id(cmd));
    for (size_t k = 0; k < cli_option_count; k++)
        if (cli_option_defs[k].commands & bit)
            print_option(out, &cli_option_defs[k], column);
    if (cmd->notes)
        fprintf(out, "\n%s", cmd->notes);
}
