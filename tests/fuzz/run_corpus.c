/* Runs a fuzz target's LLVMFuzzerTestOneInput on every file of the directories (or files)
 * named on the command line, as libFuzzer would, so that every build replays the seed corpus
 * as a ctest. Each input is handed over in a buffer of exactly its size (ASan sees a read past
 * its end). Exit status 0 when every input ran, 2 when a file could not be read or there was
 * none; a finding aborts. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_one(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        fprintf(stderr, "run_corpus: cannot read %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    long len = ftell(f);
    rewind(f);
    uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
    if (!buf || len < 0 || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "run_corpus: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    fprintf(stderr, "run_corpus: %s (%ld bytes)\n", path, len);
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    free(buf);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int ran = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "run_corpus: no %s\n", argv[i]);
            bad++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad += run_one(argv[i]) < 0;
            ran++;
            continue;
        }
        struct dirent **list;
        int n = scandir(argv[i], &list, NULL, NULL);
        if (n < 0) {
            fprintf(stderr, "run_corpus: cannot list %s\n", argv[i]);
            bad++;
            continue;
        }
        char **names = calloc((size_t)n + 1, sizeof *names);
        int k = 0;
        for (int j = 0; j < n; j++) {
            if (names && list[j]->d_name[0] != '.') {
                size_t l = strlen(argv[i]) + strlen(list[j]->d_name) + 2;
                names[k] = malloc(l);
                if (names[k])
                    snprintf(names[k++], l, "%s/%s", argv[i], list[j]->d_name);
            }
            free(list[j]);
        }
        free(list);
        if (names) {
            qsort(names, (size_t)k, sizeof *names, cmp_names);
            for (int j = 0; j < k; j++) {
                bad += run_one(names[j]) < 0;
                ran++;
                free(names[j]);
            }
            free(names);
        }
    }
    fprintf(stderr, "run_corpus: %d inputs\n", ran);
    return bad || !ran ? 2 : 0;
}
