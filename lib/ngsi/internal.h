/*
 * internal.h - what client.c shares with export.c and write.c.
 */
#ifndef LCB_NGSI_INTERNAL_H
#define LCB_NGSI_INTERNAL_H

#include "../archive/jsonscan.h"
#include "../core/buf.h"
#include "../ext/http.h"
#include "ngsi.h"

struct lcb_ngsi {
    struct lcb_http *http;
    char *base;     /* ".../ngsi-ld/v1" */
    char *display;  /* base without userinfo */
    char *tenant;
    int page_size;
    int in_flight;
    int max_attempts;
    long timeout_ms;
    lcb_ngsi_show_fn show; /* set: a dry run (dryrun.c), writes go here instead of the broker */
    void *show_ud;
};

/* Headers for a request: Accept, tenant, and Content-Type when has_body. Returns the count. */
size_t ngsi_headers(const struct lcb_ngsi *n, struct lcb_http_header *h, int has_body);
/* A dry run's write of body to path: handed to n->show with the headers a real request carries;
 * ids is the JSON array of the id strings the body lists, unit names them ("entities", "ids"). */
void ngsi_show(const struct lcb_ngsi *n, const char *path, const struct lcb_buf *body,
               const struct lcb_json *ids, const char *unit);
/* method path(+query) with optional body; retried on transient failures; resp holds the final
 * answer, whatever its status. Returns 0, or -1 when no answer could be had. */
int ngsi_call(struct lcb_ngsi *n, const char *method, const char *path, const char *body,
              size_t body_len, struct lcb_http_resp *resp, struct lcb_err *err);
/* Is this status worth another attempt? */
int ngsi_retryable(int status);
/* Sleep before retry number attempt (1-based); returns -1 when a signal arrived. */
int ngsi_backoff(int attempt, struct lcb_err *err);
/* Fill err from a ProblemDetails answer: "HTTP 400 BadRequestData: detail". Returns -1. */
int ngsi_fail(struct lcb_err *err, const struct lcb_http_resp *resp, const char *what);
/* Is this answer a refusal of the page size (400 about the limit, 403 TooManyResults)? */
int ngsi_limit_refused(const struct lcb_http_resp *r);
/* The page size to try after such a refusal of limit: the maximum the refusal names ("the
 * supported maximum limit is 100", "must be an integer value <= 1000"), else half of limit. */
int ngsi_smaller_limit(const struct lcb_http_resp *r, int limit);
/* A page's elements (page.c): byte ranges in the body and each one's top-level "id". */
/* A page of entities is split by lcb_jsonscan's index mode (lib/archive/jsonscan.h): items[k] are
 * its elements' byte ranges, key_* the string value of their "id" member. */
/* Split a page (a JSON array of objects) into its elements without building a tree, in the same
 * pass that checks its whole syntax (RFC 8259, UTF-8): a cut or corrupt body fails, and what
 * passes can be archived without another check. Returns 0, or -1 with why ("byte 812: invalid
 * literal"), or -2 when the body stops early (a cut answer: "byte 4096: unexpected end of
 * JSON"). */
int ngsi_page_split(struct lcb_jsonscan_index *pg, const char *body, size_t len, char *why,
                    size_t whylen);
/* The id of element k as a string in out (escapes decoded), or NULL when it has no string id. */
const char *ngsi_page_id(const struct lcb_jsonscan_index *pg, const char *body, size_t k,
                         struct lcb_buf *out);
void ngsi_page_release(struct lcb_jsonscan_index *pg);
/* URL-encode a query parameter value. */
void ngsi_qenc(struct lcb_buf *out, const char *s);

#endif
