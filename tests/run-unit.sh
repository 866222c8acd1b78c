#!/bin/sh
# Run every unit-test binary given; sum their "N passed, N failed" lines into one closing line.
set -u
total_p=0; total_f=0; status=0
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | tail -n 1)
    p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
    if [ -z "$p" ] || [ $rc -ne 0 ]; then
        printf '%s\n' "$out"
        echo "unit: $(basename "$t"): FAILED (exit $rc)"
        status=1
        [ -z "$p" ] && { p=0; f=1; }
    else
        echo "unit: $(basename "$t"): $line"
    fi
    total_p=$((total_p + p)); total_f=$((total_f + f))
done
echo "unit: $total_p passed, $total_f failed"
exit $status
