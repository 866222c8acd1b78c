/*
 * waiter.h - waiting for an AWS resource to reach a state (a snapshot `available`, a volume
 * `available`, an instance no longer `backing-up`), as botocore's waiters do, with a growing
 * interval, a deadline and signals honoured.
 *
 *   struct lcb_waiter w; int64_t d;
 *   lcb_waiter_init(&w, lcb_mono_ms(), timeout_secs);
 *   for (;;) {
 *       describe ...; if (done) break;
 *       if ((d = lcb_waiter_delay(&w, lcb_mono_ms())) < 0) -> timed out
 *       if (lcb_waiter_sleep(d, err) < 0) -> interrupted
 *   }
 *
 * The schedule is pure (tests/unit/rds_test.c): the first delay is min_ms (1 s), each next one
 * 1.5 times the last, capped at max_ms (30 s), and trimmed so that the last poll happens at the
 * deadline itself. Nothing here talks to AWS.
 */
#ifndef LCB_AWS_WAITER_H
#define LCB_AWS_WAITER_H

#include <stdint.h>

#include "../core/err.h"

#define LCB_WAITER_MIN_MS 1000
#define LCB_WAITER_MAX_MS 30000

/* What a resource's state means to a waiter. */
enum lcb_wait {
    LCB_WAIT_PENDING, /* still on its way: poll again */
    LCB_WAIT_DONE,    /* the state waited for */
    LCB_WAIT_FAILED,  /* a state it will not come back from (failed, error, deleted...) */
};

struct lcb_waiter {
    int64_t start_ms;
    int64_t deadline_ms; /* 0: no deadline */
    int64_t last_ms;     /* the previous delay; 0 before the first */
    int64_t min_ms, max_ms;
    unsigned polls; /* delays handed out so far */
};

/* Start waiting at now_ms (monotonic) for at most timeout_secs (0: no limit). */
void lcb_waiter_init(struct lcb_waiter *w, int64_t now_ms, int64_t timeout_secs);
/* The delay before the next poll, or -1 once the deadline has passed (a timeout). */
int64_t lcb_waiter_delay(struct lcb_waiter *w, int64_t now_ms);
/* Seconds since the start. */
double lcb_waiter_elapsed(const struct lcb_waiter *w, int64_t now_ms);
/* Sleep ms, in short steps so that SIGINT/SIGTERM end it. Returns 0, or -1 with LCB_EINTR. */
int lcb_waiter_sleep(int64_t ms, struct lcb_err *err);

#endif
