/*
 * merge.c - merging another copy of the catalog into this one (the rule is in sync.h and
 * docs/catalog.md). The other file is opened through lcb_catalog_open() first, which migrates it to
 * this binary's schema, so both sides have the same columns in the same order and rows can move
 * with SELECT *. Winners replace the local row (foreign keys deferred to the commit).
 */
#include <string.h>

#include "../ext/db.h"
#include "sync.h"

#define RUN_RANK(t) "CASE " t ".status WHEN 'running' THEN 0 WHEN 'abandoned' THEN 1 ELSE 2 END"
#define BACKUP_RANK(t)                                                                             \
    "CASE " t ".status WHEN 'running' THEN 0 WHEN 'pending' THEN 1 WHEN 'completed' THEN 2 "     \
    "WHEN 'failed' THEN 2 ELSE 3 END"
/* x (theirs) beats m (ours): further along, or as far and finished later */
#define WINS(rank_x, rank_m, end)                                                                  \
    "(" rank_x " > " rank_m " OR (" rank_x " = " rank_m " AND COALESCE(x." end                    \
    ", 0) > COALESCE(m." end ", 0)))"

struct step {
    const char *sql;
    int counts; /* 1 inserted, 2 updated, 3 events, 0 not counted */
};

static const struct step steps[] = {
    /* runs, restores, drills: by id */
    { "INSERT INTO main.runs SELECT x.* FROM r.runs x WHERE x.id NOT IN (SELECT id FROM main.runs)",
      1 },
    { "INSERT OR REPLACE INTO main.runs SELECT x.* FROM r.runs x JOIN main.runs m ON m.id = x.id "
      "WHERE " WINS(RUN_RANK("x"), RUN_RANK("m"), "ended_at"),
      2 },
    /* backups: by id; then the protections of either side */
    { "INSERT INTO main.backups SELECT x.* FROM r.backups x WHERE x.id NOT IN "
      "(SELECT id FROM main.backups)",
      1 },
    { "INSERT OR REPLACE INTO main.backups SELECT x.* FROM r.backups x JOIN main.backups m "
      "ON m.id = x.id WHERE " WINS(BACKUP_RANK("x"), BACKUP_RANK("m"), "completed_at"),
      2 },
    { "UPDATE main.backups SET verified_at = (SELECT x.verified_at FROM r.backups x "
      "WHERE x.id = backups.id) WHERE EXISTS (SELECT 1 FROM r.backups x WHERE x.id = backups.id "
      "AND x.verified_at IS NOT NULL AND (backups.verified_at IS NULL OR "
      "x.verified_at > backups.verified_at))",
      2 },
    { "UPDATE main.backups SET hold = (SELECT x.hold FROM r.backups x WHERE x.id = backups.id) "
      "WHERE hold IS NULL AND EXISTS (SELECT 1 FROM r.backups x WHERE x.id = backups.id AND "
      "x.hold IS NOT NULL)",
      2 },
    /* copies: by (backup, region), the later update wins */
    { "INSERT INTO main.copies SELECT x.* FROM r.copies x WHERE NOT EXISTS (SELECT 1 FROM "
      "main.copies m WHERE m.backup_id = x.backup_id AND m.region = x.region)",
      1 },
    { "INSERT OR REPLACE INTO main.copies SELECT x.* FROM r.copies x JOIN main.copies m ON "
      "m.backup_id = x.backup_id AND m.region = x.region WHERE x.updated_at > m.updated_at",
      2 },
    { "INSERT INTO main.restores SELECT x.* FROM r.restores x WHERE x.id NOT IN "
      "(SELECT id FROM main.restores)",
      1 },
    { "INSERT OR REPLACE INTO main.restores SELECT x.* FROM r.restores x JOIN main.restores m "
      "ON m.id = x.id WHERE " WINS(RUN_RANK("x"), RUN_RANK("m"), "ended_at"),
      2 },
    { "INSERT INTO main.drills SELECT x.* FROM r.drills x WHERE x.id NOT IN "
      "(SELECT id FROM main.drills)",
      1 },
    { "INSERT OR REPLACE INTO main.drills SELECT x.* FROM r.drills x JOIN main.drills m "
      "ON m.id = x.id WHERE " WINS(RUN_RANK("x"), RUN_RANK("m"), "ended_at"),
      2 },
    /* events: append-only; identified by what they say */
    { "INSERT INTO main.events(at, run_id, backup_id, event, detail) SELECT x.at, x.run_id, "
      "x.backup_id, x.event, x.detail FROM r.events x WHERE NOT EXISTS (SELECT 1 FROM "
      "main.events e WHERE e.at = x.at AND e.event = x.event AND e.run_id IS x.run_id AND "
      "e.backup_id IS x.backup_id AND e.detail IS x.detail) ORDER BY x.seq",
      3 },
};

