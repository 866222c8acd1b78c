"""Test hooks of the NGSI-LD emulator: fault rules, between-pages hooks and the request log.

Fault rule (POST /broker/faults), all fields optional except action:
  {"action": "status" | "reset" | "drop" | "truncate" | "empty_page" | "count" |
             "first_page" | "latency",
   "method": "GET", "path": "/ngsi-ld/v1/entities" (prefix), "query": "type=" (substring of
   the raw query), "tenant": "",
   "times": 1 (how many requests it hits; 0 = every one), "after": 0 (let N matching requests
   pass first),
   "status": 503, "type": "InternalError", "title": "...", "detail": "...",   (status)
   "fraction": 0.5,          (drop/truncate: share of the body sent)
   "delta": 7,               (count: added to NGSILD-Results-Count)
   "seconds": 2.5}           (latency; a stall is a latency beyond the client's timeout)
  status: answer that status with a ProblemDetails body instead of serving the request.
  reset: close the connection without an answer.  drop: send the headers and part of the
  body, then close (Content-Length promises more).  truncate: send a cut body with a
  matching Content-Length (valid HTTP, invalid JSON).  empty_page: the page is [] but the
  count header still tells the truth (Orion-LD #1407).  count: the count header is off by
  delta (Scorpio #464).  first_page: the offset is ignored (Scorpio #316).  latency: wait.

Between-pages hook (POST /broker/hooks):
  {"after_get": 2, "action": "create" | "delete" | "update", "count": 5,
   "where": "before" | "after" | "any", "type": "WeatherObserved" (create: the type; else a
   filter), "context": URL (resolves "type"; default the LegoCity context), "tenant": "",
   "id_prefix": "urn:ngsi-ld:WeatherObserved:hook-", "repeat": false}
  After the after_get-th successful page GET (GET /ngsi-ld/v1/entities or POST
  /entityOperations/query with limit > 0, counted from when the hook was added) the action
  runs, before that page is sent, so the next page request sees the change.  where: "before"
  = entities the client has already been served (positions < offset+limit of that query),
  "after" = entities not served yet, "any" = either.  repeat: fire every after_get pages.
  GET /broker/hooks lists every hook with the ids it touched.
"""

import collections
import threading
import time


class FaultRule:
    def __init__(self, rid, spec):
        if spec.get("action") not in ("status", "reset", "drop", "truncate", "empty_page",
                                      "count", "first_page", "latency"):
            raise ValueError(f"unknown fault action {spec.get('action')!r}")
        self.id = rid
        self.spec = dict(spec)
        self.action = spec["action"]
        times = spec.get("times", 1)
        self.remaining = None if not times else int(times)
        self.skip = int(spec.get("after", 0))
        self.hits = 0

    def matches(self, method, path, query, tenant):
        s = self.spec
        if s.get("method") and s["method"].upper() != method:
            return False
        if s.get("path") and not path.startswith(s["path"]):
            return False
        if s.get("query") and s["query"] not in query:
            return False
        if "tenant" in s and s["tenant"] is not None and s["tenant"] != tenant:
            return False
        return True

    def describe(self):
        d = dict(self.spec)
        d.update(id=self.id, hits=self.hits, remaining=self.remaining)
        return d


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1

    def add(self, spec):
        with self.lock:
            rule = FaultRule(self.next_id, spec)
            self.next_id += 1
            self.rules.append(rule)
            return rule.id

    def clear(self):
        with self.lock:
            self.rules = []

    def list(self):
        with self.lock:
            return [r.describe() for r in self.rules]

    def take(self, method, path, query, tenant):
        """The rules this request triggers (each consumes one of its `times`)."""
        out = []
        with self.lock:
            for rule in self.rules:
                if rule.remaining == 0 or not rule.matches(method, path, query, tenant):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                rule.hits += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                out.append(rule)
        return out


class Hook:
    def __init__(self, hid, spec):
        if spec.get("action") not in ("create", "delete", "update"):
            raise ValueError(f"unknown hook action {spec.get('action')!r}")
        if spec.get("where", "before") not in ("before", "after", "any"):
            raise ValueError("where must be before, after or any")
        self.id = hid
        self.spec = dict(spec)
        self.after_get = max(1, int(spec.get("after_get", 1)))
        self.count = max(1, int(spec.get("count", 1)))
        self.repeat = bool(spec.get("repeat", False))
        self.tenant = spec.get("tenant")
        self.seen = 0
        self.fired = []          # [{"at_get": n, "ids": [...]}]
        self.done = False

    def describe(self):
        d = dict(self.spec)
        d.update(id=self.id, seen=self.seen, fired=self.fired, done=self.done)
        return d


class Hooks:
    def __init__(self):
        self.lock = threading.Lock()
        self.hooks = []
        self.next_id = 1

    def add(self, spec):
        with self.lock:
            hook = Hook(self.next_id, spec)
            self.next_id += 1
            self.hooks.append(hook)
            return hook.id

    def clear(self):
        with self.lock:
            self.hooks = []

    def list(self):
        with self.lock:
            return [h.describe() for h in self.hooks]

    def due(self, tenant):
        """Count one page GET; return the hooks that fire now."""
        out = []
        with self.lock:
            for h in self.hooks:
                if h.done or (h.tenant is not None and h.tenant != tenant):
                    continue
                h.seen += 1
                if h.seen % h.after_get == 0 and (h.repeat or h.seen == h.after_get):
                    out.append(h)
                    if not h.repeat:
                        h.done = True
        return out


class RequestLog:
    """The last `size` requests and counters by route and status."""

    def __init__(self, size=20000):
        self.lock = threading.Lock()
        self.entries = collections.deque(maxlen=size)
        self.counters = collections.Counter()
        self.seq = 0

    def add(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            entry.setdefault("ts", time.time())
            self.entries.append(entry)
            self.counters[entry["route"]] += 1
            self.counters[f"{entry['route']} {entry['status']}"] += 1
            self.counters["total"] += 1

    def list(self, method=None, route=None, path=None, since=0, limit=None):
        with self.lock:
            out = [e for e in self.entries
                   if e["seq"] > since and (not method or e["method"] == method)
                   and (not route or e["route"] == route)
                   and (not path or e["path"].startswith(path))]
        return out[-limit:] if limit else out

    def counts(self):
        with self.lock:
            return dict(self.counters)

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.counters.clear()
