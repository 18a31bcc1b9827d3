#!/bin/sh
# Installs what Ringside needs to build and test on Debian 12, then exits.
# Idempotent: it only calls apt-get when a package is missing.
#   build-essential cmake pkg-config   the toolchain
#   gcc-multilib                       32-bit guests and the differential test's runner
#   libcapstone-dev libelf-dev         disassembly, ELF loading
#   libsdl2-dev                        the trace view
#   libsdl2-ttf-dev libsdl2-image-dev  the view's text (SDL2_ttf) and PNG screenshots (SDL2_image)
#   fonts-dejavu-core libfontconfig-dev  the view's font, DejaVu Sans Mono, found with fontconfig
#   xvfb xdotool imagemagick           the view's window test: a virtual X server, keys and
#                                      clicks, and `import`/`compare` to capture and diff it
#   libcmocka-dev                      unit tests
#   libzstd-dev                        compressed corpora and traces
#   nettle-dev                         trace files: SHA-256 of images
#   qemu-user                          qemu-i386: the differential oracle on hosts that cannot
#                                      run 32-bit programs
#   qemu-system-x86                    qemu-system-i386: guests/qemu-check.sh runs every guest
#                                      (irq_apic's LAPIC and I/O APIC too) on QEMU's PC
#   clang libclang-rt-14-dev llvm      the fuzz targets (libFuzzer, ASan, UBSan runtimes) and
#                                      their coverage (llvm-profdata, llvm-cov): scripts/fuzz.sh
#   gdb                                the debugger the gdb stub's tests drive (tests/gdb)
set -eu
PKGS="build-essential cmake pkg-config gcc-multilib libcapstone-dev libsdl2-dev libcmocka-dev
libelf-dev libzstd-dev qemu-user qemu-system-x86 clang libclang-rt-14-dev llvm
gdb nettle-dev libsdl2-ttf-dev libsdl2-image-dev fonts-dejavu-core
libfontconfig-dev xvfb xdotool imagemagick"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: updating the package lists (apt-get update)" >&2
    $SUDO apt-get update -qq
    echo "setup: installing$missing (a few minutes on a fresh machine)" >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    echo "setup: done" >&2
fi
