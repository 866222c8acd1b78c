/* metrics.c - CloudWatch embedded-metric-format objects and the Prometheus textfile; see
 * report.h. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/mem.h"

static const char *
unit_of(const char *metric)
{
    return strcmp(metric, "DrillPassed") == 0 ? "Count" : "Seconds";
}

void
lcb_metrics_emf_aws(struct lcb_buf *out, time_t ts, const char *const *metrics)
{
    size_t i;

    lcb_buf_addf(out,
                 "{\"Timestamp\":%lld000,\"CloudWatchMetrics\":[{\"Namespace\":\"lcbackup\","
                 "\"Dimensions\":[[\"Env\",\"Component\",\"Target\"]],\"Metrics\":[",
                 (long long)ts);
    for (i = 0; metrics && metrics[i]; i++)
        lcb_buf_addf(out, "%s{\"Name\":\"%s\",\"Unit\":\"%s\"}", i ? "," : "", metrics[i],
                     unit_of(metrics[i]));
    lcb_buf_adds(out, "]}]}");
}

/* A label value as the exposition format wants it: \\, \" and \n escaped. */
static void
label(struct lcb_buf *out, const char *name, const char *value, int first)
{
    lcb_buf_addf(out, "%s%s=\"", first ? "" : ",", name);
    for (; value && *value; value++) {
        if (*value == '\\' || *value == '"')
            lcb_buf_addch(out, '\\');
        if (*value == '\n') {
            lcb_buf_adds(out, "\\n");
            continue;
        }
        lcb_buf_addch(out, *value);
    }
    lcb_buf_addch(out, '"');
}

static void
sample(struct lcb_buf *out, const char *metric, const char *env, const char *kind,
       const char *target, double v)
{
    lcb_buf_addf(out, "%s{", metric);
    label(out, "env", env ? env : "", 1);
    label(out, "component", kind, 0);
    label(out, "target", target, 0);
    lcb_buf_addf(out, "} %.15g\n", floor(v * 1000.0 + 0.5) / 1000.0);
}

static void
header(struct lcb_buf *out, const char *metric, const char *help)
{
    lcb_buf_addf(out, "# HELP %s %s\n# TYPE %s gauge\n", metric, help, metric);
}

static void
status_metrics(struct lcb_buf *out, const struct lcb_status *st)
{
    size_t i;

    header(out, "lcbackup_backup_age_seconds",
           "Age of the newest completed backup's recovery "
           "point.");
    for (i = 0; i < st->n; i++)
        if (st->rows[i].age >= 0)
            sample(out, "lcbackup_backup_age_seconds", st->env, st->rows[i].kind,
                   st->rows[i].target, (double)st->rows[i].age);
    header(out, "lcbackup_backup_rpo_target_seconds", "The policy's RPO target.");
    for (i = 0; i < st->n; i++)
        if (st->rows[i].rpo_target > 0)
            sample(out, "lcbackup_backup_rpo_target_seconds", st->env, st->rows[i].kind,
                   st->rows[i].target, (double)st->rows[i].rpo_target);
    header(out, "lcbackup_last_verified_timestamp_seconds",
           "When a backup of the target was "
           "last verified (Unix time).");
    for (i = 0; i < st->n; i++)
        if (st->rows[i].verified_at)
            sample(out, "lcbackup_last_verified_timestamp_seconds", st->env, st->rows[i].kind,
                   st->rows[i].target, (double)st->rows[i].verified_at);
    header(out, "lcbackup_last_drill_timestamp_seconds",
           "When the target was last drilled "
           "(Unix time).");
    for (i = 0; i < st->n; i++)
        if (st->rows[i].drilled_at)
            sample(out, "lcbackup_last_drill_timestamp_seconds", st->env, st->rows[i].kind,
                   st->rows[i].target, (double)st->rows[i].drilled_at);
}

static void
drill_metrics(struct lcb_buf *out, const struct lcb_drill_run *d)
{
    size_t i;

    header(out, "lcbackup_drill_passed", "1 when the component's last drill passed, else 0.");
    for (i = 0; i < d->ncomps; i++)
        sample(out, "lcbackup_drill_passed", d->env, d->comps[i].kind, d->comps[i].target,
               strcmp(d->comps[i].status, "passed") == 0 ? 1 : 0);
    header(out, "lcbackup_drill_rto_seconds", "Restore request to restored and verified.");
    for (i = 0; i < d->ncomps; i++)
        if (d->comps[i].rto >= 0)
            sample(out, "lcbackup_drill_rto_seconds", d->env, d->comps[i].kind, d->comps[i].target,
                   d->comps[i].rto);
    header(out, "lcbackup_drill_rpo_seconds", "Age of the drilled recovery point.");
    for (i = 0; i < d->ncomps; i++)
        if (d->comps[i].rpo >= 0)
            sample(out, "lcbackup_drill_rpo_seconds", d->env, d->comps[i].kind, d->comps[i].target,
                   (double)d->comps[i].rpo);
    header(out, "lcbackup_drill_timestamp_seconds", "When the drill started (Unix time).");
    for (i = 0; i < d->ncomps; i++)
        sample(out, "lcbackup_drill_timestamp_seconds", d->env, d->comps[i].kind,
               d->comps[i].target, (double)d->started_at);
}

void
lcb_metrics_prometheus(struct lcb_buf *out, const struct lcb_status *st,
                       const struct lcb_drill_run *drill)
{
    if (st)
        status_metrics(out, st);
    if (drill)
        drill_metrics(out, drill);
}

int
lcb_metrics_write_file(const char *path, const char *text, struct lcb_err *err)
{
    char *tmp = lcb_xasprintf("%s.tmp.%ld", path, (long)getpid());
    size_t len = strlen(text), off = 0;
    int fd, rc = -1;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        lcb_err_sys(err, LCB_EIO, errno, "metrics file '%s'", tmp);
        goto out;
    }
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            lcb_err_sys(err, LCB_EIO, errno, "write '%s'", tmp);
            close(fd);
            unlink(tmp);
            goto out;
        }
        off += (size_t)n;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        lcb_err_sys(err, LCB_EIO, errno, "metrics file '%s'", path);
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    free(tmp);
    return rc;
}
