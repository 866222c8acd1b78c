/* http.c - see http.h. The only file that includes a libcurl header. */
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../core/secret.h"
#include "../core/sig.h"

struct lcb_http {
    CURLSH *share;
    CURL *easy; /* reused by lcb_http_send, so its connection stays open */
    char *ca_bundle;
    char *user_agent;
    int allow_insecure;
    long connect_timeout_ms, timeout_ms, low_speed_bytes, low_speed_secs;
};

/* One transfer, for lcb_http_send and for each request of a multi. */
struct xfer {
    struct lcb_http *h;
    const struct lcb_http_req *req;
    struct lcb_http_resp *resp;
    CURL *e;
    struct curl_slist *hdrs;
    size_t body_off;
    int too_big, cb_abort, intr, status_seen;
    char errbuf[CURL_ERROR_SIZE];
    void *tag;
    int64_t t0;
    struct xfer *next;
};

struct lcb_http_multi {
    struct lcb_http *h;
    CURLM *m;
    struct xfer *running;
    size_t n;
};

static int curl_ready;

/* ---- URL helpers (no libcurl needed) ---- */

void
lcb_http_uri_encode(struct lcb_buf *out, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    char esc[3];

    lcb_buf_grow(out, len);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
            lcb_buf_addch(out, (char)c);
            continue;
        }
        esc[0] = '%';
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 15];
        lcb_buf_add(out, esc, 3);
    }
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
lcb_http_uri_decode(struct lcb_buf *out, const char *s, size_t len, int plus_space)
{
    size_t i;
    int hi, lo;

    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
                return -1;
            lcb_buf_addch(out, (char)(hi * 16 + lo));
            i += 2;
        } else if (plus_space && s[i] == '+') {
            lcb_buf_addch(out, ' ');
        } else {
            lcb_buf_addch(out, s[i]);
        }
    }
    return 0;
}

int
lcb_http_is_loopback(const char *host)
{
    if (!host)
        return 0;
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
        strcmp(host, "[::1]") == 0)
        return 1;
    if (strncmp(host, "127.", 4) == 0) {
        const char *p = host + 4;
        int dots = 0;
        for (; *p; p++) {
            if (*p == '.')
                dots++;
            else if (!isdigit((unsigned char)*p))
                return 0;
        }
        return dots == 2;
    }
    return 0;
}

static void
global_init(void)
{
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = 1;
    }
}

int
lcb_http_check_url(const struct lcb_http *h, const char *url, int allow_plain_http,
                   struct lcb_err *err)
{
    CURLU *u;
    char *scheme = NULL, *host = NULL;
    int rc = 0;

