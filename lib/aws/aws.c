/* aws.c - see aws.h. */
#include "aws.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../core/secret.h"
#include "../core/sig.h"
#include "../ext/crypto.h"
#include "creds.h"
#include "endpoint.h"
#include "retry.h"
#include "sigv4.h"

struct lcb_aws {
    char *region;
    const char *region_source;
    struct lcb_profile *prof;
    int explicit_profile;
    struct lcb_http *http;
    struct lcb_creds_chain *chain;
    int max_attempts;
    struct lcb_retry_quota quota;
    int64_t clock_offset;
    int64_t last_skew;
    int64_t base_ms; /* backoff base: LCBACKUP_RETRY_BASE_MS (tests), else 1 s */
    struct lcb_sigv4_cache cache;
};

/* Owned strings of one prepared attempt. */
struct strvec {
    char **v;
    size_t n;
};

/* One request on its way: the state shared by lcb_aws_send and the batch. */
struct call {
    struct lcb_aws *aws;
    const struct lcb_aws_req *req;
    struct lcb_aws_resp *resp;
    struct lcb_retry_attempt att[LCB_RETRY_MAX_ATTEMPTS_LOG];
    int n, max, last_cost, data_seen;
    struct strvec strs;
    struct lcb_http_header *hdrs;
    struct lcb_http_req hreq;
    struct lcb_http_resp hresp;
    struct lcb_buf url;
    /* batch bookkeeping */
    void *tag;
    int64_t due_ms;
    int running;
    struct call *next;
};

enum after { AFTER_OK, AFTER_FAIL, AFTER_RETRY };

/* ---- response ---- */

void
lcb_aws_resp_init(struct lcb_aws_resp *r)
{
    memset(r, 0, sizeof(*r));
    lcb_buf_init(&r->body, 0);
}

void
lcb_aws_resp_release(struct lcb_aws_resp *r)
{
    lcb_http_headers_release(&r->headers);
    lcb_buf_release(&r->body);
    memset(r, 0, sizeof(*r));
}

const char *
lcb_aws_resp_header(const struct lcb_aws_resp *r, const char *name)
{
    return lcb_http_header_get(&r->headers, name);
}

/* ---- client ---- */

static const char *
env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

static void
pick_region(struct lcb_aws *aws, const struct lcb_aws_config *cfg)
{
    const char *v;
    static char profile_src[96];

    if ((v = cfg->region)) {
        aws->region_source = "--region";
    } else if ((v = env("AWS_REGION"))) {
        aws->region_source = "AWS_REGION";
    } else if ((v = env("AWS_DEFAULT_REGION"))) {
        aws->region_source = "AWS_DEFAULT_REGION";
    } else if ((v = lcb_profile_get(aws->prof, "region")) && *v) {
        snprintf(profile_src, sizeof(profile_src), "profile %s", lcb_profile_name(aws->prof));
        aws->region_source = profile_src;
    } else if ((v = cfg->policy_region) && *v) {
        aws->region_source = "policy";
    } else {
        v = NULL;
    }
    aws->region = v ? lcb_xstrdup(v) : NULL;
}

static int
pick_max_attempts(struct lcb_aws *aws, const struct lcb_aws_config *cfg, struct lcb_err *err)
{
    const char *v = env("AWS_MAX_ATTEMPTS");

    aws->max_attempts = cfg->max_attempts;
    if (!aws->max_attempts && !v)
        v = lcb_profile_get(aws->prof, "max_attempts");
    if (!aws->max_attempts && v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > LCB_RETRY_MAX_ATTEMPTS_LOG)
            return lcb_err_set(err, LCB_ECONFIG, "max_attempts '%s' must be 1..%d", v,
                               LCB_RETRY_MAX_ATTEMPTS_LOG);
        aws->max_attempts = (int)n;
    }
    if (!aws->max_attempts)
        aws->max_attempts = LCB_RETRY_DEFAULT_ATTEMPTS;
    if (aws->max_attempts > LCB_RETRY_MAX_ATTEMPTS_LOG)
        aws->max_attempts = LCB_RETRY_MAX_ATTEMPTS_LOG;
    return 0;
}

