#!/bin/sh
# Run every tests/integration/tNNNN-*.sh (or those given) and sum their results. Scripts are
# independent (each has its own temporary directory, catalog and simulator on free ports), and they
# mostly wait on the simulator and PostgreSQL, so LCB_TEST_JOBS of them (default 3) run at once.
# Results are printed in script order; a failing script's whole output is shown.
set -u
cd "$(dirname "$0")"
jobs_max=${LCB_TEST_JOBS:-3}
total_p=0; total_f=0; failed_scripts=""
scripts=${*:-$(ls t[0-9]*.sh)}
outdir=$(mktemp -d "${TMPDIR:-/tmp}/lcb-it.XXXXXX")
trap 'rm -rf "$outdir"' EXIT

# `jobs` cannot be counted from a $(...) subshell in dash: keep the pids and ask each one
pids=""
running() {
    n=0; alive=""
    for p in $pids; do
        if kill -0 "$p" 2>/dev/null; then n=$((n + 1)); alive="$alive $p"; fi
    done
    pids=$alive
}

for s in $scripts; do
    running
    while [ "$n" -ge "$jobs_max" ]; do sleep 0.2; running; done
    ( start=$(date +%s); sh "$s" > "$outdir/$s.out" 2>&1; echo $? > "$outdir/$s.rc"
      echo $(( $(date +%s) - start )) > "$outdir/$s.secs" ) &
    pids="$pids $!"
done
wait

for s in $scripts; do
    rc=$(cat "$outdir/$s.rc" 2>/dev/null || echo 1)
    out="$outdir/$s.out"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
    if [ -z "$p" ]; then p=0; f=1; fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$f" -ne 0 ]; then
        cat "$out"
        failed_scripts="$failed_scripts $s"
    fi
    echo "integration: $s: $p passed, $f failed ($(cat "$outdir/$s.secs" 2>/dev/null || echo '?')s)"
    total_p=$((total_p + p)); total_f=$((total_f + f))
done
[ -n "$failed_scripts" ] && echo "integration: failed:$failed_scripts"
echo "integration: $total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
