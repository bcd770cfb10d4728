#!/bin/sh
# The GEMM work of one call on a lent GPU machine (built binaries carried):
#   sh microbench/gemm/run_device.sh STEP...
# Steps: check (build/gemm --check), quick (sweeps/gemm_quick.txt with every
# tile variant), prefill (Llama-3.1-8B/70B layers x prefill token counts:
# the issue's targets), memcheck / racecheck (compute-sanitizer, small
# shapes), ncu (one FP8 and one BF16 launch at 8192^3), square (8192^3,
# every tile variant, 3 repetitions), square10 (8192^3, ours and cuBLASLt,
# 10 repetitions interleaved at random). Outputs go to $OUT;
# the summary table comes last.
set -u
O=${OUT:-/tmp/gemm-out}
mkdir -p "$O"
MT=${MIN_TIME:-0.1}
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv,noheader >"$O/gpu.txt" 2>&1
cat "$O/gpu.txt"
jsons=""
# clocks and power while the benchmarks run
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,temperature.gpu,clocks_event_reasons.active --format=csv -lms 1000 >"$O/smi.csv" 2>&1 &
smi=$!
for step in "$@"; do
    t0=$(date +%s)
    case $step in
    check)
        timeout 200 build/gemm --check >"$O/check.txt" 2>&1
        echo "check: exit $?" >>"$O/check.txt"
        grep -cE '^ok' "$O/check.txt" | sed 's/^/check ok lines: /'
        grep -E '^FAIL|^SKIPPED|^info|accuracy|exit|seed|error|rror' "$O/check.txt" | head -60 ;;
    quick)
        timeout 300 build/gemm --shapes=sweeps/gemm_quick.txt --variants=1 --benchmark_min_time="$MT" \
            --benchmark_filter='^(ceiling/|gemm/(fp8kit|cublaslt)/|gemm/fp8kit-[^/]+/(e4m3|bf16)/)' \
            --benchmark_out="$O/quick.json" --benchmark_out_format=json >"$O/quick.txt" 2>&1
        echo "quick: exit $?"; jsons="$jsons $O/quick.json" ;;
    prefill)
        grep -E '^llama3\.1-(8b|70b)' sweeps/layers.txt >/tmp/llama.txt
        timeout 400 build/gemm --shapes=/tmp/llama.txt --tokens=prefill --benchmark_min_time="$MT" \
            --benchmark_filter='^(ceiling/|gemm/(fp8kit|cublaslt)/(e4m3|bf16)/)' \
            --benchmark_out="$O/prefill.json" --benchmark_out_format=json >"$O/prefill.txt" 2>&1
        echo "prefill: exit $?"; jsons="$jsons $O/prefill.json" ;;
    square)
        printf 'square 8192 8192 8192\n' >/tmp/sq.txt
        timeout 200 build/gemm --shapes=/tmp/sq.txt --variants=1 --benchmark_min_time="$MT" --benchmark_repetitions=3 \
            --benchmark_report_aggregates_only=true --benchmark_filter='^gemm/(fp8kit[^/]*|cublaslt)/(e4m3|bf16)/' \
            --benchmark_out="$O/square.json" --benchmark_out_format=json >"$O/square.txt" 2>&1
        echo "square: exit $?"; jsons="$jsons $O/square.json" ;;
    square10)
        printf 'square 8192 8192 8192\n' >/tmp/sq.txt
        timeout 200 build/gemm --shapes=/tmp/sq.txt --benchmark_min_time="$MT" --benchmark_repetitions=10 \
            --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
            --benchmark_filter='^gemm/(fp8kit|cublaslt)/(e4m3|bf16)/' \
            --benchmark_out="$O/square10.json" --benchmark_out_format=json >"$O/square10.txt" 2>&1
        echo "square10: exit $?"; jsons="$jsons $O/square10.json" ;;
    memcheck|racecheck)
        shapes=small; [ "$step" = racecheck ] && shapes=tiny # racecheck is slow: two small shapes
        timeout ${SAN_TIMEOUT:-240} compute-sanitizer --tool "$step" --print-limit 20 build/gemm --check --check_shapes=$shapes \
            --check_impl=fp8kit >"$O/$step.txt" 2>&1
        echo "$step: exit $? ($(grep -c '^ok' "$O/$step.txt") checks ran)"
        grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|^FAIL|failed' "$O/$step.txt" | head ;;
    ncu)
        printf 'square 8192 8192 8192\n' >/tmp/sq.txt
        for dt in ${NCU_DT:-e4m3 bf16}; do
            timeout 200 ncu --clock-control none -k regex:gemm_wgmma_kernel -c 1 --section SpeedOfLight \
                --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis --section WarpStateStats \
                --section SchedulerStats --section LaunchStats build/gemm --shapes=/tmp/sq.txt \
                --benchmark_filter="^gemm/fp8kit/$dt/" --benchmark_min_time=0.01 >"$O/ncu_$dt.txt" 2>&1
            echo "ncu $dt: exit $?"
            grep -E 'SM Frequency|Duration|Compute \(SM\) Throughput|Memory Throughput|L2 Cache Throughput|Issue Slots Busy|No Eligible|Registers Per' "$O/ncu_$dt.txt" | head -12
        done ;;
    esac
    echo "[$step: $(( $(date +%s) - t0 )) s]"
done
kill $smi 2>/dev/null
awk -F', ' 'NR > 1 && $2 + 0 > 1000 { n++; c += $2; p += $3 } END { if (n) printf "under load: %d samples, mean SM clock %.0f MHz, mean power %.0f W\n", n, c / n, p / n }' "$O/smi.csv"
[ -n "$jsons" ] && python3 microbench/gemm/summarize.py $jsons 2>&1 | tee "$O/summary.txt"
exit 0
