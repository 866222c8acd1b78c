#!/bin/sh
# t1002: backup rds when AWS is not cooperating, each with a correct catalog afterwards: a busy
# instance waited for (and given up on at the timeout), throttling retried (and outlasting the
# retries), a create that succeeded behind a 500 adopted rather than duplicated, the snapshot
# quota named (exit 69), a snapshot that does not finish in time left pending and completed by
# `catalog refresh`, --no-wait, and a run killed mid-wait.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/snaplib.sh"
sim_up --seed legocity
P=$T/prod.json
write_policy "$P"
nsnaps() { boto rds eu-west-1 "len(c.describe_db_snapshots(SnapshotType='manual')['DBSnapshots'])"; }
last() { sql "select $1 from backups order by started_at desc, rowid desc limit 1"; }

# a busy instance is waited for, not failed
sim_ctl POST /rds/hold "{\"instance\": \"$SRC\", \"state\": \"backing-up\"}" >/dev/null
( sleep 3; sim_ctl DELETE "/rds/hold?instance=$SRC" >/dev/null ) &
d0=$(count_ops rds DescribeDBInstances)
expect_code 0 "backup rds while the instance is backing-up" lcb --policy "$P" backup rds --no-copy
wait
assert_grep "DB instance $SRC is backing-up: waiting for it" "$ERR" "it says it waits, and why"
assert_eq "$(last status)" completed "catalog: completed once the instance was available"
assert_eq "$([ $(( $(count_ops rds DescribeDBInstances) - d0 )) -ge 3 ] && echo polled)" polled \
    "the instance was polled while busy"

# ... up to --timeout: then the backup fails (75) and says why
sim_ctl POST /rds/hold "{\"instance\": \"$SRC\", \"state\": \"modifying\"}" >/dev/null
expect_code 75 "a busy instance past --timeout exits 75" \
    lcb --policy "$P" backup rds --no-copy --timeout 3s
assert_grep "DB instance $SRC still modifying after 3s" "$ERR" "the error names the state and the wait"
assert_eq "$(last status)" failed "catalog: failed"
assert_grep "modifying" "$(last error > "$T/e"; echo "$T/e")" "catalog: the error says modifying"
sim_ctl DELETE "/rds/hold?instance=$SRC" >/dev/null

# throttling: retried with backoff, one snapshot in the end
n0=$(nsnaps); c0=$(count_ops rds CreateDBSnapshot)
sim_ctl POST /faults '{"service": "rds", "operation": "CreateDBSnapshot", "code": "Throttling", "times": 2}' >/dev/null
expect_code 0 "throttled twice, then done" lcb --policy "$P" backup rds --no-copy
assert_eq "$(( $(count_ops rds CreateDBSnapshot) - c0 ))|$(( $(nsnaps) - n0 ))" "3|1" \
    "three CreateDBSnapshot requests, one snapshot"
assert_eq "$(last status)" completed "catalog: completed"
sim_ctl DELETE /faults >/dev/null

# ... throttled beyond the retries: 75, failed, nothing created
n0=$(nsnaps)
sim_ctl POST /faults '{"service": "rds", "operation": "CreateDBSnapshot", "code": "Throttling", "times": 50}' >/dev/null
expect_code 75 "throttled beyond the retries exits 75" \
    lcb --policy "$P" --max-attempts 2 backup rds --no-copy
assert_grep "2 attempts: 400 Throttling x2" "$ERR" "the error sums up the attempts"
assert_eq "$(last status)" failed "catalog: failed"
assert_eq "$(( $(nsnaps) - n0 ))" 0 "no snapshot was made"
sim_ctl DELETE /faults >/dev/null

# a create that succeeded behind a 500: described, found with our tag, adopted (not duplicated)
n0=$(nsnaps); c0=$(count_ops rds CreateDBSnapshot)
sim_ctl POST /faults '{"service": "rds", "operation": "CreateDBSnapshot", "status": 500, "code": "InternalFailure", "times": 1, "phase": "after"}' >/dev/null
expect_code 0 "a 500 after the snapshot was made" lcb --policy "$P" backup rds --no-copy
assert_grep "already exists with lcbackup:backup-id=$(last id): adopting it" "$ERR" "the snapshot is adopted"
assert_eq "$(( $(count_ops rds CreateDBSnapshot) - c0 ))|$(( $(nsnaps) - n0 ))" "1|1" \
    "one request (not retried blindly), one snapshot"
assert_eq "$(last status)|$(last manifest | jq -r .adopted)" "completed|true" "catalog: completed, adopted"
sim_ctl DELETE /faults >/dev/null

