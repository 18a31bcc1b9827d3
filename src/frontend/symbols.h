/* The symbol tables of the images a run loaded (the kernel or program image and each
 * Multiboot module), read with libelf, so that the log can print an address as
 * `symbol+offset`. A frontend object: the core never sees it.
 *
 * An address is looked up in the image first, then in the module whose name (its file's base
 * name without ".elf", as the demo kernel names its processes) is the name the guest gave the
 * address space (machine/spaces.h): every demo program is linked at the same address, and the
 * space says which one is running. Function and object symbols count; an address inside a
 * symbol's size, or after a sized-zero symbol up to the next one in the same section, is
 * `name+0xOFF` (`name` at offset 0).
 */
#ifndef RINGSIDE_SYMBOLS_H
#define RINGSIDE_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frontend/loader.h"

struct symbols;

/* Reads the symbol tables of p's image and modules (a file without one contributes nothing).
 * Returns NULL only when out of memory. */
struct symbols *symbols_load(const struct boot_params *p);
void symbols_free(struct symbols *s);

/* addr as "name+0x12" into buf: in the image, else in the module called module (may be
 * NULL). Returns false, buf untouched, when no symbol covers it. */
bool symbols_lookup(const struct symbols *s, const char *module, uint32_t addr, char *buf,
                    size_t len);

/* The file bytes of the image (else of module) at addr, from a loadable segment: up to len
 * of them into buf. Returns how many (0: none there). What the guest did to its memory since
 * is not seen: these are the bytes as loaded. */
size_t symbols_code(const struct symbols *s, const char *module, uint32_t addr, uint8_t *buf,
                    size_t len);

#endif
