/* notify_test.c - notices (subject, body, next steps, when to send), SNS subject and ARN rules,
 * alarm definitions from a policy (RPO, names, dimensions, JSON and CloudFormation), the
 * PutMetricAlarm encoding, and database credentials from a Secrets Manager JSON secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/aws/cloudwatch.h"
#include "../../lib/aws/endpoint.h"
#include "../../lib/aws/secretsmanager.h"
#include "../../lib/aws/sns.h"
#include "../../lib/core/secret.h"
#include "../../lib/ext/json.h"
#include "../../lib/notify/notify.h"
#include "../../lib/policy/policy.h"
#include "harness.h"

static const char policy_text[] =
    "{\"version\":1,\"env\":\"dev\",\"region\":\"eu-west-1\","
    "\"storage\":{\"bucket\":\"legocity-backups-dev\"},"
    "\"notify\":{\"sns_topic\":\"arn:aws:sns:eu-west-1:123456789012:alerts\"},"
    "\"defaults\":{\"schedule\":\"@hourly\",\"retention\":{\"keep_last\":3}},"
    "\"targets\":{\"rds\":[{\"instance\":\"legocity-payload-db\",\"schedule\":\"0 */4 * * *\"}],"
    "\"broker\":[{\"name\":\"broker\",\"url\":\"http://127.0.0.1:1026\"}]}}";

static struct lcb_policy *
load(const char *text)
{
    struct lcb_policy *p = NULL;
    struct lcb_err err;

    if (lcb_policy_parse(&p, "t.json", text, strlen(text), NULL, &err) < 0) {
        char line[512];
        fprintf(stderr, "policy: %s\n", lcb_err_format(&err, line, sizeof(line)));
    }
    return p;
}

static void
test_wanted_and_subject(void)
{
    struct lcb_notice n = { "dev", "backup rds", "run-1", "failed", 75, "boom", NULL, NULL, 0 };
    struct lcb_buf b = LCB_BUF_INIT;

    CHECK_INT(lcb_notice_wanted(&n, 0), 1);
    n.exit_code = 64;
    CHECK_INT(lcb_notice_wanted(&n, 1), 0); /* usage errors never ran anything */
    n.exit_code = 0;
    n.status = "succeeded";
    CHECK_INT(lcb_notice_wanted(&n, 0), 0);
    CHECK_INT(lcb_notice_wanted(&n, 1), 1);
    n.status = "partial";
    n.exit_code = 2;
    CHECK_INT(lcb_notice_wanted(&n, 0), 1);
    lcb_notice_subject(&b, &n);
    CHECK_STR(lcb_buf_str(&b), "lcbackup dev: backup rds partial (exit 2)");
    lcb_buf_reset(&b);
    n.command = "drill";
    n.status = "failed";
    n.exit_code = 3;
    lcb_notice_subject(&b, &n);
    CHECK_STR(lcb_buf_str(&b), "lcbackup dev: drill drill failed (exit 3)");
    lcb_buf_release(&b);
}

static void
test_body_and_next_steps(void)
{
    struct lcb_notice n = { "prod", "run", "run-20261128T021500-a1b2c3", "failed", 77,
                            "backup rds: HTTP 403 AccessDenied", "policies/prod.json", "host1",
                            1795830900 };
    struct lcb_buf b = LCB_BUF_INIT;

    lcb_notice_body(&b, &n);
    CHECK(strstr(b.ptr, "lcbackup run failed in environment prod on host1 at "
                        "2026-11-28T01:55:00Z.") != NULL);
    CHECK(strstr(b.ptr, "What failed: backup rds: HTTP 403 AccessDenied\n") != NULL);
    CHECK(strstr(b.ptr, "Exit code:   77 (AWS authentication or permission denied)\n") != NULL);
    CHECK(strstr(b.ptr, "(lcbackup show run-20261128T021500-a1b2c3)") != NULL);
    CHECK(strstr(b.ptr, "Next step: AWS denied access") != NULL);
    CHECK(strstr(lcb_notice_next_step("drill", 3), "drill report") != NULL);
    CHECK(strstr(lcb_notice_next_step("drill", 75), "drill") != NULL);
    CHECK(strstr(lcb_notice_next_step("backup rds", 75), "next scheduled run") != NULL);
    CHECK(strstr(lcb_notice_next_step("run", 73), "lock") != NULL);
    CHECK(strstr(lcb_notice_next_step("run", 143), "interrupted") != NULL);
    CHECK(strstr(lcb_notice_next_step("run", 1), "unexpected") != NULL);
    lcb_buf_release(&b);
}

