/* config_diff_test.c - the field-level comparison of configurations (lib/config/diff.c): JSON
 * paths, keyed arrays, parameter fields and defaults, SecureString masking, what is left out for
 * task definitions and services, and both output forms. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/config/diff.h"
#include "../../lib/core/secret.h"
#include "harness.h"

static struct lcb_json *
js(const char *text)
{
    struct lcb_json *j = NULL;
    struct lcb_err err;

    if (lcb_json_parse(&j, text, strlen(text), &err) < 0) {
        fprintf(stderr, "bad test JSON: %s: %s\n", err.msg, text);
        abort();
    }
    return j;
}

static const struct lcb_diff_field *
field(const struct lcb_diff_item *it, const char *path)
{
    size_t i;

    for (i = 0; i < it->nfields; i++)
        if (strcmp(it->fields[i].path, path) == 0)
            return &it->fields[i];
    return NULL;
}

static const char *
fstr(const struct lcb_json *j)
{
    return j ? lcb_json_str(j) : "(absent)";
}

static void
test_json_paths(void)
{
    struct lcb_diff_item it;
    struct lcb_json *a = js("{\"a\":1,\"b\":{\"c\":\"x\",\"d\":[1,2]},\"gone\":true}");
    struct lcb_json *b = js("{\"a\":1,\"b\":{\"c\":\"y\",\"d\":[1,3,4]},\"new\":null}");

    memset(&it, 0, sizeof(it));
    CHECK_INT(lcb_config_json_diff(&it, "", a, b), 5);
    CHECK(field(&it, "b.c") != NULL);
    CHECK_STR(fstr(field(&it, "b.c")->to), "y");
    CHECK(field(&it, "b.d[1]") != NULL);
    CHECK(field(&it, "b.d[2]") && field(&it, "b.d[2]")->from == NULL);
    CHECK(field(&it, "gone") && field(&it, "gone")->to == NULL);
    CHECK(field(&it, "new") && field(&it, "new")->from == NULL);
    CHECK(field(&it, "a") == NULL);
    lcb_diff_item_release(&it);
    lcb_json_free(a);
    lcb_json_free(b);
}

static void
test_keyed_arrays(void)
{
    struct lcb_diff_item it;
    /* the same containers in another order, one image changed; tags by key */
    struct lcb_json *a =
        js("{\"containerDefinitions\":[{\"name\":\"web\",\"image\":\"w:1\"},"
           "{\"name\":\"db\",\"image\":\"d:1\"}],"
           "\"tags\":[{\"key\":\"A\",\"value\":\"1\"},{\"key\":\"B\",\"value\":\"2\"}]}");
    struct lcb_json *b =
        js("{\"containerDefinitions\":[{\"name\":\"db\",\"image\":\"d:2\"},"
           "{\"name\":\"web\",\"image\":\"w:1\"}],"
           "\"tags\":[{\"key\":\"B\",\"value\":\"2\"},{\"key\":\"C\",\"value\":\"3\"}]}");

    memset(&it, 0, sizeof(it));
    CHECK_INT(lcb_config_json_diff(&it, "", a, b), 3);
    CHECK(field(&it, "containerDefinitions[db].image") != NULL);
    CHECK_STR(fstr(field(&it, "containerDefinitions[db].image")->from), "d:1");
    CHECK(field(&it, "tags[A]") && field(&it, "tags[A]")->to == NULL);
    CHECK(field(&it, "tags[C]") && field(&it, "tags[C]")->from == NULL);
    lcb_diff_item_release(&it);
    lcb_json_free(a);
    lcb_json_free(b);
}

static struct lcb_config_param *
param(struct lcb_config *c, const char *name, const char *type, const char *value)
{
    struct lcb_config_param *p = lcb_config_param_add(c, name);

    p->type = strdup(type);
    lcb_config_param_set_value(p, value, strlen(value));
    return p;
}

