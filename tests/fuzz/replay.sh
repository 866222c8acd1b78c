#!/bin/sh
# Replay each fuzz target's committed corpus (tests/fuzz/corpus/<name without fuzz_>/).
set -u
here=$(dirname "$0")
total=0; failed=0
for bin in "$@"; do
    name=$(basename "$bin"); corpus="$here/corpus/${name#fuzz_}"
    out=$("$bin" "$corpus" 2>&1); rc=$?
    n=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p' | tail -n 1)
    if [ $rc -ne 0 ] || [ -z "$n" ]; then
        printf '%s\n' "$out" | tail -n 20
        echo "fuzz-replay: $name: FAILED"
        failed=$((failed + 1))
    else
        echo "fuzz-replay: $name: $n inputs"
        total=$((total + n))
    fi
done
echo "fuzz-replay: $total passed, $failed failed"
[ $failed -eq 0 ]
