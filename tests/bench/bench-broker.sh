#!/bin/sh
# bench-broker.sh - broker export and restore of lcbackup against the simulator, side by side with
# what a user would write and with the limits of the machine (figures in docs/performance.md).
#
#   sh tests/bench/bench-broker.sh            (make bench runs it; BENCH_ENTITIES=200000 by default)
#
# One simulator (orion-ld profile: pages of at most 1000) seeded with N entities in the default
# tenant and N/4 and N/2 in two other tenants. Measured with /usr/bin/time (wall, user+sys CPU,
# peak RSS):
#   lcbackup export of N/4, N/2 and N entities (types from the policy, as production runs it), and
#   of N with the types discovered (Orion-LD's /types is incomplete: a scan of every entity);
#   side by side at N, interleaved three times (the machine may be busy with other work: the least
#   wall and CPU time of each, the largest peak RSS):
#     lcb       lcbackup with its defaults (4 pages in flight); pif1, pif2: 1 and 2 in flight
#     baseline  a curl page loop (limit=1000, offset) | zstd | aws s3 cp - , as a user would write it
#     serve1    the simulator serving the pages lcbackup asked for to one keep-alive curl, one at a
#               time; serve4: four at a time (curl --parallel)
#     zstd      zstd -3 alone on those pages' bytes
#   restore: lcbackup restore of the N/4 archive against a curl loop POSTing one entity a request.
# Checks (the issue's targets): peak RSS < 64 MiB at every size and flat (N within 1.25x of N/4),
# throughput >= 3x the baseline, wall <= 1.5x the slower of serving and zstd alone, restore >= 10x.
# Ends with "N passed, N failed"; the table also goes to build/bench/broker.md.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LCB=${LCBACKUP:-$ROOT/build/lcbackup}
PY=/usr/bin/python3
N=${BENCH_ENTITIES:-200000}
N4=$((N / 4)) N2=$((N / 2))
BUCKET=legocity-backups-dev
T=$(mktemp -d "${TMPDIR:-/tmp}/lcb-bench.XXXXXX")
export LCBACKUP_CATALOG="$T/catalog.db" LCBACKUP_LOG_FORMAT=text
unset LCBACKUP_POLICY LCBACKUP_ENV AWS_PROFILE
passed=0 failed=0
trap '"$PY" "$ROOT/tests/sim/lcsim" down --state "$T/sim" >/dev/null 2>&1; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

