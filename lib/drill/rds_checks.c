/* rds_checks.c - what an RDS drill checks in the restored database; see rds_checks.h. */
#include "rds_checks.h"

#include <stdlib.h>
#include <string.h>

#include "../aws/aws.h"
#include "../aws/secretsmanager.h"
#include "../aws/ssm.h"
#include "../backup/s3source.h"
#include "../catalog/catalog.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../core/secret.h"
#include "../core/sig.h"
#include "../ext/json.h"
#include "../ext/pg.h"
#include "../fingerprint/fingerprint.h"
#include "../ngsi/idset.h"
#include "../policy/policy.h"
#include "../snapshot/snapshot.h"

static const char *
errline(const struct lcb_err *err, char *buf, size_t size)
{
    char *nl;

    lcb_err_format(err, buf, size);
    if ((nl = strchr(buf, '\n')))
        *nl = '\0';
    return buf;
}

/* ---- connectivity ---- */

static int
connect_db(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
           const struct lcb_json *m, const struct lcb_rds_instance *in, struct lcb_pg **pg,
           struct lcb_err *err)
{
    const char *param = lcb_json_get_str(m, "db_url_param");
    const char *secret = lcb_json_get_str(m, "db_secret"); /* Secrets Manager credentials */
    struct lcb_secret url = LCB_SECRET_INIT;
    struct lcb_pg_url u;
    struct lcb_buf desc = LCB_BUF_INIT;
    char line[512];
    int rc = -1;

    memset(&u, 0, sizeof(u));
    if (!param && !secret && t)
        param = t->db_url_param;
    if (!param && !secret && t)
        secret = t->db_secret;
    if (!param && !secret) {
        lcb_drill_check_add(c, "connectivity", LCB_CHECK_ERROR, NULL,
                            "no db_url_param or "
                            "db_secret in the policy target or the backup: the drill cannot "
                            "log in");
        return -1;
    }
    if ((param
             ? lcb_ssm_get(&url, NULL, 0, dc->aws, param, err)
             : lcb_sm_db_url(&url, dc->aws, secret, in->address, in->port, in->db_name, err)) < 0 ||
        lcb_pg_url_parse(&u, lcb_secret_get(&url), err) < 0) {
        lcb_drill_check_add(c, "connectivity", LCB_CHECK_ERROR, NULL, "credentials from %s: %s",
                            param ? param : secret, errline(err, line, sizeof(line)));
        goto out;
    }
    lcb_pg_url_set_host(&u, in->address ? in->address : "", in->port ? in->port : u.port);
    lcb_pg_url_describe(&u, &desc);
    if (lcb_pg_connect(pg, &u, 0, err) < 0) {
        lcb_drill_check_add(c, "connectivity", LCB_CHECK_FAIL, NULL, "%s: %s", lcb_buf_str(&desc),
                            errline(err, line, sizeof(line)));
        goto out;
    }
    lcb_drill_check_add(c, "connectivity", LCB_CHECK_PASS, NULL,
                        "%s: PostgreSQL %s, credentials "
                        "from %s",
                        lcb_buf_str(&desc), lcb_pg_server_version(*pg), param ? param : secret);
    rc = 0;
out:
    lcb_buf_release(&desc);
    lcb_pg_url_release(&u);
    lcb_secret_release(&url);
    return rc;
}

/* ---- the fingerprint ---- */

static void
skip_fingerprint(struct lcb_drill_comp *c, const char *why)
{
    lcb_drill_check_add(c, "schema digest", LCB_CHECK_SKIP, NULL, "%s", why);
    lcb_drill_check_add(c, "row counts", LCB_CHECK_SKIP, NULL, "%s", why);
    lcb_drill_check_add(c, "latest migration", LCB_CHECK_SKIP, NULL, "%s", why);
}

/* One check per table the comparison names ("table public.users: 190 rows, want 200"). */
static int
table_checks(struct lcb_drill_comp *c, const char *report)
{
    const char *p = report, *colon, *nl;
    char rel[256];
    int n = 0;

    for (; p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (strncmp(p, "table ", 6) != 0 || !(colon = strchr(p + 6, ':')) || (nl && colon > nl))
            continue;
        snprintf(rel, sizeof(rel), "%.*s", (int)(colon - p - 6), p + 6);
        lcb_drill_check_add(c, "rows", LCB_CHECK_FAIL, rel, "%.*s",
                            (int)(nl ? nl - p : (long)strlen(p)), p);
        n++;
    }
    return n;
}

