/* restore_services.c - `lcbackup restore services ID`: re-register the archived task
 * definitions and bring each ECS service back to what the backup holds. */
#include <stdio.h>
#include <string.h>

#include "../lib/aws/ecs.h"
#include "../lib/catalog/catalog.h"
#include "../lib/config/backup.h"
#include "../lib/config/plan.h"
#include "../lib/core/mem.h"
#include "../lib/policy/policy.h"
#include "common.h"

const char cmd_restore_services_usage[] =
    "usage: lcbackup restore services [--service S ...] [--cluster C] [--key-file FILE]\n"
    "                                 [--dry-run] [--yes] ID\n"
    "\n"
    "Bring the ECS services of config backup ID back: each archived task definition is\n"
    "registered again (read-only fields stripped, no empty tag list) unless a live revision of\n"
    "its family already has the same content; then each service is updated to that revision and\n"
    "to its archived settings and tags (only what differs), or created when it is missing.\n"
    "Reports what it did. The archive is verified before anything is written. A service still\n"
    "DRAINING cannot be created again yet: it is reported and the exit status is 2. Restoring\n"
    "another environment's backup needs --cluster; a production environment needs --yes.\n"
    "\n"
    "  --service S      only this service (repeatable)\n"
    "  --cluster C      restore into cluster C instead of each service's own\n"
    "  --key-file FILE  the 32-byte key the backup was encrypted with, when not KMS\n"
    "  --dry-run        print the API calls it would make; change nothing\n"
    "  --yes            confirm a restore into a production environment\n";

#define RECENT_REVISIONS 10 /* ACTIVE revisions per family looked at for one to reuse */

struct flags {
    const char *cluster, *key_file;
    struct lcb_strlist services;
    int dry_run, yes;
};

static int
guard(struct lcb_ctx *ctx, const struct flags *f, const struct lcb_backup *b)
{
    const char *env = ctx->env ? ctx->env : b->env;

    if (b->env && env && strcmp(b->env, env) != 0 && !f->cluster)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "backup %s holds env %s's services: restoring "
                           "them into env %s needs --cluster naming the cluster to restore into",
                           b->id, b->env, env);
    return lcb_cmd_production_guard(ctx, env, f->yes || f->dry_run);
}

/* The recent ACTIVE revisions of family (candidates for reuse), added to live. */
static int
fetch_family(struct lcb_ctx *ctx, struct lcb_config *live, const char *family)
{
    struct lcb_strlist arns = LCB_STRLIST_INIT;
    struct lcb_json *doc;
    size_t i;
    int rc = 0;

    if (lcb_ecs_list_task_definitions(&arns, ctx->aws, family, RECENT_REVISIONS, &ctx->err) < 0)
        rc = -1;
    for (i = 0; rc == 0 && i < arns.n; i++) {
        if (lcb_config_taskdef_find(live, arns.items[i]))
            continue;
        if (lcb_ecs_describe_task_definition(&doc, ctx->aws, arns.items[i], &ctx->err) == 0)
            lcb_config_taskdef_add(live, doc);
        else if (ctx->err.code != LCB_ENOTFOUND)
            rc = -1;
        else
            lcb_err_clear(&ctx->err);
    }
    lcb_strlist_release(&arns);
    return rc;
}

/* The live services of every cluster the restore writes to, and the recent revisions of every
 * archived family (candidates for reuse). */
static int
fetch_live(struct lcb_ctx *ctx, struct lcb_config *live, const struct lcb_config *archived,
           const struct flags *f)
{
    struct lcb_strlist fams = LCB_STRLIST_INIT;
    size_t i;
    int rc = 0;

    for (i = 0; i < archived->nservices; i++) {
        const char *c = f->cluster ? f->cluster : archived->services[i].cluster;
        if (f->services.n && !lcb_strlist_has(&f->services, archived->services[i].name))
            continue;
        if (!lcb_strlist_has(&live->clusters, c) &&
            lcb_config_fetch_services(live, ctx->aws, c, &ctx->err) < 0)
            return -1;
    }
    for (i = 0; i < archived->ntaskdefs; i++)
        if (!lcb_strlist_has(&fams, archived->taskdefs[i].family))
            lcb_strlist_add(&fams, archived->taskdefs[i].family);
    for (i = 0; rc == 0 && i < fams.n; i++)
        rc = fetch_family(ctx, live, fams.items[i]);
    lcb_strlist_release(&fams);
    lcb_config_sort(live);
    return rc;
}

