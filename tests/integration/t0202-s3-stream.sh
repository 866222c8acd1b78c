#!/bin/sh
# t0202: lcb_s3_stream (lib/aws/s3stream.c), the multipart upload that broker backups stream into,
# driven by aws_probe against the simulator. Parts are spooled to unlinked temporary files in
# $TMPDIR: a 3-part upload stores exactly the bytes written and leaves no file behind, using far
# less memory than parts kept in memory; a TMPDIR where no file can be created falls back to memory
# with one warning; a part whose first attempt fails (an error answer after it was stored, or the
# connection closed while it was being sent) is sent again from its first byte; a spool that
# cannot be written (a full disk, or a file size limit) aborts the upload with exit 74.
. "$(dirname "$0")/lib.sh"

build_aws_probe
sim_up
sim_ctl POST /seed '{"name":"legocity","services":["s3"]}' >/dev/null
B=legocity-backups-dev
P=5242880 # LCB_S3_MIN_PART
open_uploads() {
    sim_ctl GET "/s3/multipart?bucket=$B" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["uploads"]))'
}
count_key() {
    sim_ctl GET "/requests?service=s3&operation=$1&key=$2" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))'
}
# stored_sha KEY: the SHA-256 of the object as S3 holds it
stored_sha() {
    "$PROBE" get $B "$1" "$T/got" >/dev/null 2>&1 && sha256sum "$T/got" | cut -d' ' -f1
}
stream() { # stream TMPDIR KEY [INFLIGHT]
    _dir=$1; _key=$2; shift 2
    env TMPDIR="$_dir" "$PROBE" stream $B "$_key" "$T/big" $P "$@"
}

head -c $((11 * 1024 * 1024 + 4321)) /dev/urandom >"$T/big"
SHA=$(sha256sum "$T/big" | cut -d' ' -f1)
mkdir "$T/spool"

# ---- spooled: 3 parts of 5 MiB, byte-exact, nothing left in TMPDIR
expect_code 0 "a 3-part upload spooled to TMPDIR" stream "$T/spool" s/spooled
assert_grep "^spool $T/spool$" "$OUT" "the parts went to the spool in TMPDIR"
assert_grep "^parts 3$" "$OUT" "three parts"
assert_eq "$(sed -n 's/^sha256 //p' "$OUT")" "$SHA" "the stream's SHA-256 is the file's"
assert_eq "$(stored_sha s/spooled)" "$SHA" "S3 holds exactly the bytes written"
assert_eq "$(ls -A "$T/spool")" "" "the spool files were unlinked at once: TMPDIR is empty"
assert_eq "$(grep -c . "$ERR")" "0" "no warning"
RSS_SPOOL=$(sed -n 's/^maxrss_kib //p' "$OUT")

# ---- a writer that polls between writes (the broker export between pages): the parts already cut
# reach S3 while it works, not at finish. The probe makes a HEAD request on <key>.before-finish
# right before finish; both full parts must have been stored before that request.
part_seq() { # part_seq KEY PART: the request log's seq of that part's (first) 200
    sim_ctl GET "/requests?service=s3&operation=UploadPart&key=$1&status=200" | $PY -c 'import json,sys
rs = [r for r in json.load(sys.stdin)["requests"] if str(r.get("part_number")) == sys.argv[1]]
print(rs[0]["seq"] if rs else -1)' "$2"
}
marker_seq() {
    sim_ctl GET "/requests?service=s3&operation=HeadObject&key=$1.before-finish" | $PY -c 'import json,sys
rs = json.load(sys.stdin)["requests"]; print(rs[0]["seq"] if rs else -1)'
}
expect_code 0 "a polled upload: 3 parts" stream "$T/spool" s/polled 2 20
assert_eq "$(stored_sha s/polled)" "$SHA" "S3 holds exactly the bytes written"
m=$(marker_seq s/polled)
for part in 1 2; do
    p_seq=$(part_seq s/polled $part)
    if [ "$p_seq" -ge 0 ] && [ "$m" -ge 0 ] && [ "$p_seq" -lt "$m" ]; then
        pass "part $part was stored while the writer worked (seq $p_seq, finish after $m)"
    else
        fail "part $part was stored while the writer worked (seq $p_seq, finish after $m)"
    fi
done

