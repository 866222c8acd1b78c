/* fuzz_aws_answer.c - what AWS (or anything posing as it) answers, on arbitrary bytes: the XML
 * wrapper (parse, walk every element, read every text), the Query success reader, and the Query,
 * EC2, S3 and JSON 1.1 error parsers, for a 200 and a 400. No crash, no leak, and a parser that
 * claims an error must name it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/aws/aws.h"
#include "../../lib/aws/jsonrpc.h"
#include "../../lib/aws/query.h"
#include "../../lib/aws/s3.h"
#include "../../lib/ext/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
walk(const struct lcb_xml_node *n, int depth)
{
    const struct lcb_xml_node *c;
    size_t total = 0;

    if (depth > 64)
        return 0;
    for (c = lcb_xml_child(n, NULL); c; c = lcb_xml_next(c, NULL)) {
        total += strlen(lcb_xml_text(c)) + strlen(lcb_xml_name(c));
        total += walk(c, depth + 1);
    }
    return total + (size_t)lcb_xml_get_ll(n, "Size", 0) + (size_t)lcb_xml_get_bool(n, "IsTruncated", 0);
}

static void
errors(const uint8_t *data, size_t size, int status)
{
    struct lcb_aws_resp resp;
    struct lcb_aws_error e;

    lcb_aws_resp_init(&resp);
    resp.status = status;
    lcb_buf_add(&resp.body, data, size);
    memset(&e, 0, sizeof(e));
    if (lcb_query_parse_error(&resp, &e) && !e.code[0])
        abort();
    memset(&e, 0, sizeof(e));
    if (lcb_s3_parse_error(&resp, &e) && !e.code[0])
        abort();
    memset(&e, 0, sizeof(e));
    if (lcb_jsonrpc_parse_error(&resp, &e) && !e.code[0])
        abort();
    lcb_aws_resp_release(&resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lcb_xml *doc = NULL;
    struct lcb_query q;
    struct lcb_query_resp r;
    struct lcb_err err;

    lcb_err_clear(&err);
    if (lcb_xml_parse(&doc, (const char *)data, size, &err) == 0) {
        walk(lcb_xml_root(doc), 0);
        lcb_xml_free(doc);
    } else if (err.msg[0] == '\0') {
        abort(); /* every refusal must say why */
    }
    lcb_query_init(&q, &lcb_query_rds, "DescribeDBSnapshots");
    lcb_query_resp_init(&r);
    if (lcb_query_parse(&r, &q, 200, (const char *)data, size, &err) == 0)
        walk(r.result, 0);
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    errors(data, size, 200);
    errors(data, size, 400);
    return 0;
}
