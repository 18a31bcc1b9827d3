/* The Ringside trace file (`--record FILE`, read by `ringside log`, `replay`, `export`):
 * the on-disk format, field by field, and its encoder/decoder. docs/trace-format.md describes
 * the same with examples; TRACE_FORMAT_VERSION changes whenever a byte here changes meaning.
 *
 * A file is a magic, then records, each framed and checksummed, written as the run goes
 * (events many to a record: TREC_EVENTS):
 *
 *   file    = magic[8] "RSTRACE\0", u16 version (TRACE_FORMAT_VERSION), u16 flags (0)
 *             record*  (the first is TREC_HEADER; a whole file ends with TREC_END)
 *   record  = u8 type, u32 length (of payload, <= TRACE_MAX_PAYLOAD), payload[length],
 *             u32 crc (CRC-32C, Castagnoli, over type, length and payload)
 *
 * Every integer is little-endian. A file that stops inside a record, or has no TREC_END, is
 * "truncated": the whole records before the cut are still read. A record with a bad checksum,
 * an unknown type or a payload of the wrong size is "corrupt": nothing after it is trusted.
 *
 *   TREC_HEADER   fields: u16 key, u32 length, bytes (the keys are enum trace_hkey; an
 *                 unknown key is skipped). The Ringside version, the command, the argv, and
 *                 everything that decides the run: image, --append, modules, the directory
 *                 relative paths are opened from, --mem, --ips, --max-insns, and the SHA-256
 *                 of the image and of each module (path, 32 bytes).
 *   TREC_EVENTS   one or more events, each a u8 length (TRACE_EVENT_MIN..TRACE_EVENT_MAX)
 *                 and that many bytes: the event as a TREC_EVENT payload (below). The
 *                 recorder writes every event this way, as many to a record as come in a row
 *                 (the record ends before any other record and whenever the buffer is
 *                 written out): one frame and one checksum for all of them.
 *   TREC_EVENT    one struct trace_event (trace_event_encode), in TRACE_EVENT_MIN..
 *                 TRACE_EVENT_MAX bytes, written against the stream so far (struct
 *                 trace_codec): the reference is the last event of the same kind (zeros before
 *                 the first). varint icount step from the last event, u8 kind, u8 vector,
 *                 u8 flags (EVF_*: error code, it follows, CR2 follows, fault detail follows,
 *                 source follows), [u32 error], [u32 CR2], the state before as a u16 mask of
 *                 the fields that differ from the reference's state before and those fields,
 *                 the state after the same way against the prediction (per field: the
 *                 reference's after when the reference changed it, else this event's before),
 *                 [u8 detail kind, u8 mask of the 4-byte chunks of its 32 bytes that differ
 *                 from the reference's, those chunks], [u8 source, u8 source's number].
 *                 An event has one encoding: the decoder re-encodes and compares.
 *   TREC_SPACE    u32 cr3, u32 pid, name bytes (<= TRACE_NAME_MAX): an address space's name.
 *   TREC_NAME     u8 what (enum trace_name_kind), u32 id, name bytes (<= TRACE_NAME_MAX): a
 *                 system call's name (id: its number), or the system-call vector (id).
 *   TREC_IRQ      u8 master base, u8 slave base: the 8259A pair's vector bases (ICW2) from
 *                 here on, which tell the ISA IRQ line of an interrupt's vector (written
 *                 before the first interrupt or triple-fault event, and before the next
 *                 such event whenever the guest has reprogrammed them).
 *   TREC_TRIPLE   the three faults of the triple fault whose TREC_EVENT follows, each
 *                 u8 vector, u8 has error, u32 error, u32 CR2, the fault detail (33 bytes).
 *   TREC_OUTPUT   u64 device time, u64 icount, u8 byte: one byte COM1 sent.
 *   TREC_INPUT    u64 device time, u64 icount, u8 byte: one byte delivered to COM1's receiver.
 *   TREC_INPUT_END u64 device time, u64 icount: the console input ended (end of file).
 *   TREC_END      u8 reason (enum trace_end_reason), u32 exit status, u64 icount,
 *                 u64 device time, u64 instructions at CPL 0..3 (4 x u64), u32 n, then
 *                 n x u64 events per kind (enum trace_kind order).
 */
#ifndef RINGSIDE_TRACE_FORMAT_H
#define RINGSIDE_TRACE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu/event.h"

