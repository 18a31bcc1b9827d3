/* ELF32 and Multiboot v1 loading (see loader.h).
 *
 * Everything is checked before the first byte of RAM is written: the ELF identification and
 * header, the program header table, every PT_LOAD segment against the file and against RAM (in
 * 64-bit arithmetic, so no sum can wrap), then the modules and the room for the Multiboot
 * information.
 */
#include "frontend/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine/machine.h"

#define PAGE_SIZE 4096u

/* A physical range [lo, hi) the image or a module occupies. */
struct range {
    uint64_t lo, hi;
};

/* A file mapped copy-on-write (libelf's elf_memory wants a writable pointer). */
struct mapped_file {
    uint8_t *data;
    size_t size;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* fail() for check_elf's error paths that own a copy of the program headers. */
static int fail_free(void *owned, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_free(void *owned, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    free(owned);
    va_start(ap, fmt);
    if (errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

static void put32(uint8_t *ram, uint32_t addr, uint32_t v)
{
    ram[addr] = (uint8_t)v;
    ram[addr + 1] = (uint8_t)(v >> 8);
    ram[addr + 2] = (uint8_t)(v >> 16);
    ram[addr + 3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What a file that is not a regular file is, for the error message. */
static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a named pipe (FIFO)";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "a special file";
}

/* Opens path as a regular file; returns the fd and its size, or -1 with err set. The open never
 * blocks (O_NONBLOCK: a FIFO with no writer would wait for ever; O_NOCTTY: a terminal must not
 * become ours); fstat then refuses anything that is not a regular file. */
static int open_regular(const char *dir, const char *path, const char *what, off_t *size,
                        char *err, size_t errlen)
{
    int fd;
    if (dir && path[0] != '/') { /* relative to the directory the caller names */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        if (dfd < 0)
            return fail(err, errlen, "cannot open directory '%s': %s", dir, strerror(errno));
        fd = openat(dfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        int e = errno;
        close(dfd);
        errno = e;
    } else {
        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    }
    if (fd < 0)
        return fail(err, errlen, "cannot open %s '%s': %s", what, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return fail(err, errlen, "cannot read %s '%s': %s", what, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, "%s '%s' is %s, not a file", what, path,
                    file_kind(st.st_mode));
    }
    *size = st.st_size;
    return fd;
}

static int map_file(const char *dir, const char *path, struct mapped_file *f, char *err,
                    size_t errlen)
{
    off_t size;
    int fd = open_regular(dir, path, "image", &size, err, errlen);
    if (fd < 0)
        return -1;
    if (size == 0) {
        close(fd);
        return fail(err, errlen, "%s: empty file, not an ELF image", path);
    }
    if ((uint64_t)size > SIZE_MAX) {
        close(fd);
        return fail(err, errlen, "%s: file too large", path);
    }
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return fail(err, errlen, "cannot read image '%s': %s", path, strerror(e));
    f->data = p;
    f->size = (size_t)size;
    return 0;
}

static const char *machine_name(unsigned m)
{
    switch (m) {
    case EM_68K: return "m68k";
    case EM_MIPS: return "MIPS";
    case EM_PPC: return "PowerPC";
    case EM_PPC64: return "PowerPC64";
    case EM_SPARC: return "SPARC";
    case EM_ARM: return "ARM";
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "AArch64";
    case EM_RISCV: return "RISC-V";
    default: return "unknown";
    }
}

/* Checks the identification bytes and the ELF header that libelf will read. */
static int check_ident(const char *path, const struct mapped_file *f, char *err, size_t errlen)
{
    const uint8_t *d = f->data;
    if (f->size < SELFMAG || memcmp(d, ELFMAG, SELFMAG) != 0)
        return fail(err, errlen, "%s: not an ELF file", path);
    if (f->size < EI_NIDENT)
        return fail(err, errlen, "%s: truncated ELF header (%zu of %zu bytes)", path, f->size,
                    sizeof(Elf32_Ehdr));
    if (d[EI_CLASS] == ELFCLASS64)
        return fail(err, errlen,
                    "%s: ELF64 images are not supported: Ringside is a 32-bit machine", path);
    if (d[EI_CLASS] != ELFCLASS32)
        return fail(err, errlen, "%s: unknown ELF class %u", path, d[EI_CLASS]);
    if (d[EI_DATA] != ELFDATA2LSB)
        return fail(err, errlen, "%s: big-endian or unknown ELF data encoding %u, x86 is "
                    "little-endian", path, d[EI_DATA]);
    if (f->size < sizeof(Elf32_Ehdr))
        return fail(err, errlen, "%s: truncated ELF header (%zu of %zu bytes)", path, f->size,
                    sizeof(Elf32_Ehdr));
    return 0;
}

/* Finds a valid Multiboot v1 header; returns its flags through *flags. */
static bool find_multiboot(const struct mapped_file *f, uint32_t *flags)
{
    size_t limit = f->size < MB_SEARCH_LIMIT ? f->size : MB_SEARCH_LIMIT;
    for (size_t i = 0; i + 12 <= limit; i += 4) {
        const uint8_t *h = f->data + i;
        uint32_t magic = get32(h), fl = get32(h + 4), sum = get32(h + 8);
        if (magic == MB_HEADER_MAGIC && (uint32_t)(magic + fl + sum) == 0) {
            *flags = fl;
            return true;
        }
    }
    return false;
}

static bool overlaps(const struct range *r, size_t n, uint64_t lo, uint64_t hi)
{
    for (size_t i = 0; i < n; i++)
        if (lo < r[i].hi && r[i].lo < hi)
            return true;
    return false;
}

/* Loads one module file at physical dest; returns 0 with its size in *size_out, or -1. */
static int load_module(uint8_t *ram, uint32_t ram_size, const char *dir, const char *spec,
                       uint64_t dest,
                       uint32_t *size_out, char *err, size_t errlen)
{
    size_t namelen = strcspn(spec, " ");
    if (namelen == 0)
        return fail(err, errlen, "module '%s': no file name", spec);
    char *name = strndup(spec, namelen);
    if (!name)
        return fail(err, errlen, "out of memory");
    off_t size;
    int fd = open_regular(dir, name, "module", &size, err, errlen);
    if (fd < 0) {
        free(name);
        return -1;
    }
    if (dest + (uint64_t)size > ram_size) {
        fail(err, errlen, "module '%s' (%lld bytes) does not fit in RAM at 0x%08llx (RAM ends "
             "at 0x%08llx)", name, (long long)size, (unsigned long long)dest,
             (unsigned long long)ram_size);
        goto out;
    }
    for (off_t done = 0; done < size;) {
        ssize_t n = read(fd, ram + dest + done, (size_t)(size - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fail(err, errlen, "cannot read module '%s': %s", name,
                 n < 0 ? strerror(errno) : "file shrank while reading");
            goto out;
        }
        done += n;
    }
    *size_out = (uint32_t)size;
    close(fd);
    free(name);
    return 0;
out:
    close(fd);
    free(name);
    return -1;
}

/* Writes one memory map entry at addr. */
static void put_mmap(uint8_t *ram, uint32_t addr, uint64_t base, uint64_t len, uint32_t type)
{
    put32(ram, addr, MB_MMAP_ENTRY_SIZE - 4);
    put32(ram, addr + 4, (uint32_t)base);
    put32(ram, addr + 8, (uint32_t)(base >> 32));
    put32(ram, addr + 12, (uint32_t)len);
    put32(ram, addr + 16, (uint32_t)(len >> 32));
    put32(ram, addr + 20, type);
}

static uint32_t put_string(uint8_t *ram, uint32_t *cursor, const char *s)
{
    uint32_t at = *cursor;
    size_t n = strlen(s) + 1;
    memcpy(ram + at, s, n);
    *cursor += (uint32_t)n;
    return at;
}

/* Modules, then the information block. used[] holds the image's ranges and has room for the
 * modules. */
static int load_multiboot(uint8_t *ram, uint32_t ram_size, const struct boot_params *p,
                          struct range *used, size_t nused, uint64_t image_high,
                          struct boot_state *out, char *err, size_t errlen)
{
    uint32_t *mod_start = calloc(p->nmodules + 1, sizeof(uint32_t));
    uint32_t *mod_size = calloc(p->nmodules + 1, sizeof(uint32_t));
    char *cmdline = NULL;
    int rc = -1;
    if (!mod_start || !mod_size) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    uint64_t next = align_up(image_high, PAGE_SIZE);
    for (size_t i = 0; i < p->nmodules; i++) {
        if (next > ram_size) {
            fail(err, errlen, "module '%s' does not fit in RAM above the image", p->modules[i]);
            goto out;
        }
        if (load_module(ram, ram_size, p->dir, p->modules[i], next, &mod_size[i], err,
                        errlen) < 0)
            goto out;
        mod_start[i] = (uint32_t)next;
        used[nused++] = (struct range){ next, next + mod_size[i] };
        next = align_up(next + mod_size[i], PAGE_SIZE);
    }

    /* QEMU: snprintf("%s %s", kernel_filename, kernel_cmdline). */
    const char *append = p->append ? p->append : "";
    size_t cmdlen = strlen(p->image) + 1 + strlen(append) + 1;
    cmdline = malloc(cmdlen);
    if (!cmdline) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    snprintf(cmdline, cmdlen, "%s %s", p->image, append);

    uint64_t need = MBI_SIZE + MB_MMAP_ENTRIES * MB_MMAP_ENTRY_SIZE
                    + (uint64_t)p->nmodules * MB_MOD_SIZE + cmdlen + sizeof(LOADER_NAME);
    for (size_t i = 0; i < p->nmodules; i++)
        need += strlen(p->modules[i]) + 1;
    uint64_t limit = ram_size < MB_INFO_HIGH ? ram_size : MB_INFO_HIGH;
    uint64_t at = MB_INFO_LOW;
    for (bool moved = true; moved && at + need <= limit;) {
        moved = false;
        for (size_t i = 0; i < nused; i++) {
            if (at < used[i].hi && used[i].lo < at + need) {
                at = align_up(used[i].hi, 16);
                moved = true;
            }
        }
    }
    if (at + need > limit || overlaps(used, nused, at, at + need)) {
        fail(err, errlen, "no room for the Multiboot information (%llu bytes) in low memory "
             "[0x%x, 0x%x) beside the image", (unsigned long long)need, MB_INFO_LOW,
             MB_INFO_HIGH);
        goto out;
    }

    uint32_t mbi = (uint32_t)at;
    uint32_t mmap = mbi + MBI_SIZE;
    uint32_t mods = mmap + MB_MMAP_ENTRIES * MB_MMAP_ENTRY_SIZE;
    uint32_t cursor = mods + (uint32_t)p->nmodules * MB_MOD_SIZE;
    memset(ram + mbi, 0, (size_t)need);

    /* The BIOS-style map a PC with this much RAM reports (E820). */
    uint32_t nmap = 0;
    put_mmap(ram, mmap + MB_MMAP_ENTRY_SIZE * nmap++, 0, 0x9FC00, 1);
    put_mmap(ram, mmap + MB_MMAP_ENTRY_SIZE * nmap++, 0x9FC00, 0x400, 2);  /* EBDA */
    put_mmap(ram, mmap + MB_MMAP_ENTRY_SIZE * nmap++, 0xF0000, 0x10000, 2); /* BIOS ROM */
    if (ram_size > 0x100000)
        put_mmap(ram, mmap + MB_MMAP_ENTRY_SIZE * nmap++, 0x100000, ram_size - 0x100000u, 1);

    for (size_t i = 0; i < p->nmodules; i++) {
        uint32_t e = mods + (uint32_t)i * MB_MOD_SIZE;
        put32(ram, e, mod_start[i]);
        put32(ram, e + 4, mod_start[i] + mod_size[i]);
        put32(ram, e + 8, put_string(ram, &cursor, p->modules[i]));
        put32(ram, e + 12, 0);
    }

    put32(ram, mbi + MBI_OFF_FLAGS,
          MBI_MEM | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_BOOT_LOADER_NAME);
    put32(ram, mbi + MBI_OFF_MEM_LOWER, MB_MEM_LOWER_KIB);
    put32(ram, mbi + MBI_OFF_MEM_UPPER, ram_size > 0x100000 ? (ram_size - 0x100000u) / 1024 : 0);
    put32(ram, mbi + MBI_OFF_CMDLINE, put_string(ram, &cursor, cmdline));
    put32(ram, mbi + MBI_OFF_MODS_COUNT, (uint32_t)p->nmodules);
    put32(ram, mbi + MBI_OFF_MODS_ADDR, mods);
    put32(ram, mbi + MBI_OFF_MMAP_LENGTH, nmap * MB_MMAP_ENTRY_SIZE);
    put32(ram, mbi + MBI_OFF_MMAP_ADDR, mmap);
    put32(ram, mbi + MBI_OFF_LOADER_NAME, put_string(ram, &cursor, LOADER_NAME));

    out->multiboot = true;
    out->eax = MB_BOOT_MAGIC;
    out->ebx = mbi;
    rc = 0;
out:
    free(mod_start);
    free(mod_size);
    free(cmdline);
    return rc;
}

/* Validates the ELF and its segments. On success *phdr_out is a malloc'd, aligned copy of the
 * program header table (the caller frees it). */
static int check_elf(const char *path, const struct mapped_file *f, Elf *elf, uint32_t ram_size,
                     Elf32_Ehdr **ehdr_out, Elf32_Phdr **phdr_out, size_t *nph_out,
                     char *err, size_t errlen)
{
    Elf32_Ehdr *eh = elf32_getehdr(elf);
    if (!eh)
        return fail(err, errlen, "%s: bad ELF header: %s", path, elf_errmsg(-1));
    if (eh->e_machine != EM_386)
        return fail(err, errlen, "%s: not an i386 ELF (machine %u, %s; Ringside runs EM_386 code)",
                    path, eh->e_machine, machine_name(eh->e_machine));
    if (eh->e_type != ET_EXEC)
        return fail(err, errlen, "%s: not an executable ELF (type %u, %s)", path, eh->e_type,
                    eh->e_type == ET_REL ? "a relocatable object"
                    : eh->e_type == ET_DYN ? "a shared object or PIE"
                    : eh->e_type == ET_CORE ? "a core dump" : "unknown");
    /* e_phnum itself, not elf_getphdrnum(), which quietly shortens a table cut off by the end
     * of the file. */
    size_t nph = eh->e_phnum;
    if (nph == PN_XNUM)
        return fail(err, errlen, "%s: more than %u program headers are not supported", path,
                    PN_XNUM - 1);
    if (nph == 0)
        return fail(err, errlen, "%s: no program headers, nothing to load", path);
    if (eh->e_phentsize != sizeof(Elf32_Phdr))
        return fail(err, errlen, "%s: program header entries are %u bytes, not %zu", path,
                    eh->e_phentsize, sizeof(Elf32_Phdr));
    uint64_t ph_end = (uint64_t)eh->e_phoff + (uint64_t)nph * sizeof(Elf32_Phdr);
    if (ph_end > f->size)
        return fail(err, errlen, "%s: truncated program headers (table ends at byte %llu, file "
                    "has %zu)", path, (unsigned long long)ph_end, f->size);
    const Elf32_Phdr *table = elf32_getphdr(elf);
    if (!table)
        return fail(err, errlen, "%s: bad program headers: %s", path, elf_errmsg(-1));
    /* libelf hands out the table in place on x86, where e_phoff may leave it unaligned:
     * work on an aligned copy. */
    Elf32_Phdr *ph = malloc(nph * sizeof(*ph));
    if (!ph)
        return fail(err, errlen, "out of memory");
    memcpy(ph, table, nph * sizeof(*ph));
    size_t nload = 0;
    for (size_t i = 0; i < nph; i++) {
        const Elf32_Phdr *g = &ph[i];
        unsigned long long file_end = (unsigned long long)g->p_offset + g->p_filesz;
        unsigned long long mem_end = (unsigned long long)g->p_paddr + g->p_memsz;
        if (g->p_type != PT_LOAD)
            continue;
        if (g->p_filesz > g->p_memsz)
            return fail_free(ph, err, errlen, "%s: segment %zu: file size 0x%x exceeds memory "
                             "size 0x%x", path, i, g->p_filesz, g->p_memsz);
        if (file_end > f->size)
            return fail_free(ph, err, errlen, "%s: segment %zu: file bytes 0x%x..0x%llx lie "
                             "outside the file (%zu bytes)", path, i, g->p_offset, file_end,
                             f->size);
        if (mem_end > ram_size)
            return fail_free(ph, err, errlen, "%s: segment %zu at physical 0x%08x..0x%08llx lies "
                             "outside RAM (%u MiB, ends at 0x%08x)", path, i, g->p_paddr,
                             mem_end, ram_size >> 20, ram_size);
        if (g->p_memsz)
            nload++;
    }
    if (nload == 0)
        return fail_free(ph, err, errlen, "%s: no loadable segments", path);
    *ehdr_out = eh;
    *phdr_out = ph;
    *nph_out = nph;
    return 0;
}

int loader_load(uint8_t *ram, uint32_t ram_size, const struct boot_params *p,
                struct boot_state *out, char *err, size_t errlen)
{
    struct mapped_file f = { 0 };
    Elf *elf = NULL;
    Elf32_Ehdr *eh = NULL;
    Elf32_Phdr *ph = NULL; /* owned: an aligned copy of the table */
    size_t nph = 0;
    struct range *used = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (elf_version(EV_CURRENT) == EV_NONE)
        return fail(err, errlen, "libelf is out of date: %s", elf_errmsg(-1));
    if (map_file(p->dir, p->image, &f, err, errlen) < 0)
        return -1;
    if (check_ident(p->image, &f, err, errlen) < 0)
        goto out;
    elf = elf_memory((char *)f.data, f.size);
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        fail(err, errlen, "%s: not an ELF file: %s", p->image, elf_errmsg(-1));
        goto out;
    }
    if (check_elf(p->image, &f, elf, ram_size, &eh, &ph, &nph, err, errlen) < 0)
        goto out;

    uint32_t mb_flags = 0;
    bool mb = find_multiboot(&f, &mb_flags);
    if (!mb && (p->append || p->nmodules)) {
        fail(err, errlen, "%s: no Multiboot header, so the image cannot take %s", p->image,
             p->nmodules ? "--module" : "--append");
        goto out;
    }

    used = calloc(nph + p->nmodules + 1, sizeof(*used));
    if (!used) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    size_t nused = 0;
    uint64_t low = UINT64_MAX, high = 0;
    for (size_t i = 0; i < nph; i++) {
        const Elf32_Phdr *s = &ph[i];
        if (s->p_type != PT_LOAD || s->p_memsz == 0)
            continue;
        memcpy(ram + s->p_paddr, f.data + s->p_offset, s->p_filesz);
        memset(ram + s->p_paddr + s->p_filesz, 0, s->p_memsz - s->p_filesz);
        uint64_t end = (uint64_t)s->p_paddr + s->p_memsz;
        used[nused++] = (struct range){ s->p_paddr, end };
        if (s->p_paddr < low)
            low = s->p_paddr;
        if (end > high)
            high = end;
    }
    out->entry = eh->e_entry;
    out->image_low = (uint32_t)low;
    out->image_high = (uint32_t)high; /* <= ram_size, so it fits */
    if (mb && load_multiboot(ram, ram_size, p, used, nused, high, out, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    free(used);
    free(ph);
    if (elf)
        elf_end(elf);
    munmap(f.data, f.size);
    return rc;
}

int machine_load(struct machine *m, const struct boot_params *p, char *err, size_t errlen)
{
    struct boot_state boot;
    if (loader_load(m->ram, m->ram_size, p, &boot, err, errlen) < 0)
        return -1;
    machine_boot(m, boot.entry, boot.eax, boot.ebx);
    return 0;
}
