"""Broker profiles: how each NGSI-LD broker the emulator imitates answers the same request.

Every number and shape here comes from /work/shared/reference/ngsi-ld.md; the section of that
file is cited next to each value as [ref N.N].  Where the reference leaves a value open the
comment says "choice" and why.  Everything a profile varies is a plain field, so the control
API can override any of them at run time (POST /broker/config).
"""

import copy

ERR = "https://uri.etsi.org/ngsi-ld/errors/"

# Core context URLs by version [ref 2, "Core context URLs"].
CORE_V16 = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld"
CORE_V18 = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CORE_V19 = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"

# Ordering modes [ref 1.6, 7.6]:
#   created-id      creation time, ties broken by entity id (Orion-LD >= 1.6.0, PR #1578)
#   created-random  creation time, ties in a new random order on every request (Scorpio
#                   "ORDER BY createdAt" without tie-break; Orion-LD < 1.6 / #1573)
#   created-stable  creation time, ties in insertion order (what a plain heap scan gives)
#   id              entity id (Stellio before PR #1549)
ORDERS = ("created-id", "created-random", "created-stable", "id")

# Query parameters the emulator understands at all.
KNOWN_QUERY_PARAMS = {
    "type", "id", "idPattern", "q", "attrs", "limit", "offset", "count", "options", "format",
    "geometry", "georel", "coordinates", "geoproperty", "local", "localOnly", "lang",
    "orderBy", "reverse", "pick", "omit", "datasetId", "scopeQ", "csf", "details",
}


def _orion_ld():
    return {
        "name": "orion-ld",
        "product": "Orion-LD 1.7",
        "core_context": CORE_V16,                    # -coreContext v1.6 default [ref 2]
        "default_limit": 20,                         # [ref 1.4] -pageSize default
        "max_limit": 1000,                           # [ref 1.4] hard maximum
        # limit > max: 400 BadRequestData, not the spec's 403 (#1607) [ref 1.4]
        "limit_error": (400, "BadRequestData", "Invalid value for URI parameter /limit/",
                        "must be an integer value <= {max}"),
        # limit=0 without count [ref 1.4]
        "limit0_error": (400, "BadRequestData", "Invalid value for URI parameter /limit/",
                         "must be an integer value >= 1, if /count/ is not set"),
        # negative or non-digit limit/offset: 400 [ref 1.4]; the wording is a choice
        "badnum_error": (400, "BadRequestData", "Invalid value for URI parameter /{param}/",
                         "must be an integer value >= 0"),
        # [ref 1.2] id, idPattern, type, geometry, attrs, q or local=true
        "broad_ok": ("id", "idPattern", "type", "geometry", "attrs", "q"),
        "local_param": "local",
        "broad_error": (400, "BadRequestData", "Too broad query",
                        "Need at least one of: entity-id, entity-type, geo-location, "
                        "attribute-list, Q-filter, local=true"),
        "type_star": False,                          # [ref 1.1] only Stellio 2026 / spec 1.9
        "unknown_params": "reject",                  # [ref 1.2] 400 "Unknown URI parameter"
        "unknown_error": (400, "BadRequestData", "Unknown URI parameter", "{param}"),
        "options_extra": ("count",),                 # [ref 1.1] Orion-LD accepts options=count
        "reject_bad_options": True,                  # [ref 1.1] unknown option value -> 400
        "count_header": "NGSILD-Results-Count",
        "count_zero_body": "[]",                     # [ref 7.4] limit=0&count=true -> []
        "links": "none",                             # [ref 1.5] no next/prev links at all
        "gateway_url": None,
        "entity_map_header": False,
        "order": "created-id",                       # [ref 1.6] creDate + _id.id since 1.6.0
        "post_query_order": "created-random",        # [ref 1.6] POST query: creDate only
        "batch_ties": True,                          # [ref 1.6] a batch shares one creDate
        # tenants [ref 2, "Multi-tenancy"]
        "tenant_alt_header": "Fiware-Service",       # also accepted; both differing -> 400
        "tenant_lower": True,                        # names lowercased
        "tenant_max_len": 50,                        # "max 50-52 chars, alnum _ -"
        "tenant_unknown": (404, "NonExistingTenant", "No such tenant"),   # sic
        "tenant_implicit_create": True,
        "tenant_default_names": (),
        "tenant_disabled_error": (400, "BadRequestData", "Tenants not supported"),
        # batches [ref 3]
        "batch_max": 1000,                           # #1951 hard limit 1000
        "batch_over_max": "drop",                    # [ref 7.11] legacy: extras silently dropped
        "body_limit": 1024 * 1024,                   # 1 MiB -inReqPayloadMaxSize default
        "body_limit_title": "Request Entity too large",                  # #1356
        "batch_shape": "orion",                      # {entityId, error:{type,title,detail,status}}
        # existing entity in batch create: 400 BadRequestData, not 409 [ref 3]
        "create_exists": (400, "BadRequestData", "entity already exists"),
        "upsert_mixed_status": 207,                  # #803: all ids in success
        "upsert_update_replace_conflict": True,      # options=update,replace -> 400 [ref 3]
        "ctx_unavailable_status": 504,               # LdContextNotAvailable 504 [ref 3]
        "types_window": 1000,                        # #1698: /types from first 1000 entities
        "float6": True,                              # #1677: floats printed with 6 decimals
        "time_format": "millis",                     # YYYY-MM-DDTHH:MM:SS.mmmZ [ref 5]
        "problem_fields": ("type", "title", "detail"),
        "not_acceptable_title": "Invalid Accept mime-type",              # [ref 2]
        "ldjson_link_title": "invalid combination of HTTP headers Content-Type and Link",
    }


