#!/bin/sh
# t0102: `lcbackup doctor` against the simulator: all green, then one failure class at a time
# (bad keys 77, no region 78, an unreachable endpoint 75, a skewed server clock 78, an unwritable
# catalog 78, an invalid policy 78), --json, and no secret in any output or -v -v trace.
. "$(dirname "$0")/lib.sh"

sim_up

expect_code 0 "doctor passes against the simulator" lcb doctor
assert_grep "^OK +credentials +from environment, access key \.\.\." "$OUT" "credentials and their source"
assert_grep "^OK +identity +account 123456789012, arn:aws:" "$OUT" "STS identity: account and ARN"
assert_grep "^OK +region +eu-west-1 \(from AWS_REGION\)" "$OUT" "region and where it came from"
for s in sts s3 rds ec2 ssm ecs kms; do
    assert_grep "^OK +endpoint $s +http://127\.0\.0\.1:[0-9]+/ answers" "$OUT" "endpoint $s reachable"
done
assert_grep "^OK +clock " "$OUT" "clock within bounds"
assert_grep "^OK +catalog " "$OUT" "catalog writable"
assert_no_grep "$AWS_SECRET_ACCESS_KEY" "$OUT" "the secret key is not printed"

expect_code 0 "doctor --json" lcb doctor --json
cp "$OUT" "$T/doctor.json"
run "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["exit"] == 0; print(len(d["checks"]))' "$T/doctor.json"
[ "$RC" -eq 0 ] && [ "$(cat "$OUT")" -ge 11 ] && pass "--json has ok, exit and every check" || fail "--json has ok, exit and every check"

# -v -v traces each request, redacted
run "$LCBACKUP" -v -v doctor
assert_grep "trace +doctor: POST http://127\.0\.0\.1:[0-9]+/ -> 200 \([0-9]+ ms" "$ERR" \
    "-v -v traces method, URL, status and timing"
assert_grep "> X-Amz-Date: [0-9]{8}T[0-9]{6}Z" "$ERR" "-v -v shows the request headers"
assert_grep "> Authorization: \*\*\*$" "$ERR" "the Authorization header is masked in traces"
assert_no_grep "$AWS_SECRET_ACCESS_KEY" "$ERR" "the secret key is not in the traces"
assert_no_grep "Signature=[0-9a-f]{64}" "$ERR" "no signature is in the traces"

expect_code 77 "wrong keys: exit 77" env AWS_ACCESS_KEY_ID=AKIAWRONGWRONGWRONG1 "$LCBACKUP" doctor
assert_grep "^FAIL +identity +sts GetCallerIdentity: HTTP 403 InvalidClientTokenId" "$OUT" "identity failure says why"
expect_code 77 "no credentials: exit 77" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$LCBACKUP" doctor
assert_grep "^FAIL +credentials +no AWS credentials" "$OUT" "missing credentials say what to set"
expect_code 78 "no region: exit 78" env -u AWS_REGION -u AWS_DEFAULT_REGION "$LCBACKUP" doctor
assert_grep "^FAIL +region +no region; give --region" "$OUT" "missing region says what to do"
expect_code 75 "an unreachable endpoint: exit 75" env AWS_ENDPOINT_URL_KMS=http://127.0.0.1:1 "$LCBACKUP" doctor
assert_grep "^FAIL +endpoint kms " "$OUT" "the unreachable endpoint is named"
assert_grep "^OK +endpoint s3 " "$OUT" "the other endpoints still pass"
expect_code 78 "a plain-http endpoint off loopback: exit 78" env AWS_ENDPOINT_URL_SSM=http://192.0.2.1:80 "$LCBACKUP" doctor
assert_grep "^FAIL +endpoint ssm .*allow-insecure-endpoint" "$OUT" "the insecure endpoint refusal says how to override"

# the server's clock an hour ahead: requests are corrected and still succeed, the check fails
sim_ctl POST /clock '{"auth_skew": 3600}' >/dev/null
expect_code 78 "a skewed clock: exit 78" lcb doctor
assert_grep "^OK +identity " "$OUT" "signing corrects the skew (identity still passes)"
assert_grep "^FAIL +clock +36[0-9][0-9] s behind AWS" "$OUT" "the skew is reported"
assert_grep "clock is 36[0-9][0-9] s behind" "$ERR" "a warning says the clock is off"
sim_ctl DELETE /clock >/dev/null

mkdir -p "$T/ro" && chmod 500 "$T/ro"
if [ "$(id -u)" -ne 0 ]; then
    expect_code 78 "unwritable catalog: exit 78" lcb --catalog "$T/ro/sub/catalog.db" doctor
    assert_grep "^FAIL +catalog " "$OUT" "the catalog failure names the path"
fi
printf '{"version": 1, "env": ' > "$T/bad.json"
expect_code 78 "invalid policy: exit 78" lcb --policy "$T/bad.json" doctor
assert_grep "^FAIL +policy " "$OUT" "the policy failure is a check line"
assert_grep "^OK +credentials " "$OUT" "the other checks still run"

done_testing
