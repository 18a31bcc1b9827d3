/* Symbols and disassembly for the details panel (see details.h). */
#include "frontend/view/details.h"

#include <stdio.h>
#include <string.h>

#include "frontend/loader.h"

/* The module a space's code comes from: the demo kernel names its processes after them. */
static const char *module_of(const struct view_model *m, uint32_t cr3)
{
    for (size_t i = 0; i < m->nsp; i++)
        if (m->sp[i].cr3 == cr3 && m->sp[i].named)
            return m->sp[i].name;
    return NULL;
}

static bool symbol(void *ctx, const struct view_model *m, uint32_t cr3, uint32_t addr,
                   char *buf, size_t len)
{
    struct view_files *f = ctx;
    return symbols_lookup(f->syms, module_of(m, cr3), addr, buf, len);
}

static bool disasm(void *ctx, const struct view_model *m, uint32_t cr3, uint32_t addr,
                   char *text, size_t tlen, char *bytes, size_t blen)
{
    struct view_files *f = ctx;
    uint8_t code[16];
    size_t n = symbols_code(f->syms, module_of(m, cr3), addr, code, sizeof code);
    if (!n || !f->cs_open)
        return false;
    cs_insn *insn = NULL;
    size_t got = cs_disasm(f->cs, code, n, addr, 1, &insn);
    if (got != 1) {
        if (insn)
            cs_free(insn, got);
        return false;
    }
    snprintf(text, tlen, "%s%s%s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "",
             insn[0].op_str);
    size_t o = 0;
    bytes[0] = 0;
    for (size_t k = 0; k < insn[0].size && o + 4 < blen; k++)
        o += (size_t)snprintf(bytes + o, blen - o, "%s%02x", k ? " " : "", insn[0].bytes[k]);
    cs_free(insn, got);
    return true;
}

void view_files_use(struct view_files *f, struct symbols *syms, struct view_details *d)
{
    *f = (struct view_files){ .syms = syms };
    *d = (struct view_details){ .symbol = symbol, .disasm = disasm, .ctx = f };
    f->cs_open = cs_open(CS_ARCH_X86, CS_MODE_32, &f->cs) == CS_ERR_OK;
}

void view_files_open(struct view_files *f, const struct trace_header *h,
                     struct view_details *d)
{
    struct symbols *syms = NULL;
    if (h->image) {
        struct boot_params p = { .image = h->image, .append = h->append,
                                 .modules = (const char *const *)h->modules,
                                 .nmodules = h->nmodules, .dir = h->dir };
        syms = symbols_load(&p);
    }
    view_files_use(f, syms, d);
    f->own = true;
}

void view_files_close(struct view_files *f)
{
    if (f->own)
        symbols_free(f->syms);
    if (f->cs_open)
        cs_close(&f->cs);
    *f = (struct view_files){ 0 };
}
