/* policy_show.c - `lcbackup policy show FILE`: the normalised policy and the next scheduled times. */
#include <stdio.h>

#include "../lib/core/buf.h"
#include "../lib/core/clock.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_policy_show_usage[] =
    "usage: lcbackup policy show [--count N] FILE\n"
    "\n"
    "Print the policy with its defaults filled in and, for each target, the next N scheduled\n"
    "times after now (or LCBACKUP_NOW), in UTC and in the policy's time zone.\n"
    "\n"
    "  --count N   how many scheduled times per target (default 5)\n";

static void
print_next(struct lcb_ctx *ctx, const struct lcb_policy *p, long long count)
{
    time_t now = lcb_now(), t;
    char ts[LCB_TIME_LEN], local[64];
    struct tm tm;
    size_t i;
    long long k;

    fprintf(ctx->out, "\nnext scheduled runs after %s (time zone %s):\n", lcb_time_fmt(now, ts),
            p->timezone);
    for (i = 0; i < p->ntargets; i++) {
        const struct lcb_target *tg = &p->targets[i];
        fprintf(ctx->out, "  %s %s (%s)\n", lcb_kind_name(tg->kind), tg->name, tg->schedule.expr);
        for (t = now, k = 0; k < count; k++) {
            t = lcb_schedule_next(&tg->schedule, p->timezone, t);
            if (t < 0)
                break;
            lcb_tz_localtime(p->timezone, t, &tm);
            strftime(local, sizeof(local), "%Y-%m-%d %H:%M %Z", &tm);
            fprintf(ctx->out, "    %s  %s\n", lcb_time_fmt(t, ts), local);
        }
    }
}

static void
print_next_json(struct lcb_ctx *ctx, const struct lcb_policy *p, long long count)
{
    time_t now = lcb_now(), t;
    char ts[LCB_TIME_LEN];
    size_t i;
    long long k;

    fprintf(ctx->out, "{\"now\":\"%s\",\"next\":[", lcb_time_fmt(now, ts));
    for (i = 0; i < p->ntargets; i++) {
        const struct lcb_target *tg = &p->targets[i];
        fprintf(ctx->out, "%s{\"kind\":\"%s\",\"name\":\"%s\",\"times\":[", i ? "," : "",
                lcb_kind_name(tg->kind), tg->name);
        for (t = now, k = 0; k < count && (t = lcb_schedule_next(&tg->schedule, p->timezone, t)) >= 0;
             k++)
            fprintf(ctx->out, "%s\"%s\"", k ? "," : "", lcb_time_fmt(t, ts));
        fprintf(ctx->out, "]}");
    }
    fprintf(ctx->out, "],\"policy\":");
}

int
cmd_policy_show(struct lcb_ctx *ctx, int argc, char **argv)
{
    long long count = 5;
    const struct lcb_opt opts[] = { { "count", 0, LCB_OPT_INT, &count }, { NULL, 0, 0, NULL } };
    struct lcb_strlist files = LCB_STRLIST_INIT;
    struct lcb_policy *p = NULL;
    struct lcb_buf out = LCB_BUF_INIT;
    int rc = -1;

    if (lcb_cmd_begin(ctx, opts, argc, argv, &files) < 0)
        goto out;
    if (files.n != 1) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "give exactly one policy file");
        goto out;
    }
    if (lcb_policy_load(&p, files.items[0], &ctx->err) < 0)
        goto out;
    lcb_policy_dump(p, &out);
    if (ctx->json) {
        print_next_json(ctx, p, count);
        fprintf(ctx->out, "%s}\n", lcb_buf_str(&out));
    } else {
        fprintf(ctx->out, "%s\n", lcb_buf_str(&out));
        print_next(ctx, p, count);
    }
    rc = 0;
out:
    lcb_policy_free(p);
    lcb_buf_release(&out);
    lcb_strlist_release(&files);
    return rc;
}