def _scorpio():
    p = _orion_ld()
    p.update({
        "name": "scorpio",
        "product": "Scorpio 5",
        "core_context": CORE_V18,                    # ngsild.corecontext v1.8 [ref 2]
        "default_limit": 50,                         # scorpio.entity.default-limit [ref 1.4]
        "max_limit": 1000,                           # scorpio.entity.max-limit [ref 1.4]
        # 403 with a trailing space inside the type URI [ref 1.4]
        "limit_error": (403, ERR + "TooManyResults ", "Too many results",
                        "limit {limit} exceeds the maximum of {max}"),
        "limit0_error": (400, "BadRequestData", "Limit can only be 0 if count is true.", None),
        "badnum_error": (400, "BadRequestData", "Bad Request Data.",
                         "invalid value for {param}"),
        # [ref 1.2] id/type/attrs/geometry/q/pick unless localOnly=true; idPattern alone no
        "broad_ok": ("id", "type", "attrs", "geometry", "q", "pick"),
        "local_param": "localOnly",
        "broad_error": (400, "BadRequestData", "Bad Request Data.", None),
        "unknown_params": "ignore",                  # [ref 1.2] JAX-RS ignores unknown params
        "options_extra": (),
        "reject_bad_options": False,
        # choice: lower-case header name, to exercise case-insensitive parsing [ref 7.4]
        "count_header": "ngsild-results-count",
        "count_zero_body": "",                       # [ref 7.4] EMPTY body with 200
        "links": "absolute",                         # [ref 1.5] absolute, wrong host, raw
        "gateway_url": "http://localhost:9090",      # scorpio.gatewayurl default [ref 1.5]
        "entity_map_header": True,                   # NGSILD-EntityMap on every query [ref 1.1]
        "order": "created-random",                   # ORDER BY createdAt only [ref 1.6]
        "post_query_order": "created-random",
        "tenant_alt_header": None,
        "tenant_lower": False,
        "tenant_max_len": 255,
        "tenant_unknown": (404, "TenantNotFound", "Tenant not found"),   # [ref 2]
        "tenant_implicit_create": True,              # tenant DB created on first write [ref 2]
        "tenant_disabled_error": (501, "NoMultiTenantSupport", "No multi-tenancy support"),
        "batch_max": None,                           # batchoperations.maxnumber = -1 [ref 3]
        "batch_over_max": None,
        "body_limit": 10 * 1024 * 1024,              # Quarkus default [ref 3, unverified]
        "body_limit_title": "Request Entity Too Large",
        "batch_shape": "scorpio",                    # {type,id,ProblemDetails} [ref 3]
        "create_exists": (409, "AlreadyExists", "Entity already exists"),
        "upsert_mixed_status": 201,
        "upsert_update_replace_conflict": False,
        "ctx_unavailable_status": 503,               # older spec / Scorpio 503 [ref 3]
        "types_window": None,
        "float6": False,
        "time_format": "keep",
        "problem_fields": ("type", "title", "detail"),
        "not_acceptable_title": "Not Acceptable",
        "ldjson_link_title": "Bad Request Data.",
    })
    return p


