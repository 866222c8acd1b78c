/* backup_ebs.c - `lcbackup backup ebs`: snapshot EBS volumes (by id, tag or instance), wait,
 * copy to the DR region (the work is lib/snapshot's; this file picks the targets). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/core/mem.h"
#include "../lib/policy/policy.h"
#include "../lib/snapshot/snapshot.h"
#include "common.h"

const char cmd_backup_ebs_usage[] =
    "usage: lcbackup backup ebs [--volume ID ... | --tag K=V ... | --instance ID | --target NAME]\n"
    "                           [--copy-to REGION | --no-copy] [--copy-kms-key KEY] [--no-wait]\n"
    "                           [--timeout DUR] [--dry-run]\n"
    "\n"
    "Snapshot EBS volumes (default: the policy's ebs targets): CreateSnapshot for each volume\n"
    "given by id or matching the tags, or CreateSnapshots for every volume of an instance at\n"
    "one point in time. Snapshots are tagged lcbackup:backup-id, lcbackup:env, lcbackup:policy\n"
    "and lcbackup:created-by (plus the volume's Name), waited for until completed with progress,\n"
    "recorded as one backup per target, then copied to the DR region when the target has\n"
    "copy_to_dr (or --copy-to is given).\n"
    "\n"
    "  --volume ID         snapshot this volume (repeatable)\n"
    "  --tag K=V           snapshot the volumes tagged K=V (repeatable: all must match)\n"
    "  --instance ID       snapshot every volume of this instance, crash-consistent\n"
    "  --target NAME       only this ebs target of the policy\n"
    "  --copy-to REGION    copy to this region (default: the policy's dr_region for targets\n"
    "                      with copy_to_dr)\n"
    "  --no-copy           no cross-region copy\n"
    "  --copy-kms-key KEY  KMS key in the destination (default: storage.dr_kms_key; else the\n"
    "                      region's default EBS key for encrypted snapshots)\n"
    "  --no-wait           record the snapshots as pending and return; `lcbackup catalog\n"
    "                      refresh` completes them (and starts the copies) later\n"
    "  --timeout DUR       stop waiting after DUR (default 2h); the backup stays pending\n"
    "  --dry-run           print the API calls that would change something; send none\n";

struct selection {
    struct lcb_strlist volumes, tags;
    const char *instance, *target;
    struct lcb_kv_pair *pairs;
    struct lcb_target adhoc;
    char name[256];
};

static int
same_pairs(const struct lcb_target *t, const struct lcb_kv_pair *p, size_t n)
{
    size_t i, j;

    if (t->ntags != n)
        return 0;
    for (i = 0; i < n; i++) {
        for (j = 0; j < t->ntags; j++)
            if (strcmp(t->tags[j].key, p[i].key) == 0 && strcmp(t->tags[j].value, p[i].value) == 0)
                break;
        if (j == t->ntags)
            return 0;
    }
    return 1;
}

static int
same_volumes(const struct lcb_target *t, const struct lcb_strlist *v)
{
    size_t i;

    if (t->nvolume_ids != v->n)
        return 0;
    for (i = 0; i < v->n; i++)
        if (!lcb_strlist_has(v, t->volume_ids[i]))
            return 0;
    return 1;
}

/* A target from the flags: the policy's when one selects the same volumes, else an ad-hoc one
 * named after the selection. */
static const struct lcb_target *
adhoc_target(struct lcb_ctx *ctx, struct selection *s)
{
    const struct lcb_target *pol[64];
    size_t np = lcb_policy_targets(ctx->policy, LCB_KIND_EBS, pol, 64), i;

    s->pairs = lcb_xcalloc(s->tags.n + 1, sizeof(*s->pairs));
    for (i = 0; i < s->tags.n; i++) {
        char *eq = strchr(s->tags.items[i], '=');
        *eq = '\0';
        s->pairs[i].key = s->tags.items[i];
        s->pairs[i].value = eq + 1;
    }
    for (i = 0; i < np && i < 64; i++) {
        if ((s->instance && pol[i]->instance_id && strcmp(pol[i]->instance_id, s->instance) == 0) ||
            (s->tags.n && same_pairs(pol[i], s->pairs, s->tags.n)) ||
            (s->volumes.n && same_volumes(pol[i], &s->volumes)))
            return pol[i];
    }
    s->adhoc.kind = LCB_KIND_EBS;
    s->adhoc.volume_ids = s->volumes.items;
    s->adhoc.nvolume_ids = s->volumes.n;
    s->adhoc.tags = s->pairs;
    s->adhoc.ntags = s->tags.n;
    s->adhoc.instance_id = (char *)s->instance;
    if (s->instance)
        snprintf(s->name, sizeof(s->name), "%s", s->instance);
    else if (s->volumes.n)
        snprintf(s->name, sizeof(s->name), "%s%s", s->volumes.items[0],
                 s->volumes.n > 1 ? "+" : "");
    else
        snprintf(s->name, sizeof(s->name), "%s=%s", s->pairs[0].key, s->pairs[0].value);
    s->adhoc.name = s->name;
    return &s->adhoc;
}

