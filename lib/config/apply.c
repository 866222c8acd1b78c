/* apply.c - carry out restore plans against SSM and ECS; see plan.h. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/ecs.h"
#include "../aws/ssm.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../core/secret.h"
#include "../ext/crypto.h"
#include "plan.h"

void
lcb_restore_tally_init(struct lcb_restore_tally *t)
{
    memset(t, 0, sizeof(*t));
    t->detail = lcb_json_new_object();
    lcb_json_add(t->detail, "changes", lcb_json_new_array());
}

void
lcb_restore_tally_release(struct lcb_restore_tally *t)
{
    lcb_json_free(t->detail);
    memset(t, 0, sizeof(*t));
}

void
lcb_restore_tally_record(struct lcb_restore_tally *t, FILE *out, const char *event,
                         const char *action, const char *name, const char *why,
                         const struct lcb_err *err)
{
    struct lcb_json *c = lcb_json_push(lcb_json_get(t->detail, "changes"), lcb_json_new_object());
    struct lcb_buf red = LCB_BUF_INIT;
    char line[1024];

    lcb_json_add_str(c, "name", name);
    lcb_json_add_str(c, "action", action);
    lcb_json_add_str(c, "status", err ? "failed" : "ok");
    if (err) {
        lcb_redact_str(&red, lcb_err_format(err, line, sizeof(line)));
        lcb_json_add_str(c, "error", lcb_buf_str(&red));
        fprintf(out, "FAILED %s %s: %s\n", action, name, lcb_buf_str(&red));
        lcb_log(LCB_ERROR, event, "%s %s: %s", action, name, lcb_buf_str(&red));
        t->failed++;
    } else {
        fprintf(out, "%s %s%s%s%s\n", action, name, why ? " (" : "", why ? why : "",
                why ? ")" : "");
    }
    lcb_buf_release(&red);
}

/* The count named key ("created"...); 0 for a name the tally does not have. */
static size_t
count_of(const struct lcb_restore_tally *t, const char *key)
{
    static const struct {
        const char *key;
        size_t offset;
    } members[] = {
        { "created", offsetof(struct lcb_restore_tally, created) },
        { "updated", offsetof(struct lcb_restore_tally, updated) },
        { "retagged", offsetof(struct lcb_restore_tally, retagged) },
        { "replaced", offsetof(struct lcb_restore_tally, replaced) },
        { "registered", offsetof(struct lcb_restore_tally, registered) },
        { "unchanged", offsetof(struct lcb_restore_tally, unchanged) },
        { "skipped", offsetof(struct lcb_restore_tally, skipped) },
        { "failed", offsetof(struct lcb_restore_tally, failed) },
    };
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(members); i++)
        if (strcmp(members[i].key, key) == 0)
            return *(const size_t *)((const char *)t + members[i].offset);
    return 0;
}

void
lcb_restore_tally_fill(struct lcb_restore_tally *t, const char *restore_id,
                       const char *backup_id, const struct lcb_restore_count *counts, size_t n,
                       const struct lcb_strlist *kept)
{
    size_t i;

    if (restore_id)
        lcb_json_set(t->detail, "restore_id", lcb_json_new_str(restore_id));
    lcb_json_set(t->detail, "backup_id", lcb_json_new_str(backup_id));
    for (i = 0; i < n; i++)
        lcb_json_set(t->detail, counts[i].key,
                     lcb_json_new_num((double)count_of(t, counts[i].key)));
    if (kept)
        lcb_json_set(t->detail, "kept", lcb_config_strlist_json(kept));
}

void
lcb_restore_tally_summary(struct lcb_buf *out, const struct lcb_restore_tally *t,
                          const char *restore_id, const struct lcb_restore_count *counts,
                          size_t n)
{
    size_t i;

    lcb_buf_addf(out, "%s:", restore_id);
    for (i = 0; i < n; i++)
        lcb_buf_addf(out, "%s %zu %s", i ? "," : "", count_of(t, counts[i].key),
                     counts[i].label ? counts[i].label : counts[i].key);
    lcb_buf_addch(out, '\n');
}

/* One change of an SSM or ECS restore (err NULL: done). */
static void
report(struct lcb_restore_tally *t, FILE *out, const char *action, const char *name,
       const char *why, const struct lcb_err *err)
{
    lcb_restore_tally_record(t, out, "config.restore.failed", action, name, why, err);
}

