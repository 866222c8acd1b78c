/* report_test.c - drill and status reports in every format, the SVG charts, EMF and Prometheus
 * metrics, and the status and history read from a real catalog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/catalog/catalog.h"
#include "../../lib/core/clock.h"
#include "../../lib/ext/json.h"
#include "../../lib/report/report.h"
#include "../../lib/report/upload.h"
#include "harness.h"

static void
make_run(struct lcb_drill_run *r, const char *id, time_t start, double rto_scale, int fail)
{
    struct lcb_drill_comp *c;

    lcb_drill_run_init(r, id, start, 1000);
    r->env = strdup("dev");
    c = lcb_drill_comp_add(r, "rds", "legocity-payload-db");
    c->started_at = start;
    c->taken_at = start - 5400;
    lcb_drill_comp_set(&c->backup_id, "rds-20261128T211500-aaaaaa");
    lcb_drill_comp_set(&c->restored, "lcb-drill-legocity-payload-db-20261128221500");
    lcb_drill_phase_begin(r, c, LCB_PHASE_REQUEST, 1000);
    lcb_drill_phase_end(r, c, LCB_PHASE_REQUEST, (int64_t)(1000 + 2000 * rto_scale));
    lcb_drill_phase_begin(r, c, LCB_PHASE_PROVISION, (int64_t)(1000 + 2000 * rto_scale));
    lcb_drill_phase_end(r, c, LCB_PHASE_PROVISION, (int64_t)(1000 + 30000 * rto_scale));
    lcb_drill_phase_begin(r, c, LCB_PHASE_CHECKS, (int64_t)(1000 + 30000 * rto_scale));
    lcb_drill_phase_end(r, c, LCB_PHASE_CHECKS, (int64_t)(1000 + 33000 * rto_scale));
    lcb_drill_phase_begin(r, c, LCB_PHASE_TEARDOWN, (int64_t)(1000 + 33000 * rto_scale));
    lcb_drill_phase_end(r, c, LCB_PHASE_TEARDOWN, (int64_t)(1000 + 36000 * rto_scale));
    lcb_drill_check_add(c, "amcheck", fail ? LCB_CHECK_FAIL : LCB_CHECK_PASS,
                        fail ? "public.users_email_idx" : NULL, "%s",
                        fail ? "index <users_email_idx> & \"order\" | violated" : "14 indexes");
    lcb_drill_comp_finish(c, 900, 7200, 0);
    c = lcb_drill_comp_add(r, "broker", "broker");
    c->started_at = start + 40;
    c->taken_at = start - 600;
    lcb_drill_phase_begin(r, c, LCB_PHASE_REQUEST, 42000);
    lcb_drill_phase_end(r, c, LCB_PHASE_REQUEST, 42000);
    lcb_drill_phase_begin(r, c, LCB_PHASE_CHECKS, 42000);
    lcb_drill_phase_end(r, c, LCB_PHASE_CHECKS, 44000);
    lcb_drill_check_add(c, "entity count", LCB_CHECK_PASS, NULL, "600 entities");
    lcb_drill_comp_finish(c, 900, 7200, 0);
    lcb_drill_run_finish(r, start + 60, 0);
}

static void
make_status(struct lcb_status *st)
{
    struct lcb_status_row *r;

    lcb_status_init(st);
    st->env = strdup("dev");
    st->now = 1800000000;
    r = lcb_status_add(st, "rds", "legocity-payload-db");
    r->backup_id = strdup("rds-20261128T211500-aaaaaa");
    r->taken_at = st->now - 3600;
    r->age = 3600;
    r->rpo_target = 7200;
    r->verified_at = st->now - 60;
    r->drill_id = strdup("drill-b");
    r->drill_status = strdup("passed");
    r->drilled_at = st->now - 100;
    r = lcb_status_add(st, "ebs", "broker \"data\"");
    r->rpo_target = 7200;
}

static void
test_text_and_md(void)
{
    struct lcb_drill_run r;
    struct lcb_status st;
    struct lcb_report_in in;
    struct lcb_buf out = LCB_BUF_INIT;

    make_run(&r, "drill-20261128T221500-abcdef", 1800000000, 1, 1);
    make_status(&st);
    memset(&in, 0, sizeof(in));
    in.drill = &r;
    in.status = &st;
    in.generated_at = 1800000100;
    lcb_report_render(&out, LCB_REPORT_TEXT, &in);
    CHECK(strstr(out.ptr, "drill drill-20261128T221500-abcdef in dev: FAILED") != NULL);
    CHECK(strstr(out.ptr, "rds legocity-payload-db: FAILED") != NULL);
    CHECK(strstr(out.ptr, "RTO          33.0s (target 15m 00s): met") != NULL);
    CHECK(strstr(out.ptr, "RPO          1h 30m (target 2h 00m): met") != NULL);
    CHECK(strstr(out.ptr, "FAIL  amcheck") != NULL);
    CHECK(strstr(out.ptr, "rds-20261128T211500-aaaaaa") != NULL);
    CHECK(strstr(out.ptr, "never") != NULL); /* the ebs target was never drilled */
    lcb_buf_reset(&out);
    lcb_report_render(&out, LCB_REPORT_MD, &in);
    CHECK(strncmp(out.ptr, "# Restore drill report drill-20261128T221500-abcdef\n", 52) == 0);
    CHECK(strstr(out.ptr,
                 "| amcheck | fail | index <users_email_idx> & \"order\" \\| violated |") != NULL);
    CHECK(strstr(out.ptr, "## Status per target") != NULL);
    lcb_buf_release(&out);
    lcb_status_release(&st);
    lcb_drill_run_release(&r);
}

