/*
 * export.c - every entity of one type, page by page, several pages in flight, complete and
 * deduplicated over a broker that changes while we read it (ngsi-ld.md 1.4-1.6).
 *
 * Offsets advance by the page size; pages are handed to the caller strictly in offset order. Each
 * page asks count=true, so the broker's current total travels with every page: a page that comes
 * back short while the total says more remain means the broker capped the page (then the page size
 * shrinks and reading resumes right after what arrived), and an empty page in that situation is the
 * Orion-LD #1407 anomaly (retried, then an error, never taken for the end). Entities already seen
 * (offset pagination shifts under concurrent deletes and creates) are dropped. Every page after the
 * first starts one entity early: that entity must be the previous page's last one, else the order
 * shifted between the two requests (an entity before the read position was deleted or created) and
 * entities may have slid past unread, which the count alone cannot show when deletes and creates
 * balance. At the end the type is counted again and, if entities were missed or the order shifted,
 * read again to add them; a shift during that second pass too is recorded as a discrepancy.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/mem.h"
#include "../core/sig.h"
#include "internal.h"

#define MAX_SLOTS 16

struct slot {
    int busy;
    int stale; /* its result is no longer wanted */
    int ready; /* finished and valid, waiting to be processed in order */
    long long offset; /* of the first entity this page adds */
    int limit;
    int overlap; /* 1: the request starts at offset - 1, on the previous page's last entity */
    int attempts;
    struct lcb_buf url;
    struct lcb_http_header h[4];
    struct lcb_http_req req;
    struct lcb_http_resp resp;
    struct lcb_jsonscan_index page; /* the answer's entities, as byte ranges of resp.body */
    long long count;       /* NGSILD-Results-Count of this answer, -1 when absent */
};

struct xs {
    struct lcb_ngsi *n;
    const char *type;
    lcb_ngsi_page_fn fn;
    void *ud;
    struct lcb_ngsi_export *x;
    struct lcb_ngsi_type_stats *st;
    struct lcb_http_multi *multi;
    struct slot slots[MAX_SLOTS];
    int nslots;
    int limit;
    long long next_offset; /* next offset to request */
    long long want_offset; /* next offset to hand over */
    long long known_count;
    int end;
    int reconciling;
    int shifted;   /* an overlap entity was not the previous page's last: re-read */
    char *last_id; /* id of the last entity of the page handed over last */
    struct lcb_buf id, kept; /* scratch: one id; a page without the entities dropped */
};

void
lcb_ngsi_export_init(struct lcb_ngsi_export *x)
{
    memset(x, 0, sizeof(*x));
    lcb_idset_init(&x->ids);
    lcb_buf_init(&x->discrepancies, 0);
}

void
lcb_ngsi_export_release(struct lcb_ngsi_export *x)
{
    size_t i;

    for (i = 0; i < x->ntypes; i++)
        free(x->types[i].type);
    free(x->types);
    lcb_idset_release(&x->ids);
    lcb_buf_release(&x->discrepancies);
    memset(x, 0, sizeof(*x));
}

static void
slot_clear(struct slot *s)
{
    s->page.n = 0;
    s->busy = s->stale = s->ready = 0;
    s->attempts = 0; /* the slot's next page starts with its own attempts */
    lcb_http_resp_reset(&s->resp);
}

static int
slot_start(struct xs *xs, struct slot *s, long long offset, struct lcb_err *err)
{
    s->offset = offset;
    s->limit = xs->limit;
    s->overlap = offset > 0 && s->limit > 1;
    s->busy = 1;
    s->stale = s->ready = 0;
    lcb_buf_reset(&s->url);
    lcb_buf_addf(&s->url, "%s/entities?type=", xs->n->base);
    ngsi_qenc(&s->url, xs->type);
    lcb_buf_addf(&s->url, "&limit=%d&offset=%lld&count=true", s->limit, offset - s->overlap);
    memset(&s->req, 0, sizeof(s->req));
    s->req.method = "GET";
    s->req.url = lcb_buf_str(&s->url);
    s->req.headers = s->h;
    s->req.nheaders = ngsi_headers(xs->n, s->h, 0);
    s->req.timeout_ms = xs->n->timeout_ms;
    lcb_http_resp_reset(&s->resp);
    return lcb_http_multi_add(xs->multi, &s->req, &s->resp, s, err);
}

