"""S3 conformance: every operation lcsim implements, through botocore and /usr/bin/aws."""

import base64
import contextlib
import hashlib
import json
import os
import tempfile
import time
import unittest
import zlib
from urllib.parse import quote

import botocore.exceptions

import simtest

MIB = 1 << 20
NORETRY = {"total_max_attempts": 1}
DEV, PROD, DR = "legocity-backups-dev", "legocity-backups-prod", "legocity-backups-dr"


def err(exc):
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


@contextlib.contextmanager
def extra_headers(client, op, headers):
    """Add raw headers to one operation (botocore 1.29 predates IfNoneMatch etc.)."""
    def add(request, **kwargs):
        for k, v in headers.items():
            request.headers[k] = v
    event = f"before-sign.s3.{op}"
    client.meta.events.register_first(event, add)
    try:
        yield
    finally:
        client.meta.events.unregister(event, add)


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


SIM = None


def setUpModule():
    global SIM
    # only this module's part of the LegoCity seed: buckets and keys (no PostgreSQL)
    SIM = simtest.Sim.start(seed="legocity", seed_services=["kms", "s3"])


def tearDownModule():
    if SIM:
        SIM.stop()


class S3Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = SIM
        cls.s3 = cls.sim.client("s3", retries=NORETRY)

    def setUp(self):
        self.sim.control("DELETE", "/faults")

    def raises(self, fn, code, status=None):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn()
        got = err(cm.exception)
        self.assertEqual(got[0], code, cm.exception.response)
        if status is not None:
            self.assertEqual(got[1], status)
        return cm.exception

    def bucket(self, name, region="eu-west-1", lock=False):
        c = self.sim.client("s3", region=region, retries=NORETRY)
        kw = {"Bucket": name}
        if region != "us-east-1":
            kw["CreateBucketConfiguration"] = {"LocationConstraint": region}
        if lock:
            kw["ObjectLockEnabledForBucket"] = True
        c.create_bucket(**kw)
        return name


class Buckets(S3Base):
    def test_seeded_buckets_and_regions(self):
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        for b in (DEV, PROD, DR):
            self.assertIn(b, names)
        self.assertEqual(self.s3.get_bucket_location(Bucket=DEV)["LocationConstraint"],
                         "eu-west-1")
        dr = self.sim.client("s3", region="eu-central-1", retries=NORETRY)
        self.assertEqual(dr.get_bucket_location(Bucket=DR)["LocationConstraint"], "eu-central-1")
        lock = self.s3.get_object_lock_configuration(Bucket=PROD)["ObjectLockConfiguration"]
        self.assertEqual(lock["ObjectLockEnabled"], "Enabled")
        self.raises(lambda: self.s3.get_object_lock_configuration(Bucket=DEV),
                    "ObjectLockConfigurationNotFoundError", 404)

    def test_create_head_delete(self):
        self.bucket("b-create")
        h = self.s3.head_bucket(Bucket="b-create")
        self.assertEqual(h["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"], "eu-west-1")
        self.raises(lambda: self.bucket("b-create"), "BucketAlreadyOwnedByYou", 409)
        self.s3.put_object(Bucket="b-create", Key="x", Body=b"1")
        self.raises(lambda: self.s3.delete_bucket(Bucket="b-create"), "BucketNotEmpty", 409)
        self.s3.delete_object(Bucket="b-create", Key="x")
        self.s3.delete_bucket(Bucket="b-create")
        self.raises(lambda: self.s3.head_bucket(Bucket="b-create"), "404", 404)
        self.raises(lambda: self.s3.list_objects_v2(Bucket="b-create"), "NoSuchBucket", 404)

    def test_bucket_names_and_location_rules(self):
        for bad in ("ab", "Upper", "-dash", "a..b", "192.168.1.1", "x" * 64):
            self.raises(lambda: self.s3.create_bucket(
                Bucket=bad, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}),
                "InvalidBucketName", 400)
        # an eu-west-1 endpoint refuses the (unspecified = us-east-1) location
        self.raises(lambda: self.s3.create_bucket(Bucket="no-location"),
                    "IllegalLocationConstraintException", 400)
        self.bucket("in-us-east-1", region="us-east-1")
        us = self.sim.client("s3", region="us-east-1", retries=NORETRY)
        self.assertIsNone(us.get_bucket_location(Bucket="in-us-east-1")["LocationConstraint"])

    def test_wrong_signing_region_is_refused(self):
        r = simtest.signed_request(self.sim, "GET", f"/{DR}?list-type=2", "s3",
                                   region="eu-west-1")
        self.assertEqual((r.status, r.error_code()), (400, "AuthorizationHeaderMalformed"))
        self.assertIn(b"<Region>eu-central-1</Region>", r.body)
        self.assertEqual(r.header("x-amz-bucket-region"), "eu-central-1")
        # botocore follows the hint and re-signs for eu-central-1
        self.s3.list_objects_v2(Bucket=DR)
        log = self.sim.requests(bucket=DR, operation="ListObjectsV2")
        self.assertEqual([(e["region"], e["status"]) for e in log[-2:]],
                         [("eu-west-1", 400), ("eu-central-1", 200)])

    def test_object_lock_bucket_created_by_client(self):
        self.bucket("locked-by-client", lock=True)
        cfg = self.s3.get_object_lock_configuration(Bucket="locked-by-client")
        self.assertEqual(cfg["ObjectLockConfiguration"]["ObjectLockEnabled"], "Enabled")
        self.s3.put_object_lock_configuration(
            Bucket="locked-by-client", ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}}})
        self.s3.put_object(Bucket="locked-by-client", Key="d", Body=b"x")
        r = self.s3.get_object_retention(Bucket="locked-by-client", Key="d")["Retention"]
        self.assertEqual(r["Mode"], "GOVERNANCE")
        self.assertAlmostEqual(r["RetainUntilDate"].timestamp(), time.time() + 2 * 86400,
                               delta=120)


