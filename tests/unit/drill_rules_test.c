/* drill_rules_test.c - the drill's pure rules: expectations, picking, components, names, expiry,
 * the sweep decision and amcheck messages. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/clock.h"
#include "../../lib/drill/component.h"
#include "../../lib/drill/drill.h"
#include "../../lib/ext/json.h"
#include "../../lib/policy/policy.h"
#include "harness.h"

static void
test_expect_numbers(void)
{
    CHECK_INT(lcb_drill_expect(">= 1", "200"), 1);
    CHECK_INT(lcb_drill_expect(">= 1", "0"), 0);
    CHECK_INT(lcb_drill_expect(">=1", "1"), 1);
    CHECK_INT(lcb_drill_expect("= 0", "0"), 1);
    CHECK_INT(lcb_drill_expect("== 0", "0.0"), 1);
    CHECK_INT(lcb_drill_expect("= 0", "3"), 0);
    CHECK_INT(lcb_drill_expect("!= 0", "3"), 1);
    CHECK_INT(lcb_drill_expect("> 10", "9"), 0);
    CHECK_INT(lcb_drill_expect("< 10", "9"), 1);
    CHECK_INT(lcb_drill_expect("<= 9", "9"), 1);
    /* numerically, not as text: "10" > "9" */
    CHECK_INT(lcb_drill_expect("> 9", "10"), 1);
    CHECK_INT(lcb_drill_expect(" >=  2 ", "2"), 1);
}

static void
test_expect_text_and_null(void)
{
    CHECK_INT(lcb_drill_expect("== 'payload'", "payload"), 1);
    CHECK_INT(lcb_drill_expect("== payload", "payload"), 1);
    CHECK_INT(lcb_drill_expect("== 'payload'", "other"), 0);
    CHECK_INT(lcb_drill_expect("!= 'x'", "y"), 1);
    CHECK_INT(lcb_drill_expect("== '20240101_init'", "20240101_init"), 1);
    CHECK_INT(lcb_drill_expect(">= 1", NULL), 0);
    CHECK_INT(lcb_drill_expect("= null", NULL), 1);
    CHECK_INT(lcb_drill_expect("!= 'x'", NULL), 1);
    CHECK_INT(lcb_drill_expect("~ 1", "1"), -1);
    CHECK_INT(lcb_drill_expect(">=", "1"), -1);
    CHECK_INT(lcb_drill_expect(NULL, "1"), -1);
}

