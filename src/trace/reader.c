/* The validating trace reader (see tracefile.h and format.h). */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
#include "trace/tracefile.h"

#include "cpu/cpu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define TRACE_MAX_FILE_SIZE (1ull << 34) /* 16 GiB: larger is refused, not read */
#define TRACE_MAX_UNZSTD (1ull << 32)    /* 4 GiB: a compressed trace may not grow beyond */

static enum trace_status set(struct trace_file *tf, enum trace_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum trace_status set(struct trace_file *tf, enum trace_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tf->why, sizeof tf->why, fmt, ap);
    va_end(ap);
    tf->status = st;
    return st;
}

static void free_header(struct trace_header *h);

static char *dupn(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static bool push_str(char ***list, size_t *n, char *s)
{
    char **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l) {
        free(s);
        return false;
    }
    l[(*n)++] = s;
    *list = l;
    return true;
}

/* Parses the header's fields; false with tf->why set. */
static bool parse_header(struct trace_file *tf, const uint8_t *p, uint32_t len)
{
    struct trace_header *h = &tf->hdr;
    uint32_t at = 0;
    bool have_mem = false, have_ips = false;
    while (at < len) {
        if (len - at < 6) {
            set(tf, TRACE_CORRUPT, "header field cut short at byte %u", at);
            return false;
        }
        uint16_t key = trace_get16(p + at);
        uint32_t n = trace_get32(p + at + 2);
        at += 6;
        if (n > len - at) {
            set(tf, TRACE_CORRUPT, "header field %u longer than the header", key);
            return false;
        }
        const uint8_t *v = p + at;
        at += n;
        if (memchr(v, '\0', n) && key != TH_MEM && key != TH_IPS && key != TH_MAX_INSNS &&
            key != TH_HASH) {
            set(tf, TRACE_CORRUPT, "header field %u holds a NUL byte", key);
            return false;
        }
        char **str = NULL;
        bool ok = true;
        switch (key) {
        case TH_VERSION: str = &h->version; break;
        case TH_COMMAND: str = &h->command; break;
        case TH_IMAGE: str = &h->image; break;
        case TH_APPEND: str = &h->append; break;
        case TH_DIR: str = &h->dir; break;
        case TH_ARG: ok = push_str(&h->argv, &h->argc, dupn(v, n)); break;
        case TH_MODULE: ok = push_str(&h->modules, &h->nmodules, dupn(v, n)); break;
        case TH_MEM:
            if (n != 4)
                goto bad_size;
            h->mem_mib = trace_get32(v);
            have_mem = true;
            break;
        case TH_IPS:
        case TH_MAX_INSNS:
            if (n != 8)
                goto bad_size;
            *(key == TH_IPS ? &h->ips : &h->max_insns) = trace_get64(v);
            have_ips |= key == TH_IPS;
            break;
        case TH_HASH:
            if (n <= TRACE_SHA256_LEN || memchr(v + TRACE_SHA256_LEN, '\0', n - TRACE_SHA256_LEN))
                goto bad_size;
            if (h->nhashes >= TRACE_MAX_FILES) {
                set(tf, TRACE_CORRUPT, "header names more than %u files", TRACE_MAX_FILES);
                return false;
            }
            memcpy(h->hash[h->nhashes], v, TRACE_SHA256_LEN);
            h->hash_path[h->nhashes] = dupn(v + TRACE_SHA256_LEN, n - TRACE_SHA256_LEN);
            ok = h->hash_path[h->nhashes++] != NULL;
            break;
        default: /* a key this version does not know: skipped */
            break;
        }
        if (str) {
            if (*str) {
                set(tf, TRACE_CORRUPT, "header field %u given twice", key);
                return false;
            }
            *str = dupn(v, n);
            ok = *str != NULL;
        }
        if (!ok) {
            set(tf, TRACE_IO, "out of memory reading the header");
            return false;
        }
        continue;
    bad_size:
        set(tf, TRACE_CORRUPT, "header field %u has the wrong size (%u bytes)", key, n);
        return false;
    }
    const char *missing = !h->version ? "the Ringside version" : !h->command ? "the command"
                        : !h->image ? "the image" : !have_mem ? "the memory size"
                        : !have_ips ? "the clock rate" : NULL;
    if (missing) {
        set(tf, TRACE_CORRUPT, "header lacks %s", missing);
        return false;
    }
    if (h->nhashes != 1 + h->nmodules) {
        set(tf, TRACE_CORRUPT, "header has %zu file hashes for %zu files", h->nhashes,
            1 + h->nmodules);
        return false;
    }
    return true;
}