/* Judge a finished request: 1 ready, 0 retry scheduled, -1 fatal. */
static int
judge(struct xs *xs, struct slot *s, const struct lcb_err *req_err, struct lcb_err *err)
{
    const char *c;
    char what[96], why[128];
    int split;

    snprintf(what, sizeof(what), "page at offset %lld of %s", s->offset, xs->type);
    if (req_err->code == LCB_EINTR)
        return lcb_err_set(err, LCB_EINTR, "interrupted");
    if (req_err->code == LCB_OK && s->resp.status == 200) {
        split = ngsi_page_split(&s->page, s->resp.body.ptr ? s->resp.body.ptr : "",
                                s->resp.body.len, why, sizeof(why));
        if (split == 0) {
            c = lcb_http_header_get(&s->resp.headers, "NGSILD-Results-Count");
            s->count = c ? strtoll(c, NULL, 10) : -1;
            return 1;
        }
        s->page.n = 0;
        /* a cut body is the network's (retried, then temporary); bad syntax is the broker's:
         * retried too, in case a byte was flipped on the way, then corrupt (exit 65) */
        lcb_err_set(err, split == -2 ? LCB_ETEMP : LCB_ECORRUPT,
                    "%s: the answer is not a complete JSON array (%s)", what, why);
    } else if (req_err->code == LCB_OK && ngsi_limit_refused(&s->resp)) {
        return 2; /* the caller shrinks the page size */
    } else if (req_err->code == LCB_OK && !ngsi_retryable(s->resp.status)) {
        return ngsi_fail(err, &s->resp, what);
    } else if (req_err->code != LCB_OK) {
        *err = *req_err;
        lcb_wrap(err, "%s", what);
    } else {
        ngsi_fail(err, &s->resp, what);
    }
    if (++s->attempts >= xs->n->max_attempts)
        return lcb_wrap(err, "%d attempts", s->attempts);
    lcb_log(LCB_DEBUG, "ngsi.page.retry", "%s: %s; retrying", what, err->msg);
    if (ngsi_backoff(s->attempts, err) < 0)
        return -1;
    return slot_start(xs, s, s->offset, err) < 0 ? -1 : 0;
}

static struct slot *
free_slot(struct xs *xs)
{
    int i;

    for (i = 0; i < xs->nslots; i++)
        if (!xs->slots[i].busy)
            return &xs->slots[i];
    return NULL;
}

/* Everything at or beyond offset is no longer wanted (the page size changed). */
static void
discard_from(struct xs *xs, long long offset)
{
    int i;

    for (i = 0; i < xs->nslots; i++) {
        struct slot *s = &xs->slots[i];
        if (!s->busy || s->offset < offset)
            continue;
        if (s->ready)
            slot_clear(s);
        else
            s->stale = 1;
    }
}

static int
fill(struct xs *xs, struct lcb_err *err)
{
    struct slot *s;

    while (!xs->end && (s = free_slot(xs)) != NULL) {
        /* read ahead only as far as the broker says there is something */
        if (xs->next_offset != xs->want_offset && xs->next_offset >= xs->known_count)
            break;
        if (slot_start(xs, s, xs->next_offset, err) < 0)
            return -1;
        xs->next_offset += s->limit - s->overlap;
    }
    return 0;
}

/* The first entity of an overlapping page must be the previous page's last: 1 when it is (an
 * expected duplicate), else 0 and the order shifted (the type will be read again). */
