/* SHA-256 of the files a run is made of (the image and each module), for the trace header and
 * for replay's check that they have not changed. Nettle computes the digest. */
#ifndef RINGSIDE_FILEHASH_H
#define RINGSIDE_FILEHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/format.h"

/* The path a loader opens: path itself when absolute or dir is NULL, else dir/path. Returns
 * false when it does not fit in len. */
bool trace_file_path(const char *dir, const char *path, char *out, size_t len);

/* The SHA-256 of the file at path. Returns 0, or -1 with one line in err. */
int trace_sha256_file(const char *path, uint8_t out[TRACE_SHA256_LEN], char *err,
                      size_t errlen);

struct trace_header;
/* Whether every file the header hashed (image, then modules) is still there with the recorded
 * SHA-256. False with one line in err ("the recorded image is missing: ...", "the recorded
 * module '...' has changed since the recording (SHA-256 differs)"). */
bool trace_files_unchanged(const struct trace_header *h, char *err, size_t errlen);

#endif
