/* query.c - the AWS Query protocol and its EC2 dialect; see query.h. */
#include "query.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/mem.h"

const struct lcb_query_svc lcb_query_rds = { "rds", "2014-10-31", 0 };
const struct lcb_query_svc lcb_query_ec2 = { "ec2", "2016-11-15", 1 };
const struct lcb_query_svc lcb_query_sts = { "sts", "2011-06-15", 0 };

void
lcb_query_init(struct lcb_query *q, const struct lcb_query_svc *svc, const char *action)
{
    memset(q, 0, sizeof(*q));
    q->svc = svc;
    q->action = action;
}

void
lcb_query_release(struct lcb_query *q)
{
    size_t i;

    for (i = 0; i < q->n; i++) {
        free(q->names[i]);
        free(q->values[i]);
    }
    free(q->names);
    free(q->values);
    lcb_query_init(q, q->svc, q->action);
}

static void
add_owned(struct lcb_query *q, char *name, char *value)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 16;
        q->names = lcb_xrealloc(q->names, q->cap * sizeof(*q->names));
        q->values = lcb_xrealloc(q->values, q->cap * sizeof(*q->values));
    }
    q->names[q->n] = name;
    q->values[q->n] = value;
    q->n++;
}

void
lcb_query_add(struct lcb_query *q, const char *name, const char *value)
{
    if (value)
        add_owned(q, lcb_xstrdup(name), lcb_xstrdup(value));
}

void
lcb_query_addf(struct lcb_query *q, const char *name, const char *fmt, ...)
{
    struct lcb_buf b = LCB_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    lcb_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    add_owned(q, lcb_xstrdup(name), lcb_buf_detach(&b, NULL));
}

void
lcb_query_add_int(struct lcb_query *q, const char *name, long long v)
{
    lcb_query_addf(q, name, "%lld", v);
}

void
lcb_query_add_bool(struct lcb_query *q, const char *name, int v)
{
    lcb_query_add(q, name, v ? "true" : "false");
}

void
lcb_query_add_time(struct lcb_query *q, const char *name, time_t t)
{
    char s[LCB_TIME_LEN];

    lcb_query_add(q, name, lcb_time_fmt(t, s));
}

/* "prefix.member.N" or "prefix.N" */
static char *
item_name(const char *prefix, const char *member, size_t i)
{
    return member ? lcb_xasprintf("%s.%s.%zu", prefix, member, i)
                  : lcb_xasprintf("%s.%zu", prefix, i);
}

void
lcb_query_add_list(struct lcb_query *q, const char *prefix, const char *member,
                   const char *const *values, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        add_owned(q, item_name(prefix, member, i + 1), lcb_xstrdup(values[i] ? values[i] : ""));
}

void
lcb_query_add_tags(struct lcb_query *q, const char *prefix, const char *member,
                   const struct lcb_query_tag *tags, size_t n)
{
    size_t i;
    char *base;

    for (i = 0; i < n; i++) {
        base = item_name(prefix, member, i + 1);
        add_owned(q, lcb_xasprintf("%s.Key", base), lcb_xstrdup(tags[i].key));
        if (tags[i].value)
            add_owned(q, lcb_xasprintf("%s.Value", base), lcb_xstrdup(tags[i].value));
        free(base);
    }
}

const char *
lcb_query_tag_value(const struct lcb_query_tag *tags, size_t n, const char *key)
{
    size_t i;

    for (i = 0; key && i < n; i++)
        if (strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

void
lcb_query_add_tag_spec(struct lcb_query *q, int index, const char *resource_type,
                       const struct lcb_query_tag *tags, size_t n)
{
    char prefix[64];

    snprintf(prefix, sizeof(prefix), "TagSpecification.%d", index);
    add_owned(q, lcb_xasprintf("%s.ResourceType", prefix), lcb_xstrdup(resource_type));
    snprintf(prefix, sizeof(prefix), "TagSpecification.%d.Tag", index);
    lcb_query_add_tags(q, prefix, NULL, tags, n);
}

void
lcb_query_add_filters(struct lcb_query *q, const struct lcb_query_filter *f, size_t n)
{
    int ec2 = q->svc && q->svc->ec2;
    char prefix[64];
    size_t i;

    for (i = 0; i < n; i++) {
        if (ec2)
            snprintf(prefix, sizeof(prefix), "Filter.%zu", i + 1);
        else
            snprintf(prefix, sizeof(prefix), "Filters.Filter.%zu", i + 1);
        add_owned(q, lcb_xasprintf("%s.Name", prefix), lcb_xstrdup(f[i].name));
        strncat(prefix, ec2 ? ".Value" : ".Values", sizeof(prefix) - strlen(prefix) - 1);
        lcb_query_add_list(q, prefix, ec2 ? NULL : "Value", f[i].values, f[i].nvalues);
    }
}

const char *
lcb_query_get(const struct lcb_query *q, const char *name)
{
    size_t i;

    for (i = q->n; i > 0; i--)
        if (strcmp(q->names[i - 1], name) == 0)
            return q->values[i - 1];
    return NULL;
}

/* Python's quote_plus: keep [A-Za-z0-9._~-], space as '+', the rest as %XX. */
static void
form_encode(struct lcb_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '.' || *p == '_' || *p == '~' || *p == '-') {
            lcb_buf_addch(out, (char)*p);
        } else if (*p == ' ') {
            lcb_buf_addch(out, '+');
        } else {
            lcb_buf_addch(out, '%');
            lcb_buf_addch(out, hex[*p >> 4]);
            lcb_buf_addch(out, hex[*p & 15]);
        }
    }
}

