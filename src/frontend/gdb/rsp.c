/* The RSP framing parser and helpers (see rsp.h). No I/O. */
#include "frontend/gdb/rsp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { ST_IDLE, ST_DATA, ST_SUM1, ST_SUM2 };

void rsp_init(struct rsp_parser *p)
{
    p->state = ST_IDLE;
    p->len = 0;
    p->overflow = false;
    p->sum = 0;
    p->want = 0;
    p->data[0] = '\0';
}

int rsp_hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

enum rsp_event rsp_feed(struct rsp_parser *p, uint8_t byte)
{
    switch (p->state) {
    case ST_IDLE:
        if (byte == '$') {
            p->state = ST_DATA;
            p->len = 0;
            p->overflow = false;
            p->sum = 0;
            return RSP_NONE;
        }
        if (byte == 0x03)
            return RSP_INTERRUPT;
        if (byte == '+')
            return RSP_ACK;
        if (byte == '-')
            return RSP_NACK;
        return RSP_NONE;
    case ST_DATA:
        if (byte == '#') {
            p->state = ST_SUM1;
            return RSP_NONE;
        }
        if (byte == '$') { /* a new packet starts: the unfinished one is dropped */
            p->len = 0;
            p->overflow = false;
            p->sum = 0;
            return RSP_NONE;
        }
        p->sum = (uint8_t)(p->sum + byte);
        if (p->len < RSP_MAX_PACKET)
            p->data[p->len++] = (char)byte;
        else
            p->overflow = true;
        return RSP_NONE;
    case ST_SUM1: {
        int v = rsp_hexval((char)byte);
        p->want = (uint8_t)((v < 0 ? 0x100 : v) << 4); /* a non-hex digit never matches */
        p->state = v < 0 ? ST_IDLE : ST_SUM2;
        if (v < 0) {
            p->data[0] = '\0';
            return p->overflow ? RSP_TOO_LONG : RSP_BAD_CHECKSUM;
        }
        return RSP_NONE;
    }
    case ST_SUM2: {
        int v = rsp_hexval((char)byte);
        p->state = ST_IDLE;
        if (p->overflow) {
            p->data[0] = '\0';
            p->len = 0;
            return RSP_TOO_LONG;
        }
        if (v < 0 || (uint8_t)(p->want | v) != p->sum) {
            p->data[0] = '\0';
            p->len = 0;
            return RSP_BAD_CHECKSUM;
        }
        p->data[p->len] = '\0';
        return RSP_PACKET;
    }
    }
    p->state = ST_IDLE;
    return RSP_NONE;
}

size_t rsp_parse_hex(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t k = 0;
    for (; k < n; k++) {
        int d = rsp_hexval(s[k]);
        if (d < 0)
            break;
        if (v >> 60)
            return 0;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return k;
}

bool rsp_unhex(const char *s, size_t n, uint8_t *out)
{
    for (size_t k = 0; k < n; k++) {
        int hi = rsp_hexval(s[2 * k]);
        int lo = hi < 0 ? -1 : rsp_hexval(s[2 * k + 1]);
        if (lo < 0)
            return false;
        out[k] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void rsp_reply_init(struct rsp_reply *r)
{
    r->buf[0] = '$';
    r->len = 0;
    r->full = false;
}

/* Room for the data: the buffer less '$', "#xx", the NUL, and room to escape. */
#define DATA_ROOM (sizeof(((struct rsp_reply *)0)->buf) / 2 - 4)

void rsp_put(struct rsp_reply *r, const char *s)
{
    size_t n = strlen(s);
    if (r->full || n > DATA_ROOM - r->len) {
        r->full = true;
        return;
    }
    memcpy(r->buf + 1 + r->len, s, n);
    r->len += n;
}

void rsp_putf(struct rsp_reply *r, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        r->full = true;
        return;
    }
    rsp_put(r, tmp);
}

void rsp_put_hex(struct rsp_reply *r, const void *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = bytes;
    if (r->full || 2 * n > DATA_ROOM - r->len) {
        r->full = true;
        return;
    }
    for (size_t k = 0; k < n; k++) {
        r->buf[1 + r->len++] = digits[b[k] >> 4];
        r->buf[1 + r->len++] = digits[b[k] & 15];
    }
}

const char *rsp_finish(struct rsp_reply *r, size_t *len)
{
    /* Escape in place from the end: the buffer holds twice the data room. */
    size_t extra = 0;
    for (size_t k = 0; k < r->len; k++) {
        char ch = r->buf[1 + k];
        extra += ch == '$' || ch == '#' || ch == '}' || ch == '*';
    }
    size_t to = r->len + extra;
    for (size_t k = r->len; k-- > 0;) {
        char ch = r->buf[1 + k];
        if (ch == '$' || ch == '#' || ch == '}' || ch == '*') {
            r->buf[1 + to - 1] = (char)(ch ^ 0x20);
            r->buf[1 + to - 2] = '}';
            to -= 2;
        } else {
            r->buf[1 + --to] = ch;
        }
    }
    size_t n = r->len + extra;
    uint8_t sum = 0;
    for (size_t k = 0; k < n; k++)
        sum = (uint8_t)(sum + (uint8_t)r->buf[1 + k]);
    snprintf(r->buf + 1 + n, 4, "#%02x", sum);
    *len = n + 4;
    return r->buf;
}
