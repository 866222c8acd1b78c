/* check.c - `lcbackup catalog check`: SQLite's integrity check plus the catalog's own invariants. */
#include <string.h>

#include "../ext/db.h"
#include "catalog.h"
#include "internal.h"

struct invariant {
    const char *what; /* printed before each offending row's first column */
    const char *sql;  /* selects one text column per offending row */
};

static const struct invariant invariants[] = {
    { "completed backup without a location",
      "SELECT id FROM backups WHERE status='completed' AND (location IS NULL OR location='')" },
    { "completed backup without a completion time",
      "SELECT id FROM backups WHERE status='completed' AND completed_at IS NULL" },
    { "backup completed before it started",
      "SELECT id FROM backups WHERE completed_at IS NOT NULL AND completed_at < started_at" },
    { "backup still running although its run ended",
      "SELECT b.id FROM backups b JOIN runs r ON r.id=b.run_id "
      "WHERE b.status='running' AND r.status<>'running'" },
    { "backup recorded by an unknown run",
      "SELECT id FROM backups WHERE run_id IS NOT NULL AND run_id NOT IN (SELECT id FROM runs)" },
    { "copy of an unknown backup",
      "SELECT backup_id || ' in ' || region FROM copies WHERE backup_id NOT IN "
      "(SELECT id FROM backups)" },
    { "run ended without an exit code",
      "SELECT id FROM runs WHERE status IN ('succeeded','failed','partial','interrupted') "
      "AND exit_code IS NULL" },
};

static int
collect(struct lcb_catalog *cat, const char *what, const char *sql, struct lcb_buf *report,
        struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc, n = 0;

    if (lcb_db_prepare(&st, lcb_catalog_db(cat), sql, err) < 0)
        return -1;
    while ((rc = lcb_stmt_step(st, err)) == 1) {
        const char *v = lcb_col_text(st, 0);
        if (what == NULL && v && strcmp(v, "ok") == 0)
            continue;
        lcb_buf_addf(report, "%s: %s\n", what ? what : "sqlite integrity", v ? v : "");
        n++;
    }
    lcb_stmt_free(st);
    return rc < 0 ? -1 : n;
}

int
lcb_catalog_check(struct lcb_catalog *cat, struct lcb_buf *report, struct lcb_err *err)
{
    size_t i;
    int n, total = 0;

    if ((n = collect(cat, NULL, "PRAGMA integrity_check", report, err)) < 0)
        return -1;
    total += n;
    if ((n = collect(cat, "foreign key", "SELECT \"table\" || ' row ' || rowid FROM "
                     "pragma_foreign_key_check", report, err)) < 0)
        return -1;
    total += n;
    if (lcb_catalog_version(cat) != lcb_catalog_latest_version()) {
        lcb_buf_addf(report, "schema version %d, expected %d: run `lcbackup catalog migrate`\n",
                     lcb_catalog_version(cat), lcb_catalog_latest_version());
        total++;
    }
    for (i = 0; i < sizeof(invariants) / sizeof(invariants[0]); i++) {
        if ((n = collect(cat, invariants[i].what, invariants[i].sql, report, err)) < 0)
            return -1;
        total += n;
    }
    return total;
}
