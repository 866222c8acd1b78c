/*
 * cloudwatch.h - Amazon CloudWatch metric alarms and metric data over the Query protocol
 * (Version 2010-08-01; the SigV4 service and endpoint prefix is "monitoring").
 *
 * An alarm is described by struct lcb_cw_alarm (the members lcbackup uses: one metric with a
 * static threshold); PutMetricAlarm creates or replaces it, DescribeAlarms reads alarms back into
 * the same struct. Lists go on the wire as "X.member.N" (AlarmActions.member.1,
 * Dimensions.member.1.Name).
 *
 * Errors: LCB_ENOTFOUND (ResourceNotFound: DeleteAlarms of an unknown name deletes nothing),
 * LCB_EREFUSED (ValidationError, InvalidParameterValue, InvalidParameterCombination,
 * LimitExceeded: err->aws_code says which), LCB_EAUTH, LCB_ETEMP.
 *
 * Ownership: struct lcb_cw_alarm and struct lcb_cw_alarm_list are caller-owned
 * (_init/_release) and own their strings.
 */
#ifndef LCB_AWS_CLOUDWATCH_H
#define LCB_AWS_CLOUDWATCH_H

#include <stddef.h>

#include "../core/err.h"
#include "../core/opt.h"
#include "aws.h"
#include "query.h"

extern const struct lcb_query_svc lcb_query_cloudwatch; /* monitoring 2010-08-01 */

#define LCB_CW_MAX_DIMS 10

struct lcb_cw_dim {
    char *name;
    char *value;
};

struct lcb_cw_alarm {
    char *name;
    char *description;
    char *namespace_;          /* "lcbackup" */
    char *metric;              /* "BackupAgeSeconds" */
    char *statistic;           /* Maximum | Minimum | Sum | Average | SampleCount */
    struct lcb_cw_dim dims[LCB_CW_MAX_DIMS];
    size_t ndims;
    int period;                /* seconds: 10, 30 or a multiple of 60 */
    int evaluation_periods;
    int datapoints_to_alarm;   /* 0: not sent (= evaluation_periods) */
    double threshold;
    char *comparison;          /* GreaterThanThreshold, LessThanThreshold, ... */
    char *treat_missing;       /* breaching | notBreaching | ignore | missing */
    char *unit;                /* NULL: none */
    int actions_enabled;
    struct lcb_strlist alarm_actions;
    struct lcb_strlist ok_actions;
    /* read back by DescribeAlarms only */
    char *arn;
    char *state;               /* OK | ALARM | INSUFFICIENT_DATA */
};

void lcb_cw_alarm_init(struct lcb_cw_alarm *a);
void lcb_cw_alarm_release(struct lcb_cw_alarm *a);
/* Add a dimension (ignored past LCB_CW_MAX_DIMS). */
void lcb_cw_alarm_dim(struct lcb_cw_alarm *a, const char *name, const char *value);

struct lcb_cw_alarm_list {
    struct lcb_cw_alarm *items;
    size_t n, cap;
};

void lcb_cw_alarm_list_init(struct lcb_cw_alarm_list *l);
void lcb_cw_alarm_list_release(struct lcb_cw_alarm_list *l);

/* The PutMetricAlarm parameters of a (exposed for tests and --dry-run). */
void lcb_cw_alarm_query(struct lcb_query *q, const struct lcb_cw_alarm *a);
/* PutMetricAlarm: create or replace the alarm a->name. */
int lcb_cw_put_alarm(struct lcb_aws *aws, const struct lcb_cw_alarm *a, struct lcb_err *err);
/* DescribeAlarms of metric alarms whose names start with prefix (NULL: all), all pages,
 * appended to out. */
int lcb_cw_describe_alarms(struct lcb_cw_alarm_list *out, struct lcb_aws *aws, const char *prefix,
                           struct lcb_err *err);
/* DeleteAlarms of n names (at most 100 a call; more are sent in batches). */
int lcb_cw_delete_alarms(struct lcb_aws *aws, const char *const *names, size_t n,
                         struct lcb_err *err);

struct lcb_cw_datum {
    const char *metric;
    double value;
    const char *unit; /* NULL: none */
    const struct lcb_cw_dim *dims;
    size_t ndims;
};

/* PutMetricData of n data points (at most 1000) in namespace. */
int lcb_cw_put_metric_data(struct lcb_aws *aws, const char *namespace_,
                           const struct lcb_cw_datum *d, size_t n, struct lcb_err *err);

#endif
