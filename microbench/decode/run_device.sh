#!/bin/sh
# On the GPU machine: checks, then times the decode benchmarks and PyTorch's
# SDPA baseline, and prints the summary tables.
#   sh microbench/decode/run_device.sh OUTDIR [quick|full|check] [extra build/decode flags...]
# Writes OUTDIR/check.log, decode.json, bench.log, sdpa.json, sdpa.log.
set -u
OUT=${1:?usage: run_device.sh OUTDIR [quick|full|check] [flags]}
MODE=${2:-quick}
shift 2 2>/dev/null || shift $#
B=build/decode
mkdir -p "$OUT"
# cuBLASLt: the toolkit's, else the one PyTorch's wheels bring
if ldd "$B" | grep -q "not found"; then
    for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
             $(python3 -c 'import nvidia, os; [print(os.path.join(p, q, "lib")) for p in nvidia.__path__ for q in os.listdir(p)]' 2>/dev/null); do
        [ -e "$d/libcublasLt.so.13" ] && LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}" && export LD_LIBRARY_PATH && break
    done
fi
ldd "$B" | grep -E "cublasLt|benchmark"
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem,power.limit,temperature.gpu --format=csv,noheader

t0=$(date +%s)
timeout ${CHECK_TIMEOUT:-150} "$B" --check > "$OUT/check.log" 2>&1
echo "check: rc=$? $(grep -c '^ok' "$OUT/check.log") ok, $(grep -c '^FAIL' "$OUT/check.log") FAIL, $(grep -c '^SKIPPED' "$OUT/check.log") skipped, $(( $(date +%s) - t0 )) s"
grep -E '^(FAIL|SKIPPED|note)' "$OUT/check.log" | head -30
[ "$MODE" = check ] && exit 0

t0=$(date +%s)
Q=--quick
[ "$MODE" = full ] && Q=
timeout ${BENCH_TIMEOUT:-300} "$B" $Q --benchmark_min_time=0.05 --benchmark_out="$OUT/decode.json" --benchmark_out_format=json "$@" > "$OUT/bench.log" 2>&1
echo "bench: rc=$? $(( $(date +%s) - t0 )) s"
grep -iE "error|skip" "$OUT/bench.log" | head -20

t0=$(date +%s)
PYTHONUNBUFFERED=1 timeout ${SDPA_TIMEOUT:-150} python3 microbench/decode/sdpa_baseline.py $Q --out "$OUT/sdpa.json" > "$OUT/sdpa.log" 2>&1
echo "sdpa: rc=$? $(( $(date +%s) - t0 )) s"
grep -E '^FAIL|Error|error' "$OUT/sdpa.log" | head -5
python3 microbench/decode/summarize.py "$OUT/decode.json" "$OUT/sdpa.json"
