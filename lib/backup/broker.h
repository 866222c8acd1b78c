/*
 * broker.h - one broker backup: every entity exported page by page (lib/ngsi) into a tar.zst
 * archive (lib/archive) streamed to S3 as a multipart upload (lib/aws/s3stream), a sidecar
 * <key>.manifest.json beside it, and the backup recorded in the catalog from start to end.
 *
 * Used by `lcbackup backup broker` and by `lcbackup run`. On any failure or interruption the upload
 * is aborted (no partial object, no open multipart upload) and the catalog entry marked failed.
 */
#ifndef LCB_BACKUP_BROKER_H
#define LCB_BACKUP_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"
#include "../core/secret.h"

struct lcb_aws;
struct lcb_catalog;
struct lcb_policy;
struct lcb_target;

struct lcb_broker_backup {
    /* where from */
    const struct lcb_secret *url; /* may hold credentials: never logged or stored */
    const char *tenant;
    char **types; /* NULL: discovered (and cross-checked against the broker's total) */
    size_t ntypes;
    int page_size, pages_in_flight;
    /* where to */
    const char *bucket, *prefix, *env, *target, *policy_file;
    const char *kms_key;
    int64_t object_lock; /* seconds of GOVERNANCE retention; 0: none */
    int level, threads;  /* zstd */
    size_t part_size;
    int parts_in_flight;
};

struct lcb_broker_result {
    char backup_id[64];
    char location[1024];
    uint64_t entities, size;
    char sha256[65];
    int64_t elapsed_ms;
    int discrepancies;
};

/* The broker URL of target: its "url", or the SSM parameter "url_param" (read with decryption). */
int lcb_broker_url(struct lcb_secret *out, struct lcb_aws *aws, const struct lcb_target *t,
                   struct lcb_err *err);
/* Run one backup. Returns 0 with res filled, or -1 (the catalog says failed, S3 holds nothing). */
int lcb_broker_backup_run(const struct lcb_broker_backup *b, struct lcb_aws *aws,
                          struct lcb_catalog *cat, struct lcb_broker_result *res,
                          struct lcb_err *err);

#endif
