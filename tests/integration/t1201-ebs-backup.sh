#!/bin/sh
# t1201: backup ebs against the simulator: volumes by tag, id and instance (CreateSnapshots at one
# point in time), the snapshot's bytes equal to the volume's (content hooks), tags, the copy in the
# DR region only with the same bytes, throttling, a create adopted behind a 503, the quota (69), a
# snapshot going to error, no matching volume (66), --dry-run, delete, catalog check.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/snaplib.sh"
ebs_setup
last() { sql "select $1 from backups order by started_at desc, rowid desc limit 1"; }
nsnaps() { boto ec2 "${1:-eu-west-1}" "len(c.describe_snapshots(OwnerIds=['self'])['Snapshots'])"; }
ec2_tag() {
    boto ec2 "$1" "{t['Key']: t['Value'] for t in c.describe_snapshots(SnapshotIds=['$2'])['Snapshots'][0].get('Tags', [])}.get('$3', '')"
}

# fresh bytes on the broker's data volume (beyond the seeded content)
head -c 262144 /dev/urandom > "$T/blob"
curl -s -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$T/blob" \
    "$LCSIM_CONTROL_URL/ec2/volume/$VOL/content?offset=65536" >/dev/null
VSHA=$(content_sha volume "$VOL")

# --dry-run
c0=$(count_ops ec2 CreateSnapshot)
expect_code 0 "backup ebs --dry-run" lcb --policy "$P" backup ebs --dry-run
assert_grep "^# broker-data: volume $VOL \(50 GiB, in-use\)$" "$OUT" "dry run: the volume the tag selects"
assert_grep "^ec2 CreateSnapshot \(eu-west-1\)$" "$OUT" "dry run: CreateSnapshot"
assert_grep "^    VolumeId=$VOL$" "$OUT" "dry run: the volume id"
assert_grep "^    TagSpecification.1.ResourceType=snapshot$" "$OUT" "dry run: the tags"
assert_grep "^ec2 CopySnapshot \(eu-central-1\)$" "$OUT" "dry run: CopySnapshot in the DR region"
assert_grep "^    DestinationRegion=eu-central-1$" "$OUT" "dry run: DestinationRegion"
assert_eq "$(count_ops ec2 CreateSnapshot)|$(sql "select count(*) from backups")" "$c0|0" \
    "dry run: nothing sent, nothing recorded"

# the policy's target (by tag), copied to the DR region
expect_code 0 "backup ebs (tag Name=legocity-broker-data)" lcb --policy "$P" backup ebs
ID=$(last id); SNAP=$(last location)
assert_grep "^$ID  completed  broker-data  eu-west-1  $SNAP$" "$OUT" "stdout: the backup"
assert_eq "$(sql "select kind||' '||status||' '||source||' '||size_bytes||' '||item_count from backups where id='$ID'")" \
    "ebs completed tag:Name=legocity-broker-data 53687091200 1" "catalog: kind, status, source, size, items"
assert_eq "$(last manifest | jq -r '.snapshots[0] | [.volume_id, .availability_zone, .device, .name, .volume_type] | join(" ")')" \
    "$VOL eu-west-1a /dev/sdf legocity-broker-data gp3" "manifest: the volume's settings"
assert_eq "$(content_sha snapshot "$SNAP")" "$VSHA" "the snapshot's bytes are the volume's"
assert_eq "$(ec2_tag eu-west-1 "$SNAP" lcbackup:backup-id)|$(ec2_tag eu-west-1 "$SNAP" lcbackup:env)|$(ec2_tag eu-west-1 "$SNAP" Name)" \
    "$ID|prod|legocity-broker-data" "snapshot tags: backup id, env, the volume's Name"
ST=$(boto ec2 eu-west-1 "c.describe_snapshots(SnapshotIds=['$SNAP'])['Snapshots'][0]['StartTime'].strftime('%s')")
assert_eq "$(last taken_at)" "$ST" "catalog: taken_at is the snapshot's start time"
COPY=$(sql "select location from copies where backup_id='$ID'")
assert_eq "$(sql "select region||' '||status from copies where backup_id='$ID'")" \
    "eu-central-1 completed" "catalog: the copy, completed"
assert_eq "$(content_sha snapshot "$COPY" eu-central-1)" "$VSHA" "the copy's bytes are the volume's"
assert_eq "$(ec2_tag eu-central-1 "$COPY" lcbackup:copy-of)|$(ec2_tag eu-central-1 "$COPY" lcbackup:backup-id)" \
    "eu-west-1/$SNAP|$ID" "the copy's tags: its source, the backup"
assert_eq "$(sim_ctl GET '/requests?service=ec2&operation=CopySnapshot' | jq -r '[.requests[].region] | unique | join(",")')" \
    eu-central-1 "CopySnapshot went to the destination region"
assert_eq "$(nsnaps eu-west-1)|$(nsnaps eu-central-1)" "1|1" \
    "one snapshot in eu-west-1, its copy in eu-central-1 only"
assert_eq "$(sim_ctl GET '/requests?service=ec2&operation=DescribeSnapshots' | jq -r '[.requests[] | select(.status == 200)] | length > 0')" \
    true "snapshots were described"

