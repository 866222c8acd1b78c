"""Secrets Manager conformance: botocore and /usr/bin/aws against simlib/secretsmanager.py."""

import base64
import json
import pathlib
import sys
import unittest
import uuid

from botocore.exceptions import ClientError

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import simtest  # noqa: E402

SIM = None


def setUpModule():
    # KMS (the values' keys), RDS (the database the seeded credentials point at), SSM and
    # Secrets Manager: enough of LegoCity without the broker.
    global SIM
    SIM = simtest.Sim.start(seed="legocity",
                            seed_services=["kms", "s3", "rds", "ssm", "secretsmanager"])


def tearDownModule():
    SIM.stop()


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sm = SIM.client("secretsmanager", retries={"total_max_attempts": 1})

    def err(self, code, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code,
                         cm.exception.response["Error"])
        return cm.exception

    def names(self, **kw):
        out, kw = [], dict(kw)
        while True:
            r = self.sm.list_secrets(**kw)
            out += [s["Name"] for s in r["SecretList"]]
            if not r.get("NextToken"):
                return out
            kw["NextToken"] = r["NextToken"]


class Seed(Base):
    def test_db_credentials_match_the_rds_seed(self):
        info = json.loads((SIM.state_dir / "rds" / "seed.json").read_text())
        for env in ("dev", "prod"):
            v = self.sm.get_secret_value(SecretId=f"legocity/{env}/payload/db-credentials")
            creds = json.loads(v["SecretString"])
            self.assertEqual(creds, {"username": info["username"], "password": info["password"],
                                     "engine": "postgres", "host": "127.0.0.1",
                                     "port": info["port"], "dbname": info["database"]})
            self.assertEqual(v["VersionStages"], ["AWSCURRENT"])

    def test_prefix_listing_pages_and_skips_pending_deletion(self):
        flt = [{"Key": "name", "Values": ["legocity/prod/"]}]
        names = self.names(Filters=flt, MaxResults=3)
        self.assertIn("legocity/prod/payload/db-credentials", names)
        self.assertIn("legocity/prod/tls/client-bundle", names)
        self.assertNotIn("legocity/prod/legacy/ftp-password", names)   # scheduled deletion
        self.assertTrue(all(n.startswith("legocity/prod/") for n in names))
        self.assertEqual(len(names), len(set(names)))
        first = self.sm.list_secrets(Filters=flt, MaxResults=3)
        self.assertEqual(len(first["SecretList"]), 3)
        self.assertIn("NextToken", first)
        everything = self.names()
        self.assertIn("other-app/api-key", everything)

    def test_filters_tags_negation_and_description(self):
        names = self.names(Filters=[{"Key": "tag-key", "Values": ["Component"]},
                                    {"Key": "tag-value", "Values": ["broker"]}])
        self.assertEqual(sorted(names), ["legocity/dev/broker/api-key",
                                         "legocity/prod/broker/api-key"])
        names = self.names(Filters=[{"Key": "name", "Values": ["legocity/dev/"]},
                                    {"Key": "name", "Values": ["!legocity/dev/payload"]}])
        self.assertTrue(names and all(not n.startswith("legocity/dev/payload") for n in names))
        names = self.names(Filters=[{"Key": "description", "Values": ["payload_secret"]}])
        self.assertEqual(sorted(names), ["legocity/dev/payload/secret-key",
                                         "legocity/prod/payload/secret-key"])
        self.err("InvalidParameterException", self.sm.list_secrets,
                 Filters=[{"Key": "name", "Values": ["bad*value"]}])

    def test_describe_rotation_versions_binary(self):
        d = self.sm.describe_secret(SecretId="legocity/prod/keycloak/admin")
        self.assertTrue(d["RotationEnabled"])
        self.assertEqual(d["RotationRules"]["AutomaticallyAfterDays"], 30)
        self.assertIn("LastRotatedDate", d)
        d = self.sm.describe_secret(SecretId="legocity/dev/smtp/credentials")
        stages = sorted(s for v in d["VersionIdsToStages"].values() for s in v)
        self.assertEqual(stages, ["AWSCURRENT", "AWSPREVIOUS"])
        self.assertNotIn("KmsKeyId", d)                 # aws/secretsmanager
        d = self.sm.describe_secret(SecretId="legocity/prod/payload/db-credentials")
        self.assertEqual(d["KmsKeyId"], "alias/legocity-backups")
        v = self.sm.get_secret_value(SecretId="legocity/dev/tls/client-bundle")
        self.assertNotIn("SecretString", v)
        self.assertIn(b"\x00", v["SecretBinary"])
        d = self.sm.describe_secret(SecretId="legocity/dev/legacy/ftp-password")
        self.assertIn("DeletedDate", d)


class Lifecycle(Base):
    def test_create_put_stages_and_idempotent_tokens(self):
        tok = str(uuid.uuid4())
        r = self.sm.create_secret(Name="t/life/a", SecretString="one", ClientRequestToken=tok,
                                  Description="d", Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(r["VersionId"], tok)
        again = self.sm.create_secret(Name="t/life/a", SecretString="one",
                                      ClientRequestToken=tok)
        self.assertEqual(again["ARN"], r["ARN"])
        self.err("ResourceExistsException", self.sm.create_secret, Name="t/life/a",
                 SecretString="two", ClientRequestToken=tok)
        self.err("ResourceExistsException", self.sm.create_secret, Name="t/life/a",
                 SecretString="x")
        p = self.sm.put_secret_value(SecretId="t/life/a", SecretString="two")
        self.assertEqual(p["VersionStages"], ["AWSCURRENT"])
        self.assertEqual(self.sm.get_secret_value(SecretId="t/life/a")["SecretString"], "two")
        prev = self.sm.get_secret_value(SecretId="t/life/a", VersionStage="AWSPREVIOUS")
        self.assertEqual((prev["SecretString"], prev["VersionId"]), ("one", tok))
        by_id = self.sm.get_secret_value(SecretId=r["ARN"], VersionId=tok)
        self.assertEqual(by_id["SecretString"], "one")
        partial = r["ARN"][:-7]
        self.assertEqual(self.sm.describe_secret(SecretId=partial)["Name"], "t/life/a")
        self.err("InvalidParameterException", self.sm.put_secret_value, SecretId="t/life/a",
                 SecretString="x", SecretBinary=b"y")
        self.err("ResourceNotFoundException", self.sm.get_secret_value, SecretId="t/life/a",
                 VersionStage="AWSPENDING")

    def test_delete_window_restore_and_purge(self):
        self.sm.create_secret(Name="t/life/del", SecretBinary=b"\x00\x01bin")
        self.err("InvalidParameterException", self.sm.delete_secret, SecretId="t/life/del",
                 RecoveryWindowInDays=3)
        r = self.sm.delete_secret(SecretId="t/life/del", RecoveryWindowInDays=7)
        d = self.sm.describe_secret(SecretId="t/life/del")
        self.assertIn("DeletedDate", d)
        self.assertAlmostEqual((r["DeletionDate"] - d["DeletedDate"]).total_seconds(),
                               7 * 86400, delta=2)
        e = self.err("InvalidRequestException", self.sm.get_secret_value, SecretId="t/life/del")
        self.assertIn("marked for deletion", str(e))
        self.err("InvalidRequestException", self.sm.put_secret_value, SecretId="t/life/del",
                 SecretString="x")
        self.err("InvalidRequestException", self.sm.create_secret, Name="t/life/del",
                 SecretString="x")
        self.assertNotIn("t/life/del", self.names(Filters=[{"Key": "name",
                                                            "Values": ["t/life/"]}]))
        self.sm.restore_secret(SecretId="t/life/del")
        self.assertNotIn("DeletedDate", self.sm.describe_secret(SecretId="t/life/del"))
        self.assertEqual(self.sm.get_secret_value(SecretId="t/life/del")["SecretBinary"],
                         b"\x00\x01bin")
        self.sm.delete_secret(SecretId="t/life/del", RecoveryWindowInDays=7)
        SIM.control("POST", "/clock", {"advance": 8 * 86400})
        try:
            self.err("ResourceNotFoundException", self.sm.describe_secret,
                     SecretId="t/life/del")
        finally:
            SIM.control("DELETE", "/clock")
        self.sm.create_secret(Name="t/life/gone", SecretString="x")
        self.sm.delete_secret(SecretId="t/life/gone", ForceDeleteWithoutRecovery=True)
        self.err("ResourceNotFoundException", self.sm.describe_secret, SecretId="t/life/gone")

    def test_tags_update_rotation(self):
        self.sm.create_secret(Name="t/life/tags", SecretString="v",
                              Tags=[{"Key": "a", "Value": "1"}])
        self.sm.tag_resource(SecretId="t/life/tags", Tags=[{"Key": "b", "Value": "2"},
                                                            {"Key": "a", "Value": "3"}])
        tags = self.sm.describe_secret(SecretId="t/life/tags")["Tags"]
        self.assertEqual(tags, [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}])
        self.sm.untag_resource(SecretId="t/life/tags", TagKeys=["a"])
        self.assertEqual(self.sm.describe_secret(SecretId="t/life/tags")["Tags"],
                         [{"Key": "b", "Value": "2"}])
        self.err("InvalidParameterException", self.sm.tag_resource, SecretId="t/life/tags",
                 Tags=[{"Key": "aws:x", "Value": "1"}])
        self.sm.update_secret(SecretId="t/life/tags", KmsKeyId="alias/legocity-backups",
                              Description="moved")
        d = self.sm.describe_secret(SecretId="t/life/tags")
        self.assertEqual((d["KmsKeyId"], d["Description"]), ("alias/legocity-backups", "moved"))
        self.assertEqual(self.sm.get_secret_value(SecretId="t/life/tags")["SecretString"], "v")
        lam = "arn:aws:lambda:eu-west-1:123456789012:function:rot"
        self.sm.rotate_secret(SecretId="t/life/tags", RotationLambdaARN=lam,
                              RotationRules={"AutomaticallyAfterDays": 14},
                              RotateImmediately=False)
        d = self.sm.describe_secret(SecretId="t/life/tags")
        self.assertEqual((d["RotationEnabled"], d["RotationLambdaARN"],
                          d["RotationRules"]["AutomaticallyAfterDays"]), (True, lam, 14))
        self.assertNotIn("LastRotatedDate", d)
        self.sm.cancel_rotate_secret(SecretId="t/life/tags")
        self.assertFalse(self.sm.describe_secret(SecretId="t/life/tags")["RotationEnabled"])

    def test_values_are_stored_encrypted(self):
        self.sm.create_secret(Name="t/life/plain", SecretString="needle-4c1d7e")
        raw = (SIM.state_dir / "secretsmanager" / "eu-west-1" / "secrets.json").read_bytes()
        self.assertNotIn(b"needle-4c1d7e", raw)
        self.assertNotIn(base64.b64encode(b"needle-4c1d7e"), raw)

    def test_disabled_key_fails_decryption(self):
        self.sm.create_secret(Name="t/life/kms", SecretString="v",
                              KmsKeyId="alias/legocity-backups")
        SIM.control("POST", "/kms/disable", {"key": "alias/legocity-backups"})
        try:
            self.err("DecryptionFailure", self.sm.get_secret_value, SecretId="t/life/kms")
        finally:
            SIM.control("POST", "/kms/enable", {"key": "alias/legocity-backups"})
        self.assertEqual(self.sm.get_secret_value(SecretId="t/life/kms")["SecretString"], "v")


class Cli(Base):
    def test_aws_cli_round_trip(self):
        rc, out, err = simtest.aws_cli(SIM, "secretsmanager", "create-secret", "--name",
                                       "t/cli/x", "--secret-string", '{"a":1}')
        self.assertEqual(rc, 0, err)
        rc, out, err = simtest.aws_cli(SIM, "secretsmanager", "get-secret-value",
                                       "--secret-id", "t/cli/x")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(json.loads(out)["SecretString"]), {"a": 1})
        rc, out, err = simtest.aws_cli(SIM, "secretsmanager", "list-secrets", "--filters",
                                       "Key=name,Values=legocity/dev/")
        self.assertEqual(rc, 0, err)
        names = [s["Name"] for s in json.loads(out)["SecretList"]]
        self.assertIn("legocity/dev/payload/db-credentials", names)
        rc, out, err = simtest.aws_cli(SIM, "secretsmanager", "describe-secret", "--secret-id",
                                       "nope/nothing")
        self.assertNotEqual(rc, 0)
        self.assertIn("ResourceNotFoundException", err)


if __name__ == "__main__":
    unittest.main()
