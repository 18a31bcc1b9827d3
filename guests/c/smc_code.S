/* Code that rewrites itself, for guests/c/smc.c. Lives in .text, which is writable while
 * paging is off (and under QEMU -kernel). */
        .text
        .globl smc_ret_imm, smc_ret_imm_value
/* uint32_t smc_ret_imm(void): returns the imm32 of its own first instruction. */
smc_ret_imm:
        .byte 0xB8              /* mov $imm32, %eax */
smc_ret_imm_value:
        .long 1
        ret

        .globl smc_next_insn
/* uint32_t smc_next_insn(uint32_t v): stores v into the immediate of the very next
 * instruction (same decoded block) and returns what that instruction loads. */
smc_next_insn:
        movl 4(%esp), %ecx
        movl %ecx, 1f + 1       /* patch the mov below, two instructions ahead */
        nop
1:      movl $0xDEADBEEF, %eax
        ret

        .globl smc_loop_patch
/* uint32_t smc_loop_patch(uint32_t n): a loop whose body adds an immediate that the loop
 * itself increments each iteration: returns 1 + 2 + ... + n. */
smc_loop_patch:
        movl 4(%esp), %ecx
        xorl %eax, %eax
        movl $1, 2f + 1         /* reset the immediate (the function may run twice) */
2:      .byte 0x05              /* add $imm32, %eax: the imm32 is patched below */
        .long 1
        incl 2b + 1
        loop 2b
        ret

        .data
        .globl smc_blob_a, smc_blob_a_end, smc_blob_b, smc_blob_b_end
/* Two position-independent programs copied over each other into one buffer. */
smc_blob_a:
        movl $0x1111, %eax
        addl $0x0A, %eax
        ret
smc_blob_a_end:
smc_blob_b:
        movl $0x2222, %eax
        shll $4, %eax
        ret
smc_blob_b_end:
