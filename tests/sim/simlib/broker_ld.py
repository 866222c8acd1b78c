"""@context handling and entity representation for the NGSI-LD emulator.

Stored form.  Entities are kept "core-compacted": exactly what the broker answers to a request
that carries no user @context ([ref 2] "What to store"): core terms stay short (`location`,
`observedAt`, `status`...), names from the default vocabulary become short terms, everything
else is a full IRI.  Expanding a stored name therefore needs only the core context, and the
common answer (Accept json, no Link) is the stored JSON itself.

Contexts.  No network: a context is a URL of the built-in registry (core contexts, the
smart-data-models context, the LegoCity context, and whatever the control API registers), an
inline object, or a list of both.  Terms map to IRIs, `prefix:suffix` compact IRIs resolve
against earlier terms, `@vocab` changes the fallback.  The core context always wins [ref 2].
"""

import datetime
import itertools
import json
import math
import re

CORE_NS = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
GEOJSON_NS = "https://purl.org/geojson/vocab#"
DCTERMS = "http://purl.org/dc/terms/"
JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
CORE_URL_RE = re.compile(r"^https?://uri\.etsi\.org/ngsi-ld/v1/ngsi-ld-core-context"
                         r"(-v1\.\d+)?\.jsonld$")

SDM_CONTEXT_URL = "https://smart-data-models.github.io/data-models/context.jsonld"
LEGOCITY_CONTEXT_URL = "https://legocity.example/ngsi-ld/context.jsonld"    # as in SSM

# Core context terms (the subset that can collide with entity content, v1.6-v1.9).
_CORE_PLAIN = """
id type value object objectType languageMap vocab json valueList objectList observedAt unitCode
datasetId createdAt modifiedAt deletedAt instanceId location observationSpace operationSpace
scope lang Property Relationship GeoProperty LanguageProperty VocabProperty JsonProperty
ListProperty ListRelationship DateTime Date Time status format endpoint entities entity
idPattern q geoQ csf timeInterval expiresAt notification notifiedAt watchedAttributes
throttling accept uri information success errors updated unchanged reason data values
typeList typeName typeNames attributeNames attributeDetails attributeCount attributeTypes
entityCount EntityTypeList EntityType Attribute AttributeList attributeList attributeName
propertyNames relationshipNames timeAt endTimeAt timeproperty timerel georel geoproperty
""".split()
CORE_TERMS = {t: CORE_NS + t for t in _CORE_PLAIN}
CORE_TERMS.update({
    "id": "@id", "type": "@type",
    "description": DCTERMS + "description", "title": DCTERMS + "title",
    "geometry": GEOJSON_NS + "geometry", "coordinates": GEOJSON_NS + "coordinates",
    "bbox": GEOJSON_NS + "bbox", "properties": GEOJSON_NS + "properties",
})
for _g in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
           "GeometryCollection", "Feature", "FeatureCollection"):
    CORE_TERMS[_g] = GEOJSON_NS + _g
CORE_BY_IRI = {iri: term for term, iri in CORE_TERMS.items()}

ATTR_TYPES = ("Property", "Relationship", "GeoProperty", "LanguageProperty", "VocabProperty",
              "JsonProperty", "ListProperty", "ListRelationship")
VALUE_KEY = {"Property": "value", "GeoProperty": "value", "Relationship": "object",
             "LanguageProperty": "languageMap", "VocabProperty": "vocab", "JsonProperty": "json",
             "ListProperty": "valueList", "ListRelationship": "objectList"}
META_KEYS = {"type", "value", "object", "objectType", "languageMap", "vocab", "json",
             "valueList", "objectList", "observedAt", "unitCode", "datasetId", "createdAt",
             "modifiedAt", "instanceId", "deletedAt", "lang"}
GEO_ATTRS = ("location", "observationSpace", "operationSpace")
GEO_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
             "GeometryCollection")
URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
SEP = "\x1f"
_SERIALS = itertools.count(1)