static void parse_end(struct trace_file *tf, const uint8_t *p, uint32_t len)
{
    struct trace_end *e = &tf->end;
    e->reason = p[0];
    e->status = trace_get32(p + 1);
    e->icount = trace_get64(p + 5);
    e->time = trace_get64(p + 13);
    for (int i = 0; i < 4; i++)
        e->ring[i] = trace_get64(p + 21 + 8 * i);
    e->nkinds = trace_get32(p + 53);
    (void)len;
    for (uint32_t k = 0; k < e->nkinds && k < TR_KINDS; k++)
        e->kinds[k] = trace_get64(p + TRACE_END_MIN + 8 * k);
}

/* Whether a record of this type may have this payload; false with tf->why set. An event is
 * decoded into *ev as the next of the stream k. */
static bool check_record(struct trace_file *tf, uint8_t type, const uint8_t *p, uint32_t len,
                         uint64_t off, struct trace_codec *k, struct trace_event *ev)
{
    const char *what = NULL;
    switch (type) {
    case TREC_HEADER:
        what = "a second header";
        break;
    case TREC_EVENT:
        if (len < TRACE_EVENT_MIN || len > TRACE_EVENT_MAX)
            what = "an event of the wrong size";
        else if (!trace_event_decode(k, p, len, ev))
            what = "an event with impossible fields";
        break;
    case TREC_SPACE:
        if (len < 8 || len > 8 + TRACE_NAME_MAX || memchr(p + 8, '\0', len - 8))
            what = "a bad address-space name";
        break;
    case TREC_NAME:
        if (len < 5 || len > 5 + TRACE_NAME_MAX || memchr(p + 5, '\0', len - 5) ||
            (p[0] != TNAME_SYSCALL && p[0] != TNAME_SYSCALL_VECTOR) ||
            (p[0] == TNAME_SYSCALL_VECTOR && (len != 5 || trace_get32(p + 1) > 255)))
            what = "a bad system-call name";
        break;
    case TREC_IRQ:
        if (len != TRACE_IRQ_SIZE)
            what = "a bad interrupt line";
        break;
    case TREC_TRIPLE: {
        struct fault three[3];
        if (len != TRACE_TRIPLE_SIZE || !trace_triple_decode(p, three))
            what = "a bad triple-fault record";
        break;
    }
    case TREC_OUTPUT:
    case TREC_INPUT:
        if (len != TRACE_BYTE_SIZE)
            what = "a console byte of the wrong size";
        break;
    case TREC_INPUT_END:
        if (len != 16)
            what = "an end of input of the wrong size";
        break;
    case TREC_MARK:
        if (len != TRACE_MARK_SIZE)
            what = "a progress mark of the wrong size";
        else if (!tf->inputs_only)
            what = "a progress mark in a trace with events";
        else if (tf->has_mark && (trace_get64(p) < tf->mark_time ||
                                  trace_get64(p + 8) < tf->mark_icount))
            what = "a progress mark that goes back";
        break;
    case TREC_END:
        if (len < TRACE_END_MIN || (len - TRACE_END_MIN) % 8 ||
            trace_get32(p + 53) != (len - TRACE_END_MIN) / 8 || p[0] == 0 ||
            p[0] >= TEND_REASONS)
            what = "a bad end record";
        break;
    default:
        set(tf, TRACE_CORRUPT, "unknown record type %u at byte %llu", type,
            (unsigned long long)off);
        return false;
    }
    if (what) {
        set(tf, TRACE_CORRUPT, "%s at byte %llu", what, (unsigned long long)off);
        return false;
    }
    if (type == TREC_MARK) {
        tf->has_mark = true;
        tf->mark_time = trace_get64(p);
        tf->mark_icount = trace_get64(p + 8);
    }
    return true;
}

