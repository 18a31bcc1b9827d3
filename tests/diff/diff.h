/* The differential test's parts as seen by the driver (diff_test.c):
 *   gen.c       the case generator
 *   rmachine.c  the Ringside machine a case runs in
 *   judge.c     what counts as the same result, per oracle, and the named exclusions
 *   corpus.c    recorded cases and results (tests/diff/corpus.rsdc), replayed with no oracle
 */
#ifndef RINGSIDE_DIFF_H
#define RINGSIDE_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diffcase.h"

/* Where the runner put things, and its selectors (Ringside's GDT mirrors them). */
struct layout {
    uint32_t data, dsize, code, ro;
    uint16_t cs, ds, es, fs, gs, ss;
};

/* One generated case: what is sent to the runner plus what the comparison may ignore. */
struct tcase {
    struct diff_case in;
    uint32_t fmask;      /* EFLAGS bits compared (the rest are undefined for the instruction) */
    uint32_t rmask[8];   /* register bits compared (an undefined register result) */
    uint16_t ign_off;    /* data bytes [ign_off, ign_off + ign_len) not compared (undefined) */
    uint16_t ign_len;
    uint16_t form;       /* index of the generator form (gen_form_name) */
    uint8_t fault_regs;  /* 1: registers not compared when the instruction itself faults */
};

/* ---- the generator (gen.c) ---- */

struct gen;

/* A generator with a fixed seed; `filter`, if not NULL, keeps only forms whose name contains it. */
struct gen *gen_new(uint64_t seed, const struct layout *L, const char *filter);
void gen_free(struct gen *g);

/* Fills *tc with the next case. The first gen_sys_count() cases are the systematic sweep. */
void gen_case(struct gen *g, struct tcase *tc);
unsigned gen_sys_count(const struct gen *g);

unsigned gen_form_count(void);
const char *gen_form_name(unsigned form);

/* The data area's background, the same for every case (cases patch it). */
void gen_background(uint64_t seed, uint8_t *buf, uint32_t size);

/* ---- the Ringside side (rmachine.c) ---- */

struct rmachine;

/* A Ringside machine laid out like the runner (L); NULL with a reason in err when out of
 * memory or when the layout does not fit the test machine (a corpus or runner from elsewhere). */
struct rmachine *rmachine_new(const struct layout *L, char *err, size_t errlen);
void rmachine_free(struct rmachine *m);

/* Runs one case from the data area's background bg. *out gets the result as the runner would
 * report it on a Linux kernel (judge.c's linux_signal() fills the signal fields); data (dsize
 * bytes) the data area as the case left it. */
void rmachine_run(struct rmachine *m, const struct tcase *tc, const uint8_t *bg,
                  struct diff_result *out, uint8_t *data);

/* ---- the judge (judge.c) ---- */

/* Who produced the expected results. */
enum oracle_kind {
    ORACLE_HARDWARE, /* the host CPU, through a Linux kernel that reports trap numbers */
    ORACLE_QEMU,     /* qemu-i386 (user mode): signals as Linux defines them, no trap number */
    ORACLE_KINDS
};

const char *oracle_kind_name(enum oracle_kind k); /* "hardware", "qemu-i386" */
int oracle_kind_parse(const char *s, enum oracle_kind *k);

/* The signal a Linux kernel sends a user program for an exception (arch/x86/kernel/traps.c,
 * fault.c): number, si_code and si_addr. */
void linux_signal(uint32_t vector, uint32_t err, uint32_t cr2, uint32_t eip, uint16_t *signo,
                  int32_t *sicode, uint32_t *siaddr);

/* Bits of judge()'s answer: what differs. */
enum {
    BAD_EVENT = 1, BAD_REGS = 2, BAD_EFLAGS = 4, BAD_SELECTORS = 8, BAD_DATA = 16,
};

/* Exclusions: case classes an oracle cannot judge faithfully, each with its reason. A case in
 * one is counted under its name and not compared. */
unsigned exclusion_count(void);
const char *exclusion_name(unsigned k);
const char *exclusion_reason(unsigned k);

/* The exclusion that applies to this case for this oracle (decided from the case and
 * Ringside's result, never from the oracle's), or -1. With ringside NULL, only the exclusions
 * decided before the case runs: such a case is not given to the oracle at all. */
int exclusion_of(enum oracle_kind o, const struct layout *L, const struct tcase *tc,
                 const struct diff_result *ringside);

/* Compares the oracle's result (n, final data nd) with Ringside's (r, rd). strict: also what
 * the SDM leaves undefined. Returns BAD_* bits. */
unsigned judge(enum oracle_kind o, const struct layout *L, const struct tcase *tc,
               const struct diff_result *n, const uint8_t *nd, const struct diff_result *r,
               const uint8_t *rd, int strict);

/* Prints a result the way mismatches are reported. */
void print_result(FILE *f, const char *who, const struct diff_result *x);
const char *vector_name(uint32_t v);

/* ---- the recorded corpus (corpus.c) ---- */

/* What a corpus says about itself (the readable header of the file). */
struct corpus_info {
    enum oracle_kind oracle;
    char oracle_desc[160];  /* e.g. "qemu-i386 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" */
    char host[160];         /* the machine it was recorded on */
    char recorded[32];      /* UTC date */
    char command[200];      /* how to record it again */
    uint64_t seed;
    uint64_t cases;
    struct layout L;
};

struct corpus_writer;
struct corpus_reader;

/* Writing: the header, the background, then one record per case; corpus_close_write checks
 * that `cases` records were written and renames the file into place (never a half file under
 * the final name). Each returns 0, or -1 with a one-line reason in err. */
struct corpus_writer *corpus_create(const char *path, const struct corpus_info *info,
                                    const uint8_t *bg, char *err, size_t errlen);
int corpus_put(struct corpus_writer *w, const struct tcase *tc, const struct diff_result *res,
               const uint8_t *before, const uint8_t *after, char *err, size_t errlen);
int corpus_close_write(struct corpus_writer *w, char *err, size_t errlen);
void corpus_abort(struct corpus_writer *w);

/* Reading: validates everything (magic, version, header, sizes, every record's bounds, the
 * count and the compressed stream's checksum). corpus_get returns 1 with a case, 0 at the end,
 * -1 on a damaged file (err says where). The form names are the corpus's own. */
struct corpus_reader *corpus_open(const char *path, struct corpus_info *info, uint8_t *bg,
                                  char *err, size_t errlen);
int corpus_get(struct corpus_reader *r, struct tcase *tc, struct diff_result *res,
               uint8_t *after, const uint8_t *bg, char *err, size_t errlen);
const char *corpus_form_name(const struct corpus_reader *r, unsigned form);
unsigned corpus_form_count(const struct corpus_reader *r);
void corpus_close(struct corpus_reader *r);

#endif
