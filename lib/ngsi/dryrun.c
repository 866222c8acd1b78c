/* dryrun.c - a dry run's writes: shown to the caller instead of being sent; see ngsi.h. */
#include <string.h>
#include <strings.h>

#include "../ext/json.h"
#include "internal.h"

void
lcb_ngsi_dry_run(struct lcb_ngsi *n, lcb_ngsi_show_fn fn, void *ud)
{
    n->show = fn;
    n->show_ud = ud;
}

int
lcb_ngsi_is_dry_run(const struct lcb_ngsi *n)
{
    return n->show != NULL;
}

static const char *
id_at(const struct lcb_json *ids, size_t i)
{
    const char *id = lcb_json_str(lcb_json_at(ids, i));

    return id ? id : "";
}

void
ngsi_show(const struct lcb_ngsi *n, const char *path, const struct lcb_buf *body,
          const struct lcb_json *ids, const char *unit)
{
    struct lcb_http_header h[4];
    struct lcb_ngsi_request r;
    struct lcb_buf url = LCB_BUF_INIT;
    size_t k = lcb_json_size(ids);

    lcb_buf_addf(&url, "%s%s", n->display, path); /* display: the base without credentials */
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.url = lcb_buf_str(&url);
    r.headers = h;
    r.nheaders = ngsi_headers(n, h, 1);
    r.unit = unit;
    r.items = k;
    r.bytes = body->len;
    r.first_id = k ? id_at(ids, 0) : "";
    r.last_id = k ? id_at(ids, k - 1) : "";
    n->show(n->show_ud, &r);
    lcb_buf_release(&url);
}

const char *
lcb_ngsi_request_header(const struct lcb_ngsi_request *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

void
lcb_ngsi_request_format(struct lcb_buf *out, const struct lcb_ngsi_request *r)
{
    size_t i;

    lcb_buf_addf(out, "%s %s", r->method, r->url);
    for (i = 0; i < r->nheaders; i++) {
        const char *name = r->headers[i].name;
        if (strcasecmp(name, "Accept") == 0)
            continue; /* the same on every request: noise */
        lcb_buf_addf(out, "  %s: %s", name,
                     strcasecmp(name, "Authorization") == 0 ? "(redacted)" : r->headers[i].value);
    }
    lcb_buf_addf(out, "  %zu %s, %zu bytes", r->items, r->unit, r->bytes);
    if (r->items)
        lcb_buf_addf(out, ": %s .. %s", r->first_id, r->last_id);
}
