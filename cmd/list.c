/* list.c - `lcbackup list`: the catalog's backups as a table or JSON. */
#include <stdio.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/checkpoint/checkpoint.h"
#include "../lib/core/clock.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_list_usage[] =
    "usage: lcbackup list [--kind K] [--env E] [--status S] [--target T] [--since DUR] [--json]\n"
    "       lcbackup list --checkpoints [--env E] [--json]\n"
    "\n"
    "List the backups recorded in the catalog, newest first; or, with --checkpoints, the\n"
    "checkpoints (docs/checkpoints.md) with their age, state, backups and reason.\n"
    "\n"
    "  --kind K      rds, ebs, broker or config\n"
    "  --env E       only this environment\n"
    "  --status S    running, pending, completed, failed, expired or deleted\n"
    "  --target T    only this policy target\n"
    "  --since DUR   only backups started within DUR (e.g. 24h, 7d)\n"
    "  --checkpoints the checkpoints instead of the backups\n"
    "  --json        one JSON array instead of the table\n";

static void
human_size(long long bytes, char *out, size_t size)
{
    const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    int u = 0;

    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (bytes <= 0)
        snprintf(out, size, "-");
    else if (u == 0)
        snprintf(out, size, "%lld B", bytes);
    else
        snprintf(out, size, "%.1f %s", v, units[u]);
}

static void
print_table(struct lcb_ctx *ctx, const struct lcb_backup_list *l)
{
    char ts[LCB_TIME_LEN], age[32], size[32];
    time_t now = lcb_now();
    size_t i;

    if (l->n == 0) {
        fprintf(ctx->out, "no backups match\n");
        return;
    }
    fprintf(ctx->out, "%-34s %-6s %-22s %-9s %-20s %-8s %-9s %s\n", "ID", "KIND", "TARGET",
            "STATUS", "TAKEN (UTC)", "AGE", "SIZE", "LOCATION");
    for (i = 0; i < l->n; i++) {
        const struct lcb_backup *b = &l->items[i];
        time_t t = b->taken_at ? b->taken_at : b->started_at;
        human_size(b->size_bytes, size, sizeof(size));
        fprintf(ctx->out, "%-34s %-6s %-22s %-9s %-20s %-8s %-9s %s\n", b->id, b->kind,
                b->target ? b->target : "-", b->status, lcb_time_fmt(t, ts),
                lcb_duration_fmt(now - t, age, sizeof(age)), size,
                b->location ? b->location : "-");
    }
}

static int
check_filters(struct lcb_ctx *ctx, const char *kind, const char *status)
{
    static const char *const statuses[] = { "running", "pending", "completed", "failed",
                                            "expired", "deleted" };
    size_t i;

    if (kind && lcb_kind_parse(kind) < 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "--kind: '%s' is not rds, ebs, broker or config",
                           kind);
    if (!status)
        return 0;
    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (strcmp(status, statuses[i]) == 0)
            return 0;
    return lcb_err_set(&ctx->err, LCB_EUSAGE, "--status: '%s' is not a backup status", status);
}

int
cmd_list(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct lcb_backup_filter f;
    struct lcb_backup_list l = { NULL, 0 };
    struct lcb_buf out = LCB_BUF_INIT;
    int64_t since = 0;
    int checkpoints = 0;
    size_t i;
    const struct lcb_opt opts[] = {
        { "kind", 0, LCB_OPT_STR, &f.kind },     { "env", 0, LCB_OPT_STR, &f.env },
        { "status", 0, LCB_OPT_STR, &f.status }, { "target", 0, LCB_OPT_STR, &f.target },
        { "since", 0, LCB_OPT_DURATION, &since }, { "checkpoints", 0, LCB_OPT_FLAG, &checkpoints },
        { NULL, 0, 0, NULL },
    };

    memset(&f, 0, sizeof(f));
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0 ||
        check_filters(ctx, f.kind, f.status) < 0)
        return -1;
    if (checkpoints)
        return lcb_checkpoint_print(ctx->out, ctx->cat, f.env, ctx->json, lcb_now(), &ctx->err);
    if (since)
        f.since = lcb_now() - since;
    if (lcb_catalog_backup_list(ctx->cat, &f, &l, &ctx->err) < 0)
        return -1;
    if (ctx->json) {
        lcb_buf_addch(&out, '[');
        for (i = 0; i < l.n; i++) {
            if (i)
                lcb_buf_addch(&out, ',');
            lcb_backup_json(&l.items[i], &out);
        }
        fprintf(ctx->out, "%s]\n", lcb_buf_str(&out));
    } else {
        print_table(ctx, &l);
    }
    lcb_buf_release(&out);
    lcb_backup_list_release(&l);
    return 0;
}
