#!/bin/sh
# run.sh - what `make bench` runs: every tests/bench/bench-*.sh (or those given), in order, each
# ending with its own "N passed, N failed" line, summed into the last line. Figures belong in
# docs/performance.md.
set -u
cd "$(dirname "$0")"
total_p=0 total_f=0 failed_scripts=""
scripts=${*:-$(ls bench-*.sh 2>/dev/null)}
[ -n "$scripts" ] || { echo "bench: no tests/bench/bench-*.sh"; echo "0 passed, 0 failed"; exit 0; }
for s in $scripts; do
    echo "== $s"
    sh "$s" 2>&1 | tee "${TMPDIR:-/tmp}/lcb-bench-$$.log"
    rc=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "${TMPDIR:-/tmp}/lcb-bench-$$.log" | tail -n 1)
    p=${rc% *} f=${rc#* }
    [ -n "$rc" ] || { p=0 f=1; }
    [ "$f" -ne 0 ] && failed_scripts="$failed_scripts $s"
    echo "bench: $s: $p passed, $f failed"
    total_p=$((total_p + p)) total_f=$((total_f + f))
done
rm -f "${TMPDIR:-/tmp}/lcb-bench-$$.log"
[ -n "$failed_scripts" ] && echo "bench: targets missed in:$failed_scripts (see docs/performance.md)"
echo "bench: $total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
