/* broker.c - the broker kind for `run`: one target through lib/backup/broker.h; see jobs.h. */
#include <stdio.h>
#include <string.h>

#include "../backup/broker.h"
#include "../core/secret.h"
#include "jobs.h"

/* What lcb_broker_backup_run would call, without calling it. The URL itself is not printed: a
 * policy's url may carry credentials. */
static void
print_plan(const struct lcb_job_ctx *jc, const struct lcb_target *t)
{
    const struct lcb_policy *p = jc->policy;
    const char *prefix = p->prefix && *p->prefix ? p->prefix : "";

    if (t->url_param)
        fprintf(jc->out, "ssm GetParameter Name=%s WithDecryption=true\n", t->url_param);
    fprintf(jc->out, "broker GET %s/ngsi-ld/v1/types%s%s, then GET /ngsi-ld/v1/entities?type=T"
            "&limit=%d&offset=N&count=true for each type\n",
            t->url_param ? "<url from the parameter>" : "<the target's url>",
            t->tenant ? " NGSILD-Tenant=" : "", t->tenant ? t->tenant : "",
            t->page_size > 0 ? t->page_size : 1000);
    fprintf(jc->out,
            "s3 CreateMultipartUpload Bucket=%s Key=%s%s%s/broker/%s/<backup id>.tar.zst%s%s%s\n",
            p->bucket, prefix, *prefix ? "/" : "", jc->env ? jc->env : "default", t->name,
            p->kms_key ? " ServerSideEncryption=aws:kms SSEKMSKeyId=" : "",
            p->kms_key ? p->kms_key : "", p->object_lock ? " ObjectLockMode=GOVERNANCE" : "");
    fprintf(jc->out, "s3 UploadPart (8 MiB parts, x-amz-checksum-sha256), "
            "CompleteMultipartUpload If-None-Match=*\n");
    fprintf(jc->out,
            "s3 PutObject Bucket=%s Key=%s%s%s/broker/%s/<backup id>.tar.zst.manifest.json "
            "If-None-Match=*\n", p->bucket, prefix, *prefix ? "/" : "",
            jc->env ? jc->env : "default", t->name);
}

int
lcb_job_backup_broker(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                      struct lcb_job_result *res, struct lcb_err *err)
{
    struct lcb_secret url = LCB_SECRET_INIT;
    struct lcb_broker_backup b;
    struct lcb_broker_result r;
    const struct lcb_policy *p = jc->policy;
    int rc;

    memset(res, 0, sizeof(*res));
    if (jc->dry_run) {
        print_plan(jc, t);
        return 0;
    }
    if (lcb_broker_url(&url, jc->aws, t, err) < 0)
        return -1;
    memset(&b, 0, sizeof(b));
    memset(&r, 0, sizeof(r));
    b.url = &url;
    b.tenant = t->tenant;
    b.types = t->types;
    b.ntypes = t->ntypes;
    b.page_size = t->page_size > 0 ? t->page_size : 1000;
    b.bucket = p->bucket;
    b.prefix = p->prefix;
    b.env = jc->env;
    b.target = t->name;
    b.policy_file = jc->policy_file;
    b.kms_key = p->kms_key;
    b.object_lock = p->object_lock;
    rc = lcb_broker_backup_run(&b, jc->aws, jc->cat, &r, err);
    lcb_secret_release(&url);
    if (rc < 0)
        return -1;
    snprintf(res->backup_id, sizeof(res->backup_id), "%s", r.backup_id);
    snprintf(res->location, sizeof(res->location), "%s", r.location);
    return 0;
}
