/* common.c - what several commands share; see common.h. */
#include <stdio.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/core/secret.h"
#include "../lib/policy/policy.h"
#include "common.h"

void
lcb_cmd_job_ctx(struct lcb_job_ctx *jc, const struct lcb_ctx *ctx, int dry_run)
{
    memset(jc, 0, sizeof(*jc));
    jc->aws = ctx->aws;
    jc->cat = ctx->cat;
    jc->policy = ctx->policy;
    jc->policy_file = ctx->policy_path;
    jc->env = ctx->env;
    jc->run_id = ctx->run_id;
    jc->dry_run = dry_run;
    jc->out = ctx->out;
}

/* ---- backup rds, backup ebs ---- */

/* One line per backup and per copy, or the catalog's JSON of the backup added to json. */
static void
print_backup(struct lcb_ctx *ctx, const char *id, struct lcb_buf *json, int *count)
{
    struct lcb_backup b;
    struct lcb_snap_copy *c = NULL;
    struct lcb_err e;
    size_t nc = 0, i;

    if (!id[0] || lcb_catalog_backup_get(ctx->cat, id, &b, &e) < 0)
        return;
    if (ctx->json) {
        if ((*count)++)
            lcb_buf_addch(json, ',');
        lcb_backup_json(&b, json);
    } else {
        fprintf(ctx->out, "%s  %s  %s  %s  %s\n", b.id, b.status, b.target ? b.target : "-",
                b.region ? b.region : "-", b.location ? b.location : "-");
        lcb_snap_copies(ctx->cat, b.id, &c, &nc, &e);
        for (i = 0; i < nc; i++)
            fprintf(ctx->out, "%s  copy %s  %s  %s  %s\n", b.id, c[i].status,
                    b.target ? b.target : "-", c[i].region, c[i].location);
        lcb_snap_copies_free(c, nc);
    }
    lcb_backup_release(&b);
}

int
lcb_cmd_backup_snapshots(struct lcb_ctx *ctx, const struct lcb_target *const *targets,
                         size_t n, const struct lcb_snap_opts *o, int dry_run,
                         lcb_cmd_snap_backup_fn backup, const char *event)
{
    struct lcb_job_ctx jc;
    struct lcb_job_result res;
    struct lcb_buf json = LCB_BUF_INIT;
    struct lcb_err e;
    size_t i, failed = 0;
    int count = 0;
    char line[1024];

    lcb_cmd_job_ctx(&jc, ctx, dry_run);
    for (i = 0; i < n; i++) {
        lcb_err_clear(&e);
        if (backup(&jc, targets[i], o, &res, &e) < 0) {
            if (failed++ == 0)
                ctx->err = e;
            if (n > 1)
                lcb_log(LCB_ERROR, event, "%s: %s", targets[i]->name,
                        lcb_err_format(&e, line, sizeof(line)));
        }
        if (!dry_run)
            print_backup(ctx, res.backup_id, &json, &count);
        if (e.code == LCB_EINTR)
            break;
    }
    if (ctx->json && !dry_run)
        fprintf(ctx->out, "[%s]\n", lcb_buf_str(&json));
    if (failed && failed < n && ctx->err.code != LCB_EINTR) {
        lcb_wrap(&ctx->err, "%zu of %zu targets failed, the first", failed, n);
        ctx->err.code = LCB_EPARTIAL;
    }
    lcb_buf_release(&json);
    return ctx->err.code == LCB_OK ? 0 : -1;
}

/* ---- restores ---- */

int
lcb_cmd_is_production(const struct lcb_ctx *ctx, const char *env)
{
    if (ctx->policy && ctx->policy->env && env && strcmp(ctx->policy->env, env) == 0)
        return ctx->policy->production;
    return env && strcmp(env, "prod") == 0;
}

int
lcb_cmd_production_guard(struct lcb_ctx *ctx, const char *env, int confirmed)
{
    if (confirmed || !lcb_cmd_is_production(ctx, env))
        return 0;
    return lcb_err_set(&ctx->err, LCB_EUSAGE, "env %s is production: add --yes to restore "
                       "into it (or --dry-run to see what would change)", env);
}

int
lcb_cmd_policy_guard(struct lcb_ctx *ctx, int confirmed)
{
    if (confirmed || !ctx->policy || !ctx->policy->production)
        return 0;
    return lcb_err_set(&ctx->err, LCB_EUSAGE,
                       "%s is a production policy: check with --dry-run, then confirm with --yes",
                       ctx->policy_path);
}

void
lcb_cmd_restore_record(struct lcb_ctx *ctx, const char *rid, const char *status,
                       const struct lcb_json *detail)
{
    struct lcb_buf js = LCB_BUF_INIT;
    struct lcb_err e;

    lcb_json_print(&js, detail, 0);
    if (lcb_catalog_restore_end(ctx->cat, rid, status, lcb_buf_str(&js), &e) < 0)
        lcb_log(LCB_ERROR, "catalog.write", "could not record restore %s: %s", rid, e.msg);
    lcb_buf_release(&js);
}

void
lcb_cmd_restore_failed(struct lcb_ctx *ctx, const char *rid, struct lcb_json *detail)
{
    struct lcb_buf red = LCB_BUF_INIT;
    char line[1024];

    lcb_json_add_str(detail, "error",
                     lcb_redact_str(&red, lcb_err_format(&ctx->err, line, sizeof(line))));
    lcb_cmd_restore_record(ctx, rid, ctx->err.code == LCB_EINTR ? "interrupted" : "failed",
                           detail);
    lcb_buf_release(&red);
}

int
lcb_cmd_config_restore_begin(struct lcb_ctx *ctx, const struct lcb_backup *b, const char *kind,
                             char rid[40], struct lcb_restore_tally *t)
{
    if (lcb_catalog_restore_begin(ctx->cat, b->id, kind, b->target, rid, &ctx->err) < 0)
        return -1;
    lcb_restore_tally_init(t);
    return 0;
}

FILE *
lcb_cmd_config_restore_progress(const struct lcb_ctx *ctx)
{
    return ctx->json ? stderr : ctx->out;
}

void
lcb_cmd_config_restore_end(struct lcb_ctx *ctx, const char *rid, struct lcb_restore_tally *t,
                           const struct lcb_restore_count *counts, size_t n)
{
    struct lcb_buf out = LCB_BUF_INIT;

    /* a catalog that cannot record the restore is said, as for rds and ebs, not ignored */
    lcb_cmd_restore_record(ctx, rid, t->failed ? "partial" : "succeeded", t->detail);
    if (ctx->json) {
        /* the printed result names its restore even when the catalog's detail does not */
        if (!lcb_json_get(t->detail, "restore_id"))
            lcb_json_set(t->detail, "restore_id", lcb_json_new_str(rid));
        lcb_json_print(&out, t->detail, 0);
        lcb_buf_addch(&out, '\n');
    } else {
        lcb_restore_tally_summary(&out, t, rid, counts, n);
    }
    fputs(lcb_buf_str(&out), ctx->out);
    lcb_buf_release(&out);
}
