#!/usr/bin/python3
"""A tiny HTTP stub on 127.0.0.1 for the unit tests of lib/ext/http.c and lib/aws (http_test.c,
creds_test.c, retry_test.c): ECS container credentials, EC2 IMDSv2, STS (AssumeRole,
AssumeRoleWithWebIdentity, GetCallerIdentity) and a generic AWS endpoint that checks every SigV4
signature with botocore's own signer. Scripted answers and a request log come through /_ control
paths. Prints its port on stdout, then serves until killed (or stdin closes).

    /usr/bin/python3 tests/unit/aws_stub.py     # env: STUB_SECRET, STUB_CONTAINER_TOKEN
"""
import email.utils
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SECRETS = {}  # access key id -> (secret, token)
LOCK = threading.Lock()
SCRIPT = []  # scripted answers: {"path": prefix or "", "status", "body", "headers", "delay"}
LOG = []
STATE = {"skew": 0, "serial": 0, "expires_in": 3600, "imds_token": "imds-token-123"}


def register(akid, secret, token=None):
    SECRETS[akid] = (secret, token)


register("AKIDSTUB", os.environ.get("STUB_SECRET", "stub/secret+KEY"), None)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def verify(h, body):
    """'' when h's SigV4 signature is right (or absent), else the reason."""
    auth = h.headers.get("Authorization")
    if not auth or not auth.startswith("AWS4-HMAC-SHA256"):
        return ""  # unsigned, or a container-credentials token
    try:
        scope = auth.split("Credential=")[1].split(",")[0].split("/")
        signed = auth.split("SignedHeaders=")[1].split(",")[0].strip().split(";")
        got = auth.split("Signature=")[1].strip()
    except IndexError:
        return "malformed Authorization"
    akid, region, service = scope[0], scope[2], scope[3]
    if akid not in SECRETS:
        return "unknown access key " + akid
    secret, token = SECRETS[akid]
    if token and h.headers.get("X-Amz-Security-Token") != token:
        return "wrong session token"
    headers = {}
    for name in signed:
        if name != "host":
            headers[name] = ",".join(h.headers.get_all(name) or [])
    url = "http://%s%s" % (h.headers["Host"], h.path)
    req = AWSRequest(method=h.command, url=url, headers=headers, data=body)
    req.context["timestamp"] = h.headers.get("X-Amz-Date", "")
    cls = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = cls(Credentials(akid, secret, token), service, region)
    creq = signer.canonical_request(req)
    want = signer.signature(signer.string_to_sign(req, creq), req)
    return "" if want == got else "signature mismatch; canonical request was:\n" + creq


def sts_answer(action, params):
    STATE["serial"] += 1
    akid = "ASIASTS%04d" % STATE["serial"]
    secret, token = "sts-secret-%d" % STATE["serial"], "sts-token-%d/+=" % STATE["serial"]
    register(akid, secret, token)
    return ("<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><%sResult>"
            "<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
            "<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>"
            "<AssumedRoleUser><Arn>%s/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>"
            "</%sResult><ResponseMetadata><RequestId>r-%d</RequestId></ResponseMetadata></%sResponse>"
            % (action, action, akid, secret, token.replace("&", "&amp;"),
               iso(time.time() + STATE["expires_in"]), params.get("RoleArn", ""), action,
               STATE["serial"], action))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(time.time() + STATE["skew"], usegmt=True)

    def reply(self, status, body=b"", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def control(self, path, body):
        if path == "/_script":
            with LOCK:
                SCRIPT.extend(json.loads(body))
            return self.reply(200, "{}")
        if path == "/_state":
            STATE.update(json.loads(body))
            return self.reply(200, "{}")
        if path == "/_log":
            with LOCK:
                out = json.dumps(LOG)
                if self.command == "DELETE":
                    LOG.clear()
            return self.reply(200, out, {"Content-Type": "application/json"})
        return self.reply(404, "no such control path")

    def scripted(self):
        with LOCK:
            for i, s in enumerate(SCRIPT):
                if self.path.startswith(s.get("path", "")):
                    return SCRIPT.pop(i)
        return None

    def handle_any(self):
        body = self.read_body()
        path = urlsplit(self.path).path
        if path.startswith("/_"):
            return self.control(path, body)
        bad = verify(self, body)
        with LOCK:
            LOG.append({"method": self.command, "path": self.path, "port": self.client_address[1],
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body_len": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                        "sig": "bad: " + bad if bad else (
                            "ok" if self.headers.get("Authorization", "").startswith("AWS4")
                            else "none")})
        s = self.scripted()
        if s:
            time.sleep(s.get("delay", 0))
            return self.reply(s.get("status", 200), s.get("body", ""), s.get("headers"))
        if bad:
            return self.reply(403, "<ErrorResponse><Error><Type>Sender</Type><Code>"
                              "SignatureDoesNotMatch</Code><Message>%s</Message></Error>"
                              "</ErrorResponse>" % bad.split(";")[0])
        return self.route(path, body)

    def route(self, path, body):
        if path == "/creds":
            want = os.environ.get("STUB_CONTAINER_TOKEN", "container-token-1")
            if self.headers.get("Authorization") != want:
                return self.reply(401, "bad token")
            STATE["serial"] += 1
            return self.reply(200, json.dumps({
                "AccessKeyId": "ASIACONT%04d" % STATE["serial"], "SecretAccessKey": "cont-secret",
                "Token": "cont-token", "Expiration": iso(time.time() + STATE["expires_in"]),
                "RoleArn": "arn:aws:iam::123456789012:role/task"}))
        if path == "/latest/api/token" and self.command == "PUT":
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400, "missing ttl")
            return self.reply(200, STATE["imds_token"])
        if path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") != STATE["imds_token"]:
                return self.reply(401, "")
            role = path.rsplit("/", 1)[1]
            if not role:
                return self.reply(200, "lcb-role\n")
            STATE["serial"] += 1
            return self.reply(200, json.dumps({
                "Code": "Success", "Type": "AWS-HMAC", "LastUpdated": iso(time.time()),
                "AccessKeyId": "ASIAIMDS%04d" % STATE["serial"], "SecretAccessKey": "imds-secret",
                "Token": "imds-session", "Expiration": iso(time.time() + STATE["expires_in"])}))
        if path == "/slow":
            time.sleep(2)
            return self.reply(200, "late")
        if path == "/big":
            return self.reply(200, b"x" * 100000)
        if path == "/echo":
            return self.reply(200, body)
        params = dict(parse_qsl(body.decode(errors="replace")))
        action = params.get("Action")
        if action in ("AssumeRole", "AssumeRoleWithWebIdentity"):
            if action == "AssumeRole" and "Authorization" not in self.headers:
                return self.reply(403, "<ErrorResponse><Error><Code>MissingAuthenticationToken"
                                  "</Code></Error></ErrorResponse>")
            if action == "AssumeRoleWithWebIdentity" and params.get("WebIdentityToken") != \
                    os.environ.get("STUB_WEB_TOKEN", "oidc-token"):
                return self.reply(400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
                                  "<Message>bad token</Message></Error></ErrorResponse>")
            return self.reply(200, sts_answer(action, params))
        if action == "GetCallerIdentity":
            return self.reply(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>"
                              "arn:aws:iam::123456789012:user/stub</Arn><UserId>AIDASTUB</UserId>"
                              "<Account>123456789012</Account></GetCallerIdentityResult>"
                              "</GetCallerIdentityResponse>")
        return self.reply(200, "<ok/>", {"x-amz-request-id": "req-1"})

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that time out or go away on purpose are not news


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()  # the test closes our stdin (or dies): stop


if __name__ == "__main__":
    main()
