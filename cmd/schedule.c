/*
 * schedule.c - `lcbackup schedule`: what wakes `lcbackup run` on the policy's schedule, as a cron.d
 * file, systemd timer and service units, or an EventBridge Scheduler schedule that starts an ECS
 * task in the platform's cluster (docs/operations.md).
 *
 * The timer does not encode each target's schedule: it wakes `run` at every minute of the hour at
 * which some target may fire, and `run` decides from the catalog what is due. So one timer serves
 * any number of targets, a missed or doubled wake-up is harmless, and daylight saving time is the
 * schedule library's business, not the timer's.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/core/buf.h"
#include "../lib/core/clock.h"
#include "../lib/core/log.h"
#include "../lib/core/mem.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_schedule_usage[] =
    "usage: lcbackup schedule --format crontab|systemd|eventbridge [--binary PATH]\n"
    "                         [--policy-path PATH] [--user USER] [--account ID] [--cluster NAME]\n"
    "                         [--task-definition FAMILY] [--container NAME] [--role NAME]\n"
    "                         [--subnets ID,...] [--security-groups ID,...]\n"
    "\n"
    "Print what runs `lcbackup run` on the policy's schedule: a cron.d file, systemd service and\n"
    "timer units, or an EventBridge Scheduler schedule (aws scheduler create-schedule\n"
    "--cli-input-json) that starts an ECS task in the platform's cluster. The timer wakes run at\n"
    "every minute of the hour at which some target may fire; run decides what is due.\n"
    "\n"
    "  --format F              crontab, systemd or eventbridge\n"
    "  --binary PATH           lcbackup's path on the runner (default /usr/local/bin/lcbackup)\n"
    "  --policy-path PATH      the policy's path on the runner (default: --policy, made absolute)\n"
    "  --user USER             crontab and systemd: the user that runs it (default root)\n"
    "  --account ID            eventbridge: the AWS account id (required)\n"
    "  --cluster NAME          eventbridge: the ECS cluster (default legocity-cluster)\n"
    "  --task-definition F     eventbridge: the task definition family (default lcbackup)\n"
    "  --container NAME        eventbridge: the container to override (default lcbackup)\n"
    "  --role NAME             eventbridge: the role the scheduler assumes (default\n"
    "                          lcbackup-scheduler)\n"
    "  --subnets ID,...        eventbridge: subnets of the task (required, awsvpc mode)\n"
    "  --security-groups ID,.. eventbridge: security groups of the task\n";

struct opts {
    const char *format, *binary, *policy_path, *user, *account, *cluster, *taskdef, *container,
        *role;
    struct lcb_strlist subnets, sgs;
};

/* The minutes of the hour at which some target may fire ("0,15" or "*"); shift moves them (a
 * host zone whose offset differs from the policy's by a part of an hour). */
static void
minutes(const struct lcb_policy *p, int shift, struct lcb_buf *out)
{
    uint64_t m = 0;
    size_t i;
    int k, n = 0;

    for (i = 0; i < p->ntargets; i++)
        m |= p->targets[i].schedule.minutes;
    for (k = 0; k < 60; k++)
        n += (m >> k) & 1;
    if (n == 60) {
        lcb_buf_adds(out, "*");
        return;
    }
    for (k = 0, n = 0; k < 60; k++)
        if ((m >> ((k + shift) % 60)) & 1)
            lcb_buf_addf(out, "%s%d", n++ ? "," : "", k);
}

/* (UTC offset of the policy's zone - the host's) in minutes, modulo an hour, at now. */
static int
host_shift(const char *tz)
{
    time_t now = lcb_now();
    struct tm pol, host;

    lcb_tz_localtime(tz, now, &pol);
    localtime_r(&now, &host);
    return (int)((((pol.tm_gmtoff - host.tm_gmtoff) / 60) % 60 + 60) % 60);
}

static void
targets_comment(const struct lcb_policy *p, const char *lead, FILE *out)
{
    size_t i;

    for (i = 0; i < p->ntargets; i++)
        fprintf(out, "%s  %s %s: \"%s\"\n", lead, lcb_kind_name(p->targets[i].kind),
                p->targets[i].name, p->targets[i].schedule.expr);
}

/* The global options every wake-up passes. */
static void
run_args(struct lcb_ctx *ctx, const char *policy, struct lcb_buf *out)
{
    lcb_buf_addf(out, "--policy %s", policy);
    if (ctx->env && ctx->policy->env && strcmp(ctx->env, ctx->policy->env) != 0)
        lcb_buf_addf(out, " --env %s", ctx->env);
    lcb_buf_adds(out, " --log-format json");
}

