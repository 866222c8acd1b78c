/*
 * run.c - `lcbackup run`: the cron entry point. For each target, back up what is due (jobs.h),
 * then expire (expire.h), then publish the catalog (lib/catalog/sync.h), all under the catalog
 * lock. One failing target does not stop the others: the run goes on and exits 2 listing them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/catalog/sync.h"
#include "../lib/core/buf.h"
#include "../lib/core/clock.h"
#include "../lib/core/log.h"
#include "../lib/core/mem.h"
#include "../lib/core/sig.h"
#include "../lib/jobs/expire.h"
#include "../lib/jobs/jobs.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_run_usage[] =
    "usage: lcbackup run [--only KIND] [--target NAME] [--dry-run] [--no-expire] [--no-publish]\n"
    "                    [--pull]\n"
    "\n"
    "What cron or a scheduled task calls. For each target of the policy, compare its schedule\n"
    "with the catalog's last successful backup and take a backup when a slot has passed since\n"
    "(however many slots were missed, one backup catches up); then expire what no retention rule\n"
    "keeps and publish the catalog to S3. A failing target does not stop the others: the run\n"
    "ends with exit 2 and lists them. Running it again in the same minute does nothing.\n"
    "\n"
    "  --only KIND     only targets of this kind (rds, ebs, broker, config)\n"
    "  --target NAME   only this target\n"
    "  --dry-run       say what is due and print the API calls a backup and expiry would make\n"
    "  --no-expire     do not expire after the backups\n"
    "  --no-publish    do not upload the catalog to S3 afterwards\n"
    "  --pull          first merge the published catalog (runners without a lasting disk, such\n"
    "                  as ECS tasks)\n";

struct opts {
    const char *only;
    const char *target;
    int dry_run, no_expire, no_publish, pull;
};

/* What happened to one target. */
struct outcome {
    const struct lcb_target *t;
    struct lcb_due due;
    const char *status; /* not-due, done, failed, would-run, never */
    char backup_id[64];
    char error[LCB_ERR_MSG_LEN];
};

struct run_state {
    struct lcb_ctx *ctx;
    struct opts o;
    struct lcb_job_ctx jc;
    struct outcome *out;
    size_t n;
    int failed;               /* targets whose backup failed */
    struct lcb_expire_report expired;
    int expire_ran;
    int published;            /* 1 done, -1 failed, 0 not tried */
    struct lcb_sync_result sync;
    struct lcb_sync_remote remote;
    char publish_error[LCB_ERR_MSG_LEN];
};

static int
selected(const struct opts *o, const struct lcb_target *t)
{
    if (o->only && strcmp(o->only, lcb_kind_name(t->kind)) != 0)
        return 0;
    return !o->target || strcmp(o->target, t->name) == 0;
}

static int
check_opts(struct lcb_ctx *ctx, const struct opts *o)
{
    size_t i;

    if (o->only && lcb_kind_parse(o->only) < 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "--only: '%s' is not rds, ebs, broker or config",
                           o->only);
    for (i = 0; i < ctx->policy->ntargets; i++)
        if (selected(o, &ctx->policy->targets[i]))
            return 0;
    return lcb_err_set(&ctx->err, LCB_ENOTFOUND, "no target in the policy matches%s%s%s%s",
                       o->only ? " --only " : "", o->only ? o->only : "",
                       o->target ? " --target " : "", o->target ? o->target : "");
}

/* Take the backup of one due target through its kind's function. */
static void
backup_one(struct run_state *s, struct outcome *oc)
{
    const struct lcb_job_kind *k = lcb_job_kind(oc->t->kind);
    struct lcb_job_result res;
    struct lcb_err err;

    memset(&res, 0, sizeof(res));
    lcb_err_clear(&err);
    if (!k->backup) {
        snprintf(oc->error, sizeof(oc->error), "backups of kind %s are not available in this build",
                 lcb_kind_name(oc->t->kind));
    } else if (k->backup(&s->jc, oc->t, &res, &err) < 0) {
        lcb_err_format(&err, oc->error, sizeof(oc->error));
    } else {
        oc->status = s->o.dry_run ? "would-run" : "done";
        snprintf(oc->backup_id, sizeof(oc->backup_id), "%s", res.backup_id);
        return;
    }
    oc->status = "failed";
    s->failed++;
    lcb_logf(LCB_ERROR, "run.target.failed",
             LCB_FIELDS(LCB_KV_S("kind", lcb_kind_name(oc->t->kind)),
                        LCB_KV_S("target", oc->t->name)),
             "%s %s: %s", lcb_kind_name(oc->t->kind), oc->t->name, oc->error);
}