# every volume of an instance at one point in time
c0=$(count_ops ec2 CreateSnapshots)
expect_code 0 "backup ebs --instance (CreateSnapshots)" lcb --policy "$P" backup ebs --instance "$INST" --no-copy
IID=$(last id)
assert_eq "$(( $(count_ops ec2 CreateSnapshots) - c0 ))" 1 "one CreateSnapshots request"
assert_eq "$(last item_count)|$(last location | tr ',' '\n' | wc -l)|$(last target)" "2|2|$INST" \
    "catalog: two snapshots in one backup, named after the instance"
assert_eq "$(last manifest | jq -r '[.snapshots[].volume_id] | sort | join(" ")')" \
    "$(printf '%s\n%s\n' "$ROOTVOL" "$VOL" | sort | tr '\n' ' ' | sed 's/ $//')" "manifest: root and data volume"
assert_eq "$(last manifest | jq -r '[.snapshots[].start_time] | unique | length')|$(last manifest | jq -r .crash_consistent_set)" \
    "1|true" "both taken at the same point in time"

# by volume id
expect_code 0 "backup ebs --volume" lcb --policy "$P" backup ebs --volume "$ROOTVOL" --no-copy
assert_eq "$(last source)|$(last status)" "$ROOTVOL|completed" "catalog: the volume"
expect_code 66 "no volume matches: 66" lcb --policy "$P" backup ebs --tag Name=no-such-volume --no-copy
assert_grep "no EBS volume in eu-west-1 matches tag:Name=no-such-volume" "$ERR" "the error says what matched nothing"
assert_eq "$(last status)" failed "catalog: failed"
expect_code 64 "--volume and --tag together: 64" lcb --policy "$P" backup ebs --volume "$VOL" --tag a=b

# throttling (RequestLimitExceeded is a 503): retried, one snapshot
n0=$(nsnaps); c0=$(count_ops ec2 CreateSnapshot)
sim_ctl POST /faults '{"service": "ec2", "operation": "CreateSnapshot", "code": "RequestLimitExceeded", "times": 2}' >/dev/null
expect_code 0 "throttled twice, then done" lcb --policy "$P" backup ebs --no-copy
assert_eq "$(( $(count_ops ec2 CreateSnapshot) - c0 ))|$(( $(nsnaps) - n0 ))" "3|1" "three requests, one snapshot"
sim_ctl DELETE /faults >/dev/null

# a CreateSnapshot that succeeded behind a 503: found by its backup-id tag, adopted, not repeated
n0=$(nsnaps); c0=$(count_ops ec2 CreateSnapshot)
sim_ctl POST /faults '{"service": "ec2", "operation": "CreateSnapshot", "status": 503, "code": "Unavailable", "times": 1, "phase": "after"}' >/dev/null
expect_code 0 "a 503 after the snapshot was made" lcb --policy "$P" backup ebs --no-copy
assert_grep "already exists with lcbackup:backup-id=$(last id): adopting it" "$ERR" "adopted"
assert_eq "$(( $(count_ops ec2 CreateSnapshot) - c0 ))|$(( $(nsnaps) - n0 ))" "1|1" "one request, one snapshot"
sim_ctl DELETE /faults >/dev/null

# the quota
sim_ctl POST /ec2/knobs "{\"snapshot_quota\": $(nsnaps)}" >/dev/null
expect_code 69 "SnapshotLimitExceeded exits 69" lcb --policy "$P" backup ebs --no-copy
assert_grep "quota of EBS snapshots in eu-west-1 is reached \(Service Quotas: \"Snapshots per Region\"\)" \
    "$ERR" "the message names the quota"
assert_eq "$(last status)" failed "catalog: failed"
sim_ctl POST /ec2/knobs '{"snapshot_quota": null}' >/dev/null

# a snapshot that goes to error while it is waited for
sim_ctl POST /holds '{"ebs.snapshot": true}' >/dev/null
before=$(last id)
"$LCBACKUP" --policy "$P" backup ebs --no-copy >"$T/fail.out" 2>"$T/fail.err" &
BPID=$!
i=0
while { [ "$(last id)" = "$before" ] || [ "$(last location | cut -c1-5)" != "snap-" ]; } && [ $i -lt 150 ]; do
    sleep 0.1; i=$((i + 1))
done
sim_ctl POST "/ec2/snapshot/$(last location)/fail" '{"message": "disk read error (injected)"}' >/dev/null
wait $BPID; RC=$?
sim_ctl DELETE /holds/ebs.snapshot >/dev/null
assert_eq "$RC" 69 "a snapshot in error fails the backup (69)"
assert_grep "error .*disk read error \(injected\)" "$T/fail.err" "the error carries AWS's status message"
assert_eq "$(last status)" failed "catalog: failed"

# delete: the snapshot and its copy
expect_code 0 "delete" lcb --policy "$P" delete "$ID"
assert_eq "$(boto ec2 eu-west-1 "c.describe_snapshots(SnapshotIds=['$SNAP'])")" "error:InvalidSnapshot.NotFound" \
    "the snapshot is gone"
assert_eq "$(boto ec2 eu-central-1 "c.describe_snapshots(SnapshotIds=['$COPY'])")" "error:InvalidSnapshot.NotFound" \
    "its copy is gone"
assert_eq "$(sql "select status from backups where id='$ID'")|$(sql "select status from copies where backup_id='$ID'")" \
    "deleted|deleted" "catalog: deleted"

expect_code 0 "catalog check" lcb catalog check
done_testing