/* Whether a record of this type may be in this file: a trace recorded with --inputs-only has
 * no events, nothing that names them and no console output (all regenerated). False with
 * tf->why set. */
static bool allowed_here(struct trace_file *tf, uint8_t type, uint64_t off)
{
    if (!tf->inputs_only)
        return true;
    switch (type) {
    case TREC_EVENT: case TREC_EVENTS: case TREC_SPACE: case TREC_NAME: case TREC_IRQ:
    case TREC_TRIPLE: case TREC_OUTPUT:
        set(tf, TRACE_CORRUPT, "a regenerated record (type %u) at byte %llu in a trace of the "
            "inputs only", type, (unsigned long long)off);
        return false;
    default:
        return true;
    }
}

/* One record (an event: one of a TREC_EVENTS record's, or a TREC_EVENT) checked, decoded
 * and kept; false with tf->why set. */
static bool keep_record(struct trace_file *tf, uint8_t type, const uint8_t *p, uint32_t len,
                        uint64_t at, struct trace_codec *k, size_t *cap, size_t *evcap)
{
    if (type == TREC_EVENT && tf->nevents == *evcap) {
        size_t want = *evcap ? 2 * *evcap : 1024;
        struct trace_event *e = realloc(tf->events, want * sizeof *e);
        if (!e) {
            set(tf, TRACE_IO, "out of memory reading the trace");
            return false;
        }
        tf->events = e;
        *evcap = want;
    }
    /* the slot the next event decodes into (no events array before the first event) */
    struct trace_event *slot = type == TREC_EVENT ? tf->events + tf->nevents : NULL;
    if (!check_record(tf, type, p, len, at, k, slot))
        return false;
    if (tf->nrecs == *cap) {
        size_t want = *cap ? 2 * *cap : 1024;
        struct trace_record *r = realloc(tf->recs, want * sizeof *r);
        if (!r) {
            set(tf, TRACE_IO, "out of memory reading the trace");
            return false;
        }
        tf->recs = r;
        *cap = want;
    }
    tf->recs[tf->nrecs++] = (struct trace_record){ type, len, p, at, NULL };
    tf->nevents += type == TREC_EVENT;
    if (type == TREC_END) {
        tf->has_end = true;
        parse_end(tf, p, len);
    }
    return true;
}

/* The events of a TREC_EVENTS record (at byte at, its payload p of len bytes), each kept as a
 * TREC_EVENT record at its length byte; false with tf->why set. */
static bool keep_events(struct trace_file *tf, const uint8_t *p, uint32_t len, uint64_t at,
                        struct trace_codec *k, size_t *cap, size_t *evcap)
{
    if (len == 0) {
        set(tf, TRACE_CORRUPT, "an empty events record at byte %llu", (unsigned long long)at);
        return false;
    }
    for (uint32_t i = 0; i < len;) {
        uint32_t n = p[i];
        uint64_t ev_at = at + 5 + i;
        if (n < TRACE_EVENT_MIN || n > len - i - 1) {
            set(tf, TRACE_CORRUPT, "an event of the wrong size at byte %llu",
                (unsigned long long)ev_at);
            return false;
        }
        if (!keep_record(tf, TREC_EVENT, p + i + 1, n, ev_at, k, cap, evcap))
            return false;
        i += 1 + n;
    }
    return true;
}

