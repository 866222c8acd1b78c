#!/bin/sh
# t0003: the catalog: creation (mode 0600), list and show on a seeded catalog, check, lock
# contention between two processes, abandoned runs.
. "$(dirname "$0")/lib.sh"

expect_code 66 "list without a catalog exits 66" lcb list
assert_grep "no catalog at .*catalog rebuild" "$ERR" "says how to get a catalog"

touch "$T/not-a-dir"
expect_code 74 "a catalog path that cannot be created exits 74 (local I/O)" lcb --catalog "$T/not-a-dir/catalog.db" catalog migrate
assert_grep "not-a-dir" "$ERR" "the I/O error names the path"

expect_code 0 "catalog migrate creates it" lcb catalog migrate
assert_eq "$(stat -c %a "$LCBACKUP_CATALOG")" "600" "catalog file is mode 0600"
assert_eq "$(sql 'PRAGMA user_version')" "1" "schema version recorded"
assert_eq "$(sql 'PRAGMA journal_mode')" "wal" "WAL mode"
assert_eq "$(sql "SELECT status || ' ' || exit_code FROM runs WHERE command='catalog migrate'")" "succeeded 0" "the run is recorded"

sql "INSERT INTO backups(id, kind, env, target, source, location, region, status, started_at, completed_at, taken_at, size_bytes, item_count)
     VALUES ('rds-20261127T021500-aaaaaa','rds','dev','legocity-payload-db','legocity-payload-db','lcb-legocity-payload-db-20261127-021500','eu-west-1','completed',1795745700,1795745900,1795745700,21474836480,0),
            ('broker-20261128T000000-bbbbbb','broker','dev','broker','http://broker:1026','s3://legocity-backups-dev/lcbackup/broker/x.tar.zst','eu-west-1','completed',1795824000,1795824100,1795824000,1048576,20000),
            ('ebs-20261128T013000-cccccc','ebs','prod','broker-data','vol-0123456789abcdef0','snap-0123456789abcdef0','eu-west-1','failed',1795829400,NULL,NULL,0,0);"

expect_code 0 "list" lcb list
assert_grep "^ID +KIND +TARGET +STATUS" "$OUT" "list prints a header"
[ "$(grep -c -- '-20261' "$OUT")" -eq 3 ] && pass "list shows the 3 backups" || fail "list shows the 3 backups"
head -2 "$OUT" | tail -1 | grep -q "^ebs-20261128T013000" && pass "newest first" || fail "newest first"
expect_code 0 "list --kind rds" lcb list --kind rds
[ "$(grep -c -- '-20261' "$OUT")" -eq 1 ] && pass "--kind filters" || fail "--kind filters"
expect_code 0 "list --env prod --status failed" lcb list --env prod --status failed
assert_grep "^ebs-20261128T013000-cccccc" "$OUT" "--env and --status filter"
expect_code 64 "list --kind bogus" lcb list --kind tape
expect_code 0 "list --json" lcb list --json
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [b["kind"] for b in d]==["ebs","broker","rds"] and d[1]["item_count"]==20000' "$OUT" \
    && pass "list --json parses" || fail "list --json parses"
expect_code 0 "list --since" env LCBACKUP_NOW=2026-11-28T12:00:00Z "$LCBACKUP" list --since 1d
[ "$(grep -c -- '-20261' "$OUT")" -eq 2 ] && pass "--since filters by age" || fail "--since filters by age"

expect_code 0 "show by prefix" lcb show broker-20261128
assert_grep "^location +s3://legocity-backups-dev/" "$OUT" "show prints the location"
assert_grep "^items +20000" "$OUT" "show prints the item count"
expect_code 0 "show --json" lcb show --json rds-20261127T021500-aaaaaa
assert_grep '"target":"legocity-payload-db"' "$OUT" "show --json"
expect_code 66 "show unknown id" lcb show nope-123
sql "INSERT INTO backups(id, kind, status, started_at) VALUES ('rds-20261127T000000-dddddd', 'rds', 'failed', 1795737600)"
expect_code 64 "show ambiguous prefix" lcb show rds-20261127
assert_grep "matches several backups" "$ERR" "ambiguity explained"
sql "DELETE FROM backups WHERE id='rds-20261127T000000-dddddd'"
runid=$(sql "SELECT id FROM runs LIMIT 1")
expect_code 0 "show a run" lcb show "$runid"
assert_grep "^command +catalog migrate" "$OUT" "show prints a run"

expect_code 0 "catalog check clean" lcb catalog check
assert_grep ": ok \(schema version 1\)" "$OUT" "check says ok"
sql "INSERT INTO backups(id, kind, status, started_at) VALUES ('rds-broken', 'rds', 'completed', 1)"
expect_code 65 "catalog check finds problems" lcb catalog check
assert_grep "completed backup without a location: rds-broken" "$OUT" "the problem is named"
sql "DELETE FROM backups WHERE id='rds-broken'"

# lock contention: another process holds the lock until told to let go (no timing assumptions)
( flock -x 9; echo "pid 999 on otherhost running 'backup broker' since 2026-11-28T02:00:01Z" >&9
  while [ ! -f "$T/release" ]; do sleep 0.1; done ) 9>"$LCBACKUP_CATALOG.lock" &
holder=$!
while [ ! -s "$LCBACKUP_CATALOG.lock" ]; do sleep 0.1; done
expect_code 73 "a second locked run exits 73" lcb catalog migrate
assert_grep "locked by pid 999 on otherhost running 'backup broker'" "$ERR" "names the holder"
( sleep 2; touch "$T/release" ) &
expect_code 0 "--lock-timeout waits for the holder" lcb --lock-timeout 60s catalog migrate
assert_grep "waiting for the catalog lock" "$ERR" "says it is waiting"
wait $holder

# abandoned: a run whose process is gone
sh -c 'exit 0' & dead=$!; wait $dead
sql "INSERT INTO runs(id, command, host, pid, started_at) VALUES ('run-dead', 'backup rds', '$(hostname)', $dead, 1);
     INSERT INTO backups(id, kind, status, started_at, run_id) VALUES ('rds-dying', 'rds', 'running', 1, 'run-dead');"
expect_code 0 "list after a crash" lcb list
assert_eq "$(sql "SELECT status FROM runs WHERE id='run-dead'")" "abandoned" "dead run marked abandoned"
assert_eq "$(sql "SELECT status FROM backups WHERE id='rds-dying'")" "failed" "its backup marked failed"

done_testing
