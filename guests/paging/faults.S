/* Code for the fault guest (faults.c), each piece ending with int $0x30. The block between
 * fault_code and fault_code_end is position independent; faults.c copies it into user_code
 * (at FAULT_CODE_USER) for ring 3. */
        .text
        .globl fault_code, fault_code_end, rep_movsl, rep_movsb, rep_stosl, soft_int, ring1_landing
fault_code:
rep_movsl:
        rep movsl
        int $0x30
rep_movsb:
        rep movsb
        int $0x30
rep_stosl:
        rep stosl
        int $0x30
soft_int:
        int $0x31                       /* through a gate to ring 1 */
        int $0x30
ring1_landing:                          /* reached at ring 1 only once its stack is mapped */
        int $0x30
fault_code_end:

        .section .note.GNU-stack, "", @progbits
