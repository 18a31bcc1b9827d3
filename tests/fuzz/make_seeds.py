#!/usr/bin/env python3
"""Writes the hand-made seeds of the cpu target into tests/fuzz/corpus/cpu/ (seed-*), one per
starting mode and per privileged path the fuzzer should start from. The input format is
described at the top of fuzz_cpu.c. Run from the repository root; the files are checked in, so
this only needs to run again when the format changes."""
import os
import struct

OUT = "tests/fuzz/corpus/cpu"


def header(mode=0, cr=0, eflags=0, gates=0, pic=(0, 0), uart=0, pit=0, msr=(0, 0, 0), regs=None):
    regs = regs or [0] * 8
    return (bytes([mode, cr, eflags, gates, pic[0], pic[1], uart]) + struct.pack("<H", pit) +
            struct.pack("<3I", *msr) + struct.pack("<8I", *regs))


def mutations(muts):
    out = bytes([len(muts)])
    for which, idx, lo, hi in muts:
        out += bytes([which]) + struct.pack("<HII", idx, lo, hi)
    return out


def raw(*b):
    assert 1 <= len(b) <= 14
    return bytes([0xE0 + len(b) - 1]) + bytes(b)


def row(n, *operands, prefix=0):
    return bytes([prefix]) + struct.pack("<H", n) + bytes(operands)


def sel(kind, index):
    return bytes([0xA0 + kind, index])


def macro(kind, *args):
    return bytes([0xC0 + kind]) + bytes(args)


SYSENTER = macro(0)
INT80 = macro(4, 0x80)
INT81 = macro(4, 0x81)       # task gate to TSS B
INT3 = raw(0xCC)
LCALL_GATE = raw(0x9A, 0, 0, 0, 0, 0x43, 0)       # call gate 0x40, DPL 3 -> ring 0
LCALL_GATE1 = raw(0x9A, 0, 0, 0, 0, 0x8B, 0)      # call gate 0x88 -> ring 1
LCALL_TASK = raw(0x9A, 0, 0, 0, 0, 0x4B, 0)       # task gate 0x48
LJMP_TSS = raw(0xEA, 0, 0, 0, 0, 0x30, 0)         # far jmp to TSS B
PUSH4 = raw(0x6A, 4), raw(0x6A, 3), raw(0x6A, 2), raw(0x6A, 1)
MIXED = b"".join(row(n, 0x45, 0x10, 0x20, 0x30, 0x40) for n in range(0, 400, 7))



def seg_desc(base, limit, type_byte, flags):
    """An 8-byte segment descriptor as the (lo, hi) dwords of a table mutation."""
    lo = (limit & 0xFFFF) | (base & 0xFFFF) << 16
    hi = (base >> 16) & 0xFF | type_byte << 8 | ((limit >> 16) & 0xF) << 16 | (flags & 0xF) << 20 \
        | (base >> 24) << 24
    return lo, hi


