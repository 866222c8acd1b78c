"""Query filters of the NGSI-LD emulator: the `q` language subset, type selections and
geo-queries, evaluated in Python against stored (core-compacted) entities.

q subset (NGSI-LD clause 4.9): `;` AND, `|` OR, parentheses; comparisons == != > >= < <= ~= !~=;
values: numbers, "strings", bare words, true/false, ranges a..b, lists a,b,c; attribute paths
attr, attr.subAttr, attr[key][key]; a bare attribute path tests existence.  Values of
Relationships compare against their object, LanguageProperty against any language string,
multi-instance attributes match when any instance does.
"""

import json
import math
import re

from .broker_ld import LdError, bad

_OPS = ("!~=", "~=", "==", "!=", ">=", "<=", ">", "<")
_VALUE_KEYS = ("value", "object", "languageMap", "vocab", "json", "valueList", "objectList")


class QSyntaxError(LdError):
    def __init__(self, detail):
        super().__init__(400, "BadRequestData", "Invalid q expression", detail)


def parse_q(text, expand):
    """q string -> predicate(entity) -> bool.  expand: request-name -> stored-name."""
    p = _QParser(text, expand)
    node = p.parse_or()
    if p.pos != len(p.s):
        raise QSyntaxError(f"unexpected {p.s[p.pos:]!r} at {p.pos}")
    return node


class _QParser:
    def __init__(self, s, expand):
        self.s = s
        self.pos = 0
        self.expand = expand

    def peek(self):
        return self.s[self.pos] if self.pos < len(self.s) else ""

    def parse_or(self):
        terms = [self.parse_and()]
        while self.peek() == "|":
            self.pos += 1
            terms.append(self.parse_and())
        if len(terms) == 1:
            return terms[0]
        fn = lambda e: any(t(e) for t in terms)      # noqa: E731
        needs = [t.needs for t in terms]
        fn.needs = set().union(*needs) if all(n is not None for n in needs) else None
        return fn

    def parse_and(self):
        terms = [self.parse_term()]
        while self.peek() == ";":
            self.pos += 1
            terms.append(self.parse_term())
        if len(terms) == 1:
            return terms[0]
        fn = lambda e: all(t(e) for t in terms)      # noqa: E731
        fn.needs = next((t.needs for t in terms if t.needs is not None), None)
        return fn

    def parse_term(self):
        if self.peek() == "(":
            self.pos += 1
            node = self.parse_or()
            if self.peek() != ")":
                raise QSyntaxError("missing ')'")
            self.pos += 1
            return node
        m = re.compile(r"[A-Za-z0-9_@:/#\-\.\[\]]+").match(self.s, self.pos)
        if not m:
            raise QSyntaxError(f"attribute expected at {self.pos}")
        path = self.parse_path(m.group(0))
        self.pos = m.end()
        op = next((o for o in _OPS if self.s.startswith(o, self.pos)), None)
        if op is None:
            fn = lambda e: bool(_resolve(e, path))      # noqa: E731
        else:
            self.pos += len(op)
            fn = _comparison(path, op, self.read_value())
        # every match has the top-level attribute: lets the store pre-filter in SQL
        fn.needs = {path[0][0]}
        return fn

    def parse_path(self, text):
        m = re.match(r"^([^\[]+)((?:\[[^\]]+\])*)$", text)
        if not m:
            raise QSyntaxError(f"bad attribute path {text!r}")
        head, keys = m.group(1), re.findall(r"\[([^\]]+)\]", m.group(2))
        # dots separate sub-attributes, except inside an IRI (http://a.b/c)
        if "://" in head or head.startswith("urn:"):
            parts = [head]
        else:
            parts = head.split(".")
        names = [self.expand(parts[0])]
        for p in parts[1:]:
            names.append(p if p in ("observedAt", "unitCode", "datasetId", "createdAt",
                                    "modifiedAt") else self.expand(p))
        return names, keys

    def read_value(self):
        s, i = self.s, self.pos
        if i < len(s) and s[i] == '"':
            j = i + 1
            while j < len(s) and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            if j >= len(s):
                raise QSyntaxError("unterminated string")
            self.pos = j + 1
            raw = s[i:j + 1]
            # a list of quoted strings: "a","b"
            while self.peek() == "," and self.pos + 1 < len(s) and s[self.pos + 1] == '"':
                self.pos += 1
                more = self.read_value()
                raw = raw + "," + more
            return raw
        j = i
        depth = 0
        while j < len(s):
            c = s[j]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
            elif c in ";|" and depth == 0:
                break
            j += 1
        if j == i or s[i] in "<>=!~":
            raise QSyntaxError(f"value expected at {i}")
        self.pos = j
        return s[i:j]


