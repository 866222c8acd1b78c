/*
 * write.c - batch writes: entityOperations/create|upsert|delete, several batches in flight, the
 * 201/204/207 answers interpreted per entity for every broker's shape (ngsi-ld.md 3), failed
 * entities retried once on their own and then reported. In a dry run (dryrun.c) each request is
 * shown where it would be sent.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/json.h"
#include "internal.h"

#define MAX_BATCHES 8

struct batch {
    int busy;
    int attempts;
    struct lcb_buf body;
    struct lcb_json *ids; /* array of the ids in this batch, in order */
    struct lcb_buf url;
    struct lcb_http_header h[4];
    struct lcb_http_req req;
    struct lcb_http_resp resp;
};

void
lcb_ngsi_write_result_release(struct lcb_ngsi_write_result *r)
{
    size_t i;

    for (i = 0; i < r->nfailed; i++) {
        free(r->failed[i].id);
        free(r->failed[i].reason);
    }
    free(r->failed);
    memset(r, 0, sizeof(*r));
}

static void
add_failure(struct lcb_ngsi_write_result *r, const char *id, const char *reason)
{
    r->failed = lcb_xrealloc(r->failed, (r->nfailed + 1) * sizeof(*r->failed));
    r->failed[r->nfailed].id = lcb_xstrdup(id ? id : "?");
    r->failed[r->nfailed].reason = lcb_xstrdup(reason);
    r->nfailed++;
}

static const char *
op_path(enum lcb_ngsi_mode mode)
{
    return mode == LCB_NGSI_UPSERT ? "/entityOperations/upsert?options=replace"
                                   : "/entityOperations/create";
}

static int
batch_start(struct lcb_ngsi *n, struct lcb_http_multi *m, struct batch *b, const char *path,
            struct lcb_err *err)
{
    lcb_buf_reset(&b->url);
    lcb_buf_addf(&b->url, "%s%s", n->base, path);
    memset(&b->req, 0, sizeof(b->req));
    b->req.method = "POST";
    b->req.url = lcb_buf_str(&b->url);
    b->req.headers = b->h;
    b->req.nheaders = ngsi_headers(n, b->h, 1);
    b->req.body = b->body.ptr;
    b->req.body_len = b->body.len;
    b->req.timeout_ms = n->timeout_ms;
    lcb_http_resp_reset(&b->resp);
    b->busy = 1;
    return lcb_http_multi_add(m, &b->req, &b->resp, b, err);
}

/* "409 AlreadyExists: detail" from a ProblemDetails object. */
static void
problem_text(struct lcb_buf *out, const struct lcb_json *pd, int dflt_status)
{
    const char *type = lcb_json_get_str(pd, "type"), *slash;
    const char *detail = lcb_json_get_str(pd, "detail");
    int status = (int)lcb_json_get_num(pd, "status", dflt_status);

    if (!detail)
        detail = lcb_json_get_str(pd, "title");
    if (type && (slash = strrchr(type, '/')) != NULL)
        type = slash + 1;
    lcb_buf_addf(out, "%d %s%s%s", status, type ? type : "error", detail ? ": " : "",
                 detail ? detail : "");
}

/* Per-entity errors of a 207 (or an all-failed 4xx with the same body): the standard
 * {entityId, error} items and Scorpio's {id, ProblemDetails}. Returns how many were recorded. */
static size_t
record_errors(const struct lcb_json *body, int status, struct lcb_strlist *failed_ids,
              struct lcb_strlist *reasons)
{
    const struct lcb_json *errs = lcb_json_get(body, "errors"), *e;
    struct lcb_buf why = LCB_BUF_INIT;
    size_t k = 0;

