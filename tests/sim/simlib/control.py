"""The control API (JSON over HTTP on LCSIM_CONTROL_URL), fault rules and the request log.

See tests/sim/README.md for every route with examples.
"""

import http.server
import json
import random
import shutil
import threading
import time
import traceback
from urllib.parse import parse_qsl, urlsplit

from . import DEFAULT_REGION, PROTOCOLS
from .core import AwsError

DEFAULT_CODES = {400: "BadRequest", 403: "AccessDenied", 404: "NotFound", 429: "TooManyRequests",
                 500: "InternalError", 502: "BadGateway", 503: "ServiceUnavailable",
                 504: "GatewayTimeout"}
DEFAULT_STATUS = {"SlowDown": 503, "ServiceUnavailable": 503, "RequestLimitExceeded": 503,
                  "InternalError": 500, "InternalFailure": 500, "InternalServerError": 500,
                  "ServerException": 500, "KMSInternalException": 500,
                  "RequestTimeTooSkewed": 403, "AccessDenied": 403, "AccessDeniedException": 400,
                  "Unavailable": 503, "RequestTimeout": 400}


class FaultRule:
    """match: {service, operation, path_prefix, region, method} (all optional).
    action: status, code, message, times | probability, latency_ms, drop_after_bytes,
    truncate_body_bytes, skew_date, close, phase ("before": the operation does not run;
    "after": it runs, then the fault replaces its answer)."""

    FIELDS = ("status", "code", "message", "times", "probability", "latency_ms",
              "drop_after_bytes", "truncate_body_bytes", "skew_date", "close", "phase")

    def __init__(self, rid, spec):
        match = dict(spec.get("match") or {})
        action = dict(spec.get("action") or {})
        for k in ("service", "operation", "path_prefix", "region", "method"):
            if k in spec and k not in match:
                match[k] = spec[k]
        for k in self.FIELDS:
            if k in spec and k not in action:
                action[k] = spec[k]
        unknown = set(action) - set(self.FIELDS)
        if unknown:
            raise ValueError(f"unknown fault action fields: {sorted(unknown)}")
        self.id = rid
        self.match = match
        self.status = action.get("status")
        self.code = action.get("code")
        if self.status is not None and self.code is None and not action.get("skew_date"):
            self.code = DEFAULT_CODES.get(int(self.status), f"Http{self.status}")
        if self.code is not None and self.status is None:
            self.status = DEFAULT_STATUS.get(self.code, 400)
        if self.status is not None:
            self.status = int(self.status)
        self.message = action.get("message") or f"injected fault {self.code}"
        self.times = action.get("times")
        self.probability = action.get("probability")
        self.latency_ms = action.get("latency_ms") or 0
        self.drop_after_bytes = action.get("drop_after_bytes")
        self.truncate_body_bytes = action.get("truncate_body_bytes")
        self.skew_date = action.get("skew_date") or 0
        self.close = bool(action.get("close"))
        self.phase = action.get("phase") or "before"
        if self.phase not in ("before", "after"):
            raise ValueError("phase must be 'before' or 'after'")
        self.hits = 0

    def matches(self, req):
        m = self.match
        if m.get("service") and m["service"] != req.service:
            return False
        if m.get("operation") and m["operation"] != req.operation:
            return False
        if m.get("region") and m["region"] != req.region:
            return False
        if m.get("method") and m["method"].upper() != req.method:
            return False
        if m.get("path_prefix") and not req.path.startswith(m["path_prefix"]):
            return False
        return True

    def error(self):
        headers = {}
        return AwsError(self.code, self.message, self.status, headers=headers)

    def describe(self):
        return {"id": self.id, "match": self.match, "status": self.status, "code": self.code,
                "message": self.message, "times": self.times, "probability": self.probability,
                "latency_ms": self.latency_ms, "drop_after_bytes": self.drop_after_bytes,
                "truncate_body_bytes": self.truncate_body_bytes, "skew_date": self.skew_date,
                "close": self.close, "phase": self.phase, "hits": self.hits}


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1
        self.rng = random.Random(1234)

    def add(self, spec):
        with self.lock:
            rule = FaultRule(self.next_id, spec)
            self.next_id += 1
            if "seed" in spec:
                self.rng.seed(spec["seed"])
            self.rules.append(rule)
            return rule

    def clear(self, rid=None):
        with self.lock:
            if rid is None:
                self.rules = []
            else:
                self.rules = [r for r in self.rules if r.id != rid]

    def match(self, req):
        """The first live rule matching req (its use is counted), or None."""
        with self.lock:
            for rule in self.rules:
                if rule.times is not None and rule.times <= 0:
                    continue
                if not rule.matches(req):
                    continue
                if rule.probability is not None and self.rng.random() >= rule.probability:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                rule.hits += 1
                return rule
        return None

    def describe(self):
        with self.lock:
            return [r.describe() for r in self.rules]


