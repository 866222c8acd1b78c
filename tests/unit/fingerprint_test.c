/* fingerprint_test.c - the fingerprint's pure parts (exact or estimate, the schema digest, the
 * JSON form and its round trip, the comparison drills use) and the database URL handling of
 * lib/ext/pg.c (parsing, percent-decoding, the password kept out of messages). A live database is
 * the integration tests' job (t1001, t2001 against the simulator's PostgreSQL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/buf.h"
#include "../../lib/core/err.h"
#include "../../lib/core/mem.h"
#include "../../lib/core/secret.h"
#include "../../lib/ext/crypto.h"
#include "../../lib/ext/json.h"
#include "../../lib/ext/pg.h"
#include "../../lib/fingerprint/fingerprint.h"
#include "harness.h"

static void
test_exact_or_estimate(void)
{
    CHECK_INT(lcb_fingerprint_exact(0, 1000), 1);
    CHECK_INT(lcb_fingerprint_exact(999, 1000), 1);
    CHECK_INT(lcb_fingerprint_exact(999.4, 1000), 1);
    CHECK_INT(lcb_fingerprint_exact(1000, 1000), 0);
    CHECK_INT(lcb_fingerprint_exact(5e9, 1000), 0);
    CHECK_INT(lcb_fingerprint_exact(-1, 1000), 1); /* never analysed: count it */
    CHECK_INT(lcb_fingerprint_exact(-1, 0), 1);
    CHECK_INT(lcb_fingerprint_exact(999999, 0), 1); /* 0: the default limit, 1,000,000 */
    CHECK_INT(lcb_fingerprint_exact(1000000, 0), 0);
}

static void
test_digest(void)
{
    char *a[] = {lcb_xstrdup("table public.b r"), lcb_xstrdup("column public.b id integer"),
                 lcb_xstrdup("table public.a r")};
    char *b[] = {lcb_xstrdup("table public.a r"), lcb_xstrdup("table public.b r"),
                 lcb_xstrdup("column public.b id integer")};
    char *c[] = {lcb_xstrdup("table public.a r"), lcb_xstrdup("table public.b r"),
                 lcb_xstrdup("column public.b id bigint")};
    char *one[] = {lcb_xstrdup("b"), lcb_xstrdup("a")};
    char da[65], db[65], dc[65], d1[65], want[LCB_SHA256_HEX];
    size_t i;

    lcb_fingerprint_digest(a, 3, da);
    lcb_fingerprint_digest(b, 3, db);
    lcb_fingerprint_digest(c, 3, dc);
    CHECK_STR(da, db);          /* the order objects are listed in does not matter */
    CHECK(strcmp(da, dc) != 0); /* a column type does */
    CHECK_STR(a[0], "column public.b id integer"); /* sorted bytewise, in place */
    lcb_fingerprint_digest(one, 2, d1);            /* known answer: sha256("a\nb\n") */
    lcb_sha256_hex("a\nb\n", 4, want);
    CHECK_STR(d1, want);
    CHECK_STR(d1, "911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2");
    for (i = 0; i < 3; i++) {
        free(a[i]);
        free(b[i]);
        free(c[i]);
    }
    free(one[0]);
    free(one[1]);
}

static void
sample(struct lcb_fingerprint *fp)
{
    memset(fp, 0, sizeof(*fp));
    fp->taken_at = 1795831800;
    fp->database = lcb_xstrdup("payload");
    fp->server_version = lcb_xstrdup("15.10");
    fp->exact_limit = 1000000;
    fp->ntables = 3;
    fp->tables = lcb_xcalloc(3, sizeof(*fp->tables));
    fp->tables[0] = (struct lcb_fp_table){lcb_xstrdup("public.map_layers"), 12000, 0};
    fp->tables[1] = (struct lcb_fp_table){lcb_xstrdup("public.users"), 200, 0};
    fp->tables[2] = (struct lcb_fp_table){lcb_xstrdup("audit.events \"q\""), 9000000, 1};
    snprintf(fp->schema_sha256, sizeof(fp->schema_sha256), "%064d", 7);
    fp->schema_objects = 102;
    fp->has_migration = 1;
    fp->migration_name = lcb_xstrdup("20250611_080000_pages_status");
    fp->migration_batch = lcb_xstrdup("4");
    fp->migration_at = lcb_xstrdup("2025-06-11 08:00:00+00");
}

