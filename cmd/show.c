/* show.c - `lcbackup show ID`: one backup (with copies and events), run, restore or drill. */
#include <stdio.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/core/buf.h"
#include "../lib/core/clock.h"
#include "cmd.h"

const char cmd_show_usage[] =
    "usage: lcbackup show [--json] ID\n"
    "\n"
    "Show one catalog entry: a backup (by id or a unique prefix of it), or a run, restore or\n"
    "drill (ids starting with run-, restore- or drill-).\n";

static void
print_backup(struct lcb_ctx *ctx, const struct lcb_backup *b)
{
    char t1[LCB_TIME_LEN], t2[LCB_TIME_LEN], t3[LCB_TIME_LEN];

    fprintf(ctx->out, "id           %s\nkind         %s\nenv          %s\ntarget       %s\n", b->id,
            b->kind, b->env ? b->env : "-", b->target ? b->target : "-");
    fprintf(ctx->out, "source       %s\nlocation     %s\nregion       %s\nstatus       %s\n",
            b->source ? b->source : "-", b->location ? b->location : "-",
            b->region ? b->region : "-", b->status);
    fprintf(ctx->out, "started      %s\ncompleted    %s\ntaken        %s\n",
            lcb_time_fmt(b->started_at, t1), b->completed_at ? lcb_time_fmt(b->completed_at, t2) : "-",
            b->taken_at ? lcb_time_fmt(b->taken_at, t3) : "-");
    fprintf(ctx->out, "size         %lld bytes\nitems        %lld\nsha256       %s\n", b->size_bytes,
            b->item_count, b->sha256 ? b->sha256 : "-");
    fprintf(ctx->out, "verified     %s\nhold         %s\nkeep reason  %s\n",
            b->verified_at ? lcb_time_fmt(b->verified_at, t1) : "never", b->hold ? b->hold : "-",
            b->keep_reason ? b->keep_reason : "-");
    if (b->error)
        fprintf(ctx->out, "error        %s\n", b->error);
    if (b->manifest)
        fprintf(ctx->out, "manifest     %s\n", b->manifest);
}

int
cmd_show(struct lcb_ctx *ctx, int argc, char **argv)
{
    const struct lcb_opt opts[] = { { NULL, 0, 0, NULL } };
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    struct lcb_backup b;
    struct lcb_buf out = LCB_BUF_INIT;
    static const char *const tables[] = { "run-", "runs", "restore-", "restores", "drill-", "drills" };
    size_t i;
    int rc = -1;

    if (lcb_cmd_begin(ctx, opts, argc, argv, &ids) < 0)
        goto out;
    if (ids.n != 1) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "give exactly one id");
        goto out;
    }
    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i += 2) {
        if (strncmp(ids.items[0], tables[i], strlen(tables[i])) == 0) {
            rc = lcb_catalog_show_row(ctx->cat, tables[i + 1], ids.items[0], ctx->json, &out,
                                      &ctx->err);
            if (rc == 0)
                fputs(lcb_buf_str(&out), ctx->out);
            goto out;
        }
    }
    if (lcb_catalog_backup_get(ctx->cat, ids.items[0], &b, &ctx->err) < 0)
        goto out;
    if (ctx->json) {
        lcb_backup_json(&b, &out);
        fprintf(ctx->out, "%s\n", lcb_buf_str(&out));
    } else {
        print_backup(ctx, &b);
    }
    lcb_backup_release(&b);
    rc = 0;
out:
    lcb_buf_release(&out);
    lcb_strlist_release(&ids);
    return rc;
}
