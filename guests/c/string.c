/* Guest: string instructions. memcpy (rep movsl + rep movsb), memset (rep stosl + rep stosb),
 * memmove (backwards with std; rep movsb; cld), memcmp (repe cmpsb), strlen and memchr
 * (repne scasb), all in inline assembly, checked byte by byte against plain C loops, for many
 * lengths and alignments; also the final ESI/EDI/ECX of each rep and DF after it.
 * These definitions replace the runtime's weak ones, so gcc's own calls use them too. */
#include "rt.h"

#define FL_DF 0x400u

/* End pointers of the last rep, for the register checks. */
static void *last_edi;
static const void *last_esi;

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    void *d = dst;
    const void *s = src;
    size_t words = n / 4, bytes = n % 4;
    __asm__ volatile("rep movsl\n\t"
                     "movl %3, %%ecx\n\t"
                     "rep movsb"
                     : "+D"(d), "+S"(s), "+c"(words)
                     : "g"(bytes)
                     : "memory");
    last_edi = d;
    last_esi = s;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    uint32_t v = (uint8_t)c * 0x01010101u;
    size_t words = n / 4, bytes = n % 4;
    __asm__ volatile("rep stosl\n\t"
                     "movl %3, %%ecx\n\t"
                     "rep stosb"
                     : "+D"(d), "+c"(words)
                     : "a"(v), "g"(bytes)
                     : "memory");
    last_edi = d;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    if ((uintptr_t)dst - (uintptr_t)src >= n) /* forward copy is safe (also dst < src) */
        return memcpy(dst, src, n);
    void *d = (char *)dst + n - 1;
    const void *s = (const char *)src + n - 1;
    size_t cnt = n;
    __asm__ volatile("std\n\t"
                     "rep movsb\n\t"
                     "cld"
                     : "+D"(d), "+S"(s), "+c"(cnt)
                     :
                     : "memory");
    last_edi = d;
    last_esi = s;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    size_t cnt = n;
    if (n == 0)
        return 0;
    /* Stops after the first difference (ZF = 0) or when ECX reaches 0. */
    __asm__ volatile("repe cmpsb" : "+S"(x), "+D"(y), "+c"(cnt) : : "memory", "cc");
    last_esi = x;
    last_edi = (void *)y;
    if (x[-1] == y[-1])
        return 0;
    return x[-1] < y[-1] ? -1 : 1;
}

size_t strlen(const char *s)
{
    const char *p = s;
    size_t cnt = (size_t)-1;
    __asm__ volatile("repne scasb" : "+D"(p), "+c"(cnt) : "a"(0) : "memory", "cc");
    return ~cnt - 1;
}

static void *memchr_scas(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    size_t cnt = n;
    unsigned char found;
    if (n == 0)
        return 0;
    __asm__ volatile("repne scasb\n\t"
                     "sete %2"
                     : "+D"(p), "+c"(cnt), "=q"(found)
                     : "a"(c)
                     : "memory", "cc");
    return found ? (void *)(p - 1) : 0;
}

static uint32_t read_eflags(void)
{
    uint32_t f;
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    return f;
}

#define BUF 2048u
static uint8_t src[BUF + 16], dst[BUF + 16], ref[BUF + 16];

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(xorshift32(&seed) >> 11);
}

/* Plain C reference: copy with overlap handled like memmove. */
static void ref_move(uint8_t *d, const uint8_t *s, size_t n)
{
    uint8_t tmp[BUF + 16];
    for (size_t i = 0; i < n; i++)
        tmp[i] = s[i];
    for (size_t i = 0; i < n; i++)
        d[i] = tmp[i];
}

static uint32_t differences(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint32_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += a[i] != b[i];
    return d;
}

static uint32_t sum_bytes(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = s * 31 + p[i];
    return s;
}

static const size_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 63, 64, 65, 255, 1000, 2000};

