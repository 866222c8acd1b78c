/*
 * alarms.c - `lcbackup alarms`: the CloudWatch alarms on the metrics lcbackup emits (backup age
 * over the RPO per target, drill failed, run failed), printed for IaC or applied with
 * PutMetricAlarm and described back (lib/notify/notify.h).
 */
#include <stdio.h>
#include <string.h>

#include "../lib/aws/aws.h"
#include "../lib/aws/cloudwatch.h"
#include "../lib/core/buf.h"
#include "../lib/core/clock.h"
#include "../lib/notify/notify.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_alarms_usage[] =
    "usage: lcbackup alarms [--format json|cloudformation] [--apply [--dry-run]]\n"
    "\n"
    "Print the CloudWatch alarms on the metrics lcbackup emits: per policy target, the newest\n"
    "backup older than its RPO and a failed drill; per environment, a failed run. Their actions\n"
    "are the policy's notify.sns_topic. --format json (default) prints PutMetricAlarm inputs,\n"
    "cloudformation a template of AWS::CloudWatch::Alarm resources. --apply creates or updates\n"
    "them with PutMetricAlarm and reads them back with DescribeAlarms; --dry-run prints the\n"
    "calls instead.\n"
    "\n"
    "  --format F    json or cloudformation\n"
    "  --apply       put the alarms in the policy's region\n"
    "  -n, --dry-run with --apply: print the API calls, change nothing\n";

/* Print the PutMetricAlarm calls, one per line, as --dry-run shows them. */
static void
print_calls(FILE *out, const struct lcb_cw_alarm_list *l, const char *prefix)
{
    struct lcb_query q;
    size_t i, k;

    for (i = 0; i < l->n; i++) {
        lcb_query_init(&q, &lcb_query_cloudwatch, "PutMetricAlarm");
        lcb_cw_alarm_query(&q, &l->items[i]);
        fputs("cloudwatch PutMetricAlarm", out);
        for (k = 0; k < q.n; k++)
            fprintf(out, " %s=%s", q.names[k], q.values[k]);
        fputc('\n', out);
        lcb_query_release(&q);
    }
    fprintf(out, "cloudwatch DescribeAlarms AlarmNamePrefix=%s AlarmTypes.member.1=MetricAlarm "
            "MaxRecords=100\n", prefix);
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

/* Put every alarm, then read them back: each must be there with our threshold. */
static int
apply(struct lcb_ctx *ctx, const struct lcb_cw_alarm_list *want)
{
    struct lcb_cw_alarm_list got;
    struct lcb_buf prefix = LCB_BUF_INIT;
    const struct lcb_cw_alarm *g;
    size_t i, ok = 0;
    int rc = -1;

    lcb_cw_alarm_list_init(&got);
    for (i = 0; i < want->n; i++) {
        if (lcb_cw_put_alarm(ctx->aws, &want->items[i], &ctx->err) < 0)
            goto out;
        lcb_log(LCB_INFO, "alarms.put", "alarm %s put", want->items[i].name);
    }
    lcb_alarms_prefix(&prefix, ctx->env);
    if (lcb_cw_describe_alarms(&got, ctx->aws, lcb_buf_str(&prefix), &ctx->err) < 0)
        goto out;
    for (i = 0; i < want->n; i++) {
        g = find(&got, want->items[i].name);
        if (g && g->threshold == want->items[i].threshold && g->period == want->items[i].period)
            ok++;
        else
            lcb_log(LCB_ERROR, "alarms.missing", "alarm %s is not as it was put",
                    want->items[i].name);
    }
    if (ctx->json)
        fprintf(ctx->out, "{\"applied\":%zu,\"described\":%zu,\"region\":\"%s\"}\n", ok, got.n,
                lcb_aws_region(ctx->aws) ? lcb_aws_region(ctx->aws) : "");
    else
        fprintf(ctx->out, "%zu alarm(s) put in %s and described back (%zu under %s)\n", ok,
                lcb_aws_region(ctx->aws) ? lcb_aws_region(ctx->aws) : "?", got.n,
                lcb_buf_str(&prefix));
    if (ok != want->n) {
        lcb_err_set(&ctx->err, LCB_EPARTIAL, "%zu of %zu alarms did not read back as put",
                    want->n - ok, want->n);
        goto out;
    }
    rc = 0;
out:
    lcb_cw_alarm_list_release(&got);
    lcb_buf_release(&prefix);
    return rc;
}

int
cmd_alarms(struct lcb_ctx *ctx, int argc, char **argv)
{
    const char *format = "json";
    int do_apply = 0, dry_run = 0, rc = -1;
    const struct lcb_opt opts[] = {
        { "format", 0, LCB_OPT_STR, &format },
        { "apply", 0, LCB_OPT_FLAG, &do_apply },
        { "dry-run", 'n', LCB_OPT_FLAG, &dry_run },
        { NULL, 0, 0, NULL },
    };
    struct lcb_cw_alarm_list l;
    struct lcb_buf out = LCB_BUF_INIT;

    lcb_cw_alarm_list_init(&l);
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0)
        goto out;
    if (strcmp(format, "json") != 0 && strcmp(format, "cloudformation") != 0) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "--format: '%s' is not json or cloudformation",
                    format);
        goto out;
    }
    if (dry_run && !do_apply) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "--dry-run goes with --apply");
        goto out;
    }
    lcb_alarms_build(&l, ctx->policy, ctx->env, lcb_now());
    if (!ctx->policy->notify_topic)
        lcb_log(LCB_WARN, "alarms.no_topic", "the policy has no notify.sns_topic: the alarms "
                "will have no actions");
    if (dry_run) {
        lcb_alarms_prefix(&out, ctx->env);
        print_calls(ctx->out, &l, lcb_buf_str(&out));
        rc = 0;
    } else if (do_apply) {
        rc = apply(ctx, &l);
    } else {
        if (strcmp(format, "json") == 0)
            lcb_alarms_json(&out, &l);
        else
            lcb_alarms_cloudformation(&out, &l, ctx->env);
        fputs(lcb_buf_str(&out), ctx->out);
        rc = 0;
    }
out:
    lcb_cw_alarm_list_release(&l);
    lcb_buf_release(&out);
    return rc;
}
