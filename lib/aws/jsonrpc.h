/*
 * jsonrpc.h - the AWS JSON 1.1 protocol (SSM, ECS, KMS): POST / with X-Amz-Target
 * "<prefix>.<Operation>", Content-Type application/x-amz-json-1.1, a JSON object in and out.
 *
 *   struct lcb_json *in = lcb_json_new_object(), *out = NULL;
 *   lcb_json_add_str(in, "Path", "/app/prod");
 *   lcb_pager_init(&pg, "NextToken", "NextToken");
 *   while ((rc = lcb_jsonrpc_page(&out, aws, &lcb_jsonrpc_ssm, "GetParametersByPath", in, NULL,
 *                                 &pg, err)) > 0)
 *       ... lcb_json_get(out, "Parameters") ...
 *
 * Errors: {"__type": "...", "message"|"Message": "..."}; the code is __type with anything after ':'
 * and anything up to the last '#' removed (botocore's rule: "com.amazonaws.kms#NotFoundException"
 * -> "NotFoundException"), else the x-amzn-ErrorType header trimmed the same way. lcb_aws_send() maps
 * the code (aws.h: auth 77, not found 66, throttled 75, refused 69).
 *
 * Ownership: the answer document (*out) is the caller's (lcb_json_free). Parameters are borrowed.
 * The pager (pager.h) is caller-owned (_init/_release).
 */
#ifndef LCB_AWS_JSONRPC_H
#define LCB_AWS_JSONRPC_H

#include <stddef.h>

#include "../core/err.h"
#include "../ext/json.h"
#include "aws.h"
#include "pager.h"

struct lcb_jsonrpc_svc {
    const char *service;       /* endpoint and signing name: "ssm" */
    const char *target_prefix; /* "AmazonSSM" */
};

extern const struct lcb_jsonrpc_svc lcb_jsonrpc_ssm; /* AmazonSSM */
extern const struct lcb_jsonrpc_svc lcb_jsonrpc_ecs; /* AmazonEC2ContainerServiceV20141113 */
extern const struct lcb_jsonrpc_svc lcb_jsonrpc_kms; /* TrentService */

/* Per-call options passed through to struct lcb_aws_req; NULL means all defaults. */
struct lcb_jsonrpc_opts {
    const char *region;            /* NULL: the client's */
    const struct lcb_creds *creds; /* NULL: the client's credential chain */
    int no_blind_retry;            /* a create without a client token (see aws.h) */
    int max_attempts;
};

/* Call svc's op with params (an object; NULL sends "{}"). On success *out is the answer object (an
 * empty body reads as {}). Returns 0, or -1 with lcb_aws_send()'s codes (LCB_EAUTH, LCB_ENOTFOUND,
 * LCB_ETEMP, LCB_EREFUSED, ...), or LCB_ECORRUPT when a 2xx answer is not a JSON object. */
int lcb_jsonrpc_call(struct lcb_json **out, struct lcb_aws *aws, const struct lcb_jsonrpc_svc *svc,
                     const char *op, const struct lcb_json *params,
                     const struct lcb_jsonrpc_opts *opts, struct lcb_err *err);

/* Read a success body into *out (what lcb_jsonrpc_call does after the send; exposed for tests).
 * Returns 0 or -1 (LCB_ECORRUPT). */
int lcb_jsonrpc_parse(struct lcb_json **out, const char *op, const char *body, size_t len,
                      struct lcb_err *err);

/* The error parser for struct lcb_aws_req.parse_error. Returns 1 with out filled, 0 when neither
 * the body nor the headers name an error. */
int lcb_jsonrpc_parse_error(const struct lcb_aws_resp *resp, struct lcb_aws_error *out);

/* Trim an error type to its code: "com.amazonaws.ssm#ParameterNotFound" -> "ParameterNotFound",
 * "ThrottlingException:http://internal..." -> "ThrottlingException". Writes into out (size bytes). */
void lcb_jsonrpc_error_code(const char *type, char *out, size_t size);

/* Pagination by token (pager.h), pg naming the request member that carries it and the answer
 * member that returns it (SSM "NextToken"/"NextToken", ECS "nextToken"/"nextToken").
 * Fetch the next page: sets (or removes) the token member of params, calls, and replaces *out (the
 * previous page is freed). Returns 1 with a page, 0 when the last page was already returned (*out
 * NULL), -1 with lcb_jsonrpc_call's codes, or LCB_ECORRUPT when the service hands back the token it
 * was given or the page limit is reached. Pages may be empty and still carry a token (SSM). */
int lcb_jsonrpc_page(struct lcb_json **out, struct lcb_aws *aws, const struct lcb_jsonrpc_svc *svc,
                     const char *op, struct lcb_json *params, const struct lcb_jsonrpc_opts *opts,
                     struct lcb_pager *pg, struct lcb_err *err);

#endif