static void
test_sns_rules(void)
{
    char region[32], subj[LCB_SNS_SUBJECT_MAX + 1], long_s[300];

    CHECK_INT(lcb_sns_arn_region("arn:aws:sns:eu-central-1:123456789012:t", region,
                                 sizeof(region)), 0);
    CHECK_STR(region, "eu-central-1");
    CHECK_INT(lcb_sns_arn_region("arn:aws:sqs:eu-west-1:123456789012:q", region, sizeof(region)),
              -1);
    CHECK_INT(lcb_sns_arn_region("arn:aws:sns:eu-west-1", region, sizeof(region)), -1);
    CHECK_STR(lcb_sns_subject("a\nb\tc\x01\xc3\xa9", subj), "a b c???");
    memset(long_s, 'x', sizeof(long_s) - 1);
    long_s[sizeof(long_s) - 1] = '\0';
    lcb_sns_subject(long_s, subj);
    CHECK_INT(strlen(subj), LCB_SNS_SUBJECT_MAX);
    CHECK_STR(subj + LCB_SNS_SUBJECT_MAX - 3, "...");
    CHECK_STR(lcb_sns_subject("", subj), "lcbackup");
}

static const struct lcb_cw_alarm *
find(const struct lcb_cw_alarm_list *l, const char *name)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return &l->items[i];
    return NULL;
}

static void
test_alarms_from_policy(void)
{
    struct lcb_policy *p = load(policy_text);
    struct lcb_cw_alarm_list l;
    const struct lcb_cw_alarm *a;

    CHECK(p != NULL);
    if (!p)
        return;
    lcb_cw_alarm_list_init(&l);
    lcb_alarms_build(&l, p, "dev", 1795830900);
    CHECK_INT(l.n, 5); /* 2 targets x (age, drill) + run */
    a = find(&l, "lcbackup-dev-rds-legocity-payload-db-backup-age");
    CHECK(a != NULL);
    if (a) {
        CHECK_INT((long long)a->threshold, 8 * 3600); /* no rpo_target: twice every 4h */
        CHECK_STR(a->metric, "BackupAgeSeconds");
        CHECK_STR(a->statistic, "Maximum");
        CHECK_STR(a->treat_missing, "breaching");
        CHECK_INT(a->ndims, 3);
        CHECK_STR(a->dims[1].value, "rds");
        CHECK_STR(a->dims[2].value, "legocity-payload-db");
        CHECK_INT(a->alarm_actions.n, 1);
        CHECK_STR(a->alarm_actions.items[0], "arn:aws:sns:eu-west-1:123456789012:alerts");
    }
    a = find(&l, "lcbackup-dev-broker-broker-backup-age");
    CHECK(a && (long long)a->threshold == 2 * 3600);
    a = find(&l, "lcbackup-dev-broker-broker-drill-failed");
    CHECK(a && strcmp(a->comparison, "LessThanThreshold") == 0 && a->threshold == 1);
    a = find(&l, "lcbackup-dev-run-failed");
    CHECK(a && a->ndims == 1 && strcmp(a->metric, "RunFailed") == 0 && a->period == 300);
    lcb_cw_alarm_list_release(&l);
    lcb_policy_free(p);
}

