/* The replay driver: feeds each file named on the command line (or each regular file of each
 * directory named) to the fuzz target's LLVMFuzzerTestOneInput, as libFuzzer would, in name
 * order. Built with every target in every build (no clang needed), so that ctest replays the
 * seed corpus and every past crash reproducer. A target reports a finding by aborting (or
 * through the sanitizers); the driver prints which file it is about to run, so the ctest log
 * names the culprit. Exit status 0 when every input ran, 2 when a file or directory could not
 * be read or no input was found. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "replay: out of memory reading %s\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return -1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* libFuzzer hands the target a buffer of exactly the input's size: so does the driver,
     * so that ASan sees a read past the end. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, unsigned *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *names);
        size_t plen = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(plen);
        if (!nn || !p) {
            free(nn ? NULL : p);
            names = nn ? nn : names;
            rc = -1;
            break;
        }
        names = nn;
        snprintf(p, plen, "%s/%s", dir, e->d_name);
        names[n++] = p;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t k = 0; k < n; k++) {
        struct stat st;
        if (rc == 0 && stat(names[k], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[k]) != 0)
                rc = -1;
            else
                (*count)++;
        }
        free(names[k]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    for (int k = 1; k < argc; k++) {
        struct stat st;
        if (stat(argv[k], &st) != 0) {
            fprintf(stderr, "replay: no such file or directory: %s\n", argv[k]);
            return 2;
        }
        int rc = S_ISDIR(st.st_mode) ? run_dir(argv[k], &count)
                                     : (run_file(argv[k]) == 0 ? (count++, 0) : -1);
        if (rc != 0)
            return 2;
    }
    if (count == 0) {
        fprintf(stderr, "replay: no inputs\n");
        return 2;
    }
    printf("replay: %u inputs, no finding\n", count);
    return 0;
}
