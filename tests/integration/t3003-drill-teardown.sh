#!/bin/sh
# t3003: teardown always happens, and what could not be torn down is swept:
#  a. drills killed mid-way (SIGKILL while the restored instance / the volume is being created:
#     nothing can run) leave their resources; the next drill's sweep removes them because the
#     catalog knows their drills are over (abandoned), as DescribeDBInstances and DescribeVolumes
#     show;
#  b. resources of drills this catalog does not know: swept once their expiry tag has passed, kept
#     before;
#  c. SIGTERM and SIGINT during a drill: the wait stops, the teardown runs, exit 143/130, the drill
#     recorded as interrupted;
#  d. a wait that times out: the component errors, the teardown cannot delete an instance still
#     being created and says so (exit 3); the next drill sweeps it.
. "$(dirname "$0")/lib.sh"

sim_up --seed legocity --sizes entities=600,env=dev
AWS=aws  # lib.sh: aws always talks to the simulator
cat > "$T/policy.json" <<'JSON'
{ "version": 1, "env": "dev", "region": "eu-west-1",
  "storage": { "bucket": "legocity-backups-dev", "prefix": "lcbackup", "kms_key": "alias/legocity-backups" },
  "defaults": { "schedule": "@daily", "retention": { "keep_last": 3 } },
  "targets": {
    "rds": [ { "instance": "legocity-payload-db", "db_url_param": "/legocity/dev/payload/db-url" } ],
    "ebs": [ { "name": "broker-data", "tags": { "Name": "legocity-broker-data" } } ],
    "config": [ { "name": "config", "ssm_paths": ["/legocity/dev/"] } ] },
  "drill": { "instance_class": "db.t3.micro", "availability_zone": "eu-west-1a",
             "rto_target": "15m", "rpo_target": "2h", "timeout": "5m" } }
JSON
sed 's/"timeout": "5m"/"timeout": "3s"/' "$T/policy.json" > "$T/short.json"
export LCBACKUP_POLICY="$T/policy.json"

drill_instances() {
    $AWS rds describe-db-instances --query "DBInstances[?starts_with(DBInstanceIdentifier, 'lcb-drill-')].DBInstanceIdentifier" --output text 2>"$T/aws.err"
}
drill_volumes() {
    $AWS ec2 describe-volumes --filters Name=tag-key,Values=lcbackup:drill-id --query 'Volumes[].VolumeId' --output text 2>"$T/aws.err"
}
# wait_for instances|volumes: until a drill instance (or volume) exists, at most 20 s; asks the
# simulator's control API (curl) rather than the aws CLI, which is slow to start
wait_for() {
    i=0
    while [ $i -lt 100 ]; do
        if [ "$1" = instances ]; then
            sim_ctl GET /rds/instances | grep -q '"id": "lcb-drill-' && return 0
        else
            sim_ctl GET "/requests?service=ec2&operation=CreateVolume&status=200" | grep -q '"CreateVolume"' && return 0
        fi
        sleep 0.2; i=$((i + 1))
    done
    return 1
}

for k in rds ebs; do expect_code 0 "backup $k" lcb backup "$k" --no-copy; done
expect_code 0 "backup config" lcb backup config

# a. killed mid-way
sim_ctl POST /holds '{"rds.instance": true, "ebs.volume": true}' >/dev/null
"$LCBACKUP" drill --component rds >"$T/k1.out" 2>"$T/k1.err" &
k1=$!
wait_for instances; assert_eq "$?" 0 "the first drill's instance is being created"
kill -KILL $k1; wait $k1 2>/dev/null
"$LCBACKUP" drill --component ebs >"$T/k2.out" 2>"$T/k2.err" &
k2=$!
wait_for volumes; assert_eq "$?" 0 "the second drill's volume is being created"
kill -KILL $k2; wait $k2 2>/dev/null
sim_ctl DELETE /holds >/dev/null
left_i=$(drill_instances); left_v=$(drill_volumes)
[ -n "$left_i" ] && pass "SIGKILL left instance $left_i behind" || fail "SIGKILL left an instance behind"
[ -n "$left_v" ] && pass "SIGKILL left volume $left_v behind" || fail "SIGKILL left a volume behind"
expect_code 0 "the next drill sweeps first, then passes" lcb drill --component config
assert_grep "^swept rds instance $left_i: its drill is over \(abandoned\)$" "$OUT" "the report lists the swept instance"
assert_grep "^swept ebs volume $left_v: its drill is over \(abandoned\)$" "$OUT" "the report lists the swept volume"
assert_eq "$(drill_instances)" "" "after the sweep DescribeDBInstances shows no lcb-drill-* instance"
assert_eq "$(drill_volumes)" "" "after the sweep DescribeVolumes shows no drill volume"
assert_eq "$(sql "SELECT count(*) FROM drills WHERE status='abandoned'")" 2 "the killed drills are recorded as abandoned"
assert_eq "$(sql "SELECT json_array_length(report, '\$.swept') FROM drills ORDER BY started_at DESC LIMIT 1")" 2 "the sweep is in the report JSON"

