/* drill_model_test.c - components, phases, RTO/RPO, the report JSON round trip, and the teardown
 * registry (order, failures, signals). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/sig.h"
#include "../../lib/drill/drill.h"
#include "../../lib/drill/teardown.h"
#include "../../lib/ext/json.h"
#include "harness.h"

/* A component that went request 0..2 s, provisioning 2..32 s, checks 32..35 s, teardown 35..40 s
 * (monotonic ms from a drill started at 10000 ms). */
static struct lcb_drill_comp *
timed_comp(struct lcb_drill_run *r, const char *kind)
{
    struct lcb_drill_comp *c = lcb_drill_comp_add(r, kind, "legocity-payload-db");

    c->started_at = r->started_at;
    c->taken_at = r->started_at - 3600;
    lcb_drill_phase_begin(r, c, LCB_PHASE_REQUEST, 10000);
    lcb_drill_phase_end(r, c, LCB_PHASE_REQUEST, 12000);
    lcb_drill_phase_begin(r, c, LCB_PHASE_PROVISION, 12000);
    lcb_drill_phase_end(r, c, LCB_PHASE_PROVISION, 42000);
    lcb_drill_phase_begin(r, c, LCB_PHASE_CHECKS, 42000);
    lcb_drill_phase_begin(r, c, LCB_PHASE_CHECKS, 43000); /* the first start stays */
    lcb_drill_phase_end(r, c, LCB_PHASE_CHECKS, 45000);
    lcb_drill_phase_begin(r, c, LCB_PHASE_TEARDOWN, 45000);
    lcb_drill_phase_end(r, c, LCB_PHASE_TEARDOWN, 50000);
    return c;
}

static void
test_rto_rpo(void)
{
    struct lcb_drill_run r;
    struct lcb_drill_comp *c;

    lcb_drill_run_init(&r, "drill-20261128T221500-abcdef", 1800000000, 10000);
    c = timed_comp(&r, "rds");
    lcb_drill_check_add(c, "connectivity", LCB_CHECK_PASS, NULL, "PostgreSQL %s", "15.10");
    lcb_drill_comp_finish(c, 900, 7200, 0);
    CHECK(c->rto > 34.99 && c->rto < 35.01); /* request start .. checks end, teardown excluded */
    CHECK_INT(c->rpo, 3600);
    CHECK_INT(lcb_drill_rto_ok(c), 1);
    CHECK_INT(lcb_drill_rpo_ok(c), 1);
    CHECK_STR(c->status, "passed");
    CHECK(c->phases[LCB_PHASE_PROVISION].start > 1.99 &&
          c->phases[LCB_PHASE_PROVISION].secs > 29.9);
    /* targets missed */
    lcb_drill_comp_finish(c, 30, 1800, 0);
    CHECK_INT(lcb_drill_rto_ok(c), 0);
    CHECK_INT(lcb_drill_rpo_ok(c), 0);
    CHECK_STR(c->status, "failed");
    /* no targets: nothing to miss */
    lcb_drill_comp_finish(c, 0, 0, 0);
    CHECK_INT(lcb_drill_rto_ok(c), -1);
    CHECK_STR(c->status, "passed");
    CHECK_STR(lcb_drill_run_finish(&r, 1800000060, 0), "passed");
    CHECK_INT(r.ended_at, 1800000060);
    lcb_drill_run_release(&r);
}

static void
test_status_rules(void)
{
    struct lcb_drill_run r;
    struct lcb_drill_comp *a, *b;
    int p, f, s;

    lcb_drill_run_init(&r, "drill-x", 1800000000, 10000);
    CHECK_STR(lcb_drill_run_finish(&r, 1800000001, 0), "failed"); /* nothing drilled */
    a = timed_comp(&r, "rds");
    lcb_drill_check_add(a, "amcheck", LCB_CHECK_FAIL, "public.users_email_idx", "item order");
    lcb_drill_check_add(a, "sql users exist", LCB_CHECK_PASS, NULL, "200");
    lcb_drill_comp_finish(a, 900, 7200, 0);
    CHECK_STR(a->status, "failed");
    b = lcb_drill_comp_add(&r, "ebs", "broker-data");
    lcb_drill_phase_begin(&r, b, LCB_PHASE_REQUEST, 11000);
    b->error = strdup("CreateVolume: HTTP 400 InvalidSnapshot.NotFound");
    lcb_drill_phases_close(&r, b, 11500);
    CHECK(b->phases[LCB_PHASE_REQUEST].secs > 0.49);
    lcb_drill_comp_finish(b, 900, 7200, 0);
    CHECK_STR(b->status, "error");
    CHECK(b->rto < 0);
    CHECK_INT(b->rpo, -1);
    lcb_drill_run_counts(&r, &p, &f, &s);
    CHECK_INT(p, 1);
    CHECK_INT(f, 1);
    CHECK_STR(lcb_drill_run_finish(&r, 1800000060, 0), "failed");
    CHECK_STR(lcb_drill_run_finish(&r, 1800000060, 1), "interrupted");
    lcb_drill_comp_finish(a, 900, 7200, 1);
    CHECK_STR(a->status, "interrupted");
    lcb_drill_run_release(&r);
}

