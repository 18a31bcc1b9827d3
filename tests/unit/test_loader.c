/* loader.c: ELF32 loading, every rejected input, the Multiboot information and module placement.
 * The ELF files are built by the test itself, byte by byte, in a scratch directory under the
 * current (build) directory. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "frontend/loader.h"

#define MIB (1024u * 1024u)
#define MAX_FILES 64

struct fixture {
    char dir[64];
    char *files[MAX_FILES];
    int nfiles;
};

struct seg_spec {
    uint32_t type;    /* 0 = PT_LOAD */
    uint32_t paddr, filesz, memsz;
    uint32_t offset;  /* 0 = the default place, 0x1000 * (index + 1) */
};

struct elf_spec {
    uint32_t entry;
    size_t nseg;
    struct seg_spec seg[4];
    bool multiboot;
    uint32_t mb_offset; /* file offset of the Multiboot header; 0 = 0x1000 (start of seg 0) */
    uint32_t mb_flags;
    uint32_t mb_sum_delta; /* added to the checksum: nonzero = a broken header */
};

struct image {
    uint8_t *data;
    size_t size;
};

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* the host is little-endian x86, like the guest */
}

static uint32_t rd32(const uint8_t *ram, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, ram + addr, 4);
    return v;
}

static uint64_t rd64(const uint8_t *ram, uint32_t addr)
{
    uint64_t v;
    memcpy(&v, ram + addr, 8);
    return v;
}

/* Segment i's file bytes are (i * 0x40 + j) & 0xFF for byte j. */
static uint8_t seg_byte(size_t i, uint32_t j)
{
    return (uint8_t)(i * 0x40 + j);
}

static struct image build_elf(const struct elf_spec *s)
{
    size_t size = 0x1000;
    uint32_t mb_off = s->mb_offset ? s->mb_offset : 0x1000;
    for (size_t i = 0; i < s->nseg; i++) {
        uint32_t off = s->seg[i].offset ? s->seg[i].offset : 0x1000u * (uint32_t)(i + 1);
        if ((uint64_t)off + s->seg[i].filesz > size && (uint64_t)off + s->seg[i].filesz < 64 * MIB)
            size = off + s->seg[i].filesz;
    }
    if (s->multiboot && mb_off + 12 > size)
        size = mb_off + 12;
    struct image img = { calloc(1, size), size };
    assert_non_null(img.data);

