/* alarms.c - CloudWatch alarm definitions for the metrics lcbackup emits; see notify.h. */
#include "notify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "../ext/json.h"
#include "../policy/policy.h"

#define HOUR 3600
#define DAY 86400

long long
lcb_alarm_rpo(const struct lcb_policy *p, size_t target, time_t now)
{
    int64_t period;

    if (p->drill.rpo_target > 0)
        return (long long)p->drill.rpo_target;
    period = lcb_schedule_period(&p->targets[target].schedule, p->timezone, now);
    return period > 0 ? 2 * (long long)period : 0;
}

void
lcb_alarms_prefix(struct lcb_buf *out, const char *env)
{
    lcb_buf_addf(out, "lcbackup-%s-", env && *env ? env : "default");
}

static struct lcb_cw_alarm *
add(struct lcb_cw_alarm_list *l, const struct lcb_policy *p, const char *env, const char *suffix)
{
    struct lcb_cw_alarm *a;
    struct lcb_buf name = LCB_BUF_INIT;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = lcb_xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    a = &l->items[l->n++];
    lcb_cw_alarm_init(a);
    lcb_alarms_prefix(&name, env);
    lcb_buf_adds(&name, suffix);
    a->name = lcb_buf_detach(&name, NULL);
    a->namespace_ = lcb_xstrdup(LCB_ALARM_NAMESPACE);
    a->evaluation_periods = 1;
    if (p->notify_topic) {
        lcb_strlist_add(&a->alarm_actions, p->notify_topic);
        lcb_strlist_add(&a->ok_actions, p->notify_topic);
    }
    return a;
}

static void
target_dims(struct lcb_cw_alarm *a, const char *env, const struct lcb_target *t)
{
    lcb_cw_alarm_dim(a, "Env", env);
    lcb_cw_alarm_dim(a, "Component", lcb_kind_name(t->kind));
    lcb_cw_alarm_dim(a, "Target", t->name);
}

static void
target_alarms(struct lcb_cw_alarm_list *l, const struct lcb_policy *p, const char *env,
              size_t i, time_t now)
{
    const struct lcb_target *t = &p->targets[i];
    const char *kind = lcb_kind_name(t->kind);
    long long rpo = lcb_alarm_rpo(p, i, now);
    struct lcb_cw_alarm *a;
    char suffix[256], d[32];

    if (rpo > 0) {
        snprintf(suffix, sizeof(suffix), "%s-%s-backup-age", kind, t->name);
        a = add(l, p, env, suffix);
        a->description = lcb_xasprintf("The newest completed backup of %s target %s in %s is "
                                       "older than its RPO (%s).", kind, t->name, env,
                                       lcb_duration_fmt(rpo, d, sizeof(d)));
        a->metric = lcb_xstrdup("BackupAgeSeconds");
        a->statistic = lcb_xstrdup("Maximum");
        target_dims(a, env, t);
        a->period = HOUR;
        a->threshold = (double)rpo;
        a->comparison = lcb_xstrdup("GreaterThanThreshold");
        a->treat_missing = lcb_xstrdup("breaching"); /* nothing reported is not "fresh" */
        a->unit = lcb_xstrdup("Seconds");
    }
    snprintf(suffix, sizeof(suffix), "%s-%s-drill-failed", kind, t->name);
    a = add(l, p, env, suffix);
    a->description = lcb_xasprintf("The last restore drill of %s target %s in %s did not pass.",
                                   kind, t->name, env);
    a->metric = lcb_xstrdup("DrillPassed");
    a->statistic = lcb_xstrdup("Minimum");
    target_dims(a, env, t);
    a->period = DAY;
    a->threshold = 1;
    a->comparison = lcb_xstrdup("LessThanThreshold");
    a->treat_missing = lcb_xstrdup("notBreaching"); /* drills are weekly: no data most days */
    a->unit = lcb_xstrdup("Count");
}

void
lcb_alarms_build(struct lcb_cw_alarm_list *out, const struct lcb_policy *p, const char *env,
                 time_t now)
{
    struct lcb_cw_alarm *a;
    size_t i;

    for (i = 0; i < p->ntargets; i++)
        target_alarms(out, p, env, i, now);
    a = add(out, p, env, "run-failed");
    a->description = lcb_xasprintf("An lcbackup run in %s failed, was partial or was "
                                   "interrupted.", env);
    a->metric = lcb_xstrdup("RunFailed");
    a->statistic = lcb_xstrdup("Sum");
    lcb_cw_alarm_dim(a, "Env", env);
    a->period = 300;
    a->threshold = 1;
    a->comparison = lcb_xstrdup("GreaterThanOrEqualToThreshold");
    a->treat_missing = lcb_xstrdup("notBreaching");
    a->unit = lcb_xstrdup("Count");
}

