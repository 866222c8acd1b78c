"""simlib.rds through botocore: real clusters behind the RDS Query API.

Run: tests/sim/run_tests.py test_rds
Prints `# timing rds.<op> N.NNs` lines for create, snapshot, restore, PITR and copy.
"""

import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import botocore.exceptions  # noqa: E402

import simtest  # noqa: E402
from simlib import core, pgcluster, rds as rdsmod  # noqa: E402

PSQL = str(pgcluster.PGBIN / "psql")
USER, PASSWORD = "master", "Rds-test-pass-1"
ALT_REGION = "eu-central-1"


def sql(port, text, db="app", user=USER, password=PASSWORD, check=True):
    """psql over TCP on 127.0.0.1 as a client would; returns stdout lines."""
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
    p = subprocess.run([PSQL, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                        "127.0.0.1", "-p", str(port), "-U", user, "-d", db],
                       input=text, capture_output=True, text=True, env=env, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("psql failed: %s" % p.stderr)
    return p.stdout.splitlines() if check else (p.returncode, p.stdout, p.stderr)


def timing(name, secs):
    print("# timing rds.%s %.2fs" % (name, secs), flush=True)


def wait_for(fn, what, timeout=60, interval=0.1):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(interval)


def describe_instance(client, ident):
    return client.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]


def wait_instance(client, ident, timeout=90):
    def ready():
        d = describe_instance(client, ident)
        if d["DBInstanceStatus"] == "failed":
            raise AssertionError("instance %s failed" % ident)
        return d if d["DBInstanceStatus"] == "available" else None
    return wait_for(ready, "instance %s" % ident, timeout)


def wait_snapshot(client, ident, timeout=90):
    def ready():
        d = client.describe_db_snapshots(DBSnapshotIdentifier=ident)["DBSnapshots"][0]
        if d["Status"] == "failed":
            raise AssertionError("snapshot %s failed" % ident)
        return d if d["Status"] == "available" else None
    return wait_for(ready, "snapshot %s" % ident, timeout)


class RdsBase(unittest.TestCase):
    sim = None

    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.Sim.start()
        cls.sim.control("POST", "/delays", {"rds.instance": 0.2, "rds.snapshot": 0.2,
                                            "rds.copy": 0.2, "rds.modify": 0.3,
                                            "rds.delete": 0.1, "rds.wal_archive": 0.3})
        cls.rds = cls.sim.client("rds", retries={"max_attempts": 1})
        cls.rds_alt = cls.sim.client("rds", region=ALT_REGION, retries={"max_attempts": 1})

    @classmethod
    def tearDownClass(cls):
        if cls.sim:
            cls.sim.stop()

    # helpers ---------------------------------------------------------------------------
    def error(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        err = cm.exception.response
        return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]

    def instance(self, ident, client=None):
        return describe_instance(client or self.rds, ident)

    def wait_instance(self, ident, client=None, timeout=90):
        return wait_instance(client or self.rds, ident, timeout)

    def wait_snapshot(self, ident, client=None, timeout=90):
        return wait_snapshot(client or self.rds, ident, timeout)

    def create(self, ident, client=None, **extra):
        kw = dict(DBInstanceIdentifier=ident, Engine="postgres", DBInstanceClass="db.t3.micro",
                  MasterUsername=USER, MasterUserPassword=PASSWORD, AllocatedStorage=20,
                  DBName="app")
        kw.update(extra)
        return (client or self.rds).create_db_instance(**kw)["DBInstance"]

    def fingerprint(self, port, table="items"):
        return sql(port, "SELECT count(*) || ':' || md5(string_agg(id || '=' || v, ',' "
                         "ORDER BY id)) FROM %s" % table)[0]


