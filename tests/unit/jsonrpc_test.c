/* jsonrpc_test.c - JSON 1.1: the request (target, content type, body), __type trimming, error
 * parsing from body and header, token pagination, and the KMS client on top. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/aws/jsonrpc.h"
#include "../../lib/aws/kms.h"
#include "../../lib/core/buf.h"
#include "../../lib/core/err.h"
#include "../../lib/ext/json.h"
#include "aws_mock.h"
#include "harness.h"

static void
test_error_code_trimming(void)
{
    static const char *cases[][2] = {
        { "ParameterNotFound", "ParameterNotFound" },
        { "com.amazonaws.ssm#ParameterNotFound", "ParameterNotFound" },
        { "com.amazonaws.kms#NotFoundException", "NotFoundException" },
        { "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/",
          "ThrottlingException" },
        { "aws.protocoltests#Weird#ValidationException:http://x#y", "ValidationException" },
        { "", "" },
    };
    char code[64];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lcb_jsonrpc_error_code(cases[i][0], code, sizeof(code));
        CHECK_STR(code, cases[i][1]);
    }
    lcb_jsonrpc_error_code("abcdefghijklmnopqrstuvwxyz", code, 8); /* truncated, terminated */
    CHECK_STR(code, "abcdefg");
}

static int
parse_err(const char *fixture, const char *body, const char *hdr_name, const char *hdr_value,
          struct lcb_aws_error *e)
{
    struct lcb_aws_resp resp;
    int rc;

    memset(e, 0, sizeof(*e));
    lcb_aws_resp_init(&resp);
    if (fixture)
        fixture_load(&resp.body, fixture);
    else if (body)
        lcb_buf_adds(&resp.body, body);
    if (hdr_name) {
        resp.headers.names = lcb_xmalloc(2 * sizeof(char *));
        resp.headers.values = lcb_xmalloc(2 * sizeof(char *));
        resp.headers.names[0] = lcb_xstrdup(hdr_name);
        resp.headers.values[0] = lcb_xstrdup(hdr_value);
        resp.headers.names[1] = lcb_xstrdup("x-amzn-RequestId");
        resp.headers.values[1] = lcb_xstrdup("req-7");
        resp.headers.n = 2;
    }
    rc = lcb_jsonrpc_parse_error(&resp, e);
    lcb_aws_resp_release(&resp);
    return rc;
}

static void
test_error_parsing(void)
{
    struct lcb_aws_error e;

    CHECK_INT(parse_err("json-ssm-not-found.json", NULL, NULL, NULL, &e), 1);
    CHECK_STR(e.code, "ParameterNotFound");
    CHECK_STR(e.message, "Parameter /app/prod/nope not found.");
    CHECK_INT(parse_err("json-kms-not-found.json", NULL, NULL, NULL, &e), 1);
    CHECK_STR(e.code, "NotFoundException");
    CHECK(strncmp(e.message, "Key 'arn:aws:kms:", 17) == 0); /* "Message" spelling */
    CHECK_INT(parse_err("json-throttling.json", NULL, NULL, NULL, &e), 1);
    CHECK_STR(e.code, "ThrottlingException");
    CHECK_STR(e.message, "Rate exceeded");
    CHECK_INT(parse_err("json-ecs-access-denied.json", NULL, "x-amzn-ErrorType", "Other", &e), 1);
    CHECK_STR(e.code, "AccessDeniedException"); /* the body wins over the header */
    CHECK_STR(e.request_id, "req-7");
    CHECK_INT(parse_err("json-kms-invalid-ciphertext.json", NULL, NULL, NULL, &e), 1);
    CHECK_STR(e.code, "InvalidCiphertextException");
    CHECK_STR(e.message, "");
    /* no body: the header names the error */
    CHECK_INT(parse_err(NULL, NULL, "x-amzn-ErrorType",
                        "ServiceUnavailableException:http://internal.amazon.com/", &e), 1);
    CHECK_STR(e.code, "ServiceUnavailableException");
    /* an HTML gateway page, an object without __type, nothing at all: not an AWS error */
    CHECK_INT(parse_err(NULL, "<html>502</html>", NULL, NULL, &e), 0);
    CHECK_INT(parse_err(NULL, "{\"message\":\"x\"}", NULL, NULL, &e), 0);
    CHECK_INT(parse_err(NULL, "", NULL, NULL, &e), 0);
}