    for (e = lcb_json_child(errs); e; e = lcb_json_next(e), k++) {
        const char *id = lcb_json_get_str(e, "entityId");
        const struct lcb_json *pd = lcb_json_get(e, "error");
        if (!id)
            id = lcb_json_get_str(e, "id");
        if (!pd)
            pd = lcb_json_get(e, "ProblemDetails");
        lcb_buf_reset(&why);
        problem_text(&why, pd, status);
        lcb_strlist_add(failed_ids, id ? id : "?");
        lcb_strlist_add(reasons, lcb_buf_str(&why));
    }
    lcb_buf_release(&why);
    return k;
}

/* Interpret a finished batch. Returns 0 (outcome recorded), 1 (retry the whole batch), -1. */
static int
judge_batch(struct lcb_ngsi *n, struct batch *b, const struct lcb_err *req_err,
            struct lcb_strlist *failed_ids, struct lcb_strlist *reasons, long long *written,
            struct lcb_err *err)
{
    struct lcb_json *body = NULL;
    struct lcb_err ignored;
    struct lcb_buf why = LCB_BUF_INIT;
    size_t nids = lcb_json_size(b->ids), nerr;
    const struct lcb_json *id;
    int st = b->resp.status;

    if (req_err->code == LCB_EINTR) {
        *err = *req_err;
        return -1;
    }
    if (req_err->code != LCB_OK || ngsi_retryable(st)) {
        if (++b->attempts < n->max_attempts)
            return 1;
        if (req_err->code != LCB_OK) {
            *err = *req_err;
            return lcb_wrap(err, "batch write (%d attempts)", b->attempts);
        }
        return ngsi_fail(err, &b->resp, "batch write");
    }
    if (st == 201 || st == 204 || st == 200) {
        *written += (long long)nids;
        return 0;
    }
    if (b->resp.body.len)
        lcb_json_parse(&body, b->resp.body.ptr, b->resp.body.len, &ignored);
    nerr = record_errors(body, st, failed_ids, reasons);
    if (st == 207 || nerr > 0) {
        *written += (long long)(nids > nerr ? nids - nerr : 0);
    } else {
        /* the whole batch was refused (400, 413, ...): every entity failed for that reason */
        problem_text(&why, body, st);
        for (id = lcb_json_child(b->ids); id; id = lcb_json_next(id)) {
            lcb_strlist_add(failed_ids, lcb_json_str(id));
            lcb_strlist_add(reasons, lcb_buf_str(&why));
        }
    }
    lcb_json_free(body);
    lcb_buf_release(&why);
    return 0;
}

/* Serialise entities from e into b until max_n entities or max_bytes; returns the first entity
 * left out (NULL at the end). */
static struct lcb_json *
fill_batch(struct batch *b, struct lcb_json *e, int max_n, size_t max_bytes)
{
    struct lcb_buf one = LCB_BUF_INIT;
    int k = 0;

    lcb_buf_reset(&b->body);
    lcb_json_free(b->ids);
    b->ids = lcb_json_new_array();
    b->attempts = 0;
    lcb_buf_addch(&b->body, '[');
    for (; e && k < max_n; e = lcb_json_next(e)) {
        lcb_buf_reset(&one);
        lcb_json_print(&one, e, 0);
        if (k > 0 && b->body.len + one.len + 2 > max_bytes)
            break;
        lcb_buf_addf(&b->body, "%s%s", k ? "," : "", lcb_buf_str(&one));
        lcb_json_push(b->ids, lcb_json_new_str(lcb_json_get_str(e, "id")));
        k++;
    }
    lcb_buf_addch(&b->body, ']');
    lcb_buf_release(&one);
    return e;
}