static void
test_html_self_contained(void)
{
    struct lcb_drill_run r, past[2];
    struct lcb_drill_history h;
    struct lcb_status st;
    struct lcb_report_in in;
    struct lcb_buf out = LCB_BUF_INIT;

    make_run(&past[0], "drill-a", 1799990000, 2, 0);
    make_run(&past[1], "drill-b", 1799995000, 1.5, 0);
    make_run(&r, "drill-c", 1800000000, 1, 1);
    h.runs = past;
    h.n = h.cap = 2;
    make_status(&st);
    memset(&in, 0, sizeof(in));
    in.drill = &r;
    in.history = &h;
    in.status = &st;
    lcb_report_render(&out, LCB_REPORT_HTML, &in);
    CHECK(strncmp(out.ptr, "<!DOCTYPE html>", 15) == 0);
    CHECK(strstr(out.ptr, "<title>Restore drill report drill-c</title>") != NULL);
    CHECK(strstr(out.ptr, "<h1>Restore drill report drill-c</h1>") != NULL);
    CHECK(strstr(out.ptr, "class=\"chart timeline\"") != NULL);
    CHECK(strstr(out.ptr, "class=\"chart trend\"") != NULL);
    CHECK(strstr(out.ptr, "fill=\"#4e79a7\"") != NULL);   /* a request bar */
    CHECK(strstr(out.ptr, "stroke=\"#e15759\"") != NULL); /* the rds trend line */
    CHECK(strstr(out.ptr, "target 15m 00s") != NULL);
    /* escaped, and no external reference */
    CHECK(strstr(out.ptr, "index &lt;users_email_idx&gt; &amp; &quot;order&quot;") != NULL);
    CHECK(strstr(out.ptr, "broker &quot;data&quot;") != NULL);
    CHECK(strstr(out.ptr, "src=") == NULL);
    CHECK(strstr(out.ptr, "href=") == NULL);
    CHECK(strstr(out.ptr, "@import") == NULL);
    lcb_buf_release(&out);
    lcb_status_release(&st);
    lcb_drill_run_release(&r);
    lcb_drill_run_release(&past[0]);
    lcb_drill_run_release(&past[1]);
}

