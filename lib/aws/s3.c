/* s3.c - the S3 REST-XML client; see s3.h. */
#include "s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "../ext/crypto.h"
#include "../ext/xml.h"

#define S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"
#define MAX_LIST_PAGES 1000000u

/* ---- small helpers: owned header/query lists, checksums, answers ---- */

struct kvlist {
    struct lcb_aws_kv kv[40];
    char *own[80];
    size_t n, nown;
};

static const char *
own(struct kvlist *l, char *s)
{
    if (l->nown < LCB_ARRAY_SIZE(l->own))
        l->own[l->nown++] = s;
    return s;
}

/* Add a pair (value NULL: a bare query flag such as "uploads"); both strings are copied. */
static void
kv_add(struct kvlist *l, const char *name, const char *value)
{
    if (l->n >= LCB_ARRAY_SIZE(l->kv) || l->nown + 2 > LCB_ARRAY_SIZE(l->own))
        return; /* more than any S3 request here uses; s3_test covers the largest */
    l->kv[l->n].name = own(l, lcb_xstrdup(name));
    l->kv[l->n].value = value ? own(l, lcb_xstrdup(value)) : NULL;
    l->n++;
}

static void
kv_release(struct kvlist *l)
{
    size_t i;

    for (i = 0; i < l->nown; i++)
        free(l->own[i]);
    l->n = l->nown = 0;
}

static void
b64_into(char *dst, size_t size, const unsigned char *raw, size_t len)
{
    struct lcb_buf b = LCB_BUF_INIT;

    lcb_base64_encode(&b, raw, len);
    snprintf(dst, size, "%s", lcb_buf_str(&b));
    lcb_buf_release(&b);
}

void
lcb_s3_sums_from_digests(struct lcb_s3_sums *s, const unsigned char sha[LCB_SHA256_LEN],
                         const unsigned char md5[LCB_MD5_LEN])
{
    lcb_hex(sha, LCB_SHA256_LEN, s->sha_hex);
    b64_into(s->sha_b64, sizeof(s->sha_b64), sha, LCB_SHA256_LEN);
    b64_into(s->md5_b64, sizeof(s->md5_b64), md5, LCB_MD5_LEN);
}

static void
compute_sums(struct lcb_s3_sums *s, const void *data, size_t len)
{
    unsigned char sha[LCB_SHA256_LEN], md5[LCB_MD5_LEN];

    lcb_sha256(data, len, sha);
    lcb_md5(data, len, md5);
    lcb_s3_sums_from_digests(s, sha, md5);
}

static void
copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* A request to bucket/key with the S3 error parser. */
static void
req_init(struct lcb_aws_req *req, const char *op, const char *method, const char *bucket,
         const char *key)
{
    memset(req, 0, sizeof(*req));
    req->service = "s3";
    req->operation = op;
    req->method = method;
    req->bucket = bucket;
    req->key = key;
    req->parse_error = lcb_s3_parse_error;
}

static void
req_lists(struct lcb_aws_req *req, const struct kvlist *query, const struct kvlist *headers)
{
    if (query) {
        req->query = query->kv;
        req->nquery = query->n;
    }
    if (headers) {
        req->headers = headers->kv;
        req->nheaders = headers->n;
    }
}

/* A buffer body with its Content-MD5 (and the signed payload hash). */
static void
req_xml_body(struct lcb_aws_req *req, struct kvlist *headers, struct lcb_s3_sums *s,
             const struct lcb_buf *body)
{
    compute_sums(s, body->ptr, body->len);
    kv_add(headers, "Content-MD5", s->md5_b64);
    kv_add(headers, "Content-Type", "application/xml");
    req->body = body->ptr;
    req->body_len = body->len;
    req->payload_hash = s->sha_hex;
}

/* Parse a 2xx XML answer whose root must be `root`. */
static int
parse_answer(struct lcb_xml **doc, const struct lcb_aws_resp *resp, const char *root,
             const char *op, struct lcb_err *err)
{
    if (lcb_xml_parse(doc, resp->body.ptr, resp->body.len, err) < 0)
        return lcb_wrap(err, "s3 %s answer", op);
    if (strcmp(lcb_xml_name(lcb_xml_root(*doc)), root) != 0) {
        lcb_err_set(err, LCB_ECORRUPT, "s3 %s answer: unexpected <%s> document", op,
                    lcb_xml_name(lcb_xml_root(*doc)));
        lcb_xml_free(*doc);
        *doc = NULL;
        return -1;
    }
    return 0;
}

int
lcb_s3_parse_error(const struct lcb_aws_resp *resp, struct lcb_aws_error *out)
{
    struct lcb_xml *doc = NULL;
    struct lcb_xml_node *root;
    struct lcb_err perr;
    int ok2xx = resp->status >= 200 && resp->status <= 299, found = 0;
    const char *rid;

    if (lcb_xml_parse(&doc, resp->body.ptr, resp->body.len, &perr) < 0) {
        if (!ok2xx)
            return 0;
        /* a 200 whose document broke off: botocore retries it as a 500 */
        copy_str(out->code, sizeof(out->code), "InternalError");
        copy_str(out->message, sizeof(out->message), "truncated or malformed answer");
        copy_str(out->request_id, sizeof(out->request_id),
                 lcb_aws_resp_header(resp, "x-amz-request-id"));
        return 1;
    }
    root = lcb_xml_root(doc);
    if (strcmp(lcb_xml_name(root), "Error") == 0 && lcb_xml_get(root, "Code") &&
        *lcb_xml_get(root, "Code")) {
        copy_str(out->code, sizeof(out->code), lcb_xml_get(root, "Code"));
        copy_str(out->message, sizeof(out->message), lcb_xml_get(root, "Message"));
        rid = lcb_xml_get(root, "RequestId");
        copy_str(out->request_id, sizeof(out->request_id),
                 rid ? rid : lcb_aws_resp_header(resp, "x-amz-request-id"));
        found = 1;
    }
    lcb_xml_free(doc);
    return found;
}

/* ---- times ---- */

/* RFC 1123 "Wed, 12 Oct 2009 17:50:00 GMT" (Last-Modified), without the locale. */
static int
parse_http_date(const char *s, time_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4], iso[32];
    int d, y, h, mi, sec;
    const char *m;

    if (!s || sscanf(s, "%*3s, %d %3s %d %d:%d:%d GMT", &d, mon, &y, &h, &mi, &sec) != 6)
        return -1;
    if (!(m = strstr(months, mon)) || (m - months) % 3 != 0)
        return -1;
    snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, (int)(m - months) / 3 + 1, d,
             h, mi, sec);
    return lcb_time_parse(iso, out);
}

