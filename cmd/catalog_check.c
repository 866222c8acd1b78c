/* catalog_check.c - `lcbackup catalog check`: integrity and invariants. */
#include <stdio.h>

#include "../lib/catalog/catalog.h"
#include "../lib/core/buf.h"
#include "cmd.h"

const char cmd_catalog_check_usage[] =
    "usage: lcbackup catalog check\n"
    "\n"
    "Run SQLite's integrity check, the foreign-key check and the catalog's own invariants\n"
    "(completed backups have a location and a completion time, no backup is still running after\n"
    "its run ended, ...). Lists each problem; exits 65 when there is any.\n";

int
cmd_catalog_check(struct lcb_ctx *ctx, int argc, char **argv)
{
    const struct lcb_opt opts[] = { { NULL, 0, 0, NULL } };
    struct lcb_buf report = LCB_BUF_INIT;
    int n;

    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0)
        return -1;
    n = lcb_catalog_check(ctx->cat, &report, &ctx->err);
    if (n < 0) {
        lcb_buf_release(&report);
        return -1;
    }
    fputs(lcb_buf_str(&report), ctx->out);
    lcb_buf_release(&report);
    if (n > 0)
        return lcb_err_set(&ctx->err, LCB_ECORRUPT, "%d problem%s in catalog '%s'", n,
                           n == 1 ? "" : "s", lcb_catalog_path(ctx->cat));
    fprintf(ctx->out, "catalog %s: ok (schema version %d)\n", lcb_catalog_path(ctx->cat),
            lcb_catalog_version(ctx->cat));
    return 0;
}
