/* sigv4.c - see sigv4.h. The rules follow botocore's auth.py (SigV4Auth, S3SigV4Auth,
 * SigV4QueryAuth, S3SigV4QueryAuth) and aws-wire.md section 3. */
#include "sigv4.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/mem.h"
#include "../core/secret.h"
#include "../ext/crypto.h"
#include "../ext/http.h"

/* Headers botocore never signs, plus hop-by-hop ones that curl may add or change. */
static const char *const unsigned_headers[] = {
    "authorization", "expect", "user-agent", "x-amzn-trace-id", "connection", "keep-alive",
    "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
};

struct hdr {
    char *name;  /* lower-case */
    char *value; /* trimmed, white space collapsed */
    size_t order;
};

struct qp {
    char *name; /* encoded */
    char *value;
};

void
lcb_sigv4_out_init(struct lcb_sigv4_out *o)
{
    memset(o, 0, sizeof(*o));
    lcb_buf_init(&o->canonical, 0);
    lcb_buf_init(&o->sts, 0);
    lcb_buf_init(&o->signed_headers, 0);
    lcb_buf_init(&o->authorization, 0);
    lcb_buf_init(&o->query, 0);
}

void
lcb_sigv4_out_release(struct lcb_sigv4_out *o)
{
    lcb_buf_release(&o->canonical);
    lcb_buf_release(&o->sts);
    lcb_buf_release(&o->signed_headers);
    lcb_buf_release(&o->authorization);
    lcb_buf_release(&o->query);
}

void
lcb_sigv4_cache_release(struct lcb_sigv4_cache *c)
{
    lcb_wipe(c, sizeof(*c));
}

void
lcb_sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* RFC 3986 remove_dot_segments plus collapsing "//", as botocore's normalize_url_path. */
static void
normalize_path(struct lcb_buf *out, const char *path)
{
    const char *p = path, *seg;
    size_t *starts = NULL, n = 0, cap = 0, len;
    size_t base = out->len;
    int trailing;

    if (!*path) {
        lcb_buf_addch(out, '/');
        return;
    }
    trailing = path[strlen(path) - 1] == '/';
    while (*p) {
        while (*p == '/')
            p++;
        seg = p;
        while (*p && *p != '/')
            p++;
        len = (size_t)(p - seg);
        if (len == 0 || (len == 1 && seg[0] == '.'))
            continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (n) {
                out->len = starts[--n];
                out->ptr[out->len] = '\0';
            }
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            starts = lcb_xrealloc(starts, cap * sizeof(*starts));
        }
        starts[n++] = out->len;
        if (out->len > base || path[0] == '/')
            lcb_buf_addch(out, '/');
        lcb_buf_add(out, seg, len);
    }
    if (out->len == base && path[0] == '/')
        lcb_buf_addch(out, '/');
    else if (trailing && n)
        lcb_buf_addch(out, '/');
    free(starts);
}

void
lcb_sigv4_canonical_uri(struct lcb_buf *out, const char *path, int s3)
{
    struct lcb_buf norm = LCB_BUF_INIT;

    if (!path || !*path) {
        lcb_buf_addch(out, '/');
        return;
    }
    if (s3) {
        lcb_buf_adds(out, path);
        return;
    }
    normalize_path(&norm, path);
    lcb_http_uri_encode(out, norm.ptr, norm.len, 1);
    lcb_buf_release(&norm);
}

