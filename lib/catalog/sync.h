/*
 * sync.h - the catalog off the host: publish it to S3, pull it on another host, merge two copies.
 *
 * The remote copy lives at s3://<bucket>/<prefix>/catalog/<env>/catalog.db. Publishing uploads a
 * consistent snapshot (VACUUM INTO) with a conditional write: If-Match on the ETag this catalog
 * last published or pulled, or If-None-Match: * when it has never seen one. When S3 answers 412
 * (another runner published meanwhile), the remote copy is pulled, merged into the local catalog,
 * and the upload retried on the new ETag, so two runners never overwrite each other's records.
 *
 * The ETag last seen is kept beside the catalog in <catalog>.remote ("s3://bucket/key ETAG").
 *
 * Merge (docs/catalog.md, "Merging"): the union of runs, backups, copies, restores, drills and
 * events. A row present on both sides keeps the one further along its life cycle (running <
 * pending < completed|failed < expired|deleted for backups; running < abandoned < any final status
 * for runs, restores and drills); on a tie the later completion or end time, then the local row.
 * verified_at is the later of the two and a hold on either side is kept: a merge never removes a
 * protection. Copies: the later updated_at. Events are identified by (at, run, backup, event,
 * detail) and appended when missing.
 */
#ifndef LCB_CATALOG_SYNC_H
#define LCB_CATALOG_SYNC_H

#include "../core/err.h"
#include "catalog.h"

struct lcb_aws;

struct lcb_sync_remote {
    const char *bucket;
    const char *key;     /* lcb_catalog_remote_key() */
    const char *kms_key; /* SSE-KMS key for the upload; NULL: the bucket's default encryption */
};

struct lcb_merge_stats {
    int inserted; /* rows the other side had and this one did not */
    int updated;  /* rows where the other side's version won */
    int events;   /* events appended */
};

struct lcb_sync_result {
    char etag[80];  /* the remote object's ETag now */
    int attempts;   /* uploads tried */
    int merges;     /* remote copies merged in before the upload went through */
    long long bytes;
    struct lcb_merge_stats merged;
};

/* "<prefix>/catalog/<env>/catalog.db" (caller frees). */
char *lcb_catalog_remote_key(const char *prefix, const char *env);

/* Upload the catalog (see above), retrying up to 5 times on conflicts. Returns 0 with res filled,
 * or -1: lcb_aws_send's codes, LCB_ETEMP after 5 conflicts in a row, LCB_EIO for the snapshot. */
int lcb_catalog_publish(struct lcb_catalog *cat, struct lcb_aws *aws,
                        const struct lcb_sync_remote *r, struct lcb_sync_result *res,
                        struct lcb_err *err);
/* Download the remote catalog and merge it into cat; remember its ETag. Returns 0, or -1:
 * LCB_ENOTFOUND (nothing published yet), LCB_ECORRUPT (not a catalog), LCB_ECONFIG (a newer
 * schema than this lcbackup knows), lcb_aws_send's codes. */
int lcb_catalog_pull(struct lcb_catalog *cat, struct lcb_aws *aws, const struct lcb_sync_remote *r,
                     struct lcb_sync_result *res, struct lcb_err *err);
/* What a publish or pull did ("published s3://... (N bytes, ETag ...)" and a line on what was
 * merged), or one JSON object with json set; appended to out. verb: "published" or "pulled". */
void lcb_sync_describe(struct lcb_buf *out, const char *verb, const struct lcb_sync_remote *r,
                       const struct lcb_sync_result *res, int json);
/* Merge the catalog file at path into cat (path is migrated first if older). Returns 0 or -1. */
int lcb_catalog_merge(struct lcb_catalog *cat, const char *path, struct lcb_merge_stats *st,
                      struct lcb_err *err);

#endif
