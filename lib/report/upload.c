/* upload.c - reports stored beside the backups, under Object Lock when the bucket has it; see
 * upload.h. */
#include "upload.h"

#include <stdio.h>
#include <string.h>

#include "../aws/aws.h"
#include "../aws/s3.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../ext/xml.h"

#define DEFAULT_LOCK (365LL * 86400)

int
lcb_report_bucket_lock_parse(struct lcb_bucket_lock *out, const char *xml, size_t len,
                             struct lcb_err *err)
{
    struct lcb_xml *doc = NULL;
    struct lcb_xml_node *root, *dr;
    const char *enabled, *mode;

    memset(out, 0, sizeof(*out));
    if (lcb_xml_parse(&doc, xml, len, err) < 0)
        return lcb_wrap(err, "GetObjectLockConfiguration answer");
    root = lcb_xml_root(doc);
    enabled = lcb_xml_get(root, "ObjectLockEnabled");
    out->enabled = enabled && strcmp(enabled, "Enabled") == 0;
    dr = lcb_xml_path(root, "Rule/DefaultRetention");
    if (dr) {
        mode = lcb_xml_get(dr, "Mode");
        snprintf(out->mode, sizeof(out->mode), "%s", mode ? mode : "");
        out->period =
            lcb_xml_get_ll(dr, "Days", 0) * 86400 + lcb_xml_get_ll(dr, "Years", 0) * 365 * 86400;
    }
    lcb_xml_free(doc);
    return 0;
}

int
lcb_report_bucket_lock(struct lcb_bucket_lock *out, struct lcb_aws *aws, const char *bucket,
                       struct lcb_err *err)
{
    const struct lcb_aws_kv q[] = {{"object-lock", NULL}};
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&req, 0, sizeof(req));
    req.service = "s3";
    req.operation = "GetObjectLockConfiguration";
    req.method = "GET";
    req.bucket = bucket;
    req.query = q;
    req.nquery = 1;
    req.parse_error = lcb_s3_parse_error;
    lcb_aws_resp_init(&resp);
    rc = lcb_aws_send(aws, &req, &resp, err);
    if (rc < 0 && strcmp(err->aws_code, "ObjectLockConfigurationNotFoundError") == 0) {
        lcb_err_clear(err);
        rc = 0;
    } else if (rc == 0) {
        rc = lcb_report_bucket_lock_parse(out, resp.body.ptr ? resp.body.ptr : "", resp.body.len,
                                          err);
    } else {
        lcb_wrap(err, "object lock configuration of %s", bucket);
    }
    lcb_aws_resp_release(&resp);
    return rc;
}

void
lcb_report_key(struct lcb_buf *out, const struct lcb_report_upload *u)
{
    struct tm tm;
    char ts[32];

    gmtime_r(&u->now, &tm);
    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
    if (u->prefix && *u->prefix)
        lcb_buf_addf(out, "%s/", u->prefix);
    lcb_buf_addf(out, "%s/reports/%s-%s.%s", u->env && *u->env ? u->env : "default", u->name, ts,
                 u->ext);
}

int
lcb_report_put(struct lcb_report_uploaded *res, struct lcb_aws *aws,
               const struct lcb_report_upload *u, const char *body, size_t len, struct lcb_err *err)
{
    struct lcb_bucket_lock lock;
    struct lcb_s3_put_opts po;
    struct lcb_s3_body b;
    struct lcb_buf key = LCB_BUF_INIT;
    int64_t keep;
    int rc = -1;

    memset(res, 0, sizeof(*res));
    memset(&po, 0, sizeof(po));
    memset(&b, 0, sizeof(b));
    if (lcb_report_bucket_lock(&lock, aws, u->bucket, err) < 0)
        goto out;
    lcb_report_key(&key, u);
    po.content_type = u->content_type;
    po.if_none_match = "*";
    if (u->kms_key) {
        po.sse = "aws:kms";
        po.sse_kms_key_id = u->kms_key;
    }
    if (lock.enabled) {
        keep = u->object_lock > 0 ? u->object_lock : lock.period > 0 ? lock.period : DEFAULT_LOCK;
        snprintf(res->lock_mode, sizeof(res->lock_mode), "%s",
                 lock.mode[0] ? lock.mode : "GOVERNANCE");
        res->lock_until = u->now + (time_t)keep;
        po.lock_mode = res->lock_mode;
        po.lock_until = res->lock_until;
    }
    b.data = body;
    b.len = len;
    if (lcb_s3_put(NULL, aws, u->bucket, lcb_buf_str(&key), &b, &po, err) < 0) {
        lcb_wrap(err, "upload the report to s3://%s/%s", u->bucket, lcb_buf_str(&key));
        goto out;
    }
    snprintf(res->uri, sizeof(res->uri), "s3://%s/%s", u->bucket, lcb_buf_str(&key));
    rc = 0;
out:
    lcb_buf_release(&key);
    return rc;
}
