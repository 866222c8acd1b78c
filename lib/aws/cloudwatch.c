/* cloudwatch.c - CloudWatch alarms and metric data; see cloudwatch.h. */
#include "cloudwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"

const struct lcb_query_svc lcb_query_cloudwatch = { "monitoring", "2010-08-01", 0 };

static char *
dup_or_null(const char *s)
{
    return s ? lcb_xstrdup(s) : NULL;
}

void
lcb_cw_alarm_init(struct lcb_cw_alarm *a)
{
    memset(a, 0, sizeof(*a));
    a->actions_enabled = 1;
}

void
lcb_cw_alarm_release(struct lcb_cw_alarm *a)
{
    size_t i;

    free(a->name);
    free(a->description);
    free(a->namespace_);
    free(a->metric);
    free(a->statistic);
    for (i = 0; i < a->ndims; i++) {
        free(a->dims[i].name);
        free(a->dims[i].value);
    }
    free(a->comparison);
    free(a->treat_missing);
    free(a->unit);
    lcb_strlist_release(&a->alarm_actions);
    lcb_strlist_release(&a->ok_actions);
    free(a->arn);
    free(a->state);
    lcb_cw_alarm_init(a);
}

void
lcb_cw_alarm_dim(struct lcb_cw_alarm *a, const char *name, const char *value)
{
    if (a->ndims >= LCB_CW_MAX_DIMS)
        return;
    a->dims[a->ndims].name = lcb_xstrdup(name);
    a->dims[a->ndims].value = lcb_xstrdup(value ? value : "");
    a->ndims++;
}

void
lcb_cw_alarm_list_init(struct lcb_cw_alarm_list *l)
{
    memset(l, 0, sizeof(*l));
}

void
lcb_cw_alarm_list_release(struct lcb_cw_alarm_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        lcb_cw_alarm_release(&l->items[i]);
    free(l->items);
    lcb_cw_alarm_list_init(l);
}

static void
add_dims(struct lcb_query *q, const char *prefix, const struct lcb_cw_dim *d, size_t n)
{
    char name[96];
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s.member.%zu.Name", prefix, i + 1);
        lcb_query_add(q, name, d[i].name);
        snprintf(name, sizeof(name), "%s.member.%zu.Value", prefix, i + 1);
        lcb_query_add(q, name, d[i].value);
    }
}

/* A number as CloudWatch reads it (no exponent for ordinary thresholds). */
static void
add_double(struct lcb_query *q, const char *name, double v)
{
    lcb_query_addf(q, name, "%.17g", v);
}

void
lcb_cw_alarm_query(struct lcb_query *q, const struct lcb_cw_alarm *a)
{
    lcb_query_add(q, "AlarmName", a->name);
    lcb_query_add(q, "AlarmDescription", a->description);
    lcb_query_add_bool(q, "ActionsEnabled", a->actions_enabled);
    lcb_query_add_list(q, "OKActions", "member", (const char *const *)a->ok_actions.items,
                       a->ok_actions.n);
    lcb_query_add_list(q, "AlarmActions", "member", (const char *const *)a->alarm_actions.items,
                       a->alarm_actions.n);
    lcb_query_add(q, "MetricName", a->metric);
    lcb_query_add(q, "Namespace", a->namespace_);
    lcb_query_add(q, "Statistic", a->statistic);
    add_dims(q, "Dimensions", a->dims, a->ndims);
    lcb_query_add_int(q, "Period", a->period);
    lcb_query_add(q, "Unit", a->unit);
    lcb_query_add_int(q, "EvaluationPeriods", a->evaluation_periods);
    if (a->datapoints_to_alarm > 0)
        lcb_query_add_int(q, "DatapointsToAlarm", a->datapoints_to_alarm);
    add_double(q, "Threshold", a->threshold);
    lcb_query_add(q, "ComparisonOperator", a->comparison);
    lcb_query_add(q, "TreatMissingData", a->treat_missing);
}

int
lcb_cw_put_alarm(struct lcb_aws *aws, const struct lcb_cw_alarm *a, struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    int rc;

    lcb_query_init(&q, &lcb_query_cloudwatch, "PutMetricAlarm");
    lcb_cw_alarm_query(&q, a);
    lcb_query_resp_init(&r);
    rc = lcb_query_call(&r, aws, &q, err);
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    return rc < 0 ? lcb_wrap(err, "put alarm %s", a->name) : 0;
}

static void
read_list(struct lcb_strlist *out, const struct lcb_xml_node *n, const char *path)
{
    const struct lcb_xml_node *m;

    for (m = lcb_xml_path(n, path); m; m = lcb_xml_next(m, "member"))
        lcb_strlist_add(out, lcb_xml_text(m));
}