static void
test_rpo_target_wins(void)
{
    char text[sizeof(policy_text) + 64];
    struct lcb_policy *p;
    const char *at = strstr(policy_text, "\"targets\"");

    snprintf(text, sizeof(text), "%.*s\"drill\":{\"rpo_target\":\"90m\"},%s",
             (int)(at - policy_text), policy_text, at);
    p = load(text);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_INT(lcb_alarm_rpo(p, 0, 1795830900), 5400);
    CHECK_INT(lcb_alarm_rpo(p, 1, 1795830900), 5400);
    lcb_policy_free(p);
}

static void
test_alarm_outputs(void)
{
    struct lcb_policy *p = load(policy_text);
    struct lcb_cw_alarm_list l;
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_json *j = NULL, *res, *r;
    struct lcb_query q;
    struct lcb_err err;

    if (!p) {
        CHECK(p != NULL);
        return;
    }
    lcb_cw_alarm_list_init(&l);
    lcb_alarms_build(&l, p, "dev", 1795830900);
    lcb_alarms_json(&b, &l);
    CHECK_INT(lcb_json_parse(&j, b.ptr, b.len, &err), 0);
    CHECK_INT(lcb_json_size(j), 5);
    CHECK_STR(lcb_json_get_str(lcb_json_at(j, 0), "AlarmName"),
              "lcbackup-dev-rds-legocity-payload-db-backup-age");
    CHECK_INT((long long)lcb_json_get_num(lcb_json_at(j, 0), "Threshold", 0), 28800);
    lcb_json_free(j);
    j = NULL;
    lcb_buf_reset(&b);
    lcb_alarms_cloudformation(&b, &l, "dev");
    CHECK_INT(lcb_json_parse(&j, b.ptr, b.len, &err), 0);
    res = lcb_json_get(j, "Resources");
    CHECK_INT(lcb_json_size(res), 5);
    r = lcb_json_get(res, "LcbackupDevRdsLegocityPayloadDbBackupAge");
    CHECK_STR(lcb_json_get_str(r, "Type"), "AWS::CloudWatch::Alarm");
    CHECK_STR(lcb_json_str(lcb_json_path(r, "Properties.MetricName")), "BackupAgeSeconds");
    CHECK(lcb_json_get(res, "LcbackupDevRunFailed") != NULL);
    lcb_json_free(j);
    lcb_query_init(&q, &lcb_query_cloudwatch, "PutMetricAlarm");
    lcb_cw_alarm_query(&q, find(&l, "lcbackup-dev-run-failed"));
    CHECK_STR(lcb_query_get(&q, "AlarmActions.member.1"),
              "arn:aws:sns:eu-west-1:123456789012:alerts");
    CHECK_STR(lcb_query_get(&q, "Dimensions.member.1.Name"), "Env");
    CHECK_STR(lcb_query_get(&q, "Dimensions.member.1.Value"), "dev");
    CHECK_STR(lcb_query_get(&q, "Threshold"), "1");
    CHECK_STR(lcb_query_get(&q, "Period"), "300");
    CHECK_STR(lcb_query_get(&q, "ComparisonOperator"), "GreaterThanOrEqualToThreshold");
    lcb_query_release(&q);
    lcb_cw_alarm_list_release(&l);
    lcb_buf_release(&b);
    lcb_policy_free(p);
}

static void
test_emf(void)
{
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_json *j = NULL;
    struct lcb_err err;

    lcb_notice_emf(&b, 1795830900);
    CHECK_INT(lcb_json_parse(&j, b.ptr, b.len, &err), 0);
    CHECK_INT((long long)lcb_json_get_num(j, "Timestamp", 0), 1795830900000LL);
    CHECK_STR(lcb_json_str(lcb_json_path(lcb_json_at(lcb_json_get(j, "CloudWatchMetrics"), 0),
                                         "Namespace")),
              "lcbackup");
    lcb_json_free(j);
    lcb_buf_release(&b);
}

