/* drill.c - `lcbackup drill`: restore recovery points into throwaway resources, check them,
 * measure RTO and RPO, tear down, record the report (the work is lib/drill's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../lib/aws/aws.h"
#include "../lib/backup/s3source.h"
#include "../lib/catalog/catalog.h"
#include "../lib/core/clock.h"
#include "../lib/core/mem.h"
#include "../lib/core/secret.h"
#include "../lib/core/sig.h"
#include "../lib/drill/cloud.h"
#include "../lib/drill/component.h"
#include "../lib/policy/policy.h"
#include "../lib/report/report.h"
#include "cmd.h"

const char cmd_drill_usage[] =
    "usage: lcbackup drill [--component rds,ebs,broker,config] [--backup ID]\n"
    "                      [--pick latest|random-within:DUR] [--target NAME] [--dry-run]\n"
    "                      [--metrics-file FILE]\n"
    "\n"
    "Restore recovery points into throwaway resources, check what comes back, measure RTO and\n"
    "RPO against the policy's targets, tear everything down, and record a report in the catalog\n"
    "(`lcbackup report --last`). Each drill first sweeps lcb-drill-* resources whose expiry has\n"
    "passed or whose drill is over. Teardown always runs: on success, on a failed check, on a\n"
    "timeout and on SIGINT/SIGTERM. Exit 0 when every check and target passed, 3 when one did\n"
    "not (docs/drills.md says what each component checks).\n"
    "\n"
    "  --component C,...  the components to drill (default: all four), each for every policy\n"
    "                     target of its kind\n"
    "  --backup ID        drill this backup (its kind only) instead of choosing one\n"
    "  --pick P           latest (default), or random-within:DUR: a random recovery point of\n"
    "                     the last DUR (e.g. random-within:7d)\n"
    "  --target NAME      only the policy targets with this name\n"
    "  --dry-run          print the calls the drill would make; create and record nothing\n"
    "  --metrics-file F   also write the drill's metrics as a Prometheus textfile\n";

struct flags {
    const char *components, *backup, *pick, *target, *metrics_file;
    int dry_run;
    unsigned kinds;
    struct lcb_drill_pick how;
};

/* ---- choosing the backup ---- */

static int
choose_backup(struct lcb_ctx *ctx, const struct flags *f, const char *kind, const char *target,
              struct lcb_backup *out, struct lcb_err *err)
{
    struct lcb_backup_filter flt;
    struct lcb_backup_list l;
    time_t *taken;
    unsigned rnd = 0;
    size_t i;
    long pick;

    memset(&flt, 0, sizeof(flt));
    memset(&l, 0, sizeof(l));
    flt.kind = kind;
    flt.target = target;
    flt.env = ctx->env;
    flt.status = "completed";
    if (lcb_catalog_backup_list(ctx->cat, &flt, &l, err) < 0)
        return -1;
    taken = lcb_xcalloc(l.n + 1, sizeof(*taken));
    for (i = 0; i < l.n; i++)
        taken[i] = l.items[i].taken_at ? l.items[i].taken_at : l.items[i].started_at;
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        rnd = (unsigned)lcb_mono_ms();
    pick = lcb_drill_pick_choose(&f->how, taken, l.n, lcb_now(), rnd);
    free(taken);
    if (pick < 0) {
        lcb_backup_list_release(&l);
        return lcb_err_set(err, LCB_ENOTFOUND, "no completed %s backup of %s%s%s to drill", kind,
                           target, f->how.random ? " within " : "",
                           f->how.random ? f->pick + 14 : "");
    }
    *out = l.items[pick];
    memset(&l.items[pick], 0, sizeof(l.items[pick]));
    lcb_backup_list_release(&l);
    return 0;
}

/* ---- one component ---- */

static int
run_component(struct lcb_ctx *ctx, struct lcb_drill_ctx *dc, struct lcb_drill_comp *c,
              const struct lcb_target *t, const struct lcb_backup *b, struct lcb_teardown *td,
              struct lcb_err *err)
{
    struct lcb_s3_source src;
    struct lcb_backup ab;
    int rc;

    if (strcmp(c->kind, "rds") == 0)
        return lcb_drill_rds(dc, c, t, b, td, err);
    if (strcmp(c->kind, "ebs") == 0)
        return lcb_drill_ebs(dc, c, t, b, td, err);
    if (strcmp(c->kind, "config") == 0)
        return lcb_drill_config(dc, c, t, b, td, err);
    memset(&src, 0, sizeof(src));
    memset(&ab, 0, sizeof(ab));
    lcb_err_clear(&ctx->err);
    if ((rc = lcb_cmd_open_broker_archive(ctx, b->id, &ab, &src)) < 0) {
        *err = ctx->err;
        lcb_err_clear(&ctx->err);
    } else {
        rc = lcb_drill_broker(dc, c, t, b, &src, td, err);
    }
    lcb_s3_source_close(&src);
    lcb_backup_release(&ab);
    return rc;
}