/* --pull: what other runners (or this task's previous incarnations) recorded decides what is due */
static int
pull(struct run_state *s)
{
    struct lcb_sync_result res;

    if (!s->o.pull)
        return 0;
    if (lcb_catalog_pull(s->ctx->cat, s->ctx->aws, &s->remote, &res, &s->ctx->err) == 0)
        return 0;
    if (s->ctx->err.code != LCB_ENOTFOUND)
        return lcb_wrap(&s->ctx->err, "pull the published catalog (nothing was backed up)");
    lcb_log(LCB_INFO, "run.pull.none", "no catalog published at s3://%s/%s yet: starting from "
            "the local one", s->remote.bucket, s->remote.key);
    lcb_err_clear(&s->ctx->err);
    return 0;
}

static int
backups(struct run_state *s)
{
    const struct lcb_policy *p = s->ctx->policy;
    time_t last, now = lcb_now();
    size_t i;

    for (i = 0; i < p->ntargets; i++) {
        struct outcome *oc;
        if (!selected(&s->o, &p->targets[i]))
            continue;
        if (lcb_sig_pending())
            return lcb_err_set(&s->ctx->err, LCB_EINTR, "interrupted before %s %s",
                               lcb_kind_name(p->targets[i].kind), p->targets[i].name);
        oc = &s->out[s->n++];
        oc->t = &p->targets[i];
        if (lcb_job_last_ok(s->ctx->cat, oc->t->kind, s->ctx->env, oc->t->name, &last,
                            &s->ctx->err) < 0)
            return -1;
        lcb_job_due(&oc->t->schedule, p->timezone, last, now, &oc->due);
        if (!oc->due.due) {
            oc->status = oc->due.slot < 0 ? "never" : "not-due";
            continue;
        }
        lcb_logf(LCB_INFO, "run.target.due",
                 LCB_FIELDS(LCB_KV_S("kind", lcb_kind_name(oc->t->kind)),
                            LCB_KV_S("target", oc->t->name), LCB_KV_I("missed", oc->due.missed)),
                 "%s %s is due (%d slot%s since its last backup)", lcb_kind_name(oc->t->kind),
                 oc->t->name, oc->due.missed, oc->due.missed == 1 ? "" : "s");
        backup_one(s, oc);
    }
    return 0;
}

static int
expire(struct run_state *s)
{
    const struct lcb_policy *p = s->ctx->policy;
    size_t i;

    if (s->o.no_expire)
        return 0;
    s->expire_ran = 1;
    for (i = 0; i < p->ntargets; i++) {
        if (!selected(&s->o, &p->targets[i]))
            continue;
        if (lcb_expire_target(&s->jc, &p->targets[i], 0, &s->expired, &s->ctx->err) < 0)
            return -1;
    }
    return 0;
}

/* Did this run change anything worth publishing? (a wake-up with nothing due does not) */
static int
changed(const struct run_state *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (s->out[i].due.due)
            return 1;
    return s->expired.gone || s->expired.failed || s->expired.skipped;
}

/* The run's outcome is recorded before the upload, so the published copy does not show this run
 * as still running; teardown records it again (with the publish's own outcome). */
