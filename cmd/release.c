/* release.c - `lcbackup release CHECKPOINT`: the change is known good, so the checkpoint's
 * backups go back under the retention rules (lib/checkpoint/checkpoint.h). */
#include <stdio.h>

#include "../lib/catalog/catalog.h"
#include "../lib/checkpoint/checkpoint.h"
#include "cmd.h"

const char cmd_release_usage[] =
    "usage: lcbackup release [--json] CHECKPOINT\n"
    "\n"
    "Lift the hold a checkpoint put on its backups, once the change it guarded is known good:\n"
    "from now on retention (`lcbackup expire`, `lcbackup run`) treats them like any other backup.\n"
    "A hold that someone else put on one of them stays. Releasing twice changes nothing.\n";

int
cmd_release(struct lcb_ctx *ctx, int argc, char **argv)
{
    const struct lcb_opt opts[] = { { NULL, 0, 0, NULL } };
    struct lcb_strlist names = LCB_STRLIST_INIT;
    size_t n = 0;
    int rc = -1;

    if (lcb_cmd_begin(ctx, opts, argc, argv, &names) < 0)
        goto out;
    if (names.n != 1) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "give exactly one checkpoint name");
        goto out;
    }
    if (lcb_checkpoint_lift(ctx->cat, ctx->run_id, names.items[0], &n, &ctx->err) < 0)
        goto out;
    if (ctx->json)
        fprintf(ctx->out, "{\"checkpoint\":\"%s\",\"released\":%zu}\n", names.items[0], n);
    else if (n)
        fprintf(ctx->out, "released checkpoint %s: %zu backups are under the retention rules "
                "again\n", names.items[0], n);
    else
        fprintf(ctx->out, "checkpoint %s holds nothing: it was released already\n",
                names.items[0]);
    rc = 0;
out:
    lcb_strlist_release(&names);
    return rc;
}