static void
test_svg_geometry(void)
{
    struct lcb_drill_run r;
    struct lcb_drill_history h;
    struct lcb_buf out = LCB_BUF_INIT;

    make_run(&r, "drill-c", 1800000000, 1, 0);
    lcb_svg_timeline(&out, &r);
    /* the scale is 0..50 s (36 s rounded up): provisioning starts at 2 s of 50 over 700 px */
    CHECK(strstr(out.ptr, "<rect class=\"phase-provisioning\" x=\"258.0\" y=\"42\" "
                          "width=\"392.0\"") != NULL);
    CHECK(strstr(out.ptr, ">50s</text>") != NULL);
    CHECK(strstr(out.ptr, "rds legocity-payload-db") != NULL);
    lcb_buf_reset(&out);
    memset(&h, 0, sizeof(h));
    lcb_svg_trend(&out, &h);
    CHECK(strstr(out.ptr, "no drill in this period") != NULL);
    lcb_buf_reset(&out);
    h.runs = &r;
    h.n = 1;
    lcb_svg_trend(&out, &h);
    CHECK(strstr(out.ptr, "<circle") != NULL);
    CHECK(strstr(out.ptr, "<polyline") == NULL); /* one point: no line */
    lcb_buf_release(&out);
    lcb_drill_run_release(&r);
}

static void
test_json(void)
{
    struct lcb_drill_run r;
    struct lcb_status st;
    struct lcb_report_in in;
    struct lcb_buf out = LCB_BUF_INIT;
    struct lcb_json *j = NULL;
    struct lcb_err err;

    make_run(&r, "drill-c", 1800000000, 1, 1);
    make_status(&st);
    memset(&in, 0, sizeof(in));
    in.drill = &r;
    in.status = &st;
    lcb_report_render(&out, LCB_REPORT_JSON, &in);
    CHECK_INT(lcb_json_parse(&j, out.ptr, out.len, &err), 0);
    CHECK_STR(lcb_json_get_str(j, "report"), "drill");
    CHECK_STR(lcb_json_get_str(lcb_json_get(j, "drill"), "status"), "failed");
    CHECK_INT(lcb_json_get_num(lcb_json_at(lcb_json_get(j, "status"), 0), "age_seconds", -1), 3600);
    CHECK_INT(lcb_json_bool(lcb_json_get(lcb_json_at(lcb_json_get(j, "status"), 0), "rpo_ok"), 0),
              1);
    CHECK_INT(
        lcb_json_type(lcb_json_get(lcb_json_at(lcb_json_get(j, "status"), 1), "last_backup_id")),
        LCB_JSON_NULL);
    lcb_json_free(j);
    lcb_buf_release(&out);
    lcb_status_release(&st);
    lcb_drill_run_release(&r);
}

