/* html.c - the report as one self-contained HTML file (inline CSS and SVG, no external
 * reference) for an auditor's browser; see report.h. */
#include "report.h"

#include <string.h>

#include "../core/clock.h"
#include "internal.h"

static const char style[] =
    "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:0;color:#222;"
    "background:#f4f5f7}\n"
    "header.banner{background:#1d3557;color:#ffffff;padding:18px 32px}\n"
    "header.banner h1{margin:0;font-size:30px}\n"
    "header.banner p{margin:6px 0 0;font-size:14px;color:#ffffff}\n"
    "main{padding:8px 32px 32px;max-width:1040px}\n"
    "section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 18px;"
    "margin:16px 0}\n"
    "h2{font-size:20px;margin:4px 0 10px}h3{font-size:16px;margin:14px 0 6px}\n"
    "table{border-collapse:collapse;font-size:13px;margin:6px 0}\n"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\n"
    "th{background:#eceff3}\n"
    ".badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;"
    "font-weight:bold}\n"
    ".passed,.pass,.met{background:#2e7d32}.failed,.fail,.error,.missed{background:#c62828}\n"
    ".interrupted,.skip,.none{background:#757575}\n"
    "footer{font-size:12px;color:#555;padding:0 32px 24px}\n";

static void
esc(struct lcb_buf *out, const char *s)
{
    lcb_html_escape(out, s ? s : "-");
}

static void
badge(struct lcb_buf *out, const char *cls, const char *text)
{
    lcb_buf_adds(out, "<span class=\"badge ");
    esc(out, cls);
    lcb_buf_adds(out, "\">");
    esc(out, text);
    lcb_buf_adds(out, "</span>");
}

static void
row(struct lcb_buf *out, const char *key, const char *value)
{
    lcb_buf_adds(out, "<tr><th>");
    esc(out, key);
    lcb_buf_adds(out, "</th><td>");
    esc(out, value);
    lcb_buf_adds(out, "</td></tr>\n");
}

static void
target_row(struct lcb_buf *out, const char *key, double value, int64_t target, int ok)
{
    struct lcb_buf t = LCB_BUF_INIT;

    lcb_buf_adds(out, "<tr><th>");
    esc(out, key);
    lcb_buf_adds(out, "</th><td>");
    esc(out, rep_target(&t, value, target, ok));
    if (ok >= 0) {
        lcb_buf_adds(out, " ");
        badge(out, ok ? "met" : "missed", ok ? "met" : "missed");
    }
    lcb_buf_adds(out, "</td></tr>\n");
    lcb_buf_release(&t);
}

static void
checks_table(struct lcb_buf *out, const struct lcb_drill_comp *c)
{
    size_t i;

    lcb_buf_adds(out, "<table class=\"checks\"><tr><th>check</th><th>result</th><th>detail</th>"
                      "<th>relation</th></tr>\n");
    for (i = 0; i < c->nchecks; i++) {
        const struct lcb_drill_check *k = &c->checks[i];
        lcb_buf_adds(out, "<tr><td>");
        esc(out, k->name);
        lcb_buf_adds(out, "</td><td>");
        badge(out, lcb_check_result_name(k->result), lcb_check_result_name(k->result));
        lcb_buf_adds(out, "</td><td>");
        esc(out, k->detail);
        lcb_buf_adds(out, "</td><td>");
        esc(out, k->relation);
        lcb_buf_adds(out, "</td></tr>\n");
    }
    lcb_buf_adds(out, "</table>\n");
}

static void
comp_section(struct lcb_buf *out, const struct lcb_drill_comp *c)
{
    char a[LCB_TIME_LEN], s[32];
    int p;

    lcb_buf_adds(out, "<h3>");
    esc(out, c->kind);
    lcb_buf_adds(out, " ");
    esc(out, c->target);
    lcb_buf_adds(out, " ");
    badge(out, c->status, c->status);
    lcb_buf_adds(out, "</h3>\n<table>\n");
    if (c->error)
        row(out, "error", c->error);
    row(out, "backup", c->backup_id);
    row(out, "recovery point", rep_time(c->taken_at, a));
    row(out, "source", c->source);
    row(out, "restored to", c->restored);
    for (p = 0; p < LCB_PHASE_COUNT; p++)
        if (c->phases[p].start >= 0)
            row(out, lcb_phase_name((enum lcb_phase)p), rep_secs(c->phases[p].secs, s, sizeof(s)));
    target_row(out, "RTO", c->rto, c->rto_target, lcb_drill_rto_ok(c));
    target_row(out, "RPO", (double)c->rpo, c->rpo_target, lcb_drill_rpo_ok(c));
    lcb_buf_adds(out, "</table>\n");
    checks_table(out, c);
}