static void
test_call(void)
{
    struct lcb_json *in = lcb_json_new_object(), *out = NULL;
    struct lcb_jsonrpc_opts opts = { "us-east-1", NULL, 1, 5 };
    struct lcb_err err;
    char msg[1024];

    mock_reset();
    mock_reply(200, "x-amzn-RequestId: r1\n",
               "{\"Parameter\":{\"Name\":\"/app/x\",\"Value\":\"v\",\"Version\":3}}");
    mock_reply(200, NULL, "");
    mock_reply(200, NULL, "[1,2]");
    mock_reply(200, NULL, "{\"a\":");
    mock_reply_fixture(400, NULL, "json-ssm-not-found.json");
    lcb_json_add_str(in, "Name", "/app/x");
    lcb_json_add_bool(in, "WithDecryption", 1);
    CHECK_INT(lcb_jsonrpc_call(&out, NULL, &lcb_jsonrpc_ssm, "GetParameter", in, &opts, &err), 0);
    CHECK_STR(mock_calls[0].service, "ssm");
    CHECK_STR(mock_calls[0].method, "POST");
    CHECK_STR(mock_calls[0].path, "/");
    CHECK_STR(mock_calls[0].region, "us-east-1");
    CHECK_INT(mock_calls[0].no_blind_retry, 1);
    CHECK_STR(mock_header(&mock_calls[0], "X-Amz-Target"), "AmazonSSM.GetParameter");
    CHECK_STR(mock_header(&mock_calls[0], "Content-Type"), "application/x-amz-json-1.1");
    CHECK_STR(mock_calls[0].body.ptr, "{\"Name\":\"/app/x\",\"WithDecryption\":true}");
    CHECK_STR(lcb_json_str(lcb_json_path(out, "Parameter.Value")), "v");
    lcb_json_free(out);

    /* no params: "{}", not an empty body; an empty answer reads as {} */
    CHECK_INT(lcb_jsonrpc_call(&out, NULL, &lcb_jsonrpc_ecs, "ListClusters", NULL, NULL, &err), 0);
    CHECK_STR(mock_calls[1].body.ptr, "{}");
    CHECK_STR(mock_header(&mock_calls[1], "X-Amz-Target"),
              "AmazonEC2ContainerServiceV20141113.ListClusters");
    CHECK_INT(lcb_json_type(out), LCB_JSON_OBJECT);
    CHECK_INT(lcb_json_size(out), 0);
    lcb_json_free(out);

    CHECK_INT(lcb_jsonrpc_call(&out, NULL, &lcb_jsonrpc_ssm, "GetParameter", in, NULL, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT); /* not an object */
    CHECK(out == NULL);
    CHECK_INT(lcb_jsonrpc_call(&out, NULL, &lcb_jsonrpc_ssm, "GetParameter", in, NULL, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT); /* truncated */
    CHECK(strstr(lcb_err_format(&err, msg, sizeof(msg)), "GetParameter answer: ") != NULL);
    CHECK_INT(lcb_jsonrpc_call(&out, NULL, &lcb_jsonrpc_ssm, "GetParameter", in, NULL, &err), -1);
    CHECK_STR(err.aws_code, "ParameterNotFound");
    CHECK_STR(err.msg, "HTTP 400 ParameterNotFound: Parameter /app/prod/nope not found.");
    lcb_json_free(in);
    mock_reset();
}

static void
test_pagination(void)
{
    struct lcb_json *in = lcb_json_new_object(), *out = NULL;
    struct lcb_pager pg;
    struct lcb_err err;
    struct lcb_buf names = LCB_BUF_INIT;
    struct lcb_json *p;
    int rc;

    mock_reset();
    /* SSM pages may be empty and still carry a token */
    mock_reply(200, NULL, "{\"Parameters\":[{\"Name\":\"/a\"}],\"NextToken\":\"t1\"}");
    mock_reply(200, NULL, "{\"Parameters\":[],\"NextToken\":\"t2\"}");
    mock_reply(200, NULL, "{\"Parameters\":[{\"Name\":\"/b\"},{\"Name\":\"/c\"}]}");
    lcb_json_add_str(in, "Path", "/");
    lcb_json_add_num(in, "MaxResults", 10);
    lcb_pager_init(&pg, "NextToken", "NextToken");
    while ((rc = lcb_jsonrpc_page(&out, NULL, &lcb_jsonrpc_ssm, "GetParametersByPath", in, NULL,
                                  &pg, &err)) > 0)
        for (p = lcb_json_child(lcb_json_get(out, "Parameters")); p; p = lcb_json_next(p))
            lcb_buf_addf(&names, "%s,", lcb_json_get_str(p, "Name"));
    CHECK_INT(rc, 0);
    CHECK(out == NULL);
    CHECK_STR(names.ptr, "/a,/b,/c,");
    CHECK_INT(pg.pages, 3);
    CHECK_STR(mock_calls[0].body.ptr, "{\"Path\":\"/\",\"MaxResults\":10}");
    CHECK_STR(mock_calls[1].body.ptr, "{\"Path\":\"/\",\"MaxResults\":10,\"NextToken\":\"t1\"}");
    CHECK_STR(mock_calls[2].body.ptr, "{\"Path\":\"/\",\"MaxResults\":10,\"NextToken\":\"t2\"}");
    /* params reused for another walk: the stale token is removed */
    lcb_pager_release(&pg);
    mock_reply(200, NULL, "{\"Parameters\":[]}");
    CHECK_INT(lcb_jsonrpc_page(&out, NULL, &lcb_jsonrpc_ssm, "GetParametersByPath", in, NULL, &pg,
                               &err), 1);
    CHECK_STR(mock_calls[3].body.ptr, "{\"Path\":\"/\",\"MaxResults\":10}");
    lcb_json_free(out);
    out = NULL;

    /* ECS spelling, NULL params, and a loop */
    mock_reset();
    mock_reply(200, NULL, "{\"clusterArns\":[\"a\"],\"nextToken\":\"n\"}");
    mock_reply(200, NULL, "{\"clusterArns\":[\"a\"],\"nextToken\":\"n\"}");
    lcb_pager_init(&pg, "nextToken", "nextToken");
    CHECK_INT(lcb_jsonrpc_page(&out, NULL, &lcb_jsonrpc_ecs, "ListClusters", NULL, NULL, &pg, &err),
              1);
    CHECK_INT(lcb_jsonrpc_page(&out, NULL, &lcb_jsonrpc_ecs, "ListClusters", NULL, NULL, &pg, &err),
              -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK_STR(mock_calls[1].body.ptr, "{\"nextToken\":\"n\"}");
    CHECK(out == NULL);
    lcb_pager_release(&pg);
    lcb_json_free(in);
    lcb_buf_release(&names);
    mock_reset();
}

static void
test_kms(void)
{
    struct lcb_kms_data_key dk;
    struct lcb_secret pt = LCB_SECRET_INIT;
    struct lcb_buf arn = LCB_BUF_INIT, ct = LCB_BUF_INIT;
    struct lcb_kms_key key;
    struct lcb_err err;
    const struct lcb_aws_kv ctx[] = { { "lcbackup:run", "run-42" } };
    unsigned char want[32];
    int i;

    for (i = 0; i < 32; i++)
        want[i] = (unsigned char)i;
    mock_reset();
    mock_reply_fixture(200, NULL, "kms-generate-data-key.json");
    mock_reply_fixture(200, NULL, "kms-decrypt.json");
    mock_reply_fixture(200, NULL, "kms-describe-key.json");
    mock_reply_fixture(400, NULL, "json-kms-invalid-ciphertext.json");
    mock_reply_fixture(400, NULL, "json-kms-not-found.json");
    mock_reply(200, NULL, "{\"CiphertextBlob\":\"QUJD\",\"KeyId\":\"k\"}");
    mock_reply(200, NULL, "{\"CiphertextBlob\":\"%%%\"}");

    lcb_kms_data_key_init(&dk);
    CHECK_INT(lcb_kms_generate_data_key(&dk, NULL, "alias/lcbackup", 32, ctx, 1, &err), 0);
    CHECK_STR(mock_header(&mock_calls[0], "X-Amz-Target"), "TrentService.GenerateDataKey");
    CHECK_STR(mock_calls[0].body.ptr, "{\"KeyId\":\"alias/lcbackup\",\"KeySpec\":\"AES_256\","
                                      "\"EncryptionContext\":{\"lcbackup:run\":\"run-42\"}}");
    CHECK_INT(dk.plaintext.len, 32);
    CHECK(memcmp(dk.plaintext.ptr, want, 32) == 0);
    CHECK_INT(dk.ciphertext.len, 4 + 36 + 80);
    CHECK(memcmp(dk.ciphertext.ptr, "LCK10123abcd-", 13) == 0);
    CHECK_STR(dk.key_arn,
              "arn:aws:kms:eu-west-1:123456789012:key/0123abcd-0000-4000-8000-0123456789ab");

    CHECK_INT(lcb_kms_decrypt(&pt, &arn, NULL, NULL, dk.ciphertext.ptr, dk.ciphertext.len, ctx, 1,
                              &err), 0);
    CHECK(strstr(mock_calls[1].body.ptr, "\"CiphertextBlob\":\"TENLMTAxMjNhYmNk") != NULL);
    CHECK(strstr(mock_calls[1].body.ptr, "\"KeyId\"") == NULL); /* not sent when not given */
    CHECK_INT(pt.len, 14);
    CHECK(memcmp(pt.ptr, "s3cr3t \0 value", 14) == 0); /* binary-safe */
    CHECK_STR(arn.ptr, dk.key_arn);

    CHECK_INT(lcb_kms_describe_key(&key, NULL, "alias/lcbackup", &err), 0);
    CHECK_STR(key.key_id, "0123abcd-0000-4000-8000-0123456789ab");
    CHECK_STR(key.state, "Enabled");
    CHECK_STR(key.manager, "CUSTOMER");
    CHECK_INT(key.enabled, 1);
    CHECK_INT(key.created, 1767225600);

    CHECK_INT(lcb_kms_decrypt(&pt, NULL, NULL, "k", "junk", 4, NULL, 0, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT); /* InvalidCiphertextException: our data is bad */
    CHECK_INT(lcb_kms_describe_key(&key, NULL, "alias/nope", &err), -1);
    CHECK_STR(err.aws_code, "NotFoundException");

    CHECK_INT(lcb_kms_encrypt(&ct, NULL, "k", "hello", 5, NULL, 0, &err), 0);
    CHECK_STR(mock_calls[5].body.ptr, "{\"KeyId\":\"k\",\"Plaintext\":\"aGVsbG8=\"}");
    CHECK_STR(ct.ptr, "ABC");
    CHECK_INT(lcb_kms_encrypt(&ct, NULL, "k", "hello", 5, NULL, 0, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT); /* bad base64 in the answer */
    CHECK_INT(lcb_kms_encrypt(&ct, NULL, "k", "x", 4097, NULL, 0, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_kms_generate_data_key(&dk, NULL, "k", 0, NULL, 0, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(mock_ncalls, 7);

    lcb_kms_data_key_release(&dk);
    lcb_secret_release(&pt);
    lcb_buf_release(&arn);
    lcb_buf_release(&ct);
    mock_reset();
}

int
main(void)
{
    RUN(test_error_code_trimming);
    RUN(test_error_parsing);
    RUN(test_call);
    RUN(test_pagination);
    RUN(test_kms);
    return harness_done();
}
