#!/bin/sh
# t1101: `lcbackup backup broker` against each broker profile of the simulator (orion-ld, scorpio,
# stellio, strict):
#  a. a full export from the policy (url_param from SSM, page_size 1200: above every profile's
#     maximum, so the broker refuses it and the export continues at the maximum it names), read back
#     without lcbackup (`aws s3 cp ... - | tar --zstd -x`): exactly the emulator's ids, no duplicate,
#     catalog, sidecar, SSE-KMS and `lcbackup verify` agree;
#  b. an export while entities are deleted (before and after the read position), created and
#     updated between pages: no duplicate, every entity that existed throughout is present (the
#     deletes before the read position and the creates balance, so only the page overlap can tell),
#     credentials in the broker URL never reach output, catalog or archive;
#  c. transient faults on pages (503, connection reset, truncated body, dropped connection, the
#     empty-page anomaly, a page that ignores its offset) and on S3 (SlowDown): retried or read
#     again, the archive complete.
. "$(dirname "$0")/lib.sh"

BUCKET=legocity-backups-dev
STREETLIGHT=https://smartdatamodels.org/dataModel.Streetlighting/Streetlight
PARKING=https://smartdatamodels.org/dataModel.Parking/ParkingSpot
TRAFFIC=https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved
PW=Brk-pw-7f3a9c1e5d  # the password in the broker URL of (b): must never show up
# aws_fetch LOCATION DIR: the archive as a user without lcbackup reads it (a copy in DIR.tar.zst)
aws_fetch() {
    rm -rf "$2" && mkdir -p "$2" &&
        aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "$1" - 2>"$T/aws.err" | tee "$2.tar.zst" |
        tar --zstd -x -C "$2" 2>"$T/tar.err"
}
# s3get LOCATION FILE: a quicker read (a presigned GET) where the aws CLI is not the point
s3get() { curl -sf -o "$2" "$(lcb presign "$1")"; }
fetch() { rm -rf "$2" && mkdir -p "$2" && s3get "$1" "$2.tar.zst" && tar --zstd -xf "$2.tar.zst" -C "$2"; }
# s3meta KEY FIELD: a stored object's metadata (the simulator's control API)
s3meta() {
    sim_ctl GET "/s3/objects?bucket=$BUCKET&prefix=$1" |
        "$PY" -c 'import json,sys; print(json.load(sys.stdin)["objects"][0]["meta"].get(sys.argv[1], ""))' "$2"
}
# ids DIR: every entity id in the archive's pages, one a line (duplicates kept)
ids() {
    "$PY" - "$1" <<'EOF'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/entities/*/*.json")):
    for e in json.load(open(f)):
        print(e["id"])
EOF
}
# largest DIR: the most entities in one page
largest() {
    "$PY" -c 'import glob,json,sys; print(max(len(json.load(open(f))) for f in glob.glob(sys.argv[1]+"/entities/*/*.json")))' "$1"
}
# emu_ids [TYPE...]: the emulator's ids of the default tenant (of these types)
emu_ids() {
    if [ $# -eq 0 ]; then set -- ""; fi
    for t in "$@"; do sim_ctl GET "/broker/ids?tenant=${t:+&type=$t}"; done |
        "$PY" -c 'import json,sys
d=json.JSONDecoder(); s=sys.stdin.read(); i=0
while i < len(s.rstrip()):
    o, i = d.raw_decode(s, i)
    while i < len(s) and s[i].isspace(): i += 1
    print("\n".join(o["ids"]))'
}
open_uploads() { sim_ctl GET "/s3/multipart?bucket=$BUCKET" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["uploads"]))'; }
dups() { sort "$1" | uniq -d | wc -l | tr -d ' '; }

cat >"$T/policy.json" <<'EOF'
{
  "version": 1,
  "env": "dev",
  "region": "eu-west-1",
  "storage": { "bucket": "legocity-backups-dev", "prefix": "lcbackup", "kms_key": "alias/legocity-backups" },
  "defaults": { "schedule": "@daily", "retention": { "keep_last": 3 } },
  "targets": { "broker": [ { "name": "broker", "url_param": "/legocity/dev/broker/url", "page_size": 1200 } ] }
}
EOF

