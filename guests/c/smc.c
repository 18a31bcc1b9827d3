/* Guest: self-modifying code and loading code over old code. The decoded-instruction cache
 * must see every store into a page that holds decoded code: a patched immediate, a patch of
 * the next instruction in the same block, a loop that rewrites its own body, and a buffer into
 * which two programs are copied in turn and executed each time. */
#include "rt.h"

uint32_t smc_ret_imm(void);
extern uint32_t smc_ret_imm_value;
uint32_t smc_next_insn(uint32_t v);
uint32_t smc_loop_patch(uint32_t n);
extern const uint8_t smc_blob_a[], smc_blob_a_end[], smc_blob_b[], smc_blob_b_end[];

static uint8_t buffer[64] __attribute__((aligned(16)));

static uint32_t run_buffer(void)
{
    uint32_t (*fn)(void) = (uint32_t (*)(void))(uintptr_t)buffer;
    return fn();
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    check("immediate before patch", smc_ret_imm(), 1);
    smc_ret_imm_value = 0x12345678;
    check("immediate after patch", smc_ret_imm(), 0x12345678);
    smc_ret_imm_value = 7;
    check("immediate after second patch", smc_ret_imm(), 7);

    check("next instruction patched", smc_next_insn(0xC0FFEE), 0xC0FFEE);
    check("next instruction patched again", smc_next_insn(42), 42);

    check("loop rewriting its body (n=10)", smc_loop_patch(10), 55);
    check("loop rewriting its body (n=1000)", smc_loop_patch(1000), 500500);

    uint32_t total = 0;
    for (int round = 0; round < 4; round++) {
        const uint8_t *src = (round & 1) ? smc_blob_b : smc_blob_a;
        const uint8_t *end = (round & 1) ? smc_blob_b_end : smc_blob_a_end;
        memset(buffer, 0xCC, sizeof buffer);
        memcpy(buffer, src, (size_t)(end - src));
        total += run_buffer();
    }
    check("programs loaded over each other", total, 2 * (0x1111 + 0x0A) + 2 * (0x2222 << 4));
    return rt_finish("smc");
}