static time_t
iso_time(const char *s)
{
    time_t t;

    return s && lcb_time_parse(s, &t) == 0 ? t : 0;
}

/* ---- PutObject and the write headers ---- */

static void
add_tagging(struct kvlist *h, const struct lcb_aws_kv *tags, size_t n)
{
    struct lcb_buf b = LCB_BUF_INIT;
    size_t i;

    if (!n)
        return;
    for (i = 0; i < n; i++) {
        if (i)
            lcb_buf_addch(&b, '&');
        lcb_http_uri_encode(&b, tags[i].name, strlen(tags[i].name), 0);
        lcb_buf_addch(&b, '=');
        if (tags[i].value)
            lcb_http_uri_encode(&b, tags[i].value, strlen(tags[i].value), 0);
    }
    kv_add(h, "x-amz-tagging", lcb_buf_str(&b));
    lcb_buf_release(&b);
}

/* The headers PutObject and CreateMultipartUpload share. Returns 0 or -1 (LCB_EUSAGE). */
static int
add_put_headers(struct kvlist *h, const struct lcb_s3_put_opts *o, struct lcb_err *err)
{
    char until[LCB_TIME_LEN], name[256];
    size_t i;

    if (!o)
        return 0;
    if ((o->lock_mode != NULL) != (o->lock_until != 0))
        return lcb_err_set(err, LCB_EUSAGE,
                           "an Object Lock retention needs both a mode and a retain-until date");
    if (o->content_type)
        kv_add(h, "Content-Type", o->content_type);
    if (o->sse)
        kv_add(h, "x-amz-server-side-encryption", o->sse);
    if (o->sse_kms_key_id)
        kv_add(h, "x-amz-server-side-encryption-aws-kms-key-id", o->sse_kms_key_id);
    if (o->sse_context)
        kv_add(h, "x-amz-server-side-encryption-context", o->sse_context);
    if (o->sse_bucket_key)
        kv_add(h, "x-amz-server-side-encryption-bucket-key-enabled", "true");
    if (o->storage_class)
        kv_add(h, "x-amz-storage-class", o->storage_class);
    add_tagging(h, o->tags, o->ntags);
    for (i = 0; i < o->nmeta; i++) {
        snprintf(name, sizeof(name), "x-amz-meta-%s", o->meta[i].name);
        kv_add(h, name, o->meta[i].value ? o->meta[i].value : "");
    }
    if (o->lock_mode) {
        kv_add(h, "x-amz-object-lock-mode", o->lock_mode);
        kv_add(h, "x-amz-object-lock-retain-until-date", lcb_time_fmt(o->lock_until, until));
    }
    if (o->legal_hold)
        kv_add(h, "x-amz-object-lock-legal-hold", "ON");
    return 0;
}

/* Point req at body; fill s for a buffer and add the integrity headers. */
static void
set_body(struct lcb_aws_req *req, struct kvlist *h, struct lcb_s3_sums *s, const struct lcb_s3_body *b)
{
    memset(s, 0, sizeof(*s));
    if (b->read) {
        req->read = b->read;
        req->rewind = b->rewind;
        req->read_ud = b->ud;
        req->body_len = b->len;
        copy_str(s->sha_hex, sizeof(s->sha_hex), b->sha256_hex);
        copy_str(s->sha_b64, sizeof(s->sha_b64), b->sha256_b64);
        copy_str(s->md5_b64, sizeof(s->md5_b64), b->md5_b64);
    } else {
        req->body = b->data;
        req->body_len = b->len;
        compute_sums(s, b->data ? b->data : "", b->len);
    }
    req->payload_hash = s->sha_hex[0] ? s->sha_hex : NULL;
    if (s->md5_b64[0])
        kv_add(h, "Content-MD5", s->md5_b64);
    if (s->sha_b64[0])
        kv_add(h, "x-amz-checksum-sha256", s->sha_b64);
}

/* The checksum S3 echoes must be the one we sent: otherwise it stored other bytes. */
static int
check_echo(const struct lcb_aws_resp *resp, const char *sent, const char *what,
           struct lcb_err *err)
{
    const char *got = lcb_aws_resp_header(resp, "x-amz-checksum-sha256");

    if (sent && *sent && got && strcmp(got, sent) != 0)
        return lcb_err_set(err, LCB_ECORRUPT,
                           "%s: S3 computed SHA-256 %s, we sent %s: the data changed in transit",
                           what, got, sent);
    return 0;
}

static void
put_result(struct lcb_s3_put_result *out, const struct lcb_aws_resp *resp)
{
    memset(out, 0, sizeof(*out));
    copy_str(out->etag, sizeof(out->etag), lcb_aws_resp_header(resp, "ETag"));
    copy_str(out->version_id, sizeof(out->version_id),
             lcb_aws_resp_header(resp, "x-amz-version-id"));
    copy_str(out->checksum_sha256, sizeof(out->checksum_sha256),
             lcb_aws_resp_header(resp, "x-amz-checksum-sha256"));
    copy_str(out->sse, sizeof(out->sse), lcb_aws_resp_header(resp, "x-amz-server-side-encryption"));
    copy_str(out->sse_kms_key_id, sizeof(out->sse_kms_key_id),
             lcb_aws_resp_header(resp, "x-amz-server-side-encryption-aws-kms-key-id"));
}

int
lcb_s3_put(struct lcb_s3_put_result *out, struct lcb_aws *aws, const char *bucket,
           const char *key, const struct lcb_s3_body *body, const struct lcb_s3_put_opts *opts,
           struct lcb_err *err)
{
    struct kvlist h = { 0 };
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    struct lcb_s3_sums s;
    int rc = -1;

    req_init(&req, "PutObject", "PUT", bucket, key);
    lcb_aws_resp_init(&resp);
    if (add_put_headers(&h, opts, err) < 0)
        goto out;
    if (opts && opts->if_none_match)
        kv_add(&h, "If-None-Match", opts->if_none_match);
    if (opts && opts->if_match)
        kv_add(&h, "If-Match", opts->if_match);
    set_body(&req, &h, &s, body);
    req_lists(&req, NULL, &h);
    if (lcb_aws_send(aws, &req, &resp, err) < 0 || check_echo(&resp, s.sha_b64, key, err) < 0)
        goto out;
    if (out)
        put_result(out, &resp);
    rc = 0;
out:
    lcb_aws_resp_release(&resp);
    kv_release(&h);
    return rc;
}

