/* ecs.c - Amazon ECS services and task definitions; see ecs.h. */
#include "ecs.h"

#include <stdio.h>
#include <string.h>

#include "jsonrpc.h"

const char *const lcb_ecs_taskdef_read_only[] = {
    "taskDefinitionArn", "revision",     "status",         "requiresAttributes",
    "compatibilities",   "registeredAt", "registeredBy",   "deregisteredAt",
    "deleteRequestedAt", NULL,
};

/* CreateService members a described service can give back as they are (botocore's
 * CreateServiceRequest shape minus what is handled apart: role, launchType, tags). */
static const char *const create_copied[] = {
    "serviceName",
    "loadBalancers",
    "serviceRegistries",
    "desiredCount",
    "capacityProviderStrategy",
    "platformVersion",
    "deploymentConfiguration",
    "placementConstraints",
    "placementStrategy",
    "networkConfiguration",
    "schedulingStrategy",
    "deploymentController",
    "enableECSManagedTags",
    "propagateTags",
    "enableExecuteCommand",
    "availabilityZoneRebalancing",
    "vpcLatticeConfigurations",
    NULL,
};

static void
add_include_tags(struct lcb_json *in)
{
    struct lcb_json *inc = lcb_json_add(in, "include", lcb_json_new_array());

    lcb_json_push(inc, lcb_json_new_str("TAGS"));
}

int
lcb_ecs_list_services(struct lcb_strlist *out, struct lcb_aws *aws, const char *cluster,
                      struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *page = NULL, *e;
    struct lcb_pager pg;
    int rc;

    lcb_json_add_str(in, "cluster", cluster);
    lcb_json_add_num(in, "maxResults", LCB_ECS_LIST_PAGE);
    lcb_pager_init(&pg, "nextToken", "nextToken");
    while ((rc = lcb_jsonrpc_page(&page, aws, &lcb_jsonrpc_ecs, "ListServices", in, NULL, &pg,
                                  err)) > 0) {
        for (e = lcb_json_child(lcb_json_get(page, "serviceArns")); e; e = lcb_json_next(e))
            if (lcb_json_str(e))
                lcb_strlist_add(out, lcb_json_str(e));
    }
    lcb_json_free(page);
    lcb_pager_release(&pg);
    lcb_json_free(in);
    return rc < 0 ? lcb_wrap(err, "list ECS services of cluster %s", cluster) : 0;
}

/* Move every element of the array member `key` of from to the end of to. */
static void
move_items(struct lcb_json *to, struct lcb_json *from, const char *key)
{
    struct lcb_json *list = lcb_json_get(from, key), *e, *next;

    for (e = lcb_json_child(list); e; e = next) {
        next = lcb_json_next(e);
        lcb_json_push(to, lcb_json_detach(list, e));
    }
}

static int
describe_batch(struct lcb_json *services, struct lcb_json *failures, struct lcb_aws *aws,
               const char *cluster, const char *const *names, size_t n, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *list, *ans = NULL;
    size_t i;
    int rc;

    lcb_json_add_str(in, "cluster", cluster);
    list = lcb_json_add(in, "services", lcb_json_new_array());
    for (i = 0; i < n; i++)
        lcb_json_push(list, lcb_json_new_str(names[i]));
    add_include_tags(in);
    rc = lcb_jsonrpc_call(&ans, aws, &lcb_jsonrpc_ecs, "DescribeServices", in, NULL, err);
    if (rc == 0) {
        move_items(services, ans, "services");
        move_items(failures, ans, "failures");
    }
    lcb_json_free(ans);
    lcb_json_free(in);
    return rc;
}

int
lcb_ecs_describe_services(struct lcb_json **services, struct lcb_json **failures,
                          struct lcb_aws *aws, const char *cluster, const char *const *names,
                          size_t n, struct lcb_err *err)
{
    struct lcb_json *svcs = lcb_json_new_array(), *fails = lcb_json_new_array();
    size_t i, k;

    *services = NULL;
    if (failures)
        *failures = NULL;
    for (i = 0; i < n; i += k) {
        k = n - i < LCB_ECS_DESCRIBE_MAX ? n - i : LCB_ECS_DESCRIBE_MAX;
        if (describe_batch(svcs, fails, aws, cluster, names + i, k, err) < 0) {
            lcb_json_free(svcs);
            lcb_json_free(fails);
            return lcb_wrap(err, "describe ECS services of cluster %s", cluster);
        }
    }
    *services = svcs;
    if (failures)
        *failures = fails;
    else
        lcb_json_free(fails);
    return 0;
}

