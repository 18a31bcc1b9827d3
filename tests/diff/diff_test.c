/* Differential test: Ringside's executor against an independent oracle.
 *
 * usage: diff_test [--oracle auto|hardware|qemu-i386] [--record FILE] RUNNER [CASES]
 *        diff_test --replay FILE
 *
 *   RUNNER                  the 32-bit runner (native_runner.c)
 *   CASES                   number of cases (default: $RINGSIDE_DIFF_CASES, else 200000)
 *   --oracle auto           (default) real hardware when this host runs i386 programs and
 *                           reports their faults as a CPU does (checked at run time by the
 *                           runner's --probe), else qemu-i386 found on PATH, else failure
 *   --record FILE           also write the cases and the oracle's results to FILE (corpus.c)
 *   --replay FILE           run a recorded corpus against Ringside: no oracle needed
 *   RINGSIDE_DIFF_SEED      generator seed (default fixed; printed)
 *   RINGSIDE_DIFF_FORM      only forms whose name contains this string (e.g. "rcl")
 *   RINGSIDE_DIFF_SHOW      how many mismatches to print in full (default 20)
 *   RINGSIDE_DIFF_STRICT=1  also compare what the SDM leaves undefined (informational)
 *   RINGSIDE_DIFF_STATS=1   print, per form, how many cases completed and how many faulted
 *
 * Each case (gen.c) runs twice from the same state: in the runner, in user mode, on the oracle,
 * and in a Ringside machine set up to match (rmachine.c). Both run until the first exception:
 * the instruction under test either faults, or falls through (or jumps) to a HLT, which is
 * #GP(0) at CPL 3. So one run checks the instruction and, for a fault, that it is precise.
 * judge.c says what is compared for each oracle and which case classes an oracle cannot judge
 * (excluded by name and counted). The last line says what was proven, e.g.
 *   diff: oracle=qemu-i386 7.2.22, 200000 cases, 0 mismatches, 61 excluded (icebp 61)
 * Exit status: 0 when nothing differs, 1 on a mismatch, 2 when the test cannot run (no oracle,
 * a damaged corpus): never 0 having compared nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diff.h"

#define BATCH 4096u
#define ERRLEN 512

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "diff: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

/* ---- the runner, natively or under qemu-i386 ---- */

struct runner {
    pid_t pid;
    int to, from;
};

static void write_all(struct runner *rn, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t k = write(rn->to, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("the runner stopped reading (did it crash?)%s", "");
        p += k;
        n -= (size_t)k;
    }
}

static void read_all(struct runner *rn, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t k = read(rn->from, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("the runner ended early (did it crash?)%s", "");
        p += k;
        n -= (size_t)k;
    }
}

/* argv[0] is looked up on PATH. */
static void spawn(struct runner *rn, char *const argv[])
{
    int in[2], out[2];
    if (pipe(in) < 0 || pipe(out) < 0)
        die("pipe failed%s", "");
    rn->pid = fork();
    if (rn->pid < 0)
        die("fork failed%s", "");
    if (rn->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "diff: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    rn->to = in[1];
    rn->from = out[0];
}

/* Runs argv with its output discarded; returns its exit status, or -1 (could not run it). */
static int run_quietly(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", 0);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

/* The first line of `cmd`'s output, or "" (a description, never a decision). */
static void first_line(const char *cmd, char *out, size_t len)
{
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(out, (int)len, p))
        out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

/* "x86_64 Linux 6.1.0-18-amd64, Intel(R) Xeon(R) ..." */
static void host_desc(char *out, size_t len)
{
    struct utsname u;
    char cpu[128] = "";
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            snprintf(cpu, sizeof cpu, "%s", strchr(line, ':') + 2);
            cpu[strcspn(cpu, "\n")] = '\0';
            break;
        }
    }
    if (f)
        fclose(f);
    snprintf(out, len, "%s %s %s%s%s", u.machine, u.sysname, u.release, *cpu ? ", " : "", cpu);
}

