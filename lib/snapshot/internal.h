/*
 * internal.h - what lib/snapshot's files share and nobody else needs: catalog rows, manifests,
 * and recording what AWS says about a snapshot.
 */
#ifndef LCB_SNAPSHOT_INTERNAL_H
#define LCB_SNAPSHOT_INTERNAL_H

#include "snapshot.h"

/* Add a backup row (status running) for kind/target/source in region; b->id is assigned. */
int snap_backup_begin(const struct lcb_job_ctx *jc, struct lcb_backup *b, const char *kind,
                      const char *target, const char *source, const char *region,
                      struct lcb_err *err);
/* Mark b failed with why's text (redacted); catalog errors are logged, not returned. */
void snap_backup_fail(const struct lcb_job_ctx *jc, struct lcb_backup *b,
                      const struct lcb_err *why);
/* Store m as b's manifest, set the status (completed sets completed_at) and write the row. */
int snap_backup_save(const struct lcb_job_ctx *jc, struct lcb_backup *b, const struct lcb_json *m,
                     const char *status, struct lcb_err *err);
void snap_manifest_store(struct lcb_backup *b, const struct lcb_json *m);
/* A wait for b's snapshot that ended without it: a timeout or an interruption leaves b pending
 * (err says `catalog refresh` completes it), anything else marks it failed. */
void snap_backup_unfinished(const struct lcb_job_ctx *jc, struct lcb_backup *b,
                            const struct lcb_json *m, struct lcb_err *err);
/* A copy to dest that did not finish; the backup itself is complete. The copies row is added
 * with location (recorded 0) or, when a final failure, set failed (recorded 1). Returns -1 with
 * err LCB_EPARTIAL (LCB_EINTR stays) saying whether the copy failed or is still pending. */
int snap_copy_failed(const struct lcb_job_ctx *jc, const struct lcb_backup *b, const char *dest,
                     const char *location, int recorded, struct lcb_err *err);

/* Delete the snapshots listed in location (ids separated by commas) in region, adding their
 * count to *deleted; already gone counts as deleted. Returns 0 or -1. */
typedef int (*snap_delete_fn)(const struct lcb_job_ctx *jc, const char *region,
                              const char *location, int *deleted, struct lcb_err *err);
/* lcb_job_delete_rds/ebs through del: every copy not yet deleted, then the backup's own. */
int snap_delete_all(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
                    struct lcb_job_deleted *out, snap_delete_fn del, struct lcb_err *err);


/* JSON setters that skip NULL strings and replace existing members. */
void snap_json_str(struct lcb_json *o, const char *key, const char *v);
void snap_json_time(struct lcb_json *o, const char *key, time_t t);
void snap_json_bool(struct lcb_json *o, const char *key, int v);
void snap_json_num(struct lcb_json *o, const char *key, double v);

/* A completed RDS snapshot into b (location, taken_at, size) and manifest m. */
void snap_rds_fill(struct lcb_backup *b, struct lcb_json *m, const struct lcb_rds_snapshot *s,
                   const char *region);
/* EBS snapshots into b and m ("snapshots"); vols (may be NULL) adds each volume's settings. */
void snap_ec2_fill(struct lcb_backup *b, struct lcb_json *m, const struct lcb_ec2_snapshot_list *s,
                   const struct lcb_ec2_volume_list *vols);

/* The copy region and key for a target under options (NULL: no copy). */
const char *snap_copy_region(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                             const struct lcb_snap_opts *o);
const char *snap_copy_key(const struct lcb_job_ctx *jc, const struct lcb_snap_opts *o);

/* Copy a completed backup to dest and record it (rds.c, ebs.c; used by refresh too). */
int snap_rds_copy(const struct lcb_job_ctx *jc, struct lcb_backup *b, struct lcb_json *m,
                  const struct lcb_rds_snapshot *src, const char *dest, const char *kms,
                  int no_wait, int64_t timeout, struct lcb_err *err);
int snap_ec2_copy(const struct lcb_job_ctx *jc, struct lcb_backup *b, struct lcb_json *m,
                  const struct lcb_ec2_snapshot_list *src, const char *dest, const char *kms,
                  int no_wait, int64_t timeout, struct lcb_err *err);

/* What refreshing a backup of either kind shares (refresh.c). A look at b's snapshot that
 * failed: gone or in error marks b failed, a wait that timed out leaves it pending (event logs
 * it); both return 0, anything else -1 with err. */
int snap_refresh_unseen(const struct lcb_job_ctx *jc, struct lcb_backup *b, const char *event,
                        int64_t wait, int *changed, struct lcb_err *err);
/* b's snapshot is complete: save b completed with m; *owed says whether the copy to dest (NULL:
 * none) is still to start. Returns 0 or -1. */
int snap_refresh_completed(const struct lcb_job_ctx *jc, struct lcb_backup *b,
                           const struct lcb_json *m, const char *dest, int *changed, int *owed,
                           struct lcb_err *err);
/* Refresh one backup of each kind (refresh.c dispatches). */
int snap_rds_refresh(const struct lcb_job_ctx *jc, struct lcb_backup *b, struct lcb_json *m,
                     int64_t wait, int *changed, struct lcb_err *err);
int snap_ec2_refresh(const struct lcb_job_ctx *jc, struct lcb_backup *b, struct lcb_json *m,
                     int64_t wait, int *changed, struct lcb_err *err);

#endif