def _stellio():
    p = _orion_ld()
    p.update({
        "name": "stellio",
        "product": "Stellio 2.36",
        "core_context": CORE_V19,                    # application.contexts.core v1.9 [ref 2]
        "default_limit": 30,                         # APPLICATION_PAGINATION_LIMIT_DEFAULT
        "max_limit": 100,                            # APPLICATION_PAGINATION_LIMIT_MAX [ref 1.4]
        "limit_error": (403, "TooManyResults",
                        "You asked for {limit} results, but the supported maximum limit is "
                        "{max}", None),                # since Stellio #1137 [ref 1.4]
        # limit<=0 or offset<0 without count [ref 1.4]
        "limit0_error": (400, "BadRequestData", "Offset must be greater than zero and limit "
                         "must be strictly greater than zero", None),
        "badnum_error": (400, "BadRequestData", "Offset must be greater than zero and limit "
                         "must be strictly greater than zero", None),
        # [ref 1.2] type/attrs/q/geoQ or local=true (a lone id or idPattern is refused)
        "broad_ok": ("type", "attrs", "q", "geometry"),
        "local_param": "local",
        "broad_error": (400, "BadRequestData", "One of 'type', 'attrs', 'q', 'geoQ' must be "
                        "provided in the query unless local is true", None),
        "type_star": True,                           # Stellio >= 2.3x, PR #1783 [ref 1.1]
        "unknown_params": "reject",
        "unknown_error": (400, "BadRequestData",
                          "The '{param}' parameters are not allowed on this endpoint", None),
        "options_extra": (),
        "reject_bad_options": True,
        "count_header": "NGSILD-Results-Count",
        "count_zero_body": "[]",
        "links": "relative",                         # PagingUtils.kt, one line per rel [ref 1.5]
        "gateway_url": None,
        "entity_map_header": False,
        "order": "created-random",                   # created_at, no tie-break, PR #1549
        "post_query_order": "created-random",        # [ref 1.6]
        "batch_ties": False,                         # entities processed one by one [ref 3]
        "tenant_alt_header": None,
        "tenant_lower": False,
        "tenant_max_len": 255,
        "tenant_unknown": (404, "NonexistentTenant", "Tenant not found"),  # [ref 2]
        "tenant_implicit_create": False,             # statically configured [ref 2]
        "tenant_default_names": ("urn:ngsi-ld:tenant:default",),
        "tenant_disabled_error": (501, "NoMultiTenantSupport", "No multi-tenancy support"),
        "batch_max": None,                           # none documented
        "batch_over_max": None,
        "body_limit": 2 * 1024 * 1024,               # max-in-memory-size 2097152 [ref 3]
        "body_limit_title": "Request Entity Too Large",
        "batch_shape": "stellio",                    # Spring ProblemDetail in spec items [ref 3]
        "create_exists": (409, "AlreadyExists", "Entity already exists"),
        "upsert_mixed_status": 201,
        "upsert_update_replace_conflict": False,
        "ctx_unavailable_status": 504,
        "types_window": None,
        "float6": False,
        "time_format": "instant",                    # ISO_INSTANT [ref 5]
        "problem_fields": ("type", "title", "status", "detail", "instance"),
        "not_acceptable_title": "Not Acceptable",
        "ldjson_link_title": "Bad Request Data",
    })
    return p