    global_init();
    u = curl_url();
    if (!u)
        abort();
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = lcb_err_set(err, LCB_ECONFIG, "'%s' is not a valid URL", url);
    } else if (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0) {
        rc = lcb_err_set(err, LCB_ECONFIG, "'%s': only http and https URLs are supported", url);
    } else if (strcasecmp(scheme, "http") == 0 && !lcb_http_is_loopback(host) &&
               !allow_plain_http && !(h && h->allow_insecure)) {
        rc = lcb_err_set(err, LCB_ECONFIG,
                         "refusing plain http to '%s' (not a loopback address); use https, or "
                         "--allow-insecure-endpoint if you really mean it",
                         host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* ---- client ---- */

int
lcb_http_new(struct lcb_http **out, const struct lcb_http_config *cfg, struct lcb_err *err)
{
    struct lcb_http *h;
    FILE *f;

    *out = NULL;
    global_init();
    if (cfg && cfg->ca_bundle) {
        if (!(f = fopen(cfg->ca_bundle, "r")))
            return lcb_err_sys(err, LCB_ECONFIG, errno, "CA bundle '%s'", cfg->ca_bundle);
        fclose(f);
    }
    h = lcb_xcalloc(1, sizeof(*h));
    h->ca_bundle = cfg && cfg->ca_bundle ? lcb_xstrdup(cfg->ca_bundle) : NULL;
    h->user_agent = lcb_xstrdup(cfg && cfg->user_agent ? cfg->user_agent : "lcbackup/" LCB_VERSION);
    h->allow_insecure = cfg ? cfg->allow_insecure : 0;
    h->connect_timeout_ms = cfg && cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 10000;
    h->timeout_ms = cfg ? cfg->timeout_ms : 0;
    h->low_speed_bytes = cfg && cfg->low_speed_bytes ? cfg->low_speed_bytes : 1;
    h->low_speed_secs = cfg && cfg->low_speed_secs ? cfg->low_speed_secs : 60;
    h->share = curl_share_init();
    if (!h->share)
        abort();
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    *out = h;
    return 0;
}

void
lcb_http_free(struct lcb_http *h)
{
    if (!h)
        return;
    if (h->easy)
        curl_easy_cleanup(h->easy);
    curl_share_cleanup(h->share);
    free(h->ca_bundle);
    free(h->user_agent);
    free(h);
}

void
lcb_http_headers_release(struct lcb_http_headers *hh)
{
    size_t i;

    for (i = 0; i < hh->n; i++) {
        free(hh->names[i]);
        free(hh->values[i]);
    }
    free(hh->names);
    free(hh->values);
    memset(hh, 0, sizeof(*hh));
}

const char *
lcb_http_header_get(const struct lcb_http_headers *hh, const char *name)
{
    size_t i;

    for (i = 0; i < hh->n; i++)
        if (strcasecmp(hh->names[i], name) == 0)
            return hh->values[i];
    return NULL;
}

void
lcb_http_resp_init(struct lcb_http_resp *r)
{
    memset(r, 0, sizeof(*r));
    lcb_buf_init(&r->body, 0);
}

void
lcb_http_resp_release(struct lcb_http_resp *r)
{
    lcb_http_headers_release(&r->headers);
    lcb_buf_release(&r->body);
    memset(r, 0, sizeof(*r));
}

void
lcb_http_resp_reset(struct lcb_http_resp *r)
{
    lcb_http_headers_release(&r->headers);
    lcb_buf_reset(&r->body);
    r->body.max = 0;
    r->status = 0;
    r->elapsed_ms = 0;
    r->bytes_down = r->bytes_up = 0;
}

/* ---- callbacks ---- */

static size_t
on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    const struct lcb_http_req *r = x->req;
    size_t want = size * nitems, n;

    if (r->read) {
        n = r->read(r->read_ud, buf, want);
        if (n == LCB_HTTP_ABORT) {
            x->cb_abort = 1;
            return CURL_READFUNC_ABORT;
        }
    } else {
        n = r->body_len - x->body_off;
        if (n > want)
            n = want;
        if (n)
            memcpy(buf, (const char *)r->body + x->body_off, n);
    }
    x->body_off += n;
    x->resp->bytes_up += n;
    return n;
}

static int
on_seek(void *ud, curl_off_t offset, int origin)
{
    struct xfer *x = ud;

    if (offset != 0 || origin != SEEK_SET)
        return CURL_SEEKFUNC_CANTSEEK;
    if (x->req->read && (!x->req->rewind || x->req->rewind(x->req->read_ud) < 0))
        return CURL_SEEKFUNC_CANTSEEK;
    x->body_off = 0;
    x->resp->bytes_up = 0;
    return CURL_SEEKFUNC_OK;
}

static int
status_2xx(struct xfer *x)
{
    long code = 0;

    curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &code);
    x->resp->status = (int)code;
    return code >= 200 && code < 300;
}

static size_t
on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;

    x->resp->bytes_down += n;
    if (x->req->write && status_2xx(x)) {
        if (x->req->write(x->req->write_ud, data, n) < 0) {
            x->cb_abort = 1;
            return 0;
        }
        return n;
    }
    if (lcb_buf_add(&x->resp->body, data, n) < 0) {
        x->too_big = 1;
        return 0;
    }
    return n;
}

