/* catalog_drift.c - `lcbackup catalog drift`: where the catalog and AWS disagree (inventory.h). */
#include <stdio.h>

#include "../lib/core/buf.h"
#include "../lib/core/log.h"
#include "../lib/jobs/inventory.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_catalog_drift_usage[] =
    "usage: lcbackup catalog drift\n"
    "\n"
    "List what the catalog and AWS disagree on: catalog entries whose snapshot, copy or archive\n"
    "is gone (missing, missing-copy), lcbackup-tagged snapshots and archives the catalog does not\n"
    "know (unknown) or believes expired (not-expired), archives without their sidecar manifest\n"
    "or the reverse (no-sidecar, no-archive), and unfinished multipart uploads (upload).\n"
    "Exit 0 when they agree, 1 when something is listed.\n";

static void
print(struct lcb_ctx *ctx, const struct lcb_drift *d, const struct lcb_inventory *inv)
{
    struct lcb_buf j = LCB_BUF_INIT;
    size_t i;

    if (!ctx->json) {
        for (i = 0; i < d->n; i++)
            fprintf(ctx->out, "%-12s %-34s %s\n", d->items[i].what,
                    d->items[i].backup_id ? d->items[i].backup_id : "-", d->items[i].detail);
        if (d->n == 0)
            fprintf(ctx->out, "no drift: the catalog and AWS agree (%zu items in AWS)\n", inv->n);
        return;
    }
    for (i = 0; i < d->n; i++) {
        lcb_buf_addf(&j, "%s{\"what\":\"%s\",\"backup_id\":", i ? "," : "", d->items[i].what);
        if (d->items[i].backup_id)
            lcb_json_quote(&j, d->items[i].backup_id);
        else
            lcb_buf_adds(&j, "null");
        lcb_buf_adds(&j, ",\"detail\":");
        lcb_json_quote(&j, d->items[i].detail);
        lcb_buf_addch(&j, '}');
    }
    fprintf(ctx->out, "{\"count\":%zu,\"differences\":[%s]}\n", d->n, lcb_buf_str(&j));
    lcb_buf_release(&j);
}

int
cmd_catalog_drift(struct lcb_ctx *ctx, int argc, char **argv)
{
    const struct lcb_opt opts[] = { { NULL, 0, 0, NULL } };
    struct lcb_inventory inv;
    struct lcb_drift d = { NULL, 0, 0 };
    int rc = -1;

    lcb_inventory_init(&inv);
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0 ||
        lcb_inventory_collect(&inv, ctx->aws, ctx->policy, ctx->env, &ctx->err) < 0 ||
        lcb_drift_compare(&d, ctx->cat, &inv, ctx->env, &ctx->err) < 0)
        goto out;
    print(ctx, &d, &inv);
    rc = 0;
    if (d.n)
        rc = lcb_err_set(&ctx->err, LCB_EFAIL, "%zu difference%s between the catalog and AWS", d.n,
                         d.n == 1 ? "" : "s");
out:
    lcb_drift_release(&d);
    lcb_inventory_release(&inv);
    return rc;
}
