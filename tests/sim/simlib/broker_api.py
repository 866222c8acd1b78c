"""The NGSI-LD API of the emulator: one Broker object answers parsed requests.

HTTP framing lives in broker.py; here: routing, tenants, content negotiation, @context,
queries and pagination, entity and batch writes, ProblemDetails, and the test hooks (faults,
between-pages hooks, request log).  Profile differences come from broker_profiles.
"""

import datetime
import json
import random
import re
import threading
import time
import traceback
import urllib.parse
import uuid

from . import broker_profiles as profiles
from .broker_hooks import Faults, Hooks, RequestLog
from .broker_ld import (JSONLD_CONTEXT_REL, LEGOCITY_CONTEXT_URL, ContextRegistry, LdError,
                        Normalizer, Renderer, bad, core_expand, dumps, format_time,
                        types_of)
from .broker_query import parse_geo, parse_q, parse_types
from .broker_store import Filter, Store

API = "/ngsi-ld/v1"
JSON = "application/json"
LDJSON = "application/ld+json"
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"

RENDER_CACHE_MAX = 60000          # rendered entities kept (about 100 MB at most)

# config keys that are not profile fields (defaults)
EXTRA_CONFIG = {
    "multitenancy": True,         # False: any tenant header is refused (profile's error)
    "detail_style": "string",     # "object" (Scorpio can put objects there) | "omit" [ref 7.14]
    "type_count_skew": 0,         # added to /types/{t} entityCount (Scorpio #464)
}


