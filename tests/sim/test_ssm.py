"""SSM Parameter Store conformance: botocore and /usr/bin/aws against simlib/ssm.py."""

import json
import pathlib
import sys
import tempfile
import unittest

from botocore.exceptions import ClientError

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import simtest  # noqa: E402


def _all_pages(fn, **kw):
    """Every page of a NextToken listing: (items, pages)."""
    pages, items = [], []
    while True:
        r = fn(**kw)
        pages.append(r["Parameters"])
        items += r["Parameters"]
        if not r.get("NextToken"):
            return items, pages
        kw["NextToken"] = r["NextToken"]


SIM = None


def setUpModule():
    # The full LegoCity seed: the SSM seed meets the RDS seed (db-url) and the broker (url).
    global SIM
    SIM = simtest.Sim.start(seed="legocity")


def tearDownModule():
    SIM.stop()


class SsmBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = SIM
        cls.ssm = SIM.client("ssm")

    def err(self, code, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code,
                         cm.exception.response["Error"])
        return cm.exception


class PutGet(SsmBase):
    def test_versions_and_overwrite(self):
        r = self.ssm.put_parameter(Name="/t/pg/a", Value="one", Type="String")
        self.assertEqual((r["Version"], r["Tier"]), (1, "Standard"))
        p1 = self.ssm.get_parameter(Name="/t/pg/a")["Parameter"]
        self.err("ParameterAlreadyExists", self.ssm.put_parameter, Name="/t/pg/a", Value="x",
                 Type="String")
        r = self.ssm.put_parameter(Name="/t/pg/a", Value="two", Overwrite=True)
        self.assertEqual(r["Version"], 2)
        p2 = self.ssm.get_parameter(Name="/t/pg/a")["Parameter"]
        self.assertEqual((p2["Value"], p2["Version"], p2["Type"]), ("two", 2, "String"))
        self.assertGreaterEqual(p2["LastModifiedDate"], p1["LastModifiedDate"])
        self.assertEqual(p2["ARN"], "arn:aws:ssm:eu-west-1:123456789012:parameter/t/pg/a")
        old = self.ssm.get_parameter(Name="/t/pg/a:1")["Parameter"]
        self.assertEqual((old["Value"], old["Selector"]), ("one", ":1"))
        self.err("ParameterVersionNotFound", self.ssm.get_parameter, Name="/t/pg/a:9")
        self.err("ParameterNotFound", self.ssm.get_parameter, Name="/t/pg/missing")

    def test_type_rules(self):
        self.err("ValidationException", self.ssm.put_parameter, Name="/t/pg/notype", Value="v")
        self.ssm.put_parameter(Name="/t/pg/typed", Value="v", Type="String")
        self.err("HierarchyTypeMismatchException", self.ssm.put_parameter, Name="/t/pg/typed",
                 Value="v", Type="StringList", Overwrite=True)
        self.err("ValidationException", self.ssm.put_parameter, Name="/t/pg/keyed",
                 Value="v", Type="String", KeyId="alias/aws/ssm")

    def test_tags_and_overwrite_refused(self):
        self.ssm.put_parameter(Name="/t/pg/tagged", Value="v", Type="String",
                               Tags=[{"Key": "team", "Value": "city"}])
        e = self.err("ValidationException", self.ssm.put_parameter, Name="/t/pg/tagged",
                     Value="w", Type="String", Overwrite=True,
                     Tags=[{"Key": "team", "Value": "other"}])
        self.assertIn("tags and overwrite", e.response["Error"]["Message"])
        # the refused call changed nothing, also not on a brand new name
        self.assertEqual(self.ssm.get_parameter(Name="/t/pg/tagged")["Parameter"]["Value"], "v")
        self.err("ValidationException", self.ssm.put_parameter, Name="/t/pg/fresh",
                 Value="w", Type="String", Overwrite=True, Tags=[{"Key": "a", "Value": "b"}])
        self.err("ParameterNotFound", self.ssm.get_parameter, Name="/t/pg/fresh")
        # the documented restore path: overwrite without tags, then AddTagsToResource
        self.ssm.put_parameter(Name="/t/pg/tagged", Value="w", Overwrite=True)
        self.ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/t/pg/tagged",
                                      Tags=[{"Key": "team", "Value": "other"},
                                            {"Key": "tier", "Value": "gold"}])
        tags = self.ssm.list_tags_for_resource(ResourceType="Parameter",
                                               ResourceId="/t/pg/tagged")["TagList"]
        self.assertEqual({t["Key"]: t["Value"] for t in tags}, {"team": "other", "tier": "gold"})
        self.ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/t/pg/tagged",
                                           TagKeys=["tier"])
        tags = self.ssm.list_tags_for_resource(ResourceType="Parameter",
                                               ResourceId="/t/pg/tagged")["TagList"]
        self.assertEqual(tags, [{"Key": "team", "Value": "other"}])
        self.err("InvalidResourceId", self.ssm.list_tags_for_resource,
                 ResourceType="Parameter", ResourceId="/t/pg/nothere")
        self.err("InvalidResourceType", self.ssm.list_tags_for_resource,
                 ResourceType="Bucket", ResourceId="/t/pg/tagged")
        self.err("TooManyTagsError", self.ssm.add_tags_to_resource, ResourceType="Parameter",
                 ResourceId="/t/pg/tagged",
                 Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])

    def test_string_list(self):
        self.ssm.put_parameter(Name="/t/pg/list", Value="a, b,c", Type="StringList")
        p = self.ssm.get_parameter(Name="/t/pg/list")["Parameter"]
        self.assertEqual((p["Type"], p["Value"]), ("StringList", "a,b,c"))

    def test_names(self):
        for bad in ("/aws/x", "ssm-thing", "/SSM/x", "/a//b", "/a b/c", "a/b", "/a/b/"):
            self.err("ValidationException", self.ssm.put_parameter, Name=bad, Value="v",
                     Type="String")
        deep = "/" + "/".join(f"l{i}" for i in range(16))
        self.err("HierarchyLevelLimitExceededException", self.ssm.put_parameter, Name=deep,
                 Value="v", Type="String")
        ok = "/" + "/".join(f"l{i}" for i in range(15))
        self.assertEqual(self.ssm.put_parameter(Name=ok, Value="v", Type="String")["Version"], 1)

    def test_tiers_and_sizes(self):
        self.err("ValidationException", self.ssm.put_parameter, Name="/t/tier/big",
                 Value="x" * 4097, Type="String")
        self.assertEqual(self.ssm.put_parameter(Name="/t/tier/std", Value="x" * 4096,
                                                Type="String")["Tier"], "Standard")
        r = self.ssm.put_parameter(Name="/t/tier/adv", Value="x" * 8000, Type="String",
                                   Tier="Advanced")
        self.assertEqual(r["Tier"], "Advanced")
        self.err("ValidationException", self.ssm.put_parameter, Name="/t/tier/huge",
                 Value="x" * 8193, Type="String", Tier="Advanced")
        r = self.ssm.put_parameter(Name="/t/tier/auto", Value="y" * 5000, Type="String",
                                   Tier="Intelligent-Tiering")
        self.assertEqual(r["Tier"], "Advanced")
        r = self.ssm.put_parameter(Name="/t/tier/auto2", Value="small", Type="String",
                                   Tier="Intelligent-Tiering")
        self.assertEqual(r["Tier"], "Standard")
        self.err("ValidationException", self.ssm.put_parameter, Name="/t/tier/adv",
                 Value="z", Overwrite=True, Tier="Standard")
        meta = self.ssm.describe_parameters(ParameterFilters=[
            {"Key": "Name", "Values": ["/t/tier/adv"]}])["Parameters"]
        self.assertEqual([m["Tier"] for m in meta], ["Advanced"])

    def test_allowed_pattern(self):
        self.err("ParameterPatternMismatchException", self.ssm.put_parameter,
                 Name="/t/pat/a", Value="abc", Type="String", AllowedPattern=r"^\d+$")
        self.err("InvalidAllowedPatternException", self.ssm.put_parameter,
                 Name="/t/pat/b", Value="abc", Type="String", AllowedPattern="([a-z")
        self.ssm.put_parameter(Name="/t/pat/c", Value="123", Type="String",
                               AllowedPattern=r"^\d+$")
        # the stored pattern still applies to an overwrite that does not repeat it
        self.err("ParameterPatternMismatchException", self.ssm.put_parameter,
                 Name="/t/pat/c", Value="12a", Overwrite=True)
        meta = self.ssm.describe_parameters(ParameterFilters=[
            {"Key": "Name", "Values": ["/t/pat/c"]}])["Parameters"][0]
        self.assertEqual(meta["AllowedPattern"], r"^\d+$")

    def test_data_type(self):
        self.ssm.put_parameter(Name="/t/dt/ami", Value="ami-0123456789abcdef0", Type="String",
                               DataType="aws:ec2:image")
        p = self.ssm.get_parameter(Name="/t/dt/ami")["Parameter"]
        self.assertEqual(p["DataType"], "aws:ec2:image")
        self.err("ValidationException", self.ssm.put_parameter, Name="/t/dt/bad",
                 Value="not-an-ami", Type="String", DataType="aws:ec2:image")
        self.err("ValidationException", self.ssm.put_parameter, Name="/t/dt/bad2",
                 Value="v", Type="String", DataType="TEXT")

    def test_get_parameters(self):
        self.ssm.put_parameter(Name="/t/gp/a", Value="1", Type="String")
        self.ssm.put_parameter(Name="/t/gp/b", Value="2", Type="String")
        r = self.ssm.get_parameters(Names=["/t/gp/a", "/t/gp/nope", "/t/gp/b", "/t/gp/a:7"])
        self.assertEqual(sorted(p["Name"] for p in r["Parameters"]), ["/t/gp/a", "/t/gp/b"])
        self.assertEqual(sorted(r["InvalidParameters"]), ["/t/gp/a:7", "/t/gp/nope"])
        self.err("ValidationException", self.ssm.get_parameters,
                 Names=[f"/t/gp/{i}" for i in range(11)])
        arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/t/gp/b"
        self.assertEqual(self.ssm.get_parameter(Name=arn)["Parameter"]["Value"], "2")

    def test_regions_are_separate(self):
        self.ssm.put_parameter(Name="/t/region/only-west", Value="w", Type="String")
        central = self.sim.client("ssm", region="eu-central-1")
        self.err("ParameterNotFound", central.get_parameter, Name="/t/region/only-west")


