/* live.c - the configuration as AWS holds it now (SSM and ECS); see config.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/ecs.h"
#include "../aws/ssm.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "config.h"

static const struct lcb_json *
find_named(const struct lcb_json *arr, const char *name)
{
    const struct lcb_json *e;

    for (e = lcb_json_child(arr); e; e = lcb_json_next(e)) {
        const char *n = lcb_json_get_str(e, "Name");
        if (n && strcmp(n, name) == 0)
            return e;
    }
    return NULL;
}

static void
dup_str(char **dst, const struct lcb_json *o, const char *key)
{
    const char *v = lcb_json_get_str(o, key);

    free(*dst);
    *dst = v ? lcb_xstrdup(v) : NULL;
}

/* The metadata of DescribeParameters: KeyId, tier, description, pattern, policies. */
static void
apply_meta(struct lcb_config_param *p, const struct lcb_json *meta)
{
    const struct lcb_json *pol = lcb_json_get(meta, "Policies");
    struct lcb_buf text = LCB_BUF_INIT;

    if (!meta)
        return;
    if (lcb_config_param_secure(p))
        dup_str(&p->key_id, meta, "KeyId");
    dup_str(&p->tier, meta, "Tier");
    dup_str(&p->description, meta, "Description");
    dup_str(&p->allowed_pattern, meta, "AllowedPattern");
    if (lcb_json_get_str(meta, "DataType"))
        dup_str(&p->data_type, meta, "DataType");
    if (lcb_json_size(pol) > 0) {
        lcb_json_print(&text, pol, 0);
        p->policies = lcb_buf_detach(&text, NULL);
    }
    if ((long long)lcb_json_get_num(meta, "Version", 0) != p->version)
        lcb_log(LCB_WARN, "config.param.changing", "%s changed while being read (version %lld "
                "then %lld)", p->name, p->version, (long long)lcb_json_get_num(meta, "Version", 0));
}

static int
add_tags(struct lcb_config_param *p, struct lcb_aws *aws, struct lcb_err *err)
{
    struct lcb_json *tags = NULL;
    const struct lcb_json *t;

    if (lcb_ssm_tags(&tags, aws, p->name, err) < 0)
        return -1;
    for (t = lcb_json_child(tags); t; t = lcb_json_next(t))
        if (lcb_json_get_str(t, "Key"))
            lcb_config_param_tag(p, lcb_json_get_str(t, "Key"), lcb_json_get_str(t, "Value"));
    lcb_json_free(tags);
    return 0;
}

static int
add_param(struct lcb_config *c, struct lcb_aws *aws, const struct lcb_json *v,
          const struct lcb_json *metas, struct lcb_err *err)
{
    const char *name = lcb_json_get_str(v, "Name"), *value = lcb_json_get_str(v, "Value");
    const char *type = lcb_json_get_str(v, "Type");
    struct lcb_config_param *p;

    if (!name || !value || !type)
        return lcb_err_set(err, LCB_ECORRUPT, "GetParametersByPath answered a parameter without "
                           "Name, Type or Value");
    if (lcb_config_param_find(c, name))
        return 0; /* given twice through overlapping paths */
    p = lcb_config_param_add(c, name);
    p->type = lcb_xstrdup(type);
    lcb_config_param_set_value(p, value, strlen(value));
    p->version = (long long)lcb_json_get_num(v, "Version", 0);
    p->last_modified = lcb_json_get_num(v, "LastModifiedDate", 0);
    dup_str(&p->data_type, v, "DataType");
    apply_meta(p, find_named(metas, name));
    return add_tags(p, aws, err);
}

int
lcb_config_fetch_params(struct lcb_config *c, struct lcb_aws *aws, const char *path,
                        struct lcb_err *err)
{
    struct lcb_json *values = NULL, *metas = NULL;
    const struct lcb_json *v;
    int rc = -1;

    if (lcb_ssm_get_by_path(&values, aws, path, err) < 0 ||
        lcb_ssm_describe_by_path(&metas, aws, path, err) < 0)
        goto out;
    for (v = lcb_json_child(values); v; v = lcb_json_next(v))
        if (add_param(c, aws, v, metas, err) < 0)
            goto out;
    if (!lcb_strlist_has(&c->paths, path))
        lcb_strlist_add(&c->paths, path);
    rc = 0;
out:
    /* the decrypted values now live in secrets; wipe the copies in the answer */
    for (v = lcb_json_child(values); v; v = lcb_json_next(v)) {
        const char *s = lcb_json_get_str(v, "Value");
        if (s)
            lcb_wipe((void *)s, strlen(s));
    }
    lcb_json_free(values);
    lcb_json_free(metas);
    return rc;
}

static int
add_taskdef(struct lcb_config *c, struct lcb_aws *aws, const char *arn, struct lcb_err *err)
{
    struct lcb_json *doc = NULL;

    if (!arn || lcb_config_taskdef_find(c, arn))
        return 0;
    if (lcb_ecs_describe_task_definition(&doc, aws, arn, err) < 0)
        return -1;
    if (!lcb_config_taskdef_add(c, doc))
        return lcb_err_set(err, LCB_ECORRUPT, "task definition %s: the answer has no ARN, "
                           "family or revision", arn);
    return 0;
}

int
lcb_config_fetch_services(struct lcb_config *c, struct lcb_aws *aws, const char *cluster,
                          struct lcb_err *err)
{
    struct lcb_strlist arns = LCB_STRLIST_INIT;
    struct lcb_json *svcs = NULL, *s, *next;
    int rc = -1;

    if (lcb_ecs_list_services(&arns, aws, cluster, err) < 0 ||
        lcb_ecs_describe_services(&svcs, NULL, aws, cluster, (const char *const *)arns.items,
                                  arns.n, err) < 0)
        goto out;
    for (s = lcb_json_child(svcs); s; s = next) {
        const char *name = lcb_json_get_str(s, "serviceName");
        next = lcb_json_next(s);
        if (!name || lcb_config_service_find(c, cluster, name))
            continue;
        if (add_taskdef(c, aws, lcb_json_get_str(s, "taskDefinition"), err) < 0)
            goto out;
        lcb_config_service_add(c, cluster, name, lcb_json_detach(svcs, s));
    }
    if (!lcb_strlist_has(&c->clusters, cluster))
        lcb_strlist_add(&c->clusters, cluster);
    rc = 0;
out:
    lcb_json_free(svcs);
    lcb_strlist_release(&arns);
    return rc;
}
