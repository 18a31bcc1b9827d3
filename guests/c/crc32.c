/* Guest: CRC-32 of known strings and of a 64 KiB generated buffer, table-driven against
 * bitwise, in one pass and in pieces. Expected values from zlib.crc32() on the host. */
#include "crc32.h"
#include "rt.h"

#define BIG 65536u
static uint8_t big[BIG];

/* big[i] = top byte of the i-th xorshift32 output from seed 0x12345678. */
static void fill_big(void)
{
    uint32_t s = 0x12345678;
    for (uint32_t i = 0; i < BIG; i++)
        big[i] = (uint8_t)(xorshift32(&s) >> 24);
}

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    static const char digits[] = "123456789";
    static const char fox[] = "The quick brown fox jumps over the lazy dog";

    check("crc32(\"\")", crc32_update(0, "", 0), 0x00000000);
    check("crc32(\"a\")", crc32_update(0, "a", 1), 0xE8B7BE43);
    check("crc32(\"123456789\")", crc32_update(0, digits, 9), 0xCBF43926);
    check("crc32 bitwise(\"123456789\")", crc32_bitwise(0, digits, 9), 0xCBF43926);
    check("crc32(fox)", crc32_update(0, fox, sizeof fox - 1), 0x414FA339);

    fill_big();
    uint32_t whole = crc32_update(0, big, BIG);
    check("crc32(big)", whole, 0x0E1D8E82);
    check("crc32 bitwise(big)", crc32_bitwise(0, big, BIG), whole);

    /* The same buffer in pieces of 1, 2, ..., 361 bytes (uneven, crossing everything). */
    uint32_t crc = 0;
    uint32_t off = 0;
    for (uint32_t len = 1; off < BIG; len++) {
        uint32_t n = BIG - off < len ? BIG - off : len;
        crc = crc32_update(crc, big + off, n);
        off += n;
    }
    check("crc32(big, in pieces)", crc, whole);

    return rt_finish("crc32");
}
