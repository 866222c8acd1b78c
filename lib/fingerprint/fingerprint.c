/* fingerprint.c - a read-only fingerprint of a database; see fingerprint.h. */
#include "fingerprint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/crypto.h"
#include "../ext/json.h"
#include "../ext/pg.h"

#define USER_NS(n)                                                                                 \
    "(" n ".nspname NOT IN ('pg_catalog', 'information_schema') AND " n ".nspname NOT LIKE "       \
    "'pg\\_toast%' AND " n ".nspname NOT LIKE 'pg\\_temp\\_%')"

static const char tables_sql[] =
    "SELECT n.nspname || '.' || c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname),"
    " c.reltuples::float8 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND " USER_NS("n") " ORDER BY 1";

static const char schema_sql[] =
    "SELECT 'table ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p', 'v', 'm') AND " USER_NS(
        "n") " UNION ALL "
             "SELECT 'column ' || n.nspname || '.' || c.relname || ' ' || a.attname || ' '"
             " || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' "
             "ELSE ''"
             " END || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '')"
             " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
             " JOIN pg_namespace n ON n.oid = c.relnamespace"
             " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
             " WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm') "
             "AND " USER_NS(
                 "n") " UNION ALL "
                      "SELECT 'index ' || n.nspname || '.' || ci.relname || ' ' || "
                      "pg_get_indexdef(i.indexrelid)"
                      " FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid"
                      " JOIN pg_namespace n ON n.oid = ci.relnamespace WHERE " USER_NS(
                          "n") " UNION ALL "
                               "SELECT 'type ' || n.nspname || '.' || t.typname || ' enum '"
                               " || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)"
                               " FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid"
                               " JOIN pg_namespace n ON n.oid = t.typnamespace WHERE " USER_NS(
                                   "n") " GROUP BY n.nspname, t.typname";

static const char migrations_table_sql[] =
    "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relname = 'payload_migrations' AND c.relkind IN ('r', 'p') AND " USER_NS(
        "n") " ORDER BY n.nspname = 'public' DESC, n.nspname LIMIT 1";

