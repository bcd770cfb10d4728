#!/bin/sh
# One call on a lent GPU machine for GEMV tuning (built binaries carried):
#   sh microbench/decode/gemv_device.sh STEP...
# Steps:
#   check    build/decode --check --only=gemv
#   time     our GEMV (W8A16, W8A8, BF16) and cuBLASLt, Llama-3.1-8B/70B
#            layers, M = $TOKENS; with SHALLOW=n set, ours again with the
#            ring forced to n stages
#   variants our GEMV (W8A8, BF16; M = 1, 16; $GEMV_MODELS' layers, default
#            Llama-3.1-8B/70B) with forced k groups, splits and rows split
#            evenly over n CTAs an SM ($VARIANTS, e.g. k4,s2,k4s2,e1,k2e1)
#            against the planner's choice
#   nopdl    our GEMV again, launched without programmatic dependent launch
#   steptime the decode step, quick list (8B, 70B; batch 1, 16, 64)
#   gemm     our wgmma GEMM and cuBLASLt on the same layers and M (crossover)
#   ncu      FP8 GEMV launches (8B o, M = 16, W8A16 and W8A8): speed of light,
#            occupancy, stalls, CTAs an SM (min/max over SMs)
#   l2ncu    ours and cuBLASLt's at 32-64 tokens (70B qkv, o; BF16, W8A8):
#            L2, DRAM and tensor-pipe throughput (whether X multicast would pay)
#   step     build/decode_step --check and the PyTorch reference
#   checkall build/decode --check (GEMV, cuBLASLt and attention)
#   attn     our attention, BF16 and E4M3 KV, contiguous, batch 1-64, 1K-32K
#   stepnopdl the decode step's quick list with --pdl=0 and --pdl=gemv
#   attnncu  ncu on one attention launch (E4M3 and BF16 at batch 16 and 4K,
#            E4M3 at batch 1 and 32K): warp stalls by reason, pipes, issue
#   attnsplits our attention (BF16, E4M3; contiguous; 8B heads; batch 1, 4,
#            16; 4K, 16K) with forced context splits ($SPLITS)
#   stepomit the step (8B, 70B; BF16 and FP8 + FP8 KV; batch 1, 16; 4K)
#            with each kind of kernel left out in turn (--omit): what each
#            costs inside the step
#   gemvab   our GEMVs (W8A8, W8A16, BF16; Llama-3.1-8B/70B layers; M =
#            $TOKENS, default 1,16,24,32,48,64), $AB_A and $AB_B in turn,
#            twice (default build/decode_prev, an earlier commit's binary,
#            carried, and build/decode): fraction of copy and b's speed-up
#            per case, geometric means at M <= 16 and beyond
#   stepab   the step's quick list (or $STEP_ARGS, e.g. a filter), $AB_A
#            and $AB_B in turn, twice (default build/decode_step_prev, an
#            earlier commit's binary, carried, and build/decode_step); a/b >
#            1: b is faster
#   stepsplits the step's quick list at batch 1 (or what $BFILTER selects) with
#            the attention's context splits forced to each of $SPLITS
#            (default 0 8 24 32 0; 0: the planner's, first and last)
#   attnab   our attention (BF16, E4M3; $ATTN_MODELS' heads, default
#            llama3.1-8b; three layouts; batch 1, 4, 16, 64; 4K, 32K, or
#            the cases the regex $ATTN_CASES selects), the planner's and
#            $ATTN_VARIANTS (default w4,w8), with $AB_A and
#            $AB_B in turn, twice (default build/decode --attn_pdl=0 and
#            build/decode); the faster median of each variant kept; ratios
#            to the first command's planner
#   stepncu  every kernel of one Llama-3.1-8B step (batch 1, 4K; BF16 and
#            FP8 + FP8 KV) timed alone by ncu (gpu__time_duration), CSV
# RES=n: --gemv_min_resident=n for time and steptime.
# Outputs in $OUT/gemv.tgz (the device tool brings back 8 files at most);
# the summary tables last.
set -u
OUTER=${OUT:-/tmp/gemv-out}
O=$OUTER/gemv
mkdir -p "$O"
TOK=${TOKENS:-1,16,32,64}
SH=${SHALLOW:-}
MODELS=llama3.1-8b,llama3.1-70b
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.limit --format=csv,noheader
grep -E '^llama3\.1-(8b|70b)' sweeps/layers.txt >/tmp/llama.txt
jsons=""
# the medians of a decode_step log on one line: "8b/config/b1_l4096 2.95; ..."
medians() { grep -E '_median' "$1" | awk '{printf "%s %s; ", $1, $2}' | sed 's|decode_step/llama3.1-||g; s|/manual_time_median||g'; }
# $A and $B (commands, with any flags of their own) in turn, twice, each
# with the flags given, 3 repetitions: $O/<tag>_<a|b>_<run>.json
ab_runs() {
    tag=$1 tmo=$2
    shift 2
    for run in 1 2; do
        for v in a b; do
            [ $v = a ] && cmd=$A || cmd=$B
            # shellcheck disable=SC2086 # $cmd: a binary and its flags
            timeout "$tmo" $cmd "$@" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
                --benchmark_out="$O/${tag}_${v}_$run.json" --benchmark_out_format=json >"$O/${tag}_${v}_$run.log" 2>&1
            echo "$v ($cmd) run $run: rc=$?"
        done
    done
}
for step in "$@"; do
    t0=$(date +%s)
    case $step in
    check)
        timeout 200 build/decode --check --only=gemv >"$O/gemv_check.log" 2>&1
        echo "gemv check: rc=$? ok=$(grep -c '^ok' "$O/gemv_check.log") FAIL=$(grep -c '^FAIL' "$O/gemv_check.log")"
        grep -E '^FAIL' "$O/gemv_check.log" | head ;;
    time)
        timeout 200 build/decode --only=gemv --models=$MODELS --tokens="$TOK" --benchmark_min_time=0.05 \
            --benchmark_repetitions=3 --benchmark_report_aggregates_only=true ${RES:+--gemv_min_resident=$RES} \
            --benchmark_filter='^gemv/(fp8kit|cublaslt)/(e4m3_channel|e4m3_a8|bf16|e4m3_tensor)/' \
            --benchmark_out="$O/gemv.json" --benchmark_out_format=json >"$O/gemv.log" 2>&1
        echo "time: rc=$?"
        [ -n "$SH" ] && timeout 120 build/decode --only=gemv --models=$MODELS --tokens="$TOK" --benchmark_min_time=0.05 \
            --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --gemv_stages="$SH" \
            --benchmark_filter='^gemv/fp8kit/(e4m3_channel|bf16)/' \
            --benchmark_out="$O/gemv_shallow.json" --benchmark_out_format=json >"$O/gemv_shallow.log" 2>&1
        [ -n "$SH" ] && echo "time (stages=$SH): rc=$?"
        jsons="$jsons $O/gemv.json" ;;
    nopdl)
        timeout 150 build/decode --only=gemv --models=$MODELS --tokens="$TOK" --benchmark_min_time=0.05 \
            --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --gemv_pdl=0 \
            --benchmark_filter='^gemv/fp8kit/(e4m3_channel|e4m3_a8|bf16)/' \
            --benchmark_out="$O/gemv_nopdl.json" --benchmark_out_format=json >"$O/gemv_nopdl.log" 2>&1
        echo "nopdl: rc=$?"
        python3 microbench/decode/summarize.py "$O/gemv_nopdl.json" 2>&1 | head -40 >"$O/summary_nopdl.txt" ;;
    steptime)
        timeout 200 build/decode_step --quick --benchmark_min_time=0.02 --benchmark_repetitions=3 ${RES:+--gemv_min_resident=$RES} \
            --benchmark_report_aggregates_only=true \
            --benchmark_out="$O/step.json" --benchmark_out_format=json >"$O/step.log" 2>&1
        echo "steptime: rc=$?"
        grep -E '_median' "$O/step.log" | awk '{print $1, $2, $3}' | sed 's|/manual_time_median||' ;;
    variants)
        timeout 300 build/decode --only=gemv --models=${GEMV_MODELS:-$MODELS} --tokens=1,16 --benchmark_min_time=0.03 \
            --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
            --gemv_variants="${VARIANTS:-k1,k2,k4,k1s1,k4s1,s2,s4}" \
            --benchmark_filter='^gemv/fp8kit[-kse0-9]*/(e4m3_a8|bf16)/' \
            --benchmark_out="$O/variants.json" --benchmark_out_format=json >"$O/variants.log" 2>&1
        echo "variants: rc=$?"
        python3 microbench/decode/summarize.py "$O/variants.json" 2>&1 | sed -n '/GEMV tuning/,$p' | tee "$O/variants.txt" ;;
    gemm)
        timeout 150 build/gemm --shapes=/tmp/llama.txt --tokens="$TOK" --benchmark_min_time=0.05 \
            --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
            --benchmark_filter='^gemm/(fp8kit|cublaslt)/(e4m3|bf16)/' \
            --benchmark_out="$O/gemm.json" --benchmark_out_format=json >"$O/gemm.log" 2>&1
        echo "gemm: rc=$?" ;;
    ncu)
        for c in "gemv/fp8kit/e4m3_channel/16x4096x4096" "gemv/fp8kit/e4m3_a8/16x4096x4096"; do
            f=$(echo "$c" | tr '/' '_')
            timeout 120 ncu --clock-control none -k regex:gemv_kernel -s 5 -c 1 --section SpeedOfLight \
                --section Occupancy --section LaunchStats --section WarpStateStats --section SchedulerStats \
                --metrics sm__ctas_launched.min,sm__ctas_launched.max,sm__ctas_launched.sum,sm__cycles_active.min,sm__cycles_active.max,sm__cycles_active.avg,dram__bytes_read.sum,gpu__time_duration.sum \
                build/decode --only=gemv --models=$MODELS --tokens=1,16 --benchmark_filter="^$c/" \
                --benchmark_min_time=0.01 >"$O/ncu_$f.txt" 2>&1
            echo "== ncu $c rc=$?"
            grep -E 'sm__|dram__bytes|gpu__time|Duration|DRAM Throughput|Registers Per|Achieved Occupancy|Theoretical Occupancy|Block Limit|Issue Slots Busy|No Eligible|Dynamic Shared|Warp Cycles Per Issued|Cluster|Waves' "$O/ncu_$f.txt" | head -30
        done ;;
    l2ncu)
        # what binds at 32-64 tokens (NOTES.md Next 00): L2 and tensor-pipe
        # throughput of our GEMV and cuBLASLt's kernel on 70B qkv and o
        for c in "gemv/fp8kit/bf16/64x10240x8192" "gemv/cublaslt/bf16/64x10240x8192" \
                 "gemv/fp8kit/e4m3_a8/64x10240x8192" "gemv/cublaslt/e4m3_tensor/64x10240x8192" \
                 "gemv/fp8kit/bf16/32x8192x8192" "gemv/cublaslt/bf16/32x8192x8192"; do
            f=$(echo "$c" | tr '/' '_')
            timeout 120 ncu --clock-control none -k regex:'gemv_kernel|nvjet|sm90|gemm|splitK' -s 5 -c 1 \
                --section SpeedOfLight --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis \
                --section LaunchStats --metrics lts__t_bytes.sum,dram__bytes_read.sum,gpu__time_duration.sum \
                build/decode --only=gemv --models=llama3.1-70b --tokens=32,64 --benchmark_filter="^$c/" \
                --benchmark_min_time=0.01 >"$O/l2ncu_$f.txt" 2>&1
            echo "== ncu $c rc=$?"
            grep -E 'Function Name|  [a-z_]+.*\(|lts__t_bytes|dram__bytes|gpu__time|Duration|DRAM Throughput|L2 Cache Throughput|L1/TEX Cache Throughput|Compute \(SM\) Throughput|Memory Throughput|Max Bandwidth|L2 Hit Rate|Mem Busy|Mem Pipes Busy|Issue Slots Busy|Grid Size|Cluster Size|Dynamic Shared' "$O/l2ncu_$f.txt" | head -30
        done ;;
    checkall)
        timeout 240 build/decode --check >"$O/check_all.log" 2>&1
        echo "decode check: rc=$? ok=$(grep -c '^ok' "$O/check_all.log") FAIL=$(grep -c '^FAIL' "$O/check_all.log")"
        grep -E '^FAIL' "$O/check_all.log" | head ;;
    attn)
        timeout 200 build/decode --benchmark_min_time=0.02 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
            --benchmark_filter='^attn_decode/fp8kit/(bf16|e4m3)/b(1|4|16|64)_l(1024|4096|16384|32768)_hq(32|64)_hkv8_d128_contig' \
            --benchmark_out="$O/attn.json" --benchmark_out_format=json >"$O/attn.log" 2>&1
        echo "attn: rc=$?"
        python3 microbench/decode/summarize.py "$O/attn.json" 2>&1 | sed -n '/attention decode/,$p' | tee "$O/attn.txt" ;;
    stepnopdl)
        for mode in 0 gemv; do
            timeout 200 build/decode_step --quick --benchmark_min_time=0.02 --benchmark_repetitions=3 --pdl=$mode \
                --benchmark_report_aggregates_only=true \
                --benchmark_out="$O/step_pdl$mode.json" --benchmark_out_format=json >"$O/step_pdl$mode.log" 2>&1
            echo "step --pdl=$mode: rc=$?"
            grep -E '_median' "$O/step_pdl$mode.log" | awk '{print $1, $2, $3}' | sed 's|/manual_time_median||'
        done ;;
    stepomit)
        for om in none norm qkv rope attn quant o gate_up silu down head; do
            timeout 120 build/decode_step --quick --benchmark_min_time=0.02 --benchmark_repetitions=3 \
                --configs=bf16w_bf16kv,fp8w_fp8kv $( [ $om != none ] && echo --omit=$om ) \
                --benchmark_filter='/b(1|16)_l4096/' --benchmark_report_aggregates_only=true >"$O/step_omit_$om.log" 2>&1
            echo "omit=$om rc=$? $(medians "$O/step_omit_$om.log")"
        done ;;
    stepab)
        A=${AB_A:-build/decode_step_prev}; B=${AB_B:-build/decode_step}
        # shellcheck disable=SC2086 # $STEP_ARGS: words
        ab_runs ab 200 ${STEP_ARGS:---quick} --benchmark_min_time=0.02
        python3 - "$O" <<'PY'
