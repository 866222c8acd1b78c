#!/bin/sh
# t2102: what guards a broker restore (orion-ld profile).
#  - `lcbackup verify` detects one flipped byte anywhere in the stored object (zstd frame header,
#    compressed blocks, the manifest, the checksum at the end): exit 65, naming what failed, and an
#    event in the catalog; a re-packed copy put back through S3 with one changed entity (valid zstd
#    and tar) is named by entry, and when the copy's manifest is fixed too, by the object's SHA-256;
#    restore refuses all of them before writing anything.
#  - --dry-run writes nothing (the broker's request log), a 207 partial failure (create-only over
#    entities that exist) exits 2 listing the failed ids, transient 503s and resets on batches are
#    retried, the archive's tenant is the default target, and a production target needs --yes.
. "$(dirname "$0")/lib.sh"

BUCKET=legocity-backups-dev
STREETLIGHT=https://smartdatamodels.org/dataModel.Streetlighting/Streetlight

sim_up
sim_ctl POST /seed '{"name":"legocity","services":["kms","s3","ssm","broker"],
                     "sizes":{"entities":1500,"tenants":{"legocity":300}}}' >/dev/null

q() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
emu_count() { sim_ctl GET "/broker/ids?tenant=$1" | q 'len(d["ids"])'; }
writes() { # broker requests that change something, since the log was cleared
    sim_ctl GET /broker/requests | q 'len([r for r in d["requests"] if r["method"] in ("POST","PATCH","PUT","DELETE") and r["route"] != "POST /entityOperations/query"])'
}
put_object() { curl -sf -o /dev/null -T "$2" "$(lcb presign --method PUT "$1")"; }
ngsi() { # METHOD PATH TENANT [BODY] -> status
    curl -s -o "$T/ngsi.out" -w '%{http_code}' -X "$1" -H "NGSILD-Tenant: $3" \
        ${4:+-H 'Content-Type: application/json' --data "$4"} "$LCSIM_BROKER_URL/ngsi-ld/v1$2"
}