/* ---- GetObject, HeadObject, DeleteObject ---- */

static void
info_from(struct lcb_s3_object_info *o, const struct lcb_aws_resp *resp)
{
    const char *cr = lcb_aws_resp_header(resp, "Content-Range"), *v, *slash;

    memset(o, 0, sizeof(*o));
    o->status = resp->status;
    v = lcb_aws_resp_header(resp, "Content-Length");
    o->length = v ? strtoll(v, NULL, 10) : (int64_t)resp->body.len;
    o->size = (cr && (slash = strchr(cr, '/')) && slash[1] != '*') ? strtoll(slash + 1, NULL, 10)
                                                                   : o->length;
    copy_str(o->etag, sizeof(o->etag), lcb_aws_resp_header(resp, "ETag"));
    if (parse_http_date(lcb_aws_resp_header(resp, "Last-Modified"), &o->last_modified) < 0)
        o->last_modified = 0;
    copy_str(o->content_type, sizeof(o->content_type), lcb_aws_resp_header(resp, "Content-Type"));
    copy_str(o->version_id, sizeof(o->version_id), lcb_aws_resp_header(resp, "x-amz-version-id"));
    copy_str(o->checksum_sha256, sizeof(o->checksum_sha256),
             lcb_aws_resp_header(resp, "x-amz-checksum-sha256"));
    copy_str(o->sse, sizeof(o->sse), lcb_aws_resp_header(resp, "x-amz-server-side-encryption"));
    copy_str(o->sse_kms_key_id, sizeof(o->sse_kms_key_id),
             lcb_aws_resp_header(resp, "x-amz-server-side-encryption-aws-kms-key-id"));
    copy_str(o->storage_class, sizeof(o->storage_class),
             lcb_aws_resp_header(resp, "x-amz-storage-class"));
    copy_str(o->lock_mode, sizeof(o->lock_mode), lcb_aws_resp_header(resp, "x-amz-object-lock-mode"));
    o->lock_until = iso_time(lcb_aws_resp_header(resp, "x-amz-object-lock-retain-until-date"));
    copy_str(o->legal_hold, sizeof(o->legal_hold),
             lcb_aws_resp_header(resp, "x-amz-object-lock-legal-hold"));
    v = lcb_aws_resp_header(resp, "x-amz-mp-parts-count");
    o->parts_count = v ? atoi(v) : 0;
}

/* Headers and query of GetObject/HeadObject. */
static void
read_request(struct kvlist *q, struct kvlist *h, const struct lcb_s3_get_opts *o)
{
    char range[64];

    if (!o)
        return;
    if (o->range_start >= 0) {
        if (o->range_end >= 0)
            snprintf(range, sizeof(range), "bytes=%lld-%lld", (long long)o->range_start,
                     (long long)o->range_end);
        else
            snprintf(range, sizeof(range), "bytes=%lld-", (long long)o->range_start);
        kv_add(h, "Range", range);
    }
    if (o->if_match)
        kv_add(h, "If-Match", o->if_match);
    if (o->checksum_mode)
        kv_add(h, "x-amz-checksum-mode", "ENABLED");
    if (o->version_id)
        kv_add(q, "versionId", o->version_id);
}

/* Send a GET or HEAD for key; resp keeps the answer. */
static int
read_object(struct lcb_aws_resp *resp, struct lcb_s3_object_info *info, struct lcb_aws *aws,
            struct lcb_aws_req *req, const struct lcb_s3_get_opts *opts, struct lcb_err *err)
{
    struct kvlist q = { 0 }, h = { 0 };
    int rc;

    read_request(&q, &h, opts);
    req_lists(req, &q, &h);
    rc = lcb_aws_send(aws, req, resp, err);
    if (rc == 0 && info)
        info_from(info, resp);
    kv_release(&q);
    kv_release(&h);
    return rc;
}

int
lcb_s3_get(struct lcb_s3_object_info *info, struct lcb_aws *aws, const char *bucket,
           const char *key, const struct lcb_s3_get_opts *opts, lcb_http_write_fn write,
           int (*reset)(void *ud), void *ud, struct lcb_err *err)
{
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    int rc;

    req_init(&req, "GetObject", "GET", bucket, key);
    req.write = write;
    req.write_ud = ud;
    req.write_reset = reset;
    lcb_aws_resp_init(&resp);
    rc = read_object(&resp, info, aws, &req, opts, err);
    lcb_aws_resp_release(&resp);
    return rc;
}

int
lcb_s3_get_buf(struct lcb_s3_object_info *info, struct lcb_aws *aws, const char *bucket,
               const char *key, const struct lcb_s3_get_opts *opts, struct lcb_buf *out,
               size_t max, struct lcb_err *err)
{
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    int rc;

    req_init(&req, "GetObject", "GET", bucket, key);
    req.max_body = max;
    lcb_aws_resp_init(&resp);
    rc = read_object(&resp, info, aws, &req, opts, err);
    if (rc == 0) {
        lcb_buf_reset(out);
        if (lcb_buf_add(out, resp.body.ptr ? resp.body.ptr : "", resp.body.len) < 0)
            rc = lcb_err_set(err, LCB_ECORRUPT, "s3://%s/%s: %zu bytes do not fit the buffer",
                             bucket, key, resp.body.len);
    }
    lcb_aws_resp_release(&resp);
    return rc;
}

int
lcb_s3_head(struct lcb_s3_object_info *info, struct lcb_aws *aws, const char *bucket,
            const char *key, const struct lcb_s3_get_opts *opts, struct lcb_err *err)
{
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    int rc;

    req_init(&req, "HeadObject", "HEAD", bucket, key);
    lcb_aws_resp_init(&resp);
    rc = read_object(&resp, info, aws, &req, opts, err);
    lcb_aws_resp_release(&resp);
    return rc;
}

int
lcb_s3_delete(struct lcb_aws *aws, const char *bucket, const char *key, const char *version_id,
              const char *if_match, struct lcb_err *err)
{
    struct kvlist q = { 0 }, h = { 0 };
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    int rc;

    req_init(&req, "DeleteObject", "DELETE", bucket, key);
    if (version_id)
        kv_add(&q, "versionId", version_id);
    if (if_match)
        kv_add(&h, "If-Match", if_match);
    req_lists(&req, &q, &h);
    lcb_aws_resp_init(&resp);
    rc = lcb_aws_send(aws, &req, &resp, err);
    lcb_aws_resp_release(&resp);
    kv_release(&q);
    kv_release(&h);
    return rc;
}

