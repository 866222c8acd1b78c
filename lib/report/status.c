/* status.c - per target: the last good backup, its age against the RPO, the last verification
 * and the last drill, read from the catalog; and the drills' reports. See report.h. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/db.h"
#include "../ext/json.h"
#include "../notify/notify.h"
#include "../policy/policy.h"

void
lcb_status_init(struct lcb_status *s)
{
    memset(s, 0, sizeof(*s));
}

void
lcb_status_release(struct lcb_status *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        struct lcb_status_row *r = &s->rows[i];
        free(r->kind);
        free(r->target);
        free(r->backup_id);
        free(r->drill_id);
        free(r->drill_status);
    }
    free(s->rows);
    free(s->env);
    memset(s, 0, sizeof(*s));
}

struct lcb_status_row *
lcb_status_add(struct lcb_status *s, const char *kind, const char *target)
{
    struct lcb_status_row *r;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->rows = lcb_xrealloc(s->rows, s->cap * sizeof(*s->rows));
    }
    r = &s->rows[s->n++];
    memset(r, 0, sizeof(*r));
    r->kind = lcb_xstrdup(kind);
    r->target = lcb_xstrdup(target ? target : "");
    r->age = -1;
    r->drill_rto = -1;
    return r;
}

int
lcb_status_rpo_ok(const struct lcb_status_row *r)
{
    if (r->rpo_target <= 0)
        return -1;
    return r->backup_id && r->age >= 0 && r->age <= r->rpo_target;
}

static int
fill_backup(struct lcb_status_row *r, struct lcb_catalog *cat, const char *env, time_t now,
            struct lcb_err *err)
{
    struct lcb_backup b;

    memset(&b, 0, sizeof(b));
    if (lcb_catalog_backup_latest(cat, r->kind, r->target, env, &b, err) < 0) {
        if (err->code == LCB_ENOTFOUND) {
            lcb_err_clear(err);
            return 0;
        }
        return -1;
    }
    r->backup_id = lcb_xstrdup(b.id);
    r->taken_at = b.taken_at ? b.taken_at : b.completed_at;
    r->age = r->taken_at ? (int64_t)(now - r->taken_at) : -1;
    lcb_backup_release(&b);
    return 0;
}

static int
fill_verified(struct lcb_status_row *r, struct lcb_db *db, const char *env, struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc;

    if (lcb_db_prepare(&st, db,
                       "SELECT max(verified_at) FROM backups WHERE kind = ?1 AND "
                       "target = ?2 AND (?3 IS NULL OR env = ?3)",
                       err) < 0)
        return -1;
    lcb_stmt_text(st, 1, r->kind);
    lcb_stmt_text(st, 2, r->target);
    lcb_stmt_text(st, 3, env);
    rc = lcb_stmt_step(st, err);
    if (rc == 1 && !lcb_col_isnull(st, 0))
        r->verified_at = (time_t)lcb_col_int(st, 0);
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

static int
fill_drill(struct lcb_status_row *r, struct lcb_db *db, struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc;

    if (lcb_db_prepare(&st, db,
                       "SELECT d.id, d.started_at, json_extract(c.value, '$.status'), "
                       "json_extract(c.value, '$.rto_seconds') "
                       "FROM drills d, json_each(d.report, '$.components') c "
                       "WHERE d.report IS NOT NULL AND json_valid(d.report) "
                       "AND json_extract(c.value, '$.component') = ? "
                       "AND json_extract(c.value, '$.target') = ? "
                       "ORDER BY d.started_at DESC, d.id DESC LIMIT 1",
                       err) < 0)
        return -1;
    lcb_stmt_text(st, 1, r->kind);
    lcb_stmt_text(st, 2, r->target);
    rc = lcb_stmt_step(st, err);
    if (rc == 1) {
        r->drill_id = lcb_xstrdup(lcb_col_text(st, 0));
        r->drilled_at = (time_t)lcb_col_int(st, 1);
        r->drill_status = lcb_xstrdup(lcb_col_text(st, 2) ? lcb_col_text(st, 2) : "?");
        r->drill_rto = lcb_col_isnull(st, 3) ? -1 : lcb_col_double(st, 3);
    }
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

static int
fill_row(struct lcb_status_row *r, struct lcb_catalog *cat, const char *env, time_t now,
         struct lcb_err *err)
{
    struct lcb_db *db = lcb_catalog_db(cat);

    if (fill_backup(r, cat, env, now, err) < 0 || fill_verified(r, db, env, err) < 0 ||
        fill_drill(r, db, err) < 0)
        return lcb_wrap(err, "status of %s %s", r->kind, r->target);
    return 0;
}

/* Without a policy: every kind/target with backups in env. */
static int
catalog_targets(struct lcb_status *s, struct lcb_catalog *cat, const char *env, struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc;

    if (lcb_db_prepare(&st, lcb_catalog_db(cat),
                       "SELECT DISTINCT kind, target FROM backups WHERE target IS NOT NULL "
                       "AND (?1 IS NULL OR env = ?1) ORDER BY kind, target",
                       err) < 0)
        return -1;
    lcb_stmt_text(st, 1, env);
    while ((rc = lcb_stmt_step(st, err)) == 1)
        lcb_status_add(s, lcb_col_text(st, 0), lcb_col_text(st, 1));
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

int
lcb_status_load(struct lcb_status *s, struct lcb_catalog *cat, const struct lcb_policy *p,
                const char *env, time_t now, struct lcb_err *err)
{
    size_t i;

    s->now = now;
    s->env = env ? lcb_xstrdup(env) : NULL;
    if (p) {
        /* the RPO the alarms use (lib/notify): drill.rpo_target, else twice the schedule */
        for (i = 0; i < p->ntargets; i++)
            lcb_status_add(s, lcb_kind_name(p->targets[i].kind), p->targets[i].name)->rpo_target =
                (int64_t)lcb_alarm_rpo(p, i, now);
    } else if (catalog_targets(s, cat, env, err) < 0) {
        return -1;
    }
    for (i = 0; i < s->n; i++)
        if (fill_row(&s->rows[i], cat, env, now, err) < 0)
            return -1;
    return 0;
}

/* ---- drills ---- */

void
lcb_drill_history_init(struct lcb_drill_history *h)
{
    memset(h, 0, sizeof(*h));
}

void
lcb_drill_history_release(struct lcb_drill_history *h)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        lcb_drill_run_release(&h->runs[i]);
    free(h->runs);
    memset(h, 0, sizeof(*h));
}