int
lcb_aws_new(struct lcb_aws **out, const struct lcb_aws_config *cfg, struct lcb_err *err)
{
    struct lcb_aws *aws = lcb_xcalloc(1, sizeof(*aws));
    struct lcb_http_config hc;
    const char *ca;

    *out = NULL;
    aws->explicit_profile = cfg->profile != NULL;
    if (lcb_profile_load(&aws->prof, cfg->profile, aws->explicit_profile, err) < 0)
        goto fail;
    pick_region(aws, cfg);
    if (pick_max_attempts(aws, cfg, err) < 0)
        goto fail;
    ca = cfg->ca_bundle ? cfg->ca_bundle : env("AWS_CA_BUNDLE");
    if (!ca)
        ca = lcb_profile_get(aws->prof, "ca_bundle");
    memset(&hc, 0, sizeof(hc));
    hc.ca_bundle = ca;
    hc.allow_insecure = cfg->allow_insecure;
    if (lcb_http_new(&aws->http, &hc, err) < 0 ||
        lcb_creds_chain_new(&aws->chain, aws, aws->prof, aws->explicit_profile, err) < 0)
        goto fail;
    lcb_retry_quota_init(&aws->quota);
    if ((ca = env("LCBACKUP_RETRY_BASE_MS")))
        aws->base_ms = atoll(ca);
    *out = aws;
    return 0;
fail:
    lcb_aws_free(aws);
    return -1;
}

void
lcb_aws_free(struct lcb_aws *aws)
{
    if (!aws)
        return;
    lcb_creds_chain_free(aws->chain);
    lcb_http_free(aws->http);
    lcb_profile_free(aws->prof);
    lcb_sigv4_cache_release(&aws->cache);
    free(aws->region);
    free(aws);
}

const char *
lcb_aws_region(const struct lcb_aws *aws)
{
    return aws->region;
}

const char *
lcb_aws_region_source(const struct lcb_aws *aws)
{
    return aws->region_source;
}

const char *
lcb_aws_profile(const struct lcb_aws *aws)
{
    return lcb_profile_name(aws->prof);
}

int
lcb_aws_max_attempts(const struct lcb_aws *aws)
{
    return aws->max_attempts;
}

struct lcb_http *
lcb_aws_http(struct lcb_aws *aws)
{
    return aws->http;
}

int
lcb_aws_credentials(struct lcb_aws *aws, const struct lcb_creds **out, struct lcb_err *err)
{
    return lcb_creds_chain_get(aws->chain, out, err);
}

int64_t
lcb_aws_clock_offset(const struct lcb_aws *aws)
{
    return aws->clock_offset;
}

int64_t
lcb_aws_last_skew(const struct lcb_aws *aws)
{
    return aws->last_skew;
}

time_t
lcb_aws_now(const struct lcb_aws *aws)
{
    return lcb_now() + (time_t)aws->clock_offset;
}

int
lcb_aws_endpoint(struct lcb_aws *aws, const char *service, const char *region,
                 struct lcb_buf *url, const char **source, struct lcb_err *err)
{
    struct lcb_endpoint ep;

    if (lcb_endpoint_resolve(&ep, service, region ? region : aws->region, aws->prof, NULL, err) <
        0)
        return -1;
    lcb_endpoint_base_url(url, &ep);
    if (source)
        *source = ep.source;
    return 0;
}

/* ---- error classification ---- */

static int
code_has(const char *code, const char *part)
{
    return code && strstr(code, part) != NULL;
}

enum lcb_code
lcb_aws_classify(int status, const char *code)
{
    static const char *const auth[] = {
        "AccessDenied", "UnauthorizedOperation", "InvalidClientTokenId", "SignatureDoesNotMatch",
        "ExpiredToken", "AuthFailure", "InvalidAccessKeyId", "UnrecognizedClientException",
        "InvalidSignatureException", "MissingAuthenticationToken", "IncompleteSignature",
        "RequestExpired", "RequestTimeTooSkewed", "InvalidToken", "InvalidIdentityToken",
        "AuthorizationHeaderMalformed", "NotAuthorized", "KMSAccessDenied",
    };
    size_t i;

    if (lcb_retry_is_throttle(code) || lcb_retry_is_transient_code(code))
        return LCB_ETEMP;
    for (i = 0; code && i < LCB_ARRAY_SIZE(auth); i++)
        if (strncmp(code, auth[i], strlen(auth[i])) == 0)
            return LCB_EAUTH;
    if (code_has(code, "NotFound") || code_has(code, "NoSuch") ||
        (code && strcmp(code, "ResourceNotFoundException") == 0))
        return LCB_ENOTFOUND;
    if (status == 401 || status == 403)
        return LCB_EAUTH;
    if (status == 404)
        return LCB_ENOTFOUND;
    if (status == 429 || status >= 500)
        return LCB_ETEMP;
    if (status == 0)
        return LCB_ETEMP;
    return LCB_EREFUSED;
}

/* The string value of "key" in a flat JSON error document, or NULL (into out). */
static const char *
json_field(const char *b, const char *key, char *out, size_t size)
{
    char pat[32];
    const char *k, *q, *e;

    snprintf(pat, sizeof(pat), "\"%s\"", key);
    if (!(k = strstr(b, pat)))
        return NULL;
    k += strlen(pat);
    while (*k == ' ' || *k == ':')
        k++;
    if (*k != '"' || !(e = strchr(q = k + 1, '"')))
        return NULL;
    snprintf(out, size, "%.*s", (int)(e - q), q);
    return out;
}