class LdError(Exception):
    """A request the broker refuses: rendered as ProblemDetails by the server."""

    def __init__(self, status, etype, title, detail=None):
        super().__init__(f"{status} {etype}: {title}")
        self.status = status
        self.etype = etype
        self.title = title
        self.detail = detail


def bad(title, detail=None):
    return LdError(400, "BadRequestData", title, detail)


# ------------------------------------------------------------------------------------------
# Built-in contexts

def _sdm_context():
    """Smart-data-models terms used by the LegoCity seed (IRIs in the style of
    smart-data-models' own context: https://smartdatamodels.org/dataModel.<Domain>/<term>)."""
    dom = {
        "Weather": "WeatherObserved dateObserved temperature relativeHumidity "
                   "atmosphericPressure windSpeed windDirection precipitation "
                   "illuminance weatherType",
        "Environment": "AirQualityObserved NO2 PM10 PM2_5 O3 CO airQualityIndex "
                       "airQualityLevel reliability",
        "Streetlighting": "Streetlight powerState lanternHeight dateLastLampChange "
                          "refStreetlightGroup illuminanceLevel municipalityInfo "
                          "deviceInfo controllerConfig switchedBy",
        "Parking": "ParkingSpot OffStreetParking refParkingSite totalSpotNumber "
                   "availableSpotNumber occupancyDetectionType allowedVehicleType "
                   "width length category",
        "Transportation": "TrafficFlowObserved intensity averageVehicleSpeed occupancy "
                          "laneId congested refRoadSegment vehicleType laneDirection",
        "Device": "Device controlledProperty serialNumber batteryLevel deviceState "
                  "dateInstalled refDevice source",
    }
    ctx = {"sdm": "https://smartdatamodels.org/"}
    for domain, terms in dom.items():
        for t in terms.split():
            ctx[t] = f"https://smartdatamodels.org/dataModel.{domain}/{t}"
    for t in ("address", "name", "alternateName", "dataProvider", "areaServed"):
        ctx[t] = "https://smartdatamodels.org/" + t
    ctx["schema"] = "https://schema.org/"
    return ctx


def builtin_contexts():
    """url -> context value (dict or list) for the registry every broker starts with."""
    lego_terms = {
        "lego": "https://legocity.example/ns#",
        "district": "lego:district",
        "refDistrict": {"@id": "lego:refDistrict", "@type": "@id"},
        "brickCount": "lego:brickCount",
    }
    return {
        SDM_CONTEXT_URL: _sdm_context(),
        LEGOCITY_CONTEXT_URL: [SDM_CONTEXT_URL, lego_terms],
    }


class Context:
    """A resolved user @context: term -> IRI, the reverse map, @vocab, and what to echo."""

    def __init__(self, echo=None):
        self.serial = next(_SERIALS)
        self.terms = {}
        self.reverse = {}
        self.vocab = None
        self.echo = echo          # the request's context as given (URL string, list, dict)
        self.is_core = True       # no user terms at all
        self._to_stored = {}
        self._from_stored = {}

    def add_term(self, term, definition):
        if term.startswith("@"):
            if term == "@vocab" and isinstance(definition, str):
                self.vocab = self._resolve(definition)
                self.is_core = False
            return
        if isinstance(definition, dict):
            definition = definition.get("@id")
        if not isinstance(definition, str):
            self.terms.pop(term, None)
            return
        iri = self._resolve(definition)
        self.terms[term] = iri
        # first definition wins for compaction, later ones override for expansion
        self.reverse.setdefault(iri, term)
        self.is_core = False

    def _resolve(self, value):
        if ":" in value:
            prefix, suffix = value.split(":", 1)
            if not suffix.startswith("//") and prefix in self.terms:
                return self.terms[prefix] + suffix
            return value
        if value in self.terms:
            return self.terms[value]
        return (self.vocab or DEFAULT_VOCAB) + value

    def finish(self):
        # a term redefined later must not stay the preferred compaction of its old IRI
        self.reverse = {iri: t for iri, t in self.reverse.items() if self.terms.get(t) == iri}
        return self

    def expand(self, name):
        """Request name (term, compact IRI or IRI) -> stored name."""
        cached = self._to_stored.get(name)
        if cached is not None:
            return cached
        if name in CORE_TERMS:
            out = name
        else:
            if name in self.terms:
                iri = self.terms[name]
            elif ":" in name:
                iri = self._resolve(name)
            else:
                iri = (self.vocab or DEFAULT_VOCAB) + name
            out = store_name(iri)
        self._to_stored[name] = out
        return out

    def compact(self, stored):
        """Stored name -> the name this context answers with."""
        cached = self._from_stored.get(stored)
        if cached is not None:
            return cached
        if stored in CORE_TERMS or self.is_core:
            out = stored
        else:
            iri = stored if ":" in stored else DEFAULT_VOCAB + stored
            out = self.reverse.get(iri)
            if out is None:
                out = iri
                for base in (self.vocab, DEFAULT_VOCAB):
                    if base and iri.startswith(base):
                        short = iri[len(base):]
                        if short and ":" not in short and self.terms.get(short, iri) == iri:
                            out = short
                            break
        self._from_stored[stored] = out
        return out


