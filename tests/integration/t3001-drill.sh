#!/bin/sh
# t3001: a passing drill of every component against the simulator (real PostgreSQL behind RDS):
#  a. backups of each kind, then `lcbackup drill`: exit 0, each component passed with its checks
#     (rds: connectivity, schema digest, row counts, latest migration, amcheck, the policy's SQL
#     checks, the CMS->broker cross-check; ebs: the volume; broker: counts and normalised entities;
#     config: decrypt, task definitions, drift), RTO and RPO within the targets;
#  b. the drill recorded in the catalog (report JSON), the backups marked verified, EMF lines in the
#     JSON log, the Prometheus textfile;
#  c. nothing left behind: no lcb-drill-* instance (DescribeDBInstances), no drill volume
#     (DescribeVolumes), no entity in the scratch tenant; the database password never written;
#  d. --backup ID, --pick random-within, an empty pick, --dry-run (the calls, nothing created),
#     usage errors.
. "$(dirname "$0")/lib.sh"

sim_up --seed legocity --sizes entities=600,env=dev
AWS=aws  # lib.sh: aws always talks to the simulator
DBPW=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$T/sim/rds/seed.json")
[ -n "$DBPW" ] || { echo "Bail out! no database password in the seed"; exit 1; }
cat > "$T/policy.json" <<'JSON'
{ "version": 1, "env": "dev", "region": "eu-west-1",
  "storage": { "bucket": "legocity-backups-dev", "prefix": "lcbackup", "kms_key": "alias/legocity-backups" },
  "defaults": { "schedule": "@daily", "retention": { "keep_last": 3 } },
  "targets": {
    "rds": [ { "instance": "legocity-payload-db", "db_url_param": "/legocity/dev/payload/db-url" } ],
    "ebs": [ { "name": "broker-data", "tags": { "Name": "legocity-broker-data" } } ],
    "broker": [ { "name": "broker", "url_param": "/legocity/dev/broker/url" } ],
    "config": [ { "name": "config", "ssm_paths": ["/legocity/dev/"], "ecs_clusters": ["legocity-cluster"] } ] },
  "drill": { "instance_class": "db.t3.micro", "availability_zone": "eu-west-1a",
             "security_groups": ["sg-0a1b2c3d4e5f60718"],
             "rto_target": "15m", "rpo_target": "2h", "row_tolerance": 0.0, "timeout": "10m",
             "checks": [ { "name": "users exist", "sql": "SELECT count(*) FROM users", "expect": ">= 1" },
                         { "name": "no orphan pages", "sql": "SELECT count(*) FROM pages WHERE id < 0", "expect": "= 0" } ],
             "cms_entity_query": "SELECT DISTINCT entity_id FROM map_layers" } }
JSON
export LCBACKUP_POLICY="$T/policy.json"

for k in rds ebs; do expect_code 0 "backup $k" lcb backup "$k" --no-copy; done
for k in broker config; do expect_code 0 "backup $k" lcb backup "$k"; done

# a. the drill
expect_code 0 "a drill of every component passes" lcb --log-format json drill --metrics-file "$T/drill.prom"
cp "$OUT" "$T/drill.out"; cp "$ERR" "$T/drill.err"
assert_grep "^drill drill-[0-9T]+-[0-9a-f]+ in dev: PASSED" "$T/drill.out" "the drill says PASSED"
for c in "rds legocity-payload-db" "ebs broker-data" "broker broker" "config config"; do
    assert_grep "^$c: PASSED" "$T/drill.out" "$c passed"
done
for check in connectivity "schema digest" "row counts" "latest migration" amcheck "sql users exist" \
             "sql no orphan pages" "cms entities in broker" "volume available" "volume size" \
             "entities written" "entity count" "normalised entities" "archive decrypts" \
             "task definitions register" "drift against live" teardown; do
    assert_grep "^    ok    $check " "$T/drill.out" "check '$check' passed"
done
assert_no_grep "^    (FAIL|ERROR|skip) " "$T/drill.out" "no check failed or was skipped"
assert_grep "amcheck +bt_index_check on [1-9][0-9]* btree indexes of user tables: 0 corrupt" "$T/drill.out" "amcheck ran on the indexes"
assert_grep "cms entities in broker +[1-9][0-9]* entity ids referenced by the CMS, 0 missing" "$T/drill.out" "the CMS ids are in the broker archive"
assert_grep "RTO +[0-9.]+s \(target 15m 00s\): met" "$T/drill.out" "RTO measured against its target"
assert_grep "RPO +[0-9.ms ]+ \(target 2h 00m\): met" "$T/drill.out" "RPO measured against its target"
assert_grep "restored to  lcb-drill-legocity-payload-db-[0-9]{14}$" "$T/drill.out" "the throwaway instance's name"
assert_grep "phases       request [0-9.]+s provisioning [0-9.]+s checks [0-9.]+s teardown [0-9.]+s" "$T/drill.out" "four timed phases"

