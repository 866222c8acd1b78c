"""Shared pieces of the simulator: errors, requests/responses, the per-request context,
the world's knobs (clock, delays, holds) and small persistent-state helpers.

Service modules import from here only; they never touch the HTTP server directly.
"""

import contextlib
import datetime
import email.utils
import json
import os
import pathlib
import sqlite3
import threading
import time
import uuid
from xml.sax.saxutils import escape as _xml_escape

from . import ACCOUNT_ID, DEFAULT_REGION


class AwsError(Exception):
    """An AWS error; server.py renders it in the shape of the request's protocol.

    code: the AWS error code ("NoSuchKey"); message: human text; status: HTTP status.
    fields: extra elements for S3 error documents (Key, BucketName, Region, ...).
    headers: extra response headers.
    """

    def __init__(self, code, message="", status=400, fields=None, headers=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


class Request:
    """One incoming AWS request, already routed.

    method, path (the raw wire path, still percent-encoded), query (raw query string),
    query_params (list of decoded (name, value) pairs), headers (case-insensitive:
    .get(name), .get_all(name)), service, region, protocol, operation (None until known),
    params (Query/EC2: flat dict of form fields), body (JSON: parsed dict; others: bytes),
    raw_body (bytes, non-S3), stream (S3: file-like body reader), content_length,
    identity (dict: access_key, arn, user_id, account, session or None) and
    payload_sha256 (S3: the signed hex payload hash to check while reading, or None).
    """

    def __init__(self, method, path, query, headers):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.query_params = []
        self.service = None
        self.region = DEFAULT_REGION
        self.protocol = None
        self.operation = None
        self.params = {}
        self.body = b""
        self.raw_body = b""
        self.stream = None
        self.content_length = None
        self.identity = None
        self.payload_sha256 = None
        self.log_fields = {}     # extra fields for the request log (S3: bucket, key, upload_id)

    def header(self, name, default=None):
        value = self.headers.get(name)
        return default if value is None else value

    def query_get(self, name, default=None):
        for k, v in self.query_params:
            if k == name:
                return v
        return default

    def query_has(self, name):
        return any(k == name for k, _ in self.query_params)


class Response:
    """What a handler returns.

    body: bytes, or an iterable of bytes chunks (then `length` must be set, or the body is
    sent with Connection: close). headers: list of (name, value) or dict.
    """

    def __init__(self, status=200, body=b"", headers=None, content_type=None, length=None):
        self.status = status
        self.body = body
        if isinstance(headers, dict):
            headers = list(headers.items())
        self.headers = list(headers or [])
        if content_type:
            self.headers.append(("Content-Type", content_type))
        self.length = len(body) if isinstance(body, (bytes, bytearray)) else length

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def set_header(self, name, value):
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))


def xml_escape(value):
    return _xml_escape(str(value), {'"': "&quot;"})


def xml_elems(pairs, indent=""):
    """Render [(tag, value)] (value str/number/bool/None, or list of pairs) as XML."""
    out = []
    for tag, value in pairs:
        if value is None:
            continue
        if isinstance(value, list):
            out.append(f"<{tag}>{xml_elems(value)}</{tag}>")
        elif isinstance(value, bool):
            out.append(f"<{tag}>{'true' if value else 'false'}</{tag}>")
        else:
            out.append(f"<{tag}>{xml_escape(value)}</{tag}>")
    return indent.join(out)


def iso8601(ts, millis=True):
    """Epoch seconds -> 2026-01-01T00:00:00.000Z"""
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    if millis:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso8601(text):
    """ISO-8601 (Z or offset, optional fraction) -> epoch seconds; ValueError if bad."""
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    dt = datetime.datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def rfc1123(ts):
    return email.utils.formatdate(ts, usegmt=True)


def new_request_id():
    return str(uuid.uuid4())


