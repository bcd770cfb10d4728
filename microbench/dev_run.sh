#!/bin/sh
# One call on a lent GPU machine: the checks of the decode, decode-step and
# quantization binaries; only if they all pass, the sweep of the families
# named in $FAMILIES into $OUT/results (QUICK=1 for the quick lists). Built
# binaries are carried; logs go to $OUT; check summaries print first.
# DEVICES=0,1 spreads the families over two GPUs.
set -u
O=${OUT:-/tmp/dev-out}
mkdir -p "$O"
nvidia-smi --query-gpu=name,clocks.sm,power.limit --format=csv,noheader
fail=0
chk() { echo "$1: rc=$2 ok=$(grep -c '^ok' "$3") FAIL=$(grep -c '^FAIL' "$3") SKIPPED=$(grep -c '^SKIPPED' "$3")";
        grep -E '^FAIL' "$3" | head -8; [ "$2" = 0 ] && ! grep -q '^FAIL' "$3" || fail=1; }
timeout 240 build/decode --check >"$O/checks.log" 2>&1; chk decode-check $? "$O/checks.log"
d=$(mktemp -d)
timeout 200 build/decode_step --check --check_dir="$d" >"$O/step_check.log" 2>&1; chk step-check $? "$O/step_check.log"
timeout 200 python3 microbench/decode/step_reference.py "$d" >>"$O/step_check.log" 2>&1; chk step-reference $? "$O/step_check.log"
grep -E '^(ok|FAIL)' "$O/step_check.log" | sed 's/^/  /' | head -40
timeout 200 build/quant --check >"$O/quant_check.log" 2>&1; r=$?; echo "quant-check rc=$r"; grep -vE '^ok' "$O/quant_check.log" | head -5
[ $r = 0 ] || fail=1
cat "$O/step_check.log" >>"$O/checks.log"; cat "$O/quant_check.log" >>"$O/checks.log"; rm -f "$O/step_check.log" "$O/quant_check.log"
if [ $fail != 0 ]; then echo "checks failed: no sweep"; exit 1; fi
[ -n "${FAMILIES:-}" ] || exit 0
PYTHONUNBUFFERED=1 timeout ${SWEEP_TIMEOUT:-480} python3 sweeps/sweep.py --gpu "${GPU:-h200}" ${QUICK:+--quick} ${DEVICES:+--devices $DEVICES} \
    --only "$FAMILIES" --results "$O/results" 2>&1 | tee "$O/sweep.log" | grep -vE '^\s*\[' | tail -40
