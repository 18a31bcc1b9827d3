/* The decoder: x86 bytes -> struct insn, driven entirely by opcodes.def. */
#include <string.h>

#include "cpu/insn.h"

const struct opdesc opcode_table[] = {
#define X(key, ext, mnem, flags, fn) {(key), (ext), (flags), op_##fn, (mnem)},
#include "cpu/opcodes.def"
#undef X
};
const unsigned opcode_table_size = sizeof opcode_table / sizeof opcode_table[0];

/* Handlers with a 32-bit twin (fast32.def). */
static const struct {
    insn_fn any, w32;
} fast32[] = {
#define F(name) {op_##name, op_##name##32},
#include "cpu/fast32.def"
#undef F
};

/* ... and those that also have versions by operand form (forms.def). */
static const struct {
    insn_fn any, w32, r, b, x, r8, b8, x8;
} forms[] = {
#define FORMS(name)                                                                       \
    {op_##name, op_##name##32, op_##name##32_r, op_##name##32_b, op_##name##32_x, NULL, NULL, \
     NULL},
#define FORMS_B(name)                                                                     \
    {op_##name, op_##name##32, op_##name##32_r, op_##name##32_b, op_##name##32_x,           \
     op_##name##8_r, op_##name##8_b, op_##name##8_x},
#include "cpu/forms.def"
#undef FORMS
#undef FORMS_B
};

static insn_fn specialise(insn_fn fn, const struct insn *i)
{
    if (fn == op_mov_SE && i->modreg &&
        (i->reg == SEG_DS || i->reg == SEG_ES || i->reg == SEG_FS || i->reg == SEG_GS))
        return op_mov_SE_data;
    if (i->osize == 4) {
        for (unsigned k = 0; k < sizeof fast32 / sizeof fast32[0]; k++)
            if (fast32[k].any == fn) {
                fn = fast32[k].w32;
                break;
            }
    } else if (i->osize != 1) {
        return fn;
    }
    if (!i->modreg && i->asize != 4)
        return fn;
    for (unsigned k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        if (i->osize == 4 && forms[k].w32 == fn) {
            if (i->modreg)
                return forms[k].r;
            /* MOVZX r32, m8: its own version without the source size's test */
            if (forms[k].b == op_movzx32_b && !(i->cc & 1))
                return i->index == NOREG ? op_movzxb32_b : op_movzxb32_x;
            if (i->index == NOREG)
                return forms[k].b;
            /* scale 0: the MOVs' own version without the shift */
            if (i->scale == 0 && forms[k].x == op_mov_GE32_x)
                return op_mov_GE32_x0;
            if (i->scale == 0 && forms[k].x == op_mov_EG32_x)
                return op_mov_EG32_x0;
            return forms[k].x;
        }
        if (i->osize == 1 && forms[k].any == fn && forms[k].r8)
            return i->modreg ? forms[k].r8 : i->index == NOREG ? forms[k].b8 : forms[k].x8;
    }
    return fn;
}

insn_fn insn_plain_fn(const struct insn *i)
{
    return specialise(opcode_table[i->id].fn, i);
}

void decode_map_init(struct decode_map *m)
{
    memset(m, 0, sizeof *m);
    for (unsigned row = 1; row < opcode_table_size; row++) {
        const struct opdesc *d = &opcode_table[row];
        if (d->ext < 0) {
            for (int r = 0; r < 8; r++)
                m->row[d->key * 8 + r] = (uint16_t)row;
        } else {
            m->row[d->key * 8 + d->ext] = (uint16_t)row;
        }
        if (d->flags & F_MODRM)
            m->modrm[d->key] = 1;
    }
}

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

/* 16-bit addressing: ModRM.rm -> base, index (SDM vol. 2 table 2-1). */
static const uint8_t rm16_base[8] = {EBX, EBX, EBP, EBP, ESI, EDI, EBP, EBX};
static const uint8_t rm16_index[8] = {ESI, EDI, ESI, EDI, NOREG, NOREG, NOREG, NOREG};

#define NEED(n)                  \
    do {                         \
        if (pos + (n) > avail)   \
            goto short_or_long;  \
    } while (0)

unsigned decode_insn(const struct decode_map *m, const uint8_t *p, unsigned avail, int d32,
                     struct insn *out)
{
    unsigned pos = 0;
    int opsize_prefix = 0, adsize_prefix = 0, lock = 0;
    int seg_override = -1;

    memset(out, 0, sizeof *out);
    out->base = out->index = NOREG;
    if (avail > 15)
        avail = 15;

    /* Prefixes: any number, any order; the last segment override wins. */
    unsigned key;
    for (;;) {
        NEED(1);
        uint8_t b = p[pos];
        switch (b) {
        case 0x26: seg_override = SEG_ES; break;
        case 0x2E: seg_override = SEG_CS; break;
        case 0x36: seg_override = SEG_SS; break;
        case 0x3E: seg_override = SEG_DS; break;
        case 0x64: seg_override = SEG_FS; break;
        case 0x65: seg_override = SEG_GS; break;
        case 0x66: opsize_prefix = 1; break;
        case 0x67: adsize_prefix = 1; break;
        case 0xF0: lock = 1; break;
        case 0xF2: out->rep = REP_NE; break;
        case 0xF3: out->rep = REP_E; break;
        default: goto opcode;
        }
        pos++;
    }
opcode:
    key = p[pos++];
    if (key == 0x0F) {
        NEED(1);
        key = 0x100 | p[pos++];
    }

    int o32 = d32 ^ opsize_prefix, a32 = d32 ^ adsize_prefix;
    out->asize = a32 ? 4 : 2;
    out->seg = SEG_DS;
    out->reg = key & 7;
    out->cc = key & 0x0F;

    unsigned row;
    if (m->modrm[key]) {
        NEED(1);
        uint8_t modrm = p[pos++];
        unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
        out->reg = (uint8_t)reg;
        out->rm = (uint8_t)rm;
        row = m->row[key * 8 + reg];
        if (mod == 3 || (opcode_table[row].flags & F_CREG)) {
            out->modreg = 1;
        } else if (a32) {
            unsigned base = rm;
            if (rm == 4) {
                NEED(1);
                uint8_t sib = p[pos++];
                out->scale = sib >> 6;
                out->index = ((sib >> 3) & 7) == 4 ? NOREG : (sib >> 3) & 7;
                base = sib & 7;
            }
            if (base == 5 && mod == 0) {
                NEED(4);
                out->disp = le32(p + pos);
                pos += 4;
            } else {
                out->base = (uint8_t)base;
                if (base == ESP || base == EBP)
                    out->seg = SEG_SS;
            }
            if (mod == 1) {
                NEED(1);
                out->disp = (uint32_t)(int32_t)(int8_t)p[pos++];
            } else if (mod == 2) {
                NEED(4);
                out->disp = le32(p + pos);
                pos += 4;
            }
        } else {
            if (mod == 0 && rm == 6) {
                NEED(2);
                out->disp = le16(p + pos);
                pos += 2;
            } else {
                out->base = rm16_base[rm];
                out->index = rm16_index[rm];
                if (out->base == EBP)
                    out->seg = SEG_SS;
                if (mod == 1) {
                    NEED(1);
                    out->disp = (uint32_t)(int32_t)(int8_t)p[pos++];
                } else if (mod == 2) {
                    NEED(2);
                    out->disp = le16(p + pos);
                    pos += 2;
                }
            }
        }
    } else {
        row = m->row[key * 8];
    }

    const struct opdesc *d = &opcode_table[row];
    uint16_t fl = d->flags;
    out->osize = (fl & F_BYTE) ? 1 : o32 ? 4 : 2;

    if (fl & (F_IB | F_IWB)) {
        if (fl & F_IWB) {
            NEED(3);
            out->imm = le16(p + pos);
            out->imm2 = p[pos + 2];
            pos += 3;
        } else {
            NEED(1);
            out->imm = (fl & F_SX) ? (uint32_t)(int32_t)(int8_t)p[pos] : p[pos];
            pos++;
        }
    } else if (fl & F_IW) {
        NEED(2);
        out->imm = le16(p + pos);
        pos += 2;
    } else if (fl & F_IZ) {
        if (o32) {
            NEED(4);
            out->imm = le32(p + pos);
            pos += 4;
        } else {
            NEED(2);
            out->imm = (uint32_t)(int32_t)(int16_t)le16(p + pos);
            pos += 2;
        }
    } else if (fl & F_MOFFS) {
        if (a32) {
            NEED(4);
            out->disp = le32(p + pos);
            pos += 4;
        } else {
            NEED(2);
            out->disp = le16(p + pos);
            pos += 2;
        }
    } else if (fl & F_PTR) {
        if (o32) {
            NEED(6);
            out->imm = le32(p + pos);
            out->imm2 = (uint16_t)le16(p + 4 + pos);
            pos += 6;
        } else {
            NEED(4);
            out->imm = le16(p + pos);
            out->imm2 = (uint16_t)le16(p + 2 + pos);
            pos += 4;
        }
    }

    if (seg_override >= 0)
        out->seg = (uint8_t)seg_override;
    out->len = (uint8_t)pos;
    out->id = (uint16_t)row;
    out->fn = specialise(d->fn, out);

    /* #UD: no row, a register operand where memory is required, or LOCK where it is not legal
     * (only the listed read-modify-write forms with a memory destination). */
    if (row == 0 || ((fl & F_MEM) && out->modreg) ||
        (lock && (!(fl & F_LOCK) || out->modreg))) {
        out->fn = op_ud;
    }
    return pos;

short_or_long:
    if (avail < 15)
        return 0;
    /* 15 bytes and the instruction is not finished: #GP(0) (SDM vol. 2 2.3.11). */
    memset(out, 0, sizeof *out);
    out->fn = op_toolong;
    out->len = 15;
    out->id = 0;
    return 15;
}