class RequestLog:
    """Every AWS request: service, operation, region, status, error code, and for S3 the
    bucket, key, uploadId and partNumber. Keeps the last 50000; counters keep everything."""

    CAP = 50000

    def __init__(self):
        self.lock = threading.Lock()
        self.entries = []
        self.seq = 0
        self.reset_counters()

    def reset_counters(self):
        self.counters = {"requests": 0, "errors": 0, "faults": 0, "bytes_in": 0,
                         "bytes_out": 0, "by_service": {}, "by_operation": {},
                         "by_status": {}, "by_error": {}}

    def add(self, req, status, code, started, bytes_out, rule):
        e = {"service": req.service, "operation": req.operation, "region": req.region,
             "method": req.method, "path": req.path, "status": status, "error": code,
             "ms": round((time.time() - started) * 1000, 1), "time": started,
             "bytes_out": bytes_out, "bytes_in": getattr(req.stream, "consumed", 0),
             "access_key": (req.identity or {}).get("access_key"),
             "fault": rule.id if rule else None}
        e.update(req.log_fields)
        with self.lock:
            self.seq += 1
            e["seq"] = self.seq
            self.entries.append(e)
            if len(self.entries) > self.CAP:
                del self.entries[:len(self.entries) - self.CAP]
            c = self.counters
            c["requests"] += 1
            c["bytes_out"] += bytes_out
            c["bytes_in"] += e["bytes_in"] or 0
            if status == 0 or status >= 300 or code:
                c["errors"] += 1
            if rule:
                c["faults"] += 1
            c["by_service"][req.service] = c["by_service"].get(req.service, 0) + 1
            op = f"{req.service}.{req.operation}"
            c["by_operation"][op] = c["by_operation"].get(op, 0) + 1
            c["by_status"][str(status)] = c["by_status"].get(str(status), 0) + 1
            if code:
                c["by_error"][code] = c["by_error"].get(code, 0) + 1
        return e

    def sent(self, e, bytes_out):
        """The bytes of the answer actually written, once they are (add() comes before the
        answer goes out, so that a client reading the log right after its answer finds it)."""
        with self.lock:
            self.counters["bytes_out"] += bytes_out - e["bytes_out"]
            e["bytes_out"] = bytes_out

    def query(self, q):
        with self.lock:
            out = list(self.entries)
        for k in ("service", "operation", "region", "method", "bucket", "key", "upload_id",
                  "error"):
            if q.get(k):
                out = [e for e in out if str(e.get(k)) == q[k]]
        if q.get("status"):
            out = [e for e in out if str(e["status"]) == q["status"]]
        if q.get("since"):
            out = [e for e in out if e["seq"] > int(q["since"])]
        if q.get("limit"):
            out = out[-int(q["limit"]):]
        return out

    def clear(self):
        with self.lock:
            self.entries = []


# ---------------------------------------------------------------------------------------
# HTTP

class ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lcsim-control"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if "octet-stream" in (self.headers.get("Content-Type") or ""):
            body = raw         # raw bytes for module hooks (e.g. PUT /ec2/volume/<id>/content)
        else:
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                return self._reply(400, {"error": "body is not JSON"})
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            status, out = route(self.server.sim, self.command, split.path, query, body,
                                self.path)
        except (ValueError, KeyError, TypeError) as e:
            status, out = 400, {"error": f"{type(e).__name__}: {e}"}
        except AwsError as e:
            status, out = e.status, {"error": e.code, "message": e.message}
        except Exception as e:
            traceback.print_exc()
            status, out = 500, {"error": f"{type(e).__name__}: {e}"}
        self._reply(status, out)

    def _reply(self, status, obj):
        raw = isinstance(obj, (bytes, bytearray))
        data = bytes(obj) if raw else json.dumps(obj, indent=1, default=str).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if raw else
                         "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def route(sim, method, path, query, body, full_path):
    world = sim.world
    parts = [p for p in path.split("/") if p]
    head = parts[0] if parts else ""
    if method == "GET" and head in ("", "health"):
        return 200, {"ok": True, "modules": sim.present_modules(),
                     "broker": bool(sim.broker), "state": str(sim.state_dir)}
    if head == "credentials" and method == "GET":
        return 200, {"access_key": sim.creds["access_key"],
                     "secret_key": sim.creds["secret_key"], "arn": sim.creds["arn"]}
    if head == "reset" and method == "POST":
        return 200, reset(sim, bool(body.get("state")))
    if head == "seed" and method == "POST":
        from . import seed
        return 200, seed.run(sim, body.get("name", "legocity"), body.get("sizes"),
                             force=body.get("force", True), services=body.get("services"))
    if head == "faults":
        if method == "GET":
            return 200, {"faults": sim.faults.describe()}
        if method == "POST":
            rule = sim.faults.add(body)
            return 200, rule.describe()
        if method == "DELETE":
            sim.faults.clear(int(parts[1]) if len(parts) > 1 else None)
            return 200, {"faults": sim.faults.describe()}
    if head == "clock":
        with world.lock:
            if method == "POST":
                if "offset" in body:
                    world.clock_offset = float(body["offset"])
                if "advance" in body:
                    world.clock_offset += float(body["advance"])
                if "auth_skew" in body:
                    world.auth_skew = float(body["auth_skew"])
            elif method == "DELETE":
                world.clock_offset = 0.0
                world.auth_skew = 0.0
            return 200, {"offset": world.clock_offset, "auth_skew": world.auth_skew,
                         "now": world.now(), "server_time": world.server_time()}
    if head == "delays":
        with world.lock:
            if method == "POST":
                world.delays.update({k: float(v) for k, v in body.items()})
            elif method == "DELETE":
                world.delays = {}
            return 200, {"delays": world.delays}
    if head == "holds":
        with world.lock:
            if method == "POST":
                for k, v in body.items():
                    if v:
                        world.holds.add(k)
                    else:
                        world.holds.discard(k)
            elif method == "DELETE":
                if len(parts) > 1:
                    world.holds.discard(parts[1])
                else:
                    world.holds = set()
            return 200, {"holds": sorted(world.holds)}
    if head == "requests":
        if method == "DELETE":
            sim.reqlog.clear()
            return 200, {"requests": []}
        return 200, {"requests": sim.reqlog.query(query)}
    if head == "counters":
        if method == "DELETE":
            with sim.reqlog.lock:
                sim.reqlog.reset_counters()
        with sim.reqlog.lock:
            return 200, json.loads(json.dumps(sim.reqlog.counters))
    if head == "broker":
        if sim.broker is None:
            return 501, {"error": "the broker module is not present"}
        return sim.broker.control(method, full_path, body)
    if head in PROTOCOLS:
        mod = sim.module(head)
        if mod is None or not hasattr(mod, "control"):
            return 501, {"error": f"no control hooks for '{head}'"}
        ctx = world.context(head, query.get("region") or
                          (body.get("region") if isinstance(body, dict) else None) or
                          DEFAULT_REGION)
        return mod.control(ctx, method, full_path, body)
    return 404, {"error": f"no control route {method} {path}"}


def reset(sim, wipe_state):
    """Clear faults, knobs, the request log and counters; with wipe_state also every
    service's state (modules are shut down, their directories removed, started again)."""
    sim.faults.clear()
    sim.world.reset_knobs()
    sim.reqlog.clear()
    with sim.reqlog.lock:
        sim.reqlog.reset_counters()
    done = {"faults": True, "state": False}
    if wipe_state:
        sim.call_hook("shutdown")
        for svc in PROTOCOLS:
            mod = sim.modules.get(svc)
            if mod is not None and hasattr(mod, "reset"):
                mod.reset(sim.world.context(svc))
            d = sim.state_dir / svc
            if d.exists():
                shutil.rmtree(d)
        for f in ("seeded.json",):
            p = sim.state_dir / f
            if p.exists():
                p.unlink()
        sim.call_hook("startup")
        if sim.broker is not None:
            try:
                sim.broker.control("POST", "/broker/reset", {})
            except Exception:
                traceback.print_exc()
        done["state"] = True
    return done