class Secure(SsmBase):
    def test_default_key_and_decryption(self):
        self.ssm.put_parameter(Name="/t/sec/a", Value="s3cr3t-value", Type="SecureString")
        enc = self.ssm.get_parameter(Name="/t/sec/a")["Parameter"]
        self.assertEqual(enc["Type"], "SecureString")
        self.assertNotIn("s3cr3t-value", enc["Value"])
        self.assertGreater(len(enc["Value"]), len("s3cr3t-value"))
        dec = self.ssm.get_parameter(Name="/t/sec/a", WithDecryption=True)["Parameter"]
        self.assertEqual(dec["Value"], "s3cr3t-value")
        meta = self.ssm.describe_parameters(ParameterFilters=[
            {"Key": "Name", "Values": ["/t/sec/a"]}])["Parameters"][0]
        self.assertEqual(meta["KeyId"], "alias/aws/ssm")
        # the ciphertext really is KMS's: KMS decrypts it with the parameter's context
        import base64
        kms = self.sim.client("kms")
        out = kms.decrypt(CiphertextBlob=base64.b64decode(enc["Value"]),
                          EncryptionContext={"PARAMETER_ARN": enc["ARN"]})
        self.assertEqual(out["Plaintext"], b"s3cr3t-value")

    def test_custom_key_invalid_key_disabled_key(self):
        kms = self.sim.client("kms")
        key = kms.create_key(Description="ssm test")["KeyMetadata"]
        kms.create_alias(AliasName="alias/ssm-test", TargetKeyId=key["KeyId"])
        self.ssm.put_parameter(Name="/t/sec/custom", Value="v1", Type="SecureString",
                               KeyId="alias/ssm-test")
        meta = self.ssm.describe_parameters(ParameterFilters=[
            {"Key": "KeyId", "Values": ["alias/ssm-test"]}])["Parameters"]
        self.assertEqual([m["Name"] for m in meta], ["/t/sec/custom"])
        self.err("InvalidKeyId", self.ssm.put_parameter, Name="/t/sec/bad", Value="v",
                 Type="SecureString", KeyId="alias/does-not-exist")
        kms.disable_key(KeyId=key["KeyId"])
        try:
            self.err("InvalidKeyId", self.ssm.get_parameter, Name="/t/sec/custom",
                     WithDecryption=True)
            # without decryption the (opaque) value is still returned
            self.assertTrue(self.ssm.get_parameter(Name="/t/sec/custom")["Parameter"]["Value"])
        finally:
            kms.enable_key(KeyId=key["KeyId"])

    def test_history_with_and_without_decryption(self):
        self.ssm.put_parameter(Name="/t/sec/h", Value="first", Type="SecureString",
                               Description="d1")
        self.ssm.put_parameter(Name="/t/sec/h", Value="second", Overwrite=True)
        self.ssm.put_parameter(Name="/t/sec/h", Value="third", Overwrite=True,
                               Description="d3")
        hist = self.ssm.get_parameter_history(Name="/t/sec/h", WithDecryption=True)
        self.assertEqual([(h["Version"], h["Value"], h.get("Description")) for h in
                          hist["Parameters"]],
                         [(1, "first", "d1"), (2, "second", "d1"), (3, "third", "d3")])
        self.assertTrue(all(h["KeyId"] == "alias/aws/ssm" for h in hist["Parameters"]))
        raw = self.ssm.get_parameter_history(Name="/t/sec/h")["Parameters"]
        self.assertNotIn("first", [h["Value"] for h in raw])
        page1 = self.ssm.get_parameter_history(Name="/t/sec/h", MaxResults=2)
        self.assertEqual([h["Version"] for h in page1["Parameters"]], [1, 2])
        page2 = self.ssm.get_parameter_history(Name="/t/sec/h", MaxResults=2,
                                               NextToken=page1["NextToken"])
        self.assertEqual([h["Version"] for h in page2["Parameters"]], [3])
        self.assertNotIn("NextToken", page2)
        self.err("ParameterNotFound", self.ssm.get_parameter_history, Name="/t/sec/none")