static int
overlap_check(struct xs *xs, const struct slot *s, const char *id)
{
    if (xs->last_id && strcmp(id, xs->last_id) == 0)
        return 1;
    if (!xs->shifted) {
        xs->shifted = 1;
        lcb_log(LCB_DEBUG, "ngsi.page.shifted", "type %s: the order shifted before offset %lld "
                "(the broker changed meanwhile): the type will be read again", xs->type, s->offset);
    }
    return 0;
}

/* Drop entities seen before; hand the page over: as received when nothing was dropped, else the
 * other entities' bytes as received. */
static int
deliver(struct xs *xs, struct slot *s, struct lcb_err *err)
{
    const char *body = s->resp.body.ptr;
    size_t n = s->page.n, i, kept = 0, expected_dup = 0, len = s->resp.body.len;
    unsigned char *isnew = lcb_xcalloc(n ? n : 1, 1);
    const char *id = NULL;
    int added, rc = 0;

    for (i = 0; i < n; i++) {
        if ((id = ngsi_page_id(&s->page, body, i, &xs->id)) == NULL) {
            free(isnew);
            return lcb_err_set(err, LCB_ECORRUPT, "page at offset %lld of %s: an entity has no id",
                               s->offset, xs->type);
        }
        if (i == 0 && s->overlap)
            expected_dup = overlap_check(xs, s, id);
        if ((added = lcb_idset_add(&xs->x->ids, id, err)) < 0) {
            free(isnew);
            return lcb_wrap(err, "drop duplicate ids (set TMPDIR to a writable directory with "
                            "free space for the id index)");
        }
        isnew[i] = (unsigned char)added;
        kept += isnew[i];
    }
    if (!xs->reconciling)
        xs->st->duplicates += (long long)(n - kept - (kept < n ? expected_dup : 0));
    if (id) {
        free(xs->last_id);
        xs->last_id = lcb_xstrdup(id);
    }
    if (kept && kept < n) {
        lcb_buf_reset(&xs->kept);
        lcb_buf_addch(&xs->kept, '[');
        for (i = 0; i < n; i++)
            if (isnew[i]) {
                if (xs->kept.len > 1)
                    lcb_buf_addch(&xs->kept, ',');
                lcb_buf_add(&xs->kept, body + s->page.items[i].start,
                            s->page.items[i].end - s->page.items[i].start);
            }
        lcb_buf_addch(&xs->kept, ']');
        body = xs->kept.ptr;
        len = xs->kept.len;
    }
    if (kept) {
        xs->st->pages++;
        xs->st->exported += (long long)kept;
        if (xs->reconciling)
            xs->st->reconciled += (long long)kept;
        xs->x->total += (long long)kept;
        rc = xs->fn(xs->ud, xs->type, xs->st->pages, body, len, kept, err);
    }
    free(isnew);
    return rc;
}

/* Hand over the ready pages that come next in offset order. */
static int
drain(struct xs *xs, struct lcb_err *err)
{
    int i, progressed = 1;

    while (progressed && !xs->end) {
        progressed = 0;
        for (i = 0; i < xs->nslots; i++) {
            struct slot *s = &xs->slots[i];
            size_t got, fresh;
            if (!s->ready || s->offset != xs->want_offset)
                continue;
            got = s->page.n;
            fresh = got > (size_t)s->overlap ? got - (size_t)s->overlap : 0;
            if (s->count >= 0)
                xs->known_count = s->count;
            if (fresh == 0 && s->offset < xs->known_count) {
                /* Orion-LD #1407: an empty page while the count says more remain */
                if (++s->attempts >= xs->n->max_attempts)
                    return lcb_err_set(err, LCB_ECORRUPT,
                                       "type %s: the broker answered an empty page at offset %lld "
                                       "while NGSILD-Results-Count says %lld (%d attempts): the "
                                       "export would be incomplete", xs->type, s->offset,
                                       xs->known_count, s->attempts);
                s->page.n = 0;
                if (ngsi_backoff(s->attempts, err) < 0 || slot_start(xs, s, s->offset, err) < 0)
                    return -1;
                continue;
            }
            if (deliver(xs, s, err) < 0)
                return -1;
            xs->want_offset = s->offset + (long long)fresh;
            if (xs->want_offset > 2 * xs->known_count + 10LL * s->limit)
                /* full pages far past the count: a broker that ignores offset (Scorpio #316)
                 * would keep the export going forever */
                return lcb_err_set(err, LCB_ECORRUPT, "type %s: the broker still answers full "
                                   "pages at offset %lld while NGSILD-Results-Count says %lld: it "
                                   "seems to ignore offset, and the export would never end",
                                   xs->type, s->offset, xs->known_count);
            if ((int)got < s->limit && xs->want_offset < xs->known_count) {
                /* the broker capped the page: shrink and resume right after what arrived */
                lcb_log(LCB_INFO, "ngsi.page.capped", "the broker returns %zu entities a page, "
                        "not %d: continuing with %zu", got, s->limit, got);
                xs->limit = (int)got;
                discard_from(xs, xs->want_offset);
                xs->next_offset = xs->want_offset;
            } else if ((int)got < s->limit) {
                xs->end = 1;
            }
            slot_clear(s);
            /* the freed slot asks for the next page before the following ready page is handed
             * over: the broker works while we do, instead of idling through a run of pages */
            if (fill(xs, err) < 0)
                return -1;
            progressed = 1;
        }
    }
    return 0;
}

