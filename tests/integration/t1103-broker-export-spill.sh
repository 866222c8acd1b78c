#!/bin/sh
# t1103: the id index that drops duplicates moves to disk beyond its memory budget (issue 5). With
# the budget lowered to 1024 slots (LCBACKUP_ID_INDEX_BYTES, a test aid) an export spills several
# times, logs it once, and its manifest's id digest and counts equal those of an export that never
# spilled; a type read twice (the order shifted) drops every duplicate, on disk or in memory; the
# temporary directory is left empty. When TMPDIR cannot hold the index the backup fails cleanly
# (exit 74), naming the directory and what to do.
. "$(dirname "$0")/lib.sh"

BUCKET=legocity-backups-dev
STREETLIGHT=https://smartdatamodels.org/dataModel.Streetlighting/Streetlight
PARKING=https://smartdatamodels.org/dataModel.Parking/ParkingSpot
TRAFFIC=https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved
SMALL=16384 # 1024 slots: 767 ids, then a spill

sim_up
sim_ctl POST /seed '{"name":"legocity","services":["kms","s3","ssm","broker"],
                     "sizes":{"entities":3600,"tenants":{}}}' >/dev/null
mkdir -p "$T/tmp"

q() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
open_uploads() { sim_ctl GET "/s3/multipart?bucket=$BUCKET" | q 'len(d["uploads"])'; }
export_cmd() { # export_cmd [VAR=VALUE...]: with these in its environment
    env "$@" "$LCBACKUP" --json backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET \
        --page-size 50 --types "$STREETLIGHT,$PARKING,$TRAFFIC"
}
# manifest_of NAME: the ids, counts and statistics of MANIFEST.json (after archive_ids NAME)
manifest_of() {
    q '"%d %s %d\n%s\n%s" % (d["ids"]["count"], d["ids"]["digest"], d["total"],
       sorted(d["counts"].items()),
       sorted((k, v["exported"], v["duplicates_dropped"]) for k, v in d["extra"]["types"].items()))' \
        <"$T/$1/MANIFEST.json" >"$T/$1.ids"
}
# archive_ids NAME: the last export's archive ($OUT) into $T/NAME; every entity id in its pages
# (duplicates kept)
archive_ids() {
    rm -rf "$T/$1" && mkdir -p "$T/$1" &&
        curl -sf "$(lcb presign "$(jget "$OUT" location)")" | tar --zstd -x -C "$T/$1" &&
        "$PY" - "$T/$1" <<'EOF'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/entities/*/*.json")):
    for e in json.load(open(f)):
        print(e["id"])
EOF
}

# ---- the same broker with and without spills: the same manifest ids, counts and digest
expect_code 0 "an export within the default budget" export_cmd
n=$(archive_ids default | sort -u | wc -l | tr -d ' ')
manifest_of default
assert_no_grep "ngsi.ids.spill|temporary file" "$ERR" "the default budget does not spill"
expect_code 0 "an export over a 1024-slot budget" \
    export_cmd LCBACKUP_ID_INDEX_BYTES=$SMALL TMPDIR="$T/tmp" LCBACKUP_LOG_FORMAT=json
archive_ids small >/dev/null
manifest_of small
assert_eq "$(grep -c '"event":"ngsi.ids.spill"' "$ERR")" 1 "the first spill is logged, once"
assert_grep "\"event\":\"ngsi.ids.spill\".*\"ids\":767,\"dir\":\"$T/tmp\"" "$ERR" \
    "the log names the count and the directory"
[ "$n" -gt 1600 ] && pass "the export holds $n ids: two spills or more" ||
    fail "the export holds $n ids: two spills or more"
assert_grep "^$n [0-9a-f]{64} $n\$" "$T/small.ids" "the manifest counts the archive's $n distinct ids"
cmp -s "$T/default.ids" "$T/small.ids" && pass "same id digest, counts and statistics with spills" ||
    fail "same id digest, counts and statistics with spills" "$(diff "$T/default.ids" "$T/small.ids")"
assert_eq "$(ls -A "$T/tmp")" "" "nothing is left in TMPDIR"

# ---- a type read again (the order shifted): every duplicate dropped, whether on disk or not
sim_ctl POST /broker/hooks '{"after_get":3,"action":"delete","where":"before","count":3}' >/dev/null
sim_ctl POST /broker/hooks '{"after_get":3,"action":"create","type":"Streetlight","count":1,"id_prefix":"urn:ngsi-ld:Streetlight:hook-s-"}' >/dev/null
expect_code 0 "an export over a 1024-slot budget while the order shifts" \
    export_cmd LCBACKUP_ID_INDEX_BYTES=$SMALL TMPDIR="$T/tmp"
assert_grep "deleted or created before the read position" "$ERR" "a type was read again"
archive_ids shifted >"$T/shifted.list"
assert_eq "$(sort "$T/shifted.list" | uniq -d | wc -l | tr -d ' ')" 0 "no entity twice in the archive"
manifest_of shifted
assert_grep "^$(sort -u "$T/shifted.list" | wc -l | tr -d ' ') " "$T/shifted.ids" \
    "the manifest counts the archive's distinct ids"
sim_ctl DELETE /broker/hooks >/dev/null

# ---- TMPDIR unusable: the backup fails, naming the directory and what to do
expect_code 74 "a missing TMPDIR fails the backup (74)" \
    export_cmd LCBACKUP_ID_INDEX_BYTES=$SMALL TMPDIR="$T/missing"
assert_grep "lcbackup: backup broker: .*set TMPDIR to a writable directory.*temporary directory $T/missing: No such file or directory" \
    "$ERR" "the error names the directory and TMPDIR"
id=$(sql "SELECT id FROM backups ORDER BY rowid DESC LIMIT 1")
assert_eq "$(sql "SELECT status FROM backups WHERE id='$id'")" failed "the catalog marks it failed"
assert_eq "$(open_uploads)" 0 "no open multipart upload"

done_testing
