#!/bin/sh
# t5001: Secrets Manager against the simulator: `backup config` exports the secrets the policy
# selects (prefix and tags; string and binary values, rotation, tags, KMS key, version stages),
# values encrypted in the archive like SecureStrings; `diff config` masks values unless
# --show-secrets; `restore secrets` creates missing secrets, puts new versions, cancels a
# scheduled deletion, keeps tags and KMS key, --dry-run and --name; no plaintext value in the
# archive, the sidecar, the catalog, stdout or the logs; fingerprints and drills through a
# db_secret.
. "$(dirname "$0")/lib.sh"

sim_up
sim_ctl POST /seed '{"name":"legocity","sizes":{"entities":50,"payload_scale":0.05},"services":["kms","s3","rds","ssm","secretsmanager","sns"]}' >"$T/seed.json"
aws_py() { $PY "$ROOT/tests/integration/t5lib.py"; }   # one botocore session for many calls
cat >"$T/dev.json" <<'EOF'
{ "version": 1, "env": "dev", "region": "eu-west-1", "timezone": "UTC",
  "storage": { "bucket": "legocity-backups-dev", "prefix": "lcbackup", "kms_key": "alias/legocity-backups" },
  "defaults": { "schedule": "@hourly", "retention": { "keep_last": 3 } },
  "targets": {
    "rds": [ { "instance": "legocity-payload-db", "db_secret": "legocity/dev/payload/db-credentials" } ],
    "config": [ { "name": "config", "secret_prefixes": ["legocity/dev/"], "secret_tags": { "Project": "other" } } ] } }
EOF
P="--policy $T/dev.json"
: >"$T/all.out"; : >"$T/all.err"
keep() { cat "$OUT" >>"$T/all.out"; cat "$ERR" >>"$T/all.err"; }

# the plaintexts that must never leak
PW=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$T/sim/rds/seed.json")
aws_py >"$T/values" <<'EOF'
v = lambda n: sm.get_secret_value(SecretId=n)
for n in ("payload/secret-key", "mapbox/token", "smtp/credentials"):
    print(v("legocity/dev/" + n)["SecretString"])
print(v("other-app/api-key")["SecretString"])
print(base64.b64encode(v("legocity/dev/tls/client-bundle")["SecretBinary"]).decode())
EOF
{ read -r KEY; read -r TOKEN; read -r SMTP; read -r OTHER; read -r BIN64; } <"$T/values"
[ -n "$PW" ] && [ -n "$KEY" ] && [ -n "$BIN64" ] || { echo "Bail out! no seeded secrets"; exit 1; }

# ---- backup: the selection, encrypted
expect_code 0 "backup config --dry-run" lcb $P backup config --dry-run
assert_grep '^secretsmanager ListSecrets \{"Filters":\[\{"Key":"name","Values":\["legocity/dev/"\]\}\]' "$OUT" "dry run: the prefix listing"
assert_grep '^secretsmanager ListSecrets \{"Filters":\[\{"Key":"tag-key"' "$OUT" "dry run: the tag listing"
assert_no_grep '^ssm ' "$OUT" "a target with only secrets reads no SSM path"
expect_code 0 "backup config with secrets" lcb $P --json backup config
keep
ID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["backup_id"])' "$OUT")
assert_eq "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["secrets"])' "$OUT")" "8" "7 dev secrets by prefix + 1 by tag (the one scheduled for deletion is not listed)"
LOC=$(sql "SELECT location FROM backups WHERE id='$ID'")
LOC="$LOC" T="$T" aws_py <<'EOF'
import os
s3 = client("s3")
b, k = os.environ["LOC"][5:].split("/", 1)
for key, f in ((k, "c.tar.zst"), (k + ".manifest.json", "sidecar.json")):
    with open(os.path.join(os.environ["T"], f), "wb") as out:
        out.write(s3.get_object(Bucket=b, Key=key)["Body"].read())
