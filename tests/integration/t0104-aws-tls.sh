#!/bin/sh
# t0104: TLS verification is always on: an HTTPS endpoint with a private CA fails until the CA is
# given with --ca-bundle, AWS_CA_BUNDLE or the profile's ca_bundle; a certificate for another name
# fails even with the CA; plain http off loopback needs --allow-insecure-endpoint.
. "$(dirname "$0")/lib.sh"

export AWS_CONFIG_FILE="$T/config" AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials
export AWS_ACCESS_KEY_ID=AKIDTLSTEST AWS_SECRET_ACCESS_KEY=tls/test+secret AWS_REGION=eu-west-1
export AWS_EC2_METADATA_DISABLED=true
unset AWS_CA_BUNDLE AWS_ENDPOINT_URL
: > "$T/config"

# a private CA, a certificate for 127.0.0.1 and one for another name
cd "$T" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
    -subj "/CN=lcbackup test CA" >/dev/null 2>&1
for name in good:IP:127.0.0.1 wrong:DNS:elsewhere.example; do
    n=${name%%:*}; san=${name#*:}
    openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj "/CN=$n" >/dev/null 2>&1
    printf 'subjectAltName=%s\n' "$san" > $n.ext
    openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 2 \
        -extfile $n.ext >/dev/null 2>&1
done
cd - >/dev/null || exit 1
[ -s "$T/good.pem" ] && [ -s "$T/wrong.pem" ] || { echo "Bail out! openssl could not make certificates"; exit 1; }

# serve_tls CERT: an HTTPS server on 127.0.0.1 answering 403 to everything; prints its port
serve_tls() {
    "$PY" -c '
import http.server, ssl, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(403); self.send_header("Content-Length", "0"); self.end_headers()
    do_POST = do_GET
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
threading.Thread(target=s.serve_forever, daemon=True).start()
sys.stdin.read()' "$1" "$2" < "$T/$3.fifo" > "$T/$3.port" &
    echo $! > "$T/$3.pid"
}
mkfifo "$T/good.fifo" "$T/wrong.fifo"
serve_tls "$T/good.pem" "$T/good.key" good
exec 7>"$T/good.fifo"
serve_tls "$T/wrong.pem" "$T/wrong.key" wrong
exec 8>"$T/wrong.fifo"
at_exit "kill $(cat "$T/good.pid") $(cat "$T/wrong.pid")"
sleep 1
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T/good.port" ] && [ -s "$T/wrong.port" ] && break; sleep 0.5; done
GOOD=https://127.0.0.1:$(cat "$T/good.port")
WRONG=https://127.0.0.1:$(cat "$T/wrong.port")

# every service goes to the TLS server (nothing leaves 127.0.0.1); it answers 403 to all
export AWS_ENDPOINT_URL=$GOOD
expect_code 78 "a private CA is refused by default (exit 78)" lcb doctor
assert_grep "^FAIL +endpoint kms +TLS: .*certificate" "$OUT" "the failure is a TLS verification failure"
assert_grep "ca-bundle" "$OUT" "it says how to trust a private CA"
expect_code 77 "--ca-bundle: TLS passes, STS refuses the fake keys (exit 77)" \
    lcb --ca-bundle "$T/ca.pem" doctor
assert_grep "^OK +endpoint kms +$GOOD/ answers \(HTTP 403" "$OUT" "--ca-bundle trusts the private CA"
assert_grep "^FAIL +identity +sts GetCallerIdentity: HTTP 403" "$OUT" "the STS call went through TLS"
run env AWS_CA_BUNDLE="$T/ca.pem" "$LCBACKUP" doctor
assert_grep "^OK +endpoint kms " "$OUT" "AWS_CA_BUNDLE trusts the private CA"
printf '[default]\nca_bundle = %s\n' "$T/ca.pem" > "$T/config"
run "$LCBACKUP" doctor
assert_grep "^OK +endpoint kms " "$OUT" "the profile's ca_bundle trusts the private CA"
: > "$T/config"
run env AWS_ENDPOINT_URL_KMS=$WRONG "$LCBACKUP" --ca-bundle "$T/ca.pem" doctor
assert_grep "^FAIL +endpoint kms +TLS: " "$OUT" "a certificate for another name fails even with the CA"
unset AWS_ENDPOINT_URL
expect_code 78 "a missing CA bundle file is a configuration error" \
    lcb --ca-bundle "$T/nonexistent.pem" --region eu-west-1 presign s3://lcb-archive/k
assert_grep "CA bundle .*nonexistent\.pem" "$ERR" "the error names the bundle"
expect_code 78 "plain http off loopback is refused" \
    env AWS_ENDPOINT_URL=http://192.0.2.10:4566 "$LCBACKUP" --region eu-west-1 presign s3://b/k
expect_code 0 "--allow-insecure-endpoint accepts it (presign sends nothing)" \
    env AWS_ENDPOINT_URL=http://192.0.2.10:4566 "$LCBACKUP" --allow-insecure-endpoint --region eu-west-1 presign s3://lcb/k
exec 7>&- 8>&-

done_testing
