/*
 * query.h - the AWS Query protocol (RDS, STS) and its EC2 dialect: form-encoded requests with each
 * service's list encodings, XML answers, both error shapes, and pagination.
 *
 *   struct lcb_query q; struct lcb_query_resp r; struct lcb_pager pg;
 *   lcb_query_init(&q, &lcb_query_rds, "DescribeDBSnapshots");
 *   lcb_query_add(&q, "DBInstanceIdentifier", "prod-db");
 *   lcb_query_add_int(&q, "MaxRecords", 100);
 *   lcb_pager_init(&pg, LCB_QUERY_MARKER);
 *   while ((rc = lcb_query_page(&r, aws, &q, &pg, err)) > 0)
 *       for (s = lcb_xml_path(r.result, "DBSnapshots/DBSnapshot"); s; s = lcb_xml_next(s, NULL)) ...
 *   lcb_query_resp_release(&r); lcb_pager_release(&pg); lcb_query_release(&q);
 *
 * Encoding follows botocore's serializers: Action and Version first, then the parameters in the order
 * added, encoded as Python's urlencode does (space as '+', everything outside [A-Za-z0-9._~-] as
 * %XX). Lists: Query services use "Prefix.<member>.N" (member "member" or the model's locationName:
 * Tags.Tag.N, VpcSecurityGroupIds.VpcSecurityGroupId.N, TagKeys.member.N); EC2 flattens every list
 * to "Prefix.N" (SnapshotId.1, Tag.1.Key, Filter.1.Value.1). Pass member NULL for EC2.
 *
 * Answers: a success is <ActionResponse> with the output in <ActionResult> (EC2: directly under
 * the root). Errors: <ErrorResponse><Error><Code> (Query) and <Response><Errors><Error><Code> (EC2);
 * lcb_aws_send() maps the code (aws.h: auth 77, not found 66, throttled 75, refused 69).
 *
 * Ownership: struct lcb_query and struct lcb_query_resp are caller-owned (_init/_release), as is
 * the pager (pager.h). Nodes of a response live until its release (or the next page call).
 */
#ifndef LCB_AWS_QUERY_H
#define LCB_AWS_QUERY_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../ext/xml.h"
#include "aws.h"
#include "pager.h"

/* One service's dialect. */
struct lcb_query_svc {
    const char *service; /* endpoint and signing name: "rds" */
    const char *version; /* API version: "2014-10-31" */
    int ec2;             /* EC2 dialect: flattened lists, no Result wrapper, <Response><Errors> */
};

extern const struct lcb_query_svc lcb_query_rds; /* rds 2014-10-31 */
extern const struct lcb_query_svc lcb_query_ec2; /* ec2 2016-11-15 */
extern const struct lcb_query_svc lcb_query_sts; /* sts 2011-06-15 */

struct lcb_query {
    const struct lcb_query_svc *svc;
    const char *action;
    char **names; /* parameters in order (Action and Version not included) */
    char **values;
    size_t n, cap;
    /* Request options, passed through to struct lcb_aws_req (zero: defaults). */
    const char *region;            /* NULL: the client's region */
    const struct lcb_creds *creds; /* NULL: the client's credential chain */
    int anonymous;                 /* unsigned (STS AssumeRoleWithWebIdentity) */
    int no_blind_retry;            /* a create without a client token (see aws.h) */
    int max_attempts;
};

void lcb_query_init(struct lcb_query *q, const struct lcb_query_svc *svc, const char *action);
/* A dry run's view of q: "rds CreateDBSnapshot (eu-west-1)" then each parameter on its own line. */
void lcb_query_print(FILE *out, const struct lcb_query *q, const char *region);
/* Is err a missing resource, whatever layer classified it (DBSnapshotNotFound,
 * InvalidSnapshot.NotFound...)? Sets err->code to LCB_ENOTFOUND when the AWS code says so. */
int lcb_query_not_found(struct lcb_err *err);
void lcb_query_release(struct lcb_query *q);

