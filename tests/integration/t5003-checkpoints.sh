#!/bin/sh
# t5003: checkpoints against the simulator: taken (RDS snapshot, broker export, config export at
# once, grouped and held), listed with age and reason, protected from expiry, the restore plan
# (config, then database, then broker) and its execution (confirmation, a failing step stops the
# plan and --from goes on), released, then expirable.
. "$(dirname "$0")/lib.sh"

sim_up
sim_ctl POST /seed '{"name":"legocity","sizes":{"entities":200,"payload_scale":0.05},"services":["kms","s3","rds","ssm","secretsmanager","sns","broker"]}' >/dev/null
aws_py() { $PY "$ROOT/tests/integration/t5lib.py"; }
cat >"$T/dev.json" <<'EOF'
{ "version": 1, "env": "dev", "region": "eu-west-1", "timezone": "UTC",
  "storage": { "bucket": "legocity-backups-dev", "prefix": "lcbackup", "kms_key": "alias/legocity-backups" },
  "defaults": { "schedule": "@hourly", "retention": { "keep_last": 1 } },
  "targets": {
    "rds": [ { "instance": "legocity-payload-db", "db_secret": "legocity/dev/payload/db-credentials" } ],
    "broker": [ { "name": "broker", "url_param": "/legocity/dev/broker/url" } ],
    "config": [ { "name": "config", "ssm_paths": ["/legocity/dev/"], "secret_prefixes": ["legocity/dev/"] } ] } }
EOF
P="--policy $T/dev.json"

# ---- taking one
expect_code 64 "a checkpoint needs --reason" lcb $P checkpoint
expect_code 64 "an unknown component" lcb $P checkpoint --reason x --component rds,nas
expect_code 0 "checkpoint --dry-run" lcb $P checkpoint --reason "payload 3.0 migration" --dry-run
assert_grep "CreateDBSnapshot" "$OUT" "dry run: the snapshot call"
assert_grep "^ssm GetParametersByPath" "$OUT" "dry run: the config export calls"
assert_eq "$(sql "SELECT count(*) FROM backups")" "0" "the dry run took nothing"
expect_code 0 "checkpoint" lcb $P checkpoint --reason "payload 3.0 migration" --name cp-mig
assert_grep "^held rds-[0-9T]+-[0-9a-f]+  rds legocity-payload-db  completed$" "$OUT" "an RDS snapshot, waited for"
assert_grep "^held broker-.*  broker broker  completed$" "$OUT" "a broker export"
assert_grep "^held config-.*  config config  completed$" "$OUT" "a config export"
assert_grep "^checkpoint cp-mig: 3 backups held; once the change is known good: lcbackup release cp-mig$" "$OUT" "the way out is named"
assert_eq "$(sql "SELECT group_concat(kind, ',') FROM (SELECT kind FROM backups WHERE checkpoint='cp-mig' AND hold='cp-mig' AND status='completed' ORDER BY kind)")" \
    "broker,config,rds" "three completed backups grouped and held in the catalog"
SPAN=$(sql "SELECT max(taken_at) - min(taken_at) FROM backups WHERE checkpoint='cp-mig'")
[ "$SPAN" -le 30 ] && pass "recovery points within seconds ($SPAN s)" || fail "recovery points within seconds" "$SPAN s"
assert_eq "$(sql "SELECT json_extract(detail, '\$.reason') FROM events WHERE event='checkpoint.created'")" "payload 3.0 migration" "the reason is recorded"
expect_code 69 "a name in use" lcb $P checkpoint --reason again --name cp-mig
assert_eq "$(sql "SELECT count(*) FROM backups")" "3" "refused before taking anything"

expect_code 0 "list --checkpoints" lcb $P list --checkpoints
assert_grep "^cp-mig +[0-9-]+T[0-9:]+Z +[0-9]+s +held +rds,broker,config +payload 3.0 migration$" "$OUT" "listed with age, state, backups and reason"
expect_code 0 "list --checkpoints --json" lcb $P --json list --checkpoints
assert_eq "$($PY -c 'import json,sys; c=json.load(open(sys.argv[1]))[0]; print(c["name"], c["state"], c["held"], len(c["backups"]), c["age_seconds"] >= 0)' "$OUT")" \
    "cp-mig held 3 3 True" "the JSON says the same"

# ---- protected from expiry: newer backups, then expire
B1=$($PY -c 'import time; print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200)))')
B2=$($PY -c 'import time; print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 10800)))')
LCBACKUP_NOW=$B1 expect_code 0 "a newer broker backup" lcb $P backup broker
LCBACKUP_NOW=$B1 expect_code 0 "a newer config backup" lcb $P backup config
LCBACKUP_NOW=$B1 expect_code 0 "a newer rds backup" lcb $P backup rds --no-copy
LCBACKUP_NOW=$B2 expect_code 0 "expire --explain" lcb $P expire --explain
assert_eq "$(grep -Ec "keep +hold$" "$OUT")" "3" "the three held backups: kept by their hold"
LCBACKUP_NOW=$B2 expect_code 0 "expire" lcb $P expire
assert_eq "$(sql "SELECT count(*) FROM backups WHERE checkpoint='cp-mig' AND status='completed'")" "3" "expire left the checkpoint alone"

