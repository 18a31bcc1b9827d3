/* Fuzz target: the ELF32 / Multiboot v1 loader (src/frontend/loader.c) on hostile images.
 *
 * Input: one control byte, then the image file.
 *   control bit 0     an --append string is given
 *   control bits 1-2  0..3 modules (each is the image file again, with an argument string)
 *   control bit 3     4 MiB of RAM instead of 2 MiB
 * The image lives in an anonymous memory file (memfd), named by /proc/self/fd/N, so a run
 * touches no disk. Properties: loader_load returns 0 or -1; -1 comes with a one-line reason
 * (no newline); 0 reports an image inside RAM (image_low <= image_high <= RAM size) and, for
 * Multiboot, EAX = 0x2BADB002 and an information block inside low memory. The sanitizers
 * watch every read of the file's structures and every write into RAM. RINGSIDE_FUZZ_VERBOSE=1
 * prints what the loader said about each input. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frontend/loader.h"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_loader: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned control = data[0];
    data++;
    size--;
    int fd = memfd_create("fuzz_image", 0);
    if (fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return 0;
        }
        done += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char mods[3][96];
    const char *modp[3];
    size_t nmods = (control >> 1) & 3;
    for (size_t k = 0; k < nmods && k < 3; k++) {
        snprintf(mods[k], sizeof mods[k], "%s module%zu arg", path, k);
        modp[k] = mods[k];
    }
    uint32_t ram_size = (control & 8) ? 4u << 20 : 2u << 20;
    uint8_t *ram = calloc(1, ram_size);
    if (!ram) {
        close(fd);
        return 0;
    }
    struct boot_params p = {
        .image = path,
        .append = (control & 1) ? "console=ttyS0 fuzz" : NULL,
        .modules = modp,
        .nmodules = nmods,
    };
    struct boot_state st;
    char err[256];
    err[0] = '\0';
    int rc = loader_load(ram, ram_size, &p, &st, err, sizeof err);
    if (getenv("RINGSIDE_FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz_loader: %s\n", rc == 0 ? "loaded" : err);
    if (rc == 0) {
        if (st.image_low > st.image_high || st.image_high > ram_size)
            fail("the loaded image lies outside RAM");
        if (st.multiboot && (st.eax != MB_BOOT_MAGIC || st.ebx < MB_INFO_LOW ||
                             st.ebx + MBI_SIZE > MB_INFO_HIGH))
            fail("a Multiboot hand-over without its magic or information block");
    } else if (rc == -1) {
        if (err[0] == '\0' || strchr(err, '\n'))
            fail("a refused image without a one-line reason");
    } else {
        fail("loader_load returned neither 0 nor -1");
    }
    free(ram);
    close(fd);
    return 0;
}
