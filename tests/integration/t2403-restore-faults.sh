#!/bin/sh
# t2403: restores under faults: throttled writes are retried and succeed; a refused write is
# listed, the others are done, the exit status is 2 and the restore is recorded as partial; a
# second run does only what is still missing.
. "$(dirname "$0")/lib.sh"
CA="$PY $ROOT/tests/integration/config_aws.py"
POLICY=$ROOT/policies/demo.json
sim_up --seed legocity
count_ops() { sim_ctl GET "/requests?service=$1&operation=$2" | grep -c '"operation"'; }
last_restore() { sql "select status from restores order by started_at desc, rowid desc limit 1"; }

expect_code 0 "backup config" lcb --policy "$POLICY" backup config --json
ID=$(sed -n 's/.*"backup_id":"\([^"]*\)".*/\1/p' "$OUT")

# throttled twice, then fine: retried inside one restore
$CA put /legocity/dev/payload/public-url String https://one.example
sim_ctl POST /faults '{"service": "ssm", "operation": "PutParameter", "code": "TooManyUpdates", "times": 2}' >/dev/null
n0=$(count_ops ssm PutParameter)
expect_code 0 "restore ssm with PutParameter throttled twice" lcb --policy "$POLICY" restore ssm "$ID"
assert_grep "^updated /legocity/dev/payload/public-url \(Value\)$" "$OUT" "the change is made"
assert_eq "$(( $(count_ops ssm PutParameter) - n0 ))" 3 "after two throttled attempts"
sim_ctl DELETE /faults >/dev/null

# one write refused: the other is done, exit 2, partial
$CA put /legocity/dev/broker/tenant String other
$CA put /legocity/dev/payload/public-url String https://two.example
sim_ctl POST /faults '{"service": "ssm", "operation": "PutParameter", "code": "ValidationException", "message": "refused for the test", "times": 1}' >/dev/null
expect_code 2 "restore ssm with one write refused" lcb --policy "$POLICY" restore ssm "$ID"
assert_grep "^FAILED update /legocity/dev/broker/tenant: .*ValidationException: refused for the test$" \
    "$OUT" "the refused change is listed with the reason"
assert_grep "^updated /legocity/dev/payload/public-url \(Value\)$" "$OUT" "the other is done"
assert_grep ": 0 created, 1 updated, 0 retagged, 0 replaced, [0-9]+ unchanged, 1 failed$" "$OUT" \
    "the summary counts the failure"
assert_grep "1 of 2 parameter changes failed" "$ERR" "the error line says how many"
assert_eq "$(last_restore)" partial "recorded as partial"
sim_ctl DELETE /faults >/dev/null
expect_code 0 "restore ssm again" lcb --policy "$POLICY" restore ssm "$ID"
assert_grep "^updated /legocity/dev/broker/tenant \(Value\)$" "$OUT" "does what was left"
assert_grep ": 0 created, 1 updated, 0 retagged, 0 replaced, [0-9]+ unchanged, 0 failed$" "$OUT" \
    "and only that"
assert_eq "$(last_restore)" succeeded "recorded as succeeded"

# ECS: a refused CreateService
run $CA ecs-empty legocity-cluster
sim_ctl POST /faults '{"service": "ecs", "operation": "CreateService", "code": "InvalidParameterException", "message": "no capacity for the test", "times": 1}' >/dev/null
expect_code 2 "restore services with one CreateService refused" lcb --policy "$POLICY" restore services "$ID"
assert_grep "^FAILED create service legocity-cluster/broker: .*no capacity for the test$" "$OUT" \
    "the refused service is listed"
assert_grep ": 5 task definitions registered, 4 services created, 0 updated, 0 unchanged, 0 skipped, 1 failed$" \
    "$OUT" "the others are created"
sim_ctl DELETE /faults >/dev/null
expect_code 0 "restore services again" lcb --policy "$POLICY" restore services "$ID"
assert_grep "^created service legocity-cluster/broker " "$OUT" "creates the one left"
assert_grep ": 0 task definitions registered, 1 services created, 0 updated, 4 unchanged" "$OUT" \
    "reusing the revision registered the first time"
expect_code 0 "all equal now" lcb diff config "$ID"

# --json: the result on stdout, each change on stderr, the detail in the catalog
last_detail() { sql "select json_extract(detail,'\$.$1') from restores order by started_at desc, rowid desc limit 1"; }
$CA put /legocity/dev/payload/public-url String https://three.example
expect_code 0 "restore ssm --json" lcb --policy "$POLICY" --json restore ssm "$ID"
assert_eq "$(jq -c 'keys_unsorted' "$OUT")" \
    '["changes","backup_id","created","updated","retagged","replaced","unchanged","failed","kept","restore_id"]' \
    "restore ssm --json: the result's members, in order"
assert_eq "$(jq -r '[.backup_id, .updated, .failed, .changes[0].name, .changes[0].action] | join(" ")' "$OUT")" \
    "$ID 1 0 /legocity/dev/payload/public-url updated" "restore ssm --json: the counts and the change"
assert_grep "^updated /legocity/dev/payload/public-url \(Value\)$" "$ERR" "restore ssm --json: the change on stderr"
assert_eq "$(last_detail updated) $(last_detail restore_id)" "1 " \
    "restore ssm --json: the catalog's detail has the counts, not the restore id"
expect_code 0 "restore services --json" lcb --policy "$POLICY" --json restore services "$ID"
assert_eq "$(jq -c 'keys_unsorted' "$OUT")" \
    '["changes","restore_id","backup_id","registered","created","updated","unchanged","skipped","failed"]' \
    "restore services --json: the result's members, in order"
assert_eq "$(jq -r '[.backup_id, .registered, .unchanged, .failed] | join(" ")' "$OUT")" \
    "$ID 0 5 0" "restore services --json: the counts"
assert_eq "$(last_detail restore_id)" "$(jq -r .restore_id "$OUT")" \
    "restore services --json: the catalog's detail names the restore"

done_testing