# ---- a. full export from the policy: discovery, page-size refusal, read back, catalog
full_export() {
    p=$1 max=$2
    expect_code 0 "$p: backup broker from the policy" \
        lcb --policy "$T/policy.json" --json --log-format json backup broker
    cp "$OUT" "$T/a.json"
    # not a terminal: JSON status lines with the entities, the rate and the bytes so far
    if "$PY" - "$ERR" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
st = [l for l in lines if l.get("event") == "broker.export.progress"]
keys = ("entities", "expected", "rate", "bytes_read", "bytes_archived")
sys.exit(not st or not all(k in st[-1] for k in keys) or st[-1]["bytes_read"] <= 0)
EOF
    then pass "$p: status lines carry entities, rate, bytes read and archived"
    else fail "$p: status lines carry entities, rate, bytes read and archived" "$(grep progress "$ERR" | tail -2)"
    fi
    ID=$(jget "$T/a.json" backup_id) LOC=$(jget "$T/a.json" location)
    refused=$(sim_ctl GET "/broker/requests?route=GET%20/entities" | "$PY" -c 'import json,sys
print(sum(1 for r in json.load(sys.stdin)["requests"] if "limit=1200" in r["query"] and r["status"] in (400, 403)))')
    [ "$refused" -ge 1 ] && pass "$p: the broker refused 1200 entities a page" ||
        fail "$p: the broker refused 1200 entities a page" "no 400/403 for limit=1200"
    assert_grep "refuses .*(limit=1200|1200 entities).*trying $max" "$ERR" \
        "$p: the export continued at the broker's maximum ($max)"
    if aws_fetch "$LOC" "$T/a"; then pass "$p: aws s3 cp | tar --zstd -x reads the archive"
    else fail "$p: aws s3 cp | tar --zstd -x reads the archive" "$(cat "$T/aws.err" "$T/tar.err")"; fi
    assert_eq "$(largest "$T/a")" "$max" "$p: the largest page holds $max entities"
    ids "$T/a" >"$T/a.ids"
    emu_ids | sort >"$T/emu.ids"
    assert_eq "$(dups "$T/a.ids")" 0 "$p: no entity twice in the archive"
    sort -u "$T/a.ids" | cmp -s - "$T/emu.ids" && pass "$p: the archive holds exactly the broker's entities" ||
        fail "$p: the archive holds exactly the broker's entities" \
            "$(sort -u "$T/a.ids" | diff - "$T/emu.ids" | head -5)"
    assert_eq "$(jget "$T/a.json" entities)" "$(wc -l <"$T/emu.ids" | tr -d ' ')" "$p: --json counts them"
    assert_eq "$(jget "$T/a/MANIFEST.json" total)" "$(wc -l <"$T/emu.ids" | tr -d ' ')" \
        "$p: MANIFEST.json counts them"
    sha=$(sha256sum "$T/a.tar.zst" | cut -d' ' -f1)
    assert_eq "$(sql "SELECT status, item_count, sha256, size_bytes FROM backups WHERE id='$ID'")" \
        "completed|$(wc -l <"$T/emu.ids" | tr -d ' ')|$sha|$(stat -c %s "$T/a.tar.zst")" \
        "$p: the catalog records the object's size, SHA-256 and count"
    s3get "$LOC.manifest.json" "$T/a.sidecar"
    assert_eq "$(jget "$T/a.sidecar" sha256)" "$sha" "$p: the sidecar names the object's SHA-256"
    assert_eq "$(s3meta "${LOC#s3://$BUCKET/}" sse)" "aws:kms" "$p: the archive is SSE-KMS"
    assert_eq "$(open_uploads)" 0 "$p: no open multipart upload"
    expect_code 0 "$p: lcbackup verify accepts it" lcb verify "$ID"
    assert_grep "^$ID: ok" "$OUT" "$p: verify says ok"
    assert_eq "$(sql "SELECT verified_at IS NOT NULL FROM backups WHERE id='$ID'")" 1 \
        "$p: verify records verified_at"
}

# ---- b. deletes, creates and updates between pages
concurrent_export() {
    p=$1
    sim_ctl DELETE /broker/hooks >/dev/null
    emu_ids $STREETLIGHT $PARKING $TRAFFIC | sort >"$T/start.ids"
    # at the 3rd page: 3 Streetlights already read are deleted and 3 created (one at a time, so
    # no two share a creation time): the count stays the same, 3 unread ones slide back
    sim_ctl POST /broker/hooks '{"after_get":3,"action":"delete","where":"before","count":3}' >/dev/null
    for i in 1 2 3; do
        sim_ctl POST /broker/hooks "{\"after_get\":3,\"action\":\"create\",\"type\":\"Streetlight\",\"count\":1,\"id_prefix\":\"urn:ngsi-ld:Streetlight:hook-b$i-\"}" >/dev/null
    done
    sim_ctl POST /broker/hooks '{"after_get":5,"action":"update","where":"any","count":10}' >/dev/null
    sim_ctl POST /broker/hooks '{"after_get":7,"action":"delete","where":"after","count":5}' >/dev/null
    sim_ctl POST /broker/hooks '{"after_get":4,"action":"create","type":"Streetlight","count":1,"repeat":true}' >/dev/null
    sim_ctl POST /broker/hooks '{"after_get":20,"action":"delete","where":"before","count":4}' >/dev/null
    url=$(echo "$LCSIM_BROKER_URL" | sed "s#http://#http://lcbuser:$PW@#")
    expect_code 0 "$p: export while entities change between pages" \
        lcb --json backup broker --broker-url "$url" --bucket $BUCKET --page-size 50 \
        --types "$STREETLIGHT,$PARKING,$TRAFFIC"
    cp "$OUT" "$T/b.json"; cp "$ERR" "$T/b.err"
    sim_ctl GET /broker/hooks >"$T/hooks.json"
    "$PY" - "$T/hooks.json" "$T" <<'EOF'
import json, sys
hooks = json.load(open(sys.argv[1]))["hooks"]
out = {"delete": set(), "create": set(), "update": set()}
unfired = [h["id"] for h in hooks if not h["fired"]]
for h in hooks:
    for f in h["fired"]:
        out[h["action"]].update(f["ids"])
for k, v in out.items():
    open(f"{sys.argv[2]}/{k}d.ids", "w").write("".join(i + "\n" for i in sorted(v)))
open(f"{sys.argv[2]}/unfired", "w").write(" ".join(map(str, unfired)))
EOF
    assert_eq "$(cat "$T/unfired")" "" "$p: every hook fired during the export"
    fetch "$(jget "$T/b.json" location)" "$T/b"
    ids "$T/b" >"$T/b.ids"
    sort -u "$T/b.ids" >"$T/b.set"
    assert_eq "$(dups "$T/b.ids")" 0 "$p: no duplicates although pages shifted"
    comm -23 "$T/start.ids" "$T/deleted.ids" | comm -23 - "$T/b.set" >"$T/missing"
    assert_eq "$(wc -l <"$T/missing" | tr -d ' ')" 0 \
        "$p: every entity that existed throughout is in the archive ($(head -3 "$T/missing" | tr '\n' ' '))"
    sort -u "$T/start.ids" "$T/created.ids" | comm -13 - "$T/b.set" >"$T/extra"
    assert_eq "$(wc -l <"$T/extra" | tr -d ' ')" 0 "$p: nothing in the archive the broker never held"
    assert_grep "deleted or created before the read position" "$T/b.err" \
        "$p: the page overlap noticed the shift and read the type again"
    # the password in the URL: not in stdout, stderr, the catalog, the archive or its sidecar
    loc=$(jget "$T/b.json" location)
    s3get "$loc.manifest.json" "$T/b/sidecar.json"
    sqlite3 "$LCBACKUP_CATALOG" .dump >"$T/catalog.dump"
    if grep -rq -- "$PW" "$T/b.json" "$T/b.err" "$T/catalog.dump" "$T/b"; then
        fail "$p: the broker password never leaks" "$(grep -rl -- "$PW" "$T/b.json" "$T/b.err" "$T/catalog.dump" "$T/b")"
    else pass "$p: the broker password never leaks"; fi
    assert_grep "\"source\": \"http://127.0.0.1:[0-9]+/ngsi-ld/v1\"" "$T/b/MANIFEST.json" \
        "$p: the manifest names the broker without credentials"
}

# ---- c. transient faults: retried, nothing lost
faulty_export() {
    p=$1
    sim_ctl DELETE /broker/hooks >/dev/null
    sim_ctl POST /broker/faults '[{"action":"status","status":503,"query":"offset=","times":2,"after":1},
        {"action":"reset","query":"offset=","times":1,"after":3},
        {"action":"truncate","query":"offset=","times":1,"after":5},
        {"action":"drop","query":"offset=","times":1,"after":7},
        {"action":"empty_page","query":"offset=","times":1,"after":9},
        {"action":"first_page","query":"offset=","times":1,"after":11}]' >/dev/null
    sim_ctl POST /faults '{"service":"s3","operation":"UploadPart","code":"SlowDown","times":1}' >/dev/null
    emu_ids $STREETLIGHT $PARKING $TRAFFIC | sort >"$T/c.emu"
    expect_code 0 "$p: export through 503, reset, truncated, dropped, empty and first-again pages" \
        lcb --json backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET --page-size 50 \
        --types "$STREETLIGHT,$PARKING,$TRAFFIC"
    cp "$OUT" "$T/c.json"
    spent=$(sim_ctl GET /broker/faults | "$PY" -c 'import json,sys
print(" ".join("%s:%s" % (f["action"], f["hits"]) for f in json.load(sys.stdin)["faults"]))')
    assert_eq "$spent" "status:2 reset:1 truncate:1 drop:1 empty_page:1 first_page:1" "$p: every fault was hit"
    assert_eq "$(sim_ctl GET '/requests?service=s3&operation=UploadPart&error=SlowDown' |
        "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))')" 1 "$p: S3 throttled a part once"
    sim_ctl DELETE /broker/faults >/dev/null
    sim_ctl DELETE /faults >/dev/null
    fetch "$(jget "$T/c.json" location)" "$T/c"
    ids "$T/c" | sort | uniq >"$T/c.set"
    cmp -s "$T/c.set" "$T/c.emu" && pass "$p: nothing lost or doubled by the faults" ||
        fail "$p: nothing lost or doubled by the faults" "$(diff "$T/c.set" "$T/c.emu" | head -5)"
    assert_eq "$(ids "$T/c" | wc -l | tr -d ' ')" "$(wc -l <"$T/c.emu" | tr -d ' ')" "$p: each entity once"
    assert_eq "$(open_uploads)" 0 "$p: no open multipart upload"
}

for spec in orion-ld:1000 scorpio:1000 stellio:100 strict:100; do
    p=${spec%%:*} max=${spec#*:}
    profile_sim_start "$p" 3600
    full_export "$p" "$max"
    concurrent_export "$p"
    faulty_export "$p"
    profile_sim_stop "$p" &
done
wait

done_testing