def _literal(text):
    text = text.strip()
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _split_list(raw):
    parts, cur, quoted = [], "", False
    for c in raw:
        if c == '"':
            quoted = not quoted
        if c == "," and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    return parts


def _comparison(path, op, raw):
    if op in ("~=", "!~="):
        pattern = re.compile(str(_literal(raw)))

        def match(e):
            values = _resolve(e, path)
            hit = any(isinstance(v, str) and pattern.search(v) for v in values)
            return hit if op == "~=" else bool(values) and not hit
        return match
    if op in ("==", "!=") and ".." in raw and not raw.startswith('"'):
        lo, hi = (_literal(x) for x in raw.split("..", 1))

        def in_range(e):
            values = _resolve(e, path)
            hit = any(_cmp(v, lo, ">=") and _cmp(v, hi, "<=") for v in values)
            return hit if op == "==" else bool(values) and not hit
        return in_range
    items = [_literal(x) for x in _split_list(raw)] if op in ("==", "!=") else [_literal(raw)]
    if op in ("==", "!="):
        def eq(e):
            values = _resolve(e, path)
            hit = any(_cmp(v, x, "==") for v in values for x in items)
            return hit if op == "==" else bool(values) and not hit
        return eq
    target = items[0]
    return lambda e: any(_cmp(v, target, op) for v in _resolve(e, path))


def _cmp(a, b, op):
    if isinstance(a, bool) or isinstance(b, bool):
        if op == "==":
            return a is b or a == b and type(a) is type(b)
        return False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        pass
    elif isinstance(a, str) and isinstance(b, str):
        pass
    elif isinstance(a, dict) and "@value" in a:
        return _cmp(a["@value"], b, op)
    elif isinstance(a, str) and isinstance(b, (int, float)):
        return False
    elif isinstance(a, (int, float)) and isinstance(b, str):
        return False
    else:
        return op == "==" and a == b
    if op == "==":
        return a == b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    return False


def _resolve(entity, path):
    """All leaf values the path reaches (lists are flattened: == on an array = contains)."""
    names, keys = path
    current = [entity.get(names[0])]
    for name in names[1:]:
        nxt = []
        for attr in _instances(current):
            if name in attr:
                nxt.append(attr[name])
        current = nxt
    values = []
    for inst in _instances(current):
        values.extend(_leaf_values(inst))
    for k in keys:
        values = [v.get(k) for v in values if isinstance(v, dict) and k in v]
    flat = []
    for v in values:
        if isinstance(v, list):
            flat.extend(v)
        elif v is not None:
            flat.append(v)
    return flat


def _instances(values):
    for v in values:
        if isinstance(v, list):
            for x in v:
                if isinstance(x, dict):
                    yield x
        elif isinstance(v, dict):
            yield v
        elif v is not None:
            yield {"value": v}


def _leaf_values(inst):
    for k in _VALUE_KEYS:
        if k in inst:
            v = inst[k]
            if k == "languageMap" and isinstance(v, dict):
                return list(v.values())
            return [v]
    return []


