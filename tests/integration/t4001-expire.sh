#!/bin/sh
# t4001: lcbackup expire against the simulator: --explain and --dry-run change nothing; expire
# deletes real archives and their sidecars, keeps the railed backups (newest completed, newest
# drill-verified, held) and never touches failed ones; a failing delete exits 2 and is retried next
# time; archives under Object Lock in legocity-backups-prod are skipped and reported, then deleted
# once their retention has passed; --simulate shows the days of a policy.
. "$(dirname "$0")/lib.sh"

sim_up
sim_ctl POST /seed '{"name":"legocity","sizes":{"entities":120}}' >/dev/null
# B: the top of the next hour; every pinned time is B plus seconds (after real time, so that an
# Object Lock retain-until computed from the pinned clock is in the simulator's future)
B=$($PY -c 'import time; print(int(time.time()) // 3600 * 3600 + 3600)')
at() { $PY -c 'import sys, time; print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(sys.argv[1]) + int(sys.argv[2]))))' "$B" "$1"; }
objects() { # objects BUCKET PREFIX: the keys stored, one a line
    sim_ctl GET "/s3/objects?bucket=$1&prefix=$2" | $PY -c 'import json, sys; [print(o["key"]) for o in json.load(sys.stdin)["objects"]]'
}
cat >"$T/dev.json" <<'EOF'
{ "version": 1, "env": "dev", "region": "eu-west-1", "timezone": "UTC",
  "storage": { "bucket": "legocity-backups-dev", "prefix": "lcbackup", "kms_key": "alias/legocity-backups" },
  "defaults": { "schedule": "0 3 * * *", "retention": { "keep_last": 2 } },
  "targets": { "broker": [ { "name": "broker", "url_param": "/legocity/dev/broker/url" },
                           { "name": "broker-down", "url": "http://127.0.0.1:9/" } ] } }
EOF
P="--policy $T/dev.json"

# ---- six daily backups, one failed attempt
for k in 0 1 2 3 4 5; do
    LCBACKUP_NOW=$(at $((k * 86400))) lcb $P backup broker --target broker >"$T/b$k" 2>"$T/b$k.err" ||
        { cat "$T/b$k.err"; echo "Bail out! backup $k failed"; exit 1; }
done
LCBACKUP_NOW=$(at 3600) lcb $P backup broker --target broker-down >/dev/null 2>&1
id() { sql "SELECT id FROM backups WHERE target='broker' AND status IN ('completed','expired') ORDER BY taken_at LIMIT 1 OFFSET $1"; }
B0=$(id 0); B1=$(id 1); B2=$(id 2); B3=$(id 3); B4=$(id 4); B5=$(id 5)
assert_eq "$(sql "SELECT count(*) FROM backups WHERE target='broker' AND status='completed'")" "6" "six completed backups"
assert_eq "$(sql "SELECT count(*) FROM backups WHERE target='broker-down' AND status='failed'")" "1" "one failed backup"
assert_eq "$(objects legocity-backups-dev lcbackup/dev/broker/broker/ | wc -l)" "12" "six archives and six sidecars in S3"
# drills verified B0 and then B1 (the newest verified); an operator holds B3
sql "UPDATE backups SET verified_at=$B WHERE id='$B0'; UPDATE backups SET verified_at=$((B + 90000)) WHERE id='$B1';
     UPDATE backups SET hold='checkpoint before migration 42' WHERE id='$B3'"
NOW=$(at $((5 * 86400 + 3600)))

# ---- --explain: the reasons, nothing deleted
LCBACKUP_NOW=$NOW expect_code 0 "expire --explain" lcb $P expire --explain --kind broker
assert_grep "^  $B5 .* keep +last,newest-completed$" "$OUT" "the newest: last and the newest-completed rail"
assert_grep "^  $B4 .* keep +last$" "$OUT" "the second newest: keep_last"
assert_grep "^  $B3 .* keep +hold$" "$OUT" "the held backup is kept by its hold"
assert_grep "^  $B2 .* expire +expire: no rule keeps it$" "$OUT" "an unprotected old backup would go"
assert_grep "^  $B1 .* keep +newest-verified$" "$OUT" "the newest drill-verified backup is kept"
assert_grep "^  $B0 .* expire " "$OUT" "an older verified backup would go"
FAILED_ID=$(sql "SELECT id FROM backups WHERE target='broker-down'")
assert_no_grep "$FAILED_ID" "$OUT" "failed backups are not considered"
assert_grep "^explain \(nothing deleted\): 4 kept, 2 would expire, 0 skipped" "$OUT" "explain summary"
assert_eq "$(sql "SELECT count(*) FROM backups WHERE status='expired'")" "0" "--explain expired nothing"
LCBACKUP_NOW=$NOW expect_code 0 "expire --explain --json" lcb $P --json expire --explain --kind broker
assert_eq "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["kept"], d["expired"], [b["action"] for b in d["targets"][0]["backups"]].count("expire"))' "$OUT")" "4 2 2" "the JSON says the same"

