/* secrets_plan.c - restoring Secrets Manager secrets from a config archive: the plan, the calls
 * it would make, and carrying it out; see secrets.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/secretsmanager.h"
#include "../core/mem.h"
#include "../core/secret.h"
#include "secrets.h"

void
lcb_secret_plan_init(struct lcb_secret_plan *p)
{
    memset(p, 0, sizeof(*p));
}

void
lcb_secret_plan_release(struct lcb_secret_plan *p)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        lcb_strlist_release(&p->steps[i].untag);
        free(p->steps[i].why);
    }
    free(p->steps);
    lcb_strlist_release(&p->extra);
    lcb_strlist_release(&p->unreadable);
    lcb_secret_plan_init(p);
}

static int
same(const char *x, const char *y)
{
    return strcmp(x ? x : "", y ? y : "") == 0;
}

static int
same_value(const struct lcb_config_secret_version *x, const struct lcb_config_secret_version *y)
{
    return x && y && x->has_value && y->has_value && x->binary == y->binary &&
           x->value.len == y->value.len &&
           memcmp(lcb_secret_get(&x->value), lcb_secret_get(&y->value), x->value.len) == 0;
}

static void
why_add(struct lcb_buf *why, const char *what)
{
    lcb_buf_addf(why, "%s%s", why->len ? ", " : "", what);
}

/* Tags: the archived ones that live lacks or holds with another value (tag), and the live keys
 * the archive does not have (untag). */
static void
plan_tags(struct lcb_secret_step *st, struct lcb_buf *why)
{
    const struct lcb_config_secret *s = st->src, *l = st->live;
    size_t i;

    for (i = 0; i < s->ntags; i++)
        if (!same(lcb_config_secret_tag_get(l, s->tags[i].key), s->tags[i].value))
            st->tag = 1;
    for (i = 0; i < l->ntags; i++)
        if (!lcb_config_secret_tag_get(s, l->tags[i].key))
            lcb_strlist_add(&st->untag, l->tags[i].key);
    if (st->tag || st->untag.n)
        why_add(why, "Tags");
}

static void
plan_rotation(struct lcb_secret_step *st, struct lcb_buf *why)
{
    const struct lcb_config_secret *s = st->src, *l = st->live;

    if (s->rotation_enabled && s->rotation_lambda &&
        (!l || !l->rotation_enabled || !same(s->rotation_lambda, l->rotation_lambda) ||
         !same(s->rotation_rules, l->rotation_rules)))
        st->rotate = 1;
    else if (!s->rotation_enabled && l && l->rotation_enabled)
        st->cancel_rotation = 1;
    if (l && (st->rotate || st->cancel_rotation))
        why_add(why, "Rotation");
}

/* Compare an archived secret with the live one; 1 when something must change. */
static int
plan_existing(struct lcb_secret_step *st, struct lcb_buf *why)
{
    const struct lcb_config_secret *s = st->src, *l = st->live;
    const struct lcb_config_secret_version *cur = lcb_config_secret_stage(s, "AWSCURRENT");

    if (l->deleted > 0) {
        st->undelete = 1;
        why_add(why, "scheduled for deletion");
        st->put_value = 2; /* its value cannot be read now: compared once restored */
    } else if (!same_value(cur, lcb_config_secret_stage(l, "AWSCURRENT"))) {
        st->put_value = 1;
        why_add(why, "Value");
    }
    if (!same(s->description, l->description)) {
        st->update |= 1;
        why_add(why, "Description");
    }
    if (!same(lcb_config_secret_kms(s), lcb_config_secret_kms(l))) {
        st->update |= 2;
        why_add(why, "KmsKeyId");
    }
    plan_tags(st, why);
    plan_rotation(st, why);
    return st->undelete || st->put_value || st->update || st->tag || st->untag.n || st->rotate ||
           st->cancel_rotation;
}

static struct lcb_secret_step *
step_new(struct lcb_secret_plan *p)
{
    struct lcb_secret_step *st;

    p->steps = lcb_xrealloc(p->steps, (p->n + 1) * sizeof(*p->steps));
    st = &p->steps[p->n++];
    memset(st, 0, sizeof(*st));
    return st;
}

static int
plan_one(struct lcb_secret_plan *p, const struct lcb_config_secret *s,
         const struct lcb_config *live)
{
    const struct lcb_config_secret_version *cur = lcb_config_secret_stage(s, "AWSCURRENT");
    struct lcb_secret_step *st;
    struct lcb_buf why = LCB_BUF_INIT;

    if (!cur || !cur->has_value) {
        lcb_strlist_add(&p->unreadable, s->name);
        return 0;
    }
    st = step_new(p);
    st->src = s;
    st->live = lcb_config_secret_find(live, s->name);
    if (!st->live) {
        st->create = 1;
        why_add(&why, "missing");
        plan_rotation(st, &why);
    } else if (!plan_existing(st, &why)) {
        lcb_strlist_release(&st->untag);
        p->n--;
        p->unchanged++;
        lcb_buf_release(&why);
        return 0;
    }
    st->why = lcb_buf_detach(&why, NULL);
    return 0;
}