int
lcb_ecs_describe_task_definition(struct lcb_json **out, struct lcb_aws *aws, const char *ref,
                                 struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *ans = NULL;
    int rc = -1;

    *out = NULL;
    lcb_json_add_str(in, "taskDefinition", ref);
    add_include_tags(in);
    if (lcb_jsonrpc_call(&ans, aws, &lcb_jsonrpc_ecs, "DescribeTaskDefinition", in, NULL, err) <
        0) {
        /* ECS answers ClientException "Unable to describe task definition." for a missing one */
        if (strcmp(err->aws_code, "ClientException") == 0)
            err->code = LCB_ENOTFOUND;
        lcb_wrap(err, "describe task definition %s", ref);
        goto out;
    }
    if (lcb_json_type(lcb_json_get(ans, "taskDefinition")) != LCB_JSON_OBJECT) {
        lcb_err_set(err, LCB_ECORRUPT, "describe task definition %s: no taskDefinition in the "
                    "answer", ref);
        goto out;
    }
    if (!lcb_json_get(ans, "tags"))
        lcb_json_add(ans, "tags", lcb_json_new_array());
    *out = ans;
    ans = NULL;
    rc = 0;
out:
    lcb_json_free(ans);
    lcb_json_free(in);
    return rc;
}

int
lcb_ecs_list_task_definitions(struct lcb_strlist *out, struct lcb_aws *aws, const char *family,
                              int max, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *ans = NULL, *e;
    int rc;

    lcb_json_add_str(in, "familyPrefix", family);
    lcb_json_add_str(in, "status", "ACTIVE");
    lcb_json_add_str(in, "sort", "DESC");
    lcb_json_add_num(in, "maxResults", max < 1 ? 1 : max > 100 ? 100 : max);
    rc = lcb_jsonrpc_call(&ans, aws, &lcb_jsonrpc_ecs, "ListTaskDefinitions", in, NULL, err);
    for (e = lcb_json_child(lcb_json_get(ans, "taskDefinitionArns")); rc == 0 && e;
         e = lcb_json_next(e))
        if (lcb_json_str(e))
            lcb_strlist_add(out, lcb_json_str(e));
    lcb_json_free(ans);
    lcb_json_free(in);
    return rc < 0 ? lcb_wrap(err, "list task definitions of %s", family) : 0;
}

/* Call op and hand back the answer's member `key` (an object). */
static int
call_for(struct lcb_json **out, struct lcb_aws *aws, const char *op, const struct lcb_json *in,
         const char *key, int no_blind_retry, struct lcb_err *err)
{
    struct lcb_jsonrpc_opts opts;
    struct lcb_json *ans = NULL, *member;

    memset(&opts, 0, sizeof(opts));
    opts.no_blind_retry = no_blind_retry;
    *out = NULL;
    if (lcb_jsonrpc_call(&ans, aws, &lcb_jsonrpc_ecs, op, in, &opts, err) < 0)
        return -1;
    member = lcb_json_get(ans, key);
    if (lcb_json_type(member) != LCB_JSON_OBJECT) {
        lcb_json_free(ans);
        return lcb_err_set(err, LCB_ECORRUPT, "%s answer: no %s object", op, key);
    }
    *out = lcb_json_detach(ans, member);
    lcb_json_free(ans);
    return 0;
}

int
lcb_ecs_register_task_definition(struct lcb_json **out, struct lcb_aws *aws,
                                 const struct lcb_json *request, struct lcb_err *err)
{
    const char *family = lcb_json_get_str(request, "family");

    if (call_for(out, aws, "RegisterTaskDefinition", request, "taskDefinition", 1, err) < 0)
        return lcb_wrap(err, "register task definition %s", family ? family : "?");
    return 0;
}

int
lcb_ecs_create_service(struct lcb_json **out, struct lcb_aws *aws, const struct lcb_json *request,
                       struct lcb_err *err)
{
    const char *name = lcb_json_get_str(request, "serviceName");

    if (call_for(out, aws, "CreateService", request, "service",
                 lcb_json_get(request, "clientToken") == NULL, err) < 0)
        return lcb_wrap(err, "create service %s", name ? name : "?");
    return 0;
}

int
lcb_ecs_update_service(struct lcb_json **out, struct lcb_aws *aws, const struct lcb_json *request,
                       struct lcb_err *err)
{
    const char *name = lcb_json_get_str(request, "service");

    if (call_for(out, aws, "UpdateService", request, "service", 0, err) < 0)
        return lcb_wrap(err, "update service %s", name ? name : "?");
    return 0;
}

int
lcb_ecs_tag_resource(struct lcb_aws *aws, const char *arn, const struct lcb_json *tags,
                     struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *ans = NULL;
    int rc;

    lcb_json_add_str(in, "resourceArn", arn);
    lcb_json_add(in, "tags", lcb_json_dup(tags));
    rc = lcb_jsonrpc_call(&ans, aws, &lcb_jsonrpc_ecs, "TagResource", in, NULL, err);
    lcb_json_free(ans);
    lcb_json_free(in);
    return rc < 0 ? lcb_wrap(err, "tag %s", arn) : 0;
}

int
lcb_ecs_untag_resource(struct lcb_aws *aws, const char *arn, const char *const *keys, size_t n,
                       struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *ans = NULL, *list;
    size_t i;
    int rc;

    lcb_json_add_str(in, "resourceArn", arn);
    list = lcb_json_add(in, "tagKeys", lcb_json_new_array());
    for (i = 0; i < n; i++)
        lcb_json_push(list, lcb_json_new_str(keys[i]));
    rc = lcb_jsonrpc_call(&ans, aws, &lcb_jsonrpc_ecs, "UntagResource", in, NULL, err);
    lcb_json_free(ans);
    lcb_json_free(in);
    return rc < 0 ? lcb_wrap(err, "untag %s", arn) : 0;
}

