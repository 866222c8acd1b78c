/*
 * expire.h - which backups of a target expire, and deleting them: the retention rules of
 * lib/policy/retention.h plus lcbackup's safety rails (docs/retention.md).
 *
 * The planner is pure: lcb_expire_plan() takes a target's backups and decides, for each one, the
 * rules that keep it, the rails that protect it, or that it expires. Only completed backups take
 * part; running, pending, failed and already expired ones are never deleted by expiry. The rails
 * only ever keep more: the newest completed backup, the newest drill-verified one (verified_at
 * set, or a passed component of a drill's report names it), and any backup with a hold. Object Lock is the fourth rail: only S3 knows it, so the
 * delete of an archive under retention is skipped and reported (lcb_expire_target), never an
 * error.
 *
 * lcb_expire_target() applies a plan: deletes through the kind's function (lib/jobs/jobs.h), marks
 * the catalog (status expired, copies expired, events) and records the keep reasons of what stays.
 * lcb_expire_simulate() replays a target's schedule for N days, expiring after every backup as
 * `run` does, so a policy author sees which backups would exist on each day.
 */
#ifndef LCB_JOBS_EXPIRE_H
#define LCB_JOBS_EXPIRE_H

#include <stddef.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../policy/policy.h"
#include "jobs.h"

enum {
    LCB_RAIL_NEWEST = 1 << 0,   /* the newest completed backup of the target */
    LCB_RAIL_VERIFIED = 1 << 1, /* the newest drill-verified backup of the target */
    LCB_RAIL_HOLD = 1 << 2,     /* held (catalog hold) */
    LCB_RAIL_LOCK = 1 << 3,     /* under Object Lock (known only when the delete was tried) */
};

struct lcb_expire_item {
    /* in */
    time_t taken;       /* recovery point */
    int completed;      /* only completed backups take part */
    time_t verified_at; /* 0: never verified by a drill */
    int hold;
    /* out */
    unsigned reasons; /* LCB_KEEP_* from the retention rules */
    unsigned rails;   /* LCB_RAIL_* */
    int expire;       /* 1: no rule and no rail keeps it */
};

/* Decide for items[0..n) (any order). Pure. */
void lcb_expire_plan(const struct lcb_retention *r, const char *tz, time_t now,
                     struct lcb_expire_item *items, size_t n);
/* Why an item stays or goes, for --explain and the catalog's keep_reason: "last,daily",
 * "newest-completed", "last,hold", "expire: no rule keeps it" (truncated to fit). Returns out. */
char *lcb_expire_why(const struct lcb_expire_item *it, char *out, size_t size);

/* A retention in words: "keep_last 3, daily 7, keep_within 1d 12h" (appended to out). */
void lcb_expire_describe(const struct lcb_retention *r, struct lcb_buf *out);

/* ---- applying a plan ---- */

enum lcb_expire_action {
    LCB_EXPIRE_KEEP,     /* kept by a rule or a rail */
    LCB_EXPIRE_GONE,     /* deleted now (or would be, in a dry run or an explanation) */
    LCB_EXPIRE_SKIPPED,  /* should go, but Object Lock keeps it for now */
    LCB_EXPIRE_FAILED,   /* the delete failed; tried again next time */
};

struct lcb_expire_decision {
    char *id;
    char *kind;
    char *target;
    char *location;
    time_t taken;
    enum lcb_expire_action action;
    char why[320];
};

struct lcb_expire_report {
    struct lcb_expire_decision *items;
    size_t n, cap;
    int kept, gone, skipped, failed;
};

void lcb_expire_report_init(struct lcb_expire_report *r);
void lcb_expire_report_release(struct lcb_expire_report *r);
const char *lcb_expire_action_name(enum lcb_expire_action a);

/* Expire one target's backups in jc->env: plan, then (unless explain_only or jc->dry_run) delete
 * and record. In a dry run the kind's delete prints its API calls. Decisions are appended to rep.
 * Returns 0 (failed deletes are counted in rep->failed, not errors), or -1 on a catalog error. */
int lcb_expire_target(const struct lcb_job_ctx *jc, const struct lcb_target *t, int explain_only,
                      struct lcb_expire_report *rep, struct lcb_err *err);

/* ---- simulation ---- */

/* Called once per local day with the backups that exist at its end (newest first). */
typedef void (*lcb_expire_day_fn)(void *ud, time_t day, const time_t *kept, size_t n);

/* Replay t's schedule from `from` for `days` local days in tz, starting with no backup: a backup at
 * each scheduled time, expiry right after it (now = that time). Returns the most backups that
 * existed at once. */
size_t lcb_expire_simulate(const struct lcb_target *t, const char *tz, time_t from, int days,
                           lcb_expire_day_fn fn, void *ud);

#endif
