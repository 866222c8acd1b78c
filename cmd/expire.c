/* expire.c - `lcbackup expire`: delete what no retention rule or safety rail keeps (expire.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/catalog/catalog.h"
#include "../lib/core/buf.h"
#include "../lib/core/clock.h"
#include "../lib/core/log.h"
#include "../lib/jobs/expire.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_expire_usage[] =
    "usage: lcbackup expire [--kind K] [--target NAME] [--dry-run] [--explain [--simulate DUR]]\n"
    "\n"
    "Delete the backups that no retention rule keeps (snapshots with their cross-region copies,\n"
    "S3 archives with their sidecar manifests), except the newest completed and the newest\n"
    "drill-verified backup of each target, held backups, and archives under Object Lock (skipped\n"
    "and reported). Records why each remaining backup is kept. Exit 2 when a delete failed.\n"
    "\n"
    "  --kind K        only targets of this kind (rds, ebs, broker, config)\n"
    "  --target NAME   only this target\n"
    "  --dry-run       print the API calls that would delete, change nothing\n"
    "  --explain       print for each backup what keeps it or why it goes; change nothing\n"
    "  --simulate DUR  with --explain: replay each target's schedule for DUR (e.g. 400d) from now\n"
    "                  and print which backups would exist at the end of each day\n";

struct opts {
    const char *kind;
    const char *target;
    int dry_run;
    int explain;
    int64_t simulate;
};

static int
selected(const struct opts *o, const struct lcb_target *t)
{
    if (o->kind && strcmp(o->kind, lcb_kind_name(t->kind)) != 0)
        return 0;
    return !o->target || strcmp(o->target, t->name) == 0;
}

static int
check_opts(struct lcb_ctx *ctx, const struct opts *o)
{
    size_t i;

    if (o->kind && lcb_kind_parse(o->kind) < 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "--kind: '%s' is not rds, ebs, broker or config",
                           o->kind);
    if (o->simulate && !o->explain)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "--simulate goes with --explain");
    if (o->simulate > 3660LL * 86400)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "--simulate: at most 3660d");
    for (i = 0; i < ctx->policy->ntargets; i++)
        if (selected(o, &ctx->policy->targets[i]))
            return 0;
    return lcb_err_set(&ctx->err, LCB_ENOTFOUND, "no target in the policy matches%s%s%s%s",
                       o->kind ? " --kind " : "", o->kind ? o->kind : "",
                       o->target ? " --target " : "", o->target ? o->target : "");
}

/* ---- the report ---- */

static void
print_target(struct lcb_ctx *ctx, const struct lcb_target *t, const struct lcb_expire_report *rep,
             size_t from)
{
    struct lcb_buf r = LCB_BUF_INIT;
    char ts[LCB_TIME_LEN];
    size_t i;

    lcb_expire_describe(&t->retention, &r);
    fprintf(ctx->out, "%s %s (%s)\n", lcb_kind_name(t->kind), t->name, lcb_buf_str(&r));
    if (from == rep->n)
        fprintf(ctx->out, "  no completed backups\n");
    for (i = from; i < rep->n; i++) {
        const struct lcb_expire_decision *d = &rep->items[i];
        fprintf(ctx->out, "  %-34s %s  %-7s %s\n", d->id, lcb_time_fmt(d->taken, ts),
                lcb_expire_action_name(d->action), d->why);
    }
    lcb_buf_release(&r);
}

static void
json_decisions(struct lcb_buf *j, const struct lcb_target *t, const struct lcb_expire_report *rep,
               size_t from)
{
    char ts[LCB_TIME_LEN];
    size_t i;

    lcb_buf_addf(j, "{\"kind\":\"%s\",\"name\":", lcb_kind_name(t->kind));
    lcb_json_quote(j, t->name);
    lcb_buf_adds(j, ",\"backups\":[");
    for (i = from; i < rep->n; i++) {
        const struct lcb_expire_decision *d = &rep->items[i];
        lcb_buf_addf(j, "%s{\"id\":", i > from ? "," : "");
        lcb_json_quote(j, d->id);
        lcb_buf_addf(j, ",\"taken\":\"%s\",\"action\":\"%s\",\"why\":", lcb_time_fmt(d->taken, ts),
                     lcb_expire_action_name(d->action));
        lcb_json_quote(j, d->why);
        lcb_buf_adds(j, ",\"location\":");
        lcb_json_quote(j, d->location);
        lcb_buf_adds(j, "}");
    }
    lcb_buf_adds(j, "]}");
}

