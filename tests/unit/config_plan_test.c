/* config_plan_test.c - the restore planners (lib/config/plan.c) and the ECS request builders
 * (lib/aws/ecs.c): only what differs is changed, with the calls SSM and ECS accept. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/aws/ecs.h"
#include "../../lib/config/plan.h"
#include "../../lib/core/log.h"
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

static struct lcb_config_param *
param(struct lcb_config *c, const char *name, const char *type, const char *value)
{
    struct lcb_config_param *p = lcb_config_param_add(c, name);

    p->type = strdup(type);
    lcb_config_param_set_value(p, value, strlen(value));
    return p;
}

static const struct lcb_ssm_step *
step(const struct lcb_ssm_plan *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        if (strcmp(p->steps[i].name, name) == 0)
            return &p->steps[i];
    return NULL;
}

static void
test_maps(void)
{
    struct lcb_ssm_map m[2];
    struct lcb_buf out = LCB_BUF_INIT;
    struct lcb_err err;
    struct lcb_config c;
    struct lcb_strlist roots = LCB_STRLIST_INIT;

    CHECK_INT(lcb_ssm_map_parse(&m[0], "/legocity/prod/=/legocity/dev/", &err), 0);
    CHECK_INT(lcb_ssm_map_parse(&m[1], "prod=dev", &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_ssm_map_name(&out, "/legocity/prod/payload/secret", m, 1), 1);
    CHECK_STR(out.ptr, "/legocity/dev/payload/secret");
    CHECK_INT(lcb_ssm_map_name(&out, "/legocity/production/x", m, 1), 0);
    CHECK_STR(out.ptr, "/legocity/production/x");
    m[1].from = "/a/b";
    m[1].to = "/c/";
    CHECK_INT(lcb_ssm_map_name(&out, "/a/b/x", &m[1], 1), 1);
    CHECK_STR(out.ptr, "/c/x");
    CHECK_INT(lcb_ssm_map_name(&out, "/a/bx", &m[1], 1), 0);
    lcb_config_init(&c);
    lcb_strlist_add(&c.paths, "/legocity/prod/");
    lcb_ssm_plan_roots(&roots, &c, NULL, m, 1);
    CHECK_INT(roots.n, 1);
    CHECK_STR(roots.items[0], "/legocity/dev/");
    lcb_strlist_release(&roots);
    lcb_ssm_plan_roots(&roots, &c, NULL, NULL, 0);
    CHECK_STR(roots.items[0], "/legocity/prod/");
    lcb_strlist_release(&roots);
    lcb_config_release(&c);
    lcb_buf_release(&out);
}

static void
test_ssm_plan_ops(void)
{
    struct lcb_config a, l;
    struct lcb_ssm_plan p;
    struct lcb_config_param *x;
    const struct lcb_ssm_step *s;
    struct lcb_err err;

    lcb_config_init(&a);
    lcb_config_init(&l);
    param(&a, "/e/missing", "String", "m");
    param(&a, "/e/same", "String", "s");
    param(&l, "/e/same", "String", "s")->version = 9; /* versions never count */
    param(&a, "/e/value", "String", "new");
    param(&l, "/e/value", "String", "old");
    x = param(&a, "/e/tags", "String", "t");
    lcb_config_param_tag(x, "Owner", "ops");
    x = param(&l, "/e/tags", "String", "t");
    lcb_config_param_tag(x, "Owner", "dev");
    lcb_config_param_tag(x, "Extra", "1");
    param(&a, "/e/type", "SecureString", "was-secure");
    param(&l, "/e/type", "String", "was-secure");
    param(&a, "/e/tier", "String", "v")->tier = strdup("Standard");
    param(&l, "/e/tier", "String", "v")->tier = strdup("Advanced");
    param(&l, "/e/other", "String", "kept");
    param(&a, "/f/outside", "String", "x");
    lcb_ssm_plan_init(&p);
    CHECK_INT(lcb_ssm_plan_build(&p, &a, &l, "/e/", NULL, 0, &err), 0);
    CHECK_INT(p.n, 5);
    CHECK_INT(p.unchanged, 1);
    CHECK(step(&p, "/f/outside") == NULL);
    CHECK_INT(step(&p, "/e/missing")->op, LCB_SSM_CREATE);
    s = step(&p, "/e/value");
    CHECK_INT(s->op, LCB_SSM_OVERWRITE);
    CHECK_STR(s->why, "Value");
    CHECK(s->put && !s->tag && s->untag.n == 0);
    s = step(&p, "/e/tags");
    CHECK_INT(s->op, LCB_SSM_RETAG);
    CHECK(!s->put && s->tag);
    CHECK_INT(s->untag.n, 1);
    CHECK_STR(s->untag.items[0], "Extra");
    CHECK_INT(step(&p, "/e/type")->op, LCB_SSM_REPLACE);
    CHECK_INT(step(&p, "/e/tier")->op, LCB_SSM_REPLACE);
    CHECK_INT(p.extra.n, 1);
    CHECK_STR(p.extra.items[0], "/e/other");
    lcb_ssm_plan_release(&p);
    lcb_config_release(&a);
    lcb_config_release(&l);
}

