#!/bin/sh
# t1401: backup config against the simulator: more than 10 parameters per level over several
# levels and every type, tier and tag, listings with empty pages that carry a NextToken, the
# archive's layout and encryption, the catalog row and the sidecar, no secret in clear anywhere,
# key files, dry run, and a policy without a key.
. "$(dirname "$0")/lib.sh"
CA="$PY $ROOT/tests/integration/config_aws.py"
POLICY=$ROOT/policies/demo.json
sim_up --seed legocity
aws_s3() { aws --endpoint-url "$AWS_ENDPOINT_URL" s3 "$@"; }
count_ops() { sim_ctl GET "/requests?service=$1&operation=$2" | grep -c '"operation"'; }

run $CA seed-params /legocity/dev/rt 3 12
assert_eq "$(cat "$OUT")" 36 "36 more parameters over 3 levels (12 per level) under /legocity/dev/rt"

# every listing: the first 3 continuation pages are empty and still carry a NextToken
sim_ctl POST /ssm/knobs '{"empty_pages": 3}' >/dev/null
by_path0=$(count_ops ssm GetParametersByPath)
expect_code 0 "backup config (KMS data key), with request traces" \
    lcb --policy "$POLICY" -v -v backup config --json
ID=$(sed -n 's/.*"backup_id":"\([^"]*\)".*/\1/p' "$OUT")
cp "$OUT" "$T/result.json"
cp "$ERR" "$T/backup.log"
assert_grep '"parameters":52,"secure_strings":16,"services":5,"task_definitions":5' "$OUT" \
    "52 parameters (16 SecureString), 5 services, 5 task definitions"
by_path=$(( $(count_ops ssm GetParametersByPath) - by_path0 ))
assert_eq "$by_path" 9 "GetParametersByPath: 6 pages of 10 plus 3 empty ones with a NextToken"

# the catalog row
assert_eq "$(sql "select kind||' '||status||' '||env||' '||target||' '||item_count from backups where id='$ID'")" \
    "config completed dev config 62" "catalog: kind config, completed, 62 items"
LOC=$(sql "select location from backups where id='$ID'")
assert_eq "$LOC" "s3://legocity-backups-dev/lcbackup/dev/config/config/$ID.tar.zst" \
    "archive at s3://<bucket>/<prefix>/<env>/config/<target>/<id>.tar.zst"
aws_s3 cp "$LOC" "$T/a.tar.zst" >/dev/null 2>&1
aws_s3 cp "$LOC.manifest.json" "$T/sidecar.json" >/dev/null 2>&1
assert_eq "$(sql "select sha256 from backups where id='$ID'")" "$(sha256sum "$T/a.tar.zst" | cut -d' ' -f1)" \
    "catalog sha256 is the object's"
assert_eq "$(sql "select size_bytes from backups where id='$ID'")" "$(stat -c %s "$T/a.tar.zst")" \
    "catalog size is the object's"
assert_eq "$(sql "select manifest from backups where id='$ID'" | jq -c '[.kind, .counts, .total]')" \
    '["config",{"ssm-parameters":52,"ecs-services":5,"ecs-task-definitions":5},62]' \
    "catalog manifest: kind, counts, total"

# the archive
mkdir "$T/x" && tar --zstd -xf "$T/a.tar.zst" -C "$T/x"
tar --zstd -tf "$T/a.tar.zst" > "$T/list"
assert_eq "$(head -n 1 "$T/list")|$(tail -n 1 "$T/list")|$(wc -l < "$T/list")" \
    "ssm/parameters.json|MANIFEST.json|12" "entries: parameters first, MANIFEST.json last, 12 in all"
assert_grep '^ecs/legocity-cluster/services/payload.json$' "$T/list" "one entry per service"
assert_grep '^ecs/task-definitions/legocity-broker-2.json$' "$T/list" \
    "one entry per task definition revision run"
P=$T/x/ssm/parameters.json
assert_eq "$(jq length "$P")" 52 "parameters.json holds all 52"
assert_eq "$(jq -c '[.[].Type] | unique' "$P")" '["SecureString","String","StringList"]' "every type"
assert_eq "$(jq '[.[] | select(.Type=="SecureString") | select(.Value | startswith("lcbenc:v1:") | not)] | length' "$P")" \
    0 "every SecureString value is an lcbenc:v1 envelope"
