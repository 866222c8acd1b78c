/* query_presign.c - the presigned URL of a cross-region copy; see query.h. Apart from query.c so
 * that only the clients that copy (rds.c, ec2.c) link the signer. */
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "query.h"

int
lcb_query_presign(struct lcb_buf *url, struct lcb_aws *aws, const struct lcb_query *q,
                  const char *source_region, const char *dest, int64_t expires, struct lcb_err *err)
{
    struct lcb_aws_kv *kv = lcb_xcalloc(q->n + 3, sizeof(*kv));
    struct lcb_aws_req req;
    size_t i, n = 0;
    int rc;

    kv[n++] = (struct lcb_aws_kv){"Action", q->action};
    kv[n++] = (struct lcb_aws_kv){"Version", q->svc->version};
    for (i = 0; i < q->n; i++)
        kv[n++] = (struct lcb_aws_kv){q->names[i], q->values[i]};
    if (dest)
        kv[n++] = (struct lcb_aws_kv){"DestinationRegion", dest};
    memset(&req, 0, sizeof(req));
    req.service = q->svc->service;
    req.operation = q->action;
    req.region = source_region;
    req.method = "GET";
    req.path = "/";
    req.query = kv;
    req.nquery = n;
    rc = lcb_aws_presign(aws, &req, expires, url, err);
    free(kv);
    return rc;
}