static void
test_metrics(void)
{
    static const char *const names[] = {"DrillRTOSeconds", "DrillPassed", NULL};
    struct lcb_drill_run r;
    struct lcb_status st;
    struct lcb_buf out = LCB_BUF_INIT;
    struct lcb_json *j = NULL;
    struct lcb_err err;
    char path[] = "/tmp/lcb-metrics-XXXXXX";
    char body[4096];
    FILE *f;
    size_t n;
    int fd;

    lcb_metrics_emf_aws(&out, 1800000000, names);
    CHECK_INT(lcb_json_parse(&j, out.ptr, out.len, &err), 0);
    CHECK_INT(lcb_json_get_num(j, "Timestamp", 0) == 1800000000000.0, 1);
    CHECK_STR(
        lcb_json_get_str(
            lcb_json_at(
                lcb_json_get(lcb_json_at(lcb_json_get(j, "CloudWatchMetrics"), 0), "Metrics"), 1),
            "Unit"),
        "Count");
    CHECK_STR(lcb_json_get_str(lcb_json_at(lcb_json_get(j, "CloudWatchMetrics"), 0), "Namespace"),
              "lcbackup");
    lcb_json_free(j);
    lcb_buf_reset(&out);
    make_run(&r, "drill-c", 1800000000, 1, 1);
    make_status(&st);
    lcb_metrics_prometheus(&out, &st, &r);
    CHECK(strstr(out.ptr, "# TYPE lcbackup_backup_age_seconds gauge\n") != NULL);
    CHECK(strstr(out.ptr, "lcbackup_backup_age_seconds{env=\"dev\",component=\"rds\","
                          "target=\"legocity-payload-db\"} 3600\n") != NULL);
    CHECK(strstr(out.ptr, "lcbackup_drill_passed{env=\"dev\",component=\"rds\","
                          "target=\"legocity-payload-db\"} 0\n") != NULL);
    CHECK(strstr(out.ptr, "lcbackup_drill_passed{env=\"dev\",component=\"broker\","
                          "target=\"broker\"} 1\n") != NULL);
    CHECK(strstr(out.ptr, "lcbackup_drill_rto_seconds{env=\"dev\",component=\"rds\","
                          "target=\"legocity-payload-db\"} 33\n") != NULL);
    CHECK(strstr(out.ptr, "lcbackup_backup_age_seconds{env=\"dev\",component=\"ebs\"") == NULL);
    CHECK(strstr(out.ptr, "lcbackup_backup_rpo_target_seconds{env=\"dev\",component=\"ebs\","
                          "target=\"broker \\\"data\\\"\"} 7200\n") != NULL);
    fd = mkstemp(path);
    close(fd);
    CHECK_INT(lcb_metrics_write_file(path, out.ptr, &err), 0);
    f = fopen(path, "r");
    n = f ? fread(body, 1, sizeof(body) - 1, f) : 0;
    body[n] = '\0';
    if (f)
        fclose(f);
    CHECK(strncmp(body, out.ptr, n) == 0 && n > 100);
    unlink(path);
    CHECK_INT(lcb_metrics_write_file("/nonexistent-dir/x.prom", "x", &err), -1);
    CHECK_INT(err.code, LCB_EIO);
    lcb_buf_release(&out);
    lcb_status_release(&st);
    lcb_drill_run_release(&r);
}

/* Status and history against a real catalog. */
static void
test_catalog_status(void)
{
    char dir[] = "/tmp/lcb-report-XXXXXX", path[256], id[64];
    struct lcb_catalog *cat = NULL;
    struct lcb_backup b;
    struct lcb_err err;
    struct lcb_status st;
    struct lcb_drill_history h;
    struct lcb_drill_run r, got;
    struct lcb_buf rep = LCB_BUF_INIT;
    time_t now = 1800000000;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/catalog.db", dir);
    CHECK_INT(lcb_catalog_open(&cat, path, 1, &err), 0);
    memset(&b, 0, sizeof(b));
    b.kind = (char *)"rds";
    b.env = (char *)"dev";
    b.target = (char *)"legocity-payload-db";
    b.status = (char *)"completed";
    b.started_at = now - 4000;
    b.completed_at = now - 3900;
    b.taken_at = now - 4000;
    CHECK_INT(lcb_catalog_backup_add(cat, &b, &err), 0);
    free(b.id);
    CHECK_INT(lcb_drill_load(&got, cat, NULL, &err), -1);
    CHECK_INT(err.code, LCB_ENOTFOUND);
    lcb_drill_run_release(&got);
    CHECK_INT(lcb_catalog_drill_begin(cat, "rds", id, &err), 0);
    make_run(&r, id, now - 100, 1, 0);
    lcb_drill_report_json(&r, &rep, 0);
    CHECK_INT(lcb_catalog_drill_end(cat, id, "passed", rep.ptr, &err), 0);
    lcb_status_init(&st);
    CHECK_INT(lcb_status_load(&st, cat, NULL, "dev", now, &err), 0);
    CHECK_INT(st.n, 1);
    if (st.n == 1) {
        CHECK_STR(st.rows[0].target, "legocity-payload-db");
        CHECK_INT(st.rows[0].age, 4000);
        CHECK_STR(st.rows[0].drill_id, id);
        CHECK_STR(st.rows[0].drill_status, "passed");
    }
    lcb_drill_history_init(&h);
    CHECK_INT(lcb_drill_history_load(&h, cat, 0, "dev", &err), 0);
    CHECK_INT(h.n, 1);
    CHECK_INT(lcb_drill_load(&got, cat, NULL, &err), 0);
    CHECK_STR(got.id, id);
    lcb_drill_run_release(&got);
    id[12] = '\0'; /* a prefix: "drill-202..." */
    CHECK_INT(lcb_drill_load(&got, cat, id, &err), 0);
    CHECK_INT(got.ncomps, 2);
    lcb_drill_run_release(&got);
    CHECK_INT(lcb_drill_load(&got, cat, "drill-nope", &err), -1);
    CHECK_INT(err.code, LCB_ENOTFOUND);
    lcb_drill_run_release(&got);
    lcb_drill_history_release(&h);
    lcb_status_release(&st);
    lcb_drill_run_release(&r);
    lcb_buf_release(&rep);
    lcb_catalog_close(cat);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    CHECK_INT(system(path), 0);
}

static void
test_upload_rules(void)
{
    static const char rule[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ObjectLockConfiguration xmlns=\"http://s3."
        "amazonaws.com/doc/2006-03-01/\"><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
        "<DefaultRetention><Mode>COMPLIANCE</Mode><Days>35</Days></DefaultRetention></Rule>"
        "</ObjectLockConfiguration>";
    static const char bare[] = "<ObjectLockConfiguration><ObjectLockEnabled>Enabled"
                               "</ObjectLockEnabled></ObjectLockConfiguration>";
    struct lcb_bucket_lock l;
    struct lcb_report_upload u;
    struct lcb_buf key = LCB_BUF_INIT;
    struct lcb_err err;

    CHECK_INT(lcb_report_bucket_lock_parse(&l, rule, strlen(rule), &err), 0);
    CHECK_INT(l.enabled, 1);
    CHECK_STR(l.mode, "COMPLIANCE");
    CHECK_INT(l.period, 35 * 86400);
    CHECK_INT(lcb_report_bucket_lock_parse(&l, bare, strlen(bare), &err), 0);
    CHECK_INT(l.enabled, 1);
    CHECK_STR(l.mode, "");
    CHECK_INT(l.period, 0);
    CHECK_INT(lcb_report_bucket_lock_parse(&l, "<x", 2, &err), -1);
    memset(&u, 0, sizeof(u));
    u.prefix = "lcbackup";
    u.env = "prod";
    u.name = "drill-20261128T221500-abcdef";
    u.ext = "html";
    CHECK_INT(lcb_time_parse("2026-11-28T22:15:00Z", &u.now), 0);
    lcb_report_key(&key, &u);
    CHECK_STR(lcb_buf_str(&key), "lcbackup/prod/reports/drill-20261128T221500-abcdef-"
                                 "20261128T221500Z.html");
    lcb_buf_reset(&key);
    u.prefix = NULL;
    u.env = NULL;
    u.name = "status";
    u.ext = "json";
    lcb_report_key(&key, &u);
    CHECK_STR(lcb_buf_str(&key), "default/reports/status-20261128T221500Z.json");
    lcb_buf_release(&key);
}

int
main(void)
{
    RUN(test_text_and_md);
    RUN(test_html_self_contained);
    RUN(test_svg_geometry);
    RUN(test_json);
    RUN(test_metrics);
    RUN(test_catalog_status);
    RUN(test_upload_rules);
    return harness_done();
}
