/* The recorded corpus: cases and the results an oracle gave for them, replayed against Ringside
 * on any host, with no oracle.
 *
 * File layout (version 1):
 *
 *   text header     "RINGSIDE-DIFF-CORPUS 1\n", then "key: value\n" lines (oracle, oracle-kind,
 *                   host, recorded, command, seed, cases), then an empty line. `head` shows
 *                   who produced the results.
 *   binary header   little-endian: the layout (data, dsize, code, ro: u32; cs ds es fs gs ss:
 *                   u16), the form names (u16 count, then u8 length + bytes each), the data
 *                   area's background (DIFF_DATA_SIZE bytes)
 *   records         one zstd frame (with its content checksum) holding `cases` records:
 *     u16 form; u32 r[8]; u32 eflags; u16 code_off; u8 code_len; code bytes;
 *     u8 npatch; per patch u16 off, u8 len, bytes;
 *     u32 fmask; u8 bitmap of registers whose rmask is not all ones, then those u32 masks;
 *     u16 ign_off; u16 ign_len; u8 fault_regs;
 *     u32 vector, err, cr2, siaddr; i32 sicode; u16 signo; u32 eip; u32 eflags;
 *     u8 bitmap of registers that differ from the input, then those u32 values;
 *     u16 ds, es, fs, ss; u8 truncated;
 *     u16 ndiff; per changed data byte u16 off, u8 value (against the patched background)
 *
 * A writer never leaves a file that claims to be whole: it writes NAME.tmp and renames it once
 * the count matches. A reader checks the magic, the version, every length against its bound,
 * the count, the checksum and that nothing follows the frame; any damage is one error line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "diff.h"

#define MAGIC_LINE "RINGSIDE-DIFF-CORPUS 1"
#define ZLEVEL 19
#define MAX_FORMS 4096
/* The largest record: fixed fields, 32 code bytes, 6 full patches, 8 masks, 8 registers and
 * every data byte changed. */
#define MAX_RECORD (256 + DIFF_CODE_MAX + DIFF_PATCHES * (3 + DIFF_PATCH_BYTES) + \
                    DIFF_DATA_SIZE * 3)

/* ---- little-endian buffers ---- */

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static int buf_room(struct buf *b, size_t n)
{
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void put(struct buf *b, const void *src, size_t n)
{
    if (buf_room(b, n) == 0) {
        memcpy(b->p + b->len, src, n);
        b->len += n;
    }
}

static void put8(struct buf *b, uint32_t v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}

static void put16(struct buf *b, uint32_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}

static void put32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

/* A reading cursor; `bad` is set on any read past the end. */
struct cur {
    const uint8_t *p;
    size_t len, at;
    int bad;
};

static const uint8_t *take(struct cur *c, size_t n)
{
    if (c->bad || c->len - c->at < n) {
        c->bad = 1;
        return NULL;
    }
    const uint8_t *p = c->p + c->at;
    c->at += n;
    return p;
}

static uint32_t get8(struct cur *c)
{
    const uint8_t *p = take(c, 1);
    return p ? p[0] : 0;
}

static uint32_t get16(struct cur *c)
{
    const uint8_t *p = take(c, 2);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : 0;
}

static uint32_t get32(struct cur *c)
{
    const uint8_t *p = take(c, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                   (uint32_t)p[3] << 24
             : 0;
}

/* ---- writing ---- */

struct corpus_writer {
    FILE *f;
    char *path, *tmp;
    ZSTD_CCtx *z;
    struct buf rec;
    uint8_t *zout;
    size_t zout_cap;
    uint64_t want, done;
};

void corpus_abort(struct corpus_writer *w)
{
    if (!w)
        return;
    if (w->f)
        fclose(w->f);
    if (w->tmp)
        unlink(w->tmp);
    ZSTD_freeCCtx(w->z);
    free(w->rec.p);
    free(w->zout);
    free(w->path);
    free(w->tmp);
    free(w);
}

static int werr(struct corpus_writer *w, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "cannot write %s: %s", w->tmp, what);
    return -1;
}

/* Compresses what is in w->rec (end: finish the frame) and writes it out. */
static int flush_rec(struct corpus_writer *w, int end, char *err, size_t errlen)
{
    ZSTD_inBuffer in = {w->rec.p, w->rec.len, 0};
    for (;;) {
        ZSTD_outBuffer out = {w->zout, w->zout_cap, 0};
        size_t left = ZSTD_compressStream2(w->z, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left))
            return werr(w, err, errlen, ZSTD_getErrorName(left));
        if (out.pos && fwrite(w->zout, 1, out.pos, w->f) != out.pos)
            return werr(w, err, errlen, strerror(errno));
        if (end ? left == 0 : in.pos == in.size)
            break;
    }
    w->rec.len = 0;
    return 0;
}

