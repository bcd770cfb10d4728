#!/bin/sh
# Charts: every GPU chart is drawn from the fixture results (tests/fixtures,
# where h200 lacks some families), twice, byte-identical; and every chart
# script runs on the committed results/.
set -u
PY=${PY:-.venv/bin/python}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
$PY plots/gpu_charts.py tests/fixtures/results "$t/a" >"$t/log" 2>&1 && \
$PY plots/gpu_charts.py tests/fixtures/results "$t/b" >>"$t/log" 2>&1 || { echo "FAIL plots: gpu_charts.py crashed:"; cat "$t/log"; exit 1; }
missing=
for c in headline decode_step kv_capacity gemm_speedup_h100 gemm_speedup_h200 gemm_tflops_h100 gemm_tflops_h200 \
         roofline_h100 roofline_h200 quant_h100 quant_h200; do
    [ -s "$t/a/$c.png" ] || missing="$missing $c"
done
if [ -n "$missing" ]; then echo "FAIL plots: charts not drawn from fixtures:$missing"; fail=1
else echo "ok   plots: all 11 GPU charts drawn from fixture results, h200's missing families drawn as missing"; fi
if diff -r "$t/a" "$t/b" >/dev/null; then echo "ok   plots: the same results give byte-identical charts"
else echo "FAIL plots: two runs on the same results gave different files"; fail=1; fi
for p in plots/[!_]*.py; do
    if $PY "$p" results "$t/real" >"$t/log" 2>&1; then echo "ok   plots: $p runs on the committed results/"
    else echo "FAIL plots: $p failed on results/:"; tail -5 "$t/log"; fail=1; fi
done
# The read ceilings stand beside the GEMV and attention tables only when
# ceilings.json comes from the decode family's sweep (its ceilings and
# commit): copies of results/h200 with ceilings.json's context made the
# decode family's (pair), another commit's (other) and the same commit's
# with another copy rate (ceil); the first gets the table and the column, the
# others not.
for k in pair other ceil; do
    mkdir -p "$t/$k/h200"
    cp results/h200/decode.json "$t/$k/h200/"
    $PY - "$t/$k/h200" results/h200/ceilings.json "$k" <<'PY'
import json, sys
d = json.load(open(sys.argv[1] + "/decode.json"))
c = json.load(open(sys.argv[2]))
c["context"]["fp8kit"]["ceilings"] = d["context"]["fp8kit"]["ceilings"]
c["context"]["fp8kit"]["git_commit"] = d["context"]["fp8kit"]["git_commit"] if sys.argv[3] != "other" else "0" * 40
if sys.argv[3] == "ceil":
    c["context"]["fp8kit"]["ceilings"] = dict(c["context"]["fp8kit"]["ceilings"], copy_gbps=1.0)
json.dump(c, open(sys.argv[1] + "/ceilings.json", "w"))
PY
done
if $PY plots/gpu_charts.py "$t/pair" "$t/pairout" >"$t/log" 2>&1 &&
   $PY plots/gpu_charts.py "$t/other" "$t/otherout" >>"$t/log" 2>&1 &&
   $PY plots/gpu_charts.py "$t/ceil" "$t/ceilout" >>"$t/log" 2>&1 &&
   grep -q '^| Llama-3.1-8B o, W8A8 (16 MiB) | 0\.[0-9][0-9] | [01]\.[0-9][0-9] | 0\.[0-9][0-9] / 0\.[0-9][0-9] |$' "$t/pairout/decode_h200.md" &&
   grep -q "one launch reading the KV's bytes" "$t/pairout/decode_h200.md" &&
   grep -q "^GEMV at M = 1 / 16" "$t/otherout/decode_h200.md" && grep -q "^GEMV at M = 1 / 16" "$t/ceilout/decode_h200.md" &&
   ! grep -q "One launch that only reads\|one launch reading the KV" "$t/otherout/decode_h200.md" "$t/ceilout/decode_h200.md"; then
    echo "ok   plots: read ceilings beside the decode tables only when ceilings.json is from the same sweep"
else
    echo "FAIL plots: the read-ceiling table is missing from a matched pair or present for a mismatched one"; cat "$t/log"; fail=1
fi
# The README's tables are the ones make plots writes from results/.
for md in headline.md quant_h100.md quant_h200.md decode_h200.md; do
    if [ -f "$t/real/$md" ] && $PY -c "import sys; sys.exit(open(sys.argv[1]).read() not in open('README.md').read())" "$t/real/$md"; then
        echo "ok   plots: README carries plots/charts/$md as make plots writes it from results/"
    else
        echo "FAIL plots: README's copy of $md differs from what results/ gives (run make plots and copy it)"; fail=1
    fi
done
exit $fail
