#!/bin/sh
# t5002: alerts against the simulator: one SNS message for a failed run (subject, what failed,
# exit code, next step; recorded in the catalog), none for a good run nor for a usage error, one
# for success only with notify.on_success; the RunFailed metric line in JSON logs; `lcbackup
# alarms` as JSON and CloudFormation, applied with PutMetricAlarm and described back with the aws
# CLI; an alarm that fires publishes to the same topic.
. "$(dirname "$0")/lib.sh"

sim_up
sim_ctl POST /seed '{"name":"legocity","sizes":{"entities":200},"services":["kms","s3","ssm","sns","broker"]}' >/dev/null
TOPIC=arn:aws:sns:eu-west-1:123456789012:legocity-backup-alerts
policy() { # policy FILE ON_SUCCESS
    cat >"$1" <<EOF
{ "version": 1, "env": "dev", "region": "eu-west-1", "timezone": "UTC",
  "storage": { "bucket": "legocity-backups-dev", "prefix": "lcbackup", "kms_key": "alias/legocity-backups" },
  "notify": { "sns_topic": "$TOPIC", "on_success": $2 },
  "defaults": { "schedule": "@hourly", "retention": { "keep_last": 3 } },
  "targets": { "broker": [ { "name": "broker", "url_param": "/legocity/dev/broker/url" } ],
               "config": [ { "name": "config", "ssm_paths": ["/legocity/dev/"] } ] },
  "drill": { "rpo_target": "2h" } }
EOF
}
policy "$T/dev.json" false
policy "$T/loud.json" true
P="--policy $T/dev.json"
messages() { sim_ctl GET "/sns/messages?topic=$TOPIC" >"$T/msgs.json"; }
count() { messages; $PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["messages"]))' "$T/msgs.json"; }
field() { $PY -c 'import json,sys; m=json.load(open(sys.argv[1]))["messages"][int(sys.argv[2])]; print(m[sys.argv[3]])' "$T/msgs.json" "$1" "$2"; }

# ---- a good run: no message
expect_code 0 "a good backup" lcb $P backup broker
assert_eq "$(count)" "0" "no message for a good run"
expect_code 64 "a usage error" lcb $P backup broker --no-such-flag
assert_eq "$(count)" "0" "no message for a usage error"

# ---- a failed run: one message that says what, the exit code and the next step
sim_ctl POST /faults '{"service":"s3","operation":"CreateMultipartUpload","code":"AccessDenied","status":403}' >/dev/null
sim_ctl POST /faults '{"service":"s3","operation":"PutObject","code":"AccessDenied","status":403}' >/dev/null
expect_code 77 "a backup S3 refuses" lcb $P backup broker
assert_grep "notified $TOPIC of this failed run" "$ERR" "the run says it notified"
assert_eq "$(count)" "1" "one message for the failed run"
assert_eq "$(field 0 Subject)" "lcbackup dev: backup broker failed (exit 77)" "subject: env, command, outcome, exit code"
field 0 Message >"$T/body"
assert_grep "^What failed: .*AccessDenied" "$T/body" "body: what failed"
assert_grep "^Exit code: +77 \(AWS authentication or permission denied\)" "$T/body" "body: the exit code and its meaning"
assert_grep "^Next step: AWS denied access.*lcbackup doctor" "$T/body" "body: the next step"
RUN=$(sql "SELECT id FROM runs WHERE exit_code=77")
assert_grep "^Run: +$RUN \(lcbackup show $RUN\)" "$T/body" "body: the run to look at"
assert_eq "$($PY -c 'import json,sys; m=json.load(open(sys.argv[1]))["messages"][0]["MessageAttributes"]; print(m["exit_code"]["StringValue"], m["env"]["StringValue"], m["status"]["StringValue"])' "$T/msgs.json")" "77 dev failed" "message attributes for subscription filters"
assert_eq "$(sql "SELECT count(*) FROM events WHERE run_id='$RUN' AND event='notify.sent' AND detail LIKE '%\"exit_code\":77%'")" "1" "the catalog records the notice"

# ---- the RunFailed metric in JSON logs (CloudWatch embedded metric format)
expect_code 77 "again, with JSON logs" lcb $P --log-format json backup broker
assert_grep '"event":"run.metrics".*"_aws":\{"Timestamp":[0-9]+,"CloudWatchMetrics":\[\{"Namespace":"lcbackup","Dimensions":\[\["Env"\]\]' "$ERR" "an EMF line declares RunFailed"
assert_grep '"Env":"dev","RunFailed":1' "$ERR" "RunFailed is 1 with its dimension"
assert_eq "$(count)" "2" "one message per failed run"
sim_ctl DELETE /faults >/dev/null

