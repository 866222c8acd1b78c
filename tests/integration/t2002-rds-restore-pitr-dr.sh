#!/bin/sh
# t2002: restore rds to a point in time between two writes (rows compared through libpq), a time in
# the future refused, the restore of the DR copy in the DR region when the primary is lost, and a
# --no-wait restore settled by catalog refresh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/snaplib.sh"
sim_up --seed legocity
P=$T/prod.json
write_policy "$P"
PORT=$(pg_port $SRC)

pgq "$PORT" "CREATE TABLE lcb_probe (id serial PRIMARY KEY, note text);
             INSERT INTO lcb_probe (note) VALUES ('before the backup')" >/dev/null
expect_code 0 "backup rds (with its DR copy)" lcb --policy "$P" backup rds
ID=$(sql "select id from backups where kind='rds'")
pgq "$PORT" "INSERT INTO lcb_probe (note) VALUES ('after the backup')" >/dev/null

# PITR between two writes
pgq "$PORT" "INSERT INTO lcb_probe (note) VALUES ('pitr one')" >/dev/null
sleep 1.5
WHEN=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1.5
pgq "$PORT" "INSERT INTO lcb_probe (note) VALUES ('pitr two')" >/dev/null
sleep 1.2 # LatestRestorableTime has whole seconds: make it later than the second write
sim_ctl POST /rds/heartbeat "{\"instance\": \"$SRC\"}" >/dev/null
expect_code 0 "restore rds --point-in-time (between the two writes)" \
    lcb --policy "$P" restore rds --point-in-time "$WHEN" --target t2002-pitr --yes
PPORT=$(pg_port t2002-pitr)
assert_eq "$(pgq "$PPORT" "SELECT string_agg(note, '|' ORDER BY id) FROM lcb_probe")" \
    "before the backup|after the backup|pitr one" "PITR: the first write is there, the second is not"
assert_eq "$(sql "select detail from restores where target='t2002-pitr'" | jq -r '[.source_instance, .point_in_time] | join(" ")')" \
    "$SRC $WHEN" "catalog: the PITR source and time"
assert_eq "$(sim_ctl GET '/requests?service=rds&operation=RestoreDBInstanceToPointInTime' | jq -r '.requests | length')" \
    1 "one RestoreDBInstanceToPointInTime"
assert_eq "$(pgq "$PORT" "SELECT count(*) FROM lcb_probe")" 4 "the source keeps all four rows"
expect_code 0 "restore rds --latest-restorable" \
    lcb --policy "$P" restore rds --latest-restorable --instance "$SRC" --target t2002-latest --yes
assert_eq "$(pgq "$(pg_port t2002-latest)" "SELECT count(*) FROM lcb_probe")" 4 "the latest restorable time has all four rows"
expect_code 0 "restore rds --latest-restorable --dry-run (source: the policy's target)" \
    lcb --policy "$P" restore rds --latest-restorable --target t2002-latest2 --dry-run
assert_grep "^    SourceDBInstanceIdentifier=$SRC$" "$OUT" "dry run: the policy's instance"
assert_grep "^    UseLatestRestorableTime=true$" "$OUT" "dry run: UseLatestRestorableTime=true"
expect_code 64 "a point in time in the future is refused" \
    lcb --policy "$P" restore rds --point-in-time 2099-01-01T00:00:00Z --target t2002-x --yes

# the region is lost: restore the DR copy in the DR region
expect_code 0 "restore from the DR copy in eu-central-1" \
    lcb --policy "$P" --region eu-central-1 restore rds --backup "$ID" --target t2002-dr --yes
assert_grep "using the copy of $ID in eu-central-1" "$ERR" "it says it uses the copy"
DPORT=$(pg_port t2002-dr eu-central-1)
assert_eq "$([ -n "$DPORT" ] && echo exists)" exists "the instance exists in eu-central-1"
assert_eq "$(pg_port t2002-dr eu-west-1)" "" "and not in eu-west-1"
assert_eq "$(pgq "$DPORT" "SELECT string_agg(note, '|' ORDER BY id) FROM lcb_probe")" "before the backup" \
    "the DR copy holds the backup's rows"
assert_eq "$(sim_ctl GET '/requests?service=rds&operation=RestoreDBInstanceFromDBSnapshot&region=eu-central-1' | jq -r '.requests | length')" \
    1 "the restore request went to eu-central-1"

# --no-wait: running until catalog refresh finds the instance available
expect_code 0 "restore rds --no-wait" \
    lcb --policy "$P" restore rds --backup "$ID" --target t2002-nowait --no-wait
NWR=$(sql "select id from restores where target='t2002-nowait'")
assert_eq "$(sql "select status from restores where id='$NWR'")" running "catalog: running"
i=0
while [ "$(sql "select status from restores where id='$NWR'")" = running ] && [ $i -lt 30 ]; do
    lcb --policy "$P" catalog refresh > "$T/refresh.out" 2>&1; sleep 1; i=$((i + 1))
done
assert_eq "$(sql "select status from restores where id='$NWR'")" succeeded "refresh: succeeded once available"
assert_eq "$(sql "select detail from restores where id='$NWR'" | jq -r .port)" "$(pg_port t2002-nowait)" \
    "catalog: the endpoint's port"

expect_code 0 "catalog check" lcb catalog check
done_testing
