#!/bin/sh
# t2103: `restore broker --dry-run` shows the exact requests the real restore then sends
# (orion-ld profile). For upsert, create-only, replace (a delete of each page's ids, then creates)
# and a --types filter, with --batch 70: the dry run's printed requests (method, URL, tenant,
# entities, body bytes, first and last id) equal, as a multiset, the batch writes the broker's
# request log records for the real restore that follows with the same flags; the dry run itself
# sends the broker no request at all and adds no restore to the catalog; the total line adds them
# up; --json carries the same list; no credential of --to is printed.
. "$(dirname "$0")/lib.sh"

BUCKET=legocity-backups-dev
STREETLIGHT=https://smartdatamodels.org/dataModel.Streetlighting/Streetlight

sim_up
sim_ctl POST /seed '{"name":"legocity","services":["kms","s3","ssm","broker"],
                     "sizes":{"entities":1500,"tenants":{}}}' >/dev/null

q() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
restores() { sql "SELECT count(*) FROM restores"; }
# shown FILE: the dry run's request lines as "path query tenant n bytes first last", sorted
shown() {
    "$PY" - "$1" <<'EOF'
import re, sys, urllib.parse
pat = re.compile(r"^POST (\S+)((?:  [A-Za-z-]+: [^ ]+)*)  (\d+) (?:entities|ids), (\d+) bytes"
                 r"(?:: (\S+) \.\. (\S+))?$")
rows = []
for line in open(sys.argv[1]):
    m = pat.match(line.rstrip("\n"))
    if not m:
        continue
    u = urllib.parse.urlsplit(m.group(1))
    hdrs = dict(h.split(": ", 1) for h in m.group(2).split("  ") if h)
    rows.append(" ".join([u.path, u.query or "-", hdrs.get("NGSILD-Tenant", "-"), m.group(3),
                          m.group(4), m.group(5) or "-", m.group(6) or "-"]))
print("\n".join(sorted(rows)))
EOF
}
# sent: the batch writes in the broker's request log, in the same form
sent() {
    sim_ctl GET /broker/requests | "$PY" -c 'import json,sys
rows = [" ".join([r["path"], r["query"] or "-", r["tenant"] or "-", str(r["items"]), str(r["bytes_in"]),
                  r["first_id"] or "-", r["last_id"] or "-"])
        for r in json.load(sys.stdin)["requests"] if "items" in r]
print("\n".join(sorted(rows)))'
}
nrequests() { sim_ctl GET /broker/requests | q 'len(d["requests"])'; }

# pages of 200: a type spans several archive pages, and is still counted on one line
expect_code 0 "export the broker" lcb --json backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET \
    --page-size 200
ID=$(jget "$OUT" backup_id) N=$(jget "$OUT" entities)

# check NAME TENANT WANT_ENTITIES FLAGS...: a dry run, then the real restore with the same flags
check() {
    name=$1 tenant=$2 want=$3; shift 3
    before=$(restores)
    sim_ctl DELETE /broker/requests >/dev/null
    expect_code 0 "$name: dry run" lcb restore broker --dry-run --to "$LCSIM_BROKER_URL" \
        --tenant "$tenant" --batch 70 "$@" "$ID"
    cp "$OUT" "$T/dry.out"
    assert_eq "$(nrequests)" 0 "$name: the broker received no request during the dry run"
    assert_eq "$(restores)" "$before" "$name: the catalog gained no restore"
    shown "$T/dry.out" >"$T/shown"
    lines=$(grep -c '^POST ' "$T/dry.out")
    assert_eq "$(wc -l <"$T/shown" | tr -d ' ')" "$lines" "$name: every request line has the expected form"
    bytes=$(awk '{s += $5} END {print s}' "$T/shown")
    assert_grep "^total: $lines requests, $want entities, $bytes bytes$" "$T/dry.out" \
        "$name: the total line adds up the requests shown"
    maxb=$(awk '$1 !~ /delete$/ && $4 > m {m = $4} END {print m + 0}' "$T/shown")
    [ "$maxb" -gt 0 ] && [ "$maxb" -le 70 ] && pass "$name: batches of at most 70 entities" ||
        fail "$name: batches of at most 70 entities" "the largest has $maxb"

    sim_ctl DELETE /broker/requests >/dev/null
    expect_code 0 "$name: the real restore" lcb restore broker --to "$LCSIM_BROKER_URL" \
        --tenant "$tenant" --batch 70 "$@" "$ID"
    assert_grep "^$ID: $want entities written, 0 failed$" "$OUT" "$name: every entity written"
    sent >"$T/sent"
    if cmp -s "$T/shown" "$T/sent"; then
        pass "$name: the dry run showed exactly the requests the restore sent ($lines)"
    else
        fail "$name: the dry run showed exactly the requests the restore sent" \
            "$(diff "$T/shown" "$T/sent" | head -8)"
    fi
}

check upsert up "$N"
LINE="^POST $LCSIM_BROKER_URL/ngsi-ld/v1/entityOperations/upsert\?options=replace  NGSILD-Tenant: up"
LINE="$LINE  Content-Type: application/json  70 entities, [0-9]+ bytes: urn:ngsi-ld:[^ ]+ \.\. urn:ngsi-ld:[^ ]+$"
assert_grep "$LINE" \
    "$T/dry.out" "upsert: a request line names the URL, tenant, content type, size and ids"
