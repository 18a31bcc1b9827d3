/* The differential test's case generator (gen.c) as seen by the driver (diff_test.c). */
#ifndef RINGSIDE_DIFF_H
#define RINGSIDE_DIFF_H

#include <stdint.h>

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

#endif
