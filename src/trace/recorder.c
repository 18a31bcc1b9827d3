/* The trace recorder (see recorder.h). */
#include "trace/recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "cpu/inspect.h"
#include "machine/machine.h"

#define REC_BUF (1u << 18) /* bytes buffered between writes: 256 KiB */
#define NO_BLOCK SIZE_MAX  /* struct recorder's block: no TREC_EVENTS record open */
#define REC_ZSTD_LEVEL 3   /* zstd's default: fast, and a trace shrinks about tenfold */

struct recorder {
    struct trace_out out;    /* first: the appender is the cpu's end of an event, with the
                              * recorder as its context (out.slow: rec_end_slow) */
    int fd;
    int err;                 /* the first write error (errno), 0: none */
    size_t block;            /* where the open TREC_EVENTS record's frame begins in out.buf,
                              * NO_BLOCK: none open */
    trace_append_fn append;  /* the event appender, chosen when recording starts */
    bool portable;           /* the portable encoder only (recorder_set_portable) */
    bool inputs_only;        /* the run's inputs only, no events (recorder_set_inputs_only) */
    ZSTD_CCtx *z;            /* compressing (a FILE ending in .zst), NULL: not */
    uint8_t *zbuf;           /* compressed bytes on their way to the file */
    size_t zcap;
    uint64_t written;
    struct machine *m;       /* attached to, NULL: not attached */
    machine_input_fn refill; /* the input's own refill, called through ours */
    void *refill_ctx;
    bool input_ended;
    int pic_base[2];         /* the 8259A vector bases last written (TREC_IRQ), -1: none yet */
    uint8_t area[REC_BUF];
};

/* Room in the buffer that the appender's own way needs: the longest event (TRACE_EVENT_PUT_ROOM)
 * and then the open record's checksum. */
#define REC_ROOM (REC_BUF - (TRACE_EVENT_PUT_ROOM + 4) + 1)

/* Ends the open TREC_EVENTS record, if any: its length and checksum. There is always room for
 * the checksum (rec_event and the appender leave it). */
static void close_block(struct recorder *r)
{
    if (r->block == NO_BLOCK)
        return;
    uint8_t *p = r->out.buf + r->block;
    uint32_t len = (uint32_t)(r->out.len - r->block - 5);
    trace_put32(p + 1, len);
    trace_put32(p + 5 + len,
                r->portable ? trace_frame_crc_portable(p, len) : trace_frame_crc(p, len));
    r->out.len += 4;
    r->block = NO_BLOCK;
    r->out.room = 0;
}

static void rec_end_slow(void *ctx, struct cpu *c, struct trace_event *ev);

/* The kinds of event that may need a context record before them: an interrupt (the vector
 * bases name its ISA line), a triple fault (its steps). Only these are described with what
 * the records say, so the bases are compared only before them. */
#define REC_CONTEXT_KINDS (1u << TR_INTERRUPT | 1u << TR_SHUTDOWN)
static inline bool context_kind(unsigned kind)
{
    return REC_CONTEXT_KINDS >> (kind & 31) & 1; /* kind < TR_KINDS < 32 */
}
_Static_assert(TR_KINDS <= 32, "context_kind's mask");

/* Writes n bytes to the file. */
static void write_all(struct recorder *r, const uint8_t *p, size_t n)
{
    size_t done = 0;
    while (!r->err && done < n) {
        ssize_t w = write(r->fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            r->err = w < 0 ? errno : EIO;
            r->out.room = 0;
        } else {
            done += (size_t)w;
        }
    }
    r->written += done;
}

/* Hands n bytes of the trace to the file, through the compressor when there is one: mode
 * ZSTD_e_flush makes everything so far decodable (a run killed later leaves it readable),
 * ZSTD_e_end ends the frame. */
static void emit(struct recorder *r, const uint8_t *p, size_t n, ZSTD_EndDirective mode)
{
    if (r->err)
        return;
    if (!r->z) {
        write_all(r, p, n);
        return;
    }
    ZSTD_inBuffer in = { p, n, 0 };
    for (;;) {
        ZSTD_outBuffer out = { r->zbuf, r->zcap, 0 };
        size_t left = ZSTD_compressStream2(r->z, &out, &in, mode);
        if (ZSTD_isError(left)) {
            r->err = EIO;
            r->out.room = 0;
            return;
        }
        write_all(r, r->zbuf, out.pos);
        if (r->err || (in.pos == in.size && (mode == ZSTD_e_continue || left == 0)))
            return;
    }
}

static void write_out_as(struct recorder *r, ZSTD_EndDirective mode)
{
    close_block(r);
    emit(r, r->out.buf, r->out.len, mode);
    r->out.len = 0;
}

