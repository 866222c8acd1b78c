/*
 * report.h - what `lcbackup report` says and how: a drill report (what was restored from which
 * backup, phase timings, each check, RTO and RPO against targets, the trend over past drills) and
 * a status report (per target: the last good backup and its age against the RPO, last verified,
 * last drilled), rendered as text, Markdown, JSON or one self-contained HTML file with inline SVG
 * charts (the phase timeline, RTO/RPO over time); and the metrics alarms read: CloudWatch
 * embedded-metric-format objects and a Prometheus textfile.
 *
 * Loading reads the catalog (drills.report holds each drill's report JSON, drill.h); rendering
 * and metrics are pure (tests/unit/report_test.c). Ownership: the structs are caller-owned
 * (_init/_release) and own their strings.
 */
#ifndef LCB_REPORT_REPORT_H
#define LCB_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../drill/drill.h"

struct lcb_catalog;
struct lcb_policy;

/* ---- status ---- */

struct lcb_status_row {
    char *kind;
    char *target;
    char *backup_id;    /* the last completed backup, or NULL when there is none */
    time_t taken_at;    /* its recovery point */
    int64_t age;        /* now - taken_at; -1 without a backup */
    int64_t rpo_target; /* seconds (the alarms': drill.rpo_target, else twice the schedule's
                           period); 0: none */
    time_t verified_at; /* the newest verification of any of its backups; 0: never */
    char *drill_id;     /* the last drill that drilled this target, or NULL */
    time_t drilled_at;
    char *drill_status; /* that component's status in that drill */
    double drill_rto;   /* seconds; -1: none */
};

struct lcb_status {
    char *env;
    time_t now;
    struct lcb_status_row *rows;
    size_t n, cap;
};

void lcb_status_init(struct lcb_status *s);
void lcb_status_release(struct lcb_status *s);
/* Add a row for kind/target (everything unknown); returns it (borrowed until the next add). */
struct lcb_status_row *lcb_status_add(struct lcb_status *s, const char *kind, const char *target);
/* 1 when the row's last backup is within its RPO target, 0 when not (or there is none), -1 when
 * there is no target. */
int lcb_status_rpo_ok(const struct lcb_status_row *r);
/* One row per policy target (p may be NULL: every kind/target the catalog has backups of in env),
 * filled from the catalog. Returns 0, or -1 (catalog errors). */
int lcb_status_load(struct lcb_status *s, struct lcb_catalog *cat, const struct lcb_policy *p,
                    const char *env, time_t now, struct lcb_err *err);

/* ---- drills from the catalog ---- */

struct lcb_drill_history {
    struct lcb_drill_run *runs; /* oldest first */
    size_t n, cap;
};

void lcb_drill_history_init(struct lcb_drill_history *h);
void lcb_drill_history_release(struct lcb_drill_history *h);
/* Every drill with a report that started at or after since (0: all), in env (NULL: any), oldest
 * first. A report that does not parse is skipped with a warning. Returns 0 or -1. */
int lcb_drill_history_load(struct lcb_drill_history *h, struct lcb_catalog *cat, time_t since,
                           const char *env, struct lcb_err *err);
/* One drill's report: by id (a unique prefix is enough), or the newest with a report when id is
 * NULL. Errors: LCB_ENOTFOUND (no such drill, or none yet), LCB_EUSAGE (ambiguous prefix),
 * LCB_ECORRUPT (a report that does not parse); a drill without a report (abandoned) is
 * LCB_ENOTFOUND naming its status. */
int lcb_drill_load(struct lcb_drill_run *out, struct lcb_catalog *cat, const char *id,
                   struct lcb_err *err);

/* ---- rendering ---- */

enum lcb_report_format { LCB_REPORT_TEXT, LCB_REPORT_MD, LCB_REPORT_HTML, LCB_REPORT_JSON };

/* "text", "md", "html", "json". Returns 0, or -1 with LCB_EUSAGE. */
int lcb_report_format_parse(enum lcb_report_format *out, const char *s, struct lcb_err *err);
/* The file extension and Content-Type of a format ("html", "text/html; charset=utf-8"). */
const char *lcb_report_ext(enum lcb_report_format f);
const char *lcb_report_content_type(enum lcb_report_format f);

struct lcb_report_in {
    const struct lcb_drill_run *drill;       /* a drill report; NULL: a status report */
    const struct lcb_drill_history *history; /* past drills for the trend (may be NULL) */
    const struct lcb_status *status;         /* may be NULL */
    time_t generated_at;
    const char *title; /* NULL: the default */
};

/* Render into out. Every format carries the same facts; HTML is one file with inline CSS and SVG
 * and no external reference. */
void lcb_report_render(struct lcb_buf *out, enum lcb_report_format f,
                       const struct lcb_report_in *in);

/* The SVG charts (each a complete <svg> element, appended to out). The timeline draws one row per
 * component with a bar per phase; the trend draws RTO and RPO per past drill component (seconds)
 * with the targets as dashed lines. Empty input draws a chart that says so. */
void lcb_svg_timeline(struct lcb_buf *out, const struct lcb_drill_run *r);
void lcb_svg_trend(struct lcb_buf *out, const struct lcb_drill_history *h);

/* Append s escaped for HTML text and attributes. */
void lcb_html_escape(struct lcb_buf *out, const char *s);

/* ---- metrics ---- */

/* One CloudWatch embedded-metric-format "_aws" object (namespace "lcbackup", dimensions
 * [["Env","Component","Target"]]) declaring the named metrics (NULL-terminated, each with its
 * unit: "BackupAgeSeconds", "DrillRTOSeconds", "DrillRPOSeconds" in Seconds, "DrillPassed" in
 * Count). Appended to out. */
void lcb_metrics_emf_aws(struct lcb_buf *out, time_t ts, const char *const *metrics);
/* The Prometheus text exposition (for node_exporter's textfile collector): lcbackup_backup_age_
 * seconds, lcbackup_backup_rpo_target_seconds, lcbackup_last_verified_timestamp_seconds,
 * lcbackup_last_drill_timestamp_seconds per target from st; lcbackup_drill_passed,
 * lcbackup_drill_rto_seconds, lcbackup_drill_rpo_seconds, lcbackup_drill_timestamp_seconds per
 * component of drill. Either may be NULL. */
void lcb_metrics_prometheus(struct lcb_buf *out, const struct lcb_status *st,
                            const struct lcb_drill_run *drill);
/* Write text to path atomically (a temporary file beside it, then rename), as the textfile
 * collector requires. Returns 0, or -1 with LCB_EIO. */
int lcb_metrics_write_file(const char *path, const char *text, struct lcb_err *err);

#endif