static void
test_pick(void)
{
    struct lcb_drill_pick p;
    struct lcb_err err;
    time_t now = 1000000, taken[4] = {now - 10, now - 3600, now - 86400, now - 30 * 86400};
    unsigned rnd;
    int seen[4] = {0, 0, 0, 0};

    CHECK_INT(lcb_drill_pick_parse(&p, NULL, &err), 0);
    CHECK_INT(p.random, 0);
    CHECK_INT(lcb_drill_pick_choose(&p, taken, 4, now, 7), 0);
    CHECK_INT(lcb_drill_pick_choose(&p, taken, 0, now, 7), -1);
    CHECK_INT(lcb_drill_pick_parse(&p, "random-within:2d", &err), 0);
    CHECK_INT(p.random, 1);
    CHECK_INT(p.within, 2 * 86400);
    for (rnd = 0; rnd < 30; rnd++) {
        long i = lcb_drill_pick_choose(&p, taken, 4, now, rnd);
        CHECK(i >= 0 && i <= 2);
        if (i >= 0)
            seen[i]++;
    }
    CHECK(seen[0] && seen[1] && seen[2] && !seen[3]);
    CHECK_INT(lcb_drill_pick_parse(&p, "random-within:1s", &err), 0);
    CHECK_INT(lcb_drill_pick_choose(&p, taken, 4, now, 3), -1);
    CHECK_INT(lcb_drill_pick_parse(&p, "oldest", &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_drill_pick_parse(&p, "random-within:", &err), -1);
}

static void
test_components(void)
{
    unsigned set;
    struct lcb_err err;

    CHECK_INT(lcb_drill_components_parse(&set, NULL, &err), 0);
    CHECK_INT(set, 15);
    CHECK_INT(lcb_drill_components_parse(&set, "rds,broker", &err), 0);
    CHECK_INT(set, (1u << LCB_KIND_RDS) | (1u << LCB_KIND_BROKER));
    CHECK_INT(lcb_drill_components_parse(&set, "config,", &err), 0);
    CHECK_INT(set, 1u << LCB_KIND_CONFIG);
    CHECK_INT(lcb_drill_components_parse(&set, "rds,s3", &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK(strstr(err.msg, "'s3'") != NULL);
    CHECK_INT(lcb_drill_components_parse(&set, ",", &err), -1);
}

static void
test_resource_name(void)
{
    char name[80];
    time_t t;

    lcb_time_parse("2026-11-28T22:15:07Z", &t);
    lcb_drill_resource_name(name, sizeof(name), "legocity-payload-db", t);
    CHECK_STR(name, "lcb-drill-legocity-payload-db-20261128221507");
    lcb_drill_resource_name(name, sizeof(name), "Prod_DB", t);
    CHECK_STR(name, "lcb-drill-prod-db-20261128221507");
    lcb_drill_resource_name(name, sizeof(name),
                            "a-very-long-instance-identifier-that-is-already-at-sixty-chars", t);
    CHECK(strlen(name) <= 63);
    CHECK(name[strlen(name) - 15] == '-');
    CHECK(strstr(name, "--") == NULL);
    CHECK(strncmp(name, "lcb-drill-a-very-long", 21) == 0);
}

static void
test_expiry_and_sweep(void)
{
    char reason[128];
    time_t now = 1800000000;

    CHECK_INT(lcb_drill_expiry(now, 7200), now + 2 * 7200 + 1800);
    CHECK_INT(lcb_drill_expiry(now, 60), now + 2 * 60 + 300);
    CHECK_INT(lcb_drill_expiry(now, 86400), now + 2 * 86400 + 3600);
    CHECK_INT(lcb_drill_sweep_due("2027-01-15T08:00:00Z", NULL, now, reason, sizeof(reason)), 1);
    CHECK(strstr(reason, "expired at 2027-01-15T08:00:00Z") != NULL);
    CHECK_INT(lcb_drill_sweep_due("2030-01-01T00:00:00Z", NULL, now, reason, sizeof(reason)), 0);
    CHECK(strstr(reason, "expires at") != NULL);
    CHECK_INT(lcb_drill_sweep_due("2030-01-01T00:00:00Z", "running", now, reason, sizeof(reason)),
              0);
    /* a drill this catalog knows to be running keeps its resources, even past their expiry */
    CHECK_INT(lcb_drill_sweep_due("2027-01-15T08:00:00Z", "running", now, reason,
                                  sizeof(reason)), 0);
    CHECK(strstr(reason, "still running") != NULL);
    CHECK_INT(lcb_drill_sweep_due("2030-01-01T00:00:00Z", "abandoned", now, reason, sizeof(reason)),
              1);
    CHECK(strstr(reason, "abandoned") != NULL);
    CHECK_INT(lcb_drill_sweep_due(NULL, "passed", now, reason, sizeof(reason)), 1);
    CHECK_INT(lcb_drill_sweep_due("garbage", NULL, now, reason, sizeof(reason)), 0);
    CHECK_INT(lcb_drill_sweep_due(NULL, "running", now, reason, sizeof(reason)), 0);
}

static void
test_amcheck_relation(void)
{
    char rel[64];

    CHECK_INT(lcb_drill_amcheck_relation("ERROR:  item order invariant violated for index "
                                         "\"users_email_idx\"\nDETAIL: ...",
                                         rel, sizeof(rel)),
              1);
    CHECK_STR(rel, "users_email_idx");
    CHECK_INT(
        lcb_drill_amcheck_relation("could not open relation \"pages_pkey\"", rel, sizeof(rel)), 1);
    CHECK_STR(rel, "pages_pkey");
    CHECK_INT(lcb_drill_amcheck_relation("server closed the connection", rel, sizeof(rel)), 0);
    CHECK_INT(lcb_drill_amcheck_relation("index \"\"", rel, sizeof(rel)), 0);
    CHECK_INT(lcb_drill_amcheck_relation("index \"abcdefghijkl\"", rel, 5), 1);
    CHECK_STR(rel, "abcd");
}

/* Problems of a task definition request given as JSON text; lines into out. */
static int
taskdef(const char *json, struct lcb_buf *out)
{
    struct lcb_json *j = NULL;
    struct lcb_err err;
    int n;

    lcb_buf_reset(out);
    if (lcb_json_parse(&j, json, strlen(json), &err) < 0)
        return -100;
    n = lcb_drill_taskdef_problems(j, out);
    lcb_json_free(j);
    return n;
}

static void
test_taskdef_rules(void)
{
    struct lcb_buf p = LCB_BUF_INIT;

    CHECK_INT(taskdef("{\"family\":\"legocity-payload\",\"containerDefinitions\":[{\"name\":"
                      "\"payload\",\"image\":\"ghcr.io/legocity/payload:1.4\",\"portMappings\":"
                      "[{\"containerPort\":3000}]}],\"tags\":[{\"key\":\"Project\",\"value\":"
                      "\"legocity\"}]}",
                      &p),
              0);
    CHECK_INT(taskdef("{\"family\":\"bad family!\",\"containerDefinitions\":[]}", &p), 2);
    CHECK(strstr(p.ptr, "family 'bad family!'") != NULL);
    CHECK(strstr(p.ptr, "containerDefinitions: empty") != NULL);
    CHECK_INT(taskdef("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":"
                      "\"\"},{\"name\":\"a\",\"image\":\"x\",\"portMappings\":[{\"hostPort\":1}],"
                      "\"repositoryCredentials\":{\"credentialsParameter\":\"\"}}],\"tags\":[],"
                      "\"revision\":3}",
                      &p),
              6);
    CHECK(strstr(p.ptr, "container a: no image") != NULL);
    CHECK(strstr(p.ptr, "container name a is used twice") != NULL);
    CHECK(strstr(p.ptr, "without containerPort") != NULL);
    CHECK(strstr(p.ptr, "repositoryCredentials without a credentialsParameter") != NULL);
    CHECK(strstr(p.ptr, "Tags can not be empty") != NULL);
    CHECK(strstr(p.ptr, "revision is read-only") != NULL);
    /* Fargate: awsvpc, a valid size, an execution role for awslogs */
    CHECK_INT(taskdef("{\"family\":\"f\",\"requiresCompatibilities\":[\"FARGATE\"],"
                      "\"networkMode\":\"awsvpc\",\"cpu\":\"0.5 vCPU\",\"memory\":\"1 GB\","
                      "\"executionRoleArn\":\"arn:aws:iam::1:role/x\",\"containerDefinitions\":"
                      "[{\"name\":\"a\",\"image\":\"x\",\"logConfiguration\":{\"logDriver\":"
                      "\"awslogs\"}}]}",
                      &p),
              0);
    CHECK_INT(taskdef("{\"family\":\"f\",\"requiresCompatibilities\":[\"FARGATE\"],"
                      "\"networkMode\":\"bridge\",\"cpu\":\"256\",\"memory\":\"4096\","
                      "\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\","
                      "\"logConfiguration\":{\"logDriver\":\"awslogs\"}}]}",
                      &p),
              3);
    CHECK(strstr(p.ptr, "Fargate only supports network mode awsvpc") != NULL);
    CHECK(strstr(p.ptr, "no Fargate size has 256 CPU units with 4096 MiB") != NULL);
    CHECK(strstr(p.ptr, "needs an executionRoleArn") != NULL);
    CHECK_INT(taskdef("{\"family\":\"f\",\"networkMode\":\"overlay\",\"cpu\":\"lots\","
                      "\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\"}]}",
                      &p),
              2);
    lcb_buf_release(&p);
}

int
main(void)
{
    RUN(test_expect_numbers);
    RUN(test_expect_text_and_null);
    RUN(test_pick);
    RUN(test_components);
    RUN(test_resource_name);
    RUN(test_expiry_and_sweep);
    RUN(test_amcheck_relation);
    RUN(test_taskdef_rules);
    return harness_done();
}
