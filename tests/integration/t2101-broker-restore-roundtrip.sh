#!/bin/sh
# t2101: export, then `lcbackup restore broker --verify` into an empty tenant of the same broker,
# for each broker profile (orion-ld, scorpio, stellio, strict): every archived entity is written
# once, the target holds exactly the archive's ids, and the normalised comparison (restore --verify
# and `verify broker --against`) finds no difference although the brokers reformat what they store
# (Orion-LD's 6-decimal floats, Stellio's timestamps, key order, single-instance arrays). Then the
# comparison must see real changes (an added attribute, a deleted entity: exit 2, both listed),
# and a second restore (upsert) repairs them. Exports of scorpio and stellio are also restored into
# the same broker switched to the orion-ld profile (a migration: Orion-LD rounds floats to 6
# decimals and writes timestamps with milliseconds): still no difference.
. "$(dirname "$0")/lib.sh"

BUCKET=legocity-backups-dev
emu_ids() { sim_ctl GET "/broker/ids?tenant=$1" | "$PY" -c 'import json,sys; sys.stdout.write("".join(i + "\n" for i in sorted(json.load(sys.stdin)["ids"])))'; }
# archive_ids LOCATION: the archive's entity ids, sorted (read with a presigned GET and tar)
archive_ids() {
    rm -rf "$T/x" && mkdir "$T/x" && curl -sf "$(lcb presign "$1")" | tar --zstd -x -C "$T/x" &&
        "$PY" -c 'import glob,json,sys
print("\n".join(sorted(e["id"] for f in glob.glob(sys.argv[1]+"/entities/*/*.json") for e in json.load(open(f)))))' "$T/x"
}
ngsi() { # METHOD PATH TENANT [BODY]: one NGSI-LD request, prints the status
    curl -s -o "$T/ngsi.out" -w '%{http_code}' -X "$1" -H "NGSILD-Tenant: $3" \
        ${4:+-H 'Content-Type: application/json' --data "$4"} "$LCSIM_BROKER_URL/ngsi-ld/v1$2"
}

roundtrip() {
    p=$1
    expect_code 0 "$p: export" lcb --json backup broker --broker-url "$LCSIM_BROKER_URL" --bucket $BUCKET
    cp "$OUT" "$T/b.json"
    ID=$(jget "$T/b.json" backup_id) N=$(jget "$T/b.json" entities)
    archive_ids "$(jget "$T/b.json" location)" >"$T/archive.ids"
    assert_eq "$(wc -l <"$T/archive.ids" | tr -d ' ')" "$N" "$p: the archive holds $N entities"
    # Stellio knows only configured tenants; the others create one on the first write
    [ "$p" = stellio ] && sim_ctl POST /broker/tenants '{"name":"restored"}' >/dev/null
    assert_eq "$(emu_ids restored | wc -l | tr -d ' ')" 0 "$p: the tenant is empty before"

    expect_code 0 "$p: restore --verify into an empty tenant" \
        lcb restore broker --to "$LCSIM_BROKER_URL" --tenant restored --verify "$ID"
    assert_grep "^$ID: $N entities written, 0 failed$" "$OUT" "$p: every entity written"
    assert_grep "^verify: $N compared, 0 missing, 0 different$" "$OUT" "$p: restore --verify finds no difference"
    emu_ids restored >"$T/restored.ids"
    cmp -s "$T/restored.ids" "$T/archive.ids" && pass "$p: the tenant holds exactly the archive's ids" ||
        fail "$p: the tenant holds exactly the archive's ids" "$(diff "$T/restored.ids" "$T/archive.ids" | head -5)"
    assert_eq "$(sql "SELECT status FROM restores WHERE backup_id='$ID' ORDER BY rowid DESC LIMIT 1")" \
        succeeded "$p: the catalog records the restore as succeeded"
    upserts=$(sim_ctl GET "/broker/requests?route=POST%20/entityOperations/upsert&method=POST" |
        "$PY" -c 'import json,sys; r=json.load(sys.stdin)["requests"]; print(len(r), all(x["tenant"]=="restored" for x in r))')
    batches=$("$PY" -c 'import glob,json,sys
print(sum((len(json.load(open(f))) + 99) // 100 for f in glob.glob(sys.argv[1]+"/entities/*/*.json")))' "$T/x")
    assert_eq "$upserts" "$batches True" "$p: batches of at most 100, all into the tenant given"

    expect_code 0 "$p: verify broker --against the restored tenant" \
        lcb verify broker --against "$LCSIM_BROKER_URL" --tenant restored "$ID"
    assert_grep ": $N compared, 0 missing, 0 different$" "$OUT" "$p: verify broker finds no difference"

    # real differences are seen: one entity gains an attribute, another is deleted
    a=$(sed -n 10p "$T/archive.ids") d=$(sed -n 20p "$T/archive.ids")
    assert_eq "$(ngsi POST "/entities/$a/attrs" restored '{"lcbTestExtra":{"type":"Property","value":42}}')" 204 \
        "$p: an attribute added to $a"
    assert_eq "$(ngsi DELETE "/entities/$d" restored)" 204 "$p: $d deleted"
    expect_code 2 "$p: verify broker --against sees the changes (exit 2)" \
        lcb verify broker --against "$LCSIM_BROKER_URL" --tenant restored "$ID"
    assert_grep ": $N compared, 1 missing, 1 different$" "$OUT" "$p: one missing, one different"
    assert_grep "^missing $d$" "$OUT" "$p: the deleted entity is listed"
    assert_grep "^different $a$" "$OUT" "$p: the changed entity is listed"
    # the second restore (upsert replaces whole entities) repairs both
    expect_code 0 "$p: restoring again repairs the tenant" \
        lcb restore broker --to "$LCSIM_BROKER_URL" --tenant restored --verify "$ID"
    assert_grep "^verify: $N compared, 0 missing, 0 different$" "$OUT" "$p: no difference after the repair"
    assert_eq "$(emu_ids restored | wc -l | tr -d ' ')" "$N" "$p: still $N entities (upsert is idempotent)"
}

# migrate PROFILE: the last export restored into the broker turned Orion-LD
migrate() {
    sim_ctl POST /broker/config '{"profile":"orion-ld"}' >/dev/null
    expect_code 0 "$1 -> orion-ld: restore --verify (a migration)" \
        lcb restore broker --to "$LCSIM_BROKER_URL" --tenant migrated --verify "$ID"
    assert_grep "^verify: $N compared, 0 missing, 0 different$" "$OUT" \
        "$1 -> orion-ld: rounding and timestamp forms are no difference"
    sim_ctl POST /broker/config "{\"profile\":\"$1\"}" >/dev/null
}

for p in orion-ld scorpio stellio strict; do
    profile_sim_start "$p" 3000
    roundtrip "$p"
    case $p in scorpio|stellio) migrate "$p" ;; esac
    profile_sim_stop "$p" &
done
wait

done_testing