static void
add_header(struct lcb_http_headers *hh, const char *name, size_t nlen, const char *value,
           size_t vlen)
{
    hh->names = lcb_xrealloc(hh->names, (hh->n + 1) * sizeof(char *));
    hh->values = lcb_xrealloc(hh->values, (hh->n + 1) * sizeof(char *));
    hh->names[hh->n] = lcb_xstrndup(name, nlen);
    hh->values[hh->n] = lcb_xstrndup(value, vlen);
    hh->n++;
}

static size_t
on_header(char *data, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nitems, len = n, vstart;
    const char *colon;

    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue): forget the previous headers */
        lcb_http_headers_release(&x->resp->headers);
        return n;
    }
    colon = memchr(data, ':', len);
    if (!colon)
        return n;
    vstart = (size_t)(colon - data) + 1;
    while (vstart < len && (data[vstart] == ' ' || data[vstart] == '\t'))
        vstart++;
    add_header(&x->resp->headers, data, (size_t)(colon - data), data + vstart, len - vstart);
    return n;
}

static int
on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct xfer *x = ud;

    (void)dt, (void)dn, (void)ut, (void)un;
    if (lcb_sig_pending()) {
        x->intr = 1;
        return 1;
    }
    return 0;
}

/* ---- setting up a transfer ---- */

static struct curl_slist *
make_headers(const struct lcb_http_req *r)
{
    struct curl_slist *l = NULL, *t;
    struct lcb_buf line = LCB_BUF_INIT;
    size_t i;

    for (i = 0; i < r->nheaders; i++) {
        lcb_buf_reset(&line);
        if (r->headers[i].value && *r->headers[i].value)
            lcb_buf_addf(&line, "%s: %s", r->headers[i].name, r->headers[i].value);
        else
            lcb_buf_addf(&line, "%s;", r->headers[i].name); /* curl's syntax for an empty value */
        if (!(t = curl_slist_append(l, line.ptr)))
            abort();
        l = t;
    }
    /* no implicit "Expect: 100-continue" on uploads */
    if (!(t = curl_slist_append(l, "Expect:")))
        abort();
    lcb_buf_release(&line);
    return t;
}

static int
has_body(const struct lcb_http_req *r)
{
    return r->read || r->body || (r->method && (strcmp(r->method, "PUT") == 0 ||
                                                 strcmp(r->method, "POST") == 0));
}

static void
setup_easy(struct xfer *x)
{
    const struct lcb_http_req *r = x->req;
    struct lcb_http *h = x->h;
    CURL *e = x->e;
    const char *method = r->method ? r->method : "GET";

    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_SHARE, h->share);
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->ca_bundle)
        curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_bundle);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms ? r->timeout_ms : h->timeout_ms);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, h->low_speed_bytes);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, h->low_speed_secs);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (has_body(r)) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, x);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
        if (strcmp(method, "PUT") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
}

/* Prepare x for req/resp (x->e already set). */
static int
xfer_start(struct xfer *x, struct lcb_http *h, const struct lcb_http_req *req,
           struct lcb_http_resp *resp, struct lcb_err *err)
{
    if (lcb_http_check_url(h, req->url, req->allow_plain_http, err) < 0)
        return -1;
    x->h = h;
    x->req = req;
    x->resp = resp;
    x->body_off = 0;
    x->too_big = x->cb_abort = x->intr = 0;
    x->errbuf[0] = '\0';
    lcb_http_resp_reset(resp);
    resp->body.max = req->max_body ? req->max_body : LCB_HTTP_MAX_BODY;
    x->hdrs = make_headers(req);
    x->t0 = lcb_mono_ms();
    setup_easy(x);
    return 0;
}