expect_code 0 "export the broker" lcb --json backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET
cp "$OUT" "$T/b.json"
ID=$(jget "$T/b.json" backup_id) LOC=$(jget "$T/b.json" location) N=$(jget "$T/b.json" entities)
KEY=${LOC#s3://$BUCKET/}
curl -sf -o "$T/orig.tar.zst" "$(lcb presign "$LOC")"
SIZE=$(stat -c %s "$T/orig.tar.zst")

expect_code 0 "verify the intact archive" lcb verify "$ID"
assert_grep "^$ID: ok \([0-9]+ entries, $N items, $SIZE bytes" "$OUT" "verify says ok with the counts"

# ---- one flipped byte anywhere
for off in 0 4 13 200 $((SIZE / 4)) $((SIZE / 2)) $((SIZE * 3 / 4)) $((SIZE - 60)) $((SIZE - 9)) $((SIZE - 1)); do
    put_object "$LOC" "$T/orig.tar.zst"
    sim_ctl POST /s3/corrupt "{\"bucket\":\"$BUCKET\",\"key\":\"$KEY\",\"offset\":$off}" >/dev/null
    expect_code 65 "byte $off of $SIZE flipped: verify exits 65" lcb verify "$ID"
    assert_grep "^lcbackup: verify: verify $ID: (entry \"[^\"]+\": |archive reader: |zstd: |.*SHA-256)" "$ERR" \
        "byte $off: the error names what failed"
done
assert_eq "$(sql "SELECT count(*) FROM events WHERE backup_id='$ID' AND event='backup.verify_failed'")" 10 \
    "each failed verification is an event in the catalog"

# ---- a re-packed copy with one entity changed, put back through S3
zstd -dcq "$T/orig.tar.zst" >"$T/orig.tar"
repack() { # FIX_MANIFEST OUT: change "Spot 1" to "Spot 9" in a page; optionally fix the manifest
    "$PY" - "$T/orig.tar" "$1" "$2.tar" <<'EOF'
import hashlib, io, json, sys, tarfile
src, fix, dst = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
members = []
with tarfile.open(src) as t:
    for m in t.getmembers():
        members.append((m, t.extractfile(m).read()))
changed = None
for i, (m, data) in enumerate(members):
    if changed is None and b'"Spot 1"' in data:
        members[i] = (m, data.replace(b'"Spot 1"', b'"Spot 9"', 1))
        changed = (m.name, members[i][1])
if fix:
    for i, (m, data) in enumerate(members):
        if m.name == "MANIFEST.json":
            man = json.loads(data)
            for e in man["entries"]:
                if e["name"] == changed[0]:
                    e["sha256"] = hashlib.sha256(changed[1]).hexdigest()
            members[i] = (m, json.dumps(man, indent=2).encode())
with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as t:
    for m, data in members:
        m.size = len(data)
        t.addfile(m, io.BytesIO(data))
print(changed[0])
EOF
    zstd -q -f --check "$2.tar" -o "$2"
}
page=$(repack 0 "$T/evil.tar.zst")
put_object "$LOC" "$T/evil.tar.zst"
expect_code 65 "a re-packed copy with one entity changed: verify exits 65" lcb verify "$ID"
assert_grep "entry \"$page\": sha256 [0-9a-f]{64} does not match MANIFEST.json" "$ERR" "the changed entry is named"
sim_ctl DELETE /broker/requests >/dev/null
expect_code 65 "restore refuses the changed copy" lcb restore broker --to "$LCSIM_BROKER_URL" --tenant t1 "$ID"
assert_grep "does not verify: nothing was written" "$ERR" "restore says nothing was written"
assert_eq "$(writes)" 0 "the broker received no write"
repack 1 "$T/evil2.tar.zst" >/dev/null
put_object "$LOC" "$T/evil2.tar.zst"
expect_code 65 "the same with its manifest fixed: verify exits 65" lcb verify "$ID"
assert_grep "the object's SHA-256 is [0-9a-f]{64} but the catalog recorded $(jget "$T/b.json" sha256)" "$ERR" \
    "the object's SHA-256 against the catalog gives it away"
expect_code 65 "restore refuses it too" lcb restore broker --to "$LCSIM_BROKER_URL" --tenant t1 "$ID"
assert_eq "$(writes)" 0 "still no write"
assert_eq "$(emu_count t1)" 0 "the target tenant stays empty"
put_object "$LOC" "$T/orig.tar.zst"
expect_code 0 "the original put back verifies again" lcb verify "$ID"

# ---- --dry-run
restores=$(sql "SELECT count(*) FROM restores")
expect_code 0 "restore --dry-run" lcb restore broker --dry-run --to "$LCSIM_BROKER_URL" --tenant dry "$ID"
assert_grep "^dry run: would write $N entities from $ID \(no request sent\):$" "$OUT" "dry run says what it would write"
assert_grep "^$STREETLIGHT [0-9]+$" "$OUT" "with the counts per type"
assert_eq "$(sim_ctl GET /broker/requests | q 'len(d["requests"])')" 0 "the broker received no request at all"
assert_eq "$(sql "SELECT count(*) FROM restores")" "$restores" "no restore recorded"

# ---- 207: create-only over two entities that exist already
A=urn:ngsi-ld:Streetlight:lego-city-0007 B=urn:ngsi-ld:ParkingSpot:lego-city-0042
for id in $A $B; do
    type=$(sim_ctl GET "/broker/entity?tenant=&id=$id" | q 'd["entity"]["type"]')
    ngsi POST /entities part "{\"id\":\"$id\",\"type\":\"$type\",\"note\":{\"type\":\"Property\",\"value\":\"kept\"}}" >/dev/null
done
assert_eq "$(emu_count part)" 2 "two entities exist in the target tenant"
expect_code 2 "restore --mode create-only over them: partial (exit 2)" \
    lcb restore broker --to "$LCSIM_BROKER_URL" --tenant part --mode create-only "$ID"
assert_grep "^$ID: $((N - 2)) entities written, 2 failed$" "$OUT" "the others are written"
assert_grep "^$A: 400 BadRequestData: entity already exists$" "$OUT" "the first failed id is listed with the reason"
assert_grep "^$B: 400 BadRequestData: entity already exists$" "$OUT" "the second too"
assert_grep "2 of $N entities could not be written" "$ERR" "the error counts them"
assert_eq "$(sim_ctl GET '/broker/requests?route=POST%20/entityOperations/create' | q '207 in [r["status"] for r in d["requests"]]')" \
    True "the broker answered 207 (a partial batch)"
assert_eq "$(sql "SELECT status FROM restores ORDER BY rowid DESC LIMIT 1")" partial "the catalog says partial"
assert_eq "$(emu_count part)" "$N" "the tenant holds every entity"
assert_eq "$(ngsi GET "/entities/$A" part)" 200 "the existing entity is still there"
assert_grep '"kept"' "$T/ngsi.out" "and create-only did not overwrite it"

# ---- transient faults on batch writes
sim_ctl POST /broker/faults '[{"action":"status","status":503,"path":"/ngsi-ld/v1/entityOperations","times":2},
    {"action":"reset","path":"/ngsi-ld/v1/entityOperations","times":1,"after":4}]' >/dev/null