static void
publish(struct run_state *s)
{
    struct lcb_err err, ignored;
    int partial = s->failed || s->expired.failed;

    if (s->o.no_publish || s->o.dry_run)
        return;
    if (!changed(s)) {
        lcb_log(LCB_INFO, "run.publish.skip", "nothing was due or expired: the published catalog "
                "is left as it is");
        return;
    }
    lcb_err_clear(&err);
    lcb_catalog_run_end(s->ctx->cat, s->ctx->run_id, partial ? "partial" : "succeeded",
                        partial ? 2 : 0, NULL, &ignored);
    if (lcb_catalog_publish(s->ctx->cat, s->ctx->aws, &s->remote, &s->sync, &err) < 0) {
        s->published = -1;
        lcb_err_format(&err, s->publish_error, sizeof(s->publish_error));
        lcb_log(LCB_ERROR, "run.publish.failed", "%s", s->publish_error);
        return;
    }
    s->published = 1;
}

/* ---- the report ---- */

static void
print_outcome(struct lcb_ctx *ctx, const struct outcome *oc)
{
    char a[LCB_TIME_LEN], b[LCB_TIME_LEN];

    fprintf(ctx->out, "  %-6s %-24s ", lcb_kind_name(oc->t->kind), oc->t->name);
    if (strcmp(oc->status, "never") == 0)
        fprintf(ctx->out, "never due: schedule \"%s\" never fires\n", oc->t->schedule.expr);
    else if (strcmp(oc->status, "not-due") == 0)
        fprintf(ctx->out, "not due     last %s, next %s\n", lcb_time_fmt(oc->due.last, a),
                oc->due.next > 0 ? lcb_time_fmt(oc->due.next, b) : "never");
    else if (strcmp(oc->status, "failed") == 0)
        fprintf(ctx->out, "FAILED      %s\n", oc->error);
    else
        fprintf(ctx->out, "%-11s %s (slot %s, %d missed)\n",
                strcmp(oc->status, "done") == 0 ? "done" : "would run",
                oc->backup_id[0] ? oc->backup_id : oc->error[0] ? oc->error : "-",
                lcb_time_fmt(oc->due.slot, a), oc->due.missed);
}

static void
json_outcome(struct lcb_buf *j, const struct outcome *oc)
{
    char a[LCB_TIME_LEN];

    lcb_buf_addf(j, "{\"kind\":\"%s\",\"name\":", lcb_kind_name(oc->t->kind));
    lcb_json_quote(j, oc->t->name);
    lcb_buf_addf(j, ",\"status\":\"%s\",\"due\":%s,\"missed\":%d", oc->status,
                 oc->due.due ? "true" : "false", oc->due.missed);
    if (oc->due.slot > 0)
        lcb_buf_addf(j, ",\"slot\":\"%s\"", lcb_time_fmt(oc->due.slot, a));
    if (oc->due.last > 0)
        lcb_buf_addf(j, ",\"last\":\"%s\"", lcb_time_fmt(oc->due.last, a));
    if (oc->due.next > 0)
        lcb_buf_addf(j, ",\"next\":\"%s\"", lcb_time_fmt(oc->due.next, a));
    if (oc->backup_id[0])
        lcb_buf_addf(j, ",\"backup_id\":\"%s\"", oc->backup_id);
    if (oc->error[0]) {
        lcb_buf_adds(j, ",\"error\":");
        lcb_json_quote(j, oc->error);
    }
    lcb_buf_adds(j, "}");
}

