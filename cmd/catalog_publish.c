/* catalog_publish.c - `lcbackup catalog publish`: upload the catalog to S3 (lib/catalog/sync.h). */
#include <stdio.h>
#include <stdlib.h>

#include "../lib/catalog/sync.h"
#include "../lib/core/buf.h"
#include "../lib/core/log.h"
#include "../lib/jobs/jobs.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_catalog_publish_usage[] =
    "usage: lcbackup catalog publish\n"
    "\n"
    "Upload the catalog to s3://<bucket>/<prefix>/catalog/<env>/catalog.db (the policy's\n"
    "storage) with a conditional write on the ETag this catalog last saw. When another runner\n"
    "published meanwhile, its copy is pulled and merged first, then the upload is retried.\n"
    "`lcbackup run` does this after every run.\n";

int
cmd_catalog_publish(struct lcb_ctx *ctx, int argc, char **argv)
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
    rc = lcb_catalog_publish(ctx->cat, ctx->aws, &r, &res, &ctx->err);
    if (rc == 0) {
        lcb_logf(LCB_INFO, "catalog.published", LCB_FIELDS(LCB_KV_S("etag", res.etag)),
                 "catalog published to s3://%s/%s", r.bucket, r.key);
        lcb_sync_describe(&out, "published", &r, &res, ctx->json);
        fputs(lcb_buf_str(&out), ctx->out);
    }
    lcb_buf_release(&out);
    free(key);
    return rc;
}
