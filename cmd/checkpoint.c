/*
 * checkpoint.c - `lcbackup checkpoint`: before a major change, an RDS snapshot, a broker export
 * and a config export taken together, grouped in the catalog as one named checkpoint and held so
 * that retention never deletes them (lib/checkpoint/checkpoint.h, docs/checkpoints.md).
 *
 * The RDS snapshots are started first and not waited for, so that every recovery point lies
 * within the same few seconds; the broker and config exports follow; then the snapshots are
 * waited for (and copied to the DR region as the policy says).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/checkpoint/checkpoint.h"
#include "../lib/core/clock.h"
#include "../lib/core/mem.h"
#include "../lib/jobs/jobs.h"
#include "../lib/policy/policy.h"
#include "../lib/snapshot/snapshot.h"
#include "cmd.h"

const char cmd_checkpoint_usage[] =
    "usage: lcbackup checkpoint --reason TEXT [--component rds,broker,config] [--name NAME]\n"
    "                           [--timeout DUR] [--dry-run]\n"
    "\n"
    "Before a major change: take an RDS snapshot, a broker export and a config export of the\n"
    "policy's targets at once, group them in the catalog as one named checkpoint and hold them,\n"
    "so that retention never deletes them. `lcbackup release NAME` lifts the hold once the change\n"
    "is known good; `lcbackup restore checkpoint NAME` goes back to it.\n"
    "\n"
    "  --reason TEXT       why (shown by `lcbackup list --checkpoints`)\n"
    "  --component LIST    what to take: rds, broker, config, ebs (default rds,broker,config)\n"
    "  --name NAME         the checkpoint's name (default cp-<UTC time>)\n"
    "  --timeout DUR       wait this long for the snapshots (default 2h; then they stay\n"
    "                      pending, held, and `lcbackup catalog refresh` completes them)\n"
    "  -n, --dry-run       print the API calls it would make; change nothing\n";

struct flags {
    const char *reason, *name;
    struct lcb_strlist comps;
    int64_t timeout;
    int dry_run;
};

struct taken {
    struct lcb_strlist ids;
    struct lcb_strlist pending_rds;
    int failed;
};

static int
check_flags(struct lcb_ctx *ctx, struct flags *f, char *name)
{
    static const char *const known[] = { "rds", "broker", "config", "ebs" };
    size_t i, k;

    if (!f->reason || !*f->reason)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "give --reason: why this checkpoint is taken");
    if (f->comps.n == 0)
        lcb_strlist_add_split(&f->comps, "rds,broker,config");
    for (i = 0; i < f->comps.n; i++) {
        for (k = 0; k < LCB_ARRAY_SIZE(known) && strcmp(f->comps.items[i], known[k]); k++)
            ;
        if (k == LCB_ARRAY_SIZE(known))
            return lcb_err_set(&ctx->err, LCB_EUSAGE, "--component: '%s' is not rds, broker, "
                               "config or ebs", f->comps.items[i]);
    }
    if (f->name && !lcb_checkpoint_name_ok(f->name))
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "--name '%s': use up to %d letters, digits, "
                           ".-_ starting with a letter or digit", f->name,
                           LCB_CHECKPOINT_NAME_MAX);
    snprintf(name, LCB_CHECKPOINT_NAME_MAX + 1, "%s", f->name ? f->name : "");
    if (!f->name)
        lcb_checkpoint_default_name(name, lcb_now());
    return 0;
}

/* Refuse a name in use before any backup is taken. */
static int
name_free(struct lcb_ctx *ctx, const char *name)
{
    struct lcb_checkpoint c;
    struct lcb_err e;

    lcb_err_clear(&e);
    if (lcb_checkpoint_load(&c, ctx->cat, name, &e) == 0) {
        lcb_checkpoint_release(&c);
        return lcb_err_set(&ctx->err, LCB_EREFUSED, "a checkpoint named %s exists already: give "
                           "another --name", name);
    }
    if (e.code != LCB_ENOTFOUND) {
        ctx->err = e;
        return -1;
    }
    return 0;
}