/* ---- ListObjectsV2 ---- */

void
lcb_s3_list_init(struct lcb_s3_list *l)
{
    memset(l, 0, sizeof(*l));
}

void
lcb_s3_list_release(struct lcb_s3_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->items[i].key);
    for (i = 0; i < l->nprefixes; i++)
        free(l->prefixes[i]);
    free(l->items);
    free(l->prefixes);
    free(l->next_token);
    lcb_s3_list_init(l);
}

/* A key from a listing: %XX and '+' decoded when the answer says EncodingType url. */
static char *
listed_key(const char *s, int url, struct lcb_err *err)
{
    struct lcb_buf b = LCB_BUF_INIT;

    if (!s)
        return NULL;
    if (!url)
        return lcb_xstrdup(s);
    if (lcb_http_uri_decode(&b, s, strlen(s), 1) < 0) {
        lcb_buf_release(&b);
        lcb_err_set(err, LCB_ECORRUPT, "s3 listing: malformed encoded key \"%s\"", s);
        return NULL;
    }
    return lcb_buf_detach(&b, NULL);
}

static int
add_listed(struct lcb_s3_list *out, struct lcb_xml_node *c, int url, struct lcb_err *err)
{
    struct lcb_s3_object *o;
    char *key = listed_key(lcb_xml_get(c, "Key"), url, err);

    if (!key)
        return err->code ? -1 : lcb_err_set(err, LCB_ECORRUPT, "s3 listing: an entry without Key");
    if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 64;
        out->items = lcb_xrealloc(out->items, out->cap * sizeof(*out->items));
    }
    o = &out->items[out->n++];
    memset(o, 0, sizeof(*o));
    o->key = key;
    o->size = lcb_xml_get_ll(c, "Size", -1);
    copy_str(o->etag, sizeof(o->etag), lcb_xml_get(c, "ETag"));
    o->last_modified = iso_time(lcb_xml_get(c, "LastModified"));
    copy_str(o->storage_class, sizeof(o->storage_class), lcb_xml_get(c, "StorageClass"));
    return 0;
}

static int
read_list_page(struct lcb_s3_list *out, struct lcb_xml_node *root, struct lcb_err *err)
{
    struct lcb_xml_node *c;
    const char *enc = lcb_xml_get(root, "EncodingType"), *next;
    int url = enc && strcmp(enc, "url") == 0;
    char *p;

    lcb_err_clear(err);
    for (c = lcb_xml_child(root, "Contents"); c; c = lcb_xml_next(c, "Contents"))
        if (add_listed(out, c, url, err) < 0)
            return -1;
    for (c = lcb_xml_child(root, "CommonPrefixes"); c; c = lcb_xml_next(c, "CommonPrefixes")) {
        if (!(p = listed_key(lcb_xml_get(c, "Prefix"), url, err))) {
            if (err->code)
                return -1;
            continue;
        }
        out->prefixes = lcb_xrealloc(out->prefixes, (out->nprefixes + 1) * sizeof(char *));
        out->prefixes[out->nprefixes++] = p;
    }
    out->truncated = lcb_xml_get_bool(root, "IsTruncated", 0);
    next = lcb_xml_get(root, "NextContinuationToken");
    free(out->next_token);
    out->next_token = out->truncated && next && *next ? lcb_xstrdup(next) : NULL;
    if (out->truncated && !out->next_token)
        return lcb_err_set(err, LCB_ECORRUPT, "s3 listing truncated without a continuation token");
    return 0;
}

int
lcb_s3_list_page(struct lcb_s3_list *out, struct lcb_aws *aws, const char *bucket,
                 const struct lcb_s3_list_opts *opts, const char *token, struct lcb_err *err)
{
    struct kvlist q = { 0 };
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    struct lcb_xml *doc = NULL;
    char num[16];
    int rc = -1;

    req_init(&req, "ListObjectsV2", "GET", bucket, NULL);
    kv_add(&q, "list-type", "2");
    kv_add(&q, "encoding-type", "url");
    if (opts && opts->prefix)
        kv_add(&q, "prefix", opts->prefix);
    if (opts && opts->delimiter)
        kv_add(&q, "delimiter", opts->delimiter);
    if (opts && opts->start_after && !token)
        kv_add(&q, "start-after", opts->start_after);
    if (opts && opts->max_keys > 0) {
        snprintf(num, sizeof(num), "%d", opts->max_keys);
        kv_add(&q, "max-keys", num);
    }
    if (token)
        kv_add(&q, "continuation-token", token);
    req_lists(&req, &q, NULL);
    lcb_aws_resp_init(&resp);
    if (lcb_aws_send(aws, &req, &resp, err) == 0 &&
        parse_answer(&doc, &resp, "ListBucketResult", "ListObjectsV2", err) == 0)
        rc = read_list_page(out, lcb_xml_root(doc), err);
    lcb_xml_free(doc);
    lcb_aws_resp_release(&resp);
    kv_release(&q);
    return rc;
}

int
lcb_s3_list_all(struct lcb_s3_list *out, struct lcb_aws *aws, const char *bucket,
                const struct lcb_s3_list_opts *opts, size_t max_items, struct lcb_err *err)
{
    char *token = NULL;
    unsigned pages = 0;
    int rc;

    for (;;) {
        rc = lcb_s3_list_page(out, aws, bucket, opts, token, err);
        if (rc == 0 && max_items && out->n > max_items)
            rc = lcb_err_set(err, LCB_ECORRUPT, "s3://%s: more than %zu keys listed", bucket,
                             max_items);
        if (rc == 0 && out->next_token && token && strcmp(token, out->next_token) == 0)
            rc = lcb_err_set(err, LCB_ECORRUPT, "s3://%s: the listing repeated its token", bucket);
        if (rc == 0 && ++pages >= MAX_LIST_PAGES)
            rc = lcb_err_set(err, LCB_ECORRUPT, "s3://%s: more than %u listing pages", bucket,
                             MAX_LIST_PAGES);
        free(token);
        token = NULL;
        if (rc < 0 || !out->next_token)
            return rc;
        token = lcb_xstrdup(out->next_token);
    }
}

