/* backups.c - backup, copy, restore and drill rows; see catalog.h. */
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "../ext/db.h"
#include "catalog.h"
#include "internal.h"

#define BACKUP_COLUMNS                                                                             \
    "id, kind, env, target, source, location, region, status, started_at, completed_at, "         \
    "taken_at, size_bytes, item_count, sha256, manifest, policy, keep_reason, expires_at, "        \
    "verified_at, hold, run_id, error, checkpoint"

static char *
dup_col(struct lcb_stmt *st, int col)
{
    const char *s = lcb_col_text(st, col);

    return s ? lcb_xstrdup(s) : NULL;
}

static void
read_backup(struct lcb_stmt *st, struct lcb_backup *b)
{
    memset(b, 0, sizeof(*b));
    b->id = dup_col(st, 0);
    b->kind = dup_col(st, 1);
    b->env = dup_col(st, 2);
    b->target = dup_col(st, 3);
    b->source = dup_col(st, 4);
    b->location = dup_col(st, 5);
    b->region = dup_col(st, 6);
    b->status = dup_col(st, 7);
    b->started_at = (time_t)lcb_col_int(st, 8);
    b->completed_at = (time_t)lcb_col_int(st, 9);
    b->taken_at = (time_t)lcb_col_int(st, 10);
    b->size_bytes = lcb_col_int(st, 11);
    b->item_count = lcb_col_int(st, 12);
    b->sha256 = dup_col(st, 13);
    b->manifest = dup_col(st, 14);
    b->policy = dup_col(st, 15);
    b->keep_reason = dup_col(st, 16);
    b->expires_at = (time_t)lcb_col_int(st, 17);
    b->verified_at = (time_t)lcb_col_int(st, 18);
    b->hold = dup_col(st, 19);
    b->run_id = dup_col(st, 20);
    b->error = dup_col(st, 21);
    b->checkpoint = dup_col(st, 22);
}

static void
bind_time(struct lcb_stmt *st, int idx, time_t t)
{
    if (t)
        lcb_stmt_int(st, idx, (long long)t);
    else
        lcb_stmt_null(st, idx);
}

/* Bind every column in BACKUP_COLUMNS order, id first. */
static void
bind_backup(struct lcb_stmt *st, const struct lcb_backup *b)
{
    lcb_stmt_text(st, 1, b->id);
    lcb_stmt_text(st, 2, b->kind);
    lcb_stmt_text(st, 3, b->env);
    lcb_stmt_text(st, 4, b->target);
    lcb_stmt_text(st, 5, b->source);
    lcb_stmt_text(st, 6, b->location);
    lcb_stmt_text(st, 7, b->region);
    lcb_stmt_text(st, 8, b->status ? b->status : "running");
    lcb_stmt_int(st, 9, (long long)b->started_at);
    bind_time(st, 10, b->completed_at);
    bind_time(st, 11, b->taken_at);
    lcb_stmt_int(st, 12, b->size_bytes);
    lcb_stmt_int(st, 13, b->item_count);
    lcb_stmt_text(st, 14, b->sha256);
    lcb_stmt_text(st, 15, b->manifest);
    lcb_stmt_text(st, 16, b->policy);
    lcb_stmt_text(st, 17, b->keep_reason);
    bind_time(st, 18, b->expires_at);
    bind_time(st, 19, b->verified_at);
    lcb_stmt_text(st, 20, b->hold);
    lcb_stmt_text(st, 21, b->run_id);
    lcb_stmt_text(st, 22, b->error);
    lcb_stmt_text(st, 23, b->checkpoint);
}