assert_eq "$(jq -r '.[] | select(.Name=="/legocity/dev/rt/l1/l2/p03") | [.KeyId, .Description] | join("|")' "$P")" \
    "alias/legocity-backups|under the backups key" "KeyId and description kept"
assert_eq "$(jq -r '.[] | select(.Name=="/legocity/dev/rt/l1/p04") | .Tier' "$P")" Advanced "tier kept"
assert_eq "$(jq -r '.[] | select(.Name=="/legocity/dev/rt/l1/p05") | [.DataType, .AllowedPattern] | join("|")' "$P")" \
    'aws:ec2:image|^ami-[0-9a-f]+$' "data type and allowed pattern kept"
assert_eq "$(jq -c '.[] | select(.Name=="/legocity/dev/rt/l1/l2/l3/p00") | .Tags' "$P")" \
    '[{"Key":"Level","Value":"3"},{"Key":"Project","Value":"legocity"}]' "tags kept"
assert_eq "$(jq -r '.[0] | [.Version, (.LastModifiedDate > 0)] | map(tostring) | join(" ")' "$P")" "1 true" \
    "version and last modified kept"
assert_eq "$(jq -r '[.serviceName, (.tags | length > 0), .taskDefinition] | map(tostring) | join(" ")' \
    "$T/x/ecs/legocity-cluster/services/payload.json")" \
    "payload true arn:aws:ecs:eu-west-1:123456789012:task-definition/legocity-payload:2" \
    "a service as DescribeServices gave it, tags included"
assert_eq "$(jq -r '[.taskDefinition.family, (.tags | map(.key) | index("lcbackup:target") != null)] | map(tostring) | join(" ")' \
    "$T/x/ecs/task-definitions/legocity-payload-2.json")" "legocity-payload true" \
    "a task definition with its tags"
M=$T/x/MANIFEST.json
assert_eq "$(jq -r '.extra.encryption | [.algorithm, .source, (.wrapped_key | length > 40), .context["lcbackup:archive"], (.key_check | length)] | map(tostring) | join(" ")' "$M")" \
    "AES-256-GCM kms true $ID 32" "manifest: the KMS-wrapped data key and its context, a key check"
assert_eq "$(jq -c '[.extra.ssm_paths, .extra.ecs_clusters, .extra.secure_strings]' "$M")" \
    '[["/legocity/dev/"],["legocity-cluster"],16]' "manifest: paths, clusters, SecureString count"
assert_eq "$(jq -r '[.backup_id, .kind, .env, .target, .location, .sha256, (.taken_at | test("^20[0-9-]+T[0-9:]+Z$")), .manifest.total] | map(tostring) | join(" ")' "$T/sidecar.json")" \
    "$ID config dev config $LOC $(sha256sum "$T/a.tar.zst" | cut -d' ' -f1) true 62" \
    "sidecar: who, where, taken_at, sha256 and the manifest"

# no secret value in clear: archive, sidecar, catalog, logs (with traces), stdout
$CA secrets /legocity/dev/ > "$T/secrets"
assert_eq "$(wc -l < "$T/secrets")" 16 "16 SecureString values to look for"
leaks=0
while IFS= read -r s; do
    for f in "$T/x" "$T/sidecar.json" "$LCBACKUP_CATALOG" "$T/backup.log" "$T/result.json"; do
        grep -rqaF -- "$s" "$f" && { leaks=$((leaks + 1)); echo "# leaked in $f"; }
    done
done < "$T/secrets"
assert_eq "$leaks" 0 "no SecureString value in the archive, sidecar, catalog, logs or stdout"
grep -rqaF "value 1.0" "$T/x" && grep -qaF "$ID" "$LCBACKUP_CATALOG" &&
    grep -qaF "AmazonSSM.GetParametersByPath" "$T/backup.log" &&
    pass "the same search finds what is there (it would find a leak)" ||
    fail "the same search finds what is there (it would find a leak)"
assert_grep "GetParametersByPath" "$T/backup.log" "the traces were there to be searched"