    Elf32_Ehdr eh = { 0 };
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_386;
    eh.e_version = EV_CURRENT;
    eh.e_entry = s->entry;
    eh.e_phoff = sizeof(Elf32_Ehdr);
    eh.e_ehsize = sizeof(Elf32_Ehdr);
    eh.e_phentsize = sizeof(Elf32_Phdr);
    eh.e_phnum = (uint16_t)s->nseg;
    memcpy(img.data, &eh, sizeof(eh));
    for (size_t i = 0; i < s->nseg; i++) {
        const struct seg_spec *g = &s->seg[i];
        Elf32_Phdr ph = { 0 };
        ph.p_type = g->type ? g->type : PT_LOAD;
        ph.p_offset = g->offset ? g->offset : 0x1000u * (uint32_t)(i + 1);
        ph.p_vaddr = ph.p_paddr = g->paddr;
        ph.p_filesz = g->filesz;
        ph.p_memsz = g->memsz;
        ph.p_flags = PF_R | PF_W | PF_X;
        ph.p_align = 0x1000;
        memcpy(img.data + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
        for (uint32_t j = 0; j < g->filesz && (uint64_t)ph.p_offset + j < size; j++)
            img.data[ph.p_offset + j] = seg_byte(i, j);
    }
    if (s->multiboot) {
        put32(img.data + mb_off, MB_HEADER_MAGIC);
        put32(img.data + mb_off + 4, s->mb_flags);
        put32(img.data + mb_off + 8, -(MB_HEADER_MAGIC + s->mb_flags) + s->mb_sum_delta);
    }
    return img;
}

static int group_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "loader-test-XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < fx->nfiles; i++) {
        if (remove(fx->files[i]) != 0)
            rmdir(fx->files[i]);
        free(fx->files[i]);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* A path in the scratch directory (remembered for cleanup). */
static const char *scratch(struct fixture *fx, const char *name)
{
    assert_true(fx->nfiles < MAX_FILES);
    char *p = malloc(strlen(fx->dir) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", fx->dir, name);
    fx->files[fx->nfiles++] = p;
    return p;
}

static const char *write_bytes(struct fixture *fx, const char *name, const void *data,
                               size_t len)
{
    const char *path = scratch(fx, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static const char *write_image(struct fixture *fx, const char *name, struct image img,
                               size_t len)
{
    const char *path = write_bytes(fx, name, img.data, len < img.size ? len : img.size);
    free(img.data);
    return path;
}

struct run {
    uint8_t *ram;
    uint32_t ram_size;
    struct boot_state bs;
    char err[512];
    int rc;
};

static void load(struct run *r, uint32_t ram_size, const char *image, const char *append,
                 const char *const *mods, size_t nmods)
{
    memset(r, 0, sizeof(*r));
    r->ram_size = ram_size;
    r->ram = malloc(ram_size);
    assert_non_null(r->ram);
    memset(r->ram, 0xAA, ram_size);
    struct boot_params p = { image, append, mods, nmods, NULL };
    r->rc = loader_load(r->ram, ram_size, &p, &r->bs, r->err, sizeof(r->err));
}

static void expect_error(struct run *r, const char *needle)
{
    assert_int_equal(r->rc, -1);
    if (!strstr(r->err, needle))
        fail_msg("error '%s' does not mention '%s'", r->err, needle);
    assert_null(strchr(r->err, '\n'));
    free(r->ram);
}

static const struct elf_spec plain = {
    .entry = 0x100010,
    .nseg = 2,
    .seg = { { 0, 0x100000, 0x100, 0x300, 0 }, { 0, 0x200000, 0x20, 0x20, 0 } },
};

/* ---- good images ---- */

static void plain_elf_loads_segments_and_bss(void **state)
{
    struct fixture *fx = *state;
    struct elf_spec s = plain;
    s.nseg = 3;
    s.seg[2] = (struct seg_spec){ PT_NOTE, 0xF0000000, 0x10, 0x10, 0 }; /* not loaded */
    const char *path = write_image(fx, "plain.elf", build_elf(&s), SIZE_MAX);
    struct run r;
    load(&r, 4 * MIB, path, NULL, NULL, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.bs.entry, 0x100010);
    assert_false(r.bs.multiboot);
    assert_int_equal(r.bs.eax, 0);
    assert_int_equal(r.bs.ebx, 0);
    assert_int_equal(r.bs.image_low, 0x100000);
    assert_int_equal(r.bs.image_high, 0x200020);
    for (uint32_t j = 0; j < 0x100; j++)
        assert_int_equal(r.ram[0x100000 + j], seg_byte(0, j));
    for (uint32_t j = 0x100; j < 0x300; j++)
        assert_int_equal(r.ram[0x100000 + j], 0);
    assert_int_equal(r.ram[0x100300], 0xAA);
    assert_int_equal(r.ram[0xFFFFF], 0xAA);
    for (uint32_t j = 0; j < 0x20; j++)
        assert_int_equal(r.ram[0x200000 + j], seg_byte(1, j));
    assert_int_equal(r.ram[0x1000], 0xAA); /* no Multiboot information written */
    free(r.ram);
}

static void segment_ending_at_ram_top_fits(void **state)
{
    struct fixture *fx = *state;
    struct elf_spec s = { .entry = 0x1FFF00, .nseg = 1,
                          .seg = { { 0, 2 * MIB - 0x100, 0x10, 0x100, 0 } } };
    const char *path = write_image(fx, "top.elf", build_elf(&s), SIZE_MAX);
    struct run r;
    load(&r, 2 * MIB, path, NULL, NULL, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.bs.image_high, 2 * MIB);
    free(r.ram);
}

static void check_mmap(const struct run *r, uint32_t mbi)
{
    uint32_t len = rd32(r->ram, mbi + MBI_OFF_MMAP_LENGTH);
    uint32_t at = rd32(r->ram, mbi + MBI_OFF_MMAP_ADDR);
    static const uint64_t want[4][3] = {
        { 0, 0x9FC00, 1 }, { 0x9FC00, 0x400, 2 }, { 0xF0000, 0x10000, 2 }, { 0x100000, 0, 1 },
    };
    assert_int_equal(len, 4 * 24);
    for (unsigned i = 0; i < 4; i++, at += 24) {
        assert_int_equal(rd32(r->ram, at), 20);
        assert_int_equal(rd64(r->ram, at + 4), want[i][0]);
        uint64_t wlen = i == 3 ? r->ram_size - 0x100000u : want[i][1];
        assert_int_equal(rd64(r->ram, at + 12), wlen);
        assert_int_equal(rd32(r->ram, at + 20), want[i][2]);
    }
}

static void multiboot_information(void **state)
{
    struct fixture *fx = *state;
    struct elf_spec s = plain;
    s.multiboot = true;
    s.mb_flags = 0x3; /* page-align modules, memory info */
    const char *path = write_image(fx, "mb.elf", build_elf(&s), SIZE_MAX);
    struct run r;
    load(&r, 8 * MIB, path, "console=ttyS0 verbose", NULL, 0);
    assert_int_equal(r.rc, 0);
    assert_true(r.bs.multiboot);
    assert_int_equal(r.bs.eax, 0x2BADB002);
    uint32_t mbi = r.bs.ebx;
    assert_true(mbi >= 0x1000 && mbi + MBI_SIZE <= 0x9F000);
    assert_int_equal(mbi % 4, 0);
    assert_int_equal(rd32(r.ram, mbi + MBI_OFF_FLAGS),
                     MBI_MEM | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_BOOT_LOADER_NAME);
    assert_int_equal(rd32(r.ram, mbi + MBI_OFF_MEM_LOWER), 639);
    assert_int_equal(rd32(r.ram, mbi + MBI_OFF_MEM_UPPER), (8 * MIB - MIB) / 1024);
    char want[256];
    snprintf(want, sizeof(want), "%s console=ttyS0 verbose", path);
    assert_string_equal((char *)r.ram + rd32(r.ram, mbi + MBI_OFF_CMDLINE), want);
    assert_string_equal((char *)r.ram + rd32(r.ram, mbi + MBI_OFF_LOADER_NAME), "ringside");
    assert_int_equal(rd32(r.ram, mbi + MBI_OFF_MODS_COUNT), 0);
    check_mmap(&r, mbi);
    /* The multiboot header is part of segment 0 and was loaded with it. */
    assert_int_equal(rd32(r.ram, 0x100000), MB_HEADER_MAGIC);
    free(r.ram);
}

static void multiboot_cmdline_without_append(void **state)
{
    struct fixture *fx = *state;
    struct elf_spec s = plain;
    s.multiboot = true;
    const char *path = write_image(fx, "mb-noappend.elf", build_elf(&s), SIZE_MAX);
    struct run r;
    load(&r, 4 * MIB, path, NULL, NULL, 0);
    assert_int_equal(r.rc, 0);
    char want[256];
    snprintf(want, sizeof(want), "%s ", path); /* QEMU: "%s %s" with an empty -append */
    assert_string_equal((char *)r.ram + rd32(r.ram, r.bs.ebx + MBI_OFF_CMDLINE), want);
    free(r.ram);
}

static const char *write_module(struct fixture *fx, const char *name, size_t len, uint8_t seed)
{
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(seed + i * 7);
    const char *p = write_bytes(fx, name, buf, len);
    free(buf);
    return p;
}

static void modules_are_page_aligned_after_the_image(void **state)
{
    struct fixture *fx = *state;
    struct elf_spec s = { .entry = 0x100000, .nseg = 1, .multiboot = true,
                          .seg = { { 0, 0x100000, 0x200, 0x1234, 0 } } };
    const char *path = write_image(fx, "mbmods.elf", build_elf(&s), SIZE_MAX);
    const char *m1 = write_module(fx, "m1", 5000, 1);
    const char *m2 = write_module(fx, "m2", 1, 2);
    const char *m3 = write_module(fx, "m3", 10, 3);
    char spec1[128], spec3[128];
    snprintf(spec1, sizeof(spec1), "%s arg1 arg2", m1);
    snprintf(spec3, sizeof(spec3), "%s  x=1", m3);
    const char *mods[] = { spec1, m2, spec3 };
    struct run r;
    load(&r, 4 * MIB, path, "a", mods, 3);
    assert_int_equal(r.rc, 0);
    uint32_t mbi = r.bs.ebx;
    assert_int_equal(rd32(r.ram, mbi + MBI_OFF_MODS_COUNT), 3);
    uint32_t list = rd32(r.ram, mbi + MBI_OFF_MODS_ADDR);
    const uint32_t start[3] = { 0x102000, 0x104000, 0x105000 };
    const uint32_t size[3] = { 5000, 1, 10 };
    const char *strs[3] = { spec1, m2, spec3 };
    for (unsigned i = 0; i < 3; i++) {
        uint32_t e = list + 16 * i;
        assert_int_equal(rd32(r.ram, e), start[i]);
        assert_int_equal(rd32(r.ram, e + 4), start[i] + size[i]); /* exclusive end */
        assert_string_equal((char *)r.ram + rd32(r.ram, e + 8), strs[i]);
        assert_int_equal(rd32(r.ram, e + 12), 0);
        for (uint32_t j = 0; j < size[i]; j++)
            assert_int_equal(r.ram[start[i] + j], (uint8_t)(i + 1 + j * 7));
    }
    /* Between the image's bss and the first module, RAM is untouched. */
    assert_int_equal(r.ram[0x101234], 0xAA);
    free(r.ram);
}

static void info_block_avoids_a_low_image_and_its_modules(void **state)
{
    struct fixture *fx = *state;
    struct elf_spec s = { .entry = 0x1000, .nseg = 1, .multiboot = true,
                          .seg = { { 0, 0x1000, 0x100, 0x2000, 0 } } };
    const char *path = write_image(fx, "low.elf", build_elf(&s), SIZE_MAX);
    const char *m = write_module(fx, "lowmod", 0x100, 9);
    const char *mods[] = { m };
    struct run r;
    load(&r, 2 * MIB, path, NULL, mods, 1);
    assert_int_equal(r.rc, 0);
    uint32_t list = rd32(r.ram, r.bs.ebx + MBI_OFF_MODS_ADDR);
    assert_int_equal(rd32(r.ram, list), 0x3000);
    assert_int_equal(r.bs.ebx, 0x3100); /* the first free 16-byte boundary */
    assert_int_equal(rd32(r.ram, 0x1000), MB_HEADER_MAGIC); /* the segment starts with it */
    assert_int_equal(r.ram[0x1000 + 12], seg_byte(0, 12));
    assert_int_equal(r.ram[0x3000], 9);
    free(r.ram);
}

static void no_room_for_the_info_block(void **state)
{
    struct fixture *fx = *state;
    struct elf_spec s = { .entry = 0x1000, .nseg = 1, .multiboot = true,
                          .seg = { { 0, 0, 0x100, 0xA0000, 0 } } };
    const char *path = write_image(fx, "full.elf", build_elf(&s), SIZE_MAX);
    struct run r;
    load(&r, 2 * MIB, path, NULL, NULL, 0);
    expect_error(&r, "no room for the Multiboot information");
}

static void multiboot_header_search(void **state)
{
    struct fixture *fx = *state;
    struct {
        uint32_t offset, delta;
        bool found;
    } cases[] = {
        { 0x1000, 0, true },  { 0x1000, 1, false }, /* checksum off by one */
        { 0x1002, 0, false },                       /* not 4-byte aligned */
        { 8180, 0, true },                          /* ends at byte 8192 */
        { 8184, 0, false },                         /* crosses byte 8192 */
        { 12288, 0, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct elf_spec s = plain;
        s.multiboot = true;
        s.mb_offset = cases[i].offset;
        s.mb_sum_delta = cases[i].delta;
        char name[32];
        snprintf(name, sizeof(name), "search%zu.elf", i);
        const char *path = write_image(fx, name, build_elf(&s), SIZE_MAX);
        struct run r;
        load(&r, 4 * MIB, path, NULL, NULL, 0);
        assert_int_equal(r.rc, 0);
        if (r.bs.multiboot != cases[i].found)
            fail_msg("case %zu: header at %u found=%d", i, cases[i].offset, r.bs.multiboot);
        free(r.ram);
    }
}

/* ---- rejected images ---- */

static void rejects_unreadable_files(void **state)
{
    struct fixture *fx = *state;
    struct run r;
    load(&r, 2 * MIB, "does/not/exist.elf", NULL, NULL, 0);
    expect_error(&r, "cannot open image 'does/not/exist.elf': No such file or directory");
    load(&r, 2 * MIB, fx->dir, NULL, NULL, 0);
    expect_error(&r, "is a directory");
    load(&r, 2 * MIB, write_bytes(fx, "empty", "", 0), NULL, NULL, 0);
    expect_error(&r, "empty file");
}

static void rejects_non_elf(void **state)
{
    struct fixture *fx = *state;
    struct run r;
    load(&r, 2 * MIB, write_bytes(fx, "text", "hello, world\n", 13), NULL, NULL, 0);
    expect_error(&r, "not an ELF file");
    load(&r, 2 * MIB, write_bytes(fx, "short", "\x7f" "E", 2), NULL, NULL, 0);
    expect_error(&r, "not an ELF file");
    load(&r, 2 * MIB, write_bytes(fx, "ident", "\x7f" "ELF\x01\x01", 6), NULL, NULL, 0);
    expect_error(&r, "truncated ELF header");
}

static struct image patched(uint32_t off, const void *bytes, size_t n)
{
    struct image img = build_elf(&plain);
    memcpy(img.data + off, bytes, n);
    return img;
}

static void rejects_wrong_kind_of_elf(void **state)
{
    struct fixture *fx = *state;
    struct run r;
    const uint8_t c64 = ELFCLASS64, c3 = 3, be = ELFDATA2MSB;
    const uint16_t arm = EM_ARM, x64 = EM_X86_64, rel = ET_REL, dyn = ET_DYN;
    load(&r, 2 * MIB, write_image(fx, "c64", patched(EI_CLASS, &c64, 1), SIZE_MAX), NULL, NULL, 0);
    expect_error(&r, "ELF64 images are not supported: Ringside is a 32-bit machine");
    load(&r, 2 * MIB, write_image(fx, "c3", patched(EI_CLASS, &c3, 1), SIZE_MAX), NULL, NULL, 0);
    expect_error(&r, "unknown ELF class 3");
    load(&r, 2 * MIB, write_image(fx, "be", patched(EI_DATA, &be, 1), SIZE_MAX), NULL, NULL, 0);
    expect_error(&r, "big-endian");
    load(&r, 4 * MIB, write_image(fx, "arm", patched(18, &arm, 2), SIZE_MAX), NULL, NULL, 0);
    expect_error(&r, "not an i386 ELF (machine 40, ARM");
    load(&r, 4 * MIB, write_image(fx, "x32", patched(18, &x64, 2), SIZE_MAX), NULL, NULL, 0);
    expect_error(&r, "x86-64");
    load(&r, 4 * MIB, write_image(fx, "rel", patched(16, &rel, 2), SIZE_MAX), NULL, NULL, 0);
    expect_error(&r, "not an executable ELF (type 1, a relocatable object)");
    load(&r, 4 * MIB, write_image(fx, "dyn", patched(16, &dyn, 2), SIZE_MAX), NULL, NULL, 0);
    expect_error(&r, "a shared object or PIE");
}

static void rejects_truncated_headers(void **state)
{
    struct fixture *fx = *state;
    struct run r;
    load(&r, 4 * MIB, write_image(fx, "th", build_elf(&plain), 40), NULL, NULL, 0);
    expect_error(&r, "truncated ELF header (40 of 52 bytes)");
    load(&r, 4 * MIB, write_image(fx, "tp", build_elf(&plain), 52 + 40), NULL, NULL, 0);
    expect_error(&r, "truncated program headers");
    const uint16_t big = 0x100, entsize = 40, zero = 0;
    load(&r, 4 * MIB, write_image(fx, "phnum", patched(44, &big, 2), 0x1000), NULL, NULL, 0);
    expect_error(&r, "truncated program headers");
    load(&r, 4 * MIB, write_image(fx, "phent", patched(42, &entsize, 2), SIZE_MAX), NULL, NULL, 0);
    expect_error(&r, "program header entries are 40 bytes");
    load(&r, 4 * MIB, write_image(fx, "nophdr", patched(44, &zero, 2), SIZE_MAX), NULL, NULL, 0);
    expect_error(&r, "no program headers");
    const uint32_t far = 0x7FFFFFF0;
    load(&r, 4 * MIB, write_image(fx, "phoff", patched(28, &far, 4), SIZE_MAX), NULL, NULL, 0);
    expect_error(&r, "truncated program headers");
}

static void rejects_bad_segments(void **state)
{
    struct fixture *fx = *state;
    struct run r;
    struct {
        struct seg_spec seg;
        uint32_t ram;
        const char *err;
    } cases[] = {
        { { PT_NOTE, 0x100000, 0x10, 0x10, 0 }, 4 * MIB, "no loadable segments" },
        { { 0, 0x100000, 0x10, 0x10, 0x5000000 }, 4 * MIB, "lie outside the file" },
        { { 0, 0x100000, 0x20, 0x20, 0xFFFFFFF0 }, 4 * MIB, "lie outside the file" },
        { { 0, 0x100000, 0x1000, 0x10, 0 }, 4 * MIB, "exceeds memory size" },
        { { 0, 0xF0000000, 0x10, 0x10, 0 }, 4 * MIB, "at physical 0xf0000000..0xf0000010 "
                                                     "lies outside RAM (4 MiB" },
        { { 0, 0xFFFFF000, 0x10, 0x2000, 0 }, 4 * MIB, "lies outside RAM" }, /* wraps 2^32 */
        { { 0, 2 * MIB - 0x10, 0x10, 0x20, 0 }, 2 * MIB, "lies outside RAM" },
        { { 0, 0x100000, 0, 0, 0 }, 4 * MIB, "no loadable segments" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct elf_spec s = { .entry = 0x100000, .nseg = 1, .seg = { cases[i].seg } };
        char name[32];
        snprintf(name, sizeof(name), "seg%zu.elf", i);
        load(&r, cases[i].ram, write_image(fx, name, build_elf(&s), SIZE_MAX), NULL, NULL, 0);
        expect_error(&r, cases[i].err);
    }
}

static void rejects_bad_modules(void **state)
{
    struct fixture *fx = *state;
    struct run r;
    struct elf_spec s = plain;
    s.multiboot = true;
    const char *mb = write_image(fx, "mb-badmods.elf", build_elf(&s), SIZE_MAX);
    const char *pl = write_image(fx, "plain-mods.elf", build_elf(&plain), SIZE_MAX);
    const char *missing[] = { "no-such-module arg" };
    load(&r, 4 * MIB, mb, NULL, missing, 1);
    expect_error(&r, "cannot open module 'no-such-module': No such file or directory");
    const char *dir[] = { fx->dir };
    load(&r, 4 * MIB, mb, NULL, dir, 1);
    expect_error(&r, "is a directory");
    const char *noname[] = { " arg" };
    load(&r, 4 * MIB, mb, NULL, noname, 1);
    expect_error(&r, "no file name");
    const char *big[] = { write_module(fx, "big", 2 * MIB, 0) };
    load(&r, 4 * MIB, mb, NULL, big, 1);
    expect_error(&r, "does not fit in RAM");
    const char *ok[] = { write_module(fx, "small", 16, 0) };
    load(&r, 4 * MIB, pl, NULL, ok, 1);
    expect_error(&r, "no Multiboot header, so the image cannot take --module");
    load(&r, 4 * MIB, pl, "x", NULL, 0);
    expect_error(&r, "cannot take --append");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_elf_loads_segments_and_bss),
        cmocka_unit_test(segment_ending_at_ram_top_fits),
        cmocka_unit_test(multiboot_information),
        cmocka_unit_test(multiboot_cmdline_without_append),
        cmocka_unit_test(modules_are_page_aligned_after_the_image),
        cmocka_unit_test(info_block_avoids_a_low_image_and_its_modules),
        cmocka_unit_test(no_room_for_the_info_block),
        cmocka_unit_test(multiboot_header_search),
        cmocka_unit_test(rejects_unreadable_files),
        cmocka_unit_test(rejects_non_elf),
        cmocka_unit_test(rejects_wrong_kind_of_elf),
        cmocka_unit_test(rejects_truncated_headers),
        cmocka_unit_test(rejects_bad_segments),
        cmocka_unit_test(rejects_bad_modules),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