static void
test_json_round_trip(void)
{
    struct lcb_fingerprint fp, back;
    struct lcb_buf out = LCB_BUF_INIT, report = LCB_BUF_INIT;
    struct lcb_json *j = NULL;
    struct lcb_err err;

    sample(&fp);
    lcb_fingerprint_json(&fp, &out);
    CHECK(strstr(out.ptr, "\"taken_at\":\"2026-11-28T02:10:00Z\"") != NULL);
    CHECK(strstr(out.ptr, "\"public.users\":{\"rows\":200}") != NULL);
    CHECK(strstr(out.ptr, "\"audit.events \\\"q\\\"\":{\"rows\":9000000,\"estimate\":true}") !=
          NULL);
    CHECK(strstr(out.ptr, "\"latest_migration\":{\"name\":\"20250611_080000_pages_status\","
                          "\"batch\":\"4\"") != NULL);
    CHECK_INT(lcb_json_parse(&j, out.ptr, out.len, &err), 0);
    CHECK_INT(lcb_fingerprint_from_json(&back, j, &err), 0);
    CHECK_INT(back.ntables, 3);
    CHECK_INT(back.tables[2].estimate, 1);
    CHECK_INT(back.tables[0].rows, 12000);
    CHECK_INT(back.exact_limit, 1000000);
    CHECK_INT((long long)back.taken_at, 1795831800);
    CHECK_STR(back.migration_name, "20250611_080000_pages_status");
    CHECK_INT(lcb_fingerprint_compare(&fp, &back, 0, &report), 0);
    CHECK_STR(lcb_buf_str(&report), "");
    lcb_fingerprint_release(&back);
    lcb_json_free(j);

    /* no migration table: null, and it reads back as none */
    fp.has_migration = 0;
    lcb_buf_reset(&out);
    lcb_fingerprint_json(&fp, &out);
    CHECK(strstr(out.ptr, "\"latest_migration\":null") != NULL);
    CHECK_INT(lcb_json_parse(&j, out.ptr, out.len, &err), 0);
    CHECK_INT(lcb_fingerprint_from_json(&back, j, &err), 0);
    CHECK_INT(back.has_migration, 0);
    lcb_fingerprint_release(&back);
    lcb_json_free(j);

    /* damaged manifests are refused */
    CHECK_INT(lcb_json_parse(&j, "{\"tables\":{}}", 13, &err), 0);
    CHECK_INT(lcb_fingerprint_from_json(&back, j, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_json_free(j);
    lcb_fingerprint_release(&fp);
    lcb_buf_release(&out);
    lcb_buf_release(&report);
}

static void
test_compare(void)
{
    struct lcb_fingerprint want, got;
    struct lcb_buf r = LCB_BUF_INIT;

    sample(&want);
    sample(&got);
    got.tables[1].rows = 199; /* exact counts must match exactly */
    CHECK_INT(lcb_fingerprint_compare(&want, &got, 0, &r), 1);
    CHECK(strstr(lcb_buf_str(&r), "table public.users: 199 rows, want 200\n") != NULL);
    lcb_buf_reset(&r);
    CHECK_INT(lcb_fingerprint_compare(&want, &got, 0.01, &r), 0); /* within 1% */
    got.tables[2].rows = 9500000;                                 /* estimates: 10% at least */
    CHECK_INT(lcb_fingerprint_compare(&want, &got, 0, &r), 1);
    got.tables[2].rows = 11000000;
    lcb_buf_reset(&r);
    CHECK_INT(lcb_fingerprint_compare(&want, &got, 0, &r), 2);
    CHECK(strstr(lcb_buf_str(&r), "(estimate)") != NULL);
    got.tables[2].rows = 9000000;
    got.tables[1].rows = 200;
    got.schema_sha256[0] = '1';
    free(got.migration_name);
    got.migration_name = lcb_xstrdup("older");
    lcb_buf_reset(&r);
    CHECK_INT(lcb_fingerprint_compare(&want, &got, 0, &r), 2);
    CHECK(strstr(lcb_buf_str(&r), "schema digest") != NULL);
    CHECK(strstr(lcb_buf_str(&r), "latest payload migration older, want "
                                  "20250611_080000_pages_status") != NULL);
    lcb_fingerprint_release(&got);
    sample(&got);
    free(got.tables[0].name);
    got.tables[0].name = lcb_xstrdup("public.other");
    lcb_buf_reset(&r);
    CHECK_INT(lcb_fingerprint_compare(&want, &got, 0, &r), 2);
    CHECK(strstr(lcb_buf_str(&r), "table public.map_layers: missing\n") != NULL);
    CHECK(strstr(lcb_buf_str(&r), "table public.other: not in the source\n") != NULL);
    lcb_fingerprint_release(&want);
    lcb_fingerprint_release(&got);
    lcb_buf_release(&r);
}

static void
test_pg_url(void)
{
    struct lcb_pg_url u;
    struct lcb_buf d = LCB_BUF_INIT;
    struct lcb_secret s = LCB_SECRET_INIT;
    struct lcb_err err;
    char line[1024];

    CHECK_INT(lcb_pg_url_parse(&u,
                               "postgres://payload_admin:Lc-ed96%40d6:18@127.0.0.1:32877/payload"
                               "?sslmode=require&connect_timeout=5",
                               &err),
              0);
    CHECK_STR(u.user, "payload_admin");
    CHECK_STR(lcb_secret_get(&u.password), "Lc-ed96@d6:18");
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_INT(u.port, 32877);
    CHECK_STR(u.dbname, "payload");
    CHECK_INT(u.nopts, 2);
    CHECK_STR(u.opt_names[0], "sslmode");
    CHECK_STR(u.opt_values[1], "5");
    lcb_pg_url_describe(&u, &d);
    CHECK_STR(lcb_buf_str(&d), "postgres://payload_admin@127.0.0.1:32877/payload?sslmode=require"
                               "&connect_timeout=5");
    lcb_pg_url_set_host(&u, "10.0.0.9", 5433);
    lcb_pg_url_format(&s, &u);
    CHECK_STR(lcb_secret_get(&s), "postgres://payload_admin:Lc-ed96%40d6%3A18@10.0.0.9:5433/payload"
                                  "?sslmode=require&connect_timeout=5");
    lcb_secret_release(&s);
    lcb_pg_url_release(&u);

    /* the password is a registered secret: a log line cannot carry it */
    CHECK_INT(lcb_pg_url_parse(&u, "postgresql://u:S3cretPassw0rd@db.example/app", &err), 0);
    CHECK_INT(u.port, 5432);
    lcb_buf_reset(&d);
    CHECK_STR(lcb_redact_str(&d, "oops S3cretPassw0rd leaked"), "oops *** leaked");
    lcb_pg_url_release(&u);

    CHECK_INT(lcb_pg_url_parse(&u, "postgres://[::1]:6543/x", &err), 0);
    CHECK_STR(u.host, "::1");
    CHECK_INT(u.port, 6543);
    CHECK(u.user == NULL);
    lcb_buf_reset(&d);
    lcb_pg_url_describe(&u, &d);
    CHECK_STR(lcb_buf_str(&d), "postgres://[::1]:6543/x");
    lcb_pg_url_release(&u);

    CHECK_INT(lcb_pg_url_parse(&u, "mysql://u:p@h/db", &err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    CHECK_INT(lcb_pg_url_parse(&u, "postgres://u:pw0rd-in-msg@h:99999/db", &err), -1);
    lcb_err_format(&err, line, sizeof(line));
    CHECK(strstr(line, "port") != NULL);
    CHECK(strstr(line, "pw0rd-in-msg") == NULL);
    CHECK_INT(lcb_pg_url_parse(&u, "postgres://u:bad%zzescape@h/db", &err), -1);
    CHECK(strstr(err.msg, "password") != NULL && strstr(err.msg, "bad%zz") == NULL);
    CHECK_INT(lcb_pg_url_parse(&u, "postgres://u@/db", &err), -1);
    CHECK_INT(lcb_pg_url_parse(&u, "postgres://h/db?novalue", &err), -1);
    lcb_buf_release(&d);
}

static void
test_pg_unreachable(void)
{
    struct lcb_pg_url u;
    struct lcb_pg *pg = NULL;
    struct lcb_err err;
    char line[2048];

    /* port 1 on loopback refuses at once: a temporary failure, password not in the message */
    CHECK_INT(lcb_pg_url_parse(&u, "postgres://u:Unreach4ble-pw@127.0.0.1:1/db", &err), 0);
    CHECK_INT(lcb_pg_connect(&pg, &u, 1, &err), -1);
    CHECK(pg == NULL);
    CHECK_INT(err.code, LCB_ETEMP);
    lcb_err_format(&err, line, sizeof(line));
    CHECK(strstr(line, "127.0.0.1:1") != NULL);
    CHECK(strstr(line, "Unreach4ble-pw") == NULL);
    lcb_pg_url_release(&u);
}

int
main(void)
{
    RUN(test_exact_or_estimate);
    RUN(test_digest);
    RUN(test_json_round_trip);
    RUN(test_compare);
    RUN(test_pg_url);
    RUN(test_pg_unreachable);
    return harness_done();
}
