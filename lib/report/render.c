/* render.c - drill and status reports as text, Markdown and JSON; see report.h (HTML: html.c). */
#include "report.h"

#include <stdio.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "../ext/json.h"
#include "internal.h"

int
lcb_report_format_parse(enum lcb_report_format *out, const char *s, struct lcb_err *err)
{
    if (!s || strcmp(s, "text") == 0)
        *out = LCB_REPORT_TEXT;
    else if (strcmp(s, "md") == 0 || strcmp(s, "markdown") == 0)
        *out = LCB_REPORT_MD;
    else if (strcmp(s, "html") == 0)
        *out = LCB_REPORT_HTML;
    else if (strcmp(s, "json") == 0)
        *out = LCB_REPORT_JSON;
    else
        return lcb_err_set(err, LCB_EUSAGE, "--format: '%s' is not text, md, html or json", s);
    return 0;
}

const char *
lcb_report_ext(enum lcb_report_format f)
{
    static const char *const ext[] = {"txt", "md", "html", "json"};

    return ext[f];
}

const char *
lcb_report_content_type(enum lcb_report_format f)
{
    static const char *const types[] = {"text/plain; charset=utf-8", "text/markdown; charset=utf-8",
                                        "text/html; charset=utf-8", "application/json"};

    return types[f];
}

/* ---- shared wording ---- */

const char *
rep_secs(double secs, char *out, size_t size)
{
    if (secs < 0)
        snprintf(out, size, "-");
    else if (secs < 60)
        snprintf(out, size, "%.1fs", secs);
    else
        lcb_duration_fmt((int64_t)(secs + 0.5), out, size);
    return out;
}

const char *
rep_time(time_t t, char *out)
{
    if (!t) {
        strcpy(out, "-");
        return out;
    }
    return lcb_time_fmt(t, out);
}

/* "35.2s (target 15m 00s): met" */
const char *
rep_target(struct lcb_buf *out, double value, int64_t target, int ok)
{
    char v[32], t[32];

    lcb_buf_reset(out);
    lcb_buf_adds(out, rep_secs(value, v, sizeof(v)));
    if (target > 0)
        lcb_buf_addf(out, " (target %s): %s", rep_secs((double)target, t, sizeof(t)),
                     ok > 0 ? "met" : "MISSED");
    else
        lcb_buf_adds(out, " (no target)");
    return lcb_buf_str(out);
}

const char *
rep_title(const struct lcb_report_in *in, struct lcb_buf *buf)
{
    lcb_buf_reset(buf);
    if (in->title)
        lcb_buf_adds(buf, in->title);
    else if (in->drill)
        lcb_buf_addf(buf, "Restore drill report %s", in->drill->id);
    else
        lcb_buf_addf(buf, "Backup status report%s%s", in->status && in->status->env ? " " : "",
                     in->status && in->status->env ? in->status->env : "");
    return lcb_buf_str(buf);
}

static const char *
upper_status(const char *s)
{
    if (strcmp(s, "passed") == 0)
        return "PASSED";
    if (strcmp(s, "failed") == 0)
        return "FAILED";
    if (strcmp(s, "error") == 0)
        return "ERROR";
    if (strcmp(s, "interrupted") == 0)
        return "INTERRUPTED";
    return s;
}

/* ---- text ---- */

static void
text_comp(struct lcb_buf *out, const struct lcb_drill_comp *c)
{
    struct lcb_buf t = LCB_BUF_INIT;
    char a[LCB_TIME_LEN], s[32];
    size_t i;
    int p;

    lcb_buf_addf(out, "\n%s %s: %s\n", c->kind, c->target, upper_status(c->status));
    if (c->error)
        lcb_buf_addf(out, "  error        %s\n", c->error);
    lcb_buf_addf(out, "  backup       %s (recovery point %s)\n", c->backup_id ? c->backup_id : "-",
                 rep_time(c->taken_at, a));
    if (c->source)
        lcb_buf_addf(out, "  source       %s\n", c->source);
    if (c->restored)
        lcb_buf_addf(out, "  restored to  %s\n", c->restored);
    lcb_buf_adds(out, "  phases      ");
    for (p = 0; p < LCB_PHASE_COUNT; p++)
        if (c->phases[p].start >= 0)
            lcb_buf_addf(out, " %s %s", lcb_phase_name((enum lcb_phase)p),
                         rep_secs(c->phases[p].secs, s, sizeof(s)));
    lcb_buf_addf(out, "\n  RTO          %s\n",
                 rep_target(&t, c->rto, c->rto_target, lcb_drill_rto_ok(c)));
    lcb_buf_addf(out, "  RPO          %s\n",
                 rep_target(&t, (double)c->rpo, c->rpo_target, lcb_drill_rpo_ok(c)));
    lcb_buf_addf(out, "  checks (%zu)\n", c->nchecks);
    for (i = 0; i < c->nchecks; i++) {
        const struct lcb_drill_check *k = &c->checks[i];
        lcb_buf_addf(out, "    %-5s %-34s %s\n",
                     k->result == LCB_CHECK_PASS   ? "ok"
                     : k->result == LCB_CHECK_SKIP ? "skip"
                     : k->result == LCB_CHECK_FAIL ? "FAIL"
                                                   : "ERROR",
                     k->name, k->detail ? k->detail : "");
    }
    lcb_buf_release(&t);
}

