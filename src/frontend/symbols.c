/* Symbol tables of the loaded images (see symbols.h). */
#include "frontend/symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sym {
    uint32_t addr, end; /* [addr, end) */
    char *name;
};

struct segment {
    uint32_t vaddr, size; /* the bytes the file holds for [vaddr, vaddr + size) */
    uint8_t *bytes;
};

struct symfile {
    char name[64];      /* base name without ".elf" */
    struct sym *syms;   /* sorted by addr */
    size_t n;
    struct segment *segs; /* loadable segments (symbols_code) */
    size_t nsegs;
};

struct symbols {
    struct symfile *files; /* files[0] is the image */
    size_t n;
};

static int by_addr(const void *a, const void *b)
{
    const struct sym *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* "dir/hello.elf args" -> "hello". */
static void base_name(const char *spec, char *out, size_t len)
{
    size_t end = strcspn(spec, " ");
    const char *start = spec;
    for (size_t k = 0; k < end; k++)
        if (spec[k] == '/')
            start = spec + k + 1;
    size_t n = (size_t)(spec + end - start);
    if (n > 4 && memcmp(start + n - 4, ".elf", 4) == 0)
        n -= 4;
    snprintf(out, len, "%.*s", (int)n, start);
}

static int open_in(const char *dir, const char *path)
{
    if (!dir || path[0] == '/')
        return open(path, O_RDONLY);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0)
        return -1;
    int fd = openat(dfd, path, O_RDONLY);
    close(dfd);
    return fd;
}

/* Adds the function and object symbols of an ELF's .symtab; false when out of memory. */
static bool read_syms(Elf *elf, struct symfile *f)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data)
            continue;
        size_t count = sh.sh_size / sh.sh_entsize;
        struct sym *syms = realloc(f->syms, (f->n + count) * sizeof *syms);
        if (!syms && count)
            return false;
        f->syms = syms;
        for (size_t k = 0; k < count; k++) {
            GElf_Sym s;
            if (!gelf_getsym(data, (int)k, &s))
                continue;
            unsigned type = GELF_ST_TYPE(s.st_info);
            if ((type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) ||
                s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE || s.st_value > UINT32_MAX)
                continue;
            const char *name = elf_strptr(elf, sh.sh_link, s.st_name);
            if (!name || !name[0] || name[0] == '.' || name[0] == '$')
                continue;
            char *copy = strdup(name);
            if (!copy)
                return false;
            uint64_t end = s.st_value + (s.st_size ? s.st_size : 0);
            f->syms[f->n++] = (struct sym){ (uint32_t)s.st_value,
                                            s.st_size ? (uint32_t)(end > UINT32_MAX ? UINT32_MAX : end) : 0,
                                            copy };
        }
    }
    qsort(f->syms, f->n, sizeof *f->syms, by_addr);
    /* A sized-zero symbol (an assembler label) reaches to the next symbol. */
    for (size_t k = 0; k < f->n; k++)
        if (!f->syms[k].end)
            f->syms[k].end = k + 1 < f->n ? f->syms[k + 1].addr : f->syms[k].addr + 1;
    return true;
}

/* Keeps the file bytes of each PT_LOAD segment (read from fd); false when out of memory. */
static bool read_segments(Elf *elf, int fd, struct symfile *f)
{
    size_t n;
    off_t fsize = lseek(fd, 0, SEEK_END);
    if (elf_getphdrnum(elf, &n) != 0 || fsize < 0)
        return true;
    for (size_t k = 0; k < n; k++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)k, &ph) || ph.p_type != PT_LOAD || !ph.p_filesz ||
            ph.p_offset > (uint64_t)fsize || ph.p_filesz > (uint64_t)fsize - ph.p_offset ||
            ph.p_vaddr > UINT32_MAX || ph.p_filesz > UINT32_MAX - ph.p_vaddr)
            continue;
        struct segment *segs = realloc(f->segs, (f->nsegs + 1) * sizeof *segs);
        if (!segs)
            return false;
        f->segs = segs;
        uint8_t *b = malloc(ph.p_filesz);
        if (!b)
            return false;
        if (pread(fd, b, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz) {
            free(b);
            continue;
        }
        f->segs[f->nsegs++] = (struct segment){ (uint32_t)ph.p_vaddr, (uint32_t)ph.p_filesz, b };
    }
    return true;
}

