#!/bin/sh
# Run every tests/integration/tNNNN-*.sh (or those given), in order, and sum their results.
set -u
cd "$(dirname "$0")"
total_p=0; total_f=0; failed_scripts=""
scripts=${*:-$(ls t[0-9]*.sh)}
for s in $scripts; do
    out=$(sh "$s" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
    if [ -z "$p" ]; then p=0; f=1; fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$f" -ne 0 ]; then
        printf '%s\n' "$out"
        failed_scripts="$failed_scripts $s"
    fi
    echo "integration: $s: $p passed, $f failed"
    total_p=$((total_p + p)); total_f=$((total_f + f))
done
[ -n "$failed_scripts" ] && echo "integration: failed:$failed_scripts"
echo "integration: $total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
