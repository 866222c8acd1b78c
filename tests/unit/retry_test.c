/* retry_test.c - lib/aws/retry.c decisions and bounds, and lib/aws/aws.c's retry loop end to end
 * against the local stub (tests/unit/aws_stub.py checks every signature with botocore): throttling
 * and 5xx retried, other 4xx not, the attempt summary, clock-skew correction, no blind retries of
 * creates, S3's 200-with-Error, error-code mapping, and a batch with several requests in flight. */
#include "../../lib/aws/retry.h"

#include <stdlib.h>

#include "../../lib/aws/aws.h"
#include "../../lib/core/clock.h"
#include "../../lib/ext/json.h"
#include "harness.h"
#include "stub.h"

static struct lcb_aws *aws;

static void
test_classify(void)
{
    struct lcb_retry_attempt a;

    memset(&a, 0, sizeof(a));
    a.status = 400;
    snprintf(a.code, sizeof(a.code), "Throttling");
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_THROTTLE);
    snprintf(a.code, sizeof(a.code), "ValidationError");
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_NONE);
    a.status = 503;
    snprintf(a.code, sizeof(a.code), "SlowDown");
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_THROTTLE);
    snprintf(a.code, sizeof(a.code), "RequestLimitExceeded");
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_THROTTLE);
    a.code[0] = '\0';
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_TRANSIENT);
    a.status = 502;
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_TRANSIENT);
    a.status = 501;
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_NONE);
    a.status = 400;
    snprintf(a.code, sizeof(a.code), "RequestTimeout");
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_TRANSIENT);
    a.status = 403;
    snprintf(a.code, sizeof(a.code), "RequestTimeTooSkewed");
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_SKEW);
    memset(&a, 0, sizeof(a));
    a.transport = LCB_ETEMP;
    a.timeout = 1;
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_TIMEOUT);
    a.timeout = 0;
    CHECK_INT(lcb_retry_classify(&a), LCB_RETRY_TRANSIENT);
    CHECK(lcb_retry_is_throttle("TooManyRequestsException"));
    CHECK(lcb_retry_is_throttle("ThrottlingException"));
    CHECK(!lcb_retry_is_throttle("AccessDenied"));
    CHECK(!lcb_retry_is_throttle(NULL));
}

static void
test_maybe_done(void)
{
    struct lcb_err err;

    lcb_err_clear(&err);
    err.http = 503;
    CHECK(lcb_retry_maybe_done(&err)); /* a 5xx may have been applied */
    snprintf(err.aws_code, sizeof(err.aws_code), "SlowDown");
    CHECK(!lcb_retry_maybe_done(&err)); /* throttling never was */
    lcb_err_clear(&err);
    err.code = LCB_ETEMP; /* a timeout or a lost connection: no status */
    CHECK(lcb_retry_maybe_done(&err));
    err.http = 400;
    CHECK(!lcb_retry_maybe_done(&err));
    lcb_err_clear(&err);
    err.code = LCB_EREFUSED;
    err.http = 400;
    snprintf(err.aws_code, sizeof(err.aws_code), "SnapshotQuotaExceeded");
    CHECK(!lcb_retry_maybe_done(&err));
}

static void
test_aws_classify(void)
{
    CHECK_INT(lcb_aws_classify(403, "AccessDenied"), LCB_EAUTH);
    CHECK_INT(lcb_aws_classify(400, "ExpiredToken"), LCB_EAUTH);
    CHECK_INT(lcb_aws_classify(400, "UnrecognizedClientException"), LCB_EAUTH);
    CHECK_INT(lcb_aws_classify(404, "DBSnapshotNotFound"), LCB_ENOTFOUND);
    CHECK_INT(lcb_aws_classify(400, "InvalidSnapshot.NotFound"), LCB_ENOTFOUND);
    CHECK_INT(lcb_aws_classify(400, "ParameterNotFound"), LCB_ENOTFOUND);
    CHECK_INT(lcb_aws_classify(404, ""), LCB_ENOTFOUND); /* HEAD 404, no body */
    CHECK_INT(lcb_aws_classify(400, "Throttling"), LCB_ETEMP);
    CHECK_INT(lcb_aws_classify(503, ""), LCB_ETEMP);
    CHECK_INT(lcb_aws_classify(400, "SnapshotQuotaExceeded"), LCB_EREFUSED);
    CHECK_INT(lcb_aws_classify(400, "InvalidDBInstanceState"), LCB_EREFUSED);
}

