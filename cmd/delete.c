/* delete.c - `lcbackup delete ID`: remove one backup (its snapshots and their cross-region copies)
 * and mark it deleted in the catalog. */
#include <stdio.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/jobs/jobs.h"
#include "../lib/snapshot/snapshot.h"
#include "cmd.h"

const char cmd_delete_usage[] =
    "usage: lcbackup delete ID [--dry-run]\n"
    "\n"
    "Delete one backup: for rds and ebs its snapshot(s) and every cross-region copy recorded for\n"
    "it (other kinds: the archive and its sidecar manifest), then mark it deleted in the\n"
    "catalog. A snapshot already gone counts as deleted. Refused (exit 69) for a backup under a\n"
    "hold or a lock, and for one still being taken. ID may be a unique prefix.\n"
    "\n"
    "  --dry-run   print the API calls it would make; delete nothing\n";

static int
check_deletable(struct lcb_ctx *ctx, const struct lcb_backup *b)
{
    char why[256];

    if (strcmp(b->status, "running") == 0)
        return lcb_err_set(&ctx->err, LCB_EREFUSED,
                           "backup %s is still being taken (run %s): "
                           "wait for it, or `lcbackup catalog refresh` if that run is gone",
                           b->id, b->run_id ? b->run_id : "?");
    if (lcb_snap_protected(b, why, sizeof(why)))
        return lcb_err_set(&ctx->err, LCB_EREFUSED, "backup %s is %s", b->id, why);
    return 0;
}

static lcb_job_delete_fn
deleter(const struct lcb_backup *b)
{
    int k = lcb_kind_parse(b->kind);

    if (strcmp(b->kind, "rds") == 0)
        return lcb_job_delete_rds;
    if (strcmp(b->kind, "ebs") == 0)
        return lcb_job_delete_ebs;
    return k < 0 ? NULL : lcb_job_kind((enum lcb_kind)k)->del;
}

int
cmd_delete(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    struct lcb_backup b;
    struct lcb_job_ctx jc;
    struct lcb_job_deleted del;
    lcb_job_delete_fn fn;
    int dry = 0, have = 0, r;
    const struct lcb_opt opts[] = {
        {"dry-run", 'n', LCB_OPT_FLAG, &dry},
        {NULL, 0, 0, NULL},
    };

    if (lcb_cmd_begin(ctx, opts, argc, argv, &ids) < 0)
        goto out;
    if (ids.n != 1) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "give exactly one backup id");
        goto out;
    }
    if (lcb_catalog_backup_get(ctx->cat, ids.items[0], &b, &ctx->err) < 0)
        goto out;
    have = 1;
    if (strcmp(b.status, "deleted") == 0) {
        fprintf(ctx->out, "%s is already deleted\n", b.id);
        goto out;
    }
    if (check_deletable(ctx, &b) < 0)
        goto out;
    if (!(fn = deleter(&b))) {
        lcb_err_set(&ctx->err, LCB_EUSAGE,
                    "%s: deleting %s backups is not available in this "
                    "build",
                    b.id, b.kind);
        goto out;
    }
    memset(&jc, 0, sizeof(jc));
    jc.aws = ctx->aws;
    jc.cat = ctx->cat;
    jc.policy = ctx->policy;
    jc.policy_file = ctx->policy_path;
    jc.env = ctx->env;
    jc.run_id = ctx->run_id;
    jc.dry_run = dry;
    jc.out = ctx->out;
    if ((r = fn(&jc, &b, &del, &ctx->err)) < 0) {
        lcb_wrap(&ctx->err, "delete %s", b.id);
        goto out;
    }
    if (r == 1) {
        lcb_err_set(&ctx->err, LCB_EREFUSED, "backup %s is %s", b.id, del.why);
        goto out;
    }
    if (dry)
        goto out;
    if (lcb_snap_mark_deleted(&jc, b.id, &ctx->err) < 0)
        goto out;
    lcb_log(LCB_INFO, "backup.deleted", "deleted %s (%d snapshot%s or object%s)", b.id, del.objects,
            del.objects == 1 ? "" : "s", del.objects == 1 ? "" : "s");
    fprintf(ctx->out, "%s deleted\n", b.id);
out:
    if (have)
        lcb_backup_release(&b);
    lcb_strlist_release(&ids);
    return ctx->err.code == LCB_OK ? 0 : -1;
}