static int
write_backup(struct lcb_catalog *cat, const char *sql, const struct lcb_backup *b,
             struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc;

    if (lcb_db_prepare(&st, lcb_catalog_db(cat), sql, err) < 0)
        return -1;
    bind_backup(st, b);
    rc = lcb_stmt_step(st, err);
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

int
lcb_catalog_backup_add(struct lcb_catalog *cat, struct lcb_backup *b, struct lcb_err *err)
{
    char id[LCB_ID_LEN];

    if (!b->started_at)
        b->started_at = lcb_now();
    if (!b->run_id && cat_run_id(cat))
        b->run_id = lcb_xstrdup(cat_run_id(cat));
    if (!b->id) {
        lcb_catalog_new_id(id, sizeof(id), b->kind, b->started_at);
        b->id = lcb_xstrdup(id);
    }
    if (write_backup(cat,
                     "INSERT INTO backups(" BACKUP_COLUMNS ") VALUES "
                     "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     b, err) < 0)
        return lcb_wrap(err, "record backup %s", b->id);
    return lcb_catalog_event(cat, b->run_id, b->id, "backup.added", b->status, err);
}

int
lcb_catalog_backup_update(struct lcb_catalog *cat, const struct lcb_backup *b, struct lcb_err *err)
{
    if (write_backup(cat,
                     "UPDATE backups SET kind=?2, env=?3, target=?4, source=?5, location=?6, "
                     "region=?7, status=?8, started_at=?9, completed_at=?10, taken_at=?11, "
                     "size_bytes=?12, item_count=?13, sha256=?14, manifest=?15, policy=?16, "
                     "keep_reason=?17, expires_at=?18, verified_at=?19, hold=?20, run_id=?21, "
                     "error=?22, checkpoint=?23 WHERE id=?1",
                     b, err) < 0)
        return lcb_wrap(err, "update backup %s", b->id);
    if (lcb_db_changes(lcb_catalog_db(cat)) == 0)
        return lcb_err_set(err, LCB_ENOTFOUND, "no backup '%s' in the catalog", b->id);
    return 0;
}

int
lcb_catalog_backup_get(struct lcb_catalog *cat, const char *id, struct lcb_backup *out,
                       struct lcb_err *err)
{
    struct lcb_stmt *st;
    char *prefix = lcb_xasprintf("%s%%", id);
    int rc, found = 0;

    memset(out, 0, sizeof(*out));
    /* exact id first, then a unique prefix (ids are long to type at 3 a.m.) */
    if (lcb_db_prepare(&st, lcb_catalog_db(cat),
                       "SELECT " BACKUP_COLUMNS " FROM backups WHERE id=?1 OR "
                       "(id LIKE ?2 AND NOT EXISTS (SELECT 1 FROM backups WHERE id=?1)) LIMIT 2",
                       err) < 0) {
        free(prefix);
        return -1;
    }
    lcb_stmt_text(st, 1, id);
    lcb_stmt_text(st, 2, prefix);
    while ((rc = lcb_stmt_step(st, err)) == 1 && found < 2) {
        if (found++ == 0)
            read_backup(st, out);
    }
    lcb_stmt_free(st);
    free(prefix);
    if (rc < 0)
        return -1;
    if (found == 0)
        return lcb_err_set(err, LCB_ENOTFOUND,
                           "no backup '%s' in the catalog; `lcbackup list` shows them", id);
    if (found > 1) {
        lcb_backup_release(out);
        return lcb_err_set(err, LCB_EUSAGE, "'%s' matches several backups: give more of the id",
                           id);
    }
    return 0;
}

int
lcb_catalog_backup_list(struct lcb_catalog *cat, const struct lcb_backup_filter *f,
                        struct lcb_backup_list *out, struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc;
    size_t cap = 0;

    out->items = NULL;
    out->n = 0;
    if (lcb_db_prepare(&st, lcb_catalog_db(cat),
                       "SELECT " BACKUP_COLUMNS " FROM backups WHERE (?1 IS NULL OR kind=?1) AND "
                       "(?2 IS NULL OR env=?2) AND (?3 IS NULL OR status=?3) AND "
                       "(?4 IS NULL OR target=?4) AND started_at >= ?5 "
                       "ORDER BY COALESCE(taken_at, started_at) DESC, started_at DESC, id DESC "
                       "LIMIT ?6",
                       err) < 0)
        return -1;
    lcb_stmt_text(st, 1, f ? f->kind : NULL);
    lcb_stmt_text(st, 2, f ? f->env : NULL);
    lcb_stmt_text(st, 3, f ? f->status : NULL);
    lcb_stmt_text(st, 4, f ? f->target : NULL);
    lcb_stmt_int(st, 5, f ? (long long)f->since : 0);
    lcb_stmt_int(st, 6, f && f->limit > 0 ? f->limit : -1);
    while ((rc = lcb_stmt_step(st, err)) == 1) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->items = lcb_xrealloc(out->items, cap * sizeof(*out->items));
        }
        read_backup(st, &out->items[out->n++]);
    }
    lcb_stmt_free(st);
    if (rc < 0) {
        lcb_backup_list_release(out);
        return -1;
    }
    return 0;
}

void
lcb_backup_release(struct lcb_backup *b)
{
    char **fields[] = { &b->id, &b->kind, &b->env, &b->target, &b->source, &b->location,
                        &b->region, &b->status, &b->sha256, &b->manifest, &b->policy,
                        &b->keep_reason, &b->hold, &b->run_id, &b->error, &b->checkpoint };
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

void
lcb_backup_list_release(struct lcb_backup_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        lcb_backup_release(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

int
lcb_catalog_backup_set_status(struct lcb_catalog *cat, const char *id, const char *status,
                              const char *error, struct lcb_err *err)
{
    int final = strcmp(status, "running") != 0 && strcmp(status, "pending") != 0;

    if (lcb_catalog_execf(cat,
                          "UPDATE backups SET status=?, error=COALESCE(?, error), "
                          "completed_at=CASE WHEN ? AND completed_at IS NULL THEN ? "
                          "ELSE completed_at END WHERE id=?",
                          "ttiit", err, status, error, (long long)final, (long long)lcb_now(),
                          id) < 0)
        return lcb_wrap(err, "set backup %s to %s", id, status);
    return lcb_catalog_event(cat, NULL, id, "backup.status", status, err);
}

int
lcb_catalog_copy_add(struct lcb_catalog *cat, const char *backup_id, const char *region,
                     const char *location, const char *status, struct lcb_err *err)
{
    long long now = (long long)lcb_now();

    if (lcb_catalog_execf(cat,
                          "INSERT INTO copies(backup_id, region, location, status, created_at, "
                          "updated_at) VALUES (?,?,?,?,?,?) ON CONFLICT(backup_id, region) DO "
                          "UPDATE SET location=excluded.location, status=excluded.status, "
                          "updated_at=excluded.updated_at",
                          "ttttii", err, backup_id, region, location, status, now, now) < 0)
        return lcb_wrap(err, "record copy of %s in %s", backup_id, region);
    return lcb_catalog_event(cat, NULL, backup_id, "copy.added", region, err);
}

int
lcb_catalog_copy_set_status(struct lcb_catalog *cat, const char *backup_id, const char *region,
                            const char *status, struct lcb_err *err)
{
    return lcb_catalog_execf(cat,
                             "UPDATE copies SET status=?, updated_at=? WHERE backup_id=? AND "
                             "region=?",
                             "titt", err, status, (long long)lcb_now(), backup_id, region);
}

int
lcb_catalog_restore_begin(struct lcb_catalog *cat, const char *backup_id, const char *kind,
                          const char *target, char *id, struct lcb_err *err)
{
    lcb_catalog_new_id(id, LCB_ID_LEN, "restore", lcb_now());
    if (lcb_catalog_execf(cat,
                          "INSERT INTO restores(id, backup_id, kind, target, run_id, started_at) "
                          "VALUES (?,?,?,?,?,?)",
                          "ttttti", err, id, backup_id, kind, target, cat_run_id(cat),
                          (long long)lcb_now()) < 0)
        return lcb_wrap(err, "record restore");
    return lcb_catalog_event(cat, cat_run_id(cat), backup_id, "restore.begin", id, err);
}

int
lcb_catalog_restore_end(struct lcb_catalog *cat, const char *id, const char *status,
                        const char *detail_json, struct lcb_err *err)
{
    if (lcb_catalog_execf(cat, "UPDATE restores SET status=?, detail=?, ended_at=? WHERE id=?",
                          "ttit", err, status, detail_json, (long long)lcb_now(), id) < 0)
        return lcb_wrap(err, "record restore %s", id);
    return lcb_catalog_event(cat, cat_run_id(cat), NULL, "restore.end", status, err);
}

int
lcb_catalog_drill_begin(struct lcb_catalog *cat, const char *components, char *id,
                        struct lcb_err *err)
{
    lcb_catalog_new_id(id, LCB_ID_LEN, "drill", lcb_now());
    if (lcb_catalog_execf(cat,
                          "INSERT INTO drills(id, components, run_id, started_at) VALUES (?,?,?,?)",
                          "ttti", err, id, components, cat_run_id(cat), (long long)lcb_now()) < 0)
        return lcb_wrap(err, "record drill");
    return 0;
}

int
lcb_catalog_drill_end(struct lcb_catalog *cat, const char *id, const char *status,
                      const char *report_json, struct lcb_err *err)
{
    if (lcb_catalog_execf(cat, "UPDATE drills SET status=?, report=?, ended_at=? WHERE id=?",
                          "ttit", err, status, report_json, (long long)lcb_now(), id) < 0)
        return lcb_wrap(err, "record drill %s", id);
    return lcb_catalog_event(cat, cat_run_id(cat), NULL, "drill.end", status, err);
}

int
lcb_catalog_backup_latest(struct lcb_catalog *cat, const char *kind, const char *target,
                          const char *env, struct lcb_backup *out, struct lcb_err *err)
{
    struct lcb_backup_filter f;
    struct lcb_backup_list l;

    memset(&f, 0, sizeof(f));
    f.kind = kind;
    f.target = target;
    f.env = env;
    f.status = "completed";
    f.limit = 1;
    if (lcb_catalog_backup_list(cat, &f, &l, err) < 0)
        return -1;
    if (l.n == 0) {
        lcb_backup_list_release(&l);
        return lcb_err_set(err, LCB_ENOTFOUND, "no completed %s backup%s%s in the catalog",
                           kind ? kind : "", target ? " of " : "", target ? target : "");
    }
    *out = l.items[0];
    free(l.items);
    return 0;
}

int
lcb_catalog_backup_verified(struct lcb_catalog *cat, const char *id, struct lcb_err *err)
{
    if (lcb_catalog_execf(cat, "UPDATE backups SET verified_at=? WHERE id=?", "it", err,
                          (long long)lcb_now(), id) < 0)
        return lcb_wrap(err, "record verification of %s", id);
    return lcb_catalog_event(cat, cat_run_id(cat), id, "backup.verified", NULL, err);
}