static void write_out(struct recorder *r)
{
    write_out_as(r, ZSTD_e_continue);
}

static void put(struct recorder *r, const void *p, size_t n)
{
    close_block(r);
    if (r->err)
        return;
    if (REC_BUF - r->out.len < n)
        write_out(r);
    if (n > REC_BUF) { /* a large header: straight through */
        emit(r, p, n, ZSTD_e_continue);
        return;
    }
    memcpy(r->out.buf + r->out.len, p, n);
    r->out.len += n;
}

/* Room for a framed record of len payload bytes at the end of the buffer: the type and length
 * written, the payload to be written at the pointer returned, then seal(). NULL after a write
 * error, or when the record is larger than the buffer. */
static uint8_t *reserve(struct recorder *r, uint8_t type, uint32_t len)
{
    close_block(r);
    if (r->err || len > REC_BUF - TRACE_FRAME)
        return NULL;
    if (REC_BUF - r->out.len < TRACE_FRAME + len)
        write_out(r);
    uint8_t *p = r->out.buf + r->out.len;
    p[0] = type;
    trace_put32(p + 1, len);
    return p + 5;
}

/* Ends the record reserve() began: its checksum, one pass over the frame in the buffer. */
static void seal(struct recorder *r, uint32_t len)
{
    uint8_t *p = r->out.buf + r->out.len;
    trace_put32(p + 5 + len, trace_frame_crc(p, len));
    r->out.len += TRACE_FRAME + len;
}

/* One framed record. */
static void record(struct recorder *r, uint8_t type, const uint8_t *payload, uint32_t len)
{
    uint8_t *p = reserve(r, type, len);
    if (p) {
        memcpy(p, payload, len);
        seal(r, len);
        return;
    }
    uint8_t head[5] = { type }, tail[4]; /* a large header: straight through */
    trace_put32(head + 1, len);
    trace_put32(tail, trace_record_crc(type, payload, len));
    put(r, head, sizeof head);
    put(r, payload, len);
    put(r, tail, sizeof tail);
}

/* Frees r and its compressor (the file is closed by the caller). */
static void destroy(struct recorder *r)
{
    ZSTD_freeCCtx(r->z);
    free(r->zbuf);
    free(r);
}

struct recorder *recorder_open(const char *path, char *err, size_t errlen)
{
    struct recorder *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->out.buf = r->area;
    r->out.room = 0; /* until the first event opens a TREC_EVENTS record; 0 after an error */
    r->out.slow_kinds = REC_CONTEXT_KINDS;
    r->out.slow = rec_end_slow;
    r->block = NO_BLOCK;
    r->append = trace_appender(2);
    size_t plen = strlen(path);
    if (plen > 4 && strcmp(path + plen - 4, ".zst") == 0) {
        r->zcap = ZSTD_CStreamOutSize();
        r->z = ZSTD_createCCtx();
        r->zbuf = malloc(r->zcap);
        if (!r->z || !r->zbuf ||
            ZSTD_isError(ZSTD_CCtx_setParameter(r->z, ZSTD_c_compressionLevel,
                                                REC_ZSTD_LEVEL))) {
            snprintf(err, errlen, "out of memory");
            destroy(r);
            return NULL;
        }
    }
    r->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (r->fd < 0) {
        snprintf(err, errlen, "cannot write trace file '%s': %s", path, strerror(errno));
        destroy(r);
        return NULL;
    }
    uint8_t head[TRACE_FILE_HEAD] = TRACE_MAGIC;
    trace_put16(head + 8, TRACE_FORMAT_VERSION);
    trace_put16(head + 10, 0);
    put(r, head, sizeof head);
    return r;
}

bool recorder_write_header(struct recorder *r, const struct trace_header *h)
{
    uint8_t *p = malloc(TRACE_MAX_PAYLOAD);
    if (!p)
        return false;
    size_t n = trace_header_encode(h, p, TRACE_MAX_PAYLOAD);
    if (n)
        record(r, TREC_HEADER, p, (uint32_t)n);
    free(p);
    return n != 0;
}

/* What a reader needs to name the event as the live log does, and cannot learn from the
 * event: the vector bases that map an interrupt to its ISA line (when they changed), a triple
 * fault's steps. */
static void rec_context(struct recorder *r, const struct trace_event *ev)
{
    const struct machine *m = r->m;
    if (m->pic.chip[0].base != r->pic_base[0] || m->pic.chip[1].base != r->pic_base[1]) {
        uint8_t p[TRACE_IRQ_SIZE] = { m->pic.chip[0].base, m->pic.chip[1].base };
        r->pic_base[0] = p[0];
        r->pic_base[1] = p[1];
        record(r, TREC_IRQ, p, sizeof p);
    }
    if (ev->kind == TR_SHUTDOWN) {
        struct fault three[3];
        uint8_t p[TRACE_TRIPLE_SIZE];
        cpu_get_shutdown(&m->cpu, three);
        trace_triple_encode(three, p);
        record(r, TREC_TRIPLE, p, sizeof p);
    }
}

