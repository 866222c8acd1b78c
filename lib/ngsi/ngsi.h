/*
 * ngsi.h - the NGSI-LD client: counts, types, paged export of every entity, batch writes, and the
 * normalised form used to compare entities (../../shared/reference/ngsi-ld.md has the brokers'
 * quirks this code handles: page limits and their errors, ordering, empty pages past the count,
 * batch result shapes).
 *
 * Requests go through lib/ext/http.c with keep-alive; the export keeps several pages in flight on
 * one thread. Transient failures (5xx, connection resets, truncated bodies) are retried with full
 * jitter backoff; the final error summarises every attempt.
 */
#ifndef LCB_NGSI_NGSI_H
#define LCB_NGSI_NGSI_H

#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/opt.h"
#include "idset.h"

struct lcb_http;
struct lcb_http_header;
struct lcb_json;
struct lcb_ngsi;

struct lcb_ngsi_config {
    const char *url;    /* broker base URL ("http://broker:1026"); a trailing /ngsi-ld/v1 is ok */
    const char *tenant; /* NGSILD-Tenant, NULL for the default tenant */
    int page_size;      /* wanted page size (default 1000); halved while the broker refuses it */
    int in_flight;      /* export pages in flight (default 4) */
    int max_attempts;   /* per request (default 5) */
    long timeout_ms;    /* per request (default 60000) */
};

int lcb_ngsi_new(struct lcb_ngsi **out, struct lcb_http *http, const struct lcb_ngsi_config *cfg,
                 struct lcb_err *err);
void lcb_ngsi_free(struct lcb_ngsi *n);
/* The base URL without credentials (for manifests and logs). */
const char *lcb_ngsi_url(const struct lcb_ngsi *n);
int lcb_ngsi_page_size(const struct lcb_ngsi *n);

/* Entity types from GET /types (may be incomplete on Orion-LD: see lcb_ngsi_discover_types). */
int lcb_ngsi_types(struct lcb_ngsi *n, struct lcb_strlist *out, struct lcb_err *err);
/* Entities of type (NULL: all local entities) per NGSILD-Results-Count. */
int lcb_ngsi_count(struct lcb_ngsi *n, const char *type, long long *out, struct lcb_err *err);
/* /types, cross-checked: when the broker's total differs from the sum over the listed types, page
 * through all local entities to find the missing types. Appends to out (sorted, unique). */
int lcb_ngsi_discover_types(struct lcb_ngsi *n, struct lcb_strlist *out, struct lcb_err *err);

/* ---- export -------------------------------------------------------------------------------- */

/* A page of entities, deduplicated: json is a JSON array (as received when nothing was dropped),
 * its whole syntax checked (RFC 8259, UTF-8) and holding nentities objects. */
typedef int (*lcb_ngsi_page_fn)(void *ud, const char *type, int page_no, const char *json,
                                size_t len, size_t nentities, struct lcb_err *err);

struct lcb_ngsi_type_stats {
    char *type;
    long long count_start; /* NGSILD-Results-Count before the first page */
    long long count_end;   /* ... after the last (and the reconciliation) */
    long long exported;    /* distinct entities written */
    long long duplicates;  /* entities seen twice (pagination shifted) and dropped */
    long long reconciled;  /* entities only the reconciliation pass found */
    int pages;
};

struct lcb_ngsi_export {
    struct lcb_ngsi_type_stats *types;
    size_t ntypes;
    struct lcb_idset ids;        /* every exported id */
    struct lcb_buf discrepancies; /* one line each: what could not be reconciled */
    long long total;
    int page_size;               /* the page size the broker accepted */
};

void lcb_ngsi_export_init(struct lcb_ngsi_export *x);
void lcb_ngsi_export_release(struct lcb_ngsi_export *x);
/* Export every entity of type, page by page, calling fn for each page in order. Several pages are
 * in flight; an empty page while the count says more remain is retried, then an error. At the end
 * the type is re-counted and, when entities were missed, read again to add them. Errors: LCB_ETEMP,
 * LCB_ECORRUPT (the broker's answers are inconsistent), whatever fn returns, LCB_EINTR. */
int lcb_ngsi_export_type(struct lcb_ngsi *n, const char *type, lcb_ngsi_page_fn fn, void *ud,
                         struct lcb_ngsi_export *x, struct lcb_err *err);

/* ---- writes -------------------------------------------------------------------------------- */

