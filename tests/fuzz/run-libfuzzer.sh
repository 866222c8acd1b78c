#!/bin/sh
# `make fuzz`: build every target with clang's libFuzzer and run each for FUZZ_SECONDS (default 60),
# growing its corpus in build/fuzz-corpus/ (copy interesting finds into tests/fuzz/corpus/ by hand).
set -eu
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)" >&2; exit 78; }
secs=${FUZZ_SECONDS:-60}
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(pkg-config --cflags libcurl openssl libcjson libzstd libarchive sqlite3 libxml-2.0 libpq)"
libs="$(pkg-config --libs libcurl openssl libcjson libzstd libarchive sqlite3 libxml-2.0 libpq) -lpthread -lm"
make -s WERROR=0 VARIANT=fuzzlib CC=clang CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined" build/fuzzlib/liblcb.a
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    mkdir -p "build/fuzz-corpus/$name"
    # shellcheck disable=SC2086
    clang $flags -DLCB_VERSION='"fuzz"' -o "build/$name" "$src" build/fuzzlib/liblcb.a $libs
    "./build/$name" -max_total_time="$secs" "build/fuzz-corpus/$name" "tests/fuzz/corpus/${name#fuzz_}"
done
