#!/bin/sh
# t0101: `lcbackup presign` equals botocore's generate_presigned_url byte for byte (Debian's
# python3-botocore, same credentials, LCBACKUP_NOW pinned and botocore's clock pinned to it), for
# tricky keys, both addressing styles, GET and PUT, session tokens and endpoint overrides; and its
# usage errors. Nothing is sent anywhere.
. "$(dirname "$0")/lib.sh"

NOW=2026-11-28T12:01:07Z
export AWS_CONFIG_FILE=/nonexistent/config AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_REGION AWS_DEFAULT_REGION

# botocore's URL for: REGION METHOD BUCKET KEY EXPIRES [TOKEN] [ENDPOINT]
boto_url() {
    "$PY" - "$@" <<'PYEOF'
import datetime, sys, types
import botocore.auth, botocore.session
from botocore.config import Config

region, method, bucket, key, expires = sys.argv[1:6]
token = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else None
endpoint = sys.argv[7] if len(sys.argv) > 7 and sys.argv[7] else None

class Pinned(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return cls(2026, 11, 28, 12, 1, 7)

ns = types.SimpleNamespace(datetime=Pinned, timezone=datetime.timezone)
botocore.auth.datetime = ns
try:
    import botocore.crt.auth
    botocore.crt.auth.datetime = ns
except ImportError:
    pass
s3 = {"addressing_style": "path"} if endpoint else {}
c = botocore.session.get_session().create_client(
    "s3", region_name=region, endpoint_url=endpoint,
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", aws_session_token=token,
    config=Config(signature_version="s3v4", s3=s3))
op = "get_object" if method == "GET" else "put_object"
print(c.generate_presigned_url(op, Params={"Bucket": bucket, "Key": key}, ExpiresIn=int(expires)))
PYEOF
}

same_as_botocore() { # NAME REGION METHOD BUCKET KEY EXPIRES [TOKEN] [ENDPOINT]
    _name=$1; shift
    want=$(boto_url "$@")
    run env LCBACKUP_NOW=$NOW AWS_SESSION_TOKEN="${6:-}" ${7:+AWS_ENDPOINT_URL=$7} \
        "$LCBACKUP" --region "$1" presign "s3://$3/$4" --method "$2" --expires "$5"
    [ -z "${6:-}" ] && unset AWS_SESSION_TOKEN
    assert_eq "$(cat "$OUT")" "$want" "$_name"
}

n=0
while IFS='|' read -r region method bucket key expires; do
    n=$((n + 1))
    same_as_botocore "presign $n ($method $region s3://$bucket/$key) equals botocore" \
        "$region" "$method" "$bucket" "$key" "$expires"
done <<'CASES'
eu-west-1|GET|lcb-archive|backups/run 42/db.tar.zst|3600
us-east-1|GET|lcb-archive|a+b=c&d.txt|60
eu-central-1|PUT|lcb-archive|100%/done%20already|604800
eu-west-1|GET|lcb-archive|tilde~star*.txt|900
us-east-1|PUT|lcb-archive|unicode/Ünïcödé/東京.json|3600
eu-west-1|GET|lcb-archive|double//slash//key|3600
eu-west-1|GET|lcb-archive|/leading-slash|3600
ap-southeast-2|GET|lcb-archive|semi;colon:comma,.txt|7200
eu-west-1|GET|lcb-archive|quote'"<>.txt|3600
eu-west-1|GET|lcb-archive|hash#question?.txt|3600
eu-west-1|GET|lcb-archive|spaces  and trailing |3600
eu-west-1|GET|lcb.dotted.bucket|emoji 🚀.bin|3600
us-east-1|GET|lcb.dotted.bucket|dots/./and/../x|3600
CASES

same_as_botocore "presign with a session token equals botocore" \
    eu-west-1 GET lcb-archive "run 1/a+b.tar" 3600 "IQoJb3JpZ2luX2VjEXAMPLE//////wEa+token=="
same_as_botocore "presign against an endpoint override (path-style) equals botocore" \
    eu-west-1 GET lcb "local key+1" 120 "" "http://127.0.0.1:4566"

# --expires takes durations; --json
run env LCBACKUP_NOW=$NOW "$LCBACKUP" --region eu-west-1 presign s3://lcb-archive/k --expires 4h --json
assert_grep '"url":"https://lcb-archive\.s3\.amazonaws\.com/k\?.*X-Amz-Expires=14400' "$OUT" \
    "--expires 4h gives X-Amz-Expires=14400 in --json"
assert_grep '"expires_at":"2026-11-28T16:01:07Z"' "$OUT" "--json has the expiry time"

# usage and configuration errors
expect_code 64 "presign without a key exits 64" lcb --region eu-west-1 presign s3://bucket-only
expect_code 64 "presign of a non-s3 URL exits 64" lcb --region eu-west-1 presign https://x/y
expect_code 64 "presign --method DELETE exits 64" lcb --region eu-west-1 presign s3://b/k --method DELETE
expect_code 64 "presign --expires 8d exits 64" lcb --region eu-west-1 presign s3://b/k --expires 8d
expect_code 78 "presign without a region exits 78" lcb presign s3://b/k
expect_code 77 "presign without credentials exits 77" \
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$LCBACKUP" --region eu-west-1 presign s3://b/k
assert_grep "no AWS credentials" "$ERR" "the credentials error says what to set"
# the secret never shows, even in -v -v traces
run env LCBACKUP_NOW=$NOW "$LCBACKUP" -v -v --region eu-west-1 presign s3://b/k
assert_no_grep "wJalrXUtnFEMI" "$ERR" "the secret key is not in the trace"

done_testing