static int
finish(struct lcb_ctx *ctx, const struct opts *o, const struct lcb_expire_report *rep,
       struct lcb_buf *j)
{
    struct lcb_buf failed = LCB_BUF_INIT;
    size_t i;
    int n = 0;

    if (ctx->json) {
        fprintf(ctx->out, "{\"dry_run\":%s,\"explain\":%s,\"targets\":[%s],\"kept\":%d,"
                "\"expired\":%d,\"skipped\":%d,\"failed\":%d}\n", o->dry_run ? "true" : "false",
                o->explain ? "true" : "false", lcb_buf_str(j), rep->kept, rep->gone, rep->skipped,
                rep->failed);
    } else {
        fprintf(ctx->out, "%s: %d kept, %d %s, %d skipped (Object Lock), %d failed\n",
                o->explain ? "explain (nothing deleted)" : o->dry_run ? "dry run (nothing deleted)"
                                                                      : "expire",
                rep->kept, rep->gone, o->explain || o->dry_run ? "would expire" : "expired",
                rep->skipped, rep->failed);
    }
    if (rep->failed == 0)
        return 0;
    for (i = 0; i < rep->n; i++)
        if (rep->items[i].action == LCB_EXPIRE_FAILED && n++ < 10)
            lcb_buf_addf(&failed, "%s%s", n > 1 ? ", " : "", rep->items[i].id);
    lcb_err_set(&ctx->err, LCB_EPARTIAL, "%d backup%s could not be deleted (%s%s); they are kept "
                "and tried again next time", rep->failed, rep->failed > 1 ? "s" : "",
                lcb_buf_str(&failed), n > 10 ? ", ..." : "");
    lcb_buf_release(&failed);
    return -1;
}

static int
expire_all(struct lcb_ctx *ctx, const struct opts *o)
{
    struct lcb_job_ctx jc;
    struct lcb_expire_report rep;
    struct lcb_buf j = LCB_BUF_INIT;
    size_t i, from;
    int rc = 0, first = 1;

    memset(&jc, 0, sizeof(jc));
    jc.aws = ctx->aws;
    jc.cat = ctx->cat;
    jc.policy = ctx->policy;
    jc.policy_file = ctx->policy_path;
    jc.env = ctx->env;
    jc.run_id = ctx->run_id;
    jc.dry_run = o->dry_run;
    jc.out = ctx->out;
    lcb_expire_report_init(&rep);
    for (i = 0; i < ctx->policy->ntargets && rc == 0; i++) {
        const struct lcb_target *t = &ctx->policy->targets[i];
        if (!selected(o, t))
            continue;
        from = rep.n;
        rc = lcb_expire_target(&jc, t, o->explain, &rep, &ctx->err);
        if (rc < 0)
            break;
        if (ctx->json) {
            lcb_buf_adds(&j, first ? "" : ",");
            json_decisions(&j, t, &rep, from);
        } else {
            print_target(ctx, t, &rep, from);
        }
        first = 0;
    }
    if (rc == 0)
        rc = finish(ctx, o, &rep, &j);
    lcb_buf_release(&j);
    lcb_expire_report_release(&rep);
    return rc;
}

/* ---- --explain --simulate ---- */

struct sim_out {
    struct lcb_ctx *ctx;
    const char *tz;
    int with_time; /* the schedule runs more than once a day */
    struct lcb_buf *json;
    int days;
};

static void
local_fmt(const char *tz, time_t t, int with_time, char *out, size_t size)
{
    struct tm tm;

    lcb_tz_localtime(tz, t, &tm);
    strftime(out, size, with_time ? "%Y-%m-%d %H:%M" : "%Y-%m-%d", &tm);
}

