/* client.c - NGSI-LD requests, retries, types and counts; see ngsi.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../aws/retry.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../core/sig.h"
#include "../ext/json.h"
#include "internal.h"

static char *
strip_userinfo(const char *url)
{
    const char *scheme = strstr(url, "://"), *at, *slash;

    if (!scheme)
        return lcb_xstrdup(url);
    at = strchr(scheme + 3, '@');
    slash = strchr(scheme + 3, '/');
    if (!at || (slash && slash < at))
        return lcb_xstrdup(url);
    return lcb_xasprintf("%.*s%s", (int)(scheme + 3 - url), url, at + 1);
}

int
lcb_ngsi_new(struct lcb_ngsi **out, struct lcb_http *http, const struct lcb_ngsi_config *cfg,
             struct lcb_err *err)
{
    struct lcb_ngsi *n;
    size_t len;
    char *url;

    *out = NULL;
    if (!cfg->url || (strncmp(cfg->url, "http://", 7) && strncmp(cfg->url, "https://", 8)))
        return lcb_err_set(err, LCB_ECONFIG, "broker URL '%s' is not an http(s) URL",
                           cfg->url ? cfg->url : "");
    if (lcb_http_check_url(http, cfg->url, 0, err) < 0)
        return -1;
    url = lcb_xstrdup(cfg->url);
    len = strlen(url);
    while (len && url[len - 1] == '/')
        url[--len] = '\0';
    n = lcb_xcalloc(1, sizeof(*n));
    n->http = http;
    if (len >= 12 && strcmp(url + len - 12, "/ngsi-ld/v1") == 0)
        n->base = url;
    else {
        n->base = lcb_xasprintf("%s/ngsi-ld/v1", url);
        free(url);
    }
    n->display = strip_userinfo(n->base);
    n->tenant = cfg->tenant && *cfg->tenant ? lcb_xstrdup(cfg->tenant) : NULL;
    n->page_size = cfg->page_size > 0 ? cfg->page_size : 1000;
    n->in_flight = cfg->in_flight > 0 ? cfg->in_flight : 4;
    n->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 5;
    n->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000;
    *out = n;
    return 0;
}

void
lcb_ngsi_free(struct lcb_ngsi *n)
{
    if (!n)
        return;
    free(n->base);
    free(n->display);
    free(n->tenant);
    free(n);
}

const char *
lcb_ngsi_url(const struct lcb_ngsi *n)
{
    return n->display;
}

int
lcb_ngsi_page_size(const struct lcb_ngsi *n)
{
    return n->page_size;
}

size_t
ngsi_headers(const struct lcb_ngsi *n, struct lcb_http_header *h, int has_body)
{
    size_t k = 0;

    h[k].name = "Accept";
    h[k++].value = "application/json";
    if (n->tenant) {
        h[k].name = "NGSILD-Tenant";
        h[k++].value = n->tenant;
    }
    if (has_body) {
        h[k].name = "Content-Type";
        h[k++].value = "application/json";
    }
    return k;
}

void
ngsi_qenc(struct lcb_buf *out, const char *s)
{
    lcb_http_uri_encode(out, s, strlen(s), 0);
}

int
ngsi_retryable(int status)
{
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

int
ngsi_backoff(int attempt, struct lcb_err *err)
{
    int64_t ms = lcb_retry_delay_ms(attempt, lcb_retry_rand(), 200);
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
    if (lcb_sig_pending())
        return lcb_err_set(err, LCB_EINTR, "interrupted");
    return 0;
}

int
ngsi_fail(struct lcb_err *err, const struct lcb_http_resp *resp, const char *what)
{
    struct lcb_json *pd = NULL;
    struct lcb_err ignored;
    const char *type = NULL, *detail = NULL, *slash;
    enum lcb_code code = LCB_EREFUSED;

    if (resp->body.len && lcb_json_parse(&pd, resp->body.ptr, resp->body.len, &ignored) == 0) {
        type = lcb_json_get_str(pd, "type");
        detail = lcb_json_get_str(pd, "detail");
        if (!detail)
            detail = lcb_json_get_str(pd, "title");
    }
    if (type && (slash = strrchr(type, '/')) != NULL)
        type = slash + 1;
    if (resp->status == 401 || resp->status == 403)
        code = type && strstr(type, "TooMany") ? LCB_EREFUSED : LCB_EAUTH;
    else if (resp->status == 404)
        code = LCB_ENOTFOUND;
    else if (ngsi_retryable(resp->status))
        code = LCB_ETEMP;
    lcb_err_set(err, code, "%s: HTTP %d%s%s%s%s", what, resp->status, type ? " " : "",
                type ? type : "", detail ? ": " : "", detail ? detail : "");
    err->http = resp->status;
    lcb_json_free(pd);
    return -1;
}

int
ngsi_limit_refused(const struct lcb_http_resp *r)
{
    const char *b = lcb_buf_str(&r->body);

    if (r->status == 403)
        return strstr(b, "TooManyResults") != NULL;
    return r->status == 400 && (strstr(b, "limit") != NULL || strstr(b, "Limit") != NULL);
}

int
ngsi_smaller_limit(const struct lcb_http_resp *r, int limit)
{
    static const char *const fields[] = { "detail", "title" };
    struct lcb_json *pd = NULL;
    struct lcb_err ignored;
    const char *text, *p;
    long best = 0, v;
    size_t i;

    if (r->body.len && lcb_json_parse(&pd, r->body.ptr, r->body.len, &ignored) == 0)
        for (i = 0; i < LCB_ARRAY_SIZE(fields); i++) {
            text = lcb_json_get_str(pd, fields[i]);
            for (p = text; p && *p; p++) {
                if (*p < '0' || *p > '9' || (p > text && p[-1] >= '0' && p[-1] <= '9'))
                    continue;
                v = strtol(p, NULL, 10);
                if (v > best && v < limit)
                    best = v;
            }
        }
    lcb_json_free(pd);
    return best > 0 ? (int)best : limit / 2;
}

int
ngsi_call(struct lcb_ngsi *n, const char *method, const char *path, const char *body,
          size_t body_len, struct lcb_http_resp *resp, struct lcb_err *err)
{
    struct lcb_retry_attempt tries[LCB_RETRY_MAX_ATTEMPTS_LOG];
    struct lcb_http_header h[4];
    struct lcb_http_req req;
    struct lcb_buf url = LCB_BUF_INIT, sum = LCB_BUF_INIT;
    int attempt, rc = -1;

    lcb_buf_addf(&url, "%s%s", n->base, path);
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = lcb_buf_str(&url);
    req.headers = h;
    req.nheaders = ngsi_headers(n, h, body != NULL);
    req.body = body;
    req.body_len = body_len;
    req.timeout_ms = n->timeout_ms;
    for (attempt = 1; attempt <= n->max_attempts; attempt++) {
        struct lcb_retry_attempt *t = &tries[(attempt - 1) % LCB_RETRY_MAX_ATTEMPTS_LOG];
        memset(t, 0, sizeof(*t));
        lcb_http_resp_reset(resp);
        if (lcb_http_send(n->http, &req, resp, err) == 0) {
            t->status = resp->status;
            if (!ngsi_retryable(resp->status)) {
                rc = 0;
                break;
            }
        } else {
            if (err->code == LCB_EINTR || err->code == LCB_ECONFIG)
                goto out;
            t->transport = err->code;
            t->timeout = lcb_http_timed_out(err);
        }
        if (attempt < n->max_attempts && ngsi_backoff(attempt, err) < 0)
            goto out;
    }
    if (rc < 0) {
        lcb_retry_summary(&sum, tries, (size_t)(attempt - 1 < LCB_RETRY_MAX_ATTEMPTS_LOG ? attempt - 1 : LCB_RETRY_MAX_ATTEMPTS_LOG));
        if (resp->status)
            rc = 0; /* the last answer stands: the caller reports it */
        else
            lcb_err_set(err, LCB_ETEMP, "%s %s%s: %s", method, n->display, path, lcb_buf_str(&sum));
    }