static struct lcb_json *
strs(const struct lcb_strlist *l)
{
    struct lcb_json *arr = lcb_json_new_array();
    size_t i;

    for (i = 0; i < l->n; i++)
        lcb_json_push(arr, lcb_json_new_str(l->items[i]));
    return arr;
}

/* The alarm's properties: PutMetricAlarm's input and AWS::CloudWatch::Alarm's Properties use the
 * same member names. */
static struct lcb_json *
alarm_json(const struct lcb_cw_alarm *a)
{
    struct lcb_json *o = lcb_json_new_object(), *dims, *d;
    size_t i;

    lcb_json_add_str(o, "AlarmName", a->name);
    if (a->description)
        lcb_json_add_str(o, "AlarmDescription", a->description);
    lcb_json_add_str(o, "Namespace", a->namespace_);
    lcb_json_add_str(o, "MetricName", a->metric);
    lcb_json_add_str(o, "Statistic", a->statistic);
    dims = lcb_json_add(o, "Dimensions", lcb_json_new_array());
    for (i = 0; i < a->ndims; i++) {
        d = lcb_json_push(dims, lcb_json_new_object());
        lcb_json_add_str(d, "Name", a->dims[i].name);
        lcb_json_add_str(d, "Value", a->dims[i].value);
    }
    lcb_json_add_num(o, "Period", a->period);
    lcb_json_add_num(o, "EvaluationPeriods", a->evaluation_periods);
    lcb_json_add_num(o, "Threshold", a->threshold);
    lcb_json_add_str(o, "ComparisonOperator", a->comparison);
    lcb_json_add_str(o, "TreatMissingData", a->treat_missing);
    if (a->unit)
        lcb_json_add_str(o, "Unit", a->unit);
    lcb_json_add_bool(o, "ActionsEnabled", a->actions_enabled);
    lcb_json_add(o, "AlarmActions", strs(&a->alarm_actions));
    lcb_json_add(o, "OKActions", strs(&a->ok_actions));
    return o;
}

void
lcb_alarms_json(struct lcb_buf *out, const struct lcb_cw_alarm_list *l)
{
    struct lcb_json *arr = lcb_json_new_array();
    size_t i;

    for (i = 0; i < l->n; i++)
        lcb_json_push(arr, alarm_json(&l->items[i]));
    lcb_json_print(out, arr, 1);
    lcb_buf_addch(out, '\n');
    lcb_json_free(arr);
}

/* "lcbackup-dev-rds-legocity-payload-db-backup-age" -> "LcbackupDevRdsLegocityPayloadDbBackupAge"
 * (CloudFormation logical ids are alphanumeric). */
static void
logical_id(struct lcb_buf *out, const char *name)
{
    int up = 1;

    for (; *name; name++) {
        if (!isalnum((unsigned char)*name)) {
            up = 1;
            continue;
        }
        lcb_buf_addch(out, up ? (char)toupper((unsigned char)*name) : *name);
        up = 0;
    }
}

void
lcb_alarms_cloudformation(struct lcb_buf *out, const struct lcb_cw_alarm_list *l,
                          const char *env)
{
    struct lcb_json *root = lcb_json_new_object(), *res, *r;
    struct lcb_buf id = LCB_BUF_INIT;
    char *desc;
    size_t i;

    lcb_json_add_str(root, "AWSTemplateFormatVersion", "2010-09-09");
    desc = lcb_xasprintf("lcbackup alarms for %s (generated by `lcbackup alarms --format "
                         "cloudformation`)", env);
    lcb_json_add_str(root, "Description", desc);
    free(desc);
    res = lcb_json_add(root, "Resources", lcb_json_new_object());
    for (i = 0; i < l->n; i++) {
        lcb_buf_reset(&id);
        logical_id(&id, l->items[i].name);
        r = lcb_json_add(res, lcb_buf_str(&id), lcb_json_new_object());
        lcb_json_add_str(r, "Type", "AWS::CloudWatch::Alarm");
        lcb_json_add(r, "Properties", alarm_json(&l->items[i]));
    }
    lcb_json_print(out, root, 1);
    lcb_buf_addch(out, '\n');
    lcb_json_free(root);
    lcb_buf_release(&id);
}
