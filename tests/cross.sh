#!/bin/sh
# codec/fp8.h built for other architectures and run there, against results
# computed on the host (tests/cross/check.c says what is checked):
#   ppc32-be   32-bit big-endian PowerPC (powerpc-linux-gnu-gcc), run under
#              qemu-user (qemu-ppc);
#   cortex-m3  no FPU, soft-float ABI, freestanding, linked without any
#              library (not even libgcc), run on QEMU's MPS2-AN385 board
#              with semihosting: pass/fail is the exit status;
#   rv32imc    bare metal (riscv64-unknown-elf-gcc): built and linked with
#              no library, not run.
# A mutant build (one result of fp8_e4m3_from_bf16 flipped on the target)
# must fail on each emulated target with that input named: the check can fail.
# Prints ok/FAIL/SKIPPED lines; a missing tool is SKIPPED, loudly.
set -u
out=${BUILD:-build}/cross
mkdir -p "$out"
CC=${CC:-gcc}
fail=0
say() { echo "$@"; }
have() { command -v "$1" >/dev/null 2>&1; }
WARN="-std=c99 -O2 -Wall -Wextra -Werror"
BARE="-ffreestanding -nostdlib -nostartfiles -fno-builtin -DCHECK_BAREMETAL"
CM3="-mcpu=cortex-m3 -mthumb -mfloat-abi=soft"
RV32="-march=rv32imc -mabi=ilp32"
SRC=tests/cross/check.c

# The host's results, as digests in a header.
if ! $CC $WARN -pedantic $SRC -o "$out/check-host" 2>"$out/host-build.log" ||
   ! "$out/check-host" gen >"$out/expected.h"; then
    say "FAIL cross: host generator:"; sed 's/^/     /' "$out/host-build.log" | head; exit 1
fi
n=$(sed -n 's/^#define CHECK_N_EXPECTED \([0-9]*\)u$/\1/p' "$out/expected.h")
say "ok   cross: host results computed: $n block digests"

# run ARCH LOG CMD...: run a target program, show its ok/FAIL/info lines
# (not the dumps), and on failure name the first differing input.
run() {
    arch=$1 log=$2; shift 2
    "$@" >"$log" 2>&1
    rc=$?
    sed '/^DUMP /,/^END$/d' "$log"
    if [ $rc -ne 0 ]; then
        "$out/check-host" explain "$arch" <"$log"
        grep -q '^FAIL' "$log" || say "FAIL $arch: exited with status $rc: $(tail -3 "$log" | tr '\n' ' ')"
        return 1
    fi
    return 0
}

# mutant ARCH LOG CMD...: the run must fail and name input 0x00003f81.
mutant() {
    arch=$1 log=$2; shift 2
    "$@" >"$log" 2>&1
    rc=$?
    named=$("$out/check-host" explain "$arch" <"$log" | grep -c 'fp8_e4m3_from_bf16: first differing input 0x00003f81')
    if [ $rc -ne 0 ] && [ "$named" = 1 ]; then
        say "ok   $arch: a deliberately wrong result fails the run (exit status $rc) and is named: input 0x00003f81"
    else
        say "FAIL $arch: the mutant build was not caught (exit status $rc, input named: $named)"; fail=1
    fi
}

# ---- 32-bit big-endian PowerPC under qemu-user ----
if have powerpc-linux-gnu-gcc && have qemu-ppc; then
    PPC="powerpc-linux-gnu-gcc $WARN -static -I$out -DCHECK_EXPECTED -DCHECK_ARCH=\"ppc32-be\""
    if $PPC $SRC -o "$out/check-ppc" 2>"$out/ppc-build.log" &&
       $PPC -DCHECK_MUTANT -DCHECK_SETS=3u $SRC -o "$out/mutant-ppc" 2>>"$out/ppc-build.log"; then
        run ppc32-be "$out/ppc.log" qemu-ppc "$out/check-ppc" || fail=1
        if grep -q '^info ppc32-be: byte order big-endian' "$out/ppc.log"; then
            say "ok   ppc32-be: the run was big-endian"
        else
            say "FAIL ppc32-be: the run did not report big-endian byte order"; fail=1
        fi
        mutant ppc32-be "$out/mutant-ppc.log" qemu-ppc "$out/mutant-ppc"
    else
        say "FAIL ppc32-be: build:"; sed 's/^/     /' "$out/ppc-build.log" | head -20; fail=1
    fi
else
    say "SKIPPED cross ppc32-be: needs powerpc-linux-gnu-gcc (gcc-powerpc-linux-gnu) and qemu-ppc (qemu-user)"
fi

# ---- Cortex-M3, no FPU, freestanding, on an emulated MPS2-AN385 ----
if have arm-none-eabi-gcc && have qemu-system-arm; then
    ARM="arm-none-eabi-gcc $WARN $CM3 $BARE -I$out -DCHECK_EXPECTED -DCHECK_ARCH=\"cortex-m3\" -T tests/cross/mps2-an385.ld"
    QEMU="qemu-system-arm -M mps2-an385 -cpu cortex-m3 -display none -monitor none -serial none
          -chardev stdio,id=sh -semihosting-config enable=on,target=native,chardev=sh -kernel"
    if $ARM $SRC tests/cross/baremetal.c -o "$out/check-cm3.elf" 2>"$out/cm3-build.log" &&
       $ARM -DCHECK_MUTANT -DCHECK_SETS=3u $SRC tests/cross/baremetal.c -o "$out/mutant-cm3.elf" 2>>"$out/cm3-build.log"; then
        say "ok   cortex-m3: built freestanding, linked with no library (text $(arm-none-eabi-size -A "$out/check-cm3.elf" | awk '$1==".text"{print $2}') bytes)"
        run cortex-m3 "$out/cm3.log" timeout 900 $QEMU "$out/check-cm3.elf" </dev/null || fail=1
        mutant cortex-m3 "$out/mutant-cm3.log" timeout 300 $QEMU "$out/mutant-cm3.elf" </dev/null
    else
        say "FAIL cortex-m3: build:"; sed 's/^/     /' "$out/cm3-build.log" | head -20; fail=1
    fi
else
    say "SKIPPED cross cortex-m3: needs arm-none-eabi-gcc (gcc-arm-none-eabi) and qemu-system-arm"
fi

# ---- rv32imc bare metal: build and link only ----
if have riscv64-unknown-elf-gcc; then
    if riscv64-unknown-elf-gcc $WARN $RV32 $BARE -I$out -DCHECK_EXPECTED -DCHECK_ARCH=\"rv32imc\" \
           -Wl,--no-warn-rwx-segments -T tests/cross/rv32.ld $SRC tests/cross/baremetal.c \
           -o "$out/check-rv32.elf" 2>"$out/rv32-build.log"; then
        say "ok   rv32imc: built freestanding and linked with no library (text $(riscv64-unknown-elf-size -A "$out/check-rv32.elf" | awk '$1==".text"{print $2}') bytes; not run)"
    else
        say "FAIL rv32imc: build:"; sed 's/^/     /' "$out/rv32-build.log" | head -20; fail=1
    fi
else
    say "SKIPPED cross rv32imc: needs riscv64-unknown-elf-gcc (gcc-riscv64-unknown-elf)"
fi
exit $fail
