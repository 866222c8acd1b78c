/* policy_dump.c - accessors, the normalised JSON form, and freeing; see policy.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../ext/json.h"
#include "policy.h"

const char *
lcb_policy_env(const struct lcb_policy *p)
{
    return p ? p->env : NULL;
}

size_t
lcb_policy_targets(const struct lcb_policy *p, enum lcb_kind k, const struct lcb_target **out,
                   size_t n)
{
    size_t i, count = 0;

    for (i = 0; p && i < p->ntargets; i++) {
        if (p->targets[i].kind != k)
            continue;
        if (count < n)
            out[count] = &p->targets[i];
        count++;
    }
    return count;
}

const struct lcb_target *
lcb_policy_target(const struct lcb_policy *p, enum lcb_kind k, const char *name)
{
    size_t i;

    for (i = 0; p && i < p->ntargets; i++)
        if (p->targets[i].kind == k && p->targets[i].name && strcmp(p->targets[i].name, name) == 0)
            return &p->targets[i];
    return NULL;
}

static void
add_strs(struct lcb_json *obj, const char *key, char **v, size_t n)
{
    struct lcb_json *arr;
    size_t i;

    if (n == 0)
        return;
    arr = lcb_json_add(obj, key, lcb_json_new_array());
    for (i = 0; i < n; i++)
        lcb_json_push(arr, lcb_json_new_str(v[i]));
}

static void
add_opt(struct lcb_json *obj, const char *key, const char *v)
{
    if (v)
        lcb_json_add_str(obj, key, v);
}

static void
add_duration(struct lcb_json *obj, const char *key, int64_t secs)
{
    char buf[32];

    if (secs <= 0)
        return;
    if (secs % 86400 == 0)
        snprintf(buf, sizeof(buf), "%lldd", (long long)(secs / 86400));
    else if (secs % 3600 == 0)
        snprintf(buf, sizeof(buf), "%lldh", (long long)(secs / 3600));
    else
        snprintf(buf, sizeof(buf), "%llds", (long long)secs);
    lcb_json_add_str(obj, key, buf);
}

static struct lcb_json *
retention_json(const struct lcb_retention *r)
{
    struct lcb_json *o = lcb_json_new_object();
    const struct { const char *k; int v; } counts[] = {
        { "keep_last", r->keep_last }, { "hourly", r->hourly }, { "daily", r->daily },
        { "weekly", r->weekly }, { "monthly", r->monthly }, { "yearly", r->yearly },
    };
    size_t i;

    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        if (counts[i].v != 0)
            lcb_json_add_num(o, counts[i].k, counts[i].v);
    add_duration(o, "keep_within", r->keep_within);
    add_duration(o, "min_age", r->min_age);
    return o;
}

static struct lcb_json *
target_json(const struct lcb_target *t)
{
    struct lcb_json *o = lcb_json_new_object(), *tags;
    size_t i;

    lcb_json_add_str(o, "name", t->name);
    add_opt(o, "instance", t->instance);
    add_opt(o, "db_url_param", t->db_url_param);
    add_opt(o, "db_secret", t->db_secret);
    add_strs(o, "volume_ids", t->volume_ids, t->nvolume_ids);
    if (t->ntags) {
        tags = lcb_json_add(o, t->kind == LCB_KIND_CONFIG ? "secret_tags" : "tags",
                            lcb_json_new_object());
        for (i = 0; i < t->ntags; i++)
            lcb_json_add_str(tags, t->tags[i].key, t->tags[i].value);
    }
    add_opt(o, "instance_id", t->instance_id);
    add_opt(o, "url", t->url);
    add_opt(o, "url_param", t->url_param);
    add_opt(o, "tenant", t->tenant);
    add_strs(o, "types", t->types, t->ntypes);
    if (t->kind == LCB_KIND_BROKER) {
        lcb_json_add_num(o, "page_size", t->page_size);
        lcb_json_add_bool(o, "production", t->production);
    }
    add_strs(o, "ssm_paths", t->ssm_paths, t->nssm_paths);
    add_strs(o, "ecs_clusters", t->ecs_clusters, t->necs_clusters);
    add_strs(o, "secret_prefixes", t->secret_prefixes, t->nsecret_prefixes);
    lcb_json_add_str(o, "schedule", t->schedule.expr);
    lcb_json_add(o, "retention", retention_json(&t->retention));
    lcb_json_add_bool(o, "copy_to_dr", t->copy_to_dr);
    return o;
}

static struct lcb_json *
drill_json(const struct lcb_drill *d)
{
    struct lcb_json *o = lcb_json_new_object(), *checks;
    size_t i;

    add_opt(o, "instance_class", d->instance_class);
    add_opt(o, "subnet_group", d->subnet_group);
    add_strs(o, "security_groups", d->security_groups, d->nsecurity_groups);
    add_opt(o, "availability_zone", d->availability_zone);
    add_opt(o, "broker_url", d->broker_url);
    add_opt(o, "broker_tenant", d->broker_tenant);
    add_duration(o, "rto_target", d->rto_target);
    add_duration(o, "rpo_target", d->rpo_target);
    lcb_json_add_num(o, "row_tolerance", d->row_tolerance);
    add_duration(o, "timeout", d->timeout);
    add_opt(o, "cms_entity_query", d->cms_entity_query);
    if (d->nchecks) {
        checks = lcb_json_add(o, "checks", lcb_json_new_array());
        for (i = 0; i < d->nchecks; i++) {
            struct lcb_json *c = lcb_json_push(checks, lcb_json_new_object());
            lcb_json_add_str(c, "name", d->checks[i].name);
            lcb_json_add_str(c, "sql", d->checks[i].sql);
            lcb_json_add_str(c, "expect", d->checks[i].expect);
        }
    }
    return o;
}

void
lcb_policy_dump(const struct lcb_policy *p, struct lcb_buf *out)
{
    struct lcb_json *root = lcb_json_new_object(), *st, *targets, *arr;
    size_t i;
    int k;

    lcb_json_add_num(root, "version", p->version);
    lcb_json_add_str(root, "env", p->env);
    lcb_json_add_bool(root, "production", p->production);
    lcb_json_add_str(root, "region", p->region);
    add_opt(root, "dr_region", p->dr_region);
    lcb_json_add_str(root, "timezone", p->timezone);
    st = lcb_json_add(root, "storage", lcb_json_new_object());
    lcb_json_add_str(st, "bucket", p->bucket);
    lcb_json_add_str(st, "prefix", p->prefix);
    add_opt(st, "kms_key", p->kms_key);
    add_opt(st, "dr_kms_key", p->dr_kms_key);
    add_duration(st, "object_lock", p->object_lock);
    if (p->notify_topic) {
        struct lcb_json *n = lcb_json_add(root, "notify", lcb_json_new_object());
        lcb_json_add_str(n, "sns_topic", p->notify_topic);
        lcb_json_add_bool(n, "on_success", p->notify_on_success);
    }
    targets = lcb_json_add(root, "targets", lcb_json_new_object());
    for (k = 0; k < LCB_KIND_COUNT; k++) {
        arr = NULL;
        for (i = 0; i < p->ntargets; i++) {
            if (p->targets[i].kind != (enum lcb_kind)k)
                continue;
            if (!arr)
                arr = lcb_json_add(targets, lcb_kind_name((enum lcb_kind)k), lcb_json_new_array());
            lcb_json_push(arr, target_json(&p->targets[i]));
        }
    }
    lcb_json_add(root, "drill", drill_json(&p->drill));
    lcb_json_print(out, root, 1);
    lcb_json_free(root);
}

static void
free_strs(char **v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void
free_target(struct lcb_target *t)
{
    size_t i;

    free(t->name);
    free(t->path);
    free(t->instance);
    free(t->db_url_param);
    free(t->db_secret);
    free_strs(t->volume_ids, t->nvolume_ids);
    for (i = 0; i < t->ntags; i++) {
        free(t->tags[i].key);
        free(t->tags[i].value);
    }
    free(t->tags);
    free(t->instance_id);
    free(t->url);
    free(t->url_param);
    free(t->tenant);
    free_strs(t->types, t->ntypes);
    free_strs(t->ssm_paths, t->nssm_paths);
    free_strs(t->ecs_clusters, t->necs_clusters);
    free_strs(t->secret_prefixes, t->nsecret_prefixes);
}

static void
free_drill(struct lcb_drill *d)
{
    size_t i;

    free(d->instance_class);
    free(d->subnet_group);
    free_strs(d->security_groups, d->nsecurity_groups);
    free(d->availability_zone);
    free(d->broker_url);
    free(d->broker_tenant);
    free(d->cms_entity_query);
    for (i = 0; i < d->nchecks; i++) {
        free(d->checks[i].name);
        free(d->checks[i].sql);
        free(d->checks[i].expect);
    }
    free(d->checks);
}

void
lcb_policy_free(struct lcb_policy *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->ntargets; i++)
        free_target(&p->targets[i]);
    free(p->targets);
    free_drill(&p->drill);
    free(p->file);
    free(p->env);
    free(p->region);
    free(p->dr_region);
    free(p->timezone);
    free(p->bucket);
    free(p->prefix);
    free(p->kms_key);
    free(p->dr_kms_key);
    free(p->notify_topic);
    free(p);
}