int kmain(const struct multiboot_info *mbi)
{
    (void)mbi;
    unsigned nlen = sizeof lengths / sizeof lengths[0];
    uint32_t bad = 0, bad_regs = 0;

    /* memcpy at every alignment pair 0..3 and every length. */
    for (unsigned so = 0; so < 4; so++)
        for (unsigned d_o = 0; d_o < 4; d_o++)
            for (unsigned li = 0; li < nlen; li++) {
                size_t n = lengths[li];
                fill(src, sizeof src, 7 + so + 4 * d_o + 16 * li);
                fill(dst, sizeof dst, 99);
                for (size_t i = 0; i < sizeof ref; i++)
                    ref[i] = dst[i];
                ref_move(ref + d_o, src + so, n);
                memcpy(dst + d_o, src + so, n);
                bad += differences(dst, ref, sizeof dst);
                bad_regs += last_edi != dst + d_o + n || last_esi != src + so + n;
            }
    check("memcpy wrong bytes", bad, 0);
    check("memcpy wrong end registers", bad_regs, 0);

    bad = bad_regs = 0;
    for (unsigned d_o = 0; d_o < 4; d_o++)
        for (unsigned li = 0; li < nlen; li++) {
            size_t n = lengths[li];
            int c = 0x80 + (int)(li * 5 + d_o);
            fill(dst, sizeof dst, 3 + li);
            for (size_t i = 0; i < sizeof ref; i++)
                ref[i] = dst[i];
            for (size_t i = 0; i < n; i++)
                ref[d_o + i] = (uint8_t)c;
            memset(dst + d_o, c, n);
            bad += differences(dst, ref, sizeof dst);
            bad_regs += last_edi != dst + d_o + n;
        }
    check("memset wrong bytes", bad, 0);
    check("memset wrong end register", bad_regs, 0);

    /* memmove within one buffer, overlapping both ways (backwards uses DF = 1). */
    bad = bad_regs = 0;
    static const int shifts[] = {-9, -4, -1, 1, 3, 4, 17};
    for (unsigned si = 0; si < sizeof shifts / sizeof shifts[0]; si++)
        for (unsigned li = 0; li < nlen; li++) {
            size_t n = lengths[li];
            uint8_t *from = dst + 20, *to = dst + 20 + shifts[si];
            fill(dst, sizeof dst, 11 + si);
            for (size_t i = 0; i < sizeof ref; i++)
                ref[i] = dst[i];
            if (n + 40 > BUF)
                n = BUF - 40;
            ref_move(ref + 20 + shifts[si], ref + 20, n);
            memmove(to, from, n);
            bad += differences(dst, ref, sizeof dst);
            if (shifts[si] > 0 && (size_t)shifts[si] < n) /* backwards: ends below the start */
                bad_regs += last_edi != to - 1 || last_esi != from - 1;
        }
    check("memmove wrong bytes", bad, 0);
    check("memmove wrong end registers", bad_regs, 0);
    check("DF after string ops", read_eflags() & FL_DF, 0);

    /* memcmp: equal buffers, then one byte changed at several places, both signs. */
    fill(src, BUF, 5);
    for (size_t i = 0; i < BUF; i++)
        dst[i] = src[i];
    bad = 0;
    bad += memcmp(src, dst, BUF) != 0;
    bad += memcmp(src, dst, 0) != 0;
    static const size_t pos[] = {0, 1, 2, 3, 100, 1023, BUF - 1};
    for (unsigned i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        size_t p = pos[i];
        uint8_t keep = dst[p];
        dst[p] = (uint8_t)(src[p] + 1);
        if (src[p] == 0xFF) /* no wrap: keep "dst bigger" true */
            dst[p] = 0xFF, src[p] = 0xFE;
        bad += memcmp(src, dst, BUF) != -1;
        bad += memcmp(dst, src, BUF) != 1;
        bad += last_esi != dst + p + 1 || last_edi != src + p + 1;
        bad += memcmp(src, dst, p) != 0;
        dst[p] = keep;
        src[p] = keep;
    }
    check("memcmp wrong results", bad, 0);

    /* strlen and memchr over strings of every length 0..300. */
    bad = 0;
    for (size_t n = 0; n <= 300; n++) {
        for (size_t i = 0; i < n; i++)
            src[i] = (uint8_t)('a' + i % 26);
        src[n] = 0;
        src[n + 1] = '#';
        bad += strlen((const char *)src) != n;
        bad += memchr_scas(src, 0, n + 2) != src + n;
        bad += memchr_scas(src, '#', n + 1) != 0;
        bad += memchr_scas(src, '#', n + 2) != src + n + 1;
        if (n > 25)
            bad += memchr_scas(src, 'z', n) != src + 25;
    }
    check("strlen/memchr wrong results", bad, 0);
    check("strlen(\"Ringside\")", strlen("Ringside"), 8);

    /* A struct copy: gcc emits the memcpy call (or rep movs) itself. */
    struct big {
        uint32_t w[37];
    } a, b;
    for (unsigned i = 0; i < 37; i++)
        a.w[i] = i * 0x01010101u;
    OPAQUE(a.w[0]);
    b = a;
    check("struct copy word 36", b.w[36], 36 * 0x01010101u);

    fill(src, BUF, 1234);
    memcpy(dst, src, BUF);
    memset(dst + 100, 0x5A, 333);
    memmove(dst + 50, dst + 40, 1000);
    memmove(dst + 1000, dst + 1010, 1000);
    check("final checksum", sum_bytes(dst, BUF), 0xFA7AA0ED);

    return rt_finish("string");
}
