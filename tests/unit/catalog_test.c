/* catalog_test.c - migrations, file mode, backups, abandoned runs, invariants, the lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/catalog/catalog.h"
#include "../../lib/ext/db.h"
#include "harness.h"

static char dir[] = "/tmp/lcb-cat-XXXXXX";
static char path[256];
static struct lcb_err err;

static struct lcb_catalog *
open_fresh(const char *name)
{
    struct lcb_catalog *cat = NULL;

    snprintf(path, sizeof(path), "%s/%s/catalog.db", dir, name);
    lcb_err_clear(&err);
    if (lcb_catalog_open(&cat, path, 1, &err) < 0)
        fprintf(stderr, "    open: %s\n", err.msg);
    return cat;
}

static void
test_create_migrate_mode(void)
{
    struct lcb_catalog *cat = open_fresh("a");
    struct stat st;

    CHECK(cat != NULL);
    if (!cat)
        return;
    CHECK_INT(lcb_catalog_version(cat), lcb_catalog_latest_version());
    CHECK(lcb_catalog_latest_version() >= 1);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    lcb_catalog_close(cat);
    /* reopening applies nothing twice */
    CHECK_INT(lcb_catalog_open(&cat, path, 0, &err), 0);
    CHECK_INT(lcb_catalog_version(cat), lcb_catalog_latest_version());
    lcb_catalog_close(cat);
}

static void
test_missing_without_create(void)
{
    struct lcb_catalog *cat = NULL;

    snprintf(path, sizeof(path), "%s/none/catalog.db", dir);
    CHECK_INT(lcb_catalog_open(&cat, path, 0, &err), -1);
    CHECK_INT(err.code, LCB_ENOTFOUND);
    CHECK(strstr(err.msg, "catalog rebuild") != NULL);
}

static void
add_backup(struct lcb_catalog *cat, const char *kind, const char *target, time_t t,
           const char *status, char *id_out)
{
    struct lcb_backup b;

    memset(&b, 0, sizeof(b));
    b.kind = (char *)kind;
    b.target = (char *)target;
    b.env = (char *)"dev";
    b.status = (char *)status;
    b.started_at = t;
    b.taken_at = t;
    b.completed_at = strcmp(status, "completed") == 0 ? t + 60 : 0;
    b.location = (char *)"snap-1";
    CHECK_INT(lcb_catalog_backup_add(cat, &b, &err), 0);
    if (id_out && b.id)
        strcpy(id_out, b.id);
    free(b.id);
    free(b.run_id);
}

static void
test_backups_roundtrip(void)
{
    struct lcb_catalog *cat = open_fresh("b");
    struct lcb_backup_filter f;
    struct lcb_backup_list l;
    struct lcb_backup got;
    char id[64] = "", prefix[64];

    if (!cat)
        return;
    add_backup(cat, "rds", "db1", 1700000000, "completed", id);
    add_backup(cat, "rds", "db1", 1700003600, "completed", NULL);
    add_backup(cat, "broker", "broker", 1700007200, "failed", NULL);
    CHECK(strncmp(id, "rds-20231114T221320-", 20) == 0);
    CHECK_INT(lcb_catalog_backup_get(cat, id, &got, &err), 0);
    CHECK_STR(got.target, "db1");
    CHECK_INT(got.completed_at, 1700000060);
    lcb_backup_release(&got);
    /* a unique prefix works; an ambiguous one is refused */
    snprintf(prefix, sizeof(prefix), "%.*s", 20, id);
    CHECK_INT(lcb_catalog_backup_get(cat, prefix, &got, &err), 0);
    lcb_backup_release(&got);
    CHECK_INT(lcb_catalog_backup_get(cat, "rds-", &got, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_catalog_backup_get(cat, "nope", &got, &err), -1);
    CHECK_INT(err.code, LCB_ENOTFOUND);
    memset(&f, 0, sizeof(f));
    f.kind = "rds";
    CHECK_INT(lcb_catalog_backup_list(cat, &f, &l, &err), 0);
    CHECK_INT(l.n, 2);
    CHECK_INT(l.n == 2 ? l.items[0].taken_at : 0, 1700003600); /* newest first */
    lcb_backup_list_release(&l);
    f.kind = NULL;
    f.status = "failed";
    CHECK_INT(lcb_catalog_backup_list(cat, &f, &l, &err), 0);
    CHECK_INT(l.n, 1);
    lcb_backup_list_release(&l);
    lcb_catalog_close(cat);
}

/* A run left "running" by a dead process is marked abandoned by the next open, with its backups. */
static void
test_abandoned_runs(void)
{
    struct lcb_catalog *cat = open_fresh("c");
    char run_id[64], sql[512], host[256];
    struct lcb_backup_list l;
    struct lcb_backup_filter f;
    pid_t child;

    if (!cat)
        return;
    child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0); /* a pid that is surely gone */
    gethostname(host, sizeof(host));
    snprintf(sql, sizeof(sql),
             "INSERT INTO runs(id, command, host, pid, started_at) VALUES "
             "('run-dead', 'backup rds', '%s', %d, 1);"
             "INSERT INTO backups(id, kind, status, started_at, run_id) VALUES "
             "('rds-x', 'rds', 'running', 1, 'run-dead');", host, (int)child);
    CHECK_INT(lcb_db_exec(lcb_catalog_db(cat), sql, &err), 0);
    CHECK_INT(lcb_catalog_run_begin(cat, "list", NULL, NULL, run_id, &err), 0);
    lcb_catalog_close(cat);
    CHECK_INT(lcb_catalog_open(&cat, path, 0, &err), 0);
    memset(&f, 0, sizeof(f));
    f.status = "failed";
    CHECK_INT(lcb_catalog_backup_list(cat, &f, &l, &err), 0);
    CHECK_INT(l.n, 1);
    CHECK(l.n == 1 && strstr(l.items[0].error, "abandoned") != NULL);
    lcb_backup_list_release(&l);
    {
        struct lcb_stmt *st;
        CHECK_INT(lcb_db_prepare(&st, lcb_catalog_db(cat),
                                 "SELECT id, status FROM runs ORDER BY started_at", &err), 0);
        CHECK_INT(lcb_stmt_step(st, &err), 1);
        CHECK_STR(lcb_col_text(st, 0), "run-dead");
        CHECK_STR(lcb_col_text(st, 1), "abandoned");
        CHECK_INT(lcb_stmt_step(st, &err), 1);
        CHECK_STR(lcb_col_text(st, 1), "running"); /* ours: this process is alive */
        lcb_stmt_free(st);
    }
    lcb_catalog_close(cat);
}

