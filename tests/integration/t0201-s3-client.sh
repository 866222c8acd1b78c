#!/bin/sh
# t0201: the AWS protocol clients (lib/aws/s3.c, sts.c, kms.c, query.c, jsonrpc.c) through the real
# signing, endpoint, retry and HTTP layers, against the simulator: S3 put/get/range/list/delete and
# multipart round trips (buffered and streamed parts), abort, conditional writes, 200-with-Error and
# a lost CompleteMultipartUpload answer, error mapping (NoSuchKey 66, bad secret 77, throttling
# retried then 75), KMS data keys, STS, RDS/EC2 Query encodings and NextToken paging, SSM paging.
# Driven by tests/integration/aws_probe.c, built here against the liblcb.a next to $LCBACKUP.
. "$(dirname "$0")/lib.sh"

build_aws_probe
probe() { "$PROBE" "$@"; }

sim_up
sim_ctl POST /seed '{"name":"legocity","services":["s3","kms","ec2","rds","ssm"]}' >/dev/null
B=legocity-backups-dev
# the number of requests the simulator logged for an operation
count() { sim_ctl GET "/requests?service=$1&operation=$2" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))'; }
count_key() { sim_ctl GET "/requests?service=$1&operation=$2&key=$3" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))'; }

# ---- STS
expect_code 0 "sts GetCallerIdentity" probe whoami
assert_grep "^account 123456789012$" "$OUT" "the account id comes back"

