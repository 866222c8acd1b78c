/* drill.c - the drill model: components, phases, checks, RTO/RPO; see drill.h. */
#include "drill.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"

void
lcb_drill_run_init(struct lcb_drill_run *r, const char *id, time_t now, int64_t now_ms)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", id ? id : "");
    r->started_at = now;
    r->start_ms = now_ms;
    r->status = lcb_xstrdup("running");
}

static void
comp_release(struct lcb_drill_comp *c)
{
    size_t i;

    for (i = 0; i < c->nchecks; i++) {
        free(c->checks[i].name);
        free(c->checks[i].detail);
        free(c->checks[i].relation);
    }
    free(c->checks);
    free(c->kind);
    free(c->target);
    free(c->backup_id);
    free(c->source);
    free(c->restored);
    free(c->status);
    free(c->error);
}

void
lcb_drill_run_release(struct lcb_drill_run *r)
{
    size_t i;

    for (i = 0; i < r->ncomps; i++)
        comp_release(&r->comps[i]);
    for (i = 0; i < r->nswept; i++) {
        free(r->swept[i].kind);
        free(r->swept[i].id);
        free(r->swept[i].reason);
    }
    free(r->comps);
    free(r->swept);
    free(r->env);
    free(r->policy);
    free(r->pick);
    free(r->status);
    memset(r, 0, sizeof(*r));
}

void
lcb_drill_comp_set(char **field, const char *value)
{
    free(*field);
    *field = value ? lcb_xstrdup(value) : NULL;
}

struct lcb_drill_comp *
lcb_drill_comp_add(struct lcb_drill_run *r, const char *kind, const char *target)
{
    struct lcb_drill_comp *c;
    int p;

    if (r->ncomps == r->ccomps) {
        r->ccomps = r->ccomps ? r->ccomps * 2 : 4;
        r->comps = lcb_xrealloc(r->comps, r->ccomps * sizeof(*r->comps));
    }
    c = &r->comps[r->ncomps++];
    memset(c, 0, sizeof(*c));
    c->kind = lcb_xstrdup(kind);
    c->target = lcb_xstrdup(target ? target : "");
    c->status = lcb_xstrdup("running");
    c->rto = -1;
    c->rpo = -1;
    for (p = 0; p < LCB_PHASE_COUNT; p++)
        c->phases[p].start = -1;
    return c;
}

struct lcb_drill_check *
lcb_drill_check_add(struct lcb_drill_comp *c, const char *name, enum lcb_check_result result,
                    const char *relation, const char *fmt, ...)
{
    struct lcb_drill_check *k;
    struct lcb_buf d = LCB_BUF_INIT;
    va_list ap;

    if (c->nchecks == c->cchecks) {
        c->cchecks = c->cchecks ? c->cchecks * 2 : 8;
        c->checks = lcb_xrealloc(c->checks, c->cchecks * sizeof(*c->checks));
    }
    k = &c->checks[c->nchecks++];
    memset(k, 0, sizeof(*k));
    k->name = lcb_xstrdup(name);
    k->result = result;
    k->relation = relation && *relation ? lcb_xstrdup(relation) : NULL;
    va_start(ap, fmt);
    lcb_buf_vaddf(&d, fmt, ap);
    va_end(ap);
    k->detail = lcb_buf_detach(&d, NULL);
    if (!k->detail)
        k->detail = lcb_xstrdup("");
    return k;
}

void
lcb_drill_phase_begin(struct lcb_drill_run *r, struct lcb_drill_comp *c, enum lcb_phase p,
                      int64_t now_ms)
{
    if (c->phases[p].start >= 0)
        return;
    c->phases[p].start = (double)(now_ms - r->start_ms) / 1000.0;
    c->phases[p].secs = 0;
    c->phase_open_ms[p] = now_ms ? now_ms : 1;
}

void
lcb_drill_phase_end(struct lcb_drill_run *r, struct lcb_drill_comp *c, enum lcb_phase p,
                    int64_t now_ms)
{
    (void)r;
    if (!c->phase_open_ms[p])
        return;
    c->phases[p].secs = (double)(now_ms - c->phase_open_ms[p]) / 1000.0;
    if (c->phases[p].secs < 0)
        c->phases[p].secs = 0;
    c->phase_open_ms[p] = 0;
}

