#!/bin/sh
# t0001: the command-line surface: help, version, usage errors, and every command's --help equal to
# the usage block of its page under docs/commands/ (git's t0450).
. "$(dirname "$0")/lib.sh"

expect_code 0 "--help exits 0" lcb --help
assert_grep "^  policy check +validate a policy file" "$OUT" "--help lists commands with one line each"
assert_grep "--log-format text\|json" "$OUT" "--help lists the global options"

expect_code 64 "no command exits 64" lcb
expect_code 64 "unknown command exits 64" lcb frobnicate
assert_grep "'frobnicate' is not a command" "$ERR" "unknown command is named"
assert_grep "^usage: lcbackup " "$ERR" "usage line follows the error"

expect_code 64 "unknown flag exits 64" lcb list --frob
assert_grep "^lcbackup: list: unknown option '--frob'" "$ERR" "unknown flag is named"
assert_grep "^usage: lcbackup list " "$ERR" "the command's usage line follows"

expect_code 64 "missing noun exits 64" lcb policy
assert_grep "'policy' needs one of: check, show" "$ERR" "missing noun lists the nouns"

expect_code 64 "missing option value exits 64" lcb list --kind
expect_code 64 "bad duration exits 64" lcb list --since soon
expect_code 64 "bad global value exits 64" lcb --log-format xml list
expect_code 78 "bad LCBACKUP_NOW exits 78" env LCBACKUP_NOW=tomorrow "$LCBACKUP" version

expect_code 0 "--version" lcb --version
assert_grep "^lcbackup [0-9]+\.[0-9]+\.[0-9]+" "$OUT" "--version prints the version"
assert_grep "libcurl|zstd|sqlite" "$OUT" "--version prints library versions"
expect_code 0 "version --json" lcb version --json
assert_grep '"lcbackup":"[0-9.]+".*"libpq"' "$OUT" "version --json is one object"

# every command's --help equals the usage block of its docs page
lcb --help | sed -n 's/^  \([a-z][a-z]*\( [a-z][a-z]*\)\?\)  .*/\1/p' | sed 's/ *$//' > "$T/cmds"
n=0
while read -r cmd; do
    n=$((n + 1))
    page="$ROOT/docs/commands/$(echo "$cmd" | tr ' ' '-').md"
    if [ ! -f "$page" ]; then fail "docs page for '$cmd'" "missing $page"; continue; fi
    # shellcheck disable=SC2086
    "$LCBACKUP" $cmd --help > "$T/help" 2>&1
    awk '/^## Usage/{u=1; next} u && /^```/{if (inblk) exit; inblk=1; next} inblk' "$page" > "$T/doc"
    if diff -u "$T/doc" "$T/help" > "$T/diff"; then
        pass "'$cmd --help' matches docs/commands"
    else
        fail "'$cmd --help' matches docs/commands" "$(cat "$T/diff")"
    fi
done < "$T/cmds"
[ "$n" -ge 7 ] && pass "found $n commands in --help" || fail "found commands in --help" "only $n"

done_testing
