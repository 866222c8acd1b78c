/* teardown.c - the drill's undo registry; see teardown.h. */
#include "teardown.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../core/mem.h"
#include "../core/sig.h"

void
lcb_teardown_init(struct lcb_teardown *td)
{
    memset(td, 0, sizeof(*td));
}

static void
item_free(struct lcb_teardown_item *it)
{
    if (it->free_ud)
        it->free_ud(it->ud);
    free(it->what);
    memset(it, 0, sizeof(*it));
}

void
lcb_teardown_release(struct lcb_teardown *td)
{
    size_t i;

    for (i = 0; i < td->n; i++)
        item_free(&td->items[i]);
    free(td->items);
    memset(td, 0, sizeof(*td));
}

size_t
lcb_teardown_push(struct lcb_teardown *td, const char *what, lcb_teardown_fn fn, void *ud,
                  void (*free_ud)(void *ud))
{
    struct lcb_teardown_item *it;

    if (td->n == td->cap) {
        td->cap = td->cap ? td->cap * 2 : 8;
        td->items = lcb_xrealloc(td->items, td->cap * sizeof(*td->items));
    }
    it = &td->items[td->n];
    it->what = lcb_xstrdup(what);
    it->fn = fn;
    it->ud = ud;
    it->free_ud = free_ud;
    return td->n++;
}

void
lcb_teardown_cancel(struct lcb_teardown *td, size_t idx)
{
    if (idx < td->n && td->items[idx].fn) {
        if (td->items[idx].free_ud)
            td->items[idx].free_ud(td->items[idx].ud);
        td->items[idx].free_ud = NULL;
        td->items[idx].fn = NULL;
    }
}

int
lcb_teardown_run(struct lcb_teardown *td, struct lcb_buf *report)
{
    struct lcb_err err;
    char line[1024];
    int failed = 0;
    size_t i;

    td->held_signal = lcb_sig_pending();
    lcb_sig_hold();
    if (td->held_signal)
        lcb_log(LCB_WARN, "drill.teardown.signal",
                "interrupted: tearing down before exiting "
                "(a second signal abandons the teardown to the next drill's sweep)");
    for (i = td->n; i-- > 0;) {
        struct lcb_teardown_item *it = &td->items[i];
        if (!it->fn) {
            item_free(it);
            continue;
        }
        lcb_err_clear(&err);
        if (it->fn(it->ud, &err) < 0) {
            failed++;
            lcb_err_format(&err, line, sizeof(line));
            lcb_logf(LCB_ERROR, "drill.teardown.failed", LCB_FIELDS(LCB_KV_S("what", it->what)),
                     "teardown of %s failed: %s", it->what, line);
            if (report)
                lcb_buf_addf(report, "%s: %s\n", it->what, line);
        }
        item_free(it);
    }
    td->n = 0;
    lcb_sig_unhold();
    return failed;
}

int
lcb_teardown_sleep(long long ms, struct lcb_err *err)
{
    struct timespec ts;

    while (ms > 0) {
        long long step = ms > 100 ? 100 : ms;
        if (lcb_sig_pending())
            return lcb_err_set(err, LCB_EINTR, "interrupted again during the teardown");
        ts.tv_sec = (time_t)(step / 1000);
        ts.tv_nsec = (long)(step % 1000) * 1000000L;
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return 0;
}
