# lib.sh - sourced by every tests/integration/tNNNN-name.sh (git's t/test-lib.sh, much smaller).
#
#   . "$(dirname "$0")/lib.sh"
#   expect_code 0 "policy check accepts dev" lcb policy check "$ROOT/policies/dev.json"
#   assert_grep "ok" "$OUT" "policy check says ok"
#   done_testing
#
# Each check prints "ok - NAME" or "not ok - NAME" (with the captured output); run.sh counts them.
# $OUT and $ERR hold the stdout and stderr of the last command run through expect_code/run.

set -u
# Debian's python3 (with python3-botocore) and aws first, as on a fresh machine
PATH=/usr/bin:/bin:$PATH
export PATH
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LCBACKUP=${LCBACKUP:-$ROOT/build/lcbackup}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/lcb-test.XXXXXX")
OUT=$T/stdout
ERR=$T/stderr
export LCBACKUP_CATALOG="$T/catalog.db"
export LCBACKUP_LOG_FORMAT=text
unset LCBACKUP_POLICY LCBACKUP_ENV LCBACKUP_NOW AWS_PROFILE
_passed=0
_failed=0
_cleanups=""

at_exit() { _cleanups="$1
$_cleanups"; }

_cleanup() {
    printf '%s\n' "$_cleanups" | while IFS= read -r c; do [ -n "$c" ] && eval "$c" >/dev/null 2>&1; done
    rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

lcb() { "$LCBACKUP" "$@"; }

# Debian's AWS CLI (the one a fresh machine has) ignores AWS_ENDPOINT_URL: always give it the
# simulator's endpoint, so that no test can reach past it, whichever `aws` comes first on PATH.
aws() {
    if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
        /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"
    else
        /usr/bin/aws "$@"
    fi
}

pass() { _passed=$((_passed + 1)); echo "ok - $1"; }

fail() {
    _failed=$((_failed + 1))
    echo "not ok - $1"
    [ -n "${2:-}" ] && echo "#   $2"
    if [ -s "$OUT" ]; then echo "#   stdout:"; sed 's/^/#     /' "$OUT" | head -40; fi
    if [ -s "$ERR" ]; then echo "#   stderr:"; sed 's/^/#     /' "$ERR" | head -40; fi
    return 0
}

# run CMD...: run it, stdout to $OUT, stderr to $ERR, exit status to $RC.
run() {
    "$@" >"$OUT" 2>"$ERR"
    RC=$?
}

# expect_code CODE NAME CMD...
expect_code() {
    _want=$1; _name=$2; shift 2
    run "$@"
    if [ "$RC" -eq "$_want" ]; then pass "$_name"; else fail "$_name" "exit $RC, want $_want"; fi
}

# assert_grep PATTERN FILE NAME (extended regular expression)
assert_grep() {
    if grep -Eq -- "$1" "$2"; then pass "$3"; else fail "$3" "no line matches /$1/ in $(basename "$2")"; fi
}

assert_no_grep() {
    if grep -Eq -- "$1" "$2"; then fail "$3" "a line matches /$1/ in $(basename "$2")"; else pass "$3"; fi
}

# assert_eq GOT WANT NAME
assert_eq() {
    if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "got '$1', want '$2'"; fi
}

# sql QUERY: run it on the test catalog
sql() { sqlite3 -batch -noheader "$LCBACKUP_CATALOG" "$1"; }

# sim_up [lcsim up options]: start the simulator in $T/sim and load its environment.
sim_up() {
    "$PY" "$ROOT/tests/sim/lcsim" up --state "$T/sim" "$@" >"$T/sim-up.log" 2>&1 || {
        cat "$T/sim-up.log"; echo "Bail out! the simulator did not start"; exit 1; }
    at_exit "$PY '$ROOT/tests/sim/lcsim' down --state '$T/sim'"
    set -a; . "$T/sim/env"; set +a
}

# profile_sim_start PROFILE ENTITIES: a simulator of its own for one broker profile, in
# $T/sim-PROFILE (S3, KMS, SSM, and the broker seeded with ENTITIES LegoCity entities), its
# environment loaded. profile_sim_stop PROFILE stops it; whatever still runs stops at exit.
PROFILE_SIMS=""
profile_sim_start() {
    "$PY" "$ROOT/tests/sim/lcsim" up --state "$T/sim-$1" --broker-profile "$1" \
        >"$T/sim-up.log" 2>&1 || { cat "$T/sim-up.log"; echo "Bail out! simulator ($1)"; exit 1; }
    [ -n "$PROFILE_SIMS" ] || at_exit 'for s in $PROFILE_SIMS; do profile_sim_stop "$s" & done; wait'
    PROFILE_SIMS="$PROFILE_SIMS $1"
    set -a; . "$T/sim-$1/env"; set +a
    sim_ctl POST /seed "{\"name\":\"legocity\",\"services\":[\"kms\",\"s3\",\"ssm\",\"broker\"],
                         \"sizes\":{\"entities\":$2,\"tenants\":{}}}" >"$T/seed.json"
    grep -q '"broker": "ok"' "$T/seed.json" || { cat "$T/seed.json"; echo "Bail out! seed"; exit 1; }
}
profile_sim_stop() { "$PY" "$ROOT/tests/sim/lcsim" down --state "$T/sim-$1" >/dev/null 2>&1; }

# jget FILE KEY: a top-level field of the JSON object in FILE (a command's --json result)
jget() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

sim_ctl() { # sim_ctl METHOD PATH [JSON]
    curl -s -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$LCSIM_CONTROL_URL$2"
}

# build_aws_probe: build tests/integration/aws_probe.c as $PROBE against the liblcb.a next to
# $LCBACKUP, in that library's variant (asan objects need the sanitizer at link).
build_aws_probe() {
    _lib=$(dirname "$(readlink -f "$LCBACKUP")")/liblcb.a
    [ -f "$_lib" ] || { echo "Bail out! no $_lib (run make first)"; exit 1; }
    _san=""
    nm "$_lib" 2>/dev/null | grep -q __asan_init && _san="-fsanitize=address,undefined -fno-sanitize-recover=all"
    _pkgs="libcurl openssl libcjson libzstd libarchive sqlite3 libxml-2.0 libpq"
    PROBE=$T/aws_probe
    # shellcheck disable=SC2046,SC2086
    cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g $_san $(pkg-config --cflags $_pkgs) \
        -o "$PROBE" "$ROOT/tests/integration/aws_probe.c" "$_lib" $(pkg-config --libs $_pkgs) \
        -lpthread -lm >"$T/cc.log" 2>&1 || { cat "$T/cc.log"; echo "Bail out! aws_probe does not build"; exit 1; }
}

done_testing() {
    echo "$_passed passed, $_failed failed"
    [ "$_failed" -eq 0 ]
}
