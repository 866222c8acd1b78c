#!/bin/sh
# bench-archive.sh - peak RSS and speed of the archive pipeline alone (lib/archive: tar, zstd,
# hashing, JSON check), writing and then verifying BENCH_ARCHIVE_MIB (default 200) MiB of
# broker-like pages with zstd level 3 and 2 workers, then with no worker. Builds
# tests/bench/archive_rss.c against build/release/liblcb.a (run `make` first). Each phase fails at
# 64 MiB of peak RSS; ends with "N passed, N failed".
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MIB=${BENCH_ARCHIVE_MIB:-200}
LIB=$ROOT/build/release/liblcb.a
BIN=$ROOT/build/bench/archive_rss
PKGS="libcurl openssl libcjson libzstd libarchive sqlite3 libxml-2.0 libpq"
mkdir -p "$ROOT/build/bench"
# shellcheck disable=SC2046
if [ ! -f "$LIB" ] || ! cc -std=c11 -D_GNU_SOURCE -O2 -o "$BIN" "$ROOT/tests/bench/archive_rss.c" \
        "$LIB" $(pkg-config --libs $PKGS) -lpthread -lm; then
    echo "bench-archive: cannot build archive_rss (run make first)"
    echo "0 passed, 1 failed"
    exit 1
fi
passed=0 failed=0
for threads in 2 0; do
    out=$("$BIN" "$MIB" 3 "$threads"); rc=$?
    printf '%s\n' "$out" | sed '$d'
    p=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    [ -n "$p" ] || { p=0; f=1; }
    [ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1
    passed=$((passed + p)) failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