static void
on_day(void *ud, time_t day, const time_t *kept, size_t n)
{
    struct sim_out *s = ud;
    char d[32], k[32];
    size_t i;

    local_fmt(s->tz, day, 0, d, sizeof(d));
    if (s->json) {
        lcb_buf_addf(s->json, "%s{\"day\":\"%s\",\"kept\":[", s->days++ ? "," : "", d);
        for (i = 0; i < n; i++) {
            local_fmt(s->tz, kept[i], 1, k, sizeof(k));
            lcb_buf_addf(s->json, "%s\"%s\"", i ? "," : "", k);
        }
        lcb_buf_adds(s->json, "]}");
        return;
    }
    fprintf(s->ctx->out, "  %s %3zu ", d, n);
    for (i = 0; i < n; i++) {
        local_fmt(s->tz, kept[i], s->with_time, k, sizeof(k));
        fprintf(s->ctx->out, "%s%s", i ? ", " : " ", k);
    }
    fputc('\n', s->ctx->out);
}

static int
simulate(struct lcb_ctx *ctx, const struct opts *o)
{
    const char *tz = ctx->policy->timezone;
    struct lcb_buf j = LCB_BUF_INIT, r = LCB_BUF_INIT;
    struct sim_out s;
    char ts[LCB_TIME_LEN];
    time_t now = lcb_now();
    int days = (int)((o->simulate + 86399) / 86400), first = 1;
    size_t i, most;

    for (i = 0; i < ctx->policy->ntargets; i++) {
        const struct lcb_target *t = &ctx->policy->targets[i];
        int64_t period = lcb_schedule_period(&t->schedule, tz, now);
        if (!selected(o, t))
            continue;
        memset(&s, 0, sizeof(s));
        s.ctx = ctx;
        s.tz = tz;
        s.with_time = period > 0 && period < 86400;
        lcb_buf_reset(&r);
        lcb_expire_describe(&t->retention, &r);
        if (ctx->json) {
            lcb_buf_addf(&j, "%s{\"kind\":\"%s\",\"name\":", first ? "" : ",",
                         lcb_kind_name(t->kind));
            lcb_json_quote(&j, t->name);
            lcb_buf_addf(&j, ",\"schedule\":");
            lcb_json_quote(&j, t->schedule.expr);
            lcb_buf_adds(&j, ",\"days\":[");
            s.json = &j;
        } else {
            fprintf(ctx->out, "%s %s: schedule \"%s\", %s, time zone %s, from %s for %d days\n",
                    lcb_kind_name(t->kind), t->name, t->schedule.expr, lcb_buf_str(&r), tz,
                    lcb_time_fmt(now, ts), days);
            fprintf(ctx->out, "  day        kept backups at the end of the day (newest first)\n");
        }
        most = lcb_expire_simulate(t, tz, now, days, on_day, &s);
        if (ctx->json)
            lcb_buf_addf(&j, "],\"most\":%zu}", most);
        else
            fprintf(ctx->out, "  at most %zu backups at once\n", most);
        first = 0;
    }
    if (ctx->json)
        fprintf(ctx->out, "{\"simulate\":{\"from\":\"%s\",\"days\":%d},\"targets\":[%s]}\n",
                lcb_time_fmt(now, ts), days, lcb_buf_str(&j));
    lcb_buf_release(&r);
    lcb_buf_release(&j);
    return 0;
}

int
cmd_expire(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct opts o;
    const struct lcb_opt opts[] = {
        { "kind", 0, LCB_OPT_STR, &o.kind },
        { "target", 0, LCB_OPT_STR, &o.target },
        { "dry-run", 'n', LCB_OPT_FLAG, &o.dry_run },
        { "explain", 0, LCB_OPT_FLAG, &o.explain },
        { "simulate", 0, LCB_OPT_DURATION, &o.simulate },
        { NULL, 0, 0, NULL },
    };

    memset(&o, 0, sizeof(o));
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0 || check_opts(ctx, &o) < 0)
        return -1;
    if (o.simulate)
        return simulate(ctx, &o);
    return expire_all(ctx, &o);
}