expect_code 0 "diff config right after the backup" lcb diff config "$ID"
assert_eq "$(cat "$OUT")" "no differences" "the backup equals what it was taken from"

# key files: refused unless 0600 and 32 bytes; used instead of KMS
head -c 32 /dev/urandom > "$T/k1" && chmod 644 "$T/k1"
expect_code 78 "a key file of mode 0644 is refused" lcb --policy "$POLICY" backup config --key-file "$T/k1"
assert_grep "mode 0644: it must be 0600 \(chmod 600" "$ERR" "the refusal says what to do"
chmod 600 "$T/k1"
expect_code 0 "backup config --key-file" lcb --policy "$POLICY" backup config --key-file "$T/k1" --json
KID=$(sed -n 's/.*"backup_id":"\([^"]*\)".*/\1/p' "$OUT")
aws_s3 cp "s3://legocity-backups-dev/lcbackup/dev/config/config/$KID.tar.zst" - 2>/dev/null |
    tar --zstd -xOf - MANIFEST.json > "$T/km.json"
assert_eq "$(jq -r '.extra.encryption | [.source, has("wrapped_key")] | map(tostring) | join(" ")' "$T/km.json")" \
    "key-file false" "a key-file archive holds no wrapped key"

# dry run: the calls, and nothing written
n_backups=$(sql "select count(*) from backups")
puts=$(count_ops s3 PutObject)
expect_code 0 "backup config --dry-run" lcb --policy "$POLICY" backup config --dry-run
assert_grep '^ssm GetParametersByPath \{"Path":"/legocity/dev/"' "$OUT" "dry run prints the SSM calls"
assert_grep '^kms GenerateDataKey \{"KeyId":"alias/legocity-backups"' "$OUT" "dry run prints the KMS call"
assert_grep '^s3 PutObject s3://legocity-backups-dev/lcbackup/dev/config/config/<backup id>.tar.zst' "$OUT" \
    "dry run prints where the archive would go"
assert_eq "$(sql "select count(*) from backups")|$(count_ops s3 PutObject)" "$n_backups|$puts" \
    "dry run records and uploads nothing"

# SecureStrings and no key to encrypt them with
jq 'del(.storage.kms_key)' "$POLICY" > "$T/nokms.json"
expect_code 78 "no KMS key and no key file" lcb --policy "$T/nokms.json" backup config
assert_grep "SecureString parameters and no key to encrypt them" "$ERR" "says why"
assert_eq "$(sql "select status from backups order by started_at desc, rowid desc limit 1")" failed \
    "the backup is recorded as failed"
expect_code 0 "no key is fine without SecureStrings" \
    lcb --policy "$T/nokms.json" backup config --path /legocity/dev/dashboard/ --cluster legocity-cluster
expect_code 64 "a path must start with /" lcb --policy "$POLICY" backup config --path legocity

# SSE-KMS always with the policy's key; Object Lock when the policy asks for it
aws --endpoint-url "$AWS_ENDPOINT_URL" s3api head-object --bucket legocity-backups-dev \
    --key "${LOC#s3://legocity-backups-dev/}" > "$T/head.json" 2>&1
assert_eq "$(jq -r .ServerSideEncryption "$T/head.json")" "aws:kms" "the archive is SSE-KMS encrypted"
jq '.storage.bucket = "legocity-backups-prod" | .storage.object_lock = "2d"' "$POLICY" > "$T/lock.json"
expect_code 0 "backup config into a bucket with Object Lock" \
    lcb --policy "$T/lock.json" backup config --path /legocity/dev/dashboard/ --json
LID=$(sed -n 's/.*"backup_id":"\([^"]*\)".*/\1/p' "$OUT")
aws --endpoint-url "$AWS_ENDPOINT_URL" s3api head-object --bucket legocity-backups-prod \
    --key "lcbackup/dev/config/config/$LID.tar.zst" > "$T/head.json" 2>&1
assert_eq "$(jq -r .ObjectLockMode "$T/head.json")" GOVERNANCE "retained under Object Lock"
until=$(date -d "$(jq -r .ObjectLockRetainUntilDate "$T/head.json")" +%s 2>/dev/null || echo 0)
assert_eq "$(( until > $(date +%s) + 86400 ))" 1 "until now + the policy's 2 days"

done_testing