static void
print_dry_run(struct lcb_ctx *ctx, const struct lcb_svc_plan *p)
{
    struct lcb_buf calls = LCB_BUF_INIT;
    size_t i, change = 0;

    for (i = 0; i < p->n; i++) {
        lcb_svc_step_calls(&calls, &p->steps[i]);
        change += p->steps[i].op == LCB_SVC_CREATE || p->steps[i].op == LCB_SVC_UPDATE;
        if (p->steps[i].op == LCB_SVC_SKIP)
            lcb_buf_addf(&calls, "skip service %s: %s\n", p->steps[i].src->name,
                         p->steps[i].why);
    }
    fputs(lcb_buf_str(&calls), ctx->out);
    fprintf(ctx->out, "dry run: %zu services to change, %zu unchanged or skipped\n", change,
            p->n - change);
    lcb_buf_release(&calls);
}

static void
report_notes(struct lcb_ctx *ctx, const struct lcb_svc_plan *p)
{
    size_t i, j;

    for (i = 0; i < p->n; i++)
        for (j = 0; j < p->steps[i].notes.n; j++)
            lcb_log(LCB_WARN, "config.restore.fixed", "service %s: %s differs from the backup "
                    "and can only be changed by creating the service again", p->steps[i].src->name,
                    p->steps[i].notes.items[j]);
    (void)ctx;
}

static int
apply(struct lcb_ctx *ctx, const struct lcb_backup *b, const struct lcb_svc_plan *p)
{
    static const struct lcb_restore_count counts[] = {
        { "registered", "task definitions registered" }, { "created", "services created" },
        { "updated", NULL }, { "unchanged", NULL }, { "skipped", NULL }, { "failed", NULL },
    };
    struct lcb_restore_tally t;
    char rid[40];
    int rc = 0;

    if (lcb_cmd_config_restore_begin(ctx, b, "services", rid, &t) < 0)
        return -1;
    lcb_svc_plan_apply(&t, ctx->aws, p, rid, lcb_cmd_config_restore_progress(ctx));
    lcb_restore_tally_fill(&t, rid, b->id, counts, LCB_ARRAY_SIZE(counts), NULL);
    lcb_cmd_config_restore_end(ctx, rid, &t, counts, LCB_ARRAY_SIZE(counts));
    if (t.failed)
        rc = lcb_err_set(&ctx->err, LCB_EPARTIAL, "%zu services were not restored (listed "
                         "above; `lcbackup show %s`)", t.failed, rid);
    lcb_restore_tally_release(&t);
    return rc;
}

static int
restore(struct lcb_ctx *ctx, const struct flags *f, const char *id)
{
    struct lcb_backup b;
    struct lcb_config archived, live;
    struct lcb_svc_plan p;
    int rc = -1;

    memset(&b, 0, sizeof(b));
    lcb_config_init(&archived);
    lcb_config_init(&live);
    lcb_svc_plan_init(&p);
    if (lcb_catalog_backup_get(ctx->cat, id, &b, &ctx->err) < 0 || guard(ctx, f, &b) < 0 ||
        lcb_config_load_backup(&archived, ctx->aws, &b, f->key_file, &ctx->err) < 0 ||
        fetch_live(ctx, &live, &archived, f) < 0 ||
        lcb_svc_plan_build(&p, &archived, &live, NULL, f->cluster, &f->services, &ctx->err) < 0)
        goto out;
    report_notes(ctx, &p);
    if (f->dry_run) {
        print_dry_run(ctx, &p);
        rc = 0;
    } else {
        rc = apply(ctx, &b, &p);
    }
out:
    lcb_svc_plan_release(&p);
    lcb_config_release(&live);
    lcb_config_release(&archived);
    lcb_backup_release(&b);
    return rc;
}

int
cmd_restore_services(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    const struct lcb_opt opts[] = {
        { "service", 0, LCB_OPT_LIST, &f.services },
        { "cluster", 0, LCB_OPT_STR, &f.cluster },
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
    lcb_strlist_release(&f.services);
    lcb_strlist_release(&ids);
    return rc;
}