static bool add_file(struct symbols *s, const char *dir, const char *spec)
{
    struct symfile *files = realloc(s->files, (s->n + 1) * sizeof *files);
    if (!files)
        return false;
    s->files = files;
    struct symfile *f = &s->files[s->n++];
    *f = (struct symfile){ 0 };
    base_name(spec, f->name, sizeof f->name);
    char path[4096];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(spec, " "), spec);
    int fd = open_in(dir, path);
    if (fd < 0)
        return true; /* the loader has told about it already */
    bool ok = true;
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    if (elf && elf_kind(elf) == ELF_K_ELF)
        ok = read_syms(elf, f) && read_segments(elf, fd, f);
    elf_end(elf);
    close(fd);
    return ok;
}

struct symbols *symbols_load(const struct boot_params *p)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return NULL;
    struct symbols *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    bool ok = add_file(s, p->dir, p->image);
    for (size_t k = 0; ok && k < p->nmodules; k++)
        ok = add_file(s, p->dir, p->modules[k]);
    if (!ok) {
        symbols_free(s);
        return NULL;
    }
    return s;
}

void symbols_free(struct symbols *s)
{
    if (!s)
        return;
    for (size_t k = 0; k < s->n; k++) {
        for (size_t j = 0; j < s->files[k].n; j++)
            free(s->files[k].syms[j].name);
        free(s->files[k].syms);
        for (size_t j = 0; j < s->files[k].nsegs; j++)
            free(s->files[k].segs[j].bytes);
        free(s->files[k].segs);
    }
    free(s->files);
    free(s);
}

/* The symbol covering addr in f: the last one starting at or below it, if it reaches it. */
static const struct sym *find(const struct symfile *f, uint32_t addr)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Several symbols may cover addr (aliases, a label inside a function): the nearest start
     * wins; a few steps back is enough to get past aliases. */
    for (size_t k = lo, steps = 0; k-- > 0 && steps < 8; steps++)
        if (addr < f->syms[k].end)
            return &f->syms[k];
    return NULL;
}

bool symbols_lookup(const struct symbols *s, const char *module, uint32_t addr, char *buf,
                    size_t len)
{
    if (!s || !s->n)
        return false;
    const struct sym *hit = find(&s->files[0], addr);
    for (size_t k = 1; !hit && module && k < s->n; k++)
        if (strcmp(s->files[k].name, module) == 0)
            hit = find(&s->files[k], addr);
    if (!hit)
        return false;
    if (addr == hit->addr)
        snprintf(buf, len, "%s", hit->name);
    else
        snprintf(buf, len, "%s+0x%x", hit->name, (unsigned)(addr - hit->addr));
    return true;
}

/* Up to len bytes of f at addr from one segment; how many. */
static size_t code_in(const struct symfile *f, uint32_t addr, uint8_t *buf, size_t len)
{
    for (size_t k = 0; k < f->nsegs; k++) {
        const struct segment *g = &f->segs[k];
        if (addr >= g->vaddr && addr - g->vaddr < g->size) {
            size_t n = g->size - (addr - g->vaddr);
            n = n < len ? n : len;
            memcpy(buf, g->bytes + (addr - g->vaddr), n);
            return n;
        }
    }
    return 0;
}

size_t symbols_code(const struct symbols *s, const char *module, uint32_t addr, uint8_t *buf,
                    size_t len)
{
    if (!s || !s->n)
        return 0;
    size_t n = code_in(&s->files[0], addr, buf, len);
    for (size_t k = 1; !n && module && k < s->n; k++)
        if (strcmp(s->files[k].name, module) == 0)
            n = code_in(&s->files[k], addr, buf, len);
    return n;
}
