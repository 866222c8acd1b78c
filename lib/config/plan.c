/* plan.c - restore planners for SSM parameters and ECS services; see plan.h. */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/ecs.h"
#include "../core/mem.h"
#include "diff.h"

/* UpdateService members a restore puts back when they differ. */
static const char *const svc_updatable[] = {
    "desiredCount", "deploymentConfiguration", "networkConfiguration", "platformVersion",
    "loadBalancers", "serviceRegistries", "placementConstraints", "placementStrategy",
    "propagateTags", "enableExecuteCommand", "enableECSManagedTags", "capacityProviderStrategy",
    "healthCheckGracePeriodSeconds", NULL,
};

/* Members only CreateService sets: a difference there is reported, not changed. */
static const char *const svc_fixed[] = {
    "launchType", "schedulingStrategy", "roleArn", "deploymentController", NULL,
};

/* ---- SSM: maps ---- */

int
lcb_ssm_map_parse(struct lcb_ssm_map *m, const char *spec, struct lcb_err *err)
{
    const char *eq = strchr(spec, '=');

    if (!eq || spec[0] != '/' || eq[1] != '/')
        return lcb_err_set(err, LCB_EUSAGE, "--map '%s': give FROM=TO, two paths such as "
                           "/legocity/prod/=/legocity/dev/", spec);
    m->from = spec;
    m->to = eq + 1;
    return 0;
}

static size_t
map_from_len(const struct lcb_ssm_map *m)
{
    return (size_t)(strchr(m->from, '=') ? strchr(m->from, '=') - m->from : (long)strlen(m->from));
}

/* Does name start with the map's from (as a path: "/a/b" holds "/a/b/c", not "/a/bc")? */
static int
map_matches(const struct lcb_ssm_map *m, const char *name, size_t *flen)
{
    size_t n = map_from_len(m);

    *flen = n;
    if (strncmp(name, m->from, n) != 0)
        return 0;
    return n > 0 && (m->from[n - 1] == '/' || name[n] == '/' || name[n] == '\0');
}

int
lcb_ssm_map_name(struct lcb_buf *out, const char *name, const struct lcb_ssm_map *maps, size_t n)
{
    size_t i, flen;

    lcb_buf_reset(out);
    for (i = 0; i < n; i++) {
        if (!map_matches(&maps[i], name, &flen))
            continue;
        lcb_buf_adds(out, maps[i].to);
        /* "/a/" -> "/b" or "/a" -> "/b/" must not double or lose the separator */
        if (out->len && out->ptr[out->len - 1] == '/' && name[flen] == '/')
            flen++;
        else if (out->len && out->ptr[out->len - 1] != '/' && flen && name[flen - 1] == '/')
            lcb_buf_addch(out, '/');
        lcb_buf_adds(out, name + flen);
        return 1;
    }
    lcb_buf_adds(out, name);
    return 0;
}

static void
add_root(struct lcb_strlist *out, const char *root)
{
    if (!lcb_strlist_has(out, root))
        lcb_strlist_add(out, root);
}

void
lcb_ssm_plan_roots(struct lcb_strlist *out, const struct lcb_config *archived, const char *path,
                   const struct lcb_ssm_map *maps, size_t n)
{
    struct lcb_buf b = LCB_BUF_INIT, from = LCB_BUF_INIT;
    size_t i, j;

    for (i = 0; i < (path ? 1 : archived->paths.n); i++) {
        const char *r = path ? path : archived->paths.items[i];
        if (lcb_ssm_map_name(&b, r, maps, n) || n == 0) {
            add_root(out, lcb_buf_str(&b));
            continue;
        }
        /* a map narrower than the root: "/legocity/prod/payload/=..." under "/legocity/prod/" */
        for (j = 0; j < n; j++) {
            lcb_buf_reset(&from);
            lcb_buf_add(&from, maps[j].from, map_from_len(&maps[j]));
            if (lcb_config_under(lcb_buf_str(&from), r))
                add_root(out, maps[j].to);
        }
    }
    lcb_buf_release(&b);
    lcb_buf_release(&from);
}