static int
wait_one(struct xs *xs, struct lcb_err *err)
{
    struct lcb_err req_err;
    struct slot *s;
    void *tag;
    int r;

    lcb_err_clear(&req_err);
    r = lcb_http_multi_next(xs->multi, -1, &tag, &req_err);
    if (r < 0)
        return lcb_err_set(err, LCB_EINTR, "interrupted");
    if (r == 0)
        return 0;
    s = tag;
    if (s->stale) {
        slot_clear(s);
        return 0;
    }
    r = judge(xs, s, &req_err, err);
    if (r < 0)
        return -1;
    if (r == 1)
        s->ready = 1;
    if (r == 2) {
        if (xs->limit < s->limit) { /* already shrunk by an earlier refusal */
            slot_clear(s);
            return 0;
        }
        if (xs->limit <= 1)
            return ngsi_fail(err, &s->resp, "the broker refuses even one entity a page");
        xs->limit = ngsi_smaller_limit(&s->resp, xs->limit);
        lcb_log(LCB_INFO, "ngsi.page.shrink", "the broker refuses %d entities a page: trying %d",
                s->limit, xs->limit);
        discard_from(xs, xs->want_offset);
        slot_clear(s);
        xs->next_offset = xs->want_offset;
    }
    return 0;
}

static size_t
in_flight(const struct xs *xs)
{
    int i;
    size_t k = 0;

    for (i = 0; i < xs->nslots; i++)
        k += xs->slots[i].busy && !xs->slots[i].ready;
    return k;
}

/* One pass over the type from offset 0. */
static int
pass(struct xs *xs, struct lcb_err *err)
{
    int rc = 0;

    xs->next_offset = xs->want_offset = 0;
    xs->end = 0;
    free(xs->last_id);
    xs->last_id = NULL;
    while (rc == 0) {
        if (lcb_sig_pending())
            return lcb_err_set(err, LCB_EINTR, "interrupted");
        if ((rc = fill(xs, err)) < 0 || (rc = drain(xs, err)) < 0)
            break;
        if (xs->end && in_flight(xs) == 0)
            break;
        if (in_flight(xs) == 0 && !xs->end) {
            /* nothing in flight and nothing to hand over: request the next page ourselves */
            if (free_slot(xs) == NULL)
                return lcb_err_set(err, LCB_EINTERNAL, "export: no free slot");
            continue;
        }
        rc = wait_one(xs, err);
    }
    /* let whatever is still in flight finish: its results are not wanted */
    while (in_flight(xs) > 0) {
        struct lcb_err ignored;
        void *tag;
        lcb_err_clear(&ignored);
        if (lcb_http_multi_next(xs->multi, -1, &tag, &ignored) <= 0)
            break;
        slot_clear(tag);
    }
    return rc;
}