import json, sys, collections
O = sys.argv[1]
t = collections.defaultdict(dict)
for run in (1, 2):
    for v in ("a", "b"):
        for r in json.load(open(f"{O}/ab_{v}_{run}.json"))["benchmarks"]:
            if r.get("aggregate_name") == "median":
                t[r["run_name"].replace("/manual_time", "")].setdefault(v, []).append(r["real_time"])
for n, x in t.items():
    a, b = min(x["a"]), min(x["b"])
    print(f"{n:45s} a {a:8.3f} b {b:8.3f} ms  a/b {a / b:.3f}x")
PY
        ;;
    gemvab)
        A=${AB_A:-build/decode_prev}; B=${AB_B:-build/decode}
        ab_runs gab 150 --only=gemv --models=$MODELS --tokens="${TOKENS:-1,16,24,32,48,64}" \
            --benchmark_filter='^gemv/fp8kit/(e4m3_a8|bf16|e4m3_channel)/' --benchmark_min_time=0.05
        python3 - "$O" <<'PY'
import json, sys, collections, math
O = sys.argv[1]
t = collections.defaultdict(dict)
for run in (1, 2):
    for v in ("a", "b"):
        try: rows = json.load(open(f"{O}/gab_{v}_{run}.json"))["benchmarks"]
        except (OSError, ValueError) as e: print(f"{v} run {run}: no results ({e})"); continue
        for r in rows:
            if r.get("aggregate_name") == "median":
                t[r["run_name"].replace("/manual_time", "")].setdefault(v, []).append((r["real_time"], r["frac_copy"]))