/* botocore's __type rule: drop anything after ':' and up to the last '#'. */
static void
trim_type(char *code)
{
    char *hash = strrchr(code, '#');

    code[strcspn(code, ":")] = '\0';
    if (hash)
        memmove(code, hash + 1, strlen(hash + 1) + 1);
}

/* The generic error parser: <Code>/<Message>/<RequestId> XML (Query, EC2, S3), __type/message
 * JSON (JSON 1.1), else the x-amzn-ErrorType header. */
static int
generic_parse_error(const struct lcb_aws_resp *resp, struct lcb_aws_error *out)
{
    const char *b = resp->body.ptr, *t;
    size_t n = resp->body.len;
    struct lcb_buf v = LCB_BUF_INIT;

    if (b && n && lcb_creds_xml_text(&v, b, n, "Code") == 0) {
        snprintf(out->code, sizeof(out->code), "%s", v.ptr);
        lcb_buf_reset(&v);
        if (lcb_creds_xml_text(&v, b, n, "Message") == 0)
            snprintf(out->message, sizeof(out->message), "%s", v.ptr);
        lcb_buf_reset(&v);
        if (lcb_creds_xml_text(&v, b, n, "RequestId") == 0 ||
            lcb_creds_xml_text(&v, b, n, "RequestID") == 0)
            snprintf(out->request_id, sizeof(out->request_id), "%s", v.ptr);
        lcb_buf_release(&v);
        return 1;
    }
    lcb_buf_release(&v);
    if (b && n && json_field(b, "__type", out->code, sizeof(out->code))) {
        trim_type(out->code);
        if (!json_field(b, "message", out->message, sizeof(out->message)))
            json_field(b, "Message", out->message, sizeof(out->message));
        return out->code[0] != 0;
    }
    if ((t = lcb_aws_resp_header(resp, "x-amzn-ErrorType"))) {
        snprintf(out->code, sizeof(out->code), "%s", t);
        trim_type(out->code);
        return 1;
    }
    return 0;
}

/* ---- preparing an attempt ---- */

static char *
keep(struct strvec *s, char *str)
{
    s->v = lcb_xrealloc(s->v, (s->n + 1) * sizeof(char *));
    s->v[s->n++] = str;
    return str;
}

static void
strvec_release(struct strvec *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        lcb_wipe(s->v[i], strlen(s->v[i]));
        free(s->v[i]);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static int
is_s3(const struct lcb_aws_req *req)
{
    return strcmp(req->service, "s3") == 0;
}

/* Host header value and wire path of req at ep. */
static void
locate(const struct lcb_endpoint *ep, const struct lcb_aws_req *req, struct lcb_buf *host,
       struct lcb_buf *wire_path)
{
    struct lcb_buf raw = LCB_BUF_INIT;

    if (is_s3(req) && (req->bucket || !req->path)) {
        lcb_endpoint_s3(ep, req->bucket, req->key, host, &raw);
    } else {
        lcb_endpoint_host_header(host, ep);
        lcb_buf_addf(&raw, "%s%s", ep->base_path, req->path && *req->path ? req->path : "/");
    }
    lcb_http_uri_encode(wire_path, raw.ptr, raw.len, 1);
    lcb_buf_release(&raw);
}

static void
encode_query(struct lcb_buf *out, const struct lcb_aws_kv *q, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (i)
            lcb_buf_addch(out, '&');
        lcb_http_uri_encode(out, q[i].name, strlen(q[i].name), 0);
        if (q[i].value) {
            lcb_buf_addch(out, '=');
            lcb_http_uri_encode(out, q[i].value, strlen(q[i].value), 0);
        }
    }
}

/* The SHA-256 of a streamed body: read it through once, then rewind. */
static int
hash_stream(const struct lcb_aws_req *req, char hex[LCB_SHA256_HEX], struct lcb_err *err)
{
    struct lcb_sha256 *h = lcb_sha256_new();
    unsigned char d[LCB_SHA256_LEN];
    char chunk[65536];
    size_t n, total = 0;

    while ((n = req->read(req->read_ud, chunk, sizeof(chunk))) > 0 && n != LCB_HTTP_ABORT) {
        lcb_sha256_update(h, chunk, n);
        total += n;
    }
    lcb_sha256_final(h, d);
    lcb_sha256_free(h);
    if (n == LCB_HTTP_ABORT || total != req->body_len || !req->rewind ||
        req->rewind(req->read_ud) < 0)
        return lcb_err_set(err, LCB_EIO, "%s %s: cannot hash the request body", req->service,
                           req->operation ? req->operation : "");
    lcb_hex(d, sizeof(d), hex);
    return 0;
}

