/* The `ringside` command line (see cli.h). */
#include "frontend/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "frontend/insnlog.h"
#include "frontend/intlog.h"
#include "frontend/pagedump.h"
#include "frontend/loader.h"
#include "machine/input_fd.h"

#define ERRLEN 512

static const char usage_text[] =
    "usage: ringside run IMAGE [options]   run an ELF32 or Multiboot v1 image\n"
    "       ringside [demo] [options]      run the bundled demo guest\n"
    "       ringside --help | --version\n"
    "\n"
    "options:\n"
    "  --append \"CMDLINE\"      Multiboot command line (after the image path, as QEMU does)\n"
    "  --module \"FILE[ ARGS]\"  load FILE as a Multiboot module; the whole string is its\n"
    "                          module string (repeatable)\n"
    "  --mem MIB               guest RAM in MiB, 2..3072 (default 128)\n"
    "  --max-insns N           stop after N instructions (default 0 = no limit)\n"
    "  --stats                 print instructions, wall time and MIPS at exit\n"
    "  --log insn[,regs][,int] log every instruction (and the registers) before it runs;\n"
    "                          int: one line per exception, interrupt, INT n, IRET, gate\n"
    "                          transfer, SYSENTER/SYSEXIT, HLT (like QEMU's -d int);\n"
    "                          unimp: the first access to each port or MMIO address that\n"
    "                          no device claims\n"
    "  --ips N                 instructions per second of guest time for the devices\n"
    "                          (default 100000000: the PIT counts from the instruction count)\n"
    "  --realtime              pace device time by the wall clock (not reproducible)\n"
    "  --dump-pages            at exit, print the guest's page tables as ranges with their\n"
    "                          U/R/W and A/D/G flags (like QEMU's info mem)\n"
    "  --log-file F            write the log to F instead of stderr\n"
    "\n"
    "The guest's COM1 (16550 UART at 0x3F8) is stdout; a write of V to port 0xF4\n"
    "(isa-debug-exit) ends the run with exit status (V << 1) | 1.\n"
    "exit status: guest's debug-exit status; 0 cpu halted with interrupts off;\n"
    "  1 host failure (out of memory); 2 bad usage or input (also: stdout closed);\n"
    "  4 triple fault; 6 the guest entered virtual-8086 mode (not supported);\n"
    "  8 stdout or the log file could not be written (e.g. disk full); 10 stdout's\n"
    "  reader went away (broken pipe); 124 instruction limit reached.\n";

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

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, after whatever the guest printed. */
static void report(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("ringside: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

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

static int parse_log(const char *spec, struct cli_options *o, char *err, size_t errlen)
{
    const char *p = spec;
    o->log_insn = o->log_regs = o->log_int = o->log_unimp = false;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 4 && strncmp(p, "insn", 4) == 0)
            o->log_insn = true;
        else if (n == 4 && strncmp(p, "regs", 4) == 0)
            o->log_insn = o->log_regs = true;
        else if (n == 3 && strncmp(p, "int", 3) == 0)
            o->log_int = true;
        else if (n == 5 && strncmp(p, "unimp", 5) == 0)
            o->log_unimp = true;
        else
            return fail(err, errlen, "unknown --log item '%.*s' (known: insn, regs, int, "
                        "unimp)", (int)n, p);
        p += n;
        if (*p == ',')
            p++;
    }
    if (!o->log_insn && !o->log_int && !o->log_unimp)
        return fail(err, errlen, "--log needs insn, regs, int or unimp");
    return 0;
}

/* Options that take a value. */
static const char *const value_options[] = {
    "--append", "--module", "--mem", "--max-insns", "--log", "--log-file", "--ips",
};

static bool takes_value(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(value_options) / sizeof(value_options[0]); i++)
        if (strlen(value_options[i]) == len && strncmp(value_options[i], name, len) == 0)
            return true;
    return false;
}

