/* ssm.c - SSM Parameter Store; see ssm.h. */
#include "ssm.h"

#include <stdio.h>
#include <string.h>

#include "jsonrpc.h"

int
lcb_ssm_get(struct lcb_secret *value, char *type, size_t type_size, struct lcb_aws *aws,
            const char *name, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *out = NULL;
    const char *v, *t;
    int rc = -1;

    lcb_json_add_str(in, "Name", name);
    lcb_json_add_bool(in, "WithDecryption", 1);
    if (lcb_jsonrpc_call(&out, aws, &lcb_jsonrpc_ssm, "GetParameter", in, NULL, err) < 0) {
        lcb_wrap(err, "SSM parameter %s", name);
        goto out;
    }
    v = lcb_json_str(lcb_json_path(out, "Parameter.Value"));
    t = lcb_json_str(lcb_json_path(out, "Parameter.Type"));
    if (!v) {
        lcb_err_set(err, LCB_ECORRUPT, "SSM parameter %s: the answer has no value", name);
        goto out;
    }
    lcb_secret_set(value, v, strlen(v));
    if (!t || strcmp(t, "SecureString") != 0)
        lcb_redact_remove(v, strlen(v)); /* a String: not a secret, and logs may name it */
    if (type && type_size)
        snprintf(type, type_size, "%s", t ? t : "String");
    rc = 0;
out:
    lcb_json_free(in);
    lcb_json_free(out);
    return rc;
}

/* Call op page by page, appending every element of the answer's list member to *out. */
static int
collect(struct lcb_json **out, struct lcb_aws *aws, const char *op, struct lcb_json *in,
        const char *member, struct lcb_err *err)
{
    struct lcb_pager pg;
    struct lcb_json *page = NULL, *e, *next;
    int rc;

    *out = lcb_json_new_array();
    lcb_pager_init(&pg, "NextToken", "NextToken");
    while ((rc = lcb_jsonrpc_page(&page, aws, &lcb_jsonrpc_ssm, op, in, NULL, &pg, err)) > 0) {
        struct lcb_json *list = lcb_json_get(page, member);
        for (e = lcb_json_child(list); e; e = next) {
            next = lcb_json_next(e);
            lcb_json_push(*out, lcb_json_detach(list, e));
        }
    }
    lcb_json_free(page);
    lcb_pager_release(&pg);
    if (rc < 0) {
        lcb_json_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static void
register_secure_values(const struct lcb_json *params)
{
    const struct lcb_json *p;

    for (p = lcb_json_child(params); p; p = lcb_json_next(p)) {
        const char *t = lcb_json_get_str(p, "Type"), *v = lcb_json_get_str(p, "Value");
        if (t && v && strcmp(t, "SecureString") == 0)
            lcb_redact_add(v, strlen(v));
    }
}

int
lcb_ssm_get_by_path(struct lcb_json **out, struct lcb_aws *aws, const char *path,
                    struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object();
    int rc;

    lcb_json_add_str(in, "Path", path);
    lcb_json_add_bool(in, "Recursive", 1);
    lcb_json_add_bool(in, "WithDecryption", 1);
    lcb_json_add_num(in, "MaxResults", 10);
    rc = collect(out, aws, "GetParametersByPath", in, "Parameters", err);
    lcb_json_free(in);
    if (rc < 0)
        return lcb_wrap(err, "SSM parameters under %s", path);
    register_secure_values(*out);
    return 0;
}

int
lcb_ssm_describe_by_path(struct lcb_json **out, struct lcb_aws *aws, const char *path,
                         struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *filters, *f, *vals;
    int rc;

    filters = lcb_json_add(in, "ParameterFilters", lcb_json_new_array());
    f = lcb_json_push(filters, lcb_json_new_object());
    lcb_json_add_str(f, "Key", "Path");
    lcb_json_add_str(f, "Option", "Recursive");
    vals = lcb_json_add(f, "Values", lcb_json_new_array());
    lcb_json_push(vals, lcb_json_new_str(path));
    lcb_json_add_num(in, "MaxResults", 50);
    rc = collect(out, aws, "DescribeParameters", in, "Parameters", err);
    lcb_json_free(in);
    return rc < 0 ? lcb_wrap(err, "describe SSM parameters under %s", path) : 0;
}

int
lcb_ssm_tags(struct lcb_json **out, struct lcb_aws *aws, const char *name, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *ans = NULL, *list;
    int rc = -1;

    *out = NULL;
    lcb_json_add_str(in, "ResourceType", "Parameter");
    lcb_json_add_str(in, "ResourceId", name);
    if (lcb_jsonrpc_call(&ans, aws, &lcb_jsonrpc_ssm, "ListTagsForResource", in, NULL, err) < 0) {
        lcb_wrap(err, "tags of SSM parameter %s", name);
        goto out;
    }
    list = lcb_json_get(ans, "TagList");
    *out = list ? lcb_json_detach(ans, list) : lcb_json_new_array();
    rc = 0;
out:
    lcb_json_free(in);
    lcb_json_free(ans);
    return rc;
}

int
lcb_ssm_put(long long *version, struct lcb_aws *aws, const struct lcb_json *request,
            struct lcb_err *err)
{
    struct lcb_json *ans = NULL;
    const char *name = lcb_json_get_str(request, "Name");

    if (lcb_jsonrpc_call(&ans, aws, &lcb_jsonrpc_ssm, "PutParameter", request, NULL, err) < 0)
        return lcb_wrap(err, "put SSM parameter %s", name ? name : "?");
    if (version)
        *version = (long long)lcb_json_get_num(ans, "Version", 0);
    lcb_json_free(ans);
    return 0;
}

/* AddTagsToResource / RemoveTagsFromResource of a parameter with the list member key. */
static int
tag_call(struct lcb_aws *aws, const char *op, const char *name, const char *key,
         struct lcb_json *list, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *ans = NULL;
    int rc;

    lcb_json_add_str(in, "ResourceType", "Parameter");
    lcb_json_add_str(in, "ResourceId", name);
    lcb_json_add(in, key, list);
    rc = lcb_jsonrpc_call(&ans, aws, &lcb_jsonrpc_ssm, op, in, NULL, err);
    lcb_json_free(ans);
    lcb_json_free(in);
    return rc;
}

int
lcb_ssm_add_tags(struct lcb_aws *aws, const char *name, const struct lcb_json *tags,
                 struct lcb_err *err)
{
    if (tag_call(aws, "AddTagsToResource", name, "Tags", lcb_json_dup(tags), err) < 0)
        return lcb_wrap(err, "tag SSM parameter %s", name);
    return 0;
}

int
lcb_ssm_remove_tags(struct lcb_aws *aws, const char *name, const char *const *keys, size_t n,
                    struct lcb_err *err)
{
    struct lcb_json *list = lcb_json_new_array();
    size_t i;

    for (i = 0; i < n; i++)
        lcb_json_push(list, lcb_json_new_str(keys[i]));
    if (tag_call(aws, "RemoveTagsFromResource", name, "TagKeys", list, err) < 0)
        return lcb_wrap(err, "untag SSM parameter %s", name);
    return 0;
}

int
lcb_ssm_delete(struct lcb_aws *aws, const char *name, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *ans = NULL;
    int rc;

    lcb_json_add_str(in, "Name", name);
    rc = lcb_jsonrpc_call(&ans, aws, &lcb_jsonrpc_ssm, "DeleteParameter", in, NULL, err);
    lcb_json_free(ans);
    lcb_json_free(in);
    return rc < 0 ? lcb_wrap(err, "delete SSM parameter %s", name) : 0;
}
