#!/bin/sh
# t2001: restore rds against the simulator (real PostgreSQL): data written before a snapshot comes
# back and data written after it does not (rows compared through libpq), --verify against the
# fingerprint, an existing target and the source itself refused, --dry-run printing the exact
# call, production needing --yes, --update-param, the catalog's restore rows, no password anywhere.
# PITR and the DR region: t2002.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/snaplib.sh"
sim_up --seed legocity
P=$T/prod.json
write_policy "$P" true
PORT=$(pg_port $SRC)
LOGS=""
keep() { cp "$OUT" "$T/out.$1"; cp "$ERR" "$T/err.$1"; LOGS="$LOGS $T/out.$1 $T/err.$1"; }
nrestores() { count_ops rds "$1"; }
users_md5() { pgq "$1" "SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u"; }

pgq "$PORT" "CREATE TABLE lcb_probe (id serial PRIMARY KEY, note text);
             INSERT INTO lcb_probe (note) VALUES ('before the backup')" >/dev/null
expect_code 0 "backup rds" lcb --policy "$P" backup rds
keep backup
ID=$(sql "select id from backups where kind='rds'")
SNAP=$(sql "select location from backups where id='$ID'")
pgq "$PORT" "INSERT INTO lcb_probe (note) VALUES ('after the backup')" >/dev/null

# --dry-run: the exact call; nothing restored; no --yes needed to look
r0=$(nrestores RestoreDBInstanceFromDBSnapshot)
expect_code 0 "restore rds --dry-run" lcb --policy "$P" restore rds --backup "$ID" --target t2001-a --dry-run
assert_grep "^rds RestoreDBInstanceFromDBSnapshot \(eu-west-1\)$" "$OUT" "dry run: the call and region"
assert_grep "^    DBInstanceIdentifier=t2001-a$" "$OUT" "dry run: the target"
assert_grep "^    DBSnapshotIdentifier=$SNAP$" "$OUT" "dry run: the snapshot"
assert_grep "^    DBSubnetGroupName=legocity-db-subnets$" "$OUT" "dry run: the source's subnet group"
assert_grep "^    VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-0legocity0db00001$" "$OUT" \
    "dry run: the source's security group"
assert_grep "^    PubliclyAccessible=false$" "$OUT" "dry run: never public"
assert_grep "^    DBInstanceClass=db.t4g.medium$" "$OUT" "dry run: the source's class"
assert_eq "$(nrestores RestoreDBInstanceFromDBSnapshot)|$(sql "select count(*) from restores")" "$r0|0" \
    "dry run: nothing restored, nothing recorded"

expect_code 64 "a production policy's restore needs --yes" \
    lcb --policy "$P" restore rds --backup "$ID" --target t2001-a
assert_grep "production policy: check with --dry-run, then confirm with --yes" "$ERR" "it says how"

# the restore, verified against the fingerprint
expect_code 0 "restore rds --backup --verify --yes" \
    lcb --policy "$P" restore rds --backup "$ID" --target t2001-a --verify --yes
keep restore
RPORT=$(pg_port t2001-a)
assert_grep "^endpoint: 127.0.0.1:$RPORT \(available after [0-9]+s\)$" "$OUT" "stdout: the endpoint"
assert_grep "^next steps:$" "$OUT" "stdout: the next steps"
assert_grep "update-param /legocity/prod/payload/db-url" "$OUT" "next steps name the SSM parameter"
assert_grep "^verify: the restored data matches the backup's fingerprint$" "$OUT" "--verify: matches"
assert_eq "$(pgq "$RPORT" "SELECT string_agg(note, '|' ORDER BY id) FROM lcb_probe")" "before the backup" \
    "the row written before the snapshot is there, the later one is not"
assert_eq "$(pgq "$PORT" "SELECT count(*) FROM lcb_probe")" 2 "the source still has both rows"
assert_eq "$(users_md5 "$RPORT")" "$(users_md5 "$PORT")" "users: the same rows, byte for byte"
table_counts "$RPORT" | grep -v lcb_probe > "$T/restored.counts"
table_counts "$PORT" | grep -v lcb_probe > "$T/source.counts"
if diff -u "$T/source.counts" "$T/restored.counts" > "$T/diff"; then
    pass "every table has the source's row count ($(wc -l < "$T/source.counts") tables)"
else
    fail "every table has the source's row count" "$(cat "$T/diff")"
fi
RID=$(sql "select id from restores")
assert_eq "$(sql "select backup_id||' '||kind||' '||target||' '||status from restores where id='$RID'")" \
    "$ID rds t2001-a succeeded" "catalog: the restore, succeeded"
assert_eq "$(sql "select detail from restores where id='$RID'" | jq -r '[.snapshot, .endpoint, (.port|tostring), (.verified|tostring), (.seconds_to_available > 0 | tostring)] | join(" ")')" \
    "$SNAP 127.0.0.1 $RPORT true true" "catalog: snapshot, endpoint, verified, time to available"
assert_eq "$(boto rds eu-west-1 "{t['Key']: t['Value'] for t in c.describe_db_instances(DBInstanceIdentifier='t2001-a')['DBInstances'][0]['TagList']}.get('lcbackup:restore-id')")" \
    "$RID" "the instance is tagged with the restore id"

# an existing target is refused, and so is the source itself; nothing is asked of AWS
r0=$(nrestores RestoreDBInstanceFromDBSnapshot)
expect_code 69 "restore into an existing instance is refused" \
    lcb --policy "$P" restore rds --backup "$ID" --target t2001-a --yes
assert_grep "DB instance t2001-a already exists \(available\): a restore never overwrites" "$ERR" \
    "the refusal says why"
expect_code 69 "restore onto the source is refused" \
    lcb --policy "$P" restore rds --backup "$ID" --target "$SRC" --yes
assert_grep "is the source itself" "$ERR" "the refusal says it is the source"
assert_eq "$(nrestores RestoreDBInstanceFromDBSnapshot)" "$r0" "no restore request was sent"
assert_eq "$(pgq "$PORT" "SELECT count(*) FROM lcb_probe")" 2 "the source is untouched"

# --update-param: the SSM parameter points at the restored instance afterwards
expect_code 0 "restore --snapshot --update-param --yes" \
    lcb --policy "$P" restore rds --snapshot "$SNAP" --target t2001-b --update-param /legocity/prod/payload/db-url --yes
keep param
BPORT=$(pg_port t2001-b)
assert_grep "^SSM parameter /legocity/prod/payload/db-url now points at 127.0.0.1:$BPORT" "$OUT" "it says so"
boto ssm eu-west-1 "c.get_parameter(Name='/legocity/prod/payload/db-url', WithDecryption=True)['Parameter']" > "$T/param.json"
assert_eq "$(jq -r .Type "$T/param.json")" SecureString "the parameter stays a SecureString"
assert_eq "$(jq -r .Value "$T/param.json" | sed 's|//[^@]*@|//USER@|')" \
    "postgres://USER@127.0.0.1:$BPORT/payload" "the URL points at the new endpoint"
assert_eq "$(jq -r .Value "$T/param.json" | grep -c ":$(seed password)@")" 1 "with the same credentials"
rm -f "$T/param.json"

sqlite3 "$LCBACKUP_CATALOG" .dump > "$T/catalog.sql"
# shellcheck disable=SC2086
no_secret "no password in any output or in the catalog" $LOGS "$T/catalog.sql"
assert_eq "$(sql "select count(*) from restores where status='succeeded'")" 2 "catalog: two restores"
expect_code 0 "catalog check" lcb catalog check
done_testing