static void
test_db_url(void)
{
    struct lcb_secret url = LCB_SECRET_INIT;
    struct lcb_err err;
    struct lcb_buf red = LCB_BUF_INIT;

    CHECK_INT(lcb_sm_db_url_from(&url, "{\"username\":\"payload\",\"password\":\"p@ss/w:rd\","
                                       "\"engine\":\"postgres\",\"host\":\"127.0.0.1\","
                                       "\"port\":5433,\"dbname\":\"payload\"}",
                                 NULL, 0, NULL, &err),
              0);
    CHECK_STR(lcb_secret_get(&url), "postgres://payload:p%40ss%2Fw%3Ard@127.0.0.1:5433/payload");
    /* the whole URL is registered: it never prints */
    CHECK_STR(lcb_redact_str(&red, lcb_secret_get(&url)), "***");
    /* an RDS-managed secret has only username and password: the instance gives the rest */
    CHECK_INT(lcb_sm_db_url_from(&url, "{\"username\":\"u\",\"password\":\"secretpw\"}",
                                 "db.example", 0, "app", &err),
              0);
    CHECK_STR(lcb_secret_get(&url), "postgres://u:secretpw@db.example:5432/app");
    CHECK_INT(lcb_sm_db_url_from(&url, "{\"username\":\"u\",\"port\":\"6432\","
                                       "\"password\":\"secretpw\",\"host\":\"::1\",\"dbname\":\"d\"}",
                                 NULL, 0, NULL, &err),
              0);
    CHECK_STR(lcb_secret_get(&url), "postgres://u:secretpw@[::1]:6432/d");
    CHECK_INT(lcb_sm_db_url_from(&url, "{\"username\":\"u\",\"password\":\"hunter22\"}", NULL, 0,
                                 "d", &err),
              -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    CHECK(strstr(err.msg, "host") != NULL && strstr(err.msg, "hunter22") == NULL);
    CHECK_INT(lcb_sm_db_url_from(&url, "not json", NULL, 0, NULL, &err), -1);
    lcb_secret_release(&url);
    lcb_buf_release(&red);
}

static void
test_value_registration(void)
{
    struct lcb_sm_value v;
    struct lcb_buf red = LCB_BUF_INIT;

    lcb_sm_value_init(&v);
    {
        const char *js = "{\"user\":\"mailer\",\"password\":\"Sm-0123456789\"}";
        lcb_sm_value_set(&v, js, strlen(js), 0);
    }
    CHECK_STR(lcb_redact_str(&red, "the password is Sm-0123456789"), "the password is ***");
    lcb_buf_reset(&red);
    CHECK_STR(lcb_redact_str(&red, "user mailer"), "user mailer");
    lcb_buf_reset(&red);
    lcb_sm_value_set(&v, "\x30\x82\x00\x01\xff\xfe", 6, 1);
    CHECK_INT(v.value.len, 6);
    CHECK_INT(v.binary, 1);
    CHECK_STR(lcb_redact_str(&red, "blob MIIAAf/+ end"), "blob *** end");
    lcb_sm_value_release(&v);
    lcb_buf_release(&red);
}

static void
test_endpoint_names(void)
{
    struct lcb_buf b = LCB_BUF_INIT;

    lcb_endpoint_env_name(&b, "monitoring");
    CHECK_STR(lcb_buf_str(&b), "AWS_ENDPOINT_URL_CLOUDWATCH");
    lcb_buf_reset(&b);
    lcb_endpoint_env_name(&b, "secretsmanager");
    CHECK_STR(lcb_buf_str(&b), "AWS_ENDPOINT_URL_SECRETS_MANAGER");
    lcb_buf_reset(&b);
    lcb_endpoint_env_name(&b, "sns");
    CHECK_STR(lcb_buf_str(&b), "AWS_ENDPOINT_URL_SNS");
    lcb_buf_release(&b);
}

int
main(void)
{
    RUN(test_wanted_and_subject);
    RUN(test_body_and_next_steps);
    RUN(test_sns_rules);
    RUN(test_alarms_from_policy);
    RUN(test_rpo_target_wins);
    RUN(test_alarm_outputs);
    RUN(test_emf);
    RUN(test_db_url);
    RUN(test_value_registration);
    RUN(test_endpoint_names);
    return harness_done();
}
