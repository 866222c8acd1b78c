/* checkpoint.c - named, held groups of backups and the plan to go back to one; see
 * checkpoint.h. */
#include "checkpoint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/db.h"
#include "../ext/json.h"
#include "../policy/policy.h"

int
lcb_checkpoint_name_ok(const char *name)
{
    const char *p;

    if (!name || !*name || strlen(name) > LCB_CHECKPOINT_NAME_MAX || !isalnum((unsigned char)*name))
        return 0;
    for (p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return 0;
    return 1;
}

char *
lcb_checkpoint_default_name(char *out, time_t now)
{
    struct tm tm;

    gmtime_r(&now, &tm);
    snprintf(out, LCB_CHECKPOINT_NAME_MAX + 1, "cp-%04d%02d%02dT%02d%02d%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return out;
}

void
lcb_checkpoint_init(struct lcb_checkpoint *c)
{
    memset(c, 0, sizeof(*c));
}

void
lcb_checkpoint_release(struct lcb_checkpoint *c)
{
    free(c->name);
    free(c->reason);
    free(c->env);
    free(c->components);
    free(c->run_id);
    lcb_backup_list_release(&c->backups);
    lcb_checkpoint_init(c);
}

const char *
lcb_checkpoint_state(const struct lcb_checkpoint *c)
{
    if (c->released_at || (c->held == 0 && c->backups.n > 0))
        return c->failed ? "released, partial" : "released";
    return c->failed ? "held, partial" : "held";
}

/* ---- events ---- */

static char *
dup_or_null(const char *s)
{
    return s ? lcb_xstrdup(s) : NULL;
}

/* Every created event as (at, run_id, detail), by callback; stops when fn returns 1. */
typedef int (*event_fn)(void *ud, time_t at, const char *run_id, const struct lcb_json *detail);

static int
each_event(struct lcb_catalog *cat, const char *event, event_fn fn, void *ud, struct lcb_err *err)
{
    struct lcb_stmt *st = NULL;
    struct lcb_json *d;
    struct lcb_err scratch;
    const char *text;
    int rc;

    if (lcb_db_prepare(&st, lcb_catalog_db(cat), "SELECT at, run_id, detail FROM events "
                       "WHERE event = ?1 ORDER BY seq", err) < 0)
        return -1;
    lcb_stmt_text(st, 1, event);
    while ((rc = lcb_stmt_step(st, err)) == 1) {
        d = NULL;
        text = lcb_col_text(st, 2);
        if (!text || lcb_json_parse(&d, text, strlen(text), &scratch) < 0)
            continue;
        rc = fn(ud, (time_t)lcb_col_int(st, 0), lcb_col_text(st, 1), d);
        lcb_json_free(d);
        if (rc == 1)
            break;
    }
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

static int
name_taken(void *ud, time_t at, const char *run_id, const struct lcb_json *d)
{
    const char **name = ud;

    (void)at;
    (void)run_id;
    if (lcb_json_get_str(d, "name") && strcmp(lcb_json_get_str(d, "name"), *name) == 0) {
        *name = NULL; /* found */
        return 1;
    }
    return 0;
}

int
lcb_checkpoint_create(struct lcb_catalog *cat, const char *run_id, const char *name,
                      const char *reason, const char *env, const char *components,
                      const struct lcb_strlist *backup_ids, int failed, struct lcb_err *err)
{
    struct lcb_json *d = lcb_json_new_object(), *ids;
    struct lcb_buf text = LCB_BUF_INIT;
    const char *probe = name;
    size_t i;
    int rc;

    if (each_event(cat, "checkpoint.created", name_taken, &probe, err) < 0) {
        lcb_json_free(d);
        return -1;
    }
    if (!probe) {
        lcb_json_free(d);
        return lcb_err_set(err, LCB_EREFUSED, "a checkpoint named %s exists already: give "
                           "another --name", name);
    }
    lcb_json_add_str(d, "name", name);
    lcb_json_add_str(d, "reason", reason);
    if (env)
        lcb_json_add_str(d, "env", env);
    lcb_json_add_str(d, "components", components);
    ids = lcb_json_add(d, "backups", lcb_json_new_array());
    for (i = 0; backup_ids && i < backup_ids->n; i++)
        lcb_json_push(ids, lcb_json_new_str(backup_ids->items[i]));
    lcb_json_add_num(d, "failed", failed);
    lcb_json_print(&text, d, 0);
    rc = lcb_catalog_event(cat, run_id, NULL, "checkpoint.created", lcb_buf_str(&text), err);
    lcb_buf_release(&text);
    lcb_json_free(d);
    return rc;
}

int
lcb_checkpoint_hold(struct lcb_catalog *cat, const char *run_id, const char *id, const char *name,
                    struct lcb_err *err)
{
    struct lcb_backup b;
    int rc;

    if (lcb_catalog_backup_get(cat, id, &b, err) < 0)
        return -1;
    free(b.checkpoint);
    b.checkpoint = lcb_xstrdup(name);
    if (!b.hold) /* an operator's own hold stays as it is */
        b.hold = lcb_xstrdup(name);
    rc = lcb_catalog_backup_update(cat, &b, err);
    if (rc == 0)
        rc = lcb_catalog_event(cat, run_id, b.id, "backup.hold", name, err);
    lcb_backup_release(&b);
    return rc;
}

/* ---- loading ---- */

static void
fill_from(struct lcb_checkpoint *c, time_t at, const char *run_id, const struct lcb_json *d)
{
    c->name = lcb_xstrdup(lcb_json_get_str(d, "name"));
    c->reason = dup_or_null(lcb_json_get_str(d, "reason"));
    c->env = dup_or_null(lcb_json_get_str(d, "env"));
    c->components = dup_or_null(lcb_json_get_str(d, "components"));
    c->run_id = dup_or_null(run_id);
    c->created_at = at;
    c->failed = (int)lcb_json_get_num(d, "failed", 0);
}

struct collect {
    struct lcb_checkpoint *items;
    size_t n;
    const char *env;
    const char *only; /* one name, or NULL */
};

static int
collect_created(void *ud, time_t at, const char *run_id, const struct lcb_json *d)
{
    struct collect *cl = ud;
    const char *name = lcb_json_get_str(d, "name"), *env = lcb_json_get_str(d, "env");

    if (!name || (cl->only && strcmp(name, cl->only) != 0) ||
        (cl->env && env && strcmp(env, cl->env) != 0))
        return 0;
    cl->items = lcb_xrealloc(cl->items, (cl->n + 1) * sizeof(*cl->items));
    lcb_checkpoint_init(&cl->items[cl->n]);
    fill_from(&cl->items[cl->n++], at, run_id, d);
    return 0;
}

static int
collect_released(void *ud, time_t at, const char *run_id, const struct lcb_json *d)
{
    struct collect *cl = ud;
    const char *name = lcb_json_get_str(d, "name");
    size_t i;

    (void)run_id;
    for (i = 0; name && i < cl->n; i++)
        if (strcmp(cl->items[i].name, name) == 0 && at >= cl->items[i].created_at)
            cl->items[i].released_at = at;
    return 0;
}

/* The backups of checkpoint c, oldest first, and how many are still held by it. */
static int
load_backups(struct lcb_checkpoint *c, struct lcb_catalog *cat, struct lcb_err *err)
{
    struct lcb_stmt *st = NULL;
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    size_t i;
    int rc;

    if (lcb_db_prepare(&st, lcb_catalog_db(cat), "SELECT id FROM backups WHERE checkpoint = ?1 "
                       "ORDER BY CASE kind WHEN 'rds' THEN 0 WHEN 'broker' THEN 1 "
                       "WHEN 'config' THEN 2 ELSE 3 END, started_at, id", err) < 0)
        return -1;
    lcb_stmt_text(st, 1, c->name);
    while ((rc = lcb_stmt_step(st, err)) == 1)
        lcb_strlist_add(&ids, lcb_col_text(st, 0));
    lcb_stmt_free(st);
    if (rc < 0)
        goto out;
    c->backups.items = lcb_xcalloc(ids.n + 1, sizeof(*c->backups.items));
    for (i = 0; i < ids.n && rc == 0; i++) {
        rc = lcb_catalog_backup_get(cat, ids.items[i], &c->backups.items[c->backups.n], err);
        if (rc == 0) {
            const struct lcb_backup *b = &c->backups.items[c->backups.n++];
            c->held += b->hold && strcmp(b->hold, c->name) == 0;
        }
    }
out:
    lcb_strlist_release(&ids);
    return rc < 0 ? -1 : 0;
}

static int
load_all(struct collect *cl, struct lcb_catalog *cat, struct lcb_err *err)
{
    size_t i;

    if (each_event(cat, "checkpoint.created", collect_created, cl, err) < 0 ||
        each_event(cat, "checkpoint.released", collect_released, cl, err) < 0)
        return -1;
    for (i = 0; i < cl->n; i++)
        if (load_backups(&cl->items[i], cat, err) < 0)
            return -1;
    return 0;
}

static void
free_all(struct lcb_checkpoint *items, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        lcb_checkpoint_release(&items[i]);
    free(items);
}

int
lcb_checkpoint_load(struct lcb_checkpoint *out, struct lcb_catalog *cat, const char *name,
                    struct lcb_err *err)
{
    struct collect cl = { NULL, 0, NULL, name };

    lcb_checkpoint_init(out);
    if (load_all(&cl, cat, err) < 0) {
        free_all(cl.items, cl.n);
        return -1;
    }
    if (cl.n == 0) {
        free(cl.items);
        return lcb_err_set(err, LCB_ENOTFOUND, "no checkpoint named %s (see `lcbackup list "
                           "--checkpoints`)", name);
    }
    *out = cl.items[cl.n - 1];
    cl.n--;
    free_all(cl.items, cl.n);
    return 0;
}

int
lcb_checkpoint_list(struct lcb_checkpoint **out, size_t *n, struct lcb_catalog *cat,
                    const char *env, struct lcb_err *err)
{
    struct collect cl = { NULL, 0, env, NULL };
    size_t i;

    *out = NULL;
    *n = 0;
    if (load_all(&cl, cat, err) < 0) {
        free_all(cl.items, cl.n);
        return -1;
    }
    for (i = 0; i < cl.n / 2; i++) { /* newest first */
        struct lcb_checkpoint t = cl.items[i];
        cl.items[i] = cl.items[cl.n - 1 - i];
        cl.items[cl.n - 1 - i] = t;
    }
    *out = cl.items;
    *n = cl.n;
    return 0;
}

int
lcb_checkpoint_lift(struct lcb_catalog *cat, const char *run_id, const char *name, size_t *count,
                    struct lcb_err *err)
{
    struct lcb_checkpoint c;
    struct lcb_backup *b;
    struct lcb_buf d = LCB_BUF_INIT;
    size_t i;
    int rc = 0;

    *count = 0;
    if (lcb_checkpoint_load(&c, cat, name, err) < 0)
        return -1;
    for (i = 0; i < c.backups.n && rc == 0; i++) {
        b = &c.backups.items[i];
        if (!b->hold || strcmp(b->hold, name) != 0)
            continue;
        free(b->hold);
        b->hold = NULL;
        rc = lcb_catalog_backup_update(cat, b, err);
        if (rc == 0)
            rc = lcb_catalog_event(cat, run_id, b->id, "backup.release", name, err);
        if (rc == 0)
            (*count)++;
    }
    if (rc == 0 && (*count > 0 || !c.released_at)) {
        lcb_buf_adds(&d, "{\"name\":");
        lcb_json_quote(&d, name);
        lcb_buf_addf(&d, ",\"released\":%zu}", *count);
        rc = lcb_catalog_event(cat, run_id, NULL, "checkpoint.released", lcb_buf_str(&d), err);
    }
    lcb_buf_release(&d);
    lcb_checkpoint_release(&c);
    return rc;
}

/* ---- output ---- */

static void
kinds_of(struct lcb_buf *out, const struct lcb_checkpoint *c)
{
    size_t i;

    for (i = 0; i < c->backups.n; i++)
        lcb_buf_addf(out, "%s%s", i ? "," : "", c->backups.items[i].kind);
}

void
lcb_checkpoint_table(struct lcb_buf *out, const struct lcb_checkpoint *c, size_t n, time_t now)
{
    char ts[LCB_TIME_LEN], age[32];
    struct lcb_buf kinds = LCB_BUF_INIT;
    size_t i;

    if (n == 0) {
        lcb_buf_adds(out, "no checkpoints\n");
        return;
    }
    lcb_buf_addf(out, "%-24s %-20s %-9s %-17s %-18s %s\n", "NAME", "CREATED (UTC)", "AGE",
                 "STATE", "BACKUPS", "REASON");
    for (i = 0; i < n; i++) {
        lcb_buf_reset(&kinds);
        kinds_of(&kinds, &c[i]);
        lcb_buf_addf(out, "%-24s %-20s %-9s %-17s %-18s %s\n", c[i].name,
                     lcb_time_fmt(c[i].created_at, ts),
                     lcb_duration_fmt(now - c[i].created_at, age, sizeof(age)),
                     lcb_checkpoint_state(&c[i]), kinds.len ? lcb_buf_str(&kinds) : "-",
                     c[i].reason ? c[i].reason : "");
    }
    lcb_buf_release(&kinds);
}

void
lcb_checkpoint_json(struct lcb_buf *out, const struct lcb_checkpoint *c, size_t n, time_t now)
{
    struct lcb_json *arr = lcb_json_new_array(), *o, *bs, *b;
    char ts[LCB_TIME_LEN];
    size_t i, k;

    for (i = 0; i < n; i++) {
        o = lcb_json_push(arr, lcb_json_new_object());
        lcb_json_add_str(o, "name", c[i].name);
        lcb_json_add_str(o, "reason", c[i].reason ? c[i].reason : "");
        if (c[i].env)
            lcb_json_add_str(o, "env", c[i].env);
        lcb_json_add_str(o, "created_at", lcb_time_fmt(c[i].created_at, ts));
        lcb_json_add_num(o, "age_seconds", (double)(now - c[i].created_at));
        lcb_json_add_str(o, "state", lcb_checkpoint_state(&c[i]));
        if (c[i].released_at)
            lcb_json_add_str(o, "released_at", lcb_time_fmt(c[i].released_at, ts));
        lcb_json_add_num(o, "held", (double)c[i].held);
        bs = lcb_json_add(o, "backups", lcb_json_new_array());
        for (k = 0; k < c[i].backups.n; k++) {
            const struct lcb_backup *x = &c[i].backups.items[k];
            b = lcb_json_push(bs, lcb_json_new_object());
            lcb_json_add_str(b, "id", x->id);
            lcb_json_add_str(b, "kind", x->kind);
            lcb_json_add_str(b, "status", x->status);
            lcb_json_add_bool(b, "held", x->hold != NULL);
        }
    }
    lcb_json_print(out, arr, 0);
    lcb_buf_addch(out, '\n');
    lcb_json_free(arr);
}

/* ---- going back ---- */

void
lcb_checkpoint_plan_init(struct lcb_checkpoint_plan *p)
{
    memset(p, 0, sizeof(*p));
}

void
lcb_checkpoint_plan_release(struct lcb_checkpoint_plan *p)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        free(p->steps[i].phase);
        free(p->steps[i].what);
        free(p->steps[i].backup_id);
        lcb_strlist_release(&p->steps[i].args);
    }
    free(p->steps);
    lcb_strlist_release(&p->notes);
    lcb_checkpoint_plan_init(p);
}

static struct lcb_checkpoint_step *
step(struct lcb_checkpoint_plan *p, const char *phase, const struct lcb_backup *b,
     const char *what)
{
    struct lcb_checkpoint_step *s;

    p->steps = lcb_xrealloc(p->steps, (p->n + 1) * sizeof(*p->steps));
    s = &p->steps[p->n++];
    memset(s, 0, sizeof(*s));
    s->phase = lcb_xstrdup(phase);
    s->what = lcb_xasprintf("%s of %s (target %s)", what, b->id, b->target ? b->target : "-");
    s->backup_id = lcb_xstrdup(b->id);
    return s;
}

static void
args(struct lcb_checkpoint_step *s, const char *const *words)
{
    for (; *words; words++)
        lcb_strlist_add(&s->args, *words);
}

/* How many items of one kind a config backup's manifest counts (-1: no manifest says). */
static long long
counted(const struct lcb_backup *b, const char *key)
{
    struct lcb_json *m = NULL;
    struct lcb_err scratch;
    long long n = -1;

    if (b->manifest && lcb_json_parse(&m, b->manifest, strlen(b->manifest), &scratch) == 0)
        n = (long long)lcb_json_get_num(lcb_json_get(m, "counts"), key, -1);
    lcb_json_free(m);
    return n;
}

static int
usable(struct lcb_checkpoint_plan *p, const struct lcb_backup *b)
{
    char *note;

    if (strcmp(b->status, "completed") == 0)
        return 1;
    note = lcb_xasprintf("%s backup %s is %s%s", b->kind, b->id, b->status,
                         strcmp(b->status, "pending") == 0
                             ? ": run `lcbackup catalog refresh` first, then plan again"
                             : ": it cannot be restored");
    lcb_strlist_add(&p->notes, note);
    free(note);
    return 0;
}

static void
plan_config(struct lcb_checkpoint_plan *p, const struct lcb_backup *b)
{
    if (counted(b, "ssm-parameters") != 0)
        args(step(p, "config", b, "SSM parameters"),
             (const char *const[]){ "restore", "ssm", b->id, "--yes", NULL });
    if (counted(b, "secretsmanager-secrets") > 0)
        args(step(p, "config", b, "Secrets Manager secrets"),
             (const char *const[]){ "restore", "secrets", b->id, "--yes", NULL });
    if (counted(b, "ecs-services") > 0)
        args(step(p, "config", b, "ECS services"),
             (const char *const[]){ "restore", "services", b->id, "--yes", NULL });
}

static void
plan_rds(struct lcb_checkpoint_plan *p, const struct lcb_backup *b, const struct lcb_policy *pol)
{
    const struct lcb_target *t =
        pol && b->target ? lcb_policy_target(pol, LCB_KIND_RDS, b->target) : NULL;
    struct lcb_checkpoint_step *s = step(p, "database", b, "a new DB instance from the snapshot");

    args(s, (const char *const[]){ "restore", "rds", "--backup", b->id, "--yes", NULL });
    if (t && !t->db_url_param && t->db_secret) {
        char *note = lcb_xasprintf("the database credentials of %s live in secret %s: once "
                                   "step %zu is done, put the new instance's host and port in it",
                                   b->target, t->db_secret, p->n);
        lcb_strlist_add(&p->notes, note);
        free(note);
    }
    if (t && t->db_url_param) {
        args(s, (const char *const[]){ "--update-param", t->db_url_param, NULL });
        free(s->what);
        s->what = lcb_xasprintf("a new DB instance from the snapshot of %s (target %s), %s "
                                "pointed at it", b->id, b->target, t->db_url_param);
    }
}

size_t
lcb_checkpoint_plan_build(struct lcb_checkpoint_plan *out, const struct lcb_checkpoint *c,
                          const struct lcb_policy *p)
{
    static const char *const order[] = { "config", "rds", "broker", "ebs" };
    const struct lcb_backup *b;
    size_t k, i;

    for (k = 0; k < LCB_ARRAY_SIZE(order); k++) {
        for (i = 0; i < c->backups.n; i++) {
            b = &c->backups.items[i];
            if (strcmp(b->kind, order[k]) != 0 || !usable(out, b))
                continue;
            if (k == 0)
                plan_config(out, b);
            else if (k == 1)
                plan_rds(out, b, p);
            else if (k == 2)
                args(step(out, "broker", b, "broker entities"),
                     (const char *const[]){ "restore", "broker", b->id, "--yes", NULL });
            else
                args(step(out, "volumes", b, "new EBS volumes"),
                     (const char *const[]){ "restore", "ebs", "--backup", b->id, "--yes", NULL });
        }
    }
    return out->n;
}

static int
plain_word(const char *w)
{
    const char *p;

    if (!*w)
        return 0;
    for (p = w; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_./:=@,+%", *p))
            return 0;
    return 1;
}

void
lcb_checkpoint_step_line(struct lcb_buf *out, const struct lcb_checkpoint_step *s)
{
    const char *p;
    size_t i;

    lcb_buf_adds(out, "lcbackup");
    for (i = 0; i < s->args.n; i++) {
        lcb_buf_addch(out, ' ');
        if (plain_word(s->args.items[i])) {
            lcb_buf_adds(out, s->args.items[i]);
            continue;
        }
        lcb_buf_addch(out, '\'');
        for (p = s->args.items[i]; *p; p++)
            lcb_buf_adds(out, *p == '\'' ? "'\\''" : (char[]){ *p, 0 });
        lcb_buf_addch(out, '\'');
    }
}

int
lcb_checkpoint_print(FILE *out, struct lcb_catalog *cat, const char *env, int json, time_t now,
                     struct lcb_err *err)
{
    struct lcb_checkpoint *c = NULL;
    struct lcb_buf text = LCB_BUF_INIT;
    size_t n = 0;

    if (lcb_checkpoint_list(&c, &n, cat, env, err) < 0)
        return -1;
    if (json)
        lcb_checkpoint_json(&text, c, n, now);
    else
        lcb_checkpoint_table(&text, c, n, now);
    fputs(lcb_buf_str(&text), out);
    lcb_buf_release(&text);
    free_all(c, n);
    return 0;
}
