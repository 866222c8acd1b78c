/* http_test.c - lib/ext/http.c against the local stub (tests/unit/aws_stub.py): keep-alive,
 * streamed bodies both ways, the body cap, timeouts, the insecure-endpoint rule, no implicit
 * Expect: 100-continue, several requests in flight, and URL encoding. */
#include "../../lib/ext/http.h"

#include "../../lib/core/clock.h"
#include "../../lib/core/log.h"
#include "../../lib/core/secret.h"
#include "../../lib/ext/json.h"
#include "harness.h"
#include "stub.h"

static struct lcb_http *http;

static int
get(const char *path, struct lcb_http_resp *resp, struct lcb_err *err)
{
    struct lcb_http_req req;
    char url[256];

    memset(&req, 0, sizeof(req));
    snprintf(url, sizeof(url), "%s%s", stub_base, path);
    req.method = "GET";
    req.url = url;
    return lcb_http_send(http, &req, resp, err);
}

/* The stub's request log as JSON (caller frees). */
static struct lcb_json *
stub_log(void)
{
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_json *j = NULL;
    struct lcb_err err;

    stub_ctl("DELETE", "/_log", NULL, &b);
    lcb_json_parse(&j, b.ptr ? b.ptr : "[]", b.len, &err);
    lcb_buf_release(&b);
    return j;
}