class Objects(S3Base):
    def test_put_get_head_delete_with_metadata(self):
        data = b"hello lego city"
        r = self.s3.put_object(Bucket=DEV, Key="obj/a b+c:d~e.txt", Body=data,
                               ContentType="text/plain", Metadata={"run": "42", "Owner": "ci"},
                               CacheControl="no-cache")
        self.assertEqual(r["ETag"], f"\"{hashlib.md5(data).hexdigest()}\"")
        g = self.s3.get_object(Bucket=DEV, Key="obj/a b+c:d~e.txt")
        self.assertEqual(g["Body"].read(), data)
        self.assertEqual(g["ContentType"], "text/plain")
        self.assertEqual(g["Metadata"], {"run": "42", "owner": "ci"})
        self.assertEqual(g["ContentLength"], len(data))
        self.assertEqual(g["CacheControl"], "no-cache")
        h = self.s3.head_object(Bucket=DEV, Key="obj/a b+c:d~e.txt")
        self.assertEqual(h["ETag"], r["ETag"])
        self.assertEqual(h["ContentLength"], len(data))
        self.s3.delete_object(Bucket=DEV, Key="obj/a b+c:d~e.txt")
        self.raises(lambda: self.s3.get_object(Bucket=DEV, Key="obj/a b+c:d~e.txt"),
                    "NoSuchKey", 404)
        self.raises(lambda: self.s3.head_object(Bucket=DEV, Key="obj/a b+c:d~e.txt"), "404", 404)
        # deleting a missing key is a 204 too
        self.s3.delete_object(Bucket=DEV, Key="obj/never-there")

    def test_objects_are_stored_on_disk(self):
        data = os.urandom(4096)
        self.s3.put_object(Bucket=DEV, Key="disk/x", Body=data)
        found = [p for p in (self.sim.state_dir / "s3" / "data").iterdir()
                 if p.read_bytes() == data]
        self.assertEqual(len(found), 1)

    def test_empty_object_and_overwrite(self):
        self.s3.put_object(Bucket=DEV, Key="empty", Body=b"")
        g = self.s3.get_object(Bucket=DEV, Key="empty")
        self.assertEqual(g["Body"].read(), b"")
        self.assertEqual(g["ETag"], f"\"{hashlib.md5(b'').hexdigest()}\"")
        self.s3.put_object(Bucket=DEV, Key="empty", Body=b"now full")
        self.assertEqual(self.s3.get_object(Bucket=DEV, Key="empty")["Body"].read(), b"now full")

    def test_range_get(self):
        data = bytes(range(256)) * 4
        self.s3.put_object(Bucket=DEV, Key="range", Body=data)
        cases = {"bytes=0-9": (0, 9), "bytes=1000-": (1000, 1023), "bytes=-24": (1000, 1023),
                 "bytes=1020-5000": (1020, 1023), "bytes=-5000": (0, 1023)}
        for rng, (a, z) in cases.items():
            g = self.s3.get_object(Bucket=DEV, Key="range", Range=rng)
            self.assertEqual(g["ResponseMetadata"]["HTTPStatusCode"], 206, rng)
            self.assertEqual(g["ContentRange"], f"bytes {a}-{z}/1024", rng)
            self.assertEqual(g["Body"].read(), data[a:z + 1], rng)
        e = self.raises(lambda: self.s3.get_object(Bucket=DEV, Key="range", Range="bytes=1024-"),
                        "InvalidRange", 416)
        self.assertEqual(e.response["Error"]["ActualObjectSize"], "1024")
        self.raises(lambda: self.s3.get_object(Bucket=DEV, Key="range", Range="bytes=-0"),
                    "InvalidRange", 416)
        # an unparseable range is ignored: the whole object
        g = self.s3.get_object(Bucket=DEV, Key="range", Range="bytes=5-2")
        self.assertEqual(g["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_read_conditions(self):
        r = self.s3.put_object(Bucket=DEV, Key="cond-read", Body=b"v1")
        self.s3.get_object(Bucket=DEV, Key="cond-read", IfMatch=r["ETag"])
        self.raises(lambda: self.s3.get_object(Bucket=DEV, Key="cond-read", IfMatch="\"nope\""),
                    "PreconditionFailed", 412)
        self.raises(lambda: self.s3.get_object(Bucket=DEV, Key="cond-read",
                                               IfNoneMatch=r["ETag"]), "304", 304)

    def test_conditional_writes(self):
        s3 = self.s3
        s3.put_object(Bucket=DEV, Key="cond", Body=b"first")
        with extra_headers(s3, "PutObject", {"If-None-Match": "*"}):
            self.raises(lambda: s3.put_object(Bucket=DEV, Key="cond", Body=b"second"),
                        "PreconditionFailed", 412)
            s3.put_object(Bucket=DEV, Key="cond-new", Body=b"created")
        self.assertEqual(s3.get_object(Bucket=DEV, Key="cond")["Body"].read(), b"first")
        with extra_headers(s3, "PutObject", {"If-Match": "\"0123\""}):
            self.raises(lambda: s3.put_object(Bucket=DEV, Key="cond", Body=b"third"),
                        "PreconditionFailed", 412)
        etag = s3.head_object(Bucket=DEV, Key="cond")["ETag"]
        with extra_headers(s3, "PutObject", {"If-Match": etag}):
            s3.put_object(Bucket=DEV, Key="cond", Body=b"fourth")
        self.assertEqual(s3.get_object(Bucket=DEV, Key="cond")["Body"].read(), b"fourth")

    def test_content_md5_and_checksums(self):
        data = b"checksummed payload"
        self.s3.put_object(Bucket=DEV, Key="md5", Body=data, ContentMD5=md5_b64(data))
        self.raises(lambda: self.s3.put_object(Bucket=DEV, Key="md5", Body=data,
                                               ContentMD5=md5_b64(b"other")), "BadDigest", 400)
        self.raises(lambda: self.s3.put_object(Bucket=DEV, Key="md5", Body=data,
                                               ContentMD5="not-base64"), "InvalidDigest", 400)
        r = self.s3.put_object(Bucket=DEV, Key="sha", Body=data, ChecksumSHA256=sha256_b64(data))
        self.assertEqual(r["ChecksumSHA256"], sha256_b64(data))
        self.raises(lambda: self.s3.put_object(Bucket=DEV, Key="sha", Body=data,
                                               ChecksumSHA256=sha256_b64(b"x")), "BadDigest", 400)
        from awscrt import checksums as crt
        c32c = base64.b64encode(crt.crc32c(data).to_bytes(4, "big")).decode()
        r = self.s3.put_object(Bucket=DEV, Key="crc32c", Body=data, ChecksumAlgorithm="CRC32C")
        self.assertEqual(r["ChecksumCRC32C"], c32c)
        self.raises(lambda: self.s3.put_object(Bucket=DEV, Key="crc32c", Body=data,
                                               ChecksumCRC32C="AAAAAA=="), "BadDigest", 400)
        g = self.s3.get_object(Bucket=DEV, Key="crc32c", ChecksumMode="ENABLED")
        self.assertEqual(g["ChecksumCRC32C"], c32c)
        self.assertEqual(g["Body"].read(), data)
        h = self.s3.head_object(Bucket=DEV, Key="crc32c")
        self.assertNotIn("ChecksumCRC32C", h)      # only with checksum mode
        # the well-known vector from the reference
        r = self.s3.put_object(Bucket=DEV, Key="vec", Body=b"123456789",
                               ChecksumAlgorithm="CRC32")
        self.assertEqual(r["ChecksumCRC32"], "y/Q5Jg==")

    def test_sse_kms_stored_and_echoed(self):
        kms = self.sim.client("kms")
        arn = kms.describe_key(KeyId="alias/legocity-backups")["KeyMetadata"]["Arn"]
        data = b"secret backup"
        r = self.s3.put_object(Bucket=DEV, Key="kms", Body=data, ServerSideEncryption="aws:kms",
                               SSEKMSKeyId="alias/legocity-backups")
        self.assertEqual(r["ServerSideEncryption"], "aws:kms")
        self.assertEqual(r["SSEKMSKeyId"], arn)
        self.assertNotEqual(r["ETag"], f"\"{hashlib.md5(data).hexdigest()}\"")
        h = self.s3.head_object(Bucket=DEV, Key="kms")
        self.assertEqual((h["ServerSideEncryption"], h["SSEKMSKeyId"]), ("aws:kms", arn))
        self.assertEqual(self.s3.get_object(Bucket=DEV, Key="kms")["Body"].read(), data)
        self.raises(lambda: self.s3.put_object(Bucket=DEV, Key="kms2", Body=b"x",
                                               ServerSideEncryption="aws:kms",
                                               SSEKMSKeyId="alias/no-such-key"),
                    "KMS.NotFoundException", 400)
        r = self.s3.put_object(Bucket=DEV, Key="aes", Body=b"x", ServerSideEncryption="AES256")
        self.assertEqual(r["ServerSideEncryption"], "AES256")
        # the DR bucket lives in eu-central-1: the key must be a key of that region
        dr = self.sim.client("s3", region="eu-central-1", retries=NORETRY)
        dr_arn = self.sim.client("kms", region="eu-central-1").describe_key(
            KeyId="alias/legocity-backups")["KeyMetadata"]["Arn"]
        r = dr.put_object(Bucket=DR, Key="kms", Body=b"x", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId="alias/legocity-backups")
        self.assertEqual(r["SSEKMSKeyId"], dr_arn)
        self.raises(lambda: dr.put_object(Bucket=DR, Key="kms", Body=b"x",
                                          ServerSideEncryption="aws:kms", SSEKMSKeyId=arn),
                    "KMS.NotFoundException", 400)

    def test_tagging(self):
        self.s3.put_object(Bucket=DEV, Key="tagged", Body=b"x", Tagging="app=lego&tier=gold")
        tags = self.s3.get_object_tagging(Bucket=DEV, Key="tagged")["TagSet"]
        self.assertEqual({t["Key"]: t["Value"] for t in tags}, {"app": "lego", "tier": "gold"})
        self.assertEqual(self.s3.get_object(Bucket=DEV, Key="tagged")["TagCount"], 2)
        self.s3.put_object_tagging(Bucket=DEV, Key="tagged",
                                   Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
        self.assertEqual(self.s3.get_object_tagging(Bucket=DEV, Key="tagged")["TagSet"],
                         [{"Key": "k", "Value": "v"}])
        many = {"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}
        self.raises(lambda: self.s3.put_object_tagging(Bucket=DEV, Key="tagged", Tagging=many),
                    "BadRequest", 400)
        self.s3.delete_object_tagging(Bucket=DEV, Key="tagged")
        self.assertEqual(self.s3.get_object_tagging(Bucket=DEV, Key="tagged")["TagSet"], [])

    def test_copy_object(self):
        self.s3.put_object(Bucket=DEV, Key="copy-src", Body=b"copy me", Metadata={"a": "1"})
        self.s3.copy_object(Bucket=DEV, Key="copy-dst", CopySource={"Bucket": DEV,
                                                                    "Key": "copy-src"})
        g = self.s3.get_object(Bucket=DEV, Key="copy-dst")
        self.assertEqual((g["Body"].read(), g["Metadata"]), (b"copy me", {"a": "1"}))


class Listing(S3Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keys = sorted([f"l/{d}/{i:03d}" for d in ("a", "b", "c") for i in range(10)] +
                          ["l/top1", "l/top2", "l/sp ace", "l/plus+sign", "l/ünï", "other/x"])
        for k in cls.keys:
            cls.s3.put_object(Bucket=DEV, Key=k, Body=k.encode())

    def all_pages(self, **kw):
        keys, prefixes, pages = [], [], 0
        token = None
        while True:
            args = dict(kw)
            if token:
                args["ContinuationToken"] = token
            r = self.s3.list_objects_v2(Bucket=DEV, **args)
            pages += 1
            keys += [c["Key"] for c in r.get("Contents", [])]
            prefixes += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            self.assertEqual(r["KeyCount"], len(r.get("Contents", [])) +
                             len(r.get("CommonPrefixes", [])))
            if not r["IsTruncated"]:
                return keys, prefixes, pages
            token = r["NextContinuationToken"]

    def test_prefix_and_pagination(self):
        want = [k for k in self.keys if k.startswith("l/")]
        keys, prefixes, pages = self.all_pages(Prefix="l/", MaxKeys=7)
        self.assertEqual(keys, want)
        self.assertEqual(pages, -(-len(want) // 7))
        self.assertEqual(prefixes, [])

    def test_delimiter_common_prefixes_paged(self):
        keys, prefixes, _ = self.all_pages(Prefix="l/", Delimiter="/", MaxKeys=2)
        self.assertEqual(prefixes, ["l/a/", "l/b/", "l/c/"])
        self.assertEqual(keys, [k for k in self.keys if k.startswith("l/") and "/" not in k[2:]])
        _, top, _ = self.all_pages(Delimiter="/")
        self.assertIn("l/", top)
        self.assertIn("other/", top)

    def test_start_after_and_max_keys_cap(self):
        r = self.s3.list_objects_v2(Bucket=DEV, Prefix="l/", StartAfter="l/b/009")
        self.assertEqual(r["Contents"][0]["Key"], "l/c/000")
        r = self.s3.list_objects_v2(Bucket=DEV, Prefix="l/", MaxKeys=5000)
        self.assertEqual(r["MaxKeys"], 1000)

    def test_encoding_type_url(self):
        # botocore asks for encoding-type=url and decodes: special keys survive the trip
        keys, _, _ = self.all_pages(Prefix="l/")
        self.assertIn("l/sp ace", keys)
        self.assertIn("l/plus+sign", keys)
        self.assertIn("l/ünï", keys)
        r = simtest.signed_request(self.sim, "GET", f"/{DEV}?list-type=2&prefix=l%2Fsp&"
                                   "encoding-type=url", "s3")
        self.assertIn(b"<Key>l/sp+ace</Key>", r.body)
        r = simtest.signed_request(self.sim, "GET", f"/{DEV}?list-type=2&prefix=l%2Fplus", "s3")
        self.assertIn(b"<Key>l/plus+sign</Key>", r.body)
        r = simtest.signed_request(self.sim, "GET", f"/{DEV}?list-type=2&prefix=l%2Fplus&"
                                   "encoding-type=url", "s3")
        self.assertIn(b"<Key>l/plus%2Bsign</Key>", r.body)

    def test_list_objects_v1(self):
        r = self.s3.list_objects(Bucket=DEV, Prefix="l/a/", MaxKeys=3)
        self.assertEqual([c["Key"] for c in r["Contents"]], ["l/a/000", "l/a/001", "l/a/002"])
        self.assertTrue(r["IsTruncated"])

    def test_delete_objects_quiet_and_errors(self):
        for k in ("del/1", "del/2", "del/3"):
            self.s3.put_object(Bucket=DEV, Key=k, Body=b"x")
        r = self.s3.delete_objects(Bucket=DEV, Delete={"Objects": [{"Key": "del/1"},
                                                                   {"Key": "del/missing"}]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]), ["del/1", "del/missing"])
        r = self.s3.delete_objects(Bucket=DEV, Delete={"Objects": [{"Key": "del/2"}],
                                                       "Quiet": True})
        self.assertNotIn("Deleted", r)
        self.raises(lambda: self.s3.head_object(Bucket=DEV, Key="del/2"), "404")
        # per-key failures come back inside a 200: a locked object in the prod bucket
        until = time.time() + 3600
        self.s3.put_object(Bucket=PROD, Key="del/locked", Body=b"x", ObjectLockMode="COMPLIANCE",
                           ObjectLockRetainUntilDate=until, ContentMD5=md5_b64(b"x"))
        self.s3.put_object(Bucket=PROD, Key="del/free", Body=b"x")
        r = self.s3.delete_objects(Bucket=PROD, Delete={"Objects": [{"Key": "del/locked"},
                                                                    {"Key": "del/free"}]})
        self.assertEqual([d["Key"] for d in r["Deleted"]], ["del/free"])
        self.assertEqual([(e["Key"], e["Code"]) for e in r["Errors"]],
                         [("del/locked", "AccessDenied")])

    def test_delete_objects_needs_md5(self):
        body = b"<Delete><Object><Key>x</Key></Object></Delete>"
        r = simtest.signed_request(self.sim, "POST", f"/{DEV}?delete", "s3", body=body)
        self.assertEqual((r.status, r.error_code()), (400, "InvalidRequest"))
        r = simtest.signed_request(self.sim, "POST", f"/{DEV}?delete", "s3", body=body,
                                   headers={"Content-MD5": md5_b64(body + b" ")})
        self.assertEqual((r.status, r.error_code()), (400, "BadDigest"))


class Multipart(S3Base):
    def upload(self, key, parts, bucket=DEV, **create):
        up = self.s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
        done = []
        for i, data in enumerate(parts, 1):
            r = self.s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=i, Body=data,
                                    **({"ChecksumAlgorithm": create["ChecksumAlgorithm"]}
                                       if "ChecksumAlgorithm" in create else {}))
            p = {"PartNumber": i, "ETag": r["ETag"]}
            for k in ("ChecksumSHA256", "ChecksumCRC32C", "ChecksumCRC32"):
                if k in r:
                    p[k] = r[k]
            done.append(p)
        return up, done

    def test_multipart_roundtrip_and_etag(self):
        parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"tail"]
        up, done = self.upload("mp/obj", parts)
        self.assertEqual([p["ETag"] for p in done],
                         [f"\"{hashlib.md5(p).hexdigest()}\"" for p in parts])
        lp = self.s3.list_parts(Bucket=DEV, Key="mp/obj", UploadId=up)
        self.assertEqual([(p["PartNumber"], p["Size"]) for p in lp["Parts"]],
                         [(1, 5 * MIB), (2, 5 * MIB), (3, 4)])
        lp = self.s3.list_parts(Bucket=DEV, Key="mp/obj", UploadId=up, MaxParts=2)
        self.assertTrue(lp["IsTruncated"])
        self.assertEqual(lp["NextPartNumberMarker"], 2)
        ups = self.s3.list_multipart_uploads(Bucket=DEV, Prefix="mp/")["Uploads"]
        self.assertIn(up, [u["UploadId"] for u in ups])
        ctl = self.sim.control("GET", "/s3/multipart")["uploads"]
        self.assertIn((up, 3), [(u["upload_id"], u["parts"]) for u in ctl])
        r = self.s3.complete_multipart_upload(Bucket=DEV, Key="mp/obj", UploadId=up,
                                              MultipartUpload={"Parts": done})
        want = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
        self.assertEqual(r["ETag"], f"\"{want}-3\"")
        g = self.s3.get_object(Bucket=DEV, Key="mp/obj")
        self.assertEqual(g["Body"].read(), b"".join(parts))
        self.assertEqual(g["ETag"], r["ETag"])
        p2 = self.s3.get_object(Bucket=DEV, Key="mp/obj", PartNumber=2)
        self.assertEqual(p2["Body"].read(), parts[1])
        self.assertEqual(p2["PartsCount"], 3)
        self.assertNotIn(up, [u["upload_id"] for u in
                              self.sim.control("GET", "/s3/multipart")["uploads"]])
        self.raises(lambda: self.s3.list_parts(Bucket=DEV, Key="mp/obj", UploadId=up),
                    "NoSuchUpload", 404)

    def test_multipart_rules(self):
        up, done = self.upload("mp/rules", [b"a" * 1024, b"b" * 1024])
        self.raises(lambda: self.s3.complete_multipart_upload(
            Bucket=DEV, Key="mp/rules", UploadId=up, MultipartUpload={"Parts": done}),
            "EntityTooSmall", 400)
        bad = [dict(done[0]), dict(done[1], ETag="\"00000000000000000000000000000000\"")]
        self.raises(lambda: self.s3.complete_multipart_upload(
            Bucket=DEV, Key="mp/rules", UploadId=up, MultipartUpload={"Parts": bad}),
            "InvalidPart", 400)
        self.raises(lambda: self.s3.complete_multipart_upload(
            Bucket=DEV, Key="mp/rules", UploadId=up,
            MultipartUpload={"Parts": [done[1], done[0]]}), "InvalidPartOrder", 400)
        self.raises(lambda: self.s3.complete_multipart_upload(
            Bucket=DEV, Key="mp/rules", UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": done[0]["ETag"]}]}),
            "InvalidPart", 400)
        self.raises(lambda: self.s3.upload_part(Bucket=DEV, Key="mp/rules", UploadId=up,
                                                PartNumber=10001, Body=b"x"),
                    "InvalidArgument", 400)
        # a single small part is a valid (last) part
        r = self.s3.complete_multipart_upload(Bucket=DEV, Key="mp/rules", UploadId=up,
                                              MultipartUpload={"Parts": [done[0]]})
        self.assertTrue(r["ETag"].endswith("-1\""))
        self.assertEqual(self.s3.get_object(Bucket=DEV, Key="mp/rules")["Body"].read(),
                         b"a" * 1024)

    def test_abort_and_no_such_upload(self):
        up, done = self.upload("mp/abort", [b"x"])
        self.s3.abort_multipart_upload(Bucket=DEV, Key="mp/abort", UploadId=up)
        self.raises(lambda: self.s3.upload_part(Bucket=DEV, Key="mp/abort", UploadId=up,
                                                PartNumber=1, Body=b"x"), "NoSuchUpload", 404)
        self.raises(lambda: self.s3.abort_multipart_upload(Bucket=DEV, Key="mp/abort",
                                                           UploadId=up), "NoSuchUpload", 404)
        self.raises(lambda: self.s3.complete_multipart_upload(
            Bucket=DEV, Key="mp/abort", UploadId="bogus", MultipartUpload={"Parts": done}),
            "NoSuchUpload", 404)

    def test_list_multipart_uploads_paged(self):
        ups = [self.s3.create_multipart_upload(Bucket=DEV, Key=k)["UploadId"]
               for k in ("lmu/a", "lmu/b", "lmu/b", "lmu/d/1", "lmu/d/2")]
        seen, kw = [], {"Bucket": DEV, "Prefix": "lmu/", "MaxUploads": 2}
        while True:
            r = self.s3.list_multipart_uploads(**kw)
            seen += [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
            if not r["IsTruncated"]:
                break
            kw.update(KeyMarker=r["NextKeyMarker"], UploadIdMarker=r["NextUploadIdMarker"])
        self.assertEqual(sorted(seen), sorted(zip(("lmu/a", "lmu/b", "lmu/b", "lmu/d/1",
                                                   "lmu/d/2"), ups)))
        r = self.s3.list_multipart_uploads(Bucket=DEV, Prefix="lmu/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["lmu/d/"])
        self.assertEqual([u["Key"] for u in r["Uploads"]], ["lmu/a", "lmu/b", "lmu/b"])
        for k, u in seen:
            self.s3.abort_multipart_upload(Bucket=DEV, Key=k, UploadId=u)
        self.assertNotIn("Uploads", self.s3.list_multipart_uploads(Bucket=DEV, Prefix="lmu/"))

    def test_replacing_a_part(self):
        up = self.s3.create_multipart_upload(Bucket=DEV, Key="mp/replace")["UploadId"]
        self.s3.upload_part(Bucket=DEV, Key="mp/replace", UploadId=up, PartNumber=1, Body=b"old")
        r = self.s3.upload_part(Bucket=DEV, Key="mp/replace", UploadId=up, PartNumber=1,
                                Body=b"new")
        self.s3.complete_multipart_upload(Bucket=DEV, Key="mp/replace", UploadId=up,
                                          MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                      "ETag": r["ETag"]}]})
        self.assertEqual(self.s3.get_object(Bucket=DEV, Key="mp/replace")["Body"].read(), b"new")

    def test_composite_checksum(self):
        parts = [os.urandom(5 * MIB), b"last part"]
        up, done = self.upload("mp/sha", parts, ChecksumAlgorithm="SHA256")
        self.assertEqual([p["ChecksumSHA256"] for p in done], [sha256_b64(p) for p in parts])
        r = self.s3.complete_multipart_upload(Bucket=DEV, Key="mp/sha", UploadId=up,
                                              MultipartUpload={"Parts": done})
        want = base64.b64encode(hashlib.sha256(b"".join(
            hashlib.sha256(p).digest() for p in parts)).digest()).decode() + "-2"
        self.assertEqual(r["ChecksumSHA256"], want)
        g = self.s3.head_object(Bucket=DEV, Key="mp/sha", ChecksumMode="ENABLED")
        self.assertEqual(g["ChecksumSHA256"], want)
        # a part whose checksum does not match what Complete lists
        up, done = self.upload("mp/sha2", [b"p1"], ChecksumAlgorithm="SHA256")
        done[0]["ChecksumSHA256"] = sha256_b64(b"other")
        self.raises(lambda: self.s3.complete_multipart_upload(
            Bucket=DEV, Key="mp/sha2", UploadId=up, MultipartUpload={"Parts": done}),
            "InvalidPart", 400)

    def test_conditional_complete(self):
        self.s3.put_object(Bucket=DEV, Key="mp/cond", Body=b"exists")
        up, done = self.upload("mp/cond", [b"new"])
        with extra_headers(self.s3, "CompleteMultipartUpload", {"If-None-Match": "*"}):
            self.raises(lambda: self.s3.complete_multipart_upload(
                Bucket=DEV, Key="mp/cond", UploadId=up, MultipartUpload={"Parts": done}),
                "PreconditionFailed", 412)
        # the upload stays open after a failed precondition
        self.s3.list_parts(Bucket=DEV, Key="mp/cond", UploadId=up)
        etag = self.s3.head_object(Bucket=DEV, Key="mp/cond")["ETag"]
        with extra_headers(self.s3, "CompleteMultipartUpload", {"If-Match": etag}):
            self.s3.complete_multipart_upload(Bucket=DEV, Key="mp/cond", UploadId=up,
                                              MultipartUpload={"Parts": done})
        self.assertEqual(self.s3.get_object(Bucket=DEV, Key="mp/cond")["Body"].read(), b"new")

    def test_sse_and_lock_on_create_multipart(self):
        until = time.time() + 7200
        up, done = self.upload("mp/locked", [b"x"], bucket=PROD, ServerSideEncryption="aws:kms",
                               SSEKMSKeyId="alias/legocity-backups", ObjectLockMode="GOVERNANCE",
                               ObjectLockRetainUntilDate=until)
        r = self.s3.complete_multipart_upload(Bucket=PROD, Key="mp/locked", UploadId=up,
                                              MultipartUpload={"Parts": done})
        self.assertEqual(r["ServerSideEncryption"], "aws:kms")
        ret = self.s3.get_object_retention(Bucket=PROD, Key="mp/locked")["Retention"]
        self.assertEqual(ret["Mode"], "GOVERNANCE")
        self.assertAlmostEqual(ret["RetainUntilDate"].timestamp(), until, delta=1)

    def test_fault_200_with_error_on_complete(self):
        up, done = self.upload("mp/200err", [b"x"])
        self.sim.control("POST", "/faults", {"operation": "CompleteMultipartUpload",
                                             "status": 200, "code": "InternalError",
                                             "message": "We encountered an internal error.",
                                             "times": 1})
        r = simtest.signed_request(
            self.sim, "POST", f"/{DEV}/mp/200err?uploadId={quote(up, safe='')}", "s3",
            body=(f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"
                  f"{done[0]['ETag']}</ETag></Part></CompleteMultipartUpload>").encode())
        self.assertEqual(r.status, 200)
        self.assertEqual(r.error_code(), "InternalError")
        self.assertIn(b"<Error>", r.body)
        # botocore sees the 200-with-Error as a failure and retries
        retrying = self.sim.client("s3", retries={"max_attempts": 3, "mode": "standard"})
        self.sim.control("POST", "/faults", {"operation": "CompleteMultipartUpload",
                                             "status": 200, "code": "InternalError",
                                             "times": 1})
        retrying.complete_multipart_upload(Bucket=DEV, Key="mp/200err", UploadId=up,
                                           MultipartUpload={"Parts": done})
        log = self.sim.requests(operation="CompleteMultipartUpload", upload_id=up)
        self.assertEqual([(e["status"], e["error"]) for e in log[-2:]],
                         [(200, "InternalError"), (200, None)])


class ObjectLock(S3Base):
    def put_locked(self, key, mode, secs):
        until = time.time() + secs
        self.s3.put_object(Bucket=PROD, Key=key, Body=b"locked", ObjectLockMode=mode,
                           ObjectLockRetainUntilDate=until, ChecksumAlgorithm="SHA256")
        return until

    def test_retention_roundtrip_and_delete_refused(self):
        until = self.put_locked("lock/c", "COMPLIANCE", 3600)
        r = self.s3.get_object_retention(Bucket=PROD, Key="lock/c")["Retention"]
        self.assertEqual(r["Mode"], "COMPLIANCE")
        self.assertAlmostEqual(r["RetainUntilDate"].timestamp(), until, delta=1)
        h = self.s3.head_object(Bucket=PROD, Key="lock/c")
        self.assertEqual(h["ObjectLockMode"], "COMPLIANCE")
        self.raises(lambda: self.s3.delete_object(Bucket=PROD, Key="lock/c"), "AccessDenied", 403)
        self.raises(lambda: self.s3.delete_object(Bucket=PROD, Key="lock/c",
                                                  BypassGovernanceRetention=True),
                    "AccessDenied", 403)
        # shortening a COMPLIANCE lock is refused, extending is fine
        self.raises(lambda: self.s3.put_object_retention(
            Bucket=PROD, Key="lock/c", Retention={"Mode": "COMPLIANCE",
                                                  "RetainUntilDate": until - 60}),
            "AccessDenied", 403)
        self.s3.put_object_retention(Bucket=PROD, Key="lock/c", Retention={
            "Mode": "COMPLIANCE", "RetainUntilDate": until + 60})
        # once the world clock passes retain-until, the delete goes through
        self.sim.control("POST", "/clock", {"offset": 7200})
        try:
            self.s3.delete_object(Bucket=PROD, Key="lock/c")
        finally:
            self.sim.control("DELETE", "/clock")
        self.raises(lambda: self.s3.head_object(Bucket=PROD, Key="lock/c"), "404")

    def test_governance_bypass(self):
        until = self.put_locked("lock/g", "GOVERNANCE", 3600)
        self.raises(lambda: self.s3.delete_object(Bucket=PROD, Key="lock/g"), "AccessDenied", 403)
        self.raises(lambda: self.s3.put_object_retention(
            Bucket=PROD, Key="lock/g", Retention={"Mode": "GOVERNANCE",
                                                  "RetainUntilDate": until - 600}),
            "AccessDenied", 403)
        self.s3.put_object_retention(Bucket=PROD, Key="lock/g", BypassGovernanceRetention=True,
                                     Retention={"Mode": "GOVERNANCE",
                                                "RetainUntilDate": until - 600})
        self.s3.delete_object(Bucket=PROD, Key="lock/g", BypassGovernanceRetention=True)

    def test_lock_rules(self):
        # botocore adds Content-MD5 by itself; a client that sends neither it nor a checksum
        r = simtest.signed_request(self.sim, "PUT", f"/{PROD}/lock/nomd5", "s3", body=b"x",
                                   headers={"x-amz-object-lock-mode": "GOVERNANCE",
                                            "x-amz-object-lock-retain-until-date":
                                            "2099-01-01T00:00:00Z"})
        self.assertEqual((r.status, r.error_code()), (400, "InvalidRequest"))
        self.assertIn(b"Content-MD5", r.body)
        self.raises(lambda: self.s3.put_object(Bucket=DEV, Key="lock/nolock", Body=b"x",
                                               ObjectLockMode="GOVERNANCE",
                                               ObjectLockRetainUntilDate=time.time() + 60,
                                               ContentMD5=md5_b64(b"x")),
                    "InvalidRequest", 400)
        self.raises(lambda: self.s3.put_object(Bucket=PROD, Key="lock/past", Body=b"x",
                                               ObjectLockMode="GOVERNANCE",
                                               ObjectLockRetainUntilDate=time.time() - 60,
                                               ContentMD5=md5_b64(b"x")),
                    "InvalidArgument", 400)
        self.s3.put_object(Bucket=PROD, Key="lock/none", Body=b"x")
        self.raises(lambda: self.s3.get_object_retention(Bucket=PROD, Key="lock/none"),
                    "NoSuchObjectLockConfiguration", 404)
        self.raises(lambda: self.s3.get_object_retention(Bucket=DEV, Key="lock/none"),
                    "InvalidRequest", 400)

    def test_legal_hold(self):
        self.s3.put_object(Bucket=PROD, Key="lock/hold", Body=b"x")
        self.s3.put_object_legal_hold(Bucket=PROD, Key="lock/hold", LegalHold={"Status": "ON"})
        self.assertEqual(self.s3.get_object_legal_hold(Bucket=PROD,
                                                       Key="lock/hold")["LegalHold"]["Status"],
                         "ON")
        self.raises(lambda: self.s3.delete_object(Bucket=PROD, Key="lock/hold"),
                    "AccessDenied", 403)
        self.s3.put_object_legal_hold(Bucket=PROD, Key="lock/hold", LegalHold={"Status": "OFF"})
        self.s3.delete_object(Bucket=PROD, Key="lock/hold")


class Cli(S3Base):
    """The AWS CLI (its own bundled botocore) against the sim."""

    def cli(self, *args, region=None):
        rc, out, errtext = simtest.aws_cli(self.sim, *args, region=region)
        self.assertEqual(rc, 0, f"aws {' '.join(map(str, args))}: {errtext}")
        return out

    def test_cp_20mib_is_multipart_and_roundtrips(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "big.bin")
            data = os.urandom(20 * MIB)
            with open(src, "wb") as f:
                f.write(data)
            since = self.sim.requests()[-1]["seq"]
            self.cli("s3", "cp", src, f"s3://{DEV}/cli/big.bin")
            ops = [e["operation"] for e in self.sim.requests(since=since, key="cli/big.bin")]
            self.assertIn("CreateMultipartUpload", ops)
            self.assertGreaterEqual(ops.count("UploadPart"), 2)
            self.assertIn("CompleteMultipartUpload", ops)
            head = json.loads(self.cli("s3api", "head-object", "--bucket", DEV, "--key",
                                       "cli/big.bin"))
            self.assertEqual(head["ContentLength"], 20 * MIB)
            self.assertRegex(head["ETag"], r'^"[0-9a-f]{32}-\d+"$')
            dst = os.path.join(d, "back.bin")
            self.cli("s3", "cp", f"s3://{DEV}/cli/big.bin", dst)
            with open(dst, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).digest(),
                                 hashlib.sha256(data).digest())

    def test_ls_and_s3api(self):
        self.s3.put_object(Bucket=DEV, Key="cli/ls/one.txt", Body=b"1")
        self.s3.put_object(Bucket=DEV, Key="cli/ls/sub/two.txt", Body=b"22")
        out = self.cli("s3", "ls")
        for b in (DEV, PROD, DR):
            self.assertIn(b, out)
        out = self.cli("s3", "ls", f"s3://{DEV}/cli/ls/")
        self.assertIn("PRE sub/", out)
        self.assertIn("one.txt", out)
        out = self.cli("s3", "ls", "--recursive", f"s3://{DEV}/cli/ls/")
        self.assertIn("cli/ls/sub/two.txt", out)
        lst = json.loads(self.cli("s3api", "list-objects-v2", "--bucket", DEV, "--prefix",
                                  "cli/ls/"))
        self.assertEqual([c["Key"] for c in lst["Contents"]],
                         ["cli/ls/one.txt", "cli/ls/sub/two.txt"])
        self.cli("s3", "rm", f"s3://{DEV}/cli/ls/one.txt")
        self.raises(lambda: self.s3.head_object(Bucket=DEV, Key="cli/ls/one.txt"), "404")

    def test_cli_dr_region_and_lock(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"dr copy")
            f.flush()
            self.cli("s3", "cp", f.name, f"s3://{DR}/cli/dr.txt", region="eu-central-1")
        out = self.cli("s3api", "get-object-lock-configuration", "--bucket", PROD)
        self.assertEqual(json.loads(out)["ObjectLockConfiguration"]["ObjectLockEnabled"],
                         "Enabled")
        dr = self.sim.client("s3", region="eu-central-1")
        self.assertEqual(dr.get_object(Bucket=DR, Key="cli/dr.txt")["Body"].read(), b"dr copy")

    def test_cli_reports_errors(self):
        rc, out, errtext = simtest.aws_cli(self.sim, "s3api", "head-object", "--bucket", DEV,
                                           "--key", "cli/missing")
        self.assertNotEqual(rc, 0)
        self.assertIn("404", errtext)


class Corruption(S3Base):
    def test_control_corrupt_flips_a_byte(self):
        data = b"A" * 100
        self.s3.put_object(Bucket=DEV, Key="corrupt/me", Body=data)
        etag = self.s3.head_object(Bucket=DEV, Key="corrupt/me")["ETag"]
        self.sim.control("POST", "/s3/corrupt", {"bucket": DEV, "key": "corrupt/me",
                                                 "offset": 10})
        g = self.s3.get_object(Bucket=DEV, Key="corrupt/me")
        got = g["Body"].read()
        self.assertEqual(g["ETag"], etag)
        self.assertNotEqual(got, data)
        self.assertEqual(got[:10] + got[11:], data[:10] + data[11:])
        objs = self.sim.control("GET", f"/s3/objects?bucket={DEV}&prefix=corrupt/")["objects"]
        self.assertEqual([o["key"] for o in objs], ["corrupt/me"])


class Crc(unittest.TestCase):
    """simlib.checksums against the reference vectors (no sim needed)."""

    def test_vectors(self):
        from simlib import checksums
        self.assertEqual(checksums.of("CRC32C", b"123456789"), "4waSgw==")
        self.assertEqual(checksums.of("CRC32", b"123456789"), "y/Q5Jg==")
        self.assertEqual(checksums.of("SHA256", b""),
                         "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        self.assertEqual(checksums.of("CRC64NVME", b"123456789"),
                         base64.b64encode(bytes.fromhex("ae8b14860a799888")).decode())
        self.assertEqual(checksums._crc32c_py(b"123456789"), 0xE3069283)
        c = checksums.Checksum("CRC32C")
        for i in range(0, 10):
            c.update(b"123456789"[i:i + 1])
        self.assertEqual(c.b64(), "4waSgw==")
        self.assertEqual(checksums.of("CRC32", b"x" * 1000),
                         base64.b64encode(zlib.crc32(b"x" * 1000).to_bytes(4, "big")).decode())


if __name__ == "__main__":
    unittest.main()