class World:
    """The simulator's global knobs, shared by every context: clock offset (world time),
    auth skew (the server clock used for signatures and Date headers), delays and holds of
    asynchronous state changes. Set by the control API."""

    def __init__(self, state_root):
        self.state_root = pathlib.Path(state_root)
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.auth_skew = 0.0
        self.delays = {}
        self.holds = set()
        self.modules = {}          # service -> loaded module (set by server)
        self.broker = None
        self.log_lines = []

    def now(self):
        return time.time() + self.clock_offset

    def server_time(self):
        return time.time() + self.auth_skew

    def reset_knobs(self):
        with self.lock:
            self.clock_offset = 0.0
            self.auth_skew = 0.0
            self.delays = {}
            self.holds = set()

    def service_dir(self, service):
        d = self.state_root / service
        d.mkdir(parents=True, exist_ok=True)
        return d

    def context(self, service, region=DEFAULT_REGION, request_id=None):
        return SimContext(self, service, region, request_id)


class SimContext:
    """What a service module sees: ctx.region, ctx.account_id, ctx.state_dir (per service,
    shared by all regions; ctx.region_dir is per service and region), ctx.now(),
    ctx.delay(name, default), ctx.hold(name), ctx.kms, ctx.request_id, ctx.log(msg),
    ctx.for_region(region) (the same service in another region)."""

    account_id = ACCOUNT_ID

    def __init__(self, world, service, region=DEFAULT_REGION, request_id=None):
        self.world = world
        self.service = service
        self.region = region
        self.request_id = request_id or new_request_id()
        self.request = None

    @property
    def state_dir(self):
        return self.world.service_dir(self.service)

    @property
    def region_dir(self):
        d = self.state_dir / self.region
        d.mkdir(parents=True, exist_ok=True)
        return d

    def now(self):
        return self.world.now()

    def delay(self, name, default):
        return float(self.world.delays.get(name, default))

    def hold(self, name):
        return name in self.world.holds

    @property
    def kms(self):
        from . import kms
        return kms.KmsApi(self.world, self.region)

    @property
    def sts(self):
        from . import sts
        return sts

    def for_region(self, region):
        return SimContext(self.world, self.service, region, self.request_id)

    def log(self, msg):
        line = f"{time.strftime('%H:%M:%S')} [{self.service}/{self.region}] {msg}"
        print(line, flush=True)


# ---------------------------------------------------------------------------------------
# Persistent state helpers

_file_locks = {}
_file_locks_guard = threading.Lock()


def _lock_for(path):
    with _file_locks_guard:
        return _file_locks.setdefault(str(path), threading.RLock())


class JsonStore:
    """A JSON document in one file, thread-safe, written atomically.

        store = JsonStore(ctx.state_dir / "params.json", default={})
        data = store.read()                 # a deep copy
        with store.update() as data:        # mutate; saved on exit (not on exception)
            data["x"] = 1
    """

    def __init__(self, path, default=None):
        self.path = pathlib.Path(path)
        self.default = {} if default is None else default
        self.lock = _lock_for(self.path)

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return json.loads(json.dumps(self.default))

    def read(self):
        with self.lock:
            return self._load()

    def write(self, data):
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + f".tmp{threading.get_ident()}")
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)

    @contextlib.contextmanager
    def update(self):
        with self.lock:
            data = self._load()
            yield data
            self.write(data)


class SqliteStore:
    """A sqlite database shared by the server's threads (one connection, one lock).

        db = SqliteStore(ctx.state_dir / "s3.db", schema="CREATE TABLE IF NOT EXISTS ...")
        with db.tx() as c:   # c is a sqlite3.Connection; committed on exit
            c.execute(...)
    """

    def __init__(self, path, schema=""):
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = _lock_for(self.path)
        self.conn = sqlite3.connect(str(self.path), check_same_thread=False,
                                    isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        if schema:
            self.conn.executescript(schema)

    @contextlib.contextmanager
    def tx(self):
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql, args=()):
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def close(self):
        with self.lock:
            self.conn.close()