static void
took(struct taken *tk, const struct lcb_target *t, const struct lcb_job_result *res, int rc,
     struct lcb_err *e)
{
    char line[1024];

    /* a partial backup (its DR copy failed) is a backup all the same */
    if (res->backup_id[0] && (rc == 0 || e->code == LCB_EPARTIAL))
        lcb_strlist_add(&tk->ids, res->backup_id);
    if (rc < 0) {
        tk->failed++;
        lcb_log(LCB_ERROR, "checkpoint.component.failed", "%s target %s: %s",
                lcb_kind_name(t->kind), t->name, lcb_err_format(e, line, sizeof(line)));
    }
}

/* Every target of kind k: RDS started without waiting, the others taken through the jobs
 * table. */
static void
take_kind(struct lcb_ctx *ctx, const struct lcb_job_ctx *jc, enum lcb_kind k, struct taken *tk)
{
    const struct lcb_target *ts[64];
    struct lcb_snap_opts o;
    struct lcb_job_result res;
    struct lcb_err e;
    size_t n = lcb_policy_targets(ctx->policy, k, ts, LCB_ARRAY_SIZE(ts)), i;
    int rc;

    for (i = 0; i < n; i++) {
        memset(&res, 0, sizeof(res));
        lcb_err_clear(&e);
        if (k == LCB_KIND_RDS) {
            memset(&o, 0, sizeof(o));
            o.no_wait = 1;
            rc = lcb_snap_backup_rds(jc, ts[i], &o, &res, &e);
            if (res.backup_id[0] && !jc->dry_run)
                lcb_strlist_add(&tk->pending_rds, res.backup_id);
        } else {
            rc = lcb_job_kind(k)->backup(jc, ts[i], &res, &e);
        }
        if (!jc->dry_run)
            took(tk, ts[i], &res, rc, &e);
    }
}

/* Wait for the snapshots started first (a timeout leaves them pending, still held). */
static void
finish_rds(const struct lcb_job_ctx *jc, const struct taken *tk, int64_t timeout)
{
    struct lcb_backup b;
    struct lcb_err e;
    char line[1024];
    size_t i;
    int changed;

    for (i = 0; i < tk->pending_rds.n; i++) {
        lcb_err_clear(&e);
        if (lcb_catalog_backup_get(jc->cat, tk->pending_rds.items[i], &b, &e) < 0 ||
            lcb_snap_refresh(jc, &b, timeout ? timeout : LCB_SNAP_DEFAULT_TIMEOUT, &changed,
                             &e) < 0)
            lcb_log(LCB_WARN, "checkpoint.rds.pending", "%s stays pending (held; `lcbackup "
                    "catalog refresh` completes it): %s", tk->pending_rds.items[i],
                    lcb_err_format(&e, line, sizeof(line)));
        lcb_backup_release(&b);
    }
}

static int
has_kind(const struct lcb_ctx *ctx, const char *kind)
{
    const struct lcb_target *ts[1];

    return lcb_policy_targets(ctx->policy, (enum lcb_kind)lcb_kind_parse(kind), ts, 1) > 0;
}

static void
print_result(struct lcb_ctx *ctx, const char *name, const struct lcb_checkpoint *c)
{
    struct lcb_buf out = LCB_BUF_INIT;
    size_t i;

    if (ctx->json) {
        lcb_checkpoint_json(&out, c, 1, lcb_now());
        fputs(lcb_buf_str(&out), ctx->out);
    } else {
        for (i = 0; i < c->backups.n; i++)
            fprintf(ctx->out, "held %s  %s %s  %s\n", c->backups.items[i].id,
                    c->backups.items[i].kind, c->backups.items[i].target,
                    c->backups.items[i].status);
        fprintf(ctx->out, "checkpoint %s: %zu backups held; once the change is known good: "
                "lcbackup release %s\n", name, c->backups.n, name);
    }
    lcb_buf_release(&out);
}