small, large = [], []
for n, x in sorted(t.items()):
    if "a" not in x or "b" not in x: continue
    a, b = min(x["a"]), min(x["b"])
    (small if int(n.split("/")[3].split("x")[0]) <= 16 else large).append(a[0] / b[0])
    print(f"{n:50s} a {a[1]:.3f} b {b[1]:.3f} of copy  a/b {a[0] / b[0]:.3f}x")
for what, r in (("M <= 16", small), ("M > 16", large)):
    if r: print(f"{what}: n={len(r)} geometric mean {math.exp(sum(map(math.log, r)) / len(r)):.3f}x, {min(r):.3f}-{max(r):.3f}x")
PY
        ;;
    stepsplits)
        for ns in ${SPLITS:-0 8 24 32 0}; do
            timeout 120 build/decode_step --quick --benchmark_min_time=0.02 --benchmark_repetitions=3 --attn_splits=$ns \
                --benchmark_filter="${BFILTER:-/b1_l}" --benchmark_report_aggregates_only=true >"$O/step_splits_$ns.log" 2>&1
            echo "splits=$ns rc=$? $(medians "$O/step_splits_$ns.log")"
        done ;;
    attnncu)
        for c in e4m3/b16_l4096 bf16/b16_l4096 e4m3/b1_l32768; do
            f=$(echo "$c" | tr '/' '_')
            timeout 120 ncu --clock-control none -k regex:attn_decode -s 3 -c 1 --section SpeedOfLight \
                --section SchedulerStats --section WarpStateStats --section InstructionStats \
                --metrics 'regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$',sm__inst_executed_pipe_tensor_op_hmma.avg.pct_of_peak_sustained_active,sm__pipe_alu_cycles_active.avg.pct_of_peak_sustained_active,sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_xu.avg.pct_of_peak_sustained_active \
                build/decode --only=attn --models=llama3.1-8b --benchmark_min_time=0.01 \
                --benchmark_filter="^attn_decode/fp8kit/${c}_hq32_hkv8_d128_contig" >"$O/ncu_attn_$f.txt" 2>&1
            echo "== ncu attention $c rc=$?"
            grep -E 'stalled|Duration|DRAM Throughput|Issue Slots Busy|Executed Ipc A|No Eligible|Eligible Warps|hmma|pipe_(alu|fma|xu)|Warp Cycles Per Issued' \
                "$O/ncu_attn_$f.txt" | awk '{$1 = $1; print}' | awk '$NF != "0" && $NF != "0.00"' | head -40
        done ;;
    attnsplits)
        timeout 200 build/decode --only=attn --models=llama3.1-8b --benchmark_min_time=0.02 --benchmark_repetitions=3 \
            --benchmark_report_aggregates_only=true --attn_variants="${SPLITS:-s4,s8,s16,s32,s64}" \
            --benchmark_filter='^attn_decode/fp8kit[-s0-9]*/(bf16|e4m3)/b(1|4|16)_l(4096|16384)_hq32_hkv8_d128_contig' \
            --benchmark_out="$O/attn_splits.json" --benchmark_out_format=json >"$O/attn_splits.log" 2>&1
        echo "attnsplits: rc=$?"
        grep -E '_median' "$O/attn_splits.log" | sed 's|/manual_time_median||' |
            awk '{s = $1 " " $2; for (i = 3; i <= NF; i++) if ($i ~ /^(gbps|splits)=/) s = s " " $i; print s}' | sort ;;
    attnab)
        A=${AB_A:-build/decode --attn_pdl=0}; B=${AB_B:-build/decode}
        for run in 1 2; do
            for v in a b; do
                [ $v = a ] && cmd=$A || cmd=$B
                timeout 150 $cmd --only=attn --models=${ATTN_MODELS:-llama3.1-8b} --benchmark_min_time=0.02 --benchmark_repetitions=3 \
                    --benchmark_report_aggregates_only=true --attn_variants="${ATTN_VARIANTS:-w4,w8}" \
                    --benchmark_filter="^attn_decode/fp8kit[-swp0-9]*/(bf16|e4m3)/${ATTN_CASES:-b(1|4|16|64)_l(4096|32768)_}" \
                    --benchmark_out="$O/attnab_${v}_$run.json" --benchmark_out_format=json >"$O/attnab_${v}_$run.log" 2>&1
                echo "$v ($cmd) run $run: rc=$?"
            done
        done
        python3 - "$O" <<'PY' | tee "$O/attnab.txt"
