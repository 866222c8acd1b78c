/* due.c - when a target is due, and its last successful backup; see jobs.h. */
#include <string.h>

#include "../catalog/catalog.h"
#include "../catalog/sync.h"
#include "../ext/db.h"
#include "jobs.h"

#define MAX_MISSED 1000

void
lcb_job_due(const struct lcb_schedule *s, const char *tz, time_t last_ok, time_t now,
            struct lcb_due *out)
{
    time_t t;

    memset(out, 0, sizeof(*out));
    out->last = last_ok;
    out->slot = lcb_schedule_prev(s, tz, now);
    out->next = lcb_schedule_next(s, tz, now);
    if (out->slot < 0)
        return;
    if (last_ok > 0 && last_ok >= out->slot)
        return;
    out->due = 1;
    if (last_ok <= 0) {
        out->missed = 1;
        return;
    }
    /* how many slots went by since the last backup: reported, but caught up by one backup */
    for (t = last_ok; out->missed < MAX_MISSED;) {
        t = lcb_schedule_next(s, tz, t);
        if (t < 0 || t > out->slot)
            break;
        out->missed++;
    }
}

int
lcb_job_last_ok(struct lcb_catalog *cat, enum lcb_kind k, const char *env, const char *target,
                time_t *out, struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc;

    *out = 0;
    if (lcb_db_prepare(&st, lcb_catalog_db(cat),
                       "SELECT MAX(started_at) FROM backups WHERE kind=?1 AND target=?2 AND "
                       "(?3 IS NULL OR env IS ?3) AND status IN ('completed','pending')",
                       err) < 0)
        return lcb_wrap(err, "last backup of %s %s", lcb_kind_name(k), target);
    lcb_stmt_text(st, 1, lcb_kind_name(k));
    lcb_stmt_text(st, 2, target);
    lcb_stmt_text(st, 3, env);
    rc = lcb_stmt_step(st, err);
    if (rc == 1 && !lcb_col_isnull(st, 0))
        *out = (time_t)lcb_col_int(st, 0);
    lcb_stmt_free(st);
    if (rc < 0)
        return lcb_wrap(err, "last backup of %s %s", lcb_kind_name(k), target);
    return 0;
}

char *
lcb_job_remote(const struct lcb_policy *p, const char *env, struct lcb_sync_remote *out)
{
    char *key = lcb_catalog_remote_key(p->prefix, env ? env : p->env);

    memset(out, 0, sizeof(*out));
    out->bucket = p->bucket;
    out->key = key;
    out->kms_key = p->kms_key;
    return key;
}