static int apply_option(struct cli_options *o, const char *name, const char *val, char *err,
                        size_t errlen)
{
    uint64_t v;
    if (strcmp(name, "--append") == 0) {
        o->append = val;
    } else if (strcmp(name, "--module") == 0) {
        o->modules[o->nmodules++] = val;
    } else if (strcmp(name, "--mem") == 0) {
        if (!parse_u64(val, &v) || v < MACHINE_MEM_MIN_MIB || v > MACHINE_MEM_MAX_MIB)
            return fail(err, errlen, "--mem must be a whole number of MiB from %u to %u, "
                        "not '%s'", MACHINE_MEM_MIN_MIB, MACHINE_MEM_MAX_MIB, val);
        o->mem_mib = (uint32_t)v;
    } else if (strcmp(name, "--max-insns") == 0) {
        if (!parse_u64(val, &v))
            return fail(err, errlen, "--max-insns must be a whole number of instructions "
                        "(0 = no limit), not '%s'", val);
        o->max_insns = v;
    } else if (strcmp(name, "--ips") == 0) {
        if (!parse_u64(val, &v) || v < 1000 || v > 100000000000ull)
            return fail(err, errlen, "--ips must be a whole number of instructions per second "
                        "of guest time from 1000 to 100000000000, not '%s'", val);
        o->ips = v;
    } else if (strcmp(name, "--log") == 0) {
        return parse_log(val, o, err, errlen);
    } else if (strcmp(name, "--log-file") == 0) {
        if (!*val)
            return fail(err, errlen, "--log-file needs a file name");
        o->log_file = val;
    }
    return 0;
}

int cli_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->command = CLI_DEMO;
    o->mem_mib = MACHINE_MEM_DEFAULT_MIB;
    /* room for every argument, or for the demo's own modules */
    o->modules = calloc((size_t)(argc > 0 ? argc : 1) + 8, sizeof(*o->modules));
    if (!o->modules)
        return fail(err, errlen, "out of memory");

    int i = 1;
    if (argc > 1 && argv[1][0] != '-') {
        if (strcmp(argv[1], "run") == 0)
            o->command = CLI_RUN;
        else if (strcmp(argv[1], "demo") == 0)
            o->command = CLI_DEMO;
        else if (strcmp(argv[1], "help") == 0)
            o->command = CLI_HELP;
        else
            return fail(err, errlen, "unknown command '%s' (try 'ringside --help')", argv[1]);
        i = 2;
    }

    bool options_done = false;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->command != CLI_RUN)
                return fail(err, errlen, "unexpected argument '%s'%s", a,
                            o->command == CLI_DEMO ? " (the demo takes no image; use "
                            "'ringside run IMAGE')" : "");
            if (o->image)
                return fail(err, errlen, "unexpected argument '%s': one image only (modules "
                            "go in --module)", a);
            o->image = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->command = CLI_HELP;
            return 0;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            o->command = CLI_VERSION;
            return 0;
        }
        if (strcmp(a, "--stats") == 0) {
            o->stats = true;
            continue;
        }
        if (strcmp(a, "--realtime") == 0) {
            o->realtime = true;
            continue;
        }
        if (strcmp(a, "--dump-pages") == 0) {
            o->dump_pages = true;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t namelen = eq ? (size_t)(eq - a) : strlen(a);
        if (!takes_value(a, namelen))
            return fail(err, errlen, "unknown option '%.*s' (try 'ringside --help')",
                        (int)namelen, a);
        char name[16];
        snprintf(name, sizeof(name), "%.*s", (int)namelen, a);
        const char *val;
        if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return fail(err, errlen, "option '%s' needs a value", name);
            val = argv[++i];
        }
        if (apply_option(o, name, val, err, errlen) < 0)
            return -1;
    }

    if (o->command == CLI_RUN && !o->image)
        return fail(err, errlen, "run needs an IMAGE (usage: ringside run IMAGE [options])");
    if (o->log_file && !o->log_insn && !o->log_int && !o->log_unimp)
        return fail(err, errlen, "--log-file needs --log");
    return 0;
}

