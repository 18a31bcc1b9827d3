/* 16-bit operand-size (0x66-prefixed) and high-byte-register forms, for the op16 guest.
 *
 * Each routine is a cdecl function of up to three uint32_t arguments returning a uint32_t;
 * c/op16.c computes the expected value in C. Most return the full 32-bit register so that a
 * 16-bit write that clobbers bits 16..31 shows. The immediate forms (iw after 66) are there
 * to check instruction lengths: a decoder that takes a 4-byte immediate goes astray.
 */
        .text

#define ARG1 4(%esp)
#define ARG2 8(%esp)
#define ARG3 12(%esp)

/* addw: low half = a + b, high half of a kept. */
        .globl op16_add
op16_add:
        movl ARG1, %eax
        movl ARG2, %ecx
        addw %cx, %ax
        ret

/* Multi-word add with adcw: dst[i] = a[i] + b[i] + carry, i = 0..n-1 (n > 0 words).
 * Uses lea (flags kept) and loop (flags kept) to walk the arrays. Returns the final carry. */
        .globl op16_adc_chain
op16_adc_chain:
        pushl %esi
        pushl %edi
        pushl %ebx
        movl 16(%esp), %edi             /* dst */
        movl 20(%esp), %esi             /* a */
        movl 24(%esp), %ebx             /* b */
        movl 28(%esp), %ecx             /* n */
        clc
1:      movw (%esi), %ax
        adcw (%ebx), %ax
        movw %ax, (%edi)
        leal 2(%esi), %esi
        leal 2(%ebx), %ebx
        leal 2(%edi), %edi
        loop 1b
        setc %al
        movzbl %al, %eax
        popl %ebx
        popl %edi
        popl %esi
        ret

/* mulw / imulw: DX:AX = AX * r/m16, returned as (DX << 16) | AX. */
        .globl op16_mul
op16_mul:
        movl ARG1, %eax
        mulw ARG2                       /* 66 F7 /4 with a memory operand */
        shll $16, %edx
        movw %ax, %dx
        movl %edx, %eax
        ret

        .globl op16_imul
op16_imul:
        movl ARG1, %eax
        movl ARG2, %ecx
        imulw %cx
        shll $16, %edx
        movw %ax, %dx
        movl %edx, %eax
        ret

/* divw / idivw: DX:AX / r16 -> AX quotient, DX remainder; returns (DX << 16) | AX.
 * The caller keeps the quotient within 16 bits. */
        .globl op16_div
op16_div:
        movl ARG1, %eax
        movl %eax, %edx
        shrl $16, %edx
        movl ARG2, %ecx
        divw %cx
        shll $16, %edx
        movw %ax, %dx
        movl %edx, %eax
        ret

        .globl op16_idiv
op16_idiv:
        movl ARG1, %eax
        movl %eax, %edx
        shrl $16, %edx
        movl ARG2, %ecx
        idivw %cx
        shll $16, %edx
        movw %ax, %dx
        movl %edx, %eax
        ret

/* imulw with immediates: (a * -300) << 16 | (a * 5) & 0xFFFF, 16-bit products. */
        .globl op16_imul3
op16_imul3:
        movl ARG1, %ecx
        imulw $-300, %cx, %ax           /* 66 69 /r iw */
        shll $16, %eax
        imulw $5, %cx, %ax              /* 66 6B /r ib */
        ret

/* Immediate forms and their lengths. Returns a mix that c/op16.c recomputes. */
        .globl op16_imm
