/* catalog_rebuild.c - `lcbackup catalog rebuild`: the catalog from AWS alone (inventory.h). */
#include <stdio.h>

#include "../lib/catalog/catalog.h"
#include "../lib/core/buf.h"
#include "../lib/ext/db.h"
#include "../lib/jobs/inventory.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_catalog_rebuild_usage[] =
    "usage: lcbackup catalog rebuild [--dry-run]\n"
    "\n"
    "Reconstruct the catalog from AWS alone, the day the runner host is gone: RDS and EBS\n"
    "snapshots tagged lcbackup:backup-id in the policy's region and DR region (copies become\n"
    "copies), and the archives in the policy's bucket with their sidecar manifests. Backups the\n"
    "catalog already has are left as they are.\n"
    "\n"
    "  --dry-run   list what would be recorded, record nothing\n";

int
cmd_catalog_rebuild(struct lcb_ctx *ctx, int argc, char **argv)
{
    int dry_run = 0;
    const struct lcb_opt opts[] = { { "dry-run", 'n', LCB_OPT_FLAG, &dry_run },
                                    { NULL, 0, 0, NULL } };
    struct lcb_inventory inv;
    struct lcb_rebuild_stats st;
    struct lcb_buf report = LCB_BUF_INIT;
    struct lcb_err ignored;
    int rc = -1;

    lcb_inventory_init(&inv);
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0 ||
        lcb_inventory_collect(&inv, ctx->aws, ctx->policy, ctx->env, &ctx->err) < 0)
        goto out;
    /* a dry run records in a transaction it rolls back: the same code says what it would do */
    if (dry_run && lcb_db_exec(lcb_catalog_db(ctx->cat), "SAVEPOINT rebuild", &ctx->err) < 0)
        goto out;
    rc = lcb_rebuild(ctx->cat, &inv, ctx->policy, ctx->env, &st, &report, &ctx->err);
    if (dry_run)
        lcb_db_exec(lcb_catalog_db(ctx->cat), "ROLLBACK TO rebuild; RELEASE rebuild", &ignored);
    if (rc < 0)
        goto out;
    if (ctx->json) {
        fprintf(ctx->out,
                "{\"dry_run\":%s,\"added\":%d,\"copies\":%d,\"known\":%d,\"skipped\":%d}\n",
                dry_run ? "true" : "false", st.added, st.copies, st.known, st.skipped);
    } else {
        fputs(lcb_buf_str(&report), ctx->out);
        fprintf(ctx->out, "rebuild%s: %d backup%s %s, %d cop%s, %d already known, %d skipped%s\n",
                dry_run ? " (dry run)" : "", st.added, st.added == 1 ? "" : "s",
                dry_run ? "to add" : "added", st.copies, st.copies == 1 ? "y" : "ies", st.known,
                st.skipped, st.skipped ? " (`lcbackup catalog drift` lists them)" : "");
    }
out:
    lcb_buf_release(&report);
    lcb_inventory_release(&inv);
    return rc;
}
