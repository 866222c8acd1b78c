#!/bin/sh
# t3002: drills that must fail, and say why (exit 3, the report names what failed):
#  a. a snapshot with a corrupted btree page (the simulator swaps two index tuples in the snapshot's
#     files): the restored copy starts and answers, amcheck's bt_index_check fails, the report names
#     the relation; the throwaway instance is torn down all the same;
#  b. a snapshot missing rows: rows deleted between the fingerprint and the snapshot (CreateDBSnapshot
#     held back 4 s), beyond the policy's 1% tolerance: the table is named;
#  c. an RPO target missed (the recovery point older than the target when the drill starts);
#  d. an RTO target missed (the restore takes longer than the target);
#  e. a restore the service refuses: the component errors, nothing is left behind.
. "$(dirname "$0")/lib.sh"

sim_up --seed legocity --sizes entities=600,env=dev
AWS=aws  # lib.sh: aws always talks to the simulator
DBURL=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$T/sim/rds/seed.json")
policy() { # policy FILE RPO RTO
    cat > "$1" <<JSON
{ "version": 1, "env": "dev", "region": "eu-west-1",
  "storage": { "bucket": "legocity-backups-dev", "prefix": "lcbackup", "kms_key": "alias/legocity-backups" },
  "defaults": { "schedule": "@daily", "retention": { "keep_last": 3 } },
  "targets": {
    "rds": [ { "instance": "legocity-payload-db", "db_url_param": "/legocity/dev/payload/db-url" } ],
    "broker": [ { "name": "broker", "url_param": "/legocity/dev/broker/url" } ],
    "config": [ { "name": "config", "ssm_paths": ["/legocity/dev/"], "ecs_clusters": ["legocity-cluster"] } ] },
  "drill": { "instance_class": "db.t3.micro", "availability_zone": "eu-west-1a",
             "rto_target": "$3", "rpo_target": "$2", "row_tolerance": 0.01, "timeout": "5m",
             "checks": [ { "name": "users exist", "sql": "SELECT count(*) FROM users", "expect": ">= 1" } ],
             "cms_entity_query": "SELECT DISTINCT entity_id FROM map_layers" } }
JSON
}
policy "$T/policy.json" 2h 15m
export LCBACKUP_POLICY="$T/policy.json"
no_drill_instance() {
    run $AWS rds describe-db-instances --query "DBInstances[?starts_with(DBInstanceIdentifier, 'lcb-drill-')].DBInstanceIdentifier" --output text
    assert_eq "$(cat "$OUT")" "" "$1: DescribeDBInstances shows no lcb-drill-* instance"
}
expect_code 0 "backup broker (for the CMS cross-check)" lcb backup broker

# a. a corrupted index page
expect_code 0 "backup rds" lcb backup rds --no-copy
snap=$(sql "SELECT location FROM backups WHERE kind='rds' ORDER BY started_at DESC LIMIT 1")
sim_ctl POST "/rds/snapshots/$snap/corrupt" '{"relation": "users_email_idx"}' > "$T/corrupt.json"
assert_grep '"relation": "public.users_email_idx"' "$T/corrupt.json" "the simulator damaged users_email_idx in $snap"
expect_code 3 "a drill of the corrupted snapshot exits 3" lcb drill --component rds
cp "$OUT" "$T/a.out"
assert_grep "^rds legocity-payload-db: FAILED" "$T/a.out" "the rds component failed"
assert_grep "^    FAIL  amcheck +index public.users_email_idx on public.users: .*(item order|invariant)" "$T/a.out" "amcheck names the corrupt index and its table"
assert_grep "^    ok    connectivity " "$T/a.out" "the corrupted copy still started and answered"
assert_grep "^    ok    row counts " "$T/a.out" "its rows are all there (only the index is damaged)"
assert_grep "^    ok    teardown " "$T/a.out" "torn down after the failure"
assert_grep "drill drill-.* failed: see .lcbackup report --drill" "$ERR" "the error line points at the report"
id=$(sql "SELECT id FROM drills ORDER BY started_at DESC LIMIT 1")
assert_eq "$(sql "SELECT status FROM drills WHERE id='$id'")" failed "the catalog records the drill failed"
assert_eq "$(sql "SELECT json_extract(k.value, '\$.relation') FROM drills d, json_each(d.report, '\$.components[0].checks') k WHERE d.id='$id' AND json_extract(k.value, '\$.result')='fail' AND json_extract(k.value, '\$.relation') IS NOT NULL")" public.users_email_idx "the report JSON names the relation"
expect_code 0 "report --last" lcb report --last
assert_grep "FAIL  amcheck +index public.users_email_idx" "$OUT" "report --last names the relation"
expect_code 0 "report --last --format html" lcb report --last --format html
assert_grep "<td>public.users_email_idx</td>" "$OUT" "the HTML report names the relation"
no_drill_instance "after the corrupted drill"
assert_eq "$(sql "SELECT count(*) FROM backups WHERE kind='rds' AND verified_at IS NOT NULL")" 0 "a failed drill does not mark the backup verified"