enum lcb_ngsi_mode { LCB_NGSI_UPSERT, LCB_NGSI_CREATE_ONLY, LCB_NGSI_REPLACE };

struct lcb_ngsi_failure {
    char *id;
    char *reason; /* "409 AlreadyExists: ..." */
};

struct lcb_ngsi_write_result {
    long long written;
    struct lcb_ngsi_failure *failed;
    size_t nfailed;
};

void lcb_ngsi_write_result_release(struct lcb_ngsi_write_result *r);
/* Write entities (a JSON array) in batches of at most batch entities / batch_bytes bytes, several in
 * flight; 201/204/207 interpreted per entity; failed entities retried once in a batch of their own,
 * then listed in res. Returns 0 (check res->nfailed) or -1 when the broker could not be written at
 * all. REPLACE deletes then creates; UPSERT uses entityOperations/upsert (options=replace). */
int lcb_ngsi_write(struct lcb_ngsi *n, enum lcb_ngsi_mode mode, const struct lcb_json *entities,
                   int batch, size_t batch_bytes, struct lcb_ngsi_write_result *res,
                   struct lcb_err *err);
/* ---- dry run ------------------------------------------------------------------------------ */

/* A write as it would go out (a dry run's view); the strings are borrowed for the call. */
struct lcb_ngsi_request {
    const char *method;
    const char *url;                       /* without credentials */
    const struct lcb_http_header *headers; /* as sent */
    size_t nheaders;
    const char *unit;                      /* what the body lists: "entities" or "ids" */
    size_t items;                          /* how many */
    size_t bytes;                          /* of the body */
    const char *first_id, *last_id;       /* "" when the body lists none */
};

typedef void (*lcb_ngsi_show_fn)(void *ud, const struct lcb_ngsi_request *r);

/* From now on every write (batch create, upsert, delete) is handed to fn instead of being sent, and
 * succeeds without writing anything (written stays 0). The batches are the same as a real run's.
 * Reads are still sent. */
void lcb_ngsi_dry_run(struct lcb_ngsi *n, lcb_ngsi_show_fn fn, void *ud);
/* 1 when writes are only shown (lcb_ngsi_dry_run), else 0. */
int lcb_ngsi_is_dry_run(const struct lcb_ngsi *n);
/* One line for r, appended to out without a newline: "POST URL  NGSILD-Tenant: t  Content-Type:
 * application/json  100 entities, 131072 bytes: first .. last" (Accept left out; an Authorization
 * value never printed). */
void lcb_ngsi_request_format(struct lcb_buf *out, const struct lcb_ngsi_request *r);
/* The value of header name in r (case-insensitive), or NULL. */
const char *lcb_ngsi_request_header(const struct lcb_ngsi_request *r, const char *name);

/* Delete these ids (JSON array of entities or of id strings); missing ids are not an error. */
int lcb_ngsi_delete(struct lcb_ngsi *n, const struct lcb_json *ids, struct lcb_err *err);
/* One entity by id (NULL *out and 0 when it does not exist). */
int lcb_ngsi_get(struct lcb_ngsi *n, const char *id, struct lcb_json **out, struct lcb_err *err);

/* Entities by id (at most 100 ids; type may be NULL): GET /entities?id=...; *out is a JSON array
 * of those that exist (the caller's). */
int lcb_ngsi_get_many(struct lcb_ngsi *n, const char *type, char *const *ids, size_t nids,
                      struct lcb_json **out, struct lcb_err *err);

/* ---- comparison ---------------------------------------------------------------------------- */

/* The normalised form of an entity as canonical JSON text (appended to out): system attributes
 * (createdAt, modifiedAt, instanceId, deletedAt) and @context removed at every level, keys sorted,
 * numbers to 7 significant digits, timestamps as instants with milliseconds in UTC, one-element
 * arrays of attribute instances as the instance, multi-instance arrays sorted by datasetId, `type`
 * arrays sorted. Two brokers' renderings of the same entity normalise to the same text. */
void lcb_ngsi_normalize(struct lcb_buf *out, const struct lcb_json *entity);
/* 1 when two entities are the same in that form, numbers compared within 1e-6 * max(1, |a|)
 * (text equality alone fails where a broker's rounding crosses a 7th-digit boundary), else 0. */
int lcb_ngsi_same(const struct lcb_json *a, const struct lcb_json *b);

#endif
