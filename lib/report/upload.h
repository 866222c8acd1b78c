/*
 * upload.h - reports stored in S3 beside the backups, under Object Lock when the bucket has it.
 *
 * The key is <prefix>/<env>/reports/<name>-<yyyymmddThhmmssZ>.<ext> (a drill report's name is
 * its drill id, a status report's "status"), written once (If-None-Match: *), with SSE-KMS when
 * the policy has a key. When the bucket has Object Lock enabled the report gets a retention: the
 * bucket's default mode (else GOVERNANCE) until now + the policy's storage.object_lock, else the
 * bucket's default period, else 365 days.
 *
 * Ownership: everything is borrowed. Errors: lcb_s3_put's (LCB_EAUTH, LCB_ETEMP, ...).
 */
#ifndef LCB_REPORT_UPLOAD_H
#define LCB_REPORT_UPLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"

struct lcb_aws;

struct lcb_bucket_lock {
    int enabled;
    char mode[16];  /* the default retention's mode, "" when none */
    int64_t period; /* the default retention in seconds, 0 when none */
};

/* GetObjectLockConfiguration (ObjectLockConfigurationNotFoundError: not enabled). */
int lcb_report_bucket_lock(struct lcb_bucket_lock *out, struct lcb_aws *aws, const char *bucket,
                           struct lcb_err *err);
/* Pure. Read a GetObjectLockConfiguration answer. Returns 0, or -1 with LCB_ECORRUPT. */
int lcb_report_bucket_lock_parse(struct lcb_bucket_lock *out, const char *xml, size_t len,
                                 struct lcb_err *err);

struct lcb_report_upload {
    const char *bucket;
    const char *prefix; /* may be NULL */
    const char *env;    /* may be NULL */
    const char *name;   /* "drill-2026...", "status" */
    const char *ext;    /* "html" */
    const char *content_type;
    const char *kms_key; /* SSE-KMS key, or NULL */
    int64_t object_lock; /* the policy's storage.object_lock (seconds), 0: none */
    time_t now;
};

struct lcb_report_uploaded {
    char uri[1200]; /* s3://bucket/key */
    char lock_mode[16];
    time_t lock_until; /* 0: no retention */
};

/* Pure. The object key for u into out. */
void lcb_report_key(struct lcb_buf *out, const struct lcb_report_upload *u);
/* Put body as the report u describes. */
int lcb_report_put(struct lcb_report_uploaded *res, struct lcb_aws *aws,
                   const struct lcb_report_upload *u, const char *body, size_t len,
                   struct lcb_err *err);

#endif
