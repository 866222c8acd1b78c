/* waiter.c - waiting for AWS resources; see waiter.h. */
#include "waiter.h"

#include <time.h>

#include "../core/sig.h"

void
lcb_waiter_init(struct lcb_waiter *w, int64_t now_ms, int64_t timeout_secs)
{
    w->start_ms = now_ms;
    w->deadline_ms = timeout_secs > 0 ? now_ms + timeout_secs * 1000 : 0;
    w->last_ms = 0;
    w->min_ms = LCB_WAITER_MIN_MS;
    w->max_ms = LCB_WAITER_MAX_MS;
    w->polls = 0;
}

int64_t
lcb_waiter_delay(struct lcb_waiter *w, int64_t now_ms)
{
    int64_t d;

    if (w->deadline_ms && now_ms >= w->deadline_ms)
        return -1;
    d = w->last_ms ? w->last_ms + w->last_ms / 2 : w->min_ms;
    if (d > w->max_ms)
        d = w->max_ms;
    w->last_ms = d;
    w->polls++;
    if (w->deadline_ms && now_ms + d > w->deadline_ms)
        d = w->deadline_ms - now_ms; /* one last look at the deadline itself */
    return d;
}

double
lcb_waiter_elapsed(const struct lcb_waiter *w, int64_t now_ms)
{
    return (double)(now_ms - w->start_ms) / 1000.0;
}

int
lcb_waiter_sleep(int64_t ms, struct lcb_err *err)
{
    struct timespec ts;

    while (ms > 0) {
        int64_t step = ms > 100 ? 100 : ms;
        if (lcb_sig_pending())
            return lcb_err_set(err, LCB_EINTR, "interrupted while waiting");
        ts.tv_sec = (time_t)(step / 1000);
        ts.tv_nsec = (long)(step % 1000) * 1000000L;
        nanosleep(&ts, NULL);
        ms -= step;
    }
    if (lcb_sig_pending())
        return lcb_err_set(err, LCB_EINTR, "interrupted while waiting");
    return 0;
}