static void
test_delay_bounds(void)
{
    int n, i;
    double r;

    for (n = 1; n <= 10; n++) {
        int64_t cap = (int64_t)1000 << (n - 1);
        if (cap > LCB_RETRY_CAP_MS)
            cap = LCB_RETRY_CAP_MS;
        CHECK_INT(lcb_retry_delay_ms(n, 0.0, 0), 0);
        CHECK(lcb_retry_delay_ms(n, 0.999999, 0) <= cap);
        CHECK(lcb_retry_delay_ms(n, 0.999999, 0) >= cap - 1);
        CHECK(lcb_retry_delay_ms(n, 0.5, 0) == cap / 2);
    }
    CHECK_INT(lcb_retry_delay_ms(40, 0.5, 0), LCB_RETRY_CAP_MS / 2); /* no overflow */
    CHECK_INT(lcb_retry_delay_ms(3, 0.5, 10), 20);
    for (i = 0; i < 1000; i++) {
        r = lcb_retry_rand();
        CHECK(r >= 0.0 && r < 1.0);
    }
}

static void
test_quota(void)
{
    struct lcb_retry_quota q;
    int i, granted = 0, cost = 0;

    lcb_retry_quota_init(&q);
    for (i = 0; i < 200; i++)
        granted += lcb_retry_quota_take(&q, LCB_RETRY_THROTTLE, &cost);
    CHECK_INT(granted, 100); /* 500 / 5 */
    CHECK_INT(cost, 5);
    lcb_retry_quota_success(&q, 5);
    CHECK_INT(q.tokens, 5);
    CHECK_INT(lcb_retry_quota_take(&q, LCB_RETRY_TIMEOUT, &cost), 0); /* a timeout costs 10 */
    lcb_retry_quota_success(&q, 0);
    lcb_retry_quota_success(&q, 0);
    lcb_retry_quota_success(&q, 0);
    lcb_retry_quota_success(&q, 0);
    lcb_retry_quota_success(&q, 0);
    CHECK_INT(lcb_retry_quota_take(&q, LCB_RETRY_TIMEOUT, &cost), 1);
    CHECK_INT(cost, 10);
    lcb_retry_quota_init(&q);
    lcb_retry_quota_success(&q, 5);
    CHECK_INT(q.tokens, LCB_RETRY_QUOTA); /* never above the start */
}

