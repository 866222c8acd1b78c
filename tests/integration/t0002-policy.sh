#!/bin/sh
# t0002: policy check and policy show on the shipped policies and on broken ones.
. "$(dirname "$0")/lib.sh"

expect_code 0 "shipped policies are valid" lcb policy check "$ROOT/policies/dev.json" \
    "$ROOT/policies/prod.json" "$ROOT/policies/demo.json"
assert_grep "prod.json: ok \(4 targets\)" "$OUT" "check says ok per file"

printf '{\n  "version": 1,\n  "env": "dev"\n  "region": "eu-west-1"\n}\n' > "$T/syntax.json"
expect_code 65 "syntax error exits 65" lcb policy check "$T/syntax.json"
assert_grep "syntax.json: line 4, column 3" "$ERR" "syntax error names line and column"

cat > "$T/meaning.json" <<'JSON'
{
  "version": 1, "env": "dev", "region": "eu-west-1", "dr_region": "eu-west-1",
  "storage": { "bucket": "legocity-backups-dev" },
  "targets": {
    "rds": [ { "instance": "legocity-payload-db", "schedule": "0 3 * * 9",
               "retention": { "daily": -3, "weekyl": 2 } } ],
    "ebs": [ { "name": "data", "tags": { "Name": "x" }, "schedule": "@daily", "retention": {} } ]
  }
}
JSON
expect_code 78 "meaning errors exit 78" lcb policy check "$T/meaning.json"
assert_grep "meaning.json: dr_region: must differ from region" "$ERR" "DR region equal to primary"
assert_grep "meaning.json: targets.rds\[0\].retention.daily: must be a whole number" "$ERR" "negative count named by JSON path"
assert_grep "meaning.json: targets.rds\[0\].retention.weekyl: unknown key" "$ERR" "unknown key named"
assert_grep "meaning.json: targets.rds\[0\].schedule: .*day-of-week|meaning.json: targets.rds\[0\].schedule: .*'9'" "$ERR" "bad cron field named"
assert_grep "meaning.json: targets.ebs\[0\].retention: keeps nothing" "$ERR" "empty retention refused"

expect_code 78 "missing policy file exits 78" lcb policy check "$T/nope.json"
assert_grep "nope.json" "$ERR" "missing file is named"

expect_code 78 "a command given a bad --policy exits 78" lcb --policy "$T/meaning.json" list

LCBACKUP_NOW=2026-03-28T12:00:00Z; export LCBACKUP_NOW
expect_code 0 "policy show" lcb policy show --count 3 "$ROOT/policies/dev.json"
assert_grep '"bucket": *"legocity-backups-dev"' "$OUT" "show prints the normalised policy"
assert_grep "next scheduled runs after 2026-03-28T12:00:00Z \(time zone Europe/Berlin\)" "$OUT" "show prints the next runs after LCBACKUP_NOW"
# 02:15 Berlin does not exist on 2026-03-29 (02:00 -> 03:00): the job runs once, at 03:00 CEST
assert_grep "^    2026-03-29T01:00:00Z  2026-03-29 03:00 CEST" "$OUT" "a time skipped by DST runs once, when the clock resumes"
assert_grep "^    2026-03-31T00:15:00Z  2026-03-31 02:15 CEST" "$OUT" "next runs in summer time"
[ "$(grep -c '^    2026-' "$OUT")" -eq 12 ] && pass "3 times for each of 4 targets" || fail "3 times for each of 4 targets"
expect_code 0 "policy show --json" lcb --json policy show "$ROOT/policies/demo.json"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["next"])==4 and len(d["next"][0]["times"])==5 and d["policy"]["env"]=="dev"' "$OUT" \
    && pass "policy show --json parses" || fail "policy show --json parses"
unset LCBACKUP_NOW

done_testing