# the connection drops after the snapshot was made (a timeout, as far as lcbackup knows): adopted
n0=$(nsnaps); c0=$(count_ops rds CreateDBSnapshot)
sim_ctl POST /faults '{"service": "rds", "operation": "CreateDBSnapshot", "close": true, "times": 1, "phase": "after"}' >/dev/null
expect_code 0 "the connection drops after the snapshot was made" lcb --policy "$P" backup rds --no-copy
assert_grep "adopting it" "$ERR" "the snapshot is adopted"
assert_eq "$(( $(nsnaps) - n0 ))|$([ $(( $(count_ops rds CreateDBSnapshot) - c0 )) -le 2 ] && echo ok)" "1|ok" \
    "one snapshot (a request the server never answered may be sent once more: AlreadyExists, adopted)"
sim_ctl DELETE /faults >/dev/null

# the snapshot quota: 69, and the quota is named
used=$(sim_ctl GET /rds/quota | jq -r .used)
sim_ctl POST /rds/quota "{\"manual_snapshots\": $used}" >/dev/null
expect_code 69 "SnapshotQuotaExceeded exits 69" lcb --policy "$P" backup rds --no-copy
assert_grep "quota of manual DB snapshots in eu-west-1 is reached \(Service Quotas: \"Manual DB instance snapshots\"" \
    "$ERR" "the message names the quota and what to do"
assert_eq "$(last status)" failed "catalog: failed"
assert_grep "SnapshotQuotaExceeded" "$(last error > "$T/e"; echo "$T/e")" "catalog: the error code"
sim_ctl POST /rds/quota '{"manual_snapshots": 100}' >/dev/null

# a snapshot that does not finish in time: pending (75), then completed by catalog refresh
sim_ctl POST /holds '{"rds.snapshot": true}' >/dev/null
expect_code 75 "a snapshot still creating at --timeout exits 75" \
    lcb --policy "$P" backup rds --no-copy --timeout 3s
assert_grep "stays pending: .lcbackup catalog refresh. completes it" "$ERR" "it says what comes next"
PID=$(last id)
assert_eq "$(last status)|$(last location | cut -c1-4)" "pending|lcb-" "catalog: pending, with its snapshot"
expect_code 0 "catalog check accepts a pending backup" lcb catalog check
expect_code 0 "refresh while still creating" lcb --policy "$P" catalog refresh
assert_grep "^$PID  pending -> pending$" "$OUT" "refresh: still pending"
sim_ctl DELETE /holds/rds.snapshot >/dev/null
expect_code 0 "refresh once available" lcb --policy "$P" catalog refresh --wait 60s
assert_grep "^$PID  pending -> completed$" "$OUT" "refresh: completed"
assert_eq "$(sql "select status||' '||(taken_at is not null)||' '||(completed_at is not null) from backups where id='$PID'")" \
    "completed 1 1" "catalog: completed with its times"

# --no-wait: pending at once; refresh completes it and makes the DR copy it owes
expect_code 0 "backup rds --no-wait" lcb --policy "$P" backup rds --no-wait
NID=$(last id)
assert_eq "$(last status)" pending "catalog: pending"
assert_eq "$(sql "select count(*) from copies where backup_id='$NID'")" 0 "no copy yet"
expect_code 0 "refresh --wait" lcb --policy "$P" catalog refresh --wait 60s
assert_eq "$(sql "select status from backups where id='$NID'")|$(sql "select region||' '||status from copies where backup_id='$NID'")" \
    "completed|eu-central-1 completed" "refresh completed it and its copy"
expect_code 0 "refresh with nothing to do" lcb catalog refresh
assert_grep "^nothing to refresh$" "$OUT" "refresh: nothing to do"

# a run killed while waiting: the next open marks it abandoned, refresh completes the snapshot
sim_ctl POST /holds '{"rds.snapshot": true}' >/dev/null
before=$(last id)
"$LCBACKUP" --policy "$P" backup rds --no-copy >/dev/null 2>&1 &
KPID=$!
i=0
while { [ "$(last id)" = "$before" ] || [ "$(last location | cut -c1-4)" != "lcb-" ]; } && [ $i -lt 150 ]; do
    sleep 0.1; i=$((i + 1))
done
KID=$(last id)
assert_eq "$(sql "select status from backups where id='$KID'")" running "a backup is running (and waiting)"
kill -9 $KPID; wait $KPID 2>/dev/null
sim_ctl DELETE /holds/rds.snapshot >/dev/null
expect_code 0 "refresh after a killed run" lcb --policy "$P" catalog refresh --wait 60s
assert_grep "^$KID  failed -> completed$" "$OUT" "the abandoned backup is completed from AWS"
assert_eq "$(sql "select status from runs where id=(select run_id from backups where id='$KID')")" \
    abandoned "its run is recorded as abandoned"

expect_code 0 "catalog check" lcb catalog check
done_testing
