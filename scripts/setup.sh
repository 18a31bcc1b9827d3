#!/bin/sh
# Installs what Ringside needs to build and test on Debian 12, then exits.
# Idempotent: it only calls apt-get when a package is missing.
set -eu
PKGS="build-essential cmake pkg-config gcc-multilib libcapstone-dev libsdl2-dev libcmocka-dev libelf-dev"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
