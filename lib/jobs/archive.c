/* archive.c - deleting an S3 archive and its sidecar manifest, minding Object Lock; see jobs.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/s3.h"
#include "../catalog/catalog.h"
#include "../core/clock.h"
#include "../core/mem.h"
#include "jobs.h"

#define SIDECAR_SUFFIX ".manifest.json"

/* Split "s3://bucket/key" into bucket and key (caller frees both). Returns 0 or -1. */
static int
split_s3(const char *uri, char **bucket, char **key, struct lcb_err *err)
{
    const char *b, *slash;

    if (!uri || strncmp(uri, "s3://", 5) != 0)
        return lcb_err_set(err, LCB_ECORRUPT, "location '%s' is not an s3:// URI",
                           uri ? uri : "");
    b = uri + 5;
    slash = strchr(b, '/');
    if (!slash || slash == b || !slash[1])
        return lcb_err_set(err, LCB_ECORRUPT, "location '%s' has no bucket and key", uri);
    *bucket = lcb_xstrndup(b, (size_t)(slash - b));
    *key = lcb_xstrdup(slash + 1);
    return 0;
}

/* 1 with why filled when info says the object may not be deleted now. */
static int
locked(const struct lcb_s3_object_info *info, time_t now, char *why, size_t size)
{
    char ts[LCB_TIME_LEN];

    if (strcmp(info->legal_hold, "ON") == 0) {
        snprintf(why, size, "object lock: legal hold");
        return 1;
    }
    if (info->lock_mode[0] && info->lock_until > now) {
        snprintf(why, size, "object lock: %s until %s", info->lock_mode,
                 lcb_time_fmt(info->lock_until, ts));
        return 1;
    }
    return 0;
}

/* HEAD key: 1 locked (why filled), 0 deletable or absent, -1 error. *mode receives the lock mode
 * even when its retention has passed by our clock (S3's clock decides). */
static int
check_lock(struct lcb_aws *aws, const char *bucket, const char *key, char *mode, size_t msize,
           char *why, size_t size, struct lcb_err *err)
{
    struct lcb_s3_object_info info;

    if (lcb_s3_head(&info, aws, bucket, key, NULL, err) < 0) {
        if (err->code == LCB_ENOTFOUND) {
            lcb_err_clear(err);
            return 0;
        }
        return lcb_wrap(err, "head s3://%s/%s", bucket, key);
    }
    if (info.lock_mode[0] || strcmp(info.legal_hold, "ON") == 0)
        snprintf(mode, msize, "%s", info.lock_mode[0] ? info.lock_mode : "legal hold");
    /* our clock, not the server's: if ours runs ahead, S3 refuses the delete: a skip too */
    return locked(&info, lcb_now(), why, size);
}

static void
print_plan(FILE *out, const char *bucket, const char *key)
{
    fprintf(out, "s3 HeadObject Bucket=%s Key=%s\n", bucket, key);
    fprintf(out, "s3 HeadObject Bucket=%s Key=%s%s\n", bucket, key, SIDECAR_SUFFIX);
    fprintf(out, "s3 DeleteObject Bucket=%s Key=%s\n", bucket, key);
    fprintf(out, "s3 DeleteObject Bucket=%s Key=%s%s\n", bucket, key, SIDECAR_SUFFIX);
}

int
lcb_job_delete_archive(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
                       struct lcb_job_deleted *out, struct lcb_err *err)
{
    char *bucket = NULL, *key = NULL, *sidecar = NULL, mode[32] = "";
    int rc = -1, i;

    memset(out, 0, sizeof(*out));
    if (split_s3(b->location, &bucket, &key, err) < 0)
        return lcb_wrap(err, "delete %s", b->id);
    sidecar = lcb_xasprintf("%s%s", key, SIDECAR_SUFFIX);
    if (jc->dry_run) {
        print_plan(jc->out, bucket, key);
        rc = 0;
        goto out;
    }
    /* the archive and its sidecar go together: if either is locked, neither is touched */
    for (i = 0; i < 2; i++) {
        rc = check_lock(jc->aws, bucket, i ? sidecar : key, mode, sizeof(mode), out->why,
                        sizeof(out->why), err);
        if (rc != 0)
            goto out;
    }
    /* archive first: a sidecar without its archive is visible to `catalog drift`, an archive
     * without its sidecar would be invisible to `catalog rebuild` */
    if (lcb_s3_delete(jc->aws, bucket, key, NULL, NULL, err) < 0 ||
        lcb_s3_delete(jc->aws, bucket, sidecar, NULL, NULL, err) < 0) {
        if (err->code == LCB_EAUTH && mode[0]) {
            /* our clock says the retention has passed, S3's does not yet: a lock, not an error */
            snprintf(out->why, sizeof(out->why), "object lock: S3 refused the delete (%s)", mode);
            lcb_err_clear(err);
            rc = 1;
            goto out;
        }
        rc = -1;
        goto out;
    }
    out->objects = 2;
    rc = 0;
out:
    if (rc < 0)
        lcb_wrap(err, "delete %s", b->id);
    free(sidecar);
    free(key);
    free(bucket);
    return rc;
}