static void
test_report_round_trip(void)
{
    struct lcb_drill_run r, back;
    struct lcb_drill_comp *c;
    struct lcb_buf t = LCB_BUF_INIT, t2 = LCB_BUF_INIT;
    struct lcb_json *j = NULL;
    struct lcb_err err;

    lcb_drill_run_init(&r, "drill-20261128T221500-abcdef", 1800000000, 10000);
    r.env = strdup("dev");
    r.pick = strdup("latest");
    c = timed_comp(&r, "rds");
    lcb_drill_comp_set(&c->backup_id, "rds-20261128T211500-aaaaaa");
    lcb_drill_comp_set(&c->restored, "lcb-drill-legocity-payload-db-20261128221500");
    lcb_drill_check_add(c, "amcheck", LCB_CHECK_FAIL, "public.users_email_idx",
                        "bt_index_check: \"item order\" <violated>");
    lcb_drill_comp_finish(c, 900, 7200, 0);
    lcb_drill_swept_add(&r, "rds instance", "lcb-drill-old-20261101000000", "expired at x", 1);
    lcb_drill_run_finish(&r, 1800000060, 0);
    lcb_drill_report_json(&r, &t, 0);
    CHECK(strstr(t.ptr, "\"rto_seconds\":35") != NULL);
    CHECK(strstr(t.ptr, "\"relation\":\"public.users_email_idx\"") != NULL);
    CHECK_INT(lcb_json_parse(&j, t.ptr, t.len, &err), 0);
    CHECK_INT(lcb_drill_report_parse(&back, j, &err), 0);
    lcb_drill_report_json(&back, &t2, 0);
    CHECK_STR(lcb_buf_str(&t2), lcb_buf_str(&t));
    CHECK_STR(back.comps[0].checks[0].relation, "public.users_email_idx");
    CHECK_INT(back.comps[0].taken_at, 1800000000 - 3600);
    lcb_json_free(j);
    lcb_drill_run_release(&back);
    /* not a report */
    CHECK_INT(lcb_json_parse(&j, "{\"x\":1}", 7, &err), 0);
    CHECK_INT(lcb_drill_report_parse(&back, j, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_json_free(j);
    lcb_drill_run_release(&back);
    lcb_drill_run_release(&r);
    lcb_buf_release(&t);
    lcb_buf_release(&t2);
}

/* ---- teardown ---- */

static char order[64];
static int saw_signal_during;

static int
undo(void *ud, struct lcb_err *err)
{
    const char *name = ud;

    if (lcb_sig_pending())
        saw_signal_during = 1;
    strcat(order, name);
    if (strcmp(name, "b") == 0)
        return lcb_err_set(err, LCB_ETEMP, "DeleteVolume: HTTP 503 Unavailable");
    return 0;
}

static int freed;

static void
count_free(void *ud)
{
    (void)ud;
    freed++;
}

static void
test_teardown_order_and_failures(void)
{
    struct lcb_teardown td;
    struct lcb_buf rep = LCB_BUF_INIT;
    size_t c;

    order[0] = '\0';
    freed = 0;
    lcb_teardown_init(&td);
    lcb_teardown_push(&td, "volume a", undo, (void *)"a", count_free);
    lcb_teardown_push(&td, "volume b", undo, (void *)"b", count_free);
    c = lcb_teardown_push(&td, "volume c", undo, (void *)"c", count_free);
    lcb_teardown_push(&td, "volume d", undo, (void *)"d", NULL);
    lcb_teardown_cancel(&td, c);
    CHECK_INT(freed, 1);
    CHECK_INT(lcb_teardown_run(&td, &rep), 1);
    CHECK_STR(order, "dba"); /* newest first, c cancelled, a still runs after b failed */
    CHECK_INT(freed, 3);
    CHECK(strstr(rep.ptr, "volume b: DeleteVolume: HTTP 503") != NULL);
    CHECK_INT(td.n, 0);
    CHECK_INT(lcb_teardown_run(&td, NULL), 0); /* empty now */
    lcb_teardown_release(&td);
    lcb_buf_release(&rep);
}

static void
test_teardown_under_signal(void)
{
    struct lcb_teardown td;
    struct lcb_err err;

    order[0] = '\0';
    saw_signal_during = 0;
    lcb_teardown_init(&td);
    lcb_teardown_push(&td, "instance x", undo, (void *)"x", NULL);
    lcb_sig_raise(SIGTERM);
    CHECK_INT(lcb_teardown_run(&td, NULL), 0);
    CHECK_STR(order, "x");
    CHECK_INT(saw_signal_during, 0);       /* set aside while tearing down */
    CHECK_INT(lcb_sig_pending(), SIGTERM); /* and put back for the exit status */
    CHECK_INT(lcb_teardown_sleep(50, &err), -1);
    CHECK_INT(err.code, LCB_EINTR);
    lcb_sig_raise(0);
    CHECK_INT(lcb_teardown_sleep(20, &err), 0);
    lcb_teardown_release(&td);
}

static void
test_teardown_release_frees(void)
{
    struct lcb_teardown td;

    freed = 0;
    order[0] = '\0';
    lcb_teardown_init(&td);
    lcb_teardown_push(&td, "a", undo, (void *)"a", count_free);
    lcb_teardown_release(&td);
    CHECK_INT(freed, 1);
    CHECK_STR(order, "");
}

int
main(void)
{
    RUN(test_rto_rpo);
    RUN(test_status_rules);
    RUN(test_report_round_trip);
    RUN(test_teardown_order_and_failures);
    RUN(test_teardown_under_signal);
    RUN(test_teardown_release_frees);
    return harness_done();
}
