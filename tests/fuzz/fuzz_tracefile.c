/* Fuzz target: the trace reader (src/trace/reader.c) and everything that reads what it
 * accepts: `ringside log` (the formatter, names, filters, JSON), the Perfetto export.
 *
 * Input: a trace file's bytes, read twice: as they are, and with every frame's checksum made
 * right (so that mutations reach the records' contents, not only the checksum test).
 * Properties: trace_parse never reads outside the buffer (the
 * sanitizers watch) and returns one of its statuses with a reason; a whole trace (TRACE_OK)
 * has its end record; the event count is the number of event records; every event record the
 * reader kept decodes (in order, each against those before) to the event the reader kept; a
 * usable header encodes again and reads back the same; a trace of the inputs only keeps
 * nothing but input, marks and its end (a trace with events no mark); the exports of a usable
 * trace finish. A broken property aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/describe.h"
#include "trace/export_perfetto.h"
#include "trace/tracectx.h"
#include "trace/filter.h"
#include "trace/tracefile.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_tracefile: %s\n", what);
    abort();
}

/* The header survives encode and parse. */
static void header_round_trip(const struct trace_header *h, size_t cap)
{
    uint8_t *enc = malloc(cap + 64);
    if (!enc)
        return;
    size_t n = trace_header_encode(h, enc + TRACE_FILE_HEAD + 5, cap);
    if (n) {
        memcpy(enc, TRACE_MAGIC, TRACE_MAGIC_LEN);
        trace_put16(enc + 8, TRACE_FORMAT_VERSION);
        trace_put16(enc + 10, 0);
        enc[TRACE_FILE_HEAD] = TREC_HEADER;
        trace_put32(enc + TRACE_FILE_HEAD + 1, (uint32_t)n);
        trace_put32(enc + TRACE_FILE_HEAD + 5 + n,
                    trace_record_crc(TREC_HEADER, enc + TRACE_FILE_HEAD + 5, (uint32_t)n));
        struct trace_file again = { 0 };
        trace_parse(enc, TRACE_FILE_HEAD + TRACE_FRAME + n, &again);
        if (!again.hdr.version || !again.hdr.image ||
            strcmp(again.hdr.version, h->version) != 0 || strcmp(again.hdr.image, h->image) != 0 || again.hdr.argc != h->argc ||
            again.hdr.nmodules != h->nmodules || again.hdr.nhashes != h->nhashes ||
            again.hdr.mem_mib != h->mem_mib || again.hdr.ips != h->ips) {
            fprintf(stderr, "fuzz_tracefile: %s\n", again.why);
            fail("the header does not survive encode and parse");
        }
        trace_free(&again);
    }
    free(enc);
}

static void check(const uint8_t *data, size_t size)
{
    struct trace_file tf = { 0 };
    enum trace_status st = trace_parse(data, size, &tf);
    if (st != tf.status || (st != TRACE_OK && !tf.why[0]))
        fail("a status without its reason");
    if (st == TRACE_OK && !tf.has_end)
        fail("a whole trace without an end record");
    size_t events = 0;
    struct trace_codec k;
    trace_codec_init(&k);
    struct trace_ctx *t = trace_ctx_new(NULL, NULL);
    for (size_t i = 0; i < tf.nrecs; i++) {
        const struct trace_record *r = &tf.recs[i];
        /* within the input, or within what a compressed input decompressed to */
        if (r->payload < tf.buf || r->payload + r->len > tf.buf + tf.size)
            fail("a record outside the input");
        struct trace_event ev;
        if (t && trace_ctx_step(t, r, &ev)) { /* names, IRQ bases, triple-fault steps */
            char line[1536];
            describe_event_in(&t->d, &ev, line, sizeof line);
        }
        if (r->type == TREC_EVENT) {
            if (!trace_event_decode(&k, r->payload, r->len, &ev))
                fail("a kept event that does not decode");
            if (memcmp(&ev, r->ev, sizeof ev) != 0)
                fail("a kept event that decodes to another");
            char line[512];
            describe_event(&ev, line, sizeof line);
            events++;
        } else if (r->type == TREC_SPACE) {
            struct trace_space_rec s;
            trace_record_space(r, &s);
        } else if (r->type == TREC_OUTPUT || r->type == TREC_INPUT ||
                   r->type == TREC_INPUT_END) {
            struct trace_byte_rec b;
            trace_record_byte(r, &b);
        }
        if (tf.inputs_only && r->type != TREC_INPUT && r->type != TREC_INPUT_END &&
            r->type != TREC_MARK && r->type != TREC_END)
            fail("a regenerated record kept in a trace of the inputs only");
        if (!tf.inputs_only && r->type == TREC_MARK)
            fail("a progress mark kept in a trace with events");
    }
    trace_ctx_free(t);
    if (events != tf.nevents)
        fail("the event count is not the number of event records");
    if (trace_usable(&tf)) {
        header_round_trip(&tf.hdr, size);
        struct trace_names names;
        if (trace_names_collect(&tf, &names)) {
            struct trace_filter f;
            char err[256];
            struct trace_filter_spec spec = { .cpl = "3", .kind = "exception" };
            if (trace_filter_parse(&spec, &f, err, sizeof err) != 0)
                fail("a good filter refused");
            FILE *out = fopen("/dev/null", "w");
            for (int pass = 0; out && pass < 2; pass++) {
                struct trace_ctx *pt = trace_ctx_new(NULL, NULL);
                if (pt)
                    export_perfetto(&tf, pt, pass ? &f : NULL, 0, out);
                trace_ctx_free(pt);
            }
            if (out)
                fclose(out);
            trace_names_free(&names);
        }
    }
    trace_free(&tf);
}

/* The frames walked as the reader walks them, each checksum rewritten. */
static void fix_checksums(uint8_t *b, size_t size)
{
    size_t at = TRACE_FILE_HEAD;
    while (at + TRACE_FRAME <= size) {
        uint32_t len = trace_get32(b + at + 1);
        if (len > TRACE_MAX_PAYLOAD || size - at - TRACE_FRAME < len)
            break;
        trace_put32(b + at + 5 + len, trace_record_crc(b[at], b + at + 5, len));
        at += TRACE_FRAME + len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (copy) {
        memcpy(copy, data, size);
        fix_checksums(copy, size);
        check(copy, size);
        free(copy);
    }
    return 0;
}