/* Picks the oracle (want: -1 auto) and starts the runner on it. */
static void start_oracle(struct runner *rn, const char *runner, int want, enum oracle_kind *kind,
                         char *desc, size_t desclen)
{
    char *probe[] = {(char *)runner, "--probe", NULL};
    int st = run_quietly(probe);
    int hw = st == 0;
    if (want == ORACLE_HARDWARE && !hw)
        die(st == 3 ? "--oracle hardware: %s runs, but not on real hardware (an emulator, e.g. "
                      "binfmt_misc, reports no trap numbers)"
                    : "--oracle hardware: this host cannot run 32-bit programs (%s)", runner);
    char qv[256];
    first_line("qemu-i386 --version 2>/dev/null", qv, sizeof qv);
    int have_qemu = strncmp(qv, "qemu-i386 version ", 18) == 0;
    if (want == ORACLE_QEMU && !have_qemu)
        die("--oracle qemu-i386: qemu-i386 not found on PATH (Debian package qemu-user)%s", "");
    if (hw && want != ORACLE_QEMU) {
        *kind = ORACLE_HARDWARE;
        char host[256];
        host_desc(host, sizeof host);
        snprintf(desc, desclen, "hardware (%s)", host);
        char *argv[] = {(char *)runner, NULL};
        spawn(rn, argv);
        return;
    }
    if (!have_qemu)
        die("no oracle: this host cannot run 32-bit programs natively and qemu-i386 is not "
            "installed (Debian package qemu-user; scripts/setup.sh installs it)%s", "");
    *kind = ORACLE_QEMU;
    /* "qemu-i386 version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" -> "qemu-i386 7.2.22 (...)" */
    snprintf(desc, desclen, "qemu-i386 %s", qv + 18);
    char *argv[] = {"qemu-i386", (char *)runner, NULL};
    spawn(rn, argv);
}

/* ---- judging and reporting ---- */

struct stats {
    enum oracle_kind oracle;
    const struct layout *L;
    uint64_t cases, mismatches, strict_only;
    uint64_t excluded[32];
    uint64_t *per_form, *bad_form, *completed, *faulted;
    unsigned nforms, shown, show_max;
    int strict;
};

static void stats_init(struct stats *st, unsigned nforms)
{
    const char *env = getenv("RINGSIDE_DIFF_SHOW");
    st->show_max = env && *env ? (unsigned)strtoul(env, NULL, 0) : 20;
    env = getenv("RINGSIDE_DIFF_STRICT");
    st->strict = env && *env == '1';
    st->nforms = nforms;
    st->per_form = calloc(nforms, sizeof *st->per_form);
    st->bad_form = calloc(nforms, sizeof *st->bad_form);
    st->completed = calloc(nforms, sizeof *st->completed);
    st->faulted = calloc((size_t)nforms * 32, sizeof *st->faulted);
    if (!st->per_form || !st->bad_form || !st->completed || !st->faulted)
        die("out of memory%s", "");
}

static void stats_free(struct stats *st)
{
    free(st->per_form);
    free(st->bad_form);
    free(st->completed);
    free(st->faulted);
}