# ---- a notice that cannot be published never changes the outcome
sim_ctl POST /faults '{"service":"sns","operation":"Publish","code":"AuthorizationError","status":403}' >/dev/null
sim_ctl POST /faults '{"service":"s3","operation":"CreateMultipartUpload","code":"AccessDenied","status":403}' >/dev/null
expect_code 77 "a failed run whose notice fails" lcb $P backup broker
assert_grep "warn +backup broker: could not notify" "$ERR" "a warning says the notice failed"
sim_ctl DELETE /faults >/dev/null

# ---- success announced only when asked
expect_code 0 "a good run with on_success" lcb --policy "$T/loud.json" --log-format json backup broker
assert_grep '"Env":"dev","RunFailed":0' "$ERR" "RunFailed is 0 for a good run"
assert_eq "$(count)" "3" "on_success: one message for the good run"
assert_eq "$(field 2 Subject)" "lcbackup dev: backup broker succeeded" "the success subject"

# ---- alarms: printed, applied, described back
expect_code 0 "alarms as JSON" lcb $P alarms
assert_eq "$($PY -c 'import json,sys; a=json.load(open(sys.argv[1])); print(len(a), sorted(x["AlarmName"] for x in a)[0], a[0]["Threshold"], a[0]["AlarmActions"][0])' "$OUT")" \
    "5 lcbackup-dev-broker-broker-backup-age 7200 $TOPIC" "five definitions, threshold = the RPO, action = the topic"
expect_code 0 "alarms as CloudFormation" lcb $P alarms --format cloudformation
assert_eq "$($PY -c 'import json,sys; t=json.load(open(sys.argv[1])); r=t["Resources"]; print(t["AWSTemplateFormatVersion"], len(r), {v["Type"] for v in r.values()}.pop(), r["LcbackupDevRunFailed"]["Properties"]["MetricName"])' "$OUT")" \
    "2010-09-09 5 AWS::CloudWatch::Alarm RunFailed" "a template of five alarms"
expect_code 64 "an unknown format" lcb $P alarms --format yaml
expect_code 0 "alarms --apply --dry-run" lcb $P alarms --apply --dry-run
assert_eq "$(grep -c '^cloudwatch PutMetricAlarm AlarmName=lcbackup-dev-' "$OUT")" "5" "the dry run prints five PutMetricAlarm calls"
assert_eq "$(sim_ctl GET '/requests?service=monitoring' | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))')" "0" "and sends none"
expect_code 0 "alarms --apply" lcb $P alarms --apply
assert_grep "^5 alarm\(s\) put in eu-west-1 and described back \(5 under lcbackup-dev-\)" "$OUT" "applied and read back"
run /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" cloudwatch describe-alarms --alarm-name-prefix lcbackup-dev- \
    --query 'MetricAlarms[].[AlarmName,MetricName,Statistic,Threshold,ComparisonOperator,TreatMissingData]' --output text
assert_grep "^lcbackup-dev-broker-broker-backup-age	BackupAgeSeconds	Maximum	7200.0	GreaterThanThreshold	breaching$" "$OUT" "aws describe-alarms: the backup-age alarm"
assert_grep "^lcbackup-dev-config-config-drill-failed	DrillPassed	Minimum	1.0	LessThanThreshold	notBreaching$" "$OUT" "aws describe-alarms: the drill alarm"
assert_grep "^lcbackup-dev-run-failed	RunFailed	Sum	1.0	GreaterThanOrEqualToThreshold	notBreaching$" "$OUT" "aws describe-alarms: the run alarm"
expect_code 0 "alarms --apply again replaces them" lcb $P alarms --apply
assert_grep "^5 alarm\(s\) put" "$OUT" "still five"

# ---- the run alarm fires on RunFailed data and tells the topic
run /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" cloudwatch put-metric-data --namespace lcbackup \
    --metric-data 'MetricName=RunFailed,Value=1,Unit=Count,Dimensions=[{Name=Env,Value=dev}]'
assert_eq "$RC" "0" "RunFailed=1 put with the aws CLI"
messages
subjects() { $PY -c 'import json,sys; [print(m["Subject"]) for m in json.load(open(sys.argv[1]))["messages"][3:]]' "$T/msgs.json"; }
subjects >"$T/subjects"
assert_grep '^ALARM: "lcbackup-dev-run-failed" in EU \(Ireland\)$' "$T/subjects" "the run alarm's ALARM reached the topic"
assert_grep '^ALARM: "lcbackup-dev-broker-broker-backup-age" in ' "$T/subjects" "no backup-age data breaches (nothing reported is not fresh)"
assert_grep '^OK: "lcbackup-dev-broker-broker-drill-failed" in ' "$T/subjects" "no drill data does not breach"

done_testing