static struct lcb_ngsi_type_stats *
add_stats(struct lcb_ngsi_export *x, const char *type)
{
    struct lcb_ngsi_type_stats *st;

    x->types = lcb_xrealloc(x->types, (x->ntypes + 1) * sizeof(*x->types));
    st = &x->types[x->ntypes++];
    memset(st, 0, sizeof(*st));
    st->type = lcb_xstrdup(type);
    return st;
}

static int
reconcile(struct xs *xs, struct lcb_err *err)
{
    long long before = xs->st->exported;

    if (lcb_ngsi_count(xs->n, xs->type, &xs->st->count_end, err) < 0)
        return lcb_wrap(err, "count %s again", xs->type);
    if (xs->st->count_end <= xs->st->exported && !xs->shifted)
        return 0;
    if (xs->shifted)
        lcb_log(LCB_INFO, "ngsi.reconcile", "type %s: entities were deleted or created before the "
                "read position during the export: reading it again for the ones that slid past",
                xs->type);
    else
        lcb_log(LCB_INFO, "ngsi.reconcile", "type %s: the broker counts %lld entities, %lld "
                "exported: reading it again for the missing ones", xs->type, xs->st->count_end,
                before);
    xs->reconciling = 1;
    xs->shifted = 0;
    xs->known_count = xs->st->count_end;
    if (pass(xs, err) < 0)
        return lcb_wrap(err, "reconcile %s", xs->type);
    if (lcb_ngsi_count(xs->n, xs->type, &xs->st->count_end, err) < 0)
        return -1;
    if (xs->st->count_end > xs->st->exported)
        lcb_buf_addf(&xs->x->discrepancies,
                     "type %s: the broker counts %lld entities after the export but %lld were "
                     "exported (entities created during the export)\n",
                     xs->type, xs->st->count_end, xs->st->exported);
    else if (xs->shifted)
        lcb_buf_addf(&xs->x->discrepancies,
                     "type %s: the broker's order shifted during the export and again during its "
                     "re-read (entities deleted or created meanwhile, or an unstable order): "
                     "entities may be missing\n", xs->type);
    return 0;
}

int
lcb_ngsi_export_type(struct lcb_ngsi *n, const char *type, lcb_ngsi_page_fn fn, void *ud,
                     struct lcb_ngsi_export *x, struct lcb_err *err)
{
    struct xs xs;
    int i, rc = -1;

    memset(&xs, 0, sizeof(xs));
    xs.n = n;
    xs.type = type;
    xs.fn = fn;
    xs.ud = ud;
    xs.x = x;
    xs.limit = n->page_size;
    xs.nslots = n->in_flight < MAX_SLOTS ? n->in_flight : MAX_SLOTS;
    xs.st = add_stats(x, type);
    for (i = 0; i < xs.nslots; i++) {
        lcb_buf_init(&xs.slots[i].url, 0);
        lcb_http_resp_init(&xs.slots[i].resp);
    }
    if (lcb_ngsi_count(n, type, &xs.st->count_start, err) < 0) {
        lcb_wrap(err, "count entities of type %s", type);
        goto out;
    }
    xs.known_count = xs.st->count_start;
    if (lcb_http_multi_new(&xs.multi, n->http, err) < 0)
        goto out;
    if (pass(&xs, err) < 0 || reconcile(&xs, err) < 0)
        goto out;
    x->page_size = xs.limit;
    n->page_size = xs.limit; /* the next type starts with what this broker accepts */
    rc = 0;
out:
    free(xs.last_id);
    lcb_buf_release(&xs.id);
    lcb_buf_release(&xs.kept);
    lcb_http_multi_free(xs.multi);
    for (i = 0; i < xs.nslots; i++) {
        ngsi_page_release(&xs.slots[i].page);
        lcb_buf_release(&xs.slots[i].url);
        lcb_http_resp_release(&xs.slots[i].resp);
    }
    return rc;
}