static int
run_batches(struct lcb_ngsi *n, const char *path, const struct lcb_json *entities, int max_n,
            size_t max_bytes, struct lcb_strlist *failed_ids, struct lcb_strlist *reasons,
            long long *written, struct lcb_err *err)
{
    struct batch bs[MAX_BATCHES];
    struct lcb_http_multi *m = NULL;
    struct lcb_json *next = lcb_json_child(entities);
    int nb = n->in_flight < MAX_BATCHES ? n->in_flight : MAX_BATCHES, i, busy = 0, rc = 0;

    memset(bs, 0, sizeof(bs));
    for (i = 0; i < nb; i++)
        lcb_http_resp_init(&bs[i].resp);
    if (!n->show && lcb_http_multi_new(&m, n->http, err) < 0)
        return -1;
    while (rc == 0 && (next || busy)) {
        for (i = 0; i < nb && next && rc == 0; i++) {
            if (bs[i].busy)
                continue;
            next = fill_batch(&bs[i], next, max_n, max_bytes);
            if (n->show)
                ngsi_show(n, path, &bs[i].body, bs[i].ids, "entities"); /* not sent: never busy */
            else if ((rc = batch_start(n, m, &bs[i], path, err)) == 0)
                busy++;
        }
        if (rc == 0 && busy) {
            struct lcb_err req_err;
            void *tag;
            int r;
            lcb_err_clear(&req_err);
            if ((r = lcb_http_multi_next(m, -1, &tag, &req_err)) < 0) {
                rc = lcb_err_set(err, LCB_EINTR, "interrupted");
                break;
            }
            if (r == 0)
                continue;
            r = judge_batch(n, tag, &req_err, failed_ids, reasons, written, err);
            if (r == 1 && ngsi_backoff(((struct batch *)tag)->attempts, err) == 0)
                r = batch_start(n, m, tag, path, err);
            else if (r == 0) {
                ((struct batch *)tag)->busy = 0;
                busy--;
            }
            if (r < 0)
                rc = -1;
        }
    }
    lcb_http_multi_free(m);
    for (i = 0; i < nb; i++) {
        lcb_buf_release(&bs[i].body);
        lcb_buf_release(&bs[i].url);
        lcb_json_free(bs[i].ids);
        lcb_http_resp_release(&bs[i].resp);
    }
    return rc;
}

/* The entities whose ids are in ids, in their original order. */
static struct lcb_json *
select_ids(const struct lcb_json *entities, const struct lcb_strlist *ids)
{
    struct lcb_json *out = lcb_json_new_array(), *e;

    for (e = lcb_json_child(entities); e; e = lcb_json_next(e))
        if (lcb_strlist_has(ids, lcb_json_get_str(e, "id")))
            lcb_json_push(out, lcb_json_dup(e));
    return out;
}

int
lcb_ngsi_write(struct lcb_ngsi *n, enum lcb_ngsi_mode mode, const struct lcb_json *entities,
               int batch, size_t batch_bytes, struct lcb_ngsi_write_result *res,
               struct lcb_err *err)
{
    struct lcb_strlist failed = LCB_STRLIST_INIT, reasons = LCB_STRLIST_INIT;
    struct lcb_strlist failed2 = LCB_STRLIST_INIT, reasons2 = LCB_STRLIST_INIT;
    struct lcb_json *again = NULL;
    const char *path = op_path(mode);
    size_t i;
    int rc = -1;

    if (batch <= 0)
        batch = 100;
    if (batch_bytes == 0)
        batch_bytes = 900 * 1024; /* under Orion-LD's 1 MiB default body limit */
    if (mode == LCB_NGSI_REPLACE && lcb_ngsi_delete(n, entities, err) < 0)
        return lcb_wrap(err, "delete before replace");
    if (run_batches(n, path, entities, batch, batch_bytes, &failed, &reasons, &res->written, err) < 0)
        goto out;
    if (failed.n) {
        /* once more, one entity a request: a single bad entity must not sink its neighbours */
        lcb_log(LCB_INFO, "ngsi.write.retry", "%zu entities failed: retrying them one by one",
                failed.n);
        again = select_ids(entities, &failed);
        if (run_batches(n, path, again, 1, batch_bytes, &failed2, &reasons2, &res->written,
                        err) < 0)
            goto out;
        for (i = 0; i < failed2.n; i++)
            add_failure(res, failed2.items[i], reasons2.items[i]);
    }
    rc = 0;
out:
    lcb_json_free(again);
    lcb_strlist_release(&failed);
    lcb_strlist_release(&reasons);
    lcb_strlist_release(&failed2);
    lcb_strlist_release(&reasons2);
    return rc;
}

