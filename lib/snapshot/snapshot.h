/*
 * snapshot.h - block-level backups of the platform: RDS DB snapshots and EBS snapshots, taken,
 * waited for, copied to the DR region, recorded in the catalog, refreshed and deleted. What
 * `lcbackup backup rds|ebs`, `delete`, `catalog refresh`, `run` and `expire` share (lib/jobs).
 *
 * Every snapshot lcbackup makes is tagged (read back by `catalog rebuild`): lcbackup:backup-id,
 * lcbackup:env, lcbackup:policy, lcbackup:created-by, lcbackup:target, lcbackup:kind; a copy adds
 * lcbackup:copy-of (the source snapshot's ARN, or "region/snap-id" for EBS).
 *
 * Catalog rows: kind rds|ebs, location = the snapshot id (EBS sets of several volumes: the ids
 * separated by commas, in the manifest's "snapshots" order), region = where it was taken,
 * taken_at = SnapshotCreateTime (EBS: the earliest startTime), size = allocated/volume GiB in
 * bytes, manifest = JSON (ARN, engine and version, size, encryption, KMS key, the source's settings
 * for restores, the database fingerprint for RDS). Copies go to the copies table (region, snapshot
 * id). A backup whose snapshot is not available yet when lcbackup stops waiting is "pending":
 * lcb_snap_refresh() completes it (and starts the copy it still owes).
 *
 * Ownership: everything is borrowed from the caller; filled structs are caller-owned.
 */
#ifndef LCB_SNAPSHOT_SNAPSHOT_H
#define LCB_SNAPSHOT_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "../aws/ec2.h"
#include "../aws/rds.h"
#include "../catalog/catalog.h"
#include "../core/buf.h"
#include "../ext/json.h"
#include "../jobs/jobs.h"

#define LCB_SNAP_TAG_BACKUP_ID "lcbackup:backup-id"
#define LCB_SNAP_TAG_ENV "lcbackup:env"
#define LCB_SNAP_TAG_POLICY "lcbackup:policy"
#define LCB_SNAP_TAG_CREATED_BY "lcbackup:created-by"
#define LCB_SNAP_TAG_TARGET "lcbackup:target"
#define LCB_SNAP_TAG_KIND "lcbackup:kind"
#define LCB_SNAP_TAG_COPY_OF "lcbackup:copy-of"
#define LCB_SNAP_TAG_RESTORE_ID "lcbackup:restore-id"
#define LCB_SNAP_TAG_RESTORED_FROM "lcbackup:restored-from"

#define LCB_SNAP_DEFAULT_TIMEOUT (2 * 3600)
#define LCB_SNAP_GIB (1024LL * 1024 * 1024)

/* Options of one backup beyond the policy (the commands' flags); zero: the policy's choices. */
struct lcb_snap_opts {
    int no_wait;                 /* record as pending, do not wait (nor copy) */
    int64_t timeout;             /* seconds of waiting; 0: LCB_SNAP_DEFAULT_TIMEOUT */
    int no_copy;                 /* no cross-region copy */
    const char *copy_to;         /* copy to this region (default: dr_region for copy_to_dr) */
    const char *copy_kms_key;    /* KMS key there (default: storage.dr_kms_key) */
    int no_fingerprint;          /* RDS: no fingerprint */
    const char *db_url_param;    /* RDS: instead of the target's */
    long long exact_count_limit; /* RDS: instead of the target's */
};

/* ---- backups (lib/jobs kinds) ---- */

/* Back up one target: see jobs.h for the contract (recorded in jc->cat, res->backup_id filled,
 * dry runs print the calls to jc->out). o may be NULL. An available snapshot whose copy fails is
 * LCB_EPARTIAL (the backup stays completed, the copy is recorded failed); a wait that times out is
 * LCB_ETEMP with the backup pending. */
int lcb_snap_backup_rds(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                        const struct lcb_snap_opts *o, struct lcb_job_result *res,
                        struct lcb_err *err);
int lcb_snap_backup_ebs(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                        const struct lcb_snap_opts *o, struct lcb_job_result *res,
                        struct lcb_err *err);
int lcb_job_backup_rds(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                       struct lcb_job_result *res, struct lcb_err *err);
int lcb_job_backup_ebs(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                       struct lcb_job_result *res, struct lcb_err *err);

/* Delete a backup's snapshots in AWS (the snapshot and every copy in the copies table; already
 * gone counts as deleted). The caller updates the catalog (lcb_snap_mark_deleted). Returns 0, 1
 * with out->why when it must skip (a hold or a lock recorded in the manifest), or -1. */
