/* jsonrpc.c - the AWS JSON 1.1 protocol; see jsonrpc.h. */
#include "jsonrpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "../core/secret.h"

const struct lcb_jsonrpc_svc lcb_jsonrpc_ssm = { "ssm", "AmazonSSM" };
const struct lcb_jsonrpc_svc lcb_jsonrpc_ecs = { "ecs", "AmazonEC2ContainerServiceV20141113" };
const struct lcb_jsonrpc_svc lcb_jsonrpc_kms = { "kms", "TrentService" };

void
lcb_jsonrpc_error_code(const char *type, char *out, size_t size)
{
    const char *start = type, *end, *hash;

    if (!size)
        return;
    end = strchr(type, ':');
    if (!end)
        end = type + strlen(type);
    for (hash = type; hash < end; hash++)
        if (*hash == '#')
            start = hash + 1;
    snprintf(out, size, "%.*s", (int)(end - start), start);
}

int
lcb_jsonrpc_parse_error(const struct lcb_aws_resp *resp, struct lcb_aws_error *out)
{
    struct lcb_json *doc = NULL;
    struct lcb_err perr;
    const char *type = NULL, *msg = NULL, *rid;
    int found = 0;

    if (resp->body.len && lcb_json_parse(&doc, resp->body.ptr, resp->body.len, &perr) == 0 &&
        lcb_json_type(doc) == LCB_JSON_OBJECT) {
        type = lcb_json_get_str(doc, "__type");
        msg = lcb_json_get_str(doc, "message");
        if (!msg)
            msg = lcb_json_get_str(doc, "Message");
    }
    if (!type || !*type)
        type = lcb_aws_resp_header(resp, "x-amzn-ErrorType");
    if (type && *type) {
        lcb_jsonrpc_error_code(type, out->code, sizeof(out->code));
        snprintf(out->message, sizeof(out->message), "%s", msg ? msg : "");
        rid = lcb_aws_resp_header(resp, "x-amzn-RequestId");
        snprintf(out->request_id, sizeof(out->request_id), "%s", rid ? rid : "");
        found = out->code[0] != '\0';
    }
    lcb_json_free(doc);
    return found;
}

int
lcb_jsonrpc_parse(struct lcb_json **out, const char *op, const char *body, size_t len,
                  struct lcb_err *err)
{
    size_t i;

    *out = NULL;
    for (i = 0; i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t');
         i++)
        ;
    if (i == len) {
        *out = lcb_json_new_object(); /* some operations answer 200 with an empty body */
        return 0;
    }
    if (lcb_json_parse(out, body, len, err) < 0)
        return lcb_wrap(err, "%s answer", op);
    if (lcb_json_type(*out) != LCB_JSON_OBJECT) {
        lcb_json_free(*out);
        *out = NULL;
        return lcb_err_set(err, LCB_ECORRUPT, "%s answer: not a JSON object", op);
    }
    return 0;
}

int
lcb_jsonrpc_call(struct lcb_json **out, struct lcb_aws *aws, const struct lcb_jsonrpc_svc *svc,
                 const char *op, const struct lcb_json *params,
                 const struct lcb_jsonrpc_opts *opts, struct lcb_err *err)
{
    struct lcb_buf body = LCB_BUF_INIT;
    char *target = lcb_xasprintf("%s.%s", svc->target_prefix, op);
    struct lcb_aws_kv headers[2] = {
        { "Content-Type", "application/x-amz-json-1.1" },
        { "X-Amz-Target", target },
    };
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    int rc = -1;

    *out = NULL;
    if (params)
        lcb_json_print(&body, params, 0);
    else
        lcb_buf_adds(&body, "{}");
    memset(&req, 0, sizeof(req));
    req.service = svc->service;
    req.operation = op;
    req.method = "POST";
    req.path = "/";
    req.headers = headers;
    req.nheaders = 2;
    req.body = body.ptr;
    req.body_len = body.len;
    req.parse_error = lcb_jsonrpc_parse_error;
    if (opts) {
        req.region = opts->region;
        req.creds = opts->creds;
        req.no_blind_retry = opts->no_blind_retry;
        req.max_attempts = opts->max_attempts;
    }
    lcb_aws_resp_init(&resp);
    if (lcb_aws_send(aws, &req, &resp, err) == 0)
        rc = lcb_jsonrpc_parse(out, op, resp.body.ptr, resp.body.len, err);
    /* KMS and SSM bodies carry key material and SecureString values */
    lcb_wipe(resp.body.ptr, resp.body.len);
    lcb_wipe(body.ptr, body.len);
    lcb_aws_resp_release(&resp);
    lcb_buf_release(&body);
    free(target);
    return rc;
}

int
lcb_jsonrpc_page(struct lcb_json **out, struct lcb_aws *aws, const struct lcb_jsonrpc_svc *svc,
                 const char *op, struct lcb_json *params, const struct lcb_jsonrpc_opts *opts,
                 struct lcb_pager *pg, struct lcb_err *err)
{
    struct lcb_json *own = NULL;

    lcb_json_free(*out);
    *out = NULL;
    if (pg->done)
        return 0;
    if (!params)
        params = own = lcb_json_new_object();
    if (pg->token)
        lcb_json_set(params, pg->in, lcb_json_new_str(pg->token));
    else
        lcb_json_remove(params, pg->in);
    if (lcb_jsonrpc_call(out, aws, svc, op, params, opts, err) < 0) {
        pg->done = 1;
        lcb_json_free(own);
        return -1;
    }
    lcb_json_free(own);
    if (lcb_pager_advance(pg, lcb_json_get_str(*out, pg->out), err) < 0) {
        lcb_json_free(*out);
        *out = NULL;
        return -1;
    }
    return 1;
}
