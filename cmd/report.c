/* report.c - `lcbackup report`: a drill report or the status per target, in text, Markdown, HTML
 * or JSON, optionally stored in S3 beside the backups, with metrics for alarms (lib/report). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/core/clock.h"
#include "../lib/core/mem.h"
#include "../lib/policy/policy.h"
#include "../lib/report/report.h"
#include "../lib/report/upload.h"
#include "cmd.h"

const char cmd_report_usage[] =
    "usage: lcbackup report [--drill ID | --last] [--format text|md|html|json] [--since DUR]\n"
    "                       [--output FILE] [--upload] [--metrics-file FILE]\n"
    "\n"
    "Without --drill or --last: the status per target (the last good backup and its age against\n"
    "the RPO target, when a backup was last verified, when it was last drilled) and the drills\n"
    "of the period. With them: one drill's report (what was restored from which backup, the\n"
    "phase timings, each check with its result, RTO and RPO against the targets) with the trend\n"
    "over past drills and the status. HTML is one self-contained file with SVG charts (the\n"
    "phase timeline, RTO/RPO over time) for an auditor's browser. Backup ages are also logged\n"
    "as CloudWatch embedded metrics (--log-format json).\n"
    "\n"
    "  --drill ID         the report of this drill (a unique prefix is enough)\n"
    "  --last             the report of the newest drill\n"
    "  --format F         text (default), md, html or json\n"
    "  --since DUR        the period for the trend and the drill list (default 90d)\n"
    "  --output FILE      write the report to FILE instead of stdout\n"
    "  --upload           also store it in S3 beside the backups (the policy's bucket), under\n"
    "                     Object Lock when the bucket has it\n"
    "  --metrics-file F   write the status (and drill) metrics as a Prometheus textfile\n";

struct flags {
    const char *drill, *format, *output, *metrics_file;
    int last, upload;
    int64_t since;
};

/* One EMF line per target with a backup: its age for alarms. */
static void
emit_status_metrics(const struct lcb_status *st)
{
    static const char *const names[] = {"BackupAgeSeconds", NULL};
    struct lcb_buf aws = LCB_BUF_INIT;
    size_t i;

    for (i = 0; i < st->n; i++) {
        const struct lcb_status_row *r = &st->rows[i];
        if (r->age < 0)
            continue;
        lcb_buf_reset(&aws);
        lcb_metrics_emf_aws(&aws, st->now, names);
        lcb_logf(LCB_INFO, "report.metrics",
                 LCB_FIELDS(LCB_KV_RAW("_aws", lcb_buf_str(&aws)),
                            LCB_KV_S("Env", st->env ? st->env : ""), LCB_KV_S("Component", r->kind),
                            LCB_KV_S("Target", r->target), LCB_KV_F("BackupAgeSeconds", r->age)),
                 "%s %s: last good backup %lld s old", r->kind, r->target, (long long)r->age);
    }
    lcb_buf_release(&aws);
}

static int
write_file(struct lcb_ctx *ctx, const char *path, const struct lcb_buf *body)
{
    FILE *f = fopen(path, "w");
    int short_write;

    if (!f)
        return lcb_err_sys(&ctx->err, LCB_EIO, errno, "--output '%s'", path);
    short_write = fwrite(body->ptr ? body->ptr : "", 1, body->len, f) != body->len;
    if (fclose(f) != 0 || short_write)
        return lcb_err_sys(&ctx->err, LCB_EIO, errno, "write '%s'", path);
    return 0;
}