static void
drill_sections(struct lcb_buf *out, const struct lcb_drill_run *r)
{
    char a[LCB_TIME_LEN], b[LCB_TIME_LEN];
    int passed, failed, skipped;
    size_t i;

    lcb_drill_run_counts(r, &passed, &failed, &skipped);
    lcb_buf_adds(out, "<section><h2>Summary ");
    badge(out, r->status, r->status);
    lcb_buf_adds(out, "</h2><table>\n");
    row(out, "drill", r->id);
    row(out, "environment", r->env);
    row(out, "policy", r->policy);
    row(out, "recovery point chosen", r->pick ? r->pick : "latest");
    row(out, "started", rep_time(r->started_at, a));
    row(out, "ended", rep_time(r->ended_at, b));
    lcb_buf_addf(out, "<tr><th>checks</th><td>%d passed, %d failed, %d skipped</td></tr>\n", passed,
                 failed, skipped);
    for (i = 0; i < r->nswept; i++) {
        lcb_buf_adds(out, "<tr><th>swept</th><td>");
        esc(out, r->swept[i].kind);
        lcb_buf_adds(out, " ");
        esc(out, r->swept[i].id);
        lcb_buf_adds(out, ": ");
        esc(out, r->swept[i].reason);
        lcb_buf_adds(out, r->swept[i].ok ? "" : " (NOT deleted)");
        lcb_buf_adds(out, "</td></tr>\n");
    }
    lcb_buf_adds(out, "</table></section>\n<section><h2>Phase timeline</h2>\n");
    lcb_svg_timeline(out, r);
    lcb_buf_adds(out, "</section>\n");
}

static void
components_section(struct lcb_buf *out, const struct lcb_drill_run *r)
{
    size_t i;

    lcb_buf_adds(out, "<section><h2>Components</h2>\n");
    for (i = 0; i < r->ncomps; i++)
        comp_section(out, &r->comps[i]);
    lcb_buf_adds(out, "</section>\n");
}

static void
status_section(struct lcb_buf *out, const struct lcb_status *st)
{
    char a[32], b[LCB_TIME_LEN], c[LCB_TIME_LEN];
    size_t i;

    lcb_buf_adds(out, "<section><h2>Status per target</h2>\n<table><tr><th>kind</th>"
                      "<th>target</th><th>last good backup</th><th>recovery point</th><th>age</th>"
                      "<th>RPO</th><th>last verified</th><th>last drilled</th></tr>\n");
    for (i = 0; i < st->n; i++) {
        const struct lcb_status_row *r = &st->rows[i];
        int ok = lcb_status_rpo_ok(r);
        lcb_buf_adds(out, "<tr><td>");
        esc(out, r->kind);
        lcb_buf_adds(out, "</td><td>");
        esc(out, r->target);
        lcb_buf_adds(out, "</td><td>");
        esc(out, r->backup_id ? r->backup_id : "none");
        lcb_buf_addf(out, "</td><td>%s</td><td>%s</td><td>", rep_time(r->taken_at, b),
                     r->age >= 0 ? rep_secs((double)r->age, a, sizeof(a)) : "-");
        badge(out,
              ok < 0 ? "none"
              : ok   ? "met"
                     : "missed",
              ok < 0 ? "no target"
              : ok   ? "met"
                     : "missed");
        lcb_buf_addf(out, "</td><td>%s</td><td>", rep_time(r->verified_at, c));
        if (r->drill_id) {
            lcb_buf_addf(out, "%s ", rep_time(r->drilled_at, b));
            badge(out, r->drill_status, r->drill_status);
            lcb_buf_adds(out, " ");
            esc(out, r->drill_id);
        } else {
            lcb_buf_adds(out, "never");
        }
        lcb_buf_adds(out, "</td></tr>\n");
    }
    lcb_buf_adds(out, "</table></section>\n");
}

void
rep_render_html(struct lcb_buf *out, const struct lcb_report_in *in)
{
    struct lcb_buf title = LCB_BUF_INIT;
    char a[LCB_TIME_LEN];

    rep_title(in, &title);
    lcb_buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                      "<meta name=\"generator\" content=\"lcbackup\">\n<title>");
    esc(out, lcb_buf_str(&title));
    lcb_buf_addf(out,
                 "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header class=\"banner\">"
                 "<h1>",
                 style);
    esc(out, lcb_buf_str(&title));
    lcb_buf_addf(out,
                 "</h1><p>LegoCity backup and disaster recovery: generated by lcbackup at "
                 "%s</p></header>\n<main>\n",
                 rep_time(in->generated_at, a));
    if (in->drill)
        drill_sections(out, in->drill);
    lcb_buf_adds(out, "<section><h2>RTO and RPO over time</h2>\n");
    lcb_svg_trend(out, in->history);
    lcb_buf_adds(out, "</section>\n");
    if (in->drill)
        components_section(out, in->drill);
    if (in->status)
        status_section(out, in->status);
    lcb_buf_adds(out, "</main>\n<footer>RTO: from the restore request to the restored copy "
                      "verified (teardown not included). RPO: age of the recovery point when the "
                      "drill started. See docs/drills.md.</footer>\n</body></html>\n");
    lcb_buf_release(&title);
}
