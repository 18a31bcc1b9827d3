/* A trace file in memory: the header, every record in order, and how the file ended.
 * reader.c fills it from a file or a buffer (validating every record); recorder.c writes the
 * header from the same struct. See format.h for the bytes.
 */
#ifndef RINGSIDE_TRACEFILE_H
#define RINGSIDE_TRACEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/event.h"
#include "trace/format.h"

#define TRACE_MAX_FILES 64u /* image + modules with a hash in one header */

/* What decides a run (the header). Strings are NUL-terminated; NULL when absent. */
struct trace_header {
    char *version;          /* Ringside's version that wrote it */
    char *command;          /* "run" or "demo" */
    char **argv;            /* the command line as typed */
    size_t argc;
    char *image;            /* as given to the loader */
    char *append;           /* --append, NULL: none */
    char **modules;         /* each "FILE[ ARGS]" */
    size_t nmodules;
    char *dir;              /* relative paths were opened from here; NULL: the cwd */
    uint32_t mem_mib;
    uint64_t ips;
    uint64_t max_insns;
    size_t nhashes;         /* image first, then each module */
    char *hash_path[TRACE_MAX_FILES];
    uint8_t hash[TRACE_MAX_FILES][TRACE_SHA256_LEN];
};

/* One record as read: its type and payload (pointing into the file's buffer). */
struct trace_record {
    uint8_t type;           /* enum trace_rec */
    uint32_t len;
    const uint8_t *payload;
    uint64_t offset;        /* of the record in the file */
    const struct trace_event *ev; /* TREC_EVENT: the event, decoded (an event's bytes say what
                                     it is only after the events before it) */
};

struct trace_end {
    uint8_t reason;         /* enum trace_end_reason */
    uint32_t status;        /* the exit status the run ended with */
    uint64_t icount, time;
    uint64_t ring[4];       /* instructions at CPL 0..3 */
    uint32_t nkinds;        /* per-kind counts recorded (TR_KINDS when written) */
    uint64_t kinds[TR_KINDS];
};

enum trace_status {
    TRACE_OK,         /* whole: header, records, end record */
    TRACE_TRUNCATED,  /* cut short: the records before the cut are usable */
    TRACE_CORRUPT,    /* a bad record: the records before it are usable */
    TRACE_NOT_TRACE,  /* no trace magic (or not even a header): nothing usable */
    TRACE_VERSION,    /* another format version: nothing usable */
    TRACE_IO,         /* cannot be opened or read: nothing usable */
};

struct trace_file {
    uint8_t *owned;         /* the file's bytes when trace_load read them */
    const uint8_t *buf;
    size_t size;
    struct trace_header hdr;
    struct trace_record *recs;
    size_t nrecs;
    struct trace_event *events; /* every event, in order (recs[i].ev points here) */
    size_t nevents;
    bool has_end;
    struct trace_end end;
    bool inputs_only;       /* TRACE_FLAG_INPUTS: no events; regenerate them (regen.h) */
    bool has_mark;          /* a TREC_MARK was read: the last one's device time and count */
    uint64_t mark_time, mark_icount;
    enum trace_status status;
    char why[256];          /* for a status other than TRACE_OK: one line, no newline */
};

/* Reads and validates path. Returns the status (also in tf->status, with tf->why); the
 * records before any cut or damage are in tf. Free with trace_free whatever it returns. */
enum trace_status trace_load(const char *path, struct trace_file *tf);
/* The same from an open file, read from its start; fd is closed. */
enum trace_status trace_load_fd(int fd, struct trace_file *tf);
/* The same from bytes in memory (buf must outlive tf; the fuzz target uses this). */
enum trace_status trace_parse(const uint8_t *buf, size_t size, struct trace_file *tf);
void trace_free(struct trace_file *tf);

/* Whether the header and the records that follow it can be used (OK, TRUNCATED, CORRUPT). */
static inline bool trace_usable(const struct trace_file *tf)
{
    return tf->hdr.version && (tf->status == TRACE_OK || tf->status == TRACE_TRUNCATED ||
                               tf->status == TRACE_CORRUPT);
}

/* Record payloads (the record's type and size were checked by the reader). */
void trace_record_event(const struct trace_record *r, struct trace_event *ev);
struct trace_byte_rec {
    uint64_t time, icount;
    uint8_t byte;
};
void trace_record_byte(const struct trace_record *r, struct trace_byte_rec *b);
struct trace_space_rec {
    uint32_t cr3, pid;
    char name[TRACE_NAME_MAX + 1];
};
void trace_record_space(const struct trace_record *r, struct trace_space_rec *s);
struct trace_name_rec {
    uint8_t what;           /* enum trace_name_kind */
    uint32_t id;
    char name[TRACE_NAME_MAX + 1];
};
void trace_record_name(const struct trace_record *r, struct trace_name_rec *n);

/* The header's payload (encoded as format.h says); returns its length, 0 if it does not fit
 * in cap. */
size_t trace_header_encode(const struct trace_header *h, uint8_t *out, size_t cap);

#endif