/* The payload hash to sign (hex, or UNSIGNED-PAYLOAD). */
static int
payload_hash(const struct lcb_aws_req *req, int https, char hex[LCB_SHA256_HEX],
             struct lcb_err *err)
{
    if (req->payload_hash) {
        snprintf(hex, LCB_SHA256_HEX, "%s", req->payload_hash);
        return 0;
    }
    if (is_s3(req) && https && (req->unsigned_payload || req->read)) {
        snprintf(hex, LCB_SHA256_HEX, "%s", LCB_SIGV4_UNSIGNED);
        return 0;
    }
    if (req->read)
        return hash_stream(req, hex, err);
    lcb_sha256_hex(req->body ? req->body : "", req->body ? req->body_len : 0, hex);
    return 0;
}

static void
add_hdr(struct call *c, size_t *n, const char *name, const char *value)
{
    c->hdrs[*n].name = keep(&c->strs, lcb_xstrdup(name));
    c->hdrs[*n].value = keep(&c->strs, lcb_xstrdup(value ? value : ""));
    (*n)++;
}

static void
sign_headers(struct call *c, const struct lcb_creds *cr, const char *host, const char *wire_path,
             const char *region, const char *hash, size_t *nh)
{
    const struct lcb_aws_req *req = c->req;
    struct lcb_sigv4_pair *pairs = lcb_xcalloc(*nh + 1, sizeof(*pairs));
    struct lcb_sigv4_pair *q = lcb_xcalloc(req->nquery + 1, sizeof(*q));
    struct lcb_sigv4_req sr;
    struct lcb_sigv4_key key;
    struct lcb_sigv4_out out;
    size_t i;

    for (i = 0; i < *nh; i++)
        pairs[i] = (struct lcb_sigv4_pair){ c->hdrs[i].name, c->hdrs[i].value };
    for (i = 0; i < req->nquery; i++)
        q[i] = (struct lcb_sigv4_pair){ req->query[i].name, req->query[i].value };
    memset(&sr, 0, sizeof(sr));
    sr.method = c->hreq.method;
    sr.host = host;
    sr.path = wire_path;
    sr.query = q;
    sr.nquery = req->nquery;
    sr.headers = pairs;
    sr.nheaders = *nh;
    sr.payload_hash = hash;
    sr.region = region;
    sr.service = req->service;
    sr.when = lcb_aws_now(c->aws);
    sr.s3 = is_s3(req);
    key.access_key_id = cr->access_key_id;
    key.secret = lcb_secret_get(&cr->secret);
    key.token = lcb_secret_empty(&cr->token) ? NULL : lcb_secret_get(&cr->token);
    lcb_sigv4_out_init(&out);
    lcb_sigv4_sign(&out, &sr, &key, &c->aws->cache);
    add_hdr(c, nh, "X-Amz-Date", out.amz_date);
    if (key.token)
        add_hdr(c, nh, "X-Amz-Security-Token", key.token);
    add_hdr(c, nh, "Authorization", lcb_buf_str(&out.authorization));
    lcb_sigv4_out_release(&out);
    free(pairs);
    free(q);
}

static void
call_reset(struct call *c)
{
    strvec_release(&c->strs);
    free(c->hdrs);
    c->hdrs = NULL;
    lcb_buf_reset(&c->url);
}

/* Resolve, encode and sign one attempt into c->hreq. */
static int
call_prepare(struct call *c, struct lcb_err *err)
{
    const struct lcb_aws_req *req = c->req;
    const char *region = req->region ? req->region : c->aws->region;
    const struct lcb_creds *cr = req->creds;
    struct lcb_endpoint ep;
    struct lcb_buf host = LCB_BUF_INIT, path = LCB_BUF_INIT;
    char hash[LCB_SHA256_HEX];
    size_t nh = 0, i;
    int rc = -1;

    call_reset(c);
    if (!region)
        return lcb_err_set(err, LCB_ECONFIG, "no AWS region: give --region, set AWS_REGION, or "
                           "set region in the profile or the policy");
    if (lcb_endpoint_resolve(&ep, req->service, region, c->aws->prof, NULL, err) < 0)
        return -1;
    if (!req->anonymous && !cr && lcb_aws_credentials(c->aws, &cr, err) < 0)
        return -1;
    locate(&ep, req, &host, &path);
    lcb_buf_addf(&c->url, "%s://%s%s", ep.scheme, host.ptr, path.ptr);
    if (req->nquery) {
        lcb_buf_addch(&c->url, '?');
        encode_query(&c->url, req->query, req->nquery);
    }
    if (payload_hash(req, strcmp(ep.scheme, "https") == 0, hash, err) < 0)
        goto out;
    c->hdrs = lcb_xcalloc(req->nheaders + 5, sizeof(*c->hdrs));
    for (i = 0; i < req->nheaders; i++)
        add_hdr(c, &nh, req->headers[i].name, req->headers[i].value);
    if (is_s3(req))
        add_hdr(c, &nh, "x-amz-content-sha256", hash);
    memset(&c->hreq, 0, sizeof(c->hreq));
    c->hreq.method = req->method ? req->method : "POST";
    if (!req->anonymous)
        sign_headers(c, cr, host.ptr, path.ptr, region, hash, &nh);
    c->hreq.url = c->url.ptr;
    c->hreq.headers = c->hdrs;
    c->hreq.nheaders = nh;
    c->hreq.body = req->body;
    c->hreq.body_len = req->body_len;
    c->hreq.read = req->read;
    c->hreq.rewind = req->rewind;
    c->hreq.read_ud = req->read_ud;
    c->hreq.write = req->write;
    c->hreq.write_ud = req->write_ud;
    c->hreq.max_body = req->max_body;
    rc = 0;
out:
    lcb_buf_release(&host);
    lcb_buf_release(&path);
    return rc;
}

