#!/bin/sh
# t1001: backup rds against the simulator (RDS on real PostgreSQL): the snapshot, its tags and
# catalog row, the fingerprint against the source counted through libpq, the copy in the DR
# region only, the password nowhere, --dry-run printing the exact calls, delete, catalog check.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/snaplib.sh"
sim_up --seed legocity
P=$T/prod.json
write_policy "$P"
PORT=$(pg_port $SRC)

# a write the snapshot must hold (and the fingerprint must count)
pgq "$PORT" "CREATE TABLE IF NOT EXISTS lcb_probe (id serial PRIMARY KEY, note text);
             INSERT INTO lcb_probe (note) VALUES ('t1001 before the snapshot')" >/dev/null
table_counts "$PORT" > "$T/source.counts"

# --dry-run: the exact calls, nothing changed in AWS nor in the catalog
creates0=$(count_ops rds CreateDBSnapshot)
expect_code 0 "backup rds --dry-run" lcb --policy "$P" backup rds --dry-run
assert_grep "^rds CreateDBSnapshot \(eu-west-1\)$" "$OUT" "dry run: CreateDBSnapshot in eu-west-1"
assert_grep "^    DBInstanceIdentifier=$SRC$" "$OUT" "dry run: the instance"
assert_grep "^    DBSnapshotIdentifier=lcb-$SRC-[0-9]{8}-[0-9]{6}$" "$OUT" "dry run: the snapshot name"
assert_grep "^    Tags.Tag.[0-9].Key=lcbackup:created-by$" "$OUT" "dry run: the tags"
assert_grep "^rds CopyDBSnapshot \(eu-central-1\)$" "$OUT" "dry run: the copy, in the DR region"
assert_grep "^    KmsKeyId=alias/legocity-backups$" "$OUT" "dry run: the DR key"
assert_grep "^    PreSignedUrl=" "$OUT" "dry run: the presigned URL is named"
assert_eq "$(count_ops rds CreateDBSnapshot)" "$creates0" "dry run sent no CreateDBSnapshot"
assert_eq "$(sql "select count(*) from backups")" 0 "dry run recorded no backup"

# the backup, with request traces (secrets must stay out of them too)
expect_code 0 "backup rds (policy target, DR copy)" lcb --policy "$P" -v -v backup rds
cp "$OUT" "$T/backup.out"; cp "$ERR" "$T/backup.err"
ID=$(sql "select id from backups where kind='rds' and status='completed'")
SNAP=$(sql "select location from backups where id='$ID'")
assert_grep "^rds-[0-9]{8}T[0-9]{6}-[0-9a-f]{6}  completed  $SRC  eu-west-1  lcb-$SRC-" "$OUT" \
    "stdout: id, status, target, region, snapshot"
assert_grep "  copy completed  $SRC  eu-central-1  $SNAP$" "$OUT" "stdout: the copy"
assert_eq "$(echo "$SNAP" | grep -cE "^lcb-$SRC-[0-9]{8}-[0-9]{6}$")" 1 "snapshot named lcb-<instance>-<utc>"
assert_eq "$(boto rds eu-west-1 "c.describe_db_snapshots(DBSnapshotIdentifier='$SNAP')['DBSnapshots'][0]['Status']")" \
    available "the snapshot is available in AWS"
assert_eq "$(rds_tag eu-west-1 "$SNAP" lcbackup:backup-id)" "$ID" "tag lcbackup:backup-id is the catalog id"
assert_eq "$(rds_tag eu-west-1 "$SNAP" lcbackup:env)|$(rds_tag eu-west-1 "$SNAP" lcbackup:policy)" \
    "prod|prod" "tags lcbackup:env and lcbackup:policy"
rds_tag eu-west-1 "$SNAP" lcbackup:created-by > "$T/cb"
assert_grep "^lcbackup/[0-9.]+ .+ run-" "$T/cb" "tag lcbackup:created-by names lcbackup, the host and the run"

# the catalog row
CT=$(boto rds eu-west-1 "c.describe_db_snapshots(DBSnapshotIdentifier='$SNAP')['DBSnapshots'][0]['SnapshotCreateTime'].strftime('%s')")
assert_eq "$(sql "select kind||' '||env||' '||target||' '||source||' '||region||' '||size_bytes from backups where id='$ID'")" \
    "rds prod $SRC $SRC eu-west-1 53687091200" "catalog: kind, env, target, source, region, size (50 GiB)"
assert_eq "$(sql "select taken_at from backups where id='$ID'")" "$CT" "catalog: taken_at is SnapshotCreateTime"
sql "select manifest from backups where id='$ID'" > "$T/manifest.json"
assert_eq "$(jq -r '[.arn, .engine, .encrypted, (.allocated_storage_gib|tostring), .source_instance.subnet_group] | join(" ")' "$T/manifest.json")" \
    "arn:aws:rds:eu-west-1:123456789012:snapshot:$SNAP postgres false 50 legocity-db-subnets" \
    "manifest: ARN, engine, encryption, size, the source's subnet group"
assert_eq "$(jq -r .engine_version "$T/manifest.json")" \
    "$(boto rds eu-west-1 "c.describe_db_instances(DBInstanceIdentifier='$SRC')['DBInstances'][0]['EngineVersion']")" \
    "manifest: the engine version"