check create-only fresh "$N" --mode create-only
assert_no_grep "upsert" "$T/dry.out" "create-only: no upsert is shown"
check replace up "$N" --mode replace
assert_eq "$(grep -c '/entityOperations/delete  ' "$T/dry.out")" \
    "$(grep -c '/entityOperations/delete' "$T/sent")" \
    "replace: a delete per archive page, as sent"
head -1 "$T/dry.out" | grep -q '/entityOperations/delete  NGSILD-Tenant: up  .* ids, ' &&
    pass "replace: the delete comes first" ||
    fail "replace: the delete comes first" "$(head -1 "$T/dry.out")"

# --types: only that type's batches are shown (and then sent)
NS=$(sim_ctl GET "/broker/ids?tenant=&type=$STREETLIGHT" | q 'len(d["ids"])')
check "--types" typed "$NS" --types "$STREETLIGHT"
SL=urn:ngsi-ld:Streetlight:
assert_eq "$(grep '^POST ' "$T/dry.out" | grep -vc ": $SL[^ ]* \.\. $SL")" 0 \
    "--types: every batch shown holds Streetlights only"
assert_grep "^$STREETLIGHT $NS$" "$T/dry.out" "--types: the count per type is that type's"
assert_eq "$(grep -Ec '^[^ ]+ [0-9]+$' "$T/dry.out")" 1 "--types: no other type is counted"
# the short name selects the same requests; an unknown type stops before anything, naming the types
cp "$T/dry.out" "$T/full.out"
expect_code 0 "--types by its short name" lcb restore broker --dry-run --to "$LCSIM_BROKER_URL" \
    --tenant typed --batch 70 --types Streetlight "$ID"
cmp -s "$OUT" "$T/full.out" && pass "--types Streetlight: the same requests as the full name" ||
    fail "--types Streetlight: the same requests as the full name" "$(diff "$OUT" "$T/full.out" | head -5)"
before=$(restores)
sim_ctl DELETE /broker/requests >/dev/null
expect_code 64 "--types with a type the backup does not hold" lcb restore broker \
    --to "$LCSIM_BROKER_URL" --tenant typed --types Streetlights "$ID"
assert_grep "type 'Streetlights' is not in this backup, which holds .*Streetlight \([0-9]+\)" "$ERR" \
    "the error lists the types the backup holds"
assert_eq "$(nrequests)" 0 "nothing was sent to the broker"
assert_eq "$(restores)" "$before" "no restore was recorded"

# --json: the same requests, machine-readable, beside the existing keys
sim_ctl DELETE /broker/requests >/dev/null
expect_code 0 "--json --dry-run" lcb --json restore broker --dry-run --to "$LCSIM_BROKER_URL" \
    --tenant up --batch 70 "$ID"
assert_eq "$(q '[d[k] for k in ("backup_id", "dry_run", "entities", "written", "failed")]' <"$OUT")" \
    "['$ID', True, $N, 0, 0]" "--json: the existing keys are unchanged"
"$PY" - "$OUT" >"$T/json.rows" <<'EOF'
import json, sys, urllib.parse
rows = []
for r in json.load(open(sys.argv[1]))["requests"]:
    u = urllib.parse.urlsplit(r["url"])
    rows.append(" ".join([u.path, u.query or "-", r["tenant"] or "-", str(r["entities"]),
                          str(r["bytes"]), r["first_id"] or "-", r["last_id"] or "-"]))
print("\n".join(sorted(rows)))
EOF
assert_eq "$(q 'all(r["method"] == "POST" and r["content_type"] == "application/json"
                  for r in d["requests"]) and sum(r["bytes"] for r in d["requests"]) == d["bytes"]' <"$OUT")" \
    True "--json: method, content type and the byte total"
sim_ctl DELETE /broker/requests >/dev/null
lcb restore broker --dry-run --to "$LCSIM_BROKER_URL" --tenant up --batch 70 "$ID" >"$T/text.out" 2>/dev/null
shown "$T/text.out" >"$T/text.rows"
cmp -s "$T/json.rows" "$T/text.rows" && pass "--json: the same requests as the text" ||
    fail "--json: the same requests as the text" "$(diff "$T/json.rows" "$T/text.rows" | head -5)"
assert_eq "$(nrequests)" 0 "--json: still no request to the broker"

# a credential in --to is neither printed nor logged; production needs no --yes for a dry run
CRED_URL=$(echo "$LCSIM_BROKER_URL" | sed 's|://|://admin:s3cr3t-pw@|')
expect_code 0 "dry run with credentials in --to" lcb restore broker --dry-run --to "$CRED_URL" --tenant up "$ID"
assert_no_grep "s3cr3t-pw" "$OUT" "the credential is not printed"
assert_no_grep "s3cr3t-pw" "$ERR" "nor logged"
assert_grep "^POST $LCSIM_BROKER_URL/ngsi-ld/v1/" "$OUT" "the URL is shown without it"

done_testing
