/* catalog_refresh.c - `lcbackup catalog refresh`: complete the rds and ebs backups (and copies)
 * that were recorded before AWS finished them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/core/mem.h"
#include "../lib/ext/db.h"
#include "../lib/snapshot/snapshot.h"
#include "cmd.h"

const char cmd_catalog_refresh_usage[] =
    "usage: lcbackup catalog refresh [--wait DUR] [ID ...]\n"
    "\n"
    "Complete rds and ebs backups recorded as pending (--no-wait, or a wait that timed out), "
    "still\n"
    "running after their run ended, or abandoned by a run that died after the snapshot started:\n"
    "ask AWS, mark each completed (with its snapshot time, size and manifest) or failed, start "
    "the\n"
    "DR copy it still owes, and settle pending copies. Default: every such backup.\n"
    "\n"
    "  --wait DUR   wait up to DUR for each one to finish (default: look once)\n";

static const char open_sql[] =
    "SELECT id FROM backups WHERE kind IN ('rds','ebs') AND ("
    "status IN ('pending','running') OR "
    "(status='failed' AND error LIKE 'abandoned%' AND location IS NOT NULL AND location<>'') OR "
    "id IN (SELECT backup_id FROM copies WHERE status IN ('pending','running'))) "
    "ORDER BY started_at";

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
    char before[16], line[1024];
    const struct lcb_opt opts[] = {
        {"wait", 0, LCB_OPT_DURATION, &wait},
        {NULL, 0, 0, NULL},
    };

    if (lcb_cmd_begin(ctx, opts, argc, argv, &ids) < 0)
        goto out;
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
    if (ids.n == 0)
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
    if (failed && failed < ids.n && ctx->err.code != LCB_EINTR) {
        lcb_wrap(&ctx->err, "%zu of %zu backups could not be refreshed, the first", failed, ids.n);
        ctx->err.code = LCB_EPARTIAL;
    }
    lcb_log(LCB_INFO, "catalog.refresh.done", "%zu of %zu backups changed", changed_n, ids.n);
out:
    lcb_strlist_release(&ids);
    return ctx->err.code == LCB_OK ? 0 : -1;
}