# ---- objects: keys with space, '+', unicode; byte-exact round trips
head -c 300000 /dev/urandom >"$T/f1"
KEY="backups/run 42/a+b é~*.bin"
expect_code 0 "put a 300 KB object" probe put $B "$KEY" "$T/f1"
SHA=$($PY -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' "$T/f1")
assert_eq "$(sed -n 's/^checksum //p' "$OUT")" "$SHA" "S3 verified and echoed our SHA-256"
expect_code 0 "get it back" probe get $B "$KEY" "$T/g1"
cmp -s "$T/f1" "$T/g1" && pass "get returns the same bytes" || fail "get returns the same bytes"
expect_code 0 "get a range" probe get $B "$KEY" "$T/g2" 1000-1999
assert_grep "^status 206$" "$OUT" "a range answers 206"
assert_grep "^size 300000$" "$OUT" "the whole size comes from Content-Range"
head -c 2000 "$T/f1" | tail -c 1000 | cmp -s - "$T/g2" && pass "the range has the right bytes" || fail "the range has the right bytes"
expect_code 0 "head" probe head $B "$KEY"
assert_grep "^size 300000$" "$OUT" "head gives the size"
expect_code 69 "put with if-none-match on an existing key is refused (69)" probe put $B "$KEY" "$T/f1" if-none-match
assert_grep "aws_code: PreconditionFailed" "$ERR" "PreconditionFailed"
expect_code 0 "put with if-none-match on a new key" probe put $B "backups/new" "$T/f1" if-none-match
expect_code 0 "put with SSE-KMS" probe put $B "backups/kms" "$T/f1" kms:alias/legocity-backups
assert_grep "^sse aws:kms$" "$OUT" "the object is KMS-encrypted"

# ---- tagging and Object Lock (legocity-backups-prod has Object Lock enabled)
expect_code 0 "put with x-amz-tagging" probe put $B "backups/tagged" "$T/f1" tags
expect_code 0 "get the tags" probe tags $B "backups/tagged"
assert_grep "^tag lcbackup=run 42$" "$OUT" "x-amz-tagging: a space survives"
assert_grep "^tag k\+==v&/$" "$OUT" "x-amz-tagging: +, =, & and / survive"
expect_code 0 "replace the tags" probe tags $B "backups/tagged" "state=expired" "a b=c/d"
assert_eq "$(grep -c '^tag ' "$OUT")" "2" "PutObjectTagging replaced the set"
assert_grep "^tag a b=c/d$" "$OUT" "the new tag is there"
UNTIL=$(( $(date +%s) + 86400 ))
expect_code 0 "put with a COMPLIANCE retention" probe put legocity-backups-prod "locked/a" "$T/f1" "lock:COMPLIANCE:$UNTIL"
expect_code 0 "put an unlocked neighbour" probe put legocity-backups-prod "locked/b" "$T/f1"
expect_code 0 "DeleteObjects answers 200 with a per-key failure" probe delete-many legocity-backups-prod "locked/a" "locked/b"
assert_grep "^deleted 1$" "$OUT" "the unlocked key is deleted"
assert_grep "^failure locked/a AccessDenied$" "$OUT" "the locked key is listed as failed"
expect_code 77 "deleting the locked object alone exits 77" probe delete legocity-backups-prod "locked/a"
expect_code 69 "a retention on a bucket without Object Lock is refused (69)" probe put $B "locked/c" "$T/f1" "lock:GOVERNANCE:$UNTIL"

# ---- error mapping
expect_code 66 "get a missing key exits 66" probe get $B "nope" "$T/g3"
assert_grep "aws_code: NoSuchKey" "$ERR" "NoSuchKey"
expect_code 66 "head a missing key (404 without body) exits 66" probe head $B "nope"
expect_code 66 "a missing bucket exits 66" probe list no-such-bucket-lcb ""
expect_code 77 "a bad secret exits 77" env AWS_SECRET_ACCESS_KEY=wrong-secret "$PROBE" head $B "$KEY"
expect_code 77 "a bad secret on STS exits 77" env AWS_SECRET_ACCESS_KEY=wrong-secret "$PROBE" whoami
sim_ctl POST /faults '{"service":"s3","operation":"PutObject","code":"SlowDown","times":2}' >/dev/null
before=$(count s3 PutObject)
expect_code 0 "SlowDown twice, then success" probe put $B "backups/throttled" "$T/f1"
assert_eq "$(( $(count s3 PutObject) - before ))" "3" "three PutObject attempts"
sim_ctl DELETE /faults >/dev/null
sim_ctl POST /faults '{"service":"s3","code":"SlowDown","times":6}' >/dev/null
expect_code 75 "throttled on every attempt exits 75" probe get $B "$KEY" "$T/g5"
assert_grep "3 attempts: 503 SlowDown x3" "$ERR" "the error summarises the attempts"
expect_code 75 "a throttled HEAD (no body to name the error) exits 75 too" probe head $B "$KEY"
assert_grep "3 attempts: 503 x3" "$ERR" "named by its status"
sim_ctl DELETE /faults >/dev/null
sim_ctl POST /faults '{"service":"s3","operation":"GetObject","drop_after_bytes":100000,"times":1}' >/dev/null
expect_code 0 "a GET cut off halfway is retried" probe get $B "$KEY" "$T/g4"
cmp -s "$T/f1" "$T/g4" && pass "the retried GET wrote each byte once" || fail "the retried GET wrote each byte once"
sim_ctl DELETE /faults >/dev/null

# ---- listings and batch deletes
for i in 1 2 3 4 5; do probe put $B "list/k $i+" "$T/f1" >/dev/null; done
before=$(count s3 ListObjectsV2)
expect_code 0 "list with 2 keys a page" probe list $B "list/" 2
assert_eq "$(grep -c '^list/k [1-5]+	300000$' "$OUT")" "5" "every key, decoded, once"
assert_eq "$(( $(count s3 ListObjectsV2) - before ))" "3" "three pages"
expect_code 0 "delete-many" probe delete-many $B "list/k 1+" "list/k 2+" "list/absent"
assert_grep "^failed 0$" "$OUT" "no failures"
expect_code 0 "list again" probe list $B "list/"
assert_eq "$(grep -c . "$OUT")" "3" "three keys left"
expect_code 0 "delete one" probe delete $B "list/k 3+"
expect_code 66 "it is gone" probe head $B "list/k 3+"

# ---- multipart: 3 parts (the second streamed), then byte-exact
head -c $((11 * 1024 * 1024 + 4321)) /dev/urandom >"$T/big"
expect_code 0 "multipart upload of 11 MB in 5 MB parts" probe mpu $B "mp/big one+.bin" "$T/big" 5242880
assert_grep "^parts 3$" "$OUT" "three parts"
assert_grep '^etag ".*-3"$' "$OUT" "a multipart ETag"
WANT=$($PY -c '
import base64,hashlib,sys
d=open(sys.argv[1],"rb").read(); n=5242880
raw=b"".join(hashlib.sha256(d[i:i+n]).digest() for i in range(0,len(d),n))
print(base64.b64encode(hashlib.sha256(raw).digest()).decode()+"-3")' "$T/big")
assert_eq "$(sed -n 's/^checksum //p' "$OUT")" "$WANT" "the composite SHA-256 is the one our parts make"
expect_code 0 "get the multipart object" probe get $B "mp/big one+.bin" "$T/bigout"
cmp -s "$T/big" "$T/bigout" && pass "multipart round trip is byte-exact" || fail "multipart round trip is byte-exact"
expect_code 0 "abort after 2 parts" probe mpu $B "mp/aborted" "$T/big" 5242880 abort-after:2
assert_grep "^aborted after 2 parts$" "$OUT" "aborted"
assert_eq "$(sim_ctl GET "/s3/multipart?bucket=$B" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["uploads"]))')" "0" "no upload left open"
expect_code 0 "mpu-list" probe mpu-list $B
assert_eq "$(grep -c . "$OUT")" "0" "ListMultipartUploads agrees"
expect_code 69 "conditional multipart complete on an existing key is refused (69)" probe mpu $B "mp/big one+.bin" "$T/big" 5242880 if-none-match
assert_grep "aws_code: PreconditionFailed" "$ERR" "PreconditionFailed at Complete"
sim_ctl POST /faults '{"service":"s3","operation":"CompleteMultipartUpload","status":200,"code":"InternalError","times":1}' >/dev/null
expect_code 0 "200-with-Error on Complete is retried" probe mpu $B "mp/200err" "$T/big" 5242880
assert_eq "$(count_key s3 CompleteMultipartUpload mp/200err)" "2" "Complete was sent twice"
sim_ctl DELETE /faults >/dev/null
sim_ctl POST /faults '{"service":"s3","operation":"CompleteMultipartUpload","code":"InternalError","phase":"after","times":1}' >/dev/null
expect_code 0 "a Complete whose answer was lost is recognised by its checksum" probe mpu $B "mp/lost" "$T/big" 5242880
assert_eq "$(count_key s3 CompleteMultipartUpload mp/lost)" "2" "the retry met NoSuchUpload"
assert_eq "$(count_key s3 HeadObject mp/lost)" "1" "then one HEAD recognised the object"
expect_code 0 "and the object is whole" probe get $B "mp/lost" "$T/lost"
cmp -s "$T/big" "$T/lost" && pass "lost-answer object is byte-exact" || fail "lost-answer object is byte-exact"
sim_ctl DELETE /faults >/dev/null

# ---- KMS (JSON 1.1)
expect_code 0 "kms data key, encrypt and decrypt" probe kms alias/legocity-backups
assert_grep "round trip ok, arn same" "$OUT" "data key decrypts to itself"
assert_grep "^encrypt round trip ok$" "$OUT" "encrypt/decrypt"
assert_grep "^wrong context refused$" "$OUT" "a wrong encryption context is refused"
expect_code 66 "an unknown key exits 66" probe kms alias/nope

# ---- Query (EC2 dialect, RDS) and JSON paging
VOL=$(aws ec2 describe-volumes --query 'Volumes[0].VolumeId' --output text 2>/dev/null)
for i in 1 2 3 4 5 6 7; do probe ec2-snapshot "$VOL" run-t0201 >/dev/null; done
expect_code 0 "ec2 DescribeSnapshots by tag, 5 a page" probe ec2-snapshots 5 run-t0201
assert_grep "^snapshots 7 pages 2$" "$OUT" "7 snapshots over 2 pages (NextToken)"
aws ec2 describe-snapshots --owner-ids self --filters Name=tag:Name,Values="probe snapshot" \
    --query 'length(Snapshots)' >"$T/n" 2>&1
assert_eq "$(cat "$T/n")" "7" "TagSpecification tags arrived intact"
expect_code 0 "rds CreateDBSnapshot with tags" probe rds-snapshot legocity-payload-db lcb-t0201 run-t0201
aws rds list-tags-for-resource --resource-name arn:aws:rds:eu-west-1:123456789012:snapshot:lcb-t0201 \
    --query 'TagList[?Key==`probe`].Value' --output text >"$T/tag" 2>&1
assert_eq "$(cat "$T/tag")" "a b+c/d=e&f" "a tag value with space, +, /, = and & round-trips"
expect_code 0 "rds DescribeDBSnapshots with a Filters list" probe rds-snapshots 20 legocity-payload-db
assert_grep "^lcb-t0201	" "$OUT" "the new snapshot is listed"
expect_code 69 "rds refuses MaxRecords 5 (InvalidParameterValue)" probe rds-snapshots 5
expect_code 0 "ssm GetParametersByPath, 10 a page" probe ssm-path /
$PY - "$OUT" <<'EOF' && pass "ssm paging returns every parameter once" || fail "ssm paging returns every parameter once"
import os, re, subprocess, sys
lines = open(sys.argv[1]).read().split("\n")
m = re.match(r"parameters (\d+) pages (\d+)", [l for l in lines if l.startswith("parameters ")][0])
names = [l for l in lines if l.startswith("/")]
want = subprocess.run(["/usr/bin/aws", "--endpoint-url", os.environ["AWS_ENDPOINT_URL"],
                       "ssm", "get-parameters-by-path", "--path", "/", "--recursive",
                       "--query", "Parameters[].Name", "--output", "json"],
                      capture_output=True, text=True, check=True).stdout
import json
assert sorted(names) == sorted(json.loads(want)), "different names"
assert int(m.group(1)) == len(names) and int(m.group(2)) >= 2, m.group(0)
EOF

done_testing