/* ---- after an attempt ---- */

/* Move the attempt's response into the caller's. */
static void
take_response(struct call *c)
{
    struct lcb_aws_resp *r = c->resp;
    struct lcb_buf tmp = r->body;

    lcb_http_headers_release(&r->headers);
    r->headers = c->hresp.headers;
    memset(&c->hresp.headers, 0, sizeof(c->hresp.headers));
    r->body = c->hresp.body;
    c->hresp.body = tmp;
    r->status = c->hresp.status;
    r->attempts = c->n;
}

/* Learn the clock offset from the Date header. Returns 1 when the offset changed. */
static int
learn_skew(struct call *c, int skew_error)
{
    const char *d = lcb_aws_resp_header(c->resp, "Date");
    int64_t server, skew;

    if (!d || lcb_retry_parse_http_date(d, &server) < 0)
        return 0;
    skew = server - (int64_t)lcb_now();
    c->aws->last_skew = skew;
    if (!skew_error || (skew < LCB_RETRY_SKEW_SECS && skew > -LCB_RETRY_SKEW_SECS))
        return 0;
    if (skew == c->aws->clock_offset)
        return 0;
    lcb_log(LCB_WARN, "aws.clock_skew", "the local clock is %" PRId64 " s %s %s's; correcting "
            "request times (fix NTP on this host)", skew < 0 ? -skew : skew,
            skew < 0 ? "ahead of" : "behind", c->req->service);
    c->aws->clock_offset = skew;
    return 1;
}

static void
set_final_error(struct call *c, const struct lcb_err *herr, const char *why, struct lcb_err *err)
{
    const struct lcb_retry_attempt *a = &c->att[c->n - 1];
    const struct lcb_aws_error *e = &c->resp->error;
    struct lcb_buf sum = LCB_BUF_INIT;

    if (a->transport) {
        *err = *herr;
    } else {
        lcb_err_set(err, lcb_aws_classify(a->status, e->code), "HTTP %d%s%s%s%s", a->status,
                    e->code[0] ? " " : "", e->code, e->message[0] ? ": " : "", e->message);
        err->http = a->status;
        snprintf(err->aws_code, sizeof(err->aws_code), "%s", e->code);
    }
    if (c->n > 1 || why) {
        lcb_retry_summary(&sum, c->att, (size_t)c->n);
        lcb_wrap(err, "%s%s%s", sum.ptr, why ? "; " : "", why ? why : "");
    }
    lcb_wrap(err, "%s %s", c->req->service, c->req->operation ? c->req->operation : "request");
    lcb_buf_release(&sum);
}

/* Record attempt c->n from the HTTP outcome. Returns the retry kind. */
static enum lcb_retry_kind
record(struct call *c, int http_rc, const struct lcb_err *herr)
{
    struct lcb_retry_attempt *a = &c->att[c->n - 1];
    const struct lcb_aws_req *req = c->req;
    lcb_aws_error_fn parse = req->parse_error ? req->parse_error : generic_parse_error;
    int ok2xx;

    memset(a, 0, sizeof(*a));
    take_response(c);
    memset(&c->resp->error, 0, sizeof(c->resp->error));
    if (http_rc < 0) {
        a->transport = herr->code;
        a->timeout = lcb_http_timed_out(herr);
        return herr->code == LCB_ETEMP ? lcb_retry_classify(a) : LCB_RETRY_NONE;
    }
    a->status = c->resp->status;
    ok2xx = a->status >= 200 && a->status < 300;
    if ((!ok2xx || req->check_2xx) && parse(c->resp, &c->resp->error))
        snprintf(a->code, sizeof(a->code), "%s", c->resp->error.code);
    if (ok2xx && a->code[0])
        a->status = 500; /* a 200 carrying an error document: botocore treats it as a 500 */
    learn_skew(c, 0);
    if (!ok2xx || a->code[0])
        return lcb_retry_classify(a);
    return LCB_RETRY_NONE;
}