struct corpus_writer *corpus_create(const char *path, const struct corpus_info *info,
                                    const uint8_t *bg, char *err, size_t errlen)
{
    struct corpus_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    size_t n = strlen(path);
    w->path = malloc(n + 1);
    w->tmp = malloc(n + 8);
    w->z = ZSTD_createCCtx();
    w->zout_cap = ZSTD_CStreamOutSize();
    w->zout = malloc(w->zout_cap);
    if (!w->path || !w->tmp || !w->z || !w->zout) {
        corpus_abort(w);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(w->path, path, n + 1);
    snprintf(w->tmp, n + 8, "%s.tmp", path);
    w->want = info->cases;
    w->f = fopen(w->tmp, "wb");
    if (!w->f) {
        snprintf(err, errlen, "cannot write %s: %s", w->tmp, strerror(errno));
        free(w->tmp);
        w->tmp = NULL;
        corpus_abort(w);
        return NULL;
    }
    ZSTD_CCtx_setParameter(w->z, ZSTD_c_compressionLevel, ZLEVEL);
    ZSTD_CCtx_setParameter(w->z, ZSTD_c_checksumFlag, 1);

    fprintf(w->f, "%s\noracle: %s\noracle-kind: %s\nhost: %s\nrecorded: %s\ncommand: %s\n"
            "seed: %llu\ncases: %llu\n\n",
            MAGIC_LINE, info->oracle_desc, oracle_kind_name(info->oracle), info->host,
            info->recorded, info->command, (unsigned long long)info->seed,
            (unsigned long long)info->cases);
    struct buf h = {0};
    const struct layout *L = &info->L;
    put32(&h, L->data), put32(&h, L->dsize), put32(&h, L->code), put32(&h, L->ro);
    put16(&h, L->cs), put16(&h, L->ds), put16(&h, L->es), put16(&h, L->fs), put16(&h, L->gs);
    put16(&h, L->ss);
    put16(&h, gen_form_count());
    for (unsigned k = 0; k < gen_form_count(); k++) {
        const char *name = gen_form_name(k);
        size_t len = strlen(name) < 255 ? strlen(name) : 255;
        put8(&h, (uint32_t)len);
        put(&h, name, len);
    }
    put(&h, bg, DIFF_DATA_SIZE);
    int ok = h.p && fwrite(h.p, 1, h.len, w->f) == h.len;
    free(h.p);
    if (!ok || ferror(w->f)) {
        werr(w, err, errlen, h.p ? strerror(errno) : "out of memory");
        corpus_abort(w);
        return NULL;
    }
    return w;
}

int corpus_put(struct corpus_writer *w, const struct tcase *tc, const struct diff_result *res,
               const uint8_t *before, const uint8_t *after, char *err, size_t errlen)
{
    struct buf *b = &w->rec;
    const struct diff_case *in = &tc->in;
    put16(b, tc->form);
    for (unsigned k = 0; k < 8; k++)
        put32(b, in->r[k]);
    put32(b, in->eflags);
    put16(b, in->code_off);
    put8(b, in->code_len);
    put(b, in->code, in->code_len);
    put8(b, in->npatch);
    for (unsigned k = 0; k < in->npatch; k++) {
        put16(b, in->patch[k].off);
        put8(b, in->patch[k].len);
        put(b, in->patch[k].bytes, in->patch[k].len);
    }
    put32(b, tc->fmask);
    unsigned bits = 0;
    for (unsigned k = 0; k < 8; k++)
        if (tc->rmask[k] != 0xFFFFFFFFu)
            bits |= 1u << k;
    put8(b, bits);
    for (unsigned k = 0; k < 8; k++)
        if (bits & (1u << k))
            put32(b, tc->rmask[k]);
    put16(b, tc->ign_off);
    put16(b, tc->ign_len);
    put8(b, tc->fault_regs);

    put32(b, res->vector), put32(b, res->err), put32(b, res->cr2), put32(b, res->siaddr);
    put32(b, (uint32_t)res->sicode);
    put16(b, res->signo);
    put32(b, res->eip);
    put32(b, res->eflags);
    bits = 0;
    for (unsigned k = 0; k < 8; k++)
        if (res->r[k] != in->r[k])
            bits |= 1u << k;
    put8(b, bits);
    for (unsigned k = 0; k < 8; k++)
        if (bits & (1u << k))
            put32(b, res->r[k]);
    put16(b, res->ds), put16(b, res->es), put16(b, res->fs), put16(b, res->ss);
    put8(b, res->truncated);
    unsigned ndiff = 0;
    for (uint32_t k = 0; k < DIFF_DATA_SIZE; k++)
        ndiff += before[k] != after[k];
    put16(b, ndiff);
    for (uint32_t k = 0; k < DIFF_DATA_SIZE; k++)
        if (before[k] != after[k]) {
            put16(b, k);
            put8(b, after[k]);
        }
    if (!b->p)
        return werr(w, err, errlen, "out of memory");
    w->done++;
    if (b->len >= (1u << 20))
        return flush_rec(w, 0, err, errlen);
    return 0;
}

int corpus_close_write(struct corpus_writer *w, char *err, size_t errlen)
{
    int rc = 0;
    if (w->done != w->want) {
        snprintf(err, errlen, "%s: %llu records written, %llu announced", w->tmp,
                 (unsigned long long)w->done, (unsigned long long)w->want);
        rc = -1;
    }
    if (rc == 0)
        rc = flush_rec(w, 1, err, errlen);
    if (rc == 0 && fflush(w->f) != 0)
        rc = werr(w, err, errlen, strerror(errno));
    if (rc == 0) {
        int e = fclose(w->f);
        w->f = NULL;
        if (e != 0)
            rc = werr(w, err, errlen, strerror(errno));
    }
    if (rc == 0 && rename(w->tmp, w->path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", w->tmp, w->path, strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        free(w->tmp);
        w->tmp = NULL; /* in place: nothing to remove */
    }
    corpus_abort(w);
    return rc;
}

/* ---- reading ---- */

struct corpus_reader {
    FILE *f;
    const char *path;
    ZSTD_DCtx *z;
    uint8_t *zin;
    size_t zin_cap;
    ZSTD_inBuffer in;
    int frame_done;
    struct buf out;   /* decompressed bytes not yet parsed: out.p[at, len) */
    size_t at;
    uint64_t cases, got;
    unsigned nforms;
    char **forms;
};

void corpus_close(struct corpus_reader *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    ZSTD_freeDCtx(r->z);
    free(r->zin);
    free(r->out.p);
    for (unsigned k = 0; k < r->nforms; k++)
        free(r->forms[k]);
    free(r->forms);
    free(r);
}

static void *rfail(struct corpus_reader *r, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s: %s", r->path, what);
    corpus_close(r);
    return NULL;
}

/* Reads exactly n raw bytes (the header). */
static int read_raw(struct corpus_reader *r, void *p, size_t n)
{
    return fread(p, 1, n, r->f) == n ? 0 : -1;
}

/* Makes at least n decompressed bytes available after r->at. Returns 0; 1 at the end of the
 * frame with fewer bytes; 2 when the file ends before the frame does (truncated: what was
 * decompressed is still there to parse); -1 on damage (err set). */
static int fill(struct corpus_reader *r, size_t n, char *err, size_t errlen)
{
    while (r->out.len - r->at < n) {
        if (r->frame_done)
            return 1;
        if (r->at > 0) { /* drop what was parsed */
            memmove(r->out.p, r->out.p + r->at, r->out.len - r->at);
            r->out.len -= r->at;
            r->at = 0;
        }
        if (buf_room(&r->out, ZSTD_DStreamOutSize()) < 0) {
            snprintf(err, errlen, "%s: out of memory", r->path);
            return -1;
        }
        if (r->in.pos == r->in.size) {
            size_t k = fread(r->zin, 1, r->zin_cap, r->f);
            if (k == 0)
                return 2;
            r->in = (ZSTD_inBuffer){r->zin, k, 0};
        }
        ZSTD_outBuffer out = {r->out.p + r->out.len, r->out.cap - r->out.len, 0};
        size_t left = ZSTD_decompressStream(r->z, &out, &r->in);
        if (ZSTD_isError(left)) {
            snprintf(err, errlen, "%s: damaged compressed records (%s)", r->path,
                     ZSTD_getErrorName(left));
            return -1;
        }
        r->out.len += out.pos;
        if (left == 0)
            r->frame_done = 1;
    }
    return 0;
}

struct corpus_reader *corpus_open(const char *path, struct corpus_info *info, uint8_t *bg,
                                  char *err, size_t errlen)
{
    struct corpus_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->path = path;
    r->f = fopen(path, "rb");
    if (!r->f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        corpus_close(r);
        return NULL;
    }
    memset(info, 0, sizeof *info);
    char line[512];
    if (!fgets(line, sizeof line, r->f) || strcmp(line, MAGIC_LINE "\n") != 0) {
        if (strncmp(line, "RINGSIDE-DIFF-CORPUS ", 21) == 0)
            return rfail(r, err, errlen, "a corpus version this diff_test does not read");
        return rfail(r, err, errlen, "not a Ringside differential corpus");
    }
    int have_kind = 0, have_cases = 0;
    for (;;) {
        if (!fgets(line, sizeof line, r->f) || !strchr(line, '\n'))
            return rfail(r, err, errlen, "truncated or damaged header");
        if (strcmp(line, "\n") == 0)
            break;
        line[strcspn(line, "\n")] = '\0';
        char *colon = strstr(line, ": ");
        if (!colon)
            return rfail(r, err, errlen, "damaged header line");
        *colon = '\0';
        const char *key = line, *val = colon + 2;
        if (strcmp(key, "oracle") == 0)
            snprintf(info->oracle_desc, sizeof info->oracle_desc, "%s", val);
        else if (strcmp(key, "oracle-kind") == 0) {
            if (oracle_kind_parse(val, &info->oracle) < 0)
                return rfail(r, err, errlen, "unknown oracle kind in the header");
            have_kind = 1;
        } else if (strcmp(key, "host") == 0)
            snprintf(info->host, sizeof info->host, "%s", val);
        else if (strcmp(key, "recorded") == 0)
            snprintf(info->recorded, sizeof info->recorded, "%s", val);
        else if (strcmp(key, "command") == 0)
            snprintf(info->command, sizeof info->command, "%s", val);
        else if (strcmp(key, "seed") == 0)
            info->seed = strtoull(val, NULL, 10);
        else if (strcmp(key, "cases") == 0) {
            char *end;
            info->cases = strtoull(val, &end, 10);
            have_cases = *val && !*end;
        }
    }
    if (!have_kind || !have_cases)
        return rfail(r, err, errlen, "the header lacks oracle-kind or cases");
    r->cases = info->cases;

    uint8_t fixed[30];
    if (read_raw(r, fixed, sizeof fixed) < 0)
        return rfail(r, err, errlen, "truncated (binary header)");
    struct cur c = {fixed, sizeof fixed, 0, 0};
    struct layout *L = &info->L;
    L->data = get32(&c), L->dsize = get32(&c), L->code = get32(&c), L->ro = get32(&c);
    L->cs = (uint16_t)get16(&c), L->ds = (uint16_t)get16(&c), L->es = (uint16_t)get16(&c);
    L->fs = (uint16_t)get16(&c), L->gs = (uint16_t)get16(&c), L->ss = (uint16_t)get16(&c);
    r->nforms = get16(&c);
    if (L->dsize != DIFF_DATA_SIZE)
        return rfail(r, err, errlen, "data area size differs from this diff_test's");
    if (r->nforms == 0 || r->nforms > MAX_FORMS)
        return rfail(r, err, errlen, "damaged form table");
    r->forms = calloc(r->nforms, sizeof *r->forms);
    if (!r->forms)
        return rfail(r, err, errlen, "out of memory");
    for (unsigned k = 0; k < r->nforms; k++) {
        uint8_t len;
        r->forms[k] = NULL;
        if (read_raw(r, &len, 1) < 0 || !(r->forms[k] = calloc(1, (size_t)len + 1)) ||
            read_raw(r, r->forms[k], len) < 0)
            return rfail(r, err, errlen, "truncated (form table)");
    }
    if (read_raw(r, bg, DIFF_DATA_SIZE) < 0)
        return rfail(r, err, errlen, "truncated (background)");

    r->z = ZSTD_createDCtx();
    r->zin_cap = ZSTD_DStreamInSize();
    r->zin = malloc(r->zin_cap);
    if (!r->z || !r->zin)
        return rfail(r, err, errlen, "out of memory");
    return r;
}

const char *corpus_form_name(const struct corpus_reader *r, unsigned form)
{
    return form < r->nforms ? r->forms[form] : "?";
}

unsigned corpus_form_count(const struct corpus_reader *r) { return r->nforms; }

static int bad_record(struct corpus_reader *r, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s: damaged record %llu (%s)", r->path,
             (unsigned long long)r->got + 1, what);
    return -1;
}

static int truncated(struct corpus_reader *r, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: truncated: the file ends after %llu of %llu cases", r->path,
             (unsigned long long)r->got, (unsigned long long)r->cases);
    return -1;
}

