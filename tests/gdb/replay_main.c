/* Runs the fuzz target tests/fuzz/fuzz_gdbpacket.c without libFuzzer: every file named (or in
 * a directory named), each also cut short and with bytes flipped, and generated inputs: random
 * bytes, and random well-framed packets built from the commands the stub knows. A crash, a
 * sanitizer report or an abort() in the target fails the test; the last line counts inputs. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long runs;

/* A deterministic generator (xorshift), so a failure can be replayed. */
static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void run(const uint8_t *d, size_t n)
{
    LLVMFuzzerTestOneInput(d, n);
    runs++;
}

/* The input, then its halves and with bytes flipped. */
static void run_variants(const uint8_t *d, size_t n, uint32_t *seed)
{
    run(d, n);
    run(d, n / 2);
    uint8_t *c = malloc(n ? n : 1);
    if (!c)
        abort();
    for (int v = 0; v < 8 && n; v++) {
        memcpy(c, d, n);
        for (int f = 0; f < 3; f++)
            c[next(seed) % n] = (uint8_t)next(seed);
        run(c, n);
    }
    free(c);
}

static void run_file(const char *path, uint32_t *seed)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        exit(2);
    }
    uint8_t *buf = malloc(1 << 20);
    if (!buf)
        abort();
    size_t n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    run_variants(buf, n, seed);
    free(buf);
}

static void run_path(const char *path, uint32_t *seed)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path, seed);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        run_file(full, seed);
    }
    if (d)
        closedir(d);
}

/* A framed packet with a good checksum around data. */
static size_t frame(char *out, const char *data)
{
    unsigned sum = 0;
    for (const char *p = data; *p; p++)
        sum = (sum + (uint8_t)*p) & 0xFF;
    return (size_t)sprintf(out, "$%s#%02x", data, sum);
}

int main(int argc, char **argv)
{
    uint32_t seed = 0x2545F491u;
    for (int i = 1; i < argc; i++)
        run_path(argv[i], &seed);
    /* Random bytes. */
    uint8_t buf[512];
    for (int k = 0; k < 300; k++) {
        size_t n = next(&seed) % sizeof buf;
        for (size_t j = 0; j < n; j++)
            buf[j] = (uint8_t)next(&seed);
        run(buf, n);
    }
    /* Well-framed packets: known commands with random arguments. */
    static const char *const heads[] = {
        "g", "G", "p", "P", "m", "M", "Z", "z", "c", "s", "bs", "bc", "?", "H", "T", "qRcmd,",
        "qXfer:features:read:target.xml:", "qSupported", "D", "vKill", "qAttached",
    };
    static const char alphabet[] = "0123456789abcdefABCDEF,:=;-xz ";
    char data[300], pkts[4096];
    for (int k = 0; k < 400; k++) {
        size_t at = 0;
        for (int n = 0; n < 8; n++) {
            size_t len = (size_t)sprintf(data, "%s",
                                         heads[next(&seed) % (sizeof heads / sizeof *heads)]);
            size_t extra = next(&seed) % 40;
            for (size_t j = 0; j < extra; j++)
                data[len++] = alphabet[next(&seed) % (sizeof alphabet - 1)];
            data[len] = '\0';
            at += frame(pkts + at, data);
        }
        run((const uint8_t *)pkts, at);
    }
    printf("gdbpacket_generated: %lu inputs, no crash\n", runs);
    return 0;
}
