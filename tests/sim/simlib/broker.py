"""NGSI-LD context broker emulator (Orion-LD, Scorpio, Stellio, strict spec profiles).

Interface used by the simulator framework (lcsim serve):
    b = BrokerServer(state_dir: pathlib.Path, profile: str, port: int)
    b.start()                       # threaded HTTP/1.1 (keep-alive) on 127.0.0.1:port (0 = any)
    b.port                          # the bound port
    b.seed(name="legocity", sizes=None)
    b.control(method, path, body)   # -> (status, dict) for the control API's /broker/... routes
    b.stop()

Standalone (from tests/sim):
    /usr/bin/python3 -m simlib.broker --state DIR --profile orion-ld --port 0 [--seed]
        [--sizes '{"entities": 20000}'] [--port-file F]
In standalone mode the control routes are also served on the broker port under /broker/...

Control routes (path relative to /broker, JSON bodies; see broker_hooks for faults/hooks):
    POST /reset | POST /seed {"name","sizes"} | GET,POST /config | GET /profiles
    GET,POST,DELETE /faults | GET,POST,DELETE /hooks | GET,DELETE /requests | GET /counters
    (/requests?method=&route=&path=&since=&limit=: seq, method, path, query, tenant, route, status,
    bytes (answer), bytes_in (request body), faults, ms; batch writes also items, first_id,
    last_id: what the body lists, in order)
    GET /summary | GET /ids?tenant=&type= | GET /entity?tenant=&id= | POST /tenants {"name"}
    POST /contexts {"url","context"}

Storage: state_dir/broker.sqlite3 (survives restarts).  Module map: broker_profiles (numbers and
shapes per broker), broker_ld (@context, entity forms), broker_query (q, types, geo),
broker_store (SQLite), broker_seed (LegoCity seed), broker_hooks (faults, hooks, log),
broker_api (the NGSI-LD API).
"""

import argparse
import email.utils
import http.server
import json
import pathlib
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

from . import broker_profiles
from .broker_api import Broker, LdRequest
from .broker_ld import LdError
from .broker_seed import seed as seed_legocity

MAX_BODY = 64 * 1024 * 1024        # larger bodies are refused before reading them


