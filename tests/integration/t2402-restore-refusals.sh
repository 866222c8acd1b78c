#!/bin/sh
# t2402: restores refuse a damaged, tampered or wrongly keyed archive before writing anything:
# a flipped byte (65), a SecureString whose GCM tag no longer matches in an otherwise consistent
# archive (65), an altered wrapped data key (65), the wrong key file (77), no key file (78).
. "$(dirname "$0")/lib.sh"
CA="$PY $ROOT/tests/integration/config_aws.py"
POLICY=$ROOT/policies/demo.json
sim_up --seed legocity
aws_s3() { aws --endpoint-url "$AWS_ENDPOINT_URL" s3 "$@" >/dev/null 2>&1; }
count_ops() { sim_ctl GET "/requests?service=$1&operation=$2" | grep -c '"operation"'; }
writes() {
    for op in ssm:PutParameter ssm:DeleteParameter ssm:AddTagsToResource ecs:RegisterTaskDefinition \
        ecs:CreateService ecs:UpdateService; do
        printf '%s ' "$(count_ops "${op%%:*}" "${op#*:}")"
    done
}
# refused CODE NAME CMD...: the exit code, and not one write to SSM or ECS
refused() {
    _code=$1 _name=$2; shift 2
    _w=$(writes)
    expect_code "$_code" "$_name" "$@"
    assert_eq "$(writes)" "$_w" "$_name: nothing written"
}

head -c 32 /dev/urandom > "$T/k1" && chmod 600 "$T/k1"
head -c 32 /dev/urandom > "$T/k2" && chmod 600 "$T/k2"
expect_code 0 "a backup under a key file" lcb --policy "$POLICY" backup config --key-file "$T/k1" --json
KID=$(sed -n 's/.*"backup_id":"\([^"]*\)".*/\1/p' "$OUT")
expect_code 0 "a backup under a KMS data key" lcb --policy "$POLICY" backup config --json
ID=$(sed -n 's/.*"backup_id":"\([^"]*\)".*/\1/p' "$OUT")
LOC=$(sql "select location from backups where id='$ID'")
aws_s3 cp "$LOC" "$T/good.tar.zst"
# something for each restore to put back, so that a write would show
$CA put /legocity/dev/payload/public-url String https://changed.example
$CA ecs-update legocity-cluster payload desired=5

# keys
refused 77 "restore ssm with the wrong key file" \
    lcb --policy "$POLICY" restore ssm "$KID" --key-file "$T/k2"
assert_grep "wrong key: .* has check value [0-9a-f]{32}, the archive was encrypted with the key whose check value is [0-9a-f]{32}" \
    "$ERR" "says the key is wrong"
refused 77 "restore services with the wrong key file" \
    lcb --policy "$POLICY" restore services "$KID" --key-file "$T/k2"
refused 77 "diff config with the wrong key file" lcb diff config "$KID" --key-file "$T/k2"
refused 78 "no key file for a key-file archive" lcb --policy "$POLICY" restore ssm "$KID"
assert_grep "encrypted with a key file: give it with --key-file" "$ERR" "says what to give"
chmod 644 "$T/k1"
refused 78 "a key file that is not 0600" lcb --policy "$POLICY" restore ssm "$KID" --key-file "$T/k1"
chmod 600 "$T/k1"
refused 77 "the KMS archive with another key file" \
    lcb --policy "$POLICY" restore ssm "$ID" --key-file "$T/k2"

# one flipped byte in the object
cp "$T/good.tar.zst" "$T/bad.tar.zst"
printf '\001' | dd of="$T/bad.tar.zst" bs=1 seek=200 conv=notrunc 2>/dev/null
cmp -s "$T/good.tar.zst" "$T/bad.tar.zst" && fail "the copy was altered" || pass "the copy was altered"
aws_s3 cp "$T/bad.tar.zst" "$LOC"
refused 65 "restore ssm: a damaged archive" lcb --policy "$POLICY" restore ssm "$ID"
refused 65 "restore services: a damaged archive" lcb --policy "$POLICY" restore services "$ID"

# a consistent archive (entries and manifest agree, catalog updated) with one SecureString
# ciphertext altered: only AES-GCM can tell
run $CA repack "$T/good.tar.zst" "$T/gcm.tar.zst" gcm
set -- $(cat "$OUT")
aws_s3 cp "$T/gcm.tar.zst" "$LOC"
sql "update backups set sha256='$1', size_bytes=$2 where id='$ID'"
refused 65 "restore ssm: a SecureString altered in the archive (GCM tag)" \
    lcb --policy "$POLICY" restore ssm "$ID"
assert_grep "authentication failed: the value was altered or moved from another name" "$ERR" \
    "names the GCM failure"
assert_no_grep "sha256|zstd|manifest" "$ERR" "the archive itself checked out: the cipher caught it"
refused 65 "restore services: the same archive" lcb --policy "$POLICY" restore services "$ID"
refused 65 "diff config: the same archive" lcb diff config "$ID"

# the wrapped data key altered: KMS refuses it
run $CA repack "$T/good.tar.zst" "$T/wk.tar.zst" wrapped-key
set -- $(cat "$OUT")
aws_s3 cp "$T/wk.tar.zst" "$LOC"
sql "update backups set sha256='$1', size_bytes=$2 where id='$ID'"
refused 65 "restore ssm: the wrapped data key altered" lcb --policy "$POLICY" restore ssm "$ID"
assert_grep "unwrap the archive's data key with KMS" "$ERR" "says KMS could not unwrap it"

# the object differs from what the catalog recorded
aws_s3 cp "$T/good.tar.zst" "$LOC"
refused 65 "restore ssm: the object is not the one the catalog recorded" \
    lcb --policy "$POLICY" restore ssm "$ID"
assert_grep "is not the [0-9a-f]{64} the catalog recorded" "$ERR" "says so"
sql "update backups set sha256='$(sha256sum "$T/good.tar.zst" | cut -d' ' -f1)', size_bytes=$(stat -c %s "$T/good.tar.zst") where id='$ID'"

# and the untouched archives restore fine
expect_code 0 "restore ssm of the intact KMS archive" lcb --policy "$POLICY" restore ssm "$ID"
assert_grep "^updated /legocity/dev/payload/public-url \(Value\)$" "$OUT" "puts back the change"
expect_code 0 "restore services of the key-file archive with its key" \
    lcb --policy "$POLICY" restore services "$KID" --key-file "$T/k1"
assert_grep "^updated service legocity-cluster/payload \(desiredCount\)$" "$OUT" "puts back the change"

done_testing