/* Decide what follows attempt c->n. On AFTER_RETRY *delay_ms is the wait. */
static enum after
call_after(struct call *c, int http_rc, const struct lcb_err *herr, int64_t *delay_ms,
           struct lcb_err *err)
{
    const struct lcb_aws_req *req = c->req;
    const struct lcb_retry_attempt *a = &c->att[c->n - 1];
    enum lcb_retry_kind kind = record(c, http_rc, herr);
    const char *why = NULL;
    int cost = 0;

    if (http_rc == 0 && a->status >= 200 && a->status < 300) {
        lcb_retry_quota_success(&c->aws->quota, c->last_cost);
        return AFTER_OK;
    }
    *delay_ms = 0;
    if (kind == LCB_RETRY_NONE && a->status == 403 && !a->code[0])
        kind = LCB_RETRY_SKEW; /* a HEAD's 403 has no body to say RequestTimeTooSkewed: Date decides */
    if (kind == LCB_RETRY_SKEW && !learn_skew(c, 1))
        kind = LCB_RETRY_NONE;
    if (kind == LCB_RETRY_NONE)
        goto fail;
    if (req->no_blind_retry && kind != LCB_RETRY_THROTTLE && kind != LCB_RETRY_SKEW &&
        !(a->transport && lcb_http_never_sent(herr))) {
        why = "not retried: the request may have taken effect";
        goto fail;
    }
    if (req->write && c->hresp.bytes_down && a->status < 300) {
        if (!req->write_reset || req->write_reset(req->write_ud) < 0) {
            why = "not retried: part of the body was already delivered";
            goto fail;
        }
    }
    if (req->read && (!req->rewind || req->rewind(req->read_ud) < 0)) {
        why = "not retried: the request body cannot be rewound";
        goto fail;
    }
    if (c->n >= c->max)
        goto fail;
    if (kind != LCB_RETRY_SKEW) {
        if (!lcb_retry_quota_take(&c->aws->quota, kind, &cost)) {
            why = "retry quota exhausted";
            goto fail;
        }
        c->last_cost = cost;
        *delay_ms = lcb_retry_delay_ms(c->n, lcb_retry_rand(), c->aws->base_ms);
    }
    return AFTER_RETRY;
fail:
    set_final_error(c, herr, why, err);
    return AFTER_FAIL;
}

static void
call_init(struct call *c, struct lcb_aws *aws, const struct lcb_aws_req *req,
          struct lcb_aws_resp *resp)
{
    memset(c, 0, sizeof(*c));
    c->aws = aws;
    c->req = req;
    c->resp = resp;
    c->max = req->max_attempts ? req->max_attempts : aws->max_attempts;
    if (c->max > LCB_RETRY_MAX_ATTEMPTS_LOG)
        c->max = LCB_RETRY_MAX_ATTEMPTS_LOG;
    lcb_buf_init(&c->url, 0);
    lcb_http_resp_init(&c->hresp);
}

static void
call_release(struct call *c)
{
    call_reset(c);
    lcb_buf_release(&c->url);
    lcb_http_resp_release(&c->hresp);
}

/* Sleep ms, waking for signals. Returns -1 when interrupted. */
static int
nap(int64_t ms, struct lcb_err *err)
{
    int64_t end = lcb_mono_ms() + ms;
    struct timespec ts;

    while (lcb_mono_ms() < end) {
        if (lcb_sig_pending())
            return lcb_err_set(err, LCB_EINTR, "interrupted");
        ts.tv_sec = 0;
        ts.tv_nsec = 50 * 1000000L;
        nanosleep(&ts, NULL);
    }
    return 0;
}

static void
log_retry(const struct call *c, int64_t delay)
{
    struct lcb_buf t = LCB_BUF_INIT;

    lcb_retry_attempt_text(&t, &c->att[c->n - 1]);
    lcb_log(LCB_DEBUG, "aws.retry", "%s %s: %s; retrying in %" PRId64 " ms (attempt %d of %d)",
            c->req->service, c->req->operation ? c->req->operation : "", t.ptr, delay, c->n + 1,
            c->max);
    lcb_buf_release(&t);
}

int
lcb_aws_send(struct lcb_aws *aws, const struct lcb_aws_req *req, struct lcb_aws_resp *resp,
             struct lcb_err *err)
{
    struct call c;
    struct lcb_err herr;
    int64_t delay = 0;
    enum after next;
    int rc;

