#!/bin/sh
# t2201: restore ebs against the simulator: snapshot -> volume with the same bytes (content
# hooks), the source volume's zone and type by default, --az/--volume-type, --dry-run printing the
# exact CreateVolume, the DR copy restored in the DR region (--az required there), one volume of a
# multi-volume backup, --snapshot, production needing --yes, --no-wait settled by catalog refresh,
# the catalog's restore rows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/snaplib.sh"
ebs_setup
vol_of() { sed -n 's/^volume \(vol-[0-9a-f]*\) from .*/\1/p' "$OUT" | head -n 1; }
vol() { boto ec2 "$1" "c.describe_volumes(VolumeIds=['$2'])['Volumes'][0]$3"; }

head -c 131072 /dev/urandom > "$T/blob"
curl -s -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$T/blob" \
    "$LCSIM_CONTROL_URL/ec2/volume/$VOL/content?offset=1048576" >/dev/null
VSHA=$(content_sha volume "$VOL")
expect_code 0 "backup ebs (with its DR copy)" lcb --policy "$P" backup ebs
ID=$(sql "select id from backups where kind='ebs'")
SNAP=$(sql "select location from backups where id='$ID'")

# --dry-run: the exact call, nothing created
c0=$(count_ops ec2 CreateVolume)
expect_code 0 "restore ebs --dry-run" lcb --policy "$P" restore ebs --backup "$ID" --dry-run
assert_grep "^ec2 CreateVolume \(eu-west-1\)$" "$OUT" "dry run: CreateVolume"
assert_grep "^    AvailabilityZone=eu-west-1a$" "$OUT" "dry run: the source volume's zone"
assert_grep "^    SnapshotId=$SNAP$" "$OUT" "dry run: the snapshot"
assert_grep "^    VolumeType=gp3$" "$OUT" "dry run: the source volume's type"
assert_grep "^    ClientToken=" "$OUT" "dry run: an idempotency token"
assert_eq "$(count_ops ec2 CreateVolume)|$(sql "select count(*) from restores")" "$c0|0" \
    "dry run: nothing created, nothing recorded"

# the restore: the same bytes
expect_code 0 "restore ebs --backup" lcb --policy "$P" restore ebs --backup "$ID"
NEW=$(vol_of)
assert_grep "^volume $NEW from $SNAP \(source $VOL\): available in eu-west-1a after [0-9]+s$" "$OUT" \
    "stdout: the volume, its snapshot and source"
assert_grep "^  1. attach: aws ec2 attach-volume --volume-id" "$OUT" "stdout: the next steps"
assert_eq "$(content_sha volume "$NEW")" "$VSHA" "the new volume holds the source volume's bytes"
assert_eq "$(vol eu-west-1 "$NEW" "['State']")|$(vol eu-west-1 "$NEW" "['VolumeType']")|$(vol eu-west-1 "$NEW" "['Iops']")" \
    "available|gp3|3000" "available, gp3 with the source's IOPS"
RID=$(sql "select id from restores")
assert_eq "$(vol eu-west-1 "$NEW" "['Tags']" | jq -r 'from_entries | [.["lcbackup:restore-id"], .["lcbackup:backup-id"], .Name] | join(" ")')" \
    "$RID $ID legocity-broker-data-restored" "tags: the restore, the backup, a Name"
assert_eq "$(sql "select backup_id||' '||kind||' '||status from restores where id='$RID'")" \
    "$ID ebs succeeded" "catalog: the restore, succeeded"
assert_eq "$(sql "select detail from restores where id='$RID'" | jq -r '.volumes[0] | [.volume_id, .snapshot_id, .source_volume, (.seconds_to_available >= 0 | tostring)] | join(" ")')" \
    "$NEW $SNAP $VOL true" "catalog: the volume, its snapshot and source, the time"
assert_eq "$(vol eu-west-1 "$VOL" "['State']")" in-use "the source volume is untouched (still attached)"