static void
emit_metrics(const struct lcb_drill_ctx *dc, const struct lcb_drill_comp *c)
{
    static const char *const with_rto[] = {"DrillPassed", "DrillRPOSeconds", "DrillRTOSeconds",
                                           NULL};
    static const char *const without[] = {"DrillPassed", "DrillRPOSeconds", NULL};
    struct lcb_buf aws = LCB_BUF_INIT;
    int passed = strcmp(c->status, "passed") == 0;

    lcb_metrics_emf_aws(&aws, lcb_now(), c->rto >= 0 ? with_rto : without);
    if (c->rto >= 0)
        lcb_logf(LCB_INFO, "drill.metrics",
                 LCB_FIELDS(LCB_KV_RAW("_aws", lcb_buf_str(&aws)), LCB_KV_S("Env", dc->env),
                            LCB_KV_S("Component", c->kind), LCB_KV_S("Target", c->target),
                            LCB_KV_I("DrillPassed", passed), LCB_KV_F("DrillRPOSeconds", c->rpo),
                            LCB_KV_F("DrillRTOSeconds", c->rto)),
                 "%s %s: %s, RTO %.1fs, RPO %llds", c->kind, c->target, c->status, c->rto,
                 (long long)c->rpo);
    else
        lcb_logf(LCB_INFO, "drill.metrics",
                 LCB_FIELDS(LCB_KV_RAW("_aws", lcb_buf_str(&aws)), LCB_KV_S("Env", dc->env),
                            LCB_KV_S("Component", c->kind), LCB_KV_S("Target", c->target),
                            LCB_KV_I("DrillPassed", passed), LCB_KV_F("DrillRPOSeconds", c->rpo)),
                 "%s %s: %s, no RTO (not restored and verified)", c->kind, c->target, c->status);
    lcb_buf_release(&aws);
}

/* The teardown phase: everything registered is undone and timed; failures are a failed check. */
static void
tear_down(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, struct lcb_teardown *td)
{
    struct lcb_buf failures = LCB_BUF_INIT;
    size_t items = td->n;
    int failed;

    if (items == 0)
        return;
    lcb_drill_phase_begin(dc->run, c, LCB_PHASE_TEARDOWN, lcb_mono_ms());
    failed = lcb_teardown_run(td, &failures);
    lcb_drill_phase_end(dc->run, c, LCB_PHASE_TEARDOWN, lcb_mono_ms());
    lcb_buf_rtrim(&failures);
    lcb_drill_check_add(c, "teardown", failed ? LCB_CHECK_FAIL : LCB_CHECK_PASS, NULL,
                        failed ? "%d of %zu left behind (the next drill sweeps them): %s"
                               : "%d of %zu throwaway resources left behind%s",
                        failed, items, lcb_buf_str(&failures));
    lcb_buf_release(&failures);
}

static void
drill_target(struct lcb_ctx *ctx, struct lcb_drill_ctx *dc, const struct flags *f, const char *kind,
             const struct lcb_target *t, const struct lcb_backup *given)
{
    const struct lcb_drill *d = &ctx->policy->drill;
    struct lcb_drill_comp *c = lcb_drill_comp_add(dc->run, kind,
                                                  t       ? t->name
                                                  : given ? given->target
                                                          : NULL);
    struct lcb_teardown td;
    struct lcb_backup b;
    struct lcb_err err;
    struct lcb_buf red = LCB_BUF_INIT;
    char line[1024];
    int rc = -1;

    memset(&b, 0, sizeof(b));
    lcb_err_clear(&err);
    lcb_teardown_init(&td);
    c->started_at = lcb_now();
    dc->expires = lcb_drill_expiry(c->started_at, dc->timeout);
    if (given ? lcb_catalog_backup_get(ctx->cat, given->id, &b, &err) == 0
              : choose_backup(ctx, f, kind, c->target, &b, &err) == 0) {
        lcb_drill_comp_set(&c->backup_id, b.id);
        c->taken_at = b.taken_at ? b.taken_at : b.started_at;
        lcb_log(LCB_INFO, "drill.component.start", "drilling %s %s from %s", kind, c->target, b.id);
        lcb_drill_phase_begin(dc->run, c, LCB_PHASE_REQUEST, lcb_mono_ms());
        rc = run_component(ctx, dc, c, t, &b, &td, &err);
    }
    lcb_drill_phases_close(dc->run, c, lcb_mono_ms());
    tear_down(dc, c, &td);
    if (rc < 0) {
        lcb_drill_comp_set(&c->error,
                           lcb_redact_str(&red, lcb_err_format(&err, line, sizeof(line))));
        lcb_log(LCB_ERROR, "drill.component.error", "%s %s: %s", kind, c->target, c->error);
    }
    lcb_drill_comp_finish(c, d->rto_target, d->rpo_target,
                          (rc < 0 && err.code == LCB_EINTR) || lcb_sig_pending());
    if (!dc->dry_run) {
        emit_metrics(dc, c);
        if (strcmp(c->status, "passed") == 0 && c->backup_id)
            lcb_catalog_backup_verified(ctx->cat, c->backup_id, &err);
    }
    lcb_teardown_release(&td);
    lcb_backup_release(&b);
    lcb_buf_release(&red);
}