def store_name(iri):
    """An expanded IRI -> its stored (core-compacted) name."""
    core = CORE_BY_IRI.get(iri)
    if core is not None:
        return core
    if iri.startswith(DEFAULT_VOCAB):
        short = iri[len(DEFAULT_VOCAB):]
        if short and ":" not in short and "/" not in short and "#" not in short \
                and short not in CORE_TERMS:
            return short
    return iri


def core_expand(stored):
    """Stored name -> full IRI (core context only)."""
    if stored in CORE_TERMS:
        return CORE_TERMS[stored]
    return stored if ":" in stored else DEFAULT_VOCAB + stored


class ContextRegistry:
    """Known context documents by URL; resolves request contexts."""

    def __init__(self):
        self.docs = builtin_contexts()
        self._cache = {}

    def register(self, url, value):
        if isinstance(value, dict) and "@context" in value:
            value = value["@context"]
        self.docs[url] = value
        self._cache.clear()

    def resolve(self, value, unavailable_status=504):
        """@context value (URL, dict or list) -> Context.  LdError 503/504 for a URL the
        registry does not know (the emulator has no network) [ref 2, LdContextNotAvailable]."""
        key = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
        ctx = self._cache.get(key)
        if ctx is None:
            ctx = Context(echo=value)
            self._load(ctx, value, unavailable_status, depth=0)
            ctx.finish()
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = ctx
        return ctx

    def _load(self, ctx, value, status, depth):
        if depth > 8:
            raise bad("@context nesting too deep")
        if value is None:
            return
        if isinstance(value, list):
            for item in value:
                self._load(ctx, item, status, depth + 1)
        elif isinstance(value, str):
            if CORE_URL_RE.match(value):
                return
            doc = self.docs.get(value)
            if doc is None:
                raise LdError(status, "LdContextNotAvailable", "Unable to retrieve @context",
                              f"the context {value} cannot be downloaded (no network)")
            self._load(ctx, doc, status, depth + 1)
        elif isinstance(value, dict):
            inner = value.get("@context")
            if inner is not None and len(value) == 1:
                self._load(ctx, inner, status, depth + 1)
                return
            for term, definition in value.items():
                ctx.add_term(term, definition)
        else:
            raise bad("Invalid @context", "an @context must be a string, an object or an array")


# ------------------------------------------------------------------------------------------
# Input: request entity -> stored form

_TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                    r"(Z|[+-]\d{2}:?\d{2})?$")


