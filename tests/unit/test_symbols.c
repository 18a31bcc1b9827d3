/* The images' symbol tables (src/frontend/symbols.c) on the demo kernel and a program, with
 * the expected addresses taken from `nm`: a symbol's own address, an offset inside it, an
 * assembler label (sized zero) reaching to the next symbol, a user address found only in the
 * module the space is named after, and addresses nothing covers.
 *
 *   test_symbols GUESTS_DIR     (BUILD/guests: kernel.elf and user/hello.elf)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frontend/symbols.h"

static const char *guests;

/* The address nm gives name in file (under guests), and its size (0 when nm shows none). */
static uint32_t nm_addr(const char *file, const char *name, uint32_t *size)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "nm -S '%s/%s'", guests, file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512];
    uint32_t addr = 0;
    bool found = false;
    while (fgets(line, sizeof line, p)) {
        char a[32], b[32], c[32], d[256];
        int n = sscanf(line, "%31s %31s %31s %255s", a, b, c, d);
        if (n == 4 && strcmp(d, name) == 0) {
            addr = (uint32_t)strtoul(a, NULL, 16);
            *size = (uint32_t)strtoul(b, NULL, 16);
            found = true;
        } else if (n == 3 && strcmp(c, name) == 0) {
            addr = (uint32_t)strtoul(a, NULL, 16);
            *size = 0;
            found = true;
        }
    }
    pclose(p);
    if (!found)
        fail_msg("nm does not list %s in %s", name, file);
    return addr;
}

static void lookups(void **state)
{
    (void)state;
    const char *modules[] = { "user/hello.elf some args" };
    struct boot_params bp = { .image = "kernel.elf", .modules = modules, .nmodules = 1,
                              .dir = guests };
    struct symbols *s = symbols_load(&bp);
    assert_non_null(s);
    char buf[128];
    uint32_t size;

    uint32_t kmain = nm_addr("kernel.elf", "kmain", &size);
    assert_true(size > 8);
    assert_true(symbols_lookup(s, NULL, kmain, buf, sizeof buf));
    assert_string_equal(buf, "kmain");
    assert_true(symbols_lookup(s, "hello", kmain + 5, buf, sizeof buf));
    assert_string_equal(buf, "kmain+0x5");

    /* trap_return is a label in entry.S: no size, it reaches to the next symbol */
    uint32_t tr = nm_addr("kernel.elf", "trap_return", &size);
    assert_int_equal(size, 0);
    assert_true(symbols_lookup(s, NULL, tr + 0x14, buf, sizeof buf));
    assert_string_equal(buf, "trap_return+0x14");

    /* a user address: only in the module the space is named after */
    uint32_t main_ = nm_addr("user/hello.elf", "main", &size);
    assert_false(symbols_lookup(s, NULL, main_ + 2, buf, sizeof buf));
    assert_false(symbols_lookup(s, "spin", main_ + 2, buf, sizeof buf));
    assert_true(symbols_lookup(s, "hello", main_ + 2, buf, sizeof buf));
    assert_string_equal(buf, "main+0x2");

    /* nothing there */
    strcpy(buf, "untouched");
    assert_false(symbols_lookup(s, "hello", 0x10, buf, sizeof buf));
    assert_false(symbols_lookup(s, "hello", 0xFFFFF000u, buf, sizeof buf));
    assert_string_equal(buf, "untouched");
    symbols_free(s);

    /* a missing file contributes nothing; not an error */
    const char *missing[] = { "user/no-such.elf" };
    bp.modules = missing;
    s = symbols_load(&bp);
    assert_non_null(s);
    assert_false(symbols_lookup(s, "no-such", main_, buf, sizeof buf));
    symbols_free(s);
    assert_false(symbols_lookup(NULL, NULL, kmain, buf, sizeof buf));
}

/* The first byte objdump disassembles at addr in file. */
static unsigned objdump_byte(const char *file, uint32_t addr)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "objdump -d '%s/%s' --start-address=0x%x --stop-address=0x%x",
             guests, file, (unsigned)addr, (unsigned)addr + 1);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512];
    unsigned byte = 0x100;
    while (fgets(line, sizeof line, p)) {
        unsigned a, b;
        if (sscanf(line, " %x:\t%x", &a, &b) == 2 && a == addr)
            byte = b;
    }
    pclose(p);
    if (byte > 0xff)
        fail_msg("objdump shows no byte at 0x%x in %s", (unsigned)addr, file);
    return byte;
}

/* symbols_code: the bytes as the files hold them, the module chosen like the symbols. */
static void code_bytes(void **state)
{
    (void)state;
    const char *modules[] = { "user/hello.elf" };
    struct boot_params bp = { .image = "kernel.elf", .modules = modules, .nmodules = 1,
                              .dir = guests };
    struct symbols *s = symbols_load(&bp);
    assert_non_null(s);
    uint32_t size;
    uint32_t kmain = nm_addr("kernel.elf", "kmain", &size);
    uint32_t main_ = nm_addr("user/hello.elf", "main", &size);
    uint8_t b[16];
    assert_int_equal(symbols_code(s, NULL, kmain, b, sizeof b), sizeof b);
    assert_int_equal(b[0], objdump_byte("kernel.elf", kmain));
    assert_int_equal(symbols_code(s, NULL, main_, b, sizeof b), 0);
    assert_int_equal(symbols_code(s, "spin", main_, b, sizeof b), 0);
    assert_true(symbols_code(s, "hello", main_, b, sizeof b) > 0);
    assert_int_equal(b[0], objdump_byte("user/hello.elf", main_));
    assert_int_equal(symbols_code(s, "hello", 0xFFFFF000u, b, sizeof b), 0);
    symbols_free(s);
    assert_int_equal(symbols_code(NULL, NULL, kmain, b, sizeof b), 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_symbols GUESTS_DIR\n");
        return 2;
    }
    guests = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lookups),
        cmocka_unit_test(code_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