# another zone and type
expect_code 0 "restore ebs --az --volume-type" \
    lcb --policy "$P" restore ebs --backup "$ID" --az eu-west-1b --volume-type gp2
NEW2=$(vol_of)
assert_eq "$(vol eu-west-1 "$NEW2" "['AvailabilityZone']")|$(vol eu-west-1 "$NEW2" "['VolumeType']")" \
    "eu-west-1b|gp2" "the zone and type asked for"
assert_eq "$(content_sha volume "$NEW2")" "$VSHA" "the same bytes"

# the DR copy, in the DR region: the zone must be given there
expect_code 64 "in the DR region --az is required" \
    lcb --policy "$P" --region eu-central-1 restore ebs --backup "$ID"
assert_grep "give --az" "$ERR" "it says so"
expect_code 0 "restore the DR copy in eu-central-1" \
    lcb --policy "$P" --region eu-central-1 restore ebs --backup "$ID" --az eu-central-1a
NEW3=$(vol_of)
COPY=$(sql "select location from copies where backup_id='$ID'")
assert_grep "^volume $NEW3 from $COPY " "$OUT" "made from the copy"
assert_eq "$(vol eu-central-1 "$NEW3" "['AvailabilityZone']")" eu-central-1a "in eu-central-1"
assert_eq "$(content_sha volume "$NEW3" eu-central-1)" "$VSHA" "the DR volume holds the same bytes"

# one volume of a backup of several; and a snapshot id directly
expect_code 0 "backup ebs --instance" lcb --policy "$P" backup ebs --instance "$INST" --no-copy
IID=$(sql "select id from backups where target='$INST'")
expect_code 0 "restore ebs --volume (one of two)" lcb --policy "$P" restore ebs --backup "$IID" --volume "$ROOTVOL"
assert_eq "$(grep -c '^volume ' "$OUT")" 1 "one volume"
assert_grep "\(source $ROOTVOL\)" "$OUT" "the root volume's"
expect_code 0 "restore ebs (both volumes)" lcb --policy "$P" restore ebs --backup "$IID"
assert_eq "$(grep -c '^volume ' "$OUT")" 2 "two volumes"
expect_code 66 "--volume that the backup does not hold: 66" \
    lcb --policy "$P" restore ebs --backup "$IID" --volume vol-0123456789abcdef0
expect_code 0 "restore ebs --snapshot" lcb --policy "$P" restore ebs --snapshot "$SNAP" --az eu-west-1c
assert_eq "$(content_sha volume "$(vol_of)")" "$VSHA" "from the snapshot id: the same bytes"
expect_code 64 "--snapshot without --az: 64" lcb --policy "$P" restore ebs --snapshot "$SNAP"

# --no-wait: the restore stays running until catalog refresh sees the volume available
expect_code 0 "restore ebs --no-wait" lcb --policy "$P" restore ebs --backup "$ID" --no-wait
assert_grep "^volume vol-[0-9a-f]+ from $SNAP: creating in eu-west-1a$" "$OUT" "stdout: the volume, creating"
NWR=$(sql "select id from restores order by started_at desc, rowid desc limit 1")
assert_eq "$(sql "select status from restores where id='$NWR'")" running "catalog: running"
sleep 1
expect_code 0 "catalog refresh settles it" lcb --policy "$P" catalog refresh
assert_grep "^$NWR  running -> succeeded$" "$OUT" "refresh: running -> succeeded"
assert_eq "$(sql "select status from restores where id='$NWR'")" succeeded "catalog: succeeded"

write_policy "$T/prod-locked.json" true
expect_code 64 "a production policy's restore needs --yes" \
    lcb --policy "$T/prod-locked.json" restore ebs --backup "$ID"
expect_code 0 "... and works with it" lcb --policy "$T/prod-locked.json" restore ebs --backup "$ID" --yes
assert_eq "$(sql "select count(*) from restores where kind='ebs' and status='succeeded'")" 8 "catalog: eight restores"
expect_code 0 "catalog check" lcb catalog check
done_testing