EOF
mkdir -p "$T/x" && tar --zstd -xf "$T/c.tar.zst" -C "$T/x"
J="$T/x/secretsmanager/secrets.json"
assert_eq "$($PY - "$J" <<'EOF'
import json, sys
s = {x["Name"]: x for x in json.load(open(sys.argv[1]))}
db = s["legocity/dev/payload/db-credentials"]
smtp = s["legocity/dev/smtp/credentials"]
kc = s["legocity/dev/keycloak/admin"]
vals = [v.get("SecretString") or v.get("SecretBinary") for x in s.values() for v in x["Versions"]]
print(len(s), "other-app/api-key" in s,
      all(v.startswith("lcbenc:v1:") for v in vals),
      "SecretBinary" in s["legocity/dev/tls/client-bundle"]["Versions"][0],
      sorted(st for v in smtp["Versions"] for st in v["VersionStages"]),
      kc["RotationEnabled"], kc["RotationRules"]["AutomaticallyAfterDays"],
      {t["Key"]: t["Value"] for t in db["Tags"]}["Component"])
EOF
)" "8 True True True ['AWSCURRENT', 'AWSPREVIOUS'] True 30 payload-cms" "archive: secrets, encrypted values, binary, stages, rotation, tags"
assert_eq "$($PY -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["counts"]["secretsmanager-secrets"], m["extra"]["secret_prefixes"], m["extra"]["secret_tags"])' "$T/x/MANIFEST.json")" \
    "8 ['legocity/dev/'] ['Project=other']" "manifest: count and selection"

# ---- diff: equal, then changed, masked
expect_code 0 "diff config: equal right after the backup" lcb $P diff config "$ID"
keep
aws_py <<'EOF'
d = "legocity/dev/"
sm.put_secret_value(SecretId=d + "mapbox/token", SecretString="tok-changed-7f3a9e")
sm.delete_secret(SecretId=d + "smtp/credentials", RecoveryWindowInDays=7)
sm.delete_secret(SecretId=d + "tls/client-bundle", ForceDeleteWithoutRecovery=True)
sm.tag_resource(SecretId=d + "broker/api-key", Tags=[{"Key": "Owner", "Value": "intruder"}])
sm.update_secret(SecretId=d + "payload/secret-key", Description="edited by hand",
                 KmsKeyId="alias/legocity-backups")
sm.create_secret(Name=d + "new/thing", SecretString="new-9b1c2d")
EOF
expect_code 1 "diff config: differences" lcb $P diff config "$ID"
keep
assert_grep '^~ secret legocity/dev/mapbox/token$' "$OUT" "a changed value"
assert_grep '^    Value: "\*\*\*" -> "\*\*\*"$' "$OUT" "values masked"
assert_grep '^~ secret legocity/dev/smtp/credentials$' "$OUT" "scheduled for deletion shows"
assert_grep '^    Deletion: \(absent\) -> "scheduled"$' "$OUT" "as a Deletion field"
assert_grep '^- secret legocity/dev/tls/client-bundle \(binary\)$' "$OUT" "a deleted binary secret"
assert_grep '^\+ secret legocity/dev/new/thing \(string\)$' "$OUT" "a secret not in the backup"
assert_grep '^    Tags.Owner: \(absent\) -> "intruder"$' "$OUT" "a tag"
assert_grep '^    Description: "PAYLOAD_SECRET" -> "edited by hand"$' "$OUT" "a description"
expect_code 1 "diff config --show-secrets" lcb $P --json diff config "$ID" --show-secrets
assert_grep "\"from\":\"$TOKEN\",\"to\":\"tok-changed-7f3a9e\"" "$OUT" "--show-secrets shows both values"