def parse_time(text):
    """ISO 8601 date-time -> aware datetime, or None when it is not one."""
    if not isinstance(text, str):
        return None
    m = _TS_RE.match(text)
    if not m:
        return None
    try:
        frac = m.group(7) or ""
        micro = int((frac[1:] + "000000")[:6]) if frac else 0
        dt = datetime.datetime(*(int(m.group(i)) for i in range(1, 7)), micro)
        tz = m.group(8)
        if tz and tz != "Z":
            sign = 1 if tz[0] == "+" else -1
            digits = tz[1:].replace(":", "")
            off = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            dt = dt - sign * off
        return dt.replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def format_time(dt, style):
    """Render an aware datetime the way a broker prints it [ref 5]."""
    if style == "instant":      # Java ISO_INSTANT: fraction only when non-zero, 3/6 digits
        base = dt.strftime("%Y-%m-%dT%H:%M:%S")
        if dt.microsecond:
            frac = f"{dt.microsecond:06d}"
            frac = frac[:3] if frac.endswith("000") else frac
            base += "." + frac
        return base + "Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def iso_ms(epoch):
    dt = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return format_time(dt, "millis")


class Normalizer:
    """Validates request entities and turns them into the stored form.

    profile: the active profile dict (float6 / time_format quirks are applied on write, so
    the stored JSON is already what that broker would print)."""

    def __init__(self, profile):
        self.float6 = profile.get("float6", False)
        self.time_format = profile.get("time_format", "keep")

    def entity(self, raw, ctx, require_type=True):
        """Request entity -> stored dict.  LdError (400) for anything malformed."""
        if not isinstance(raw, dict):
            raise bad("Invalid entity", "an entity must be a JSON object")
        eid = raw.get("id", raw.get("@id"))
        if not isinstance(eid, str) or not URI_RE.match(eid):
            raise bad("Invalid Entity ID", f"the entity id must be a URI: {eid!r}")
        out = {"id": eid}
        etype = raw.get("type", raw.get("@type"))
        if etype is None:
            if require_type:
                raise bad("Entity type missing", f"entity {eid} has no type")
        else:
            out["type"] = self.types(etype, ctx)
        for key, value in raw.items():
            if key in ("id", "@id", "type", "@type", "@context", "createdAt", "modifiedAt",
                       "deletedAt"):
                continue        # sysAttrs are silently dropped on write [ref 2]
            if key == "scope":
                out["scope"] = value
                continue
            name = ctx.expand(key)
            out[name] = self.attribute(name, value, ctx)
        return out

    def trusted(self, raw, ctx):
        """entity() without validation, for generated seed data: the same stored form (the
        seed test checks they agree) at about half the cost."""
        out = {"id": raw["id"], "type": self.types(raw["type"], ctx)}
        for key, value in raw.items():
            if key in ("id", "type"):
                continue
            if key == "scope":
                out[key] = value
            else:
                out[ctx.expand(key)] = self._trusted_attr(value, ctx)
        return out

    def _trusted_attr(self, value, ctx):
        if isinstance(value, list):
            return [self._trusted_instance(v, ctx) for v in value]
        return self._trusted_instance(value, ctx)

    def _trusted_instance(self, inst, ctx):
        out = {}
        for key, x in inst.items():
            if key not in META_KEYS:
                out[ctx.expand(key)] = self._trusted_attr(x, ctx)
                continue
            if key == "vocab":
                x = [ctx.expand(v) for v in x] if isinstance(x, list) else ctx.expand(x)
            elif key in ("value", "valueList") and self.float6:
                x = self.numbers(x)
            elif key == "observedAt" and self.time_format != "keep":
                x = format_time(parse_time(x), self.time_format)
            out[key] = x
        return out

    def types(self, etype, ctx):
        if isinstance(etype, str) and etype:
            return ctx.expand(etype)
        if isinstance(etype, list) and etype and all(isinstance(t, str) and t for t in etype):
            expanded = []
            for t in etype:
                e = ctx.expand(t)
                if e not in expanded:
                    expanded.append(e)
            return expanded[0] if len(expanded) == 1 else expanded
        raise bad("Invalid entity type", "type must be a non-empty string or array of strings")

    def attributes(self, raw, ctx):
        """A fragment of attributes (PATCH/POST .../attrs body) -> {stored name: attr}."""
        if not isinstance(raw, dict):
            raise bad("Invalid payload", "the body must be a JSON object")
        out = {}
        for key, value in raw.items():
            if key in ("@context", "id", "type", "createdAt", "modifiedAt"):
                continue
            name = ctx.expand(key)
            out[name] = self.attribute(name, value, ctx)
        return out

    def attribute(self, name, value, ctx):
        if isinstance(value, list):
            if not value:
                raise bad("Invalid attribute", f"attribute {name} is an empty array")
            instances = [self.instance(name, v, ctx) for v in value]
            seen = set()
            for inst in instances:
                ds = inst.get("datasetId")
                if ds in seen:
                    if ds is None:
                        raise bad("Invalid attribute", f"attribute {name} has more than one "
                                  "default instance (no datasetId)")
                    raise bad("Invalid attribute", f"attribute {name}: datasetId {ds} twice")
                seen.add(ds)
            return instances[0] if len(instances) == 1 else instances
        return self.instance(name, value, ctx)

    def instance(self, name, value, ctx):
        if not isinstance(value, dict):
            # concise / simplified input: a bare value is a Property
            value = {"type": "Property", "value": value}
        atype = value.get("type")
        if atype is None:
            for t, k in VALUE_KEY.items():
                if k in value:
                    atype = t
                    break
        if atype not in ATTR_TYPES:
            raise bad("Invalid attribute", f"attribute {name}: unknown type {atype!r}")
        vkey = VALUE_KEY[atype]
        if vkey not in value:
            raise bad("Invalid attribute", f"attribute {name} ({atype}) has no '{vkey}'")
        if name in GEO_ATTRS and atype != "GeoProperty":
            if atype == "Property" and _is_geometry(value.get("value")):
                atype = "GeoProperty"
            else:
                raise bad("Invalid attribute", f"{name} must be a GeoProperty")
        out = {"type": atype}
        v = value[vkey]
        if atype == "GeoProperty" and not _is_geometry(v):
            raise bad("Invalid GeoProperty", f"attribute {name}: value is not a GeoJSON geometry")
        if atype == "Relationship":
            objs = v if isinstance(v, list) else [v]
            if not objs or not all(isinstance(o, str) and URI_RE.match(o) for o in objs):
                raise bad("Invalid Relationship", f"attribute {name}: object must be a URI")
        if atype == "LanguageProperty" and not isinstance(v, dict):
            raise bad("Invalid LanguageProperty", f"attribute {name}: languageMap not an object")
        if atype == "VocabProperty":
            v = [ctx.expand(x) if isinstance(x, str) else x for x in v] \
                if isinstance(v, list) else (ctx.expand(v) if isinstance(v, str) else v)
        if atype != "JsonProperty":
            v = self.numbers(v)
        out[vkey] = v
        for key, sub in value.items():
            if key in ("type", vkey, "createdAt", "modifiedAt", "instanceId", "deletedAt"):
                continue
            if key == "unitCode":
                if atype != "Property":
                    raise bad("Invalid attribute", f"unitCode of {name}: valid for Property "
                              "attributes only")
                out[key] = sub
            elif key == "observedAt":
                t = parse_time(sub)
                if t is None:
                    raise bad("Invalid attribute", f"observedAt of {name} is not a DateTime")
                out[key] = sub if self.time_format == "keep" else \
                    format_time(t, self.time_format)
            elif key == "datasetId":
                if not isinstance(sub, str) or not URI_RE.match(sub):
                    raise bad("Invalid attribute", f"datasetId of {name} must be a URI")
                out[key] = sub
            elif key in ("objectType", "lang"):
                out[key] = sub
            elif key in META_KEYS:
                raise bad("Invalid attribute", f"attribute {name}: '{key}' not valid for "
                          f"{atype}")
            else:
                sname = ctx.expand(key)
                out[sname] = self.attribute(sname, sub, ctx)
        return out

    def numbers(self, v):
        """Orion-LD prints every float with 6 decimals (#1677) [ref 5]."""
        if not self.float6:
            return v
        if isinstance(v, float):
            return round(v, 6) if math.isfinite(v) else v
        if isinstance(v, list):
            return [self.numbers(x) for x in v]
        if isinstance(v, dict):
            return {k: self.numbers(x) for k, x in v.items()}
        return v