#define TRACE_MAGIC "RSTRACE" /* 8 bytes with its NUL */
#define TRACE_MAGIC_LEN 8u
#define TRACE_FORMAT_VERSION 5u
#define TRACE_FILE_HEAD 12u          /* magic, version, flags */
#define TRACE_FRAME 9u               /* type + length + crc around each payload */
#define TRACE_MAX_PAYLOAD (1u << 20) /* longer is corrupt (a header holds argv; 1 MiB) */
#define TRACE_NAME_MAX 64u           /* bytes of an address-space name */
#define TRACE_SHA256_LEN 32u

enum trace_rec {
    TREC_HEADER = 1,
    TREC_EVENT = 2,
    TREC_SPACE = 3,
    TREC_OUTPUT = 4,
    TREC_INPUT = 5,
    TREC_INPUT_END = 6,
    TREC_END = 7,
    TREC_NAME = 8,
    TREC_IRQ = 9,
    TREC_TRIPLE = 10,
    TREC_EVENTS = 11,
};

/* What a TREC_NAME names. */
enum trace_name_kind {
    TNAME_SYSCALL = 1,        /* system call id is called name */
    TNAME_SYSCALL_VECTOR = 2, /* INT id is the system-call gate (no name) */
};


/* Header keys. */
enum trace_hkey {
    TH_VERSION = 1,  /* Ringside's version string */
    TH_COMMAND = 2,  /* "run" or "demo" */
    TH_ARG = 3,      /* one argv string (repeated, in order) */
    TH_IMAGE = 4,    /* the image path as given */
    TH_APPEND = 5,   /* --append (absent: none) */
    TH_MODULE = 6,   /* one --module string (repeated, in order) */
    TH_DIR = 7,      /* the directory relative paths were opened from (absent: the cwd) */
    TH_MEM = 8,      /* u32 MiB */
    TH_IPS = 9,      /* u64 instructions per guest second */
    TH_MAX_INSNS = 10, /* u64, 0 = none */
    TH_HASH = 11,    /* SHA-256 (32 bytes) then the path it was taken of: image, then modules */
};

/* How a recorded run ended. */
enum trace_end_reason {
    TEND_EXIT = 1,      /* the guest wrote to the debug-exit port */
    TEND_HALT,          /* HLT that nothing could end */
    TEND_SHUTDOWN,      /* triple fault */
    TEND_UNSUPPORTED,   /* outside the subset: virtual-8086 mode, INIT, real mode */
    TEND_LIMIT,         /* --max-insns */
    TEND_SIGNAL,        /* SIGINT / SIGTERM / SIGHUP */
    TEND_OUTPUT,        /* the console could not be written */
    TEND_STOP,          /* stopped on request */
    TEND_REASONS
};

#define TRACE_EVENT_MIN 8u   /* bytes of an encoded event: the fewest (see trace_event_encode) */
#define TRACE_EVENT_MAX 159u /* and the most */
#define TRACE_DETAIL_SIZE 32u /* a fault detail's fields, zero-padded (the page walk's size) */
#define TRACE_TRIPLE_SIZE 129u /* TREC_TRIPLE payload: three faults of 43 bytes */
#define TRACE_IRQ_SIZE 2u     /* TREC_IRQ payload */
#define TRACE_BYTE_SIZE 17u   /* TREC_OUTPUT / TREC_INPUT payload */
#define TRACE_END_MIN 57u     /* TREC_END payload without the per-kind counts */

/* Little-endian helpers (one store each on a little-endian host). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline void trace_put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void trace_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void trace_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
#else
static inline void trace_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void trace_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void trace_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
#endif
static inline uint16_t trace_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t trace_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t trace_get64(const uint8_t *p)
{
    return (uint64_t)trace_get32(p) | (uint64_t)trace_get32(p + 4) << 32;
}

/* Where an event stream is: what the next event is encoded against. The recorder, the reader
 * and replay each keep one from the first event on; as long as they see the same events they
 * stay in step, so an event's bytes say the same in all three. */
#define TRACE_LANES 16       /* a state's 14 fields and two lanes of zeros */
struct trace_codec_ref {     /* the last event of one kind, zeros before the first */
    uint32_t before[TRACE_LANES]; /* EAX..EDI, EIP, EFLAGS, CR3, CS, SS, CPL, 0, 0 */
    uint32_t after[TRACE_LANES];
    uint32_t error, cr2;
    uint8_t detail_kind;
    uint8_t detail[TRACE_DETAIL_SIZE];
};
struct trace_codec {
    uint64_t icount;         /* the last event's (0 before the first) */
    struct trace_codec_ref ref[TR_KINDS];
};
void trace_codec_init(struct trace_codec *k);