/* ---- the whole drill ---- */

static int
for_each_target(struct lcb_ctx *ctx, struct lcb_drill_ctx *dc, const struct flags *f,
                const struct lcb_backup *given)
{
    static const enum lcb_kind order[] = {LCB_KIND_RDS, LCB_KIND_EBS, LCB_KIND_BROKER,
                                          LCB_KIND_CONFIG};
    const struct lcb_target *ts[64];
    size_t k, i, n;

    if (given) {
        int kind = lcb_kind_parse(given->kind);
        drill_target(ctx, dc, f, given->kind,
                     kind < 0 ? NULL
                              : lcb_policy_target(ctx->policy, (enum lcb_kind)kind, given->target),
                     given);
        return 0;
    }
    for (k = 0; k < LCB_ARRAY_SIZE(order); k++) {
        if (!(f->kinds & (1u << order[k])))
            continue;
        n = lcb_policy_targets(ctx->policy, order[k], ts, LCB_ARRAY_SIZE(ts));
        for (i = 0; i < n && i < LCB_ARRAY_SIZE(ts); i++) {
            if (f->target && strcmp(f->target, ts[i]->name) != 0)
                continue;
            if (lcb_sig_pending())
                return lcb_err_set(&ctx->err, LCB_EINTR, "interrupted");
            drill_target(ctx, dc, f, lcb_kind_name(order[k]), ts[i], NULL);
        }
    }
    if (dc->run->ncomps == 0)
        return lcb_err_set(&ctx->err, LCB_ECONFIG, "nothing to drill: no %s%starget%s%s in %s",
                           f->components ? f->components : "", f->components ? " " : "",
                           f->target ? " named " : "", f->target ? f->target : "",
                           ctx->policy_path);
    return 0;
}

static void
sweep(struct lcb_ctx *ctx, struct lcb_drill_ctx *dc)
{
    struct lcb_rds rds = {ctx->aws, NULL, dc->dry_run};
    struct lcb_ec2 ec2 = {ctx->aws, NULL, dc->dry_run};
    struct lcb_err err;
    char line[1024];

    lcb_err_clear(&err);
    if (lcb_drill_sweep(dc->run, &rds, &ec2, ctx->cat, lcb_now(), dc->timeout, &err) < 0)
        lcb_log(LCB_WARN, "drill.sweep.failed",
                "the sweep of old drill resources failed (the "
                "drill goes on): %s",
                lcb_err_format(&err, line, sizeof(line)));
}

static int
finish(struct lcb_ctx *ctx, struct lcb_drill_ctx *dc, const struct flags *f)
{
    struct lcb_buf out = LCB_BUF_INIT;
    struct lcb_report_in in;
    struct lcb_err err;
    int interrupted = lcb_sig_pending() != 0 || ctx->err.code == LCB_EINTR, rc = 0;
    const char *status = lcb_drill_run_finish(dc->run, lcb_now(), interrupted);

    lcb_drill_report_json(dc->run, &out, 0);
    if (!f->dry_run &&
        lcb_catalog_drill_end(ctx->cat, dc->run->id, status, lcb_buf_str(&out), &err) < 0)
        lcb_log(LCB_ERROR, "drill.record.failed", "could not record the drill: %s", err.msg);
    lcb_buf_reset(&out);
    memset(&in, 0, sizeof(in));
    in.drill = dc->run;
    in.generated_at = lcb_now();
    if (ctx->json)
        lcb_drill_report_json(dc->run, &out, 1);
    else if (!f->dry_run)
        lcb_report_render(&out, LCB_REPORT_TEXT, &in);
    else
        lcb_buf_adds(&out, "dry run: the calls above were not sent; nothing was created, deleted "
                           "or recorded\n");
    fprintf(ctx->out, "%s%s", lcb_buf_str(&out), ctx->json ? "\n" : "");
    if (f->metrics_file && !f->dry_run) {
        lcb_buf_reset(&out);
        lcb_metrics_prometheus(&out, NULL, dc->run);
        if (lcb_metrics_write_file(f->metrics_file, lcb_buf_str(&out), &ctx->err) < 0)
            rc = -1;
    }
    lcb_buf_release(&out);
    if (interrupted)
        return ctx->err.code == LCB_EINTR ? -1
                                          : lcb_err_set(&ctx->err, LCB_EINTR,
                                                        "drill %s "
                                                        "interrupted (torn down)",
                                                        dc->run->id);
    if (rc == 0 && strcmp(status, "passed") != 0 && !f->dry_run)
        rc = lcb_err_set(&ctx->err, LCB_EDRILL,
                         "drill %s failed: see `lcbackup report --drill "
                         "%s`",
                         dc->run->id, dc->run->id);
    return rc;
}

