"""Framework conformance: lcsim CLI, routing, envelopes, SigV4 verification, control API,
fault injection, request log, clocks, restart."""

import hashlib
import hmac
import json
import os
import subprocess
import time
import unittest
import urllib.request

import botocore.exceptions

import simtest

EMPTY = hashlib.sha256(b"").hexdigest()
B = "core-bucket"
NORETRY = {"total_max_attempts": 1}


def err(exc):
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


class Core(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.Sim.start()
        cls.s3 = cls.sim.client("s3", retries=NORETRY)
        cls.s3.create_bucket(Bucket=B, CreateBucketConfiguration={"LocationConstraint":
                                                                  "eu-west-1"})

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.sim.control("DELETE", "/faults")
        self.sim.control("DELETE", "/clock")

    def raises(self, fn, code, status=None):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn()
        got = err(cm.exception)
        self.assertEqual(got[0], code, cm.exception.response)
        if status is not None:
            self.assertEqual(got[1], status)
        return cm.exception

    # -- CLI and env ------------------------------------------------------------------------
    def test_env_file_has_contract_exports(self):
        for k in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                  "LCSIM_BROKER_URL", "LCSIM_CONTROL_URL", "LCSIM_STATE"):
            self.assertIn(k, self.sim.env)
        self.assertTrue(self.sim.env["AWS_ACCESS_KEY_ID"].startswith("AKIA"))
        self.assertEqual(len(self.sim.env["AWS_SECRET_ACCESS_KEY"]), 40)
        self.assertEqual(self.sim.env["AWS_REGION"], "eu-west-1")
        self.assertTrue(self.sim.env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:"))
        ports = json.loads((self.sim.state_dir / "ports.json").read_text())
        self.assertEqual(self.sim.endpoint, f"http://127.0.0.1:{ports['aws']}")
        # the env file is sourceable by sh
        out = subprocess.run(["sh", "-c", f". {self.sim.state_dir}/env && echo $LCSIM_STATE"],
                             capture_output=True, text=True)
        self.assertEqual(out.stdout.strip(), str(self.sim.state_dir))

    def test_status_and_up_is_noop_when_running(self):
        pid = (self.sim.state_dir / "sim.pid").read_text().strip()
        st = subprocess.run([simtest.PYTHON, str(simtest.LCSIM), "status", "--state",
                             str(self.sim.state_dir)], capture_output=True, text=True)
        self.assertEqual(st.returncode, 0)
        self.assertIn(f"pid={pid}", st.stdout)
        up = subprocess.run([simtest.PYTHON, str(simtest.LCSIM), "up", "--state",
                             str(self.sim.state_dir)], capture_output=True, text=True)
        self.assertEqual(up.returncode, 0, up.stderr)
        self.assertEqual(up.stdout.strip(), str(self.sim.state_dir / "env"))
        self.assertEqual((self.sim.state_dir / "sim.pid").read_text().strip(), pid)

    def test_status_of_stopped_dir(self):
        d = self.sim.state_dir / "not-a-sim"
        d.mkdir(exist_ok=True)
        st = subprocess.run([simtest.PYTHON, str(simtest.LCSIM), "status", "--state", str(d)],
                            capture_output=True, text=True)
        self.assertEqual(st.returncode, 3)
        self.assertIn("stopped", st.stdout)

    def test_binds_loopback_only(self):
        ports = json.loads((self.sim.state_dir / "ports.json").read_text())
        with open("/proc/net/tcp") as f:
            lines = f.read().splitlines()[1:]
        listening = {}
        for ln in lines:
            cols = ln.split()
            if cols[3] == "0A":     # LISTEN
                ip_hex, port_hex = cols[1].split(":")
                listening[int(port_hex, 16)] = ip_hex
        for name in ("aws", "control"):
            self.assertEqual(listening.get(ports[name]), "0100007F", name)

    # -- routing and envelopes --------------------------------------------------------------
    def test_missing_module_answers_501_in_protocol_shape(self):
        h = self.sim.control("GET", "/health")
        if "secretsmanager" in h["modules"]:
            self.skipTest("secretsmanager module exists now")
        sm = self.sim.client("secretsmanager", retries=NORETRY)
        e = self.raises(lambda: sm.list_secrets(), "NotImplemented", 501)
        self.assertIn("secretsmanager", e.response["Error"]["Message"])

    def test_unknown_service_scope(self):
        r = simtest.signed_request(self.sim, "POST", "/", "lambda",
                                   headers={"X-Amz-Target": "AWSLambda.ListFunctions",
                                            "Content-Type": "application/x-amz-json-1.1"},
                                   body=b"{}")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.error_code(), "UnknownService")

    def test_query_error_envelope(self):
        sts = self.sim.client("sts", retries=NORETRY)
        r = simtest.signed_request(self.sim, "POST", "/", "sts", body=b"Action=Nope&Version="
                                   b"2011-06-15", headers={"Content-Type":
                                                           "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 400)
        body = r.body.decode()
        self.assertIn("<ErrorResponse", body)
        self.assertIn("<Type>Sender</Type>", body)
        self.assertIn("<Code>InvalidAction</Code>", body)
        self.assertIn("<RequestId>", body)
        self.assertTrue(sts.get_caller_identity()["Arn"].endswith(":user/lcbackup-test"))

    def test_json_error_envelope(self):
        r = simtest.signed_request(self.sim, "POST", "/", "kms",
                                   headers={"X-Amz-Target": "TrentService.DescribeKey",
                                            "Content-Type": "application/x-amz-json-1.1"},
                                   body=b'{"KeyId": "alias/does-not-exist"}')
        self.assertEqual(r.status, 400)
        self.assertEqual(r.header("x-amzn-ErrorType"), "NotFoundException")
        self.assertEqual(json.loads(r.body)["__type"], "NotFoundException")
        self.assertIn("message", json.loads(r.body))

    def test_s3_error_envelope(self):
        r = simtest.signed_request(self.sim, "GET", f"/{B}/no/such/key", "s3")
        self.assertEqual(r.status, 404)
        body = r.body.decode()
        for tag in ("<Code>NoSuchKey</Code>", "<Message>", "<Resource>", "<RequestId>",
                    "<Key>no/such/key</Key>"):
            self.assertIn(tag, body)
        self.assertTrue(r.header("x-amz-request-id"))

    # -- SigV4 ------------------------------------------------------------------------------
    def test_wrong_secret_per_protocol(self):
        bad = "x" * 40
        s3 = self.sim.client("s3", secret_key=bad, retries=NORETRY)
        self.raises(lambda: s3.list_objects_v2(Bucket=B), "SignatureDoesNotMatch", 403)
        sts = self.sim.client("sts", secret_key=bad, retries=NORETRY)
        self.raises(lambda: sts.get_caller_identity(), "SignatureDoesNotMatch", 403)
        kms = self.sim.client("kms", secret_key=bad, retries=NORETRY)
        self.raises(lambda: kms.list_keys(), "InvalidSignatureException", 400)

    def test_unknown_key_per_protocol(self):
        kw = {"access_key": "AKIAAAAAAAAAAAAAAAAA", "retries": NORETRY}
        self.raises(lambda: self.sim.client("s3", **kw).list_objects_v2(Bucket=B),
                    "InvalidAccessKeyId", 403)
        self.raises(lambda: self.sim.client("sts", **kw).get_caller_identity(),
                    "InvalidClientTokenId", 403)
        self.raises(lambda: self.sim.client("kms", **kw).list_keys(),
                    "UnrecognizedClientException", 400)

    def test_signature_error_shows_canonical_request(self):
        s3 = self.sim.client("s3", secret_key="y" * 40, retries=NORETRY)
        e = self.raises(lambda: s3.get_object(Bucket=B, Key="a b+c"), "SignatureDoesNotMatch")
        body = e.response["Error"]
        self.assertIn(f"/{B}/a%20b%2Bc", body.get("CanonicalRequest", ""))

    def test_tampered_signed_header(self):
        def mutate(m):
            m["headers"]["x-amz-meta-owner"] = "mallory"
        r = simtest.signed_request(self.sim, "PUT", f"/{B}/tamper", "s3", body=b"x",
                                   headers={"x-amz-meta-owner": "alice"}, mutate=mutate)
        self.assertEqual((r.status, r.error_code()), (403, "SignatureDoesNotMatch"))

    def test_tampered_query(self):
        def mutate(m):
            m["path"] = f"/{B}?list-type=2&prefix=b"
        r = simtest.signed_request(self.sim, "GET", f"/{B}?list-type=2&prefix=a", "s3",
                                   mutate=mutate)
        self.assertEqual((r.status, r.error_code()), (403, "SignatureDoesNotMatch"))
        ok = simtest.signed_request(self.sim, "GET", f"/{B}?list-type=2&prefix=a", "s3")
        self.assertEqual(ok.status, 200)

    def test_tampered_payload_hash(self):
        # header says sha256(A), body is B: the signature is fine, the payload is not
        r = simtest.signed_request(self.sim, "PUT", f"/{B}/payload", "s3", body=b"B" * 10,
                                   payload_hash=hashlib.sha256(b"A" * 10).hexdigest())
        self.assertEqual((r.status, r.error_code()), (400, "XAmzContentSHA256Mismatch"))
        self.raises(lambda: self.s3.head_object(Bucket=B, Key="payload"), "404")

        # changing the signed hash header after signing breaks the signature
        def mutate(m):
            m["headers"]["X-Amz-Content-SHA256"] = hashlib.sha256(b"C").hexdigest()
            m["body"] = b"C"
        r = simtest.signed_request(self.sim, "PUT", f"/{B}/payload", "s3", body=b"A",
                                   mutate=mutate)
        self.assertEqual((r.status, r.error_code()), (403, "SignatureDoesNotMatch"))

        # non-S3: the body hash is part of the signature
        def mutate_body(m):
            m["body"] = b'{"Limit": 2}'
        r = simtest.signed_request(self.sim, "POST", "/", "kms", body=b'{"Limit": 1}',
                                   headers={"X-Amz-Target": "TrentService.ListKeys",
                                            "Content-Type": "application/x-amz-json-1.1"},
                                   mutate=mutate_body)
        self.assertEqual((r.status, r.error_code()), (400, "InvalidSignatureException"))

    def test_unsigned_payload_accepted(self):
        r = simtest.signed_request(self.sim, "PUT", f"/{B}/unsigned", "s3", body=b"data",
                                   payload_hash="UNSIGNED-PAYLOAD")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.s3.get_object(Bucket=B, Key="unsigned")["Body"].read(), b"data")

    def test_s3_requires_content_sha256(self):
        def mutate(m):
            del m["headers"]["X-Amz-Content-SHA256"]
        r = simtest.signed_request(self.sim, "GET", f"/{B}?list-type=2", "s3", mutate=mutate)
        self.assertEqual((r.status, r.error_code()), (400, "InvalidRequest"))

    def test_missing_authentication(self):
        r = simtest.send_raw(self.sim, "GET", f"/{B}?list-type=2")
        self.assertEqual((r.status, r.error_code()), (403, "AccessDenied"))
        r = simtest.send_raw(self.sim, "POST", "/", b"{}", {
            "X-Amz-Target": "TrentService.ListKeys",
            "Content-Type": "application/x-amz-json-1.1"})
        self.assertEqual((r.status, r.error_code()), (400, "MissingAuthenticationTokenException"))
        r = simtest.send_raw(self.sim, "POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15",
                             {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((r.status, r.error_code()), (403, "MissingAuthenticationToken"))

    def test_clock_skew_per_protocol(self):
        # the server's clock runs 20 minutes ahead: every request is too old
        self.sim.control("POST", "/clock", {"auth_skew": 1200})
        try:
            e = self.raises(lambda: self.s3.list_objects_v2(Bucket=B), "RequestTimeTooSkewed",
                            403)
            self.assertEqual(e.response["Error"].get("MaxAllowedSkewMilliseconds"), "900000")
            sts = self.sim.client("sts", retries=NORETRY)
            e = self.raises(lambda: sts.get_caller_identity(), "SignatureDoesNotMatch", 403)
            self.assertIn("Signature expired", e.response["Error"]["Message"])
            kms = self.sim.client("kms", retries=NORETRY)
            e = self.raises(lambda: kms.list_keys(), "InvalidSignatureException", 400)
            self.assertIn("Signature expired", e.response["Error"]["Message"])
            # within 15 minutes is fine
            self.sim.control("POST", "/clock", {"auth_skew": 600})
            self.s3.list_objects_v2(Bucket=B)
        finally:
            self.sim.control("POST", "/clock", {"auth_skew": 0})

    def test_world_clock_offset_does_not_break_signing(self):
        self.sim.control("POST", "/clock", {"offset": 86400 * 30})
        self.s3.put_object(Bucket=B, Key="future", Body=b"x")
        lm = self.s3.head_object(Bucket=B, Key="future")["LastModified"].timestamp()
        self.assertGreater(lm, time.time() + 86400 * 29)
        got = self.sim.control("GET", "/clock")
        self.assertEqual(got["offset"], 86400 * 30)
        self.sim.control("POST", "/clock", {"advance": 10})
        self.assertEqual(self.sim.control("GET", "/clock")["offset"], 86400 * 30 + 10)

    def test_presigned_get_valid_tampered_expired(self):
        self.s3.put_object(Bucket=B, Key="pre/sign d", Body=b"presigned body")
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": B,
                                                                   "Key": "pre/sign d"},
                                             ExpiresIn=300)
        with urllib.request.urlopen(url) as r:
            self.assertEqual(r.read(), b"presigned body")
        path = url[len(self.sim.endpoint):]
        r = simtest.send_raw(self.sim, "GET", path.replace("X-Amz-Expires=300",
                                                           "X-Amz-Expires=301"))
        self.assertEqual((r.status, r.error_code()), (403, "SignatureDoesNotMatch"))
        short = self.s3.generate_presigned_url("get_object", Params={"Bucket": B,
                                                                     "Key": "pre/sign d"},
                                               ExpiresIn=1)
        time.sleep(2.1)
        r = simtest.send_raw(self.sim, "GET", short[len(self.sim.endpoint):])
        self.assertEqual((r.status, r.error_code()), (403, "AccessDenied"))
        self.assertIn(b"Request has expired", r.body)

    def test_presigned_put(self):
        url = self.s3.generate_presigned_url("put_object", Params={"Bucket": B, "Key": "pput"},
                                             ExpiresIn=60)
        req = urllib.request.Request(url, data=b"uploaded via url", method="PUT")
        with urllib.request.urlopen(req) as r:
            self.assertEqual(r.status, 200)
        self.assertEqual(self.s3.get_object(Bucket=B, Key="pput")["Body"].read(),
                         b"uploaded via url")

    def test_session_token_checked(self):
        sts = self.sim.client("sts")
        c = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/lcbackup",
                            RoleSessionName="core")["Credentials"]
        good = self.sim.client("s3", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"],
                               session_token=c["SessionToken"], retries=NORETRY)
        good.list_objects_v2(Bucket=B)
        bad = self.sim.client("s3", access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"],
                              session_token=c["SessionToken"][:-4] + "AAAA",
                              retries=NORETRY)
        self.raises(lambda: bad.list_objects_v2(Bucket=B), "InvalidToken", 400)
        missing = self.sim.client("sts", access_key=c["AccessKeyId"],
                                  secret_key=c["SecretAccessKey"], retries=NORETRY)
        self.raises(lambda: missing.get_caller_identity(), "InvalidClientTokenId", 403)

    def test_aws_chunked_signed_upload(self):
        data = os.urandom(70000)
        chunks = [data[i:i + 65536] for i in range(0, len(data), 65536)] + [b""]
        self._chunked_put("chunked-signed", data, chunks, good=True)
        self.assertEqual(self.s3.get_object(Bucket=B, Key="chunked-signed")["Body"].read(), data)
        self._chunked_put("chunked-bad", data, chunks, good=False)

    def _chunked_put(self, key, data, chunks, good):
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        seed = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

        class Signer(S3SigV4Auth):
            def payload(self, request):
                return seed
        req = AWSRequest(method="PUT", url=f"{self.sim.endpoint}/{B}/{key}", data=b"",
                         headers={"Content-Encoding": "aws-chunked",
                                  "x-amz-decoded-content-length": str(len(data))})
        Signer(Credentials(self.sim.access_key, self.sim.secret_key), "s3",
               "eu-west-1").add_auth(req)
        auth = req.headers["Authorization"]
        prev = auth.split("Signature=")[1]
        ts = req.headers["X-Amz-Date"]
        scope = f"{ts[:8]}/eu-west-1/s3/aws4_request"
        k = hmac.new(("AWS4" + self.sim.secret_key).encode(), ts[:8].encode(),
                     hashlib.sha256).digest()
        for part in ("eu-west-1", "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        body = b""
        for i, c in enumerate(chunks):
            sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", ts, scope, prev, EMPTY,
                             hashlib.sha256(c).hexdigest()])
            sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
            if not good and i == 1:
                sig = "0" * 64
            body += f"{len(c):x};chunk-signature={sig}\r\n".encode() + c + b"\r\n"
            prev = sig
        headers = dict(req.headers.items())
        r = simtest.send_raw(self.sim, "PUT", f"/{B}/{key}", body, headers)
        if good:
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.header("etag"), f"\"{hashlib.md5(data).hexdigest()}\"")
        else:
            self.assertEqual((r.status, r.error_code()), (403, "SignatureDoesNotMatch"))

    def test_aws_chunked_unsigned_trailer(self):
        import zlib
        import base64
        data = b"trailer body " * 1000
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        for trailer, want in ((crc, 200), ("AAAAAA==", 400)):
            body = (f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n" +
                    f"x-amz-checksum-crc32:{trailer}\r\n\r\n".encode())
            r = simtest.signed_request(
                self.sim, "PUT", f"/{B}/trailer", "s3", body=body,
                payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                headers={"Content-Encoding": "aws-chunked", "x-amz-trailer":
                         "x-amz-checksum-crc32", "x-amz-decoded-content-length": str(len(data))})
            self.assertEqual(r.status, want, r.body)
            if want == 400:
                self.assertEqual(r.error_code(), "BadDigest")
        got = self.s3.get_object(Bucket=B, Key="trailer", ChecksumMode="ENABLED")
        self.assertEqual(got["Body"].read(), data)
        self.assertEqual(got["ChecksumCRC32"], crc)

    # -- faults -----------------------------------------------------------------------------
    def test_fault_status_n_times_then_success(self):
        self.s3.put_object(Bucket=B, Key="f1", Body=b"one")
        rule = self.sim.control("POST", "/faults", {"match": {"service": "s3",
                                                              "operation": "GetObject"},
                                                    "action": {"status": 503, "code": "SlowDown",
                                                               "times": 2}})
        for _ in range(2):
            self.raises(lambda: self.s3.get_object(Bucket=B, Key="f1"), "SlowDown", 503)
        self.assertEqual(self.s3.get_object(Bucket=B, Key="f1")["Body"].read(), b"one")
        faults = self.sim.control("GET", "/faults")["faults"]
        self.assertEqual([f["hits"] for f in faults if f["id"] == rule["id"]], [2])
        # botocore's own retries ride over a transient fault
        retrying = self.sim.client("s3", retries={"max_attempts": 3, "mode": "standard"})
        self.sim.control("POST", "/faults", {"service": "s3", "operation": "HeadObject",
                                             "status": 500, "times": 2})
        retrying.head_object(Bucket=B, Key="f1")
        log = self.sim.requests(service="s3", operation="HeadObject")
        self.assertEqual([e["status"] for e in log[-3:]], [500, 500, 200])

    def test_fault_match_by_region_and_prefix(self):
        self.sim.control("POST", "/faults", {"match": {"service": "kms", "region":
                                                       "eu-central-1"},
                                             "action": {"code": "ThrottlingException",
                                                        "times": 1}})
        kms_c = self.sim.client("kms", region="eu-central-1", retries=NORETRY)
        self.sim.client("kms", retries=NORETRY).list_keys()   # other region: fine
        self.raises(lambda: kms_c.list_keys(), "ThrottlingException", 400)
        kms_c.list_keys()
        self.sim.control("POST", "/faults", {"path_prefix": f"/{B}/only-this",
                                             "status": 500, "times": 5})
        self.s3.put_object(Bucket=B, Key="other", Body=b"x")
        self.raises(lambda: self.s3.put_object(Bucket=B, Key="only-this/x", Body=b"x"),
                    "InternalError", 500)

    def test_fault_drop_mid_body(self):
        data = os.urandom(300000)
        self.s3.put_object(Bucket=B, Key="big", Body=data)
        self.sim.control("POST", "/faults", {"match": {"operation": "GetObject"},
                                             "action": {"drop_after_bytes": 1000, "times": 1}})
        with self.assertRaises(Exception) as cm:
            self.s3.get_object(Bucket=B, Key="big")["Body"].read()
        self.assertNotIsInstance(cm.exception, AssertionError)
        self.assertEqual(self.s3.get_object(Bucket=B, Key="big")["Body"].read(), data)
        log = self.sim.requests(operation="GetObject", key="big")
        self.assertEqual(log[-2]["bytes_out"], 1000)
        self.assertIsNotNone(log[-2]["fault"])

    def test_fault_truncate_and_latency_and_close(self):
        self.s3.put_object(Bucket=B, Key="t", Body=b"0123456789")
        self.sim.control("POST", "/faults", {"operation": "GetObject", "truncate_body_bytes": 4,
                                             "times": 1})
        self.assertEqual(self.s3.get_object(Bucket=B, Key="t")["Body"].read(), b"0123")
        self.sim.control("POST", "/faults", {"operation": "HeadObject", "latency_ms": 400,
                                             "times": 1})
        t0 = time.time()
        self.s3.head_object(Bucket=B, Key="t")
        self.assertGreaterEqual(time.time() - t0, 0.4)
        self.sim.control("POST", "/faults", {"operation": "HeadObject", "close": True,
                                             "times": 1})
        with self.assertRaises((botocore.exceptions.ConnectionClosedError,
                                botocore.exceptions.ConnectionError)):
            self.s3.head_object(Bucket=B, Key="t")

    def test_fault_after_phase_runs_the_operation(self):
        self.sim.control("POST", "/faults", {"operation": "PutObject", "status": 500,
                                             "phase": "after", "times": 1})
        self.raises(lambda: self.s3.put_object(Bucket=B, Key="after", Body=b"done"),
                    "InternalError", 500)
        self.assertEqual(self.s3.get_object(Bucket=B, Key="after")["Body"].read(), b"done")

    def test_fault_skew_date(self):
        self.sim.control("POST", "/faults", {"operation": "HeadBucket", "skew_date": -3600,
                                             "status": 403, "code": "RequestTimeTooSkewed",
                                             "times": 1})
        r = simtest.signed_request(self.sim, "HEAD", f"/{B}", "s3")
        self.assertEqual(r.status, 403)
        import email.utils
        d = email.utils.parsedate_to_datetime(r.header("date")).timestamp()
        self.assertLess(abs(d - (time.time() - 3600)), 60)

    def test_fault_probability(self):
        self.sim.control("POST", "/faults", {"operation": "ListKeys", "status": 500,
                                             "probability": 0.5, "seed": 7})
        kms = self.sim.client("kms", retries=NORETRY)
        fails = 0
        for _ in range(40):
            try:
                kms.list_keys()
            except botocore.exceptions.ClientError:
                fails += 1
        self.assertTrue(5 <= fails <= 35, fails)

    def test_bad_fault_spec_is_400(self):
        status, body = self.sim.control("POST", "/faults", {"action": {"explode": True}},
                                        check=False)
        self.assertEqual(status, 400)
        self.assertIn("explode", body["error"])

    # -- request log, counters, knobs ---------------------------------------------------------
    def test_request_log_and_counters(self):
        self.sim.control("DELETE", "/counters")
        up = self.s3.create_multipart_upload(Bucket=B, Key="logged")["UploadId"]
        self.s3.upload_part(Bucket=B, Key="logged", UploadId=up, PartNumber=1, Body=b"p")
        self.s3.abort_multipart_upload(Bucket=B, Key="logged", UploadId=up)
        log = self.sim.requests(service="s3", key="logged")
        self.assertEqual([e["operation"] for e in log[-3:]],
                         ["CreateMultipartUpload", "UploadPart", "AbortMultipartUpload"])
        self.assertEqual({e["upload_id"] for e in log[-3:]}, {up})
        self.assertEqual(log[-2]["part_number"], "1")
        self.assertEqual(log[-3]["region"], "eu-west-1")
        c = self.sim.control("GET", "/counters")
        self.assertEqual(c["by_operation"]["s3.UploadPart"], 1)
        self.assertGreaterEqual(c["requests"], 3)
        since = log[-1]["seq"]
        self.s3.head_bucket(Bucket=B)
        newer = self.sim.requests(since=since)
        self.assertEqual([e["operation"] for e in newer], ["HeadBucket"])

    def test_delays_and_holds_knobs(self):
        self.sim.control("POST", "/delays", {"rds.snapshot": 2.5})
        self.assertEqual(self.sim.control("GET", "/delays")["delays"]["rds.snapshot"], 2.5)
        self.sim.control("POST", "/holds", {"ebs.snapshot": True})
        self.assertEqual(self.sim.control("GET", "/holds")["holds"], ["ebs.snapshot"])
        self.sim.control("DELETE", "/holds")
        self.sim.control("DELETE", "/delays")
        self.assertEqual(self.sim.control("GET", "/holds")["holds"], [])

    def test_unknown_control_route(self):
        status, body = self.sim.control("GET", "/nope", check=False)
        self.assertEqual(status, 404)


