/* Guest, pure GNU as (no C, no shared runtime): Fibonacci numbers and a tour of the integer
 * instructions a compiler rarely emits. Each result is printed and checked against a constant
 * (computed with Python's integers); the exit value is the number of failed checks.
 *
 *   fib(46) iteratively with loop; the sum of fib(0..46) mod 2^32
 *   fib(90) in 64 bits with add/adc; fib(88) = fib(90) - fib(89) with sub/sbb
 *   fib(20) recursively with enter/leave, call/ret, push/pop (and the call count)
 *   64-bit shifts with shld/shrd and with shl/rcl, shr/rcr
 *   mul, imul (one, two and three operands), div, idiv (64/32)
 *   xchg, cmpxchg (both outcomes), xadd, bswap, xlatb, pusha/popa, pushf/popf,
 *   loope/loopne/jecxz, lodsb/stosb, enter with a nesting level of 1
 */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003
#define UART_THR 0x3F8
#define UART_LSR 0x3FD
#define EXIT_PORT 0xF4

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .bss
        .align 16
stack:  .skip 8192
stack_top:
failures:
        .skip 4
calls:  .skip 4
hexbuf: .skip 12

        .data
xlat_table:
        .ascii "0123456789abcdef"

/* CHECK "name", want: compares EAX with want; prints "name = EAX ok" or "... FAIL". */
.macro CHECK name, want
        .section .rodata
.Lname\@: .asciz "\name"
        .text
        movl $\want, %edx
        movl $.Lname\@, %esi
        call check32
.endm

/* CHECK64 "name", hi, lo: compares EDX:EAX with hi:lo. */
.macro CHECK64 name, whi, wlo
        .section .rodata
.Lname\@: .asciz "\name"
        .text
        movl $\whi, %ecx
        movl $\wlo, %ebx
        movl $.Lname\@, %esi
        call check64
.endm

        .text
        .globl _start
_start:
        cld
        movl $stack_top, %esp
        cmpl $0x2BADB002, %eax
        je 1f
        movl $0x7E, %eax                /* not started by a Multiboot loader */
        jmp exit
1:      movl $0, failures

        /* --- fib(46) iteratively: loop runs ECX = 46 times ----------------------------- */
        xorl %eax, %eax                 /* fib(i) */
        movl $1, %ebx                   /* fib(i+1) */
        xorl %edi, %edi                 /* sum of fib(0..i-1) */
        movl $46, %ecx
2:      addl %eax, %edi
        movl %ebx, %edx
        addl %eax, %ebx
        movl %edx, %eax
        loop 2b
        addl %eax, %edi                 /* + fib(46) */
        pushl %edi
        CHECK "fib(46)", 0x6D73E55F
        popl %eax
        CHECK "sum fib(0..46) mod 2^32", 0x1E8D0A3F

        /* --- fib(90) in 64 bits: (EDX:EAX, ECX:EBX) pairs, add/adc --------------------- */
        xorl %eax, %eax
        xorl %edx, %edx
        movl $1, %ebx
        xorl %ecx, %ecx
        movl $90, %esi
3:      pushl %ebx                      /* next = cur + nxt */
        pushl %ecx
        addl %eax, %ebx
        adcl %edx, %ecx
        popl %edx                       /* cur = old nxt */
        popl %eax
        decl %esi
        jnz 3b
        movl %eax, fib90
        movl %edx, fib90 + 4
        movl %ebx, fib91
        movl %ecx, fib91 + 4
        CHECK64 "fib(90)", 0x27F80DDA, 0xA1BA7878

        /* fib(89) = fib(91) - fib(90); fib(88) = fib(90) - fib(89): sub/sbb */
        movl fib91, %eax
        movl fib91 + 4, %edx
        subl fib90, %eax
        sbbl fib90 + 4, %edx
        movl fib90, %ebx
        movl fib90 + 4, %ecx
        subl %eax, %ebx
        sbbl %edx, %ecx
        movl %ebx, %eax
        movl %ecx, %edx
        CHECK64 "fib(88) via sbb", 0x0F444C01, 0x834299AB

        /* --- fib(20) recursively ------------------------------------------------------- */
        movl $0, calls
        pushl $20
        call fib_rec
        addl $4, %esp
        CHECK "fib(20) recursive", 6765
        movl calls, %eax
        CHECK "recursive calls", 21891

        /* --- 64-bit shifts ------------------------------------------------------------- */
        movl fib90, %eax
        movl fib90 + 4, %edx
        shldl $5, %eax, %edx
        shll $5, %eax
        CHECK64 "fib(90) << 5 (shld)", 0xFF01BB54, 0x374F0F00
        movl fib90, %eax
        movl fib90 + 4, %edx
        movb $7, %cl
        shrdl %cl, %edx, %eax
        shrl %cl, %edx
        CHECK64 "fib(90) >> 7 (shrd)", 0x004FF01B, 0xB54374F0
        movl fib90, %eax
        movl fib90 + 4, %edx
        movl $5, %ecx