/* One event: one test for the rare context records (an interrupt, a triple fault), one for
 * room in the buffer (the longest event and the checksum after it), a TREC_EVENTS record
 * opened if none is, one call that encodes the event in place. */
static void rec_event(void *ctx, const struct trace_event *ev)
{
    struct recorder *r = ctx;
    if (r->m && context_kind(ev->kind))
        rec_context(r, ev);
    if (r->out.len >= REC_ROOM)
        write_out(r);
    if (r->block == NO_BLOCK) {
        if (r->out.len >= REC_ROOM - 5)
            write_out(r);
        r->block = r->out.len;
        r->out.buf[r->out.len] = TREC_EVENTS;
        r->out.len += 5; /* the length: close_block */
    }
    if (r->err) /* a write error, which recorder_finish reports */
        return;
    r->out.len += r->portable ? trace_event_put_isa(&r->out.codec, ev, r->out.buf + r->out.len, 0)
                              : trace_event_put(&r->out.codec, ev, r->out.buf + r->out.len);
    r->out.room = REC_ROOM; /* the appender's own way from here on, while there is room */
}

/* When the recorder is the only sink, the cpu ends each event by the appender chosen when
 * recording started (r->append, event.h trace_end_fn), which completes it in the buffer, into
 * the open TREC_EVENTS record; anything unusual (an interrupt or a triple fault, which may
 * need a context record first: out.slow_kinds; the buffer full, no TREC_EVENTS record open, a
 * write error: out.room is 0 for the last two) comes here: the event completed and recorded
 * by rec_event. */
static void rec_end_slow(void *ctx, struct cpu *c, struct trace_event *ev)
{
    trace_event_finish(c, ev);
    rec_event(ctx, ev);
}

static void rec_byte(void *ctx, const struct console_byte *b)
{
    struct recorder *r = ctx;
    if (!b->input && r->inputs_only) /* output is regenerated with the events */
        return;
    uint8_t p[TRACE_BYTE_SIZE];
    trace_put64(p, b->time);
    trace_put64(p + 8, b->icount);
    p[16] = b->byte;
    record(r, b->input ? TREC_INPUT : TREC_OUTPUT, p, TRACE_BYTE_SIZE);
}

/* Our refill around the input's own: sees the moment the input ends. */
static void rec_refill(void *ctx, struct machine *m)
{
    struct recorder *r = ctx;
    if (r->refill)
        r->refill(r->refill_ctx, m);
    if (m->input.ended && !r->input_ended) {
        r->input_ended = true;
        uint8_t p[16];
        trace_put64(p, cpu_time(&m->cpu));
        trace_put64(p + 8, cpu_stat_insns(&m->cpu));
        record(r, TREC_INPUT_END, p, sizeof p);
    }
}

static void rec_name(struct recorder *r, uint8_t what, uint32_t id, const char *name)
{
    uint8_t p[5 + TRACE_NAME_MAX];
    size_t n = what == TNAME_SYSCALL ? strnlen(name, TRACE_NAME_MAX) : 0;
    p[0] = what;
    trace_put32(p + 1, id);
    memcpy(p + 5, name, n);
    record(r, TREC_NAME, p, (uint32_t)(5 + n));
}

/* The machine's space-name tap: every naming the guest (or a client) makes. */
static void rec_naming(void *ctx, unsigned kind, const struct space_name *n)
{
    struct recorder *r = ctx;
    if (kind == NAMES_SPACE)
        record_space_name(r, n->cr3, n->pid, n->name);
    else if (kind == NAMES_SYSCALL)
        rec_name(r, TNAME_SYSCALL, n->pid, n->name);
    else if (kind == NAMES_SYSCALL_VECTOR)
        rec_name(r, TNAME_SYSCALL_VECTOR, n->pid, "");
}

/* The names m knows already (said before the recording began). */
static void rec_known_names(struct recorder *r, const struct machine *m)
{
    for (unsigned k = 0; k < machine_space_count(m); k++) {
        const struct space_name *n = machine_space_at(m, k);
        record_space_name(r, n->cr3, n->pid, n->name);
    }
    for (uint32_t nr = 0; nr < MACHINE_SYSCALL_NAMES; nr++)
        if (machine_syscall_name(m, nr))
            rec_name(r, TNAME_SYSCALL, nr, machine_syscall_name(m, nr));
    if (machine_syscall_vector(m) >= 0)
        rec_name(r, TNAME_SYSCALL_VECTOR, (uint32_t)machine_syscall_vector(m), "");
}