void cli_options_free(struct cli_options *o)
{
    free(o->modules);
    o->modules = NULL;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The demo image: in guest_dir, else in guests/ next to the executable. Fills out (PATH_MAX
 * sized) or returns -1 with err set. */
/* The demo: the kernel in guests/kernel/ with five programs (see guests/scenarios/demo.scn). */
static const char *const demo_modules[] = {
    "user/hello.elf", "user/syscalls.elf", "user/compute.elf", "user/spin.elf",
    "user/nullderef.elf", NULL,
};

/* The directory holding the demo kernel: RINGSIDE_GUEST_DIR, else guests/ next to the
 * executable. */
static int find_demo(const char *guest_dir, char *out, size_t outlen, char *err, size_t errlen)
{
    const char *first = guest_dir && *guest_dir ? guest_dir : "(no build directory)";
    char probe[4400];
    if (guest_dir && *guest_dir) {
        snprintf(probe, sizeof probe, "%s/%s", guest_dir, CLI_DEMO_IMAGE);
        if (is_file(probe) && (size_t)snprintf(out, outlen, "%s", guest_dir) < outlen)
            return 0;
    }
    char exe[4096], second[4200] = "(unknown: /proc/self/exe unreadable)";
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(second, sizeof(second), "%s/guests", exe);
        snprintf(probe, sizeof probe, "%s/%s", second, CLI_DEMO_IMAGE);
        if (is_file(probe) && (size_t)snprintf(out, outlen, "%s", second) < outlen)
            return 0;
    }
    return fail(err, errlen, "demo kernel %s not found in %s or %s; build the guests or use "
                "'ringside run IMAGE'", CLI_DEMO_IMAGE, first, second);
}

/* COM1 goes to stdout; whole lines are flushed at once, partial ones between run chunks. The
 * first write error (a full disk, a reader that went away: EPIPE, SIGPIPE being ignored) is
 * kept and stops the machine: the rest of the console would be lost. */
struct console {
    FILE *out;
    bool midline; /* the last byte was not a newline */
    int err;      /* errno of the first failed write, 0 while all is well */
    struct cpu *cpu; /* stopped on a write error (NULL before the machine exists) */
};

static void console_failed(struct console *con, int err)
{
    if (con->err)
        return;
    con->err = err ? err : EIO;
    if (con->cpu)
        cpu_request_stop(con->cpu);
}

/* Flushes the console; false (and the error recorded) when it cannot be written. */
static bool console_flush(struct console *con)
{
    errno = 0;
    if (fflush(con->out) == EOF || ferror(con->out))
        console_failed(con, errno);
    return con->err == 0;
}

static void console_out(void *ctx, uint8_t byte)
{
    struct console *con = ctx;
    if (con->err)
        return;
    errno = 0;
    if (putc(byte, con->out) == EOF) {
        console_failed(con, errno);
        return;
    }
    con->midline = byte != '\n';
    if (byte == '\n')
        console_flush(con);
}

/* On a terminal, starts the final report on a line of its own after a partial guest line. */
static void end_console_line(struct console *con)
{
    if (console_flush(con) && con->midline && isatty(fileno(con->out)) &&
        isatty(STDERR_FILENO))
        fputc('\n', stderr);
}

/* The one line for a console that could not be written, and its exit status. */
static int console_error(const struct console *con, const char *where)
{
    if (con->err == EPIPE) {
        report("standard output was closed by its reader (broken pipe); %s", where);
        return CLI_EXIT_PIPE;
    }
    report("cannot write standard output (the guest's console): %s; %s", strerror(con->err),
           where);
    return CLI_EXIT_OUTPUT;
}

/* The log file has a write error (checked with a flush, so errno is fresh): fills *err. */
static bool log_failed(FILE *log, int *err)
{
    errno = 0;
    if (fflush(log) == EOF || ferror(log)) {
        *err = errno ? errno : EIO;
        return true;
    }
    return false;
}

static const char *vector_name(unsigned v)
{
    static const char *const names[] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP",
        "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    };
    return v < sizeof(names) / sizeof(names[0]) ? names[v] : NULL;
}

static void format_fault(char *buf, size_t len, const struct fault *f)
{
    const char *name = vector_name(f->vector);
    if (!name)
        snprintf(buf, len, "vector %u", f->vector);
    else if (f->has_error)
        snprintf(buf, len, "%s(0x%04x)", name, f->error);
    else
        snprintf(buf, len, "%s", name);
}

/* What an event's error code says, e.g. "#GP(0x006b): IDT vector 13" for the selector error
 * code (SDM vol. 3 6.13: index << 3 | TI << 2 | IDT << 1 | EXT) of #TS, #NP, #SS or #GP, or
 * "#PF(0x0006): not-present user write, CR2=0x00000000" for a page fault (SDM vol. 3 4.7: P,
 * W/R, U/S, RSVD, I/D) with the CR2 it set; "" when there is nothing to say. */
