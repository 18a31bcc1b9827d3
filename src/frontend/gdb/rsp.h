/* The GDB remote serial protocol (RSP) on the wire, without any I/O: a byte-at-a-time framing
 * parser, the checksum, hex helpers and a reply builder. The stub (stub.c) feeds it what the
 * socket delivers; tests/fuzz/fuzz_gdbpacket.c feeds it anything.
 *
 *   $<data>#<two hex digits of the modulo-256 sum of data>    a packet
 *   +  -                                                     ack / nack of the last packet
 *   0x03                                                     an interrupt (Ctrl-C) between
 *                                                            packets
 *
 * A packet's data is kept as it came ('}' escapes are left for the commands that take binary
 * data; this stub takes none). Anything between packets that is none of the above is
 * ignored, as gdb's own stub does.
 */
#ifndef RINGSIDE_GDB_RSP_H
#define RINGSIDE_GDB_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RSP_MAX_PACKET 4096u /* the largest packet data accepted (announced as PacketSize) */

enum rsp_event {
    RSP_NONE,         /* nothing complete yet */
    RSP_PACKET,       /* a whole packet with a good checksum: data in p->data, p->len */
    RSP_BAD_CHECKSUM, /* a whole packet whose checksum does not match (answer '-') */
    RSP_TOO_LONG,     /* a whole packet longer than RSP_MAX_PACKET (its data is dropped) */
    RSP_INTERRUPT,    /* 0x03 between packets */
    RSP_ACK,          /* '+' */
    RSP_NACK,         /* '-': the other side wants the last packet again */
};

struct rsp_parser {
    int state;                       /* where in a packet (rsp.c) */
    size_t len;                      /* data bytes kept so far */
    bool overflow;                   /* more than RSP_MAX_PACKET data bytes came */
    uint8_t sum;                     /* running checksum of the data */
    uint8_t want;                    /* the checksum the packet gives */
    char data[RSP_MAX_PACKET + 1];   /* the data, NUL-terminated when complete */
};

void rsp_init(struct rsp_parser *p);
/* Takes one byte; returns what it completed. */
enum rsp_event rsp_feed(struct rsp_parser *p, uint8_t byte);

/* Hex: one digit's value or -1; parse up to max digits of a number (returns digits taken, 0
 * when none or when the value does not fit in 64 bits). */
int rsp_hexval(char ch);
size_t rsp_parse_hex(const char *s, size_t n, uint64_t *out);
/* Decodes 2*n hex digits into n bytes; false when one is not a hex digit. */
bool rsp_unhex(const char *s, size_t n, uint8_t *out);

/* A reply being built: data appended, then framed with its checksum. Appends past the end set
 * `full` and are dropped (the stub then answers an error instead). */
struct rsp_reply {
    char buf[2 * RSP_MAX_PACKET + 8]; /* "$" data "#xx" */
    size_t len;                       /* bytes of data so far (after the '$') */
    bool full;
};
void rsp_reply_init(struct rsp_reply *r);
void rsp_put(struct rsp_reply *r, const char *s);
void rsp_putf(struct rsp_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rsp_put_hex(struct rsp_reply *r, const void *bytes, size_t n);
/* Frames the reply: returns the whole packet ($data#xx) and its length in *len. The special
 * characters $ # } * in data are escaped. */
const char *rsp_finish(struct rsp_reply *r, size_t *len);

#endif
