"""The AWS endpoint: one HTTP port for every service.

Routing: the SigV4 credential scope names the service and region; the service's protocol
(simlib.PROTOCOLS) says how to parse the request and render the answer. Service modules
(simlib/<svc>.py) are imported on demand; a missing one answers 501 NotImplemented.
"""

import http.server
import importlib
import importlib.util
import json
import os
import pathlib
import secrets
import socket
import socketserver
import string
import sys
import threading
import time
import traceback
from urllib.parse import urlsplit

from . import ACCOUNT_ID, DEFAULT_REGION, NAMESPACES, PROTOCOLS, TARGET_PREFIXES
from . import control, sigv4
from .core import AwsError, JsonStore, Request, Response, World, new_request_id, xml_escape

UNSIGNED_OPS = {("sts", "AssumeRoleWithWebIdentity"), ("sts", "AssumeRoleWithSAML")}


# ---------------------------------------------------------------------------------------
# Body readers

class LimitedReader:
    """Reads at most `length` bytes of a socket file; tracks what was consumed."""

    def __init__(self, f, length):
        self.f = f
        self.left = length
        self.consumed = 0

    def read(self, n=-1):
        if self.left <= 0:
            return b""
        if n < 0 or n > self.left:
            n = self.left
        data = self.f.read(n)
        self.left -= len(data)
        self.consumed += len(data)
        if len(data) < n:
            self.left = 0
            raise AwsError("IncompleteBody", "The request body terminated unexpectedly", 400)
        return data

    def readline(self, limit=65537):
        if self.left <= 0:
            return b""
        line = self.f.readline(min(limit, self.left))
        self.left -= len(line)
        self.consumed += len(line)
        return line

    def drain(self, cap=64 << 20):
        """Read what is left (up to cap); True if the body was fully consumed."""
        while self.left > 0 and cap > 0:
            chunk = self.read(min(self.left, 1 << 20))
            cap -= len(chunk)
        return self.left <= 0

    @property
    def done(self):
        return self.left <= 0


class HttpChunkedReader:
    """Transfer-Encoding: chunked -> plain bytes."""

    def __init__(self, f):
        self.f = f
        self.buf = b""
        self.eof = False
        self.consumed = 0

    def _fill(self):
        line = self.f.readline(65537)
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while True:
                t = self.f.readline(65537)
                if not t or t in (b"\r\n", b"\n"):
                    break
            self.eof = True
            return
        data = self.f.read(size)
        self.f.readline(65537)
        self.consumed += len(data)
        self.buf += data

    def read(self, n=-1):
        while not self.eof and (n < 0 or len(self.buf) < n):
            self._fill()
        if n < 0:
            out, self.buf = self.buf, b""
        else:
            out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def readline(self, limit=65537):
        while not self.eof and b"\n" not in self.buf and len(self.buf) < limit:
            self._fill()
        i = self.buf.find(b"\n")
        end = len(self.buf) if i < 0 else i + 1
        end = min(end, limit)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def drain(self, cap=64 << 20):
        while not self.eof and cap > 0:
            cap -= len(self.read(1 << 20))
        return self.eof

    @property
    def done(self):
        return self.eof and not self.buf


# ---------------------------------------------------------------------------------------
# Rendering

