/* policy_check.c - `lcbackup policy check FILE...`: validate policies, listing every problem. */
#include <stdio.h>

#include "../lib/core/buf.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_policy_check_usage[] =
    "usage: lcbackup policy check FILE...\n"
    "\n"
    "Validate policy files: JSON syntax (exit 65) and meaning (exit 78): unknown keys, wrong types,\n"
    "bad cron fields, a retention that keeps nothing, a DR region equal to the primary, negative\n"
    "counts, identifiers AWS would refuse. Every problem is listed with the file and the line and\n"
    "column or the JSON path. Prints \"FILE: ok\" for each valid file.\n";

int
cmd_policy_check(struct lcb_ctx *ctx, int argc, char **argv)
{
    const struct lcb_opt opts[] = { { NULL, 0, LCB_OPT_FLAG, NULL } };
    struct lcb_strlist files = LCB_STRLIST_INIT;
    struct lcb_buf problems = LCB_BUF_INIT;
    struct lcb_err first;
    int failed = 0;
    size_t i;

    if (lcb_cmd_begin(ctx, opts, argc, argv, &files) < 0)
        return -1;
    if (files.n == 0) {
        lcb_strlist_release(&files);
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "no policy file given");
    }
    lcb_err_clear(&first);
    for (i = 0; i < files.n; i++) {
        struct lcb_policy *p = NULL;
        lcb_buf_reset(&problems);
        if (lcb_policy_load_all(&p, files.items[i], &problems, &ctx->err) < 0) {
            fputs(problems.len ? lcb_buf_str(&problems) : "", stderr);
            if (!failed++)
                first = ctx->err;
            continue;
        }
        fprintf(ctx->out, "%s: ok (%zu targets)\n", files.items[i], p->ntargets);
        lcb_policy_free(p);
    }
    lcb_buf_release(&problems);
    lcb_strlist_release(&files);
    if (failed) {
        ctx->err = first;
        return -1;
    }
    return 0;
}