# ---- the way back: the plan
expect_code 0 "restore checkpoint --dry-run" lcb $P restore checkpoint cp-mig --dry-run
assert_grep "^plan: 4 steps, config first, then the database, then the broker$" "$OUT" "four steps"
grep -E '^ +lcbackup ' "$OUT" | sed 's/^ *//' >"$T/plan"
CFG=$(sql "SELECT id FROM backups WHERE checkpoint='cp-mig' AND kind='config'")
RDS=$(sql "SELECT id FROM backups WHERE checkpoint='cp-mig' AND kind='rds'")
BRK=$(sql "SELECT id FROM backups WHERE checkpoint='cp-mig' AND kind='broker'")
printf '%s\n' "lcbackup restore ssm $CFG --yes" "lcbackup restore secrets $CFG --yes" \
    "lcbackup restore rds --backup $RDS --yes" "lcbackup restore broker $BRK --yes" >"$T/want"
if diff -u "$T/want" "$T/plan" >"$T/d"; then pass "config, then database, then broker, each command shown"; else fail "the plan's commands" "$(cat "$T/d")"; fi
assert_grep "^note: the database credentials of legocity-payload-db live in secret legocity/dev/payload/db-credentials" "$OUT" "a note for the db_secret"
expect_code 0 "the plan as JSON" lcb $P --json restore checkpoint cp-mig --dry-run
assert_eq "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print([s["phase"] for s in d["steps"]])' "$OUT")" \
    "['config', 'config', 'database', 'broker']" "phases in order"
assert_eq "$(sql "SELECT count(*) FROM restores")" "0" "the dry run restored nothing"
expect_code 64 "no terminal and no --yes" lcb $P restore checkpoint cp-mig </dev/null
assert_grep "run it on a terminal to confirm, or add --yes" "$ERR" "it asks for confirmation"
expect_code 64 "--from beyond the plan" lcb $P restore checkpoint cp-mig --from 9 --yes
expect_code 66 "an unknown checkpoint" lcb $P restore checkpoint cp-nope --dry-run

# ---- the way back: execution, after changes; a failing step stops the plan
aws_py >"$T/before" <<'EOF'
print(ssm.get_parameter(Name="/legocity/dev/broker/url")["Parameter"]["Value"])
print(sm.get_secret_value(SecretId="legocity/dev/mapbox/token")["SecretString"])
ssm.put_parameter(Name="/legocity/dev/broker/url", Value="http://127.0.0.1:9/broken", Overwrite=True)
sm.put_secret_value(SecretId="legocity/dev/mapbox/token", SecretString="after-the-change")
EOF
{ read -r URL; read -r TOKEN; } <"$T/before"
sim_ctl POST /faults '{"service":"s3","path_prefix":"/legocity-backups-dev/lcbackup/dev/broker/","code":"AccessDenied","status":403}' >/dev/null
expect_code 2 "restore checkpoint: the broker step fails" lcb $P restore checkpoint cp-mig --yes
assert_grep "step 4 \(broker\) ended with exit 77; the steps after it were not run: .*--from 4 cp-mig" "$ERR" "it names the step and how to go on"
assert_eq "$(sql "SELECT status FROM restores WHERE kind='checkpoint'")" "failed" "recorded as failed"
sim_ctl DELETE /faults >/dev/null
aws_py >"$T/after" <<'EOF'
print(ssm.get_parameter(Name="/legocity/dev/broker/url")["Parameter"]["Value"])
print(sm.get_secret_value(SecretId="legocity/dev/mapbox/token")["SecretString"])
print(len([i for i in rds.describe_db_instances()["DBInstances"] if i["DBInstanceIdentifier"].startswith("legocity-payload-db-r")]))
EOF
assert_eq "$(sed -n 1p "$T/after")" "$URL" "step 1 put the SSM parameter back"
assert_eq "$(sed -n 2p "$T/after")" "$TOKEN" "step 2 put the secret back"
assert_eq "$(sed -n 3p "$T/after")" "1" "step 3 restored the database as a new instance"
expect_code 0 "restore checkpoint --from 4" lcb $P restore checkpoint cp-mig --from 4 --yes
assert_grep "^broker-.*: 200 entities written, 0 failed$" "$OUT" "the broker step ran"
assert_grep "^restore-[0-9T]+-[0-9a-f]+: checkpoint cp-mig restored \(1 steps\)" "$OUT" "done"
assert_eq "$(sql "SELECT group_concat(status, ',') FROM (SELECT status FROM restores WHERE kind='checkpoint' ORDER BY started_at, id)")" "failed,succeeded" "both attempts recorded"
assert_eq "$(sql "SELECT json_extract(detail, '\$.steps[0].command') FROM restores WHERE kind='checkpoint' AND status='succeeded'")" \
    "lcbackup restore broker $BRK --yes" "with each step's command"

# ---- released, then expirable
expect_code 0 "release" lcb $P release cp-mig
assert_grep "^released checkpoint cp-mig: 3 backups are under the retention rules again$" "$OUT" "released"
assert_eq "$(sql "SELECT count(*) FROM backups WHERE hold IS NOT NULL")" "0" "no hold left"
expect_code 0 "release again" lcb $P release cp-mig
assert_grep "released already" "$OUT" "nothing to release twice"
expect_code 66 "release an unknown checkpoint" lcb $P release cp-nope
expect_code 0 "list --checkpoints after the release" lcb $P list --checkpoints
assert_grep "^cp-mig .* released +rds,broker,config +payload 3.0 migration$" "$OUT" "listed as released"
LCBACKUP_NOW=$B2 expect_code 0 "expire after the release" lcb $P expire
assert_eq "$(sql "SELECT group_concat(status, ',') FROM (SELECT status FROM backups WHERE checkpoint='cp-mig' ORDER BY kind)")" \
    "expired,expired,expired" "the released backups expire"
assert_eq "$(sql "SELECT count(*) FROM backups WHERE checkpoint IS NULL AND status='completed'")" "3" "the newer ones stay"

done_testing
