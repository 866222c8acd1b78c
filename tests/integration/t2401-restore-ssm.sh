#!/bin/sh
# t2401: restore ssm against the simulator: a round trip of 36 parameters over 3 levels (every
# type, tier, KeyId, pattern, data type and tag) checked field by field through botocore; only
# what differs is written (create with tags, overwrite then tag, re-tag, replace for a type or a
# tier downgrade); dry run; --path; --map into another environment; the refusals.
. "$(dirname "$0")/lib.sh"
CA="$PY $ROOT/tests/integration/config_aws.py"
POLICY=$ROOT/policies/demo.json
RT=/legocity/dev/rt/
sim_up --seed legocity
count_ops() { sim_ctl GET "/requests?service=$1&operation=$2" | grep -c '"operation"'; }
writes() { echo "$(count_ops ssm PutParameter) $(count_ops ssm DeleteParameter) $(count_ops ssm AddTagsToResource) $(count_ops ssm RemoveTagsFromResource)"; }

run $CA seed-params /legocity/dev/rt 3 12
$CA snapshot $RT > "$T/before.json"
assert_eq "$(jq length "$T/before.json")" 36 "36 parameters over 3 levels to round-trip"
expect_code 0 "backup config" lcb --policy "$POLICY" backup config --json
ID=$(sed -n 's/.*"backup_id":"\([^"]*\)".*/\1/p' "$OUT")

# round trip: everything deleted, everything back
run $CA delete-path $RT
assert_eq "$(cat "$OUT")" 36 "deleted the 36"
w0=$(writes)
expect_code 0 "restore ssm into the emptied path" lcb --policy "$POLICY" restore ssm "$ID"
assert_grep "^restore-[0-9T-]+[0-9a-f]+: 36 created, 0 updated, 0 retagged, 0 replaced, 16 unchanged, 0 failed$" \
    "$OUT" "36 created, the 16 others left alone"
assert_grep "^created /legocity/dev/rt/l1/l2/l3/p02 \(SecureString\)$" "$OUT" "reports each change"
set -- $w0
set -- $(( $(count_ops ssm PutParameter) - $1 )) $(( $(count_ops ssm AddTagsToResource) - $3 ))
assert_eq "$1 $2" "36 0" "one PutParameter each, tags given at creation"
$CA snapshot $RT > "$T/after.json"
run $CA compare "$T/before.json" "$T/after.json"
assert_eq "$RC" 0 "field by field equal to before (values decrypted, type, KeyId, tier, description, pattern, data type, tags)"
assert_grep "^36 parameters compared, 0 differences$" "$OUT" "36 compared"
expect_code 0 "and diff config agrees" lcb diff config "$ID"

# nothing to do: nothing written
w0=$(writes)
expect_code 0 "restore ssm again" lcb --policy "$POLICY" restore ssm "$ID"
assert_grep ": 0 created, 0 updated, 0 retagged, 0 replaced, 52 unchanged, 0 failed$" "$OUT" \
    "all 52 unchanged"
assert_eq "$(writes)" "$w0" "no write at all"

# one change of each kind, then only those put back
$CA put /legocity/dev/rt/l1/p00 String "changed value"                      # overwrite
$CA tag /legocity/dev/rt/l1/l2/p01 Owner someone                             # re-tag (remove)
$CA tag /legocity/dev/rt/l1/l2/p00 Level 99                                  # re-tag (change)
run $CA delete-path /legocity/dev/rt/l1/l2/l3/
run $CA put /legocity/dev/rt/l1/l2/l3/p00 SecureString "now a secret"        # another type
$CA put /legocity/dev/rt/l1/p06 String "value 1.6" Advanced                  # tier up
$CA put /legocity/dev/rt/l1/p03 SecureString "rotated-in-place"             # SecureString value
$CA put /legocity/dev/rt/extra String "not in the backup"
expect_code 0 "restore ssm --dry-run" lcb --policy "$POLICY" restore ssm "$ID" --dry-run
cp "$OUT" "$T/dry"
assert_grep '^DeleteParameter \{"Name":"/legocity/dev/rt/l1/l2/l3/p00"\}$' "$T/dry" "replace: delete ..."
assert_grep '^PutParameter \{"Name":"/legocity/dev/rt/l1/l2/l3/p00","Type":"String",.*"Overwrite":false,"Tags":\[' \
    "$T/dry" "... then create with its type and tags"
assert_grep '^PutParameter \{"Name":"/legocity/dev/rt/l1/p00","Type":"String","Value":"value 1.0",.*"Overwrite":true\}$' \
    "$T/dry" "overwrite without tags"
assert_grep '^PutParameter \{"Name":"/legocity/dev/rt/l1/p03","Type":"SecureString","Value":"\*\*\*","KeyId":"alias/legocity-backups",' \
    "$T/dry" "a SecureString keeps its KeyId; its value is masked"
assert_grep '^RemoveTagsFromResource \{"ResourceType":"Parameter","ResourceId":"/legocity/dev/rt/l1/l2/p01","TagKeys":\["Owner"\]\}$' \
    "$T/dry" "a tag the backup does not have is removed"
assert_grep '^AddTagsToResource \{"ResourceType":"Parameter","ResourceId":"/legocity/dev/rt/l1/l2/p00",' \
    "$T/dry" "a changed tag is put back"
