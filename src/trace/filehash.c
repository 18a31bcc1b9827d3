/* File digests for trace headers (see filehash.h). */
#include "trace/filehash.h"

#include "trace/tracefile.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool trace_file_path(const char *dir, const char *path, char *out, size_t len)
{
    int n = dir && path[0] != '/' ? snprintf(out, len, "%s/%s", dir, path)
                                  : snprintf(out, len, "%s", path);
    return n >= 0 && (size_t)n < len;
}

int trace_sha256_file(const char *path, uint8_t out[TRACE_SHA256_LEN], char *err,
                      size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "'%s' is not a regular file", path);
        close(fd);
        return -1;
    }
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    uint8_t buf[1 << 16];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        sha256_update(&ctx, (size_t)n, buf);
    }
    close(fd);
    sha256_digest(&ctx, TRACE_SHA256_LEN, out);
    return 0;
}

bool trace_files_unchanged(const struct trace_header *h, char *err, size_t errlen)
{
    for (size_t i = 0; i < h->nhashes; i++) {
        const char *what = i == 0 ? "image" : "module";
        uint8_t sum[TRACE_SHA256_LEN];
        char why[512];
        if (trace_sha256_file(h->hash_path[i], sum, why, sizeof why) < 0) {
            snprintf(err, errlen, "the recorded %s is missing: %s", what, why);
            return false;
        }
        if (memcmp(sum, h->hash[i], TRACE_SHA256_LEN) != 0) {
            snprintf(err, errlen, "the recorded %s '%s' has changed since the recording "
                     "(SHA-256 differs)", what, h->hash_path[i]);
            return false;
        }
    }
    return true;
}