/* Add a parameter. A NULL value is skipped, so optional inputs can be passed straight through. */
void lcb_query_add(struct lcb_query *q, const char *name, const char *value);
void lcb_query_addf(struct lcb_query *q, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lcb_query_add_int(struct lcb_query *q, const char *name, long long v);
void lcb_query_add_bool(struct lcb_query *q, const char *name, int v); /* "true" / "false" */
/* An ISO-8601 UTC time "2026-01-01T00:00:00Z" (RestoreTime). */
void lcb_query_add_time(struct lcb_query *q, const char *name, time_t t);
/* A list of strings: "prefix.member.N" (member NULL: "prefix.N"), N from 1. Nothing for n == 0. */
void lcb_query_add_list(struct lcb_query *q, const char *prefix, const char *member,
                        const char *const *values, size_t n);

struct lcb_query_tag {
    const char *key;
    const char *value; /* NULL: no Value field (EC2 DeleteTags by key) */
};

/* The value of the tag named key among tags (an owner tag), or NULL when key is NULL or absent. */
const char *lcb_query_tag_value(const struct lcb_query_tag *tags, size_t n, const char *key);

/* Tags: "prefix.member.N.Key" / ".Value" (RDS: "Tags", "Tag"; EC2: "Tag", NULL, or
 * "TagSpecification.1.Tag", NULL). */
void lcb_query_add_tags(struct lcb_query *q, const char *prefix, const char *member,
                        const struct lcb_query_tag *tags, size_t n);
/* EC2 TagSpecification.<index>: ResourceType and its tags. */
void lcb_query_add_tag_spec(struct lcb_query *q, int index, const char *resource_type,
                            const struct lcb_query_tag *tags, size_t n);

struct lcb_query_filter {
    const char *name;
    const char *const *values;
    size_t nvalues;
};

/* Filters in the service's dialect: RDS "Filters.Filter.N.Name" + "Filters.Filter.N.Values.Value.M";
 * EC2 "Filter.N.Name" + "Filter.N.Value.M". */
void lcb_query_add_filters(struct lcb_query *q, const struct lcb_query_filter *f, size_t n);

/* The parameter's value (the last one added under that name), or NULL. */
const char *lcb_query_get(const struct lcb_query *q, const char *name);
/* The form body: "Action=...&Version=...&..." (appended to out). */
void lcb_query_encode(const struct lcb_query *q, struct lcb_buf *out);
/* Append one pair, form-encoded ("&" first when out is not empty). */
void lcb_query_encode_pair(struct lcb_buf *out, const char *name, const char *value);

struct lcb_query_resp {
    struct lcb_xml *doc;
    struct lcb_xml_node *result; /* <ActionResult>; EC2, or an action without output: the root */
    const char *request_id;      /* borrowed from doc; "" when the answer had none */
    int status;
};

void lcb_query_resp_init(struct lcb_query_resp *r);
void lcb_query_resp_release(struct lcb_query_resp *r);

/* Send q and parse the answer into out (released first). Returns 0, or -1 with the codes of
 * lcb_aws_send() (LCB_EAUTH, LCB_ENOTFOUND, LCB_ETEMP, LCB_EREFUSED, ...), or LCB_ECORRUPT when a
 * 2xx answer is not the expected <ActionResponse> document. */
int lcb_query_call(struct lcb_query_resp *out, struct lcb_aws *aws, const struct lcb_query *q,
                   struct lcb_err *err);

/* Read a success document (status 2xx) for q's action into out: what lcb_query_call does after the
 * send, exposed for tests. Returns 0 or -1 (LCB_ECORRUPT). */
int lcb_query_parse(struct lcb_query_resp *out, const struct lcb_query *q, int status,
                    const char *body, size_t len, struct lcb_err *err);

/* Send a call that changes something and drop its answer; with dry_run set, print q there instead
 * (lcb_query_print, region as given) and send nothing. Returns 0 or -1 with lcb_query_call's codes.
 */
int lcb_query_send(struct lcb_aws *aws, const struct lcb_query *q, FILE *dry_run,
                   const char *region, struct lcb_err *err);

/* botocore's inject_presigned_url_rds/_ec2 for a cross-region copy: q as a GET to source_region,
 * query-signed for expires seconds, its pairs Action, Version, q's parameters and, when dest is
 * set, DestinationRegion=dest (RDS; EC2 sends DestinationRegion as a parameter of q). Appends the
 * URL to url. Returns 0 or -1 with lcb_aws_presign's codes (credentials, endpoint, LCB_EUSAGE). */
int lcb_query_presign(struct lcb_buf *url, struct lcb_aws *aws, const struct lcb_query *q,
                      const char *source_region, const char *dest, int64_t expires,
                      struct lcb_err *err);

/* The text at path under n as a copy the caller frees, or NULL when it is absent or empty. */
char *lcb_query_text(const struct lcb_xml_node *n, const char *path);
/* The time at path under n (RFC 3339, as lcb_time_parse reads it), or 0 when absent or unreadable.
 */
time_t lcb_query_time(const struct lcb_xml_node *n, const char *path);

/* The error-document parser for struct lcb_aws_req.parse_error: <ErrorResponse> and EC2's
 * <Response><Errors>. Returns 1 with out filled, 0 when the body is neither. */
int lcb_query_parse_error(const struct lcb_aws_resp *resp, struct lcb_aws_error *out);

/* Pagination: the request parameter that carries the token and the result element that returns
 * it. RDS: Marker/Marker; EC2: NextToken/nextToken; others: NextToken/NextToken. */
#define LCB_QUERY_MARKER "Marker", "Marker"
#define LCB_QUERY_NEXT_TOKEN_EC2 "NextToken", "nextToken"
#define LCB_QUERY_NEXT_TOKEN "NextToken", "NextToken"

/* Fetch the next page of q into out (released first). Returns 1 with a page, 0 when the previous
 * page was the last (out is then empty), -1 with lcb_query_call's codes, or LCB_ECORRUPT when the
 * service hands back the token it was given (a loop) or the page limit is reached. */
int lcb_query_page(struct lcb_query_resp *out, struct lcb_aws *aws, const struct lcb_query *q,
                   struct lcb_pager *pg, struct lcb_err *err);
/* Fetch every page of q (token parameter in, result element out: LCB_QUERY_MARKER...) and hand
 * each page's result to add(arg, result, err), stopping at the first failure. Returns 0, or -1 with
 * lcb_query_page's codes or add's. */
int
lcb_query_each_page(struct lcb_aws *aws, const struct lcb_query *q, const char *in, const char *out,
                    int (*add)(void *arg, const struct lcb_xml_node *result, struct lcb_err *err),
                    void *arg, struct lcb_err *err);

#endif