static void
test_summary(void)
{
    struct lcb_retry_attempt a[4];
    struct lcb_buf b = LCB_BUF_INIT;
    int64_t t;

    memset(a, 0, sizeof(a));
    a[0].status = a[1].status = 503;
    snprintf(a[0].code, sizeof(a[0].code), "SlowDown");
    snprintf(a[1].code, sizeof(a[1].code), "SlowDown");
    a[2].transport = LCB_ETEMP;
    a[2].timeout = 1;
    lcb_retry_summary(&b, a, 3);
    CHECK_STR(lcb_buf_str(&b), "3 attempts: 503 SlowDown x2, timeout");
    lcb_buf_reset(&b);
    lcb_retry_summary(&b, a, 1);
    CHECK_STR(lcb_buf_str(&b), "1 attempt: 503 SlowDown");
    lcb_buf_release(&b);
    CHECK_INT(lcb_retry_parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT", &t), 0);
    CHECK_INT(t, 1440938160);
    CHECK_INT(lcb_retry_parse_http_date("Sun, 30 Foo 2015 12:36:00 GMT", &t), -1);
    CHECK_INT(lcb_retry_parse_http_date("yesterday", &t), -1);
}

/* ---- end to end through lcb_aws_send ---- */

static int
send_req(const struct lcb_aws_req *req, struct lcb_aws_resp *resp, struct lcb_err *err)
{
    lcb_aws_resp_release(resp);
    lcb_aws_resp_init(resp);
    return lcb_aws_send(aws, req, resp, err);
}

static struct lcb_aws_req
rds_req(void)
{
    static const struct lcb_aws_kv h[] = {
        { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" }
    };
    static const char body[] = "Action=DescribeDBSnapshots&Version=2014-10-31";
    struct lcb_aws_req r;

    memset(&r, 0, sizeof(r));
    r.service = "rds";
    r.operation = "DescribeDBSnapshots";
    r.headers = h;
    r.nheaders = 1;
    r.body = body;
    r.body_len = strlen(body);
    return r;
}

/* The number of stub log entries whose signature botocore accepted, and their total. */
static int
signatures_ok(int *total)
{
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_json *j = NULL, *e;
    struct lcb_err err;
    int ok = 0;

    stub_ctl("DELETE", "/_log", NULL, &b);
    lcb_json_parse(&j, b.ptr, b.len, &err);
    *total = (int)lcb_json_size(j);
    for (e = lcb_json_child(j); e; e = lcb_json_next(e))
        ok += strcmp(lcb_json_get_str(e, "sig") ? lcb_json_get_str(e, "sig") : "", "ok") == 0;
    lcb_json_free(j);
    lcb_buf_release(&b);
    return ok;
}

static void
test_send_retries_throttling(void)
{
    struct lcb_aws_req req = rds_req();
    struct lcb_aws_resp resp;
    struct lcb_err err;
    int total;

    lcb_aws_resp_init(&resp);
    signatures_ok(&total);
    stub_ctl("POST", "/_script",
             "[{\"status\":400,\"body\":\"<ErrorResponse><Error><Code>Throttling</Code><Message>"
             "Rate exceeded</Message></Error></ErrorResponse>\"},"
             "{\"status\":503,\"body\":\"\"}]",
             NULL);
    CHECK_INT(send_req(&req, &resp, &err), 0);
    CHECK_INT(resp.status, 200);
    CHECK_INT(resp.attempts, 3);
    CHECK_STR(lcb_buf_str(&resp.body), "<ok/>");
    CHECK_INT(signatures_ok(&total), 3); /* every attempt signed again, and right */
    CHECK_INT(total, 3);
    lcb_aws_resp_release(&resp);
}

static void
test_send_gives_up(void)
{
    struct lcb_aws_req req = rds_req();
    struct lcb_aws_resp resp;
    struct lcb_err err;
    char line[2048];
    int total;

    lcb_aws_resp_init(&resp);
    /* a 400 that is not throttling: one attempt, refused (69) */
    stub_ctl("POST", "/_script",
             "[{\"status\":400,\"body\":\"<ErrorResponse><Error><Code>InvalidParameterValue</Code>"
             "<Message>bad id</Message></Error><RequestId>r1</RequestId></ErrorResponse>\"}]",
             NULL);
    CHECK_INT(send_req(&req, &resp, &err), -1);
    CHECK_INT(err.code, LCB_EREFUSED);
    CHECK_INT(err.http, 400);
    CHECK_STR(err.aws_code, "InvalidParameterValue");
    CHECK_STR(resp.error.request_id, "r1");
    CHECK_INT(resp.attempts, 1);
    CHECK_STR(lcb_err_format(&err, line, sizeof(line)),
              "rds DescribeDBSnapshots: HTTP 400 InvalidParameterValue: bad id");
    /* three 500s: all attempts used, summarised in one frame */
    stub_ctl("POST", "/_script",
             "[{\"status\":500,\"body\":\"<ErrorResponse><Error><Code>InternalFailure</Code>"
             "</Error></ErrorResponse>\"},{\"status\":500,\"body\":\"<ErrorResponse><Error><Code>"
             "InternalFailure</Code></Error></ErrorResponse>\"},{\"status\":503}]",
             NULL);
    CHECK_INT(send_req(&req, &resp, &err), -1);
    CHECK_INT(err.code, LCB_ETEMP);
    CHECK_STR(lcb_err_format(&err, line, sizeof(line)),
              "rds DescribeDBSnapshots: 3 attempts: 500 InternalFailure x2, 503: HTTP 503");
    signatures_ok(&total);
    lcb_aws_resp_release(&resp);
}

static void
test_send_json_and_200_errors(void)
{
    static const struct lcb_aws_kv h[] = { { "X-Amz-Target", "AmazonSSM.GetParameter" },
                                           { "Content-Type", "application/x-amz-json-1.1" } };
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    struct lcb_err err;
    int total;

    memset(&req, 0, sizeof(req));
    req.service = "ssm";
    req.operation = "GetParameter";
    req.headers = h;
    req.nheaders = 2;
    req.body = "{\"Name\":\"/x\"}";
    req.body_len = 13;
    lcb_aws_resp_init(&resp);
    stub_ctl("POST", "/_script",
             "[{\"status\":400,\"body\":\"{\\\"__type\\\":\\\"com.amazonaws.ssm#ParameterNotFound"
             "\\\",\\\"message\\\":\\\"no /x\\\"}\"}]",
             NULL);
    CHECK_INT(send_req(&req, &resp, &err), -1);
    CHECK_INT(err.code, LCB_ENOTFOUND);
    CHECK_STR(err.aws_code, "ParameterNotFound");
    CHECK_STR(resp.error.message, "no /x");
    /* S3's 200 carrying <Error> (CompleteMultipartUpload) is retried like a 500 */
    memset(&req, 0, sizeof(req));
    req.service = "s3";
    req.operation = "CompleteMultipartUpload";
    req.method = "POST";
    req.bucket = "lcb";
    req.key = "run 1/a+b";
    req.check_2xx = 1;
    stub_ctl("POST", "/_script",
             "[{\"status\":200,\"body\":\"\\n  <Error><Code>InternalError</Code></Error>\"}]",
             NULL);
    CHECK_INT(send_req(&req, &resp, &err), 0);
    CHECK_INT(resp.attempts, 2);
    CHECK_INT(signatures_ok(&total), total);
    CHECK(total >= 3);
    lcb_aws_resp_release(&resp);
}

static void
test_clock_skew(void)
{
    struct lcb_aws_req req = rds_req();
    struct lcb_aws_resp resp;
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_json *j = NULL;
    struct lcb_err err;
    char want[17];
    time_t behind = time(NULL) - 3600;
    struct tm tm;

    lcb_aws_resp_init(&resp);
    stub_ctl("DELETE", "/_log", NULL, NULL);
    stub_ctl("POST", "/_state", "{\"skew\": -3600}", NULL);
    stub_ctl("POST", "/_script",
             "[{\"status\":403,\"body\":\"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code>"
             "<Message>Signature expired</Message></Error></ErrorResponse>\"}]",
             NULL);
    CHECK_INT(send_req(&req, &resp, &err), 0);
    CHECK_INT(resp.attempts, 2);
    CHECK(lcb_aws_clock_offset(aws) <= -3590 && lcb_aws_clock_offset(aws) >= -3610);
    /* the retry was signed with the server's time */
    stub_ctl("DELETE", "/_log", NULL, &b);
    lcb_json_parse(&j, b.ptr, b.len, &err);
    gmtime_r(&behind, &tm);
    strftime(want, sizeof(want), "%Y%m%dT%H", &tm);
    CHECK(strncmp(lcb_json_get_str(lcb_json_get(lcb_json_at(j, 1), "headers"), "x-amz-date"),
                  want, 11) == 0);
    lcb_json_free(j);
    lcb_buf_release(&b);
    /* a SignatureDoesNotMatch without skew is an auth error, not retried */
    stub_ctl("POST", "/_state", "{\"skew\": 0}", NULL);
    CHECK_INT(send_req(&req, &resp, &err), 0); /* learn the clock again */
    stub_ctl("POST", "/_script",
             "[{\"status\":403,\"body\":\"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code>"
             "</Error></ErrorResponse>\"}]",
             NULL);
    CHECK_INT(send_req(&req, &resp, &err), -1);
    CHECK_INT(err.code, LCB_EAUTH);
    CHECK_INT(resp.attempts, 1);
    lcb_aws_resp_release(&resp);
}

static void
test_no_blind_retry(void)
{
    struct lcb_aws_req req = rds_req();
    struct lcb_aws_resp resp;
    struct lcb_err err;
    char line[2048];

    req.operation = "CreateDBSnapshot";
    req.no_blind_retry = 1;
    lcb_aws_resp_init(&resp);
    stub_ctl("POST", "/_script", "[{\"status\":500}]", NULL);
    CHECK_INT(send_req(&req, &resp, &err), -1);
    CHECK_INT(resp.attempts, 1);
    CHECK(strstr(lcb_err_format(&err, line, sizeof(line)), "may have taken effect") != NULL);
    /* throttling is an explicit refusal: safe to retry even for a create */
    stub_ctl("POST", "/_script",
             "[{\"status\":400,\"body\":\"<ErrorResponse><Error><Code>Throttling</Code></Error>"
             "</ErrorResponse>\"}]",
             NULL);
    CHECK_INT(send_req(&req, &resp, &err), 0);
    CHECK_INT(resp.attempts, 2);
    lcb_aws_resp_release(&resp);
}

/* Queue n UploadParts of "part data" to lcb/<prefix>-<i>, each tagged with its seen counter. */
static void
add_parts(struct lcb_aws_batch *b, struct lcb_aws_req *req, struct lcb_aws_resp *resp,
          char (*keys)[32], int *seen, int n, const char *prefix)
{
    struct lcb_err err;
    int i;

    for (i = 0; i < n; i++) {
        memset(&req[i], 0, sizeof(req[i]));
        snprintf(keys[i], sizeof(keys[i]), "%s-%d", prefix, i);
        req[i].service = "s3";
        req[i].operation = "UploadPart";
        req[i].method = "PUT";
        req[i].bucket = "lcb";
        req[i].key = keys[i];
        req[i].body = "part data";
        req[i].body_len = 9;
        lcb_aws_resp_init(&resp[i]);
        CHECK_INT(lcb_aws_batch_add(b, &req[i], &resp[i], &seen[i], &err), 0);
    }
}

static void
test_batch(void)
{
    struct lcb_aws_batch *b = NULL;
    struct lcb_aws_req req[6];
    struct lcb_aws_resp resp[6];
    struct lcb_err err, rerr;
    char keys[6][32];
    int i, rc, n = 0, seen[6] = { 0 }, total;
    void *tag;

    signatures_ok(&total);
    stub_ctl("POST", "/_script",
             "[{\"path\":\"/lcb/part-1\",\"status\":503,\"body\":\"<Error><Code>SlowDown</Code>"
             "</Error>\",\"delay\":0.2},{\"path\":\"/lcb/part-4\",\"status\":500,\"delay\":0.2}]",
             NULL);
    CHECK_INT(lcb_aws_batch_new(&b, aws, 3, &err), 0);
    add_parts(b, req, resp, keys, seen, 6, "part");
    while ((rc = lcb_aws_batch_next(b, &tag, &i, &rerr, &err)) == 1) {
        CHECK_INT(i, 0);
        *(int *)tag += 1;
        n++;
    }
    CHECK_INT(rc, 0);
    CHECK_INT(n, 6);
    for (i = 0; i < 6; i++) {
        CHECK_INT(seen[i], 1);
        CHECK_INT(resp[i].status, 200);
        lcb_aws_resp_release(&resp[i]);
    }
    CHECK_INT(signatures_ok(&total), 8); /* 6 parts + 2 retries, all signed right */
    CHECK_INT(total, 8);
    lcb_aws_batch_free(b);
}

/* Polling never waits: nothing is finished right after the requests went out (the stub answers
 * after 0.2 s), and polling between other work collects every answer, a retried one included. */
static void
test_batch_poll(void)
{
    struct lcb_aws_batch *b = NULL;
    struct lcb_aws_req req[3];
    struct lcb_aws_resp resp[3];
    struct lcb_err err, rerr;
    char keys[3][32];
    int i, rc, n = 0, polls = 0, seen[3] = { 0 }, total;
    int64_t t0;
    void *tag;

    signatures_ok(&total);
    stub_ctl("POST", "/_script",
             "[{\"path\":\"/lcb/poll-0\",\"status\":503,\"body\":\"<Error><Code>SlowDown</Code>"
             "</Error>\",\"delay\":0.2},{\"path\":\"/lcb/poll-1\",\"status\":200,\"delay\":0.2},"
             "{\"path\":\"/lcb/poll-2\",\"status\":200,\"delay\":0.2}]",
             NULL);
    CHECK_INT(lcb_aws_batch_new(&b, aws, 3, &err), 0);
    add_parts(b, req, resp, keys, seen, 3, "poll");
    t0 = lcb_mono_ms();
    CHECK_INT(lcb_aws_batch_poll(b, &tag, &i, &rerr, &err), 0);
    CHECK(lcb_mono_ms() - t0 < 150); /* it did not wait for the answers */
    while (n < 3 && lcb_mono_ms() - t0 < 10000) {
        rc = lcb_aws_batch_poll(b, &tag, &i, &rerr, &err);
        CHECK(rc >= 0);
        polls++;
        if (rc == 1) {
            CHECK_INT(i, 0);
            *(int *)tag += 1;
            n++;
        } else {
            struct timespec ts = { 0, 5 * 1000 * 1000 }; /* the caller's other work */
            nanosleep(&ts, NULL);
        }
    }
    CHECK_INT(n, 3);
    CHECK(polls > 3);
    CHECK_INT(lcb_aws_batch_poll(b, &tag, &i, &rerr, &err), 0); /* nothing left */
    for (i = 0; i < 3; i++) {
        CHECK_INT(seen[i], 1);
        CHECK_INT(resp[i].status, 200);
        lcb_aws_resp_release(&resp[i]);
    }
    CHECK_INT(signatures_ok(&total), 4); /* 3 parts + 1 retry */
    lcb_aws_batch_free(b);
}

int
main(void)
{
    struct lcb_aws_config cfg;
    struct lcb_err err;

    RUN(test_classify);
    RUN(test_maybe_done);
    RUN(test_aws_classify);
    RUN(test_delay_bounds);
    RUN(test_quota);
    RUN(test_summary);
    if (stub_start() < 0)
        return harness_done() + 1;
    setenv("AWS_ENDPOINT_URL", stub_base, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "stub/secret+KEY", 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("LCBACKUP_RETRY_BASE_MS", "20", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("LCBACKUP_NOW");
    memset(&cfg, 0, sizeof(cfg));
    if (lcb_aws_new(&aws, &cfg, &err) < 0) {
        fprintf(stderr, "lcb_aws_new: %s\n", err.msg);
        stub_stop();
        return 1;
    }
    RUN(test_send_retries_throttling);
    RUN(test_send_gives_up);
    RUN(test_send_json_and_200_errors);
    RUN(test_clock_skew);
    RUN(test_no_blind_retry);
    RUN(test_batch);
    RUN(test_batch_poll);
    lcb_aws_free(aws);
    stub_stop();
    return harness_done();
}