class _HTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lcsim-broker/1"
    sys_version = ""

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):       # the request log replaces stderr noise
        pass

    def do_GET(self):
        self._serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self):
        """-> (body bytes, content_length or None).  None body: unreadable, close."""
        length = self.headers.get("Content-Length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return None, None
            if n < 0 or n > MAX_BODY:
                return None, n
            return self.rfile.read(n), n
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    return None, None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks), None
        return b"", None

    def _serve(self):
        owner = self.server.owner
        body, length = self._read_body()
        if body is None:
            self.close_connection = True
            status = 413 if length else 400
            doc = owner.broker.problem(status, "BadRequestData", "Unreadable request body")
            self._write(status, [("Content-Type", "application/json")],
                        json.dumps(doc).encode())
            return
        if owner.serve_control and (self.path == "/broker" or self.path.startswith("/broker/")):
            try:
                doc = json.loads(body) if body.strip() else None
            except ValueError:
                doc = None
            status, out = owner.control(self.command, self.path, doc)
            self._write(status, [("Content-Type", "application/json")], json.dumps(out).encode())
            return
        req = LdRequest(self.command, self.path, self.headers, body, length)
        resp = owner.broker.handle(req)
        if resp.mode == "reset":
            self._reset()
            return
        payload = resp.body
        if resp.mode == "truncate":
            payload = payload[:int(len(payload) * resp.fraction)]
        if resp.mode == "drop":
            cut = int(len(payload) * resp.fraction)
            self._write(resp.status, resp.headers, payload, send_len=len(payload), cut=cut)
            self._reset()
            return
        self._write(resp.status, resp.headers, payload)

    def _write(self, status, headers, body, send_len=None, cut=None):
        reason = http.server.BaseHTTPRequestHandler.responses.get(status, ("",))[0]
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {email.utils.formatdate(usegmt=True)}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if status != 204 and not 100 <= status < 200:
            lines.append(f"Content-Length: {send_len if send_len is not None else len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        if self.command == "HEAD" or status == 204:
            body = b""
        if cut is not None:
            body = body[:cut]
        try:
            self.wfile.write(head + body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _reset(self):
        """Close the connection abruptly (RST), as a crashed or reset peer would."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class BrokerServer:
    """The NGSI-LD emulator as the simulator framework runs it (see module docstring)."""

    def __init__(self, state_dir, profile="orion-ld", port=0, serve_control=False, clock=None):
        self.state_dir = pathlib.Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.requested_port = int(port or 0)
        self.serve_control = serve_control
        self.broker = Broker(self.state_dir, profile, clock=clock)
        self._httpd = None
        self._thread = None
        self.port = None

    # -------------------------------------------------------------- lifecycle

    def start(self):
        self._httpd = _HTTPServer(("127.0.0.1", self.requested_port), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name=f"broker-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.broker.stop_event.set()          # wakes latency/stall faults
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.broker.store.close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    # -------------------------------------------------------------- seed

    def seed(self, name="legocity", sizes=None):
        """Load a named seed; returns {"entities": {tenant: count}, "seconds": s}."""
        if name != "legocity":          # like the other modules: other seeds are not ours
            return {"seed": name, "skipped": True}
        t0 = time.monotonic()
        b = self.broker
        counts = seed_legocity(b.store, b.normalizer, b.registry, sizes)
        b.note_seeded()
        return {"seed": name, "entities": counts, "seconds": round(time.monotonic() - t0, 3)}

    # -------------------------------------------------------------- control API

    def control(self, method, path, body=None):
        """Control API routes under /broker/... -> (HTTP status, JSON-able dict)."""
        if isinstance(body, (bytes, str)):
            body = json.loads(body) if body.strip() else None
        parsed = urllib.parse.urlsplit(path)
        route = parsed.path
        if route.startswith("/broker"):
            route = route[len("/broker"):]
        route = "/" + route.strip("/")
        q = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        try:
            return self._control(method.upper(), route, q, body or {})
        except (ValueError, KeyError, TypeError, LdError) as e:
            return 400, {"error": str(e)}

    def _control(self, method, route, q, body):
        b = self.broker
        if route == "/reset" and method == "POST":
            b.reset()
            return 200, {"reset": True}
        if route == "/seed" and method == "POST":
            out = self.seed(body.get("name", "legocity"), body.get("sizes"))
            return (400 if out.get("skipped") else 200), out
        if route == "/config":
            if method == "POST":
                return 200, b.configure(body)
            return 200, b.config()
        if route == "/profiles":
            return 200, {"profiles": list(broker_profiles.PROFILE_NAMES),
                         "active": b.profile_name}
        if route == "/faults":
            if method == "POST":
                rules = body if isinstance(body, list) else [body]
                return 200, {"ids": [b.faults.add(r) for r in rules]}
            if method == "DELETE":
                b.faults.clear()
                return 200, {"cleared": True}
            return 200, {"faults": b.faults.list()}
        if route == "/hooks":
            if method == "POST":
                return 200, {"id": b.hooks.add(body)}
            if method == "DELETE":
                b.hooks.clear()
                return 200, {"cleared": True}
            return 200, {"hooks": b.hooks.list()}
        if route == "/requests":
            if method == "DELETE":
                b.log.clear()
                return 200, {"cleared": True}
            entries = b.log.list(method=q.get("method"), route=q.get("route"),
                                 path=q.get("path"), since=int(q.get("since", 0)),
                                 limit=int(q["limit"]) if q.get("limit") else None)
            return 200, {"requests": entries}
        if route == "/counters":
            return 200, {"counters": b.log.counts()}
        if route == "/summary":
            return 200, {"profile": b.profile_name, "tenants": b.store.summary()}
        if route == "/ids":
            tenant = q.get("tenant", "")
            etype = q.get("type")
            if etype:
                etype = b.resolve(q.get("context", "") or None).expand(etype) \
                    if q.get("context") else etype
            return 200, {"ids": b.store.ids(tenant, etype)}
        if route == "/entity":
            row = b.store.get(q.get("tenant", ""), q.get("id", ""))
            if row is None:
                return 404, {"error": "no such entity"}
            return 200, {"entity": row.entity(), "createdAt": row.created_at,
                         "modifiedAt": row.modified_at}
        if route == "/tenants" and method == "POST":
            b.store.tenant_create(body["name"], b.now_iso())
            return 200, {"tenants": b.store.tenants()}
        if route == "/tenants":
            return 200, {"tenants": b.store.tenants()}
        if route == "/contexts" and method == "POST":
            b.registry.register(body["url"], body["context"])
            return 200, {"registered": body["url"]}
        return 404, {"error": f"no broker control route {method} {route}"}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="simlib.broker", description=__doc__.split("\n")[0])
    ap.add_argument("--state", required=True, help="state directory")
    ap.add_argument("--profile", default="orion-ld", choices=broker_profiles.PROFILE_NAMES)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed", action="store_true", help="load the LegoCity seed at start")
    ap.add_argument("--sizes", default=None, help='seed sizes as JSON, e.g. {"entities": 2000}')
    ap.add_argument("--port-file", default=None, help="write the bound port here")
    args = ap.parse_args(argv)
    server = BrokerServer(pathlib.Path(args.state), args.profile, args.port, serve_control=True)
    if args.seed:
        info = server.seed("legocity", json.loads(args.sizes) if args.sizes else None)
        print(f"broker: seeded {info['entities']} in {info['seconds']}s", flush=True)
    server.start()
    if args.port_file:
        tmp = pathlib.Path(args.port_file + ".tmp")
        tmp.write_text(f"{server.port}\n")
        tmp.replace(args.port_file)
    print(f"broker: listening on {server.url} (profile {args.profile})", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