/* ---- pure conversions ---- */

static int
in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* Drop repositoryCredentials whose credentialsParameter is empty (RegisterTaskDefinition
 * refuses it). */
static void
fix_containers(struct lcb_json *containers)
{
    struct lcb_json *c, *rc;
    const char *p;

    for (c = lcb_json_child(containers); c; c = lcb_json_next(c)) {
        rc = lcb_json_get(c, "repositoryCredentials");
        if (!rc)
            continue;
        p = lcb_json_get_str(rc, "credentialsParameter");
        if (!p || !*p)
            lcb_json_remove(c, "repositoryCredentials");
    }
}

struct lcb_json *
lcb_ecs_register_request(const struct lcb_json *td, const struct lcb_json *tags)
{
    struct lcb_json *req = lcb_json_new_object(), *m;

    for (m = lcb_json_child(td); m; m = lcb_json_next(m)) {
        if (in_list(lcb_ecs_taskdef_read_only, lcb_json_key(m)) ||
            strcmp(lcb_json_key(m), "tags") == 0)
            continue;
        lcb_json_add(req, lcb_json_key(m), lcb_json_dup(m));
    }
    fix_containers(lcb_json_get(req, "containerDefinitions"));
    if (tags && lcb_json_size(tags) > 0)
        lcb_json_add(req, "tags", lcb_json_dup(tags));
    return req;
}

/* The PRIMARY deployment of a described service, or NULL. */
static const struct lcb_json *
primary_deployment(const struct lcb_json *svc)
{
    const struct lcb_json *d;
    const char *st;

    for (d = lcb_json_child(lcb_json_get(svc, "deployments")); d; d = lcb_json_next(d)) {
        st = lcb_json_get_str(d, "status");
        if (st && strcmp(st, "PRIMARY") == 0)
            return d;
    }
    return NULL;
}

static void
add_role(struct lcb_json *req, const struct lcb_json *svc)
{
    const char *role = lcb_json_get_str(svc, "roleArn");

    if (!role || strstr(role, ":role/aws-service-role/"))
        return;
    if (lcb_json_path(svc, "networkConfiguration.awsvpcConfiguration"))
        return;
    lcb_json_add_str(req, "role", role);
}

static void
copy_members(struct lcb_json *req, const struct lcb_json *svc)
{
    const char *const *k;
    const struct lcb_json *v, *lbs = lcb_json_get(svc, "loadBalancers");

    for (k = create_copied; *k; k++) {
        v = lcb_json_get(svc, *k);
        if (v && lcb_json_type(v) != LCB_JSON_NULL)
            lcb_json_add(req, *k, lcb_json_dup(v));
    }
    /* the grace period is refused without a load balancer */
    v = lcb_json_get(svc, "healthCheckGracePeriodSeconds");
    if (v && lcb_json_size(lbs) > 0)
        lcb_json_add(req, "healthCheckGracePeriodSeconds", lcb_json_dup(v));
}

struct lcb_json *
lcb_ecs_create_request(const struct lcb_json *svc, const char *cluster,
                       const char *task_definition, const char *client_token)
{
    struct lcb_json *req = lcb_json_new_object();
    const struct lcb_json *cps = lcb_json_get(svc, "capacityProviderStrategy"), *dep, *v;
    const struct lcb_json *tags = lcb_json_get(svc, "tags");
    const char *launch = lcb_json_get_str(svc, "launchType");

    lcb_json_add_str(req, "cluster", cluster);
    lcb_json_add_str(req, "taskDefinition", task_definition);
    copy_members(req, svc);
    /* launchType and capacityProviderStrategy are mutually exclusive */
    if (lcb_json_size(cps) == 0) {
        lcb_json_remove(req, "capacityProviderStrategy");
        if (launch)
            lcb_json_add_str(req, "launchType", launch);
    }
    add_role(req, svc);
    dep = primary_deployment(svc);
    if ((v = lcb_json_get(dep, "serviceConnectConfiguration")))
        lcb_json_add(req, "serviceConnectConfiguration", lcb_json_dup(v));
    if ((v = lcb_json_get(dep, "volumeConfigurations")) && lcb_json_size(v) > 0)
        lcb_json_add(req, "volumeConfigurations", lcb_json_dup(v));
    if (lcb_json_size(tags) > 0)
        lcb_json_add(req, "tags", lcb_json_dup(tags));
    if (client_token)
        lcb_json_add_str(req, "clientToken", client_token);
    return req;
}

void
lcb_ecs_service_name(const char *arn_or_name, char *out, size_t size)
{
    const char *p = arn_or_name;

    if (strncmp(p, "arn:", 4) == 0) {
        const char *slash = strrchr(p, '/');
        p = slash ? slash + 1 : p;
    }
    snprintf(out, size, "%s", p);
}