static void
text_trend(struct lcb_buf *out, const struct lcb_drill_history *h)
{
    char a[LCB_TIME_LEN], r1[32], r2[32];
    size_t i, j;

    if (!h || h->n == 0)
        return;
    lcb_buf_adds(out, "\ntrend (past drills, oldest first)\n");
    lcb_buf_addf(out, "  %-30s %-20s %-8s %-24s %-11s %10s %10s\n", "drill", "started", "comp",
                 "target", "status", "RTO", "RPO");
    for (i = 0; i < h->n; i++)
        for (j = 0; j < h->runs[i].ncomps; j++) {
            const struct lcb_drill_comp *c = &h->runs[i].comps[j];
            lcb_buf_addf(out, "  %-30s %-20s %-8s %-24s %-11s %10s %10s\n", h->runs[i].id,
                         rep_time(h->runs[i].started_at, a), c->kind, c->target, c->status,
                         rep_secs(c->rto, r1, sizeof(r1)),
                         rep_secs((double)c->rpo, r2, sizeof(r2)));
        }
}

static void
text_status(struct lcb_buf *out, const struct lcb_status *st)
{
    char a[32], b[LCB_TIME_LEN], c[LCB_TIME_LEN];
    size_t i;

    if (!st)
        return;
    lcb_buf_addf(out, "\nstatus per target%s%s (at %s)\n", st->env ? " in " : "",
                 st->env ? st->env : "", rep_time(st->now, b));
    lcb_buf_addf(out, "  %-8s %-24s %-34s %-10s %-8s %-20s %s\n", "kind", "target",
                 "last good backup", "age", "RPO", "last verified", "last drilled");
    for (i = 0; i < st->n; i++) {
        const struct lcb_status_row *r = &st->rows[i];
        int ok = lcb_status_rpo_ok(r);
        lcb_buf_addf(out, "  %-8s %-24s %-34s %-10s %-8s %-20s ", r->kind, r->target,
                     r->backup_id ? r->backup_id : "none",
                     r->age >= 0 ? rep_secs((double)r->age, a, sizeof(a)) : "-",
                     ok < 0 ? "-"
                     : ok   ? "met"
                            : "MISSED",
                     rep_time(r->verified_at, c));
        if (r->drill_id)
            lcb_buf_addf(out, "%s %s (%s)\n", rep_time(r->drilled_at, b), r->drill_status,
                         r->drill_id);
        else
            lcb_buf_adds(out, "never\n");
    }
}

static void
text_drill(struct lcb_buf *out, const struct lcb_drill_run *r)
{
    char a[LCB_TIME_LEN], b[LCB_TIME_LEN];
    int passed, failed, skipped;
    size_t i;

    lcb_drill_run_counts(r, &passed, &failed, &skipped);
    lcb_buf_addf(out, "drill %s%s%s: %s\n", r->id, r->env ? " in " : "", r->env ? r->env : "",
                 upper_status(r->status));
    lcb_buf_addf(out,
                 "started %s, ended %s, pick %s, %zu component(s), checks: %d passed, "
                 "%d failed, %d skipped\n",
                 rep_time(r->started_at, a), rep_time(r->ended_at, b), r->pick ? r->pick : "latest",
                 r->ncomps, passed, failed, skipped);
    for (i = 0; i < r->nswept; i++)
        lcb_buf_addf(out, "swept %s %s: %s%s\n", r->swept[i].kind, r->swept[i].id,
                     r->swept[i].reason, r->swept[i].ok ? "" : " (NOT deleted)");
    for (i = 0; i < r->ncomps; i++)
        text_comp(out, &r->comps[i]);
}

static void
render_text(struct lcb_buf *out, const struct lcb_report_in *in)
{
    char a[LCB_TIME_LEN];

    if (in->drill)
        text_drill(out, in->drill);
    else
        lcb_buf_addf(out, "backup status report, generated %s\n", rep_time(in->generated_at, a));
    text_trend(out, in->history);
    text_status(out, in->status);
}

/* ---- Markdown ---- */

