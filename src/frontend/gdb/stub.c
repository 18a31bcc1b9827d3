/* The socket side of the GDB stub (stub.h): listen, accept one debugger, feed its bytes to
 * the packet parser (rsp.h), answer through gdb_handle (gdb.h), run the machine in chunks and
 * look for Ctrl-C between them. */
#define _GNU_SOURCE /* accept4, NI_MAXHOST */
#include "frontend/gdb/stub.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frontend/gdb/gdb.h"
#include "frontend/report.h"

#define GDB_CHUNK 100000u /* device time units between two looks at the socket */

struct stub {
    struct gdb_target t;
    int lfd, fd;             /* listening socket, the debugger's connection (-1: none) */
    struct rsp_parser p;
    uint8_t in[4096];
    size_t inpos, inlen;     /* bytes read but not yet fed */
    char last[sizeof(((struct rsp_reply *)0)->buf)]; /* the last packet sent, for '-' */
    size_t lastlen;
    bool no_refusals;        /* a waiting connection could not be accepted: stop looking */
};

bool gdb_addr_valid(const char *addr, char *err, size_t errlen)
{
    const char *colon = strrchr(addr, ':');
    const char *port = colon ? colon + 1 : addr;
    char *end;
    if (!*port || strspn(port, "0123456789") != strlen(port) ||
        strtoul(port, &end, 10) > 65535 || strlen(port) > 5) {
        snprintf(err, errlen, "--gdb needs [HOST:]PORT with PORT 0..65535, not '%s'", addr);
        return false;
    }
    return true;
}

/* Opens the listening socket; false after one line on stderr. */
static bool listen_on(struct stub *s, const char *addr)
{
    char host[256] = "127.0.0.1";
    const char *colon = strrchr(addr, ':');
    const char *port = colon ? colon + 1 : addr;
    if (colon && colon > addr) {
        size_t n = (size_t)(colon - addr);
        if (n >= sizeof host) {
            report("--gdb: host name too long");
            return false;
        }
        memcpy(host, addr, n);
        host[n] = '\0';
        if (host[0] == '[' && host[n - 1] == ']') { /* [::1]:1234 */
            memmove(host, host + 1, n - 2);
            host[n - 2] = '\0';
        }
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        report("--gdb %s: %s", addr, gai_strerror(rc));
        return false;
    }
    int err = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1) == 0) {
            s->lfd = fd;
            break;
        }
        err = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (s->lfd < 0) {
        report("--gdb %s: cannot listen: %s", addr, strerror(err));
        return false;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char h[NI_MAXHOST] = "?", p[NI_MAXSERV] = "?";
    if (getsockname(s->lfd, (struct sockaddr *)&ss, &sl) == 0)
        getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    fprintf(stderr, "ringside: gdb: listening on %s:%s\n", h, p);
    fflush(stderr);
    return true;
}

/* Accepts the debugger; false when the listening socket fails for good (not an
 * interruption or a connection given up before it was accepted). */
static bool accept_one(struct stub *s)
{
    int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return errno == EINTR || errno == ECONNABORTED || errno == EAGAIN;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s->fd = fd;
    s->t.history_off = false; /* a debugger: snapshots again from its first resume */
    rsp_init(&s->p);
    s->inpos = s->inlen = 0;
    return true;
}

/* A second debugger while one is attached: told so (the error reply to its first packet,
 * with the reason as gdb prints it) and hung up on; one line on stderr. Waits at most half a
 * second for its first packet. */