/* Encodes ev, the next event of the stream k, into at most TRACE_EVENT_MAX bytes; returns how
 * many, and moves k on past ev. Two events are equal, field for field, when their encodings
 * against the same k are (replay compares them this way). */
size_t trace_event_encode(struct trace_codec *k, const struct trace_event *ev,
                          uint8_t out[TRACE_EVENT_MAX]);
/* The same as one event of a TREC_EVENTS record at out: the u8 length, then the encoding
 * (the recorder's one call an event); returns 1 + the length, at most TRACE_EVENT_PUT_MAX.
 * out must have TRACE_EVENT_PUT_ROOM writable bytes (the widest encoder stores 32 bytes at
 * once where fewer are the record's; they are written over next). */
#define TRACE_EVENT_PUT_MAX (1u + TRACE_EVENT_MAX)
#define TRACE_EVENT_PUT_ROOM (TRACE_EVENT_PUT_MAX + 8u)
size_t trace_event_put(struct trace_codec *k, const struct trace_event *ev, uint8_t *out);
/* The same with the encoder chosen (for tests): 0 the portable one, 1 SSE2, 2 AVX2, or the
 * widest below that the build and the host have. All make the same bytes. */
size_t trace_event_put_isa(struct trace_codec *k, const struct trace_event *ev, uint8_t *out,
                           unsigned isa);
/* The recorder's appender when it is the only sink (event.h trace_end_fn, the cpu calls it
 * itself; its context o is a struct trace_out, or begins with one): while o->len is below
 * o->room and ev's kind is not one of o->slow_kinds (a bit per kind), completes ev
 * (trace_event_finish, or reads the state after from the cpu as it is) and writes it as
 * trace_event_put does against o->codec, at o->buf + o->len, and adds its size to o->len:
 * the same bytes and the same codec after, whichever appender; otherwise it calls o->slow
 * with its own arguments. o->buf + o->len must have room for TRACE_EVENT_PUT_ROOM bytes
 * while it is below o->room.
 * trace_appender picks one for isa as trace_event_put_isa does (0 portable, 1 SSE2, 2 AVX2,
 * or the widest below that the build and the host have); the recorder chooses once, when it
 * starts. */
struct cpu;
struct trace_out {
    uint8_t *buf;             /* where the records go */
    size_t len;               /* bytes there so far */
    size_t room;              /* the appender's own way while len is below it */
    uint32_t slow_kinds;      /* 1 << kind: the kinds that go to slow */
    trace_end_fn slow;        /* everything else: called with the appender's arguments */
    struct trace_codec codec; /* the events so far, which the next is encoded against */
};
typedef trace_end_fn trace_append_fn;
trace_append_fn trace_appender(unsigned isa);
/* Decodes len bytes as the next event of k and moves k on; false (k unchanged) when they are
 * not exactly what trace_event_encode makes of an event or a field holds what no event can
 * (unknown kind or detail kind, CPL over 3). */
bool trace_event_decode(struct trace_codec *k, const uint8_t *in, size_t len,
                        struct trace_event *ev);

struct fault;
/* The three faults f[0..2] of a triple fault (TREC_TRIPLE), exactly TRACE_TRIPLE_SIZE bytes; decode
 * returns false when a field holds what no fault can. */
void trace_triple_encode(const struct fault *f, uint8_t out[TRACE_TRIPLE_SIZE]);
bool trace_triple_decode(const uint8_t in[TRACE_TRIPLE_SIZE], struct fault *f);

/* The name of an end reason ("exit", "halt", ...), "?" if none. */
const char *trace_end_reason_name(unsigned reason);

/* CRC-32C of n bytes, continuing crc (0 to start; like zlib's crc32, but the Castagnoli
 * polynomial: "123456789" gives 0xE3069283). */
uint32_t trace_crc32c(uint32_t crc, const void *data, size_t n);
/* CRC-32C of a record's type, length and payload (the frame's checksum). */
uint32_t trace_record_crc(uint8_t type, const uint8_t *payload, uint32_t len);
/* The same over a frame in place: type, length, then the len payload bytes. */
uint32_t trace_frame_crc(const uint8_t *frame, uint32_t len);
/* The same by the portable table, never the host's crc32 instruction (RINGSIDE_PORTABLE=1's
 * recorder, so that the tests see it make the same bytes). */
uint32_t trace_frame_crc_portable(const uint8_t *frame, uint32_t len);

#endif