# b. rows deleted between the fingerprint and the snapshot
sim_ctl POST /faults '{"match": {"service": "rds", "operation": "CreateDBSnapshot"}, "action": {"latency_ms": 4000, "times": 1}}' >/dev/null
lcb backup rds --no-copy >"$T/b-backup.out" 2>"$T/b-backup.err" &
bpid=$!
i=0; while ! grep -q "fingerprint of" "$T/b-backup.err" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
run /usr/lib/postgresql/15/bin/psql -X -q "$DBURL" -c "DELETE FROM map_layers WHERE id % 10 = 0"
assert_eq "$RC" 0 "10% of map_layers deleted after the fingerprint, before the snapshot"
wait $bpid; assert_eq "$?" 0 "the backup completed"
expect_code 3 "a drill of the snapshot missing rows exits 3" lcb drill --component rds
cp "$OUT" "$T/b.out"
assert_grep "^    FAIL  rows +table public.map_layers: [0-9]+ rows, want [0-9]+" "$T/b.out" "the table missing rows is named"
assert_grep "^    FAIL  row counts +1 of 7 tables outside 1% of the fingerprint" "$T/b.out" "the row counts fail the tolerance"
assert_grep "^    ok    amcheck " "$T/b.out" "amcheck passes on this one"
assert_grep "^    ok    schema digest " "$T/b.out" "the schema is the fingerprint's"
assert_eq "$(sql "SELECT json_extract(k.value, '\$.relation') FROM drills d, json_each(d.report, '\$.components[0].checks') k WHERE d.id=(SELECT id FROM drills ORDER BY started_at DESC LIMIT 1) AND json_extract(k.value, '\$.name')='rows'")" public.map_layers "the report JSON names the table"
no_drill_instance "after the missing-rows drill"

# c. the RPO target missed
policy "$T/rpo.json" 2s 15m
expect_code 0 "backup config" lcb backup config
sleep 3
expect_code 3 "RPO target of 2s missed: exit 3" lcb --policy "$T/rpo.json" drill --component config
assert_grep "^config config: FAILED" "$OUT" "the component fails on its RPO"
assert_grep "^  RPO +[0-9]+\.0s \(target 2\.0s\): MISSED" "$OUT" "the report says RPO missed"
assert_no_grep "^    (FAIL|ERROR) " "$OUT" "every check itself passed"
assert_eq "$(sql "SELECT json_extract(report, '\$.components[0].rpo_ok') FROM drills ORDER BY started_at DESC LIMIT 1")" 0 "rpo_ok false in the report JSON"
expect_code 0 "the status report" lcb --policy "$T/rpo.json" report
assert_grep "^  config +config +config-[0-9T]+-[0-9a-f]+ +[0-9.]+s +MISSED " "$OUT" "the status report: the config backup is older than its RPO"

# d. the RTO target missed: restores take 4 s, the target is 2 s
policy "$T/rto.json" 2h 2s
sim_ctl POST /delays '{"rds.instance": 4}' >/dev/null
expect_code 3 "RTO target of 2s missed: exit 3" lcb --policy "$T/rto.json" drill --component rds --backup "$(sql "SELECT id FROM backups WHERE kind='rds' ORDER BY started_at LIMIT 1 OFFSET 1")"
assert_grep "^  RTO +([4-9]|[1-9][0-9]+)\.[0-9]s \(target 2\.0s\): MISSED" "$OUT" "the report says RTO missed"
sim_ctl DELETE /delays >/dev/null
no_drill_instance "after the slow drill"

# e. a refused restore
sim_ctl POST /faults '{"match": {"service": "rds", "operation": "RestoreDBInstanceFromDBSnapshot"}, "action": {"code": "InsufficientDBInstanceCapacity", "status": 400, "times": 1}}' >/dev/null
expect_code 3 "a refused restore: exit 3" lcb drill --component rds
assert_grep "^rds legocity-payload-db: ERROR" "$OUT" "the component is in error"
assert_grep "error +.*InsufficientDBInstanceCapacity" "$OUT" "the report says why"
assert_grep "^  RTO +- \(target 15m 00s\): MISSED" "$OUT" "no RTO without a restore"
no_drill_instance "after the refused restore"

done_testing