static int
check_selection(struct lcb_ctx *ctx, const struct selection *s)
{
    size_t i;
    int kinds = (s->volumes.n > 0) + (s->tags.n > 0) + (s->instance != NULL) + (s->target != NULL);

    if (kinds > 1)
        return lcb_err_set(&ctx->err, LCB_EUSAGE,
                           "give one of --volume, --tag, --instance or --target");
    for (i = 0; i < s->tags.n; i++)
        if (!strchr(s->tags.items[i], '=') || s->tags.items[i][0] == '=')
            return lcb_err_set(&ctx->err, LCB_EUSAGE, "--tag: '%s' is not KEY=VALUE",
                               s->tags.items[i]);
    for (i = 0; i < s->volumes.n; i++)
        if (!lcb_ec2_id_valid(s->volumes.items[i], "vol"))
            return lcb_err_set(&ctx->err, LCB_EUSAGE,
                               "--volume: '%s' is not a volume id "
                               "(vol-0123456789abcdef0)",
                               s->volumes.items[i]);
    if (s->instance && !lcb_ec2_id_valid(s->instance, "i"))
        return lcb_err_set(&ctx->err, LCB_EUSAGE,
                           "--instance: '%s' is not an instance id "
                           "(i-0123456789abcdef0)",
                           s->instance);
    return 0;
}

/* The targets to back up into out (n), borrowed from the policy or s. */
static int
pick_targets(struct lcb_ctx *ctx, struct selection *s, const struct lcb_target **out, size_t max,
             size_t *n)
{
    const struct lcb_target *t;

    if (s->volumes.n || s->tags.n || s->instance) {
        out[0] = adhoc_target(ctx, s);
        *n = 1;
        return 0;
    }
    if (s->target) {
        if (!(t = lcb_policy_target(ctx->policy, LCB_KIND_EBS, s->target)))
            return lcb_err_set(&ctx->err, LCB_ENOTFOUND, "the policy has no ebs target '%s'",
                               s->target);
        out[0] = t;
        *n = 1;
        return 0;
    }
    *n = lcb_policy_targets(ctx->policy, LCB_KIND_EBS, out, max);
    if (*n > max)
        *n = max;
    if (*n == 0)
        return lcb_err_set(&ctx->err, LCB_ECONFIG,
                           "%s has no ebs targets: give --volume, --tag "
                           "or --instance",
                           ctx->policy_path ? ctx->policy_path : "no policy is given and it");
    return 0;
}

int
cmd_backup_ebs(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct selection s;
    struct lcb_snap_opts o;
    const struct lcb_target *targets[64];
    size_t n = 0;
    int dry = 0;
    const struct lcb_opt opts[] = {
        {"volume", 0, LCB_OPT_LIST, &s.volumes},
        {"tag", 0, LCB_OPT_LIST, &s.tags},
        {"instance", 0, LCB_OPT_STR, &s.instance},
        {"target", 0, LCB_OPT_STR, &s.target},
        {"copy-to", 0, LCB_OPT_STR, &o.copy_to},
        {"no-copy", 0, LCB_OPT_FLAG, &o.no_copy},
        {"copy-kms-key", 0, LCB_OPT_STR, &o.copy_kms_key},
        {"no-wait", 0, LCB_OPT_FLAG, &o.no_wait},
        {"timeout", 0, LCB_OPT_DURATION, &o.timeout},
        {"dry-run", 'n', LCB_OPT_FLAG, &dry},
        {NULL, 0, 0, NULL},
    };

    memset(&s, 0, sizeof(s));
    memset(&o, 0, sizeof(o));
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0 || check_selection(ctx, &s) < 0)
        goto out;
    if (o.copy_to && o.no_copy) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "--copy-to and --no-copy exclude each other");
        goto out;
    }
    if (pick_targets(ctx, &s, targets, 64, &n) < 0)
        goto out;
    lcb_cmd_backup_snapshots(ctx, targets, n, &o, dry, lcb_snap_backup_ebs, "ebs.backup.failed");
out:
    free(s.pairs);
    lcb_strlist_release(&s.volumes);
    lcb_strlist_release(&s.tags);
    return ctx->err.code == LCB_OK ? 0 : -1;
}
