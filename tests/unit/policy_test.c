/* policy_test.c - policy parsing and validation: every message names the culprit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/policy/policy.h"
#include "harness.h"

#define BASE_HEAD                                                                                  \
    "{\"version\":1,\"env\":\"dev\",\"region\":\"eu-west-1\",\"dr_region\":\"eu-central-1\","     \
    "\"storage\":{\"bucket\":\"legocity-backups-dev\"},"

#define RDS_OK                                                                                     \
    "\"targets\":{\"rds\":[{\"instance\":\"legocity-payload-db\",\"schedule\":\"0 3 * * *\","      \
    "\"retention\":{\"daily\":7}}]}}"

static struct lcb_err err;

static int
parse(const char *text, struct lcb_policy **out)
{
    lcb_err_clear(&err);
    return lcb_policy_parse(out, "p.json", text, strlen(text), NULL, &err);
}

/* Parse text, expect failure with code and a message containing want. */
static void
expect_problem(const char *text, enum lcb_code code, const char *want)
{
    struct lcb_policy *p = NULL;

    CHECK_INT(parse(text, &p), -1);
    CHECK(p == NULL);
    CHECK_INT(err.code, code);
    if (!strstr(err.msg, want))
        fprintf(stderr, "    message: %s\n    wanted:  %s\n", err.msg, want);
    CHECK(strstr(err.msg, want) != NULL);
}

static void
test_minimal_ok(void)
{
    struct lcb_policy *p = NULL;
    const struct lcb_target *t;

    CHECK_INT(parse(BASE_HEAD RDS_OK, &p), 0);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_STR(p->env, "dev");
    CHECK_STR(p->prefix, "lcbackup");
    CHECK_STR(p->timezone, "UTC");
    CHECK_INT(p->ntargets, 1);
    t = lcb_policy_target(p, LCB_KIND_RDS, "legocity-payload-db");
    CHECK(t != NULL);
    CHECK_INT(t ? t->retention.daily : -99, 7);
    lcb_policy_free(p);
}

static void
test_syntax_error_position(void)
{
    expect_problem("{\"version\": 1,\n  \"env\": \"dev\",\n  \"region\" \"eu-west-1\"\n}",
                   LCB_ECORRUPT, "p.json: line 3, column 12");
}

static void
test_unknown_key(void)
{
    expect_problem(BASE_HEAD "\"targest\":{}," RDS_OK, LCB_ECONFIG, "p.json: targest: unknown key");
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":[{\"instance\":\"db1\",\"schedule\":\"@daily\","
                             "\"retention\":{\"daily\":7,\"dialy\":3}}]}}",
                   LCB_ECONFIG, "targets.rds[0].retention.dialy: unknown key");
}

static void
test_wrong_types(void)
{
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":[{\"instance\":\"db1\",\"schedule\":\"@daily\","
                             "\"retention\":{\"daily\":\"7\"}}]}}",
                   LCB_ECONFIG, "targets.rds[0].retention.daily: must be a whole number");
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":[{\"instance\":42,\"schedule\":\"@daily\","
                             "\"retention\":{\"daily\":7}}]}}",
                   LCB_ECONFIG, "targets.rds[0].instance: must be a string, not a number");
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":{}}}", LCB_ECONFIG,
                   "targets.rds: must be an array of targets");
}

static void
test_negative_and_fraction(void)
{
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":[{\"instance\":\"db1\",\"schedule\":\"@daily\","
                             "\"retention\":{\"daily\":-2}}]}}",
                   LCB_ECONFIG, "targets.rds[0].retention.daily: must be a whole number from -1");
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":[{\"instance\":\"db1\",\"schedule\":\"@daily\","
                             "\"retention\":{\"weekly\":1.5}}]}}",
                   LCB_ECONFIG, "targets.rds[0].retention.weekly");
}

static void
test_bad_cron(void)
{
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":[{\"instance\":\"db1\",\"schedule\":\"0 25 * * *\","
                             "\"retention\":{\"daily\":7}}]}}",
                   LCB_ECONFIG, "targets.rds[0].schedule: ");
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":[{\"instance\":\"db1\",\"schedule\":\"@sometimes\","
                             "\"retention\":{\"daily\":7}}]}}",
                   LCB_ECONFIG, "targets.rds[0].schedule");
}

static void
test_empty_retention(void)
{
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":[{\"instance\":\"db1\",\"schedule\":\"@daily\","
                             "\"retention\":{}}]}}",
                   LCB_ECONFIG, "targets.rds[0].retention: keeps nothing");
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":[{\"instance\":\"db1\",\"schedule\":\"@daily\","
                             "\"retention\":{\"min_age\":\"1h\"}}]}}",
                   LCB_ECONFIG, "keeps nothing");
}