static void
test_ssm_requests_and_masking(void)
{
    struct lcb_config a, l;
    struct lcb_ssm_plan p;
    struct lcb_ssm_map m = {"/prod/", "/dev/"};
    struct lcb_config_param *x;
    struct lcb_json *req;
    struct lcb_buf calls = LCB_BUF_INIT;
    struct lcb_err err;

    lcb_config_init(&a);
    lcb_config_init(&l);
    x = param(&a, "/prod/db", "SecureString", "s3cr3t-password");
    x->key_id = strdup("alias/legocity-backups");
    x->tier = strdup("Advanced");
    lcb_config_param_tag(x, "Project", "legocity");
    x = param(&a, "/prod/url", "String", "https://x");
    x = param(&l, "/dev/url", "String", "https://y");
    x->description = strdup("live only");
    param(&a, "/other/z", "String", "not mapped");
    lcb_ssm_plan_init(&p);
    CHECK_INT(lcb_ssm_plan_build(&p, &a, &l, NULL, &m, 1, &err), 0);
    CHECK_INT(p.n, 2);
    CHECK(step(&p, "/other/z") == NULL);
    /* a create carries tags and the KeyId */
    req = lcb_ssm_put_request(step(&p, "/dev/db"), 0);
    CHECK_STR(lcb_json_get_str(req, "Name"), "/dev/db");
    CHECK_STR(lcb_json_get_str(req, "KeyId"), "alias/legocity-backups");
    CHECK_STR(lcb_json_get_str(req, "Tier"), "Advanced");
    CHECK_INT(lcb_json_bool(lcb_json_get(req, "Overwrite"), 1), 0);
    CHECK_INT(lcb_json_size(lcb_json_get(req, "Tags")), 1);
    lcb_json_free(req);
    /* an overwrite never carries tags, clears a description the backup does not have, and a
     * String has no KeyId */
    req = lcb_ssm_put_request(step(&p, "/dev/url"), 1);
    CHECK(lcb_json_get(req, "Tags") == NULL);
    CHECK(lcb_json_get(req, "KeyId") == NULL);
    CHECK_STR(lcb_json_get_str(req, "Description"), "");
    CHECK_INT(lcb_json_bool(lcb_json_get(req, "Overwrite"), 0), 1);
    lcb_json_free(req);
    lcb_ssm_step_calls(&calls, step(&p, "/dev/db"));
    CHECK(strstr(calls.ptr, "PutParameter {") != NULL);
    CHECK(strstr(calls.ptr, "\"Value\":\"***\"") != NULL);
    CHECK(strstr(calls.ptr, "s3cr3t") == NULL);
    lcb_buf_reset(&calls);
    lcb_ssm_step_calls(&calls, step(&p, "/dev/url"));
    CHECK(strstr(calls.ptr, "\"Value\":\"https://x\"") != NULL);
    lcb_buf_release(&calls);
    lcb_ssm_plan_release(&p);
    lcb_config_release(&a);
    lcb_config_release(&l);
}

