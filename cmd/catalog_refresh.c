/* catalog_refresh.c - `lcbackup catalog refresh`: complete the rds and ebs backups (and copies)
 * that were recorded before AWS finished them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/aws/ec2.h"
#include "../lib/aws/rds.h"
#include "../lib/catalog/catalog.h"
#include "../lib/core/mem.h"
#include "../lib/ext/db.h"
#include "../lib/snapshot/snapshot.h"
#include "cmd.h"

const char cmd_catalog_refresh_usage[] =
    "usage: lcbackup catalog refresh [--wait DUR] [ID ...]\n"
    "\n"
    "Complete the rds and ebs backups recorded as pending (--no-wait, or a wait that timed\n"
    "out), still running after their run ended, or abandoned by a run that died after the\n"
    "snapshot started: ask AWS, mark each completed (with its snapshot time, size and\n"
    "manifest) or failed, start the DR copy it still owes, and settle pending copies.\n"
    "Without IDs: every such backup, and every rds or ebs restore left running (--no-wait)\n"
    "or abandoned.\n"
    "\n"
    "  --wait DUR   wait up to DUR for each backup to finish (default: look once)\n";

static const char open_sql[] =
    "SELECT id FROM backups WHERE kind IN ('rds','ebs') AND ("
    "status IN ('pending','running') OR "
    "(status='failed' AND error LIKE 'abandoned%' AND location IS NOT NULL AND location<>'') OR "
    "id IN (SELECT backup_id FROM copies WHERE status IN ('pending','running'))) "
    "ORDER BY started_at";

static const char restores_sql[] =
    "SELECT id, kind, target, detail, status FROM restores WHERE kind IN ('rds','ebs') AND "
    "status IN ('running','abandoned') ORDER BY started_at";

static int
open_restores(struct lcb_ctx *ctx)
{
    struct lcb_stmt *st;
    struct lcb_err e;
    int n = 0;

    if (lcb_db_prepare(&st, lcb_catalog_db(ctx->cat), restores_sql, &e) < 0)
        return 0;
    while (lcb_stmt_step(st, &e) == 1)
        n++;
    lcb_stmt_free(st);
    return n;
}

static int
open_ids(struct lcb_ctx *ctx, struct lcb_strlist *ids)
{
    struct lcb_stmt *st;
    int rc;

    if (lcb_db_prepare(&st, lcb_catalog_db(ctx->cat), open_sql, &ctx->err) < 0)
        return -1;
    while ((rc = lcb_stmt_step(st, &ctx->err)) == 1)
        lcb_strlist_add(ids, lcb_col_text(st, 0));
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

/* An RDS restore: succeeded once its instance is available (endpoint recorded), failed when it is
 * gone or in a state it will not leave, NULL while it is still on its way. */
static const char *
rds_restore_state(struct lcb_ctx *ctx, const char *region, const char *target,
                  struct lcb_json *detail, struct lcb_err *err)
{
    struct lcb_rds rds = {ctx->aws, region, NULL};
    struct lcb_rds_instance in;
    const char *st = NULL;

    if (lcb_rds_instance_get(&in, &rds, target, err) < 0)
        return err->code == LCB_ENOTFOUND ? "failed" : NULL;
    switch (lcb_rds_instance_wait_state(in.status)) {
    case LCB_WAIT_DONE:
        lcb_json_set(detail, "endpoint", lcb_json_new_str(in.address ? in.address : ""));
        lcb_json_set(detail, "port", lcb_json_new_num(in.port));
        st = "succeeded";
        break;
    case LCB_WAIT_FAILED:
        st = "failed";
        break;
    default:
        break;
    }
    lcb_rds_instance_release(&in);
    return st;
}

/* An EBS restore: every volume it created available, or one gone or in error. */
static const char *
ebs_restore_state(struct lcb_ctx *ctx, const char *region, struct lcb_json *detail,
                  struct lcb_err *err)
{
    struct lcb_ec2 ec2 = {ctx->aws, region, NULL};
    const struct lcb_json *vols = lcb_json_get(detail, "volumes");
    const char *st = lcb_json_size(vols) ? "succeeded" : "failed";
    size_t i;

    for (i = 0; i < lcb_json_size(vols); i++) {
        struct lcb_ec2_volume v;
        const char *id = lcb_json_get_str(lcb_json_at(vols, i), "volume_id");
        enum lcb_wait w;
        if (!id || lcb_ec2_volume_get(&v, &ec2, id, err) < 0) {
            if (id && err->code != LCB_ENOTFOUND)
                return NULL;
            return "failed";
        }
        w = lcb_ec2_volume_wait_state(v.state);
        lcb_ec2_volume_release(&v);
        if (w == LCB_WAIT_FAILED)
            return "failed";
        if (w == LCB_WAIT_PENDING)
            st = NULL;
    }
    return st;
}