static void
test_dr_region_same(void)
{
    expect_problem("{\"version\":1,\"env\":\"dev\",\"region\":\"eu-west-1\",\"dr_region\":\"eu-west-1\","
                   "\"storage\":{\"bucket\":\"legocity-backups-dev\"}," RDS_OK,
                   LCB_ECONFIG, "dr_region: must differ from region");
}

static void
test_aws_identifiers(void)
{
    expect_problem(BASE_HEAD "\"targets\":{\"rds\":[{\"instance\":\"1db--x-\",\"schedule\":\"@daily\","
                             "\"retention\":{\"daily\":7}}]}}",
                   LCB_ECONFIG, "targets.rds[0].instance: '1db--x-' is not a valid RDS instance");
    expect_problem("{\"version\":1,\"env\":\"dev\",\"region\":\"eu-west-1\","
                   "\"storage\":{\"bucket\":\"Legocity_Backups\"}," RDS_OK,
                   LCB_ECONFIG, "storage.bucket: 'Legocity_Backups' is not a valid S3 bucket name");
    expect_problem("{\"version\":1,\"env\":\"dev\",\"region\":\"europe\","
                   "\"storage\":{\"bucket\":\"b-1234\"}," RDS_OK,
                   LCB_ECONFIG, "region: 'europe' is not an AWS region");
    expect_problem(BASE_HEAD "\"targets\":{\"ebs\":[{\"name\":\"v\",\"volume_ids\":[\"vol-xyz\"],"
                             "\"schedule\":\"@daily\",\"retention\":{\"daily\":7}}]}}",
                   LCB_ECONFIG, "targets.ebs[0].volume_ids[0]: 'vol-xyz' is not an EBS volume id");
}

static void
test_defaults_inherited(void)
{
    struct lcb_policy *p = NULL;
    const char *text = BASE_HEAD
        "\"defaults\":{\"schedule\":\"@hourly\",\"retention\":{\"keep_last\":3}},"
        "\"targets\":{\"config\":[{\"name\":\"cfg\",\"ssm_paths\":[\"/legocity/dev/\"]}]}}";

    CHECK_INT(parse(text, &p), 0);
    if (!p)
        return;
    CHECK_STR(p->targets[0].schedule.expr, "@hourly");
    CHECK_INT(p->targets[0].retention.keep_last, 3);
    lcb_policy_free(p);
    expect_problem(BASE_HEAD "\"targets\":{\"config\":[{\"name\":\"cfg\",\"ssm_paths\":[\"/a/\"]}]}}",
                   LCB_ECONFIG, "targets.config[0].schedule: is required");
}

static void
test_all_problems_listed(void)
{
    struct lcb_policy *p = NULL;
    struct lcb_buf problems = LCB_BUF_INIT;
    const char *text = "{\"version\":2,\"env\":\"Dev!\",\"region\":\"eu-west-1\","
                       "\"storage\":{\"bucket\":\"b-1234\"},\"targets\":{}}";

    lcb_err_clear(&err);
    CHECK_INT(lcb_policy_parse(&p, "x.json", text, strlen(text), &problems, &err), -1);
    CHECK(strstr(lcb_buf_str(&problems), "x.json: version: must be a whole number from 1 to 1") != NULL);
    CHECK(strstr(lcb_buf_str(&problems), "x.json: env: 'Dev!' is not") != NULL);
    CHECK(strstr(lcb_buf_str(&problems), "x.json: targets: lists no target") != NULL);
    CHECK(strstr(err.msg, "more problems") != NULL);
    lcb_buf_release(&problems);
}

static void
test_shipped_policies(void)
{
    const char *files[] = { "policies/dev.json", "policies/prod.json", "policies/demo.json" };
    size_t i;

    for (i = 0; i < 3; i++) {
        struct lcb_policy *p = NULL;
        lcb_err_clear(&err);
        CHECK_INT(lcb_policy_load(&p, files[i], &err), 0);
        if (p) {
            CHECK_INT(lcb_policy_targets(p, LCB_KIND_RDS, NULL, 0), 1);
            CHECK(lcb_policy_target(p, LCB_KIND_RDS, "legocity-payload-db") != NULL);
        }
        lcb_policy_free(p);
    }
}

int
main(void)
{
    RUN(test_minimal_ok);
    RUN(test_syntax_error_position);
    RUN(test_unknown_key);
    RUN(test_wrong_types);
    RUN(test_negative_and_fraction);
    RUN(test_bad_cron);
    RUN(test_empty_retention);
    RUN(test_dr_region_same);
    RUN(test_aws_identifiers);
    RUN(test_defaults_inherited);
    RUN(test_all_problems_listed);
    RUN(test_shipped_policies);
    return harness_done();
}