# ------------------------------------------------------------------------------------------
# type selections: "A,B" or "A|B" = any; "A;B" = all (multi-typed entities); parentheses

def parse_types(text, expand):
    """type parameter -> list of alternatives, each a tuple of stored type names that must
    all be present.  "*" -> None (all types)."""
    text = text.strip()
    if text == "*":
        return None
    alts = []
    for alt in re.split(r"[|,]", text.replace("(", "").replace(")", "")):
        alt = alt.strip()
        if not alt:
            raise bad("Invalid type selection", text)
        alts.append(tuple(expand(t.strip()) for t in alt.split(";") if t.strip()))
    return alts


# ------------------------------------------------------------------------------------------
# geo-queries: near;maxDistance==m / near;minDistance==m, within, contains, intersects,
# disjoint, equals, overlaps.  Distances by haversine; polygon tests on vertices (an entity
# LineString/Polygon is "within" when all its vertices are, "intersects" when any is).

_EARTH_M = 6371008.8


def parse_geo(params, expand):
    geometry, georel, coords = (params.get("geometry"), params.get("georel"),
                                params.get("coordinates"))
    present = [x is not None for x in (geometry, georel, coords)]
    if not any(present):
        return None
    if not all(present):
        raise bad("Incomplete geo-query", "geometry, georel and coordinates go together")
    try:
        coordinates = json.loads(coords)
    except ValueError:
        raise bad("Invalid geo-query", "coordinates is not a JSON array") from None
    prop = expand(params.get("geoproperty") or "location")
    rel, _, mod = georel.partition(";")
    limit = None
    if rel == "near":
        m = re.match(r"^(maxDistance|minDistance)==(\d+(?:\.\d+)?)$", mod)
        if not m or geometry != "Point":
            raise bad("Invalid geo-query", "near needs Point and maxDistance==N or minDistance==N")
        limit = (m.group(1), float(m.group(2)))
    elif rel not in ("within", "contains", "intersects", "disjoint", "equals", "overlaps"):
        raise bad("Invalid geo-query", f"unknown georel {georel}")
    ref = {"type": geometry, "coordinates": coordinates}
    ref_pts = list(_points(ref))
    if not ref_pts:
        raise bad("Invalid geo-query", "no coordinates")

    def test(entity):
        attr = entity.get(prop)
        attr = attr[0] if isinstance(attr, list) else attr
        if not isinstance(attr, dict) or not isinstance(attr.get("value"), dict):
            return False
        pts = list(_points(attr["value"]))
        if not pts:
            return False
        if rel == "near":
            d = min(_haversine(p, ref_pts[0]) for p in pts)
            return d <= limit[1] if limit[0] == "maxDistance" else d >= limit[1]
        if rel == "equals":
            return pts == ref_pts
        if geometry in ("Polygon", "MultiPolygon"):
            inside = [_in_polygon(p, ref) for p in pts]
            if rel == "within":
                return all(inside)
            if rel in ("intersects", "overlaps"):
                return any(inside)
            if rel == "disjoint":
                return not any(inside)
            return False
        same = any(p in ref_pts for p in pts)
        return {"intersects": same, "contains": same, "disjoint": not same}.get(rel, False)
    return test


def _points(geom):
    def walk(c):
        if isinstance(c, list) and len(c) >= 2 and all(isinstance(x, (int, float)) for x in c):
            yield (float(c[0]), float(c[1]))
        elif isinstance(c, list):
            for x in c:
                yield from walk(x)
    yield from walk(geom.get("coordinates"))


def _haversine(a, b):
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + \
        math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_M * math.asin(min(1.0, math.sqrt(h)))


def _in_polygon(p, geom):
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    for poly in polys:
        if poly and _in_ring(p, poly[0]) and not any(_in_ring(p, hole) for hole in poly[1:]):
            return True
    return False


def _in_ring(p, ring):
    x, y = p
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside
