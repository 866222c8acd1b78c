/* pg.c - PostgreSQL through libpq; see pg.h. */
#include "pg.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/mem.h"

struct lcb_pg {
    PGconn *conn;
    char version[32];
    char *dbname;
};

struct lcb_pg_rows {
    PGresult *res;
};

/* ---- URLs ---- */

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..n) into a new string; NULL when an escape is malformed. */
static char *
decode(const char *s, size_t n)
{
    char *out = lcb_xmalloc(n + 1), *o = out;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
            free(out);
            return NULL;
        }
        *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
        i += 2;
    }
    *o = '\0';
    return out;
}

static void
encode(struct lcb_buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            lcb_buf_addch(out, (char)c);
        else
            lcb_buf_addf(out, "%%%02X", c);
    }
}

static int
bad_url(struct lcb_err *err, const char *what)
{
    return lcb_err_set(err, LCB_ECONFIG,
                       "database URL: %s (want postgres://user:pass@host:port/db)", what);
}

/* host[:port] or [v6][:port] */
static int
parse_hostport(struct lcb_pg_url *u, const char *s, size_t n, struct lcb_err *err)
{
    const char *colon = NULL, *end = s + n;
    char *e;
    long port;

    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return bad_url(err, "unterminated [IPv6 address]");
        u->host = lcb_xstrndup(s + 1, (size_t)(close - s - 1));
        colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
        if (!colon && close + 1 != end)
            return bad_url(err, "junk after the IPv6 address");
    } else {
        colon = memchr(s, ':', n);
        u->host = decode(s, colon ? (size_t)(colon - s) : n);
    }
    if (!u->host || !*u->host)
        return bad_url(err, "no host");
    if (!colon)
        return 0;
    port = strtol(colon + 1, &e, 10);
    if (e != end || colon + 1 == end || port < 1 || port > 65535)
        return bad_url(err, "the port is not a number from 1 to 65535");
    u->port = (int)port;
    return 0;
}

static int
parse_userinfo(struct lcb_pg_url *u, const char *s, size_t n, struct lcb_err *err)
{
    const char *colon = memchr(s, ':', n);
    char *pw;

    u->user = decode(s, colon ? (size_t)(colon - s) : n);
    if (!u->user)
        return bad_url(err, "bad %-escape in the user name");
    if (!colon)
        return 0;
    pw = decode(colon + 1, (size_t)(s + n - colon - 1));
    if (!pw)
        return bad_url(err, "bad %-escape in the password");
    lcb_secret_set(&u->password, pw, strlen(pw));
    lcb_wipe(pw, strlen(pw));
    free(pw);
    return 0;
}

static int
parse_options(struct lcb_pg_url *u, const char *q, struct lcb_err *err)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (n) {
            if (!eq)
                return bad_url(err, "a query parameter without '='");
            u->opt_names = lcb_xrealloc(u->opt_names, (u->nopts + 1) * sizeof(char *));
            u->opt_values = lcb_xrealloc(u->opt_values, (u->nopts + 1) * sizeof(char *));
            u->opt_names[u->nopts] = decode(q, (size_t)(eq - q));
            u->opt_values[u->nopts] = decode(eq + 1, (size_t)(q + n - eq - 1));
            u->nopts++;
            if (!u->opt_names[u->nopts - 1] || !u->opt_values[u->nopts - 1])
                return bad_url(err, "bad %-escape in a query parameter");
        }
        q += n;
        if (*q == '&')
            q++;
    }
    return 0;
}

int
lcb_pg_url_parse(struct lcb_pg_url *out, const char *url, struct lcb_err *err)
{
    const char *p, *auth, *at, *slash, *qm;
    size_t alen;

    memset(out, 0, sizeof(*out));
    out->port = 5432;
    if (strncmp(url, "postgres://", 11) == 0)
        auth = url + 11;
    else if (strncmp(url, "postgresql://", 13) == 0)
        auth = url + 13;
    else
        return bad_url(err, "it does not start with postgres:// or postgresql://");
    alen = strcspn(auth, "/?");
    p = auth + alen;
    at = NULL;
    for (slash = auth; slash < p; slash++)
        if (*slash == '@')
            at = slash; /* the last '@': passwords may hold one, encoded or not */
    if (at && parse_userinfo(out, auth, (size_t)(at - auth), err) < 0)
        goto fail;
    if (parse_hostport(out, at ? at + 1 : auth, (size_t)(p - (at ? at + 1 : auth)), err) < 0)
        goto fail;
    qm = strchr(p, '?');
    if (*p == '/') {
        size_t n = qm ? (size_t)(qm - p - 1) : strlen(p + 1);
        if (n && !(out->dbname = decode(p + 1, n))) {
            bad_url(err, "bad %-escape in the database name");
            goto fail;
        }
    }
    if (qm && parse_options(out, qm + 1, err) < 0)
        goto fail;
    return 0;
fail:
    lcb_pg_url_release(out);
    return -1;
}

void
lcb_pg_url_release(struct lcb_pg_url *u)
{
    size_t i;

    free(u->user);
    free(u->host);
    free(u->dbname);
    lcb_secret_release(&u->password);
    for (i = 0; i < u->nopts; i++) {
        free(u->opt_names[i]);
        free(u->opt_values[i]);
    }
    free(u->opt_names);
    free(u->opt_values);
    memset(u, 0, sizeof(*u));
}

static void
format_url(struct lcb_buf *out, const struct lcb_pg_url *u, int with_password)
{
    size_t i;

    lcb_buf_adds(out, "postgres://");
    if (u->user) {
        encode(out, u->user);
        if (with_password && !lcb_secret_empty(&u->password)) {
            lcb_buf_addch(out, ':');
            encode(out, lcb_secret_get(&u->password));
        }
        lcb_buf_addch(out, '@');
    }
    if (u->host && strchr(u->host, ':'))
        lcb_buf_addf(out, "[%s]", u->host);
    else if (u->host)
        encode(out, u->host);
    lcb_buf_addf(out, ":%d/", u->port);
    if (u->dbname)
        encode(out, u->dbname);
    for (i = 0; i < u->nopts; i++) {
        lcb_buf_addch(out, i ? '&' : '?');
        encode(out, u->opt_names[i]);
        lcb_buf_addch(out, '=');
        encode(out, u->opt_values[i]);
    }
}

void
lcb_pg_url_describe(const struct lcb_pg_url *u, struct lcb_buf *out)
{
    format_url(out, u, 0);
}

void
lcb_pg_url_format(struct lcb_secret *out, const struct lcb_pg_url *u)
{
    struct lcb_buf b = LCB_BUF_INIT;

    format_url(&b, u, 1);
    lcb_secret_set(out, lcb_buf_str(&b), b.len);
    lcb_wipe(b.ptr, b.len);
    lcb_buf_release(&b);
}

void
lcb_pg_url_set_host(struct lcb_pg_url *u, const char *host, int port)
{
    free(u->host);
    u->host = lcb_xstrdup(host);
    if (port > 0)
        u->port = port;
}

/* ---- connections ---- */

static void
quiet_notice(void *arg, const char *message)
{
    (void)arg;
    lcb_log(LCB_DEBUG, "pg.notice", "postgres: %.*s", (int)strcspn(message, "\n"), message);
}

/* libpq's message, first line, without the trailing newline. */
static void
set_conn_error(struct lcb_err *err, enum lcb_code code, PGconn *c, const char *what)
{
    const char *m = c ? PQerrorMessage(c) : "out of memory";
    size_t n = strlen(m);

    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    lcb_err_set(err, code, "%s: %.*s", what, (int)n, m);
}

static enum lcb_code
classify_connect(PGconn *c)
{
    const char *m = c ? PQerrorMessage(c) : "";

    if (c && PQconnectionNeedsPassword(c))
        return LCB_EAUTH;
    if (strstr(m, "password authentication failed") || strstr(m, "no password supplied") ||
        strstr(m, "role \"") || strstr(m, "no pg_hba.conf entry") || strstr(m, "permission denied"))
        return LCB_EAUTH;
    if (strstr(m, "database \"") && strstr(m, "does not exist"))
        return LCB_ENOTFOUND;
    return LCB_ETEMP;
}

static int
has_opt(const struct lcb_pg_url *u, const char *name)
{
    size_t i;

    for (i = 0; i < u->nopts; i++)
        if (strcmp(u->opt_names[i], name) == 0)
            return 1;
    return 0;
}

int
lcb_pg_connect(struct lcb_pg **out, const struct lcb_pg_url *u, int read_only, struct lcb_err *err)
{
    const char **keys = lcb_xcalloc(u->nopts + 10, sizeof(char *));
    const char **vals = lcb_xcalloc(u->nopts + 10, sizeof(char *));
    char port[16];
    size_t i, n = 0;
    struct lcb_pg *pg;
    PGconn *c;

    *out = NULL;
    snprintf(port, sizeof(port), "%d", u->port);
#define KV(k, v) (keys[n] = (k), vals[n] = (v), n++)
    KV("host", u->host);
    KV("port", port);
    if (u->dbname)
        KV("dbname", u->dbname);
    if (u->user)
        KV("user", u->user);
    if (!lcb_secret_empty(&u->password))
        KV("password", lcb_secret_get(&u->password));
    if (!has_opt(u, "connect_timeout"))
        KV("connect_timeout", "10");
    if (!has_opt(u, "application_name"))
        KV("application_name", "lcbackup");
    if (read_only && !has_opt(u, "options"))
        KV("options", "-c default_transaction_read_only=on");
    for (i = 0; i < u->nopts; i++)
        KV(u->opt_names[i], u->opt_values[i]);
#undef KV
    keys[n] = vals[n] = NULL;
    c = PQconnectdbParams(keys, vals, 0);
    free(keys);
    free(vals);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        set_conn_error(err, classify_connect(c), c, "connect");
        lcb_wrap(err, "database %s at %s:%d", u->dbname ? u->dbname : "(default)", u->host,
                 u->port);
        PQfinish(c);
        return -1;
    }
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    pg = lcb_xcalloc(1, sizeof(*pg));
    pg->conn = c;
    snprintf(pg->version, sizeof(pg->version), "%d.%d", PQserverVersion(c) / 10000,
             PQserverVersion(c) % 10000);
    pg->dbname = lcb_xstrdup(PQdb(c) ? PQdb(c) : "");
    *out = pg;
    return 0;
}

int
lcb_pg_connect_url(struct lcb_pg **out, const struct lcb_secret *url, int read_only,
                   struct lcb_err *err)
{
    struct lcb_pg_url u;
    int rc;

    *out = NULL;
    if (lcb_pg_url_parse(&u, lcb_secret_get(url), err) < 0)
        return -1;
    rc = lcb_pg_connect(out, &u, read_only, err);
    lcb_pg_url_release(&u);
    return rc;
}

void
lcb_pg_close(struct lcb_pg *pg)
{
    if (!pg)
        return;
    PQfinish(pg->conn);
    free(pg->dbname);
    free(pg);
}

const char *
lcb_pg_server_version(const struct lcb_pg *pg)
{
    return pg->version;
}

const char *
lcb_pg_dbname(const struct lcb_pg *pg)
{
    return pg->dbname;
}

/* ---- queries ---- */

static enum lcb_code
classify_sqlstate(const char *st)
{
    if (!st)
        return LCB_ETEMP; /* no result at all: the connection went away */
    if (strcmp(st, "42P01") == 0 || strcmp(st, "42703") == 0 || strcmp(st, "3D000") == 0 ||
        strcmp(st, "3F000") == 0)
        return LCB_ENOTFOUND;
    if (strcmp(st, "25006") == 0 || strcmp(st, "42501") == 0)
        return LCB_EREFUSED;
    if (strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57014") == 0)
        return LCB_ETEMP;
    if (strncmp(st, "28", 2) == 0)
        return LCB_EAUTH;
    return LCB_EFAIL;
}

/* A failed result (or none): the server's primary message with its SQLSTATE. */
static int
result_error(struct lcb_pg *pg, PGresult *res, struct lcb_err *err)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (msg)
        lcb_err_set(err, classify_sqlstate(st), "%s (SQLSTATE %s)", msg, st ? st : "?");
    else
        set_conn_error(err, classify_sqlstate(st), pg->conn, "query");
    PQclear(res);
    return -1;
}

int
lcb_pg_exec(struct lcb_pg *pg, const char *sql, struct lcb_err *err)
{
    PGresult *res = PQexec(pg->conn, sql);

    if (!res || (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK))
        return result_error(pg, res, err);
    PQclear(res);
    return 0;
}

int
lcb_pg_query(struct lcb_pg_rows **out, struct lcb_pg *pg, const char *sql,
             const char *const *params, int nparams, struct lcb_err *err)
{
    PGresult *res;

    *out = NULL;
    res = PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
        return result_error(pg, res, err);
    *out = lcb_xcalloc(1, sizeof(**out));
    (*out)->res = res;
    return 0;
}

int
lcb_pg_rows_count(const struct lcb_pg_rows *r)
{
    return r ? PQntuples(r->res) : 0;
}

int
lcb_pg_rows_fields(const struct lcb_pg_rows *r)
{
    return r ? PQnfields(r->res) : 0;
}

const char *
lcb_pg_rows_get(const struct lcb_pg_rows *r, int row, int col)
{
    if (!r || row < 0 || col < 0 || row >= PQntuples(r->res) || col >= PQnfields(r->res) ||
        PQgetisnull(r->res, row, col))
        return NULL;
    return PQgetvalue(r->res, row, col);
}

void
lcb_pg_rows_free(struct lcb_pg_rows *r)
{
    if (!r)
        return;
    PQclear(r->res);
    free(r);
}