import json, sys, collections, re
O = sys.argv[1]
t = collections.defaultdict(dict)  # case -> {(binary, impl): us}
for run in (1, 2):
    for v in ("a", "b"):
        for r in json.load(open(f"{O}/attnab_{v}_{run}.json"))["benchmarks"]:
            if r.get("aggregate_name") != "median":
                continue
            m = re.match(r"attn_decode/([\w-]+)/(.*)/manual_time$", r["run_name"])
            k = (v, m.group(1))
            t[m.group(2)][k] = min(t[m.group(2)].get(k, 1e30), r["real_time"])
            if m.group(1) == "fp8kit":
                t[m.group(2)][("w", v)] = r["counters"].get("warps", 0) if "counters" in r else r.get("warps", 0)
cols = sorted({k for x in t.values() for k in x if k[0] in "ab"})
print("us; the planner's warps in []; a/b ratios against a/fp8kit (>1: faster)")
print("%-40s %s" % ("case", " ".join("%14s" % ("%s/%s" % k) for k in cols)))
for n in sorted(t):
    x = t[n]
    base = x.get(("a", "fp8kit"))
    print("%-40s %s [%d]" % (n, " ".join("%7.2f %5.3fx" % (x[k], base / x[k]) if k in x and base else "%14s" % "-" for k in cols),
                             x.get(("w", "a"), 0)))
