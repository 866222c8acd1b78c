"""STS and KMS conformance, through botocore and /usr/bin/aws, plus ctx.kms for modules."""

import base64
import json
import os
import tempfile
import unittest

import botocore.exceptions
from botocore import UNSIGNED

import simtest

NORETRY = {"total_max_attempts": 1}
ACCT = "123456789012"
ROLE = f"arn:aws:iam::{ACCT}:role/lcbackup"
SIM = None


def setUpModule():
    global SIM
    SIM = simtest.Sim.start()


def tearDownModule():
    if SIM:
        SIM.stop()


def err(exc):
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


class Base(unittest.TestCase):
    def setUp(self):
        self.sim = SIM

    def raises(self, fn, code, status=None):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn()
        got = err(cm.exception)
        self.assertEqual(got[0], code, cm.exception.response)
        if status is not None:
            self.assertEqual(got[1], status)
        return cm.exception


class Sts(Base):
    def test_get_caller_identity(self):
        me = self.sim.client("sts").get_caller_identity()
        self.assertEqual(me["Account"], ACCT)
        self.assertEqual(me["Arn"], f"arn:aws:iam::{ACCT}:user/lcbackup-test")
        self.assertTrue(me["UserId"].startswith("AIDA"))

    def test_assume_role_gives_working_temporary_credentials(self):
        sts = self.sim.client("sts")
        r = sts.assume_role(RoleArn=ROLE, RoleSessionName="backup-run-1", DurationSeconds=900)
        c = r["Credentials"]
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        self.assertTrue(c["SessionToken"])
        left = (c["Expiration"].timestamp() - __import__("time").time())
        self.assertTrue(850 < left <= 900, left)
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         f"arn:aws:sts::{ACCT}:assumed-role/lcbackup/backup-run-1")
        tmp = self.sim.client("sts", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"],
                              session_token=c["SessionToken"])
        me = tmp.get_caller_identity()
        self.assertEqual(me["Arn"], r["AssumedRoleUser"]["Arn"])
        self.assertEqual(me["UserId"], r["AssumedRoleUser"]["AssumedRoleId"])
        kms = self.sim.client("kms", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"],
                              session_token=c["SessionToken"])
        kms.list_keys()
        sessions = self.sim.control("GET", "/sts/sessions")["sessions"]
        self.assertIn((c["AccessKeyId"], ROLE),
                      [(s["access_key"], s["role_arn"]) for s in sessions])

    def test_assume_role_errors(self):
        sts = self.sim.client("sts", retries=NORETRY)
        self.raises(lambda: sts.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/nobody",
                                            RoleSessionName="x1"), "AccessDenied", 403)
        self.raises(lambda: sts.assume_role(RoleArn=ROLE, RoleSessionName="x1",
                                            DurationSeconds=100000), "ValidationError", 400)
        self.raises(lambda: sts.assume_role(RoleArn=ROLE, RoleSessionName="bad name!"),
                    "ValidationError", 400)
        self.sim.control("POST", "/sts/roles", {"name": "ops-extra"})
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/ops-extra", RoleSessionName="ok")
        self.sim.control("DELETE", "/sts/roles/ops-extra")
        self.raises(lambda: sts.assume_role(RoleArn=f"arn:aws:iam::{ACCT}:role/ops-extra",
                                            RoleSessionName="ok"), "AccessDenied", 403)

    def test_expired_session(self):
        c = self.sim.client("sts").assume_role(RoleArn=ROLE,
                                               RoleSessionName="exp")["Credentials"]
        kw = dict(access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"],
                  session_token=c["SessionToken"], retries=NORETRY)
        self.sim.control("POST", "/sts/expire", {"access_key": c["AccessKeyId"]})
        self.raises(lambda: self.sim.client("sts", **kw).get_caller_identity(),
                    "ExpiredToken", 403)
        self.raises(lambda: self.sim.client("kms", **kw).list_keys(),
                    "ExpiredTokenException", 400)
        self.raises(lambda: self.sim.client("s3", **kw).list_buckets(), "ExpiredToken", 400)

    def test_web_identity_is_unsigned(self):
        anon = self.sim.client("sts", retries=NORETRY, signature_version=UNSIGNED)
        r = anon.assume_role_with_web_identity(RoleArn=ROLE, RoleSessionName="pod",
                                               WebIdentityToken="any-token-content")
        c = r["Credentials"]
        me = self.sim.client("sts", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"],
                             session_token=c["SessionToken"]).get_caller_identity()
        self.assertEqual(me["Arn"], f"arn:aws:sts::{ACCT}:assumed-role/lcbackup/pod")
        self.raises(lambda: anon.get_caller_identity(), "MissingAuthenticationToken", 403)
        self.raises(lambda: anon.assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{ACCT}:role/nobody", RoleSessionName="pod",
            WebIdentityToken="tok1"), "AccessDenied", 403)
        self.sim.control("POST", "/sts/web-identity", {"reject": True})
        try:
            self.raises(lambda: anon.assume_role_with_web_identity(
                RoleArn=ROLE, RoleSessionName="pod", WebIdentityToken="tok1"),
                "InvalidIdentityToken", 400)
        finally:
            self.sim.control("POST", "/sts/web-identity", {"reject": False})

    def test_web_identity_through_botocore_credential_fetcher(self):
        # botocore's own web-identity provider code, with its STS client on the sim (the CLI
        # 2.9 provider would ignore --endpoint-url and call the real STS: not used here)
        import botocore.session
        from botocore.credentials import AssumeRoleWithWebIdentityCredentialFetcher
        from botocore.utils import FileWebIdentityTokenLoader
        sess = botocore.session.Session()

        def creator(service_name, **kw):
            kw.update(endpoint_url=self.sim.endpoint, region_name="eu-west-1")
            return sess.create_client(service_name, **kw)
        with tempfile.NamedTemporaryFile("w", suffix=".jwt") as f:
            f.write("eyJhbGciOiJub25lIn0.e30.")
            f.flush()
            fetcher = AssumeRoleWithWebIdentityCredentialFetcher(
                client_creator=creator, web_identity_token_loader=FileWebIdentityTokenLoader(
                    f.name), role_arn=ROLE, extra_args={"RoleSessionName": "web-chain"})
            c = fetcher.fetch_credentials()
        me = self.sim.client("sts", access_key=c["access_key"], secret_key=c["secret_key"],
                             session_token=c["token"]).get_caller_identity()
        self.assertEqual(me["Arn"], f"arn:aws:sts::{ACCT}:assumed-role/lcbackup/web-chain")
        log = self.sim.requests(operation="AssumeRoleWithWebIdentity")
        self.assertIsNone(log[-1]["access_key"])

    def test_cli_get_caller_identity(self):
        rc, out, errtext = simtest.aws_cli(self.sim, "sts", "get-caller-identity")
        self.assertEqual(rc, 0, errtext)
        self.assertEqual(json.loads(out)["Account"], ACCT)