void
lcb_query_encode_pair(struct lcb_buf *out, const char *name, const char *value)
{
    if (out->len)
        lcb_buf_addch(out, '&');
    form_encode(out, name);
    lcb_buf_addch(out, '=');
    form_encode(out, value ? value : "");
}

void
lcb_query_encode(const struct lcb_query *q, struct lcb_buf *out)
{
    size_t i;

    lcb_query_encode_pair(out, "Action", q->action);
    lcb_query_encode_pair(out, "Version", q->svc->version);
    for (i = 0; i < q->n; i++)
        lcb_query_encode_pair(out, q->names[i], q->values[i]);
}

void
lcb_query_resp_init(struct lcb_query_resp *r)
{
    r->doc = NULL;
    r->result = NULL;
    r->request_id = "";
    r->status = 0;
}

void
lcb_query_resp_release(struct lcb_query_resp *r)
{
    lcb_xml_free(r->doc);
    lcb_query_resp_init(r);
}

/* Does name equal action + suffix ("CreateDBSnapshot" + "Response")? */
static int
is_named(const char *name, const char *action, const char *suffix)
{
    size_t n = strlen(action);

    return name && strncmp(name, action, n) == 0 && strcmp(name + n, suffix) == 0;
}

int
lcb_query_parse(struct lcb_query_resp *out, const struct lcb_query *q, int status,
                const char *body, size_t len, struct lcb_err *err)
{
    struct lcb_xml_node *root, *res;
    const char *rid;

    lcb_query_resp_release(out);
    out->status = status;
    if (lcb_xml_parse(&out->doc, body, len, err) < 0)
        return lcb_wrap(err, "%s %s answer", q->svc->service, q->action);
    root = lcb_xml_root(out->doc);
    if (!is_named(lcb_xml_name(root), q->action, "Response")) {
        lcb_err_set(err, LCB_ECORRUPT, "%s %s answer: unexpected <%s> document", q->svc->service,
                    q->action, lcb_xml_name(root));
        lcb_query_resp_release(out);
        return -1;
    }
    res = NULL;
    if (!q->svc->ec2) {
        char wrapper[128];

        snprintf(wrapper, sizeof(wrapper), "%sResult", q->action);
        res = lcb_xml_child(root, wrapper);
    }
    out->result = res ? res : root;
    rid = q->svc->ec2 ? lcb_xml_get(root, "requestId") : lcb_xml_get(root, "ResponseMetadata/RequestId");
    out->request_id = rid ? rid : "";
    return 0;
}

char *
lcb_query_text(const struct lcb_xml_node *n, const char *path)
{
    const char *s = lcb_xml_get(n, path);

    return s && *s ? lcb_xstrdup(s) : NULL;
}

time_t
lcb_query_time(const struct lcb_xml_node *n, const char *path)
{
    const char *s = lcb_xml_get(n, path);
    time_t t = 0;

    if (s && *s && lcb_time_parse(s, &t) < 0)
        t = 0;
    return t;
}

static void
copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

int
lcb_query_parse_error(const struct lcb_aws_resp *resp, struct lcb_aws_error *out)
{
    struct lcb_xml *doc = NULL;
    struct lcb_xml_node *root, *e = NULL;
    const char *rid = NULL;
    struct lcb_err perr;
    int found = 0;

    if (!resp->body.len || lcb_xml_parse(&doc, resp->body.ptr, resp->body.len, &perr) < 0)
        return 0;
    root = lcb_xml_root(doc);
    if (strcmp(lcb_xml_name(root), "ErrorResponse") == 0) {
        e = lcb_xml_child(root, "Error");
        rid = lcb_xml_get(root, "RequestId");
    } else if (strcmp(lcb_xml_name(root), "Response") == 0) {
        e = lcb_xml_path(root, "Errors/Error");
        rid = lcb_xml_get(root, "RequestID");
    } else if (strcmp(lcb_xml_name(root), "Error") == 0) {
        e = root; /* what a proxy or S3-ish front end may send */
        rid = lcb_xml_get(root, "RequestId");
    }
    if (e && lcb_xml_get(e, "Code") && *lcb_xml_get(e, "Code")) {
        copy_text(out->code, sizeof(out->code), lcb_xml_get(e, "Code"));
        copy_text(out->message, sizeof(out->message), lcb_xml_get(e, "Message"));
        copy_text(out->request_id, sizeof(out->request_id), rid);
        found = 1;
    }
    lcb_xml_free(doc);
    return found;
}