op16_imm:
        pushl %ebx
        movl 8(%esp), %eax              /* a */
        movl %eax, %ecx
        movl %eax, %edx
        movl $0xCAFE0000, %ebx
        andw $0x0FF0, %ax               /* 66 25 iw */
        orw $0x1234, %cx                /* 66 81 /1 iw */
        addw $-3, %dx                   /* 66 83 /0 ib */
        movw $0xBEEF, %bx               /* 66 BB iw: ebx = 0xCAFEBEEF */
        movw $0x5A5A, scratch16         /* 66 C7 05 disp32 iw */
        addw $0x0101, scratch16         /* 66 81 05 disp32 iw: 0x5B5B */
        xorw %ax, %cx
        xorw %dx, %cx
        xorw scratch16, %cx             /* cx = (a&0FF0) ^ (a|1234) ^ (a-3) ^ 5B5B */
        xorl %ebx, %ecx                 /* high half: a's ^ 0xCAFE; low ^ 0xBEEF */
        cmpw $0x0800, %ax               /* 66 3D iw */
        setae %bl
        testw $0x8000, %dx              /* 66 F7 /0 iw */
        setnz %bh
        movzbl %bl, %eax
        movzbl %bh, %edx
        shll $1, %edx
        orl %edx, %eax                  /* bit 0: (a & 0FF0) >= 0800, bit 1: bit 15 of a-3 */
        movl %ecx, scratch32
        popl %ebx
        ret

/* The value op16_imm stored last (its 32-bit mix). */
        .globl op16_imm_mix
op16_imm_mix:
        movl scratch32, %eax
        ret

/* pushw/popw move ESP by 2; pushw $imm16 is 66 68 iw. Returns
 * (ESP delta after the two pushes) << 24 | (low byte of the pushed imm16) << 16 | a & 0xFFFF. */
        .globl op16_pushpop
op16_pushpop:
        movl ARG1, %eax
        movl %esp, %ecx
        pushw %ax                       /* 66 50 */
        pushw $0x1234                   /* 66 68 iw */
        subl %esp, %ecx                 /* 4 */
        xorl %edx, %edx
        popw %dx                        /* 66 5A: 0x1234 */
        popw %ax                        /* a's low half (upper EAX untouched) */
        movzwl %ax, %eax
        shll $24, %ecx
        andl $0xFF, %edx
        shll $16, %edx
        orl %ecx, %eax
        orl %edx, %eax
        ret

/* Sign and zero extensions. out[0..7]: cbw, cwde, cwd (dx:ax), cdq (edx), movsbw, movzbw,
 * movswl, movzwl of a. */
        .globl op16_ext
op16_ext:
        pushl %edi
        movl 8(%esp), %edi              /* out */
        movl 12(%esp), %ecx             /* a */
        movl %ecx, %eax
        cbtw                            /* 66 98: AX = sign-extended AL; upper EAX kept */
        movl %eax, 0(%edi)
        movl %ecx, %eax
        cwtl                            /* 98: EAX = sign-extended AX */
        movl %eax, 4(%edi)
        movl %ecx, %eax
        movl $0x77770000, %edx
        cwtd                            /* 66 99: DX = sign of AX; upper EDX kept */
        movl %edx, 8(%edi)
        movl %ecx, %eax
        cltd                            /* 99: EDX = sign of EAX */
        movl %edx, 12(%edi)
        movl $0x55550000, %eax
        movsbw %cl, %ax                 /* 66 0F BE */
        movl %eax, 16(%edi)
        movl $0x55550000, %eax
        movzbw %cl, %ax                 /* 66 0F B6 */
        movl %eax, 20(%edi)
        movswl %cx, %eax                /* 0F BF */
        movl %eax, 24(%edi)
        movzwl %cx, %eax                /* 0F B7 */
        movl %eax, 28(%edi)
        popl %edi
        ret

/* xchgw, xaddw, cmpxchgw (equal and not equal). out[0..5]. */
        .globl op16_atomics
op16_atomics:
        pushl %edi
        pushl %ebx
        movl 12(%esp), %edi             /* out */
        movl 16(%esp), %eax             /* a */
        movl 20(%esp), %ecx             /* b */
        xchgw %ax, %cx                  /* 66 91 */
        movl %eax, 0(%edi)
        movl %ecx, 4(%edi)
        movw %ax, scratch16
        xaddw %cx, scratch16            /* mem += cx, cx = old mem */
        movl %ecx, 8(%edi)
        movzwl scratch16, %ebx
        movl %ebx, 12(%edi)
        /* cmpxchgw: equal -> store source, ZF=1; not equal -> AX = mem, ZF=0 */
        movw scratch16, %ax
        movw $0x1111, %cx
        cmpxchgw %cx, scratch16
        setz %bl
        movw $0x2222, %cx
        cmpxchgw %cx, scratch16         /* ax (old) != 0x1111 unless old was 0x1111 */
        setz %bh
        movzwl scratch16, %edx
        shll $16, %edx
        movw %bx, %dx
        movl %edx, 16(%edi)             /* mem << 16 | ZF2 << 8 | ZF1 */
        movl %eax, 20(%edi)             /* ax after the second cmpxchg */
        popl %ebx
        popl %edi
        ret

