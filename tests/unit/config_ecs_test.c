/* config_ecs_test.c - the ECS client (lib/aws/ecs.c) on a scripted transport: ListServices pages
 * of 100 until there is no nextToken, DescribeServices 10 names at a time with failures kept
 * apart, DescribeTaskDefinition with tags (missing: not found), and which writes may be
 * retried blindly. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/aws/ecs.h"
#include "../../lib/ext/json.h"
#include "aws_mock.h"
#include "harness.h"

/* The recorded request body of call i, parsed (caller frees). */
static struct lcb_json *
body(int i)
{
    struct lcb_json *j = NULL;
    struct lcb_err err;

    lcb_json_parse(&j, mock_calls[i].body.ptr ? mock_calls[i].body.ptr : "", mock_calls[i].body.len,
                   &err);
    return j;
}

static void
test_list_services_pages(void)
{
    struct lcb_strlist arns = LCB_STRLIST_INIT;
    struct lcb_json *b;
    struct lcb_err err;

    mock_reset();
    mock_reply(200, NULL, "{\"serviceArns\":[\"arn:s/a\",\"arn:s/b\"],\"nextToken\":\"t1\"}");
    mock_reply(200, NULL, "{\"serviceArns\":[],\"nextToken\":\"t2\"}");
    mock_reply(200, NULL, "{\"serviceArns\":[\"arn:s/c\"]}");
    CHECK_INT(lcb_ecs_list_services(&arns, NULL, "legocity-cluster", &err), 0);
    CHECK_INT(arns.n, 3);
    CHECK_STR(arns.items[2], "arn:s/c");
    CHECK_INT(mock_ncalls, 3);
    CHECK_STR(mock_header(&mock_calls[0], "X-Amz-Target"),
              "AmazonEC2ContainerServiceV20141113.ListServices");
    b = body(0);
    CHECK_INT((int)lcb_json_get_num(b, "maxResults", 0), 100);
    CHECK_STR(lcb_json_get_str(b, "cluster"), "legocity-cluster");
    CHECK(lcb_json_get(b, "nextToken") == NULL);
    lcb_json_free(b);
    b = body(2);
    CHECK_STR(lcb_json_get_str(b, "nextToken"), "t2");
    lcb_json_free(b);
    lcb_strlist_release(&arns);
    /* a token handed back twice is a loop, not a listing */
    mock_reset();
    mock_reply(200, NULL, "{\"serviceArns\":[\"x\"],\"nextToken\":\"same\"}");
    mock_reply(200, NULL, "{\"serviceArns\":[\"x\"],\"nextToken\":\"same\"}");
    CHECK_INT(lcb_ecs_list_services(&arns, NULL, "c", &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_strlist_release(&arns);
    mock_reset();
}

static void
test_describe_services_batches(void)
{
    char *names[23];
    char buf[64];
    struct lcb_json *svcs = NULL, *fails = NULL, *b;
    struct lcb_err err;
    int i;

    mock_reset();
    for (i = 0; i < 23; i++) {
        snprintf(buf, sizeof(buf), "svc%02d", i);
        names[i] = strdup(buf);
    }
    mock_reply(200, NULL,
               "{\"services\":[{\"serviceName\":\"svc00\"}],\"failures\":["
               "{\"arn\":\"arn:x/svc01\",\"reason\":\"MISSING\"}]}");
    mock_reply(200, NULL, "{\"services\":[{\"serviceName\":\"svc10\"}],\"failures\":[]}");
    mock_reply(200, NULL,
               "{\"services\":[{\"serviceName\":\"svc20\"},{\"serviceName\":\"svc22\"}]}");
    CHECK_INT(
        lcb_ecs_describe_services(&svcs, &fails, NULL, "cl", (const char *const *)names, 23, &err),
        0);
    CHECK_INT(mock_ncalls, 3);
    b = body(0);
    CHECK_INT(lcb_json_size(lcb_json_get(b, "services")), 10);
    CHECK_STR(lcb_json_str(lcb_json_at(lcb_json_get(b, "include"), 0)), "TAGS");
    lcb_json_free(b);
    b = body(2);
    CHECK_INT(lcb_json_size(lcb_json_get(b, "services")), 3);
    CHECK_STR(lcb_json_str(lcb_json_at(lcb_json_get(b, "services"), 0)), "svc20");
    lcb_json_free(b);
    CHECK_INT(lcb_json_size(svcs), 4);
    CHECK_INT(lcb_json_size(fails), 1);
    CHECK_STR(lcb_json_get_str(lcb_json_at(fails, 0), "reason"), "MISSING");
    lcb_json_free(svcs);
    lcb_json_free(fails);
    /* a missing cluster is an error, not an empty answer */
    mock_reset();
    mock_reply(400, NULL,
               "{\"__type\":\"ClusterNotFoundException\",\"message\":\"Cluster not found.\"}");
    CHECK_INT(
        lcb_ecs_describe_services(&svcs, NULL, NULL, "nope", (const char *const *)names, 1, &err),
        -1);
    CHECK(svcs == NULL);
    CHECK_STR(err.aws_code, "ClusterNotFoundException");
    for (i = 0; i < 23; i++)
        free(names[i]);
    mock_reset();
}

static void
test_task_definitions(void)
{
    struct lcb_json *doc = NULL, *req, *td = NULL;
    struct lcb_err err;

    mock_reset();
    mock_reply(200, NULL, "{\"taskDefinition\":{\"family\":\"f\",\"revision\":2}}");
    CHECK_INT(lcb_ecs_describe_task_definition(&doc, NULL, "f:2", &err), 0);
    CHECK(lcb_json_get(doc, "tags") != NULL); /* always there, maybe empty */
    CHECK_INT(lcb_json_size(lcb_json_get(doc, "tags")), 0);
    lcb_json_free(doc);
    mock_reply(400, NULL,
               "{\"__type\":\"ClientException\",\"message\":\"Unable to describe task "
               "definition.\"}");
    CHECK_INT(lcb_ecs_describe_task_definition(&doc, NULL, "gone:1", &err), -1);
    CHECK_INT(err.code, LCB_ENOTFOUND);
    /* register: no client token, so never retried blindly; create with a token: may be */
    req = lcb_json_new_object();
    lcb_json_add_str(req, "family", "f");
    mock_reply(200, NULL, "{\"taskDefinition\":{\"family\":\"f\",\"revision\":3}}");
    CHECK_INT(lcb_ecs_register_task_definition(&td, NULL, req, &err), 0);
    CHECK_INT((int)lcb_json_get_num(td, "revision", 0), 3);
    CHECK_INT(mock_calls[mock_ncalls - 1].no_blind_retry, 1);
    lcb_json_free(td);
    lcb_json_free(req);
    req = lcb_json_new_object();
    lcb_json_add_str(req, "serviceName", "s");
    lcb_json_add_str(req, "clientToken", "abc");
    mock_reply(200, NULL, "{\"service\":{\"serviceName\":\"s\"}}");
    CHECK_INT(lcb_ecs_create_service(&td, NULL, req, &err), 0);
    CHECK_INT(mock_calls[mock_ncalls - 1].no_blind_retry, 0);
    lcb_json_free(td);
    /* an answer without the object asked for */
    mock_reply(200, NULL, "{}");
    CHECK_INT(lcb_ecs_create_service(&td, NULL, req, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_json_free(req);
    mock_reset();
}

int
main(void)
{
    RUN(test_list_services_pages);
    RUN(test_describe_services_batches);
    RUN(test_task_definitions);
    mock_reset();
    return harness_done();
}
