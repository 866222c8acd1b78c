/*
 * teardown.h - what a drill must undo, registered the moment it exists and undone whatever
 * happens: on success, on a failed check, on a timeout and on SIGINT/SIGTERM.
 *
 *   lcb_teardown_push(&td, "rds instance lcb-drill-x", delete_instance, ctx, NULL);
 *   ... the drill goes on, fails or is interrupted ...
 *   failed = lcb_teardown_run(&td, &report);
 *
 * Items run last-registered first, every one of them even when one fails. Signals are held while
 * they run (lcb_sig_hold: the requests they make would otherwise be cut off by the signal that
 * started the teardown), so the command still exits 130/143 afterwards; a second signal during
 * the teardown ends its waits, and what is left is swept by the next drill (every resource carries
 * an expiry tag). Functions must bound their own waits with their own deadline.
 *
 * Ownership: struct lcb_teardown is caller-owned (_init/_release); it owns each item's `what` and
 * calls its free_ud (when given) on the ud once the item has run or on release.
 */
#ifndef LCB_DRILL_TEARDOWN_H
#define LCB_DRILL_TEARDOWN_H

#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"

/* Undo one thing. Returns 0, or -1 with err (the item is reported as failed). */
typedef int (*lcb_teardown_fn)(void *ud, struct lcb_err *err);

struct lcb_teardown_item {
    char *what;
    lcb_teardown_fn fn;
    void *ud;
    void (*free_ud)(void *ud);
};

struct lcb_teardown {
    struct lcb_teardown_item *items;
    size_t n, cap;
    int held_signal; /* the signal pending when lcb_teardown_run began, 0: none */
};

void lcb_teardown_init(struct lcb_teardown *td);
/* Free what is left without running it (lcb_teardown_run empties the registry). */
void lcb_teardown_release(struct lcb_teardown *td);
/* Register an undo step; returns its index (for lcb_teardown_cancel). */
size_t lcb_teardown_push(struct lcb_teardown *td, const char *what, lcb_teardown_fn fn, void *ud,
                         void (*free_ud)(void *ud));
/* Drop item idx without running it (the thing was undone another way). */
void lcb_teardown_cancel(struct lcb_teardown *td, size_t idx);
/* Run every item, newest first, and empty the registry. Failures are appended to report as
 * "what: error" lines (report may be NULL) and logged. Returns the number of failed items. */
int lcb_teardown_run(struct lcb_teardown *td, struct lcb_buf *report);

/* Sleep ms in short steps, stopping early for a signal (inside lcb_teardown_run: only for one that
 * arrives during the teardown). Returns 0, or -1 with LCB_EINTR. */
int lcb_teardown_sleep(long long ms, struct lcb_err *err);

#endif
