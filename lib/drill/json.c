/* json.c - the drill report as JSON, and back; see drill.h and docs/drills.md. */
#include "drill.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "../ext/json.h"

static void
add_time(struct lcb_json *o, const char *key, time_t t)
{
    char ts[LCB_TIME_LEN];

    if (t)
        lcb_json_add_str(o, key, lcb_time_fmt(t, ts));
    else
        lcb_json_add_null(o, key);
}

static void
add_str(struct lcb_json *o, const char *key, const char *s)
{
    if (s)
        lcb_json_add_str(o, key, s);
    else
        lcb_json_add_null(o, key);
}

static double
round_ms(double secs)
{
    return floor(secs * 1000.0 + 0.5) / 1000.0;
}

static void
add_ok(struct lcb_json *o, const char *key, int ok)
{
    if (ok < 0)
        lcb_json_add_null(o, key);
    else
        lcb_json_add_bool(o, key, ok);
}

static struct lcb_json *
check_json(const struct lcb_drill_check *k)
{
    struct lcb_json *o = lcb_json_new_object();

    lcb_json_add_str(o, "name", k->name);
    lcb_json_add_str(o, "result", lcb_check_result_name(k->result));
    lcb_json_add_str(o, "detail", k->detail ? k->detail : "");
    if (k->relation)
        lcb_json_add_str(o, "relation", k->relation);
    lcb_json_add_num(o, "seconds", round_ms(k->secs));
    return o;
}

static struct lcb_json *
phases_json(const struct lcb_drill_comp *c)
{
    struct lcb_json *o = lcb_json_new_object(), *p;
    int i;

    for (i = 0; i < LCB_PHASE_COUNT; i++) {
        if (c->phases[i].start < 0)
            continue;
        p = lcb_json_add(o, lcb_phase_name((enum lcb_phase)i), lcb_json_new_object());
        lcb_json_add_num(p, "start", round_ms(c->phases[i].start));
        lcb_json_add_num(p, "seconds", round_ms(c->phases[i].secs));
    }
    return o;
}

static struct lcb_json *
comp_json(const struct lcb_drill_comp *c)
{
    struct lcb_json *o = lcb_json_new_object(), *a;
    size_t i;

    lcb_json_add_str(o, "component", c->kind);
    lcb_json_add_str(o, "target", c->target);
    lcb_json_add_str(o, "status", c->status);
    add_str(o, "error", c->error);
    add_str(o, "backup_id", c->backup_id);
    add_str(o, "source", c->source);
    add_str(o, "restored_to", c->restored);
    add_time(o, "recovery_point", c->taken_at);
    add_time(o, "started_at", c->started_at);
    lcb_json_add(o, "phases", phases_json(c));
    if (c->rto >= 0)
        lcb_json_add_num(o, "rto_seconds", round_ms(c->rto));
    else
        lcb_json_add_null(o, "rto_seconds");
    lcb_json_add_num(o, "rto_target_seconds", (double)c->rto_target);
    add_ok(o, "rto_ok", lcb_drill_rto_ok(c));
    if (c->rpo >= 0)
        lcb_json_add_num(o, "rpo_seconds", (double)c->rpo);
    else
        lcb_json_add_null(o, "rpo_seconds");
    lcb_json_add_num(o, "rpo_target_seconds", (double)c->rpo_target);
    add_ok(o, "rpo_ok", lcb_drill_rpo_ok(c));
    a = lcb_json_add(o, "checks", lcb_json_new_array());
    for (i = 0; i < c->nchecks; i++)
        lcb_json_push(a, check_json(&c->checks[i]));
    return o;
}

void
lcb_drill_report_json(const struct lcb_drill_run *r, struct lcb_buf *out, int pretty)
{
    struct lcb_json *o = lcb_json_new_object(), *a, *s;
    int passed, failed, skipped;
    size_t i;

    lcb_drill_run_counts(r, &passed, &failed, &skipped);
    lcb_json_add_str(o, "drill_id", r->id);
    lcb_json_add_str(o, "status", r->status ? r->status : "running");
    add_str(o, "env", r->env);
    add_str(o, "policy", r->policy);
    add_str(o, "pick", r->pick);
    add_time(o, "started_at", r->started_at);
    add_time(o, "ended_at", r->ended_at);
    lcb_json_add_num(o, "checks_passed", passed);
    lcb_json_add_num(o, "checks_failed", failed);
    lcb_json_add_num(o, "checks_skipped", skipped);
    a = lcb_json_add(o, "swept", lcb_json_new_array());
    for (i = 0; i < r->nswept; i++) {
        s = lcb_json_push(a, lcb_json_new_object());
        lcb_json_add_str(s, "kind", r->swept[i].kind);
        lcb_json_add_str(s, "id", r->swept[i].id);
        lcb_json_add_str(s, "reason", r->swept[i].reason);
        lcb_json_add_bool(s, "deleted", r->swept[i].ok);
    }
    a = lcb_json_add(o, "components", lcb_json_new_array());
    for (i = 0; i < r->ncomps; i++)
        lcb_json_push(a, comp_json(&r->comps[i]));
    lcb_json_print(out, o, pretty);
    lcb_json_free(o);
}

/* ---- reading it back ---- */

static char *
dup_member(const struct lcb_json *j, const char *key)
{
    const char *s = lcb_json_get_str(j, key);

    return s ? lcb_xstrdup(s) : NULL;
}