static void explain_fault(char *buf, size_t len, const struct fault *f)
{
    bool selector_error = f->has_error && (f->vector == EXC_TS || f->vector == EXC_NP
                                           || f->vector == EXC_SS || f->vector == EXC_GP);
    char name[32];
    format_fault(name, sizeof name, f);
    buf[0] = '\0';
    if (f->vector == EXC_PF) {
        uint32_t e = f->error;
        const char *cause = (e & 0x08) ? "reserved-bit" : (e & 0x01) ? "protection"
                                                                      : "not-present";
        const char *access = (e & 0x10) ? "fetch" : (e & 0x02) ? "write" : "read";
        snprintf(buf, len, "%s: %s %s %s, CR2=0x%08" PRIx32, name, cause,
                 (e & 0x04) ? "user" : "supervisor", access, f->cr2);
    } else if (selector_error && (f->error & 2)) {
        snprintf(buf, len, "%s: IDT vector %u", name, (f->error >> 3) & 0xFF);
    } else if (selector_error && (f->error & ~3u)) {
        snprintf(buf, len, "%s: %s selector 0x%04x", name, f->error & 4 ? "LDT" : "GDT",
                 f->error & 0xFFF8u);
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A terminal on stdin is put in raw mode (no line buffering or echo; Ctrl-C still stops the
 * run) and non-blocking, and restored on every way out, signals included. The saved state is
 * process-wide by nature, so it lives here, not in the machine. */
static struct termios saved_tty;
static int saved_fl = -1;
static volatile sig_atomic_t tty_saved;

static void restore_tty(void)
{
    if (tty_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
        if (saved_fl >= 0)
            fcntl(STDIN_FILENO, F_SETFL, saved_fl);
        tty_saved = 0;
    }
}

static void restore_tty_and_die(int sig)
{
    restore_tty();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void setup_input(struct machine *m)
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
        atexit(restore_tty);
        signal(SIGINT, restore_tty_and_die);
        signal(SIGTERM, restore_tty_and_die);
        signal(SIGHUP, restore_tty_and_die);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    saved_fl = fcntl(STDIN_FILENO, F_GETFL);
    if (saved_fl >= 0)
        fcntl(STDIN_FILENO, F_SETFL, saved_fl | O_NONBLOCK);
    machine_set_input(m, STDIN_FILENO);
}

/* Runs until the guest stops or the budget is used up, or the console or the log file (log,
 * NULL for stderr) cannot be written; returns the exit status. */
static int run_machine(struct machine *m, const struct cli_options *o, struct console *con,
                       FILE *log)
{
    struct cpu *c = &m->cpu;
    uint64_t start = cpu_time(c);
    enum run_result r;
    for (;;) {
        uint64_t chunk = CLI_RUN_CHUNK;
        if (o->max_insns) {
            uint64_t done = cpu_time(c) - start;
            if (done >= o->max_insns) {
                r = RUN_LIMIT;
                break;
            }
            if (o->max_insns - done < chunk)
                chunk = o->max_insns - done;
        }
        r = cpu_run(c, chunk);
        if (!console_flush(con) || r != RUN_LIMIT)
            break;
        int err;
        if (log && log_failed(log, &err)) {
            report("cannot write log file '%s': %s; the run stopped at %04x:%08x", o->log_file,
                   strerror(err), c->seg[SEG_CS].sel, c->eip);
            return CLI_EXIT_OUTPUT;
        }
    }

    uint16_t cs = c->seg[SEG_CS].sel;
    if (r != RUN_EXIT)
        end_console_line(con);
    if (con->err) {
        char where[64];
        snprintf(where, sizeof where, "the run stopped at %04x:%08x", cs, c->eip);
        return console_error(con, where);
    }
    switch (r) {
    case RUN_EXIT:
        return m->bus.exit_status;
    case RUN_HALT:
        if (cpu_get_eflags(c) & FL_IF)
            report("cpu halted at %04x:%08x with interrupts enabled, but no device can "
                   "interrupt it", cs, c->eip);
        else
            report("cpu halted with interrupts disabled at %04x:%08x", cs, c->eip);
        return CLI_EXIT_HALT;
    case RUN_SHUTDOWN: {
        char f[3][32], why[3][96], whys[320] = "";
        for (int i = 0; i < 3; i++) {
            format_fault(f[i], sizeof(f[i]), &c->shutdown_events[i]);
            explain_fault(why[i], sizeof(why[i]), &c->shutdown_events[i]);
            if (why[i][0])
                snprintf(whys + strlen(whys), sizeof(whys) - strlen(whys), "%s%s",
                         whys[0] ? "; " : " (", why[i]);
        }
        report("triple fault at %04x:%08x: %s -> %s -> %s, machine shut down%s%s", cs, c->eip,
               f[0], f[1], f[2], whys, whys[0] ? ")" : "");
        return CLI_EXIT_SHUTDOWN;
    }
    case RUN_STOP:
        report("stopped on request at %04x:%08x", cs, c->eip);
        return CLI_EXIT_STOPPED;
    case RUN_UNSUPPORTED: {
        const struct unsupported *u = &c->unsupported;
        report("%s: %s at %04x:%08x to %04x:%08x (%s); machine stopped", u->what, u->by, u->cs,
               u->eip, u->target_cs, u->target_eip, u->why);
        return CLI_EXIT_UNSUPPORTED;
    }
    case RUN_LIMIT:
    default:
        report("instruction limit %" PRIu64 " reached at %04x:%08x", o->max_insns, cs, c->eip);
        return CLI_EXIT_LIMIT;
    }
}

/* --stats: speed, then where the instructions went (per ring, per address space) and how
 * often the cpu crossed between modes. */
static void print_stats(struct cpu *c, double secs)
{
    uint64_t n = c->icount;
    report("%" PRIu64 " instructions in %.3f s (%.1f MIPS)", n, secs,
           secs > 0 ? (double)n / secs / 1e6 : 0.0);
    acct_update(c);
    char line[512];
    int len = 0;
    for (int r = 0; r < 4; r++)
        if (c->ring_insns[r] || r == 0 || r == 3)
            len += snprintf(line + len, sizeof line - (size_t)len, "%sring %d %" PRIu64 " (%.1f%%)",
                            len ? ", " : "", r, c->ring_insns[r],
                            n ? 100.0 * (double)c->ring_insns[r] / (double)n : 0.0);
    report("instructions by ring: %s", line);
    if (c->stall)
        report("device time %" PRIu64 ": %" PRIu64 " instructions, %" PRIu64 " halted, %" PRIu64
               " before events delivered right after another (their handler or its fetch "
               "faulted at once)", cpu_time(c), c->icount, c->idle, c->stall);
    len = 0;
    for (unsigned k = 0; k < TR_KINDS && len < (int)sizeof line - 40; k++)
        if (c->transitions[k])
            len += snprintf(line + len, sizeof line - (size_t)len, "%s%s %" PRIu64,
                            len ? ", " : "", trace_kind_name(k), c->transitions[k]);
    report("transitions: %s", len ? line : "none");
    if (c->cr0 & CR0_PG || c->nspaces > 1) {
        for (unsigned k = 0; k < c->nspaces; k++)
            report("address space cr3=%08x: kernel %" PRIu64 ", user %" PRIu64 " instructions",
                   c->spaces[k].cr3, c->spaces[k].insns[0], c->spaces[k].insns[1]);
    }
}

/* --log unimp: one line for the first access to each unclaimed port or MMIO address. */
struct unimp_log {
    FILE *out;
    const struct cpu *cpu;
};

static void log_unimp(void *ctx, bool mmio, uint32_t addr, unsigned size, bool write)
{
    const struct unimp_log *u = ctx;
    if (size == 0) {
        fprintf(u->out, "unimp: more than %d unclaimed MMIO addresses; the rest are not "
                "reported\n", BUS_MAX_SEEN_MMIO);
        return;
    }
    fprintf(u->out, "unimp: %s 0x%0*" PRIx32 " %s (%u byte%s) at icount %" PRIu64 "\n",
            mmio ? "mmio" : "port", mmio ? 8 : 4, addr, write ? "write" : "read", size,
            size == 1 ? "" : "s", u->cpu->icount);
}

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
    char err[ERRLEN];
    char demo[4300];
    struct machine *m = NULL;
    struct insnlog *log = NULL;
    FILE *log_out = NULL;
    struct console con = { stdout, false, 0, NULL };
    struct unimp_log unimp = { NULL, NULL };
    int status = CLI_EXIT_USAGE;

    if (!std_fds_ready())
        return CLI_EXIT_USAGE;
    /* A reader that goes away (`ringside ... | head`) is a write error (EPIPE) reported once,
     * not a signal that kills Ringside. */
    signal(SIGPIPE, SIG_IGN);

    if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
        report("%s", err);
        goto out;
    }
    if (o.command == CLI_HELP) {
        fputs(usage_text, stdout);
        status = 0;
        goto out;
    }
    if (o.command == CLI_VERSION) {
        printf("ringside %s\n", RINGSIDE_VERSION);
        status = 0;
        goto out;
    }
    if (o.command == CLI_DEMO) {
        if (o.nmodules || o.append) {
            report("the demo has its own modules and command line; use 'ringside run IMAGE' "
                   "for others");
            goto out;
        }
        if (find_demo(guest_dir, demo, sizeof(demo), err, sizeof(err)) < 0) {
            report("%s", err);
            goto out;
        }
        /* Paths relative to the guest directory, so the kernel sees the same strings (and
         * the run is the same, event for event) wherever Ringside is built. */
        o.image = CLI_DEMO_IMAGE;
        o.append = CLI_DEMO_CMDLINE;
        o.nmodules = 0;
        for (size_t k = 0; demo_modules[k] && k < 8; k++)
            o.modules[o.nmodules++] = demo_modules[k];
    }

    m = machine_create(o.mem_mib, console_out, &con);
    if (!m) {
        report("cannot create a machine with %u MiB of RAM: out of memory", o.mem_mib);
        status = CLI_EXIT_HOST;
        goto out;
    }
    con.cpu = &m->cpu;
    struct boot_params bp = {
        .image = o.image, .append = o.append, .modules = o.modules, .nmodules = o.nmodules,
        .dir = o.command == CLI_DEMO ? demo : NULL,
    };
    if (machine_load(m, &bp, err, sizeof(err)) < 0) {
        report("%s", err);
        goto out;
    }

    machine_set_ips(m, o.ips);
    machine_set_realtime(m, o.realtime);
    if (o.log_insn || o.log_int || o.log_unimp) {
        if (o.log_file) {
            log_out = fopen(o.log_file, "w");
            if (!log_out) {
                report("cannot write log file '%s': %s", o.log_file, strerror(errno));
                goto out;
            }
        } else {
            /* Buffered: one write per line would dominate the run time. */
            setvbuf(stderr, NULL, _IOFBF, 1 << 16);
        }
    }
    if (o.log_int)
        intlog_attach(&m->cpu, log_out ? log_out : stderr);
    if (o.log_unimp) {
        unimp = (struct unimp_log){ log_out ? log_out : stderr, &m->cpu };
        bus_set_unclaimed(&m->bus, log_unimp, &unimp);
    }
    if (o.log_insn) {
        log = insnlog_open(log_out ? log_out : stderr, o.log_regs, err, sizeof(err));
        if (!log) {
            report("%s", err);
            status = CLI_EXIT_HOST;
            goto out;
        }
        insnlog_attach(log, &m->cpu);
    }

    setup_input(m);
    double t0 = now_seconds();
    status = run_machine(m, &o, &con, log_out);
    restore_tty();
    double secs = now_seconds() - t0;
    if (o.stats)
        print_stats(&m->cpu, secs);
    if (o.dump_pages) {
        fflush(stdout);
        pagedump(log_out ? log_out : stderr, &m->cpu);
    }

out:
    if (log) {
        insnlog_detach(log, &m->cpu);
        insnlog_close(log);
    }
    /* Output that could not be written overrides the run's own status: a run whose console
     * or log is incomplete must not look like a success. The first error is the one told. */
    bool told = con.err != 0;
    if (log_out) {
        int lerr = 0;
        if (log_failed(log_out, &lerr) && status != CLI_EXIT_OUTPUT && status != CLI_EXIT_PIPE) {
            report("cannot write log file '%s': %s", o.log_file, strerror(lerr));
            status = CLI_EXIT_OUTPUT;
        }
        if (fclose(log_out) != 0 && !lerr && status != CLI_EXIT_OUTPUT &&
            status != CLI_EXIT_PIPE) {
            report("cannot write log file '%s': %s", o.log_file, strerror(errno));
            status = CLI_EXIT_OUTPUT;
        }
    }
    con.cpu = NULL;
    machine_destroy(m);
    cli_options_free(&o);
    if (!console_flush(&con) && !told && status != CLI_EXIT_OUTPUT)
        status = console_error(&con, "output is incomplete");
    fflush(stderr);
    return status;
}