static void
read_alarm(struct lcb_cw_alarm *a, const struct lcb_xml_node *m)
{
    const struct lcb_xml_node *d;
    const char *t;

    lcb_cw_alarm_init(a);
    a->name = dup_or_null(lcb_xml_get(m, "AlarmName"));
    a->arn = dup_or_null(lcb_xml_get(m, "AlarmArn"));
    a->description = dup_or_null(lcb_xml_get(m, "AlarmDescription"));
    a->namespace_ = dup_or_null(lcb_xml_get(m, "Namespace"));
    a->metric = dup_or_null(lcb_xml_get(m, "MetricName"));
    a->statistic = dup_or_null(lcb_xml_get(m, "Statistic"));
    for (d = lcb_xml_path(m, "Dimensions/member"); d; d = lcb_xml_next(d, "member"))
        lcb_cw_alarm_dim(a, lcb_xml_get(d, "Name") ? lcb_xml_get(d, "Name") : "",
                         lcb_xml_get(d, "Value"));
    a->period = (int)lcb_xml_get_ll(m, "Period", 0);
    a->evaluation_periods = (int)lcb_xml_get_ll(m, "EvaluationPeriods", 0);
    a->datapoints_to_alarm = (int)lcb_xml_get_ll(m, "DatapointsToAlarm", 0);
    t = lcb_xml_get(m, "Threshold");
    a->threshold = t ? strtod(t, NULL) : 0;
    a->comparison = dup_or_null(lcb_xml_get(m, "ComparisonOperator"));
    a->treat_missing = dup_or_null(lcb_xml_get(m, "TreatMissingData"));
    a->unit = dup_or_null(lcb_xml_get(m, "Unit"));
    a->actions_enabled = lcb_xml_get_bool(m, "ActionsEnabled", 1);
    read_list(&a->alarm_actions, m, "AlarmActions/member");
    read_list(&a->ok_actions, m, "OKActions/member");
    a->state = dup_or_null(lcb_xml_get(m, "StateValue"));
}

int
lcb_cw_describe_alarms(struct lcb_cw_alarm_list *out, struct lcb_aws *aws, const char *prefix,
                       struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    struct lcb_pager pg;
    struct lcb_xml_node *m;
    int rc;

    lcb_query_init(&q, &lcb_query_cloudwatch, "DescribeAlarms");
    lcb_query_add(&q, "AlarmNamePrefix", prefix);
    lcb_query_add(&q, "AlarmTypes.member.1", "MetricAlarm");
    lcb_query_add_int(&q, "MaxRecords", 100);
    lcb_query_resp_init(&r);
    lcb_pager_init(&pg, LCB_QUERY_NEXT_TOKEN);
    while ((rc = lcb_query_page(&r, aws, &q, &pg, err)) > 0) {
        for (m = lcb_xml_path(r.result, "MetricAlarms/member"); m; m = lcb_xml_next(m, "member")) {
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 16;
                out->items = lcb_xrealloc(out->items, out->cap * sizeof(*out->items));
            }
            read_alarm(&out->items[out->n++], m);
        }
    }
    lcb_query_resp_release(&r);
    lcb_pager_release(&pg);
    lcb_query_release(&q);
    return rc < 0 ? lcb_wrap(err, "describe alarms%s%s", prefix ? " starting with " : "",
                             prefix ? prefix : "") : 0;
}

int
lcb_cw_delete_alarms(struct lcb_aws *aws, const char *const *names, size_t n, struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    size_t at, k;
    int rc = 0;

    for (at = 0; at < n && rc == 0; at += k) {
        k = n - at > 100 ? 100 : n - at;
        lcb_query_init(&q, &lcb_query_cloudwatch, "DeleteAlarms");
        lcb_query_add_list(&q, "AlarmNames", "member", names + at, k);
        lcb_query_resp_init(&r);
        rc = lcb_query_call(&r, aws, &q, err);
        lcb_query_resp_release(&r);
        lcb_query_release(&q);
    }
    return rc < 0 ? lcb_wrap(err, "delete %zu alarm(s)", n) : 0;
}

int
lcb_cw_put_metric_data(struct lcb_aws *aws, const char *namespace_, const struct lcb_cw_datum *d,
                       size_t n, struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    char name[96];
    size_t i;
    int rc;

    if (n == 0 || n > 1000)
        return lcb_err_set(err, LCB_EUSAGE, "PutMetricData takes 1 to 1000 data points, not %zu",
                           n);
    lcb_query_init(&q, &lcb_query_cloudwatch, "PutMetricData");
    lcb_query_add(&q, "Namespace", namespace_);
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "MetricData.member.%zu.MetricName", i + 1);
        lcb_query_add(&q, name, d[i].metric);
        snprintf(name, sizeof(name), "MetricData.member.%zu.Dimensions", i + 1);
        add_dims(&q, name, d[i].dims, d[i].ndims);
        snprintf(name, sizeof(name), "MetricData.member.%zu.Value", i + 1);
        add_double(&q, name, d[i].value);
        snprintf(name, sizeof(name), "MetricData.member.%zu.Unit", i + 1);
        lcb_query_add(&q, name, d[i].unit);
    }
    lcb_query_resp_init(&r);
    rc = lcb_query_call(&r, aws, &q, err);
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    return rc < 0 ? lcb_wrap(err, "put %zu metric data point(s) in %s", n, namespace_) : 0;
}
