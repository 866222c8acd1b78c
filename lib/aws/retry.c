/* retry.c - see retry.h. Lists from botocore's retries/standard.py and _retry.json and from
 * aws-sdk-js-v3's service-error-classification (aws-wire.md section 5). */
#include "retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../core/mem.h"
#include "../ext/crypto.h"

static const char *const throttle_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "TooManyUpdates", /* SSM PutParameter */
};

static const char *const transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "IDPCommunicationError",
    "BadDigest", /* S3: the body was damaged on the way */
};

static const char *const skew_codes[] = {
    "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture", "InvalidSignatureException",
    "SignatureDoesNotMatch", "AuthFailure",
};

static int
in_list(const char *code, const char *const *list, size_t n)
{
    size_t i;

    if (!code || !*code)
        return 0;
    for (i = 0; i < n; i++)
        if (strcmp(code, list[i]) == 0)
            return 1;
    return 0;
}

int
lcb_retry_is_throttle(const char *code)
{
    return in_list(code, throttle_codes, LCB_ARRAY_SIZE(throttle_codes));
}

int
lcb_retry_is_transient_code(const char *code)
{
    return in_list(code, transient_codes, LCB_ARRAY_SIZE(transient_codes));
}

int
lcb_retry_maybe_done(const struct lcb_err *err)
{
    if (lcb_retry_is_throttle(err->aws_code))
        return 0;
    return err->http >= 500 || (err->code == LCB_ETEMP && err->http == 0);
}

int
lcb_retry_is_skew(const char *code)
{
    return in_list(code, skew_codes, LCB_ARRAY_SIZE(skew_codes));
}

enum lcb_retry_kind
lcb_retry_classify(const struct lcb_retry_attempt *a)
{
    if (a->transport)
        return a->timeout ? LCB_RETRY_TIMEOUT : LCB_RETRY_TRANSIENT;
    if (a->status >= 200 && a->status < 300 && !a->code[0])
        return LCB_RETRY_NONE;
    if (lcb_retry_is_throttle(a->code) || a->status == 429)
        return LCB_RETRY_THROTTLE;
    if (lcb_retry_is_skew(a->code))
        return LCB_RETRY_SKEW;
    if (lcb_retry_is_transient_code(a->code))
        return LCB_RETRY_TRANSIENT;
    if (a->status == 500 || a->status == 502 || a->status == 503 || a->status == 504)
        return LCB_RETRY_TRANSIENT;
    return LCB_RETRY_NONE;
}

void
lcb_retry_quota_init(struct lcb_retry_quota *q)
{
    q->tokens = LCB_RETRY_QUOTA;
}

int
lcb_retry_quota_take(struct lcb_retry_quota *q, enum lcb_retry_kind kind, int *cost)
{
    int c = kind == LCB_RETRY_TIMEOUT ? LCB_RETRY_TIMEOUT_COST : LCB_RETRY_COST;

    if (q->tokens < c)
        return 0;
    q->tokens -= c;
    if (cost)
        *cost = c;
    return 1;
}

void
lcb_retry_quota_success(struct lcb_retry_quota *q, int last_cost)
{
    q->tokens += last_cost > 0 ? last_cost : 1;
    if (q->tokens > LCB_RETRY_QUOTA)
        q->tokens = LCB_RETRY_QUOTA;
}

int64_t
lcb_retry_delay_ms(int n, double r, int64_t base_ms)
{
    int64_t cap, d;

    if (base_ms <= 0)
        base_ms = LCB_RETRY_BASE_MS;
    if (n < 1)
        n = 1;
    cap = LCB_RETRY_CAP_MS;
    d = n > 20 ? cap : base_ms << (n - 1);
    if (d > cap)
        d = cap;
    if (r < 0)
        r = 0;
    if (r >= 1)
        r = 0.999999;
    return (int64_t)(r * (double)d);
}

double
lcb_retry_rand(void)
{
    uint64_t v;
    struct lcb_err err;

    if (lcb_random(&v, sizeof(v), &err) < 0)
        v = (uint64_t)rand();
    return (double)(v >> 11) / 9007199254740992.0; /* 2^53 */
}

void
lcb_retry_attempt_text(struct lcb_buf *out, const struct lcb_retry_attempt *a)
{
    if (a->transport) {
        lcb_buf_adds(out, a->timeout ? "timeout" : "connection failed");
        return;
    }
    lcb_buf_addf(out, "%d", a->status);
    if (a->code[0])
        lcb_buf_addf(out, " %s", a->code);
}

static int
same_outcome(const struct lcb_retry_attempt *a, const struct lcb_retry_attempt *b)
{
    return a->status == b->status && a->transport == b->transport && a->timeout == b->timeout &&
           strcmp(a->code, b->code) == 0;
}

void
lcb_retry_summary(struct lcb_buf *out, const struct lcb_retry_attempt *a, size_t n)
{
    size_t i = 0, j;

    lcb_buf_addf(out, "%zu attempt%s: ", n, n == 1 ? "" : "s");
    while (i < n) {
        for (j = i + 1; j < n && same_outcome(&a[i], &a[j]); j++)
            ;
        if (i)
            lcb_buf_adds(out, ", ");
        lcb_retry_attempt_text(out, &a[i]);
        if (j - i > 1)
            lcb_buf_addf(out, " x%zu", j - i);
        i = j;
    }
}

int
lcb_retry_parse_http_date(const char *s, int64_t *out)
{
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    char wd[4], mon[4], zone[4];
    struct tm tm;
    int i;

    memset(&tm, 0, sizeof(tm));
    if (!s || sscanf(s, "%3[A-Za-z], %d %3s %d %d:%d:%d %3s", wd, &tm.tm_mday, mon, &tm.tm_year,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone) != 8)
        return -1;
    if (strcmp(zone, "GMT") != 0 && strcmp(zone, "UTC") != 0)
        return -1;
    for (i = 0; i < 12 && strcmp(mon, months[i]) != 0; i++)
        ;
    if (i == 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return -1;
    tm.tm_mon = i;
    tm.tm_year -= 1900;
    *out = (int64_t)timegm(&tm);
    return 0;
}