# ---- --dry-run: the exact calls, nothing deleted
KEY2=$(sql "SELECT substr(location, length('s3://legocity-backups-dev/') + 1) FROM backups WHERE id='$B2'")
LCBACKUP_NOW=$NOW expect_code 0 "expire --dry-run" lcb $P expire --dry-run
assert_grep "^s3 DeleteObject Bucket=legocity-backups-dev Key=$KEY2$" "$OUT" "the archive's DeleteObject is printed"
assert_grep "^s3 DeleteObject Bucket=legocity-backups-dev Key=$KEY2.manifest.json$" "$OUT" "the sidecar's DeleteObject is printed"
assert_eq "$(objects legocity-backups-dev lcbackup/dev/broker/broker/ | wc -l)" "12" "--dry-run deleted nothing"
assert_eq "$(sql "SELECT count(*) FROM backups WHERE status='expired'")" "0" "--dry-run changed no status"

# ---- expire for real
LCBACKUP_NOW=$NOW expect_code 0 "expire" lcb $P expire
assert_grep "^expire: 4 kept, 2 expired, 0 skipped \(Object Lock\), 0 failed$" "$OUT" "expire summary"
assert_eq "$(sql "SELECT group_concat(id) FROM (SELECT id FROM backups WHERE status='expired' ORDER BY taken_at)")" "$B0,$B2" "B0 and B2 are expired in the catalog"
objects legocity-backups-dev lcbackup/dev/broker/broker/ >"$T/left"
assert_no_grep "$B0|$B2" "$T/left" "their archives and sidecars are gone from S3"
assert_eq "$(wc -l <"$T/left")" "8" "the other four archives and sidecars remain"
assert_eq "$(sql "SELECT keep_reason FROM backups WHERE id='$B3'")" "hold" "the keep reason is recorded (hold)"
assert_eq "$(sql "SELECT keep_reason FROM backups WHERE id='$B1'")" "newest-verified" "the keep reason is recorded (verified)"
assert_eq "$(sql "SELECT keep_reason FROM backups WHERE id='$B5'")" "last,newest-completed" "the keep reason is recorded (newest)"
assert_eq "$(sql "SELECT count(*) FROM events WHERE event='backup.expired' AND backup_id IN ('$B0','$B2')")" "2" "two backup.expired events"
assert_eq "$(sql "SELECT status FROM backups WHERE target='broker-down'")" "failed" "the failed backup is left alone"
LCBACKUP_NOW=$NOW expect_code 0 "expire again: nothing more to do" lcb $P expire
assert_grep "^expire: 4 kept, 0 expired" "$OUT" "a second expire expires nothing"

# ---- a drill that passed on B4 makes it the newest verified backup (its report, no verified_at):
# B4 stays although keep_last 2 now keeps B6 and B5, and B1 loses its rail
LCBACKUP_NOW=$(at $((6 * 86400))) lcb $P backup broker --target broker >/dev/null 2>&1
sql "INSERT INTO drills(id, components, started_at, ended_at, status, report) VALUES ('drill-1', 'broker',
     $((B + 6 * 86400)), $((B + 6 * 86400 + 600)), 'passed',
     '{\"status\":\"passed\",\"components\":[{\"component\":\"broker\",\"status\":\"passed\",\"backup_id\":\"$B4\"}]}')"
LCBACKUP_NOW=$(at $((6 * 86400 + 30))) expect_code 0 "expire --explain after the drill" lcb $P expire --explain --target broker
assert_grep "^  $B4 .* keep +newest-verified$" "$OUT" "the drilled backup is the newest verified now"
assert_grep "^  $B1 .* expire " "$OUT" "the backup verified before it loses the rail"