int
lcb_fingerprint_exact(double reltuples, long long exact_limit)
{
    if (exact_limit <= 0)
        exact_limit = LCB_FP_DEFAULT_EXACT_LIMIT;
    return reltuples < 0 || reltuples < (double)exact_limit;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
lcb_fingerprint_digest(char **lines, size_t n, char out[65])
{
    struct lcb_sha256 *c = lcb_sha256_new();
    unsigned char md[LCB_SHA256_LEN];
    size_t i;

    qsort(lines, n, sizeof(*lines), cmp_str);
    for (i = 0; i < n; i++) {
        lcb_sha256_update(c, lines[i], strlen(lines[i]));
        lcb_sha256_update(c, "\n", 1);
    }
    lcb_sha256_final(c, md);
    lcb_sha256_free(c);
    lcb_hex(md, sizeof(md), out);
}

static int
count_rows(struct lcb_pg *pg, const char *qname, long long *rows, struct lcb_err *err)
{
    struct lcb_pg_rows *r;
    char *sql = lcb_xasprintf("SELECT count(*) FROM %s", qname);
    int rc = lcb_pg_query(&r, pg, sql, NULL, 0, err);

    free(sql);
    if (rc < 0)
        return lcb_wrap(err, "count rows of %s", qname);
    *rows = atoll(lcb_pg_rows_get(r, 0, 0) ? lcb_pg_rows_get(r, 0, 0) : "0");
    lcb_pg_rows_free(r);
    return 0;
}

static int
take_tables(struct lcb_fingerprint *fp, struct lcb_pg *pg, struct lcb_err *err)
{
    struct lcb_pg_rows *r;
    int i, n;

    if (lcb_pg_query(&r, pg, tables_sql, NULL, 0, err) < 0)
        return lcb_wrap(err, "list tables");
    n = lcb_pg_rows_count(r);
    fp->tables = lcb_xcalloc((size_t)n + 1, sizeof(*fp->tables));
    for (i = 0; i < n; i++) {
        struct lcb_fp_table *t = &fp->tables[fp->ntables++];
        double est = atof(lcb_pg_rows_get(r, i, 2) ? lcb_pg_rows_get(r, i, 2) : "-1");
        t->name = lcb_xstrdup(lcb_pg_rows_get(r, i, 0));
        if (lcb_fingerprint_exact(est, fp->exact_limit)) {
            if (count_rows(pg, lcb_pg_rows_get(r, i, 1), &t->rows, err) < 0) {
                lcb_pg_rows_free(r);
                return -1;
            }
        } else {
            t->rows = llround(est);
            t->estimate = 1;
        }
    }
    lcb_pg_rows_free(r);
    return 0;
}

static int
take_schema(struct lcb_fingerprint *fp, struct lcb_pg *pg, struct lcb_err *err)
{
    struct lcb_pg_rows *r;
    char **lines;
    int i, n;

    if (lcb_pg_query(&r, pg, schema_sql, NULL, 0, err) < 0)
        return lcb_wrap(err, "read the schema");
    n = lcb_pg_rows_count(r);
    lines = lcb_xcalloc((size_t)n + 1, sizeof(*lines));
    for (i = 0; i < n; i++)
        lines[i] = lcb_xstrdup(lcb_pg_rows_get(r, i, 0) ? lcb_pg_rows_get(r, i, 0) : "");
    lcb_pg_rows_free(r);
    lcb_fingerprint_digest(lines, (size_t)n, fp->schema_sha256);
    fp->schema_objects = (size_t)n;
    for (i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    return 0;
}

/* The newest payload_migrations row; none when the table is absent. Runs last: a failing query
 * aborts the transaction. */
static int
take_migration(struct lcb_fingerprint *fp, struct lcb_pg *pg, struct lcb_err *err)
{
    struct lcb_pg_rows *r;
    char *sql;
    int rc;

    if (lcb_pg_query(&r, pg, migrations_table_sql, NULL, 0, err) < 0)
        return lcb_wrap(err, "look for payload_migrations");
    if (lcb_pg_rows_count(r) == 0) {
        lcb_pg_rows_free(r);
        return 0;
    }
    sql = lcb_xasprintf("SELECT name, batch::text, created_at::text FROM %s "
                        "ORDER BY created_at DESC NULLS LAST, id DESC LIMIT 1",
                        lcb_pg_rows_get(r, 0, 0));
    lcb_pg_rows_free(r);
    rc = lcb_pg_query(&r, pg, sql, NULL, 0, err);
    free(sql);
    if (rc < 0)
        return lcb_wrap(err, "read the latest payload migration");
    if (lcb_pg_rows_count(r) > 0) {
        fp->has_migration = 1;
        fp->migration_name = lcb_xstrdup(lcb_pg_rows_get(r, 0, 0) ? lcb_pg_rows_get(r, 0, 0) : "");
        fp->migration_batch = lcb_xstrdup(lcb_pg_rows_get(r, 0, 1) ? lcb_pg_rows_get(r, 0, 1) : "");
        fp->migration_at = lcb_xstrdup(lcb_pg_rows_get(r, 0, 2) ? lcb_pg_rows_get(r, 0, 2) : "");
    }
    lcb_pg_rows_free(r);
    return 0;
}

int
lcb_fingerprint_take(struct lcb_fingerprint *out, struct lcb_pg *pg, long long exact_limit,
                     struct lcb_err *err)
{
    memset(out, 0, sizeof(*out));
    out->taken_at = lcb_now();
    out->exact_limit = exact_limit > 0 ? exact_limit : LCB_FP_DEFAULT_EXACT_LIMIT;
    out->database = lcb_xstrdup(lcb_pg_dbname(pg));
    out->server_version = lcb_xstrdup(lcb_pg_server_version(pg));
    /* one consistent, read-only view; names fully qualified; times in UTC */
    if (lcb_pg_exec(pg,
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
                    "SET LOCAL search_path = pg_catalog; SET LOCAL TimeZone = 'UTC'",
                    err) < 0)
        goto fail;
    if (take_tables(out, pg, err) < 0 || take_schema(out, pg, err) < 0 ||
        take_migration(out, pg, err) < 0) {
        struct lcb_err ignored;
        lcb_pg_exec(pg, "ROLLBACK", &ignored);
        goto fail;
    }
    if (lcb_pg_exec(pg, "COMMIT", err) < 0)
        goto fail;
    return 0;
fail:
    lcb_fingerprint_release(out);
    return lcb_wrap(err, "fingerprint");
}

void
lcb_fingerprint_release(struct lcb_fingerprint *fp)
{
    size_t i;

    for (i = 0; i < fp->ntables; i++)
        free(fp->tables[i].name);
    free(fp->tables);
    free(fp->database);
    free(fp->server_version);
    free(fp->migration_name);
    free(fp->migration_batch);
    free(fp->migration_at);
    memset(fp, 0, sizeof(*fp));
}

void
lcb_fingerprint_json(const struct lcb_fingerprint *fp, struct lcb_buf *out)
{
    char ts[LCB_TIME_LEN];
    size_t i;

    lcb_buf_addf(out, "{\"taken_at\":\"%s\",\"database\":", lcb_time_fmt(fp->taken_at, ts));
    lcb_json_quote(out, fp->database ? fp->database : "");
    lcb_buf_adds(out, ",\"server_version\":");
    lcb_json_quote(out, fp->server_version ? fp->server_version : "");
    lcb_buf_addf(out, ",\"exact_count_limit\":%lld,\"tables\":{", fp->exact_limit);
    for (i = 0; i < fp->ntables; i++) {
        if (i)
            lcb_buf_addch(out, ',');
        lcb_json_quote(out, fp->tables[i].name);
        lcb_buf_addf(out, ":{\"rows\":%lld%s}", fp->tables[i].rows,
                     fp->tables[i].estimate ? ",\"estimate\":true" : "");
    }
    lcb_buf_addf(out, "},\"schema_sha256\":\"%s\",\"schema_objects\":%zu", fp->schema_sha256,
                 fp->schema_objects);
    if (fp->has_migration) {
        lcb_buf_adds(out, ",\"latest_migration\":{\"name\":");
        lcb_json_quote(out, fp->migration_name);
        lcb_buf_adds(out, ",\"batch\":");
        lcb_json_quote(out, fp->migration_batch);
        lcb_buf_adds(out, ",\"created_at\":");
        lcb_json_quote(out, fp->migration_at);
        lcb_buf_addch(out, '}');
    } else {
        lcb_buf_adds(out, ",\"latest_migration\":null");
    }
    lcb_buf_addch(out, '}');
}

static char *
dup_or_null(const char *s)
{
    return s ? lcb_xstrdup(s) : NULL;
}

static int
read_tables(struct lcb_fingerprint *out, const struct lcb_json *tables, struct lcb_err *err)
{
    const struct lcb_json *t;

    if (lcb_json_type(tables) != LCB_JSON_OBJECT)
        return lcb_err_set(err, LCB_ECORRUPT, "fingerprint: 'tables' is not an object");
    out->tables = lcb_xcalloc(lcb_json_size(tables) + 1, sizeof(*out->tables));
    for (t = lcb_json_child(tables); t; t = lcb_json_next(t)) {
        struct lcb_fp_table *ft = &out->tables[out->ntables++];
        const struct lcb_json *rows = lcb_json_get(t, "rows");
        ft->name = lcb_xstrdup(lcb_json_key(t));
        if (lcb_json_type(rows) != LCB_JSON_NUMBER)
            return lcb_err_set(err, LCB_ECORRUPT, "fingerprint: table '%s' has no row count",
                               ft->name);
        ft->rows = llround(lcb_json_num(rows, 0));
        ft->estimate = lcb_json_bool(lcb_json_get(t, "estimate"), 0);
    }
    return 0;
}

int
lcb_fingerprint_from_json(struct lcb_fingerprint *out, const struct lcb_json *j,
                          struct lcb_err *err)
{
    const char *sha = lcb_json_get_str(j, "schema_sha256"), *ts = lcb_json_get_str(j, "taken_at");
    const struct lcb_json *m = lcb_json_get(j, "latest_migration");

    memset(out, 0, sizeof(*out));
    if (lcb_json_type(j) != LCB_JSON_OBJECT)
        return lcb_err_set(err, LCB_ECORRUPT, "fingerprint: not a JSON object");
    if (!sha || strlen(sha) != 64)
        return lcb_err_set(err, LCB_ECORRUPT, "fingerprint: 'schema_sha256' is missing");
    if (read_tables(out, lcb_json_get(j, "tables"), err) < 0) {
        lcb_fingerprint_release(out);
        return -1;
    }
    snprintf(out->schema_sha256, sizeof(out->schema_sha256), "%s", sha);
    out->schema_objects = (size_t)lcb_json_get_num(j, "schema_objects", 0);
    out->exact_limit = (long long)lcb_json_get_num(j, "exact_count_limit", 0);
    out->database = dup_or_null(lcb_json_get_str(j, "database"));
    out->server_version = dup_or_null(lcb_json_get_str(j, "server_version"));
    if (ts)
        lcb_time_parse(ts, &out->taken_at);
    if (lcb_json_type(m) == LCB_JSON_OBJECT) {
        out->has_migration = 1;
        out->migration_name = dup_or_null(lcb_json_get_str(m, "name"));
        out->migration_batch = dup_or_null(lcb_json_get_str(m, "batch"));
        out->migration_at = dup_or_null(lcb_json_get_str(m, "created_at"));
    }
    return 0;
}

static const struct lcb_fp_table *
find_table(const struct lcb_fingerprint *fp, const char *name)
{
    size_t i;

    for (i = 0; i < fp->ntables; i++)
        if (strcmp(fp->tables[i].name, name) == 0)
            return &fp->tables[i];
    return NULL;
}

static int
rows_differ(const struct lcb_fp_table *w, const struct lcb_fp_table *g, double tolerance)
{
    double allowed = tolerance, base;

    if (w->estimate || g->estimate)
        allowed = tolerance > 0.1 ? tolerance : 0.1;
    if (w->rows == g->rows)
        return 0;
    base = (double)(w->rows > 0 ? w->rows : 1);
    return fabs((double)(g->rows - w->rows)) / base > allowed;
}

static int
same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

int
lcb_fingerprint_compare(const struct lcb_fingerprint *want, const struct lcb_fingerprint *got,
                        double tolerance, struct lcb_buf *report)
{
    int n = 0;
    size_t i;

    for (i = 0; i < want->ntables; i++) {
        const struct lcb_fp_table *w = &want->tables[i], *g = find_table(got, w->name);
        if (!g) {
            lcb_buf_addf(report, "table %s: missing\n", w->name);
            n++;
        } else if (rows_differ(w, g, tolerance)) {
            lcb_buf_addf(report, "table %s: %lld rows%s, want %lld%s\n", w->name, g->rows,
                         g->estimate ? " (estimate)" : "", w->rows,
                         w->estimate ? " (estimate)" : "");
            n++;
        }
    }
    for (i = 0; i < got->ntables; i++) {
        if (!find_table(want, got->tables[i].name)) {
            lcb_buf_addf(report, "table %s: not in the source\n", got->tables[i].name);
            n++;
        }
    }
    if (strcmp(want->schema_sha256, got->schema_sha256) != 0) {
        lcb_buf_addf(report, "schema digest %.12s..., want %.12s...\n", got->schema_sha256,
                     want->schema_sha256);
        n++;
    }
    if (want->has_migration != got->has_migration ||
        !same_str(want->migration_name, got->migration_name) ||
        !same_str(want->migration_batch, got->migration_batch)) {
        lcb_buf_addf(report, "latest payload migration %s, want %s\n",
                     got->has_migration ? got->migration_name : "(none)",
                     want->has_migration ? want->migration_name : "(none)");
        n++;
    }
    return n;
}