/* ---- DeleteObjects ---- */

void
lcb_s3_delete_result_init(struct lcb_s3_delete_result *r)
{
    memset(r, 0, sizeof(*r));
}

void
lcb_s3_delete_result_release(struct lcb_s3_delete_result *r)
{
    size_t i;

    for (i = 0; i < r->nfailed; i++) {
        free(r->failed[i].key);
        free(r->failed[i].message);
    }
    free(r->failed);
    lcb_s3_delete_result_init(r);
}

static int
delete_body(struct lcb_buf *body, const char *const *keys, size_t n, struct lcb_err *err)
{
    struct lcb_xmlw w;
    size_t i;

    lcb_xmlw_init(&w, body);
    lcb_xmlw_open(&w, "Delete", S3_NS);
    lcb_xmlw_leaf(&w, "Quiet", "true");
    for (i = 0; i < n; i++) {
        lcb_xmlw_open(&w, "Object", NULL);
        lcb_xmlw_leaf(&w, "Key", keys[i]);
        lcb_xmlw_close(&w);
    }
    return lcb_xmlw_finish(&w, err);
}

static void
read_delete_result(struct lcb_s3_delete_result *out, struct lcb_xml_node *root, size_t sent)
{
    struct lcb_xml_node *e;
    struct lcb_s3_delete_failure *f;
    size_t nerr = lcb_xml_count(root, "Error");

    out->failed = lcb_xrealloc(out->failed, (out->nfailed + nerr + 1) * sizeof(*out->failed));
    for (e = lcb_xml_child(root, "Error"); e; e = lcb_xml_next(e, "Error")) {
        f = &out->failed[out->nfailed++];
        f->key = lcb_xstrdup(lcb_xml_get(e, "Key") ? lcb_xml_get(e, "Key") : "");
        copy_str(f->code, sizeof(f->code), lcb_xml_get(e, "Code"));
        f->message = lcb_xstrdup(lcb_xml_get(e, "Message") ? lcb_xml_get(e, "Message") : "");
    }
    out->ndeleted += sent > nerr ? sent - nerr : 0; /* quiet mode lists failures only */
}

static int
delete_batch(struct lcb_s3_delete_result *out, struct lcb_aws *aws, const char *bucket,
             const char *const *keys, size_t n, struct lcb_err *err)
{
    struct kvlist q = { 0 }, h = { 0 };
    struct lcb_buf body = LCB_BUF_INIT;
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    struct lcb_xml *doc = NULL;
    struct lcb_s3_sums s;
    int rc = -1;

    lcb_aws_resp_init(&resp);
    if (delete_body(&body, keys, n, err) < 0)
        goto out;
    req_init(&req, "DeleteObjects", "POST", bucket, NULL);
    kv_add(&q, "delete", NULL);
    req_xml_body(&req, &h, &s, &body);
    req_lists(&req, &q, &h);
    if (lcb_aws_send(aws, &req, &resp, err) < 0 ||
        parse_answer(&doc, &resp, "DeleteResult", "DeleteObjects", err) < 0)
        goto out;
    read_delete_result(out, lcb_xml_root(doc), n);
    rc = 0;
out:
    lcb_xml_free(doc);
    lcb_aws_resp_release(&resp);
    lcb_buf_release(&body);
    kv_release(&q);
    kv_release(&h);
    return rc;
}

int
lcb_s3_delete_objects(struct lcb_s3_delete_result *out, struct lcb_aws *aws, const char *bucket,
                      const char *const *keys, size_t n, struct lcb_err *err)
{
    size_t i, k;

    for (i = 0; i < n; i += k) {
        k = n - i < LCB_S3_MAX_DELETE ? n - i : LCB_S3_MAX_DELETE;
        if (delete_batch(out, aws, bucket, keys + i, k, err) < 0)
            return lcb_wrap(err, "delete keys %zu..%zu of %zu from s3://%s", i + 1, i + k, n,
                            bucket);
    }
    return 0;
}

/* ---- multipart uploads ---- */

int
lcb_s3_mpu_create(struct lcb_buf *upload_id, struct lcb_aws *aws, const char *bucket,
                  const char *key, const struct lcb_s3_put_opts *opts, struct lcb_err *err)
{
    struct kvlist q = { 0 }, h = { 0 };
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    struct lcb_xml *doc = NULL;
    const char *id;
    int rc = -1;

    req_init(&req, "CreateMultipartUpload", "POST", bucket, key);
    lcb_aws_resp_init(&resp);
    kv_add(&q, "uploads", NULL);
    if (add_put_headers(&h, opts, err) < 0)
        goto out;
    kv_add(&h, "x-amz-checksum-algorithm", "SHA256");
    req_lists(&req, &q, &h);
    if (lcb_aws_send(aws, &req, &resp, err) < 0 ||
        parse_answer(&doc, &resp, "InitiateMultipartUploadResult", "CreateMultipartUpload",
                     err) < 0)
        goto out;
    id = lcb_xml_get(lcb_xml_root(doc), "UploadId");
    if (!id || !*id) {
        lcb_err_set(err, LCB_ECORRUPT, "s3 CreateMultipartUpload answer without an UploadId");
        goto out;
    }
    lcb_buf_reset(upload_id);
    lcb_buf_adds(upload_id, id);
    rc = 0;
out:
    lcb_xml_free(doc);
    lcb_aws_resp_release(&resp);
    kv_release(&q);
    kv_release(&h);
    return rc;
}

int
lcb_s3_part_prepare(struct lcb_s3_part_req *pr, const char *bucket, const char *key,
                    const char *upload_id, int number, const struct lcb_s3_body *body,
                    struct lcb_err *err)
{
    struct lcb_s3_sums s;
    size_t nh = 0;