assert_grep '^DeleteParameter \{"Name":"/legocity/dev/rt/l1/p06"\}$' "$T/dry" \
    "Advanced -> Standard: replaced (SSM cannot downgrade a tier)"
assert_grep '^dry run: 17 to change, 35 unchanged, 1 not in the backup \(kept\)$' "$T/dry" \
    "dry run summary (11 missing under l3, 6 changed)"
assert_no_grep 'rotated-in-place|sekrit-' "$T/dry" "no SecureString value in the dry run"
w0=$(writes)
expect_code 0 "dry run again" lcb --policy "$POLICY" restore ssm "$ID" --dry-run
assert_eq "$(writes)" "$w0" "a dry run writes nothing"

w0=$(writes)
expect_code 0 "restore ssm: only what differs" lcb --policy "$POLICY" restore ssm "$ID"
assert_grep ": 11 created, 2 updated, 2 retagged, 2 replaced, 35 unchanged, 0 failed$" "$OUT" \
    "11 created, 2 updated, 2 retagged, 2 replaced"
assert_grep "^updated /legocity/dev/rt/l1/p03 \(Value, KeyId\)$" "$OUT" "says what differed (KeyId back too)"
assert_grep "^replaced /legocity/dev/rt/l1/l2/l3/p00 \(Type, Value, Tags.Level, Tags.Project\)$" "$OUT" \
    "and why a parameter was replaced"
assert_grep "^kept /legocity/dev/rt/extra \(not in the backup\)$" "$OUT" "lists what it keeps"
set -- $w0
assert_eq "$(( $(count_ops ssm PutParameter) - $1 )) $(( $(count_ops ssm DeleteParameter) - $2 ))" \
    "15 2" "15 puts and 2 deletes, nothing else rewritten"
$CA snapshot $RT > "$T/after.json"
run $CA compare "$T/before.json" "$T/after.json"
assert_grep "^/legocity/dev/rt/extra: only in second$" "$OUT" "the extra parameter is still there"
assert_grep "^36 parameters compared, 1 differences$" "$OUT" "everything else is as backed up"
assert_eq "$(sql "select status||' '||json_extract(detail,'$.replaced')||' '||json_extract(detail,'$.kept[0]') from restores order by started_at desc, rowid desc limit 1")" \
    "succeeded 2 /legocity/dev/rt/extra" "the restore is recorded with its detail"

# --path: only part of the backup
$CA put /legocity/dev/rt/l1/p00 String "changed again"
$CA put /legocity/dev/rt/l1/l2/p00 String "changed too"
expect_code 0 "restore ssm --path" lcb --policy "$POLICY" restore ssm "$ID" --path /legocity/dev/rt/l1/l2/
assert_grep "^updated /legocity/dev/rt/l1/l2/p00 \(Value\)$" "$OUT" "the parameter under the path"
assert_no_grep "rt/l1/p00" "$OUT" "not the one outside it"
assert_eq "$($CA get /legocity/dev/rt/l1/p00)" "changed again" "outside the path: untouched"

# another environment
expect_code 64 "into another environment without --map" \
    lcb --policy "$POLICY" --env prod restore ssm "$ID"
assert_grep "holds env dev's parameters: restoring them into env prod needs --map, e.g. --map /legocity/dev/=/legocity/prod/" \
    "$ERR" "says which --map to give"
expect_code 64 "prod is production: --yes needed" \
    lcb --policy "$POLICY" --env prod restore ssm "$ID" --path $RT --map /legocity/dev/rt/=/legocity/prod/rt/
assert_grep "env prod is production: add --yes" "$ERR" "says so"
w0=$(writes)
expect_code 0 "--map with --yes" \
    lcb --policy "$POLICY" --env prod restore ssm "$ID" --path $RT --map /legocity/dev/rt/=/legocity/prod/rt/ --yes
assert_grep ": 36 created, 0 updated, 0 retagged, 0 replaced, 0 unchanged, 0 failed$" "$OUT" \
    "36 created under /legocity/prod/rt/"
$CA snapshot /legocity/prod/rt/ > "$T/prod.json"
run $CA compare "$T/before.json" "$T/prod.json" /legocity/dev/rt/=/legocity/prod/rt/
assert_eq "$RC" 0 "renamed, everything else as backed up"
expect_code 64 "--map outside the policy's paths for this env" \
    lcb --policy "$POLICY" restore ssm "$ID" --map /legocity/dev/=/elsewhere/dev/
expect_code 64 "a malformed --map" lcb --policy "$POLICY" restore ssm "$ID" --map prod=dev
expect_code 66 "an unknown id" lcb --policy "$POLICY" restore ssm config-19990101T000000-000000

# a catalog that cannot record the end of a restore: the restore is done, and that is said
sql "CREATE TRIGGER refuse_end BEFORE UPDATE OF status ON restores WHEN NEW.status != 'running'
     BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
expect_code 0 "restore ssm with a catalog that refuses the record" lcb --policy "$POLICY" restore ssm "$ID"
assert_grep "could not record restore restore-.*refused by the test" "$ERR" \
    "the failed catalog write is logged as an error, not ignored"
sql "DROP TRIGGER refuse_end"

done_testing