static void
crontab(struct lcb_ctx *ctx, const struct opts *o, const char *policy)
{
    const struct lcb_policy *p = ctx->policy;
    struct lcb_buf m = LCB_BUF_INIT, args = LCB_BUF_INIT;
    int shift = host_shift(p->timezone);

    minutes(p, shift, &m);
    run_args(ctx, policy, &args);
    fprintf(ctx->out, "# /etc/cron.d/lcbackup-%s: wake `lcbackup run` at every minute a target of\n"
            "# %s may fire (time zone %s):\n", p->env, policy, p->timezone);
    targets_comment(p, "#", ctx->out);
    fprintf(ctx->out,
            "# run decides from the catalog what is due; a wake-up missed while the host\n"
            "# was down is caught up by the next one. Exit 73: the previous run holds the lock.\n");
    if (shift)
        fprintf(ctx->out, "# minutes shifted by %d: this host's zone differs from %s by a part of "
                "an hour\n", shift, p->timezone);
    fprintf(ctx->out, "SHELL=/bin/sh\nPATH=/usr/local/bin:/usr/bin:/bin\n");
    fprintf(ctx->out,
            "%s * * * * %s %s %s --lock-timeout 30s run >>/var/log/lcbackup-%s.log 2>&1\n",
            lcb_buf_str(&m), o->user, o->binary, lcb_buf_str(&args), p->env);
    lcb_buf_release(&m);
    lcb_buf_release(&args);
}

static void
systemd(struct lcb_ctx *ctx, const struct opts *o, const char *policy)
{
    const struct lcb_policy *p = ctx->policy;
    struct lcb_buf m = LCB_BUF_INIT, args = LCB_BUF_INIT;
    const char *mins;

    minutes(p, 0, &m);
    mins = strcmp(lcb_buf_str(&m), "*") == 0 ? "*" : lcb_buf_str(&m);
    run_args(ctx, policy, &args);
    fprintf(ctx->out, "# /etc/systemd/system/lcbackup-%s.service\n[Unit]\n"
            "Description=lcbackup run for %s\nWants=network-online.target\n"
            "After=network-online.target\n\n[Service]\nType=oneshot\nUser=%s\n"
            "ExecStart=%s %s run\n"
            "# 2 (partial) fails the unit, so OnFailure= and monitoring see it\n"
            "TimeoutStartSec=12h\nNice=10\nIOSchedulingClass=idle\n\n",
            p->env, policy, o->user, o->binary, lcb_buf_str(&args));
    fprintf(ctx->out, "# /etc/systemd/system/lcbackup-%s.timer\n[Unit]\n"
            "Description=wake lcbackup run when a target of %s may be due\n", p->env, policy);
    targets_comment(p, "#", ctx->out);
    fprintf(ctx->out, "\n[Timer]\nOnCalendar=*-*-* *:%s:00 %s\n"
            "# a wake-up missed while the host was down happens at boot; run catches up once\n"
            "Persistent=true\nAccuracySec=1s\n\n[Install]\nWantedBy=timers.target\n",
            mins, p->timezone);
    fprintf(ctx->out, "# then: systemctl daemon-reload && "
            "systemctl enable --now lcbackup-%s.timer\n", p->env);
    lcb_buf_release(&m);
    lcb_buf_release(&args);
}

static void
json_list(struct lcb_buf *out, const struct lcb_strlist *l)
{
    size_t i;

    lcb_buf_addch(out, '[');
    for (i = 0; i < l->n; i++) {
        lcb_buf_adds(out, i ? ", " : "");
        lcb_json_quote(out, l->items[i]);
    }
    lcb_buf_addch(out, ']');
}

/* The container's command: pull the published catalog first (a task has no lasting disk). */
static void
container_input(struct lcb_ctx *ctx, const struct opts *o, const char *policy, struct lcb_buf *out)
{
    struct lcb_buf in = LCB_BUF_INIT;

    lcb_buf_addf(&in, "{\"containerOverrides\":[{\"name\":\"%s\",\"command\":[\"--policy\",\"%s\","
                 "%s%s%s\"--log-format\",\"json\",\"--catalog\",\"/tmp/lcbackup/catalog.db\","
                 "\"run\",\"--pull\"]}]}", o->container, policy,
                 ctx->env && strcmp(ctx->env, ctx->policy->env) != 0 ? "\"--env\",\"" : "",
                 ctx->env && strcmp(ctx->env, ctx->policy->env) != 0 ? ctx->env : "",
                 ctx->env && strcmp(ctx->env, ctx->policy->env) != 0 ? "\"," : "");
    lcb_json_quote(out, lcb_buf_str(&in));
    lcb_buf_release(&in);
}