    memset(pr, 0, sizeof(*pr));
    if (number < 1 || number > LCB_S3_MAX_PARTS)
        return lcb_err_set(err, LCB_EUSAGE, "part number %d (1..%d)", number, LCB_S3_MAX_PARTS);
    if (body->read && !body->sha256_b64)
        return lcb_err_set(err, LCB_EUSAGE, "part %d of %s: a streamed part needs its SHA-256",
                           number, key);
    pr->part_number = number;
    snprintf(pr->number, sizeof(pr->number), "%d", number);
    req_init(&pr->req, "UploadPart", "PUT", bucket, key);
    pr->query[0] = (struct lcb_aws_kv){ "partNumber", pr->number };
    pr->query[1] = (struct lcb_aws_kv){ "uploadId", upload_id };
    pr->req.query = pr->query;
    pr->req.nquery = 2;
    if (body->read) {
        pr->req.read = body->read;
        pr->req.rewind = body->rewind;
        pr->req.read_ud = body->ud;
        copy_str(pr->sha256_hex, sizeof(pr->sha256_hex), body->sha256_hex);
        copy_str(pr->sha256_b64, sizeof(pr->sha256_b64), body->sha256_b64);
        copy_str(pr->md5_b64, sizeof(pr->md5_b64), body->md5_b64);
    } else {
        pr->req.body = body->data;
        compute_sums(&s, body->data ? body->data : "", body->len);
        copy_str(pr->sha256_hex, sizeof(pr->sha256_hex), s.sha_hex);
        copy_str(pr->sha256_b64, sizeof(pr->sha256_b64), s.sha_b64);
        copy_str(pr->md5_b64, sizeof(pr->md5_b64), s.md5_b64);
    }
    pr->req.body_len = body->len;
    pr->req.payload_hash = pr->sha256_hex[0] ? pr->sha256_hex : NULL;
    if (pr->md5_b64[0])
        pr->headers[nh++] = (struct lcb_aws_kv){ "Content-MD5", pr->md5_b64 };
    pr->headers[nh++] = (struct lcb_aws_kv){ "x-amz-checksum-sha256", pr->sha256_b64 };
    pr->req.headers = pr->headers;
    pr->req.nheaders = nh;
    return 0;
}

int
lcb_s3_part_finish(struct lcb_s3_part *out, const struct lcb_s3_part_req *pr,
                   const struct lcb_aws_resp *resp, struct lcb_err *err)
{
    const char *etag = lcb_aws_resp_header(resp, "ETag");
    char what[64];

    snprintf(what, sizeof(what), "part %d", pr->part_number);
    if (!etag || !*etag)
        return lcb_err_set(err, LCB_ECORRUPT, "s3 UploadPart %d answer without an ETag",
                           pr->part_number);
    if (check_echo(resp, pr->sha256_b64, what, err) < 0)
        return -1;
    memset(out, 0, sizeof(*out));
    out->number = pr->part_number;
    copy_str(out->etag, sizeof(out->etag), etag);
    copy_str(out->checksum_sha256, sizeof(out->checksum_sha256), pr->sha256_b64);
    out->size = (int64_t)pr->req.body_len;
    return 0;
}

int
lcb_s3_mpu_part(struct lcb_s3_part *out, struct lcb_aws *aws, const char *bucket,
                const char *key, const char *upload_id, int number,
                const struct lcb_s3_body *body, struct lcb_err *err)
{
    struct lcb_s3_part_req pr;
    struct lcb_aws_resp resp;
    int rc;

    if (lcb_s3_part_prepare(&pr, bucket, key, upload_id, number, body, err) < 0)
        return -1;
    lcb_aws_resp_init(&resp);
    rc = lcb_aws_send(aws, &pr.req, &resp, err);
    if (rc == 0)
        rc = lcb_s3_part_finish(out, &pr, &resp, err);
    lcb_aws_resp_release(&resp);
    return rc;
}

static int
complete_body(struct lcb_buf *body, const struct lcb_s3_part *parts, size_t n,
              struct lcb_err *err)
{
    struct lcb_xmlw w;
    size_t i;

    if (!n)
        return lcb_err_set(err, LCB_EUSAGE, "a multipart upload needs at least one part");
    lcb_xmlw_init(&w, body);
    lcb_xmlw_open(&w, "CompleteMultipartUpload", S3_NS);
    for (i = 0; i < n; i++) {
        if (i && parts[i].number <= parts[i - 1].number)
            return lcb_err_set(err, LCB_EUSAGE, "parts out of order: %d after %d",
                               parts[i].number, parts[i - 1].number);
        lcb_xmlw_open(&w, "Part", NULL);
        lcb_xmlw_leaff(&w, "PartNumber", "%d", parts[i].number);
        lcb_xmlw_leaf(&w, "ETag", parts[i].etag);
        if (parts[i].checksum_sha256[0])
            lcb_xmlw_leaf(&w, "ChecksumSHA256", parts[i].checksum_sha256);
        lcb_xmlw_close(&w);
    }
    return lcb_xmlw_finish(&w, err);
}

/* The composite checksum S3 gives a multipart object: base64(SHA-256(raw part digests)) + "-N". */
static int
composite_sha256(char *out, size_t size, const struct lcb_s3_part *parts, size_t n)
{
    struct lcb_buf raw = LCB_BUF_INIT;
    unsigned char sha[LCB_SHA256_LEN];
    char b64[48];
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++)
        rc = lcb_base64_decode(&raw, parts[i].checksum_sha256, strlen(parts[i].checksum_sha256));
    if (rc == 0 && raw.len == n * LCB_SHA256_LEN) {
        lcb_sha256(raw.ptr, raw.len, sha);
        b64_into(b64, sizeof(b64), sha, sizeof(sha));
        snprintf(out, size, "%s-%zu", b64, n);
    } else {
        rc = -1;
    }
    lcb_buf_release(&raw);
    return rc;
}

/* Complete answered NoSuchUpload after a retry: the first attempt may have completed it and lost
 * the answer. The object is ours when its composite checksum is the one our parts make. */
static int
completed_before(struct lcb_s3_put_result *out, struct lcb_aws *aws, const char *bucket,
                 const char *key, const struct lcb_s3_part *parts, size_t n)
{
    struct lcb_s3_get_opts o = LCB_S3_GET_OPTS_INIT;
    struct lcb_s3_object_info info;
    struct lcb_err herr;
    char want[80];

    o.checksum_mode = 1;
    if (composite_sha256(want, sizeof(want), parts, n) < 0 ||
        lcb_s3_head(&info, aws, bucket, key, &o, &herr) < 0 || strcmp(info.checksum_sha256, want))
        return 0;
    if (out) {
        memset(out, 0, sizeof(*out));
        copy_str(out->etag, sizeof(out->etag), info.etag);
        copy_str(out->version_id, sizeof(out->version_id), info.version_id);
        copy_str(out->checksum_sha256, sizeof(out->checksum_sha256), info.checksum_sha256);
        copy_str(out->sse, sizeof(out->sse), info.sse);
        copy_str(out->sse_kms_key_id, sizeof(out->sse_kms_key_id), info.sse_kms_key_id);
    }
    return 1;
}

