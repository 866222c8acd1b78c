/* backup_broker.c - `lcbackup backup broker`: export every broker entity to a tar.zst in S3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/backup/broker.h"
#include "../lib/core/clock.h"
#include "../lib/core/mem.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_backup_broker_usage[] =
    "usage: lcbackup backup broker [--target NAME] [--broker-url URL] [--tenant T] [--types T,...]\n"
    "                              [--page-size N] [--pages-in-flight N] [--level N] [--threads N]\n"
    "                              [--part-size MIB] [--parts-in-flight N] [--bucket B]\n"
    "\n"
    "Export every entity of the NGSI-LD broker, page by page, into a zstd-compressed tar archive\n"
    "streamed to S3 (s3://BUCKET/PREFIX/ENV/broker/TARGET/ID.tar.zst) with a sidecar\n"
    "ID.tar.zst.manifest.json, and record it in the catalog. Types come from the policy, --types,\n"
    "or the broker (cross-checked against its total). On failure or interruption the upload is\n"
    "aborted and the backup marked failed: S3 keeps no partial object.\n"
    "\n"
    "  --target NAME          the policy's broker target (default: each broker target)\n"
    "  --broker-url URL       the broker, instead of the policy's url or url_param\n"
    "  --tenant T             NGSILD-Tenant to export (default: the policy's, else the default)\n"
    "  --types T,...          only these entity types\n"
    "  --page-size N          entities per page (default: the policy's, else 1000; halved while\n"
    "                         the broker refuses it)\n"
    "  --pages-in-flight N    pages requested at once (default 4)\n"
    "  --level N              zstd level 1-19 (default 3)\n"
    "  --threads N            zstd worker threads (default 0: compress in the main thread)\n"
    "  --part-size MIB        S3 part size in MiB (default 8, at least 5)\n"
    "  --parts-in-flight N    S3 parts uploaded at once (default 2)\n"
    "  --bucket B             the bucket, instead of the policy's storage.bucket\n";

struct flags {
    const char *target, *url, *tenant, *bucket;
    struct lcb_strlist types;
    long long page_size, pages_in_flight, level, threads, part_mib, parts_in_flight;
};

static void
print_result(struct lcb_ctx *ctx, const struct lcb_broker_result *r)
{
    char took[32];

    if (ctx->json) {
        fprintf(ctx->out, "{\"backup_id\":\"%s\",\"location\":\"%s\",\"entities\":%llu,"
                "\"size\":%llu,\"sha256\":\"%s\",\"seconds\":%.3f,\"discrepancies\":%d}\n",
                r->backup_id, r->location, (unsigned long long)r->entities,
                (unsigned long long)r->size, r->sha256, (double)r->elapsed_ms / 1000.0,
                r->discrepancies);
        return;
    }
    fprintf(ctx->out, "%s  %llu entities  %llu bytes  %s  in %s\n", r->backup_id,
            (unsigned long long)r->entities, (unsigned long long)r->size, r->location,
            lcb_duration_fmt(r->elapsed_ms / 1000, took, sizeof(took)));
    if (r->discrepancies)
        fprintf(ctx->out, "  %d discrepancies recorded in the manifest: `lcbackup show %s`\n",
                r->discrepancies, r->backup_id);
}

static int
backup_target(struct lcb_ctx *ctx, const struct flags *f, const struct lcb_target *t)
{
    struct lcb_secret url = LCB_SECRET_INIT;
    struct lcb_broker_backup b;
    struct lcb_broker_result res;
    int rc;

    memset(&b, 0, sizeof(b));
    if (f->url)
        lcb_secret_set(&url, f->url, strlen(f->url));
    else if (!t)
        return lcb_err_set(&ctx->err, LCB_ECONFIG,
                           "no broker: give --broker-url or a policy with a broker target");
    else if (lcb_broker_url(&url, ctx->aws, t, &ctx->err) < 0)
        return -1;
    b.url = &url;
    b.tenant = f->tenant ? f->tenant : t ? t->tenant : NULL;
    b.types = f->types.n ? f->types.items : t ? t->types : NULL;
    b.ntypes = f->types.n ? f->types.n : t ? t->ntypes : 0;
    b.page_size = (int)(f->page_size ? f->page_size : t ? t->page_size : 1000);
    b.pages_in_flight = (int)f->pages_in_flight;
    b.bucket = f->bucket ? f->bucket : ctx->policy ? ctx->policy->bucket : NULL;
    b.prefix = ctx->policy ? ctx->policy->prefix : "lcbackup";
    b.env = ctx->env;
    b.target = f->target ? f->target : t ? t->name : "broker";
    b.policy_file = ctx->policy_path;
    b.kms_key = ctx->policy ? ctx->policy->kms_key : NULL;
    b.object_lock = ctx->policy ? ctx->policy->object_lock : 0;
    b.level = (int)f->level;
    b.threads = (int)f->threads;
    b.part_size = (size_t)f->part_mib << 20;
    b.parts_in_flight = (int)f->parts_in_flight;
    if (!b.bucket) {
        lcb_secret_release(&url);
        return lcb_err_set(&ctx->err, LCB_ECONFIG, "no bucket: give --bucket or a policy");
    }
    rc = lcb_broker_backup_run(&b, ctx->aws, ctx->cat, &res, &ctx->err);
    lcb_secret_release(&url);
    if (rc < 0)
        return lcb_wrap(&ctx->err, "target %s", b.target);
    print_result(ctx, &res);
    return 0;
}

int
cmd_backup_broker(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    const struct lcb_target *targets[16];
    size_t n, i;
    int rc = 0;
    const struct lcb_opt opts[] = {
        { "target", 0, LCB_OPT_STR, &f.target },
        { "broker-url", 0, LCB_OPT_STR, &f.url },
        { "tenant", 0, LCB_OPT_STR, &f.tenant },
        { "types", 0, LCB_OPT_LIST, &f.types },
        { "page-size", 0, LCB_OPT_INT, &f.page_size },
        { "pages-in-flight", 0, LCB_OPT_INT, &f.pages_in_flight },
        { "level", 0, LCB_OPT_INT, &f.level },
        { "threads", 0, LCB_OPT_INT, &f.threads },
        { "part-size", 0, LCB_OPT_INT, &f.part_mib },
        { "parts-in-flight", 0, LCB_OPT_INT, &f.parts_in_flight },
        { "bucket", 0, LCB_OPT_STR, &f.bucket },
        { NULL, 0, 0, NULL },
    };

    memset(&f, 0, sizeof(f));
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0)
        goto out;
    if (f.target) {
        const struct lcb_target *t = lcb_policy_target(ctx->policy, LCB_KIND_BROKER, f.target);
        if (!t && !f.url) {
            rc = lcb_err_set(&ctx->err, LCB_ECONFIG, "no broker target '%s' in the policy",
                             f.target);
            goto out;
        }
        rc = backup_target(ctx, &f, t);
        goto out;
    }
    n = lcb_policy_targets(ctx->policy, LCB_KIND_BROKER, targets, 16);
    if (n == 0 || f.url) {
        rc = backup_target(ctx, &f, n ? targets[0] : NULL);
        goto out;
    }
    for (i = 0; i < n && i < 16 && rc == 0; i++)
        rc = backup_target(ctx, &f, targets[i]);
out:
    lcb_strlist_release(&f.types);
    return ctx->err.code ? -1 : rc;
}
