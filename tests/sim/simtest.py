"""unittest helpers for everything under tests/sim.

    import simtest
    class T(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            cls.sim = simtest.Sim.start(seed=None)      # or seed="legocity", sizes={...}
        @classmethod
        def tearDownClass(cls):
            cls.sim.stop()
        def test_x(self):
            s3 = self.sim.client("s3")                  # botocore client on the sim
            self.sim.control("POST", "/faults", {...})  # control API -> parsed JSON
            rc, out, err = simtest.aws_cli(self.sim, "s3", "ls")

One Sim per test module keeps the suite fast. Sims still running at exit are stopped.
"""

import atexit
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
LCSIM = HERE / "lcsim"
PYTHON = "/usr/bin/python3"
AWS_CLI = "/usr/bin/aws"

_running = []


def _read_env(path):
    env = {}
    for line in pathlib.Path(path).read_text().splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            parts = shlex.split(v)
            env[k] = parts[0] if parts else ""
    return env


class ControlError(Exception):
    def __init__(self, status, body):
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


class Sim:
    """A running simulator in its own state directory."""

    def __init__(self, state_dir, broker_profile, own_dir):
        self.state_dir = pathlib.Path(state_dir)
        self.broker_profile = broker_profile
        self._own_dir = own_dir
        self.env = {}
        self._clients = {}

    @classmethod
    def start(cls, seed=None, broker_profile="orion-ld", sizes=None, state_dir=None,
              seed_services=None):
        """Run `lcsim up` in a new temporary state dir (or state_dir). seed_services, e.g.
        ["kms", "s3"], seeds only those modules' part of `seed` (faster: no PostgreSQL)."""
        own = state_dir is None
        if own:
            state_dir = tempfile.mkdtemp(prefix="lcsim-")
        sim = cls(state_dir, broker_profile, own)
        _running.append(sim)
        try:
            sim._up(None if seed_services else seed, sizes)
            if seed and seed_services:
                res = sim.control("POST", "/seed", {"name": seed, "sizes": sizes or {},
                                                    "services": list(seed_services)})
                bad = {k: v for k, v in res.items() if v != "ok"}
                if bad:
                    raise RuntimeError(f"seed {seed} failed: {bad}")
        except BaseException:
            sim.stop(keep=True)
            raise
        return sim

    def _up(self, seed=None, sizes=None):
        cmd = [PYTHON, str(LCSIM), "up", "--state", str(self.state_dir),
               "--broker-profile", self.broker_profile]
        if seed:
            cmd += ["--seed", seed]
        if sizes:
            cmd += ["--sizes", ",".join(f"{k}={v}" for k, v in sizes.items())]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            raise RuntimeError(f"lcsim up failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        self.env = _read_env(self.state_dir / "env")
        self._clients = {}

    @property
    def endpoint(self):
        return self.env["AWS_ENDPOINT_URL"]

    @property
    def broker_url(self):
        return self.env.get("LCSIM_BROKER_URL") or None

    @property
    def control_url(self):
        return self.env["LCSIM_CONTROL_URL"]

    @property
    def access_key(self):
        return self.env["AWS_ACCESS_KEY_ID"]

    @property
    def secret_key(self):
        return self.env["AWS_SECRET_ACCESS_KEY"]

    def client(self, service, region="eu-west-1", access_key=None, secret_key=None,
               session_token=None, **config):
        """A botocore client on the sim (path-style S3). config: botocore Config kwargs,
        e.g. retries={"max_attempts": 1}."""
        import botocore.config
        import botocore.session
        key = (service, region, access_key, secret_key, session_token,
               json.dumps(config, sort_keys=True, default=str))
        if key in self._clients:
            return self._clients[key]
        sess = botocore.session.Session()
        sess.set_config_variable("config_file", str(self.state_dir / "aws-config"))
        sess.set_config_variable("credentials_file", str(self.state_dir / "aws-credentials"))
        cfg = {"s3": {"addressing_style": "path"}}
        if service == "s3":
            cfg["signature_version"] = "s3v4"   # botocore 1.29 presigns with SigV2 otherwise
        cfg.update(config)
        c = sess.create_client(
            service, region_name=region, endpoint_url=self.endpoint,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            aws_session_token=session_token,
            config=botocore.config.Config(**cfg))
        self._clients[key] = c
        return c

    def control(self, method, path, body=None, check=True):
        """Call the control API; returns the parsed JSON. check=False returns
        (status, json) instead of raising ControlError on a non-2xx answer."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.control_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                out = json.loads(r.read() or b"{}")
                return out if check else (r.status, out)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                out = json.loads(raw or b"{}")
            except ValueError:
                out = {"raw": raw.decode("utf-8", "replace")}
            if check:
                raise ControlError(e.code, out) from None
            return e.code, out

    def requests(self, **filters):
        q = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in filters.items())
        return self.control("GET", "/requests" + (f"?{q}" if q else ""))["requests"]

    def fault(self, **spec):
        return self.control("POST", "/faults", spec)

    def clear_faults(self):
        self.control("DELETE", "/faults")

    def restart(self):
        """lcsim down + up on the same state directory (ports and credentials kept)."""
        self._down()
        self._up()

    def _down(self):
        subprocess.run([PYTHON, str(LCSIM), "down", "--state", str(self.state_dir)],
                       capture_output=True, text=True, timeout=300)

    def stop(self, keep=False):
        """lcsim down; the temporary state directory is removed unless keep."""
        if self in _running:
            _running.remove(self)
        self._down()
        if self._own_dir and not keep and not os.environ.get("LCSIM_KEEP"):
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def log_tail(self, n=40):
        try:
            return "".join((self.state_dir / "sim.log").read_text().splitlines(True)[-n:])
        except OSError:
            return ""


def cli_env(sim, extra=None):
    """os.environ without the caller's AWS settings, plus the sim's env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(sim.env)
    env.update(extra or {})
    return env


def aws_cli(sim, *args, region=None, input=None, extra_env=None, timeout=300):
    """Run /usr/bin/aws against the sim: returns (rc, stdout, stderr). --endpoint-url is
    added because the CLI in Debian 12 (2.9) predates AWS_ENDPOINT_URL."""
    cmd = [AWS_CLI, "--endpoint-url", sim.endpoint, "--no-cli-pager"]
    if region:
        cmd += ["--region", region]
    cmd += [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(sim, extra_env),
                       input=input, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


@atexit.register
def _stop_all():
    for sim in list(_running):
        try:
            sim.stop()
        except Exception as e:   # best effort at exit
            sys.stderr.write(f"simtest: stopping {sim.state_dir}: {e}\n")


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def error_code(self):
        """Code from an XML (<Code>) or JSON (__type) error body."""
        text = self.body.decode("utf-8", "replace")
        if text.lstrip().startswith("{"):
            return json.loads(text).get("__type")
        i = text.find("<Code>")
        return text[i + 6:text.find("</Code>", i)] if i >= 0 else None


def send_raw(sim, method, path, body=b"", headers=None):
    """Send an HTTP request to the AWS endpoint as is (no signing)."""
    import http.client
    from urllib.parse import urlsplit
    u = urlsplit(sim.endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return RawResponse(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def signed_request(sim, method, path, service, region="eu-west-1", body=b"", headers=None,
                   access_key=None, secret_key=None, token=None, payload_hash=None,
                   mutate=None):
    """Sign a request with botocore's SigV4 signer (S3 rules for service 's3'), let `mutate`
    change the signed request (headers dict, body, path) to simulate tampering, send it and
    return a RawResponse. payload_hash overrides x-amz-content-sha256 (S3)."""
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    base = S3SigV4Auth if service == "s3" else SigV4Auth

    class Signer(base):
        def payload(self, request):
            return payload_hash if payload_hash else super().payload(request)

    req = AWSRequest(method=method, url=sim.endpoint + path, data=body,
                     headers=dict(headers or {}))
    creds = Credentials(access_key or sim.access_key, secret_key or sim.secret_key, token)
    Signer(creds, service, region).add_auth(req)
    out = {"headers": {k: v for k, v in req.headers.items()}, "body": body, "path": path}
    if mutate:
        mutate(out)
    return send_raw(sim, method, out["path"], out["body"], out["headers"])