static bool refuse(struct stub *s)
{
    int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return false; /* gone before it was accepted, or no fd left: look again later */
    report("gdb: refused a second debugger: one is attached (detach it first)");
    char junk[4096];
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    if (poll(&pf, 1, 500) == 1)
        (void)!recv(fd, junk, sizeof junk, MSG_DONTWAIT);
    struct rsp_reply r;
    rsp_reply_init(&r);
    rsp_put(&r, "E.Ringside: another debugger is attached; detach it first");
    size_t n;
    const char *pkt = rsp_finish(&r, &n);
    (void)!send(fd, "+", 1, MSG_NOSIGNAL);
    (void)!send(fd, pkt, n, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    while (poll(&pf, 1, 200) == 1 && recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
        ; /* its ack and anything else, so that closing does not reset the connection */
    close(fd);
    return true;
}

/* Refuses every debugger waiting to connect (one is attached). */
static void refuse_others(struct stub *s)
{
    struct pollfd pf = { .fd = s->lfd, .events = POLLIN };
    while (s->lfd >= 0 && !s->no_refusals && poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN))
        if (!refuse(s))
            s->no_refusals = true; /* cannot accept (no fd left?): leave them waiting */
}

static void hang_up(struct stub *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static void send_raw(struct stub *s, const char *b, size_t n)
{
    while (s->fd >= 0 && n) {
        ssize_t w = send(s->fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            hang_up(s);
            return;
        }
        b += w;
        n -= (size_t)w;
    }
}

static void send_reply(struct stub *s, struct rsp_reply *r)
{
    if (r->full) { /* cannot happen with the sizes used; an error rather than a cut reply */
        rsp_reply_init(r);
        rsp_put(r, "E01");
    }
    size_t n;
    const char *pkt = rsp_finish(r, &n);
    memcpy(s->last, pkt, n);
    s->lastlen = n;
    send_raw(s, pkt, n);
}

/* Text for gdb's console: O packets of up to 1000 bytes each. */
static void send_text(struct stub *s, const char *text)
{
    size_t n = strlen(text);
    for (size_t at = 0; at < n; at += 1000) {
        struct rsp_reply r;
        rsp_reply_init(&r);
        rsp_put(&r, "O");
        rsp_put_hex(&r, text + at, n - at < 1000 ? n - at : 1000);
        send_reply(s, &r);
    }
}

/* The stop reply, after the stopping event in words (an O packet gdb prints). */
static void send_stop(struct stub *s)
{
    struct rsp_reply r;
    if (s->t.stop == STOP_EVENT && s->t.stop_text[0]) {
        char line[sizeof s->t.stop_text + 2];
        snprintf(line, sizeof line, "%s\n", s->t.stop_text);
        send_text(s, line);
    }
    rsp_reply_init(&r);
    gdb_stop_reply(&s->t, &r);
    send_reply(s, &r);
}

/* Reads what the socket has into s->in; wait: block until something comes. False on EOF or
 * an error (the debugger is gone). */
static bool fill(struct stub *s, bool wait)
{
    if (s->inpos < s->inlen)
        return true;
    struct pollfd pf[2] = { { .fd = s->fd, .events = POLLIN },
                            { .fd = s->lfd, .events = POLLIN } };
    int rc = poll(pf, s->no_refusals ? 1 : 2, wait ? -1 : 0);
    if (rc < 0)
        return errno == EINTR;
    if (pf[1].revents & POLLIN)
        refuse_others(s);
    if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
        return true;
    ssize_t n = recv(s->fd, s->in, sizeof s->in, 0);
    if (n <= 0) {
        if (n < 0 && errno == EINTR)
            return true;
        return false;
    }
    s->inpos = 0;
    s->inlen = (size_t)n;
    return true;
}

enum step { GO_ON, RESUMED, DETACH, KILL };

/* Feeds buffered bytes while stopped; returns when a packet resumes, detaches or kills, or
 * when the buffer is empty (GO_ON). */
static enum step serve_bytes(struct stub *s)
{
    while (s->inpos < s->inlen && s->fd >= 0) {
        enum rsp_event ev = rsp_feed(&s->p, s->in[s->inpos++]);
        struct rsp_reply r;
        switch (ev) {
        case RSP_NONE:
        case RSP_ACK:
            break;
        case RSP_NACK:
            send_raw(s, s->last, s->lastlen);
            break;
        case RSP_BAD_CHECKSUM:
            send_raw(s, "-", 1);
            break;
        case RSP_TOO_LONG:
            send_raw(s, "+", 1);
            rsp_reply_init(&r);
            rsp_put(&r, "E01");
            send_reply(s, &r);
            break;
        case RSP_INTERRUPT:
            send_stop(s); /* already stopped */
            break;
        case RSP_PACKET: {
            send_raw(s, "+", 1);
            rsp_reply_init(&r);
            enum gdb_action a = gdb_handle(&s->t, s->p.data, s->p.len, &r);
            switch (a) {
            case ACT_CONTINUE:
            case ACT_STEP:
                gdb_resume(&s->t, a == ACT_STEP);
                return RESUMED;
            case ACT_REVERSE_STEP:
                gdb_reverse_step(&s->t);
                send_stop(s);
                break;
            case ACT_REVERSE_CONTINUE:
                gdb_reverse_continue(&s->t);
                send_stop(s);
                break;
            case ACT_DETACH:
                send_reply(s, &r);
                return DETACH;
            case ACT_KILL:
                if (r.len)
                    send_reply(s, &r);
                return KILL;
            case ACT_MONITOR:
                send_text(s, s->t.mon);
                rsp_put(&r, "OK");
                send_reply(s, &r);
                break;
            case ACT_REPLY:
                send_reply(s, &r);
                break;
            }
            break;
        }
        }
    }
    return GO_ON;
}

/* While running: whether the debugger sent Ctrl-C (other bytes are dropped: gdb sends
 * nothing else then). False when it went away. */
static bool poll_interrupt(struct stub *s, bool *intr)
{
    *intr = false;
    if (!fill(s, false))
        return false;
    while (s->inpos < s->inlen) {
        if (rsp_feed(&s->p, s->in[s->inpos++]) == RSP_INTERRUPT)
            *intr = true;
    }
    return true;
}

static void finish(struct stub *s)
{
    gdb_target_fini(&s->t);
    hang_up(s);
    if (s->lfd >= 0)
        close(s->lfd);
    s->lfd = -1;
}

/* The debugger left (detach, or its connection ended): the machine is brought back to where
 * it had been, forgets the breakpoints and break conditions and runs on; the next debugger
 * may attach. Returns true when the machine ended meanwhile. */
static bool let_go(struct stub *s)
{
    hang_up(s);
    if (gdb_catch_up(&s->t))
        return true;
    gdb_forget(&s->t);
    gdb_resume(&s->t, false);
    return false;
}

enum gdb_outcome gdb_stub_serve(struct machine *m, const struct gdb_stub_options *o,
                                enum run_result *r)
{
    struct stub *s = calloc(1, sizeof *s);
    if (!s) {
        report("out of memory");
        return GDB_FAILED;
    }
    s->lfd = s->fd = -1;
    enum gdb_outcome out = GDB_FAILED;
    if (!listen_on(s, o->addr)) {
        free(s);
        return GDB_FAILED;
    }
    gdb_target_init(&s->t, m, o->syms);
    s->t.end_time = o->end_time;
    bool running = !o->start_halted;
    bool left = false;          /* a debugger has left: --max-insns counts from then */
    uint64_t left_at = 0;
    if (running)
        gdb_resume(&s->t, false);
    for (;;) {
        if (!running) {
            if (s->fd < 0 && !accept_one(s)) {
                report("gdb: cannot accept a connection: %s; the run goes on", strerror(errno));
                out = GDB_DETACHED;
                break;
            }
            if (s->fd < 0)
                continue;
            enum step st = fill(s, true) ? serve_bytes(s) : DETACH;
            if (st == KILL) {
                out = GDB_KILLED;
                break;
            }
            if (st == DETACH || s->fd < 0) { /* detached, or the debugger went away */
                if (let_go(s)) {
                    *r = gdb_end_result(&s->t);
                    out = GDB_ENDED;
                    break;
                }
                left = true;
                left_at = cpu_time(&m->cpu);
                running = true;
                continue;
            }
            running = st == RESUMED;
            continue;
        }
        uint64_t chunk = GDB_CHUNK;
        if (left && o->max_insns && s->fd < 0) {
            uint64_t done = cpu_time(&m->cpu) - left_at;
            if (done >= o->max_insns) {
                *r = RUN_LIMIT;
                out = GDB_ENDED;
                break;
            }
            if (o->max_insns - done < chunk)
                chunk = o->max_insns - done;
        }
        bool stopped = gdb_run_chunk(&s->t, chunk);
        if (o->flush && !o->flush(o->flush_ctx)) {
            *r = RUN_STOP;
            out = GDB_ENDED;
            break;
        }
        if (stopped) {
            running = false;
            if (s->fd >= 0)
                send_stop(s);
            if (s->t.stop == STOP_EXITED) {
                *r = gdb_end_result(&s->t);
                out = GDB_ENDED;
                break;
            }
            if (s->fd < 0) { /* no debugger asked for this stop: the console's error */
                *r = RUN_STOP;
                out = GDB_ENDED;
                break;
            }
            continue;
        }
        if (s->fd < 0) {
            struct pollfd pf = { .fd = s->lfd, .events = POLLIN };
            if (poll(&pf, 1, 0) == 1 && accept_one(s) && s->fd >= 0) {
                gdb_interrupt(&s->t); /* a debugger attaching stops the machine */
                running = false;
            }
            continue;
        }
        refuse_others(s);
        bool intr;
        if (!poll_interrupt(s, &intr)) {
            if (let_go(s)) {
                *r = gdb_end_result(&s->t);
                out = GDB_ENDED;
                break;
            }
            left = true;
            left_at = cpu_time(&m->cpu);
            continue;
        }
        if (intr) {
            gdb_interrupt(&s->t);
            running = false;
            send_stop(s);
        }
    }
    finish(s);
    free(s);
    return out;
}