def _strict():
    """The spec read literally, and the least generous value wherever brokers differ."""
    p = _orion_ld()
    p.update({
        "name": "strict",
        "product": "NGSI-LD 1.9.1 (strict)",
        "core_context": CORE_V19,
        "default_limit": 20,                         # choice: smallest default seen (Orion-LD)
        "max_limit": 100,                            # choice: smallest maximum seen (Stellio)
        "limit_error": (403, "TooManyResults", "Too many results",
                        "limit {limit} exceeds the maximum of {max}"),  # spec 5.5.6 [ref 1.4]
        "limit0_error": (400, "BadRequestData", "Invalid limit",
                         "limit=0 is only allowed with count=true"),
        "badnum_error": (400, "BadRequestData", "Invalid {param}",
                         "must be a non-negative integer"),
        # [ref 1.2] spec: type, attrs, q or geo-query unless local scope
        "broad_ok": ("type", "attrs", "q", "geometry"),
        "local_param": "local",
        "broad_error": (400, "BadRequestData", "Too broad query",
                        "one of type, attrs, q or a geo-query is required unless local=true"),
        "type_star": True,                           # spec 1.9.1 [ref 1.1]
        "unknown_params": "reject",
        "unknown_error": (400, "BadRequestData", "Unknown query parameter", "{param}"),
        "options_extra": (),
        "reject_bad_options": True,
        "count_header": "NGSILD-Results-Count",
        "count_zero_body": "[]",
        "links": "relative",                         # official test 031_02 format [ref 1.5]
        "gateway_url": None,
        "entity_map_header": False,
        "order": "created-random",                   # spec defines no order [ref 1.6]
        "post_query_order": "created-random",
        "tenant_alt_header": None,
        "tenant_lower": False,
        "tenant_max_len": 255,
        "tenant_unknown": (404, "NonexistentTenant", "Tenant not found"),
        "tenant_implicit_create": True,              # spec 5.5.10 [ref 2]
        "tenant_disabled_error": (501, "NoMultiTenantSupport", "No multi-tenancy support"),
        "batch_max": 1000,
        "batch_over_max": "error",                   # [ref 7.11] error (strict)
        "body_limit": 1024 * 1024,                   # choice: smallest documented (Orion-LD)
        "body_limit_title": "Request Entity Too Large",
        "batch_shape": "spec",
        "create_exists": (409, "AlreadyExists", "Entity already exists"),
        "upsert_mixed_status": 201,                  # spec 6.15 [ref 3]
        "upsert_update_replace_conflict": True,
        "ctx_unavailable_status": 504,               # v1.9.1 table 6.3.2-1 [ref 3]
        "types_window": None,
        "float6": False,
        "time_format": "keep",
        "problem_fields": ("type", "title", "detail", "status"),
        "not_acceptable_title": "Not Acceptable",
        "ldjson_link_title": "invalid combination of HTTP headers Content-Type and Link",
    })
    return p


_FACTORIES = {"orion-ld": _orion_ld, "scorpio": _scorpio, "stellio": _stellio,
              "strict": _strict}
PROFILE_NAMES = tuple(_FACTORIES)


def get(name):
    """A fresh, mutable copy of the named profile; KeyError for an unknown name."""
    if name not in _FACTORIES:
        raise KeyError(f"unknown broker profile {name!r} (known: {', '.join(PROFILE_NAMES)})")
    return copy.deepcopy(_FACTORIES[name]())


def error_type(short_or_uri):
    """The ProblemDetails type URI for a short error name (full URIs pass through)."""
    if "://" in short_or_uri:
        return short_or_uri
    return ERR + short_or_uri