static void
compare_fingerprints(struct lcb_drill_comp *c, const struct lcb_fingerprint *want,
                     const struct lcb_fingerprint *got, double tolerance)
{
    struct lcb_buf rep = LCB_BUF_INIT;
    int bad;

    lcb_drill_check_add(
        c, "schema digest",
        strcmp(want->schema_sha256, got->schema_sha256) == 0 ? LCB_CHECK_PASS : LCB_CHECK_FAIL,
        NULL,
        "restored %.16s (%zu objects), "
        "backup %.16s (%zu objects)",
        got->schema_sha256, got->schema_objects, want->schema_sha256, want->schema_objects);
    lcb_fingerprint_compare(want, got, tolerance, &rep);
    bad = table_checks(c, lcb_buf_str(&rep));
    lcb_drill_check_add(c, "row counts", bad ? LCB_CHECK_FAIL : LCB_CHECK_PASS, NULL,
                        "%d of %zu tables outside %.4g%% of the fingerprint", bad, want->ntables,
                        tolerance * 100);
    if (!want->has_migration && !got->has_migration)
        lcb_drill_check_add(c, "latest migration", LCB_CHECK_SKIP, NULL,
                            "no payload_migrations "
                            "table in the backup or the copy");
    else
        lcb_drill_check_add(c, "latest migration",
                            want->has_migration && got->has_migration &&
                                    strcmp(want->migration_name, got->migration_name) == 0
                                ? LCB_CHECK_PASS
                                : LCB_CHECK_FAIL,
                            NULL, "restored %s, backup %s",
                            got->has_migration ? got->migration_name : "(none)",
                            want->has_migration ? want->migration_name : "(none)");
    lcb_buf_release(&rep);
}

static void
check_fingerprint(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, struct lcb_pg *pg,
                  const struct lcb_json *m, struct lcb_err *err)
{
    const struct lcb_json *fj = lcb_json_get(m, "fingerprint");
    struct lcb_fingerprint want, got;
    char line[512];

    memset(&want, 0, sizeof(want));
    memset(&got, 0, sizeof(got));
    if (lcb_json_type(fj) != LCB_JSON_OBJECT) {
        snprintf(line, sizeof(line), "the backup has no fingerprint%s%s",
                 lcb_json_get_str(m, "fingerprint_error") ? ": " : "",
                 lcb_json_get_str(m, "fingerprint_error") ? lcb_json_get_str(m, "fingerprint_error")
                                                          : "");
        skip_fingerprint(c, line);
        return;
    }
    if (lcb_fingerprint_from_json(&want, fj, err) < 0) {
        skip_fingerprint(c, errline(err, line, sizeof(line)));
    } else if (lcb_fingerprint_take(&got, pg, want.exact_limit, err) < 0) {
        lcb_drill_check_add(c, "schema digest", LCB_CHECK_ERROR, NULL, "%s",
                            errline(err, line, sizeof(line)));
    } else {
        compare_fingerprints(c, &want, &got, dc->policy->drill.row_tolerance);
    }
    lcb_fingerprint_release(&want);
    lcb_fingerprint_release(&got);
}

/* ---- amcheck ---- */

static const char index_sql[] =
    "SELECT i.oid::text, n.nspname || '.' || i.relname, tn.nspname || '.' || t.relname "
    "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
    "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = i.relnamespace "
    "JOIN pg_namespace tn ON tn.oid = t.relnamespace JOIN pg_am a ON a.oid = i.relam "
    "WHERE a.amname = 'btree' AND i.relkind = 'i' AND t.relkind IN ('r', 'm') "
    "AND i.relpersistence <> 't' AND x.indisvalid AND x.indisready "
    "AND tn.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND tn.nspname NOT LIKE 'pg\\_toast%' ORDER BY 2";

static int
check_index(struct lcb_drill_comp *c, struct lcb_pg *pg, const char *oid, const char *index,
            const char *table, struct lcb_err *err)
{
    struct lcb_pg_rows *rows = NULL;
    const char *params[1] = {oid};
    char line[512], named[128];
    int64_t t0 = lcb_mono_ms();

    if (lcb_pg_query(&rows, pg, "SELECT bt_index_check($1::oid::regclass)", params, 1, err) == 0) {
        lcb_pg_rows_free(rows);
        return 0;
    }
    errline(err, line, sizeof(line));
    if (lcb_drill_amcheck_relation(line, named, sizeof(named)))
        lcb_log(LCB_DEBUG, "drill.amcheck.named", "amcheck names %s", named);
    lcb_drill_check_add(c, "amcheck", LCB_CHECK_FAIL, index, "index %s on %s: %s", index, table,
                        line)
        ->secs = (double)(lcb_mono_ms() - t0) / 1000.0;
    lcb_logf(LCB_ERROR, "drill.amcheck.failed", LCB_FIELDS(LCB_KV_S("relation", index)),
             "amcheck: index %s on %s is corrupt: %s", index, table, line);
    return 1;
}