static void
test_param_fields_and_masking(void)
{
    struct lcb_config a, b;
    struct lcb_config_param *x, *y;
    struct lcb_diff_item it;

    lcb_config_init(&a);
    lcb_config_init(&b);
    x = param(&a, "/p/s", "SecureString", "old-secret-value");
    y = param(&b, "/p/s", "SecureString", "new-secret-value");
    x->key_id = strdup("alias/aws/ssm");
    y->key_id = strdup("alias/other");
    lcb_config_param_tag(x, "Owner", "ops");
    lcb_config_param_tag(x, "Gone", "1");
    lcb_config_param_tag(y, "Owner", "dev");
    lcb_config_param_tag(y, "New", "2");
    /* absent tier and data type equal their defaults; versions never count */
    y->tier = strdup("Standard");
    y->data_type = strdup("text");
    y->version = 7;
    memset(&it, 0, sizeof(it));
    CHECK_INT(lcb_config_param_diff(&it, &a.params[0], &b.params[0], 0), 5);
    CHECK_STR(fstr(field(&it, "Value")->from), "***");
    CHECK_STR(fstr(field(&it, "Value")->to), "***");
    CHECK_STR(fstr(field(&it, "KeyId")->to), "alias/other");
    CHECK_STR(fstr(field(&it, "Tags.Owner")->to), "dev");
    CHECK(field(&it, "Tags.Gone")->to == NULL);
    CHECK(field(&it, "Tags.New")->from == NULL);
    CHECK(field(&it, "Tier") == NULL && field(&it, "DataType") == NULL);
    lcb_diff_item_release(&it);
    memset(&it, 0, sizeof(it));
    lcb_config_param_diff(&it, &a.params[0], &b.params[0], 1);
    CHECK_STR(fstr(field(&it, "Value")->to), "new-secret-value");
    lcb_diff_item_release(&it);
    lcb_config_release(&a);
    lcb_config_release(&b);
}

/* A config with one service running family:rev with the given image and desired count. */
static void
ecs_config(struct lcb_config *c, long rev, const char *image, int desired, const char *status)
{
    char buf[2048];

    snprintf(
        buf, sizeof(buf),
        "{\"taskDefinition\":{\"taskDefinitionArn\":\"arn:aws:ecs:r:1:task-definition/fam:%ld\","
        "\"family\":\"fam\",\"revision\":%ld,\"status\":\"ACTIVE\",\"registeredAt\":%ld,"
        "\"containerDefinitions\":[{\"name\":\"app\",\"image\":\"%s\"}]},"
        "\"tags\":[{\"key\":\"T\",\"value\":\"v\"}]}",
        rev, rev, 1700000000 + rev, image);
    lcb_config_taskdef_add(c, js(buf));
    snprintf(buf, sizeof(buf),
             "{\"serviceName\":\"svc\",\"serviceArn\":\"arn:aws:ecs:r:1:service/cl/svc\","
             "\"status\":\"%s\",\"desiredCount\":%d,\"runningCount\":%d,"
             "\"taskDefinition\":\"arn:aws:ecs:r:1:task-definition/fam:%ld\","
             "\"createdAt\":%ld,\"deployments\":[{\"id\":\"d%ld\"}],"
             "\"tags\":[{\"key\":\"S\",\"value\":\"1\"}]}",
             status, desired, desired - 1, rev, 1700000000 + rev, rev);
    lcb_config_service_add(c, "cl", "svc", js(buf));
}

static void
test_ecs_ignores_revisions_and_runtime(void)
{
    struct lcb_config a, b;
    struct lcb_config_diff d;

    lcb_config_init(&a);
    lcb_config_init(&b);
    ecs_config(&a, 3, "img:1", 2, "ACTIVE");
    ecs_config(&b, 9, "img:1", 2, "ACTIVE"); /* re-registered: other revision, times, counts */
    lcb_config_diff_init(&d);
    CHECK_INT(lcb_config_diff(&d, &a, &b, 0), 0);
    lcb_config_diff_release(&d);
    lcb_config_release(&b);
    lcb_config_init(&b);
    ecs_config(&b, 4, "img:2", 3, "ACTIVE");
    lcb_config_diff_init(&d);
    CHECK_INT(lcb_config_diff(&d, &a, &b, 0), 2);
    CHECK_STR(d.items[0].what, "task definition");
    CHECK_STR(d.items[0].note, "fam:3 -> fam:4");
    CHECK(field(&d.items[0], "containerDefinitions[app].image") != NULL);
    CHECK_STR(d.items[1].what, "service");
    CHECK_STR(d.items[1].name, "cl/svc");
    CHECK(field(&d.items[1], "desiredCount") != NULL);
    CHECK(field(&d.items[1], "runningCount") == NULL);
    CHECK(field(&d.items[1], "taskDefinition") == NULL);
    CHECK_INT(d.changed, 2);
    lcb_config_diff_release(&d);
    lcb_config_release(&a);
    lcb_config_release(&b);
}

