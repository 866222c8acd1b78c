#!/bin/sh
# t3004: `lcbackup report`: the status per target and drill reports in text, md, json and html,
# the trend, --since, --output, errors; --upload beside the backups (SSE-KMS; Object Lock in the
# bucket's default mode or GOVERNANCE, for storage.object_lock or the bucket's default period);
# metrics: EMF lines in the JSON log and the Prometheus textfile.
. "$(dirname "$0")/lib.sh"

sim_up --seed legocity --sizes entities=300,env=dev
AWS=aws  # lib.sh: aws always talks to the simulator
mkpolicy() { # mkpolicy FILE BUCKET [OBJECT_LOCK]
    cat > "$1" <<JSON
{ "version": 1, "env": "dev", "region": "eu-west-1",
  "storage": { "bucket": "$2", "prefix": "lcbackup", "kms_key": "alias/legocity-backups"${3:+, \"object_lock\": \"$3\"} },
  "defaults": { "schedule": "@daily", "retention": { "keep_last": 3 } },
  "targets": {
    "rds": [ { "instance": "legocity-payload-db", "db_url_param": "/legocity/dev/payload/db-url" } ],
    "broker": [ { "name": "broker", "url_param": "/legocity/dev/broker/url" } ],
    "config": [ { "name": "config", "ssm_paths": ["/legocity/dev/"] } ] },
  "drill": { "rto_target": "15m", "rpo_target": "2h" } }
JSON
}
mkpolicy "$T/policy.json" legocity-backups-dev
mkpolicy "$T/prod.json" legocity-backups-prod 35d
mkpolicy "$T/prod-default.json" legocity-backups-prod
export LCBACKUP_POLICY="$T/policy.json"
jq_py() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }

expect_code 66 "report without a catalog: 66" lcb report
expect_code 0 "backup broker" lcb backup broker
expect_code 0 "backup config" lcb backup config
expect_code 0 "drill config" lcb drill --component config
expect_code 0 "drill broker" lcb drill --component broker
id=$(sql "SELECT id FROM drills ORDER BY started_at DESC LIMIT 1")

# the status report
expect_code 0 "status report (JSON logs)" lcb --log-format json report --metrics-file "$T/status.prom"
cp "$OUT" "$T/status.txt"
assert_grep "^backup status report, generated " "$T/status.txt" "a status report without --drill"
assert_grep "^  rds +legocity-payload-db +none +- +MISSED +- +never$" "$T/status.txt" "rds: no backup, never drilled"
assert_grep "^  broker +broker +broker-[0-9T]+-[0-9a-f]+ +[0-9.]+s +met +20[0-9-]+T.* passed \($id\)$" "$T/status.txt" "broker: last backup, its age, RPO met, verified, last drill"
assert_grep "^  config +config +config-.* passed \(drill-" "$T/status.txt" "config: last drilled"
assert_grep "^trend \(past drills, oldest first\)" "$T/status.txt" "the trend is listed"
assert_grep '"event":"report.metrics".*"_aws":\{"Timestamp":[0-9]+,"CloudWatchMetrics":\[\{"Namespace":"lcbackup".*"Metrics":\[\{"Name":"BackupAgeSeconds","Unit":"Seconds"\}\]\}\]\},"Env":"dev","Component":"broker","Target":"broker","BackupAgeSeconds":[0-9]+' "$ERR" "EMF BackupAgeSeconds per target"
assert_no_grep '"Component":"rds".*BackupAgeSeconds' "$ERR" "no age metric without a backup"
assert_grep '^lcbackup_backup_age_seconds\{env="dev",component="config",target="config"\} [0-9]+$' "$T/status.prom" "textfile: backup age"
assert_grep '^lcbackup_backup_rpo_target_seconds\{env="dev",component="rds",target="legocity-payload-db"\} 7200$' "$T/status.prom" "textfile: RPO target"
assert_grep '^lcbackup_last_drill_timestamp_seconds\{env="dev",component="broker",target="broker"\} [0-9]+$' "$T/status.prom" "textfile: last drill"
assert_grep '^lcbackup_last_verified_timestamp_seconds\{env="dev",component="broker",target="broker"\} [0-9]+$' "$T/status.prom" "textfile: last verified"
assert_no_grep 'lcbackup_drill_passed' "$T/status.prom" "no drill metrics in a status report"

expect_code 0 "status as JSON" lcb report --format json
cp "$OUT" "$T/status.json"
assert_eq "$(jq_py 'd["report"], len(d["status"]), len(d["trend"])' "$T/status.json")" "status 3 2" "JSON: a status report, 3 targets, 2 drills"
assert_eq "$(jq_py '[r["target"] for r in d["status"] if r["rpo_ok"]]' "$T/status.json")" "['broker', 'config']" "JSON: rpo_ok per target"
expect_code 0 "--json means --format json" lcb --json report
assert_eq "$(jq_py 'd["report"]' "$OUT")" status "--json gives the JSON report"
expect_code 0 "--since 1h, a day later: no drill in the period" env LCBACKUP_NOW="$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" "$LCBACKUP" report --format json --since 1h
assert_eq "$(jq_py 'len(d["trend"])' "$OUT")" 0 "--since limits the trend"
expect_code 0 "a status report without a policy" env -u LCBACKUP_POLICY "$LCBACKUP" report
assert_grep "^  broker +broker +broker-" "$OUT" "targets come from the catalog without a policy"
assert_no_grep "legocity-payload-db" "$OUT" "...only those with backups"

# drill reports
expect_code 0 "report --last" lcb report --last
assert_grep "^drill $id in dev: PASSED$" "$OUT" "--last is the newest drill"
assert_grep "^broker broker: PASSED$" "$OUT" "its component"
assert_grep "^    ok    normalised entities " "$OUT" "its checks"
expect_code 0 "report --drill PREFIX --format md" lcb report --drill "$(echo "$id" | cut -c1-24)" --format md
assert_grep "^# Restore drill report $id$" "$OUT" "Markdown title"
assert_grep "^\| check \| result \| detail \|$" "$OUT" "Markdown checks table"
assert_grep "^\| RTO \| [0-9.]+s \(target 15m 00s\): met \|$" "$OUT" "Markdown RTO row"
assert_grep "^## Trend$" "$OUT" "Markdown trend"
expect_code 0 "report --last --format json" lcb report --last --format json
assert_eq "$(jq_py 'd["report"], d["drill"]["drill_id"], d["drill"]["components"][0]["component"], len(d["trend"])' "$OUT")" "drill $id broker 2" "JSON drill report with its trend"
expect_code 0 "report --last --format html --output" lcb report --last --format html --output "$T/r.html"
assert_eq "$(cat "$OUT")" "wrote $T/r.html" "--output says where"
assert_grep "^<!DOCTYPE html>" "$T/r.html" "an HTML file"
assert_grep "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart timeline\"" "$T/r.html" "with the timeline"
assert_grep "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart trend\"" "$T/r.html" "with the trend"
assert_no_grep "(src|href)=" "$T/r.html" "self-contained: no external reference"
expect_code 66 "--drill unknown: 66" lcb report --drill drill-19990101
expect_code 64 "--drill and --last: 64" lcb report --drill "$id" --last
expect_code 64 "bad --format: 64" lcb report --format pdf
expect_code 74 "--output in a missing directory: 74" lcb report --output /nonexistent/r.txt

# uploads
expect_code 0 "--upload to the dev bucket (no Object Lock)" lcb report --last --format html --output "$T/u.html" --upload
key=$(sed -n 's|^uploaded s3://legocity-backups-dev/||p' "$OUT")
case "$key" in lcbackup/dev/reports/$id-*Z.html) pass "the report lies beside the backups: $key" ;; *) fail "report key" "got '$key'" ;; esac
run $AWS s3api head-object --bucket legocity-backups-dev --key "$key"
assert_grep '"ContentType": "text/html; charset=utf-8"' "$OUT" "stored as text/html"
assert_grep '"ServerSideEncryption": "aws:kms"' "$OUT" "stored with SSE-KMS"
assert_no_grep "ObjectLockMode" "$OUT" "no retention without Object Lock"
$AWS s3 cp "s3://legocity-backups-dev/$key" "$T/back.html" >/dev/null 2>&1
assert_eq "$(cmp -s "$T/back.html" "$T/u.html" && echo same)" same "the uploaded report is the written one"
now=$(date +%s)
expect_code 0 "--upload to the Object Lock bucket (storage.object_lock 35d)" lcb --policy "$T/prod.json" report --output "$T/p.txt" --upload
assert_grep "^uploaded s3://legocity-backups-prod/lcbackup/dev/reports/status-[0-9T]+Z\.txt \(Object Lock GOVERNANCE until " "$OUT" "the status report is uploaded under a GOVERNANCE lock"
pkey=$(sed -n 's|^uploaded s3://legocity-backups-prod/\([^ ]*\) .*|\1|p' "$OUT")
run $AWS s3api get-object-retention --bucket legocity-backups-prod --key "$pkey"
until=$(jq_py 'd["Retention"]["Mode"], d["Retention"]["RetainUntilDate"][:10]' "$OUT")
assert_eq "$until" "GOVERNANCE $(date -u -d "@$((now + 35 * 86400))" +%Y-%m-%d)" "GetObjectRetention: GOVERNANCE for 35 days"
run $AWS s3api put-object-lock-configuration --bucket legocity-backups-prod --object-lock-configuration '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"COMPLIANCE","Days":2}}}'
expect_code 0 "--upload with the bucket's default retention" lcb --policy "$T/prod-default.json" report --last --format json --output "$T/p.json" --upload
assert_grep "\(Object Lock COMPLIANCE until $(date -u -d "@$((now + 2 * 86400))" +%Y-%m-%d)T" "$OUT" "the bucket's default mode and period"
run $AWS s3 rm "s3://legocity-backups-prod/$pkey"
assert_eq "$RC" 1 "the locked report cannot be deleted"

done_testing