static void show(const struct stats *st, uint64_t index, const char *form,
                 const struct tcase *tc, unsigned bad, const struct diff_result *n,
                 const uint8_t *nd, const struct diff_result *r, const uint8_t *rd,
                 const uint8_t *init)
{
    const struct diff_case *in = &tc->in;
    const struct layout *L = st->L;
    printf("MISMATCH case %" PRIu64 " [%s]:", index, form);
    if (bad & BAD_EVENT)
        printf(" event");
    if (bad & BAD_REGS)
        printf(" registers");
    if (bad & BAD_EFLAGS)
        printf(" eflags");
    if (bad & BAD_SELECTORS)
        printf(" selectors");
    if (bad & BAD_DATA)
        printf(" data");
    printf("\n  bytes   ");
    for (unsigned k = 0; k < in->code_len; k++)
        printf(" %02x", in->code[k]);
    printf("   at %08x\n", L->code + in->code_off);
    printf("  input    eflags=%08x (compared %08x)\n", in->eflags, tc->fmask);
    printf("           eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x "
           "edi=%08x\n",
           in->r[0], in->r[1], in->r[2], in->r[3], in->r[4], in->r[5], in->r[6], in->r[7]);
    for (unsigned k = 0; k < in->npatch; k++) {
        printf("  memory   %08x:", L->data + in->patch[k].off);
        for (unsigned b = 0; b < in->patch[k].len; b++)
            printf(" %02x", in->patch[k].bytes[b]);
        printf("\n");
    }
    print_result(stdout, oracle_kind_name(st->oracle), n);
    print_result(stdout, "ringside", r);
    unsigned shown = 0;
    for (uint32_t k = 0; k < L->dsize && shown < 16; k++) {
        if (nd[k] == rd[k])
            continue;
        printf("  data %08x: initial %02x %s %02x ringside %02x\n", L->data + k, init[k],
               oracle_kind_name(st->oracle), nd[k], rd[k]);
        shown++;
    }
}

/* One case: the oracle's result n (data nd) against Ringside's r (data rd). */
static void judge_case(struct stats *st, uint64_t index, const char *form,
                       const struct tcase *tc, const struct diff_result *n, const uint8_t *nd,
                       const struct diff_result *r, const uint8_t *rd, const uint8_t *init)
{
    const struct layout *L = st->L;
    int ex = exclusion_of(st->oracle, L, tc, r);
    if (ex >= 0) {
        st->excluded[ex]++;
        return;
    }
    st->cases++;
    st->per_form[tc->form]++;
    /* Completed: stopped at a HLT (#GP(0)) that is not the instruction itself. */
    if (r->vector == 13 && r->err == 0 && r->eip != L->code + tc->in.code_off)
        st->completed[tc->form]++;
    else
        st->faulted[tc->form * 32 + (r->vector < 31 ? r->vector : 31)]++;
    unsigned bad = judge(st->oracle, L, tc, n, nd, r, rd, 0);
    if (!bad && st->strict) {
        unsigned sbad = judge(st->oracle, L, tc, n, nd, r, rd, 1);
        if (sbad) {
            st->strict_only++;
            if (st->shown < st->show_max) {
                printf("(undefined only) ");
                show(st, index, form, tc, sbad, n, nd, r, rd, init);
                st->shown++;
            }
        }
    }
    if (!bad)
        return;
    st->mismatches++;
    st->bad_form[tc->form]++;
    if (st->shown < st->show_max) {
        show(st, index, form, tc, bad, n, nd, r, rd, init);
        st->shown++;
    }
}

