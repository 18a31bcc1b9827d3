# Helpers shared by the CLI test scripts: build tiny i386 guests with the host's binutils.
# Sourced, not run. Every file is made in the current directory.

# Skip (ctest SKIP_RETURN_CODE 77) when binutils cannot make i386 ELF files.
need_binutils() {
    command -v as >/dev/null && command -v ld >/dev/null && command -v nm >/dev/null ||
        { echo "as/ld/nm not found"; exit 77; }
}

# make_elf NAME TEXT_ADDR [MULTIBOOT] < assembly body
# Assembles the body after a _start label (and a Multiboot v1 header, flags 0, when MULTIBOOT is
# "mb") and links it at TEXT_ADDR.
make_elf() {
    local name=$1 addr=$2 mb=${3:-}
    {
        echo '.text'
        if [ "$mb" = mb ]; then
            echo '.align 4'
            echo '.long 0x1BADB002, 0, -0x1BADB002'
        fi
        echo '.globl _start'
        echo '_start:'
        cat
    } > "$name.s"
    as --32 -o "$name.o" "$name.s" && ld -m elf_i386 -Ttext="$addr" -e _start -o "$name" "$name.o" \
        || { echo "cannot build $name"; exit 1; }
}