/* Shifts and rotates by CL on 16 bits; shld/shrd with 16-bit operands. out[0..6]. */
        .globl op16_shifts
op16_shifts:
        pushl %edi
        pushl %ebx
        movl 12(%esp), %edi             /* out */
        movl 16(%esp), %ebx             /* a */
        movl 20(%esp), %ecx             /* count */
        movl %ebx, %eax
        shlw %cl, %ax
        movl %eax, 0(%edi)
        movl %ebx, %eax
        shrw %cl, %ax
        movl %eax, 4(%edi)
        movl %ebx, %eax
        sarw %cl, %ax
        movl %eax, 8(%edi)
        movl %ebx, %eax
        rolw %cl, %ax                   /* count & 31, then mod 16 */
        movl %eax, 12(%edi)
        movl %ebx, %eax
        rorw %cl, %ax
        movl %eax, 16(%edi)
        movl %ebx, %eax
        movl %ebx, %edx
        rorl $16, %edx
        shldw %cl, %dx, %ax             /* 66 0F A5 */
        movl %eax, 20(%edi)
        movl %ebx, %eax
        shrdw %cl, %dx, %ax             /* 66 0F AD */
        movl %eax, 24(%edi)
        popl %ebx
        popl %edi
        ret

/* Bit instructions on 16 bits. out[0] = 0xFFFF0000 | bsfw(a), out[1] = 0xEEEE0000 | bsrw(a),
 * out[2] = a after btsw; returns btw CF | btsw CF << 8. A register bit offset is taken mod 16.
 * a must have a bit set in its low half. */
        .globl op16_bits
op16_bits:
        pushl %ebx
        pushl %esi
        movl 12(%esp), %ebx             /* out */
        movl 16(%esp), %ecx             /* a */
        movl 20(%esp), %edx             /* bit */
        movl $0xFFFF0000, %eax
        bsfw %cx, %ax                   /* 66 0F BC */
        movl $0xEEEE0000, %esi
        bsrw %cx, %si                   /* 66 0F BD */
        movl %eax, 0(%ebx)
        movl %esi, 4(%ebx)
        btw %dx, %cx                    /* 66 0F A3 */
        setc %al
        btsw %dx, %cx                   /* 66 0F AB */
        setc %ah
        movl %ecx, 8(%ebx)
        movzwl %ax, %eax
        popl %esi
        popl %ebx
        ret

/* String instructions with 16-bit elements: rep stosw fill, rep movsw copy, repne scasw
 * search, repe cmpsw compare, lodsw sum. Returns the index of the searched word (or -1)
 * in *found, the first differing index from cmpsw in *diff, the lodsw sum as the result. */
        .globl op16_strings
op16_strings:
        pushl %esi
        pushl %edi
        pushl %ebx
        /* rep stosw: fill buf16a[0..63] with 0xA55A */
        movl $buf16a, %edi
        movl $64, %ecx
        movw $0xA55A, %ax
        rep stosw
        /* rep movsw: copy 64 words of buf16a into buf16b, then change word 40 of b */
        movl $buf16a, %esi
        movl $buf16b, %edi
        movl $64, %ecx
        rep movsw
        movw $0x1234, buf16b + 80
        /* repne scasw: find 0x1234 in buf16b */
        movl $buf16b, %edi
        movl $64, %ecx
        movw $0x1234, %ax
        repne scasw
        movl $-1, %ebx
        jne 1f
        movl %edi, %ebx
        subl $buf16b + 2, %ebx
        shrl $1, %ebx
