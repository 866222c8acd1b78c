/* catalog.c - open, migrate, runs, backups, copies, restores, drills, events; see catalog.h. */
#include "catalog.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "../ext/db.h"
#include "internal.h"
#include "migrations.h"

struct lcb_catalog {
    struct lcb_db *db;
    char *path;
    int lock_fd;
    char run_id[LCB_ID_LEN];
};

static int
mkdir_parents(const char *path, struct lcb_err *err)
{
    char *dir = lcb_xstrdup(path), *p;

    for (p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            lcb_err_sys(err, LCB_EIO, errno, "create directory '%s'", dir);
            free(dir);
            return -1;
        }
        *p = '/';
    }
    free(dir);
    return 0;
}

/* Create the file 0600 before SQLite does, so it never exists with a wider mode. */
static int
create_file(const char *path, struct lcb_err *err)
{
    int fd;

    if (mkdir_parents(path, err) < 0)
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return lcb_err_sys(err, LCB_EIO, errno, "create catalog '%s'", path);
    close(fd);
    return 0;
}

static int
user_version(struct lcb_db *db)
{
    struct lcb_stmt *st;
    struct lcb_err e;
    int v = -1;

    if (lcb_db_prepare(&st, db, "PRAGMA user_version", &e) < 0)
        return -1;
    if (lcb_stmt_step(st, &e) == 1)
        v = (int)lcb_col_int(st, 0);
    lcb_stmt_free(st);
    return v;
}

int
lcb_catalog_latest_version(void)
{
    int v = 0;
    const struct lcb_migration *m;

    for (m = lcb_migrations; m->sql; m++)
        v = m->version;
    return v;
}

static int
apply_migration(struct lcb_db *db, const struct lcb_migration *m, struct lcb_err *err)
{
    char pragma[64];

    if (lcb_db_exec(db, "BEGIN IMMEDIATE", err) < 0)
        return -1;
    /* another process may have migrated while we waited for the write lock */
    if (user_version(db) >= m->version)
        return lcb_db_exec(db, "COMMIT", err);
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m->version);
    if (lcb_db_exec(db, m->sql, err) < 0 || lcb_db_exec(db, pragma, err) < 0) {
        struct lcb_err ignored;
        lcb_db_exec(db, "ROLLBACK", &ignored);
        return lcb_wrap(err, "migration %s", m->name);
    }
    return lcb_db_exec(db, "COMMIT", err);
}

static int
migrate(struct lcb_db *db, struct lcb_err *err)
{
    const struct lcb_migration *m;
    int v = user_version(db);

    if (v < 0)
        return lcb_err_set(err, LCB_ECORRUPT, "cannot read the schema version");
    if (v > lcb_catalog_latest_version())
        return lcb_err_set(err, LCB_ECONFIG,
                           "the catalog has schema version %d but this lcbackup knows only up to %d: "
                           "upgrade lcbackup", v, lcb_catalog_latest_version());
    for (m = lcb_migrations; m->sql; m++)
        if (m->version > v && apply_migration(db, m, err) < 0)
            return -1;
    return 0;
}