static void
complete_result(struct lcb_s3_put_result *out, const struct lcb_aws_resp *resp,
                struct lcb_xml_node *root)
{
    put_result(out, resp);
    copy_str(out->etag, sizeof(out->etag), lcb_xml_get(root, "ETag"));
    if (lcb_xml_get(root, "ChecksumSHA256"))
        copy_str(out->checksum_sha256, sizeof(out->checksum_sha256),
                 lcb_xml_get(root, "ChecksumSHA256"));
}

int
lcb_s3_mpu_complete(struct lcb_s3_put_result *out, struct lcb_aws *aws, const char *bucket,
                    const char *key, const char *upload_id, const struct lcb_s3_part *parts,
                    size_t nparts, const char *if_none_match, const char *if_match,
                    struct lcb_err *err)
{
    struct kvlist q = { 0 }, h = { 0 };
    struct lcb_buf body = LCB_BUF_INIT;
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    struct lcb_xml *doc = NULL;
    struct lcb_s3_sums s;
    int rc = -1;

    lcb_aws_resp_init(&resp);
    if (complete_body(&body, parts, nparts, err) < 0)
        goto out;
    req_init(&req, "CompleteMultipartUpload", "POST", bucket, key);
    req.check_2xx = 1; /* 200 + <Error> */
    kv_add(&q, "uploadId", upload_id);
    if (if_none_match)
        kv_add(&h, "If-None-Match", if_none_match);
    if (if_match)
        kv_add(&h, "If-Match", if_match);
    req_xml_body(&req, &h, &s, &body);
    req_lists(&req, &q, &h);
    if (lcb_aws_send(aws, &req, &resp, err) < 0) {
        if (strcmp(err->aws_code, "NoSuchUpload") == 0 && resp.attempts > 1 &&
            completed_before(out, aws, bucket, key, parts, nparts))
            rc = 0;
        goto out;
    }
    if (parse_answer(&doc, &resp, "CompleteMultipartUploadResult", "CompleteMultipartUpload",
                     err) < 0)
        goto out;
    if (out)
        complete_result(out, &resp, lcb_xml_root(doc));
    rc = 0;
out:
    lcb_xml_free(doc);
    lcb_aws_resp_release(&resp);
    lcb_buf_release(&body);
    kv_release(&q);
    kv_release(&h);
    return rc;
}

int
lcb_s3_mpu_abort(struct lcb_aws *aws, const char *bucket, const char *key, const char *upload_id,
                 struct lcb_err *err)
{
    struct kvlist q = { 0 };
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    int rc;

    req_init(&req, "AbortMultipartUpload", "DELETE", bucket, key);
    kv_add(&q, "uploadId", upload_id);
    req_lists(&req, &q, NULL);
    lcb_aws_resp_init(&resp);
    rc = lcb_aws_send(aws, &req, &resp, err);
    lcb_aws_resp_release(&resp);
    kv_release(&q);
    return rc;
}

void
lcb_s3_uploads_init(struct lcb_s3_uploads *u)
{
    memset(u, 0, sizeof(*u));
}

void
lcb_s3_uploads_release(struct lcb_s3_uploads *u)
{
    size_t i;

    for (i = 0; i < u->n; i++) {
        free(u->items[i].key);
        free(u->items[i].upload_id);
    }
    free(u->items);
    lcb_s3_uploads_init(u);
}

/* GET one listing page (ListMultipartUploads or ListParts) into *doc. */
static int
get_listing(struct lcb_xml **doc, struct lcb_aws *aws, const char *op, const char *bucket,
            const char *key, const struct kvlist *q, const char *root, struct lcb_err *err)
{
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    int rc = -1;

    req_init(&req, op, "GET", bucket, key);
    req_lists(&req, q, NULL);
    lcb_aws_resp_init(&resp);
    if (lcb_aws_send(aws, &req, &resp, err) == 0)
        rc = parse_answer(doc, &resp, root, op, err);
    lcb_aws_resp_release(&resp);
    return rc;
}

static int
read_uploads(struct lcb_s3_uploads *out, struct lcb_xml_node *root, struct lcb_err *err)
{
    struct lcb_xml_node *u;
    const char *enc = lcb_xml_get(root, "EncodingType");
    int url = enc && strcmp(enc, "url") == 0;
    struct lcb_s3_upload *it;
    char *key;

    lcb_err_clear(err);
    for (u = lcb_xml_child(root, "Upload"); u; u = lcb_xml_next(u, "Upload")) {
        if (!(key = listed_key(lcb_xml_get(u, "Key"), url, err)) || !lcb_xml_get(u, "UploadId")) {
            free(key);
            return err->code ? -1 : lcb_err_set(err, LCB_ECORRUPT, "s3 upload listing entry "
                                                                   "without Key or UploadId");
        }
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            out->items = lcb_xrealloc(out->items, out->cap * sizeof(*out->items));
        }
        it = &out->items[out->n++];
        it->key = key;
        it->upload_id = lcb_xstrdup(lcb_xml_get(u, "UploadId"));
        it->initiated = iso_time(lcb_xml_get(u, "Initiated"));
    }
    return 0;
}

/* The next markers of a truncated listing; 0 when done, -1 on a loop. */
static int
next_markers(struct lcb_xml_node *root, const char *const *names, char **marks, size_t n,
             struct lcb_err *err)
{
    size_t i;
    int same = 1;
    const char *v;

    if (!lcb_xml_get_bool(root, "IsTruncated", 0))
        return 0;
    for (i = 0; i < n; i++) {
        v = lcb_xml_get(root, names[i]);
        v = v ? v : "";
        same = same && marks[i] && strcmp(marks[i], v) == 0;
        free(marks[i]);
        marks[i] = lcb_xstrdup(v);
    }
    if (same || !*marks[0])
        return lcb_err_set(err, LCB_ECORRUPT, "s3 listing truncated without a new %s", names[0]);
    return 1;
}