/* ---- SSM: planning ---- */

void
lcb_ssm_plan_init(struct lcb_ssm_plan *p)
{
    memset(p, 0, sizeof(*p));
}

void
lcb_ssm_plan_release(struct lcb_ssm_plan *p)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        free(p->steps[i].name);
        free(p->steps[i].why);
        lcb_strlist_release(&p->steps[i].untag);
    }
    free(p->steps);
    lcb_strlist_release(&p->extra);
    lcb_ssm_plan_init(p);
}

static int
tier_rank(const char *tier)
{
    return tier && strcmp(tier, "Advanced") == 0;
}

/* Fill the step's op and flags from the differences between the archived and live parameter.
 * Returns 0 when they are equal. */
static int
classify(struct lcb_ssm_step *s)
{
    struct lcb_diff_item it;
    struct lcb_buf why = LCB_BUF_INIT;
    size_t i;

    memset(&it, 0, sizeof(it));
    if (lcb_config_param_diff(&it, s->src, s->live, 0) == 0)
        return 0;
    for (i = 0; i < it.nfields; i++) {
        const char *f = it.fields[i].path;
        lcb_buf_addf(&why, "%s%s", i ? ", " : "", f);
        if (strncmp(f, "Tags.", 5) != 0)
            s->put = 1;
        else if (it.fields[i].from)
            s->tag = 1;
        else
            lcb_strlist_add(&s->untag, f + 5);
    }
    s->why = lcb_buf_detach(&why, NULL);
    lcb_diff_item_release(&it);
    if (strcmp(s->src->type, s->live->type) != 0 ||
        tier_rank(s->live->tier) > tier_rank(s->src->tier)) {
        s->op = LCB_SSM_REPLACE;
        s->put = 1;
        s->tag = 0;
        lcb_strlist_release(&s->untag);
    } else {
        s->op = s->put ? LCB_SSM_OVERWRITE : LCB_SSM_RETAG;
    }
    return 1;
}

static struct lcb_ssm_step *
step_new(struct lcb_ssm_plan *p)
{
    struct lcb_ssm_step *s;

    p->steps = lcb_xrealloc(p->steps, (p->n + 1) * sizeof(*p->steps));
    s = &p->steps[p->n++];
    memset(s, 0, sizeof(*s));
    return s;
}

static void
list_extra(struct lcb_ssm_plan *p, const struct lcb_config *live, const struct lcb_strlist *names)
{
    size_t i;

    for (i = 0; i < live->nparams; i++)
        if (!lcb_strlist_has(names, live->params[i].name))
            lcb_strlist_add(&p->extra, live->params[i].name);
}

int
lcb_ssm_plan_build(struct lcb_ssm_plan *p, const struct lcb_config *archived,
                   const struct lcb_config *live, const char *path,
                   const struct lcb_ssm_map *maps, size_t n, struct lcb_err *err)
{
    struct lcb_strlist names = LCB_STRLIST_INIT;
    struct lcb_buf name = LCB_BUF_INIT;
    struct lcb_ssm_step *s;
    size_t i;

    (void)err;
    for (i = 0; i < archived->nparams; i++) {
        const struct lcb_config_param *src = &archived->params[i];
        if (path && !lcb_config_under(src->name, path) && strcmp(src->name, path) != 0)
            continue;
        if (!lcb_ssm_map_name(&name, src->name, maps, n) && n)
            continue;
        lcb_strlist_add(&names, lcb_buf_str(&name));
        s = step_new(p);
        s->src = src;
        s->name = lcb_xstrdup(lcb_buf_str(&name));
        s->live = lcb_config_param_find(live, s->name);
        if (!s->live) {
            s->op = LCB_SSM_CREATE;
            s->put = 1;
            s->why = lcb_xstrdup("missing");
        } else if (!classify(s)) {
            free(s->name);
            p->n--;
            p->unchanged++;
        }
    }
    list_extra(p, live, &names);
    lcb_strlist_release(&names);
    lcb_buf_release(&name);
    return 0;
}

