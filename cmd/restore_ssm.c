/* restore_ssm.c - `lcbackup restore ssm ID`: put back the parameters of a config backup that
 * differ from what SSM holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/config/backup.h"
#include "../lib/config/plan.h"
#include "../lib/core/mem.h"
#include "../lib/policy/policy.h"
#include "common.h"

const char cmd_restore_ssm_usage[] =
    "usage: lcbackup restore ssm [--path P] [--map FROM=TO ...] [--key-file FILE] [--dry-run]\n"
    "                            [--yes] ID\n"
    "\n"
    "Put back the SSM parameters of config backup ID, changing only what differs from what SSM\n"
    "holds now: a missing parameter is created with its tags; a changed one is overwritten\n"
    "(keeping its type, KeyId, tier, description, pattern and data type) and tagged again; one\n"
    "SSM cannot change in place (another type, or Advanced to Standard tier) is deleted and\n"
    "created again. Parameters the backup does not hold are listed, never deleted. The archive\n"
    "is verified and every SecureString decrypted before anything is written. Restoring into\n"
    "another environment's paths needs --map; a production environment needs --yes.\n"
    "\n"
    "  --path P         only the backup's parameters under P\n"
    "  --map FROM=TO    put the parameters under FROM under TO instead (repeatable), e.g.\n"
    "                   /legocity/prod/=/legocity/dev/\n"
    "  --key-file FILE  the 32-byte key the backup was encrypted with, when not KMS\n"
    "  --dry-run        print the API calls it would make; change nothing\n"
    "  --yes            confirm a restore into a production environment\n";

struct flags {
    const char *path, *key_file;
    struct lcb_strlist maps;
    int dry_run, yes;
};

/* Does to lie under one of the targets' ssm_paths? *any says whether there were any. */
static int
map_allowed(const char *to, const struct lcb_target *const *ts, size_t nt, int *any)
{
    size_t j, k;

    for (j = 0; j < nt; j++) {
        for (k = 0; k < ts[j]->nssm_paths; k++) {
            *any = 1;
            if (lcb_config_under(to, ts[j]->ssm_paths[k]) ||
                strcmp(to, ts[j]->ssm_paths[k]) == 0)
                return 1;
        }
    }
    return 0;
}

/* With a policy for env, every --map destination must lie under one of its config ssm_paths. */
static int
check_map_targets(struct lcb_ctx *ctx, const char *env, const struct lcb_ssm_map *maps, size_t n)
{
    const struct lcb_target *ts[64];
    size_t nt, i;
    int any = 0;

    if (!ctx->policy || !ctx->policy->env || !env || strcmp(ctx->policy->env, env) != 0)
        return 0;
    nt = lcb_policy_targets(ctx->policy, LCB_KIND_CONFIG, ts, LCB_ARRAY_SIZE(ts));
    for (i = 0; i < n; i++)
        if (!map_allowed(maps[i].to, ts, nt, &any) && any)
            return lcb_err_set(&ctx->err, LCB_EUSAGE, "--map: %s is not under env %s's "
                               "ssm_paths in the policy", maps[i].to, env);
    return 0;
}

static int
guard(struct lcb_ctx *ctx, const struct flags *f, const struct lcb_backup *b,
      const struct lcb_ssm_map *maps, size_t n)
{
    const char *env = ctx->env ? ctx->env : b->env;

    if (b->env && env && strcmp(b->env, env) != 0 && n == 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "backup %s holds env %s's parameters: restoring "
                           "them into env %s needs --map, e.g. --map /legocity/%s/=/legocity/%s/",
                           b->id, b->env, env, b->env, env);
    if (n && check_map_targets(ctx, env, maps, n) < 0)
        return -1;
    return lcb_cmd_production_guard(ctx, env, f->yes || f->dry_run);
}

static int
fetch_live(struct lcb_ctx *ctx, struct lcb_config *live, const struct lcb_config *archived,
           const struct flags *f, const struct lcb_ssm_map *maps, size_t n)
{
    struct lcb_strlist roots = LCB_STRLIST_INIT;
    size_t i;
    int rc = 0;

    lcb_ssm_plan_roots(&roots, archived, f->path, maps, n);
    for (i = 0; i < roots.n && rc == 0; i++)
        rc = lcb_config_fetch_params(live, ctx->aws, roots.items[i], &ctx->err);
    lcb_config_sort(live);
    lcb_strlist_release(&roots);
    return rc;
}