bool recorder_attach(struct recorder *r, struct machine *m)
{
    r->m = m;
    r->pic_base[0] = r->pic_base[1] = -1;
    trace_codec_init(&r->out.codec);
    /* --inputs-only: the console's bytes only (input), the rest is regenerated. */
    bool all = !r->inputs_only;
    if (all && cpu_add_sink_end(&m->cpu, rec_event, r->append, r) < 0) {
        r->m = NULL;
        return false;
    }
    if (machine_add_tap(m, rec_byte, r) < 0 ||
        (all && machine_add_space_tap(m, rec_naming, r) < 0)) {
        machine_remove_tap(m, rec_byte, r);
        cpu_remove_sink(&m->cpu, rec_event, r);
        r->m = NULL;
        return false;
    }
    if (all)
        rec_known_names(r, m);
    r->refill = m->input.refill;
    r->refill_ctx = m->input.refill_ctx;
    m->input.refill = rec_refill;
    m->input.refill_ctx = r;
    return true;
}

void recorder_set_inputs_only(struct recorder *r)
{
    if (r->written || r->out.len < TRACE_FILE_HEAD)
        return; /* the file head is gone already: recorder_open's contract was not kept */
    trace_put16(r->out.buf + 10, TRACE_FLAG_INPUTS);
    r->inputs_only = true;
}

void recorder_set_portable(struct recorder *r)
{
    r->append = trace_appender(0);
    r->portable = true;
}

void recorder_detach(struct recorder *r, struct machine *m)
{
    if (r->m != m)
        return;
    cpu_remove_sink(&m->cpu, rec_event, r);
    machine_remove_tap(m, rec_byte, r);
    machine_remove_space_tap(m, rec_naming, r);
    if (m->input.refill == rec_refill) {
        m->input.refill = r->refill;
        m->input.refill_ctx = r->refill_ctx;
    }
    r->m = NULL;
}

void record_space_name(struct recorder *r, uint32_t cr3, uint32_t pid, const char *name)
{
    if (r->inputs_only) /* regenerated with the events */
        return;
    uint8_t p[8 + TRACE_NAME_MAX];
    size_t n = strnlen(name, TRACE_NAME_MAX);
    trace_put32(p, cr3);
    trace_put32(p + 4, pid);
    memcpy(p + 8, name, n);
    record(r, TREC_SPACE, p, (uint32_t)(8 + n));
}

static bool flush_out(struct recorder *r)
{
    write_out_as(r, ZSTD_e_flush);
    return !r->err;
}

bool recorder_flush(struct recorder *r)
{
    if (r->inputs_only && r->m) { /* how far the run went: a truncated file replays to here */
        uint8_t p[TRACE_MARK_SIZE];
        trace_put64(p, cpu_time(&r->m->cpu));
        trace_put64(p + 8, cpu_stat_insns(&r->m->cpu));
        record(r, TREC_MARK, p, sizeof p);
    }
    return flush_out(r);
}

bool recorder_finish(struct recorder *r, struct machine *m, enum trace_end_reason reason,
                     uint32_t status)
{
    if (r->err) /* a file that lost records must not end as if whole */
        return false;
    const struct cpu *c = &m->cpu;
    uint8_t p[TRACE_END_MIN + 8 * TR_KINDS];
    p[0] = (uint8_t)reason;
    trace_put32(p + 1, status);
    trace_put64(p + 5, cpu_stat_insns(c));
    trace_put64(p + 13, cpu_time(c));
    for (unsigned i = 0; i < 4; i++)
        trace_put64(p + 21 + 8 * i, cpu_stat_ring(c, i));
    trace_put32(p + 53, TR_KINDS);
    for (unsigned k = 0; k < TR_KINDS; k++)
        trace_put64(p + TRACE_END_MIN + 8 * k, cpu_stat_events(c, (enum trace_kind)k));
    record(r, TREC_END, p, sizeof p);
    return flush_out(r);
}

int recorder_close(struct recorder *r, int *err_no)
{
    if (!r)
        return 0;
    if (r->m)
        recorder_detach(r, r->m);
    write_out_as(r, ZSTD_e_end);
    int e = r->err;
    if (close(r->fd) != 0 && !e)
        e = errno;
    destroy(r);
    if (e) {
        *err_no = e;
        return -1;
    }
    return 0;
}

uint64_t recorder_bytes(const struct recorder *r)
{
    return r->written + r->out.len;
}