/* ---- SSM: requests ---- */

struct lcb_json *
lcb_ssm_tags_json(const struct lcb_config_param *p)
{
    struct lcb_json *arr;
    size_t i;

    if (p->ntags == 0)
        return NULL;
    arr = lcb_json_new_array();
    for (i = 0; i < p->ntags; i++) {
        struct lcb_json *t = lcb_json_push(arr, lcb_json_new_object());
        lcb_json_add_str(t, "Key", p->tags[i].key);
        lcb_json_add_str(t, "Value", p->tags[i].value);
    }
    return arr;
}

/* DescribeParameters' Policies [{PolicyText...}] -> PutParameter's Policies string. */
static void
add_policies(struct lcb_json *req, const char *policies)
{
    struct lcb_json *list = NULL;
    const struct lcb_json *e;
    struct lcb_buf text = LCB_BUF_INIT;
    struct lcb_err scratch;

    if (!policies || lcb_json_parse(&list, policies, strlen(policies), &scratch) < 0)
        return;
    lcb_buf_addch(&text, '[');
    for (e = lcb_json_child(list); e; e = lcb_json_next(e)) {
        const char *t = lcb_json_get_str(e, "PolicyText");
        if (t)
            lcb_buf_addf(&text, "%s%s", text.len > 1 ? "," : "", t);
    }
    lcb_buf_addch(&text, ']');
    if (text.len > 2)
        lcb_json_add_str(req, "Policies", lcb_buf_str(&text));
    lcb_buf_release(&text);
    lcb_json_free(list);
}

/* Description and AllowedPattern: sent when archived; when only the live one has one, an
 * overwrite sends "" so that it goes. */
static void
add_clearable(struct lcb_json *req, const char *key, const char *archived, const char *live,
              int overwrite)
{
    if (archived)
        lcb_json_add_str(req, key, archived);
    else if (overwrite && live && *live)
        lcb_json_add_str(req, key, "");
}

struct lcb_json *
lcb_ssm_put_request(const struct lcb_ssm_step *s, int overwrite)
{
    const struct lcb_config_param *p = s->src, *l = overwrite ? s->live : NULL;
    struct lcb_json *req = lcb_json_new_object(), *tags;

    lcb_json_add_str(req, "Name", s->name);
    lcb_json_add_str(req, "Type", p->type);
    lcb_json_add_str(req, "Value", lcb_config_param_value(p));
    if (lcb_config_param_secure(p) && p->key_id)
        lcb_json_add_str(req, "KeyId", p->key_id);
    lcb_json_add_str(req, "Tier", p->tier ? p->tier : "Standard");
    add_clearable(req, "Description", p->description, l ? l->description : NULL, overwrite);
    add_clearable(req, "AllowedPattern", p->allowed_pattern, l ? l->allowed_pattern : NULL,
                  overwrite);
    if (p->data_type)
        lcb_json_add_str(req, "DataType", p->data_type);
    add_policies(req, p->policies);
    lcb_json_add_bool(req, "Overwrite", overwrite);
    if (!overwrite && (tags = lcb_ssm_tags_json(p)))
        lcb_json_add(req, "Tags", tags);
    return req;
}

static void
call_line(struct lcb_buf *out, const char *op, const struct lcb_json *req)
{
    lcb_buf_addf(out, "%s ", op);
    lcb_json_print(out, req, 0);
    lcb_buf_addch(out, '\n');
}

static void
name_call(struct lcb_buf *out, const char *op, const char *name, const char *member,
          struct lcb_json *list)
{
    struct lcb_json *req = lcb_json_new_object();