def _is_geometry(v):
    if not isinstance(v, dict) or v.get("type") not in GEO_TYPES:
        return False
    if v["type"] == "GeometryCollection":
        return isinstance(v.get("geometries"), list)
    return isinstance(v.get("coordinates"), list)


def attr_names(entity):
    """SEP-joined stored attribute names (with SEP at both ends) for the attrs filter."""
    names = [k for k in entity if k not in ("id", "type", "scope", "@context")]
    return SEP + SEP.join(names) + SEP if names else SEP


def types_of(entity):
    t = entity.get("type")
    if t is None:
        return []
    return [t] if isinstance(t, str) else list(t)


# ------------------------------------------------------------------------------------------
# Output: stored form -> response representation

class Renderer:
    """Turns stored entities into the representation one request asked for.

    ctx: the request Context; fmt: normalized | keyValues | concise; sys_attrs: add
    createdAt/modifiedAt; attrs: set of stored names to keep (None = all); ld: add @context.
    entity() works in place on a freshly parsed entity (no copies: a 1000-entity page with a
    user @context renders in tens of milliseconds).
    """

    def __init__(self, ctx, fmt="normalized", sys_attrs=False, attrs=None, ld=False,
                 ld_context=None):
        self.ctx = ctx
        self.fmt = fmt
        self.sys_attrs = sys_attrs
        self.attrs = attrs
        self.ld = ld
        self.ld_context = ld_context
        self.core = ctx.is_core

    def signature(self):
        """What distinguishes this rendering from another (render cache key part)."""
        return (self.ctx.serial, self.fmt, self.sys_attrs,
                None if self.attrs is None else tuple(sorted(self.attrs)), self.ld,
                None if not self.ld else json.dumps(self.ld_context, sort_keys=True))

    @property
    def passthrough(self):
        """True when the stored JSON text is the answer byte for byte."""
        return (self.core and self.fmt == "normalized" and not self.sys_attrs
                and self.attrs is None and not self.ld)

    def entity(self, e, created_at=None, modified_at=None, sysattrs=None):
        c = self.ctx.compact
        if not self.core and "type" in e:
            t = e["type"]
            e["type"] = c(t) if isinstance(t, str) else [c(x) for x in t]
        for name in list(e):
            if name in ("id", "type", "scope"):
                continue
            if self.attrs is not None and name not in self.attrs:
                del e[name]
                continue
            times = (sysattrs.get(name) if sysattrs else None) or (created_at, modified_at)
            value = self.attribute(e[name], times)
            short = name if self.core else c(name)
            if short != name:
                del e[name]
            e[short] = value
        if self.sys_attrs and created_at:
            e["createdAt"] = created_at
            e["modifiedAt"] = modified_at
        if self.ld:
            e["@context"] = self.ld_context
        return e

    def attribute(self, value, times):
        if isinstance(value, list):
            return [self.instance(v, times) for v in value]
        return self.instance(value, times)

    def instance(self, inst, times):
        atype = inst.get("type")
        vkey = VALUE_KEY.get(atype, "value")
        if atype == "VocabProperty" and not self.core:
            v = inst.get(vkey)
            c = self.ctx.compact
            inst[vkey] = [c(x) if isinstance(x, str) else x for x in v] \
                if isinstance(v, list) else (c(v) if isinstance(v, str) else v)
        if self.fmt == "keyValues":
            return inst.get(vkey)
        if self.fmt == "concise":
            inst.pop("type", None)
        for key in list(inst):
            if key in META_KEYS:
                continue
            sub = self.attribute(inst[key], times)
            short = key if self.core else self.ctx.compact(key)
            if short != key:
                del inst[key]
            inst[short] = sub
        if self.sys_attrs and times[0]:
            inst["createdAt"], inst["modifiedAt"] = times[0], times[1]
        return inst


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