class Kms(Base):
    def test_create_describe_alias(self):
        kms = self.sim.client("kms")
        md = kms.create_key(Description="unit")["KeyMetadata"]
        self.assertEqual(md["KeyState"], "Enabled")
        self.assertEqual(md["Arn"], f"arn:aws:kms:eu-west-1:{ACCT}:key/{md['KeyId']}")
        kms.create_alias(AliasName="alias/unit-test", TargetKeyId=md["KeyId"])
        for ref in (md["KeyId"], md["Arn"], "alias/unit-test",
                    f"arn:aws:kms:eu-west-1:{ACCT}:alias/unit-test"):
            self.assertEqual(kms.describe_key(KeyId=ref)["KeyMetadata"]["KeyId"], md["KeyId"],
                             ref)
        kn = self.sim.client("kms", retries=NORETRY)
        self.raises(lambda: kn.create_alias(AliasName="alias/unit-test",
                                            TargetKeyId=md["KeyId"]),
                    "AlreadyExistsException", 400)
        self.raises(lambda: kn.create_alias(AliasName="alias/aws/mine",
                                            TargetKeyId=md["KeyId"]),
                    "NotAuthorizedException", 400)
        self.raises(lambda: kn.describe_key(KeyId="alias/nope"), "NotFoundException", 400)
        aliases = kms.list_aliases(KeyId=md["KeyId"])["Aliases"]
        self.assertEqual([a["AliasName"] for a in aliases], ["alias/unit-test"])
        pages = kms.get_paginator("list_aliases").paginate(PaginationConfig={"PageSize": 1})
        self.assertIn("alias/unit-test", [a["AliasName"] for p in pages for a in p["Aliases"]])

    def test_data_keys_and_encrypt_decrypt(self):
        kms = self.sim.client("kms")
        key = kms.create_key()["KeyMetadata"]
        dk = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
        self.assertEqual(len(dk["Plaintext"]), 32)
        self.assertEqual(dk["KeyId"], key["Arn"])
        self.assertEqual(len(kms.generate_data_key(KeyId=key["KeyId"],
                                                   NumberOfBytes=64)["Plaintext"]), 64)
        self.assertEqual(len(kms.generate_data_key(KeyId=key["KeyId"],
                                                   KeySpec="AES_128")["Plaintext"]), 16)
        d = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"])
        self.assertEqual((d["Plaintext"], d["KeyId"]), (dk["Plaintext"], key["Arn"]))
        self.assertNotIn(dk["Plaintext"], dk["CiphertextBlob"])
        kn = self.sim.client("kms", retries=NORETRY)
        self.raises(lambda: kn.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256",
                                                 NumberOfBytes=32), "ValidationException")
        ctx = {"backup": "run-7"}
        blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"manifest key",
                           EncryptionContext=ctx)["CiphertextBlob"]
        self.assertEqual(kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["Plaintext"],
                         b"manifest key")
        self.raises(lambda: kn.decrypt(CiphertextBlob=blob), "InvalidCiphertextException")
        self.raises(lambda: kn.decrypt(CiphertextBlob=blob, EncryptionContext={"backup": "x"}),
                    "InvalidCiphertextException")
        tampered = bytearray(blob)
        tampered[60] ^= 1
        self.raises(lambda: kn.decrypt(CiphertextBlob=bytes(tampered), EncryptionContext=ctx),
                    "InvalidCiphertextException")
        other = kms.create_key()["KeyMetadata"]
        self.raises(lambda: kn.decrypt(CiphertextBlob=blob, EncryptionContext=ctx,
                                       KeyId=other["KeyId"]), "IncorrectKeyException")

    def test_disabled_and_unknown_keys(self):
        kms = self.sim.client("kms")
        kn = self.sim.client("kms", retries=NORETRY)
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
        kms.disable_key(KeyId=key)
        self.assertEqual(kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"], "Disabled")
        self.raises(lambda: kn.decrypt(CiphertextBlob=blob), "DisabledException")
        self.raises(lambda: kn.generate_data_key(KeyId=key, KeySpec="AES_256"),
                    "DisabledException")
        kms.enable_key(KeyId=key)
        self.assertEqual(kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"x")
        self.raises(lambda: kn.encrypt(KeyId="1234abcd-12ab-34cd-56ef-1234567890ab",
                                       Plaintext=b"x"), "NotFoundException")
        # keys are per region: a blob from eu-west-1 means nothing in eu-central-1
        fra = self.sim.client("kms", region="eu-central-1", retries=NORETRY)
        self.raises(lambda: fra.decrypt(CiphertextBlob=blob), "AccessDeniedException")
        self.raises(lambda: fra.describe_key(KeyId=key), "NotFoundException")
        kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
        self.raises(lambda: kn.decrypt(CiphertextBlob=blob), "KMSInvalidStateException")

    def test_control_disable_hook(self):
        kms = self.sim.client("kms")
        kn = self.sim.client("kms", retries=NORETRY)
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        self.sim.control("POST", "/kms/disable", {"key": key})
        self.raises(lambda: kn.encrypt(KeyId=key, Plaintext=b"x"), "DisabledException")
        self.sim.control("POST", "/kms/enable", {"key": key})
        kn.encrypt(KeyId=key, Plaintext=b"x")

    def test_cli_encrypt_decrypt(self):
        key = self.sim.client("kms").create_key()["KeyMetadata"]["KeyId"]
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "plain")
            with open(src, "wb") as f:
                f.write(b"cli secret")
            rc, out, e = simtest.aws_cli(self.sim, "kms", "encrypt", "--key-id", key,
                                         "--plaintext", f"fileb://{src}", "--output", "text",
                                         "--query", "CiphertextBlob")
            self.assertEqual(rc, 0, e)
            blob = os.path.join(d, "blob")
            with open(blob, "wb") as f:
                f.write(base64.b64decode(out.strip()))
            rc, out, e = simtest.aws_cli(self.sim, "kms", "decrypt", "--ciphertext-blob",
                                         f"fileb://{blob}", "--output", "text", "--query",
                                         "Plaintext")
            self.assertEqual(rc, 0, e)
            self.assertEqual(base64.b64decode(out.strip()), b"cli secret")


class KmsForModules(unittest.TestCase):
    """ctx.kms as the other service modules use it, and the LegoCity seed (in-process)."""

    def setUp(self):
        from simlib.core import World
        self.dir = tempfile.TemporaryDirectory()
        self.world = World(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def test_ctx_kms(self):
        ctx = self.world.context("ssm", "eu-west-1")
        arn = ctx.kms.resolve_key("alias/aws/ssm")
        self.assertTrue(arn.startswith(f"arn:aws:kms:eu-west-1:{ACCT}:key/"))
        self.assertEqual(ctx.kms.resolve_key("alias/aws/ssm"), arn)   # created once
        self.assertIsNone(ctx.kms.resolve_key("alias/missing"))
        blob = ctx.kms.encrypt("alias/aws/ssm", b"param value")
        self.assertEqual(ctx.kms.decrypt(blob), (arn, b"param value"))
        self.assertIsNone(ctx.for_region("eu-central-1").kms.resolve_key(arn))

    def test_seed_is_idempotent_and_per_region(self):
        from simlib import kms
        ctx = self.world.context("kms", "eu-west-1")
        kms.seed(ctx)
        kms.seed(ctx)
        arns = set()
        for region in ("eu-west-1", "eu-central-1"):
            api = kms.KmsApi(self.world, region)
            self.assertEqual(list(api.aliases()), ["alias/legocity-backups"])
            self.assertEqual(len(api.keys()), 1)
            arns.add(api.resolve_key("alias/legocity-backups"))
        self.assertEqual(len(arns), 2)


if __name__ == "__main__":
    unittest.main()