expect_code 0 "restore through 503s and a reset" lcb restore broker --to "$LCSIM_BROKER_URL" --tenant flaky "$ID"
assert_grep "^$ID: $N entities written, 0 failed$" "$OUT" "every entity written"
assert_eq "$(sim_ctl GET /broker/faults | q '" ".join("%s:%s" % (f["action"], f["hits"]) for f in d["faults"])')" \
    "status:2 reset:1" "the faults were hit"
assert_eq "$(emu_count flaky)" "$N" "the tenant holds every entity"
sim_ctl DELETE /broker/faults >/dev/null

# ---- the archive's tenant is where it goes back by default
expect_code 0 "export tenant legocity" lcb --json backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET --tenant legocity
ID2=$(jget "$OUT" backup_id)
sim_ctl DELETE /broker/requests >/dev/null
expect_code 0 "restore it without --tenant" lcb restore broker --to "$LCSIM_BROKER_URL" "$ID2"
assert_eq "$(sim_ctl GET '/broker/requests?method=POST' | q 'sorted(set(r["tenant"] for r in d["requests"]))')" \
    "['legocity']" "it was written into tenant legocity, the archive's"

# ---- production needs --yes
PROD="$ROOT/policies/prod.json"
expect_code 0 "export with the prod policy" lcb --policy "$PROD" --json backup broker --types "$STREETLIGHT"
ID3=$(jget "$OUT" backup_id)
assert_grep "\"location\":\"s3://legocity-backups-prod/lcbackup/prod/broker/broker/" "$OUT" "into the prod bucket"
sim_ctl DELETE /broker/requests >/dev/null
expect_code 64 "restore into production without --yes is refused (64)" lcb --policy "$PROD" restore broker "$ID3"
assert_grep "production: check with --dry-run, then confirm with --yes" "$ERR" "the error says how to confirm"
assert_eq "$(sim_ctl GET /broker/requests | q 'len(d["requests"])')" 0 "the broker received nothing"
expect_code 0 "--dry-run needs no --yes" lcb --policy "$PROD" restore broker --dry-run "$ID3"
assert_eq "$(sim_ctl GET /broker/requests | q 'len(d["requests"])')" 0 "and writes nothing"
expect_code 0 "with --yes it runs" lcb --policy "$PROD" restore broker --yes "$ID3"
assert_grep "^$ID3: [0-9]+ entities written, 0 failed$" "$OUT" "the production restore wrote the entities"

done_testing