int
lcb_ngsi_delete(struct lcb_ngsi *n, const struct lcb_json *ids, struct lcb_err *err)
{
    struct lcb_json *arr = lcb_json_new_array(), *e;
    struct lcb_http_resp resp;
    struct lcb_buf body = LCB_BUF_INIT;
    int rc = 0;

    for (e = lcb_json_child(ids); e; e = lcb_json_next(e)) {
        const char *id = lcb_json_str(e) ? lcb_json_str(e) : lcb_json_get_str(e, "id");
        if (id)
            lcb_json_push(arr, lcb_json_new_str(id));
    }
    lcb_http_resp_init(&resp);
    lcb_json_print(&body, arr, 0);
    if (lcb_json_size(arr) > 0 && n->show) {
        ngsi_show(n, "/entityOperations/delete", &body, arr, "ids");
    } else if (lcb_json_size(arr) > 0) {
        if (ngsi_call(n, "POST", "/entityOperations/delete", body.ptr, body.len, &resp, err) < 0)
            rc = -1;
        /* 207 with ResourceNotFound entries only: those entities were not there, which is fine */
        else if (resp.status != 204 && resp.status != 207 && resp.status != 404)
            rc = ngsi_fail(err, &resp, "batch delete");
    }
    lcb_http_resp_release(&resp);
    lcb_buf_release(&body);
    lcb_json_free(arr);
    return rc;
}

int
lcb_ngsi_get(struct lcb_ngsi *n, const char *id, struct lcb_json **out, struct lcb_err *err)
{
    struct lcb_http_resp resp;
    struct lcb_buf path = LCB_BUF_INIT;
    int rc = -1;

    *out = NULL;
    lcb_http_resp_init(&resp);
    lcb_buf_adds(&path, "/entities/");
    ngsi_qenc(&path, id);
    if (ngsi_call(n, "GET", lcb_buf_str(&path), NULL, 0, &resp, err) < 0)
        goto out;
    if (resp.status == 404) {
        rc = 0;
        goto out;
    }
    if (resp.status != 200) {
        ngsi_fail(err, &resp, lcb_buf_str(&path));
        goto out;
    }
    rc = lcb_json_parse(out, resp.body.ptr, resp.body.len, err);
out:
    lcb_buf_release(&path);
    lcb_http_resp_release(&resp);
    return rc;
}

int
lcb_ngsi_get_many(struct lcb_ngsi *n, const char *type, char *const *ids, size_t nids,
                  struct lcb_json **out, struct lcb_err *err)
{
    struct lcb_http_resp resp;
    struct lcb_buf path = LCB_BUF_INIT, list = LCB_BUF_INIT;
    size_t i;
    int rc = -1;

    *out = NULL;
    for (i = 0; i < nids; i++)
        lcb_buf_addf(&list, "%s%s", i ? "," : "", ids[i]);
    lcb_buf_adds(&path, "/entities?id=");
    ngsi_qenc(&path, lcb_buf_str(&list));
    if (type) {
        lcb_buf_adds(&path, "&type=");
        ngsi_qenc(&path, type);
    }
    lcb_buf_addf(&path, "&limit=%zu", nids ? nids : 1);
    lcb_http_resp_init(&resp);
    if (ngsi_call(n, "GET", lcb_buf_str(&path), NULL, 0, &resp, err) < 0)
        goto out;
    if (resp.status != 200) {
        ngsi_fail(err, &resp, "get entities by id");
        goto out;
    }
    if (lcb_json_parse(out, resp.body.ptr ? resp.body.ptr : "[]", resp.body.ptr ? resp.body.len : 2,
                       err) < 0)
        goto out;
    rc = 0;
out:
    lcb_buf_release(&path);
    lcb_buf_release(&list);
    lcb_http_resp_release(&resp);
    return rc;
}
