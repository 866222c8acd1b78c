/* catalog_pull.c - `lcbackup catalog pull`: fetch the published catalog and merge it in. */
#include <stdio.h>
#include <stdlib.h>

#include "../lib/core/buf.h"

#include "../lib/catalog/sync.h"
#include "../lib/jobs/jobs.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_catalog_pull_usage[] =
    "usage: lcbackup catalog pull\n"
    "\n"
    "Fetch the catalog the policy's runners publish (s3://<bucket>/<prefix>/catalog/<env>/\n"
    "catalog.db) and merge it into the local one, creating it on a new host. Rows already here\n"
    "are kept or updated by the merge rule of docs/catalog.md; nothing local is lost.\n";

int
cmd_catalog_pull(struct lcb_ctx *ctx, int argc, char **argv)
{
    const struct lcb_opt opts[] = { { NULL, 0, 0, NULL } };
    struct lcb_sync_remote r;
    struct lcb_sync_result res;
    struct lcb_buf out = LCB_BUF_INIT;
    char *key;
    int rc;

    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0)
        return -1;
    key = lcb_job_remote(ctx->policy, ctx->env, &r);
    rc = lcb_catalog_pull(ctx->cat, ctx->aws, &r, &res, &ctx->err);
    if (rc == 0) {
        lcb_sync_describe(&out, "pulled", &r, &res, ctx->json);
        fputs(lcb_buf_str(&out), ctx->out);
    }
    lcb_buf_release(&out);
    free(key);
    return rc;
}