static void
test_register_request(void)
{
    struct lcb_json *td =
        js("{\"taskDefinitionArn\":\"arn:x\",\"revision\":3,\"status\":\"ACTIVE\","
           "\"family\":\"f\",\"compatibilities\":[\"EC2\"],\"registeredAt\":1,"
           "\"registeredBy\":\"me\",\"requiresAttributes\":[],\"cpu\":\"256\","
           "\"containerDefinitions\":[{\"name\":\"c\",\"image\":\"i\","
           "\"repositoryCredentials\":{\"credentialsParameter\":\"\"}}]}");
    struct lcb_json *empty = js("[]"), *tags = js("[{\"key\":\"k\",\"value\":\"v\"}]"), *req;
    const char *const *k;

    req = lcb_ecs_register_request(td, empty);
    for (k = lcb_ecs_taskdef_read_only; *k; k++)
        CHECK(lcb_json_get(req, *k) == NULL);
    CHECK(lcb_json_get(req, "tags") == NULL); /* ECS refuses "tags": [] */
    CHECK_STR(lcb_json_get_str(req, "cpu"), "256");
    CHECK(lcb_json_get(lcb_json_at(lcb_json_get(req, "containerDefinitions"), 0),
                       "repositoryCredentials") == NULL);
    lcb_json_free(req);
    req = lcb_ecs_register_request(td, tags);
    CHECK_INT(lcb_json_size(lcb_json_get(req, "tags")), 1);
    lcb_json_free(req);
    lcb_json_free(td);
    lcb_json_free(empty);
    lcb_json_free(tags);
}

static void
test_create_request(void)
{
    struct lcb_json *svc = js(
        "{\"serviceName\":\"s\",\"serviceArn\":\"arn:s\",\"clusterArn\":\"arn:c\",\"status\":"
        "\"ACTIVE\","
        "\"desiredCount\":2,\"runningCount\":2,\"launchType\":\"FARGATE\",\"platformVersion\":"
        "\"LATEST\","
        "\"capacityProviderStrategy\":[],\"loadBalancers\":[],\"healthCheckGracePeriodSeconds\":0,"
        "\"roleArn\":\"arn:aws:iam::1:role/aws-service-role/ecs.amazonaws.com/"
        "AWSServiceRoleForECS\","
        "\"networkConfiguration\":{\"awsvpcConfiguration\":{\"subnets\":[\"subnet-1\"]}},"
        "\"deployments\":[{\"status\":\"PRIMARY\",\"serviceConnectConfiguration\":{\"enabled\":"
        "false}}],"
        "\"events\":[],\"createdAt\":1,\"tags\":[{\"key\":\"k\",\"value\":\"v\"}]}");
    struct lcb_json *req = lcb_ecs_create_request(svc, "cl", "fam:4", "tok");
    char name[64];

    CHECK_STR(lcb_json_get_str(req, "cluster"), "cl");
    CHECK_STR(lcb_json_get_str(req, "taskDefinition"), "fam:4");
    CHECK_STR(lcb_json_get_str(req, "launchType"), "FARGATE");
    CHECK_STR(lcb_json_get_str(req, "clientToken"), "tok");
    CHECK(lcb_json_get(req, "capacityProviderStrategy") == NULL);
    CHECK(lcb_json_get(req, "role") == NULL);
    CHECK(lcb_json_get(req, "roleArn") == NULL);
    CHECK(lcb_json_get(req, "healthCheckGracePeriodSeconds") == NULL);
    CHECK(lcb_json_get(req, "serviceArn") == NULL && lcb_json_get(req, "runningCount") == NULL);
    CHECK(lcb_json_get(req, "deployments") == NULL && lcb_json_get(req, "status") == NULL);
    CHECK(lcb_json_get(req, "serviceConnectConfiguration") != NULL);
    CHECK_INT(lcb_json_size(lcb_json_get(req, "tags")), 1);
    lcb_json_free(req);
    lcb_json_free(svc);
    /* a capacity provider strategy means no launch type */
    svc = js("{\"serviceName\":\"s\",\"launchType\":\"EC2\",\"capacityProviderStrategy\":"
             "[{\"capacityProvider\":\"FARGATE\",\"weight\":1}],\"roleArn\":\"arn:aws:iam::1:role/"
             "mine\","
             "\"tags\":[]}");
    req = lcb_ecs_create_request(svc, "cl", "fam:1", NULL);
    CHECK(lcb_json_get(req, "launchType") == NULL);
    CHECK_INT(lcb_json_size(lcb_json_get(req, "capacityProviderStrategy")), 1);
    CHECK_STR(lcb_json_get_str(req, "role"), "arn:aws:iam::1:role/mine");
    CHECK(lcb_json_get(req, "tags") == NULL && lcb_json_get(req, "clientToken") == NULL);
    lcb_json_free(req);
    lcb_json_free(svc);
    lcb_ecs_service_name("arn:aws:ecs:r:1:service/cl/web", name, sizeof(name));
    CHECK_STR(name, "web");
    lcb_ecs_service_name("web", name, sizeof(name));
    CHECK_STR(name, "web");
}