static void
test_keepalive(void)
{
    struct lcb_http_resp r;
    struct lcb_err err;
    struct lcb_json *log;

    lcb_http_resp_init(&r);
    lcb_json_free(stub_log());
    CHECK_INT(get("/echo", &r, &err), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT(get("/echo", &r, &err), 0);
    CHECK_STR(lcb_http_header_get(&r.headers, "content-length"), "0");
    log = stub_log();
    CHECK_INT(lcb_json_size(log), 2);
    /* the same client port both times: the connection was reused */
    CHECK(lcb_json_get_num(lcb_json_at(log, 0), "port", 0) ==
          lcb_json_get_num(lcb_json_at(log, 1), "port", -1));
    lcb_json_free(log);
    lcb_http_resp_release(&r);
}

struct src {
    size_t total, off;
    int rewinds;
};

static size_t
produce(void *ud, char *buf, size_t len)
{
    struct src *s = ud;
    size_t i, n = s->total - s->off < len ? s->total - s->off : len;

    for (i = 0; i < n; i++)
        buf[i] = (char)('a' + (s->off + i) % 26);
    s->off += n;
    return n;
}

static int
rewind_src(void *ud)
{
    struct src *s = ud;

    s->off = 0;
    s->rewinds++;
    return 0;
}

struct sink {
    size_t n;
    unsigned sum;
};

static int
consume(void *ud, const void *data, size_t len)
{
    struct sink *k = ud;
    size_t i;

    for (i = 0; i < len; i++)
        k->sum += ((const unsigned char *)data)[i];
    k->n += len;
    return 0;
}

static void
test_streaming(void)
{
    struct src s = { 3 << 20, 0, 0 };
    struct sink k = { 0, 0 };
    struct lcb_http_req req;
    struct lcb_http_resp r;
    struct lcb_err err;
    struct lcb_json *log, *e;
    char url[256];
    unsigned want = 0;
    size_t i;

    for (i = 0; i < s.total; i++)
        want += (unsigned char)('a' + i % 26);
    lcb_json_free(stub_log());
    memset(&req, 0, sizeof(req));
    snprintf(url, sizeof(url), "%s/echo", stub_base);
    req.method = "PUT";
    req.url = url;
    req.body_len = s.total;
    req.read = produce;
    req.rewind = rewind_src;
    req.read_ud = &s;
    req.write = consume;
    req.write_ud = &k;
    lcb_http_resp_init(&r);
    CHECK_INT(lcb_http_send(http, &req, &r, &err), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT((long long)k.n, (long long)s.total);
    CHECK_INT(k.sum, want);
    CHECK_INT((long long)r.body.len, 0); /* streamed, not buffered */
    CHECK_INT((long long)r.bytes_up, (long long)s.total);
    log = stub_log();
    e = lcb_json_at(log, 0);
    CHECK_INT((long long)lcb_json_get_num(e, "body_len", 0), (long long)s.total);
    /* a 3 MiB PUT without an implicit Expect: 100-continue */
    CHECK(lcb_json_get(lcb_json_get(e, "headers"), "expect") == NULL);
    lcb_json_free(log);
    lcb_http_resp_release(&r);
}

static void
test_error_bodies_are_buffered(void)
{
    struct sink k = { 0, 0 };
    struct lcb_http_req req;
    struct lcb_http_resp r;
    struct lcb_err err;
    char url[256];

    stub_ctl("POST", "/_script",
             "[{\"path\":\"/obj\",\"status\":404,\"body\":\"<Error><Code>NoSuchKey</Code></Error>\"}]",
             NULL);
    memset(&req, 0, sizeof(req));
    snprintf(url, sizeof(url), "%s/obj", stub_base);
    req.url = url;
    req.write = consume;
    req.write_ud = &k;
    lcb_http_resp_init(&r);
    CHECK_INT(lcb_http_send(http, &req, &r, &err), 0);
    CHECK_INT(r.status, 404);
    CHECK_INT((long long)k.n, 0);
    CHECK(strstr(lcb_buf_str(&r.body), "NoSuchKey") != NULL);
    lcb_http_resp_release(&r);
}

static void
test_cap_and_timeout(void)
{
    struct lcb_http_req req;
    struct lcb_http_resp r;
    struct lcb_err err;
    char url[256];
    int64_t t0;

    memset(&req, 0, sizeof(req));
    snprintf(url, sizeof(url), "%s/big", stub_base);
    req.url = url;
    req.max_body = 1000;
    lcb_http_resp_init(&r);
    CHECK_INT(lcb_http_send(http, &req, &r, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    snprintf(url, sizeof(url), "%s/slow", stub_base);
    req.max_body = 0;
    req.timeout_ms = 300;
    t0 = lcb_mono_ms();
    CHECK_INT(lcb_http_send(http, &req, &r, &err), -1);
    CHECK_INT(err.code, LCB_ETEMP);
    CHECK(lcb_http_timed_out(&err));
    CHECK(!lcb_http_never_sent(&err));
    CHECK(lcb_mono_ms() - t0 < 1500);
    /* nothing listens on port 1: refused, certainly never sent */
    req.url = "http://127.0.0.1:1/";
    CHECK_INT(lcb_http_send(http, &req, &r, &err), -1);
    CHECK_INT(err.code, LCB_ETEMP);
    CHECK(lcb_http_never_sent(&err));
    CHECK(!lcb_http_timed_out(&err));
    lcb_http_resp_release(&r);
}

static void
test_insecure_rule(void)
{
    struct lcb_http *loose = NULL;
    struct lcb_http_config cfg;
    struct lcb_err err;

    CHECK_INT(lcb_http_check_url(http, "http://127.0.0.1:4566/x", 0, &err), 0);
    CHECK_INT(lcb_http_check_url(http, "http://localhost/x", 0, &err), 0);
    CHECK_INT(lcb_http_check_url(http, "http://[::1]:80/x", 0, &err), 0);
    CHECK_INT(lcb_http_check_url(http, "https://s3.eu-west-1.amazonaws.com/", 0, &err), 0);
    CHECK_INT(lcb_http_check_url(http, "http://s3.eu-west-1.amazonaws.com/", 0, &err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    CHECK(strstr(err.msg, "--allow-insecure-endpoint") != NULL);
    CHECK_INT(lcb_http_check_url(http, "http://169.254.169.254/latest", 1, &err), 0);
    CHECK_INT(lcb_http_check_url(http, "ftp://127.0.0.1/", 0, &err), -1);
    CHECK_INT(lcb_http_check_url(http, "not a url", 0, &err), -1);
    memset(&cfg, 0, sizeof(cfg));
    cfg.allow_insecure = 1;
    CHECK_INT(lcb_http_new(&loose, &cfg, &err), 0);
    CHECK_INT(lcb_http_check_url(loose, "http://10.0.0.5:9000/", 0, &err), 0);
    lcb_http_free(loose);
    CHECK(lcb_http_is_loopback("127.1.2.3"));
    CHECK(!lcb_http_is_loopback("127.example.com"));
    cfg.ca_bundle = "/nonexistent/ca.pem";
    CHECK_INT(lcb_http_new(&loose, &cfg, &err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
}

static void
test_multi(void)
{
    struct lcb_http_multi *m = NULL;
    struct lcb_http_req req[4];
    struct lcb_http_resp r[4];
    struct lcb_err err;
    char url[256];
    int i, done = 0, seen[4] = { 0 };
    int64_t t0;
    void *tag;

    stub_ctl("POST", "/_script",
             "[{\"path\":\"/m\",\"delay\":0.4},{\"path\":\"/m\",\"delay\":0.4},"
             "{\"path\":\"/m\",\"delay\":0.4},{\"path\":\"/m\",\"delay\":0.4}]",
             NULL);
    snprintf(url, sizeof(url), "%s/m", stub_base);
    CHECK_INT(lcb_http_multi_new(&m, http, &err), 0);
    t0 = lcb_mono_ms();
    for (i = 0; i < 4; i++) {
        memset(&req[i], 0, sizeof(req[i]));
        req[i].url = url;
        lcb_http_resp_init(&r[i]);
        CHECK_INT(lcb_http_multi_add(m, &req[i], &r[i], &seen[i], &err), 0);
    }
    CHECK_INT((long long)lcb_http_multi_pending(m), 4);
    while (lcb_http_multi_next(m, 5000, &tag, &err) == 1) {
        CHECK_INT(err.code, LCB_OK);
        *(int *)tag = 1;
        done++;
    }
    CHECK_INT(done, 4);
    for (i = 0; i < 4; i++) {
        CHECK(seen[i]);
        CHECK_INT(r[i].status, 200);
        lcb_http_resp_release(&r[i]);
    }
    /* four 0.4 s answers in flight together take well under 1.6 s */
    CHECK(lcb_mono_ms() - t0 < 1200);
    lcb_http_multi_free(m);
}

static void
test_uri_coding(void)
{
    struct lcb_buf b = LCB_BUF_INIT;

    lcb_http_uri_encode(&b, "a b+c/d~e*", 10, 1);
    CHECK_STR(lcb_buf_str(&b), "a%20b%2Bc/d~e%2A");
    lcb_buf_reset(&b);
    lcb_http_uri_encode(&b, "\xc3\xbc/", 3, 0);
    CHECK_STR(lcb_buf_str(&b), "%C3%BC%2F");
    lcb_buf_reset(&b);
    CHECK_INT(lcb_http_uri_decode(&b, "a%20b+c%2b", 10, 0), 0);
    CHECK_STR(lcb_buf_str(&b), "a b+c+");
    lcb_buf_reset(&b);
    CHECK_INT(lcb_http_uri_decode(&b, "a+b", 3, 1), 0);
    CHECK_STR(lcb_buf_str(&b), "a b");
    CHECK_INT(lcb_http_uri_decode(&b, "%zz", 3, 0), -1);
    CHECK_INT(lcb_http_uri_decode(&b, "ab%2", 4, 0), -1);
    lcb_buf_release(&b);
}

/* -v -v traces show the request but never the Authorization value. */
static void
test_trace_redacts(void)
{
    struct lcb_http_header h[1] = { { "Authorization", "AWS4-HMAC-SHA256 Credential=AKID/x, "
                                                       "Signature=deadbeefcafe" } };
    struct lcb_http_req req;
    struct lcb_http_resp r;
    struct lcb_err err;
    char url[256], text[8192];
    FILE *f = tmpfile();
    size_t n;

    lcb_log_setup(LCB_TRACE, LCB_LOG_TEXT, f);
    memset(&req, 0, sizeof(req));
    snprintf(url, sizeof(url), "%s/echo?X-Amz-Signature=0123456789abcdef", stub_base);
    req.url = url;
    req.headers = h;
    req.nheaders = 1;
    lcb_http_resp_init(&r);
    CHECK_INT(lcb_http_send(http, &req, &r, &err), 0);
    lcb_log_setup(LCB_INFO, LCB_LOG_TEXT, stderr);
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    CHECK(strstr(text, "GET http://127.0.0.1:") != NULL);
    /* the stub refuses the fake signature: the trace shows that status */
    CHECK_INT(r.status, 403);
    CHECK(strstr(text, "-> 403 (") != NULL);
    CHECK(strstr(text, "deadbeefcafe") == NULL);
    CHECK(strstr(text, "0123456789abcdef") == NULL);
    lcb_http_resp_release(&r);
}

int
main(void)
{
    struct lcb_err err;

    if (stub_start() < 0 || lcb_http_new(&http, NULL, &err) < 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_keepalive);
    RUN(test_streaming);
    RUN(test_error_bodies_are_buffered);
    RUN(test_cap_and_timeout);
    RUN(test_insecure_rule);
    RUN(test_multi);
    RUN(test_uri_coding);
    RUN(test_trace_redacts);
    lcb_http_free(http);
    stub_stop();
    return harness_done();
}