/* The closing lines; returns the exit status. */
static int report(const struct stats *st, const char *what, double secs, int print_stats,
                  const char *(*form_name)(const void *ctx, unsigned f), const void *ctx)
{
    unsigned nforms = 0;
    for (unsigned f = 0; f < st->nforms; f++)
        nforms += st->per_form[f] != 0;
    if (print_stats) {
        printf("%-26s %9s %9s  faults of the instruction itself, by vector\n", "form", "cases",
               "completed");
        for (unsigned f = 0; f < st->nforms; f++) {
            if (!st->per_form[f])
                continue;
            printf("%-26s %9" PRIu64 " %9" PRIu64 " ", form_name(ctx, f), st->per_form[f],
                   st->completed[f]);
            for (unsigned v = 0; v < 32; v++)
                if (st->faulted[f * 32 + v])
                    printf(" %s:%" PRIu64, v < 31 ? vector_name(v) : "other",
                           st->faulted[f * 32 + v]);
            printf("\n");
        }
    }
    if (st->mismatches) {
        printf("mismatches by form:\n");
        for (unsigned f = 0; f < st->nforms; f++)
            if (st->bad_form[f])
                printf("  %-24s %" PRIu64 " of %" PRIu64 "\n", form_name(ctx, f),
                       st->bad_form[f], st->per_form[f]);
    }
    uint64_t excluded = 0;
    char exl[512] = "";
    size_t len = 0;
    for (unsigned k = 0; k < exclusion_count(); k++) {
        if (!st->excluded[k])
            continue;
        excluded += st->excluded[k];
        printf("diff: excluded %" PRIu64 " cases of class %s: %s\n", st->excluded[k],
               exclusion_name(k), exclusion_reason(k));
        len += (size_t)snprintf(exl + len, len < sizeof exl ? sizeof exl - len : 0, "%s%s %" PRIu64,
                                len ? ", " : " (", exclusion_name(k), st->excluded[k]);
    }
    if (len && len < sizeof exl - 1)
        strcat(exl, ")");
    if (st->oracle == ORACLE_QEMU)
        printf("diff: with qemu-i386 the vector is judged by its Linux signal (number, si_code, "
               "si_addr) and the error code; EFLAGS.RF in the frame is not compared\n");
    if (st->strict)
        printf("diff: %" PRIu64 " cases differ only in what the SDM leaves undefined\n",
               st->strict_only);
    printf("diff: %s, %" PRIu64 " cases, %" PRIu64 " mismatches, %" PRIu64 " excluded%s "
           "(%u forms, %.1f s)\n",
           what, st->cases, st->mismatches, excluded, exl, nforms, secs);
    if (st->cases == 0) {
        fprintf(stderr, "diff: no case was compared\n");
        return 2;
    }
    return st->mismatches ? 1 : 0;
}

static const char *gen_name(const void *ctx, unsigned f)
{
    (void)ctx;
    return gen_form_name(f);
}