/* ---- SSM ---- */

static int
put(struct lcb_aws *aws, const struct lcb_ssm_step *s, int overwrite, struct lcb_err *err)
{
    struct lcb_json *req = lcb_ssm_put_request(s, overwrite);
    const char *v = lcb_json_get_str(req, "Value");
    int rc = lcb_ssm_put(NULL, aws, req, err);

    if (v)
        lcb_wipe((void *)v, strlen(v));
    lcb_json_free(req);
    return rc;
}

static int
retag(struct lcb_aws *aws, const struct lcb_ssm_step *s, int add, struct lcb_err *err)
{
    struct lcb_json *tags = add ? lcb_ssm_tags_json(s->src) : NULL;
    int rc = 0;

    if (tags)
        rc = lcb_ssm_add_tags(aws, s->name, tags, err);
    lcb_json_free(tags);
    if (rc == 0 && s->untag.n)
        rc = lcb_ssm_remove_tags(aws, s->name, (const char *const *)s->untag.items, s->untag.n,
                                 err);
    return rc;
}

/* Create with tags; when it exists after all (created meanwhile), overwrite then tag. */
static int
create(struct lcb_aws *aws, const struct lcb_ssm_step *s, struct lcb_err *err)
{
    if (put(aws, s, 0, err) == 0)
        return 0;
    if (strcmp(err->aws_code, "ParameterAlreadyExists") != 0)
        return -1;
    lcb_err_clear(err);
    if (put(aws, s, 1, err) < 0)
        return -1;
    return retag(aws, s, 1, err);
}

static int
ssm_step(struct lcb_aws *aws, const struct lcb_ssm_step *s, struct lcb_err *err)
{
    switch (s->op) {
    case LCB_SSM_CREATE:
        return create(aws, s, err);
    case LCB_SSM_REPLACE:
        if (lcb_ssm_delete(aws, s->name, err) < 0 && err->code != LCB_ENOTFOUND)
            return -1;
        lcb_err_clear(err);
        return create(aws, s, err);
    case LCB_SSM_OVERWRITE:
        if (put(aws, s, 1, err) < 0)
            return -1;
        return retag(aws, s, s->tag, err);
    case LCB_SSM_RETAG:
        return retag(aws, s, s->tag, err);
    }
    return 0;
}

size_t
lcb_ssm_plan_apply(struct lcb_restore_tally *t, struct lcb_aws *aws, const struct lcb_ssm_plan *p,
                   FILE *out)
{
    static const char *const actions[] = { "created", "updated", "retagged", "replaced" };
    static const char *const tried[] = { "create", "update", "retag", "replace" };
    size_t i, before = t->failed;
    struct lcb_err err;

    for (i = 0; i < p->n; i++) {
        const struct lcb_ssm_step *s = &p->steps[i];
        lcb_err_clear(&err);
        if (ssm_step(aws, s, &err) < 0) {
            report(t, out, tried[s->op], s->name, NULL, &err);
            continue;
        }
        report(t, out, actions[s->op], s->name, s->op == LCB_SSM_CREATE ? s->src->type : s->why,
               NULL);
        if (s->op == LCB_SSM_CREATE)
            t->created++;
        else if (s->op == LCB_SSM_OVERWRITE)
            t->updated++;
        else if (s->op == LCB_SSM_RETAG)
            t->retagged++;
        else
            t->replaced++;
    }
    t->unchanged += p->unchanged;
    return t->failed - before;
}

/* ---- ECS ---- */

/* Archived task definition ARN -> the revision registered for it in this restore. */
struct registry {
    struct lcb_strlist from, to;
};

static const char *
registered(const struct registry *r, const char *arn)
{
    size_t i;

    for (i = 0; i < r->from.n; i++)
        if (strcmp(r->from.items[i], arn) == 0)
            return r->to.items[i];
    return NULL;
}