int
lcb_secret_plan_build(struct lcb_secret_plan *p, const struct lcb_config *archived,
                      const struct lcb_config *live, const struct lcb_strlist *names,
                      struct lcb_err *err)
{
    size_t i;

    for (i = 0; names && i < names->n; i++)
        if (!lcb_config_secret_find(archived, names->items[i]))
            return lcb_err_set(err, LCB_ENOTFOUND, "the backup holds no secret '%s'",
                               names->items[i]);
    for (i = 0; i < archived->nsecrets; i++)
        if ((!names || names->n == 0 || lcb_strlist_has(names, archived->secrets[i].name)) &&
            plan_one(p, &archived->secrets[i], live) < 0)
            return -1;
    for (i = 0; i < live->nsecrets; i++)
        if (!lcb_config_secret_find(archived, live->secrets[i].name) &&
            live->secrets[i].deleted <= 0)
            lcb_strlist_add(&p->extra, live->secrets[i].name);
    return 0;
}

/* ---- requests ---- */

static struct lcb_json *
tags_json(const struct lcb_config_secret *s)
{
    struct lcb_json *arr = lcb_json_new_array(), *t;
    size_t i;

    for (i = 0; i < s->ntags; i++) {
        t = lcb_json_push(arr, lcb_json_new_object());
        lcb_json_add_str(t, "Key", s->tags[i].key);
        lcb_json_add_str(t, "Value", s->tags[i].value);
    }
    return arr;
}

static struct lcb_json *
rules_json(const struct lcb_config_secret *s)
{
    struct lcb_json *j = NULL;
    struct lcb_err scratch;

    if (s->rotation_rules &&
        lcb_json_parse(&j, s->rotation_rules, strlen(s->rotation_rules), &scratch) == 0)
        return j;
    return NULL;
}

/* The key to ask for: the archived one, or back to the default. */
static const char *
kms_of(const struct lcb_config_secret *s)
{
    return lcb_config_secret_kms(s) ? lcb_config_secret_kms(s) : "alias/aws/secretsmanager";
}

static void
call_line(struct lcb_buf *out, const char *op, struct lcb_json *req)
{
    lcb_buf_addf(out, "%s ", op);
    lcb_json_print(out, req, 0);
    lcb_buf_addch(out, '\n');
    lcb_json_free(req);
}

static struct lcb_json *
id_req(const struct lcb_secret_step *s)
{
    struct lcb_json *req = lcb_json_new_object();

    lcb_json_add_str(req, "SecretId", s->src->name);
    return req;
}

void
lcb_secret_step_calls(struct lcb_buf *out, const struct lcb_secret_step *s)
{
    const struct lcb_config_secret_version *cur = lcb_config_secret_stage(s->src, "AWSCURRENT");
    const char *vkey = cur && cur->binary ? "SecretBinary" : "SecretString";
    struct lcb_json *req;

    if (s->create) {
        req = lcb_json_new_object();
        lcb_json_add_str(req, "Name", s->src->name);
        if (s->src->description)
            lcb_json_add_str(req, "Description", s->src->description);
        if (s->src->kms_key_id)
            lcb_json_add_str(req, "KmsKeyId", s->src->kms_key_id);
        lcb_json_add_str(req, vkey, "***");
        if (s->src->ntags)
            lcb_json_add(req, "Tags", tags_json(s->src));
        call_line(out, "CreateSecret", req);
    }
    if (s->undelete)
        call_line(out, "RestoreSecret", id_req(s));
    if (s->put_value) {
        req = id_req(s);
        lcb_json_add_str(req, vkey, "***");
        lcb_buf_adds(out, s->put_value == 2 ? "(when the restored value differs) " : "");
        call_line(out, "PutSecretValue", req);
    }
    if (s->update) {
        req = id_req(s);
        if (s->update & 1)
            lcb_json_add_str(req, "Description", s->src->description ? s->src->description : "");
        if (s->update & 2)
            lcb_json_add_str(req, "KmsKeyId", kms_of(s->src));
        call_line(out, "UpdateSecret", req);
    }
    if (s->tag && s->src->ntags) {
        req = id_req(s);
        lcb_json_add(req, "Tags", tags_json(s->src));
        call_line(out, "TagResource", req);
    }
    if (s->untag.n) {
        req = id_req(s);
        lcb_json_add(req, "TagKeys", lcb_config_strlist_json(&s->untag));
        call_line(out, "UntagResource", req);
    }
    if (s->rotate) {
        struct lcb_json *rules = rules_json(s->src);
        req = id_req(s);
        lcb_json_add_str(req, "RotationLambdaARN", s->src->rotation_lambda);
        if (rules)
            lcb_json_add(req, "RotationRules", rules);
        lcb_json_add_bool(req, "RotateImmediately", 0);
        call_line(out, "RotateSecret", req);
    }
    if (s->cancel_rotation)
        call_line(out, "CancelRotateSecret", id_req(s));
}

/* ---- applying ---- */

/* One change of a secrets restore (err NULL: done). */
static void
report(struct lcb_restore_tally *t, FILE *out, const char *action, const char *name,
       const char *why, const struct lcb_err *err)
{
    lcb_restore_tally_record(t, out, "secrets.restore.failed", action, name, why, err);
}