class LdRequest:
    """A parsed HTTP request.  headers: case-insensitive .get(); body: bytes;
    content_length: int or None (absent)."""

    def __init__(self, method, raw_path, headers, body=b"", content_length=None):
        self.method = method.upper()
        path, _, query = raw_path.partition("?")
        self.raw_path = path
        self.path = urllib.parse.unquote(path)
        self.raw_query = query
        self.params = urllib.parse.parse_qsl(query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.content_length = content_length

    def param(self, name, default=None):
        for k, v in self.params:
            if k == name:
                return v
        return default

    def header(self, name):
        v = self.headers.get(name)
        return v.strip() if isinstance(v, str) else v


BATCH_WRITES = ("create", "upsert", "update", "delete", "merge")


def batch_items(req):
    """For the request log: what a batch write's body lists (entities, or ids for delete):
    {"items": n, "first_id", "last_id"}; {} for other requests or a body that is no list."""
    op = req.path.rpartition("/entityOperations/")[2]
    if req.method != "POST" or "/entityOperations/" not in req.path or op not in BATCH_WRITES:
        return {}
    try:
        body = json.loads(req.body or b"")
    except ValueError:
        return {}
    if not isinstance(body, list):
        return {}
    ids = [e if isinstance(e, str) else e.get("id") if isinstance(e, dict) else None
           for e in body]
    return {"items": len(ids), "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None}


class LdResponse:
    def __init__(self, status, body=b"", ctype=JSON, headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode()
        self.headers = list(headers or [])
        if ctype and (self.body or status not in (204, 201)):
            self.headers.insert(0, ("Content-Type", ctype))
        self.mode = None          # None | "reset" | "drop" | "truncate"
        self.fraction = 0.5
        self.route = None
        self.count_header = None  # name of the count header, for the "count" fault

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


class Broker:
    def __init__(self, state_dir, profile="orion-ld", clock=None):
        self.state_dir = state_dir
        self.profile_name = profile
        self.start_profile = profile
        self.profile = profiles.get(profile)
        self.profile.update(EXTRA_CONFIG)
        self.clock = clock or time.time
        self.store = Store(state_dir / "broker.sqlite3")
        self.registry = ContextRegistry()
        self.normalizer = Normalizer(self.profile)
        self.faults = Faults()
        self.hooks = Hooks()
        self.log = RequestLog()
        self.stop_event = threading.Event()
        self._ts_lock = threading.Lock()
        self._rng = random.Random(20261128)
        self._last_us = self._max_created()
        self._hook_serial = 0
        self._render_cache = {}

    # ------------------------------------------------------------------ configuration

    def configure(self, changes):
        """Apply profile/config overrides (control API).  'profile' switches the base."""
        changes = dict(changes or {})
        if "profile" in changes:
            name = changes.pop("profile")
            self.profile = profiles.get(name)
            self.profile.update(EXTRA_CONFIG)
            self.profile_name = name
        for k, v in changes.items():
            if k not in self.profile:
                raise ValueError(f"unknown broker config key {k!r}")
            if k in ("order", "post_query_order") and v not in profiles.ORDERS:
                raise ValueError(f"order must be one of {', '.join(profiles.ORDERS)}")
            self.profile[k] = tuple(v) if isinstance(self.profile[k], tuple) else v
        self.normalizer = Normalizer(self.profile)
        return self.config()

    def config(self):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.profile.items()}

    def reset(self):
        self.store.reset()
        self.faults.clear()
        self.hooks.clear()
        self.log.clear()
        self.registry = ContextRegistry()
        self._render_cache = {}
        self.configure({"profile": self.start_profile})       # overrides are knobs too
        self._last_us = 0

    def _max_created(self):
        with self.store.lock:
            r = self.store.db.execute("SELECT max(created_ts) FROM entities").fetchone()
        return r[0] or 0

    def now_iso(self):
        style = "instant" if self.profile["time_format"] == "instant" else "millis"
        return format_time(datetime.datetime.fromtimestamp(self.clock(), datetime.timezone.utc),
                           style)

    def alloc_created(self, n):
        """Creation sort keys for n entities created by one request [ref 1.6]."""
        with self._ts_lock:
            base = max(int(self.clock() * 1_000_000), self._last_us + 1)
            if self.profile["batch_ties"]:
                self._last_us = base
                return [base] * n
            self._last_us = base + max(n, 1) - 1
            return [base + i for i in range(n)]

    def note_seeded(self):
        self._last_us = max(self._last_us, self._max_created())

    # ------------------------------------------------------------------ errors

    def problem(self, status, etype, title, detail=None, instance=None):
        p = self.profile
        doc = {}
        for field in p["problem_fields"]:
            if field == "type":
                doc["type"] = profiles.error_type(etype)
            elif field == "title":
                doc["title"] = title
            elif field == "status":
                doc["status"] = status
            elif field == "detail" and detail is not None and p["detail_style"] != "omit":
                doc["detail"] = {"message": detail} if p["detail_style"] == "object" else detail
            elif field == "instance" and instance:
                doc["instance"] = instance
        return doc

    def error_response(self, err, instance=None):
        if err.status == 415:
            return LdResponse(415, b"", ctype=None)          # spec: no body [ref 2]
        return LdResponse(err.status, dumps(self.problem(err.status, err.etype, err.title,
                                                         err.detail, instance)))

    def perr(self, key, **fmt):
        """LdError from a profile error tuple (status, type, title, detail)."""
        t = self.profile[key]
        status, etype, title = t[0], t[1], t[2].format(**fmt)
        detail = t[3].format(**fmt) if len(t) > 3 and t[3] is not None else None
        return LdError(status, etype, title, detail)

    # ------------------------------------------------------------------ entry point

    def handle(self, req):
        t0 = time.monotonic()
        tenant_raw = req.header("NGSILD-Tenant") or ""
        rules = self.faults.take(req.method, req.path, req.raw_query, tenant_raw)
        flags = {r.action: r for r in rules}
        resp = None
        if "latency" in flags:
            self.stop_event.wait(float(flags["latency"].spec.get("seconds", 1.0)))
        if "reset" in flags:
            resp = LdResponse(0, b"")
            resp.mode = "reset"
        elif "status" in flags:
            resp = self.fault_status(flags["status"].spec)
        else:
            try:
                resp = self.dispatch(req, flags)
            except LdError as e:
                resp = self.error_response(e, instance=req.path)
            except Exception as e:           # an emulator bug: answer 500, log the trace
                traceback.print_exc()
                resp = self.error_response(LdError(500, "InternalError", "Internal Error",
                                                   f"{type(e).__name__}: {e}"))
        self.post_faults(resp, flags)
        if resp.route is None:
            resp.route = self.route_name(req)
        entry = {"method": req.method, "path": req.path, "query": req.raw_query,
                 "tenant": tenant_raw, "route": resp.route, "status": resp.status,
                 "bytes": len(resp.body), "bytes_in": len(req.body or b""),
                 "faults": sorted(flags), "ms": round((time.monotonic() - t0) * 1000, 3)}
        entry.update(batch_items(req))
        self.log.add(entry)
        return resp

    def fault_status(self, spec):
        status = int(spec.get("status", 500))
        if "body" in spec:
            body = spec["body"] if isinstance(spec["body"], str) else dumps(spec["body"])
            return LdResponse(status, body)
        etype = spec.get("type") or ("InternalError" if status >= 500 else "BadRequestData")
        title = spec.get("title") or ("Internal Error" if status >= 500 else "Bad Request")
        resp = LdResponse(status, dumps(self.problem(status, etype, title,
                                                     spec.get("detail", "injected fault"))))
        if spec.get("retry_after") is not None:
            resp.headers.append(("Retry-After", str(spec["retry_after"])))
        return resp

    def post_faults(self, resp, flags):
        if "empty_page" in flags and resp.status == 200 and resp.route in (
                "GET /entities", "POST /entityOperations/query"):
            resp.body = b"[]"            # the count header keeps the truth (#1407)
        if "count" in flags and resp.count_header:
            headers = []
            for k, v in resp.headers:
                if k == resp.count_header:
                    v = str(int(v) + int(flags["count"].spec.get("delta", 1)))
                headers.append((k, v))
            resp.headers = headers
        for mode in ("drop", "truncate"):
            if mode in flags and resp.body:
                resp.mode = mode
                resp.fraction = float(flags[mode].spec.get("fraction", 0.5))

    def route_name(self, req):
        parts = req.path[len(API):].strip("/").split("/") if req.path.startswith(API) else []
        if not parts or not parts[0]:
            return f"{req.method} {req.path}"
        if parts[0] == "entities":
            if len(parts) == 1:
                return f"{req.method} /entities"
            if len(parts) == 2:
                return f"{req.method} /entities/{{id}}"
            return f"{req.method} /entities/{{id}}/attrs" + ("/{attr}" if len(parts) > 3 else "")
        if parts[0] == "entityOperations" and len(parts) == 2:
            return f"{req.method} /entityOperations/{parts[1]}"
        if parts[0] == "types":
            return f"{req.method} /types" + ("/{type}" if len(parts) > 1 else "")
        return f"{req.method} /{'/'.join(parts)}"

    def dispatch(self, req, flags):
        if not req.path.startswith(API + "/"):
            raise LdError(404, "ResourceNotFound", "Service not found", req.path)
        parts = req.path[len(API) + 1:].split("/")
        m = req.method
        if parts[0] == "entities":
            if len(parts) == 1:
                if m == "GET":
                    return self.query_entities(req, flags)
                if m == "POST":
                    return self.create_entity(req)
                raise self.not_allowed("GET, POST")
            eid = parts[1]
            if len(parts) == 2:
                if m == "GET":
                    return self.get_entity(req, eid)
                if m == "DELETE":
                    return self.delete_entity(req, eid)
                if m == "PUT":
                    return self.replace_entity(req, eid)
                raise self.not_allowed("GET, PUT, DELETE")
            if parts[2] == "attrs" and len(parts) == 3:
                if m in ("PATCH", "POST"):
                    return self.write_attrs(req, eid, append=(m == "POST"))
                raise self.not_allowed("PATCH, POST")
            if parts[2] == "attrs" and len(parts) == 4 and m == "DELETE":
                return self.delete_attr(req, eid, parts[3])
        elif parts[0] == "entityOperations" and len(parts) == 2:
            if m != "POST":
                raise self.not_allowed("POST")
            if parts[1] == "query":
                return self.query_entities(req, flags, post=True)
            if parts[1] in ("create", "upsert", "update", "delete"):
                return self.batch(req, parts[1])
        elif parts[0] == "types" and m == "GET":
            if len(parts) == 1:
                return self.list_types(req)
            if len(parts) == 2:
                return self.get_type(req, parts[1])
        raise LdError(404, "ResourceNotFound", "Service not found", req.path)

    @staticmethod
    def not_allowed(allow):
        e = LdError(405, "BadRequestData", "Method not allowed", f"allowed: {allow}")
        return e

    # ------------------------------------------------------------------ tenants

    def tenant(self, req, create=False):
        """The request's tenant ("" = default).  LdError for a refused header or an unknown
        tenant (reads, updates, deletes; and creates where the broker does not create
        tenants on the fly) [ref 2 Multi-tenancy, 7.10]."""
        p = self.profile
        name = req.header("NGSILD-Tenant")
        alt = req.header(p["tenant_alt_header"]) if p["tenant_alt_header"] else None
        if name is not None and alt is not None and name != alt:
            raise bad("HTTP header duplication",
                      f"NGSILD-Tenant and {p['tenant_alt_header']} differ")
        name = name if name is not None else alt
        if name is None or name == "" or name in p["tenant_default_names"]:
            return ""
        if not p["multitenancy"]:
            raise self.perr("tenant_disabled_error")
        if p["tenant_lower"]:
            name = name.lower()
        if len(name) > p["tenant_max_len"] or not re.match(r"^[A-Za-z0-9_\-:.]+$", name):
            raise bad("Invalid tenant name", name)
        if self.store.tenant_exists(name):
            return name
        if create and p["tenant_implicit_create"]:
            self.store.tenant_create(name, self.now_iso())
            return name
        status, etype, title = p["tenant_unknown"]
        raise LdError(status, etype, title, name)

    def echo_tenant(self, req, headers):
        t = req.header("NGSILD-Tenant")
        if t:
            headers.append(("NGSILD-Tenant", t))
        return headers

    # ------------------------------------------------------------------ @context, media types

    @staticmethod
    def link_context(req):
        link = req.header("Link")
        if not link:
            return None
        for m in re.finditer(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)", link):
            attrs = m.group(2)
            if re.search(r'rel\s*=\s*"?' + re.escape(JSONLD_CONTEXT_REL), attrs):
                return m.group(1)
        return None

    def resolve(self, value):
        return self.registry.resolve(value, self.profile["ctx_unavailable_status"])

    def accept(self, req, allow_geo=False):
        """Negotiated response media type [ref 2, 7.9]; LdError 406 when none fits."""
        accept = req.header("Accept")
        if not accept:
            return JSON
        supported = [JSON, LDJSON] + ([GEOJSON] if allow_geo else [])
        best = None
        for i, part in enumerate(accept.split(",")):
            fields = [f.strip() for f in part.split(";")]
            mt, q = fields[0].lower(), 1.0
            for f in fields[1:]:
                if f.startswith("q="):
                    try:
                        q = float(f[2:])
                    except ValueError:
                        q = 0.0
            cand = mt if mt in supported else (JSON if mt in ("*/*", "application/*") else None)
            if cand and q > 0 and (best is None or q > best[0]):
                best = (q, cand)
        if best is None:
            raise LdError(406, "BadRequestData", self.profile["not_acceptable_title"], accept)
        return best[1]

    def read_body(self, req, allow=(JSON, LDJSON)):
        """-> (parsed JSON, media type).  411/413/415/400 per [ref 2, 3, 7.9]."""
        if req.content_length is None:
            raise LdError(411, "BadRequestData", "Content-Length required",
                          "the request has no Content-Length header")
        if len(req.body) > self.profile["body_limit"]:
            raise LdError(413, "BadRequestData", self.profile["body_limit_title"],
                          f"payload of {len(req.body)} bytes exceeds "
                          f"{self.profile['body_limit']}")
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype not in allow:
            raise LdError(415, "BadRequestData", "Unsupported Media Type", ctype)
        if ctype == LDJSON and self.link_context(req):
            raise bad(self.profile["ldjson_link_title"],
                      "a Link header is not allowed with Content-Type application/ld+json")
        try:
            doc = json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise LdError(400, "InvalidRequest", "Invalid JSON payload", str(e)) from None
        return doc, ctype

    def body_context(self, req, ctype, item):
        """The @context for one entity of a write: Link (json) or member (ld+json)."""
        if ctype == LDJSON:
            if not isinstance(item, dict) or "@context" not in item:
                raise bad("@context missing", "application/ld+json payloads must carry an "
                          "@context member")
            return self.resolve(item["@context"])
        if isinstance(item, dict) and "@context" in item:
            raise bad("@context in payload", "an @context member is not allowed with "
                      "Content-Type application/json (use a Link header)")
        return self.resolve(self.link_context(req))

    def response_context(self, req):
        """(Context, what to echo) for a read [ref 2 Response]."""
        url = self.link_context(req)
        ctx = self.resolve(url)
        return ctx, (url or self.profile["core_context"])

    def context_link(self, url):
        return ("Link", f'<{url}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json"')

    # ------------------------------------------------------------------ reads

    def read_options(self, req, ctx, media, echo):
        """Renderer for options/format/attrs of a read."""
        p = self.profile
        opts = [o for o in (req.param("options") or "").split(",") if o]
        allowed = {"sysAttrs", "keyValues", "simplified", "concise", "normalized"} | \
            set(p["options_extra"])
        for o in opts:
            if o not in allowed and p["reject_bad_options"]:
                raise bad("Invalid value for URI parameter /options/", o)
        fmt = "normalized"
        if "keyValues" in opts or "simplified" in opts:
            fmt = "keyValues"
        elif "concise" in opts:
            fmt = "concise"
        f = req.param("format")
        if f is not None:
            fmt = {"normalized": "normalized", "concise": "concise", "simplified": "keyValues",
                   "keyValues": "keyValues"}.get(f)
            if fmt is None:
                raise bad("Invalid value for URI parameter /format/", f)
        attrs = req.param("attrs")
        attr_set = {ctx.expand(a) for a in attrs.split(",") if a} if attrs else None
        return Renderer(ctx, fmt, sys_attrs="sysAttrs" in opts, attrs=attr_set,
                        ld=(media == LDJSON), ld_context=echo), opts

    def check_params(self, req, allowed):
        p = self.profile
        if p["unknown_params"] != "reject":
            return
        for k, _ in req.params:
            if k not in allowed:
                raise self.perr("unknown_error", param=k)

    def int_param(self, req, name, default):
        raw = req.param(name)
        if raw is None:
            return default
        if not re.match(r"^-?\d+$", raw.strip()):
            raise self.perr("badnum_error", param=name)
        v = int(raw)
        if v < 0:
            raise self.perr("limit0_error" if self.profile["name"] == "stellio"
                            else "badnum_error", param=name)
        return v

    def query_entities(self, req, flags, post=False):
        p = self.profile
        tenant = self.tenant(req)
        media = self.accept(req, allow_geo=True)
        if post:
            body, ctype = self.read_body(req)
            if not isinstance(body, dict):
                raise bad("Invalid query", "the body must be a Query object")
            ctx = self.body_context(req, ctype, body)
            echo = self.link_context(req) or body.get("@context") or p["core_context"]
            flt, broad_ok = self.filter_from_body(body, ctx)
            local = body.get("local") is True
        else:
            known = profiles.KNOWN_QUERY_PARAMS - {"details"}
            known = known - ({"local"} if p["local_param"] == "localOnly" else {"localOnly"})
            self.check_params(req, known)
            ctx, echo = self.response_context(req)
            flt, broad_ok = self.filter_from_params(req, ctx)
            local = req.param(p["local_param"]) == "true"
        if not broad_ok and not local:
            raise self.perr("broad_error")
        renderer, opts = self.read_options(req, ctx, media, echo)
        count = req.param("count") == "true" or ("count" in opts and "count" in
                                                p["options_extra"])
        limit = self.int_param(req, "limit", p["default_limit"])
        offset = self.int_param(req, "offset", 0)
        if limit == 0 and not count:
            raise self.perr("limit0_error", param="limit")
        if limit > p["max_limit"]:
            raise self.perr("limit_error", limit=limit, max=p["max_limit"])
        if "first_page" in flags:
            offset = 0                                  # Scorpio #316
        order = p["post_query_order"] if post else p["order"]
        salt = self._rng.getrandbits(31)
        links = p["links"] if not post else "none"
        rows, total = self.store.query(tenant, flt, order, limit, offset,
                                       want_count=count or links != "none", salt=salt)
        headers = []
        if limit > 0:
            fired = self.run_hooks(tenant, flt, order, salt, offset, limit)
        else:
            fired = None
        if media == LDJSON:
            ctype = LDJSON
        else:
            ctype = media
            headers.append(self.context_link(echo))
        if limit == 0:
            body = p["count_zero_body"].encode()
        else:
            body = self.render_rows(rows, renderer, media)
        if count:
            headers.append((p["count_header"], str(total)))
        if links != "none" and limit > 0:
            headers.extend(self.page_links(req, links, limit, offset, total))
        if p["entity_map_header"] and not post:
            headers.append(("NGSILD-EntityMap", f"urn:ngsi-ld:entitymap:{uuid.uuid4()}"))
        self.echo_tenant(req, headers)
        if fired:
            headers.append(("X-Lcsim-Hooks", ",".join(str(h) for h in fired)))
        resp = LdResponse(200, body, ctype=ctype, headers=headers)
        resp.route = "POST /entityOperations/query" if post else "GET /entities"
        resp.count_header = p["count_header"] if count else None
        return resp

    def render_rows(self, rows, renderer, media):
        """The JSON array of a page.  Renderings other than the stored text are cached by
        (representation, stored text): re-reading a page with the same @context/options
        costs about what the pass-through does."""
        if media == GEOJSON:
            out = [renderer.entity(r.entity(), r.created_at, r.modified_at, r.sys())
                   for r in rows]
            return dumps(self.feature_collection(out)).encode()
        if renderer.passthrough:
            return ("[" + ",".join(r.body for r in rows) + "]").encode()
        cache = self._render_cache
        if len(cache) > RENDER_CACHE_MAX:
            cache.clear()
        sig = renderer.signature()
        parts = []
        for r in rows:
            key = (sig, r.body, r.sysattrs, r.created_at, r.modified_at) \
                if renderer.sys_attrs else (sig, r.body)
            text = cache.get(key)
            if text is None:
                text = dumps(renderer.entity(r.entity(), r.created_at, r.modified_at, r.sys()))
                cache[key] = text
            parts.append(text)
        return ("[" + ",".join(parts) + "]").encode()

    @staticmethod
    def feature_collection(entities):
        feats = []
        for e in entities:
            loc = e.get("location")
            geom = None
            if isinstance(loc, dict):
                geom = loc.get("value") if "value" in loc else loc
            props = {k: v for k, v in e.items() if k not in ("id", "@context")}
            feats.append({"id": e["id"], "type": "Feature", "geometry": geom,
                          "properties": props})
        return {"type": "FeatureCollection", "features": feats}

    def filter_from_params(self, req, ctx):
        p = self.profile
        types = ids = id_pattern = attrs = None
        preds = []
        present = set()
        t = req.param("type")
        if t:
            present.add("type")
            if t.strip() == "*" and p["type_star"]:
                if req.param("local") == "false":
                    raise bad("Invalid query", "type=* requires local scope")
            else:
                types = parse_types(t, ctx.expand) if t.strip() != "*" else [("*",)]
        i = req.param("id")
        if i:
            present.add("id")
            ids = [x for x in i.split(",") if x]
        ip = req.param("idPattern")
        if ip:
            present.add("idPattern")
            try:
                re.compile(ip)
            except re.error as e:
                raise bad("Invalid idPattern", str(e)) from None
            id_pattern = ip
        a = req.param("attrs")
        if a:
            present.add("attrs")
            attrs = [ctx.expand(x) for x in a.split(",") if x]
        q = req.param("q")
        needs = None
        if q:
            present.add("q")
            preds.append(parse_q(q, ctx.expand))
            needs = preds[-1].needs
        geo = parse_geo({k: req.param(k) for k in ("geometry", "georel", "coordinates",
                                                     "geoproperty")}, ctx.expand)
        if geo:
            present.add("geometry")
            preds.append(geo)
        if req.param("pick"):
            present.add("pick")
        pred = None
        if preds:
            pred = preds[0] if len(preds) == 1 else (lambda e: all(f(e) for f in preds))
        flt = Filter(types=types, ids=ids, id_pattern=id_pattern, attrs=attrs, pred=pred,
                     needs=needs)
        return flt, bool(present & set(p["broad_ok"]))

    def filter_from_body(self, body, ctx):
        """POST /entityOperations/query body -> Filter [ref 1.7]."""
        sels = body.get("entities")
        preds = []
        types = ids = None
        present = False
        if sels is not None:
            if not isinstance(sels, list) or not all(isinstance(s, dict) for s in sels):
                raise bad("Invalid query", "entities must be an array of selectors")
            present = bool(sels)
            if sels and all(set(s) == {"type"} for s in sels):
                types = [a for s in sels for a in parse_types(s["type"], ctx.expand)]
            elif sels and all(set(s) == {"id"} for s in sels):
                ids = [s["id"] for s in sels]
            elif sels:
                compiled = []
                for s in sels:
                    st = parse_types(s["type"], ctx.expand) if s.get("type") else None
                    rx = re.compile(s["idPattern"]) if s.get("idPattern") else None
                    compiled.append((s.get("id"), st, rx))

                def sel(e, compiled=compiled):
                    have = set(types_of(e))
                    for sid, st, rx in compiled:
                        if sid and e["id"] != sid:
                            continue
                        if rx and not rx.search(e["id"]):
                            continue
                        if st and not any(all(t in have for t in alt) for alt in st):
                            continue
                        return True
                    return False
                preds.append(sel)
        attrs = None
        if body.get("attrs"):
            present = True
            attrs = [ctx.expand(a) for a in body["attrs"]]
        needs = None
        if body.get("q"):
            present = True
            preds.append(parse_q(body["q"], ctx.expand))
            needs = preds[-1].needs
        if isinstance(body.get("geoQ"), dict):
            g = body["geoQ"]
            coords = g.get("coordinates")
            geo = parse_geo({"geometry": g.get("geometry"), "georel": g.get("georel"),
                             "coordinates": coords if isinstance(coords, str) or coords is None
                             else json.dumps(coords), "geoproperty": g.get("geoproperty")},
                            ctx.expand)
            if geo:
                present = True
                preds.append(geo)
        pred = None
        if preds:
            pred = preds[0] if len(preds) == 1 else (lambda e: all(f(e) for f in preds))
        return Filter(types=types, ids=ids, attrs=attrs, pred=pred, needs=needs), present

    def page_links(self, req, style, limit, offset, total):
        """Link rel=prev/next headers in the profile's style [ref 1.5].  Stellio and Scorpio
        put the other parameters back decoded, not re-encoded; strict keeps them encoded."""
        if self.profile["name"] in ("stellio", "scorpio"):
            others = [f"{k}={v}" for k, v in req.params if k not in ("limit", "offset")]
        else:
            others = [kv for kv in req.raw_query.split("&") if kv and
                      urllib.parse.unquote_plus(kv.split("=", 1)[0]) not in ("limit", "offset")]
        base = "&".join(others)
        out = []
        pages = []
        if offset > 0:
            pages.append(("prev", max(0, offset - limit)))
        if total is not None and total > offset + limit:
            pages.append(("next", offset + limit))
        for rel, off in pages:
            if style == "absolute":
                url = f"{self.profile['gateway_url']}{req.raw_path}?" + \
                      (base + "&" if base else "") + f"offset={off}&limit={limit}"
                out.append(("Link", f'<{url}>;rel="{rel}"'))
            else:
                url = f"{req.raw_path}?" + (base + "&" if base else "") + \
                      f"limit={limit}&offset={off}"
                out.append(("Link", f'<{url}>;rel="{rel}";type="application/ld+json"'))
        return out

    def get_entity(self, req, eid):
        tenant = self.tenant(req)
        media = self.accept(req, allow_geo=True)
        self.check_params(req, {"attrs", "options", "format", "type", "lang",
                                "geometryProperty", "local", "localOnly"})
        ctx, echo = self.response_context(req)
        renderer, _ = self.read_options(req, ctx, media, echo)
        row = self.store.get(tenant, eid)
        if row is None:
            raise LdError(404, "ResourceNotFound", "Entity Not Found", eid)
        if renderer.passthrough and media != GEOJSON:
            body = row.body.encode()
        else:
            e = renderer.entity(row.entity(), row.created_at, row.modified_at, row.sys())
            if media == GEOJSON:
                e = self.feature_collection([e])["features"][0]
            body = dumps(e).encode()
        headers = [] if media == LDJSON else [self.context_link(echo)]
        return LdResponse(200, body, ctype=media, headers=self.echo_tenant(req, headers))

    def list_types(self, req):
        """GET /types: Orion-LD builds it from the first `types_window` entities (#1698)."""
        tenant = self.tenant(req)
        media = self.accept(req)
        ctx, echo = self.response_context(req)
        summary = self.store.types_summary(tenant, self.profile["types_window"])
        names = sorted(summary)
        if req.param("details") == "true":
            body = [{"id": core_expand(t), "type": "EntityType", "typeName": ctx.compact(t),
                     "attributeNames": sorted(ctx.compact(a) for a in summary[t][1])}
                    for t in names]
        else:
            body = {"id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}", "type": "EntityTypeList",
                    "typeList": [ctx.compact(t) for t in names]}
        if media == LDJSON:
            if isinstance(body, dict):
                body["@context"] = echo
            headers = []
        else:
            headers = [self.context_link(echo)]
        return LdResponse(200, dumps(body), ctype=media, headers=self.echo_tenant(req, headers))

    def get_type(self, req, name):
        tenant = self.tenant(req)
        media = self.accept(req)
        ctx, echo = self.response_context(req)
        stored = ctx.expand(name)
        rows, count = self.store.query(tenant, Filter(types=[(stored,)]), "created-stable",
                                       1000, 0, want_count=True)
        if not count:
            raise LdError(404, "ResourceNotFound", "Entity type not found", name)
        kinds = {}
        for r in rows:              # attribute types from the first 1000 entities
            for k, v in r.entity().items():
                if k in ("id", "type", "scope"):
                    continue
                for inst in (v if isinstance(v, list) else [v]):
                    kinds.setdefault(k, set()).add(inst.get("type", "Property"))
        body = {"id": core_expand(stored), "type": "EntityType", "typeName": ctx.compact(stored),
                "entityCount": count + int(self.profile["type_count_skew"]),
                "attributeDetails": [
                    {"id": core_expand(a), "type": "Attribute", "attributeName": ctx.compact(a),
                     "attributeTypes": sorted(kinds[a])} for a in sorted(kinds)]}
        headers = []
        if media == LDJSON:
            body["@context"] = echo
        else:
            headers.append(self.context_link(echo))
        return LdResponse(200, dumps(body), ctype=media, headers=self.echo_tenant(req, headers))

    # ------------------------------------------------------------------ entity writes

    def create_entity(self, req):
        body, ctype = self.read_body(req)
        tenant = self.tenant(req, create=True)
        if not isinstance(body, dict):
            raise bad("Invalid payload", "the body must be a JSON object (one entity)")
        ctx = self.body_context(req, ctype, body)
        entity = self.normalizer.entity(body, ctx)
        now = self.now_iso()
        if not self.store.insert(tenant, entity, self.alloc_created(1)[0], now):
            raise LdError(409, "AlreadyExists", "Entity already exists", entity["id"])
        loc = f"{API}/entities/{urllib.parse.quote(entity['id'], safe=':')}"
        return LdResponse(201, b"", headers=self.echo_tenant(req, [("Location", loc)]))

    def replace_entity(self, req, eid):
        body, ctype = self.read_body(req)
        tenant = self.tenant(req)
        if not isinstance(body, dict):
            raise bad("Invalid payload", "the body must be a JSON object")
        ctx = self.body_context(req, ctype, body)
        body = dict(body)
        body.setdefault("id", eid)
        entity = self.normalizer.entity(body, ctx)
        if entity["id"] != eid:
            raise bad("Entity id mismatch", f"{entity['id']} != {eid}")
        row = self.store.get(tenant, eid)
        if row is None:
            raise LdError(404, "ResourceNotFound", "Entity Not Found", eid)
        self.store.replace(tenant, row, entity, self.now_iso())
        return LdResponse(204, b"", headers=self.echo_tenant(req, []))

    def delete_entity(self, req, eid):
        tenant = self.tenant(req)
        if not self.store.delete(tenant, eid):
            raise LdError(404, "ResourceNotFound", "Entity Not Found", eid)
        return LdResponse(204, b"", headers=self.echo_tenant(req, []))

    def delete_attr(self, req, eid, attr):
        tenant = self.tenant(req)
        ctx, _ = self.response_context(req)
        row = self.store.get(tenant, eid)
        if row is None:
            raise LdError(404, "ResourceNotFound", "Entity Not Found", eid)
        entity = row.entity()
        name = ctx.expand(attr)
        if name not in entity or name in ("id", "type"):
            raise LdError(404, "ResourceNotFound", "Attribute Not Found", attr)
        del entity[name]
        sysattrs = row.sys() or {}
        sysattrs.pop(name, None)
        self.store.replace(tenant, row, entity, self.now_iso(), sysattrs)
        return LdResponse(204, b"", headers=self.echo_tenant(req, []))

    def write_attrs(self, req, eid, append):
        """PATCH .../attrs (update existing) or POST .../attrs (append; noOverwrite)."""
        body, ctype = self.read_body(req, allow=(JSON, LDJSON, MERGE_PATCH))
        tenant = self.tenant(req)
        ctx = self.body_context(req, LDJSON if ctype == LDJSON else JSON, body)
        attrs = self.normalizer.attributes(body, ctx)
        row = self.store.get(tenant, eid)
        if row is None:
            raise LdError(404, "ResourceNotFound", "Entity Not Found", eid)
        no_overwrite = "noOverwrite" in (req.param("options") or "").split(",")
        mode = ("append_keep" if no_overwrite else "append") if append else "update"
        updated, not_updated = self.apply_attrs(tenant, row, attrs, mode)
        if not not_updated:
            return LdResponse(204, b"", headers=self.echo_tenant(req, []))
        c = ctx.compact
        result = {"updated": [c(a) for a in updated],
                  "notUpdated": [{"attributeName": c(a), "reason": why}
                                 for a, why in not_updated]}
        return LdResponse(207, dumps(result), headers=self.echo_tenant(req, []))

    def apply_attrs(self, tenant, row, attrs, mode):
        """mode: update (existing instances only) | append | append_keep (noOverwrite).
        -> (updated names, [(name, reason)])."""
        entity = row.entity()
        sysattrs = row.sys() or {}
        now = self.now_iso()
        for name in entity:        # untouched attributes keep the times they have now
            if name not in ("id", "type", "scope") and name not in sysattrs:
                sysattrs[name] = [row.created_at, row.modified_at]
        updated, not_updated = [], []
        for name, new in attrs.items():
            old = entity.get(name)
            merged, missing, kept = merge_instances(old, new, mode)
            if missing:
                not_updated.append((name, "attribute (instance) does not exist"))
            if kept:
                not_updated.append((name, "attribute exists and noOverwrite was given"))
            if merged is not None and not missing and not kept:
                entity[name] = merged
                created = sysattrs[name][0] if old is not None else now
                sysattrs[name] = [created, now]
                updated.append(name)
        if updated:
            self.store.replace(tenant, row, entity, now, sysattrs)
        return updated, not_updated

    # ------------------------------------------------------------------ batches

    def batch(self, req, op):
        p = self.profile
        body, ctype = self.read_body(req)
        tenant = self.tenant(req, create=op in ("create", "upsert"))
        if not isinstance(body, list):
            raise bad("Invalid payload", "the body must be a JSON array")
        if not body:
            raise bad("Empty array", "the batch contains no entities")
        if p["batch_max"] and len(body) > p["batch_max"]:
            if p["batch_over_max"] == "error":
                raise bad("Too many entities", f"{len(body)} entities in one batch; the "
                          f"maximum is {p['batch_max']}")
            if p["batch_over_max"] == "drop":
                body = body[:p["batch_max"]]        # Orion-LD legacy: extras ignored [ref 7.11]
        opts = [o for o in (req.param("options") or "").split(",") if o]
        if op == "upsert" and "update" in opts and "replace" in opts and \
                p["upsert_update_replace_conflict"]:
            raise bad("Invalid value for URI parameter /options/",
                      "update and replace are mutually exclusive")
        result = BatchResult(op)
        if op == "delete":
            self.batch_delete(tenant, body, result)
        else:
            self.batch_write(req, tenant, ctype, body, op, opts, result)
        return self.batch_response(req, op, result)

    def batch_write(self, req, tenant, ctype, items, op, opts, result):
        created_keys = self.alloc_created(len(items)) if op in ("create", "upsert") else None
        now = self.now_iso()
        seen = set()
        for i, item in enumerate(items):
            raw_id = item.get("id") if isinstance(item, dict) else None
            try:
                ctx = self.body_context(req, ctype, item)
                entity = self.normalizer.entity(item, ctx, require_type=(op != "update"))
            except LdError as e:
                result.fail(raw_id if isinstance(raw_id, str) else None, e)
                continue
            eid = entity["id"]
            if op == "create":
                if eid in seen or not self.store.insert(tenant, entity, created_keys[i], now):
                    result.fail(eid, self.perr("create_exists"))   # [ref 3] / 5.5.11
                    continue
                seen.add(eid)
                result.ok(eid, created=True)
            elif op == "upsert":
                row = self.store.get(tenant, eid)
                if row is None:
                    self.store.insert(tenant, entity, created_keys[i], now)
                    result.ok(eid, created=True)
                elif "update" in opts:
                    attrs = {k: v for k, v in entity.items() if k not in ("id", "type", "scope")}
                    self.apply_attrs(tenant, row, attrs, "append")
                    result.ok(eid, created=False)
                else:
                    self.store.replace(tenant, row, entity, now)
                    result.ok(eid, created=False)
            else:   # update
                row = self.store.get(tenant, eid)
                if row is None:
                    result.fail(eid, LdError(404, "ResourceNotFound", "Entity Not Found", eid))
                    continue
                attrs = {k: v for k, v in entity.items() if k not in ("id", "type", "scope")}
                mode = "append_keep" if "noOverwrite" in opts else "append"
                self.apply_attrs(tenant, row, attrs, mode)
                result.ok(eid, created=False)

    def batch_delete(self, tenant, items, result):
        for item in items:
            if not isinstance(item, str):
                result.fail(None, bad("Invalid entity id", "batch delete takes an array of ids"))
            elif self.store.delete(tenant, item):
                result.ok(item, created=False)
            else:
                result.fail(item, LdError(404, "ResourceNotFound", "Entity Not Found", item))

    def batch_response(self, req, op, result):
        """Status and body in the profile's shape [ref 3]."""
        p = self.profile
        shape = p["batch_shape"]
        headers = self.echo_tenant(req, [])
        if not result.errors:
            if op == "create":
                return LdResponse(201, dumps(result.created), headers=headers)
            if op == "upsert":
                if result.created and result.updated and p["upsert_mixed_status"] == 207:
                    body = {"success": result.success, "errors": []}
                    return LdResponse(207, dumps(body), headers=headers)       # #803
                if result.created:
                    return LdResponse(201, dumps(result.created), headers=headers)
            return LdResponse(204, b"", headers=headers)
        success = result.success
        if shape == "scorpio":
            kind = {"create": "Create", "upsert": "Upsert", "update": "Update",
                    "delete": "Delete"}[op]
            errors = [{"type": kind, "id": eid,
                       "ProblemDetails": self.problem(e.status, e.etype, e.title, e.detail)
                       | {"status": e.status}} for eid, e in result.errors]
            if not success:          # every entry failed: no 207 [ref 3]
                statuses = {e.status for _, e in result.errors}
                if op == "create" and statuses == {409}:
                    status = 409
                elif op in ("delete", "update") and statuses == {404}:
                    status = 404
                else:
                    status = 400
                return LdResponse(status, dumps({"errors": errors}), headers=headers)
            return LdResponse(207, dumps({"success": success, "errors": errors}),
                              headers=headers)
        errors = []
        for eid, e in result.errors:
            pd = self.problem(e.status, e.etype, e.title, e.detail,
                              instance=f"{API}/entityOperations/{op}")
            if shape == "orion":
                pd["status"] = e.status
            errors.append({"entityId": eid, "error": pd})
        return LdResponse(207, dumps({"success": success, "errors": errors}), headers=headers)

    # ------------------------------------------------------------------ hooks

    def run_hooks(self, tenant, flt, order, salt, offset, limit):
        """Fire the between-pages hooks due after this page (before it is sent)."""
        due = self.hooks.due(tenant)
        for hook in due:
            ids = self.hook_action(hook, tenant, flt, order, salt, offset, limit)
            with self.hooks.lock:
                hook.fired.append({"at_get": hook.seen, "ids": ids})
        return [h.id for h in due]

    def hook_action(self, hook, tenant, flt, order, salt, offset, limit):
        spec = hook.spec
        k = hook.count
        ctx = self.resolve(spec.get("context", LEGOCITY_CONTEXT_URL))
        if spec["action"] == "create":
            return self.hook_create(hook, tenant, ctx, k)
        where = spec.get("where", "before")
        if spec.get("type"):
            flt = Filter(types=[(ctx.expand(spec["type"]),)], ids=flt.ids,
                         id_pattern=flt.id_pattern, attrs=flt.attrs, pred=flt.pred,
                         needs=flt.needs)
        cursor = offset + limit
        if where == "before":
            start = max(0, cursor - k)
            rows, _ = self.store.query(tenant, flt, order, min(k, cursor), start, False,
                                       salt=salt)
        elif where == "after":
            rows, _ = self.store.query(tenant, flt, order, k, cursor, False, salt=salt)
        else:
            rows, total = self.store.query(tenant, flt, order, 10**9, 0, True, salt=salt)
            rows = random.Random(hook.id * 7919 + hook.seen).sample(rows, min(k, len(rows)))
        ids = []
        now = self.now_iso()
        for r in rows:
            if spec["action"] == "delete":
                if self.store.delete(tenant, r.id):
                    ids.append(r.id)
            else:
                self._hook_serial += 1
                attr = {"hookRevision": {"type": "Property", "value": self._hook_serial,
                                         "observedAt": now}}
                row = self.store.get(tenant, r.id)
                if row is not None:
                    self.apply_attrs(tenant, row, attr, "append")
                    ids.append(r.id)
        return ids

    def hook_create(self, hook, tenant, ctx, k):
        spec = hook.spec
        etype = spec.get("type", "WeatherObserved")
        prefix = spec.get("id_prefix") or f"urn:ngsi-ld:{etype}:hook-{hook.id}-"
        keys = self.alloc_created(k)
        now = self.now_iso()
        ids = []
        base = len(hook.fired) * k
        for i in range(k):
            eid = f"{prefix}{base + i + 1:04d}"
            raw = {"id": eid, "type": etype,
                   "hookRevision": {"type": "Property", "value": base + i + 1,
                                    "observedAt": now}}
            entity = self.normalizer.entity(raw, ctx)
            if self.store.insert(tenant, entity, keys[i], now):
                ids.append(eid)
        return ids


class BatchResult:
    def __init__(self, op):
        self.op = op
        self.created = []
        self.updated = []
        self.success = []         # created and updated ids in array order
        self.errors = []

    def ok(self, eid, created):
        (self.created if created else self.updated).append(eid)
        self.success.append(eid)

    def fail(self, eid, err):
        self.errors.append((eid, err))


def merge_instances(old, new, mode):
    """Put the instances of `new` into attribute `old` (datasetId-wise).
    -> (merged attribute or None, missing: update target absent, kept: noOverwrite hit)."""
    new_list = new if isinstance(new, list) else [new]
    if old is None:
        if mode == "update":
            return None, True, False
        return (new_list[0] if len(new_list) == 1 else new_list), False, False
    old_list = old if isinstance(old, list) else [old]
    by_ds = {inst.get("datasetId"): inst for inst in old_list}
    for inst in new_list:
        ds = inst.get("datasetId")
        if ds in by_ds:
            if mode == "append_keep":
                return None, False, True
        elif mode == "update":
            return None, True, False
        by_ds[ds] = inst
    merged = list(by_ds.values())
    return (merged[0] if len(merged) == 1 else merged), False, False