def render_error(req, err, request_id):
    proto = req.protocol or "rest-xml"
    status = err.status
    headers = list(err.headers.items())
    if proto == "json":
        body = json.dumps({"__type": err.code, "message": err.message}).encode()
        headers += [("x-amzn-ErrorType", err.code), ("x-amzn-RequestId", request_id)]
        return Response(status, body, headers, "application/x-amz-json-1.1")
    if proto == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
                f"<Code>{xml_escape(err.code)}</Code><Message>{xml_escape(err.message)}</Message>"
                f"</Error></Errors><RequestID>{request_id}</RequestID></Response>")
        return Response(status, body.encode(), headers, "text/xml;charset=UTF-8")
    if proto == "query":
        kind = "Receiver" if status >= 500 else "Sender"
        ns = NAMESPACES.get(req.service, "")
        body = (f"<ErrorResponse xmlns=\"{ns}\"><Error><Type>{kind}</Type>"
                f"<Code>{xml_escape(err.code)}</Code><Message>{xml_escape(err.message)}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        headers.append(("x-amzn-RequestId", request_id))
        return Response(status, body.encode(), headers, "text/xml")
    # S3
    headers += [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
    if req.method == "HEAD":
        return Response(status, b"", headers)
    fields = dict(err.fields)
    if "Resource" not in fields and req.path:
        fields["Resource"] = urlsplit(req.path).path
    extra = "".join(f"<{k}>{xml_escape(v)}</{k}>" for k, v in fields.items())
    body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{xml_escape(err.code)}"
            f"</Code><Message>{xml_escape(err.message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>")
    return Response(status, body.encode(), headers, "application/xml")


def render_success(req, result, request_id):
    if isinstance(result, Response):
        if req.protocol == "rest-xml":
            result.headers += [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
        elif result.header("x-amzn-RequestId") is None:
            result.headers.append(("x-amzn-RequestId", request_id))
        return result
    op = req.operation
    if req.protocol == "json":
        body = json.dumps(result if result is not None else {}, default=str).encode()
        return Response(200, body, [("x-amzn-RequestId", request_id)],
                        "application/x-amz-json-1.1")
    ns = NAMESPACES.get(req.service, "")
    inner = result or ""
    if req.protocol == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{op}Response xmlns=\"{ns}\">"
                f"<requestId>{request_id}</requestId>{inner}</{op}Response>")
        return Response(200, body.encode(), [], "text/xml;charset=UTF-8")
    res = f"<{op}Result>{inner}</{op}Result>" if inner else ""
    body = (f"<{op}Response xmlns=\"{ns}\">{res}<ResponseMetadata><RequestId>{request_id}"
            f"</RequestId></ResponseMetadata></{op}Response>")
    return Response(200, body.encode(), [("x-amzn-RequestId", request_id)], "text/xml")


# ---------------------------------------------------------------------------------------
# The simulator process

class Sim:
    """Everything one `lcsim serve` runs: the world, the modules, the AWS endpoint, the
    control API and the broker."""

    def __init__(self, state_dir, profile="orion-ld"):
        self.state_dir = pathlib.Path(state_dir)
        self.profile = profile
        self.world = World(self.state_dir)
        self.world.sim = self
        self.faults = control.Faults()
        self.reqlog = control.RequestLog()
        self.modules = {}
        self.module_errors = {}
        self.creds = self._credentials()
        self.aws_httpd = None
        self.control_httpd = None
        self.broker = None
        self.stopping = threading.Event()

    # credentials ---------------------------------------------------------------------
    def _credentials(self):
        store = JsonStore(self.state_dir / "credentials.json")
        with store.update() as c:
            if not c.get("access_key"):
                alnum = string.ascii_uppercase + string.digits
                c["access_key"] = "AKIA" + "".join(secrets.choice(alnum) for _ in range(16))
                c["secret_key"] = "".join(secrets.choice(string.ascii_letters + string.digits
                                                         + "+/") for _ in range(40))
                c["user_id"] = "AIDA" + "".join(secrets.choice(alnum) for _ in range(17))
                c["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:user/lcbackup-test"
            return dict(c)

    def lookup_key(self, access_key):
        if access_key == self.creds["access_key"]:
            return {"secret": self.creds["secret_key"], "token": None, "arn": self.creds["arn"],
                    "user_id": self.creds["user_id"], "account": ACCOUNT_ID}
        mod = self.module("sts")
        if mod is not None and hasattr(mod, "lookup_session"):
            return mod.lookup_session(self.world, access_key)
        return None

    # modules -------------------------------------------------------------------------
    def module(self, service):
        """The loaded simlib.<service> module, or None when it does not exist."""
        if service in self.modules:
            return self.modules[service]
        if service in self.module_errors:
            raise AwsError("InternalFailure", self.module_errors[service], 500)
        name = f"simlib.{service}"
        if importlib.util.find_spec(name) is None:
            self.modules[service] = None
            return None
        try:
            mod = importlib.import_module(name)
        except Exception:
            self.module_errors[service] = f"simulator module {name} failed to import:\n" + \
                traceback.format_exc(limit=3)
            print(self.module_errors[service], flush=True)
            raise AwsError("InternalFailure", self.module_errors[service], 500)
        self.modules[service] = mod
        self.world.modules[service] = mod
        return mod

    def present_modules(self):
        out = []
        for svc in PROTOCOLS:
            try:
                if self.module(svc) is not None:
                    out.append(svc)
            except AwsError:
                pass
        return out

    def call_hook(self, name):
        for svc in self.present_modules():
            fn = getattr(self.modules[svc], name, None)
            if fn is None:
                continue
            try:
                fn(self.world.context(svc, DEFAULT_REGION))
            except Exception:
                print(f"lcsim: {svc}.{name} failed:\n{traceback.format_exc()}", flush=True)

    # serving -------------------------------------------------------------------------
    def start(self, ports):
        self.aws_httpd = _bind(AwsHandler, ports.get("aws", 0))
        self.aws_httpd.sim = self
        self.control_httpd = _bind(control.ControlHandler, ports.get("control", 0))
        self.control_httpd.sim = self
        self.call_hook("startup")
        self.broker = self._start_broker(ports.get("broker", 0))
        self.world.broker = self.broker
        for httpd in (self.aws_httpd, self.control_httpd):
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return {"aws": self.aws_httpd.server_address[1],
                "control": self.control_httpd.server_address[1],
                "broker": self.broker.port if self.broker else None}

    def _start_broker(self, port):
        if importlib.util.find_spec("simlib.broker") is None:
            return None
        try:
            broker = importlib.import_module("simlib.broker")
            b = broker.BrokerServer(self.state_dir / "broker", self.profile, port or 0)
            try:
                b.start()
            except OSError:
                b = broker.BrokerServer(self.state_dir / "broker", self.profile, 0)
                b.start()
            return b
        except Exception:
            print(f"lcsim: broker failed to start:\n{traceback.format_exc()}", flush=True)
            return None

    def stop(self):
        if self.stopping.is_set():
            return
        self.stopping.set()
        for httpd in (self.aws_httpd, self.control_httpd):
            if httpd:
                httpd.shutdown()
                httpd.server_close()
        if self.broker:
            try:
                self.broker.stop()
            except Exception:
                traceback.print_exc()
        self.call_hook("shutdown")


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def _bind(handler, port):
    try:
        return _Server(("127.0.0.1", port), handler)
    except OSError:
        if port:
            return _Server(("127.0.0.1", 0), handler)
        raise


class AwsHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lcsim"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.handle_aws()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_GET

    # -- routing -------------------------------------------------------------------------
    def _route(self, req):
        service, region, _ = sigv4.scope_of(req.headers, req.query_params)
        if service is None:
            target = req.headers.get("X-Amz-Target") or ""
            prefix = target.split(".")[0]
            if prefix in TARGET_PREFIXES:
                service = TARGET_PREFIXES[prefix]
            elif req.method == "POST" and req.path.split("?")[0] == "/" and \
                    "x-www-form-urlencoded" in (req.headers.get("Content-Type") or ""):
                service = "sts"
            else:
                service = "s3"
        req.service = service
        req.region = region or DEFAULT_REGION
        req.protocol = PROTOCOLS.get(service)

    def _read_body(self, req, reader):
        data = reader.read()
        req.raw_body = data
        if req.protocol in ("query", "ec2"):
            pairs = list(req.query_params)
            ctype = req.headers.get("Content-Type") or ""
            if data and "x-www-form-urlencoded" in ctype:
                from urllib.parse import parse_qsl
                pairs += parse_qsl(data.decode("utf-8"), keep_blank_values=True)
            req.params = {k: v for k, v in pairs if not k.startswith("X-Amz-")}
            req.operation = req.params.get("Action")
        elif req.protocol == "json":
            target = req.headers.get("X-Amz-Target") or ""
            req.operation = target.rpartition(".")[2] or None
            try:
                req.body = json.loads(data or b"{}")
            except ValueError:
                req.body = None
            req.body_error = req.body is None or not isinstance(req.body, dict)
            if req.body_error:
                req.body = {}

    def handle_aws(self):
        sim = self.server.sim
        started = time.time()
        request_id = new_request_id()
        split = urlsplit(self.path)
        req = Request(self.command, split.path, split.query, self.headers)
        req.query_params = sigv4.parse_query(split.query)
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            reader = HttpChunkedReader(self.rfile)
        else:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = 0
            reader = LimitedReader(self.rfile, length)
            req.content_length = self.headers.get("Content-Length") and length
        req.stream = reader
        self._route(req)
        rule = None
        try:
            if req.protocol is None:
                req.protocol = "json" if self.headers.get("X-Amz-Target") else "query"
                raise AwsError("UnknownService",
                               f"lcsim does not simulate service '{req.service}'", 400)
            if req.protocol != "rest-xml":
                self._read_body(req, reader)
            mod = sim.module(req.service)
            if req.protocol == "rest-xml" and mod is not None and hasattr(mod, "operation_name"):
                req.operation = mod.operation_name(req)
            if (req.service, req.operation) in UNSIGNED_OPS and \
                    not self.headers.get("Authorization"):
                req.identity = None
            else:
                req.identity = sigv4.verify(req, sim.lookup_key, sim.world.server_time())
            if req.protocol == "json" and getattr(req, "body_error", False):
                raise AwsError("SerializationException", "request body is not a JSON object")
            rule = sim.faults.match(req)
            if rule and rule.latency_ms:
                time.sleep(rule.latency_ms / 1000.0)
            if rule and rule.phase == "before" and rule.close:
                self._drop(req, rule, started)
                return
            if rule and rule.phase == "before" and rule.code:
                raise rule.error()
            if mod is None:
                raise AwsError("NotImplemented", f"lcsim has no '{req.service}' module yet "
                               f"(tests/sim/simlib/{req.service}.py)", 501)
            ctx = sim.world.context(req.service, req.region, request_id)
            ctx.request = req
            result = mod.handle(ctx, req)
            resp = render_success(req, result, request_id)
            if rule and rule.phase == "after" and rule.close:
                self._drop(req, rule, started)
                return
            if rule and rule.phase == "after" and rule.code:
                raise rule.error()
        except AwsError as e:
            resp = render_error(req, e, request_id)
            if rule and rule.code and e.code == rule.code and rule.status == 200:
                resp.status = 200
        except Exception:
            tb = traceback.format_exc()
            print(f"lcsim: {req.service}.{req.operation} crashed:\n{tb}", flush=True)
            code = "InternalError" if req.protocol == "rest-xml" else "InternalFailure"
            resp = render_error(req, AwsError(code, tb.strip().splitlines()[-1], 500),
                                request_id)
        self._send(req, resp, rule, started)

    # -- output --------------------------------------------------------------------------
    def _drop(self, req, rule, started):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sim = self.server.sim
        sim.reqlog.add(req, 0, None, started, 0, rule)

    def _send(self, req, resp, rule, started):
        sim = self.server.sim
        body = resp.body
        if rule and rule.truncate_body_bytes is not None and req.method != "HEAD":
            if not isinstance(body, (bytes, bytearray)):
                body = b"".join(body)
            body = bytes(body[:rule.truncate_body_bytes])
            resp.length = len(body)
            resp.set_header("Content-Length", str(len(body)))
        skew = rule.skew_date if rule and rule.skew_date else 0
        # Whatever part of the request body nobody read must go, or the connection closes.
        if not req.stream.done and not req.stream.drain():
            self.close_connection = True
        code = None
        if resp.status >= 300 or (rule and rule.code):
            code = _error_code(resp)
        # logged before the answer goes out: a client that reads the log right after its answer
        # must find its request there
        drop_at = rule.drop_after_bytes if rule else None
        planned = 0
        if req.method != "HEAD":
            planned = len(body) if isinstance(body, (bytes, bytearray)) else (resp.length or 0)
            if drop_at is not None:
                planned = min(planned, drop_at)
        entry = sim.reqlog.add(req, resp.status, code, started, planned, rule)
        self.send_response_only(resp.status)
        self.send_header("Date", self.date_time_string(sim.world.server_time() + skew))
        self.send_header("Server", "lcsim")
        has_len = resp.header("Content-Length") is not None
        for k, v in resp.headers:
            self.send_header(k, v)
        if not has_len:
            if resp.length is not None:
                self.send_header("Content-Length", str(resp.length))
            else:
                self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        sent = 0
        try:
            if req.method != "HEAD":
                chunks = [body] if isinstance(body, (bytes, bytearray)) else body
                for chunk in chunks:
                    if not chunk:
                        continue
                    if drop_at is not None and sent + len(chunk) >= drop_at:
                        self.wfile.write(chunk[:max(0, drop_at - sent)])
                        sent = drop_at
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        break
                    self.wfile.write(chunk)
                    sent += len(chunk)
                if drop_at is not None and sent < drop_at and not self.close_connection:
                    pass
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            close = getattr(body, "close", None)
            if close:
                close()
        sim.reqlog.sent(entry, sent)


def _error_code(resp):
    body = resp.body if isinstance(resp.body, (bytes, bytearray)) else b""
    et = resp.header("x-amzn-ErrorType")
    if et:
        return et
    text = body[:4096].decode("utf-8", "replace")
    i = text.find("<Code>")
    if i >= 0:
        return text[i + 6:text.find("</Code>", i)]
    return str(resp.status)


# ---------------------------------------------------------------------------------------
# `lcsim serve`

def serve(state_dir, profile="orion-ld"):
    import signal
    state_dir = pathlib.Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    ports_file = JsonStore(state_dir / "ports.json")
    prev = ports_file.read()
    sim = Sim(state_dir, profile)
    ports = sim.start(prev)
    ports_file.write(ports)
    (state_dir / "sim.pid").write_text(f"{os.getpid()}\n")
    print(f"lcsim: serving aws=127.0.0.1:{ports['aws']} control=127.0.0.1:{ports['control']} "
          f"broker={ports['broker']} modules={','.join(sim.present_modules())}", flush=True)
    done = threading.Event()

    def on_signal(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not done.wait(0.5):
        pass
    print("lcsim: stopping", flush=True)
    sim.stop()
    try:
        (state_dir / "sim.pid").unlink()
    except FileNotFoundError:
        pass
    print("lcsim: stopped", flush=True)
    sys.stdout.flush()
    return 0