int
lcb_s3_mpu_list(struct lcb_s3_uploads *out, struct lcb_aws *aws, const char *bucket,
                const char *prefix, struct lcb_err *err)
{
    static const char *const names[] = { "NextKeyMarker", "NextUploadIdMarker" };
    char *marks[2] = { NULL, NULL };
    struct kvlist q;
    struct lcb_xml *doc;
    int more = 1;

    while (more > 0) {
        memset(&q, 0, sizeof(q));
        doc = NULL;
        kv_add(&q, "uploads", NULL);
        kv_add(&q, "encoding-type", "url");
        if (prefix)
            kv_add(&q, "prefix", prefix);
        if (marks[0]) {
            kv_add(&q, "key-marker", marks[0]);
            kv_add(&q, "upload-id-marker", marks[1]);
        }
        more = get_listing(&doc, aws, "ListMultipartUploads", bucket, NULL, &q,
                           "ListMultipartUploadsResult", err);
        if (more == 0)
            more = read_uploads(out, lcb_xml_root(doc), err);
        if (more == 0)
            more = next_markers(lcb_xml_root(doc), names, marks, 2, err);
        lcb_xml_free(doc);
        kv_release(&q);
    }
    free(marks[0]);
    free(marks[1]);
    return more;
}

void
lcb_s3_parts_init(struct lcb_s3_parts *p)
{
    memset(p, 0, sizeof(*p));
}

void
lcb_s3_parts_release(struct lcb_s3_parts *p)
{
    free(p->items);
    lcb_s3_parts_init(p);
}

static void
read_parts(struct lcb_s3_parts *out, struct lcb_xml_node *root)
{
    struct lcb_xml_node *p;
    struct lcb_s3_part *it;

    for (p = lcb_xml_child(root, "Part"); p; p = lcb_xml_next(p, "Part")) {
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 64;
            out->items = lcb_xrealloc(out->items, out->cap * sizeof(*out->items));
        }
        it = &out->items[out->n++];
        memset(it, 0, sizeof(*it));
        it->number = (int)lcb_xml_get_ll(p, "PartNumber", 0);
        copy_str(it->etag, sizeof(it->etag), lcb_xml_get(p, "ETag"));
        copy_str(it->checksum_sha256, sizeof(it->checksum_sha256), lcb_xml_get(p, "ChecksumSHA256"));
        it->size = lcb_xml_get_ll(p, "Size", -1);
    }
}

int
lcb_s3_mpu_list_parts(struct lcb_s3_parts *out, struct lcb_aws *aws, const char *bucket,
                      const char *key, const char *upload_id, struct lcb_err *err)
{
    static const char *const names[] = { "NextPartNumberMarker" };
    char *mark = NULL;
    struct kvlist q;
    struct lcb_xml *doc;
    int more = 1;

    while (more > 0) {
        memset(&q, 0, sizeof(q));
        doc = NULL;
        kv_add(&q, "uploadId", upload_id);
        if (mark)
            kv_add(&q, "part-number-marker", mark);
        more = get_listing(&doc, aws, "ListParts", bucket, key, &q, "ListPartsResult", err);
        if (more == 0) {
            read_parts(out, lcb_xml_root(doc));
            more = next_markers(lcb_xml_root(doc), names, &mark, 1, err);
        }
        lcb_xml_free(doc);
        kv_release(&q);
    }
    free(mark);
    return more;
}

/* ---- tagging ---- */

int
lcb_s3_tagging_put(struct lcb_aws *aws, const char *bucket, const char *key,
                   const struct lcb_aws_kv *tags, size_t n, struct lcb_err *err)
{
    struct kvlist q = { 0 }, h = { 0 };
    struct lcb_buf body = LCB_BUF_INIT;
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    struct lcb_xmlw w;
    struct lcb_s3_sums s;
    size_t i;
    int rc = -1;

    lcb_aws_resp_init(&resp);
    lcb_xmlw_init(&w, &body);
    lcb_xmlw_open(&w, "Tagging", S3_NS);
    lcb_xmlw_open(&w, "TagSet", NULL);
    for (i = 0; i < n; i++) {
        lcb_xmlw_open(&w, "Tag", NULL);
        lcb_xmlw_leaf(&w, "Key", tags[i].name);
        lcb_xmlw_leaf(&w, "Value", tags[i].value ? tags[i].value : "");
        lcb_xmlw_close(&w);
    }
    if (lcb_xmlw_finish(&w, err) < 0)
        goto out;
    req_init(&req, "PutObjectTagging", "PUT", bucket, key);
    kv_add(&q, "tagging", NULL);
    req_xml_body(&req, &h, &s, &body);
    req_lists(&req, &q, &h);
    rc = lcb_aws_send(aws, &req, &resp, err);
out:
    lcb_aws_resp_release(&resp);
    lcb_buf_release(&body);
    kv_release(&q);
    kv_release(&h);
    return rc;
}

void
lcb_s3_tags_init(struct lcb_s3_tags *t)
{
    memset(t, 0, sizeof(*t));
}

void
lcb_s3_tags_release(struct lcb_s3_tags *t)
{
    size_t i;

    for (i = 0; i < t->n; i++) {
        free(t->keys[i]);
        free(t->values[i]);
    }
    free(t->keys);
    free(t->values);
    lcb_s3_tags_init(t);
}

const char *
lcb_s3_tags_get(const struct lcb_s3_tags *t, const char *key)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->keys[i], key) == 0)
            return t->values[i];
    return NULL;
}

int
lcb_s3_tagging_get(struct lcb_s3_tags *out, struct lcb_aws *aws, const char *bucket,
                   const char *key, struct lcb_err *err)
{
    struct kvlist q = { 0 };
    struct lcb_xml *doc = NULL;
    struct lcb_xml_node *t;
    size_t n;
    int rc;

    kv_add(&q, "tagging", NULL);
    rc = get_listing(&doc, aws, "GetObjectTagging", bucket, key, &q, "Tagging", err);
    if (rc == 0) {
        lcb_s3_tags_release(out);
        n = lcb_xml_count(lcb_xml_child(lcb_xml_root(doc), "TagSet"), "Tag");
        out->keys = lcb_xcalloc(n + 1, sizeof(char *));
        out->values = lcb_xcalloc(n + 1, sizeof(char *));
        for (t = lcb_xml_path(lcb_xml_root(doc), "TagSet/Tag"); t; t = lcb_xml_next(t, "Tag")) {
            out->keys[out->n] = lcb_xstrdup(lcb_xml_get(t, "Key") ? lcb_xml_get(t, "Key") : "");
            out->values[out->n++] =
                lcb_xstrdup(lcb_xml_get(t, "Value") ? lcb_xml_get(t, "Value") : "");
        }
    }
    lcb_xml_free(doc);
    kv_release(&q);
    return rc;
}
