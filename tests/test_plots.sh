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
# The README's tables are the ones make plots writes from results/.
for md in headline.md quant_h100.md quant_h200.md decode_h200.md; do
    if [ -f "$t/real/$md" ] && $PY -c "import sys; sys.exit(open(sys.argv[1]).read() not in open('README.md').read())" "$t/real/$md"; then
        echo "ok   plots: README carries plots/charts/$md as make plots writes it from results/"
    else
        echo "FAIL plots: README's copy of $md differs from what results/ gives (run make plots and copy it)"; fail=1
    fi
done
exit $fail
