/*
 * retry.h - the standard retry mode of the AWS SDKs, as pure decisions (aws-wire.md 5).
 *
 * What to retry: throttling codes, transient codes, HTTP 500/502/503/504, connection failures and
 * timeouts; clock-skew errors once, after the caller corrected its clock. How long to wait: full
 * jitter, rand(0,1) * min(base * 2^(retry-1), 20 s), base 1 s. How often: max attempts (default 3)
 * and a retry quota (a token bucket of 500; a retry costs 5, a retry after a timeout 10; success
 * refunds the last cost, or adds 1 after a first-try success). Also the one-line summary of every
 * attempt that the final error carries ("3 attempts: 503 SlowDown x2, timeout").
 *
 * The quota is a plain struct owned by the client (one per lcb_aws); nothing here sleeps.
 */
#ifndef LCB_AWS_RETRY_H
#define LCB_AWS_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/err.h"

#define LCB_RETRY_DEFAULT_ATTEMPTS 3
#define LCB_RETRY_BASE_MS 1000
#define LCB_RETRY_CAP_MS 20000
#define LCB_RETRY_QUOTA 500
#define LCB_RETRY_COST 5
#define LCB_RETRY_TIMEOUT_COST 10
#define LCB_RETRY_SKEW_SECS 300 /* correct the clock when |server - local| >= 5 min */
#define LCB_RETRY_MAX_ATTEMPTS_LOG 16

enum lcb_retry_kind {
    LCB_RETRY_NONE,      /* do not retry */
    LCB_RETRY_THROTTLE,  /* throttling code */
    LCB_RETRY_TRANSIENT, /* 5xx, transient code, connection refused/reset */
    LCB_RETRY_TIMEOUT,   /* the request timed out */
    LCB_RETRY_SKEW,      /* a clock-skew error: retry once the clock offset is corrected */
};

/* One attempt's outcome, as recorded for the summary. */
struct lcb_retry_attempt {
    int status;      /* HTTP status, 0 when none arrived */
    char code[48];   /* AWS error code, or "" */
    int transport;   /* lcb code of a transport failure (LCB_ETEMP...), 0 when a response came */
    int timeout;     /* the transport failure was a timeout */
};

struct lcb_retry_quota {
    int tokens;
};

void lcb_retry_quota_init(struct lcb_retry_quota *q);
/* Take the cost of a retry of this kind. Returns 1 when granted, 0 when the quota is exhausted. */
int lcb_retry_quota_take(struct lcb_retry_quota *q, enum lcb_retry_kind kind, int *cost);
/* A request succeeded: refund last_cost (the cost of its last retry), or 1 when it had none. */
void lcb_retry_quota_success(struct lcb_retry_quota *q, int last_cost);

int lcb_retry_is_throttle(const char *code);
int lcb_retry_is_transient_code(const char *code);
int lcb_retry_is_skew(const char *code);
/* Might a call that failed with err have taken effect, so that a create must look before it tries
 * again? A 5xx, a timeout or a lost connection (LCB_ETEMP without a status): yes; throttling: no.
 */
int lcb_retry_maybe_done(const struct lcb_err *err);

/* Classify an attempt: a response (status, code) or a transport failure (transport = the lcb code
 * from lcb_http_send, timeout set when it was a timeout). */
enum lcb_retry_kind lcb_retry_classify(const struct lcb_retry_attempt *a);

/* The delay before retry number n (1 for the first retry), given r in [0, 1): full jitter with
 * base LCB_RETRY_BASE_MS (base_ms 0) and cap LCB_RETRY_CAP_MS. */
int64_t lcb_retry_delay_ms(int n, double r, int64_t base_ms);
/* A uniform random number in [0, 1) from the secure generator (falls back to rand()). */
double lcb_retry_rand(void);

/* The summary line "3 attempts: 503 SlowDown x2, timeout" (consecutive equal outcomes folded),
 * appended to out. */
void lcb_retry_summary(struct lcb_buf *out, const struct lcb_retry_attempt *a, size_t n);
/* One attempt as text: "503 SlowDown", "timeout", "connection failed". */
void lcb_retry_attempt_text(struct lcb_buf *out, const struct lcb_retry_attempt *a);

/* Parse an HTTP Date header (RFC 1123 "Sun, 30 Aug 2015 12:36:00 GMT"). Returns 0 or -1. */
int lcb_retry_parse_http_date(const char *s, int64_t *out);

#endif
