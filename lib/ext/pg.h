/*
 * pg.h - PostgreSQL through libpq, read-only by default (the only file that includes libpq-fe.h is
 * pg.c).
 *
 * A database URL (postgres://user:pass@host:port/db?sslmode=require) arrives in a struct lcb_secret
 * (an SSM SecureString). lcb_pg_url_parse() splits it; the password stays in a struct lcb_secret of
 * its own, registered with the redactor, so neither the URL nor the bare password can reach a log
 * or error line. The connection is made with keyword/value arrays (no conninfo string to escape).
 *
 * A read-only connection sets default_transaction_read_only=on at connect time: every statement
 * runs in a read-only transaction, so a fingerprint can never write to the source by mistake.
 *
 * Ownership: struct lcb_pg_url is caller-owned (_release); struct lcb_pg and struct lcb_pg_rows are
 * heap objects (_close, _free; NULL is a no-op). Cell strings are borrowed from their rows.
 */
#ifndef LCB_EXT_PG_H
#define LCB_EXT_PG_H

#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/secret.h"

struct lcb_pg;
struct lcb_pg_rows;

struct lcb_pg_url {
    char *user;
    char *host; /* "127.0.0.1", "db.example", or an IPv6 address without brackets */
    int port;   /* 5432 when the URL gives none */
    char *dbname;
    struct lcb_secret password; /* empty when the URL has none */
    char **opt_names;           /* query parameters, passed to libpq as keywords (sslmode...) */
    char **opt_values;
    size_t nopts;
};

/* Split a postgres:// or postgresql:// URL (percent-decoded parts). Returns 0, or -1 with
 * LCB_ECONFIG naming what is wrong (never the password). */
int lcb_pg_url_parse(struct lcb_pg_url *out, const char *url, struct lcb_err *err);
void lcb_pg_url_release(struct lcb_pg_url *u);
/* "postgres://user@host:port/db": the URL without its password, for messages. Appends to out. */
void lcb_pg_url_describe(const struct lcb_pg_url *u, struct lcb_buf *out);
/* The URL again, password included, into a secret (percent-encoded as needed). */
void lcb_pg_url_format(struct lcb_secret *out, const struct lcb_pg_url *u);
/* Replace host and port (a restored instance's endpoint). */
void lcb_pg_url_set_host(struct lcb_pg_url *u, const char *host, int port);

/* Connect. read_only sets default_transaction_read_only. connect_timeout defaults to 10 s unless
 * the URL sets it. Errors: LCB_EAUTH (password or role refused), LCB_ETEMP (cannot reach the
 * server), LCB_ENOTFOUND (no such database), LCB_EFAIL. */
int lcb_pg_connect(struct lcb_pg **out, const struct lcb_pg_url *u, int read_only,
                   struct lcb_err *err);
/* lcb_pg_url_parse + lcb_pg_connect. */
int lcb_pg_connect_url(struct lcb_pg **out, const struct lcb_secret *url, int read_only,
                       struct lcb_err *err);
void lcb_pg_close(struct lcb_pg *pg);
/* The server version, "15.10" (borrowed). */
const char *lcb_pg_server_version(const struct lcb_pg *pg);
/* The database connected to (borrowed). */
const char *lcb_pg_dbname(const struct lcb_pg *pg);

/* Run statements without rows (BEGIN, COMMIT, SET). Errors as lcb_pg_query. */
int lcb_pg_exec(struct lcb_pg *pg, const char *sql, struct lcb_err *err);
/* Run one query with text parameters ($1...; params may be NULL when nparams is 0). *out holds
 * the rows. Errors: LCB_ENOTFOUND (undefined table or column), LCB_EREFUSED (a write in a
 * read-only transaction, permission denied), LCB_ETEMP (connection lost), LCB_EFAIL (other SQL
 * errors; the message carries the SQLSTATE). */
int lcb_pg_query(struct lcb_pg_rows **out, struct lcb_pg *pg, const char *sql,
                 const char *const *params, int nparams, struct lcb_err *err);
int lcb_pg_rows_count(const struct lcb_pg_rows *r);
int lcb_pg_rows_fields(const struct lcb_pg_rows *r);
/* A cell's text, or NULL for SQL NULL or out of range. */
const char *lcb_pg_rows_get(const struct lcb_pg_rows *r, int row, int col);
void lcb_pg_rows_free(struct lcb_pg_rows *r);

#endif
