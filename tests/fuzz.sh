#!/bin/sh
# libFuzzer differential fuzzing of codec/fp8.h and codec/fp8_quant.h
# (tests/fuzz/fuzz_codec.cpp) for FUZZ_SECONDS (default 40), under
# AddressSanitizer and UndefinedBehaviorSanitizer, growing the corpus in
# BUILD/fuzz/corpus. Then a mutant build (one wrong result planted) must be
# caught within 60 s: the target can fail. Prints ok/FAIL/SKIPPED lines.
set -u
out=${BUILD:-build}/fuzz
secs=${FUZZ_SECONDS:-40}
CUDA_INC=${CUDA_HOME:-/usr/local/cuda}/include
mkdir -p "$out/corpus" "$out/mutant-corpus"
CXX="clang++ -std=c++17 -O1 -g -march=native -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Wall -Wextra -Werror -I$CUDA_INC"
if ! command -v clang++ >/dev/null || ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*,unsigned long){return 0;}' |
        clang++ -fsanitize=fuzzer -x c++ - -o "$out/probe" 2>/dev/null; then
    echo "SKIPPED fuzz: clang++ with libFuzzer (-fsanitize=fuzzer: packages clang, libclang-rt-dev) not available"; exit 0
fi
if [ ! -f "$CUDA_INC/cuda_fp8.h" ]; then
    echo "SKIPPED fuzz: NVIDIA's cuda_fp8.h (the reference) not found under $CUDA_INC: set CUDA_HOME"; exit 0
fi
if ! $CXX tests/fuzz/fuzz_codec.cpp -o "$out/fuzz_codec" 2>"$out/build.log" ||
   ! $CXX -DFUZZ_MUTANT tests/fuzz/fuzz_codec.cpp -o "$out/fuzz_mutant" 2>>"$out/build.log"; then
    echo "FAIL fuzz: build:"; sed 's/^/     /' "$out/build.log" | head -30; exit 1
fi
fail=0
start=$(date +%s)
"$out/fuzz_codec" -max_total_time="$secs" -max_len=2048 -timeout=20 -artifact_prefix="$out/" "$out/corpus" >"$out/fuzz.log" 2>&1
rc=$?
ran=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/fuzz.log")
eps=$(sed -n 's/^fuzz_codec: \(.*\)/\1/p' "$out/fuzz.log" | head -1)
if [ $rc -eq 0 ] && [ -n "$ran" ]; then
    echo "ok   fuzz: ${ran} inputs in $(( $(date +%s) - start )) s, $eps, against NVIDIA's host code and the fuzz reference: no difference, no sanitizer report (corpus: $(ls "$out/corpus" | wc -l) inputs)"
else
    echo "FAIL fuzz: exit status $rc:"; grep -E 'MISMATCH|ERROR|SUMMARY|entry points|Test unit written' "$out/fuzz.log" | head -10 | sed 's/^/     /'
    fail=1
fi
# the mutant must be caught
rm -rf "$out/mutant-corpus"; mkdir -p "$out/mutant-corpus"
"$out/fuzz_mutant" -max_total_time=60 -max_len=64 -artifact_prefix="$out/mutant-" "$out/mutant-corpus" >"$out/mutant.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q '^MISMATCH fp8_e4m3_from_f32_bits' "$out/mutant.log"; then
    echo "ok   fuzz: a planted wrong result is found: $(grep -m1 '^MISMATCH' "$out/mutant.log")"
else
    echo "FAIL fuzz: the mutant build was not caught in 60 s (exit status $rc)"; fail=1
fi
exit $fail