    if (strcmp(op, "DeleteParameter") == 0) {
        lcb_json_add_str(req, "Name", name);
    } else {
        lcb_json_add_str(req, "ResourceType", "Parameter");
        lcb_json_add_str(req, "ResourceId", name);
        lcb_json_add(req, member, list);
    }
    call_line(out, op, req);
    lcb_json_free(req);
}

void
lcb_ssm_step_calls(struct lcb_buf *out, const struct lcb_ssm_step *s)
{
    int overwrite = s->op == LCB_SSM_OVERWRITE;
    struct lcb_json *req;

    if (s->op == LCB_SSM_REPLACE)
        name_call(out, "DeleteParameter", s->name, NULL, NULL);
    if (s->put) {
        req = lcb_ssm_put_request(s, overwrite);
        if (lcb_config_param_secure(s->src))
            lcb_json_set(req, "Value", lcb_json_new_str("***"));
        call_line(out, "PutParameter", req);
        lcb_json_free(req);
    }
    if (s->tag && (req = lcb_ssm_tags_json(s->src)))
        name_call(out, "AddTagsToResource", s->name, "Tags", req);
    if (s->untag.n)
        name_call(out, "RemoveTagsFromResource", s->name, "TagKeys",
                  lcb_config_strlist_json(&s->untag));
}

/* ---- ECS ---- */

void
lcb_svc_plan_init(struct lcb_svc_plan *p)
{
    memset(p, 0, sizeof(*p));
}

void
lcb_svc_plan_release(struct lcb_svc_plan *p)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        struct lcb_svc_step *s = &p->steps[i];
        free(s->cluster);
        free(s->reuse_td);
        free(s->why);
        lcb_json_free(s->update);
        lcb_json_free(s->tag);
        lcb_strlist_release(&s->untag);
        lcb_strlist_release(&s->notes);
    }
    free(p->steps);
    lcb_svc_plan_init(p);
}

static int
json_same(const struct lcb_json *x, const struct lcb_json *y)
{
    struct lcb_buf a = LCB_BUF_INIT, b = LCB_BUF_INIT;
    int eq;

    if (!x || !y)
        return !x && !y;
    lcb_json_print(&a, x, 0);
    lcb_json_print(&b, y, 0);
    eq = strcmp(lcb_buf_str(&a), lcb_buf_str(&b)) == 0;
    lcb_buf_release(&a);
    lcb_buf_release(&b);
    return eq;
}

/* A live revision of the archived task definition's family with the same content, newest
 * first; NULL when none. */
static const struct lcb_config_taskdef *
equal_live_taskdef(const struct lcb_config *live, const struct lcb_config_service *ls,
                   const struct lcb_config_taskdef *td)
{
    struct lcb_json *want = lcb_config_taskdef_comparable(td), *have;
    const struct lcb_config_taskdef *t, *best = NULL;
    size_t i;

    t = ls ? lcb_config_service_taskdef(live, ls) : NULL;
    if (t && strcmp(t->family, td->family) == 0) {
        have = lcb_config_taskdef_comparable(t);
        if (json_same(want, have))
            best = t;
        lcb_json_free(have);
    }
    for (i = live->ntaskdefs; !best && i-- > 0;) {
        t = &live->taskdefs[i];
        if (strcmp(t->family, td->family) != 0)
            continue;
        have = lcb_config_taskdef_comparable(t);
        if (json_same(want, have))
            best = t;
        lcb_json_free(have);
    }
    lcb_json_free(want);
    return best;
}

static void
why_add(struct lcb_buf *why, const char *what)
{
    lcb_buf_addf(why, "%s%s", why->len ? ", " : "", what);
}