class RdsCore(RdsBase):
    """One source instance shared by the tests of this class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t0 = time.time()
        cls.first = cls.rds.create_db_instance(
            DBInstanceIdentifier="Payload-Src", Engine="postgres", DBInstanceClass="db.t3.micro",
            MasterUsername=USER, MasterUserPassword=PASSWORD, AllocatedStorage=30, DBName="app",
            BackupRetentionPeriod=7, DBSubnetGroupName="legocity-db-subnets",
            VpcSecurityGroupIds=["sg-0123456789abcdef0", "sg-0fedcba9876543210"],
            PubliclyAccessible=False, Tags=[{"Key": "Project", "Value": "legocity"}])["DBInstance"]
        cls.src = wait_instance(cls.rds, "payload-src")
        timing("create", time.time() - t0)
        cls.port = cls.src["Endpoint"]["Port"]
        sql(cls.port, "CREATE TABLE items (id int PRIMARY KEY, v text);\n"
                      "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 3000) g;\n")

    def test_create_answers_creating_then_available_with_model_fields(self):
        self.assertEqual(self.first["DBInstanceStatus"], "creating")
        d = self.instance("PAYLOAD-SRC")   # identifiers are case-insensitive, stored lower
        self.assertEqual(d["DBInstanceIdentifier"], "payload-src")
        self.assertEqual(d["Endpoint"]["Address"], "127.0.0.1")
        self.assertEqual(d["DBInstanceArn"],
                         "arn:aws:rds:eu-west-1:123456789012:db:payload-src")
        self.assertEqual(d["TagList"], [{"Key": "Project", "Value": "legocity"}])
        self.assertEqual([g["VpcSecurityGroupId"] for g in d["VpcSecurityGroups"]],
                         ["sg-0123456789abcdef0", "sg-0fedcba9876543210"])
        self.assertEqual(d["DBSubnetGroup"]["DBSubnetGroupName"], "legocity-db-subnets")
        self.assertEqual((d["Engine"], d["AllocatedStorage"], d["BackupRetentionPeriod"],
                          d["MasterUsername"], d["DBName"], d["PubliclyAccessible"]),
                         ("postgres", 30, 7, USER, "app", False))
        self.assertTrue(d["EngineVersion"].startswith("15."))
        self.assertIsInstance(d["LatestRestorableTime"], datetime.datetime)
        # a real server answers libpq on that endpoint with the master password
        self.assertEqual(sql(d["Endpoint"]["Port"], "SELECT current_user"), [USER])
        self.assertEqual(sql(d["Endpoint"]["Port"], "SHOW server_version_num")[0][:2], "15")
        # and an automated snapshot exists for point-in-time restores
        auto = self.rds.describe_db_snapshots(DBInstanceIdentifier="payload-src",
                                              SnapshotType="automated")["DBSnapshots"]
        self.assertEqual(len(auto), 1)
        self.assertTrue(auto[0]["DBSnapshotIdentifier"].startswith("rds:payload-src-"))

    def test_not_found_and_already_exists(self):
        self.assertEqual(self.error(self.rds.describe_db_instances,
                                    DBInstanceIdentifier="nope"), ("DBInstanceNotFound", 404))
        self.assertEqual(self.error(self.rds.describe_db_snapshots,
                                    DBSnapshotIdentifier="nope"), ("DBSnapshotNotFound", 404))
        self.assertEqual(self.error(self.rds.delete_db_snapshot, DBSnapshotIdentifier="nope"),
                         ("DBSnapshotNotFound", 404))
        self.assertEqual(self.error(self.rds.create_db_snapshot, DBSnapshotIdentifier="x1",
                                    DBInstanceIdentifier="nope"), ("DBInstanceNotFound", 404))
        self.assertEqual(self.error(self.create, ident="payload-src"),
                         ("DBInstanceAlreadyExists", 400))
        auto = self.rds.describe_db_snapshots(DBInstanceIdentifier="payload-src")["DBSnapshots"]
        self.assertEqual(self.error(self.rds.delete_db_snapshot,
                                    DBSnapshotIdentifier=auto[0]["DBSnapshotIdentifier"]),
                         ("InvalidDBSnapshotState", 400))
        # describing snapshots of an unknown instance is an empty list, not an error
        self.assertEqual(self.rds.describe_db_snapshots(
            DBInstanceIdentifier="nope")["DBSnapshots"], [])

    def test_invalid_identifiers(self):
        for ident in ["1abc", "-abc", "abc-", "ab--c", "ab_c", "ab.c", "a" * 64, "rds:abc"]:
            self.assertEqual(self.error(self.create, ident=ident),
                             ("InvalidParameterValue", 400), ident)
        for ident in ["1snap", "snap-", "sn--ap", "s_nap", "s" * 256, "rds:payload-src-x"]:
            self.assertEqual(self.error(self.rds.create_db_snapshot, DBSnapshotIdentifier=ident,
                                        DBInstanceIdentifier="payload-src"),
                             ("InvalidParameterValue", 400), ident)
        self.assertEqual(self.error(self.rds.restore_db_instance_to_point_in_time,
                                    SourceDBInstanceIdentifier="payload-src",
                                    TargetDBInstanceIdentifier="bad--name",
                                    UseLatestRestorableTime=True),
                         ("InvalidParameterValue", 400))
        # boundaries: 63 characters are fine for an instance (answered with another error)
        self.assertEqual(self.error(self.rds.delete_db_instance, DBInstanceIdentifier="a" * 63,
                                    SkipFinalSnapshot=True), ("DBInstanceNotFound", 404))
        self.assertEqual(self.error(self.create, ident="x", MasterUserPassword="short"),
                         ("InvalidParameterValue", 400))
        self.assertEqual(self.error(self.create, ident="x", DBName="1-bad"),
                         ("InvalidParameterValue", 400))
        self.assertEqual(self.error(self.create, ident="x", Engine="mysql"),
                         ("InvalidParameterValue", 400))

    def test_snapshot_restore_has_equal_rows_and_busy_instance_refuses(self):
        before = self.fingerprint(self.port)
        t0 = time.time()
        self.sim.control("POST", "/delays", {"rds.snapshot": 1.5})
        try:
            s = self.rds.create_db_snapshot(DBSnapshotIdentifier="snap-rows",
                                            DBInstanceIdentifier="payload-src",
                                            Tags=[{"Key": "run", "Value": "42"}])["DBSnapshot"]
            self.assertEqual(s["Status"], "creating")
            self.assertEqual(s["SnapshotType"], "manual")
            self.assertEqual(self.instance("payload-src")["DBInstanceStatus"], "backing-up")
            self.assertEqual(self.error(self.rds.create_db_snapshot,
                                        DBSnapshotIdentifier="snap-busy",
                                        DBInstanceIdentifier="payload-src"),
                             ("InvalidDBInstanceState", 400))
            self.assertEqual(self.error(self.rds.create_db_snapshot,
                                        DBSnapshotIdentifier="snap-rows",
                                        DBInstanceIdentifier="payload-src"),
                             ("DBSnapshotAlreadyExists", 400))
            mid = self.rds.describe_db_snapshots(DBSnapshotIdentifier="snap-rows")["DBSnapshots"]
            self.assertLess(mid[0]["PercentProgress"], 100)
        finally:
            self.sim.control("POST", "/delays", {"rds.snapshot": 0.2})
        snap = self.wait_snapshot("snap-rows")
        timing("snapshot", time.time() - t0)
        self.assertEqual(snap["PercentProgress"], 100)
        self.assertEqual(snap["DBSnapshotArn"],
                         "arn:aws:rds:eu-west-1:123456789012:snapshot:snap-rows")
        self.assertEqual((snap["Engine"], snap["AllocatedStorage"], snap["Encrypted"]),
                         ("postgres", 30, False))
        self.assertEqual(snap["TagList"], [{"Key": "run", "Value": "42"}])
        self.assertEqual(self.wait_instance("payload-src")["DBInstanceStatus"], "available")
        # changes after the snapshot must not appear in the restore
        sql(self.port, "INSERT INTO items VALUES (900001, 'after-snapshot')")
        t0 = time.time()
        r = self.rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier="restored-rows", DBSnapshotIdentifier="snap-rows",
            DBInstanceClass="db.t3.small", DBSubnetGroupName="restore-subnets",
            VpcSecurityGroupIds=["sg-0aaaaaaaaaaaaaaaa"], PubliclyAccessible=False)
        self.assertEqual(r["DBInstance"]["DBInstanceStatus"], "creating")
        d = self.wait_instance("restored-rows")
        timing("restore", time.time() - t0)
        self.assertNotEqual(d["Endpoint"]["Port"], self.port)
        self.assertEqual(self.fingerprint(d["Endpoint"]["Port"]), before)
        self.assertEqual(d["DBInstanceClass"], "db.t3.small")
        self.assertEqual(d["DBSubnetGroup"]["DBSubnetGroupName"], "restore-subnets")
        self.assertEqual([g["VpcSecurityGroupId"] for g in d["VpcSecurityGroups"]],
                         ["sg-0aaaaaaaaaaaaaaaa"])
        self.assertEqual(d["TagList"], [{"Key": "run", "Value": "42"}])  # from the snapshot
        self.assertEqual(self.error(self.rds.restore_db_instance_from_db_snapshot,
                                    DBInstanceIdentifier="restored-rows",
                                    DBSnapshotIdentifier="snap-rows"),
                         ("DBInstanceAlreadyExists", 400))
        self.assertEqual(self.error(self.rds.restore_db_instance_from_db_snapshot,
                                    DBInstanceIdentifier="restored-x",
                                    DBSnapshotIdentifier="no-such-snap"),
                         ("DBSnapshotNotFound", 404))

    def test_pitr_between_two_writes_restores_the_first_state_only(self):
        sql(self.port, "CREATE TABLE IF NOT EXISTS marks (name text);\n"
                       "INSERT INTO marks VALUES ('A');")
        time.sleep(1.1)
        target = datetime.datetime.now(datetime.timezone.utc)
        time.sleep(1.1)
        sql(self.port, "INSERT INTO marks VALUES ('B')")
        wait_for(lambda: self.instance("payload-src")["LatestRestorableTime"] >= target,
                 "LatestRestorableTime past the target", timeout=30, interval=0.3)
        t0 = time.time()
        r = self.rds.restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier="payload-src", TargetDBInstanceIdentifier="pitr-a",
            RestoreTime=target, DBSubnetGroupName="legocity-db-subnets",
            VpcSecurityGroupIds=["sg-0123456789abcdef0"])["DBInstance"]
        self.assertEqual(r["DBInstanceStatus"], "creating")
        d = self.wait_instance("pitr-a")
        timing("pitr", time.time() - t0)
        self.assertEqual(sql(d["Endpoint"]["Port"], "SELECT string_agg(name, ',' ORDER BY name) "
                                                     "FROM marks"), ["A"])
        self.assertEqual(d["TagList"], [{"Key": "Project", "Value": "legocity"}])
        # the source still has both
        self.assertEqual(sql(self.port, "SELECT string_agg(name, ',' ORDER BY name) FROM marks"),
                         ["A,B"])
        # the restored instance is writable and itself restorable
        sql(d["Endpoint"]["Port"], "INSERT INTO marks VALUES ('C')")
        self.assertIn("LatestRestorableTime", self.instance("pitr-a"))
        # UseLatestRestorableTime, once that time is past the second write, has both
        after_b = datetime.datetime.now(datetime.timezone.utc)
        wait_for(lambda: self.instance("payload-src")["LatestRestorableTime"] >= after_b,
                 "LatestRestorableTime past the second write", timeout=30, interval=0.3)
        self.rds.restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier="payload-src", TargetDBInstanceIdentifier="pitr-latest",
            UseLatestRestorableTime=True)
        d = self.wait_instance("pitr-latest")
        self.assertEqual(sql(d["Endpoint"]["Port"], "SELECT string_agg(name, ',' ORDER BY name) "
                                                     "FROM marks"), ["A,B"])

    def test_pitr_outside_the_window_is_refused(self):
        src = self.instance("payload-src")
        early = src["InstanceCreateTime"] - datetime.timedelta(hours=1)
        late = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        for when in (early, late):
            self.assertEqual(self.error(self.rds.restore_db_instance_to_point_in_time,
                                        SourceDBInstanceIdentifier="payload-src",
                                        TargetDBInstanceIdentifier="pitr-outside",
                                        RestoreTime=when), ("InvalidRestoreFault", 400))
        self.assertEqual(self.error(self.rds.restore_db_instance_to_point_in_time,
                                    SourceDBInstanceIdentifier="payload-src",
                                    TargetDBInstanceIdentifier="pitr-outside",
                                    RestoreTime=late, UseLatestRestorableTime=True),
                         ("InvalidParameterCombination", 400))
        self.assertEqual(self.error(self.rds.restore_db_instance_to_point_in_time,
                                    SourceDBInstanceIdentifier="nope",
                                    TargetDBInstanceIdentifier="pitr-outside",
                                    UseLatestRestorableTime=True), ("DBInstanceNotFound", 404))
        self.assertEqual(self.error(self.rds.describe_db_instances,
                                    DBInstanceIdentifier="pitr-outside"),
                         ("DBInstanceNotFound", 404))

    def test_copy_to_another_region_is_visible_only_there(self):
        self.rds.create_db_snapshot(DBSnapshotIdentifier="snap-copy-src",
                                    DBInstanceIdentifier="payload-src",
                                    Tags=[{"Key": "k", "Value": "v"}])
        src = self.wait_snapshot("snap-copy-src")
        before = self.fingerprint(self.port)
        t0 = time.time()
        c = self.rds_alt.copy_db_snapshot(
            SourceDBSnapshotIdentifier=src["DBSnapshotArn"], TargetDBSnapshotIdentifier="dr-copy",
            SourceRegion="eu-west-1", CopyTags=True)["DBSnapshot"]
        self.assertIn(c["Status"], ("pending", "copying"))
        copy = self.wait_snapshot("dr-copy", client=self.rds_alt)
        timing("copy", time.time() - t0)
        self.assertEqual(copy["DBSnapshotArn"],
                         "arn:aws:rds:eu-central-1:123456789012:snapshot:dr-copy")
        self.assertEqual(copy["SourceRegion"], "eu-west-1")
        self.assertEqual(copy["SourceDBSnapshotIdentifier"], src["DBSnapshotArn"])
        self.assertEqual(copy["TagList"], [{"Key": "k", "Value": "v"}])
        self.assertEqual(copy["AvailabilityZone"], "eu-central-1a")
        # the presigned URL botocore built from SourceRegion was accepted and SourceRegion
        # itself was not sent
        self.assertEqual(self.error(self.rds.describe_db_snapshots,
                                    DBSnapshotIdentifier="dr-copy"), ("DBSnapshotNotFound", 404))
        ids_alt = [s["DBSnapshotIdentifier"] for s in
                   self.rds_alt.describe_db_snapshots()["DBSnapshots"]]
        self.assertEqual(ids_alt, ["dr-copy"])
        # files really copied into the destination region's directory
        files = list((self.sim.state_dir / "rds" / ALT_REGION / "snapshots").glob(
            "dr-copy-*/data/PG_VERSION"))
        self.assertEqual(len(files), 1)
        # restore there: a real cluster with the same rows
        self.rds_alt.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="dr-db",
                                                          DBSnapshotIdentifier="dr-copy")
        d = self.wait_instance("dr-db", client=self.rds_alt)
        self.assertEqual(self.fingerprint(d["Endpoint"]["Port"]), before)
        self.assertEqual(self.error(self.rds.describe_db_instances, DBInstanceIdentifier="dr-db"),
                         ("DBInstanceNotFound", 404))
        # a second copy with the same target id, or from a missing source, fails
        self.assertEqual(self.error(self.rds_alt.copy_db_snapshot,
                                    SourceDBSnapshotIdentifier=src["DBSnapshotArn"],
                                    TargetDBSnapshotIdentifier="dr-copy"),
                         ("DBSnapshotAlreadyExists", 400))
        self.assertEqual(self.error(
            self.rds_alt.copy_db_snapshot,
            SourceDBSnapshotIdentifier="arn:aws:rds:eu-west-1:123456789012:snapshot:gone",
            TargetDBSnapshotIdentifier="dr-copy-2"), ("DBSnapshotNotFound", 404))
        self.rds_alt.delete_db_instance(DBInstanceIdentifier="dr-db", SkipFinalSnapshot=True)
        # encrypting copy: the key must live in the destination region
        key = self.sim.client("kms", region=ALT_REGION).create_key()["KeyMetadata"]["Arn"]
        enc = self.rds_alt.copy_db_snapshot(SourceDBSnapshotIdentifier=src["DBSnapshotArn"],
                                            TargetDBSnapshotIdentifier="dr-copy-enc",
                                            KmsKeyId=key)["DBSnapshot"]
        self.assertEqual((enc["Encrypted"], enc["KmsKeyId"]), (True, key))
        home_key = self.sim.client("kms").create_key()["KeyMetadata"]["Arn"]
        for bad in (home_key, "alias/no-such-key"):
            self.assertEqual(self.error(self.rds_alt.copy_db_snapshot,
                                        SourceDBSnapshotIdentifier=src["DBSnapshotArn"],
                                        TargetDBSnapshotIdentifier="dr-copy-bad", KmsKeyId=bad),
                             ("KMSKeyNotAccessibleFault", 400))
        self.wait_snapshot("dr-copy-enc", client=self.rds_alt)

    def test_held_or_modifying_instance_refuses_work(self):
        self.sim.control("POST", "/rds/instances/payload-src/hold", {"state": "modifying"})
        try:
            self.assertEqual(self.instance("payload-src")["DBInstanceStatus"], "modifying")
            self.assertEqual(self.error(self.rds.create_db_snapshot,
                                        DBSnapshotIdentifier="snap-held",
                                        DBInstanceIdentifier="payload-src"),
                             ("InvalidDBInstanceState", 400))
            self.assertEqual(self.error(self.rds.delete_db_instance,
                                        DBInstanceIdentifier="payload-src",
                                        SkipFinalSnapshot=True),
                             ("InvalidDBInstanceState", 400))
        finally:
            self.sim.control("DELETE", "/rds/hold?instance=payload-src")
        self.assertEqual(self.instance("payload-src")["DBInstanceStatus"], "available")
        m = self.rds.modify_db_instance(DBInstanceIdentifier="payload-src",
                                        BackupRetentionPeriod=7, ApplyImmediately=True)
        self.assertEqual(m["DBInstance"]["DBInstanceStatus"], "modifying")
        self.assertEqual(self.error(self.rds.create_db_snapshot,
                                    DBSnapshotIdentifier="snap-modifying",
                                    DBInstanceIdentifier="payload-src"),
                         ("InvalidDBInstanceState", 400))
        self.wait_instance("payload-src")

    def test_quota_of_manual_snapshots(self):
        used = self.sim.control("GET", "/rds/quota")["used"]
        self.sim.control("POST", "/rds/quota", {"manual_snapshots": used})
        try:
            self.assertEqual(self.error(self.rds.create_db_snapshot,
                                        DBSnapshotIdentifier="snap-over",
                                        DBInstanceIdentifier="payload-src"),
                             ("SnapshotQuotaExceeded", 400))
            self.assertEqual(self.error(self.rds.describe_db_snapshots,
                                        DBSnapshotIdentifier="snap-over"),
                             ("DBSnapshotNotFound", 404))
        finally:
            self.sim.control("POST", "/rds/quota", {"manual_snapshots": 100})
        self.assertEqual(self.sim.control("GET", "/rds/quota")["manual_snapshots"], 100)

    def test_tags_by_arn(self):
        arn = self.instance("payload-src")["DBInstanceArn"]
        self.rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "Owner", "Value": "ops"},
                                                              {"Key": "Tier", "Value": "1"}])
        self.rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "Tier", "Value": "2"}])
        tags = {t["Key"]: t["Value"] for t in
                self.rds.list_tags_for_resource(ResourceName=arn)["TagList"]}
        self.assertEqual(tags, {"Project": "legocity", "Owner": "ops", "Tier": "2"})
        self.rds.remove_tags_from_resource(ResourceName=arn, TagKeys=["Owner", "Tier"])
        self.assertEqual(self.rds.list_tags_for_resource(ResourceName=arn)["TagList"],
                         [{"Key": "Project", "Value": "legocity"}])
        self.assertEqual(self.error(self.rds.list_tags_for_resource,
                                    ResourceName="arn:aws:rds:eu-west-1:123456789012:db:gone"),
                         ("DBInstanceNotFound", 404))
        self.assertEqual(self.error(
            self.rds.list_tags_for_resource,
            ResourceName="arn:aws:rds:eu-west-1:123456789012:snapshot:gone"),
            ("DBSnapshotNotFound", 404))
        self.assertEqual(self.error(self.rds.list_tags_for_resource, ResourceName="not-an-arn"),
                         ("InvalidParameterValue", 400))
        self.assertEqual(self.error(self.rds.add_tags_to_resource, ResourceName=arn,
                                    Tags=[{"Key": "aws:x", "Value": "1"}]),
                         ("InvalidParameterValue", 400))

    def test_pagination_of_snapshots(self):
        self.rds.create_db_snapshot(DBSnapshotIdentifier="page-src",
                                    DBInstanceIdentifier="payload-src")
        src = self.wait_snapshot("page-src")
        for i in range(24):   # copies do not make the instance busy: run them together
            self.rds.copy_db_snapshot(SourceDBSnapshotIdentifier=src["DBSnapshotArn"],
                                      TargetDBSnapshotIdentifier="page-%02d" % i)
        wanted = {"page-%02d" % i for i in range(24)} | {"page-src"}
        p1 = self.rds.describe_db_snapshots(SnapshotType="manual", MaxRecords=20)
        self.assertEqual(len(p1["DBSnapshots"]), 20)
        self.assertIn("Marker", p1)
        seen = [s["DBSnapshotIdentifier"] for s in p1["DBSnapshots"]]
        marker = p1["Marker"]
        while marker:
            p = self.rds.describe_db_snapshots(SnapshotType="manual", MaxRecords=20,
                                               Marker=marker)
            seen += [s["DBSnapshotIdentifier"] for s in p["DBSnapshots"]]
            marker = p.get("Marker")
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(wanted <= set(seen))
        paged = []
        for page in self.rds.get_paginator("describe_db_snapshots").paginate(
                SnapshotType="manual", PaginationConfig={"PageSize": 20}):
            paged += [s["DBSnapshotIdentifier"] for s in page["DBSnapshots"]]
        self.assertEqual(sorted(paged), sorted(seen))
        filt = self.rds.describe_db_snapshots(
            Filters=[{"Name": "db-snapshot-id", "Values": ["page-03", "page-07"]}])
        self.assertEqual(sorted(s["DBSnapshotIdentifier"] for s in filt["DBSnapshots"]),
                         ["page-03", "page-07"])
        for bad in (19, 101):
            self.assertEqual(self.error(self.rds.describe_db_snapshots, MaxRecords=bad),
                             ("InvalidParameterValue", 400))
            self.assertEqual(self.error(self.rds.describe_db_instances, MaxRecords=bad),
                             ("InvalidParameterValue", 400))
        inst = self.rds.describe_db_instances(
            Filters=[{"Name": "db-instance-id", "Values": ["payload-src"]}])["DBInstances"]
        self.assertEqual([d["DBInstanceIdentifier"] for d in inst], ["payload-src"])
        for i in range(24):
            self.wait_snapshot("page-%02d" % i)
            self.rds.delete_db_snapshot(DBSnapshotIdentifier="page-%02d" % i)

    def test_corrupted_snapshot_fails_amcheck_after_restore(self):
        self.rds.create_db_snapshot(DBSnapshotIdentifier="snap-corrupt",
                                    DBInstanceIdentifier="payload-src")
        self.wait_snapshot("snap-corrupt")
        out = self.sim.control("POST", "/rds/snapshots/snap-corrupt/corrupt",
                               {"relation": "items_pkey"})
        self.assertEqual((out["db"], out["relation"]), ("app", "public.items_pkey"))
        self.rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="restored-corrupt",
                                                      DBSnapshotIdentifier="snap-corrupt")
        d = self.wait_instance("restored-corrupt")
        port = d["Endpoint"]["Port"]
        sql(port, "CREATE EXTENSION IF NOT EXISTS amcheck")
        rc, _out, err = sql(port, "SELECT bt_index_check('items_pkey')", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("item order invariant violated", err)
        sql(self.port, "CREATE EXTENSION IF NOT EXISTS amcheck")
        self.assertEqual(sql(self.port, "SELECT 'ok' FROM (SELECT bt_index_check('items_pkey')) s"),
                         ["ok"])
        status, body = self.sim.control("POST", "/rds/snapshots/snap-corrupt/corrupt",
                                        {"relation": "items"}, check=False)
        self.assertEqual(status, 409, body)


class RdsLifecycle(RdsBase):
    """Delete, final snapshots, and `lcsim down`/`up` with running clusters."""

    def test_delete_needs_a_final_snapshot_decision_then_removes_the_cluster(self):
        self.create("gone-db")
        self.assertEqual(self.error(self.rds.create_db_snapshot, DBSnapshotIdentifier="early",
                                    DBInstanceIdentifier="gone-db"),
                         ("InvalidDBInstanceState", 400))           # still creating
        d = self.wait_instance("gone-db")
        port = d["Endpoint"]["Port"]
        sql(port, "CREATE TABLE t (x int); INSERT INTO t VALUES (7);")
        self.assertEqual(self.error(self.rds.delete_db_instance, DBInstanceIdentifier="gone-db"),
                         ("InvalidParameterCombination", 400))
        self.assertEqual(self.error(self.rds.delete_db_instance, DBInstanceIdentifier="gone-db",
                                    SkipFinalSnapshot=True, FinalDBSnapshotIdentifier="f"),
                         ("InvalidParameterCombination", 400))
        r = self.rds.delete_db_instance(DBInstanceIdentifier="gone-db",
                                        FinalDBSnapshotIdentifier="gone-db-final")
        self.assertEqual(r["DBInstance"]["DBInstanceStatus"], "deleting")
        wait_for(lambda: self.rds.describe_db_instances(
            Filters=[{"Name": "db-instance-id", "Values": ["gone-db"]}])["DBInstances"] == [],
            "gone-db to disappear")
        self.assertEqual(self.error(self.rds.describe_db_instances,
                                    DBInstanceIdentifier="gone-db"), ("DBInstanceNotFound", 404))
        rc, _o, _e = sql(port, "SELECT 1", db="app", check=False)
        self.assertNotEqual(rc, 0)                       # the server is gone
        self.assertEqual(list((self.sim.state_dir / "rds" / "eu-west-1" / "clusters").glob(
            "gone-db-*")), [])
        final = self.wait_snapshot("gone-db-final")
        self.assertEqual(final["SnapshotType"], "manual")
        autos = self.rds.describe_db_snapshots(DBInstanceIdentifier="gone-db",
                                               SnapshotType="automated")["DBSnapshots"]
        self.assertEqual(autos, [])
        # the final snapshot holds the data
        self.rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="back-db",
                                                      DBSnapshotIdentifier="gone-db-final")
        d2 = self.wait_instance("back-db")
        self.assertEqual(sql(d2["Endpoint"]["Port"], "SELECT x FROM t"), ["7"])

    def test_global_hold_and_password_change_and_clock_offset_pitr(self):
        self.create("knob-db")
        d = self.wait_instance("knob-db")
        port = d["Endpoint"]["Port"]
        # ModifyDBInstance really changes the master password
        m = self.rds.modify_db_instance(DBInstanceIdentifier="knob-db",
                                        MasterUserPassword="Another-pass-2", ApplyImmediately=True)
        self.assertEqual(m["DBInstance"]["DBInstanceStatus"], "modifying")
        self.wait_instance("knob-db")
        self.assertEqual(sql(port, "SELECT 1", password="Another-pass-2"), ["1"])
        self.assertNotEqual(sql(port, "SELECT 1", check=False)[0], 0)
        # POST /holds keeps a snapshot 'creating' after its files are written
        self.sim.control("POST", "/holds", {"rds.snapshot": True})
        try:
            self.rds.create_db_snapshot(DBSnapshotIdentifier="held-snap",
                                        DBInstanceIdentifier="knob-db")
            time.sleep(1.5)
            s = self.rds.describe_db_snapshots(DBSnapshotIdentifier="held-snap")["DBSnapshots"]
            self.assertEqual(s[0]["Status"], "creating")
            self.assertEqual(self.instance("knob-db")["DBInstanceStatus"], "backing-up")
        finally:
            self.sim.control("POST", "/holds", {"rds.snapshot": False})
        self.wait_snapshot("held-snap")
        # world time one day ahead: times are reported in world time, and a RestoreTime in
        # world time still lands between the two writes
        self.sim.control("POST", "/clock", {"offset": 86400})
        try:
            pw = "Another-pass-2"
            sql(port, "CREATE TABLE marks (name text); INSERT INTO marks VALUES ('A')",
                password=pw)
            time.sleep(1.1)
            target = (datetime.datetime.now(datetime.timezone.utc)
                      + datetime.timedelta(days=1))
            time.sleep(1.1)
            sql(port, "INSERT INTO marks VALUES ('B')", password=pw)
            lrt = wait_for(lambda: (lambda t: t if t >= target else None)(
                self.instance("knob-db")["LatestRestorableTime"]), "LRT", 30, 0.3)
            self.assertGreater(lrt, datetime.datetime.now(datetime.timezone.utc)
                               + datetime.timedelta(hours=23))
            self.rds.restore_db_instance_to_point_in_time(
                SourceDBInstanceIdentifier="knob-db", TargetDBInstanceIdentifier="knob-pitr",
                RestoreTime=target)
            p = self.wait_instance("knob-pitr")
            self.assertEqual(sql(p["Endpoint"]["Port"], "SELECT string_agg(name, ',') FROM marks",
                                 password=pw), ["A"])
        finally:
            self.sim.control("DELETE", "/clock")

    def test_restart_keeps_instances_serving(self):
        self.create("keep-db")
        d = self.wait_instance("keep-db")
        sql(d["Endpoint"]["Port"], "CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2);")
        t0 = time.time()
        self.sim.restart()
        timing("restart", time.time() - t0)
        self.rds = self.sim.client("rds", retries={"max_attempts": 1})
        d2 = self.wait_instance("keep-db")
        self.assertEqual(d2["Endpoint"]["Port"], d["Endpoint"]["Port"])
        self.assertEqual(sql(d2["Endpoint"]["Port"], "SELECT sum(x) FROM t"), ["3"])


class RdsSeed(unittest.TestCase):
    """rds.seed in a world of its own (no server): the LegoCity Payload database."""

    @classmethod
    def setUpClass(cls):
        cls.root = pathlib.Path(tempfile.mkdtemp(prefix="lcsim-rds-seed-"))
        cls.world = core.World(cls.root)
        cls.ctx = cls.world.context("rds", "eu-west-1")
        t0 = time.time()
        cls.info = rdsmod.seed(cls.ctx, "legocity", {"payload_scale": 0.5})
        timing("seed", time.time() - t0)

    @classmethod
    def tearDownClass(cls):
        rdsmod.shutdown(cls.ctx)
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_seed_json_and_data(self):
        info = json.loads((self.root / "rds" / "seed.json").read_text())
        self.assertEqual(info, self.info)
        self.assertEqual((info["region"], info["instance"], info["host"], info["database"]),
                         ("eu-west-1", "legocity-payload-db", "127.0.0.1", "payload"))
        port, user, pw = info["port"], info["username"], info["password"]
        counts = sql(port, "SELECT (SELECT count(*) FROM users) || ',' || "
                           "(SELECT count(*) FROM pages) || ',' || (SELECT count(*) FROM media) "
                           "|| ',' || (SELECT count(*) FROM map_layers)",
                     db="payload", user=user, password=pw)
        want = rdsmod.seed_sizes({"payload_scale": 0.5})
        self.assertEqual(counts, ["%d,%d,%d,%d" % (want["users"], want["pages"], want["media"],
                                                   want["map_layers"])])
        total = sql(port, "SELECT sum(n_live_tup) FROM pg_stat_user_tables", db="payload",
                    user=user, password=pw)
        self.assertGreater(int(total[0]), 10000)
        ids = sql(port, "SELECT DISTINCT entity_id FROM map_layers WHERE entity_id LIKE "
                        "'%WeatherObserved%' ORDER BY 1 LIMIT 1", db="payload", user=user,
                  password=pw)
        self.assertEqual(ids, ["urn:ngsi-ld:WeatherObserved:lego-city-0001"])
        migrations = sql(port, "SELECT name || '@' || batch FROM payload_migrations ORDER BY id",
                         db="payload", user=user, password=pw)
        self.assertEqual(migrations[0], "20250114_093000_initial@1")
        self.assertGreaterEqual(len(migrations), 3)
        idx = sql(port, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'",
                  db="payload", user=user, password=pw)
        self.assertGreaterEqual(int(idx[0]), 20)

    def test_map_layers_reference_entities_of_the_broker_seed(self):
        from simlib import broker_seed
        counts = broker_seed.type_counts(20000)      # the broker seed's default size
        broker_ids = set()
        for etype in ("Streetlight", "WeatherObserved"):
            width = max(4, len(str(counts[etype])))
            broker_ids |= {broker_seed.eid(etype, n, width)
                           for n in range(1, counts[etype] + 1)}
        rows = sql(self.info["port"], "SELECT DISTINCT entity_id FROM map_layers",
                   db="payload", user=self.info["username"], password=self.info["password"])
        self.assertGreater(len(rows), 100)
        self.assertEqual(set(rows) - broker_ids, set())
        big = rdsmod.seed_sizes({"entities": 200000})
        self.assertEqual((big["streetlight_width"], big["weather_width"]), (5, 5))
        small = rdsmod.seed_sizes({"entities": 100})
        self.assertEqual((small["weather_entities"], small["streetlight_entities"]), (8, 30))

    def test_read_only_role_reads_but_cannot_write(self):
        port = self.info["port"]
        ro, ro_pw = self.info["readonly_username"], self.info["readonly_password"]
        self.assertEqual(sql(port, "SELECT count(*) > 0 FROM pages", db="payload", user=ro,
                             password=ro_pw), ["t"])
        rc, _out, err = sql(port, "INSERT INTO payload_migrations (name, batch) VALUES ('x', 9)",
                            db="payload", user=ro, password=ro_pw, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("permission denied", err)

    def test_seed_is_deterministic_and_published_to_ssm(self):
        digest = sql(self.info["port"], "SELECT md5(string_agg(slug || title, ',' ORDER BY id)) "
                                        "FROM pages", db="payload", user=self.info["username"],
                     password=self.info["password"])
        root2 = pathlib.Path(tempfile.mkdtemp(prefix="lcsim-rds-seed2-"))
        ctx2 = core.World(root2).context("rds", "eu-west-1")
        try:
            info2 = rdsmod.seed(ctx2, "legocity", {"payload_scale": 0.5})
            digest2 = sql(info2["port"], "SELECT md5(string_agg(slug || title, ',' ORDER BY id)) "
                                         "FROM pages", db="payload", user=info2["username"],
                          password=info2["password"])
            self.assertEqual(digest, digest2)
        finally:
            rdsmod.shutdown(ctx2)
            shutil.rmtree(root2, ignore_errors=True)
        from simlib import ssm
        sctx = self.world.context("ssm", "eu-west-1")
        got = ssm.get_parameter(sctx, {"Name": "/legocity/prod/payload/db-url",
                                       "WithDecryption": True}, ssm._store(sctx).read())
        self.assertEqual(got["Parameter"]["Value"], self.info["url"])
        self.assertEqual(got["Parameter"]["Type"], "SecureString")


if __name__ == "__main__":
    unittest.main()