# ---- restore: dry run first, nothing written
sim_ctl DELETE /requests >/dev/null
expect_code 0 "restore secrets --dry-run" lcb $P restore secrets "$ID" --dry-run
keep
assert_grep '^CreateSecret \{"Name":"legocity/dev/tls/client-bundle",.*"SecretBinary":"\*\*\*"' "$OUT" "dry run: create the binary secret, value masked"
assert_grep '^RestoreSecret \{"SecretId":"legocity/dev/smtp/credentials"\}$' "$OUT" "dry run: cancel the deletion"
assert_grep '^PutSecretValue \{"SecretId":"legocity/dev/mapbox/token","SecretString":"\*\*\*"\}$' "$OUT" "dry run: a new version"
assert_grep '^UntagResource \{"SecretId":"legocity/dev/broker/api-key","TagKeys":\["Owner"\]\}$' "$OUT" "dry run: drop the extra tag"
assert_grep '^UpdateSecret \{"SecretId":"legocity/dev/payload/secret-key","Description":"PAYLOAD_SECRET","KmsKeyId":"alias/aws/secretsmanager"\}$' "$OUT" "dry run: description and KMS key put back"
assert_grep '^kept legocity/dev/new/thing \(not in the backup\)$' "$OUT" "dry run: extra secrets kept"
WRITES=$(sim_ctl GET '/requests?service=secretsmanager' | $PY -c 'import json,sys; print(sum(r["operation"] not in ("ListSecrets","DescribeSecret","GetSecretValue") for r in json.load(sys.stdin)["requests"]))')
assert_eq "$WRITES" "0" "the dry run wrote nothing"
expect_code 66 "restore secrets --name unknown" lcb $P restore secrets "$ID" --name legocity/dev/nope
# --name: only one secret
expect_code 0 "restore secrets --name" lcb $P restore secrets "$ID" --name legocity/dev/mapbox/token
keep
assert_grep '^updated legocity/dev/mapbox/token \(Value\)$' "$OUT" "the named secret restored"
aws_py >"$T/after1" <<'EOF'
print(sm.get_secret_value(SecretId="legocity/dev/mapbox/token")["SecretString"])
print("DeletedDate" in sm.describe_secret(SecretId="legocity/dev/smtp/credentials"))
EOF
assert_eq "$(sed -n 1p "$T/after1")" "$TOKEN" "its value is the backup's"
assert_eq "$(sed -n 2p "$T/after1")" "True" "the others untouched"
# everything
expect_code 0 "restore secrets" lcb $P restore secrets "$ID"
keep
assert_grep '^restored legocity/dev/smtp/credentials \(scheduled for deletion\)$' "$OUT" "deletion cancelled"
assert_grep '^created legocity/dev/tls/client-bundle \(missing\)$' "$OUT" "binary secret created"
assert_grep '^restore-[0-9T-]+[a-f0-9]+: 1 created, 2 updated, 1 retagged, 4 unchanged, 0 failed$' "$OUT" "summary"
assert_eq "$(tail -n 2 "$OUT" | head -n 1)" "kept legocity/dev/new/thing (not in the backup)" \
    "the secret not in the backup is listed before the summary"
aws_py >"$T/after2" <<'EOF'
d = "legocity/dev/"
v = lambda n: sm.get_secret_value(SecretId=d + n)
print(base64.b64encode(v("tls/client-bundle")["SecretBinary"]).decode())
print(v("smtp/credentials")["SecretString"])
x = sm.describe_secret(SecretId=d + "tls/client-bundle")
print(x["Description"], ",".join(t["Key"] for t in x["Tags"]))
x = sm.describe_secret(SecretId=d + "payload/secret-key")
print(x["Description"], x.get("KmsKeyId"))
print(sorted(t["Key"] for t in sm.describe_secret(SecretId=d + "broker/api-key")["Tags"]))
print(v("new/thing")["SecretString"])
EOF
assert_eq "$(sed -n 1p "$T/after2")" "$BIN64" "binary value round trip"
assert_eq "$(sed -n 2p "$T/after2")" "$SMTP" "the undeleted value"
assert_eq "$(sed -n 3p "$T/after2")" "mTLS client bundle (DER) Component,Env,Project" "created with description and tags"
assert_eq "$(sed -n 4p "$T/after2")" "PAYLOAD_SECRET None" "description and KMS key (the default again) put back"
assert_eq "$(sed -n 5p "$T/after2")" "['Component', 'Env', 'Project']" "extra tag removed"
assert_eq "$(sed -n 6p "$T/after2")" "new-9b1c2d" "a secret not in the backup is kept"
assert_eq "$(sql "SELECT kind || ' ' || status FROM restores ORDER BY started_at DESC LIMIT 1")" "secrets succeeded" "the restore is in the catalog"
expect_code 1 "diff config after the restore" lcb $P diff config "$ID"
keep
assert_eq "$(grep -c '^[-+~] ' "$OUT")" "1" "only the extra secret differs"
expect_code 0 "restore again: nothing to do" lcb $P restore secrets "$ID"
assert_grep ': 0 created, 0 updated, 0 retagged, 8 unchanged, 0 failed$' "$OUT" "idempotent"
expect_code 0 "restore secrets --json" lcb $P --json restore secrets "$ID"
assert_eq "$(jq -c 'keys_unsorted' "$OUT")" \
    '["changes","restore_id","backup_id","created","updated","retagged","unchanged","failed","kept"]' \
    "--json: the result's members, in order"
