/* sync_test.c - merging two copies of the catalog (lib/catalog/merge.c): the union by id, the
 * life-cycle rank with its tie-breaks, protections kept from either side, copies by update time,
 * events appended once (merging twice changes nothing), and refusals of what is not a catalog. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/catalog/catalog.h"
#include "../../lib/catalog/sync.h"
#include "../../lib/ext/db.h"
#include "harness.h"

static char dir[] = "/tmp/lcb-sync-test.XXXXXX";

static struct lcb_catalog *
open_cat(const char *name)
{
    struct lcb_catalog *cat = NULL;
    struct lcb_err err;
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (lcb_catalog_open(&cat, path, 1, &err) < 0)
        fprintf(stderr, "  open %s: %s\n", path, err.msg);
    return cat;
}

static int
exec(struct lcb_catalog *cat, const char *sql)
{
    struct lcb_err err;

    if (lcb_db_exec(lcb_catalog_db(cat), sql, &err) < 0) {
        fprintf(stderr, "  sql: %s: %s\n", sql, err.msg);
        return -1;
    }
    return 0;
}

/* The first column of the first row as text ("" when none). */
static const char *
query(struct lcb_catalog *cat, const char *sql)
{
    static char out[512];
    struct lcb_stmt *st;
    struct lcb_err err;

    out[0] = '\0';
    if (lcb_db_prepare(&st, lcb_catalog_db(cat), sql, &err) < 0)
        return "error";
    if (lcb_stmt_step(st, &err) == 1 && lcb_col_text(st, 0))
        snprintf(out, sizeof(out), "%s", lcb_col_text(st, 0));
    lcb_stmt_free(st);
    return out;
}

#define RUN_ROW(id, status, ended)                                                                 \
    "INSERT INTO runs(id, command, host, pid, started_at, ended_at, status, exit_code) VALUES ('" \
    id "', 'run', 'h', 1, 100, " ended ", '" status "', 0);"
#define BACKUP_ROW(id, status, completed, verified, hold)                                          \
    "INSERT INTO backups(id, kind, env, target, location, status, started_at, completed_at, "     \
    "verified_at, hold, run_id) VALUES ('" id "', 'broker', 'dev', 'broker', 's3://b/" id        \
    "', '" status "', 100, " completed ", " verified ", " hold ", 'run-1');"

static void
fill(struct lcb_catalog *ours, struct lcb_catalog *theirs)
{
    exec(ours, RUN_ROW("run-1", "succeeded", "200") RUN_ROW("run-2", "running", "NULL")
               RUN_ROW("run-3", "succeeded", "300"));
    exec(theirs, RUN_ROW("run-1", "succeeded", "200") RUN_ROW("run-2", "partial", "250")
                 RUN_ROW("run-3", "failed", "290") RUN_ROW("run-9", "succeeded", "900"));
    exec(ours, BACKUP_ROW("b-only-ours", "completed", "150", "NULL", "NULL")
               BACKUP_ROW("b-running", "running", "NULL", "NULL", "NULL")
               BACKUP_ROW("b-expired-there", "completed", "150", "NULL", "NULL")
               BACKUP_ROW("b-expired-here", "expired", "160", "NULL", "NULL")
               BACKUP_ROW("b-verified", "completed", "150", "500", "NULL")
               BACKUP_ROW("b-held", "completed", "150", "NULL", "NULL"));
    exec(theirs, BACKUP_ROW("b-only-theirs", "completed", "150", "NULL", "NULL")
                 BACKUP_ROW("b-running", "completed", "170", "NULL", "NULL")
                 BACKUP_ROW("b-expired-there", "expired", "150", "NULL", "NULL")
                 BACKUP_ROW("b-expired-here", "completed", "150", "NULL", "NULL")
                 BACKUP_ROW("b-verified", "completed", "150", "400", "NULL")
                 BACKUP_ROW("b-held", "completed", "150", "NULL", "'checkpoint v2'"));
    exec(ours, "INSERT INTO copies VALUES ('b-verified', 'eu-central-1', 'snap-a', 'completed', "
               "100, 300);");
    exec(theirs, "INSERT INTO copies VALUES ('b-verified', 'eu-central-1', 'snap-a', 'expired', "
                 "100, 200);"
                 "INSERT INTO copies VALUES ('b-only-theirs', 'eu-central-1', 'snap-b', "
                 "'completed', 100, 100);");
    exec(ours, "INSERT INTO events(at, run_id, backup_id, event, detail) VALUES "
               "(100, 'run-1', 'b-held', 'backup.added', 'running');");
    exec(theirs, "INSERT INTO events(at, run_id, backup_id, event, detail) VALUES "
                 "(100, 'run-1', 'b-held', 'backup.added', 'running'),"
                 "(101, 'run-9', NULL, 'run.note', NULL),"
                 "(102, 'run-9', 'b-only-theirs', 'backup.added', 'completed');");
    exec(theirs, "INSERT INTO drills(id, components, run_id, started_at, ended_at, status) "
                 "VALUES ('drill-1', 'rds', 'run-9', 800, 850, 'passed');");
}