1:      movl 16(%esp), %edx             /* found */
        movl %ebx, (%edx)
        /* repe cmpsw: first difference between a and b */
        movl $buf16a, %esi
        movl $buf16b, %edi
        movl $64, %ecx
        repe cmpsw
        movl $-1, %ebx
        je 2f
        movl %esi, %ebx
        subl $buf16a + 2, %ebx
        shrl $1, %ebx
2:      movl 20(%esp), %edx             /* diff */
        movl %ebx, (%edx)
        /* lodsw: sum of buf16b */
        movl $buf16b, %esi
        movl $64, %ecx
        xorl %ebx, %ebx
        xorl %eax, %eax
3:      lodsw
        addl %eax, %ebx
        loop 3b
        movl %ebx, %eax
        popl %ebx
        popl %edi
        popl %esi
        ret

/* incw/decw/negw/notw and their flags: returns ((result) & 0xFFFF) | flags << 16 for op
 * 0 = inc, 1 = dec, 2 = neg, 3 = not (flags = ZF SF CF OF as bits 0..3); upper half of the
 * register must survive, which the caller checks through *upper. */
        .globl op16_unary
op16_unary:
        pushl %ebx
        movl 8(%esp), %eax              /* a */
        movl 12(%esp), %ecx             /* op */
        cmpl $0, %ecx
        jne 1f
        stc                             /* inc and dec must keep CF */
        incw %ax
        jmp 4f
1:      cmpl $1, %ecx
        jne 2f
        stc
        decw %ax
        jmp 4f
2:      cmpl $2, %ecx
        jne 3f
        negw %ax
        jmp 4f
3:      stc                             /* not changes no flag: ZF=SF=OF=0 from cmpl, CF=1 */
        notw %ax
4:      setz %bl
        sets %bh
        setc %cl
        seto %ch
        movl 16(%esp), %edx
        movl %eax, (%edx)               /* *upper = whole register */
        movzwl %ax, %eax
        movzbl %bl, %edx
        shll $16, %edx
        orl %edx, %eax
        movzbl %bh, %edx
        shll $17, %edx
        orl %edx, %eax
        movzbl %cl, %edx
        shll $18, %edx
        orl %edx, %eax
        movzbl %ch, %edx
        shll $19, %edx
        orl %edx, %eax
        popl %ebx
        ret

/* leaw: 16-bit destination of an address computation; upper EDX kept. */
        .globl op16_lea
op16_lea:
        movl ARG1, %eax
        movl ARG2, %ecx
        movl $0x9ABC0000, %edx
        leaw 0x1234(%eax,%ecx,2), %dx   /* 66 8D */
        movl %edx, %eax
        ret

/* High-byte registers: ah/ch/dh/bh as sources and destinations. a = 0xAABBCCDD-style.
 * Returns bytes: [al+ah] [ch^dh] [bh] [ah after xchg with al]. */
        .globl op8_high
op8_high:
        pushl %ebx
        movl 8(%esp), %eax
        movl %eax, %ecx
        movl %eax, %edx
        movl %eax, %ebx
        rorl $8, %ecx                   /* ch = byte 2 of a */
        rorl $16, %edx                  /* dh = byte 3 of a */
        movb %ah, %bl                   /* bl = byte 1 */
        addb %ah, %al                   /* al = b0 + b1 */
        xorb %dh, %ch                   /* ch = b2 ^ b3 */
        movb %ch, %bh                   /* bh = b2 ^ b3 */
        xchgb %ah, %al                  /* ah = b0 + b1, al = b1 */
        movzbl %ah, %eax
        shll $8, %eax
        movb %bh, %al                   /* eax = (b0+b1) << 8 | (b2^b3) */
        shll $8, %eax
        movb %bl, %al                   /* ... << 8 | b1 */
        popl %ebx
        ret

        .data
        .align 4
scratch16:
        .word 0, 0
scratch32:
        .long 0

        .bss
        .align 4
buf16a: .skip 128
buf16b: .skip 128

        .section .note.GNU-stack, "", @progbits