static int
upload(struct lcb_ctx *ctx, const struct lcb_drill_run *drill, enum lcb_report_format fmt,
       const struct lcb_buf *body, int announce)
{
    struct lcb_report_upload u;
    struct lcb_report_uploaded res;
    char ts[LCB_TIME_LEN];

    if (!ctx->policy || !ctx->policy->bucket)
        return lcb_err_set(&ctx->err, LCB_ECONFIG, "--upload: no storage.bucket: give --policy");
    memset(&u, 0, sizeof(u));
    u.bucket = ctx->policy->bucket;
    u.prefix = ctx->policy->prefix;
    u.env = ctx->env;
    u.name = drill ? drill->id : "status";
    u.ext = lcb_report_ext(fmt);
    u.content_type = lcb_report_content_type(fmt);
    u.kms_key = ctx->policy->kms_key;
    u.object_lock = ctx->policy->object_lock;
    u.now = lcb_now();
    if (lcb_report_put(&res, ctx->aws, &u, body->ptr ? body->ptr : "", body->len, &ctx->err) < 0)
        return -1;
    lcb_logf(LCB_INFO, "report.uploaded", LCB_FIELDS(LCB_KV_S("location", res.uri)),
             "report stored at %s%s%s%s", res.uri, res.lock_until ? " (" : "",
             res.lock_until ? res.lock_mode : "", res.lock_until ? " lock)" : "");
    if (announce && res.lock_until)
        fprintf(ctx->out, "uploaded %s (Object Lock %s until %s)\n", res.uri, res.lock_mode,
                lcb_time_fmt(res.lock_until, ts));
    else if (announce)
        fprintf(ctx->out, "uploaded %s\n", res.uri);
    return 0;
}

static int
render(struct lcb_ctx *ctx, const struct flags *f, enum lcb_report_format fmt)
{
    struct lcb_drill_run drill;
    struct lcb_drill_history hist;
    struct lcb_status st;
    struct lcb_report_in in;
    struct lcb_buf out = LCB_BUF_INIT;
    time_t now = lcb_now();
    int rc = -1, want_drill = f->last || f->drill;

    memset(&drill, 0, sizeof(drill));
    lcb_drill_history_init(&hist);
    lcb_status_init(&st);
    if ((want_drill &&
         lcb_drill_load(&drill, ctx->cat, f->last ? NULL : f->drill, &ctx->err) < 0) ||
        lcb_drill_history_load(&hist, ctx->cat, now - f->since, ctx->env, &ctx->err) < 0 ||
        lcb_status_load(&st, ctx->cat, ctx->policy, ctx->env, now, &ctx->err) < 0)
        goto out;
    memset(&in, 0, sizeof(in));
    in.drill = want_drill ? &drill : NULL;
    in.history = &hist;
    in.status = &st;
    in.generated_at = now;
    lcb_report_render(&out, fmt, &in);
    emit_status_metrics(&st);
    if (f->output ? write_file(ctx, f->output, &out) < 0 : fputs(lcb_buf_str(&out), ctx->out) < 0)
        goto out;
    if (f->output)
        fprintf(ctx->out, "wrote %s\n", f->output);
    if (f->upload && upload(ctx, in.drill, fmt, &out, f->output != NULL) < 0)
        goto out;
    if (f->metrics_file) {
        lcb_buf_reset(&out);
        lcb_metrics_prometheus(&out, &st, in.drill);
        if (lcb_metrics_write_file(f->metrics_file, lcb_buf_str(&out), &ctx->err) < 0)
            goto out;
    }
    rc = 0;
out:
    lcb_buf_release(&out);
    lcb_status_release(&st);
    lcb_drill_history_release(&hist);
    lcb_drill_run_release(&drill);
    return rc;
}

int
cmd_report(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    enum lcb_report_format fmt;
    const struct lcb_opt opts[] = {
        {"drill", 0, LCB_OPT_STR, &f.drill},
        {"last", 0, LCB_OPT_FLAG, &f.last},
        {"format", 0, LCB_OPT_STR, &f.format},
        {"since", 0, LCB_OPT_DURATION, &f.since},
        {"output", 'o', LCB_OPT_STR, &f.output},
        {"upload", 0, LCB_OPT_FLAG, &f.upload},
        {"metrics-file", 0, LCB_OPT_STR, &f.metrics_file},
        {NULL, 0, 0, NULL},
    };

    memset(&f, 0, sizeof(f));
    f.since = 90 * 86400;
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0)
        return -1;
    if (f.drill && f.last)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "give --drill ID or --last, not both");
    if (lcb_report_format_parse(&fmt, f.format, &ctx->err) < 0)
        return -1;
    if (ctx->json && !f.format)
        fmt = LCB_REPORT_JSON;
    return render(ctx, &f, fmt);
}