/* The records of an uncompressed trace in buf. */
static enum trace_status parse_raw(const uint8_t *buf, size_t size, struct trace_file *tf)
{
    uint8_t *owned = tf->owned;
    memset(tf, 0, sizeof *tf);
    tf->owned = owned;
    tf->buf = buf;
    tf->size = size;
    if (size < TRACE_MAGIC_LEN || memcmp(buf, TRACE_MAGIC, TRACE_MAGIC_LEN) != 0)
        return set(tf, TRACE_NOT_TRACE, "not a Ringside trace (no RSTRACE magic)");
    if (size < TRACE_FILE_HEAD)
        return set(tf, TRACE_NOT_TRACE, "trace cut short before its header");
    unsigned version = trace_get16(buf + 8);
    if (version != TRACE_FORMAT_VERSION)
        return set(tf, TRACE_VERSION, "trace format version %u; this Ringside reads version %u",
                   version, TRACE_FORMAT_VERSION);
    if (trace_get16(buf + 10) & ~TRACE_FLAG_INPUTS)
        return set(tf, TRACE_VERSION, "trace flags 0x%04x unknown to this Ringside",
                   trace_get16(buf + 10));
    tf->inputs_only = trace_get16(buf + 10) & TRACE_FLAG_INPUTS;
    size_t cap = 0, evcap = 0;
    struct trace_codec *k = malloc(sizeof *k);
    if (!k)
        return set(tf, TRACE_IO, "out of memory reading the trace");
    trace_codec_init(k);
    uint64_t at = TRACE_FILE_HEAD;
    while (at < size) {
        if (size - at < TRACE_FRAME)
            break; /* cut inside a frame */
        uint8_t type = buf[at];
        uint32_t len = trace_get32(buf + at + 1);
        if (len > TRACE_MAX_PAYLOAD) {
            set(tf, TRACE_CORRUPT, "record at byte %llu claims %u bytes",
                (unsigned long long)at, len);
            break;
        }
        if (size - at - TRACE_FRAME < len)
            break; /* cut inside a payload */
        const uint8_t *p = buf + at + 5;
        if (trace_get32(p + len) != trace_record_crc(type, p, len)) {
            set(tf, TRACE_CORRUPT, "checksum mismatch in the record at byte %llu",
                (unsigned long long)at);
            break;
        }
        if (tf->nrecs == 0 && !tf->hdr.version) {
            if (type != TREC_HEADER) {
                set(tf, TRACE_CORRUPT, "the first record is not the header");
                break;
            }
            if (!parse_header(tf, p, len)) {
                free_header(&tf->hdr); /* a header that failed halfway is no header */
                break;
            }
            at += TRACE_FRAME + len;
            continue;
        }
        if (tf->has_end) {
            set(tf, TRACE_CORRUPT, "record after the end record at byte %llu",
                (unsigned long long)at);
            break;
        }
        if (!allowed_here(tf, type, at))
            break;
        if (type == TREC_EVENTS ? !keep_events(tf, p, len, at, k, &cap, &evcap)
                                : !keep_record(tf, type, p, len, at, k, &cap, &evcap))
            break;
        at += TRACE_FRAME + len;
    }
    free(k);
    for (size_t i = 0, e = 0; i < tf->nrecs; i++) /* the arrays have stopped moving */
        if (tf->recs[i].type == TREC_EVENT)
            tf->recs[i].ev = &tf->events[e++];
    if (tf->status != TRACE_OK) {
        if (!tf->hdr.version && tf->status == TRACE_CORRUPT)
            tf->status = TRACE_NOT_TRACE; /* nothing usable without a header */
        return tf->status;
    }
    if (!tf->hdr.version)
        return set(tf, TRACE_TRUNCATED, "trace cut short inside its header");
    if (!tf->has_end && tf->inputs_only)
        return set(tf, TRACE_TRUNCATED, "trace truncated after %llu instructions (no end "
                   "record: the run was killed or the disk filled)",
                   (unsigned long long)tf->mark_icount);
    if (!tf->has_end)
        return set(tf, TRACE_TRUNCATED, "trace truncated after %zu events (no end record: "
                   "the run was killed or the disk filled)", tf->nevents);
    return TRACE_OK;
}

/* A zstd-compressed trace: buf decompressed as far as it goes (a file cut short decompresses
 * to its flushed part, which then reads as truncated), then parsed; damaged compressed data
 * makes the records before the damage usable and the trace corrupt. */