static int
pid_alive(long long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* A run still "running" whose process is gone (on this host) was killed: say so. */
static int
mark_abandoned(struct lcb_catalog *cat, struct lcb_err *err)
{
    struct lcb_stmt *st, *up;
    char host[256];
    time_t now = lcb_now();
    int rc;

    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = '\0';
    if (lcb_db_prepare(&st, cat->db, "SELECT id, pid FROM runs WHERE status='running' AND host=?",
                       err) < 0)
        return -1;
    if (lcb_db_prepare(&up, cat->db,
                       "UPDATE runs SET status='abandoned', ended_at=?, "
                       "error='the process ended without recording an outcome' WHERE id=?",
                       err) < 0) {
        lcb_stmt_free(st);
        return -1;
    }
    lcb_stmt_text(st, 1, host);
    while ((rc = lcb_stmt_step(st, err)) == 1) {
        const char *id = lcb_col_text(st, 0);
        if (pid_alive(lcb_col_int(st, 1)))
            continue;
        lcb_stmt_reset(up);
        lcb_stmt_int(up, 1, (long long)now);
        lcb_stmt_text(up, 2, id);
        if (lcb_stmt_step(up, err) < 0) {
            rc = -1;
            break;
        }
        lcb_catalog_event(cat, id, NULL, "run.abandoned", NULL, err);
    }
    lcb_stmt_free(up);
    lcb_stmt_free(st);
    if (rc < 0)
        return -1;
    /* what those runs were doing did not finish */
    return lcb_db_exec(cat->db,
                       "UPDATE backups SET status='failed', "
                       "error='abandoned: the run that took it ended without recording an outcome' "
                       "WHERE status='running' AND run_id IN (SELECT id FROM runs WHERE "
                       "status='abandoned');"
                       "UPDATE restores SET status='abandoned' WHERE status='running' AND run_id IN "
                       "(SELECT id FROM runs WHERE status='abandoned');"
                       "UPDATE drills SET status='abandoned' WHERE status='running' AND run_id IN "
                       "(SELECT id FROM runs WHERE status='abandoned');",
                       err);
}

int
lcb_catalog_open(struct lcb_catalog **out, const char *path, int create, struct lcb_err *err)
{
    struct lcb_catalog *cat;
    struct stat st;

    *out = NULL;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            return lcb_err_sys(err, LCB_EIO, errno, "catalog '%s'", path);
        if (!create)
            return lcb_err_set(err, LCB_ENOTFOUND,
                               "no catalog at '%s': take a backup first, or `lcbackup catalog pull` "
                               "or `lcbackup catalog rebuild` on a new host", path);
        if (create_file(path, err) < 0)
            return -1;
    }
    cat = lcb_xcalloc(1, sizeof(*cat));
    cat->path = lcb_xstrdup(path);
    cat->lock_fd = -1;
    if (lcb_db_open(&cat->db, path, create, 10000, err) < 0 ||
        lcb_db_exec(cat->db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", err) < 0 ||
        migrate(cat->db, err) < 0 || mark_abandoned(cat, err) < 0) {
        lcb_wrap(err, "catalog '%s'", path);
        lcb_catalog_close(cat);
        return -1;
    }
    *out = cat;
    return 0;
}

void
lcb_catalog_close(struct lcb_catalog *cat)
{
    if (!cat)
        return;
    lcb_catalog_unlock(cat);
    lcb_db_close(cat->db);
    free(cat->path);
    free(cat);
}

const char *
lcb_catalog_path(const struct lcb_catalog *cat)
{
    return cat->path;
}

struct lcb_db *
lcb_catalog_db(struct lcb_catalog *cat)
{
    return cat->db;
}

int
lcb_catalog_version(struct lcb_catalog *cat)
{
    return user_version(cat->db);
}

/* Run one statement with text/int parameters given as a format: 't' text, 'i' integer, 'n' null. */
int
lcb_catalog_execf(struct lcb_catalog *cat, const char *sql, const char *types,
                  struct lcb_err *err, ...)
{
    struct lcb_stmt *st;
    va_list ap;
    int i, rc;

    if (lcb_db_prepare(&st, cat->db, sql, err) < 0)
        return -1;
    va_start(ap, err);
    for (i = 0; types[i]; i++) {
        if (types[i] == 't')
            lcb_stmt_text(st, i + 1, va_arg(ap, const char *));
        else if (types[i] == 'i')
            lcb_stmt_int(st, i + 1, va_arg(ap, long long));
        else
            lcb_stmt_null(st, i + 1);
    }
    va_end(ap);
    rc = lcb_stmt_step(st, err);
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

int
lcb_catalog_event(struct lcb_catalog *cat, const char *run_id, const char *backup_id,
                  const char *event, const char *detail, struct lcb_err *err)
{
    return lcb_catalog_execf(cat,
                             "INSERT INTO events(at, run_id, backup_id, event, detail) "
                             "VALUES (?,?,?,?,?)",
                             "itttt", err, (long long)lcb_now(), run_id, backup_id, event, detail);
}

int
lcb_catalog_run_begin(struct lcb_catalog *cat, const char *command, const char *policy,
                      const char *env, char *run_id, struct lcb_err *err)
{
    char host[256];

    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = '\0';
    lcb_catalog_new_id(run_id, LCB_ID_LEN, "run", lcb_now());
    snprintf(cat->run_id, sizeof(cat->run_id), "%s", run_id);
    if (lcb_catalog_execf(cat,
                          "INSERT INTO runs(id, command, policy, env, host, pid, started_at) "
                          "VALUES (?,?,?,?,?,?,?)",
                          "tttttii", err, run_id, command, policy, env, host, (long long)getpid(),
                          (long long)lcb_now()) < 0)
        return lcb_wrap(err, "record run");
    return 0;
}

int
lcb_catalog_run_end(struct lcb_catalog *cat, const char *run_id, const char *status,
                    int exit_code, const char *error, struct lcb_err *err)
{
    return lcb_catalog_execf(cat,
                             "UPDATE runs SET status=?, exit_code=?, error=?, ended_at=? WHERE id=?",
                             "titit", err, status, (long long)exit_code, error,
                             (long long)lcb_now(), run_id);
}

const char *
cat_run_id(struct lcb_catalog *cat)
{
    return cat->run_id[0] ? cat->run_id : NULL;
}

void
cat_set_lock_fd(struct lcb_catalog *cat, int fd)
{
    cat->lock_fd = fd;
}

void
lcb_catalog_unlock(struct lcb_catalog *cat)
{
    if (!cat || cat->lock_fd < 0)
        return;
    /* clear the holder's description while we still hold it; close() releases the flock */
    (void)!ftruncate(cat->lock_fd, 0);
    close(cat->lock_fd);
    cat->lock_fd = -1;
}
