/* verify_broker.c - `lcbackup verify broker ID --against URL`: an archive against a live broker. */
#include <stdio.h>
#include <string.h>

#include "../lib/aws/aws.h"
#include "../lib/backup/restore_broker.h"
#include "../lib/backup/s3source.h"
#include "../lib/catalog/catalog.h"
#include "cmd.h"

const char cmd_verify_broker_usage[] =
    "usage: lcbackup verify broker --against URL [--tenant T] [--types T,...] ID\n"
    "\n"
    "Verify broker archive ID, then read each archived entity from the broker at URL and compare\n"
    "them in normalised form (key order, number formatting, timestamp forms, single-instance\n"
    "arrays and system attributes do not count as differences). Lists the entities that are\n"
    "missing or different; exits 2 when there is any, 0 when the broker holds the archive.\n"
    "\n"
    "  --against URL  the broker to compare with\n"
    "  --tenant T     its NGSILD-Tenant\n"
    "  --types T,...  only these entity types (in full, or the last part: Streetlight)\n";

int
cmd_verify_broker(struct lcb_ctx *ctx, int argc, char **argv)
{
    const char *against = NULL, *tenant = NULL;
    struct lcb_strlist types = LCB_STRLIST_INIT, ids = LCB_STRLIST_INIT;
    struct lcb_broker_compare_stats cs;
    struct lcb_ngsi_config nc;
    struct lcb_ngsi *ngsi = NULL;
    struct lcb_backup b;
    struct lcb_s3_source src;
    int rc = -1;
    const struct lcb_opt opts[] = {
        { "against", 0, LCB_OPT_STR, &against }, { "tenant", 0, LCB_OPT_STR, &tenant },
        { "types", 0, LCB_OPT_LIST, &types },    { NULL, 0, 0, NULL },
    };

    memset(&b, 0, sizeof(b));
    memset(&src, 0, sizeof(src));
    memset(&cs, 0, sizeof(cs));
    memset(&nc, 0, sizeof(nc));
    if (lcb_cmd_begin(ctx, opts, argc, argv, &ids) < 0)
        goto out;
    if (ids.n != 1 || !against) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "give one backup id and --against URL");
        goto out;
    }
    nc.url = against;
    nc.tenant = tenant;
    if (lcb_ngsi_new(&ngsi, lcb_aws_http(ctx->aws), &nc, &ctx->err) < 0 ||
        lcb_cmd_open_broker_archive(ctx, ids.items[0], &b, &src) < 0 ||
        lcb_broker_resolve_types(&types, b.manifest, &ctx->err) < 0 ||
        lcb_broker_compare(ngsi, &types, &src, &cs, &ctx->err) < 0)
        goto out;
    if (ctx->json)
        fprintf(ctx->out, "{\"backup_id\":\"%s\",\"compared\":%lld,\"missing\":%lld,"
                "\"different\":%lld}\n", b.id, cs.compared, cs.missing, cs.different);
    else
        fprintf(ctx->out, "%s against %s: %lld compared, %lld missing, %lld different\n%s", b.id,
                lcb_ngsi_url(ngsi), cs.compared, cs.missing, cs.different,
                lcb_buf_str(&cs.report));
    if (cs.missing || cs.different)
        lcb_err_set(&ctx->err, LCB_EPARTIAL, "the broker differs from the archive");
    else
        rc = 0;
out:
    lcb_ngsi_free(ngsi);
    lcb_s3_source_close(&src);
    lcb_backup_release(&b);
    lcb_broker_compare_stats_release(&cs);
    lcb_strlist_release(&types);
    lcb_strlist_release(&ids);
    return rc;
}