static void
test_merge_rule(void)
{
    struct lcb_catalog *ours = open_cat("ours.db"), *theirs = open_cat("theirs.db");
    struct lcb_merge_stats st;
    struct lcb_err err;
    char path[256];

    CHECK(ours && theirs);
    if (!ours || !theirs)
        return;
    fill(ours, theirs);
    lcb_catalog_close(theirs);
    snprintf(path, sizeof(path), "%s/theirs.db", dir);
    CHECK_INT(lcb_catalog_merge(ours, path, &st, &err), 0);
    /* union */
    CHECK_STR(query(ours, "SELECT count(*) FROM backups"), "7");
    CHECK_STR(query(ours, "SELECT status FROM backups WHERE id='b-only-theirs'"), "completed");
    CHECK_STR(query(ours, "SELECT status FROM backups WHERE id='b-only-ours'"), "completed");
    CHECK_STR(query(ours, "SELECT status FROM runs WHERE id='run-9'"), "succeeded");
    CHECK_STR(query(ours, "SELECT status FROM drills WHERE id='drill-1'"), "passed");
    /* further along the life cycle wins, whichever side has it */
    CHECK_STR(query(ours, "SELECT status || ' ' || completed_at FROM backups WHERE id='b-running'"),
              "completed 170");
    CHECK_STR(query(ours, "SELECT status FROM backups WHERE id='b-expired-there'"), "expired");
    CHECK_STR(query(ours, "SELECT status FROM backups WHERE id='b-expired-here'"), "expired");
    CHECK_STR(query(ours, "SELECT status FROM runs WHERE id='run-2'"), "partial");
    /* both final: the one that ended later */
    CHECK_STR(query(ours, "SELECT status FROM runs WHERE id='run-3'"), "succeeded");
    /* protections of either side are kept */
    CHECK_STR(query(ours, "SELECT verified_at FROM backups WHERE id='b-verified'"), "500");
    CHECK_STR(query(ours, "SELECT hold FROM backups WHERE id='b-held'"), "checkpoint v2");
    /* copies: the later update wins */
    CHECK_STR(query(ours, "SELECT status FROM copies WHERE backup_id='b-verified'"), "completed");
    CHECK_STR(query(ours, "SELECT count(*) FROM copies"), "2");
    /* events: the shared one once, the two new ones appended */
    CHECK_STR(query(ours, "SELECT count(*) FROM events WHERE event IN ('backup.added','run.note')"),
              "3");
    CHECK_INT(st.events, 2);
    CHECK(st.inserted >= 4); /* run-9, b-only-theirs, a copy, drill-1 */
    CHECK(st.updated >= 4);
    /* merging the same copy again changes nothing */
    CHECK_INT(lcb_catalog_merge(ours, path, &st, &err), 0);
    CHECK_INT(st.inserted, 0);
    CHECK_INT(st.updated, 0);
    CHECK_INT(st.events, 0);
    CHECK_STR(query(ours, "SELECT count(*) FROM pragma_foreign_key_check"), "0");
    lcb_catalog_close(ours);
}

static void
test_merge_refuses(void)
{
    struct lcb_catalog *ours = open_cat("refuse.db");
    struct lcb_merge_stats st;
    struct lcb_err err;
    char path[256];
    FILE *f;

    CHECK(ours != NULL);
    if (!ours)
        return;
    snprintf(path, sizeof(path), "%s/not-a-catalog.db", dir);
    f = fopen(path, "w");
    if (f) {
        fputs("this is not an SQLite database, just text that is long enough to be read\n", f);
        fclose(f);
    }
    CHECK_INT(lcb_catalog_merge(ours, path, &st, &err), -1);
    CHECK(err.code == LCB_ECORRUPT || err.code == LCB_EIO);
    snprintf(path, sizeof(path), "%s/missing.db", dir);
    CHECK_INT(lcb_catalog_merge(ours, path, &st, &err), -1);
    CHECK_INT(err.code, LCB_ENOTFOUND);
    lcb_catalog_close(ours);
}

static void
test_remote_key(void)
{
    char *k = lcb_catalog_remote_key("lcbackup", "prod");

    CHECK_STR(k, "lcbackup/catalog/prod/catalog.db");
    free(k);
    k = lcb_catalog_remote_key("", "dev");
    CHECK_STR(k, "catalog/dev/catalog.db");
    free(k);
}

int
main(void)
{
    char cmd[300];
    int rc;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_merge_rule);
    RUN(test_merge_refuses);
    RUN(test_remote_key);
    rc = harness_done();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", dir);
    return rc;
}
