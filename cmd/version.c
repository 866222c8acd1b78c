/* version.c - `lcbackup version`: lcbackup's version and the libraries it was built with. */
#include "../lib/core/version.h"
#include "cmd.h"

const char cmd_version_usage[] =
    "usage: lcbackup version [--json]\n"
    "\n"
    "Print lcbackup's version and the versions of the libraries it uses.\n";

int
cmd_version(struct lcb_ctx *ctx, int argc, char **argv)
{
    const struct lcb_opt opts[] = { { NULL, 0, LCB_OPT_FLAG, NULL } };

    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0)
        return -1;
    lcb_version_print(ctx->out, ctx->json);
    return 0;
}