# b. other catalogs' resources: by their expiry tag
snap=$(sql "SELECT location FROM backups WHERE kind='ebs'")
old=$($AWS ec2 create-volume --availability-zone eu-west-1a --snapshot-id "$snap" --query VolumeId --output text \
      --tag-specifications 'ResourceType=volume,Tags=[{Key=lcbackup:drill-id,Value=drill-20200101T000000-aaaaaa},{Key=lcbackup:drill-expires,Value=2020-01-01T01:00:00Z}]')
new=$($AWS ec2 create-volume --availability-zone eu-west-1a --snapshot-id "$snap" --query VolumeId --output text \
      --tag-specifications 'ResourceType=volume,Tags=[{Key=lcbackup:drill-id,Value=drill-20990101T000000-bbbbbb},{Key=lcbackup:drill-expires,Value=2099-01-01T00:00:00Z}]')
sleep 1.5
expect_code 0 "a drill sweeps what expired elsewhere" lcb drill --component config
assert_grep "^swept ebs volume $old: expired at 2020-01-01T01:00:00Z$" "$OUT" "the expired volume is swept"
assert_no_grep "$new" "$OUT" "the volume not yet expired is left alone"
assert_eq "$(drill_volumes)" "$new" "DescribeVolumes: only the unexpired volume remains"
$AWS ec2 delete-volume --volume-id "$new" 2>/dev/null

# c. SIGTERM and SIGINT: torn down, 143 and 130
for sig in TERM INT; do
    sim_ctl POST /holds '{"rds.instance": true}' >/dev/null
    "$LCBACKUP" drill --component rds >"$T/s.out" 2>"$T/s.err" &
    pid=$!
    wait_for instances
    kill -$sig $pid
    sleep 1
    sim_ctl DELETE /holds >/dev/null
    wait $pid; rc=$?
    want=143; [ $sig = INT ] && want=130
    assert_eq "$rc" "$want" "SIG$sig during the wait: exit $want"
    assert_grep "interrupted: tearing down before exiting" "$T/s.err" "SIG$sig: the teardown announces itself"
    assert_grep "removing DB instance lcb-drill-" "$T/s.err" "SIG$sig: the instance is removed"
    assert_eq "$(drill_instances)" "" "SIG$sig: DescribeDBInstances shows no lcb-drill-* instance"
    assert_eq "$(sql "SELECT status FROM drills ORDER BY started_at DESC LIMIT 1")" interrupted "SIG$sig: the drill is recorded as interrupted"
    assert_eq "$(sql "SELECT json_extract(report, '\$.components[0].status') || ' ' || json_extract(report, '\$.components[0].checks[0].name') || ' ' || json_extract(report, '\$.components[0].checks[0].result') FROM drills ORDER BY started_at DESC LIMIT 1")" "interrupted teardown pass" "SIG$sig: the report shows the teardown"
done

# d. a timeout that the teardown cannot clean up either
sim_ctl POST /holds '{"rds.instance": true}' >/dev/null
expect_code 3 "a drill whose restore outlasts drill.timeout exits 3" lcb --policy "$T/short.json" drill --component rds
assert_grep "error +.*DB instance lcb-drill-[a-z0-9-]+ still creating after 3s" "$OUT" "the timeout is the component's error"
assert_grep "FAIL  teardown +1 of 1 left behind \(the next drill sweeps them\)" "$OUT" "the teardown says what it left"
[ -n "$(drill_instances)" ] && pass "the instance is still there" || fail "the instance is still there"
sim_ctl DELETE /holds >/dev/null
expect_code 0 "the next drill sweeps it" lcb drill --component config
assert_grep "^swept rds instance lcb-drill-[a-z0-9-]+: its drill is over \(failed\)$" "$OUT" "swept: its drill failed"
assert_eq "$(drill_instances)" "" "DescribeDBInstances: nothing left"

done_testing