4:      shll $1, %eax                   /* 64-bit shift left by one: shl low, rcl high */
        rcll $1, %edx
        loop 4b
        CHECK64 "fib(90) << 5 (rcl)", 0xFF01BB54, 0x374F0F00
        movl fib90, %eax
        movl fib90 + 4, %edx
        movl $7, %ecx
5:      shrl $1, %edx                   /* shr high, rcr low */
        rcrl $1, %eax
        loop 5b
        CHECK64 "fib(90) >> 7 (rcr)", 0x004FF01B, 0xB54374F0

        /* --- multiply and divide ------------------------------------------------------- */
        movl $0xFFFFFFFF, %eax
        movl $0xFFFFFFFF, %ecx
        mull %ecx
        CHECK64 "mul ffffffff^2", 0xFFFFFFFE, 0x00000001
        movl $-123456, %eax
        movl $654321, %ecx
        imull %ecx
        CHECK64 "imul -123456*654321", 0xFFFFFFED, 0x312541C0
        movl $-123456, %eax
        imull $654321, %eax, %eax       /* three operands, imm32: low half */
        CHECK "imul3 -123456*654321", 0x312541C0
        movl $1000, %eax
        movl $-7, %ecx
        imull %ecx, %eax                /* two operands */
        CHECK "imul2 1000*-7", -7000
        movl fib90, %eax
        movl fib90 + 4, %edx
        movl $0xFFFFFFFF, %ecx
        divl %ecx
        pushl %edx
        CHECK "div fib(90)/ffffffff", 670567898
        popl %eax
        CHECK "mod fib(90)%ffffffff", 3383920210
        movl $0xFFFFFF17, %edx          /* -1000000000000 = 0xFFFFFF17_2B5AF000 */
        movl $0x2B5AF000, %eax
        movl $12345, %ecx
        idivl %ecx
        pushl %edx
        CHECK "idiv -10^12/12345", -81004455
        popl %eax
        CHECK "irem -10^12%12345", -3025
        movl $-1000, %eax
        cltd
        movl $7, %ecx
        idivl %ecx
        CHECK "idiv -1000/7 (cdq)", -142

        /* --- exchange and atomics ------------------------------------------------------ */
        movl $0x11111111, %eax
        movl $0x22222222, %ebx
        xchgl %eax, %ebx                /* 93: short form */
        movl %ebx, cell
        xchgl %eax, cell                /* memory form: eax = 0x11111111, cell = 0x22222222 */
        addl cell, %eax
        CHECK "xchg", 0x33333333
        movl $0x22222222, %eax
        movl $0x44444444, %ecx
        lock cmpxchgl %ecx, cell        /* equal: cell = ecx, ZF = 1 */
        setz %bl
        cmpxchgl %ecx, cell             /* not equal (eax 0x22222222): eax = cell, ZF = 0 */
        setz %bh
        movzwl %bx, %ebx
        addl cell, %eax
        addl %ebx, %eax                 /* 0x44444444 + 0x44444444 + 0x0001 */
        CHECK "cmpxchg", 0x88888889
        movl $5, %eax
        lock xaddl %eax, cell           /* cell += 5, eax = old cell */
        addl cell, %eax
        CHECK "xadd", 0x8888888D
        movl $0x12345678, %eax
        bswapl %eax
        CHECK "bswap", 0x78563412
        movl $xlat_table, %ebx
        movl $0xAB, %eax                /* xlatb: al = [ebx + al] with al = 11 -> 'b' */
        andl $0x0F, %eax
        xlatb
        CHECK "xlatb", 0x62

        /* pusha/popa restore everything but ESP from the stack; pushf/popf keep CF */
        movl $1, %eax
        movl $2, %ecx
        movl $3, %edx
        movl $4, %ebx
        movl $5, %ebp
        movl $6, %esi
        movl $7, %edi
        pushal
        xorl %eax, %eax
        xorl %ecx, %ecx
        xorl %edx, %edx
        xorl %ebx, %ebx
        xorl %ebp, %ebp
        xorl %esi, %esi
        xorl %edi, %edi
        stc
        pushfl
        clc
        popfl                           /* CF = 1 again */
        popal
        adcl %ecx, %eax                 /* 1 + 2 + CF */
        addl %edx, %eax
        addl %ebx, %eax
        addl %ebp, %eax
        addl %esi, %eax
        addl %edi, %eax
        CHECK "pusha/popa/pushf/popf", 29

        /* loope / loopne / jecxz, lodsb/stosb: copy a string up to its NUL */
        movl $src_str, %esi
        movl $dst_str, %edi
        movl $100, %ecx
6:      lodsb
        stosb
        testb %al, %al
        loopnz 6b                       /* stops after the NUL (ZF=1) */
        movl $100, %eax
        subl %ecx, %eax                 /* bytes copied incl. NUL */
        CHECK "lodsb/stosb/loopne count", 9
        movl $dst_str, %esi
        movl $3, %ecx