/* An ECS config: a task definition fam:rev with image, a service running it. */
static void
ecs(struct lcb_config *c, const char *svc, long rev, const char *image, int desired,
    const char *status, const char *tag)
{
    char buf[1024];

    snprintf(buf, sizeof(buf),
             "{\"taskDefinition\":{\"taskDefinitionArn\":\"arn:td/fam:%ld\",\"family\":\"fam\","
             "\"revision\":%ld,\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"%s\"}]},"
             "\"tags\":[]}",
             rev, rev, image);
    lcb_config_taskdef_add(c, js(buf));
    if (!svc)
        return;
    snprintf(buf, sizeof(buf),
             "{\"serviceName\":\"%s\",\"serviceArn\":\"arn:svc/%s\",\"status\":\"%s\","
             "\"desiredCount\":%d,\"taskDefinition\":\"arn:td/fam:%ld\",\"launchType\":\"FARGATE\","
             "\"tags\":[{\"key\":\"T\",\"value\":\"%s\"}]}",
             svc, svc, status, desired, rev, tag);
    lcb_config_service_add(c, "cl", svc, js(buf));
}

static void
test_svc_plan(void)
{
    struct lcb_config a, l;
    struct lcb_svc_plan p;
    struct lcb_strlist only = LCB_STRLIST_INIT;
    struct lcb_json *req;
    struct lcb_err err;
    struct lcb_buf calls = LCB_BUF_INIT;

    lcb_config_init(&a);
    lcb_config_init(&l);
    ecs(&a, "same", 2, "img:2", 1, "ACTIVE", "x");
    ecs(&a, "gone", 2, "img:2", 1, "ACTIVE", "x");
    ecs(&a, "drift", 2, "img:2", 3, "ACTIVE", "x");
    ecs(&l, "same", 7, "img:2", 1, "ACTIVE", "x"); /* same content, another revision */
    ecs(&l, "drift", 5, "img:1", 1, "ACTIVE", "y");
    ecs(&l, "gone", 7, "img:2", 1, "DRAINING", "x");
    lcb_svc_plan_init(&p);
    CHECK_INT(lcb_svc_plan_build(&p, &a, &l, NULL, NULL, NULL, &err), 0);
    CHECK_INT(p.n, 3);
    CHECK_STR(p.steps[0].src->name, "same");
    CHECK_INT(p.steps[0].op, LCB_SVC_UNCHANGED);
    CHECK_STR(p.steps[0].reuse_td, "arn:td/fam:7");
    CHECK_INT(p.steps[1].op, LCB_SVC_SKIP); /* gone: still DRAINING */
    CHECK(p.steps[1].blocked);
    CHECK_INT(p.steps[2].op, LCB_SVC_UPDATE);
    CHECK(p.steps[2].td_change);
    CHECK_STR(p.steps[2].reuse_td, "arn:td/fam:7"); /* the live fam:7 equals the archived fam:2 */
    CHECK_STR(p.steps[2].why, "task definition, desiredCount, tags");
    CHECK_INT(lcb_json_size(p.steps[2].tag), 1);
    req = lcb_svc_update_request(&p.steps[2], "arn:td/fam:7");
    CHECK_STR(lcb_json_get_str(req, "service"), "drift");
    CHECK_INT((int)lcb_json_get_num(req, "desiredCount", 0), 3);
    CHECK_STR(lcb_json_get_str(req, "taskDefinition"), "arn:td/fam:7");
    lcb_json_free(req);
    lcb_svc_step_calls(&calls, &p.steps[2]);
    CHECK(strstr(calls.ptr, "UpdateService {") != NULL);
    CHECK(strstr(calls.ptr, "TagResource {\"resourceArn\":\"arn:svc/drift\"") != NULL);
    CHECK(strstr(calls.ptr, "RegisterTaskDefinition") == NULL);
    lcb_svc_plan_release(&p);
    lcb_buf_release(&calls);
    /* an emptied cluster: everything created, each task definition registered again */
    lcb_config_release(&l);
    lcb_config_init(&l);
    ecs(&l, NULL, 9, "img:other", 0, NULL, NULL);
    lcb_svc_plan_init(&p);
    lcb_strlist_add(&only, "gone");
    CHECK_INT(lcb_svc_plan_build(&p, &a, &l, NULL, "other-cluster", &only, &err), 0);
    CHECK_INT(p.n, 1);
    CHECK_INT(p.steps[0].op, LCB_SVC_CREATE);
    CHECK_STR(p.steps[0].cluster, "other-cluster");
    CHECK(p.steps[0].reuse_td == NULL);
    lcb_svc_step_calls(&calls, &p.steps[0]);
    CHECK(strstr(calls.ptr, "RegisterTaskDefinition {") != NULL);
    CHECK(strstr(calls.ptr, "CreateService {\"cluster\":\"other-cluster\",\"taskDefinition\":"
                            "\"<registered>\"") != NULL);
    lcb_svc_plan_release(&p);
    lcb_strlist_release(&only);
    lcb_strlist_add(&only, "nope");
    lcb_svc_plan_init(&p);
    CHECK_INT(lcb_svc_plan_build(&p, &a, &l, NULL, NULL, &only, &err), -1);
    CHECK_INT(err.code, LCB_ENOTFOUND);
    lcb_svc_plan_release(&p);
    lcb_strlist_release(&only);
    lcb_buf_release(&calls);
    lcb_config_release(&a);
    lcb_config_release(&l);
}