    call_init(&c, aws, req, resp);
    for (;;) {
        if (call_prepare(&c, err) < 0) {
            lcb_wrap(err, "%s %s", req->service, req->operation ? req->operation : "request");
            rc = -1;
            break;
        }
        c.n++;
        lcb_err_clear(&herr);
        rc = lcb_http_send(aws->http, &c.hreq, &c.hresp, &herr);
        if (rc < 0 && herr.code == LCB_EINTR) {
            *err = herr;
            break;
        }
        next = call_after(&c, rc, &herr, &delay, err);
        if (next != AFTER_RETRY) {
            rc = next == AFTER_OK ? 0 : -1;
            break;
        }
        log_retry(&c, delay);
        if (nap(delay, err) < 0) {
            rc = -1;
            break;
        }
    }
    call_release(&c);
    return rc;
}

/* ---- presigning ---- */

int
lcb_aws_presign(struct lcb_aws *aws, const struct lcb_aws_req *req, int64_t expires,
                struct lcb_buf *url, struct lcb_err *err)
{
    const char *region = req->region ? req->region : aws->region;
    const struct lcb_creds *cr = req->creds;
    struct lcb_endpoint ep;
    struct lcb_buf host = LCB_BUF_INIT, path = LCB_BUF_INIT;
    struct lcb_sigv4_pair *q, *h;
    struct lcb_sigv4_req sr;
    struct lcb_sigv4_key key;
    struct lcb_sigv4_out out;
    size_t i;
    int rc;

    if (expires < 1 || expires > LCB_SIGV4_MAX_EXPIRES)
        return lcb_err_set(err, LCB_EUSAGE, "expiry %" PRId64 "s must be from 1 to %d seconds "
                           "(7 days)", expires, LCB_SIGV4_MAX_EXPIRES);
    if (!region)
        return lcb_err_set(err, LCB_ECONFIG, "no AWS region: give --region or set AWS_REGION");
    if (lcb_endpoint_resolve(&ep, req->service, region, aws->prof, NULL, err) < 0 ||
        (!cr && lcb_aws_credentials(aws, &cr, err) < 0))
        return -1;
    /* botocore presigns virtual-hosted S3 URLs on the global name (BUCKET.s3.amazonaws.com),
     * which follows the bucket wherever it lives; the signature keeps the region's scope */
    if (is_s3(req) && !ep.overridden && req->bucket && lcb_endpoint_bucket_dns_ok(req->bucket) &&
        strncmp(region, "cn-", 3) != 0)
        snprintf(ep.host, sizeof(ep.host), "s3.amazonaws.com");
    locate(&ep, req, &host, &path);
    q = lcb_xcalloc(req->nquery + 1, sizeof(*q));
    h = lcb_xcalloc(req->nheaders + 1, sizeof(*h));
    for (i = 0; i < req->nquery; i++)
        q[i] = (struct lcb_sigv4_pair){ req->query[i].name, req->query[i].value };
    for (i = 0; i < req->nheaders; i++)
        h[i] = (struct lcb_sigv4_pair){ req->headers[i].name, req->headers[i].value };
    memset(&sr, 0, sizeof(sr));
    sr.method = req->method ? req->method : "GET";
    sr.host = host.ptr;
    sr.path = path.ptr;
    sr.query = q;
    sr.nquery = req->nquery;
    sr.headers = h;
    sr.nheaders = req->nheaders;
    sr.region = region;
    sr.service = req->service;
    sr.when = lcb_aws_now(aws);
    sr.s3 = is_s3(req);
    key.access_key_id = cr->access_key_id;
    key.secret = lcb_secret_get(&cr->secret);
    key.token = lcb_secret_empty(&cr->token) ? NULL : lcb_secret_get(&cr->token);
    lcb_sigv4_out_init(&out);
    lcb_sigv4_presign(&out, &sr, &key, expires, &aws->cache);
    lcb_buf_addf(url, "%s://%s%s?%s", ep.scheme, host.ptr, path.ptr, lcb_buf_str(&out.query));
    lcb_sigv4_out_release(&out);
    rc = lcb_http_check_url(aws->http, url->ptr, 0, err); /* the http:// rule holds here too */
    if (rc < 0)
        lcb_buf_reset(url);
    free(q);
    free(h);
    lcb_buf_release(&host);
    lcb_buf_release(&path);
    return rc;
}

/* ---- batches ---- */

struct lcb_aws_batch {
    struct lcb_aws *aws;
    struct lcb_http_multi *multi;
    int max_in_flight, in_flight;
    struct call *calls; /* queued, waiting or running */
};

int
lcb_aws_batch_new(struct lcb_aws_batch **out, struct lcb_aws *aws, int max_in_flight,
                  struct lcb_err *err)
{
    struct lcb_aws_batch *b = lcb_xcalloc(1, sizeof(*b));

    b->aws = aws;
    b->max_in_flight = max_in_flight > 0 ? max_in_flight : 4;
    if (lcb_http_multi_new(&b->multi, aws->http, err) < 0) {
        free(b);
        return -1;
    }
    *out = b;
    return 0;
}

