/* libFuzzer target for the GDB stub's packet handling: the bytes of an input are what a
 * debugger (or anyone) sends to the stub's socket. They go through the framing parser
 * (src/frontend/gdb/rsp.c) and every complete packet through gdb_handle() against a small
 * machine, as the stub does, resumes included (a bounded run each). Checked on the way: every
 * reply frames into a packet that the parser reads back whole with a good checksum.
 *
 *   clang -fsanitize=fuzzer,address ... (tests/fuzz, when built with clang)
 *   build/tests/fuzz/replay_gdbpacket DIR|FILE...      (replay without libFuzzer)
 *   build/tests/gdb/gdbpacket_generated DIR|FILE...    (plus generated inputs: tests/gdb) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/gdb/gdb.h"
#include "frontend/gdb/rsp.h"
#include "machine/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The framed reply must parse back to the same data. */
static void check_reply(struct rsp_parser *back, struct rsp_reply *r)
{
    size_t n;
    const char *pkt = rsp_finish(r, &n);
    rsp_init(back);
    enum rsp_event ev = RSP_NONE;
    for (size_t k = 0; k < n; k++)
        ev = rsp_feed(back, (uint8_t)pkt[k]);
    if (ev != RSP_PACKET) {
        fprintf(stderr, "fuzz_gdbpacket: a reply does not parse back (event %d)\n", (int)ev);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct machine *m = machine_create(2, NULL, NULL);
    struct gdb_target *t = calloc(1, sizeof *t);
    struct rsp_parser *p = malloc(sizeof *p), *back = malloc(sizeof *back);
    struct rsp_reply *r = malloc(sizeof *r);
    if (!m || !t || !p || !back || !r)
        abort();
    machine_boot(m, 0x1000, 0, 0);
    gdb_target_init(t, m, NULL);
    rsp_init(p);
    unsigned resumes = 0;
    for (size_t k = 0; k < size; k++) {
        if (rsp_feed(p, data[k]) != RSP_PACKET)
            continue;
        if (p->len > RSP_MAX_PACKET || strlen(p->data) > p->len)
            abort();
        rsp_reply_init(r);
        enum gdb_action a = gdb_handle(t, p->data, p->len, r);
        switch (a) {
        case ACT_CONTINUE:
        case ACT_STEP:
            if (resumes++ < 64) { /* bounded: at most 64 short runs per input */
                gdb_resume(t, a == ACT_STEP);
                gdb_run_chunk(t, 1000);
            }
            rsp_reply_init(r);
            gdb_stop_reply(t, r);
            break;
        case ACT_REVERSE_STEP:
            gdb_reverse_step(t);
            gdb_stop_reply(t, r);
            break;
        case ACT_REVERSE_CONTINUE:
            gdb_reverse_continue(t);
            gdb_stop_reply(t, r);
            break;
        case ACT_MONITOR:
            if (strlen(t->mon) >= sizeof t->mon)
                abort();
            rsp_put(r, "OK");
            break;
        case ACT_REPLY:
        case ACT_DETACH:
        case ACT_KILL:
            break;
        }
        check_reply(back, r);
    }
    gdb_target_fini(t);
    machine_destroy(m);
    free(t);
    free(p);
    free(back);
    free(r);
    return 0;
}