static void
trace_request(const struct xfer *x, CURLcode cc)
{
    const struct lcb_http_req *r = x->req;
    struct lcb_buf hdrs = LCB_BUF_INIT;
    size_t i;

    if (!lcb_log_enabled(LCB_TRACE))
        return;
    for (i = 0; i < r->nheaders; i++)
        lcb_buf_addf(&hdrs, "%s%s: %s", i ? "\n" : "", r->headers[i].name,
                     r->headers[i].value ? r->headers[i].value : "");
    lcb_logf(LCB_TRACE, "http.request",
             LCB_FIELDS(LCB_KV_S("method", r->method ? r->method : "GET"), LCB_KV_S("url", r->url),
                        LCB_KV_I("status", x->resp->status),
                        LCB_KV_I("ms", x->resp->elapsed_ms),
                        LCB_KV_I("bytes_up", x->resp->bytes_up),
                        LCB_KV_I("bytes_down", x->resp->bytes_down),
                        LCB_KV_S("headers", lcb_buf_str(&hdrs))),
             "%s %s -> %d%s%s (%" PRId64 " ms, %" PRIu64 " bytes up, %" PRIu64 " down)",
             r->method ? r->method : "GET", r->url, x->resp->status, cc != CURLE_OK ? " " : "",
             cc != CURLE_OK ? curl_easy_strerror(cc) : "", x->resp->elapsed_ms,
             x->resp->bytes_up, x->resp->bytes_down);
    if (hdrs.len && lcb_log_format() == LCB_LOG_TEXT) {
        /* one header per line: the redactor masks a secret header's value to its line's end */
        struct lcb_buf lines = LCB_BUF_INIT;
        for (i = 0; i < r->nheaders; i++)
            lcb_buf_addf(&lines, "\n    > %s: %s", r->headers[i].name,
                         r->headers[i].value ? r->headers[i].value : "");
        lcb_log(LCB_TRACE, "http.request.headers", "request headers:%s", lines.ptr);
        lcb_buf_release(&lines);
    }
    lcb_buf_release(&hdrs);
}

/* Finish a transfer: fill the response and turn the CURLcode into an lcb error. */
static int
xfer_finish(struct xfer *x, CURLcode cc, struct lcb_err *err)
{
    long code = 0;
    const char *what = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);
    enum lcb_code c;

    curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &code);
    x->resp->status = (int)code;
    x->resp->elapsed_ms = lcb_mono_ms() - x->t0;
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    trace_request(x, cc);
    lcb_err_clear(err);
    if (cc == CURLE_OK)
        return 0;
    if (x->intr)
        return lcb_err_set(err, LCB_EINTR, "interrupted");
    if (x->too_big)
        return lcb_err_set(err, LCB_ECORRUPT, "the response from '%s' is larger than %zu bytes",
                           x->req->url, x->resp->body.max);
    if (x->cb_abort)
        return lcb_err_set(err, LCB_EIO, "transfer of '%s' aborted by its data source or sink",
                           x->req->url);
    switch (cc) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        c = LCB_ECONFIG;
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        lcb_err_set(err, LCB_ECONFIG, "TLS: %s (for a private CA, give --ca-bundle or "
                    "AWS_CA_BUNDLE)", what);
        err->sys = (int)cc;
        return -1;
    default:
        c = LCB_ETEMP;
    }
    lcb_err_set(err, c, "%s", what);
    err->sys = (int)cc;
    err->http = x->resp->status;
    return -1;
}

int
lcb_http_send(struct lcb_http *h, const struct lcb_http_req *req, struct lcb_http_resp *resp,
              struct lcb_err *err)
{
    struct xfer x;
    CURLcode cc;

    memset(&x, 0, sizeof(x));
    if (!h->easy && !(h->easy = curl_easy_init()))
        abort();
    x.e = h->easy;
    if (xfer_start(&x, h, req, resp, err) < 0)
        return -1;
    cc = curl_easy_perform(x.e);
    return xfer_finish(&x, cc, err);
}