static void
md_cell(struct lcb_buf *out, const char *s)
{
    lcb_buf_adds(out, " ");
    for (; s && *s; s++) {
        if (*s == '|')
            lcb_buf_adds(out, "\\|");
        else if (*s == '\n')
            lcb_buf_adds(out, " ");
        else
            lcb_buf_addch(out, *s);
    }
    lcb_buf_adds(out, " |");
}

static void
md_comp(struct lcb_buf *out, const struct lcb_drill_comp *c)
{
    struct lcb_buf t = LCB_BUF_INIT;
    char a[LCB_TIME_LEN], s[32];
    size_t i;
    int p;

    lcb_buf_addf(out, "\n### %s %s: %s\n\n| | |\n|---|---|\n", c->kind, c->target,
                 upper_status(c->status));
    if (c->error) {
        lcb_buf_adds(out, "| error |");
        md_cell(out, c->error);
        lcb_buf_adds(out, "\n");
    }
    lcb_buf_addf(out, "| backup | %s |\n| recovery point | %s |\n",
                 c->backup_id ? c->backup_id : "-", rep_time(c->taken_at, a));
    lcb_buf_addf(out, "| restored to | %s |\n", c->restored ? c->restored : "-");
    for (p = 0; p < LCB_PHASE_COUNT; p++)
        if (c->phases[p].start >= 0)
            lcb_buf_addf(out, "| %s | %s |\n", lcb_phase_name((enum lcb_phase)p),
                         rep_secs(c->phases[p].secs, s, sizeof(s)));
    lcb_buf_addf(out, "| RTO | %s |\n", rep_target(&t, c->rto, c->rto_target, lcb_drill_rto_ok(c)));
    lcb_buf_addf(out, "| RPO | %s |\n\n| check | result | detail |\n|---|---|---|\n",
                 rep_target(&t, (double)c->rpo, c->rpo_target, lcb_drill_rpo_ok(c)));
    for (i = 0; i < c->nchecks; i++) {
        lcb_buf_adds(out, "|");
        md_cell(out, c->checks[i].name);
        md_cell(out, lcb_check_result_name(c->checks[i].result));
        md_cell(out, c->checks[i].detail);
        lcb_buf_adds(out, "\n");
    }
    lcb_buf_release(&t);
}

static void
md_status(struct lcb_buf *out, const struct lcb_status *st)
{
    char a[32], b[LCB_TIME_LEN], c[LCB_TIME_LEN];
    size_t i;

    if (!st)
        return;
    lcb_buf_adds(out, "\n## Status per target\n\n| kind | target | last good backup | age | RPO | "
                      "last verified | last drilled |\n|---|---|---|---|---|---|---|\n");
    for (i = 0; i < st->n; i++) {
        const struct lcb_status_row *r = &st->rows[i];
        int ok = lcb_status_rpo_ok(r);
        lcb_buf_addf(out, "| %s | %s | %s | %s | %s | %s | ", r->kind, r->target,
                     r->backup_id ? r->backup_id : "none",
                     r->age >= 0 ? rep_secs((double)r->age, a, sizeof(a)) : "-",
                     ok < 0 ? "-"
                     : ok   ? "met"
                            : "**MISSED**",
                     rep_time(r->verified_at, c));
        if (r->drill_id)
            lcb_buf_addf(out, "%s %s (%s) |\n", rep_time(r->drilled_at, b), r->drill_status,
                         r->drill_id);
        else
            lcb_buf_adds(out, "never |\n");
    }
}

static void
md_trend(struct lcb_buf *out, const struct lcb_drill_history *h)
{
    char a[LCB_TIME_LEN], r1[32], r2[32];
    size_t i, j;

    if (!h || h->n == 0)
        return;
    lcb_buf_adds(out,
                 "\n## Trend\n\n| drill | started | component | target | status | RTO | RPO |\n"
                 "|---|---|---|---|---|---|---|\n");
    for (i = 0; i < h->n; i++)
        for (j = 0; j < h->runs[i].ncomps; j++) {
            const struct lcb_drill_comp *c = &h->runs[i].comps[j];
            lcb_buf_addf(out, "| %s | %s | %s | %s | %s | %s | %s |\n", h->runs[i].id,
                         rep_time(h->runs[i].started_at, a), c->kind, c->target, c->status,
                         rep_secs(c->rto, r1, sizeof(r1)),
                         rep_secs((double)c->rpo, r2, sizeof(r2)));
        }
}

