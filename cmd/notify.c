/*
 * notify.c - what every command that records a run does as it ends (cmd/setup.c's teardown):
 * publish a notice of a failed, partial or interrupted run to the policy's SNS topic
 * (lib/notify/notify.h; success only with notify.on_success), record that in the catalog, and
 * with JSON logs emit the RunFailed metric as an embedded-metric-format line for CloudWatch.
 *
 * Only commands that both record a run and talk to AWS take part (backups, restores, run,
 * expire, drills, checkpoints): a failing `list` is not an incident, and a command that never
 * meant to reach AWS must not start now. A notice that cannot be published is a warning: it
 * never changes the command's exit status.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/aws/aws.h"
#include "../lib/catalog/catalog.h"
#include "../lib/core/clock.h"
#include "../lib/core/secret.h"
#include "../lib/notify/notify.h"
#include "../lib/policy/policy.h"
#include "cmd.h"
#include "setup.h"

static const char *
outcome(int rc, int status)
{
    if (rc == 0)
        return "succeeded";
    if (status == 2)
        return "partial";
    if (status == 130 || status == 143)
        return "interrupted";
    return "failed";
}

/* The command's client, or one made as setup.c would have (the command failed before it got
 * there: a lock held, a catalog that would not open). */
static struct lcb_aws *
client(struct lcb_ctx *ctx, struct lcb_aws **own, struct lcb_err *err)
{
    struct lcb_aws_config cfg;

    if (ctx->aws)
        return ctx->aws;
    memset(&cfg, 0, sizeof(cfg));
    cfg.region = ctx->region;
    cfg.policy_region = ctx->policy ? ctx->policy->region : NULL;
    cfg.profile = ctx->profile;
    cfg.ca_bundle = ctx->ca_bundle;
    cfg.max_attempts = (int)ctx->max_attempts;
    cfg.allow_insecure = ctx->allow_insecure_endpoint;
    return lcb_aws_new(own, &cfg, err) < 0 ? NULL : *own;
}

static void
emit_metric(struct lcb_ctx *ctx, int failed)
{
    struct lcb_buf emf = LCB_BUF_INIT;

    if (lcb_log_format() != LCB_LOG_JSON)
        return;
    lcb_notice_emf(&emf, lcb_now());
    lcb_logf(LCB_INFO, "run.metrics",
             LCB_FIELDS(LCB_KV_RAW("_aws", lcb_buf_str(&emf)),
                        LCB_KV_S("Env", ctx->env ? ctx->env : "-"), LCB_KV_I("RunFailed", failed)),
             "run %s", failed ? "failed" : "succeeded");
    lcb_buf_release(&emf);
}

static void
publish(struct lcb_ctx *ctx, const struct lcb_notice *n)
{
    struct lcb_aws *own = NULL, *aws;
    struct lcb_buf id = LCB_BUF_INIT, detail = LCB_BUF_INIT;
    struct lcb_err err, ignored;
    char line[1024];

    lcb_err_clear(&err);
    aws = client(ctx, &own, &err);
    if (!aws || lcb_notice_publish(&id, aws, ctx->policy->notify_topic, n, &err) < 0) {
        lcb_log(LCB_WARN, "notify.failed", "could not notify %s: %s", ctx->policy->notify_topic,
                lcb_err_format(&err, line, sizeof(line)));
        goto out;
    }
    lcb_logf(LCB_INFO, "notify.sent",
             LCB_FIELDS(LCB_KV_S("topic", ctx->policy->notify_topic),
                        LCB_KV_S("message_id", lcb_buf_str(&id))),
             "notified %s of this %s run", ctx->policy->notify_topic, n->status);
    if (ctx->cat && ctx->run_id[0]) {
        lcb_buf_adds(&detail, "{\"topic\":");
        lcb_json_quote(&detail, ctx->policy->notify_topic);
        lcb_buf_adds(&detail, ",\"message_id\":");
        lcb_json_quote(&detail, lcb_buf_str(&id));
        lcb_buf_addf(&detail, ",\"status\":\"%s\",\"exit_code\":%d}", n->status, n->exit_code);
        lcb_err_clear(&ignored);
        lcb_catalog_event(ctx->cat, ctx->run_id, NULL, "notify.sent", lcb_buf_str(&detail),
                          &ignored);
    }
out:
    lcb_aws_free(own);
    lcb_buf_release(&id);
    lcb_buf_release(&detail);
}

void
lcb_cmd_notify(struct lcb_ctx *ctx, int rc, int status, const char *error)
{
    struct lcb_notice n;
    char host[256] = "";

    if (!ctx->cmd || !(ctx->cmd->setup & CATALOG_RW) || !(ctx->cmd->setup & NEED_AWS))
        return;
    if (status != 64)
        emit_metric(ctx, rc != 0);
    if (!ctx->policy || !ctx->policy->notify_topic)
        return;
    memset(&n, 0, sizeof(n));
    n.env = ctx->env;
    n.command = ctx->cmd_name;
    n.run_id = ctx->run_id;
    n.status = outcome(rc, status);
    n.exit_code = status;
    n.error = rc < 0 ? error : NULL;
    n.policy = ctx->policy_path;
    if (gethostname(host, sizeof(host) - 1) == 0)
        n.host = host;
    n.at = lcb_now();
    if (lcb_notice_wanted(&n, ctx->policy->notify_on_success))
        publish(ctx, &n);
}