/* The tally shared by the SSM, ECS and secrets restores: each change recorded and reported, the
 * detail the catalog keeps, the summary line. */
static void
test_tally(void)
{
    static const struct lcb_restore_count counts[] = {
        { "registered", "task definitions registered" }, { "created", NULL }, { "failed", NULL },
    };
    struct lcb_restore_tally t;
    struct lcb_strlist kept = LCB_STRLIST_INIT;
    struct lcb_buf out = LCB_BUF_INIT;
    struct lcb_err err;
    char *text = NULL, *log = NULL;
    size_t len = 0, loglen = 0;
    FILE *f = open_memstream(&text, &len), *lf = open_memstream(&log, &loglen);

    lcb_log_setup(LCB_INFO, LCB_LOG_JSON, lf);
    lcb_restore_tally_init(&t);
    lcb_restore_tally_record(&t, f, "test.restore.failed", "created", "/a", "String", NULL);
    lcb_restore_tally_record(&t, f, "test.restore.failed", "updated", "/b", NULL, NULL);
    lcb_err_set(&err, LCB_EREFUSED, "refused");
    lcb_restore_tally_record(&t, f, "test.restore.failed", "update", "/c", NULL, &err);
    fclose(f);
    fclose(lf);
    lcb_log_setup(LCB_INFO, LCB_LOG_TEXT, stderr);
    CHECK_STR(text, "created /a (String)\nupdated /b\nFAILED update /c: refused\n");
    CHECK(strstr(log, "\"event\":\"test.restore.failed\"") != NULL);
    CHECK_INT(t.failed, 1);
    t.created = 1;
    t.registered = 2;
    lcb_restore_tally_summary(&out, &t, "restore-1", counts, 3);
    CHECK_STR(lcb_buf_str(&out), "restore-1: 2 task definitions registered, 1 created, 1 failed\n");
    lcb_strlist_add(&kept, "/d");
    lcb_restore_tally_fill(&t, "restore-1", "config-1", counts, 3, &kept);
    lcb_buf_reset(&out);
    lcb_json_print(&out, t.detail, 0);
    CHECK_STR(lcb_buf_str(&out),
              "{\"changes\":[{\"name\":\"/a\",\"action\":\"created\",\"status\":\"ok\"},"
              "{\"name\":\"/b\",\"action\":\"updated\",\"status\":\"ok\"},"
              "{\"name\":\"/c\",\"action\":\"update\",\"status\":\"failed\","
              "\"error\":\"refused\"}],\"restore_id\":\"restore-1\",\"backup_id\":\"config-1\","
              "\"registered\":2,\"created\":1,\"failed\":1,\"kept\":[\"/d\"]}");
    lcb_restore_tally_release(&t);
    /* no restore_id, no kept list: only the backup and the counts */
    lcb_restore_tally_init(&t);
    lcb_restore_tally_fill(&t, NULL, "config-1", counts + 2, 1, NULL);
    lcb_buf_reset(&out);
    lcb_json_print(&out, t.detail, 0);
    CHECK_STR(lcb_buf_str(&out), "{\"changes\":[],\"backup_id\":\"config-1\",\"failed\":0}");
    lcb_restore_tally_release(&t);
    lcb_strlist_release(&kept);
    lcb_buf_release(&out);
    free(text);
    free(log);
}

int
main(void)
{
    RUN(test_maps);
    RUN(test_ssm_plan_ops);
    RUN(test_ssm_requests_and_masking);
    RUN(test_register_request);
    RUN(test_create_request);
    RUN(test_svc_plan);
    RUN(test_tally);
    return harness_done();
}