/* The members of the archived service that differ from the live one's. */
static void
plan_members(struct lcb_svc_step *s, struct lcb_buf *why)
{
    const char *const *k;
    const struct lcb_json *x, *y;

    for (k = svc_updatable; *k; k++) {
        x = lcb_json_get(s->src->doc, *k);
        y = lcb_json_get(s->live->doc, *k);
        if (!x || json_same(x, y))
            continue;
        if (!s->update)
            s->update = lcb_json_new_object();
        lcb_json_add(s->update, *k, lcb_json_dup(x));
        why_add(why, *k);
    }
    for (k = svc_fixed; *k; k++) {
        x = lcb_json_get(s->src->doc, *k);
        y = lcb_json_get(s->live->doc, *k);
        if (!json_same(x, y))
            lcb_strlist_add(&s->notes, *k);
    }
}

static const struct lcb_json *
find_tag(const struct lcb_json *tags, const char *key)
{
    const struct lcb_json *t;

    for (t = lcb_json_child(tags); t; t = lcb_json_next(t))
        if (lcb_json_get_str(t, "key") && strcmp(lcb_json_get_str(t, "key"), key) == 0)
            return t;
    return NULL;
}

static void
plan_tags(struct lcb_svc_step *s, struct lcb_buf *why)
{
    const struct lcb_json *want = lcb_json_get(s->src->doc, "tags");
    const struct lcb_json *have = lcb_json_get(s->live->doc, "tags"), *t, *h;

    for (t = lcb_json_child(want); t; t = lcb_json_next(t)) {
        h = find_tag(have, lcb_json_get_str(t, "key"));
        if (h && json_same(lcb_json_get(h, "value"), lcb_json_get(t, "value")))
            continue;
        if (!s->tag)
            s->tag = lcb_json_new_array();
        lcb_json_push(s->tag, lcb_json_dup(t));
    }
    for (h = lcb_json_child(have); h; h = lcb_json_next(h))
        if (lcb_json_get_str(h, "key") && !find_tag(want, lcb_json_get_str(h, "key")))
            lcb_strlist_add(&s->untag, lcb_json_get_str(h, "key"));
    if (s->tag || s->untag.n)
        why_add(why, "tags");
}

static int
plan_service(struct lcb_svc_step *s, const struct lcb_config *archived,
             const struct lcb_config *live, struct lcb_err *err)
{
    const char *st = lcb_json_get_str(s->src->doc, "status");
    const struct lcb_config_service *ls = lcb_config_service_find(live, s->cluster, s->src->name);
    const char *lst = ls ? lcb_json_get_str(ls->doc, "status") : NULL;
    const struct lcb_config_taskdef *same;
    struct lcb_buf why = LCB_BUF_INIT;

    s->td = lcb_config_service_taskdef(archived, s->src);
    if (!s->td)
        return lcb_err_set(err, LCB_ECORRUPT, "service %s: its task definition %s is not in the "
                           "archive", s->src->name, lcb_json_get_str(s->src->doc,
                                                                     "taskDefinition"));
    if (st && strcmp(st, "ACTIVE") != 0) {
        s->op = LCB_SVC_SKIP;
        s->why = lcb_xasprintf("it was %s when backed up", st);
        return 0;
    }
    if (lst && strcmp(lst, "DRAINING") == 0) {
        s->op = LCB_SVC_SKIP;
        s->blocked = 1;
        s->why = lcb_xstrdup("it is DRAINING: restore again once it is INACTIVE");
        return 0;
    }
    s->live = lst && strcmp(lst, "INACTIVE") == 0 ? NULL : ls;
    same = equal_live_taskdef(live, s->live, s->td);
    if (same)
        s->reuse_td = lcb_xstrdup(same->arn);
    if (!s->live) {
        s->op = LCB_SVC_CREATE;
        s->why = lcb_xstrdup("missing");
        return 0;
    }
    s->td_change = !same || strcmp(same->arn, lcb_json_get_str(s->live->doc, "taskDefinition"));
    if (s->td_change)
        why_add(&why, "task definition");
    plan_members(s, &why);
    plan_tags(s, &why);
    s->op = why.len ? LCB_SVC_UPDATE : LCB_SVC_UNCHANGED;
    s->why = lcb_buf_detach(&why, NULL);
    return 0;
}

