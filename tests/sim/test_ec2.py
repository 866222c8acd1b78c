"""EC2/EBS conformance: botocore and /usr/bin/aws against simlib/ec2.py."""

import base64
import hashlib
import json
import os
import pathlib
import sys
import time
import unittest
import urllib.request

from botocore.exceptions import ClientError

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import simtest  # noqa: E402

SIM = None
WEST, CENTRAL = "eu-west-1", "eu-central-1"


def setUpModule():
    global SIM
    SIM = simtest.Sim.start(seed=None)
    SIM.control("POST", "/ec2/seed", {})


def tearDownModule():
    SIM.stop()


def put_content(sim, vid, data, region=WEST, offset=0):
    return sim.control("PUT", f"/ec2/volume/{vid}/content?region={region}",
                       {"base64": base64.b64encode(data).decode(), "offset": offset})


def get_content(sim, kind, rid, region=WEST):
    out = sim.control("GET", f"/ec2/{kind}/{rid}/content?region={region}")
    data = base64.b64decode(out["base64"])
    assert hashlib.sha256(data).hexdigest() == out["sha256"]
    return data


class Ec2Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = SIM
        cls.ec2 = SIM.client("ec2", retries={"total_max_attempts": 1})
        cls.ec2c = SIM.client("ec2", region=CENTRAL, retries={"total_max_attempts": 1})

    def setUp(self):
        self.sim.control("POST", "/delays", {"ebs.snapshot": 0, "ebs.volume": 0,
                                             "ebs.snapshot_copy": 0})

    def tearDown(self):
        self.sim.control("DELETE", "/holds")
        self.sim.control("DELETE", "/delays")
        self.sim.control("DELETE", "/faults")

    def err(self, code, fn, *args, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code,
                         cm.exception.response["Error"])
        return cm.exception

    def volume(self, size=4, region=WEST, **kw):
        client = self.ec2 if region == WEST else self.ec2c
        v = client.create_volume(AvailabilityZone=region + "a", Size=size, VolumeType="gp3",
                                 **kw)
        return v["VolumeId"]

    def snapshot(self, vid, client=None, **kw):
        client = client or self.ec2
        s = client.create_snapshot(VolumeId=vid, **kw)
        client.get_waiter("snapshot_completed").wait(
            SnapshotIds=[s["SnapshotId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 10})
        return s["SnapshotId"]


class Seed(Ec2Base):
    def test_broker_instance_and_data_volume(self):
        info = self.sim.control("GET", "/ec2/seed")
        r = self.ec2.describe_volumes(Filters=[
            {"Name": "tag:Name", "Values": ["legocity-broker-data"]},
            {"Name": "tag-key", "Values": ["lcbackup:target"]}])
        (v,) = r["Volumes"]
        self.assertEqual(v["VolumeId"], info["data_volume_id"])
        self.assertEqual((v["AvailabilityZone"], v["State"]), ("eu-west-1a", "in-use"))
        self.assertEqual(v["Attachments"][0]["InstanceId"], info["instance_id"])
        self.assertTrue(info["instance_id"].startswith("i-0"))
        data = get_content(self.sim, "volume", v["VolumeId"])
        self.assertEqual(hashlib.sha256(data).hexdigest(), info["data_sha256"])
        self.assertTrue(data.startswith(b"LCSIM-EBS v1\n"))
        self.assertGreater(len(data), 1 << 20)
        inst = self.ec2.describe_instances(InstanceIds=[info["instance_id"]])
        i = inst["Reservations"][0]["Instances"][0]
        self.assertEqual(sorted(b["Ebs"]["VolumeId"] for b in i["BlockDeviceMappings"]),
                         sorted([info["root_volume_id"], info["data_volume_id"]]))
        # the file behind a 50 GiB volume is sparse
        path = self.sim.state_dir / "ec2" / WEST / "volumes" / f"{v['VolumeId']}.img"
        st = os.stat(path)
        self.assertEqual(st.st_size, 50 << 30)
        self.assertLess(st.st_blocks * 512, 64 << 20)


class Volumes(Ec2Base):
    def test_create_describe_delete(self):
        self.sim.control("POST", "/holds", {"ebs.volume": True})
        v = self.ec2.create_volume(AvailabilityZone="eu-west-1b", Size=10, VolumeType="gp3",
                                   TagSpecifications=[{"ResourceType": "volume", "Tags": [
                                       {"Key": "Name", "Value": "t-vol"}]}])
        self.assertEqual((v["State"], v["Size"], v["Iops"], v["Throughput"]),
                         ("creating", 10, 3000, 125))
        self.assertRegex(v["VolumeId"], r"^vol-[0-9a-f]{17}$")
        d = self.ec2.describe_volumes(VolumeIds=[v["VolumeId"]])["Volumes"][0]
        self.assertEqual(d["State"], "creating")
        self.sim.control("DELETE", "/holds")
        d = self.ec2.describe_volumes(VolumeIds=[v["VolumeId"]])["Volumes"][0]
        self.assertEqual(d["State"], "available")
        self.assertEqual(d["Tags"], [{"Key": "Name", "Value": "t-vol"}])
        self.ec2.delete_volume(VolumeId=v["VolumeId"])
        self.err("InvalidVolume.NotFound", self.ec2.describe_volumes, VolumeIds=[v["VolumeId"]])
        self.err("InvalidVolume.NotFound", self.ec2.delete_volume, VolumeId=v["VolumeId"])

    def test_create_errors(self):
        for az in ("eu-west-1z", "eu-central-1a", "eu-west-1"):
            self.err("InvalidParameterValue", self.ec2.create_volume, AvailabilityZone=az,
                     Size=1)
        self.err("MissingParameter", self.ec2.create_volume, AvailabilityZone="eu-west-1a")
        self.err("InvalidParameterValue", self.ec2.create_volume, AvailabilityZone="eu-west-1a",
                 Size=1, TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
                     {"Key": "a", "Value": "b"}]}])
        self.err("InvalidParameterValue", self.ec2.create_volume, AvailabilityZone="eu-west-1a",
                 Size=20000, VolumeType="gp3")
        self.err("InvalidParameterCombination", self.ec2.create_volume,
                 AvailabilityZone="eu-west-1a", Size=10, VolumeType="io1")
        self.err("InvalidParameterDependency", self.ec2.create_volume,
                 AvailabilityZone="eu-west-1a", Size=1, KmsKeyId="alias/aws/ebs")
        self.err("InvalidSnapshot.NotFound", self.ec2.create_volume,
                 AvailabilityZone="eu-west-1a", SnapshotId="snap-0123456789abcdef0")
        self.err("DryRunOperation", self.ec2.create_volume, AvailabilityZone="eu-west-1a",
                 Size=1, DryRun=True)

    def test_encryption_and_client_token(self):
        v = self.ec2.create_volume(AvailabilityZone="eu-west-1a", Size=1, Encrypted=True)
        self.assertTrue(v["Encrypted"])
        self.assertRegex(v["KmsKeyId"], r"^arn:aws:kms:eu-west-1:123456789012:key/")
        a = self.ec2.create_volume(AvailabilityZone="eu-west-1a", Size=1, ClientToken="tok-1")
        b = self.ec2.create_volume(AvailabilityZone="eu-west-1a", Size=1, ClientToken="tok-1")
        self.assertEqual(a["VolumeId"], b["VolumeId"])

    def test_filters_and_paging(self):
        ids = [self.volume(size=2, TagSpecifications=[{"ResourceType": "volume", "Tags": [
            {"Key": "batch", "Value": f"pg-{i % 2}"}]}]) for i in range(7)]
        r = self.ec2.describe_volumes(Filters=[{"Name": "tag:batch", "Values": ["pg-0"]}])
        self.assertEqual(sorted(v["VolumeId"] for v in r["Volumes"]), sorted(ids[0::2]))
        r = self.ec2.describe_volumes(Filters=[{"Name": "tag:batch", "Values": ["pg-*"]},
                                               {"Name": "size", "Values": ["2"]},
                                               {"Name": "status", "Values": ["available"]}])
        self.assertEqual(len(r["Volumes"]), 7)
        seen, token, sizes = [], None, []
        while True:
            kw = {"NextToken": token} if token else {}
            page = self.ec2.describe_volumes(MaxResults=5, Filters=[
                {"Name": "tag-key", "Values": ["batch"]}], **kw)
            sizes.append(len(page["Volumes"]))
            seen += [v["VolumeId"] for v in page["Volumes"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(sizes, [5, 2])
        self.assertEqual(sorted(seen), sorted(ids))
        self.err("InvalidParameterValue", self.ec2.describe_volumes, MaxResults=4)
        self.err("InvalidParameterCombination", self.ec2.describe_volumes, VolumeIds=[ids[0]],
                 MaxResults=5)
        self.err("InvalidParameterValue", self.ec2.describe_volumes,
                 Filters=[{"Name": "colour", "Values": ["red"]}])
        self.err("InvalidParameterValue", self.ec2.describe_volumes, MaxResults=5,
                 NextToken="nonsense")

    def test_attach_detach(self):
        info = self.sim.control("GET", "/ec2/seed")
        vid = self.volume(size=1)
        a = self.ec2.attach_volume(VolumeId=vid, InstanceId=info["instance_id"],
                                   Device="/dev/sdg")
        self.assertEqual(a["State"], "attaching")
        d = self.ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id",
                                                "Values": [info["instance_id"]]}])
        self.assertIn(vid, [v["VolumeId"] for v in d["Volumes"]])
        self.err("VolumeInUse", self.ec2.delete_volume, VolumeId=vid)
        self.ec2.detach_volume(VolumeId=vid)
        self.ec2.delete_volume(VolumeId=vid)
        other = self.volume(size=1)
        self.err("InvalidParameterValue", self.ec2.attach_volume, VolumeId=other,
                 InstanceId=info["instance_id"], Device="/dev/sdf")
        b = self.ec2.create_volume(AvailabilityZone="eu-west-1b", Size=1)["VolumeId"]
        self.err("InvalidVolume.ZoneMismatch", self.ec2.attach_volume, VolumeId=b,
                 InstanceId=info["instance_id"], Device="/dev/sdh")