static void
print_dry_run(struct lcb_ctx *ctx, const struct lcb_ssm_plan *p)
{
    struct lcb_buf calls = LCB_BUF_INIT;
    size_t i;

    for (i = 0; i < p->n; i++)
        lcb_ssm_step_calls(&calls, &p->steps[i]);
    fputs(lcb_buf_str(&calls), ctx->out);
    fprintf(ctx->out, "dry run: %zu to change, %zu unchanged, %zu not in the backup (kept)\n",
            p->n, p->unchanged, p->extra.n);
    lcb_buf_release(&calls);
}

/* The catalog's detail of an SSM restore holds no restore_id (the row has it); --json prints it
 * last. */
static int
apply(struct lcb_ctx *ctx, const struct lcb_backup *b, const struct lcb_ssm_plan *p)
{
    static const struct lcb_restore_count counts[] = {
        { "created", NULL }, { "updated", NULL }, { "retagged", NULL },
        { "replaced", NULL }, { "unchanged", NULL }, { "failed", NULL },
    };
    struct lcb_restore_tally t;
    char rid[40];
    size_t i;
    int rc = 0;

    if (lcb_cmd_config_restore_begin(ctx, b, "ssm", rid, &t) < 0)
        return -1;
    lcb_ssm_plan_apply(&t, ctx->aws, p, lcb_cmd_config_restore_progress(ctx));
    lcb_restore_tally_fill(&t, NULL, b->id, counts, LCB_ARRAY_SIZE(counts), &p->extra);
    for (i = 0; i < p->extra.n && !ctx->json; i++)
        fprintf(ctx->out, "kept %s (not in the backup)\n", p->extra.items[i]);
    lcb_cmd_config_restore_end(ctx, rid, &t, counts, LCB_ARRAY_SIZE(counts));
    if (t.failed)
        rc = lcb_err_set(&ctx->err, LCB_EPARTIAL, "%zu of %zu parameter changes failed "
                         "(listed above; `lcbackup show %s`)", t.failed, p->n, rid);
    lcb_restore_tally_release(&t);
    return rc;
}

static int
restore(struct lcb_ctx *ctx, const struct flags *f, const char *id)
{
    struct lcb_ssm_map *maps = lcb_xcalloc(f->maps.n + 1, sizeof(*maps));
    struct lcb_backup b;
    struct lcb_config archived, live;
    struct lcb_ssm_plan p;
    size_t i;
    int rc = -1;

    memset(&b, 0, sizeof(b));
    lcb_config_init(&archived);
    lcb_config_init(&live);
    lcb_ssm_plan_init(&p);
    for (i = 0; i < f->maps.n; i++)
        if (lcb_ssm_map_parse(&maps[i], f->maps.items[i], &ctx->err) < 0)
            goto out;
    if (lcb_catalog_backup_get(ctx->cat, id, &b, &ctx->err) < 0 ||
        guard(ctx, f, &b, maps, f->maps.n) < 0 ||
        lcb_config_load_backup(&archived, ctx->aws, &b, f->key_file, &ctx->err) < 0 ||
        fetch_live(ctx, &live, &archived, f, maps, f->maps.n) < 0 ||
        lcb_ssm_plan_build(&p, &archived, &live, f->path, maps, f->maps.n, &ctx->err) < 0)
        goto out;
    if (f->dry_run) {
        print_dry_run(ctx, &p);
        rc = 0;
    } else {
        rc = apply(ctx, &b, &p);
    }
out:
    lcb_ssm_plan_release(&p);
    lcb_config_release(&live);
    lcb_config_release(&archived);
    lcb_backup_release(&b);
    free(maps);
    return rc;
}

int
cmd_restore_ssm(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    const struct lcb_opt opts[] = {
        { "path", 0, LCB_OPT_STR, &f.path },
        { "map", 0, LCB_OPT_LIST, &f.maps },
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
    else if (f.path && f.path[0] != '/')
        lcb_err_set(&ctx->err, LCB_EUSAGE, "--path '%s': an SSM path starts with '/'", f.path);
    else
        rc = restore(ctx, &f, ids.items[0]);
out:
    lcb_strlist_release(&f.maps);
    lcb_strlist_release(&ids);
    return rc;
}