static void
free_calls(struct call *c)
{
    struct call *next;

    for (; c; c = next) {
        next = c->next;
        call_release(c);
        free(c);
    }
}

void
lcb_aws_batch_free(struct lcb_aws_batch *b)
{
    if (!b)
        return;
    lcb_http_multi_free(b->multi);
    free_calls(b->calls);
    free(b);
}

int
lcb_aws_batch_add(struct lcb_aws_batch *b, const struct lcb_aws_req *req,
                  struct lcb_aws_resp *resp, void *tag, struct lcb_err *err)
{
    struct call *c = lcb_xmalloc(sizeof(*c)), **pp;

    (void)err;
    call_init(c, b->aws, req, resp);
    c->tag = tag;
    for (pp = &b->calls; *pp; pp = &(*pp)->next)
        ;
    *pp = c; /* first in, first started */
    return 0;
}

static void
unlink_call(struct lcb_aws_batch *b, struct call *c)
{
    struct call **pp;

    for (pp = &b->calls; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            c->next = NULL;
            return;
        }
}

/* Start the calls that are due while there is room. A call that fails before sending finishes
 * at once with its error (stored via c->n == 0). Returns the ms until the next due call (-1:
 * none waiting). */
static int64_t
start_due(struct lcb_aws_batch *b, struct lcb_err *first_err, struct call **failed)
{
    struct call *c;
    int64_t now = lcb_mono_ms(), wait = -1;

    for (c = b->calls; c; c = c->next) {
        if (c->running)
            continue;
        if (c->due_ms > now) {
            if (wait < 0 || c->due_ms - now < wait)
                wait = c->due_ms - now;
            continue;
        }
        if (b->in_flight >= b->max_in_flight)
            continue;
        if (call_prepare(c, first_err) < 0 ||
            lcb_http_multi_add(b->multi, &c->hreq, &c->hresp, c, first_err) < 0) {
            lcb_wrap(first_err, "%s %s", c->req->service,
                     c->req->operation ? c->req->operation : "request");
            *failed = c;
            return 0;
        }
        c->n++;
        c->running = 1;
        b->in_flight++;
    }
    return wait;
}

/* lcb_aws_batch_next (block) and lcb_aws_batch_poll (!block): one loop, which only waits when
 * block is set. */
static int
batch_take(struct lcb_aws_batch *b, int block, void **tag, int *rc, struct lcb_err *req_err,
           struct lcb_err *err)
{
    for (;;) {
        struct call *c = NULL, *failed = NULL;
        struct lcb_err herr;
        int64_t wait, delay = 0;
        void *t;
        int got;

        if (!b->calls)
            return 0;
        wait = start_due(b, req_err, &failed);
        if (failed) {
            unlink_call(b, failed);
            *tag = failed->tag;
            *rc = -1;
            call_release(failed);
            free(failed);
            return 1;
        }
        if (b->in_flight == 0) {
            if (!block)
                return 0;
            if (nap(wait > 0 ? wait : 1, err) < 0)
                return -1;
            continue;
        }
        if (block) {
            got = lcb_http_multi_next(b->multi, wait >= 0 && wait < 200 ? (long)wait : 200, &t,
                                      &herr);
        } else { /* curl sends one 64 KiB upload buffer a round: up to 1 MiB a poll */
            int round = 0;
            do
                got = lcb_http_multi_next(b->multi, 0, &t, &herr);
            while (got == 0 && ++round < 16);
        }
        if (got < 0 || lcb_sig_pending())
            return lcb_err_set(err, LCB_EINTR, "interrupted");
        if (got == 0 && !block)
            return 0;
        if (got == 0)
            continue;
        c = t;
        c->running = 0;
        b->in_flight--;
        switch (call_after(c, herr.code == LCB_OK ? 0 : -1, &herr, &delay, req_err)) {
        case AFTER_RETRY:
            log_retry(c, delay);
            c->due_ms = lcb_mono_ms() + delay;
            continue;
        case AFTER_OK:
            lcb_err_clear(req_err);
            *rc = 0;
            break;
        default:
            *rc = -1;
        }
        unlink_call(b, c);
        *tag = c->tag;
        call_release(c);
        free(c);
        return 1;
    }
}

int
lcb_aws_batch_next(struct lcb_aws_batch *b, void **tag, int *rc, struct lcb_err *req_err,
                   struct lcb_err *err)
{
    return batch_take(b, 1, tag, rc, req_err, err);
}

int
lcb_aws_batch_poll(struct lcb_aws_batch *b, void **tag, int *rc, struct lcb_err *req_err,
                   struct lcb_err *err)
{
    return batch_take(b, 0, tag, rc, req_err, err);
}
