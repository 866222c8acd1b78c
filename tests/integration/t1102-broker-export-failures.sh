#!/bin/sh
# t1102: a broker export that cannot finish fails cleanly: the exit status names the kind of
# failure, the catalog says failed with the error, S3 keeps no object, no sidecar and no open
# multipart upload. Faults that do not go away (one broker profile each: the empty-page anomaly on
# orion-ld, 503 on scorpio, connection resets on stellio, truncated bodies on strict, offsets
# ignored on scorpio: once an endless loop), S3 failing to complete the upload, and SIGTERM while
# pages are read (a slow broker) and while a part is on its way to S3 (exit 143, the upload
# aborted). Transient faults spread over many pages are each retried on the page's own attempts.
. "$(dirname "$0")/lib.sh"

BUCKET=legocity-backups-dev
STREETLIGHT=https://smartdatamodels.org/dataModel.Streetlighting/Streetlight
PARKING=https://smartdatamodels.org/dataModel.Parking/ParkingSpot

sim_up
sim_ctl POST /seed '{"name":"legocity","services":["kms","s3","ssm","broker"],
                     "sizes":{"entities":2000,"tenants":{}}}' >/dev/null

q() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
open_uploads() { sim_ctl GET "/s3/multipart?bucket=$BUCKET" | q 'len(d["uploads"])'; }
objects_of() { sim_ctl GET "/s3/objects?bucket=$BUCKET&prefix=lcbackup/" | q "len([o for o in d['objects'] if '$1' in o['key']])"; }
last_backup() { sql "SELECT id FROM backups ORDER BY rowid DESC LIMIT 1"; }
export_cmd() {
    "$LCBACKUP" backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET --page-size 50 \
        --types "$STREETLIGHT,$PARKING"
}

# failed_cleanly NAME PATTERN: the last backup failed with an error matching PATTERN (also the
# message on stderr), and S3 holds nothing of it
failed_cleanly() {
    id=$(last_backup)
    assert_grep "lcbackup: backup broker: .*$2" "$ERR" "$1: the error says what failed"
    assert_eq "$(sql "SELECT status FROM backups WHERE id='$id'")" failed "$1: the catalog marks $id failed"
    sql "SELECT error FROM backups WHERE id='$id'" >"$T/caterr"
    assert_grep "$2" "$T/caterr" "$1: the catalog keeps the error"
    assert_eq "$(open_uploads)" 0 "$1: no open multipart upload"
    assert_eq "$(objects_of "$id")" 0 "$1: no object and no sidecar in S3"
    assert_eq "$(sim_ctl GET "/requests?service=s3&operation=AbortMultipartUpload&status=204" |
        q "len([r for r in d['requests'] if '$id' in r['key']])")" 1 "$1: the upload was aborted"
}

# ---- faults that stay: one per profile
permanent() { # PROFILE FAULT WANT_CODE PATTERN
    sim_ctl POST /broker/config "{\"profile\":\"$1\"}" >/dev/null
    sim_ctl POST /broker/faults "$2" >/dev/null
    expect_code "$3" "$1: a lasting fault ($(echo "$2" | q 'd["action"]')) fails the backup ($3)" export_cmd
    failed_cleanly "$1" "$4"
    sim_ctl DELETE /broker/faults >/dev/null
}
permanent orion-ld '{"action":"empty_page","query":"offset=","times":0,"after":4}' 65 \
    "empty page at offset [0-9]+ while NGSILD-Results-Count says [0-9]+ \(5 attempts\)"
permanent scorpio '{"action":"status","status":503,"query":"offset=","times":0,"after":2}' 75 \
    "5 attempts: page at offset [0-9]+ of .*HTTP 503"
permanent stellio '{"action":"reset","query":"offset=","times":0,"after":3}' 75 \
    "5 attempts: page at offset [0-9]+ of .*(reply|reset|connection)"
permanent strict '{"action":"truncate","query":"offset=","times":0,"after":1}' 75 \
    "5 attempts: page at offset [0-9]+ of .*not a complete JSON array"
