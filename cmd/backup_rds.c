/* backup_rds.c - `lcbackup backup rds`: fingerprint, snapshot, wait, copy to the DR region
 * (the work is lib/snapshot's; this file picks the targets and prints the results). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/core/mem.h"
#include "../lib/policy/policy.h"
#include "../lib/snapshot/snapshot.h"
#include "common.h"

const char cmd_backup_rds_usage[] =
    "usage: lcbackup backup rds [--instance ID ...] [--copy-to REGION | --no-copy]\n"
    "                           [--copy-kms-key KEY] [--no-wait] [--timeout DUR] [--dry-run]\n"
    "                           [--no-fingerprint] [--db-url-param NAME] [--exact-count-limit N]\n"
    "\n"
    "Take a manual snapshot of each RDS instance (default: the policy's rds targets), named\n"
    "lcb-<instance>-<yyyymmdd-hhmmss> (UTC) and tagged lcbackup:backup-id, lcbackup:env,\n"
    "lcbackup:policy and lcbackup:created-by. Just before it, a read-only fingerprint of the\n"
    "database (row counts, schema digest, latest payload migration) is taken through the URL in\n"
    "the target's db_url_param. An instance that is backing-up or modifying is waited for. The\n"
    "snapshot is waited for until available, recorded in the catalog, then copied to the DR\n"
    "region when the target has copy_to_dr (or --copy-to is given).\n"
    "\n"
    "  --instance ID          snapshot this instance (repeatable); a policy target's settings\n"
    "                         apply when one names it\n"
    "  --copy-to REGION       copy to this region (default: the policy's dr_region for targets\n"
    "                         with copy_to_dr)\n"
    "  --no-copy              no cross-region copy\n"
    "  --copy-kms-key KEY     KMS key in the destination (default: storage.dr_kms_key)\n"
    "  --no-wait              record the snapshot as pending and return; `lcbackup catalog\n"
    "                         refresh` completes it (and starts its copy) later\n"
    "  --timeout DUR          stop waiting after DUR (default 2h); the snapshot stays pending\n"
    "  --dry-run              print the API calls that would change something; send none\n"
    "  --no-fingerprint       skip the database fingerprint\n"
    "  --db-url-param NAME    SSM parameter holding the database URL (default: the target's)\n"
    "  --exact-count-limit N  count tables estimated below N rows exactly (default: the\n"
    "                         target's exact_count_limit, 1000000)\n";

/* The targets: --instance ids (with their policy target's settings), else the policy's. */
static int
pick_targets(struct lcb_ctx *ctx, const struct lcb_strlist *ids, const struct lcb_target ***out,
             struct lcb_target **adhoc, size_t *n)
{
    size_t i, j, np = lcb_policy_targets(ctx->policy, LCB_KIND_RDS, NULL, 0);
    const struct lcb_target **pol = lcb_xcalloc(np + 1, sizeof(*pol));

    lcb_policy_targets(ctx->policy, LCB_KIND_RDS, pol, np);
    *n = ids->n ? ids->n : np;
    *out = lcb_xcalloc(*n + 1, sizeof(**out));
    *adhoc = lcb_xcalloc(*n + 1, sizeof(**adhoc));
    for (i = 0; i < ids->n; i++) {
        for (j = 0; j < np && strcmp(pol[j]->instance, ids->items[i]) != 0; j++)
            ;
        if (j < np) {
            (*out)[i] = pol[j];
            continue;
        }
        (*adhoc)[i].kind = LCB_KIND_RDS;
        (*adhoc)[i].name = ids->items[i];
        (*adhoc)[i].instance = ids->items[i];
        (*out)[i] = &(*adhoc)[i];
    }
    if (!ids->n)
        memcpy(*out, pol, np * sizeof(*pol));
    free(pol);
    if (*n == 0)
        return lcb_err_set(&ctx->err, LCB_ECONFIG, "%s has no rds targets: give --instance ID",
                           ctx->policy_path ? ctx->policy_path : "no policy is given and it");
    return 0;
}

int
cmd_backup_rds(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    struct lcb_snap_opts o;
    const struct lcb_target **targets = NULL;
    struct lcb_target *adhoc = NULL;
    size_t n = 0;
    int dry = 0;
    const struct lcb_opt opts[] = {
        {"instance", 0, LCB_OPT_LIST, &ids},
        {"copy-to", 0, LCB_OPT_STR, &o.copy_to},
        {"no-copy", 0, LCB_OPT_FLAG, &o.no_copy},
        {"copy-kms-key", 0, LCB_OPT_STR, &o.copy_kms_key},
        {"no-wait", 0, LCB_OPT_FLAG, &o.no_wait},
        {"timeout", 0, LCB_OPT_DURATION, &o.timeout},
        {"dry-run", 'n', LCB_OPT_FLAG, &dry},
        {"no-fingerprint", 0, LCB_OPT_FLAG, &o.no_fingerprint},
        {"db-url-param", 0, LCB_OPT_STR, &o.db_url_param},
        {"exact-count-limit", 0, LCB_OPT_INT, &o.exact_count_limit},
        {NULL, 0, 0, NULL},
    };

    memset(&o, 0, sizeof(o));
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0)
        goto out;
    if (o.copy_to && o.no_copy) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "--copy-to and --no-copy exclude each other");
        goto out;
    }
    if (pick_targets(ctx, &ids, &targets, &adhoc, &n) < 0)
        goto out;
    lcb_cmd_backup_snapshots(ctx, targets, n, &o, dry, lcb_snap_backup_rds, "rds.backup.failed");
out:
    free(targets);
    free(adhoc);
    lcb_strlist_release(&ids);
    return ctx->err.code == LCB_OK ? 0 : -1;
}
