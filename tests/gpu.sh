#!/bin/sh
# GPU tests: run when a GPU is present (CI has none: it builds the CUDA code
# and this group says SKIPPED). Prints ok/FAIL/SKIPPED lines.
set -u
B=${BUILD:-build}
if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    echo "SKIPPED gpu: no GPU on this machine (the CUDA code was built; run make test on a GPU machine)"
    exit 0
fi
fail=0
"$B/gpu_codec" || fail=1
"$B/gemm" --check || fail=1
"$B/quant" --check || fail=1
"$B/decode" --check || fail=1
# The whole decode step against a PyTorch forward of the same small model:
# the binary dumps weights, KV cache, inputs and outputs (and fails NaN/Inf
# itself); step_reference.py compares (it says SKIPPED where torch is missing).
d=$(mktemp -d)
"$B/decode_step" --check --check_dir="$d" || fail=1
python3 microbench/decode/step_reference.py --selftest || fail=1
python3 microbench/decode/step_reference.py "$d" || fail=1
# Attention's trace (the diagnostic build): every CTA stamps its points in
# the order the kernel passes them (FP8, batch 1, 4K, 16 splits: 128 CTAs,
# 8 of them merge).
if "$B/decode_trace" --attn_trace=e4m3:1:4096:16 >"$d/trace" 2>&1 && python3 - "$d/trace" <<'PY'
import re, sys
ev = {}
for line in open(sys.argv[1]):
    m = re.match(r"\s+(\d) .*? n\s+(\d+)\s+min\s+([\d.]+)\s+median\s+([\d.]+)\s+max\s+([\d.]+) us", line)
    if m: ev[int(m.group(1))] = (int(m.group(2)), float(m.group(3)), float(m.group(4)))
assert sorted(ev) == list(range(10)), ev
assert all(ev[e][0] == 128 for e in range(9)) and ev[9][0] == 8, ev
med = [ev[e][2] for e in range(10)]
assert med[0] <= med[1] <= min(med[2], med[3]) <= max(med[2], med[3]) <= med[4] <= med[5] <= med[6] <= med[7] <= med[8], med
assert ev[9][1] >= ev[8][1], ev
PY
then
    echo "ok   attention trace: 10 points from 128 CTAs, in order"
else
    echo "FAIL attention trace:"; cat "$d/trace"; fail=1
fi
# The GEMV's traces: chains of launches (the planner's plans: rows evenly,
# 8B o; tiles, 8B qkv at 16 tokens; split K, 70B qkv at 16 tokens in BF16) and one
# layer's four GEMVs inside the 8B step (tests/gemv_trace.py).
"$B/decode_trace" --gemv_trace=e4m3_a8:1:4096:4096,bf16:16:6144:4096,bf16:16:10240:8192 >"$d/gtrace" 2>&1 &&
    python3 tests/gemv_trace.py chain "$d/gtrace" --split || { cat "$d/gtrace"; fail=1; }
"$B/decode_step_trace" --quick --models=llama3.1-8b --configs=fp8w_fp8kv --benchmark_filter='llama3.1-8b/fp8w_fp8kv/b1_l4096' \
    --gemv_trace_layer=1 --benchmark_min_time=0.02 --benchmark_repetitions=1 >"$d/strace" 2>&1 &&
    python3 tests/gemv_trace.py step "$d/strace" || { cat "$d/strace"; fail=1; }
# The persistent GEMV chain's trace (gemv_chain.cuh): every GEMV's points in
# order, and no CTA sees X_{j+1} ready before the last CTA stored its share
# of it (the counter is the chain's only barrier)
if "$B/decode_trace" --gemv_chain_trace=e4m3_a8:1:4096,bf16:8:8192 >"$d/ctrace" 2>&1 && python3 - "$d/ctrace" <<'PY'
import re, sys
runs, cur = [], None
for line in open(sys.argv[1]):
    if re.match(r"(bf16|e4m3\w*) \d+x", line):
        cur = {}; runs.append(cur)
    m = re.match(r"\s+gemv (\d) (\d) .*?min\s+(-?[\d.]+)\s+median\s+(-?[\d.]+)\s+max\s+(-?[\d.]+) us", line)
    if m and cur is not None: cur[(int(m.group(1)), int(m.group(2)))] = tuple(float(m.group(i)) for i in (3, 4, 5))
assert len(runs) == 2, runs
for ev in runs:
    assert sorted(ev) == [(j, e) for j in range(8) for e in range(4)], sorted(ev)
    for j in range(8):
        med = [ev[(j, e)][1] for e in range(4)]
        assert med == sorted(med), (j, med)
    for j in range(7):
        assert ev[(j + 1, 0)][0] >= ev[(j, 3)][2], (j, ev[(j + 1, 0)], ev[(j, 3)])
PY
then
    echo "ok   gemv chain trace: 8 GEMVs' points in order, X_{j+1} seen ready after every CTA stored (W8A8 8B o, BF16 70B o at 8 tokens)"
else
    echo "FAIL gemv chain trace:"; cat "$d/ctrace"; fail=1
fi
rm -rf "$d"
# PyTorch's conversions, regenerated where torch is installed, must equal the
# committed tables that the CPU tests compare the codec with.
if python3 -c 'import torch' 2>/dev/null; then
    python3 tests/torch_ref.py "$B/torch.rle" && sh tests/same_tables.sh tests/ref/torch.rle "$B/torch.rle" || fail=1
else
    echo "SKIPPED torch tables: PyTorch not installed here"
fi
# A quick sweep end to end, into a scratch results folder, on the profile
# that matches this GPU.
prof=$(python3 - <<'PY'
import json, os, subprocess
name = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True).stdout.splitlines()[0]
for f in sorted(os.listdir("sweeps/gpus")):
    p = json.load(open("sweeps/gpus/" + f))
    if not p.get("plot_only") and any(m in name for m in p["match"]):
        print(p["name"]); break
PY
)
if [ -n "$prof" ]; then
    t=$(mktemp -d)
    if python3 sweeps/sweep.py --gpu "$prof" --quick --only ${SWEEP_TEST_ONLY:-quant} --results "$t" >"$t/log" 2>&1 \
       && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['benchmarks'] and d['context']['fp8kit']['ceilings']['copy_gbps'] > 0" "$t/$prof/${SWEEP_TEST_ONLY:-quant}.json"; then
        echo "ok   quick sweep end to end on $prof: ceilings measured, results written with provenance"
    else
        echo "FAIL quick sweep end to end on $prof:"; tail -20 "$t/log"; fail=1
    fi
    rm -rf "$t"
else
    echo "SKIPPED quick sweep: no profile in sweeps/gpus/ matches this GPU"
fi
exit $fail
