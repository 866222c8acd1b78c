/* expire.c - applying an expiry plan to one target: delete, mark, explain; see expire.h. */
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/db.h"
#include "expire.h"

void
lcb_expire_report_init(struct lcb_expire_report *r)
{
    memset(r, 0, sizeof(*r));
}

void
lcb_expire_report_release(struct lcb_expire_report *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        free(r->items[i].id);
        free(r->items[i].kind);
        free(r->items[i].target);
        free(r->items[i].location);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}

const char *
lcb_expire_action_name(enum lcb_expire_action a)
{
    static const char *const names[] = { "keep", "expire", "skipped", "failed" };

    return names[a];
}

static void
report_add(struct lcb_expire_report *rep, const struct lcb_backup *b, enum lcb_expire_action a,
           const char *why)
{
    struct lcb_expire_decision *d;

    if (rep->n == rep->cap) {
        rep->cap = rep->cap ? rep->cap * 2 : 16;
        rep->items = lcb_xrealloc(rep->items, rep->cap * sizeof(*rep->items));
    }
    d = &rep->items[rep->n++];
    memset(d, 0, sizeof(*d));
    d->id = lcb_xstrdup(b->id);
    d->kind = lcb_xstrdup(b->kind);
    d->target = lcb_xstrdup(b->target ? b->target : "");
    d->location = lcb_xstrdup(b->location ? b->location : "");
    d->taken = b->taken_at ? b->taken_at : b->started_at;
    d->action = a;
    snprintf(d->why, sizeof(d->why), "%s", why);
    if (a == LCB_EXPIRE_KEEP)
        rep->kept++;
    else if (a == LCB_EXPIRE_GONE)
        rep->gone++;
    else if (a == LCB_EXPIRE_SKIPPED)
        rep->skipped++;
    else
        rep->failed++;
}

/* Record the keep reason when it changed (what `show` prints and a later expire compares). */
static int
record_keep(struct lcb_catalog *cat, struct lcb_backup *b, const char *why, struct lcb_err *err)
{
    if (b->keep_reason && strcmp(b->keep_reason, why) == 0)
        return 0;
    free(b->keep_reason);
    b->keep_reason = lcb_xstrdup(why);
    return lcb_catalog_backup_update(cat, b, err);
}

static int
mark_expired(const struct lcb_job_ctx *jc, struct lcb_backup *b, struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc;

    free(b->keep_reason);
    b->keep_reason = NULL;
    if (lcb_catalog_backup_update(jc->cat, b, err) < 0 ||
        lcb_catalog_backup_set_status(jc->cat, b->id, "expired", NULL, err) < 0)
        return -1;
    if (lcb_db_prepare(&st, lcb_catalog_db(jc->cat),
                       "UPDATE copies SET status='expired', updated_at=?1 WHERE backup_id=?2 AND "
                       "status NOT IN ('expired','deleted')",
                       err) < 0)
        return -1;
    lcb_stmt_int(st, 1, (long long)lcb_now());
    lcb_stmt_text(st, 2, b->id);
    rc = lcb_stmt_step(st, err);
    lcb_stmt_free(st);
    if (rc < 0)
        return -1;
    return lcb_catalog_event(jc->cat, jc->run_id, b->id, "backup.expired", "retention", err);
}

/* Delete one backup that no rule keeps, and record the outcome. Returns -1 only for catalog
 * errors; a failed delete is a decision (FAILED), logged and counted. */
static int
expire_one(const struct lcb_job_ctx *jc, struct lcb_backup *b, struct lcb_expire_report *rep,
           struct lcb_err *err)
{
    const struct lcb_job_kind *k = lcb_job_kind((enum lcb_kind)lcb_kind_parse(b->kind));
    struct lcb_job_deleted del;
    struct lcb_err derr;
    char line[LCB_ERR_MSG_LEN + 256];
    int rc;