static int
record(struct lcb_ctx *ctx, const struct flags *f, const char *name, struct taken *tk)
{
    struct lcb_buf comps = LCB_BUF_INIT;
    struct lcb_checkpoint c;
    size_t i;
    int rc = -1;

    for (i = 0; i < f->comps.n; i++)
        lcb_buf_addf(&comps, "%s%s", i ? "," : "", f->comps.items[i]);
    if (lcb_checkpoint_create(ctx->cat, ctx->run_id, name, f->reason, ctx->env,
                              lcb_buf_str(&comps), &tk->ids, tk->failed, &ctx->err) < 0)
        goto out;
    for (i = 0; i < tk->ids.n; i++)
        if (lcb_checkpoint_hold(ctx->cat, ctx->run_id, tk->ids.items[i], name, &ctx->err) < 0)
            goto out;
    if (lcb_checkpoint_load(&c, ctx->cat, name, &ctx->err) < 0)
        goto out;
    print_result(ctx, name, &c);
    lcb_checkpoint_release(&c);
    rc = 0;
out:
    lcb_buf_release(&comps);
    return rc;
}

static int
take(struct lcb_ctx *ctx, struct flags *f, const char *name)
{
    static const char *const order[] = { "rds", "broker", "config", "ebs" };
    struct lcb_job_ctx jc = { ctx->aws, ctx->cat, ctx->policy, ctx->policy_path, ctx->env,
                              ctx->run_id, f->dry_run, ctx->out };
    struct taken tk;
    size_t i;
    int rc = 0;

    memset(&tk, 0, sizeof(tk));
    for (i = 0; i < LCB_ARRAY_SIZE(order); i++) {
        if (!lcb_strlist_has(&f->comps, order[i]))
            continue;
        if (!has_kind(ctx, order[i]))
            lcb_log(LCB_WARN, "checkpoint.component.none", "the policy has no %s target: "
                    "nothing of it in this checkpoint", order[i]);
        else
            take_kind(ctx, &jc, (enum lcb_kind)lcb_kind_parse(order[i]), &tk);
    }
    if (f->dry_run) {
        fprintf(ctx->out, "dry run: checkpoint %s would hold what the calls above take\n", name);
        goto out;
    }
    finish_rds(&jc, &tk, f->timeout);
    if (tk.ids.n == 0) {
        rc = lcb_err_set(&ctx->err, tk.failed ? LCB_EFAIL : LCB_ECONFIG, "checkpoint %s: %s",
                         name, tk.failed ? "every backup failed (see above)"
                                         : "the policy has none of these components");
        goto out;
    }
    if ((rc = record(ctx, f, name, &tk)) == 0 && tk.failed)
        rc = lcb_err_set(&ctx->err, LCB_EPARTIAL, "checkpoint %s holds %zu backups, but %d "
                         "could not be taken (see above)", name, tk.ids.n, tk.failed);
out:
    lcb_strlist_release(&tk.ids);
    lcb_strlist_release(&tk.pending_rds);
    return rc;
}

int
cmd_checkpoint(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    char name[LCB_CHECKPOINT_NAME_MAX + 1];
    const struct lcb_opt opts[] = {
        { "reason", 0, LCB_OPT_STR, &f.reason },
        { "component", 0, LCB_OPT_LIST, &f.comps },
        { "name", 0, LCB_OPT_STR, &f.name },
        { "timeout", 0, LCB_OPT_DURATION, &f.timeout },
        { "dry-run", 'n', LCB_OPT_FLAG, &f.dry_run },
        { NULL, 0, 0, NULL },
    };
    int rc = -1;

    memset(&f, 0, sizeof(f));
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0 || check_flags(ctx, &f, name) < 0 ||
        name_free(ctx, name) < 0)
        goto out;
    rc = take(ctx, &f, name);
out:
    lcb_strlist_release(&f.comps);
    return rc;
}