class Snapshots(Ec2Base):
    def test_states_progress_and_waiter(self):
        self.sim.control("POST", "/delays", {"ebs.snapshot": 3})
        vid = self.volume()
        s = self.ec2.create_snapshot(VolumeId=vid, Description="t-progress",
                                     TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
                                         {"Key": "lcbackup", "Value": "run-1"}]}])
        self.assertEqual((s["State"], s["Progress"], s["VolumeSize"]), ("pending", "0%", 4))
        self.assertEqual(s["Tags"], [{"Key": "lcbackup", "Value": "run-1"}])
        self.assertRegex(s["SnapshotId"], r"^snap-[0-9a-f]{17}$")
        time.sleep(1.2)
        mid = self.ec2.describe_snapshots(SnapshotIds=[s["SnapshotId"]])["Snapshots"][0]
        self.assertEqual(mid["State"], "pending")
        self.assertTrue(0 < int(mid["Progress"].rstrip("%")) < 100, mid["Progress"])
        self.ec2.get_waiter("snapshot_completed").wait(
            SnapshotIds=[s["SnapshotId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 10})
        done = self.ec2.describe_snapshots(SnapshotIds=[s["SnapshotId"]])["Snapshots"][0]
        self.assertEqual((done["State"], done["Progress"]), ("completed", "100%"))
        self.sim.control("POST", "/holds", {"ebs.snapshot": True})
        held = self.ec2.create_snapshot(VolumeId=vid)["SnapshotId"]
        self.sim.control("POST", "/delays", {"ebs.snapshot": 0})
        st = self.ec2.describe_snapshots(SnapshotIds=[held])["Snapshots"][0]["State"]
        self.assertEqual(st, "pending")
        self.err("IncorrectState", self.ec2.create_volume, AvailabilityZone="eu-west-1a",
                 SnapshotId=held)

    def test_snapshot_to_volume_content_identical(self):
        vid = self.volume(size=100)
        data = os.urandom(3 << 20)
        put_content(self.sim, vid, data)
        put_content(self.sim, vid, b"tail-marker", offset=5 << 20)
        expect = data + bytes((5 << 20) - len(data)) + b"tail-marker"
        self.assertEqual(get_content(self.sim, "volume", vid), expect)
        sid = self.snapshot(vid, Description="content")
        # the snapshot is point-in-time: later writes to the volume do not reach it
        put_content(self.sim, vid, b"changed after the snapshot")
        self.assertEqual(get_content(self.sim, "snapshot", sid), expect)
        nv = self.ec2.create_volume(AvailabilityZone="eu-west-1c", SnapshotId=sid)
        self.assertEqual((nv["Size"], nv["SnapshotId"]), (100, sid))
        self.assertEqual(get_content(self.sim, "volume", nv["VolumeId"]), expect)
        bigger = self.ec2.create_volume(AvailabilityZone="eu-west-1a", SnapshotId=sid,
                                        Size=120)
        self.assertEqual(bigger["Size"], 120)
        self.assertEqual(get_content(self.sim, "volume", bigger["VolumeId"]), expect)
        self.err("InvalidParameterValue", self.ec2.create_volume, AvailabilityZone="eu-west-1a",
                 SnapshotId=sid, Size=50)

    def test_create_snapshots_of_instance(self):
        info = self.sim.control("GET", "/ec2/seed")
        r = self.ec2.create_snapshots(InstanceSpecification={"InstanceId": info["instance_id"]},
                                      Description="t-multi", CopyTagsFromSource="volume",
                                      TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
                                          {"Key": "lcbackup", "Value": "multi"}]}])
        snaps = r["Snapshots"]
        self.assertEqual(sorted(s["VolumeId"] for s in snaps),
                         sorted([info["root_volume_id"], info["data_volume_id"]]))
        self.assertEqual({s["State"] for s in snaps}, {"pending"})
        self.assertEqual(len({s["StartTime"] for s in snaps}), 1)
        data_snap = next(s for s in snaps if s["VolumeId"] == info["data_volume_id"])
        tags = {t["Key"]: t["Value"] for t in data_snap["Tags"]}
        self.assertEqual(tags["Name"], "legocity-broker-data")
        self.assertEqual(tags["lcbackup"], "multi")
        self.ec2.get_waiter("snapshot_completed").wait(
            SnapshotIds=[s["SnapshotId"] for s in snaps],
            WaiterConfig={"Delay": 1, "MaxAttempts": 10})
        got = get_content(self.sim, "snapshot", data_snap["SnapshotId"])
        self.assertEqual(hashlib.sha256(got).hexdigest(), info["data_sha256"])
        r = self.ec2.create_snapshots(InstanceSpecification={
            "InstanceId": info["instance_id"], "ExcludeBootVolume": True})
        self.assertEqual([s["VolumeId"] for s in r["Snapshots"]], [info["data_volume_id"]])
        self.err("InvalidInstanceID.NotFound", self.ec2.create_snapshots,
                 InstanceSpecification={"InstanceId": "i-0123456789abcdef0"})

    def test_describe_owner_ids_filters_paging(self):
        vid = self.volume(size=1)
        ids = [self.ec2.create_snapshot(VolumeId=vid, Description=f"t-page-{i}",
                                        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
                                            {"Key": "run", "Value": "paging"}]}])["SnapshotId"]
               for i in range(12)]
        flt = [{"Name": "tag:run", "Values": ["paging"]}]
        self.assertEqual(len(self.ec2.describe_snapshots(OwnerIds=["self"], Filters=flt)[
            "Snapshots"]), 12)
        self.assertEqual(len(self.ec2.describe_snapshots(OwnerIds=["123456789012"],
                                                         Filters=flt)["Snapshots"]), 12)
        self.assertEqual(self.ec2.describe_snapshots(OwnerIds=["amazon"], Filters=flt)[
            "Snapshots"], [])
        seen, sizes, token = [], [], None
        while True:
            kw = {"NextToken": token} if token else {}
            page = self.ec2.describe_snapshots(OwnerIds=["self"], Filters=flt, MaxResults=5,
                                               **kw)
            sizes.append(len(page["Snapshots"]))
            seen += [s["SnapshotId"] for s in page["Snapshots"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(sizes, [5, 5, 2])
        self.assertEqual(seen, ids)
        r = self.ec2.describe_snapshots(OwnerIds=["self"], Filters=[
            {"Name": "description", "Values": ["t-page-1?"]}, {"Name": "volume-id",
                                                               "Values": [vid]}])
        self.assertEqual(sorted(s["Description"] for s in r["Snapshots"]),
                         ["t-page-10", "t-page-11"])
        self.err("InvalidParameterValue", self.ec2.describe_snapshots, OwnerIds=["self"],
                 MaxResults=4)
        self.err("InvalidParameterCombination", self.ec2.describe_snapshots,
                 SnapshotIds=[ids[0]], MaxResults=5)
        self.err("InvalidSnapshot.NotFound", self.ec2.describe_snapshots,
                 SnapshotIds=[ids[0], "snap-0000000000000000f"])
        self.err("InvalidParameterValue", self.ec2.describe_snapshots,
                 Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
        self.ec2.delete_snapshot(SnapshotId=ids[0])
        self.err("InvalidSnapshot.NotFound", self.ec2.delete_snapshot, SnapshotId=ids[0])
        self.err("InvalidSnapshot.NotFound", self.ec2.describe_snapshots, SnapshotIds=[ids[0]])

    def test_quota_rate_faults_and_error_state(self):
        vid = self.volume(size=1)
        count = len(self.ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"])
        self.sim.control("POST", "/ec2/knobs", {"snapshot_quota": count + 1})
        try:
            self.ec2.create_snapshot(VolumeId=vid)
            self.err("SnapshotLimitExceeded", self.ec2.create_snapshot, VolumeId=vid)
        finally:
            self.sim.control("POST", "/ec2/knobs", {"snapshot_quota": None})
        self.sim.control("POST", "/delays", {"ebs.snapshot_interval": 60})
        self.err("SnapshotCreationPerVolumeRateExceeded", self.ec2.create_snapshot,
                 VolumeId=vid)
        self.sim.control("POST", "/delays", {"ebs.snapshot_interval": 0})
        self.sim.fault(service="ec2", operation="CreateSnapshot", code="RequestLimitExceeded",
                       times=1)
        e = self.err("RequestLimitExceeded", self.ec2.create_snapshot, VolumeId=vid)
        self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 503)
        sid = self.ec2.create_snapshot(VolumeId=vid)["SnapshotId"]
        self.sim.control("POST", f"/ec2/snapshot/{sid}/fail", {"message": "disk on fire"})
        s = self.ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]
        self.assertEqual((s["State"], s["StateMessage"]), ("error", "disk on fire"))


class CopyAndTags(Ec2Base):
    def test_cross_region_copy(self):
        vid = self.volume(size=8)
        data = os.urandom(1 << 20)
        put_content(self.sim, vid, data)
        src = self.snapshot(vid, Description="to-copy")
        r = self.ec2c.copy_snapshot(SourceRegion=WEST, SourceSnapshotId=src,
                                    TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
                                        {"Key": "dr", "Value": "yes"}]}])
        cid = r["SnapshotId"]
        self.assertEqual(r["Tags"], [{"Key": "dr", "Value": "yes"}])
        req = self.sim.requests(service="ec2", operation="CopySnapshot")[-1]
        self.assertEqual(req["region"], CENTRAL)
        self.err("InvalidSnapshot.NotFound", self.ec2.describe_snapshots, SnapshotIds=[cid])
        self.ec2c.get_waiter("snapshot_completed").wait(
            SnapshotIds=[cid], WaiterConfig={"Delay": 1, "MaxAttempts": 10})
        c = self.ec2c.describe_snapshots(SnapshotIds=[cid])["Snapshots"][0]
        self.assertEqual((c["VolumeId"], c["VolumeSize"], c["Description"]),
                         ("vol-ffffffff", 8, f"[Copied {src} from {WEST}]"))
        self.assertEqual(get_content(self.sim, "snapshot", cid, region=CENTRAL), data)
        nv = self.ec2c.create_volume(AvailabilityZone="eu-central-1b", SnapshotId=cid)
        self.assertEqual(get_content(self.sim, "volume", nv["VolumeId"], region=CENTRAL), data)
        # same region: the source is checked at once; cross region: the copy is accepted,
        # then fails (AWS behaves so with a wrong SourceRegion)
        self.err("InvalidSnapshot.NotFound", self.ec2c.copy_snapshot, SourceRegion=CENTRAL,
                 SourceSnapshotId=src)
        self.sim.control("POST", "/delays", {"ebs.snapshot_copy": 30})
        lost = self.ec2c.copy_snapshot(SourceRegion=WEST,
                                       SourceSnapshotId="snap-0123456789abcdef0")["SnapshotId"]
        s = self.ec2c.describe_snapshots(SnapshotIds=[lost])["Snapshots"][0]
        self.assertEqual(s["State"], "pending")
        self.sim.control("POST", "/delays", {"ebs.snapshot_copy": 0})
        s = self.ec2c.describe_snapshots(SnapshotIds=[lost])["Snapshots"][0]
        self.assertEqual(s["State"], "error")
        self.assertIn("does not exist", s["StateMessage"])

    def test_concurrent_copy_limit(self):
        vid = self.volume(size=1)
        src = self.snapshot(vid)
        self.sim.control("POST", "/delays", {"ebs.snapshot_copy": 60, "ebs.copy_limit": 2})
        for _ in range(2):
            self.ec2c.copy_snapshot(SourceRegion=WEST, SourceSnapshotId=src)
        e = self.err("ResourceLimitExceeded", self.ec2c.copy_snapshot, SourceRegion=WEST,
                     SourceSnapshotId=src)
        self.assertIn("Too many snapshot copies in progress", e.response["Error"]["Message"])
        self.sim.control("POST", "/delays", {"ebs.snapshot_copy": 0})
        self.ec2c.copy_snapshot(SourceRegion=WEST, SourceSnapshotId=src)

    def test_encrypted_copy_and_bad_key(self):
        kms = self.sim.client("kms", region=CENTRAL)
        key = kms.create_key(Description="dr ebs")["KeyMetadata"]
        vid = self.volume(size=1)
        src = self.snapshot(vid)
        r = self.ec2c.copy_snapshot(SourceRegion=WEST, SourceSnapshotId=src, Encrypted=True,
                                    KmsKeyId=key["KeyId"], Description="enc")
        c = self.ec2c.describe_snapshots(SnapshotIds=[r["SnapshotId"]])["Snapshots"][0]
        self.assertTrue(c["Encrypted"])
        self.assertEqual(c["KmsKeyId"], key["Arn"])
        self.assertEqual(c["Description"], "enc")
        self.err("InvalidParameterDependency", self.ec2c.copy_snapshot, SourceRegion=WEST,
                 SourceSnapshotId=src, KmsKeyId=key["KeyId"])
        # AWS checks the key asynchronously: the call works, the copy ends in "error"
        bad = self.ec2c.copy_snapshot(SourceRegion=WEST, SourceSnapshotId=src, Encrypted=True,
                                      KmsKeyId="alias/not-in-central")["SnapshotId"]
        s = self.ec2c.describe_snapshots(SnapshotIds=[bad])["Snapshots"][0]
        self.assertEqual(s["State"], "error")
        self.sim.control("POST", "/holds", {"ebs.snapshot": True})
        pending = self.ec2.create_snapshot(VolumeId=vid)["SnapshotId"]
        self.err("IncorrectState", self.ec2c.copy_snapshot, SourceRegion=WEST,
                 SourceSnapshotId=pending)

    def test_tags(self):
        vid = self.volume(size=1)
        sid = self.snapshot(vid)
        self.ec2.create_tags(Resources=[vid, sid], Tags=[{"Key": "team", "Value": "city"},
                                                         {"Key": "env", "Value": "dev"}])
        r = self.ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vid, sid]}])
        rows = sorted((t["ResourceId"], t["ResourceType"], t["Key"], t["Value"])
                      for t in r["Tags"])
        self.assertEqual(rows, sorted([(vid, "volume", "team", "city"),
                                       (vid, "volume", "env", "dev"),
                                       (sid, "snapshot", "team", "city"),
                                       (sid, "snapshot", "env", "dev")]))
        r = self.ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vid, sid]},
                                            {"Name": "resource-type", "Values": ["snapshot"]},
                                            {"Name": "key", "Values": ["team"]}])
        self.assertEqual([(t["ResourceId"], t["Value"]) for t in r["Tags"]], [(sid, "city")])
        p = self.ec2.describe_tags(MaxResults=5)
        self.assertEqual(len(p["Tags"]), 5)
        self.assertIn("NextToken", p)
        self.ec2.delete_tags(Resources=[vid], Tags=[{"Key": "team", "Value": "wrong"}])
        self.ec2.delete_tags(Resources=[vid], Tags=[{"Key": "env"}])
        v = self.ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
        self.assertEqual(v["Tags"], [{"Key": "team", "Value": "city"}])
        self.ec2.delete_tags(Resources=[sid])
        s = self.ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]
        self.assertNotIn("Tags", s)
        self.err("InvalidParameterValue", self.ec2.create_tags, Resources=[vid],
                 Tags=[{"Key": "aws:reserved", "Value": "x"}])
        self.err("TagLimitExceeded", self.ec2.create_tags, Resources=[vid],
                 Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
        self.err("InvalidSnapshot.NotFound", self.ec2.create_tags,
                 Resources=["snap-0123456789abcdef0"], Tags=[{"Key": "a", "Value": "b"}])
        self.err("InvalidID", self.ec2.create_tags, Resources=["ami-1234"],
                 Tags=[{"Key": "a", "Value": "b"}])


def raw_ec2(sim, params, region=WEST):
    """A signed EC2 query request without botocore's serializer: (status, body text)."""
    import urllib.error
    import urllib.parse
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    body = urllib.parse.urlencode(dict({"Version": "2016-11-15"}, **params))
    req = AWSRequest(method="POST", url=sim.endpoint + "/", data=body.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(sim.access_key, sim.secret_key), "ec2", region).add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(p.url, data=p.body, headers=dict(p.headers), method="POST")
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Wire(Ec2Base):
    def test_unknown_parameter_and_action(self):
        st, body = raw_ec2(self.sim, {"Action": "DescribeSnapshots", "OwnerId.1": "self"})
        self.assertEqual(st, 400)
        self.assertIn("<Code>UnknownParameter</Code>", body)
        self.assertIn("<Response><Errors><Error>", body)
        st, body = raw_ec2(self.sim, {"Action": "DescribeSnapshots", "Owner.1": "self",
                                      "Filter.1.Name": "status", "Filter.1.Value.1": "x"})
        self.assertEqual(st, 200, body)
        self.assertIn("<DescribeSnapshotsResponse xmlns=\"http://ec2.amazonaws.com/doc/"
                      "2016-11-15/\"><requestId>", body)
        st, body = raw_ec2(self.sim, {"Action": "RunInstances"})
        self.assertEqual(st, 400)
        self.assertIn("<Code>InvalidAction</Code>", body)
        st, body = raw_ec2(self.sim, {"Action": "DeleteSnapshot"})
        self.assertIn("<Code>MissingParameter</Code>", body)


class CliAndRestart(Ec2Base):
    def test_cli_describe_snapshots(self):
        vid = self.volume(size=1)
        ids = [self.ec2.create_snapshot(VolumeId=vid, TagSpecifications=[
            {"ResourceType": "snapshot", "Tags": [{"Key": "cli", "Value": "yes"}]}])[
            "SnapshotId"] for _ in range(7)]
        rc, out, err = simtest.aws_cli(self.sim, "ec2", "describe-snapshots", "--owner-ids",
                                       "self", "--filters", "Name=tag:cli,Values=yes",
                                       "--page-size", "5")
        self.assertEqual(rc, 0, err)
        got = [s["SnapshotId"] for s in json.loads(out)["Snapshots"]]
        self.assertEqual(got, ids)
        reqs = self.sim.requests(service="ec2", operation="DescribeSnapshots")
        self.assertGreaterEqual(len(reqs), 2)
        rc, out, err = simtest.aws_cli(self.sim, "ec2", "describe-volumes", "--filters",
                                       "Name=tag:Name,Values=legocity-broker-data",
                                       "--query", "Volumes[0].VolumeId", "--output", "text")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), self.sim.control("GET", "/ec2/seed")["data_volume_id"])
        rc, out, err = simtest.aws_cli(self.sim, "ec2", "copy-snapshot", "--source-region",
                                       WEST, "--source-snapshot-id", ids[0],
                                       region=CENTRAL)
        self.assertEqual(rc, 0, err)
        cid = json.loads(out)["SnapshotId"]
        rc, out, err = simtest.aws_cli(self.sim, "ec2", "describe-snapshots",
                                       "--snapshot-ids", cid, region=CENTRAL)
        self.assertEqual(json.loads(out)["Snapshots"][0]["VolumeId"], "vol-ffffffff")
        rc, out, err = simtest.aws_cli(self.sim, "ec2", "describe-snapshots",
                                       "--snapshot-ids", "snap-0123456789abcdef0")
        self.assertNotEqual(rc, 0)
        self.assertIn("InvalidSnapshot.NotFound", err)

    def test_raw_content_hooks(self):
        vid = self.volume(size=1)
        blob = os.urandom(300000)
        base = f"{self.sim.control_url}/ec2/volume/{vid}/content"
        req = urllib.request.Request(base + "?offset=4096", data=blob, method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(req, timeout=30) as r:
            self.assertEqual(json.loads(r.read())["contentBytes"], 4096 + len(blob))
        with urllib.request.urlopen(base + "?raw=1", timeout=30) as r:
            self.assertEqual(r.headers["Content-Type"], "application/octet-stream")
            self.assertEqual(r.read(), bytes(4096) + blob)
        sid = self.snapshot(vid)
        url = f"{self.sim.control_url}/ec2/snapshot/{sid}/content?raw=1&region={WEST}"
        with urllib.request.urlopen(url, timeout=30) as r:
            self.assertEqual(r.read(), bytes(4096) + blob)

    def test_restart_keeps_state(self):
        vid = self.volume(size=2, TagSpecifications=[{"ResourceType": "volume", "Tags": [
            {"Key": "restart", "Value": "yes"}]}])
        data = b"persisted bytes " * 1000
        put_content(self.sim, vid, data)
        sid = self.snapshot(vid)
        self.sim.restart()
        ec2 = self.sim.client("ec2")
        v = ec2.describe_volumes(Filters=[{"Name": "tag:restart", "Values": ["yes"]}])
        self.assertEqual([x["VolumeId"] for x in v["Volumes"]], [vid])
        s = ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]
        self.assertEqual(s["State"], "completed")
        self.assertEqual(get_content(self.sim, "volume", vid), data)
        self.assertEqual(get_content(self.sim, "snapshot", sid), data)


if __name__ == "__main__":
    unittest.main()