class Listing(SsmBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for i in range(23):
            cls.ssm.put_parameter(Name=f"/t/list/app/p{i:02d}", Value=f"v{i}", Type="String")
        for i in range(4):
            cls.ssm.put_parameter(Name=f"/t/list/app/deep/d{i}", Value=f"s{i}",
                                  Type="SecureString")
        cls.ssm.put_parameter(Name="t-list-flat", Value="x", Type="String")

    def tearDown(self):
        self.sim.control("POST", "/delays", {"ssm.empty_pages": 1})

    def test_by_path_one_level_and_recursive(self):
        items, _ = _all_pages(self.ssm.get_parameters_by_path, Path="/t/list/app")
        self.assertEqual(len(items), 23)
        items, _ = _all_pages(self.ssm.get_parameters_by_path, Path="/t/list/app/",
                              Recursive=True, WithDecryption=True)
        self.assertEqual(len(items), 27)
        deep = {p["Name"]: p["Value"] for p in items if "/deep/" in p["Name"]}
        self.assertEqual(deep["/t/list/app/deep/d2"], "s2")
        items, _ = _all_pages(self.ssm.get_parameters_by_path, Path="/", Recursive=True)
        self.assertNotIn("t-list-flat", [p["Name"] for p in items])

    def test_empty_page_with_token_by_default(self):
        items, pages = _all_pages(self.ssm.get_parameters_by_path, Path="/t/list/app",
                                  MaxResults=10)
        self.assertEqual([len(p) for p in pages], [10, 0, 10, 3])
        self.assertEqual(len({p["Name"] for p in items}), 23)

    def test_empty_pages_knob(self):
        self.sim.control("POST", "/delays", {"ssm.empty_pages": 0})
        _, pages = _all_pages(self.ssm.get_parameters_by_path, Path="/t/list/app",
                              MaxResults=10)
        self.assertEqual([len(p) for p in pages], [10, 10, 3])
        self.sim.control("POST", "/delays", {"ssm.empty_pages": 2})
        _, pages = _all_pages(self.ssm.get_parameters_by_path, Path="/t/list/app",
                              MaxResults=10)
        self.assertEqual([len(p) for p in pages], [10, 0, 0, 10, 3])
        # a one-page listing never gets an empty page
        _, pages = _all_pages(self.ssm.get_parameters_by_path, Path="/t/list/app/deep")
        self.assertEqual([len(p) for p in pages], [4])
        # the per-region control hook wins over the world knob
        self.sim.control("POST", "/ssm/knobs", {"empty_pages": 0})
        try:
            _, pages = _all_pages(self.ssm.get_parameters_by_path, Path="/t/list/app",
                                  MaxResults=10)
            self.assertEqual([len(p) for p in pages], [10, 10, 3])
        finally:
            self.sim.control("POST", "/ssm/knobs", {"empty_pages": None})

    def test_by_path_limits_and_errors(self):
        e = self.err("ValidationException", self.ssm.get_parameters_by_path, Path="/t/list/app",
                     MaxResults=11)
        self.assertIn("less than or equal to 10", e.response["Error"]["Message"])
        self.err("InvalidNextToken", self.ssm.get_parameters_by_path, Path="/t/list/app",
                 NextToken="garbage")
        self.err("ValidationException", self.ssm.get_parameters_by_path, Path="t/list")
        self.err("InvalidFilterKey", self.ssm.get_parameters_by_path, Path="/t/list/app",
                 ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
        items, _ = _all_pages(self.ssm.get_parameters_by_path, Path="/t/list", Recursive=True,
                              ParameterFilters=[{"Key": "Type", "Option": "Equals",
                                                 "Values": ["SecureString"]}])
        self.assertEqual(sorted(p["Name"] for p in items),
                         [f"/t/list/app/deep/d{i}" for i in range(4)])

    def test_describe_parameters(self):
        e = self.err("ValidationException", self.ssm.describe_parameters, MaxResults=51)
        self.assertIn("less than or equal to 50", e.response["Error"]["Message"])
        items, pages = _all_pages(self.ssm.describe_parameters, MaxResults=50, ParameterFilters=[
            {"Key": "Path", "Option": "Recursive", "Values": ["/t/list"]}])
        self.assertEqual(len(items), 27)
        self.assertNotIn("Value", items[0])
        items, _ = _all_pages(self.ssm.describe_parameters, ParameterFilters=[
            {"Key": "Path", "Option": "OneLevel", "Values": ["/t/list/app/deep"]}])
        self.assertEqual({p["Type"] for p in items}, {"SecureString"})
        self.assertEqual(len(items), 4)
        items, _ = _all_pages(self.ssm.describe_parameters, ParameterFilters=[
            {"Key": "Name", "Option": "BeginsWith", "Values": ["/t/list/app/p1"]}])
        self.assertEqual(len(items), 10)
        items, _ = _all_pages(self.ssm.describe_parameters,
                              Filters=[{"Key": "Name", "Values": ["t-list-"]}])
        self.assertEqual([p["Name"] for p in items], ["t-list-flat"])
        self.err("ValidationException", self.ssm.describe_parameters,
                 Filters=[{"Key": "Name", "Values": ["x"]}],
                 ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
        self.err("InvalidFilterOption", self.ssm.describe_parameters, ParameterFilters=[
            {"Key": "Path", "Option": "Equals", "Values": ["/t"]}])

    def test_delete(self):
        self.ssm.put_parameter(Name="/t/del/a", Value="1", Type="String")
        self.ssm.put_parameter(Name="/t/del/b", Value="2", Type="String")
        self.ssm.put_parameter(Name="/t/del/c", Value="3", Type="String")
        self.ssm.delete_parameter(Name="/t/del/a")
        self.err("ParameterNotFound", self.ssm.delete_parameter, Name="/t/del/a")
        r = self.ssm.delete_parameters(Names=["/t/del/b", "/t/del/zz", "/t/del/c"])
        self.assertEqual(sorted(r["DeletedParameters"]), ["/t/del/b", "/t/del/c"])
        self.assertEqual(r["InvalidParameters"], ["/t/del/zz"])
        items, _ = _all_pages(self.ssm.get_parameters_by_path, Path="/t/del")
        self.assertEqual(items, [])


class SeedCliRestart(SsmBase):
    def test_seed_shape(self):
        for env in ("dev", "prod"):
            items, _ = _all_pages(self.ssm.get_parameters_by_path, Path=f"/legocity/{env}",
                                  Recursive=True, WithDecryption=True)
            byname = {p["Name"]: p for p in items}
            self.assertGreaterEqual(len(byname), 12)
            self.assertEqual(byname[f"/legocity/{env}/broker/url"]["Type"], "String")
            self.assertTrue(byname[f"/legocity/{env}/broker/url"]["Value"]
                            .startswith("http://127.0.0.1:"))
            for n in ("broker/write-key/env", "payload/db-url", "external/weather/api-key"):
                self.assertEqual(byname[f"/legocity/{env}/{n}"]["Type"], "SecureString", n)
            url = byname[f"/legocity/{env}/payload/db-url"]["Value"]
            self.assertRegex(url, r"^postgres(ql)?://[^:/@]+:[^@]+@[^/]+/\w+")
            self.assertEqual(byname[f"/legocity/{env}/external/weather/stations"]["Type"],
                             "StringList")
            depth = max(n.count("/") for n in byname)
            self.assertGreaterEqual(depth, 5)
        meta, _ = _all_pages(self.ssm.describe_parameters, ParameterFilters=[
            {"Key": "Tier", "Values": ["Advanced"]},
            {"Key": "Path", "Option": "Recursive", "Values": ["/legocity"]}])
        self.assertEqual(len(meta), 2)
        tagged, _ = _all_pages(self.ssm.describe_parameters, ParameterFilters=[
            {"Key": "tag:lcbackup:class", "Values": ["secret"]}])
        self.assertGreaterEqual(len(tagged), 8)
        hist = self.ssm.get_parameter_history(Name="/legocity/prod/broker/url")["Parameters"]
        self.assertGreaterEqual(len(hist), 2)
        self.assertEqual(hist[0]["Value"], "http://127.0.0.1:1026")

    def test_seed_meets_rds_and_broker(self):
        url = self.ssm.get_parameter(Name="/legocity/dev/broker/url")["Parameter"]["Value"]
        self.assertEqual(url, self.sim.broker_url)
        rds_seed = self.sim.state_dir / "rds" / "seed.json"
        self.assertTrue(rds_seed.exists(), "the RDS seed did not run")
        info = json.loads(rds_seed.read_text())
        p = self.ssm.get_parameter(Name=f"/legocity/{info['env']}/payload/db-url",
                                   WithDecryption=True)["Parameter"]
        self.assertEqual(p["Value"], info["url"])
        self.assertIn(f":{info['password']}@", p["Value"])
        tags = self.ssm.list_tags_for_resource(
            ResourceType="Parameter",
            ResourceId=f"/legocity/{info['env']}/payload/db-url")["TagList"]
        self.assertIn({"Key": "lcbackup:class", "Value": "secret"}, tags)

    def test_cli_by_path_across_pages(self):
        rc, out, err = simtest.aws_cli(self.sim, "ssm", "get-parameters-by-path",
                                       "--path", "/legocity/prod", "--recursive",
                                       "--with-decryption", "--page-size", "3")
        self.assertEqual(rc, 0, err)
        names = [p["Name"] for p in json.loads(out)["Parameters"]]
        self.assertEqual(len(names), len(set(names)))
        items, _ = _all_pages(self.ssm.get_parameters_by_path, Path="/legocity/prod",
                              Recursive=True)
        self.assertEqual(sorted(names), sorted(p["Name"] for p in items))
        reqs = self.sim.requests(service="ssm", operation="GetParametersByPath")
        self.assertGreaterEqual(len(reqs), 6)     # 16 names in pages of 3, plus an empty one

    def test_cli_put_get_describe(self):
        rc, out, err = simtest.aws_cli(self.sim, "ssm", "put-parameter", "--name",
                                       "/t/cli/x", "--value", "from-cli", "--type",
                                       "SecureString", "--tags", "Key=via,Value=cli")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["Version"], 1)
        rc, out, err = simtest.aws_cli(self.sim, "ssm", "get-parameter", "--name", "/t/cli/x",
                                       "--with-decryption")
        self.assertEqual(json.loads(out)["Parameter"]["Value"], "from-cli")
        rc, out, err = simtest.aws_cli(self.sim, "ssm", "put-parameter", "--name",
                                       "/t/cli/x", "--value", "again", "--type",
                                       "SecureString", "--overwrite", "--tags",
                                       "Key=via,Value=cli")
        self.assertNotEqual(rc, 0)
        self.assertIn("ValidationException", err)
        rc, out, err = simtest.aws_cli(self.sim, "ssm", "describe-parameters",
                                       "--parameter-filters",
                                       "Key=Path,Option=Recursive,Values=/legocity")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(out)["Parameters"]), 32)

    def test_restart_moves_broker_url_with_the_broker(self):
        import socket
        old = self.sim.broker_url
        port = int(old.rsplit(":", 1)[1])
        self.sim._down()
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            blocker.bind(("127.0.0.1", port))
            blocker.listen(1)
            self.sim._up()
        finally:
            blocker.close()
        new = self.sim.broker_url
        self.assertNotEqual(new, old)
        ssm = self.sim.client("ssm")
        for env in ("dev", "prod"):
            p = ssm.get_parameter(Name=f"/legocity/{env}/broker/url")["Parameter"]
            self.assertEqual(p["Value"], new)
        hist = ssm.get_parameter_history(Name="/legocity/prod/broker/url")["Parameters"]
        self.assertEqual([h["Value"] for h in hist][-2:], [old, new])

    def test_restart_keeps_state(self):
        self.ssm.put_parameter(Name="/t/restart/s", Value="survives", Type="SecureString",
                               Tags=[{"Key": "k", "Value": "v"}])
        self.ssm.put_parameter(Name="/t/restart/s", Value="survives-2", Overwrite=True)
        self.sim.restart()
        ssm = self.sim.client("ssm")
        p = ssm.get_parameter(Name="/t/restart/s", WithDecryption=True)["Parameter"]
        self.assertEqual((p["Value"], p["Version"]), ("survives-2", 2))
        tags = ssm.list_tags_for_resource(ResourceType="Parameter",
                                          ResourceId="/t/restart/s")["TagList"]
        self.assertEqual(tags, [{"Key": "k", "Value": "v"}])