PY
        ;;
    stepncu)
        for cfg in bf16w_bf16kv fp8w_fp8kv; do
            timeout 150 ncu --clock-control none --cache-control none --csv --metrics gpu__time_duration.sum \
                -k 'regex:rmsnorm|gemv|attn|rope|silu|quant_rows|gemm' -c 400 \
                build/decode_step --models=llama3.1-8b --configs=$cfg --benchmark_filter='/b1_l4096/' \
                --benchmark_min_time=0.001 --benchmark_repetitions=1 >"$O/stepncu_$cfg.csv" 2>"$O/stepncu_$cfg.err"
            echo "stepncu $cfg: rc=$? $(grep -c gpu__time_duration "$O/stepncu_$cfg.csv") kernels"
        done
        python3 microbench/decode/step_kernels.py "$O"/stepncu_*.csv | tee "$O/stepncu.txt" ;;
    step)
        d=$(mktemp -d)
        timeout 200 build/decode_step --check --check_dir="$d" >"$O/step_check.log" 2>&1
        echo "step check: rc=$? ok=$(grep -c '^ok' "$O/step_check.log") FAIL=$(grep -c '^FAIL' "$O/step_check.log")"
        timeout 200 python3 microbench/decode/step_reference.py "$d" >>"$O/step_check.log" 2>&1
        echo "step reference: rc=$? ok=$(grep -c '^ok' "$O/step_check.log") FAIL=$(grep -c '^FAIL' "$O/step_check.log")"
        grep -E '^FAIL' "$O/step_check.log" | head ;;
    esac
    echo "[$step: $(( $(date +%s) - t0 )) s]"
done
[ -n "$jsons" ] && python3 microbench/decode/summarize.py $jsons 2>&1 | head -40 | tee "$O/summary.txt"
[ -f "$O/gemv_shallow.json" ] && python3 microbench/decode/summarize.py "$O/gemv_shallow.json" 2>&1 | head -30 | tee "$O/summary_shallow.txt"
tar -czf "$OUTER/gemv.tgz" -C "$OUTER" gemv && rm -rf "$O"
exit 0