# Scorpio #316: every page is the first page again; once the export looped forever
permanent scorpio '{"action":"first_page","query":"offset=","times":0}' 65 \
    "still answers full pages at offset [0-9]+ while NGSILD-Results-Count says [0-9]+: it seems to ignore offset"
sim_ctl POST /broker/config '{"profile":"orion-ld"}' >/dev/null

# ---- S3 will not complete the upload
sim_ctl POST /faults '{"service":"s3","operation":"CompleteMultipartUpload","code":"InternalError","times":50}' >/dev/null
expect_code 75 "S3 failing CompleteMultipartUpload fails the backup (75)" export_cmd
failed_cleanly "complete refused" "InternalError"
sim_ctl DELETE /faults >/dev/null

# ---- SIGTERM while the (slow) broker is read
sim_ctl POST /broker/faults '{"action":"latency","seconds":0.3,"query":"offset=","times":0}' >/dev/null
sim_ctl DELETE /broker/requests >/dev/null
"$LCBACKUP" backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET --page-size 50 \
    --types "$STREETLIGHT,$PARKING" >"$OUT" 2>"$ERR" &
pid=$!
i=0
while [ "$(sim_ctl GET '/broker/requests?route=GET%20/entities' | q 'sum(1 for r in d["requests"] if "offset=" in r["query"])')" -lt 3 ] && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
[ "$(open_uploads)" = 1 ] && pass "SIGTERM: the upload is open while pages are read" ||
    fail "SIGTERM: the upload is open while pages are read"
kill -TERM $pid; wait $pid; RC=$?
assert_eq "$RC" 143 "SIGTERM during the export exits 143"
failed_cleanly "SIGTERM while reading" "interrupted"
sim_ctl DELETE /broker/faults >/dev/null

# ---- SIGTERM while a part is on its way to S3 (the single part goes at the end)
sim_ctl POST /faults '{"service":"s3","operation":"UploadPart","latency_ms":3000}' >/dev/null
sim_ctl DELETE /broker/requests >/dev/null
"$LCBACKUP" backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET --page-size 100 \
    --types "$STREETLIGHT" >"$OUT" 2>"$ERR" &
pid=$!
# the export's last broker request is the recount after the last page: then the part is sent
i=0
while [ "$(sim_ctl GET '/broker/requests' | q 'sum(1 for r in d["requests"] if "limit=0" in r["query"])')" -lt 3 ] && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
sleep 0.5
kill -TERM $pid; wait $pid; RC=$?
assert_eq "$RC" 143 "SIGTERM during the upload exits 143"
failed_cleanly "SIGTERM while uploading" "upload s3://.*: interrupted"
sleep 3 # the part the simulator was holding lands after the abort: it must find no upload
assert_eq "$(sim_ctl GET "/requests?service=s3&operation=UploadPart&error=NoSuchUpload" | q 'len(d["requests"])')" 1 \
    "the part that arrived after the abort found no upload"
assert_eq "$(open_uploads)" 0 "still no open multipart upload"
sim_ctl DELETE /faults >/dev/null

# ---- one transient 503 on each of eight different pages, one page in flight: each page is
# retried on its own attempts (they once added up over a slot's pages: "5 attempts" at the 5th)
rules=""
for k in 2 5 8 11 14 17 20 23; do
    rules="$rules{\"action\":\"status\",\"status\":503,\"query\":\"offset=\",\"times\":1,\"after\":$k},"
done
sim_ctl POST /broker/faults "[${rules%,}]" >/dev/null
expect_code 0 "eight pages failing once each are retried each (one page in flight)" \
    lcb backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET --page-size 50 \
    --pages-in-flight 1 --types "$STREETLIGHT,$PARKING"
assert_eq "$(sim_ctl GET /broker/faults | q 'sum(f["hits"] for f in d["faults"])')" 8 "all eight faults were hit"
sim_ctl DELETE /broker/faults >/dev/null

# ---- and afterwards the same export succeeds
expect_code 0 "with the faults gone the export completes" export_cmd
assert_eq "$(sql "SELECT count(*) FROM backups WHERE status='completed'")" 2 "two completed backups in the catalog"
assert_eq "$(sql "SELECT count(*) FROM backups WHERE status='failed'")" 8 "eight failed ones"

done_testing