static enum trace_status parse_zstd(const uint8_t *buf, size_t size, struct trace_file *tf)
{
    ZSTD_DCtx *z = ZSTD_createDCtx();
    size_t cap = size < TRACE_MAX_UNZSTD / 8 ? size * 4 + 4096 : (size_t)(TRACE_MAX_UNZSTD / 2);
    size_t len = 0;
    uint8_t *out = malloc(cap);
    const char *zerr = NULL;
    bool big = false;
    ZSTD_inBuffer in = { buf, size, 0 };
    while (z && out && in.pos < in.size) {
        if (len == cap) {
            if (cap >= TRACE_MAX_UNZSTD) {
                big = true;
                break;
            }
            size_t want = 2 * cap < TRACE_MAX_UNZSTD ? 2 * cap : (size_t)TRACE_MAX_UNZSTD;
            uint8_t *more = realloc(out, want);
            if (!more) {
                zerr = "out of memory";
                break;
            }
            out = more;
            cap = want;
        }
        ZSTD_outBuffer o = { out, cap, len };
        size_t r = ZSTD_decompressStream(z, &o, &in);
        len = o.pos;
        if (ZSTD_isError(r)) {
            zerr = ZSTD_getErrorName(r);
            break;
        }
        if (o.pos < o.size && in.pos == in.size)
            break; /* all input taken and nothing more to flush */
    }
    ZSTD_freeDCtx(z);
    if (!z || !out) {
        free(out);
        uint8_t *keep = tf->owned; /* trace_free frees it */
        memset(tf, 0, sizeof *tf);
        tf->owned = keep;
        return set(tf, TRACE_IO, "out of memory reading the trace");
    }
    uint8_t *old = tf->owned;
    tf->owned = out;
    if (old != buf)
        old = NULL; /* the caller's buffer, not ours */
    parse_raw(out, len, tf);
    if ((zerr || big) && (tf->status == TRACE_OK || tf->status == TRACE_TRUNCATED) &&
        tf->hdr.version)
        set(tf, TRACE_CORRUPT, "compressed trace damaged after %zu bytes of it: %s", len,
            big ? "it decompresses to more than 4 GiB" : zerr);
    else if ((zerr || big) && !tf->hdr.version)
        set(tf, TRACE_NOT_TRACE, "compressed data that is no trace: %s",
            big ? "it decompresses to more than 4 GiB" : zerr);
    free(old);
    return tf->status;
}

enum trace_status trace_parse(const uint8_t *buf, size_t size, struct trace_file *tf)
{
    if (size >= 4 && trace_get32(buf) == ZSTD_MAGICNUMBER)
        return parse_zstd(buf, size, tf);
    return parse_raw(buf, size, tf);
}

/* Asks Linux for 2 MiB pages under a large buffer about to be filled: reading a trace of 10^6
 * events (160 MB) into 4 KiB pages spent as long in page faults as in the copy. Only a hint:
 * where it is not available or refused, nothing changes. */
static void want_huge_pages(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + n) & ~(huge - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p, (void)n;
#endif
}

/* Reads the open file fd from its start into tf and closes fd. */
static enum trace_status load_fd(int fd, struct trace_file *tf)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return set(tf, TRACE_IO, "not a regular file");
    }
    if ((unsigned long long)st.st_size > TRACE_MAX_FILE_SIZE) {
        close(fd);
        return set(tf, TRACE_IO, "larger than 16 GiB");
    }
    size_t size = (size_t)st.st_size;
    tf->owned = malloc(size ? size : 1);
    if (!tf->owned) {
        close(fd);
        return set(tf, TRACE_IO, "out of memory reading it");
    }
    want_huge_pages(tf->owned, size);
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, tf->owned + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : 0;
            close(fd);
            if (e)
                return set(tf, TRACE_IO, "cannot read: %s", strerror(e));
            break; /* shrank while being read: parse what there is */
        }
        got += (size_t)n;
    }
    close(fd);
    return trace_parse(tf->owned, got, tf);
}

enum trace_status trace_load(const char *path, struct trace_file *tf)
{
    memset(tf, 0, sizeof *tf);
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return set(tf, TRACE_IO, "cannot open: %s", strerror(errno));
    return load_fd(fd, tf);
}

enum trace_status trace_load_fd(int fd, struct trace_file *tf)
{
    memset(tf, 0, sizeof *tf);
    if (lseek(fd, 0, SEEK_SET) != 0) {
        int e = errno;
        close(fd);
        return set(tf, TRACE_IO, "cannot read: %s", strerror(e));
    }
    return load_fd(fd, tf);
}

