#!/bin/sh
# One call on a lent GPU machine: the checks of the binaries named in $CHECKS
# (default decode,step,quant; gemm too where named); only if they all pass, the sweep of the families
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
C=,${CHECKS:-decode,step,quant},
: >"$O/checks.log"
case $C in *,decode,*)
  timeout 240 build/decode --check >"$O/c.log" 2>&1; chk decode-check $? "$O/c.log"; cat "$O/c.log" >>"$O/checks.log";; esac
case $C in *,step,*)
  d=$(mktemp -d)
  timeout 200 build/decode_step --check --check_dir="$d" >"$O/c.log" 2>&1; chk step-check $? "$O/c.log"
  timeout 200 python3 microbench/decode/step_reference.py "$d" >>"$O/c.log" 2>&1; chk step-reference $? "$O/c.log"
  grep -E '^(ok|FAIL)' "$O/c.log" | sed 's/^/  /' | head -40; cat "$O/c.log" >>"$O/checks.log";; esac
case $C in *,quant,*)
  timeout 200 build/quant --check >"$O/c.log" 2>&1; r=$?; echo "quant-check rc=$r"; grep -vE '^ok' "$O/c.log" | head -5
  [ $r = 0 ] || fail=1; cat "$O/c.log" >>"$O/checks.log";; esac
case $C in *,gemm,*)
  timeout 240 build/gemm --check >"$O/c.log" 2>&1; chk gemm-check $? "$O/c.log"; cat "$O/c.log" >>"$O/checks.log";; esac
rm -f "$O/c.log"
if [ $fail != 0 ]; then echo "checks failed: no sweep"; exit 1; fi
[ -n "${FAMILIES:-}" ] || exit 0
PYTHONUNBUFFERED=1 timeout ${SWEEP_TIMEOUT:-480} python3 sweeps/sweep.py --gpu "${GPU:-h200}" ${QUICK:+--quick} ${DEVICES:+--devices $DEVICES} \
    --only "$FAMILIES" --results "$O/results" 2>&1 | tee "$O/sweep.log" | grep -vE '^\s*\[' | tail -40