static int
check_amcheck(struct lcb_drill_comp *c, struct lcb_pg *pg, struct lcb_err *err)
{
    struct lcb_pg_rows *rows = NULL;
    char line[512];
    int i, n, bad = 0;
    int64_t t0 = lcb_mono_ms();

    if (lcb_pg_exec(pg, "CREATE EXTENSION IF NOT EXISTS amcheck", err) < 0 ||
        lcb_pg_query(&rows, pg, index_sql, NULL, 0, err) < 0) {
        lcb_drill_check_add(c, "amcheck", LCB_CHECK_ERROR, NULL, "%s",
                            errline(err, line, sizeof(line)));
        return 0;
    }
    n = lcb_pg_rows_count(rows);
    for (i = 0; i < n; i++) {
        if (lcb_sig_pending()) {
            lcb_pg_rows_free(rows);
            return lcb_err_set(err, LCB_EINTR, "interrupted during amcheck");
        }
        bad += check_index(c, pg, lcb_pg_rows_get(rows, i, 0), lcb_pg_rows_get(rows, i, 1),
                           lcb_pg_rows_get(rows, i, 2), err);
    }
    lcb_pg_rows_free(rows);
    lcb_drill_check_add(c, "amcheck", bad ? LCB_CHECK_FAIL : LCB_CHECK_PASS, NULL,
                        "bt_index_check on %d btree indexes of user tables: %d corrupt", n, bad)
        ->secs = (double)(lcb_mono_ms() - t0) / 1000.0;
    return 0;
}

/* ---- the policy's SQL checks ---- */

static void
check_sql(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, struct lcb_pg *pg,
          struct lcb_err *err)
{
    const struct lcb_drill *d = &dc->policy->drill;
    struct lcb_pg_rows *rows;
    char name[160], line[512];
    size_t i;

    for (i = 0; i < d->nchecks; i++) {
        const struct lcb_sql_check *k = &d->checks[i];
        const char *v;
        int ok;
        snprintf(name, sizeof(name), "sql %s", k->name);
        rows = NULL;
        if (lcb_pg_query(&rows, pg, k->sql, NULL, 0, err) < 0) {
            lcb_drill_check_add(c, name, LCB_CHECK_ERROR, NULL, "%s",
                                errline(err, line, sizeof(line)));
            continue;
        }
        v = lcb_pg_rows_count(rows) > 0 ? lcb_pg_rows_get(rows, 0, 0) : NULL;
        ok = lcb_drill_expect(k->expect, v);
        lcb_drill_check_add(c, name,
                            ok > 0    ? LCB_CHECK_PASS
                            : ok == 0 ? LCB_CHECK_FAIL
                                      : LCB_CHECK_ERROR,
                            NULL, "got %s, want %s", v ? v : "NULL", k->expect);
        lcb_pg_rows_free(rows);
    }
}

/* ---- the CMS -> broker cross-check ---- */

/* The completed broker backup whose recovery point is nearest to t. */
static int
nearest_broker(struct lcb_drill_ctx *dc, time_t t, struct lcb_backup *out, struct lcb_err *err)
{
    struct lcb_backup_filter f;
    struct lcb_backup_list l;
    size_t i, best = 0;
    long long d, bestd = -1;

    memset(&f, 0, sizeof(f));
    memset(&l, 0, sizeof(l));
    f.kind = "broker";
    f.status = "completed";
    f.env = dc->env;
    if (lcb_catalog_backup_list(dc->cat, &f, &l, err) < 0)
        return -1;
    for (i = 0; i < l.n; i++) {
        time_t at = l.items[i].taken_at ? l.items[i].taken_at : l.items[i].started_at;
        d = at > t ? (long long)(at - t) : (long long)(t - at);
        if (bestd < 0 || d < bestd) {
            bestd = d;
            best = i;
        }
    }
    if (bestd < 0) {
        lcb_backup_list_release(&l);
        return lcb_err_set(err, LCB_ENOTFOUND, "no completed broker backup in the catalog");
    }
    *out = l.items[best];
    memset(&l.items[best], 0, sizeof(l.items[best]));
    lcb_backup_list_release(&l);
    return 0;
}

static int
archive_idset(struct lcb_drill_ctx *dc, const struct lcb_backup *bb, struct lcb_idset *set,
              struct lcb_err *err)
{
    struct lcb_s3_source src;
    char *bucket = NULL, *key = NULL;
    int rc = -1;