assert_eq "$(jq -r '[.backup_id, .unchanged, .failed, (.kept | join(","))] | join(" ")' "$OUT")" \
    "$ID 8 0 legocity/dev/new/thing" "--json: the counts and the secret kept"
assert_eq "$(sql "SELECT id = '$(jq -r .restore_id "$OUT")' AND json_extract(detail, '\$.restore_id') = id FROM restores ORDER BY started_at DESC, rowid DESC LIMIT 1")" \
    "1" "--json: the printed restore_id is the catalog's, and its detail has it"

# ---- guards
sed 's/"env": "dev"/"env": "dev", "production": true/' "$T/dev.json" >"$T/prod-like.json"
expect_code 64 "production needs --yes" lcb --policy "$T/prod-like.json" restore secrets "$ID"
assert_grep "production: add --yes" "$ERR" "the refusal says why"
expect_code 64 "another environment needs --yes" lcb $P --env staging restore secrets "$ID"

# ---- fingerprints with the credentials of a secret
expect_code 0 "backup rds with db_secret" lcb $P backup rds --no-copy
keep
assert_grep "info +backup rds: fingerprint of postgres://payload_admin@127.0.0.1:[0-9]+/payload: [0-9]+ tables" "$ERR" "fingerprint through the secret"
assert_eq "$(sql "SELECT json_extract(manifest, '\$.db_secret') || ' ' || (json_extract(manifest, '\$.fingerprint.tables') IS NOT NULL) FROM backups WHERE kind='rds'")" \
    "legocity/dev/payload/db-credentials 1" "the manifest names the secret, not its value"
expect_code 0 "a drill logs in with the secret's credentials" lcb $P drill --component rds
keep
assert_grep "^    ok    connectivity +postgres://payload_admin@127.0.0.1:[0-9]+/payload: PostgreSQL [0-9.]+, credentials from legocity/dev/payload/db-credentials$" "$OUT" "the drill's connectivity check used the secret"
assert_grep "^    ok    row counts " "$OUT" "and compared the restored data with the fingerprint"

# ---- no plaintext anywhere
sqlite3 "$LCBACKUP_CATALOG" .dump >"$T/catalog.sql"
for f in "$T/all.out" "$T/all.err" "$T/catalog.sql" "$T/sidecar.json" "$J" "$T/x/MANIFEST.json"; do
    [ -s "$f" ] || { fail "no plaintext in $(basename "$f")" "the file is missing or empty"; continue; }
    for v in "$PW" "$KEY" "$TOKEN" "$SMTP" "$OTHER" "$BIN64"; do
        if grep -qF -- "$v" "$f"; then fail "no plaintext in $(basename "$f")" "found a secret value"; continue 2; fi
    done
    pass "no plaintext in $(basename "$f")"
done
if ! [ -s "$T/c.tar.zst" ] || zstd -dc "$T/c.tar.zst" | grep -qaF -e "$PW" -e "$KEY" -e "$TOKEN"; then fail "no plaintext in the raw archive"; else pass "no plaintext in the raw archive"; fi

done_testing
