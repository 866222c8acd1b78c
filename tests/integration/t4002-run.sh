#!/bin/sh
# t4002: lcbackup run against the simulator, every kind (rds, ebs, broker, config): one failing
# target exits 2 with the others done; run twice in a minute does nothing the second time; three
# missed days are caught up by one backup; expiry after the run deletes real RDS and EBS snapshots
# with their DR copies and S3 archives with their sidecars; the catalog is published; --dry-run
# changes nothing; schedule prints valid crontab, systemd and EventBridge definitions.
. "$(dirname "$0")/lib.sh"

sim_up
sim_ctl POST /seed '{"name":"legocity","sizes":{"entities":120}}' >/dev/null
aws_() { aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
snap_exists() { # snap_exists rds|ebs REGION ID: 1 when the snapshot exists
    if [ "$1" = rds ]; then
        aws_ --region "$2" rds describe-db-snapshots --db-snapshot-identifier "$3" >/dev/null 2>&1 && echo 1 || echo 0
    else
        aws_ --region "$2" ec2 describe-snapshots --snapshot-ids "$3" >/dev/null 2>&1 && echo 1 || echo 0
    fi
}
objects() { sim_ctl GET "/s3/objects?bucket=$1&prefix=$2" | $PY -c 'import json, sys; [print(o["key"]) for o in json.load(sys.stdin)["objects"]]'; }

targets='"rds": [ { "instance": "legocity-payload-db", "copy_to_dr": true } ],
    "ebs": [ { "name": "broker-data", "tags": { "Name": "legocity-broker-data" }, "copy_to_dr": true } ],
    "config": [ { "name": "config", "ssm_paths": ["/legocity/dev/"], "ecs_clusters": ["legocity-cluster"] } ]'
policy() { # policy FILE EXTRA-BROKER-TARGETS
    cat >"$1" <<EOF
{ "version": 1, "env": "dev", "region": "eu-west-1", "dr_region": "eu-central-1", "timezone": "UTC",
  "storage": { "bucket": "legocity-backups-dev", "prefix": "lcbackup", "kms_key": "alias/legocity-backups",
               "dr_kms_key": "alias/legocity-backups" },
  "defaults": { "schedule": "0 3 * * *", "retention": { "keep_last": 2 } },
  "targets": { $targets,
    "broker": [ { "name": "broker", "url_param": "/legocity/dev/broker/url" } $2 ] } }
EOF
}
policy "$T/good.json" ""
policy "$T/bad.json" ', { "name": "broker-down", "url": "http://127.0.0.1:9/" }'
count() { sql "SELECT count(*) FROM backups WHERE status='completed' AND target='$1'"; }

# ---- day 0: one target fails, the others are done, exit 2
export LCBACKUP_NOW=2026-11-20T03:00:10Z
expect_code 2 "a failing target makes the run exit 2" lcb --policy "$T/bad.json" run
assert_grep "^run: 5 targets, 5 due, 1 failed$" "$OUT" "summary: five due, one failed"
for t in "rds +legocity-payload-db" "ebs +broker-data" "broker +broker " "config +config"; do
    assert_grep "^  $t +done +[a-z]+-20261120T030010-" "$OUT" "$(echo "$t" | cut -d' ' -f1) is done despite the failure"
done
assert_grep "^  broker +broker-down +FAILED +.*127\.0\.0\.1:9" "$OUT" "the failing target is listed with its error"
assert_grep "failed: broker broker-down; the rest was done" "$ERR" "the error line lists it"
assert_eq "$(sql "SELECT count(*) FROM backups WHERE status='completed'")" "4" "four completed backups"
assert_eq "$(sql "SELECT status || ' ' || exit_code FROM runs WHERE command='run'")" "partial 2" "the run is recorded partial, exit 2"
assert_eq "$(sql "SELECT count(*) FROM copies WHERE status='completed' AND region='eu-central-1'")" "2" "RDS and EBS copies in the DR region"
assert_grep "^catalog published to s3://legocity-backups-dev/lcbackup/catalog/dev/catalog.db " "$OUT" "the catalog is published"
objects legocity-backups-dev lcbackup/catalog/dev/ >"$T/cat"
assert_grep "^lcbackup/catalog/dev/catalog.db$" "$T/cat" "the catalog object is in S3"
RDS0=$(sql "SELECT location FROM backups WHERE kind='rds'")
EBS0=$(sql "SELECT location FROM backups WHERE kind='ebs'")
EBS0_DR=$(sql "SELECT c.location FROM copies c JOIN backups b ON b.id=c.backup_id WHERE b.kind='ebs'")
BRK0=$(sql "SELECT substr(location, 27) FROM backups WHERE kind='broker' AND status='completed'")

# ---- day 1: everything due once; the same minute again: nothing
export LCBACKUP_NOW=2026-11-21T03:00:05Z
expect_code 0 "day 1: run" lcb --policy "$T/good.json" run
assert_grep "^run: 4 targets, 4 due, 0 failed$" "$OUT" "day 1: four due"
export LCBACKUP_NOW=2026-11-21T03:00:50Z
expect_code 0 "day 1, same minute: run again" lcb --policy "$T/good.json" run
assert_grep "^run: 4 targets, 0 due, 0 failed$" "$OUT" "nothing is due the second time"
assert_eq "$(grep -c '^  [a-z]* .* not due  *last 2026-11-21T03:00:05Z, next 2026-11-22T03:00:00Z$' "$OUT")" "4" "each target says not due, with its last and next"
for t in legocity-payload-db broker-data broker config; do
    assert_eq "$(count $t)" "2" "$t: still two backups"
done

# ---- --dry-run on day 2: what is due, the calls, nothing done
export LCBACKUP_NOW=2026-11-22T03:10:00Z
n_before=$(sql "SELECT count(*) FROM backups")
expect_code 0 "run --dry-run" lcb --policy "$T/good.json" run --dry-run
assert_grep "^run \(dry run\): 4 targets, 4 due, 0 failed$" "$OUT" "dry run: four would run"
assert_grep "CreateDBSnapshot" "$OUT" "the RDS call is printed"
assert_grep "^s3 CreateMultipartUpload Bucket=legocity-backups-dev Key=lcbackup/dev/broker/broker/<backup id>.tar.zst" "$OUT" "the broker upload is printed"
assert_eq "$(sql "SELECT count(*) FROM backups")" "$n_before" "--dry-run recorded no backup"

# ---- days 2, 3, 4 missed: one catch-up on day 4, which also expires day 0
export LCBACKUP_NOW=2026-11-24T09:30:00Z
expect_code 0 "day 4: run after three missed days" lcb --policy "$T/good.json" run
assert_grep "^run: 4 targets, 4 due, 0 failed$" "$OUT" "all four due"
assert_eq "$(grep -c 'done .*(slot 2026-11-24T03:00:00Z, 3 missed)$' "$OUT")" "4" "each caught up once for three missed slots"
for t in legocity-payload-db broker-data broker config; do
    assert_eq "$(sql "SELECT count(*) FROM backups WHERE target='$t' AND started_at >= strftime('%s','2026-11-24')")" "1" "$t: one catch-up backup"
done
assert_grep "^expire: 8 kept, 4 expired, 0 skipped \(Object Lock\), 0 failed$" "$OUT" "day 0 of each target expires (keep_last 2)"
assert_eq "$(snap_exists rds eu-west-1 "$RDS0")" "0" "the day-0 RDS snapshot is deleted"
assert_eq "$(snap_exists rds eu-central-1 "$RDS0")" "0" "its DR copy is deleted"
assert_eq "$(snap_exists ebs eu-west-1 "$EBS0")" "0" "the day-0 EBS snapshot is deleted"
assert_eq "$(snap_exists ebs eu-central-1 "$EBS0_DR")" "0" "its DR copy is deleted"
RDS1=$(sql "SELECT location FROM backups WHERE kind='rds' AND status='completed' ORDER BY started_at LIMIT 1")
assert_eq "$(snap_exists rds eu-central-1 "$RDS1")" "1" "a kept backup's DR copy is still there"
objects legocity-backups-dev lcbackup/dev/broker/broker/ >"$T/brk"
assert_no_grep "$(basename "$BRK0")" "$T/brk" "the day-0 broker archive and sidecar are deleted"
assert_eq "$(wc -l <"$T/brk")" "4" "two broker archives with sidecars remain"
assert_eq "$(sql "SELECT count(*) FROM copies WHERE status='expired'")" "2" "the catalog marks the copies expired"
export LCBACKUP_NOW=2026-11-24T09:30:40Z
expect_code 0 "day 4, same minute: nothing" lcb --policy "$T/good.json" run
assert_grep "^run: 4 targets, 0 due, 0 failed$" "$OUT" "nothing due after the catch-up"

# ---- --only, and a policy whose target matches nothing
expect_code 0 "run --only broker" lcb --policy "$T/good.json" --json run --only broker --no-publish
assert_eq "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["targets"]), d["targets"][0]["status"])' "$OUT")" "1 not-due" "--only limits the run to one kind (JSON)"
expect_code 66 "run --target nope exits 66" lcb --policy "$T/good.json" run --target nope
expect_code 64 "run --only bogus exits 64" lcb --policy "$T/good.json" run --only bogus
unset LCBACKUP_NOW

# ---- schedule: crontab, systemd, EventBridge
expect_code 0 "schedule --format crontab" lcb --policy "$T/good.json" schedule --format crontab --binary /usr/bin/lcbackup
assert_grep "^0 \* \* \* \* root /usr/bin/lcbackup --policy $T/good.json --log-format json --lock-timeout 30s run " "$OUT" "a cron.d line at minute 0"
expect_code 0 "schedule --format systemd" lcb --policy "$T/good.json" schedule --format systemd
cal=$(sed -n 's/^OnCalendar=//p' "$OUT")
assert_eq "$cal" "*-*-* *:0:00 UTC" "the timer's calendar"
assert_grep "^ExecStart=/usr/local/bin/lcbackup --policy $T/good.json --log-format json run$" "$OUT" "the service runs run"
assert_grep "^Persistent=true$" "$OUT" "missed wake-ups happen at boot"
if command -v systemd-analyze >/dev/null 2>&1; then
    expect_code 0 "systemd-analyze accepts the calendar" systemd-analyze calendar "$cal"
fi
expect_code 0 "schedule --format eventbridge" lcb --policy "$T/good.json" schedule --format eventbridge --account 123456789012 --subnets subnet-0a1b,subnet-0c2d --security-groups sg-0a1b2c3d
assert_eq "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["Target"]; print(d["ScheduleExpression"], d["ScheduleExpressionTimezone"], t["Arn"], t["EcsParameters"]["NetworkConfiguration"]["awsvpcConfiguration"]["Subnets"][1], json.loads(t["Input"])["containerOverrides"][0]["command"][-2:])' "$OUT")" \
    "cron(0 * * * ? *) UTC arn:aws:ecs:eu-west-1:123456789012:cluster/legocity-cluster subnet-0c2d ['run', '--pull']" "the EventBridge schedule starts run --pull in legocity-cluster"
expect_code 64 "eventbridge without --account exits 64" lcb --policy "$T/good.json" schedule --format eventbridge --subnets subnet-0a
expect_code 64 "an unknown format exits 64" lcb --policy "$T/good.json" schedule --format anacron
expect_code 78 "schedule without a policy exits 78" lcb schedule --format crontab

done_testing