check() { # check PYTHON-EXPR NAME
    if [ "$("$PY" -c "print(1 if ($1) else 0)")" = 1 ]; then passed=$((passed + 1)); echo "ok - $2"
    else failed=$((failed + 1)); echo "not ok - $2"; fi
}
ctl() { curl -s -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$LCSIM_CONTROL_URL$2"; }
# timed NAME CMD...: run it under /usr/bin/time (stdout in $T/NAME.out); sets W (wall s),
# C (user+sys s), M (peak RSS KiB)
timed() {
    name=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$T/$name.time" "$@" >"$T/$name.out" 2>"$T/$name.err" ||
        { echo "Bail out! $name failed:"; tail -5 "$T/$name.err"; exit 1; }
    read -r W u s M <"$T/$name.time"
    C=$("$PY" -c "print(round($u + $s, 2))")
}
# keep NAME: fold the last measure into BW_NAME and BC_NAME (the least) and BM_NAME (the largest)
keep() {
    eval "bw=\${BW_$1:-} bc=\${BC_$1:-} bm=\${BM_$1:-0}"
    [ -z "$bw" ] || W=$("$PY" -c "print(min($bw, $W))")
    [ -z "$bc" ] || C=$("$PY" -c "print(min($bc, $C))")
    [ "$bm" -gt "$M" ] && M=$bm
    eval "BW_$1=$W BC_$1=$C BM_$1=$M"
}
rate() { "$PY" -c "print(round($1 / $2))"; }
ratio() { "$PY" -c "print(round($1 / $2, 2))"; }
mib() { "$PY" -c "print(round($1 / 1024, 1))"; }
per100k() { "$PY" -c "print(round($1 * 100000 / $2, 2))"; }
field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

[ -x /usr/bin/time ] || { echo "Bail out! /usr/bin/time is missing (Debian package time: make setup)"; exit 1; }
echo "# bench-broker: $N entities; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" "$ROOT/tests/sim/lcsim" up --state "$T/sim" --broker-profile orion-ld >"$T/up.log" 2>&1 ||
    { cat "$T/up.log"; echo "Bail out! simulator"; exit 1; }
set -a; . "$T/sim/env"; set +a
t0=$(date +%s)
ctl POST /seed "{\"name\":\"legocity\",\"services\":[\"kms\",\"s3\",\"ssm\",\"broker\"],
    \"sizes\":{\"entities\":$N,\"tenants\":{\"q\":$N4,\"h\":$N2}}}" >"$T/seed.json"
grep -q '"broker": "ok"' "$T/seed.json" || { cat "$T/seed.json"; echo "Bail out! seed"; exit 1; }
echo "# seeded $((N + N4 + N2)) entities in $(($(date +%s) - t0)) s"
TYPES=$(ctl GET /broker/summary | "$PY" -c 'import json,sys; print(",".join(sorted(json.load(sys.stdin)["tenants"][""]["types"])))')
B=$LCSIM_BROKER_URL/ngsi-ld/v1
export B T BUCKET

# ---- lcbackup export at three sizes (peak RSS as the count grows)
for spec in "q:$N4" "h:$N2" ":$N"; do
    tenant=${spec%%:*} n=${spec#*:}
    ctl DELETE /broker/requests >/dev/null
    timed "lcb$n" "$LCB" --json backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET \
        ${tenant:+--tenant $tenant} --types "$TYPES"
    got=$(field "$T/lcb$n.out" entities)
    [ "$got" = "$n" ] || { echo "Bail out! exported $got of $n"; exit 1; }
    eval "W_$n=$W C_$n=$C M_$n=$M"
    echo "# lcbackup export $n: ${W}s, $(rate "$n" "$W")/s, ${C} CPU s, $(mib "$M") MiB"
done
# the pages the export of N asked for, to replay them
ctl GET '/broker/requests?route=GET%20/entities' | "$PY" -c 'import json,sys
for r in json.load(sys.stdin)["requests"]:
    if "offset=" in r["query"]:
        print("url = \"%s%s?%s\"" % (sys.argv[1], r["path"], r["query"]))' "$LCSIM_BROKER_URL" >"$T/lcb-urls"
PAGES=$(wc -l <"$T/lcb-urls")
ID4=$(field "$T/lcb$N4.out" backup_id)
SIZE=$(field "$T/lcb$N.out" size)
timed discover "$LCB" backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET
W_disc=$W M_disc=$M
echo "# lcbackup export $N, types discovered: ${W}s, $(mib "$M") MiB"

# ---- side by side at N
cat >"$T/baseline.sh" <<'EOF'
off=0
while :; do
    curl -sf "$B/entities?local=true&limit=1000&offset=$off" -o "$T/page.json" || exit 1
    [ "$(head -c 2 "$T/page.json")" = "[]" ] && break
    cat "$T/page.json"
    off=$((off + 1000))
done | zstd -3 -q -c | aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp - "s3://$BUCKET/baseline/entities.json.zst"
EOF
for round in 1 2 3; do
    timed lcb "$LCB" backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET --types "$TYPES"
    keep lcb
    timed baseline sh "$T/baseline.sh"; keep baseline
    timed serve1 curl -sf -K "$T/lcb-urls"; keep serve1
    timed serve4 curl -sf -Z --parallel-max 4 -K "$T/lcb-urls"; keep serve4
    timed zstd zstd -3 -q -c "$T/serve1.out"; keep zstd
    for k in 1 2; do
        timed "pif$k" "$LCB" backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET \
            --types "$TYPES" --pages-in-flight $k
        keep "pif$k"
    done
    echo "# round $round (load $(cut -d' ' -f1 /proc/loadavg)), best so far: lcbackup ${BW_lcb}s," \
        "1 and 2 in flight ${BW_pif1}s ${BW_pif2}s, baseline ${BW_baseline}s," \
        "serving ${BW_serve1}s (four at a time ${BW_serve4}s), zstd ${BW_zstd}s"
done
RAW=$(stat -c %s "$T/serve1.out")
W_serve=$("$PY" -c "print(min($BW_serve1, $BW_serve4))")

# ---- restore: batches against one entity a request
timed restore "$LCB" restore broker --to "$LCSIM_BROKER_URL" --tenant r1 "$ID4"
W_rest=$W M_rest=$M
# the first entities of tenant q, one file each (as a user would cut them out of a page)
curl -sf -H 'NGSILD-Tenant: q' "$B/entities?local=true&limit=300&offset=0" >"$T/first.json"
mkdir -p "$T/one"
"$PY" -c 'import json,sys
for i, e in enumerate(json.load(open(sys.argv[1]))):
    open("%s/one/%05d.json" % (sys.argv[2], i), "w").write(json.dumps(e))' "$T/first.json" "$T"
ONE=$(ls "$T/one" | wc -l)
cat >"$T/one.sh" <<'EOF'
for f in "$T"/one/*.json; do
    curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -H 'NGSILD-Tenant: r2' \
        --data-binary @"$f" "$B/entities" || exit 1
done
EOF
timed one sh "$T/one.sh"
W_one=$W
echo "# restore: lcbackup $N4 in ${W_rest}s ($(rate "$N4" "$W_rest")/s); one a request: $ONE in ${W_one}s ($(rate "$ONE" "$W_one")/s)"

# ---- the table
mkdir -p "$ROOT/build/bench"
{
    echo "| measure | entities | wall s | entities/s | CPU s / 100k | peak RSS MiB |"
    echo "|---|---:|---:|---:|---:|---:|"
    for n in $N4 $N2 $N; do
        eval "w=\$W_$n c=\$C_$n m=\$M_$n"
        echo "| lcbackup export, types from the policy (one run) | $n | $w | $(rate "$n" "$w") | $(per100k "$c" "$n") | $(mib "$m") |"
    done
    echo "| lcbackup export, types from the policy (best of 3) | $N | $BW_lcb | $(rate "$N" "$BW_lcb") | $(per100k "$BC_lcb" "$N") | $(mib "$BM_lcb") |"
    for k in 1 2; do
        eval "w=\$BW_pif$k c=\$BC_pif$k m=\$BM_pif$k"
        echo "| lcbackup export, --pages-in-flight $k (best of 3) | $N | $w | $(rate "$N" "$w") | $(per100k "$c" "$N") | $(mib "$m") |"
    done
    echo "| lcbackup export, types discovered (one run) | $N | $W_disc | $(rate "$N" "$W_disc") | | $(mib "$M_disc") |"
    echo "| baseline: curl page loop \\| zstd \\| aws s3 cp (best of 3) | $N | $BW_baseline | $(rate "$N" "$BW_baseline") | | |"
    echo "| simulator serving lcbackup's $PAGES pages, one at a time (best of 3) | $N | $BW_serve1 | $(rate "$N" "$BW_serve1") | | |"
    echo "| simulator serving them four at a time (best of 3) | $N | $BW_serve4 | $(rate "$N" "$BW_serve4") | | |"
    echo "| zstd -3 alone, $RAW bytes (the archive: $SIZE) (best of 3) | $N | $BW_zstd | $(rate "$N" "$BW_zstd") | | |"
    echo "| lcbackup restore, batches of 100 (one run) | $N4 | $W_rest | $(rate "$N4" "$W_rest") | | $(mib "$M_rest") |"
    echo "| baseline restore: curl POST, one entity a request (one run) | $ONE | $W_one | $(rate "$ONE" "$W_one") | | |"
} | tee "$ROOT/build/bench/broker.md"

slower=$("$PY" -c "print(max($W_serve, $BW_zstd))")
for n in $N4 $N2 $N; do
    eval "m=\$M_$n"
    check "$m < 64 * 1024" "peak RSS at $n entities is under 64 MiB ($(mib "$m") MiB)"
done
check "$BM_lcb < 64 * 1024" "peak RSS over the three runs at $N is under 64 MiB ($(mib "$BM_lcb") MiB)"
eval "m4=\$M_$N4 mN=\$M_$N"
check "$mN <= 1.25 * $m4" "peak RSS is flat: $(mib "$mN") MiB at $N against $(mib "$m4") MiB at $N4 (at most 1.25x)"
check "$BW_baseline >= 3 * $BW_lcb" "throughput at least 3x the baseline's ($(ratio "$BW_baseline" "$BW_lcb")x)"
check "$BW_lcb <= 1.5 * $slower" \
    "wall time within 1.5x of the slower of serving and zstd alone (${BW_lcb}s: $(ratio "$BW_lcb" "$slower")x ${slower}s)"
check "($N4 / $W_rest) >= 10 * ($ONE / $W_one)" \
    "restore at least 10x one entity a request ($("$PY" -c "print(round(($N4 / $W_rest) / ($ONE / $W_one), 1))")x)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