7:      lodsb
        cmpb $'R', %al                  /* "Ringside": the first three bytes are R, i, n */
        loope 7b                        /* stops at the first byte that is not 'R' */
        movl %ecx, %eax
        CHECK "loope stop count", 1
        xorl %ecx, %ecx
        movl $1, %eax
        jecxz 8f
        movl $0, %eax
8:      CHECK "jecxz taken", 1

        /* enter with nesting level 1: pushes EBP, then the new frame pointer itself */
        movl $0xEB0EB0, %ebp
        call nested
        CHECK "enter $12, $1", 0x600D

        /* --- report -------------------------------------------------------------------- */
        movl failures, %eax
        testl %eax, %eax
        jnz 9f
        movl $msg_pass, %esi
        call puts
        xorl %eax, %eax
        jmp exit
9:      movl $msg_fail, %esi
        call puts
        movl failures, %eax
exit:
        movw $EXIT_PORT, %dx
        outl %eax, %dx
10:     cli
        hlt
        jmp 10b

/* fib_rec(n): fib(n) = n < 2 ? n : fib(n-1) + fib(n-2), with an ENTER frame. */
fib_rec:
        enter $4, $0
        incl calls
        movl 8(%ebp), %eax
        cmpl $2, %eax
        jb 1f
        decl %eax
        pushl %eax
        call fib_rec
        movl %eax, -4(%ebp)
        movl 8(%ebp), %eax
        subl $2, %eax
        movl %eax, (%esp)
        call fib_rec
        addl $4, %esp
        addl -4(%ebp), %eax
1:      leave
        ret

/* enter $12, $1: EBP = ESP at entry - 4, [EBP] = old EBP, [EBP-4] = EBP (the frame pointer
 * copy level 1 pushes), ESP = EBP - 16.
 * Returns 0x600D when both hold. */
nested:
        movl %esp, %ecx
        enter $12, $1
        xorl %eax, %eax
        leal -4(%ecx), %edx             /* the new EBP: just below the pushed old EBP */
        cmpl %edx, %ebp
        jne 1f
        cmpl $0xEB0EB0, (%ebp)
        jne 1f
        cmpl %ebp, -4(%ebp)
        jne 1f
        leal -16(%ebp), %edx
        cmpl %edx, %esp
        jne 1f
        movl $0x600D, %eax
1:      leave
        ret

/* check32: EAX = got, EDX = want, ESI = name. Prints "name = XXXXXXXX ok|FAIL". */
check32:
        pushal
        call puts
        movl $msg_eq, %esi
        call puts
        call puthex
        cmpl %edx, %eax
        je 1f
        incl failures
        movl $msg_bad, %esi
        call puts
        movl %edx, %eax
        call puthex
        movl $msg_close, %esi
        call puts
        popal
        ret
1:      movl $msg_ok, %esi
        call puts
        popal
        ret

/* check64: EDX:EAX = got, ECX:EBX = want, ESI = name. */
check64:
        pushal
        call puts
        movl $msg_eq, %esi
        call puts
        xchgl %eax, %edx
        call puthex
        xchgl %eax, %edx
        call puthex
        cmpl %ebx, %eax
        jne 1f
        cmpl %ecx, %edx
        jne 1f
        movl $msg_ok, %esi
        call puts
        popal
        ret
1:      incl failures
        movl $msg_bad, %esi
        call puts
        movl %ecx, %eax
        call puthex
        movl %ebx, %eax
        call puthex
        movl $msg_close, %esi
        call puts
        popal
        ret

/* puthex: prints EAX as 8 hex digits (uses xlat_table); preserves all registers. */
puthex:
        pushal
        movl %eax, %edx
        movl $8, %ecx
1:      roll $4, %edx
        movl %edx, %eax
        andl $0xF, %eax
        movl $xlat_table, %ebx
        xlatb
        call putc
        loop 1b
        popal
        ret

/* puts: prints the NUL-terminated string at ESI; preserves all registers. */
puts:
        pushal
1:      lodsb
        testb %al, %al
        jz 2f
        call putc
        jmp 1b
2:      popal
        ret

/* putc: AL to the UART, polling LSR bit 5 (THR empty). Preserves all registers. */
putc:
        pushl %eax
        pushl %edx
        movb %al, %ah
        movw $UART_LSR, %dx
1:      inb %dx, %al
        testb $0x20, %al
        jz 1b
        movb %ah, %al
        movw $UART_THR, %dx
        outb %al, %dx
        popl %edx
        popl %eax
        ret

        .section .rodata
msg_eq:    .asciz " = "
msg_ok:    .asciz " ok\n"
msg_bad:   .asciz " FAIL (want "
msg_close: .asciz ")\n"
msg_pass:  .asciz "fib: PASS\n"
msg_fail:  .asciz "fib: FAIL\n"
src_str:   .asciz "Ringside"

        .bss
        .align 8
fib90:  .skip 8
fib91:  .skip 8
cell:   .skip 4
dst_str: .skip 16

        .section .note.GNU-stack, "", @progbits