int
lcb_http_timed_out(const struct lcb_err *err)
{
    return err->code == LCB_ETEMP && err->sys == (int)CURLE_OPERATION_TIMEDOUT;
}

int
lcb_http_never_sent(const struct lcb_err *err)
{
    return err->code == LCB_ETEMP &&
           (err->sys == (int)CURLE_COULDNT_CONNECT || err->sys == (int)CURLE_COULDNT_RESOLVE_HOST ||
            err->sys == (int)CURLE_COULDNT_RESOLVE_PROXY);
}

/* ---- multi ---- */

int
lcb_http_multi_new(struct lcb_http_multi **out, struct lcb_http *h, struct lcb_err *err)
{
    struct lcb_http_multi *m = lcb_xcalloc(1, sizeof(*m));

    (void)err;
    m->h = h;
    if (!(m->m = curl_multi_init()))
        abort();
    *out = m;
    return 0;
}

static void
xfer_free(struct lcb_http_multi *m, struct xfer *x)
{
    curl_multi_remove_handle(m->m, x->e);
    curl_easy_cleanup(x->e);
    curl_slist_free_all(x->hdrs);
    free(x);
}

void
lcb_http_multi_free(struct lcb_http_multi *m)
{
    struct xfer *x, *next;

    if (!m)
        return;
    for (x = m->running; x; x = next) {
        next = x->next;
        xfer_free(m, x);
    }
    curl_multi_cleanup(m->m);
    free(m);
}

int
lcb_http_multi_add(struct lcb_http_multi *m, const struct lcb_http_req *req,
                   struct lcb_http_resp *resp, void *tag, struct lcb_err *err)
{
    struct xfer *x = lcb_xcalloc(1, sizeof(*x));

    if (!(x->e = curl_easy_init()))
        abort();
    if (xfer_start(x, m->h, req, resp, err) < 0) {
        curl_easy_cleanup(x->e);
        free(x);
        return -1;
    }
    x->tag = tag;
    curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
    curl_multi_add_handle(m->m, x->e);
    x->next = m->running;
    m->running = x;
    m->n++;
    return 0;
}

size_t
lcb_http_multi_pending(const struct lcb_http_multi *m)
{
    return m->n;
}

static void
unlink_xfer(struct lcb_http_multi *m, struct xfer *x)
{
    struct xfer **pp;

    for (pp = &m->running; *pp; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            m->n--;
            return;
        }
    }
}

/* Hand back one finished transfer, if any. */
static int
take_done(struct lcb_http_multi *m, void **tag, struct lcb_err *req_err)
{
    CURLMsg *msg;
    int left;
    struct xfer *x;

    while ((msg = curl_multi_info_read(m->m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        xfer_finish(x, msg->data.result, req_err);
        *tag = x->tag;
        unlink_xfer(m, x);
        xfer_free(m, x);
        return 1;
    }
    return 0;
}

int
lcb_http_multi_next(struct lcb_http_multi *m, long timeout_ms, void **tag,
                    struct lcb_err *req_err)
{
    int64_t deadline = timeout_ms < 0 ? -1 : lcb_mono_ms() + timeout_ms;
    int still, wait;

    for (;;) {
        curl_multi_perform(m->m, &still);
        if (take_done(m, tag, req_err))
            return 1;
        if (m->n == 0)
            return 0;
        if (lcb_sig_pending())
            return lcb_err_set(req_err, LCB_EINTR, "interrupted");
        wait = 200;
        if (deadline >= 0) {
            int64_t left = deadline - lcb_mono_ms();
            if (left <= 0)
                return 0;
            if (left < wait)
                wait = (int)left;
        }
        curl_multi_poll(m->m, NULL, 0, wait, NULL);
    }
}

const char *
lcb_http_version(void)
{
    return curl_version_info(CURLVERSION_NOW)->version;
}