static int
eventbridge(struct lcb_ctx *ctx, const struct opts *o, const char *policy)
{
    const struct lcb_policy *p = ctx->policy;
    struct lcb_buf m = LCB_BUF_INIT, sub = LCB_BUF_INIT, sg = LCB_BUF_INIT, in = LCB_BUF_INIT;

    if (!o->account)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "--format eventbridge needs --account ID");
    if (o->subnets.n == 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE,
                           "--format eventbridge needs --subnets: the task runs in awsvpc mode");
    minutes(p, 0, &m);
    json_list(&sub, &o->subnets);
    json_list(&sg, &o->sgs);
    container_input(ctx, o, policy, &in);
    fprintf(ctx->out,
            "{\n  \"Name\": \"lcbackup-run-%s\",\n"
            "  \"Description\": \"lcbackup run for %s: wakes at every minute a target may fire; "
            "run decides what is due\",\n"
            "  \"ScheduleExpression\": \"cron(%s * * * ? *)\",\n"
            "  \"ScheduleExpressionTimezone\": \"%s\",\n"
            "  \"FlexibleTimeWindow\": { \"Mode\": \"OFF\" },\n  \"State\": \"ENABLED\",\n"
            "  \"Target\": {\n    \"Arn\": \"arn:aws:ecs:%s:%s:cluster/%s\",\n"
            "    \"RoleArn\": \"arn:aws:iam::%s:role/%s\",\n    \"EcsParameters\": {\n"
            "      \"TaskDefinitionArn\": \"arn:aws:ecs:%s:%s:task-definition/%s\",\n"
            "      \"TaskCount\": 1,\n      \"LaunchType\": \"FARGATE\",\n"
            "      \"PlatformVersion\": \"LATEST\",\n      \"NetworkConfiguration\": {\n"
            "        \"awsvpcConfiguration\": { \"Subnets\": %s, \"SecurityGroups\": %s, "
            "\"AssignPublicIp\": \"DISABLED\" }\n      }\n    },\n"
            "    \"Input\": %s,\n"
            "    \"RetryPolicy\": { \"MaximumRetryAttempts\": 0, "
            "\"MaximumEventAgeInSeconds\": 3600 }\n"
            "  }\n}\n",
            p->env, policy, lcb_buf_str(&m), p->timezone, p->region, o->account, o->cluster,
            o->account, o->role, p->region, o->account, o->taskdef, lcb_buf_str(&sub),
            lcb_buf_str(&sg), lcb_buf_str(&in));
    lcb_buf_release(&m);
    lcb_buf_release(&sub);
    lcb_buf_release(&sg);
    lcb_buf_release(&in);
    return 0;
}

int
cmd_schedule(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct opts o;
    const struct lcb_opt opts[] = {
        { "format", 0, LCB_OPT_STR, &o.format },
        { "binary", 0, LCB_OPT_STR, &o.binary },
        { "policy-path", 0, LCB_OPT_STR, &o.policy_path },
        { "user", 0, LCB_OPT_STR, &o.user },
        { "account", 0, LCB_OPT_STR, &o.account },
        { "cluster", 0, LCB_OPT_STR, &o.cluster },
        { "task-definition", 0, LCB_OPT_STR, &o.taskdef },
        { "container", 0, LCB_OPT_STR, &o.container },
        { "role", 0, LCB_OPT_STR, &o.role },
        { "subnets", 0, LCB_OPT_LIST, &o.subnets },
        { "security-groups", 0, LCB_OPT_LIST, &o.sgs },
        { NULL, 0, 0, NULL },
    };
    char abs[PATH_MAX];
    const char *policy;
    int rc = -1;

    memset(&o, 0, sizeof(o));
    o.binary = "/usr/local/bin/lcbackup";
    o.user = "root";
    o.cluster = "legocity-cluster";
    o.taskdef = "lcbackup";
    o.container = "lcbackup";
    o.role = "lcbackup-scheduler";
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0)
        goto out;
    policy = o.policy_path ? o.policy_path
                           : realpath(ctx->policy_path, abs) ? abs : ctx->policy_path;
    if (!o.format) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "give --format crontab, systemd or eventbridge");
    } else if (strcmp(o.format, "crontab") == 0) {
        crontab(ctx, &o, policy);
        rc = 0;
    } else if (strcmp(o.format, "systemd") == 0) {
        systemd(ctx, &o, policy);
        rc = 0;
    } else if (strcmp(o.format, "eventbridge") == 0) {
        rc = eventbridge(ctx, &o, policy);
    } else {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "--format: '%s' is not crontab, systemd or eventbridge",
                    o.format);
    }
out:
    lcb_strlist_release(&o.subnets);
    lcb_strlist_release(&o.sgs);
    return rc;
}