static time_t
time_member(const struct lcb_json *j, const char *key)
{
    const char *s = lcb_json_get_str(j, key);
    time_t t = 0;

    if (s && lcb_time_parse(s, &t) < 0)
        t = 0;
    return t;
}

static enum lcb_check_result
result_parse(const char *s)
{
    if (s && strcmp(s, "pass") == 0)
        return LCB_CHECK_PASS;
    if (s && strcmp(s, "fail") == 0)
        return LCB_CHECK_FAIL;
    if (s && strcmp(s, "skip") == 0)
        return LCB_CHECK_SKIP;
    return LCB_CHECK_ERROR;
}

static void
parse_phases(struct lcb_drill_comp *c, const struct lcb_json *ph)
{
    int i;

    for (i = 0; i < LCB_PHASE_COUNT; i++) {
        const struct lcb_json *p = lcb_json_get(ph, lcb_phase_name((enum lcb_phase)i));
        if (!p)
            continue;
        c->phases[i].start = lcb_json_get_num(p, "start", 0);
        c->phases[i].secs = lcb_json_get_num(p, "seconds", 0);
    }
}

static int
parse_comp(struct lcb_drill_run *r, const struct lcb_json *j, size_t idx, struct lcb_err *err)
{
    struct lcb_drill_comp *c;
    const struct lcb_json *k, *v;

    if (lcb_json_type(j) != LCB_JSON_OBJECT || !lcb_json_get_str(j, "component"))
        return lcb_err_set(err, LCB_ECORRUPT, "components[%zu]: not a component object", idx);
    c = lcb_drill_comp_add(r, lcb_json_get_str(j, "component"), lcb_json_get_str(j, "target"));
    lcb_drill_comp_set(&c->status,
                       lcb_json_get_str(j, "status") ? lcb_json_get_str(j, "status") : "running");
    c->error = dup_member(j, "error");
    c->backup_id = dup_member(j, "backup_id");
    c->source = dup_member(j, "source");
    c->restored = dup_member(j, "restored_to");
    c->taken_at = time_member(j, "recovery_point");
    c->started_at = time_member(j, "started_at");
    parse_phases(c, lcb_json_get(j, "phases"));
    v = lcb_json_get(j, "rto_seconds");
    c->rto = lcb_json_type(v) == LCB_JSON_NUMBER ? lcb_json_num(v, -1) : -1;
    c->rto_target = (int64_t)lcb_json_get_num(j, "rto_target_seconds", 0);
    v = lcb_json_get(j, "rpo_seconds");
    c->rpo = lcb_json_type(v) == LCB_JSON_NUMBER ? (int64_t)lcb_json_num(v, -1) : -1;
    c->rpo_target = (int64_t)lcb_json_get_num(j, "rpo_target_seconds", 0);
    for (k = lcb_json_child(lcb_json_get(j, "checks")); k; k = lcb_json_next(k)) {
        struct lcb_drill_check *ck;
        if (!lcb_json_get_str(k, "name"))
            return lcb_err_set(err, LCB_ECORRUPT, "components[%zu].checks: a check has no name",
                               idx);
        ck = lcb_drill_check_add(
            c, lcb_json_get_str(k, "name"), result_parse(lcb_json_get_str(k, "result")),
            lcb_json_get_str(k, "relation"), "%s",
            lcb_json_get_str(k, "detail") ? lcb_json_get_str(k, "detail") : "");
        ck->secs = lcb_json_get_num(k, "seconds", 0);
    }
    return 0;
}

int
lcb_drill_report_parse(struct lcb_drill_run *r, const struct lcb_json *j, struct lcb_err *err)
{
    const struct lcb_json *c, *s;
    size_t i = 0;

    lcb_drill_run_init(r, lcb_json_get_str(j, "drill_id"), 0, 0);
    if (lcb_json_type(j) != LCB_JSON_OBJECT || !lcb_json_get_str(j, "drill_id"))
        return lcb_err_set(err, LCB_ECORRUPT, "drill_id: missing (not a drill report)");
    lcb_drill_comp_set(&r->status,
                       lcb_json_get_str(j, "status") ? lcb_json_get_str(j, "status") : "running");
    r->env = dup_member(j, "env");
    r->policy = dup_member(j, "policy");
    r->pick = dup_member(j, "pick");
    r->started_at = time_member(j, "started_at");
    r->ended_at = time_member(j, "ended_at");
    for (s = lcb_json_child(lcb_json_get(j, "swept")); s; s = lcb_json_next(s))
        lcb_drill_swept_add(r, lcb_json_get_str(s, "kind") ? lcb_json_get_str(s, "kind") : "",
                            lcb_json_get_str(s, "id") ? lcb_json_get_str(s, "id") : "",
                            lcb_json_get_str(s, "reason"),
                            lcb_json_bool(lcb_json_get(s, "deleted"), 0));
    if (lcb_json_type(lcb_json_get(j, "components")) != LCB_JSON_ARRAY)
        return lcb_err_set(err, LCB_ECORRUPT, "components: missing or not an array");
    for (c = lcb_json_child(lcb_json_get(j, "components")); c; c = lcb_json_next(c), i++)
        if (parse_comp(r, c, i, err) < 0)
            return -1;
    return 0;
}