static int
run_steps(struct lcb_db *db, struct lcb_merge_stats *st, struct lcb_err *err)
{
    struct lcb_stmt *s;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (lcb_db_prepare(&s, db, steps[i].sql, err) < 0)
            return -1;
        rc = lcb_stmt_step(s, err);
        lcb_stmt_free(s);
        if (rc < 0)
            return -1;
        if (steps[i].counts == 1)
            st->inserted += lcb_db_changes(db);
        else if (steps[i].counts == 2)
            st->updated += lcb_db_changes(db);
        else if (steps[i].counts == 3)
            st->events += lcb_db_changes(db);
    }
    return 0;
}

/* Open the other copy as a catalog: it must be one, no newer than us; migrate it if older. */
static int
check_other(const char *path, struct lcb_err *err)
{
    struct lcb_catalog *other;
    struct lcb_buf report = LCB_BUF_INIT;
    int problems;

    if (lcb_catalog_open(&other, path, 0, err) < 0)
        return -1;
    problems = lcb_catalog_check(other, &report, err);
    lcb_catalog_close(other);
    if (problems < 0) {
        lcb_buf_release(&report);
        return -1;
    }
    /* only damage refuses a merge; the catalog's own invariants are what `catalog check` is for */
    if (strstr(lcb_buf_str(&report), "sqlite integrity") != NULL) {
        lcb_err_set(err, LCB_ECORRUPT, "the other catalog is damaged: %s", lcb_buf_str(&report));
        lcb_buf_release(&report);
        return -1;
    }
    lcb_buf_release(&report);
    return 0;
}

int
lcb_catalog_merge(struct lcb_catalog *cat, const char *path, struct lcb_merge_stats *st,
                  struct lcb_err *err)
{
    struct lcb_db *db = lcb_catalog_db(cat);
    struct lcb_stmt *s;
    struct lcb_err ignored;
    int rc;

    memset(st, 0, sizeof(*st));
    if (check_other(path, err) < 0)
        return lcb_wrap(err, "merge '%s'", path);
    if (lcb_db_prepare(&s, db, "ATTACH DATABASE ?1 AS r", err) < 0)
        return lcb_wrap(err, "merge '%s'", path);
    lcb_stmt_text(s, 1, path);
    rc = lcb_stmt_step(s, err);
    lcb_stmt_free(s);
    if (rc < 0)
        return lcb_wrap(err, "merge '%s'", path);
    rc = lcb_db_exec(db, "BEGIN IMMEDIATE; PRAGMA defer_foreign_keys = ON;", err);
    if (rc == 0 && (rc = run_steps(db, st, err)) == 0)
        rc = lcb_db_exec(db, "COMMIT", err);
    if (rc < 0)
        lcb_db_exec(db, "ROLLBACK", &ignored);
    lcb_db_exec(db, "DETACH DATABASE r", &ignored);
    return rc < 0 ? lcb_wrap(err, "merge '%s'", path) : 0;
}
