#!/bin/sh
# t2501: restore services against the simulator: services and task definitions re-created in an
# emptied cluster equal the originals field by field (through botocore); an update puts back
# only what differs (revision, desired count, tags); dry run; --service; a DRAINING service.
. "$(dirname "$0")/lib.sh"
CA="$PY $ROOT/tests/integration/config_aws.py"
POLICY=$ROOT/policies/demo.json
sim_up --seed legocity
count_ops() { sim_ctl GET "/requests?service=$1&operation=$2" | grep -c '"operation"'; }
ecs_writes() {
    for op in RegisterTaskDefinition CreateService UpdateService TagResource UntagResource; do
        printf '%s ' "$(count_ops ecs $op)"
    done
}

$CA ecs-snapshot legocity-cluster > "$T/before.json"
assert_eq "$(jq -c 'keys' "$T/before.json")" '["broker","dashboard","payload","proxy","update-env"]' \
    "5 services to round-trip"
expect_code 0 "backup config" lcb --policy "$POLICY" backup config --json
ID=$(sed -n 's/.*"backup_id":"\([^"]*\)".*/\1/p' "$OUT")

expect_code 0 "nothing to do on an intact cluster" lcb --policy "$POLICY" restore services "$ID"
assert_grep ": 0 task definitions registered, 0 services created, 0 updated, 5 unchanged, 0 skipped, 0 failed$" \
    "$OUT" "5 unchanged"

# an emptied cluster: no service, every task definition revision deregistered
run $CA ecs-empty legocity-cluster
assert_grep "^5 services deleted, 6 task definitions deregistered$" "$OUT" "emptied the cluster"
w0=$(ecs_writes)
expect_code 0 "restore services --dry-run" lcb --policy "$POLICY" restore services "$ID" --dry-run
assert_grep '^RegisterTaskDefinition \{"containerDefinitions":.*"family":"legocity-broker",' "$OUT" \
    "dry run: register ..."
assert_no_grep 'RegisterTaskDefinition .*"(taskDefinitionArn|revision|status|registeredAt|compatibilities|requiresAttributes)"' \
    "$OUT" "... without the read-only fields"
assert_grep '^CreateService \{"cluster":"legocity-cluster","taskDefinition":"<registered>","serviceName":"broker",' \
    "$OUT" "dry run: create"
assert_grep '^dry run: 5 services to change, 0 unchanged or skipped$' "$OUT" "dry run summary"
assert_eq "$(ecs_writes)" "$w0" "a dry run writes nothing"

expect_code 0 "restore services into the emptied cluster" lcb --policy "$POLICY" restore services "$ID"
assert_grep "^registered legocity-payload:3 \(from legocity-payload:2\)$" "$OUT" \
    "registers the revision the service ran, as a new revision"
assert_grep "^created service legocity-cluster/payload \(arn:aws:ecs:eu-west-1:123456789012:task-definition/legocity-payload:3\)$" \
    "$OUT" "creates the service on it"
assert_grep ": 5 task definitions registered, 5 services created, 0 updated, 0 unchanged, 0 skipped, 0 failed$" \
    "$OUT" "5 registered, 5 created"
$CA ecs-snapshot legocity-cluster > "$T/after.json"
diff -u "$T/before.json" "$T/after.json" > "$T/d" &&
    pass "services and task definitions equal the originals field by field (botocore's view)" ||
    fail "services and task definitions equal the originals field by field (botocore's view)" \
        "$(head -40 "$T/d")"
assert_eq "$(jq -r '.payload.taskDefinition.containerDefinitions[0].image' "$T/after.json")" \
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/legocity/payload-cms:2.3.0" \
    "the revision the service ran, not the latest"
expect_code 0 "and diff config agrees" lcb diff config "$ID"
assert_eq "$(sql "select kind||' '||status||' '||json_extract(detail,'$.created') from restores order by started_at desc, rowid desc limit 1")" \
    "services succeeded 5" "the restore is recorded"

# drift on one service: another revision, another count, an extra tag
TD=$($CA ecs-variant legocity-payload 123456789012.dkr.ecr.eu-west-1.amazonaws.com/legocity/payload-cms:2.2.7)
assert_eq "$TD" legocity-payload:4 "a newer revision with another image"
$CA ecs-update legocity-cluster payload desired=4 td=$TD tag=Owner=ops
w0=$(ecs_writes)
expect_code 0 "restore services --service payload --dry-run" \
    lcb --policy "$POLICY" restore services "$ID" --service payload --dry-run
assert_grep '^UpdateService \{"desiredCount":2,"cluster":"legocity-cluster","service":"payload","taskDefinition":"arn:aws:ecs:eu-west-1:123456789012:task-definition/legocity-payload:3"\}$' \
    "$OUT" "updates to the equal live revision (no new one) and the archived count"
assert_grep '^UntagResource \{"resourceArn":"arn:aws:ecs:eu-west-1:123456789012:service/legocity-cluster/payload","tagKeys":\["Owner"\]\}$' \
    "$OUT" "removes the extra tag"
assert_eq "$(ecs_writes)" "$w0" "a dry run writes nothing"
expect_code 0 "restore services --service payload" \
    lcb --policy "$POLICY" restore services "$ID" --service payload
assert_grep "^updated service legocity-cluster/payload \(task definition, desiredCount, tags\)$" "$OUT" \
    "updates only what differs"
set -- $w0
set -- $(( $(count_ops ecs RegisterTaskDefinition) - $1 )) $(( $(count_ops ecs UpdateService) - $3 ))
assert_eq "$1 $2" "0 1" "no registration, one UpdateService"
$CA ecs-snapshot legocity-cluster > "$T/after.json"
diff -u "$T/before.json" "$T/after.json" > "$T/d" && pass "back to the originals" ||
    fail "back to the originals" "$(head -40 "$T/d")"

w0=$(ecs_writes)
expect_code 0 "restore services again" lcb --policy "$POLICY" restore services "$ID"
assert_grep ": 0 task definitions registered, 0 services created, 0 updated, 5 unchanged" "$OUT" \
    "5 unchanged"
assert_eq "$(ecs_writes)" "$w0" "nothing written"

expect_code 66 "an unknown --service" lcb --policy "$POLICY" restore services "$ID" --service nope
expect_code 64 "into prod without --yes" lcb --policy "$POLICY" --env prod restore services "$ID" \
    --cluster legocity-cluster
expect_code 64 "another env's backup without --cluster" lcb --policy "$POLICY" --env prod \
    restore services "$ID" --yes

# a service still DRAINING cannot be created again yet: reported, exit 2, the others done
sim_ctl POST /delays '{"ecs.drain": 600}' >/dev/null
aws --endpoint-url "$AWS_ENDPOINT_URL" ecs delete-service --cluster legocity-cluster \
    --service proxy --force >/dev/null 2>&1
$CA ecs-update legocity-cluster dashboard desired=0
expect_code 2 "restore services with a DRAINING service" lcb --policy "$POLICY" restore services "$ID"
assert_grep "^skipped service legocity-cluster/proxy \(it is DRAINING: restore again once it is INACTIVE\)$" \
    "$OUT" "reports the DRAINING service"
assert_grep "^updated service legocity-cluster/dashboard \(desiredCount\)$" "$OUT" "the others are done"
assert_grep "services were not restored" "$ERR" "says some were not"
assert_eq "$(sql "select status from restores order by started_at desc, rowid desc limit 1")" partial \
    "recorded as partial"

done_testing
