#!/bin/sh
# The header compiles without warnings as C99, C11, C++11, C++17 (gcc and
# clang) and under nvcc, and freestanding (-ffreestanding -nostdlib
# -fno-builtin) into an object with no undefined symbols, at -O0 and -O2.
# Prints one ok/FAIL/SKIPPED line a configuration.
set -u
# SRC picks the file that uses the header (default: the codec's); each gets
# its own output folder.
src=${SRC:-tests/use_header.c}
out=${BUILD:-build}/compile/$(basename "$src" .c)
mkdir -p "$out"
WARN="-Wall -Wextra -Werror -pedantic -Wconversion -Wsign-conversion -Wshadow"
FREE="-ffreestanding -nostdlib -fno-builtin"
fail=0
check() { # name compiler-command...   (NOSYMS=0: skip the symbol check)
    name=$1; shift
    if "$@" >"$out/log" 2>&1; then
        undef= syms=
        if [ "${NOSYMS:-1}" = 1 ]; then undef=$(nm -u "$out/o.o"); syms=", no undefined symbols"; fi
        if [ -n "$undef" ]; then
            echo "FAIL compile $name: undefined symbols: $(echo $undef)"; fail=1
        else
            echo "ok   compile $name: no warnings$syms"
        fi
    else
        echo "FAIL compile $name:"; sed 's/^/     /' "$out/log" | head -20; fail=1
    fi
}
for cc in gcc clang; do
    if ! command -v $cc >/dev/null; then echo "SKIPPED compile with $cc: not installed"; continue; fi
    for std in c99 c11; do for O in -O0 -O2; do
        check "$cc -std=$std $O freestanding" $cc -std=$std $O $WARN $FREE -c -x c $src -o "$out/o.o"
    done; done
done
for cxx in g++ clang++; do
    if ! command -v $cxx >/dev/null; then echo "SKIPPED compile with $cxx: not installed"; continue; fi
    for std in c++11 c++17; do for O in -O0 -O2; do
        check "$cxx -std=$std $O freestanding" $cxx -std=$std $O $WARN $FREE -c -x c++ $src -o "$out/o.o"
    done; done
done
NVCC=${NVCC:-$(command -v nvcc || echo ${CUDA_HOME:-/usr/local/cuda}/bin/nvcc)}
if [ -x "$NVCC" ]; then
    for arch in "compute_90a,code=sm_90a" "compute_80,code=sm_80"; do
        NOSYMS=0 check "nvcc -std=c++11 $arch (host and device)" "$NVCC" -std=c++11 -gencode=arch=$arch -Werror all-warnings \
            -Xcompiler -Wall,-Wextra,-Werror -x cu -c $src -o "$out/o.o" -DUSE_HEADER_CUDA
    done
else
    echo "SKIPPED compile under nvcc: nvcc not found (set NVCC or CUDA_HOME)"
fi
exit $fail
