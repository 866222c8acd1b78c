/* backup_config.c - `lcbackup backup config`: SSM parameters and ECS services to a tar.zst. */
#include <stdio.h>
#include <string.h>

#include "../lib/config/backup.h"
#include "../lib/core/mem.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_backup_config_usage[] =
    "usage: lcbackup backup config [--target NAME] [--path PATH ...] [--cluster C ...]\n"
    "                              [--bucket B] [--key-file FILE] [--dry-run]\n"
    "\n"
    "Export the platform's configuration to a tar.zst archive in S3\n"
    "(s3://BUCKET/PREFIX/ENV/config/TARGET/ID.tar.zst, with a sidecar ID.tar.zst.manifest.json)\n"
    "and record it in the catalog: every SSM parameter under each path (recursive: type, value,\n"
    "version, KeyId, tier, description, allowed pattern, data type, policies, tags, last\n"
    "modified), and every service of each ECS cluster with the task definition revision it runs\n"
    "(tags included), as AWS describes them. SecureString values are encrypted in the archive\n"
    "with AES-256-GCM under a data key from KMS (the policy's storage.kms_key), or --key-file.\n"
    "\n"
    "  --target NAME    the policy's config target (default: each config target)\n"
    "  --path PATH      SSM path to export, repeatable (default: the target's ssm_paths, else\n"
    "                   /legocity/ENV/)\n"
    "  --cluster C      ECS cluster to export, repeatable (default: the target's ecs_clusters)\n"
    "  --bucket B       the bucket, instead of the policy's storage.bucket\n"
    "  --key-file FILE  encrypt with this 32-byte key (mode 0600) instead of a KMS data key\n"
    "  --dry-run        print the API calls it would make; change nothing\n";

struct flags {
    const char *target, *bucket, *key_file;
    struct lcb_strlist paths, clusters;
    int dry_run;
};

static void
print_result(struct lcb_ctx *ctx, const struct lcb_config_backup_result *r)
{
    if (ctx->json) {
        fprintf(ctx->out, "{\"backup_id\":\"%s\",\"location\":\"%s\",\"size\":%llu,"
                "\"sha256\":\"%s\",\"parameters\":%zu,\"secure_strings\":%zu,\"services\":%zu,"
                "\"task_definitions\":%zu,\"secrets\":%zu}\n", r->id, r->location,
                (unsigned long long)r->size, r->sha256, r->params, r->secure, r->services,
                r->taskdefs, r->secrets);
        return;
    }
    fprintf(ctx->out, "%s  %zu parameters (%zu SecureString)  %zu services  %zu task "
            "definitions  %zu secrets  %llu bytes  %s\n", r->id, r->params, r->secure,
            r->services, r->taskdefs, r->secrets, (unsigned long long)r->size, r->location);
}

static int
backup_target(struct lcb_ctx *ctx, const struct flags *f, const struct lcb_target *t)
{
    struct lcb_strlist paths = LCB_STRLIST_INIT, clusters = LCB_STRLIST_INIT;
    struct lcb_config_backup_opts o;
    struct lcb_config_backup_result r;
    struct lcb_buf calls = LCB_BUF_INIT;
    size_t i;
    int rc = 0;

    for (i = 0; i < f->paths.n; i++)
        lcb_strlist_add(&paths, f->paths.items[i]);
    for (i = 0; i < f->clusters.n; i++)
        lcb_strlist_add(&clusters, f->clusters.items[i]);
    lcb_config_backup_opts_from(&o, ctx->policy, t, ctx->env, &paths, &clusters);
    o.policy = ctx->policy_path;
    if (f->bucket)
        o.bucket = f->bucket;
    o.key_file = f->key_file;
    if (!o.bucket)
        rc = lcb_err_set(&ctx->err, LCB_ECONFIG, "no bucket: give --bucket or a policy with "
                         "storage.bucket");
    else if (f->dry_run) {
        lcb_config_backup_calls(&calls, &o);
        fputs(lcb_buf_str(&calls), ctx->out);
    } else if ((rc = lcb_config_backup(&r, ctx->cat, ctx->aws, &o, &ctx->err)) == 0)
        print_result(ctx, &r);
    else
        lcb_wrap(&ctx->err, "target %s", o.target);
    lcb_buf_release(&calls);
    lcb_strlist_release(&paths);
    lcb_strlist_release(&clusters);
    return rc;
}

static int
run_targets(struct lcb_ctx *ctx, const struct flags *f)
{
    const struct lcb_target *ts[64];
    size_t n = 0, i;
    int failed = 0;

    if (f->target) {
        ts[0] = ctx->policy ? lcb_policy_target(ctx->policy, LCB_KIND_CONFIG, f->target) : NULL;
        if (!ts[0])
            return lcb_err_set(&ctx->err, LCB_ENOTFOUND, "no config target '%s' in the policy",
                               f->target);
        n = 1;
    } else if (ctx->policy) {
        n = lcb_policy_targets(ctx->policy, LCB_KIND_CONFIG, ts, LCB_ARRAY_SIZE(ts));
    }
    if (n == 0)
        return backup_target(ctx, f, NULL);
    for (i = 0; i < n; i++)
        if (backup_target(ctx, f, ts[i]) < 0)
            failed++;
    if (failed && n > 1 && failed < (int)n)
        return lcb_err_set(&ctx->err, LCB_EPARTIAL, "%d of %zu config targets failed", failed,
                           n);
    return failed ? -1 : 0;
}

int
cmd_backup_config(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    const struct lcb_opt opts[] = {
        { "target", 0, LCB_OPT_STR, &f.target },
        { "path", 0, LCB_OPT_LIST, &f.paths },
        { "cluster", 0, LCB_OPT_LIST, &f.clusters },
        { "bucket", 0, LCB_OPT_STR, &f.bucket },
        { "key-file", 0, LCB_OPT_STR, &f.key_file },
        { "dry-run", 'n', LCB_OPT_FLAG, &f.dry_run },
        { NULL, 0, 0, NULL },
    };
    size_t i;
    int rc;

    memset(&f, 0, sizeof(f));
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0) {
        rc = -1;
        goto out;
    }
    for (i = 0; i < f.paths.n; i++) {
        if (f.paths.items[i][0] != '/') {
            rc = lcb_err_set(&ctx->err, LCB_EUSAGE, "--path '%s': an SSM path starts with '/'",
                             f.paths.items[i]);
            goto out;
        }
    }
    rc = run_targets(ctx, &f);
out:
    lcb_strlist_release(&f.paths);
    lcb_strlist_release(&f.clusters);
    return rc;
}