out:
    lcb_buf_release(&url);
    lcb_buf_release(&sum);
    return rc;
}

static int
get_json(struct lcb_ngsi *n, const char *path, struct lcb_http_resp *resp, struct lcb_json **out,
         struct lcb_err *err)
{
    *out = NULL;
    if (ngsi_call(n, "GET", path, NULL, 0, resp, err) < 0)
        return -1;
    if (resp->status != 200)
        return ngsi_fail(err, resp, path);
    if (resp->body.len == 0)
        return 0;
    if (lcb_json_parse(out, resp->body.ptr, resp->body.len, err) < 0)
        return lcb_wrap(err, "GET %s: the broker's answer is not JSON", path);
    return 0;
}

int
lcb_ngsi_count(struct lcb_ngsi *n, const char *type, long long *out, struct lcb_err *err)
{
    struct lcb_http_resp resp;
    struct lcb_buf path = LCB_BUF_INIT;
    struct lcb_json *body = NULL;
    const char *count;
    char *end;
    int rc = -1;

    lcb_http_resp_init(&resp);
    if (type) {
        lcb_buf_adds(&path, "/entities?type=");
        ngsi_qenc(&path, type);
        lcb_buf_adds(&path, "&count=true&limit=0");
    } else {
        /* Orion-LD and Stellio know local=true, Scorpio localOnly=true; unknown ones are ignored
         * by Scorpio and refused by the others, so ask the standard one first */
        lcb_buf_adds(&path, "/entities?local=true&count=true&limit=0");
    }
    if (get_json(n, lcb_buf_str(&path), &resp, &body, err) < 0) {
        if (!type && resp.status == 400) {
            lcb_buf_reset(&path);
            lcb_buf_adds(&path, "/entities?localOnly=true&count=true&limit=0");
            if (get_json(n, lcb_buf_str(&path), &resp, &body, err) == 0)
                goto have;
        }
        goto out;
    }
have:
    count = lcb_http_header_get(&resp.headers, "NGSILD-Results-Count");
    if (!count || (*out = strtoll(count, &end, 10)) < 0 || *end) {
        lcb_err_set(err, LCB_ECORRUPT, "%s: the broker sent no valid NGSILD-Results-Count for "
                    "count=true", n->display);
        goto out;
    }
    rc = 0;
out:
    lcb_json_free(body);
    lcb_buf_release(&path);
    lcb_http_resp_release(&resp);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_unique_sorted(struct lcb_strlist *l, const char *s)
{
    if (!lcb_strlist_has(l, s)) {
        lcb_strlist_add(l, s);
        qsort(l->items, l->n, sizeof(*l->items), cmp_str);
    }
}

int
lcb_ngsi_types(struct lcb_ngsi *n, struct lcb_strlist *out, struct lcb_err *err)
{
    struct lcb_http_resp resp;
    struct lcb_json *body = NULL, *list, *it;
    int rc = -1;

    lcb_http_resp_init(&resp);
    if (get_json(n, "/types", &resp, &body, err) < 0)
        goto out;
    list = lcb_json_get(body, "typeList");
    if (!list && lcb_json_type(body) == LCB_JSON_ARRAY)
        list = body; /* ?details=true style */
    for (it = lcb_json_child(list); it; it = lcb_json_next(it)) {
        const char *t = lcb_json_str(it);
        if (!t)
            t = lcb_json_get_str(it, "typeName");
        if (t)
            add_unique_sorted(out, t);
    }
    rc = 0;
out:
    lcb_json_free(body);
    lcb_http_resp_release(&resp);
    return rc;
}

/* Page through all local entities collecting their types (the slow path, only when /types is
 * known to be incomplete). */
static int
scan_types(struct lcb_ngsi *n, long long total, struct lcb_strlist *out, struct lcb_err *err)
{
    struct lcb_http_resp resp;
    struct lcb_json *page = NULL, *e;
    char path[160];
    long long offset = 0;
    int rc = 0;

    lcb_http_resp_init(&resp);
    while (rc == 0 && offset < total) {
        snprintf(path, sizeof(path), "/entities?local=true&limit=%d&offset=%lld", n->page_size,
                 offset);
        lcb_json_free(page);
        if ((rc = get_json(n, path, &resp, &page, err)) < 0) {
            if (!ngsi_limit_refused(&resp) || n->page_size <= 1)
                break;
            n->page_size = ngsi_smaller_limit(&resp, n->page_size); /* the export starts there */
            lcb_log(LCB_INFO, "ngsi.page.shrink", "the broker refuses %s: trying %d entities a "
                    "page", path, n->page_size);
            lcb_err_clear(err);
            rc = 0;
            page = NULL;
            continue;
        }
        if (lcb_json_size(page) == 0)
            break;
        for (e = lcb_json_child(page); e; e = lcb_json_next(e))
            if (lcb_json_get_str(e, "type"))
                add_unique_sorted(out, lcb_json_get_str(e, "type"));
        offset += (long long)lcb_json_size(page);
    }
    lcb_json_free(page);
    lcb_http_resp_release(&resp);
    return rc;
}

int
lcb_ngsi_discover_types(struct lcb_ngsi *n, struct lcb_strlist *out, struct lcb_err *err)
{
    long long total, sum = 0, c;
    size_t i;

    if (lcb_ngsi_types(n, out, err) < 0)
        return lcb_wrap(err, "list entity types");
    if (lcb_ngsi_count(n, NULL, &total, err) < 0) {
        lcb_log(LCB_WARN, "ngsi.types.unchecked",
                "cannot count all entities (%s): trusting /types", err->msg);
        return 0;
    }
    for (i = 0; i < out->n; i++) {
        if (lcb_ngsi_count(n, out->items[i], &c, err) < 0)
            return lcb_wrap(err, "count entities of type %s", out->items[i]);
        sum += c;
    }
    if (sum >= total)
        return 0;
    lcb_log(LCB_WARN, "ngsi.types.incomplete",
            "/types lists %zu types holding %lld entities but the broker holds %lld: scanning all "
            "entities for the missing types", out->n, sum, total);
    return scan_types(n, total, out, err);
}
