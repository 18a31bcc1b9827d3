/* Bit test and scan: BT/BTS/BTR/BTC (register and immediate bit offsets), BSF, BSR.
 * BT*: CF = the selected bit; ZF unchanged; OF, SF, AF, PF undefined (unchanged here).
 * BSF/BSR: ZF = (source == 0), the destination is left unchanged then; CF, OF, SF, AF, PF
 * undefined (unchanged here). */
#include "cpu/ops.h"

enum { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };

static void bit_op(struct cpu *c, const struct insn *i, unsigned op, uint32_t off, int32_t disp)
{
    unsigned s = i->osize, bits = 8 * s;
    uint32_t v, mask = 1u << (off & (bits - 1));
    uint32_t addr = 0;
    if (i->modreg) {
        v = get_reg(c, i->rm, s);
    } else {
        addr = ea(c, i) + (uint32_t)disp;
        if (i->asize == 2)
            addr &= 0xFFFF;
        if (op != BT_TEST)
            probe_wr(c, i->seg, addr, s);
        v = rd(c, i->seg, addr, s);
    }
    if (op != BT_TEST) {
        uint32_t nv = op == BT_SET ? v | mask : op == BT_RESET ? v & ~mask : v ^ mask;
        if (i->modreg)
            set_reg(c, i->rm, s, nv);
        else
            wr(c, i->seg, addr, s, nv);
    }
    flags_materialize(c);
    c->eflags = (c->eflags & ~FL_CF) | ((v & mask) ? FL_CF : 0);
}

/* 0F A3/AB/B3/BB: the bit offset in a register is signed and may select memory beyond the
 * operand: the address moves by (offset >> log2(bits)) operands. */
OP(bt_G)
{
    unsigned key = opcode_table[i->id].key;
    unsigned op = key == 0x1A3 ? BT_TEST : key == 0x1AB ? BT_SET : key == 0x1B3 ? BT_RESET
                                                                                 : BT_COMPLEMENT;
    unsigned s = i->osize;
    uint32_t off = get_reg(c, i->reg, s);
    int32_t disp = 0;
    if (!i->modreg) {
        int32_t soff = s == 2 ? (int16_t)off : (int32_t)off;
        int32_t shift = s == 2 ? 4 : 5;
        /* floor division for negative offsets */
        disp = (soff >= 0 ? soff >> shift : -(((-(soff + 1)) >> shift) + 1)) * (int32_t)s;
    }
    bit_op(c, i, op, off, disp);
}

/* 0F BA /4../7: immediate offset, taken modulo the operand width. */
OP(bt_I) { bit_op(c, i, i->reg - 4, i->imm, 0); }

/* BSF/BSR: the lowest / highest set bit. */
static void bit_scan(struct cpu *c, const struct insn *i, bool reverse)
{
    unsigned s = i->osize;
    uint32_t v = rd_rm(c, i, s);
    flags_materialize(c);
    if (v == 0) {
        c->eflags |= FL_ZF;
        return;
    }
    c->eflags &= ~FL_ZF;
    set_reg(c, i->reg, s, reverse ? 31u - (uint32_t)__builtin_clz(v) : (uint32_t)__builtin_ctz(v));
}

OP(bsf) { bit_scan(c, i, false); }
OP(bsr) { bit_scan(c, i, true); }
