#!/bin/sh
# t4003: the catalog off the host, against the simulator. After backups of every kind (with DR
# copies), deleting the catalog and rebuilding it from AWS alone yields the same backups and copies;
# drift finds nothing, then each kind of disagreement; two runners that publish at the same time both
# survive (pulled on a third host); a lost conditional write is merged and retried, and given up
# after 5 conflicts (75); a diskless runner with run --pull finds nothing due.
. "$(dirname "$0")/lib.sh"

sim_up
sim_ctl POST /seed '{"name":"legocity","sizes":{"entities":100}}' >/dev/null
aws_() { aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
cat >"$T/p.json" <<'EOF'
{ "version": 1, "env": "dev", "region": "eu-west-1", "dr_region": "eu-central-1", "timezone": "UTC",
  "storage": { "bucket": "legocity-backups-dev", "prefix": "lcbackup", "kms_key": "alias/legocity-backups",
               "dr_kms_key": "alias/legocity-backups" },
  "defaults": { "schedule": "0 3 * * *", "retention": { "keep_last": 5 } },
  "targets": {
    "rds": [ { "instance": "legocity-payload-db", "copy_to_dr": true } ],
    "ebs": [ { "name": "broker-data", "tags": { "Name": "legocity-broker-data" }, "copy_to_dr": true } ],
    "broker": [ { "name": "broker", "url_param": "/legocity/dev/broker/url" } ],
    "config": [ { "name": "config", "ssm_paths": ["/legocity/dev/"], "ecs_clusters": ["legocity-cluster"] } ] } }
EOF
P="--policy $T/p.json"
A=$T/a/catalog.db
export LCBACKUP_CATALOG=$A

# ---- host A: two days of backups of every kind, published
for day in 2026-11-20 2026-11-21; do
    LCBACKUP_NOW=${day}T03:00:05Z lcb $P run >"$T/run.$day" 2>&1 ||
        { cat "$T/run.$day"; echo "Bail out! run on $day failed"; exit 1; }
done
Q="SELECT id, kind, env, target, source, location, region, status, taken_at, size_bytes, item_count,
          sha256 FROM backups WHERE status = 'completed' ORDER BY id;
   SELECT backup_id, region, location, status FROM copies ORDER BY backup_id, region;"
sql "$Q" >"$T/before"
assert_eq "$(sql "SELECT count(*) FROM backups WHERE status='completed'")" "8" "eight backups on host A"
assert_eq "$(sql "SELECT count(*) FROM copies WHERE status='completed'")" "4" "four DR copies"

# ---- the host is lost: rebuild from AWS alone
rm -f "$A" "$A-wal" "$A-shm" "$A.remote"
expect_code 0 "catalog rebuild --dry-run on an empty catalog" lcb $P catalog rebuild --dry-run
assert_grep "^rebuild \(dry run\): 8 backups to add, 4 copies, 0 already known, 0 skipped$" "$OUT" "the dry run lists eight backups and four copies"
assert_eq "$(sql "SELECT count(*) FROM backups")" "0" "--dry-run recorded nothing"
expect_code 0 "catalog rebuild" lcb $P catalog rebuild
assert_grep "^rebuild: 8 backups added, 4 copies, 0 already known, 0 skipped$" "$OUT" "eight backups, four copies"
sql "$Q" >"$T/after"
if diff -u "$T/before" "$T/after" >"$T/diff"; then pass "the rebuilt catalog has the same backups and copies"
else fail "the rebuilt catalog has the same backups and copies" "$(cat "$T/diff")"; fi
assert_eq "$(sql "SELECT count(*) FROM events WHERE event='backup.rebuilt'")" "8" "each rebuilt backup has an event"
expect_code 0 "catalog check after the rebuild" lcb catalog check
expect_code 0 "a second rebuild adds nothing" lcb $P catalog rebuild
assert_grep "^rebuild: 0 backups added, 0 copies, 8 already known" "$OUT" "everything already known"
expect_code 0 "drift: none after the rebuild" lcb $P catalog drift
assert_grep "^no drift: the catalog and AWS agree" "$OUT" "no drift"

# ---- drift: every kind of disagreement
BRK=$(sql "SELECT location FROM backups WHERE kind='broker' ORDER BY taken_at LIMIT 1")
EBS_ID=$(sql "SELECT id FROM backups WHERE kind='ebs' ORDER BY taken_at LIMIT 1")
EBS_DR=$(sql "SELECT location FROM copies WHERE backup_id='$EBS_ID'")
CFG=$(sql "SELECT id FROM backups WHERE kind='config' ORDER BY taken_at LIMIT 1")
aws_ s3 rm "$BRK" >/dev/null
aws_ --region eu-central-1 ec2 delete-snapshot --snapshot-id "$EBS_DR"
aws_ s3api create-multipart-upload --bucket legocity-backups-dev --key lcbackup/dev/broker/broker/stale.tar.zst >/dev/null
sql "UPDATE backups SET status='expired' WHERE id='$CFG'"
LCBACKUP_CATALOG=$T/b/catalog.db LCBACKUP_NOW=2026-11-21T05:00:00Z lcb $P backup broker >/dev/null 2>&1
B_ID=$(LCBACKUP_CATALOG=$T/b/catalog.db sql "SELECT id FROM backups")
expect_code 1 "drift exits 1 when AWS and the catalog disagree" lcb $P catalog drift
assert_grep "^missing +broker-.* $BRK is gone \(the catalog says completed\)$" "$OUT" "missing: a deleted archive"
assert_grep "^no-archive +broker-" "$OUT" "no-archive: its sidecar is left"
assert_grep "^missing-copy +$EBS_ID +copy $EBS_DR in eu-central-1 is gone$" "$OUT" "missing-copy: a deleted DR snapshot"
assert_grep "^not-expired +$CFG .* still exists although the catalog says expired$" "$OUT" "not-expired"
assert_grep "^unknown +$B_ID +broker .* is not in the catalog$" "$OUT" "unknown: another host's backup"
assert_grep "^upload .*stale.tar.zst \(upload id " "$OUT" "upload: an unfinished multipart upload"
assert_grep "6 differences between the catalog and AWS" "$ERR" "the error line counts them"
expect_code 1 "drift --json" lcb $P --json catalog drift
assert_eq "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["count"], sorted(x["what"] for x in d["differences"]))' "$OUT")" \
    "6 ['missing', 'missing-copy', 'no-archive', 'not-expired', 'unknown', 'upload']" "the JSON lists the same six"

# ---- publish: two runners at the same moment both survive
unset LCBACKUP_CATALOG
C=$T/c/catalog.db; D=$T/d/catalog.db
LCBACKUP_NOW=2026-11-22T03:00:05Z lcb --catalog "$C" $P run --only broker --no-publish >/dev/null 2>&1
LCBACKUP_NOW=2026-11-22T03:00:05Z lcb --catalog "$D" $P run --only config --no-publish >/dev/null 2>&1
C_ID=$(LCBACKUP_CATALOG=$C sql "SELECT id FROM backups WHERE status='completed'")
D_ID=$(LCBACKUP_CATALOG=$D sql "SELECT id FROM backups WHERE status='completed'")
lcb --catalog "$C" $P --json catalog publish >"$T/pc" 2>"$T/pc.err" & pc=$!
lcb --catalog "$D" $P --json catalog publish >"$T/pd" 2>"$T/pd.err" & pd=$!
wait $pc; rc_c=$?; wait $pd; rc_d=$?
assert_eq "$rc_c $rc_d" "0 0" "both concurrent publishes succeed"
merges=$($PY -c 'import json,sys; print(sum(json.load(open(f))["merges"] for f in sys.argv[1:]))' "$T/pc" "$T/pd")
[ "$merges" -ge 2 ] && pass "each runner merged what was published before it ($merges merges)" ||
    fail "each runner merged what was published before it" "merges: $merges; $(cat "$T/pc" "$T/pd" "$T/pc.err" "$T/pd.err")"
E=$T/e/catalog.db
expect_code 0 "a new host pulls the catalog" lcb --catalog "$E" $P catalog pull
assert_grep "^pulled s3://legocity-backups-dev/lcbackup/catalog/dev/catalog.db " "$OUT" "pulled from the policy's bucket"
assert_eq "$(LCBACKUP_CATALOG=$E sql "SELECT count(*) FROM backups WHERE id IN ('$C_ID','$D_ID')")" "2" "both runners' backups survive"
assert_eq "$(LCBACKUP_CATALOG=$E sql "SELECT count(*) FROM backups WHERE id IN (SELECT id FROM backups WHERE run_id IN (SELECT id FROM runs WHERE command='run')) AND started_at < strftime('%s','2026-11-22')")" "8" "host A's published backups are there too"
expect_code 0 "the pulled catalog passes catalog check" lcb --catalog "$E" catalog check

# ---- a lost conditional write is merged and retried; five in a row give up (75)
sim_ctl POST /faults '{"service":"s3","operation":"PutObject","path_prefix":"/legocity-backups-dev/lcbackup/catalog/","status":412,"code":"PreconditionFailed","times":1}' >/dev/null
expect_code 0 "publish after a 412" lcb --catalog "$C" $P --json catalog publish
assert_eq "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["attempts"], d["merges"])' "$OUT")" "2 1" "one merge, two attempts"
sim_ctl DELETE /faults >/dev/null
sim_ctl POST /faults '{"service":"s3","operation":"PutObject","path_prefix":"/legocity-backups-dev/lcbackup/catalog/","status":412,"code":"PreconditionFailed","times":10}' >/dev/null
expect_code 75 "five conflicts in a row exit 75" lcb --catalog "$C" $P catalog publish
assert_grep "changed under us 5 times in a row; retry later" "$ERR" "the error says to retry later"
sim_ctl DELETE /faults >/dev/null
expect_code 66 "pull when nothing was published exits 66" lcb --catalog "$T/f/catalog.db" --env staging $P catalog pull
assert_grep "no catalog published at s3://legocity-backups-dev/lcbackup/catalog/staging/catalog.db yet" "$ERR" "it says nothing was published"

# ---- a diskless runner: run --pull knows what is done
G=$T/g/catalog.db
LCBACKUP_NOW=2026-11-22T03:20:00Z expect_code 0 "run --pull on a fresh host" lcb --catalog "$G" $P run --pull --only broker --no-expire
assert_grep "^run: 1 target, 0 due, 0 failed$" "$OUT" "the pulled catalog says the broker backup of the day exists"

done_testing
