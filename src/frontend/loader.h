/* Loads a guest image into physical RAM: an ELF32 i386 executable, and when it carries a
 * Multiboot v1 header, everything a Multiboot loader hands over (command line, modules, memory
 * map) laid out the way `qemu-system-i386 -kernel` lays it out.
 *
 * The loader only writes RAM and reports what the cpu must be given (struct boot_state); it does
 * not touch the cpu, so it can be tested on its own. machine_load() loads into a machine and
 * hands the result over (machine_boot).
 *
 * Multiboot v1 (https://www.gnu.org/software/grub/manual/multiboot/multiboot.html):
 *
 *   header (in the first 8192 bytes of the file, 4-byte aligned)
 *     +0 magic 0x1BADB002   +4 flags   +8 checksum   (magic + flags + checksum == 0 mod 2^32)
 *
 *   hand-over: EAX = 0x2BADB002, EBX = physical address of the information block (MBI):
 *     +0  flags        which fields below are valid (MBI_* bits)
 *     +4  mem_lower    KiB of memory below 1 MiB (639 = up to 0x9FC00)
 *     +8  mem_upper    KiB of memory above 1 MiB
 *     +16 cmdline      physical address of a NUL-terminated string
 *     +20 mods_count   +24 mods_addr: array of { mod_start, mod_end (exclusive), string, 0 }
 *     +44 mmap_length  +48 mmap_addr: entries { size (= 20, not counting itself), base_addr
 *                      (64-bit), length (64-bit), type (1 = available, 2 = reserved) }
 *     +64 boot_loader_name  physical address of a NUL-terminated string
 *
 * Where things go: PT_LOAD segments at p_paddr (paging is off at hand-over); modules page-aligned
 * one after another above the image's highest loaded byte; the MBI, memory map, module list and
 * strings together in one block in low memory [0x1000, 0x9F000), at the lowest address that
 * overlaps neither the image nor a module.
 *
 * The command line is what QEMU passes: the image path as given, a space, then the --append
 * string (QEMU 7.2's hw/i386/multiboot.c formats "%s %s" from kernel_filename and
 * kernel_cmdline). A module's string is the whole "FILE ARGS" text of its --module option (QEMU
 * does the same for each comma-separated -initrd entry); FILE is the text up to the first space.
 *
 * Header flags are not acted on: modules are always page-aligned (bit 0) and memory information
 * is always given (bit 1); a video mode request (bit 2) is ignored, as QEMU ignores it; the
 * a.out-kludge addresses (bit 16) are not used, the image is always loaded as ELF.
 */
#ifndef RINGSIDE_LOADER_H
#define RINGSIDE_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB_HEADER_MAGIC   0x1BADB002u /* in the image's Multiboot header */
#define MB_BOOT_MAGIC     0x2BADB002u /* in EAX at hand-over */
#define MB_SEARCH_LIMIT   8192u       /* the header lies within this many bytes of the file */

/* MBI flags bits. */
#define MBI_MEM              0x001u /* mem_lower, mem_upper valid */
#define MBI_BOOTDEV          0x002u /* boot_device valid (not provided) */
#define MBI_CMDLINE          0x004u /* cmdline valid */
#define MBI_MODS             0x008u /* mods_count, mods_addr valid */
#define MBI_MMAP             0x040u /* mmap_length, mmap_addr valid */
#define MBI_BOOT_LOADER_NAME 0x200u /* boot_loader_name valid */

/* MBI field offsets. */
#define MBI_OFF_FLAGS       0
#define MBI_OFF_MEM_LOWER   4
#define MBI_OFF_MEM_UPPER   8
#define MBI_OFF_CMDLINE     16
#define MBI_OFF_MODS_COUNT  20
#define MBI_OFF_MODS_ADDR   24
#define MBI_OFF_MMAP_LENGTH 44
#define MBI_OFF_MMAP_ADDR   48
#define MBI_OFF_LOADER_NAME 64
#define MBI_SIZE            88  /* through the APM table field; the VBE fields are absent */

#define MB_MOD_SIZE        16u  /* one module list entry */
#define MB_MMAP_ENTRY_SIZE 24u  /* one memory map entry, including its size field */
#define MB_MMAP_ENTRIES    4u   /* low RAM, EBDA, BIOS ROM, high RAM */
#define MB_MEM_LOWER_KIB   639u /* conventional memory: 0 .. 0x9FC00 */

#define MB_INFO_LOW  0x1000u  /* the MBI block goes in [MB_INFO_LOW, MB_INFO_HIGH) */
#define MB_INFO_HIGH 0x9F000u

#define LOADER_NAME "ringside" /* boot_loader_name */

struct boot_params {
    const char *image;           /* path of the ELF file */
    const char *append;          /* --append text, NULL = none */
    const char *const *modules;  /* each "FILE[ ARGS]" */
    size_t nmodules;
    const char *dir;             /* relative image and module paths are opened from here
                                    (NULL: the current directory); the guest sees them as
                                    given, so its view does not depend on where files are */
};

/* What the cpu is given at hand-over (protected mode, flat segments, paging off). */
struct boot_state {
    uint32_t entry;
    bool multiboot;
    uint32_t eax, ebx;              /* 0x2BADB002 and the MBI address, or 0 and 0 */
    uint32_t image_low, image_high; /* physical bytes [low, high) the segments occupy */
};

/* Loads the image (and modules) into ram. Returns 0, or -1 with a one-line reason in err
 * (no trailing newline; RAM may be partly written). */
int loader_load(uint8_t *ram, uint32_t ram_size, const struct boot_params *p,
                struct boot_state *out, char *err, size_t errlen);

struct machine;

/* Loads the image into the machine's RAM (loader_load), then sets up the cpu as the boot
 * protocol says (machine_boot: flat protected mode at the entry point, EAX/EBX for Multiboot).
 * Returns 0, or -1 with a one-line reason in err. */
int machine_load(struct machine *m, const struct boot_params *p, char *err, size_t errlen);

#endif