static int
parse_report(struct lcb_drill_run *out, const char *id, const char *text, struct lcb_err *err)
{
    struct lcb_json *j = NULL;
    int rc;

    if (lcb_json_parse(&j, text, strlen(text), err) < 0) {
        lcb_drill_run_init(out, id, 0, 0);
        return lcb_wrap(err, "drill %s: report", id);
    }
    rc = lcb_drill_report_parse(out, j, err);
    lcb_json_free(j);
    return rc < 0 ? lcb_wrap(err, "drill %s: report", id) : 0;
}

int
lcb_drill_history_load(struct lcb_drill_history *h, struct lcb_catalog *cat, time_t since,
                       const char *env, struct lcb_err *err)
{
    struct lcb_stmt *st;
    struct lcb_err perr;
    char line[512];
    int rc;

    if (lcb_db_prepare(&st, lcb_catalog_db(cat),
                       "SELECT id, report FROM drills WHERE report IS NOT NULL AND started_at >= ? "
                       "ORDER BY started_at, id",
                       err) < 0)
        return -1;
    lcb_stmt_int(st, 1, (long long)since);
    while ((rc = lcb_stmt_step(st, err)) == 1) {
        struct lcb_drill_run run;
        lcb_err_clear(&perr);
        if (parse_report(&run, lcb_col_text(st, 0), lcb_col_text(st, 1), &perr) < 0) {
            lcb_log(LCB_WARN, "report.drill.skip", "skipping a drill: %s",
                    lcb_err_format(&perr, line, sizeof(line)));
            lcb_drill_run_release(&run);
            continue;
        }
        if (env && run.env && strcmp(env, run.env) != 0) {
            lcb_drill_run_release(&run);
            continue;
        }
        if (h->n == h->cap) {
            h->cap = h->cap ? h->cap * 2 : 16;
            h->runs = lcb_xrealloc(h->runs, h->cap * sizeof(*h->runs));
        }
        h->runs[h->n++] = run;
    }
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

int
lcb_drill_load(struct lcb_drill_run *out, struct lcb_catalog *cat, const char *id,
               struct lcb_err *err)
{
    struct lcb_stmt *st;
    char found[64] = "", status[32] = "";
    char *report = NULL;
    int rc, n = 0;

    lcb_drill_run_init(out, id, 0, 0);
    rc =
        lcb_db_prepare(&st, lcb_catalog_db(cat),
                       id ? "SELECT id, status, report FROM drills WHERE id = ?1 OR "
                            "(substr(id, 1, length(?1)) = ?1 AND NOT EXISTS "
                            "(SELECT 1 FROM drills WHERE id = ?1)) ORDER BY started_at DESC LIMIT 2"
                          : "SELECT id, status, report FROM drills WHERE report IS NOT NULL "
                            "ORDER BY started_at DESC, id DESC LIMIT 1",
                       err);
    if (rc < 0)
        return -1;
    if (id)
        lcb_stmt_text(st, 1, id);
    while ((rc = lcb_stmt_step(st, err)) == 1 && n++ == 0) {
        snprintf(found, sizeof(found), "%s", lcb_col_text(st, 0));
        snprintf(status, sizeof(status), "%s", lcb_col_text(st, 1) ? lcb_col_text(st, 1) : "?");
        report = lcb_col_text(st, 2) ? lcb_xstrdup(lcb_col_text(st, 2)) : NULL;
    }
    lcb_stmt_free(st);
    if (rc < 0)
        rc = -1;
    else if (n == 0)
        rc = id ? lcb_err_set(err, LCB_ENOTFOUND, "no drill '%s' in the catalog", id)
                : lcb_err_set(err, LCB_ENOTFOUND,
                              "no drill report in the catalog yet: run "
                              "`lcbackup drill` first");
    else if (n > 1)
        rc = lcb_err_set(err, LCB_EUSAGE, "'%s' matches several drills: give more of the id", id);
    else if (!report)
        rc = lcb_err_set(err, LCB_ENOTFOUND, "drill %s has no report (it is %s)", found, status);
    else {
        lcb_drill_run_release(out);
        rc = parse_report(out, found, report, err);
    }
    free(report);
    return rc;
}