    lcb_err_clear(&derr);
    if (!k->del) {
        snprintf(line, sizeof(line), "deleting %s backups is not available in this build",
                 b->kind);
        report_add(rep, b, LCB_EXPIRE_FAILED, line);
        return 0;
    }
    rc = k->del(jc, b, &del, &derr);
    if (jc->dry_run) {
        report_add(rep, b, rc < 0 ? LCB_EXPIRE_FAILED : LCB_EXPIRE_GONE,
                   rc < 0 ? lcb_err_format(&derr, line, sizeof(line)) : "expire: no rule keeps it");
        return 0;
    }
    if (rc == 1) {
        lcb_logf(LCB_INFO, "expire.skipped", LCB_FIELDS(LCB_KV_S("backup", b->id)),
                 "%s: kept for now, %s", b->id, del.why);
        report_add(rep, b, LCB_EXPIRE_SKIPPED, del.why);
        if (record_keep(jc->cat, b, del.why, err) < 0)
            return -1;
        return lcb_catalog_event(jc->cat, jc->run_id, b->id, "backup.expire.skipped", del.why,
                                 err);
    }
    if (rc < 0) {
        lcb_err_format(&derr, line, sizeof(line));
        lcb_logf(LCB_WARN, "expire.failed", LCB_FIELDS(LCB_KV_S("backup", b->id)), "%s", line);
        report_add(rep, b, LCB_EXPIRE_FAILED, line);
        return lcb_catalog_event(jc->cat, jc->run_id, b->id, "backup.expire.failed", line, err);
    }
    lcb_logf(LCB_INFO, "expire.done", LCB_FIELDS(LCB_KV_S("backup", b->id)), "%s expired", b->id);
    report_add(rep, b, LCB_EXPIRE_GONE, "expire: no rule keeps it");
    return mark_expired(jc, b, err);
}

/* When a drill last restored this backup and passed (its report's components), or 0. A drill that
 * did not set verified_at still counts for the newest-verified rail. */
static int
drill_verified(struct lcb_catalog *cat, const char *id, time_t *out, struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc;

    *out = 0;
    if (lcb_db_prepare(&st, lcb_catalog_db(cat),
                       "SELECT MAX(d.ended_at) FROM drills d, json_each(CASE WHEN "
                       "json_valid(d.report) THEN d.report ELSE '{}' END, '$.components') c "
                       "WHERE json_extract(c.value, '$.status') = 'passed' AND "
                       "json_extract(c.value, '$.backup_id') = ?1",
                       err) < 0)
        return -1;
    lcb_stmt_text(st, 1, id);
    rc = lcb_stmt_step(st, err);
    if (rc == 1 && !lcb_col_isnull(st, 0))
        *out = (time_t)lcb_col_int(st, 0);
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

static int
fill_items(struct lcb_catalog *cat, const struct lcb_backup_list *l,
           struct lcb_expire_item *items, struct lcb_err *err)
{
    time_t drilled;
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct lcb_backup *b = &l->items[i];
        memset(&items[i], 0, sizeof(items[i]));
        items[i].taken = b->taken_at ? b->taken_at : b->started_at;
        items[i].completed = strcmp(b->status, "completed") == 0;
        items[i].verified_at = b->verified_at;
        items[i].hold = b->hold != NULL && b->hold[0] != '\0';
        if (!items[i].completed)
            continue;
        if (drill_verified(cat, b->id, &drilled, err) < 0)
            return -1;
        if (drilled > items[i].verified_at)
            items[i].verified_at = drilled;
    }
    return 0;
}

int
lcb_expire_target(const struct lcb_job_ctx *jc, const struct lcb_target *t, int explain_only,
                  struct lcb_expire_report *rep, struct lcb_err *err)
{
    struct lcb_backup_filter f;
    struct lcb_backup_list l = { NULL, 0 };
    struct lcb_expire_item *items;
    char why[320];
    size_t i;
    int rc = 0;

    memset(&f, 0, sizeof(f));
    f.kind = lcb_kind_name(t->kind);
    f.env = jc->env;
    f.target = t->name;
    if (lcb_catalog_backup_list(jc->cat, &f, &l, err) < 0)
        return lcb_wrap(err, "expire %s %s", f.kind, t->name);
    items = lcb_xcalloc(l.n ? l.n : 1, sizeof(*items));
    if (fill_items(jc->cat, &l, items, err) < 0)
        rc = -1;
    else
        lcb_expire_plan(&t->retention, jc->policy ? jc->policy->timezone : NULL, lcb_now(),
                        items, l.n);
    for (i = 0; i < l.n && rc == 0; i++) {
        if (!items[i].completed)
            continue;
        lcb_expire_why(&items[i], why, sizeof(why));
        if (!items[i].expire) {
            report_add(rep, &l.items[i], LCB_EXPIRE_KEEP, why);
            if (!explain_only && !jc->dry_run)
                rc = record_keep(jc->cat, &l.items[i], why, err);
        } else if (explain_only) {
            report_add(rep, &l.items[i], LCB_EXPIRE_GONE, why);
        } else {
            rc = expire_one(jc, &l.items[i], rep, err);
        }
    }
    free(items);
    lcb_backup_list_release(&l);
    if (rc < 0)
        return lcb_wrap(err, "expire %s %s", f.kind, t->name);
    return 0;
}