static void
print_report(struct run_state *s)
{
    struct lcb_ctx *ctx = s->ctx;
    const struct lcb_expire_report *e = &s->expired;
    struct lcb_buf j = LCB_BUF_INIT, sync = LCB_BUF_INIT;
    size_t i, due = 0;

    for (i = 0; i < s->n; i++)
        due += s->out[i].due.due;
    if (!ctx->json) {
        fprintf(ctx->out, "run%s: %zu target%s, %zu due, %d failed\n",
                s->o.dry_run ? " (dry run)" : "", s->n, s->n == 1 ? "" : "s", due, s->failed);
        for (i = 0; i < s->n; i++)
            print_outcome(ctx, &s->out[i]);
        if (s->expire_ran)
            fprintf(ctx->out, "expire: %d kept, %d %s, %d skipped (Object Lock), %d failed\n",
                    e->kept, e->gone, s->o.dry_run ? "would expire" : "expired", e->skipped,
                    e->failed);
        if (s->published > 0) {
            lcb_sync_describe(&sync, "catalog published to", &s->remote, &s->sync, 0);
            fputs(lcb_buf_str(&sync), ctx->out);
        } else if (s->published < 0) {
            fprintf(ctx->out, "catalog NOT published: %s\n", s->publish_error);
        }
        lcb_buf_release(&sync);
        return;
    }
    for (i = 0; i < s->n; i++) {
        lcb_buf_adds(&j, i ? "," : "");
        json_outcome(&j, &s->out[i]);
    }
    fprintf(ctx->out, "{\"dry_run\":%s,\"targets\":[%s]", s->o.dry_run ? "true" : "false",
            lcb_buf_str(&j));
    if (s->expire_ran)
        fprintf(ctx->out, ",\"expire\":{\"kept\":%d,\"expired\":%d,\"skipped\":%d,\"failed\":%d}",
                e->kept, e->gone, e->skipped, e->failed);
    if (s->published) {
        lcb_sync_describe(&sync, "published", &s->remote, &s->sync, 1);
        lcb_buf_rtrim(&sync);
        fprintf(ctx->out, ",\"publish\":%s", s->published > 0 ? lcb_buf_str(&sync) : "null");
    }
    fprintf(ctx->out, "}\n");
    lcb_buf_release(&j);
    lcb_buf_release(&sync);
}

/* Exit 2 listing what failed, or 0. */
static int
verdict(struct run_state *s)
{
    struct lcb_buf what = LCB_BUF_INIT;
    size_t i;

    if (!s->failed && !s->expired.failed && s->published >= 0)
        return 0;
    for (i = 0; i < s->n; i++)
        if (strcmp(s->out[i].status, "failed") == 0)
            lcb_buf_addf(&what, "%s%s %s", what.len ? ", " : "", lcb_kind_name(s->out[i].t->kind),
                         s->out[i].t->name);
    if (s->expired.failed)
        lcb_buf_addf(&what, "%s%d expired backup%s not deleted", what.len ? ", " : "",
                     s->expired.failed, s->expired.failed == 1 ? "" : "s");
    if (s->published < 0)
        lcb_buf_addf(&what, "%scatalog not published", what.len ? ", " : "");
    lcb_err_set(&s->ctx->err, LCB_EPARTIAL, "failed: %s; the rest was done", lcb_buf_str(&what));
    lcb_buf_release(&what);
    return -1;
}

int
cmd_run(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct run_state s;
    const struct lcb_opt opts[] = {
        { "only", 0, LCB_OPT_STR, &s.o.only },
        { "target", 0, LCB_OPT_STR, &s.o.target },
        { "dry-run", 'n', LCB_OPT_FLAG, &s.o.dry_run },
        { "no-expire", 0, LCB_OPT_FLAG, &s.o.no_expire },
        { "no-publish", 0, LCB_OPT_FLAG, &s.o.no_publish },
        { "pull", 0, LCB_OPT_FLAG, &s.o.pull },
        { NULL, 0, 0, NULL },
    };
    char *key = NULL;
    int rc = -1;

    memset(&s, 0, sizeof(s));
    s.ctx = ctx;
    lcb_expire_report_init(&s.expired);
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0 || check_opts(ctx, &s.o) < 0)
        goto out;
    s.jc.aws = ctx->aws;
    s.jc.cat = ctx->cat;
    s.jc.policy = ctx->policy;
    s.jc.policy_file = ctx->policy_path;
    s.jc.env = ctx->env;
    s.jc.run_id = ctx->run_id;
    s.jc.dry_run = s.o.dry_run;
    s.jc.out = ctx->out;
    s.out = lcb_xcalloc(ctx->policy->ntargets ? ctx->policy->ntargets : 1, sizeof(*s.out));
    key = lcb_job_remote(ctx->policy, ctx->env, &s.remote);
    if (pull(&s) < 0 || backups(&s) < 0 || expire(&s) < 0)
        goto out;
    publish(&s);
    print_report(&s);
    rc = verdict(&s);
out:
    lcb_expire_report_release(&s.expired);
    free(s.out);
    free(key);
    return rc;
}