static int
cmp_qp(const void *a, const void *b)
{
    const struct qp *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

static char *
encode_dup(const char *s)
{
    struct lcb_buf b = LCB_BUF_INIT;

    lcb_http_uri_encode(&b, s ? s : "", s ? strlen(s) : 0, 0);
    if (!b.ptr)
        return lcb_xstrdup("");
    return lcb_buf_detach(&b, NULL);
}

/* The canonical query from the request's pairs plus extra (presign auth pairs). */
static void
canonical_query(struct lcb_buf *out, const struct lcb_sigv4_pair *q, size_t nq,
                const struct lcb_sigv4_pair *extra, size_t nextra)
{
    size_t n = nq + nextra, i;
    struct qp *v;

    if (!n)
        return;
    v = lcb_xcalloc(n, sizeof(*v));
    for (i = 0; i < n; i++) {
        const struct lcb_sigv4_pair *p = i < nq ? &q[i] : &extra[i - nq];
        v[i].name = encode_dup(p->name);
        v[i].value = encode_dup(p->value);
    }
    qsort(v, n, sizeof(*v), cmp_qp);
    for (i = 0; i < n; i++) {
        lcb_buf_addf(out, "%s%s=%s", i ? "&" : "", v[i].name, v[i].value);
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

static int
is_unsigned_header(const char *lname)
{
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(unsigned_headers); i++)
        if (strcmp(lname, unsigned_headers[i]) == 0)
            return 1;
    return 0;
}

/* Trimall: strip, and collapse every run of white space to one space. An obsolete folded value
 * ("a\n  b") counts as one value per line, joined with ',' (the test suite's
 * get-header-value-multiline); we never send one. */
static char *
trim_all(const char *v)
{
    struct lcb_buf b = LCB_BUF_INIT;
    int space = 0, line = 0;

    lcb_buf_adds(&b, "");
    for (; *v; v++) {
        if (*v == '\n' || *v == '\r') {
            line = b.len > 0;
            continue;
        }
        if (isspace((unsigned char)*v)) {
            space = 1;
            continue;
        }
        if (line)
            lcb_buf_addch(&b, ',');
        else if (space && b.len)
            lcb_buf_addch(&b, ' ');
        space = line = 0;
        lcb_buf_addch(&b, *v);
    }
    return lcb_buf_detach(&b, NULL);
}

static char *
lower_dup(const char *s)
{
    char *d = lcb_xstrdup(s), *p;

    for (p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

static int
cmp_hdr(const void *a, const void *b)
{
    const struct hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int
has_header(const struct lcb_sigv4_req *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return 1;
    return 0;
}

static size_t
add_hdr(struct hdr *v, size_t n, const char *name, const char *value)
{
    v[n].name = lower_dup(name);
    v[n].value = trim_all(value ? value : "");
    v[n].order = n;
    return n + 1;
}

/* Canonical headers block (each "name:value\n") and the signed-headers list. date is added as
 * x-amz-date (replacing any given one) unless NULL; token likewise when not among the headers. */
static void
canonical_headers(struct lcb_buf *block, struct lcb_buf *names, const struct lcb_sigv4_req *r,
                  const char *date, const char *token)
{
    struct hdr *v = lcb_xcalloc(r->nheaders + 3, sizeof(*v));
    size_t n = 0, i;

    for (i = 0; i < r->nheaders; i++) {
        char *l = lower_dup(r->headers[i].name);
        int skip = is_unsigned_header(l) || (date && strcmp(l, "x-amz-date") == 0);
        free(l);
        if (!skip)
            n = add_hdr(v, n, r->headers[i].name, r->headers[i].value);
    }
    if (!has_header(r, "host"))
        n = add_hdr(v, n, "host", r->host);
    if (date)
        n = add_hdr(v, n, "x-amz-date", date);
    if (token && *token && !has_header(r, "x-amz-security-token"))
        n = add_hdr(v, n, "x-amz-security-token", token);
    qsort(v, n, sizeof(*v), cmp_hdr);
    for (i = 0; i < n; i++) {
        int same = i > 0 && strcmp(v[i].name, v[i - 1].name) == 0;
        if (same) {
            lcb_buf_addf(block, ",%s", v[i].value);
        } else {
            lcb_buf_addf(block, "%s%s:%s", i ? "\n" : "", v[i].name, v[i].value);
            lcb_buf_addf(names, "%s%s", names->len ? ";" : "", v[i].name);
        }
    }
    lcb_buf_addch(block, '\n');
    for (i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

static void
signing_key(unsigned char out[32], const struct lcb_sigv4_key *key, const char *date,
            const struct lcb_sigv4_req *r, struct lcb_sigv4_cache *cache)
{
    char scope[128];
    unsigned char sh[32], k[32];
    struct lcb_buf seed = LCB_BUF_INIT;

    snprintf(scope, sizeof(scope), "%.8s/%s/%s", date, r->region, r->service);
    lcb_sha256(key->secret, strlen(key->secret), sh);
    if (cache && cache->valid && strcmp(cache->scope, scope) == 0 &&
        lcb_memeq_ct(cache->secret_hash, sh, 32) == 0) {
        memcpy(out, cache->key, 32);
        return;
    }
    lcb_buf_addf(&seed, "AWS4%s", key->secret);
    lcb_hmac_sha256(seed.ptr, seed.len, date, 8, k);
    lcb_wipe(seed.ptr, seed.len);
    lcb_buf_release(&seed);
    lcb_hmac_sha256(k, 32, r->region, strlen(r->region), k);
    lcb_hmac_sha256(k, 32, r->service, strlen(r->service), k);
    lcb_hmac_sha256(k, 32, "aws4_request", 12, out);
    lcb_wipe(k, sizeof(k));
    if (cache) {
        memcpy(cache->key, out, 32);
        memcpy(cache->secret_hash, sh, 32);
        snprintf(cache->scope, sizeof(cache->scope), "%s", scope);
        cache->valid = 1;
    }
}

/* Canonical request -> string to sign -> signature, all into out. */
static void
finish(struct lcb_sigv4_out *out, const struct lcb_sigv4_req *r, const struct lcb_sigv4_key *key,
       const char *query, const char *headers, const char *payload, struct lcb_sigv4_cache *cache)
{
    char hex[LCB_SHA256_HEX];
    unsigned char k[32], sig[32];

    lcb_buf_addf(&out->canonical, "%s\n", r->method);
    lcb_sigv4_canonical_uri(&out->canonical, r->path, r->s3);
    lcb_buf_addf(&out->canonical, "\n%s\n%s\n%s\n%s", query, headers, lcb_buf_str(&out->signed_headers),
                 payload);
    lcb_sha256_hex(out->canonical.ptr, out->canonical.len, hex);
    lcb_buf_addf(&out->sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", out->amz_date,
                 out->amz_date, r->region, r->service, hex);
    signing_key(k, key, out->amz_date, r, cache);
    lcb_hmac_sha256(k, 32, out->sts.ptr, out->sts.len, sig);
    lcb_wipe(k, sizeof(k));
    lcb_hex(sig, 32, out->signature);
}

static void
reset_out(struct lcb_sigv4_out *out, time_t when)
{
    lcb_buf_reset(&out->canonical);
    lcb_buf_reset(&out->sts);
    lcb_buf_reset(&out->signed_headers);
    lcb_buf_reset(&out->authorization);
    lcb_buf_reset(&out->query);
    lcb_sigv4_amz_date(when, out->amz_date);
}

void
lcb_sigv4_sign(struct lcb_sigv4_out *out, const struct lcb_sigv4_req *r,
               const struct lcb_sigv4_key *key, struct lcb_sigv4_cache *cache)
{
    struct lcb_buf q = LCB_BUF_INIT, h = LCB_BUF_INIT;

    reset_out(out, r->when);
    canonical_query(&q, r->query, r->nquery, NULL, 0);
    canonical_headers(&h, &out->signed_headers, r, out->amz_date, key->token);
    finish(out, r, key, lcb_buf_str(&q), lcb_buf_str(&h),
           r->payload_hash ? r->payload_hash : LCB_SIGV4_EMPTY_SHA256, cache);
    lcb_buf_addf(&out->authorization,
                 "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, "
                 "Signature=%s",
                 key->access_key_id, out->amz_date, r->region, r->service,
                 lcb_buf_str(&out->signed_headers), out->signature);
    lcb_buf_release(&q);
    lcb_buf_release(&h);
}

static void
add_encoded_pair(struct lcb_buf *out, const char *name, const char *value)
{
    if (out->len)
        lcb_buf_addch(out, '&');
    lcb_http_uri_encode(out, name, strlen(name), 0);
    lcb_buf_addch(out, '=');
    if (value)
        lcb_http_uri_encode(out, value, strlen(value), 0);
}

void
lcb_sigv4_presign(struct lcb_sigv4_out *out, const struct lcb_sigv4_req *r,
                  const struct lcb_sigv4_key *key, int64_t expires, struct lcb_sigv4_cache *cache)
{
    struct lcb_buf q = LCB_BUF_INIT, h = LCB_BUF_INIT, cred = LCB_BUF_INIT;
    char exp[24];
    struct lcb_sigv4_pair auth[6];
    size_t na = 0, i;
    const char *payload;

    reset_out(out, r->when);
    canonical_headers(&h, &out->signed_headers, r, NULL, NULL);
    lcb_buf_addf(&cred, "%s/%.8s/%s/%s/aws4_request", key->access_key_id, out->amz_date, r->region,
                 r->service);
    snprintf(exp, sizeof(exp), "%" PRId64, expires);
    auth[na++] = (struct lcb_sigv4_pair){ "X-Amz-Algorithm", "AWS4-HMAC-SHA256" };
    auth[na++] = (struct lcb_sigv4_pair){ "X-Amz-Credential", cred.ptr };
    auth[na++] = (struct lcb_sigv4_pair){ "X-Amz-Date", out->amz_date };
    auth[na++] = (struct lcb_sigv4_pair){ "X-Amz-SignedHeaders", lcb_buf_str(&out->signed_headers) };
    auth[na++] = (struct lcb_sigv4_pair){ "X-Amz-Expires", exp };
    if (key->token && *key->token)
        auth[na++] = (struct lcb_sigv4_pair){ "X-Amz-Security-Token", key->token };
    canonical_query(&q, r->query, r->nquery, auth, na);
    payload = r->payload_hash ? r->payload_hash
                              : (r->s3 ? LCB_SIGV4_UNSIGNED : LCB_SIGV4_EMPTY_SHA256);
    finish(out, r, key, lcb_buf_str(&q), lcb_buf_str(&h), payload, cache);
    for (i = 0; i < r->nquery; i++)
        add_encoded_pair(&out->query, r->query[i].name, r->query[i].value ? r->query[i].value : "");
    for (i = 0; i < na; i++)
        add_encoded_pair(&out->query, auth[i].name, auth[i].value);
    lcb_buf_addf(&out->query, "&X-Amz-Signature=%s", out->signature);
    lcb_buf_release(&q);
    lcb_buf_release(&h);
    lcb_buf_release(&cred);
}