class SeedHelper(unittest.TestCase):
    """ssm.put_seed_parameter called in-process with another service's ctx (as the RDS
    seed does)."""

    def test_put_seed_parameter_from_rds_ctx(self):
        from simlib import core, ssm
        with tempfile.TemporaryDirectory() as d:
            world = core.World(d)
            rds_ctx = world.context("rds", "eu-west-1")
            v1 = ssm.put_seed_parameter(rds_ctx, "/legocity/prod/payload/db-url",
                                        "postgres://u:p@127.0.0.1:5555/payload", "SecureString")
            v2 = ssm.put_seed_parameter(rds_ctx, "/legocity/prod/payload/db-url",
                                        "postgres://u:q@127.0.0.1:5556/payload", "SecureString")
            self.assertEqual((v1, v2), (1, 2))
            sctx = world.context("ssm", "eu-west-1")
            req = core.Request("POST", "/", "", {})
            req.operation, req.body = "GetParameter", {"Name": "/legocity/prod/payload/db-url",
                                                       "WithDecryption": True}
            p = ssm.handle(sctx, req)["Parameter"]
            self.assertEqual(p["Value"], "postgres://u:q@127.0.0.1:5556/payload")
            self.assertTrue((pathlib.Path(d) / "ssm" / "eu-west-1" / "ssm.json").exists())
            # the SSM seed keeps what RDS published
            ssm.seed(sctx)
            p = ssm.handle(sctx, req)["Parameter"]
            self.assertEqual(p["Value"], "postgres://u:q@127.0.0.1:5556/payload")


if __name__ == "__main__":
    unittest.main()
