/*
 * db.h - SQLite through lcbackup's own types (the only file that includes sqlite3.h is db.c).
 *
 * Statements bind by position (1-based); text columns are borrowed until the next step/free.
 * Errors carry the sqlite code in err->sys and map to LCB_EIO, LCB_ECORRUPT or LCB_ELOCKED.
 */
#ifndef LCB_EXT_DB_H
#define LCB_EXT_DB_H

#include <stddef.h>

#include "../core/err.h"

struct lcb_db;
struct lcb_stmt;

/* Open (create when create is set) with a busy timeout in ms. */
int lcb_db_open(struct lcb_db **out, const char *path, int create, int busy_ms, struct lcb_err *err);
/* Open a private database in a file under dir, for data too large for memory: SQLite creates the
 * file only once its page cache overflows, with mode 0600, and unlinks it as soon as it is created,
 * so it never outlives the process, even killed. dir must be a writable directory (LCB_EIO naming
 * it otherwise). It becomes SQLite's temporary directory for the whole process. */
int lcb_db_open_temp(struct lcb_db **out, const char *dir, struct lcb_err *err);
void lcb_db_close(struct lcb_db *db);
/* Run one or more statements without results. */
int lcb_db_exec(struct lcb_db *db, const char *sql, struct lcb_err *err);
int lcb_db_prepare(struct lcb_stmt **out, struct lcb_db *db, const char *sql, struct lcb_err *err);
void lcb_stmt_free(struct lcb_stmt *st);
int lcb_stmt_reset(struct lcb_stmt *st);
/* Bind text (NULL binds NULL), integers, NULL. */
int lcb_stmt_text(struct lcb_stmt *st, int idx, const char *s);
int lcb_stmt_int(struct lcb_stmt *st, int idx, long long v);
int lcb_stmt_null(struct lcb_stmt *st, int idx);
int lcb_stmt_double(struct lcb_stmt *st, int idx, double v);
/* Bind a blob (copied). */
int lcb_stmt_blob(struct lcb_stmt *st, int idx, const void *p, size_t n);
/* 1: a row is ready; 0: done; -1: error. */
int lcb_stmt_step(struct lcb_stmt *st, struct lcb_err *err);
const char *lcb_col_text(struct lcb_stmt *st, int col); /* NULL for SQL NULL */
long long lcb_col_int(struct lcb_stmt *st, int col);
double lcb_col_double(struct lcb_stmt *st, int col);
int lcb_col_isnull(struct lcb_stmt *st, int col);
int lcb_col_count(struct lcb_stmt *st);
const char *lcb_col_name(struct lcb_stmt *st, int col);
/* Rows changed by the last statement. */
int lcb_db_changes(struct lcb_db *db);
const char *lcb_db_version(void);

#endif