static void
sm_value(struct lcb_sm_value *v, const struct lcb_config_secret_version *cur)
{
    lcb_sm_value_init(v);
    lcb_sm_value_set(v, cur->value.ptr ? cur->value.ptr : "", cur->value.len, cur->binary);
}

static int
create(struct lcb_aws *aws, const struct lcb_secret_step *s, struct lcb_err *err)
{
    const struct lcb_config_secret_version *cur = lcb_config_secret_stage(s->src, "AWSCURRENT");
    struct lcb_json *tags = tags_json(s->src);
    struct lcb_sm_value v;
    struct lcb_sm_create req = { s->src->name, s->src->description, s->src->kms_key_id, &v, tags };
    int rc;

    sm_value(&v, cur);
    rc = lcb_sm_create(NULL, NULL, aws, &req, err);
    lcb_sm_value_release(&v);
    lcb_json_free(tags);
    return rc;
}

/* The value, unless (after an undelete) what is there already is the same. */
static int
put_value(struct lcb_aws *aws, const struct lcb_secret_step *s, int *put, struct lcb_err *err)
{
    const struct lcb_config_secret_version *cur = lcb_config_secret_stage(s->src, "AWSCURRENT");
    struct lcb_sm_value v, now;
    int rc;

    *put = 0;
    if (s->put_value == 2) {
        lcb_sm_value_init(&now);
        rc = lcb_sm_get_value(&now, aws, s->src->name, NULL, NULL, err);
        if (rc == 0 && now.binary == cur->binary && now.value.len == cur->value.len &&
            memcmp(lcb_secret_get(&now.value), lcb_secret_get(&cur->value), cur->value.len) == 0) {
            lcb_sm_value_release(&now);
            return 0;
        }
        lcb_sm_value_release(&now);
        if (rc < 0 && err->code != LCB_ENOTFOUND)
            return -1;
        lcb_err_clear(err);
    }
    sm_value(&v, cur);
    rc = lcb_sm_put_value(NULL, aws, s->src->name, &v, err);
    lcb_sm_value_release(&v);
    *put = rc == 0;
    return rc;
}

static int
settings(struct lcb_aws *aws, const struct lcb_secret_step *s, struct lcb_err *err)
{
    struct lcb_json *j;
    int rc = 0;

    if (s->update &&
        lcb_sm_update(aws, s->src->name,
                      (s->update & 1) ? (s->src->description ? s->src->description : "") : NULL,
                      (s->update & 2) ? kms_of(s->src) : NULL, err) < 0)
        return -1;
    if (s->tag && s->src->ntags) {
        j = tags_json(s->src);
        rc = lcb_sm_tag(aws, s->src->name, j, err);
        lcb_json_free(j);
        if (rc < 0)
            return -1;
    }
    if (s->untag.n && lcb_sm_untag(aws, s->src->name, (const char *const *)s->untag.items,
                                   s->untag.n, err) < 0)
        return -1;
    if (s->rotate) {
        j = rules_json(s->src);
        rc = lcb_sm_rotate(aws, s->src->name, s->src->rotation_lambda, j, 0, err);
        lcb_json_free(j);
        if (rc < 0)
            return -1;
    }
    if (s->cancel_rotation && lcb_sm_cancel_rotation(aws, s->src->name, err) < 0)
        return -1;
    return 0;
}

/* One step; *action says what was done ("created", "restored", "updated", "retagged"). */
static int
apply_step(struct lcb_restore_tally *t, struct lcb_aws *aws, const struct lcb_secret_step *s,
           const char **action, struct lcb_err *err)
{
    int put = 0;

    if (s->create) {
        *action = "created";
        if (create(aws, s, err) < 0)
            return -1;
        t->created++;
        return s->rotate ? settings(aws, s, err) : 0;
    }
    if (s->undelete) {
        *action = "restored";
        if (lcb_sm_restore(aws, s->src->name, err) < 0)
            return -1;
    }
    if (s->put_value && put_value(aws, s, &put, err) < 0)
        return -1;
    if (settings(aws, s, err) < 0)
        return -1;
    if (!s->undelete)
        *action = put || s->update || s->rotate || s->cancel_rotation ? "updated" : "retagged";
    if (put || s->update || s->undelete || s->rotate || s->cancel_rotation)
        t->updated++;
    else
        t->retagged++;
    return 0;
}

size_t
lcb_secret_plan_apply(struct lcb_restore_tally *t, struct lcb_aws *aws,
                      const struct lcb_secret_plan *p, FILE *out)
{
    size_t i, failed = 0;
    struct lcb_err err;
    const char *action;

    for (i = 0; i < p->n; i++) {
        lcb_err_clear(&err);
        action = "updated";
        if (apply_step(t, aws, &p->steps[i], &action, &err) < 0) {
            report(t, out, action, p->steps[i].src->name, NULL, &err);
            failed++;
        } else {
            report(t, out, action, p->steps[i].src->name, p->steps[i].why, NULL);
        }
    }
    t->unchanged += p->unchanged;
    return failed;
}