static void
test_added_removed_and_output(void)
{
    struct lcb_config a, b;
    struct lcb_config_diff d;
    struct lcb_buf text = LCB_BUF_INIT, json = LCB_BUF_INIT;
    struct lcb_json *doc = NULL;
    struct lcb_err err;

    lcb_config_init(&a);
    lcb_config_init(&b);
    param(&a, "/p/gone", "String", "1");
    param(&a, "/p/same", "StringList", "a,b");
    param(&a, "/p/sec", "SecureString", "hunter2-secret");
    param(&b, "/p/same", "StringList", "a,b");
    param(&b, "/p/new", "String", "2");
    param(&b, "/p/sec", "SecureString", "hunter3-secret");
    ecs_config(&a, 1, "i", 1, "ACTIVE");
    lcb_config_sort(&a);
    lcb_config_sort(&b);
    lcb_config_diff_init(&d);
    CHECK_INT(lcb_config_diff(&d, &a, &b, 0), 5);
    CHECK_INT(d.added, 1);
    CHECK_INT(d.removed, 3); /* /p/gone, the task definition, the service */
    CHECK_INT(d.changed, 1);
    lcb_config_diff_text(&text, &d);
    CHECK(strstr(text.ptr, "- parameter /p/gone (String)\n") != NULL);
    CHECK(strstr(text.ptr, "+ parameter /p/new (String)\n") != NULL);
    CHECK(strstr(text.ptr, "~ parameter /p/sec\n    Value: \"***\" -> \"***\"\n") != NULL);
    CHECK(strstr(text.ptr, "- service cl/svc\n") != NULL);
    CHECK(strstr(text.ptr, "5 differences: 1 added, 3 removed, 1 changed\n") != NULL);
    CHECK(strstr(text.ptr, "hunter") == NULL);
    lcb_config_diff_json(&json, &d);
    CHECK(strstr(json.ptr, "hunter") == NULL);
    CHECK_INT(lcb_json_parse(&doc, json.ptr, json.len, &err), 0);
    CHECK_INT(lcb_json_bool(lcb_json_get(doc, "equal"), 1), 0);
    CHECK_INT(lcb_json_size(lcb_json_get(doc, "items")), 5);
    CHECK_STR(lcb_json_get_str(lcb_json_at(lcb_json_get(doc, "items"), 0), "change"), "removed");
    lcb_json_free(doc);
    lcb_config_diff_release(&d);
    lcb_buf_reset(&text);
    lcb_config_diff_init(&d);
    CHECK_INT(lcb_config_diff(&d, &b, &b, 0), 0);
    lcb_config_diff_text(&text, &d);
    CHECK_STR(text.ptr, "no differences\n");
    lcb_config_diff_release(&d);
    lcb_buf_release(&text);
    lcb_buf_release(&json);
    lcb_config_release(&a);
    lcb_config_release(&b);
}

static void
test_long_values_cut_in_text_only(void)
{
    struct lcb_config a, b;
    struct lcb_config_diff d;
    struct lcb_buf text = LCB_BUF_INIT, json = LCB_BUF_INIT;
    char big[400];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    lcb_config_init(&a);
    lcb_config_init(&b);
    param(&a, "/p/big", "String", big);
    param(&b, "/p/big", "String", "small");
    lcb_config_diff_init(&d);
    lcb_config_diff(&d, &a, &b, 0);
    lcb_config_diff_text(&text, &d);
    lcb_config_diff_json(&json, &d);
    CHECK(strstr(text.ptr, "xxx...") != NULL);
    CHECK(strstr(text.ptr, big) == NULL);
    CHECK(strstr(json.ptr, big) != NULL);
    lcb_config_diff_release(&d);
    lcb_buf_release(&text);
    lcb_buf_release(&json);
    lcb_config_release(&a);
    lcb_config_release(&b);
}

int
main(void)
{
    RUN(test_json_paths);
    RUN(test_keyed_arrays);
    RUN(test_param_fields_and_masking);
    RUN(test_ecs_ignores_revisions_and_runtime);
    RUN(test_added_removed_and_output);
    RUN(test_long_values_cut_in_text_only);
    return harness_done();
}
