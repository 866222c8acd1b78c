/* diff_config.c - `lcbackup diff config ID`: a config backup against live AWS or another
 * backup, field by field. */
#include <stdio.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/config/backup.h"
#include "../lib/config/diff.h"
#include "../lib/config/secrets.h"
#include "cmd.h"

const char cmd_diff_config_usage[] =
    "usage: lcbackup diff config [--against live|ID2] [--show-secrets] [--key-file FILE] [--json]\n"
    "                            ID\n"
    "\n"
    "Compare config backup ID with what AWS holds now (its SSM paths and ECS clusters), or with\n"
    "another config backup: parameters added, removed and changed, task definitions and services\n"
    "changed, field by field (versions, revisions, times and counts left out). SecureString\n"
    "values are compared but shown as *** unless --show-secrets. Exits 0 when they are equal and\n"
    "1 when they differ, as diff(1) does.\n"
    "\n"
    "  --against live|ID2  what to compare the backup with (default: live)\n"
    "  --show-secrets      print SecureString values that differ\n"
    "  --key-file FILE     the 32-byte key the backups were encrypted with, when not KMS\n"
    "  --json              one JSON object instead of the text\n";

static int
load(struct lcb_ctx *ctx, struct lcb_config *c, const char *id, const char *key_file)
{
    struct lcb_backup b;
    int rc;

    if (lcb_catalog_backup_get(ctx->cat, id, &b, &ctx->err) < 0)
        return -1;
    rc = lcb_config_load_backup(c, ctx->aws, &b, key_file, &ctx->err);
    lcb_backup_release(&b);
    return rc;
}

static int
load_live(struct lcb_ctx *ctx, struct lcb_config *live, const struct lcb_config *a)
{
    size_t i;

    for (i = 0; i < a->paths.n; i++)
        if (lcb_config_fetch_params(live, ctx->aws, a->paths.items[i], &ctx->err) < 0)
            return -1;
    for (i = 0; i < a->clusters.n; i++)
        if (lcb_config_fetch_services(live, ctx->aws, a->clusters.items[i], &ctx->err) < 0)
            return -1;
    if ((a->nsecrets || a->secret_prefixes.n || a->secret_tags.n) &&
        lcb_config_fetch_secrets_like(live, ctx->aws, a, &ctx->err) < 0)
        return -1;
    lcb_config_sort(live);
    return 0;
}

int
cmd_diff_config(struct lcb_ctx *ctx, int argc, char **argv)
{
    const char *against = NULL, *key_file = NULL;
    int show = 0, rc = -1;
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    struct lcb_config a, b;
    struct lcb_config_diff d;
    struct lcb_buf out = LCB_BUF_INIT;
    const struct lcb_opt opts[] = {
        { "against", 0, LCB_OPT_STR, &against },
        { "show-secrets", 0, LCB_OPT_FLAG, &show },
        { "key-file", 0, LCB_OPT_STR, &key_file },
        { NULL, 0, 0, NULL },
    };

    lcb_config_init(&a);
    lcb_config_init(&b);
    lcb_config_diff_init(&d);
    if (lcb_cmd_begin(ctx, opts, argc, argv, &ids) < 0)
        goto out;
    if (ids.n != 1) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "give exactly one backup id");
        goto out;
    }
    if (!against)
        against = "live";
    if (load(ctx, &a, ids.items[0], key_file) < 0 ||
        (strcmp(against, "live") == 0 ? load_live(ctx, &b, &a)
                                      : load(ctx, &b, against, key_file)) < 0)
        goto out;
    lcb_config_diff(&d, &a, &b, show);
    if (ctx->json)
        lcb_config_diff_json(&out, &d);
    else
        lcb_config_diff_text(&out, &d);
    fputs(lcb_buf_str(&out), ctx->out);
    if (d.n == 0)
        rc = 0;
    else
        lcb_err_set(&ctx->err, LCB_EFAIL, "%s differs from backup %s: %zu difference%s",
                    strcmp(against, "live") == 0 ? "live" : against, ids.items[0], d.n,
                    d.n == 1 ? "" : "s");
out:
    lcb_buf_release(&out);
    lcb_config_diff_release(&d);
    lcb_config_release(&a);
    lcb_config_release(&b);
    lcb_strlist_release(&ids);
    return rc;
}