    memset(&src, 0, sizeof(src));
    if (lcb_s3_uri_split(bb->location ? bb->location : "", &bucket, &key, err) == 0 &&
        lcb_s3_source_open(&src, dc->aws, bucket, key, err) == 0)
        rc = lcb_drill_archive_ids(set, NULL, &src, err);
    lcb_s3_source_close(&src);
    free(bucket);
    free(key);
    return rc;
}

static void
compare_ids(struct lcb_drill_comp *c, struct lcb_pg_rows *rows, struct lcb_idset *set,
            const struct lcb_backup *bb, time_t t, struct lcb_err *err)
{
    struct lcb_buf missing = LCB_BUF_INIT;
    int i, n = lcb_pg_rows_count(rows), bad = 0, has = 0;
    char gap[32], line[512];
    time_t at = bb->taken_at ? bb->taken_at : bb->started_at;

    for (i = 0; i < n; i++) {
        const char *id = lcb_pg_rows_get(rows, i, 0);
        if (!id || (has = lcb_idset_has(set, id, err)) > 0)
            continue;
        if (has < 0) {
            lcb_drill_check_add(c, "cms entities in broker", LCB_CHECK_ERROR, NULL, "%s: %s",
                                bb->id, errline(err, line, sizeof(line)));
            lcb_buf_release(&missing);
            return;
        }
        if (bad++ < 5)
            lcb_buf_addf(&missing, "%s%s", bad > 1 ? ", " : "", id);
    }
    lcb_duration_fmt(at > t ? at - t : t - at, gap, sizeof(gap));
    lcb_drill_check_add(c, "cms entities in broker", bad ? LCB_CHECK_FAIL : LCB_CHECK_PASS, NULL,
                        "%d entity ids referenced by the CMS, %d missing from %s (%zu entities, "
                        "%s from the database's recovery point)%s%s%s",
                        n, bad, bb->id, set->n, gap, bad ? ": " : "", lcb_buf_str(&missing),
                        bad > 5 ? ", ..." : "");
    lcb_buf_release(&missing);
}

static void
check_cms(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, struct lcb_pg *pg,
          const struct lcb_backup *b, struct lcb_err *err)
{
    const char *sql = dc->policy->drill.cms_entity_query;
    struct lcb_backup bb;
    struct lcb_idset set;
    struct lcb_pg_rows *rows = NULL;
    char line[512];
    time_t t = b->taken_at ? b->taken_at : b->started_at;

    if (!sql)
        return;
    memset(&bb, 0, sizeof(bb));
    lcb_idset_init(&set);
    if (nearest_broker(dc, t, &bb, err) < 0)
        lcb_drill_check_add(c, "cms entities in broker", LCB_CHECK_SKIP, NULL, "%s",
                            errline(err, line, sizeof(line)));
    else if (archive_idset(dc, &bb, &set, err) < 0)
        lcb_drill_check_add(c, "cms entities in broker", LCB_CHECK_ERROR, NULL, "%s: %s", bb.id,
                            errline(err, line, sizeof(line)));
    else if (lcb_pg_query(&rows, pg, sql, NULL, 0, err) < 0)
        lcb_drill_check_add(c, "cms entities in broker", LCB_CHECK_ERROR, NULL,
                            "cms_entity_query: %s", errline(err, line, sizeof(line)));
    else
        compare_ids(c, rows, &set, &bb, t, err);
    lcb_pg_rows_free(rows);
    lcb_idset_release(&set);
    lcb_backup_release(&bb);
}

int
lcb_drill_rds_checks(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
                     const struct lcb_backup *b, const struct lcb_rds_instance *in,
                     struct lcb_err *err)
{
    struct lcb_json *m = lcb_snap_manifest(b);
    struct lcb_pg *pg = NULL;
    int rc = 0;

    if (connect_db(dc, c, t, m, in, &pg, err) < 0) {
        skip_fingerprint(c, "no connection");
        lcb_drill_check_add(c, "amcheck", LCB_CHECK_SKIP, NULL, "no connection");
        lcb_json_free(m);
        return lcb_sig_pending() ? lcb_err_set(err, LCB_EINTR, "interrupted") : 0;
    }
    check_fingerprint(dc, c, pg, m, err);
    rc = check_amcheck(c, pg, err);
    if (rc == 0) {
        check_sql(dc, c, pg, err);
        check_cms(dc, c, pg, b, err);
    }
    lcb_pg_close(pg);
    lcb_json_free(m);
    return rc;
}