def code16_limit(limit):
    """The 16-bit ring-3 code segment 0x80 (base 0x100000, the code) cut at `limit`."""
    return (0, 0x80 // 8) + seg_desc(0x100000, limit, 0xFA, 0)


LJMP_CODE16 = raw(0xEA, 0x20, 0, 0, 0, 0x83, 0)  # to slot 2 in the 16-bit code segment


def gate(sel, off, type_byte):
    """An IDT or GDT gate as the (lo, hi) dwords of a table mutation."""
    return (sel << 16 | (off & 0xFFFF)), ((off >> 16) << 16 | type_byte << 8)


def tss_b(field, value):
    """A dword of TSS B (byte offset `field`) as a table mutation."""
    return (4, field // 4, value, 0)


STUB80 = 0x6000 + 0x80 * 16
TSS_B_SEL = {"es": 0x48, "cs": 0x4C, "ss": 0x50, "ds": 0x54, "fs": 0x58, "gs": 0x5C, "ldt": 0x60}
# Task switches (INT 0x81 through the task gate, then a far call through the GDT's task gate)
# into a TSS B with one bad field each: the segment checks of the incoming task (#TS, #NP, #SS).
TASK_BAD = {
    "cs-data": [tss_b(0x4C, 0x10)],
    "cs-conforming-dpl3-rpl0": [(0, 0x98 // 8) + seg_desc(0, 0xFFFFF, 0xFE, 0xC), tss_b(0x4C, 0x98)],
    "cs-dpl3-rpl0": [tss_b(0x4C, 0x18)],
    "ss-code": [tss_b(0x50, 0x08)],
    "ss-rpl3": [tss_b(0x50, 0x13)],
    "ss-dpl3": [tss_b(0x50, 0x20)],
    "ds-tss": [tss_b(0x54, 0x30)],
    "ds-dpl1-rpl3": [tss_b(0x54, 0x5B)],
    "ds-not-present": [(0, 0x98 // 8) + seg_desc(0, 0xFFFFF, 0x12, 0xC), tss_b(0x54, 0x98)],
    "ss-not-present": [(0, 0x98 // 8) + seg_desc(0, 0xFFFFF, 0x12, 0xC), tss_b(0x50, 0x98)],
    "ring3-ds-dpl0": [tss_b(0x4C, 0x1B), tss_b(0x50, 0x23), tss_b(0x38, 0x3C000),
                      tss_b(0x54, 0x10)],
    "gate-to-ldt-selector": [(0, 0x48 // 8) + gate(0x34, 0, 0xE5), (1, 0x81) + gate(0x34, 0, 0xE5)],
    "tss-limit-short": [(0, 0x30 // 8) + seg_desc(0x3400, 0x20, 0x89, 0)],
    "ds-beyond-gdt": [tss_b(0x54, 0x1F8)],
    "cs-null": [tss_b(0x4C, 0)],
    "ss-null": [tss_b(0x50, 0)],
    "cs-conforming-dpl0": [tss_b(0x4C, 0x70)],
    "ds-busy-tss": [tss_b(0x54, 0x28)],
    "ldt-not-present-98": [(0, 0x98 // 8) + seg_desc(0x3800, 0x3F, 0x02, 0), tss_b(0x60, 0x98)],
    "vm86": [tss_b(0x24, 0x20002)],
    "ldt-in-ldt": [tss_b(0x60, 0x3C)],
    "ldt-not-ldt": [tss_b(0x60, 0x10)],
    "ldt-not-present": [(0, 0x38 // 8) + seg_desc(0x3800, 0x3F, 0x02, 0)],
    "eip-past-cs-limit": [tss_b(0x4C, 0x83), tss_b(0x50, 0x93), tss_b(0x38, 0x3C000)] +
                         [tss_b(TSS_B_SEL[r], 0x23) for r in ("es", "ds", "fs", "gs")] +
                         [tss_b(0x20, 0x20000)],
}
# Deliveries of INT 0x80 through a mutated gate or onto an unusual stack.
DELIVER = {
    "gate-dpl0-from-ring3": (header(mode=3, gates=4), []),
    "gate-not-present": (header(mode=3), [(1, 0x80) + gate(0x08, STUB80, 0x6E)]),
    "gate-to-conforming": (header(mode=3), [(1, 0x80) + gate(0x70, STUB80, 0xEE)]),
    "gate-past-cs-limit": (header(mode=3), [(1, 0x80) + gate(0x80, 0x20000, 0xEE)]),
    "gate-to-ring3": (header(mode=3), [(1, 0x80) + gate(0x1B, STUB80, 0xEE)]),
    "expand-down-ss0": (header(mode=3), [(0, 0x78 // 8) + seg_desc(0, 0xFFF, 0x96, 0x4),
                                          (3, 2, 0x78, 0)]),
    "expand-down-16bit-ss0-past-top": (header(mode=3), [
        (0, 0x78 // 8) + seg_desc(0, 0xFFF, 0x96, 0x0), (3, 2, 0x78, 0), (3, 1, 0x10004, 0)]),
    "expand-down-ss0-low-esp": (header(mode=3), [(0, 0x78 // 8) + seg_desc(0, 0xFFF, 0x96, 0x4),
                                                  (3, 2, 0x78, 0), (3, 1, 0x800, 0)]),
}

SEEDS = {
    "cpl0-flat": header() + mutations([]) + MIXED + INT80 + SYSENTER + macro(1, 0, 1) +
                 macro(1, 3, 0) + macro(3, 1, 0x07) + macro(3, 0, 0x38) + macro(5, 0, 0, 0) +
                 macro(5, 0, 0, 1) + macro(5, 0, 0, 2) + macro(6, 0, 0, 1) + macro(7),
    "cpl3-paging-irq": header(mode=3 | 4 | 8, eflags=0) + mutations([]) + INT80 + SYSENTER +
                       LCALL_GATE + LCALL_GATE1 + INT81 + LCALL_TASK + INT3 +
                       b"".join(PUSH4) + LCALL_GATE + MIXED + macro(7),
    "cpl3-4mib-wp": header(mode=3 | 4 | 0x10, cr=0x01) + mutations([]) +
                    INT80 + macro(2, 0, 0x04) + INT80 + MIXED,
    "cpl3-smep-smap": header(mode=3 | 4 | 8, cr=0x01 | 0x40 | 0x80) + mutations([]) +
                      INT80 + macro(2, 0, 0x04) + INT80 + SYSENTER + MIXED,
    "cpl1-paging": header(mode=1 | 4) + mutations([]) + LCALL_GATE + INT80 + MIXED,
    "cpl2-flat": header(mode=2) + mutations([]) + INT80 + LCALL_GATE + MIXED,
    "cpl3-tf": header(mode=3, eflags=0x20) + mutations([]) + MIXED[:60] + INT80,
    "cpl0-nt-iret-task": header(mode=0x40, eflags=0x04) + mutations([]) + raw(0xCF) + MIXED,
    "cpl0-task-switches": header(mode=0x40 | 4, gates=1) + mutations([]) + INT81 + LJMP_TSS +
                          LCALL_TASK + sel(7, 5) + sel(6, 6) + MIXED,
    "cpl3-gates-into-code": header(mode=3 | 0x80 | 8, gates=2) + mutations([]) + MIXED,
    "cpl3-ac-iopl3": header(mode=3 | 4, cr=0x02, eflags=0x03 | 0x08) + mutations([]) +
                     raw(0xE4, 0x40) + raw(0xEC) + raw(0xFA) + raw(0xFB) + MIXED,
    "cpl0-x87-ts": header(cr=0x04 | 0x08) + mutations([]) + raw(0xD9, 0xC0) + raw(0x9B) +
                   macro(5, 0, 0, 0) + raw(0xD9, 0xC0),
    "cpl3-callgate-params": header(mode=3 | 4, gates=(5 << 3)) + mutations([]) +
                            b"".join(PUSH4) + raw(0x6A, 5) + LCALL_GATE + LCALL_GATE1 + MIXED,
    "cpl0-mutated-tables": header(mode=4) + mutations([
        (0, 0x40 // 8, 0x00000000, 0x0000EC00),   # call gate with no target
        (1, 0x80, 0x00086000, 0x0000EE00),        # INT 0x80 through a DPL 3 interrupt gate
        (3, 1, 0x00001000, 0),                    # TSS A esp0
        (5, 0x100, 0x00100005, 0),                # the code page read-only
        (6, 1, 0x00000083, 0),                    # a 4 MiB page
    ]) + MIXED + INT80,
    "cpl3-sysenter-bad-msr": header(mode=3, msr=(0x08, 0, 0)) + mutations([]) + SYSENTER + MIXED,
    "cpl3-selectors": header(mode=3 | 4) + mutations([]) +
                      b"".join(sel(k, i) for k in range(16) for i in range(0, 28, 3)),
    "rare-opcodes": header(mode=3) + mutations([]) +
                    raw(0x0F, 0xA4, 0xC0, 0x05) + raw(0x0F, 0xA5, 0xC0) + raw(0x0F, 0xAC, 0xC0, 3) +
                    raw(0x0F, 0xAD, 0xC0) + raw(0x0F, 0x01, 0xE0) + raw(0xD6) + raw(0x79, 0x00) +
                    raw(0xFF, 0x08) + raw(0xFE, 0x08) + raw(0x66, 0x0F, 0xA4, 0x08, 0x01),
    "too-long": header() + mutations([]) + raw(*[0x66] * 14) + raw(*[0xF0] * 14),
    "task-bad-segment": header(mode=4) + mutations([(4, 0x54 // 4, 0xFFF8, 0)]) + INT81 +
                        LCALL_TASK,
    # The 16-bit segment ends inside slot 2: cmp $0xEB, %al (the slot's jump byte as its
    # immediate) ends at the limit, so the next fetch lies beyond it (#GP, seg_fetch_lin).
    "code16-fetch-past-limit": header(mode=3) + mutations([code16_limit(0x2E)]) + LJMP_CODE16 +
                               raw(0x90) + raw(*[0x90] * 13, 0x3C),
    # Near transfers beyond the CS limit (#GP, target_fault): JMP, CALL, RET, LOOP and Jcc.
    "code16-near-past-limit": header(mode=3) + mutations([code16_limit(0x3FF7)]) + LJMP_CODE16 +
                              raw(0x90) + raw(0xE9, 0xF0, 0x7F) + raw(0xE8, 0xF0, 0x7F) +
                              raw(0x68, 0x00, 0x80, 0xC3) + raw(0xB9, 2, 0, 0xE2, 0x7F) +
                              raw(0x0F, 0x84, 0xF0, 0x7F) + raw(0x0F, 0x85, 0xF0, 0x7F) +
                              raw(0xEB, 0x7F),
    # Debug registers: a data breakpoint (write, 4 bytes) on DATA and an instruction breakpoint
    # on slot 6, enabled by DR7, then a store to DATA and slot 6 itself; IA32_PAT written.
    "cpl0-debug-breakpoints": header(regs=[0x180000, 0, 0, 0, 0, 0, 0, 0]) + mutations([]) +
                              macro(3, 1, 0x00) +                              # mov %eax, %dr0
                              raw(0xB8, *struct.pack("<I", 0x100060), 0x0F, 0x23, 0xC8) +  # dr1
                              raw(0xB8, *struct.pack("<I", 0x000D0005), 0x0F, 0x23, 0xF8) +  # dr7
                              raw(0xA3, *struct.pack("<I", 0x180000)) +        # mov %eax, DATA
                              raw(0x89, 0x05, *struct.pack("<I", 0x180002)) +  # unaligned store
                              raw(0x90) + raw(0x90) + raw(0xF3, 0xAB) +        # slot 6; rep stos
                              raw(0xB9, 0x77, 0x02, 0, 0, 0x31, 0xD2, 0x0F, 0x30) +  # PAT 0x..05
                              raw(0xB8, 6, 6, 6, 6, 0xBA, 6, 6, 6, 6) +
                              raw(0xB9, 0x77, 0x02, 0, 0, 0x0F, 0x30) + raw(0x0F, 0x32),
    **{"task-" + k: header(mode=0) + mutations(m) + INT81 + LCALL_TASK for k, m in TASK_BAD.items()},
    **{"deliver-" + k: h + mutations(m) + INT80 + raw(0x66, 0xB8, 0x93, 0) + raw(0x8E, 0xD0) + INT80
       for k, (h, m) in DELIVER.items()},
    "deliver-task-gate-dpl0-from-ring3": header(mode=3) + mutations([(1, 0x81) + gate(0x30, 0, 0x85)]) +
                                         INT81,
    "deliver-task-gate-not-present": header(mode=3) + mutations([(1, 0x81) + gate(0x30, 0, 0x65)]) +
                                     INT81,
    # A read through an execute-only CS, a store through a read-only DS (#GP).
    "cpl3-exec-only-read-only": header(mode=3) + mutations([
        (0, 0x98 // 8) + seg_desc(0, 0xFFFFF, 0xF8, 0xC),
        (0, 0xA0 // 8) + seg_desc(0, 0xFFFFF, 0xF0, 0xC)]) +
        raw(0xEA, *struct.pack("<I", 0x100020), 0x9B, 0) + raw(0x90) +
        raw(0x2E, 0x8B, 0x05, *struct.pack("<I", 0x180000)) +
        raw(0x66, 0xB8, 0xA3, 0) + raw(0x8E, 0xD8) +
        raw(0xC7, 0x05, *struct.pack("<I", 0x180000), 1, 0, 0, 0),
    # A far jump between code segments with the same base, 32-bit to 16-bit (G = 1).
    "cpl3-code16-same-base": header(mode=3) + mutations([
        (0, 0x98 // 8) + seg_desc(0, 0xFFFFF, 0xFA, 0x8)]) +
        raw(0xEA, *struct.pack("<I", 0x100020), 0x9B, 0) + raw(0x90) + raw(0x90) + raw(0x90),
    "code16": header(mode=3) + mutations([]) + raw(0xEA, 0x20, 0, 0, 0, 0x83, 0) +
              raw(0xEB, 0x00) + raw(0xE9, 0xF0, 0x7F) + MIXED,
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(data)
print(f"{len(SEEDS)} seeds in {OUT}")