static void
test_check_invariants(void)
{
    struct lcb_catalog *cat = open_fresh("d");
    struct lcb_buf report = LCB_BUF_INIT;

    if (!cat)
        return;
    add_backup(cat, "ebs", "vol", 1700000000, "completed", NULL);
    CHECK_INT(lcb_catalog_check(cat, &report, &err), 0);
    CHECK_INT(lcb_db_exec(lcb_catalog_db(cat),
                          "INSERT INTO backups(id, kind, status, started_at) "
                          "VALUES ('ebs-bad', 'ebs', 'completed', 5)", &err), 0);
    CHECK_INT(lcb_catalog_check(cat, &report, &err), 2);
    CHECK(strstr(lcb_buf_str(&report), "completed backup without a location: ebs-bad") != NULL);
    CHECK(strstr(lcb_buf_str(&report), "without a completion time: ebs-bad") != NULL);
    lcb_buf_release(&report);
    lcb_catalog_close(cat);
}

static void
test_event_log_append_only(void)
{
    struct lcb_catalog *cat = open_fresh("e");

    if (!cat)
        return;
    CHECK_INT(lcb_catalog_event(cat, NULL, NULL, "test", "x", &err), 0);
    CHECK_INT(lcb_db_exec(lcb_catalog_db(cat), "DELETE FROM events", &err), -1);
    CHECK(strstr(err.msg, "append-only") != NULL);
    CHECK_INT(lcb_db_exec(lcb_catalog_db(cat), "UPDATE events SET event='y'", &err), -1);
    lcb_catalog_close(cat);
}

/* A second process cannot take the lock; it names the holder. */
static void
test_lock_contention(void)
{
    struct lcb_catalog *cat = open_fresh("f");
    int fds[2], status = 0;
    pid_t child;
    char msg[512] = "";
    ssize_t n;

    if (!cat)
        return;
    CHECK_INT(lcb_catalog_lock(cat, "backup rds", 0, &err), 0);
    CHECK_INT(pipe(fds), 0);
    child = fork();
    if (child == 0) {
        struct lcb_catalog *c2 = NULL;
        struct lcb_err e2;
        int rc = 1;
        close(fds[0]);
        if (lcb_catalog_open(&c2, path, 0, &e2) == 0 && lcb_catalog_lock(c2, "expire", 1, &e2) < 0) {
            (void)!write(fds[1], e2.msg, strlen(e2.msg));
            rc = e2.code == LCB_ELOCKED ? 0 : 2;
        }
        _exit(rc);
    }
    close(fds[1]);
    n = read(fds[0], msg, sizeof(msg) - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(strstr(msg, "running 'backup rds'") != NULL);
    CHECK(strstr(msg, "pid ") != NULL);
    lcb_catalog_unlock(cat);
    /* released: now it can be taken again */
    CHECK_INT(lcb_catalog_lock(cat, "expire", 0, &err), 0);
    lcb_catalog_close(cat);
}

int
main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(test_create_migrate_mode);
    RUN(test_missing_without_create);
    RUN(test_backups_roundtrip);
    RUN(test_abandoned_runs);
    RUN(test_check_invariants);
    RUN(test_event_log_append_only);
    RUN(test_lock_contention);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void)!system(cmd);
    }
    return harness_done();
}