# ---- no spool file can be created: the parts are kept in memory, with one warning
expect_code 0 "TMPDIR missing: the upload still succeeds" stream "$T/missing" s/memory
assert_grep "^spool memory$" "$OUT" "the parts were kept in memory"
assert_grep "cannot create a spool file in $T/missing \(No such file or directory\)" "$ERR" \
    "the warning names the directory and the error"
assert_eq "$(grep -c 'spool' "$ERR")" "1" "one warning line"
assert_eq "$(stored_sha s/memory)" "$SHA" "the memory fallback stores the same bytes"
RSS_MEM=$(sed -n 's/^maxrss_kib //p' "$OUT")
# in memory: two 5 MiB parts and the 1 MiB last one at the peak; spooled: none
if [ $((RSS_MEM - RSS_SPOOL)) -ge 8192 ]; then
    pass "spooling keeps the parts out of memory (peak RSS $RSS_SPOOL KiB, $RSS_MEM in memory)"
else
    fail "spooling keeps the parts out of memory" "peak RSS $RSS_SPOOL KiB spooled, $RSS_MEM KiB in memory"
fi
: >"$T/file"
expect_code 0 "TMPDIR a regular file: memory too" stream "$T/file" s/memory2
assert_grep "cannot create a spool file in $T/file \(Not a directory\)" "$ERR" "the warning says why"

# ---- a part's first attempt fails: it is sent again from the first byte of its spool file
sim_ctl POST /faults '{"service":"s3","operation":"UploadPart","code":"InternalError","phase":"after","times":1}' >/dev/null
expect_code 0 "a part answered 500 after it was stored is retried" stream "$T/spool" s/retried-500
assert_eq "$(count_key UploadPart s/retried-500)" "4" "four UploadPart requests for three parts"
assert_eq "$(stored_sha s/retried-500)" "$SHA" "the retried part carried the same bytes"
sim_ctl DELETE /faults >/dev/null
sim_ctl POST /faults '{"service":"s3","operation":"UploadPart","close":true,"times":1}' >/dev/null
expect_code 0 "a part whose connection is closed while it is sent is retried" stream "$T/spool" s/retried-close 1
assert_eq "$(count_key UploadPart s/retried-close)" "4" "four UploadPart requests for three parts"
assert_eq "$(stored_sha s/retried-close)" "$SHA" "the part was sent again from its first byte"
sim_ctl DELETE /faults >/dev/null
assert_eq "$(open_uploads)" "0" "no upload left open"

# ---- the spool cannot be written: the upload is aborted, the error says what to do
# a file size limit makes write() fail with EFBIG (SIGXFSZ ignored, as a daemon might)
expect_code 74 "a write that fails aborts the upload (74)" \
    sh -c 'trap "" XFSZ; ulimit -f 4096; exec "$@"' sh env TMPDIR="$T/spool" "$PROBE" stream $B s/efbig "$T/big" $P
assert_grep "cannot spool part 1 to a temporary file in $T/spool: File too large: free space there or set TMPDIR" \
    "$ERR" "the error names the directory and what to do"
assert_eq "$(count_key AbortMultipartUpload s/efbig)" "1" "the multipart upload was aborted"
assert_eq "$(open_uploads)" "0" "no upload left open"
expect_code 66 "no object was stored" "$PROBE" head $B s/efbig
# a full disk: a 2 MiB tmpfs in a private mount namespace (where user namespaces are allowed)
mkdir "$T/small"
if unshare -rm true 2>/dev/null; then
    expect_code 74 "a full TMPDIR (ENOSPC) aborts the upload (74)" \
        unshare -rm sh -c 'mount -t tmpfs -o size=2m tmpfs "$1" && shift && exec "$@"' sh "$T/small" \
        env TMPDIR="$T/small" "$PROBE" stream $B s/enospc "$T/big" $P
    assert_grep "in $T/small: No space left on device: free space there or set TMPDIR to a directory with 15 MiB free" \
        "$ERR" "the error names the directory, ENOSPC and the room needed"
    assert_eq "$(count_key AbortMultipartUpload s/enospc)" "1" "the multipart upload was aborted"
    assert_eq "$(open_uploads)" "0" "no upload left open"
else
    echo "ok - # SKIP a full TMPDIR: no user namespaces here (the EFBIG case covers the same path)"
fi

done_testing