# ---- a delete that fails is listed, exits 2, and succeeds next time
sim_ctl POST /faults '{"service":"s3","operation":"DeleteObject","code":"InternalError","status":500,"times":50}' >/dev/null
LCBACKUP_NOW=$(at $((6 * 86400 + 60))) expect_code 2 "a failing delete exits 2" lcb $P expire
assert_grep "1 backup could not be deleted \($B1\)" "$ERR" "the failed backup is named"
assert_grep "^  $B1 .* failed .*InternalError" "$OUT" "the report says why"
assert_eq "$(sql "SELECT status FROM backups WHERE id='$B1'")" "completed" "it stays completed"
assert_eq "$(sql "SELECT count(*) FROM events WHERE event='backup.expire.failed' AND backup_id='$B1'")" "1" "an event records the failure"
assert_eq "$(sql "SELECT status FROM runs WHERE command='expire' ORDER BY started_at DESC, rowid DESC LIMIT 1")" "partial" "the run is recorded as partial"
sim_ctl DELETE /faults >/dev/null
LCBACKUP_NOW=$(at $((6 * 86400 + 120))) expect_code 0 "the next expire deletes it" lcb $P expire
assert_eq "$(sql "SELECT status FROM backups WHERE id='$B1'")" "expired" "now expired"
assert_eq "$(sql "SELECT status FROM backups WHERE id='$B4'")" "completed" "the drilled backup stays"

# ---- Object Lock in legocity-backups-prod: skipped and reported, deleted once the lock has passed
cat >"$T/prod.json" <<'EOF'
{ "version": 1, "env": "prod", "region": "eu-west-1", "timezone": "UTC",
  "storage": { "bucket": "legocity-backups-prod", "prefix": "lcbackup", "object_lock": "7d" },
  "defaults": { "schedule": "0 * * * *", "retention": { "keep_last": 1 } },
  "targets": { "broker": [ { "name": "broker", "url_param": "/legocity/prod/broker/url" } ] } }
EOF
PP="--policy $T/prod.json"
for k in 0 1 2; do
    LCBACKUP_NOW=$(at $((k * 60))) lcb $PP backup broker >/dev/null 2>"$T/p$k.err" ||
        { cat "$T/p$k.err"; echo "Bail out! prod backup $k failed"; exit 1; }
done
L0=$(sql "SELECT id FROM backups WHERE env='prod' ORDER BY taken_at LIMIT 1")
assert_eq "$(objects legocity-backups-prod lcbackup/prod/broker/ | wc -l)" "6" "three locked archives with sidecars"
LCBACKUP_NOW=$(at 300) expect_code 0 "expire under Object Lock exits 0" lcb $PP expire
assert_grep "^expire: 1 kept, 0 expired, 2 skipped \(Object Lock\), 0 failed$" "$OUT" "two skipped for Object Lock"
assert_grep "^  $L0 .* skipped +object lock: GOVERNANCE until " "$OUT" "the lock is reported with its date"
assert_eq "$(objects legocity-backups-prod lcbackup/prod/broker/ | wc -l)" "6" "nothing was deleted"
sql "SELECT keep_reason FROM backups WHERE id='$L0'" >"$T/kr"
assert_grep "^object lock: GOVERNANCE until" "$T/kr" "the catalog records why it stays"
assert_eq "$(sql "SELECT count(*) FROM events WHERE event='backup.expire.skipped'")" "2" "skip events"
# eight days later (for the simulator's S3 and for lcbackup's clock) the retention has passed
ADV=$((B - $($PY -c 'import time; print(int(time.time()))') + 8 * 86400))
sim_ctl POST /clock "{\"advance\": $ADV}" >/dev/null
LCBACKUP_NOW=$(at $((8 * 86400 + 600))) expect_code 0 "expire after the lock has passed" lcb $PP expire
assert_grep "^expire: 1 kept, 2 expired, 0 skipped" "$OUT" "both are deleted now"
assert_eq "$(objects legocity-backups-prod lcbackup/prod/broker/ | wc -l)" "2" "only the newest archive and its sidecar remain"
sim_ctl DELETE /clock >/dev/null

# ---- --explain --simulate: the days of a policy
LCBACKUP_NOW=2026-01-01T00:00:00Z expect_code 0 "expire --explain --simulate 400d" lcb $P expire --explain --simulate 400d --target broker
assert_eq "$(grep -c '^  20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] ' "$OUT")" "400" "one line per day"
assert_grep "^  2026-01-01   1  2026-01-01$" "$OUT" "day one: one backup"
assert_grep "^  2027-02-04   2  2027-02-04, 2027-02-03$" "$OUT" "day 400: keep_last 2"
assert_grep "^  at most 3 backups at once$" "$OUT" "the peak before expiry runs"
expect_code 64 "--simulate without --explain is a usage error" lcb $P expire --simulate 30d
expect_code 66 "an unknown target exits 66" lcb $P expire --target nope

done_testing