# the fingerprint matches the source, counted independently through libpq
jq -r '.fingerprint.tables | to_entries[] | "\(.key) \(.value.rows)"' "$T/manifest.json" | sort > "$T/fp.counts"
sort "$T/source.counts" > "$T/source.sorted"
if diff -u "$T/source.sorted" "$T/fp.counts" > "$T/diff"; then
    pass "fingerprint row counts equal the source's ($(wc -l < "$T/fp.counts") tables)"
else
    fail "fingerprint row counts equal the source's" "$(cat "$T/diff")"
fi
jq .fingerprint "$T/manifest.json" > "$T/fp.json"
assert_eq "$(jq -r '[.tables[] | select(.estimate)] | length' "$T/fp.json")" \
    0 "every count is exact below the limit"
assert_eq "$(jq -r .latest_migration.name "$T/fp.json")" \
    "$(pgq "$PORT" "SELECT name FROM payload_migrations ORDER BY created_at DESC, id DESC LIMIT 1")" \
    "fingerprint: the latest payload migration"
assert_eq "$(jq -r '.schema_sha256 | length' "$T/fp.json")" 64 "fingerprint: a schema digest"
assert_eq "$(jq -r .database "$T/manifest.json")" "postgres://payload_admin@127.0.0.1:$PORT/payload" \
    "manifest names the database without its password"
# exact counts can be forced to estimates
expect_code 0 "backup rds --exact-count-limit 1000 --no-copy" \
    lcb --policy "$P" backup rds --exact-count-limit 1000 --no-copy --json
ID2=$(jq -r '.[0].id' "$OUT")
assert_eq "$(sql "select manifest from backups where id='$ID2'" | jq -r '.fingerprint.tables["public.map_layers"].estimate')" \
    true "above the limit a table gets the estimate, marked as such"
assert_eq "$(sql "select manifest from backups where id='$ID2'" | jq -r '.fingerprint.tables["public.users"] | has("estimate")')" \
    false "below it, still exact"

# the copy: in the DR region only
assert_eq "$(sql "select region||' '||location||' '||status from copies where backup_id='$ID'")" \
    "eu-central-1 $SNAP completed" "catalog: the copy in eu-central-1, completed"
assert_eq "$(boto rds eu-central-1 "c.describe_db_snapshots(DBSnapshotIdentifier='$SNAP')['DBSnapshots'][0]['Status']")" \
    available "the copy exists in eu-central-1"
assert_eq "$(rds_tag eu-central-1 "$SNAP" lcbackup:copy-of)" \
    "arn:aws:rds:eu-west-1:123456789012:snapshot:$SNAP" "the copy is tagged with its source"
assert_eq "$(rds_tag eu-central-1 "$SNAP" lcbackup:backup-id)" "$ID" "tags carried over to the copy"
assert_eq "$(boto rds eu-central-1 "c.describe_db_snapshots(DBSnapshotIdentifier='$SNAP')['DBSnapshots'][0]['Encrypted']")" \
    true "the copy is encrypted with the DR region's key"
assert_eq "$(sim_ctl GET '/requests?service=rds&operation=CopyDBSnapshot' | jq -r '[.requests[].region] | unique | join(",")')" \
    eu-central-1 "every CopyDBSnapshot went to the destination region"
assert_eq "$(boto rds eu-west-1 "len([s for s in c.describe_db_snapshots(SnapshotType='manual')['DBSnapshots'] if s['DBSnapshotIdentifier'] == '$SNAP'])")" \
    1 "eu-west-1 holds the original only, no second copy"
assert_eq "$(boto rds eu-central-1 "len(c.describe_db_snapshots(SnapshotType='manual')['DBSnapshots'])")" \
    1 "eu-central-1 holds just the one copy"

# no password anywhere: stdout, traces, catalog
sqlite3 "$LCBACKUP_CATALOG" .dump > "$T/catalog.sql"
no_secret "the database password is in no output, trace or catalog row" \
    "$T/backup.out" "$T/backup.err" "$T/catalog.sql"
assert_grep "fingerprint of postgres://payload_admin@127.0.0.1:$PORT/payload: [0-9]+ tables" "$T/backup.err" \
    "the log names the database (without a password)"

# delete: the copy and the snapshot go, the catalog says so
expect_code 0 "delete --dry-run" lcb --policy "$P" delete "$ID" --dry-run
assert_grep "^rds DeleteDBSnapshot \(eu-central-1\)$" "$OUT" "delete dry run: the copy first"
assert_eq "$(sql "select status from backups where id='$ID'")" completed "delete dry run changed nothing"
sql "update backups set hold='incident-4711' where id='$ID'"
expect_code 69 "delete refuses a held backup" lcb --policy "$P" delete "$ID"
assert_grep "held \(incident-4711\)" "$ERR" "the refusal names the hold"
sql "update backups set hold=NULL where id='$ID'"
expect_code 0 "delete (by a unique prefix)" lcb --policy "$P" delete "${ID%???}"
assert_eq "$(sql "select status from backups where id='$ID'")|$(sql "select status from copies where backup_id='$ID'")" \
    "deleted|deleted" "catalog: backup and copy deleted"
assert_eq "$(boto rds eu-west-1 "c.describe_db_snapshots(DBSnapshotIdentifier='$SNAP')")" \
    "error:DBSnapshotNotFound" "the snapshot is gone"
assert_eq "$(boto rds eu-central-1 "c.describe_db_snapshots(DBSnapshotIdentifier='$SNAP')")" \
    "error:DBSnapshotNotFound" "the copy is gone"
expect_code 0 "delete again: already deleted" lcb --policy "$P" delete "$ID"

expect_code 0 "catalog check" lcb catalog check
done_testing
