/*
 * notify.h - failures reach people: one SNS message per failed, partial or interrupted run (a
 * failed drill is a run that ended with exit 3), and the CloudWatch alarms on the metrics
 * lcbackup emits (docs/alerts.md).
 *
 * A notice says what failed, where, the exit code and its meaning, and the next step; its text
 * is built from an error line that the caller has already redacted, and is redacted once more
 * before it leaves, so a registered secret can never reach the topic. Success is announced only
 * when the policy asks (notify.on_success).
 *
 * Alarms (pure; applied with lib/aws/cloudwatch.h): per policy target "lcbackup-<env>-<kind>-
 * <target>-backup-age" (BackupAgeSeconds, Maximum over an hour, above the target's RPO: the
 * policy's drill.rpo_target, else twice the schedule's period; missing data breaches) and
 * "...-drill-failed" (DrillPassed, Minimum below 1 over a day; missing data does not breach), and
 * per environment "lcbackup-<env>-run-failed" (RunFailed, Sum >= 1 over 5 minutes), all in
 * namespace "lcbackup" with the dimensions the metrics carry (Env, Component, Target; RunFailed:
 * Env), their actions the policy's SNS topic.
 *
 * Ownership: struct lcb_notice borrows everything; lists are caller-owned.
 */
#ifndef LCB_NOTIFY_NOTIFY_H
#define LCB_NOTIFY_NOTIFY_H

#include <stddef.h>
#include <time.h>

#include "../aws/cloudwatch.h"
#include "../core/buf.h"
#include "../core/err.h"

struct lcb_aws;
struct lcb_policy;

struct lcb_notice {
    const char *env;
    const char *command;  /* "backup rds", "drill", "run" */
    const char *run_id;   /* may be "" */
    const char *status;   /* succeeded | failed | partial | interrupted */
    int exit_code;
    const char *error;    /* the redacted error line; NULL on success */
    const char *policy;   /* the policy file, may be NULL */
    const char *host;     /* may be NULL */
    time_t at;
};

/* Pure. Should this outcome be published? Failures, partial and interrupted runs always;
 * success only with on_success; never a usage error (exit 64: nothing ran). */
int lcb_notice_wanted(const struct lcb_notice *n, int on_success);
/* Pure. The next step for an exit code (and command: drills get their own), one sentence. */
const char *lcb_notice_next_step(const char *command, int exit_code);
/* Pure. "lcbackup dev: backup rds failed (exit 75)" (appended; SNS's subject rules are applied
 * when publishing). */
void lcb_notice_subject(struct lcb_buf *out, const struct lcb_notice *n);
/* Pure. The message body: what failed, where and when, the exit code and its meaning, the run,
 * the next step (appended). */
void lcb_notice_body(struct lcb_buf *out, const struct lcb_notice *n);

/* Publish n to topic_arn (message attributes: env, command, status, exit_code). message_id (may
 * be NULL) receives SNS's id. Errors: those of lcb_sns_publish. */
int lcb_notice_publish(struct lcb_buf *message_id, struct lcb_aws *aws, const char *topic_arn,
                       const struct lcb_notice *n, struct lcb_err *err);

/* Pure. The CloudWatch embedded-metric-format object for a run's outcome (namespace "lcbackup",
 * dimensions [["Env"]], RunFailed in Count: 1 unless status is succeeded), to log as the "_aws"
 * field of a JSON log line whose top level also carries Env and RunFailed (appended). */
void lcb_notice_emf(struct lcb_buf *out, time_t at);

/* ---- alarms ---- */

#define LCB_ALARM_NAMESPACE "lcbackup"

/* Pure. The RPO an alarm uses for a target: the policy's drill.rpo_target, else twice the
 * schedule's period (seconds; 0 when the schedule never fires). */
long long lcb_alarm_rpo(const struct lcb_policy *p, size_t target, time_t now);
/* Pure. The alarm definitions for policy p in env (its targets, then the run alarm), appended to
 * out. Their actions are the policy's notify topic, when it has one. */
void lcb_alarms_build(struct lcb_cw_alarm_list *out, const struct lcb_policy *p, const char *env,
                      time_t now);
/* Pure. The definitions as a JSON array of PutMetricAlarm inputs (pretty; appended). */
void lcb_alarms_json(struct lcb_buf *out, const struct lcb_cw_alarm_list *l);
/* Pure. The definitions as a CloudFormation template (JSON) of AWS::CloudWatch::Alarm resources
 * (appended). */
void lcb_alarms_cloudformation(struct lcb_buf *out, const struct lcb_cw_alarm_list *l,
                               const char *env);
/* Pure. The common name prefix of env's alarms: "lcbackup-<env>-" (appended). */
void lcb_alarms_prefix(struct lcb_buf *out, const char *env);

#endif