/* The ARN the step's service should run: reused, registered earlier, or registered now. */
static const char *
task_definition(struct lcb_restore_tally *t, struct registry *r, struct lcb_aws *aws,
                const struct lcb_svc_step *s, FILE *out, struct lcb_err *err)
{
    struct lcb_json *req, *td = NULL;
    const char *arn;
    char name[300], from[300];

    if (s->reuse_td)
        return s->reuse_td;
    if ((arn = registered(r, s->td->arn)))
        return arn;
    req = lcb_ecs_register_request(lcb_json_get(s->td->doc, "taskDefinition"),
                                   lcb_json_get(s->td->doc, "tags"));
    if (lcb_ecs_register_task_definition(&td, aws, req, err) < 0) {
        lcb_json_free(req);
        return NULL;
    }
    lcb_json_free(req);
    lcb_strlist_add(&r->from, s->td->arn);
    lcb_strlist_add(&r->to, lcb_json_get_str(td, "taskDefinitionArn"));
    snprintf(name, sizeof(name), "%s:%lld", s->td->family,
             (long long)lcb_json_get_num(td, "revision", 0));
    lcb_json_free(td);
    snprintf(from, sizeof(from), "from %s:%lld", s->td->family, s->td->revision);
    report(t, out, "registered", name, from, NULL);
    t->registered++;
    return r->to.items[r->to.n - 1];
}

static void
client_token(char out[33], const char *restore_id, const struct lcb_svc_step *s)
{
    char *seed = lcb_xasprintf("%s/%s/%s", restore_id, s->cluster, s->src->name);
    char hex[LCB_SHA256_HEX];

    lcb_sha256_hex(seed, strlen(seed), hex);
    memcpy(out, hex, 32);
    out[32] = '\0';
    free(seed);
}

static int
svc_tags(struct lcb_aws *aws, const struct lcb_svc_step *s, struct lcb_err *err)
{
    const char *arn = lcb_json_get_str(s->live->doc, "serviceArn");

    if (s->tag && lcb_ecs_tag_resource(aws, arn, s->tag, err) < 0)
        return -1;
    if (s->untag.n && lcb_ecs_untag_resource(aws, arn, (const char *const *)s->untag.items,
                                             s->untag.n, err) < 0)
        return -1;
    return 0;
}

static int
svc_step(struct lcb_aws *aws, const struct lcb_svc_step *s, const char *td, const char *token,
         struct lcb_err *err)
{
    struct lcb_json *req, *ans = NULL;
    int rc = 0;

    if (s->op == LCB_SVC_CREATE) {
        req = lcb_ecs_create_request(s->src->doc, s->cluster, td, token);
        rc = lcb_ecs_create_service(&ans, aws, req, err);
    } else {
        if (!s->update && !s->td_change)
            return svc_tags(aws, s, err);
        req = lcb_svc_update_request(s, s->td_change ? td : NULL);
        rc = lcb_ecs_update_service(&ans, aws, req, err);
        if (rc == 0)
            rc = svc_tags(aws, s, err);
    }
    lcb_json_free(ans);
    lcb_json_free(req);
    return rc;
}

size_t
lcb_svc_plan_apply(struct lcb_restore_tally *t, struct lcb_aws *aws, const struct lcb_svc_plan *p,
                   const char *restore_id, FILE *out)
{
    struct registry r = { LCB_STRLIST_INIT, LCB_STRLIST_INIT };
    size_t i, before = t->failed;
    struct lcb_err err;
    char name[512], token[33];
    const char *td;

    for (i = 0; i < p->n; i++) {
        const struct lcb_svc_step *s = &p->steps[i];
        snprintf(name, sizeof(name), "service %s/%s", s->cluster, s->src->name);
        lcb_err_clear(&err);
        if (s->op == LCB_SVC_UNCHANGED || s->op == LCB_SVC_SKIP) {
            if (s->op == LCB_SVC_SKIP)
                report(t, out, "skipped", name, s->why, NULL);
            t->unchanged += s->op == LCB_SVC_UNCHANGED;
            t->skipped += s->op == LCB_SVC_SKIP;
            t->failed += s->blocked;
            continue;
        }
        td = (s->op == LCB_SVC_CREATE || s->td_change)
                 ? task_definition(t, &r, aws, s, out, &err) : "";
        client_token(token, restore_id, s);
        if (!td || svc_step(aws, s, td, token, &err) < 0) {
            report(t, out, s->op == LCB_SVC_CREATE ? "create" : "update", name, NULL, &err);
            continue;
        }
        report(t, out, s->op == LCB_SVC_CREATE ? "created" : "updated", name,
               s->op == LCB_SVC_CREATE ? td : s->why, NULL);
        if (s->op == LCB_SVC_CREATE)
            t->created++;
        else
            t->updated++;
    }
    lcb_strlist_release(&r.from);
    lcb_strlist_release(&r.to);
    return t->failed - before;
}
