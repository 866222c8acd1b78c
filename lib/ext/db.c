/* db.c - the SQLite wrapper; see db.h. */
#include "db.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct lcb_db {
    sqlite3 *h;
};

struct lcb_stmt {
    sqlite3_stmt *h;
    struct lcb_db *db;
};

static int
fail(struct lcb_err *err, sqlite3 *h, int rc, const char *what)
{
    enum lcb_code code = LCB_EIO;

    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
        code = LCB_ECORRUPT;
    else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        code = LCB_ELOCKED;
    else if (rc == SQLITE_CONSTRAINT || rc == SQLITE_ERROR || rc == SQLITE_MISUSE)
        code = LCB_EINTERNAL;
    lcb_err_set(err, code, "%s: %s", what, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
    err->sys = rc;
    return -1;
}

int
lcb_db_open(struct lcb_db **out, const char *path, int create, int busy_ms, struct lcb_err *err)
{
    struct lcb_db *db = calloc(1, sizeof(*db));
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_FULLMUTEX;
    int rc;

    *out = NULL;
    if (!db)
        return lcb_err_set(err, LCB_EIO, "out of memory");
    rc = sqlite3_open_v2(path, &db->h, flags, NULL);
    if (rc != SQLITE_OK) {
        fail(err, db->h, rc, "open");
        sqlite3_close(db->h);
        free(db);
        return -1;
    }
    sqlite3_busy_timeout(db->h, busy_ms);
    sqlite3_extended_result_codes(db->h, 0);
    *out = db;
    return 0;
}

/* SQLite silently falls back to /var/tmp, /tmp or "." when its directory is unusable: check it
 * first, so that a bad TMPDIR is reported rather than ignored. */
static int
check_dir(const char *dir, struct lcb_err *err)
{
    struct stat st;

    if (stat(dir, &st) < 0)
        return lcb_err_sys(err, LCB_EIO, errno, "temporary directory %s", dir);
    if (!S_ISDIR(st.st_mode))
        return lcb_err_set(err, LCB_EIO, "temporary directory %s: not a directory", dir);
    if (access(dir, W_OK | X_OK) < 0)
        return lcb_err_sys(err, LCB_EIO, errno, "temporary directory %s", dir);
    return 0;
}

int
lcb_db_open_temp(struct lcb_db **out, const char *dir, struct lcb_err *err)
{
    *out = NULL;
    if (check_dir(dir, err) < 0)
        return -1;
    /* the file itself is created later, when the cache overflows, in the directory set now; the
     * "" database's file is opened delete-on-close: mode 0600, unlinked at once */
    sqlite3_free(sqlite3_temp_directory);
    sqlite3_temp_directory = sqlite3_mprintf("%s", dir);
    return lcb_db_open(out, "", 1, 0, err);
}

void
lcb_db_close(struct lcb_db *db)
{
    if (!db)
        return;
    sqlite3_close(db->h);
    free(db);
}

int
lcb_db_exec(struct lcb_db *db, const char *sql, struct lcb_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        lcb_err_set(err, rc == SQLITE_BUSY ? LCB_ELOCKED : rc == SQLITE_CORRUPT ? LCB_ECORRUPT : LCB_EIO,
                    "sql: %s", msg ? msg : sqlite3_errstr(rc));
        err->sys = rc;
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int
lcb_db_prepare(struct lcb_stmt **out, struct lcb_db *db, const char *sql, struct lcb_err *err)
{
    struct lcb_stmt *st = calloc(1, sizeof(*st));
    int rc;

    *out = NULL;
    if (!st)
        return lcb_err_set(err, LCB_EIO, "out of memory");
    rc = sqlite3_prepare_v2(db->h, sql, -1, &st->h, NULL);
    if (rc != SQLITE_OK) {
        free(st);
        return fail(err, db->h, rc, "prepare");
    }
    st->db = db;
    *out = st;
    return 0;
}

void
lcb_stmt_free(struct lcb_stmt *st)
{
    if (!st)
        return;
    sqlite3_finalize(st->h);
    free(st);
}

int
lcb_stmt_reset(struct lcb_stmt *st)
{
    sqlite3_reset(st->h);
    return sqlite3_clear_bindings(st->h) == SQLITE_OK ? 0 : -1;
}

int
lcb_stmt_text(struct lcb_stmt *st, int idx, const char *s)
{
    if (!s)
        return lcb_stmt_null(st, idx);
    return sqlite3_bind_text(st->h, idx, s, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

int
lcb_stmt_int(struct lcb_stmt *st, int idx, long long v)
{
    return sqlite3_bind_int64(st->h, idx, v) == SQLITE_OK ? 0 : -1;
}

int
lcb_stmt_double(struct lcb_stmt *st, int idx, double v)
{
    return sqlite3_bind_double(st->h, idx, v) == SQLITE_OK ? 0 : -1;
}

int
lcb_stmt_blob(struct lcb_stmt *st, int idx, const void *p, size_t n)
{
    return sqlite3_bind_blob64(st->h, idx, p, n, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

int
lcb_stmt_null(struct lcb_stmt *st, int idx)
{
    return sqlite3_bind_null(st->h, idx) == SQLITE_OK ? 0 : -1;
}

int
lcb_stmt_step(struct lcb_stmt *st, struct lcb_err *err)
{
    int rc = sqlite3_step(st->h);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return fail(err, st->db->h, rc, "step");
}

const char *
lcb_col_text(struct lcb_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st->h, col);
}

long long
lcb_col_int(struct lcb_stmt *st, int col)
{
    return sqlite3_column_int64(st->h, col);
}

double
lcb_col_double(struct lcb_stmt *st, int col)
{
    return sqlite3_column_double(st->h, col);
}

int
lcb_col_isnull(struct lcb_stmt *st, int col)
{
    return sqlite3_column_type(st->h, col) == SQLITE_NULL;
}

int
lcb_col_count(struct lcb_stmt *st)
{
    return sqlite3_column_count(st->h);
}

const char *
lcb_col_name(struct lcb_stmt *st, int col)
{
    return sqlite3_column_name(st->h, col);
}

int
lcb_db_changes(struct lcb_db *db)
{
    return sqlite3_changes(db->h);
}

const char *
lcb_db_version(void)
{
    return sqlite3_libversion();
}
