#!/bin/sh
# Runs test groups, shows their output, and ends with one summary line:
#   "tests: N passed, N failed, N skipped"
# A group is a command that prints "ok ...", "FAIL ..." and "SKIPPED ..."
# lines. A group that exits non-zero without printing a FAIL line (a crash,
# a sanitizer report) counts as one failure.
#   tests/run.sh 'name' 'command' ['name' 'command' ...]
set -u
log=${BUILD:-build}/test-logs
mkdir -p "$log"
passed=0 failed=0 skipped=0
while [ $# -ge 2 ]; do
    name=$1 cmd=$2; shift 2
    echo "== $name"
    start=$(date +%s)
    sh -c "$cmd" >"$log/$name.log" 2>&1
    rc=$?
    cat "$log/$name.log"
    p=$(grep -c '^ok ' "$log/$name.log"); f=$(grep -c '^FAIL' "$log/$name.log"); s=$(grep -c '^SKIPPED' "$log/$name.log")
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exited with status $rc"; f=1
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    echo "   ($name: $p passed, $f failed, $s skipped, $(( $(date +%s) - start )) s)"
done
[ "$skipped" -gt 0 ] && echo "NOTE: $skipped SKIPPED: see the SKIPPED lines above; CI installs the tools so that none is skipped there."
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