static const char *corpus_name(const void *ctx, unsigned f)
{
    return corpus_form_name(ctx, f);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- replay of a recorded corpus ---- */

static int replay(const char *path, int print_stats)
{
    char err[ERRLEN];
    struct corpus_info info;
    static uint8_t bg[DIFF_DATA_SIZE], nd[DIFF_DATA_SIZE], rd[DIFF_DATA_SIZE],
        init[DIFF_DATA_SIZE];
    struct corpus_reader *cr = corpus_open(path, &info, bg, err, sizeof err);
    if (!cr)
        die("%s", err);
    struct rmachine *m = rmachine_new(&info.L, err, sizeof err);
    if (!m)
        die("cannot set up the Ringside machine: %s", err);
    struct stats st = {.oracle = info.oracle, .L = &info.L};
    stats_init(&st, corpus_form_count(cr));
    printf("diff: replaying %s: %" PRIu64 " cases recorded %s on %s by %s\n", path, info.cases,
           info.recorded, info.host, info.oracle_desc);
    fflush(stdout);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct tcase tc;
    struct diff_result nres, rres;
    uint64_t index = 0;
    int got;
    while ((got = corpus_get(cr, &tc, &nres, nd, bg, err, sizeof err)) == 1) {
        rmachine_run(m, &tc, bg, &rres, rd);
        memcpy(init, bg, sizeof init);
        for (unsigned p = 0; p < tc.in.npatch; p++)
            memcpy(init + tc.in.patch[p].off, tc.in.patch[p].bytes, tc.in.patch[p].len);
        judge_case(&st, index++, corpus_form_name(cr, tc.form), &tc, &nres, nd, &rres, rd,
                   init);
    }
    if (got < 0)
        die("%s", err);
    char what[512];
    snprintf(what, sizeof what, "corpus=%s oracle=%s (recorded %s)", path, info.oracle_desc,
             info.recorded);
    int status = report(&st, what, seconds_since(&t0), print_stats, corpus_name, cr);
    corpus_close(cr);
    rmachine_free(m);
    stats_free(&st);
    return status;
}

/* ---- live run against an oracle ---- */

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    int want = -1;
    const char *record = NULL, *replay_path = NULL, *runner = NULL, *count = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--oracle") == 0 && i + 1 < argc) {
            enum oracle_kind k;
            i++;
            if (strcmp(argv[i], "auto") == 0)
                want = -1;
            else if (oracle_kind_parse(argv[i], &k) == 0)
                want = (int)k;
            else
                die("unknown oracle '%s' (auto, hardware, qemu-i386)", argv[i]);
        } else if (strcmp(argv[i], "--record") == 0 && i + 1 < argc) {
            record = argv[++i];
        } else if (strcmp(argv[i], "--replay") == 0 && i + 1 < argc) {
            replay_path = argv[++i];
        } else if (argv[i][0] == '-') {
            die("unknown option '%s'", argv[i]);
        } else if (!runner) {
            runner = argv[i];
        } else if (!count) {
            count = argv[i];
        } else {
            die("unexpected argument '%s'", argv[i]);
        }
    }
    const char *env = getenv("RINGSIDE_DIFF_STATS");
    int print_stats = env && *env == '1';
    if (replay_path) {
        if (runner || record)
            die("--replay takes only the corpus file%s", "");
        return replay(replay_path, print_stats);
    }
    if (!runner) {
        fprintf(stderr, "usage: diff_test [--oracle auto|hardware|qemu-i386] [--record FILE] "
                        "RUNNER [CASES]\n       diff_test --replay FILE\n");
        return 2;
    }
    env = getenv("RINGSIDE_DIFF_CASES");
    uint64_t total = count ? strtoull(count, NULL, 0)
                           : env && *env ? strtoull(env, NULL, 0) : 200000;
    env = getenv("RINGSIDE_DIFF_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : 0x52494E47u;
    const char *filter = getenv("RINGSIDE_DIFF_FORM");

    struct runner rn;
    enum oracle_kind oracle;
    char desc[300];
    start_oracle(&rn, runner, want, &oracle, desc, sizeof desc);
    struct diff_hello hello;
    read_all(&rn, &hello, sizeof hello);
    if (hello.magic != DIFF_MAGIC || hello.data_size != DIFF_DATA_SIZE ||
        hello.code_size != DIFF_CODE_SIZE)
        die("the runner speaks another protocol%s", "");
    struct layout L = {hello.data_base, hello.data_size, hello.code_base, hello.ro_base,
                       hello.cs, hello.ds, hello.es, hello.fs, hello.gs, hello.ss};

    static uint8_t bg[DIFF_DATA_SIZE];
    gen_background(seed, bg, sizeof bg);
    write_all(&rn, bg, sizeof bg);

    char err[ERRLEN];
    struct rmachine *m = rmachine_new(&L, err, sizeof err);
    if (!m)
        die("cannot set up the Ringside machine: %s", err);
    struct gen *g = gen_new(seed, &L, filter);
    struct tcase *batch = calloc(BATCH, sizeof *batch);
    struct diff_result *rres = calloc(BATCH, sizeof *rres);
    uint8_t *rdata = malloc((size_t)BATCH * DIFF_DATA_SIZE);
    if (!g || !batch || !rres || !rdata)
        die("out of memory%s", "");
    struct stats st = {.oracle = oracle, .L = &L};
    stats_init(&st, gen_form_count());

    struct corpus_writer *cw = NULL;
    if (record) {
        struct corpus_info info = {.oracle = oracle, .seed = seed, .cases = total, .L = L};
        snprintf(info.oracle_desc, sizeof info.oracle_desc, "%.150s", desc);
        host_desc(info.host, sizeof info.host);
        time_t now = time(NULL);
        strftime(info.recorded, sizeof info.recorded, "%Y-%m-%d", gmtime(&now));
        snprintf(info.command, sizeof info.command, "sh scripts/record-diff-corpus.sh "
                 "(RINGSIDE_DIFF_SEED=%" PRIu64 ", %" PRIu64 " cases)", seed, total);
        if (filter && *filter)
            die("--record takes every form, not RINGSIDE_DIFF_FORM=%s", filter);
        cw = corpus_create(record, &info, bg, err, sizeof err);
        if (!cw)
            die("%s", err);
    }

    printf("diff: oracle %s; seed %#" PRIx64 ", %" PRIu64 " cases (%u in the systematic "
           "sweep), layout: data %08x code %08x%s%s%s\n",
           desc, seed, total, gen_sys_count(g), L.data, L.code,
           filter ? ", forms matching \"" : "", filter ? filter : "", filter ? "\"" : "");
    fflush(stdout);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    uint64_t done = 0;
    static uint8_t nd[DIFF_DATA_SIZE], init[DIFF_DATA_SIZE];
    while (done < total) {
        uint32_t n = total - done < BATCH ? (uint32_t)(total - done) : BATCH;
        for (uint32_t k = 0; k < n; k++)
            gen_case(g, &batch[k]);
        write_all(&rn, &n, sizeof n);
        for (uint32_t k = 0; k < n; k++) {
            /* A case the oracle cannot take is replaced by an empty one (the HLT). */
            struct diff_case in = batch[k].in;
            if (exclusion_of(oracle, &L, &batch[k], NULL) >= 0)
                in.code_len = 0, in.npatch = 0;
            write_all(&rn, &in, sizeof in);
        }
        /* Ringside runs the batch while the runner does. */
        for (uint32_t k = 0; k < n; k++)
            rmachine_run(m, &batch[k], bg, &rres[k], rdata + (size_t)k * DIFF_DATA_SIZE);
        for (uint32_t k = 0; k < n; k++) {
            const struct tcase *tc = &batch[k];
            struct diff_result nr;
            read_all(&rn, &nr, sizeof nr);
            memcpy(init, bg, sizeof init);
            for (unsigned p = 0; p < tc->in.npatch; p++)
                memcpy(init + tc->in.patch[p].off, tc->in.patch[p].bytes, tc->in.patch[p].len);
            memcpy(nd, init, sizeof nd);
            for (unsigned d = 0; d < nr.ndiff; d++) {
                struct diff_byte b;
                read_all(&rn, &b, sizeof b);
                if (b.off < DIFF_DATA_SIZE)
                    nd[b.off] = b.val;
            }
            if (cw && corpus_put(cw, tc, &nr, init, nd, err, sizeof err) < 0) {
                corpus_abort(cw);
                die("%s", err);
            }
            judge_case(&st, done + k, gen_form_name(tc->form), tc, &nr, nd, &rres[k],
                       rdata + (size_t)k * DIFF_DATA_SIZE, init);
        }
        done += n;
    }
    uint32_t zero = 0;
    write_all(&rn, &zero, sizeof zero);
    close(rn.to);
    int status = 0;
    waitpid(rn.pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        corpus_abort(cw);
        fprintf(stderr, "diff: the runner failed (status %#x)\n", status);
        return 2;
    }
    if (cw && corpus_close_write(cw, err, sizeof err) < 0)
        die("%s", err);
    if (record)
        printf("diff: recorded %" PRIu64 " cases in %s\n", total, record);

    char what[400];
    snprintf(what, sizeof what, "oracle=%.*s", (int)(oracle == ORACLE_QEMU ? strcspn(desc, "(") - 1
                                                                         : strlen(desc)), desc);
    int rc = report(&st, what, seconds_since(&t0), print_stats, gen_name, NULL);
    gen_free(g);
    rmachine_free(m);
    stats_free(&st);
    free(batch);
    free(rres);
    free(rdata);
    return rc;
}