/* Frees and clears a header (also one that failed halfway). */
static void free_header(struct trace_header *h)
{
    free(h->version);
    free(h->command);
    free(h->image);
    free(h->append);
    free(h->dir);
    for (size_t i = 0; i < h->argc; i++)
        free(h->argv[i]);
    free(h->argv);
    for (size_t i = 0; i < h->nmodules; i++)
        free(h->modules[i]);
    free(h->modules);
    for (size_t i = 0; i < h->nhashes; i++)
        free(h->hash_path[i]);
    memset(h, 0, sizeof *h);
}

void trace_free(struct trace_file *tf)
{
    free_header(&tf->hdr);
    free(tf->recs);
    free(tf->events);
    free(tf->owned);
    memset(tf, 0, sizeof *tf);
}

void trace_record_event(const struct trace_record *r, struct trace_event *ev)
{
    *ev = *r->ev;
}

void trace_record_byte(const struct trace_record *r, struct trace_byte_rec *b)
{
    b->time = trace_get64(r->payload);
    b->icount = trace_get64(r->payload + 8);
    b->byte = r->type == TREC_INPUT_END ? 0 : r->payload[16];
}

void trace_record_name(const struct trace_record *r, struct trace_name_rec *n)
{
    n->what = r->payload[0];
    n->id = trace_get32(r->payload + 1);
    size_t len = r->len - 5;
    memcpy(n->name, r->payload + 5, len);
    n->name[len] = '\0';
}

void trace_record_space(const struct trace_record *r, struct trace_space_rec *s)
{
    s->cr3 = trace_get32(r->payload);
    s->pid = trace_get32(r->payload + 4);
    size_t n = r->len - 8;
    memcpy(s->name, r->payload + 8, n);
    s->name[n] = '\0';
}

/* ---- the header's encoding ---- */

struct hbuf {
    uint8_t *p;
    size_t len, cap;
    bool over;
};

static void hfield(struct hbuf *b, uint16_t key, const void *v, size_t n)
{
    if (b->over || n > TRACE_MAX_PAYLOAD || b->cap - b->len < 6 + n) {
        b->over = true;
        return;
    }
    trace_put16(b->p + b->len, key);
    trace_put32(b->p + b->len + 2, (uint32_t)n);
    memcpy(b->p + b->len + 6, v, n);
    b->len += 6 + n;
}

static void hstr(struct hbuf *b, uint16_t key, const char *s)
{
    if (s)
        hfield(b, key, s, strlen(s));
}

size_t trace_header_encode(const struct trace_header *h, uint8_t *out, size_t cap)
{
    struct hbuf b = { out, 0, cap, false };
    hstr(&b, TH_VERSION, h->version);
    hstr(&b, TH_COMMAND, h->command);
    for (size_t i = 0; i < h->argc; i++)
        hstr(&b, TH_ARG, h->argv[i]);
    hstr(&b, TH_IMAGE, h->image);
    hstr(&b, TH_APPEND, h->append);
    for (size_t i = 0; i < h->nmodules; i++)
        hstr(&b, TH_MODULE, h->modules[i]);
    hstr(&b, TH_DIR, h->dir);
    uint8_t v[8];
    trace_put32(v, h->mem_mib);
    hfield(&b, TH_MEM, v, 4);
    trace_put64(v, h->ips);
    hfield(&b, TH_IPS, v, 8);
    trace_put64(v, h->max_insns);
    hfield(&b, TH_MAX_INSNS, v, 8);
    for (size_t i = 0; i < h->nhashes && i < TRACE_MAX_FILES; i++) {
        uint8_t hv[TRACE_SHA256_LEN + 4096];
        size_t pl = strlen(h->hash_path[i]);
        if (pl > 4096) {
            b.over = true;
            break;
        }
        memcpy(hv, h->hash[i], TRACE_SHA256_LEN);
        memcpy(hv + TRACE_SHA256_LEN, h->hash_path[i], pl);
        hfield(&b, TH_HASH, hv, TRACE_SHA256_LEN + pl);
    }
    return b.over ? 0 : b.len;
}