/* The drill could not run at all (nothing to drill): record it failed, keeping ctx->err. */
static void
record_failure(struct lcb_ctx *ctx, struct lcb_drill_run *run)
{
    struct lcb_buf out = LCB_BUF_INIT;
    struct lcb_err ignored;

    lcb_drill_run_finish(run, lcb_now(), 0);
    lcb_drill_report_json(run, &out, 0);
    lcb_catalog_drill_end(ctx->cat, run->id, "failed", lcb_buf_str(&out), &ignored);
    lcb_buf_release(&out);
}

static int
parse_flags(struct lcb_ctx *ctx, struct flags *f, struct lcb_backup *given)
{
    if (lcb_drill_pick_parse(&f->how, f->pick, &ctx->err) < 0 ||
        lcb_drill_components_parse(&f->kinds, f->components, &ctx->err) < 0)
        return -1;
    if (f->backup && f->pick)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "give --backup or --pick, not both");
    if (!f->backup)
        return 0;
    if (lcb_catalog_backup_get(ctx->cat, f->backup, given, &ctx->err) < 0)
        return -1;
    if (f->components && !(f->kinds & (1u << lcb_kind_parse(given->kind))))
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "%s is a %s backup, not one of --component %s",
                           given->id, given->kind, f->components);
    if (strcmp(given->status, "completed") != 0)
        return lcb_err_set(&ctx->err, LCB_EREFUSED,
                           "%s is %s, not completed: choose another "
                           "backup (`lcbackup list`)",
                           given->id, given->status);
    return 0;
}

int
cmd_drill(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    struct lcb_backup given;
    struct lcb_drill_run run;
    struct lcb_drill_ctx dc;
    char id[64] = "drill-dry-run";
    int rc = -1;
    const struct lcb_opt opts[] = {
        {"component", 0, LCB_OPT_STR, &f.components},
        {"backup", 0, LCB_OPT_STR, &f.backup},
        {"pick", 0, LCB_OPT_STR, &f.pick},
        {"target", 0, LCB_OPT_STR, &f.target},
        {"dry-run", 'n', LCB_OPT_FLAG, &f.dry_run},
        {"metrics-file", 0, LCB_OPT_STR, &f.metrics_file},
        {NULL, 0, 0, NULL},
    };

    memset(&f, 0, sizeof(f));
    memset(&given, 0, sizeof(given));
    memset(&run, 0, sizeof(run));
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0 || parse_flags(ctx, &f, &given) < 0)
        goto out;
    if (!f.dry_run && lcb_catalog_drill_begin(ctx->cat,
                                              f.backup       ? given.kind
                                              : f.components ? f.components
                                                             : "rds,ebs,broker,config",
                                              id, &ctx->err) < 0)
        goto out;
    lcb_drill_run_init(&run, id, lcb_now(), lcb_mono_ms());
    run.env = ctx->env ? lcb_xstrdup(ctx->env) : NULL;
    run.policy = ctx->policy_path ? lcb_xstrdup(ctx->policy_path) : NULL;
    run.pick = lcb_xstrdup(f.backup ? "given" : f.pick ? f.pick : "latest");
    memset(&dc, 0, sizeof(dc));
    dc.aws = ctx->aws;
    dc.cat = ctx->cat;
    dc.policy = ctx->policy;
    dc.run = &run;
    dc.env = ctx->env;
    dc.timeout = ctx->policy->drill.timeout;
    dc.expires = lcb_drill_expiry(run.started_at, dc.timeout);
    dc.dry_run = f.dry_run ? ctx->out : NULL;
    lcb_logf(LCB_INFO, "drill.start", LCB_FIELDS(LCB_KV_S("drill_id", id)), "drill %s", id);
    sweep(ctx, &dc);
    rc = for_each_target(ctx, &dc, &f, f.backup ? &given : NULL);
    if (rc == 0 || ctx->err.code == LCB_EINTR)
        rc = finish(ctx, &dc, &f);
    else if (!f.dry_run)
        record_failure(ctx, &run);
out:
    lcb_drill_run_release(&run);
    lcb_backup_release(&given);
    return rc;
}