# b. the catalog, the metrics
id=$(sql "SELECT id FROM drills ORDER BY started_at DESC LIMIT 1")
assert_eq "$(sql "SELECT status FROM drills WHERE id='$id'")" passed "the catalog records the drill passed"
assert_eq "$(sql "SELECT json_array_length(report, '\$.components') FROM drills WHERE id='$id'")" 4 "the report holds four components"
assert_eq "$(sql "SELECT count(*) FROM drills d, json_each(d.report, '\$.components') c WHERE d.id='$id' AND json_extract(c.value, '\$.status')='passed' AND json_extract(c.value, '\$.rto_ok')=1 AND json_extract(c.value, '\$.rpo_ok')=1")" 4 "every component within RTO and RPO"
assert_eq "$(sql "SELECT count(*) FROM backups WHERE verified_at IS NOT NULL")" 4 "the four drilled backups are marked verified"
assert_grep '"event":"drill.metrics".*"_aws":\{"Timestamp":[0-9]+000,"CloudWatchMetrics":\[\{"Namespace":"lcbackup","Dimensions":\[\["Env","Component","Target"\]\]' "$T/drill.err" "EMF metric lines in the JSON log"
assert_grep '"Component":"rds","Target":"legocity-payload-db","DrillPassed":1,"DrillRPOSeconds":[0-9.]+,"DrillRTOSeconds":[0-9.]+' "$T/drill.err" "the rds metric values"
assert_grep '^lcbackup_drill_passed\{env="dev",component="broker",target="broker"\} 1$' "$T/drill.prom" "the Prometheus textfile"
assert_grep '^lcbackup_drill_rto_seconds\{env="dev",component="rds",target="legocity-payload-db"\} [0-9.]+$' "$T/drill.prom" "RTO in the textfile"
expect_code 0 "show the drill" lcb show "$id"
assert_grep "^status +passed$" "$OUT" "show says passed"

# c. nothing left behind, no secret written
run $AWS rds describe-db-instances --query "DBInstances[?starts_with(DBInstanceIdentifier, 'lcb-drill-')].DBInstanceIdentifier" --output text
assert_eq "$(cat "$OUT")" "" "DescribeDBInstances: no lcb-drill-* instance left"
run $AWS ec2 describe-volumes --filters Name=tag-key,Values=lcbackup:drill-id --query 'Volumes[].VolumeId' --output text
assert_eq "$(cat "$OUT")" "" "DescribeVolumes: no drill volume left"
tenant=$(grep -o 'tenant lcb-drill-[0-9]*' "$T/drill.out" | head -n 1 | cut -d' ' -f2)
n=$(curl -s -H "NGSILD-Tenant: $tenant" -H 'Accept: application/json' "$LCSIM_BROKER_URL/ngsi-ld/v1/entities?type=https://smartdatamodels.org/dataModel.Streetlighting/Streetlight&limit=1&count=true" -D - -o /dev/null | tr -d '\r' | sed -n 's/^NGSILD-Results-Count: //Ip')
assert_eq "${n:-0}" 0 "the scratch tenant $tenant holds no entity"
cat "$T/drill.out" "$T/drill.err" "$T/drill.prom" > "$T/all"
sql "SELECT report FROM drills" >> "$T/all"
if grep -an -- "$DBPW" "$T/all" "$LCBACKUP_CATALOG" > "$T/leak"; then fail "the database password is never written" "$(head -c 600 "$T/leak")"; else pass "the database password is never written"; fi

# d. choosing the backup, dry runs, usage
bid=$(sql "SELECT id FROM backups WHERE kind='broker'")
expect_code 0 "--backup drills that backup only" lcb drill --backup "$bid"
assert_grep "^broker broker: PASSED" "$OUT" "--backup: the broker component"
assert_no_grep "^rds " "$OUT" "--backup: no other component"
assert_grep "pick given" "$OUT" "--backup is recorded as the pick"
expect_code 0 "--pick random-within:1d" lcb drill --component config --pick random-within:1d
assert_grep "^config config: PASSED" "$OUT" "random-within picked a config backup"
expect_code 3 "--pick random-within:1s finds nothing: exit 3" lcb drill --component config --pick random-within:1s
assert_grep "error +no completed config backup of config within 1s to drill" "$OUT" "the empty pick is named"
n0=$(sql "SELECT count(*) FROM drills")
expect_code 0 "--dry-run" lcb drill --dry-run --component rds,ebs
assert_grep "^rds RestoreDBInstanceFromDBSnapshot \(eu-west-1\)" "$OUT" "dry run: the restore call"
assert_grep "^    PubliclyAccessible=false$" "$OUT" "dry run: never publicly accessible"
assert_grep "^    DBInstanceClass=db.t3.micro$" "$OUT" "dry run: the drill instance class"
assert_grep "^    VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-0a1b2c3d4e5f60718$" "$OUT" "dry run: the drill security group"
assert_grep "^    Tags.Tag.2.Key=lcbackup:drill-expires$" "$OUT" "dry run: the expiry tag"
assert_grep "^rds DeleteDBInstance" "$OUT" "dry run: the teardown call"
assert_grep "^ec2 CreateVolume \(eu-west-1\)" "$OUT" "dry run: the volume call"
assert_eq "$(sql "SELECT count(*) FROM drills")" "$n0" "dry run: no drill recorded"
run $AWS rds describe-db-instances --query "DBInstances[?starts_with(DBInstanceIdentifier, 'lcb-drill-')].DBInstanceIdentifier" --output text
assert_eq "$(cat "$OUT")" "" "dry run: no instance created"
expect_code 64 "bad --component" lcb drill --component s3
expect_code 64 "bad --pick" lcb drill --pick oldest
expect_code 64 "--backup with --pick" lcb drill --backup "$bid" --pick latest
expect_code 66 "unknown --backup" lcb drill --backup rds-20200101T000000-000000
expect_code 78 "no such target" lcb drill --target nope

done_testing
