#!/bin/sh
# t0005: secrets never reach logs, stdout, the catalog or an archive. The broker URL is put in SSM as
# a SecureString carrying a password; a backup reads it, talks to the broker with it, and every
# byte lcbackup wrote anywhere is searched for the password and the AWS secret key.
. "$(dirname "$0")/lib.sh"

sim_up --seed legocity --sizes entities=600
secret_pw="Pw-$(date +%s)-x7Qz"
url_with_pw=$(echo "$LCSIM_BROKER_URL" | sed "s|http://|http://backup:$secret_pw@|")
# --cli-input-json: the AWS CLI would try to fetch a --value that looks like a URL
expect_code 0 "put the broker URL with a password as a SecureString" aws ssm put-parameter \
    --cli-input-json "{\"Name\":\"/legocity/dev/broker/url-secure\",\"Type\":\"SecureString\",\"Value\":\"$url_with_pw\",\"Overwrite\":true}"
cat > "$T/policy.json" <<JSON
{ "version": 1, "env": "dev", "region": "eu-west-1",
  "storage": { "bucket": "legocity-backups-dev" },
  "targets": { "broker": [ { "name": "broker", "url_param": "/legocity/dev/broker/url-secure",
                             "schedule": "@daily", "retention": { "daily": 7 } } ] } }
JSON

for fmt in text json; do
    expect_code 0 "backup with a secret URL ($fmt logs, -v -v)" \
        lcb -v -v --log-format "$fmt" --policy "$T/policy.json" backup broker
    cat "$OUT" "$ERR" >> "$T/all-output"
    [ "$fmt" = json ] && cp "$ERR" "$T/json-log"
done
# every line of the JSON log parses, the redacted request traces included
if /usr/bin/python3 -c 'import json,sys
for n, l in enumerate(open(sys.argv[1]), 1):
    try: json.loads(l)
    except ValueError as e: sys.exit("line %d: %s" % (n, e))' "$T/json-log"; then
    pass "every JSON log line parses (-v -v)"
else
    fail "every JSON log line parses (-v -v)"
fi
expect_code 0 "list --json" lcb list --json
cat "$OUT" >> "$T/all-output"
id=$(sql "SELECT id FROM backups WHERE status='completed' LIMIT 1")
loc=$(sql "SELECT location FROM backups WHERE id='$id'")
aws s3 cp "$loc" "$T/archive.tar.zst" >/dev/null && aws s3 cp "$loc.manifest.json" "$T/sidecar.json" >/dev/null
zstd -dc "$T/archive.tar.zst" > "$T/archive.tar" 2>/dev/null

assert_grep "Authorization: \*\*\*|x-amz-date" "$T/all-output" "request traces were written (-v -v)"
for f in "$T/all-output" "$LCBACKUP_CATALOG" "$T/archive.tar" "$T/sidecar.json"; do
    [ -s "$f" ] || { fail "$(basename "$f") exists"; continue; }
    if grep -aq -- "$secret_pw" "$f"; then fail "no password in $(basename "$f")"; else pass "no password in $(basename "$f")"; fi
    if grep -aq -- "$AWS_SECRET_ACCESS_KEY" "$f"; then fail "no AWS secret key in $(basename "$f")"; else pass "no AWS secret key in $(basename "$f")"; fi
done
# the WAL may hold pages not yet in the main file
for f in "$LCBACKUP_CATALOG"-wal; do
    [ -f "$f" ] || continue
    if grep -aq -- "$secret_pw" "$f"; then fail "no password in the catalog WAL"; else pass "no password in the catalog WAL"; fi
done
assert_grep '"source": "http://127.0.0.1:[0-9]+/ngsi-ld/v1"' "$T/sidecar.json" "the manifest names the broker without credentials"

# the password is also kept out of argv: lcbackup never execs anything with it, and the policy
# refers to the parameter, not the value
assert_no_grep "$secret_pw" "$T/policy.json" "the policy names the parameter, not the secret"

done_testing