int corpus_get(struct corpus_reader *r, struct tcase *tc, struct diff_result *res,
               uint8_t *after, const uint8_t *bg, char *err, size_t errlen)
{
    if (r->got == r->cases) {
        /* The frame must end here, and the file with it. */
        int e = fill(r, 1, err, errlen);
        if (e < 0)
            return -1;
        if (e == 2)
            return truncated(r, err, errlen);
        if (e == 0)
            return bad_record(r, err, errlen, "more records than the header announces");
        if (r->in.pos != r->in.size || fgetc(r->f) != EOF) {
            snprintf(err, errlen, "%s: data after the records", r->path);
            return -1;
        }
        return 0;
    }
    int e = fill(r, MAX_RECORD, err, errlen);
    if (e < 0)
        return -1;
    if (e == 1 && r->at == r->out.len) {
        snprintf(err, errlen, "%s: the header announces %llu cases, the file holds %llu",
                 r->path, (unsigned long long)r->cases, (unsigned long long)r->got);
        return -1;
    }
    struct cur c = {r->out.p + r->at, r->out.len - r->at, 0, 0};
    memset(tc, 0, sizeof *tc);
    memset(res, 0, sizeof *res);
    struct diff_case *in = &tc->in;
    tc->form = (uint16_t)get16(&c);
    if (tc->form >= r->nforms)
        return bad_record(r, err, errlen, "form out of range");
    for (unsigned k = 0; k < 8; k++)
        in->r[k] = get32(&c);
    in->eflags = get32(&c);
    in->code_off = (uint16_t)get16(&c);
    in->code_len = (uint8_t)get8(&c);
    if (in->code_off >= DIFF_CODE_SIZE || in->code_len > DIFF_CODE_MAX ||
        in->code_off + in->code_len > DIFF_CODE_SIZE)
        return bad_record(r, err, errlen, "code out of range");
    const uint8_t *p = take(&c, in->code_len);
    if (p)
        memcpy(in->code, p, in->code_len);
    in->npatch = (uint8_t)get8(&c);
    if (in->npatch > DIFF_PATCHES)
        return bad_record(r, err, errlen, "too many patches");
    memcpy(after, bg, DIFF_DATA_SIZE);
    for (unsigned k = 0; k < in->npatch; k++) {
        struct diff_patch *pt = &in->patch[k];
        pt->off = (uint16_t)get16(&c);
        pt->len = (uint8_t)get8(&c);
        if (pt->len > DIFF_PATCH_BYTES || pt->off + pt->len > DIFF_DATA_SIZE)
            return bad_record(r, err, errlen, "patch out of range");
        p = take(&c, pt->len);
        if (p) {
            memcpy(pt->bytes, p, pt->len);
            memcpy(after + pt->off, p, pt->len);
        }
    }
    tc->fmask = get32(&c);
    unsigned bits = get8(&c);
    for (unsigned k = 0; k < 8; k++)
        tc->rmask[k] = (bits & (1u << k)) ? get32(&c) : 0xFFFFFFFFu;
    tc->ign_off = (uint16_t)get16(&c);
    tc->ign_len = (uint16_t)get16(&c);
    tc->fault_regs = (uint8_t)get8(&c);

    res->vector = get32(&c), res->err = get32(&c), res->cr2 = get32(&c);
    res->siaddr = get32(&c), res->sicode = (int32_t)get32(&c);
    res->signo = (uint16_t)get16(&c);
    res->eip = get32(&c);
    res->eflags = get32(&c);
    bits = get8(&c);
    for (unsigned k = 0; k < 8; k++)
        res->r[k] = (bits & (1u << k)) ? get32(&c) : in->r[k];
    res->ds = (uint16_t)get16(&c), res->es = (uint16_t)get16(&c);
    res->fs = (uint16_t)get16(&c), res->ss = (uint16_t)get16(&c);
    res->truncated = (uint16_t)get8(&c);
    unsigned ndiff = get16(&c);
    if (ndiff > DIFF_DATA_SIZE)
        return bad_record(r, err, errlen, "too many changed bytes");
    res->ndiff = (uint16_t)ndiff;
    for (unsigned k = 0; k < ndiff; k++) {
        unsigned off = get16(&c), v = get8(&c);
        if (off >= DIFF_DATA_SIZE)
            return bad_record(r, err, errlen, "changed byte out of range");
        after[off] = (uint8_t)v;
    }
    if (c.bad && e == 2)
        return truncated(r, err, errlen);
    if (c.bad)
        return e == 1 ? bad_record(r, err, errlen, "the records end inside it")
                      : bad_record(r, err, errlen, "longer than any record can be");
    r->at += c.at;
    r->got++;
    return 1;
}