static int
wanted(const struct lcb_config_service *s, const char *cluster, const struct lcb_strlist *names)
{
    if (cluster && strcmp(s->cluster, cluster) != 0)
        return 0;
    return !names || names->n == 0 || lcb_strlist_has(names, s->name);
}

int
lcb_svc_plan_build(struct lcb_svc_plan *p, const struct lcb_config *archived,
                   const struct lcb_config *live, const char *cluster,
                   const char *target_cluster, const struct lcb_strlist *services,
                   struct lcb_err *err)
{
    struct lcb_svc_step *s;
    size_t i;

    for (i = 0; services && i < services->n; i++)
        if (!lcb_config_service_find(archived, cluster, services->items[i]))
            return lcb_err_set(err, LCB_ENOTFOUND, "the backup holds no service '%s'%s%s",
                               services->items[i], cluster ? " in cluster " : "",
                               cluster ? cluster : "");
    for (i = 0; i < archived->nservices; i++) {
        if (!wanted(&archived->services[i], cluster, services))
            continue;
        p->steps = lcb_xrealloc(p->steps, (p->n + 1) * sizeof(*p->steps));
        s = &p->steps[p->n++];
        memset(s, 0, sizeof(*s));
        s->src = &archived->services[i];
        s->cluster = lcb_xstrdup(target_cluster ? target_cluster : s->src->cluster);
        if (plan_service(s, archived, live, err) < 0)
            return -1;
    }
    return 0;
}

struct lcb_json *
lcb_svc_update_request(const struct lcb_svc_step *s, const char *td_arn)
{
    struct lcb_json *req = s->update ? lcb_json_dup(s->update) : lcb_json_new_object();

    lcb_json_set(req, "cluster", lcb_json_new_str(s->cluster));
    lcb_json_set(req, "service", lcb_json_new_str(s->src->name));
    if (td_arn)
        lcb_json_set(req, "taskDefinition", lcb_json_new_str(td_arn));
    return req;
}

void
lcb_svc_step_calls(struct lcb_buf *out, const struct lcb_svc_step *s)
{
    const char *td = s->reuse_td ? s->reuse_td : "<registered>";
    const char *arn = s->live ? lcb_json_get_str(s->live->doc, "serviceArn") : NULL;
    struct lcb_json *req;

    if (s->op != LCB_SVC_CREATE && s->op != LCB_SVC_UPDATE)
        return;
    if (!s->reuse_td) {
        req = lcb_ecs_register_request(lcb_json_get(s->td->doc, "taskDefinition"),
                                       lcb_json_get(s->td->doc, "tags"));
        call_line(out, "RegisterTaskDefinition", req);
        lcb_json_free(req);
    }
    if (s->op == LCB_SVC_CREATE) {
        req = lcb_ecs_create_request(s->src->doc, s->cluster, td, NULL);
        call_line(out, "CreateService", req);
        lcb_json_free(req);
        return;
    }
    if (s->update || s->td_change) {
        req = lcb_svc_update_request(s, s->td_change ? td : NULL);
        call_line(out, "UpdateService", req);
        lcb_json_free(req);
    }
    if (s->tag) {
        req = lcb_json_new_object();
        lcb_json_add_str(req, "resourceArn", arn ? arn : "?");
        lcb_json_add(req, "tags", lcb_json_dup(s->tag));
        call_line(out, "TagResource", req);
        lcb_json_free(req);
    }
    if (s->untag.n) {
        req = lcb_json_new_object();
        lcb_json_add_str(req, "resourceArn", arn ? arn : "?");
        lcb_json_add(req, "tagKeys", lcb_config_strlist_json(&s->untag));
        call_line(out, "UntagResource", req);
        lcb_json_free(req);
    }
}
