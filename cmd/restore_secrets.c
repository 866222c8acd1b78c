/* restore_secrets.c - `lcbackup restore secrets ID`: put back the Secrets Manager secrets of a
 * config backup that differ from what Secrets Manager holds (lib/config/secrets.h). */
#include <stdio.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/config/backup.h"
#include "../lib/config/secrets.h"
#include "../lib/core/mem.h"
#include "../lib/policy/policy.h"
#include "common.h"

const char cmd_restore_secrets_usage[] =
    "usage: lcbackup restore secrets [--name N ...] [--key-file FILE] [--dry-run] [--yes] ID\n"
    "\n"
    "Put back the Secrets Manager secrets of config backup ID, changing only what differs from\n"
    "what Secrets Manager holds now: a missing secret is created with its description, KMS key,\n"
    "tags and current value; a secret scheduled for deletion has its deletion cancelled; a\n"
    "different current value becomes a new version (AWSCURRENT); description, KMS key, tags and\n"
    "rotation settings are put back. Secrets the backup does not hold are listed, never deleted.\n"
    "The archive is verified and every value decrypted before anything is written. Restoring\n"
    "another environment's backup, or into a production environment, needs --yes.\n"
    "\n"
    "  --name N         only this secret (repeatable)\n"
    "  --key-file FILE  the 32-byte key the backup was encrypted with, when not KMS\n"
    "  --dry-run        print the API calls it would make (values as ***); change nothing\n"
    "  --yes            confirm a restore into production or across environments\n";

struct flags {
    const char *key_file;
    struct lcb_strlist names;
    int dry_run, yes;
};

static int
guard(struct lcb_ctx *ctx, const struct flags *f, const struct lcb_backup *b)
{
    const char *env = ctx->env ? ctx->env : b->env;

    if (f->dry_run || f->yes)
        return 0;
    if (b->env && env && strcmp(b->env, env) != 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "backup %s holds env %s's secrets and this is "
                           "env %s: add --yes to restore them here (or --dry-run to see what "
                           "would change)", b->id, b->env, env);
    return lcb_cmd_production_guard(ctx, env, 0);
}

static void
print_lists(struct lcb_ctx *ctx, const struct lcb_secret_plan *p, FILE *out)
{
    size_t i;

    for (i = 0; i < p->extra.n; i++)
        fprintf(out, "kept %s (not in the backup)\n", p->extra.items[i]);
    for (i = 0; i < p->unreadable.n; i++)
        fprintf(out, "skipped %s (scheduled for deletion when backed up: no value)\n",
                p->unreadable.items[i]);
    (void)ctx;
}

static void
print_dry_run(struct lcb_ctx *ctx, const struct lcb_secret_plan *p)
{
    struct lcb_buf calls = LCB_BUF_INIT;
    size_t i;

    for (i = 0; i < p->n; i++)
        lcb_secret_step_calls(&calls, &p->steps[i]);
    fputs(lcb_buf_str(&calls), ctx->out);
    print_lists(ctx, p, ctx->out);
    fprintf(ctx->out, "dry run: %zu to change, %zu unchanged, %zu not in the backup (kept)\n",
            p->n, p->unchanged, p->extra.n);
    lcb_buf_release(&calls);
}

static int
apply(struct lcb_ctx *ctx, const struct lcb_backup *b, const struct lcb_secret_plan *p)
{
    static const struct lcb_restore_count counts[] = {
        { "created", NULL }, { "updated", NULL }, { "retagged", NULL },
        { "unchanged", NULL }, { "failed", NULL },
    };
    struct lcb_restore_tally t;
    char rid[40];
    int rc = 0;

    if (lcb_cmd_config_restore_begin(ctx, b, "secrets", rid, &t) < 0)
        return -1;
    lcb_secret_plan_apply(&t, ctx->aws, p, lcb_cmd_config_restore_progress(ctx));
    lcb_restore_tally_fill(&t, rid, b->id, counts, LCB_ARRAY_SIZE(counts), &p->extra);
    if (!ctx->json)
        print_lists(ctx, p, ctx->out);
    lcb_cmd_config_restore_end(ctx, rid, &t, counts, LCB_ARRAY_SIZE(counts));
    if (t.failed)
        rc = lcb_err_set(&ctx->err, LCB_EPARTIAL, "%zu of %zu secret changes failed (listed "
                         "above; `lcbackup show %s`)", t.failed, p->n, rid);
    lcb_restore_tally_release(&t);
    return rc;
}

static int
restore(struct lcb_ctx *ctx, const struct flags *f, const char *id)
{
    struct lcb_backup b;
    struct lcb_config archived, live;
    struct lcb_secret_plan p;
    int rc = -1;

    memset(&b, 0, sizeof(b));
    lcb_config_init(&archived);
    lcb_config_init(&live);
    lcb_secret_plan_init(&p);
    if (lcb_catalog_backup_get(ctx->cat, id, &b, &ctx->err) < 0 || guard(ctx, f, &b) < 0 ||
        lcb_config_load_backup(&archived, ctx->aws, &b, f->key_file, &ctx->err) < 0)
        goto out;
    if (!archived.nsecrets && !archived.secret_prefixes.n && !archived.secret_tags.n) {
        lcb_err_set(&ctx->err, LCB_ENOTFOUND, "backup %s holds no secrets (its config target "
                    "has no secret_prefixes or secret_tags)", b.id);
        goto out;
    }
    if (lcb_config_fetch_secrets_like(&live, ctx->aws, &archived, &ctx->err) < 0 ||
        lcb_secret_plan_build(&p, &archived, &live, &f->names, &ctx->err) < 0)
        goto out;
    if (f->dry_run) {
        print_dry_run(ctx, &p);
        rc = 0;
    } else {
        rc = apply(ctx, &b, &p);
    }
out:
    lcb_secret_plan_release(&p);
    lcb_config_release(&live);
    lcb_config_release(&archived);
    lcb_backup_release(&b);
    return rc;
}

int
cmd_restore_secrets(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    const struct lcb_opt opts[] = {
        { "name", 0, LCB_OPT_LIST, &f.names },
        { "key-file", 0, LCB_OPT_STR, &f.key_file },
        { "dry-run", 'n', LCB_OPT_FLAG, &f.dry_run },
        { "yes", 'y', LCB_OPT_FLAG, &f.yes },
        { NULL, 0, 0, NULL },
    };
    int rc = -1;

    memset(&f, 0, sizeof(f));
    if (lcb_cmd_begin(ctx, opts, argc, argv, &ids) < 0)
        goto out;
    if (ids.n != 1)
        lcb_err_set(&ctx->err, LCB_EUSAGE, "give exactly one backup id");
    else
        rc = restore(ctx, &f, ids.items[0]);
out:
    lcb_strlist_release(&f.names);
    lcb_strlist_release(&ids);
    return rc;
}
