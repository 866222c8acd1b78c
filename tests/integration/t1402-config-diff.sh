#!/bin/sh
# t1402: diff config against live AWS and between two backups: each kind of change (parameter
# added, removed, value, SecureString value, tags, description, tier; task definition; service
# settings and tags), SecureString masking and --show-secrets, --json, exit 0 and 1.
. "$(dirname "$0")/lib.sh"
CA="$PY $ROOT/tests/integration/config_aws.py"
POLICY=$ROOT/policies/demo.json
sim_up --seed legocity

expect_code 0 "backup config" lcb --policy "$POLICY" backup config --json
ID=$(sed -n 's/.*"backup_id":"\([^"]*\)".*/\1/p' "$OUT")
expect_code 0 "diff config: equal right after the backup" lcb diff config "$ID"
assert_eq "$(cat "$OUT")" "no differences" "says so"
expect_code 0 "diff config --json: equal" lcb diff config "$ID" --json
assert_eq "$(jq -c '[.equal, .added, .removed, .changed, (.items | length)]' "$OUT")" \
    '[true,0,0,0,0]' "--json says equal"

# one change of each kind
OLD_SECRET=$($CA get /legocity/dev/payload/secret)
NEW_SECRET="rotated-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
$CA put /legocity/dev/payload/public-url String https://cms2.dev.legocity.example
$CA put /legocity/dev/payload/secret SecureString "$NEW_SECRET"
$CA tag /legocity/dev/broker/tenant Owner ops
$CA untag /legocity/dev/broker/url Environment
$CA put /legocity/dev/features/flags/map-v2 String true Advanced
$CA put /legocity/dev/features/flags/new-map String yes
run $CA delete-path /legocity/dev/ops/
$CA ecs-update legocity-cluster payload desired=3 td=legocity-payload:1 tag=Owner=ops

expect_code 1 "diff config: 1 when live differs" lcb diff config "$ID"
cp "$OUT" "$T/diff.txt"
assert_grep "^lcbackup: diff config: live differs from backup $ID: 9 differences$" "$ERR" \
    "one line on stderr says it differs"
assert_grep '^~ parameter /legocity/dev/payload/public-url$' "$T/diff.txt" "a changed value"
assert_grep '^    Value: "https://cms.dev.legocity.example" -> "https://cms2.dev.legocity.example"$' \
    "$T/diff.txt" "shows the String value, before and after"
assert_grep '^~ parameter /legocity/dev/payload/secret$' "$T/diff.txt" "a changed SecureString"
assert_grep '^    Value: "\*\*\*" -> "\*\*\*"$' "$T/diff.txt" "is masked"
assert_grep '^    Tags.Owner: \(absent\) -> "ops"$' "$T/diff.txt" "a tag added"
assert_grep '^    Tags.Environment: "dev" -> \(absent\)$' "$T/diff.txt" "a tag removed"
assert_grep '^    Tier: "Standard" -> "Advanced"$' "$T/diff.txt" "a tier changed"
assert_grep '^\+ parameter /legocity/dev/features/flags/new-map \(String\)$' "$T/diff.txt" \
    "a parameter added"
assert_grep '^- parameter /legocity/dev/ops/alerts/email \(String\)$' "$T/diff.txt" \
    "a parameter removed"
assert_grep '^~ task definition legocity-payload \(legocity-payload:2 -> legocity-payload:1\)$' \
    "$T/diff.txt" "a task definition changed, with the revisions"
assert_grep '^    containerDefinitions\[payload\]\.image: ".*payload-cms:2\.3\.0" -> ".*payload-cms:2\.2\.7"$' \
    "$T/diff.txt" "field by field, containers matched by name"
assert_grep '^~ service legocity-cluster/payload$' "$T/diff.txt" "a service changed"
assert_grep '^    desiredCount: 2 -> 3$' "$T/diff.txt" "its desired count"
assert_grep '^    tags\[Owner\]: \(absent\) -> \{"key":"Owner","value":"ops"\}$' "$T/diff.txt" \
    "its tags, matched by key"
assert_grep '^9 differences: 1 added, 1 removed, 7 changed$' "$T/diff.txt" "a summary line"
assert_no_grep 'runningCount|deployments|revision|registeredAt' "$T/diff.txt" \
    "runtime fields, revisions and times are not differences"
leak=0
for s in "$OLD_SECRET" "$NEW_SECRET"; do
    grep -qF -- "$s" "$T/diff.txt" "$ERR" && leak=1
done
assert_eq "$leak" 0 "no SecureString value in the masked output"

expect_code 1 "diff config --show-secrets" lcb diff config "$ID" --show-secrets
assert_grep "^    Value: \"$OLD_SECRET\" -> \"$NEW_SECRET\"$" "$OUT" "--show-secrets shows both values"

expect_code 1 "diff config --json" lcb diff config "$ID" --json
assert_eq "$(jq -c '[.equal, .added, .removed, .changed]' "$OUT")" '[false,1,1,7]' "--json counts"
assert_eq "$(jq -c '.items[] | select(.name=="/legocity/dev/payload/secret") | .fields[0]' "$OUT")" \
    '{"field":"Value","from":"***","to":"***"}' "--json masks too"
assert_eq "$(jq -c '.items[] | select(.name=="/legocity/dev/broker/tenant") | .fields[0]' "$OUT")" \
    '{"field":"Tags.Owner","from":null,"to":"ops"}' "--json: null for an absent side"

# two backups
expect_code 0 "a second backup" lcb --policy "$POLICY" backup config --json
ID2=$(sed -n 's/.*"backup_id":"\([^"]*\)".*/\1/p' "$OUT")
expect_code 0 "the second backup equals live" lcb diff config "$ID2"
expect_code 1 "diff config ID --against ID2" lcb diff config "$ID" --against "$ID2"
diff "$T/diff.txt" "$OUT" > "$T/d" && pass "two backups differ as the first does from live" ||
    fail "two backups differ as the first does from live" "$(cat "$T/d")"
expect_code 1 "and the other way round" lcb diff config "$ID2" --against "$ID"
assert_grep '^- parameter /legocity/dev/features/flags/new-map \(String\)$' "$OUT" "added becomes removed"

expect_code 66 "an unknown id" lcb diff config config-19990101T000000-000000
expect_code 64 "no id" lcb diff config

done_testing