/* Settle the restores --no-wait (or a dead run) left running. */
static int
refresh_restores(struct lcb_ctx *ctx, size_t *changed)
{
    struct lcb_stmt *st;
    struct lcb_strlist rows = LCB_STRLIST_INIT;
    struct lcb_json *detail;
    struct lcb_buf js = LCB_BUF_INIT;
    struct lcb_err e;
    const char *to;
    size_t i;
    int rc;

    if (lcb_db_prepare(&st, lcb_catalog_db(ctx->cat), restores_sql, &ctx->err) < 0)
        return -1;
    while ((rc = lcb_stmt_step(st, &ctx->err)) == 1)
        for (i = 0; i < 5; i++)
            lcb_strlist_add(&rows, lcb_col_text(st, (int)i) ? lcb_col_text(st, (int)i) : "");
    lcb_stmt_free(st);
    for (i = 0; rc == 0 && i + 4 < rows.n; i += 5) {
        char **r = rows.items + i;
        detail = NULL;
        if (lcb_json_parse(&detail, r[3], strlen(r[3]), &e) < 0 || !detail)
            detail = lcb_json_new_object();
        lcb_err_clear(&e);
        to = strcmp(r[1], "rds") == 0
                 ? rds_restore_state(ctx, lcb_json_get_str(detail, "region"), r[2], detail, &e)
                 : ebs_restore_state(ctx, lcb_json_get_str(detail, "region"), detail, &e);
        if (to) {
            lcb_buf_reset(&js);
            lcb_json_print(&js, detail, 0);
            if (lcb_catalog_restore_end(ctx->cat, r[0], to, lcb_buf_str(&js), &ctx->err) < 0)
                rc = -1;
            (*changed)++;
        }
        fprintf(ctx->out, "%s  %s -> %s\n", r[0], r[4], to ? to : r[4]);
        lcb_json_free(detail);
    }
    lcb_buf_release(&js);
    lcb_strlist_release(&rows);
    return rc < 0 ? -1 : 0;
}

int
cmd_catalog_refresh(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    struct lcb_job_ctx jc;
    struct lcb_backup b;
    struct lcb_err e;
    int64_t wait = 0;
    size_t i, failed = 0, changed_n = 0;
    int changed;
    size_t explicit;
    char before[16], line[1024];
    const struct lcb_opt opts[] = {
        {"wait", 0, LCB_OPT_DURATION, &wait},
        {NULL, 0, 0, NULL},
    };

    if (lcb_cmd_begin(ctx, opts, argc, argv, &ids) < 0)
        goto out;
    explicit = ids.n;
    if (ids.n == 0 && open_ids(ctx, &ids) < 0)
        goto out;
    memset(&jc, 0, sizeof(jc));
    jc.aws = ctx->aws;
    jc.cat = ctx->cat;
    jc.policy = ctx->policy;
    jc.policy_file = ctx->policy_path;
    jc.env = ctx->env;
    jc.run_id = ctx->run_id;
    jc.out = ctx->out;
    if (ids.n == 0 && open_restores(ctx) == 0)
        fprintf(ctx->out, "nothing to refresh\n");
    for (i = 0; i < ids.n; i++) {
        lcb_err_clear(&e);
        if (lcb_catalog_backup_get(ctx->cat, ids.items[i], &b, &e) < 0) {
            if (failed++ == 0)
                ctx->err = e;
            continue;
        }
        snprintf(before, sizeof(before), "%s", b.status);
        if (lcb_snap_refresh(&jc, &b, wait, &changed, &e) < 0) {
            lcb_log(LCB_ERROR, "catalog.refresh.failed", "%s: %s", b.id,
                    lcb_err_format(&e, line, sizeof(line)));
            if (failed++ == 0)
                ctx->err = e;
        }
        changed_n += changed != 0;
        fprintf(ctx->out, "%s  %s -> %s%s%s\n", b.id, before, b.status,
                b.error && strcmp(b.status, "failed") == 0 ? "  " : "",
                b.error && strcmp(b.status, "failed") == 0 ? b.error : "");
        lcb_backup_release(&b);
        if (e.code == LCB_EINTR)
            break;
    }
    if (explicit == 0 && ctx->err.code == LCB_OK && refresh_restores(ctx, &changed_n) < 0)
        failed++;
    if (failed && failed < ids.n && ctx->err.code != LCB_EINTR) {
        lcb_wrap(&ctx->err, "%zu of %zu backups could not be refreshed, the first", failed, ids.n);
        ctx->err.code = LCB_EPARTIAL;
    }
    lcb_log(LCB_INFO, "catalog.refresh.done", "%zu of %zu backups changed", changed_n, ids.n);
out:
    lcb_strlist_release(&ids);
    return ctx->err.code == LCB_OK ? 0 : -1;
}
