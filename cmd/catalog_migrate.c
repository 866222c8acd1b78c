/* catalog_migrate.c - `lcbackup catalog migrate`: create the catalog or bring its schema up to date. */
#include <stdio.h>

#include "../lib/catalog/catalog.h"
#include "cmd.h"

const char cmd_catalog_migrate_usage[] =
    "usage: lcbackup catalog migrate\n"
    "\n"
    "Create the catalog (mode 0600) if it does not exist and apply any pending schema migrations,\n"
    "each in its own transaction. Every command that writes the catalog does this too; this\n"
    "command only makes it explicit (e.g. after upgrading lcbackup).\n";

int
cmd_catalog_migrate(struct lcb_ctx *ctx, int argc, char **argv)
{
    const struct lcb_opt opts[] = { { NULL, 0, 0, NULL } };

    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0)
        return -1;
    if (ctx->json)
        fprintf(ctx->out, "{\"catalog\":\"%s\",\"schema_version\":%d}\n",
                lcb_catalog_path(ctx->cat), lcb_catalog_version(ctx->cat));
    else
        fprintf(ctx->out, "catalog %s at schema version %d\n", lcb_catalog_path(ctx->cat),
                lcb_catalog_version(ctx->cat));
    return 0;
}