static void
render_md(struct lcb_buf *out, const struct lcb_report_in *in)
{
    struct lcb_buf title = LCB_BUF_INIT;
    char a[LCB_TIME_LEN], b[LCB_TIME_LEN];
    size_t i;

    lcb_buf_addf(out, "# %s\n\n", rep_title(in, &title));
    if (in->drill) {
        const struct lcb_drill_run *r = in->drill;
        lcb_buf_addf(out, "**%s**: drill `%s`%s%s, started %s, ended %s, pick %s.\n",
                     upper_status(r->status), r->id, r->env ? " in " : "", r->env ? r->env : "",
                     rep_time(r->started_at, a), rep_time(r->ended_at, b),
                     r->pick ? r->pick : "latest");
        for (i = 0; i < r->nswept; i++)
            lcb_buf_addf(out, "\n- swept %s `%s`: %s%s", r->swept[i].kind, r->swept[i].id,
                         r->swept[i].reason, r->swept[i].ok ? "" : " (NOT deleted)");
        lcb_buf_adds(out, r->nswept ? "\n\n## Components\n" : "\n## Components\n");
        for (i = 0; i < r->ncomps; i++)
            md_comp(out, &r->comps[i]);
    } else {
        lcb_buf_addf(out, "Generated %s.\n", rep_time(in->generated_at, a));
    }
    md_trend(out, in->history);
    md_status(out, in->status);
    lcb_buf_release(&title);
}

/* ---- JSON ---- */

static struct lcb_json *
run_tree(const struct lcb_drill_run *r)
{
    struct lcb_buf t = LCB_BUF_INIT;
    struct lcb_json *j = NULL;
    struct lcb_err err;

    lcb_drill_report_json(r, &t, 0);
    if (lcb_json_parse(&j, t.ptr, t.len, &err) < 0)
        j = lcb_json_new_object();
    lcb_buf_release(&t);
    return j;
}

static void
add_time_or_null(struct lcb_json *o, const char *key, time_t t)
{
    char ts[LCB_TIME_LEN];

    if (t)
        lcb_json_add_str(o, key, lcb_time_fmt(t, ts));
    else
        lcb_json_add_null(o, key);
}

static struct lcb_json *
status_tree(const struct lcb_status *st)
{
    struct lcb_json *a = lcb_json_new_array(), *o;
    size_t i;

    for (i = 0; i < st->n; i++) {
        const struct lcb_status_row *r = &st->rows[i];
        int ok = lcb_status_rpo_ok(r);
        o = lcb_json_push(a, lcb_json_new_object());
        lcb_json_add_str(o, "kind", r->kind);
        lcb_json_add_str(o, "target", r->target);
        if (r->backup_id)
            lcb_json_add_str(o, "last_backup_id", r->backup_id);
        else
            lcb_json_add_null(o, "last_backup_id");
        add_time_or_null(o, "recovery_point", r->taken_at);
        if (r->age >= 0)
            lcb_json_add_num(o, "age_seconds", (double)r->age);
        else
            lcb_json_add_null(o, "age_seconds");
        lcb_json_add_num(o, "rpo_target_seconds", (double)r->rpo_target);
        if (ok < 0)
            lcb_json_add_null(o, "rpo_ok");
        else
            lcb_json_add_bool(o, "rpo_ok", ok);
        add_time_or_null(o, "last_verified", r->verified_at);
        if (r->drill_id) {
            lcb_json_add_str(o, "last_drill_id", r->drill_id);
            lcb_json_add_str(o, "last_drill_status", r->drill_status);
        } else {
            lcb_json_add_null(o, "last_drill_id");
            lcb_json_add_null(o, "last_drill_status");
        }
        add_time_or_null(o, "last_drilled", r->drilled_at);
    }
    return a;
}

static void
render_json(struct lcb_buf *out, const struct lcb_report_in *in)
{
    struct lcb_json *o = lcb_json_new_object(), *a;
    size_t i;

    lcb_json_add_str(o, "report", in->drill ? "drill" : "status");
    add_time_or_null(o, "generated_at", in->generated_at);
    if (in->drill)
        lcb_json_add(o, "drill", run_tree(in->drill));
    a = lcb_json_add(o, "trend", lcb_json_new_array());
    for (i = 0; in->history && i < in->history->n; i++)
        lcb_json_push(a, run_tree(&in->history->runs[i]));
    if (in->status) {
        if (in->status->env)
            lcb_json_add_str(o, "env", in->status->env);
        lcb_json_add(o, "status", status_tree(in->status));
    }
    lcb_json_print(out, o, 1);
    lcb_buf_adds(out, "\n");
    lcb_json_free(o);
}

void
lcb_report_render(struct lcb_buf *out, enum lcb_report_format f, const struct lcb_report_in *in)
{
    switch (f) {
    case LCB_REPORT_TEXT:
        render_text(out, in);
        break;
    case LCB_REPORT_MD:
        render_md(out, in);
        break;
    case LCB_REPORT_JSON:
        render_json(out, in);
        break;
    case LCB_REPORT_HTML:
        rep_render_html(out, in);
        break;
    }
}