void
lcb_drill_phases_close(struct lcb_drill_run *r, struct lcb_drill_comp *c, int64_t now_ms)
{
    int p;

    for (p = 0; p < LCB_PHASE_COUNT; p++)
        lcb_drill_phase_end(r, c, (enum lcb_phase)p, now_ms);
}

int
lcb_drill_rto_ok(const struct lcb_drill_comp *c)
{
    if (c->rto_target <= 0)
        return -1;
    if (c->rto < 0)
        return 0;
    return c->rto <= (double)c->rto_target;
}

int
lcb_drill_rpo_ok(const struct lcb_drill_comp *c)
{
    if (c->rpo_target <= 0)
        return -1;
    if (c->rpo < 0)
        return 0;
    return c->rpo <= c->rpo_target;
}

static int
checks_failed(const struct lcb_drill_comp *c)
{
    size_t i;

    for (i = 0; i < c->nchecks; i++)
        if (c->checks[i].result == LCB_CHECK_FAIL || c->checks[i].result == LCB_CHECK_ERROR)
            return 1;
    return 0;
}

void
lcb_drill_comp_finish(struct lcb_drill_comp *c, int64_t rto_target, int64_t rpo_target,
                      int interrupted)
{
    const struct lcb_drill_phase_time *req = &c->phases[LCB_PHASE_REQUEST];
    const struct lcb_drill_phase_time *chk = &c->phases[LCB_PHASE_CHECKS];
    const char *status;

    c->rto_target = rto_target;
    c->rpo_target = rpo_target;
    c->rto = -1;
    if (!c->error && !interrupted && req->start >= 0 && chk->start >= 0)
        c->rto = chk->start + chk->secs - req->start;
    c->rpo = c->taken_at && c->started_at ? (int64_t)(c->started_at - c->taken_at) : -1;
    if (c->rpo < -1)
        c->rpo = 0; /* a recovery point stamped a little after the drill began (clock skew) */
    if (interrupted)
        status = "interrupted";
    else if (c->error)
        status = "error";
    else if (checks_failed(c) || lcb_drill_rto_ok(c) == 0 || lcb_drill_rpo_ok(c) == 0)
        status = "failed";
    else
        status = "passed";
    lcb_drill_comp_set(&c->status, status);
}

const char *
lcb_drill_run_finish(struct lcb_drill_run *r, time_t now, int interrupted)
{
    size_t i;
    int ok = r->ncomps > 0;

    for (i = 0; i < r->ncomps; i++)
        if (strcmp(r->comps[i].status, "passed") != 0)
            ok = 0;
    r->ended_at = now;
    lcb_drill_comp_set(&r->status, interrupted ? "interrupted" : ok ? "passed" : "failed");
    return r->status;
}

void
lcb_drill_run_counts(const struct lcb_drill_run *r, int *passed, int *failed, int *skipped)
{
    size_t i, j;

    *passed = *failed = *skipped = 0;
    for (i = 0; i < r->ncomps; i++)
        for (j = 0; j < r->comps[i].nchecks; j++) {
            enum lcb_check_result x = r->comps[i].checks[j].result;
            if (x == LCB_CHECK_PASS)
                (*passed)++;
            else if (x == LCB_CHECK_SKIP)
                (*skipped)++;
            else
                (*failed)++;
        }
}

const char *
lcb_check_result_name(enum lcb_check_result r)
{
    switch (r) {
    case LCB_CHECK_PASS:
        return "pass";
    case LCB_CHECK_FAIL:
        return "fail";
    case LCB_CHECK_SKIP:
        return "skip";
    case LCB_CHECK_ERROR:
        return "error";
    }
    return "error";
}

const char *
lcb_phase_name(enum lcb_phase p)
{
    static const char *const names[] = {"request", "provisioning", "checks", "teardown"};

    return p < LCB_PHASE_COUNT ? names[p] : "?";
}

void
lcb_drill_swept_add(struct lcb_drill_run *r, const char *kind, const char *id, const char *reason,
                    int ok)
{
    struct lcb_drill_swept *s;

    if (r->nswept == r->cswept) {
        r->cswept = r->cswept ? r->cswept * 2 : 4;
        r->swept = lcb_xrealloc(r->swept, r->cswept * sizeof(*r->swept));
    }
    s = &r->swept[r->nswept++];
    s->kind = lcb_xstrdup(kind);
    s->id = lcb_xstrdup(id);
    s->reason = lcb_xstrdup(reason ? reason : "");
    s->ok = ok;
}
