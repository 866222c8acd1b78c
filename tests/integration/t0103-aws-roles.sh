#!/bin/sh
# t0103: temporary credentials against the simulator's STS: a profile with role_arn +
# source_profile (AssumeRole, how DR-account copies run), web identity (AWS_WEB_IDENTITY_TOKEN_FILE
# + AWS_ROLE_ARN, unsigned), their failures; and presigned URLs (long-term and temporary keys)
# fetched and uploaded with curl, verified by the simulator's botocore-based SigV4 check.
. "$(dirname "$0")/lib.sh"

sim_up
ROLE=arn:aws:iam::123456789012:role/lcbackup
cat > "$T/credentials" <<CREDS
[base]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
CREDS
cat > "$T/config" <<CONF
[profile dr]
role_arn = $ROLE
source_profile = base
role_session_name = lcb-dr-copy
region = eu-west-1
[profile denied]
role_arn = arn:aws:iam::123456789012:role/not-a-role
source_profile = base
CONF
export AWS_CONFIG_FILE="$T/config" AWS_SHARED_CREDENTIALS_FILE="$T/credentials"

expect_code 0 "doctor --profile dr assumes the role" lcb --profile dr doctor
assert_grep "^OK +credentials +from assume role $ROLE \(profile dr\), access key \.\.\..*, temporary until" \
    "$OUT" "the credentials come from AssumeRole and are temporary"
assert_grep "^OK +identity +account 123456789012, arn:aws:sts::123456789012:assumed-role/lcbackup/lcb-dr-copy" \
    "$OUT" "STS sees the assumed role and its session name"
expect_code 77 "a role the caller may not assume: exit 77" lcb --profile denied doctor
assert_grep "^FAIL +credentials +assume role .*not-a-role.*AccessDenied" "$OUT" "the refusal names the role"
expect_code 78 "an unknown --profile: exit 78" lcb --profile nosuch doctor

printf 'eyJhbGciOiJSUzI1NiJ9.lcsim.sig' > "$T/oidc"
expect_code 0 "web identity: doctor passes" \
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_WEB_IDENTITY_TOKEN_FILE="$T/oidc" \
    AWS_ROLE_ARN=$ROLE AWS_ROLE_SESSION_NAME=lcb-task "$LCBACKUP" doctor
assert_grep "^OK +credentials +from web identity $ROLE" "$OUT" "credentials from web identity"
assert_grep "assumed-role/lcbackup/lcb-task" "$OUT" "the web-identity session is the caller"
sim_ctl POST /sts/web-identity '{"reject": true}' >/dev/null
expect_code 77 "a rejected web identity token: exit 77" \
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_WEB_IDENTITY_TOKEN_FILE="$T/oidc" \
    AWS_ROLE_ARN=$ROLE "$LCBACKUP" doctor
assert_grep "InvalidIdentityToken" "$OUT" "the STS error code is shown"
sim_ctl POST /sts/web-identity '{"reject": false}' >/dev/null

# presigned URLs work against a SigV4-checking server: GET an object, PUT another
"$PY" - <<'PYEOF' || { echo "Bail out! could not seed the bucket"; exit 1; }
import os, botocore.session
s3 = botocore.session.get_session().create_client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                                                  region_name="eu-west-1")
s3.create_bucket(Bucket="lcb-presign", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
s3.put_object(Bucket="lcb-presign", Key="run 42/a+b=c.txt", Body=b"archive bytes\n")
PYEOF
expect_code 0 "presign a GET" lcb presign "s3://lcb-presign/run 42/a+b=c.txt" --expires 5m
run curl -sf "$(cat "$OUT")"
assert_eq "$(cat "$OUT")" "archive bytes" "curl fetches the object with the presigned URL"
expect_code 0 "presign a PUT with temporary credentials" \
    lcb --profile dr presign "s3://lcb-presign/incoming/fix 1.json" --method PUT
assert_grep "X-Amz-Security-Token=" "$OUT" "the session token is in the URL"
printf '{"fixed": true}\n' > "$T/fix.json"
run curl -sf -T "$T/fix.json" "$(cat "$OUT")"
[ "$RC" -eq 0 ] && pass "curl uploads with the presigned PUT URL" || fail "curl uploads with the presigned PUT URL"
got=$("$PY" -c 'import os, botocore.session
s3 = botocore.session.get_session().create_client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="eu-west-1")
print(s3.get_object(Bucket="lcb-presign", Key="incoming/fix 1.json")["Body"].read().decode().strip())')
assert_eq "$got" '{"fixed": true}' "the uploaded object is there"
expect_code 0 "presign a URL that expires at once" lcb presign "s3://lcb-presign/run 42/a+b=c.txt" --expires 1
sleep 2
run curl -s -o /dev/null -w '%{http_code}' "$(cat "$OUT")"
assert_eq "$(cat "$OUT")" "403" "an expired presigned URL is refused"

done_testing