class Restart(unittest.TestCase):
    """A restart keeps objects, credentials and ports; reset wipes on request."""

    def test_restart_keeps_state_and_ports(self):
        sim = simtest.Sim.start()
        try:
            s3 = sim.client("s3")
            s3.create_bucket(Bucket="keep", CreateBucketConfiguration={"LocationConstraint":
                                                                       "eu-west-1"})
            s3.put_object(Bucket="keep", Key="keep/me", Body=b"persisted")
            kms = sim.client("kms")
            key = kms.create_key()["KeyMetadata"]["KeyId"]
            blob = kms.encrypt(KeyId=key, Plaintext=b"k")["CiphertextBlob"]
            env_before = dict(sim.env)
            pid = (sim.state_dir / "sim.pid").read_text()
            sim.restart()
            self.assertNotEqual((sim.state_dir / "sim.pid").read_text(), pid)
            self.assertEqual(sim.env, env_before)
            s3 = sim.client("s3")
            self.assertEqual(s3.get_object(Bucket="keep", Key="keep/me")["Body"].read(),
                             b"persisted")
            self.assertEqual(sim.client("kms").decrypt(CiphertextBlob=blob)["Plaintext"], b"k")
            sim.control("POST", "/reset", {"state": True})
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                s3.head_bucket(Bucket="keep")
            self.assertEqual(err(cm.exception)[1], 404)
        finally:
            sim.stop(keep=True)
        st = subprocess.run([simtest.PYTHON, str(simtest.LCSIM), "status", "--state",
                             str(sim.state_dir)], capture_output=True, text=True)
        self.assertEqual(st.returncode, 3)
        self.assertFalse((sim.state_dir / "sim.pid").exists())
        import shutil
        shutil.rmtree(sim.state_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