int lcb_job_delete_rds(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
                       struct lcb_job_deleted *out, struct lcb_err *err);
int lcb_job_delete_ebs(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
                       struct lcb_job_deleted *out, struct lcb_err *err);
/* Mark a backup and its copies deleted in the catalog (with an event). */
int lcb_snap_mark_deleted(const struct lcb_job_ctx *jc, const char *backup_id, struct lcb_err *err);
/* Why a backup must not be deleted now, into why (empty when it may): a hold, or a lock until a
 * time in the future ("retain_until" or "object_lock.retain_until" in its manifest). */
int lcb_snap_protected(const struct lcb_backup *b, char *why, size_t size);

/* Complete a pending (or running, or abandoned-with-a-snapshot) rds/ebs backup from what AWS says
 * now, waiting up to wait seconds (0: look once); start the copy it still owes. *changed is set
 * when the row changed. Returns 0, or -1 (LCB_ETEMP while AWS is unreachable). */
int lcb_snap_refresh(const struct lcb_job_ctx *jc, struct lcb_backup *b, int64_t wait, int *changed,
                     struct lcb_err *err);

/* ---- shared pieces ---- */

#define LCB_SNAP_TAGS_MAX 48
struct lcb_snap_tags {
    struct lcb_query_tag tag[LCB_SNAP_TAGS_MAX];
    size_t n;
    char store[LCB_SNAP_TAGS_MAX][2][256];
};

/* lcbackup:backup-id (when backup_id is set), env, policy, created-by, kind and target (when
 * set). */
void lcb_snap_tags_base(struct lcb_snap_tags *t, const struct lcb_job_ctx *jc,
                        const char *backup_id, const char *kind, const char *target);
/* Add or replace a tag (the value cleaned to what both RDS and EC2 accept). */
void lcb_snap_tags_set(struct lcb_snap_tags *t, const char *key, const char *value);
/* A policy file's short name for tags: its file name without ".json", or "none". */
const char *lcb_snap_policy_name(const char *policy_file, char *buf, size_t size);

struct lcb_snap_copy {
    char *region;
    char *location;
    char *status;
};

/* The copies of a backup from the catalog. */
int lcb_snap_copies(struct lcb_catalog *cat, const char *backup_id, struct lcb_snap_copy **out,
                    size_t *n, struct lcb_err *err);
void lcb_snap_copies_free(struct lcb_snap_copy *c, size_t n);
/* Where a backup can be used from region here: its own snapshot(s) there, or its completed copy
 * there. *location and *region are borrowed from b or from *copies (free those after use).
 * LCB_ENOTFOUND names where the backup is. */
int lcb_snap_locate(struct lcb_catalog *cat, const struct lcb_backup *b, const char *here,
                    const char **location, const char **region, struct lcb_snap_copy **copies,
                    size_t *ncopies, struct lcb_err *err);

/* The manifest of b as a JSON object (empty when it has none); caller frees. */
struct lcb_json *lcb_snap_manifest(const struct lcb_backup *b);

/* Poll until done. poll returns an enum lcb_wait, or -1 with err (LCB_ETEMP is logged and polling
 * goes on). status receives the state text for progress lines. On timeout LCB_ETEMP "<what> still
 * <status> after <duration>"; a failed state is LCB_EREFUSED. *secs (may be NULL) gets the time
 * spent. */
typedef int (*lcb_snap_poll_fn)(void *ud, struct lcb_buf *status, struct lcb_err *err);
int lcb_snap_wait(const char *event, const char *what, int64_t timeout, lcb_snap_poll_fn poll,
                  void *ud, double *secs, struct lcb_err *err);
int lcb_snap_wait_rds_snapshot(struct lcb_rds_snapshot *out, struct lcb_rds *c, const char *id,
                               int64_t timeout, struct lcb_err *err);
/* Wait until an instance is available (for_snapshot: or storage-optimization). */
int lcb_snap_wait_rds_instance(struct lcb_rds_instance *out, struct lcb_rds *c, const char *id,
                               int64_t timeout, int for_snapshot, double *secs,
                               struct lcb_err *err);
int lcb_snap_wait_ec2_snapshots(struct lcb_ec2_snapshot_list *out, struct lcb_ec2 *c,
                                const char *const *ids, size_t n, int64_t timeout,
                                struct lcb_err *err);
int lcb_snap_wait_ec2_volume(struct lcb_ec2_volume *out, struct lcb_ec2 *c, const char *id,
                             int64_t timeout, double *secs, struct lcb_err *err);

#endif