/* Send q (plus one extra pair when extra_name is set) and parse the success document. */
static int
call(struct lcb_query_resp *out, struct lcb_aws *aws, const struct lcb_query *q,
     const char *extra_name, const char *extra_value, struct lcb_err *err)
{
    static const struct lcb_aws_kv headers[] = {
        { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
    };
    struct lcb_buf body = LCB_BUF_INIT;
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    int rc = -1;

    lcb_query_resp_release(out);
    lcb_query_encode(q, &body);
    if (extra_name)
        lcb_query_encode_pair(&body, extra_name, extra_value);
    memset(&req, 0, sizeof(req));
    req.service = q->svc->service;
    req.operation = q->action;
    req.region = q->region;
    req.method = "POST";
    req.path = "/";
    req.headers = headers;
    req.nheaders = LCB_ARRAY_SIZE(headers);
    req.body = body.ptr;
    req.body_len = body.len;
    req.parse_error = lcb_query_parse_error;
    req.no_blind_retry = q->no_blind_retry;
    req.max_attempts = q->max_attempts;
    req.creds = q->creds;
    req.anonymous = q->anonymous;
    lcb_aws_resp_init(&resp);
    if (lcb_aws_send(aws, &req, &resp, err) == 0)
        rc = lcb_query_parse(out, q, resp.status, resp.body.ptr, resp.body.len, err);
    lcb_aws_resp_release(&resp);
    lcb_buf_release(&body);
    return rc;
}

int
lcb_query_call(struct lcb_query_resp *out, struct lcb_aws *aws, const struct lcb_query *q,
               struct lcb_err *err)
{
    return call(out, aws, q, NULL, NULL, err);
}

int
lcb_query_send(struct lcb_aws *aws, const struct lcb_query *q, FILE *dry_run, const char *region,
               struct lcb_err *err)
{
    struct lcb_query_resp r;
    int rc;

    if (dry_run) {
        lcb_query_print(dry_run, q, region);
        return 0;
    }
    lcb_query_resp_init(&r);
    rc = lcb_query_call(&r, aws, q, err);
    lcb_query_resp_release(&r);
    return rc;
}

int
lcb_query_page(struct lcb_query_resp *out, struct lcb_aws *aws, const struct lcb_query *q,
               struct lcb_pager *pg, struct lcb_err *err)
{
    lcb_query_resp_release(out);
    if (pg->done)
        return 0;
    if (call(out, aws, q, pg->token ? pg->in : NULL, pg->token, err) < 0) {
        pg->done = 1;
        return -1;
    }
    if (lcb_pager_advance(pg, lcb_xml_get(out->result, pg->out), err) < 0) {
        lcb_query_resp_release(out);
        return -1;
    }
    return 1;
}

int
lcb_query_each_page(struct lcb_aws *aws, const struct lcb_query *q, const char *in, const char *out,
                    int (*add)(void *arg, const struct lcb_xml_node *result, struct lcb_err *err),
                    void *arg, struct lcb_err *err)
{
    struct lcb_query_resp r;
    struct lcb_pager pg;
    int rc;

    lcb_query_resp_init(&r);
    lcb_pager_init(&pg, in, out);
    while ((rc = lcb_query_page(&r, aws, q, &pg, err)) > 0)
        if (add(arg, r.result, err) < 0) {
            rc = -1;
            break;
        }
    lcb_query_resp_release(&r);
    lcb_pager_release(&pg);
    return rc;
}

void
lcb_query_print(FILE *out, const struct lcb_query *q, const char *region)
{
    size_t i;

    fprintf(out, "%s %s (%s)\n", q->svc->service, q->action, region ? region : "?");
    for (i = 0; i < q->n; i++)
        fprintf(out, "    %s=%s\n", q->names[i], q->values[i]);
}

int
lcb_query_not_found(struct lcb_err *err)
{
    if (strstr(err->aws_code, "NotFound"))
        err->code = LCB_ENOTFOUND;
    return err->code == LCB_ENOTFOUND;
}
