/*
 * inventory.h - what lcbackup has left in AWS, read back without the catalog: the RDS and EBS
 * snapshots tagged lcbackup:backup-id in the policy's region and DR region (copies carry
 * lcbackup:copy-of), the archives under s3://<bucket>/<prefix>/<env>/ with their sidecar
 * <key>.manifest.json, and the multipart uploads left open under <prefix>/.
 *
 * `catalog rebuild` turns an inventory into catalog rows (lcb_rebuild); `catalog drift` compares
 * one with the catalog (lcb_drift_compare). The tags and the sidecar shape are jobs.h's contract.
 *
 * Ownership: an inventory owns its items and their strings (_release).
 */
#ifndef LCB_JOBS_INVENTORY_H
#define LCB_JOBS_INVENTORY_H

#include <stddef.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../policy/policy.h"

struct lcb_aws;
struct lcb_catalog;

enum lcb_inv_what { LCB_INV_SNAPSHOT, LCB_INV_ARCHIVE, LCB_INV_UPLOAD };

struct lcb_inv_item {
    enum lcb_inv_what what;
    enum lcb_kind kind;
    char *backup_id; /* NULL: an archive without a readable sidecar, an upload */
    char *env, *target, *policy, *source;
    char *region;
    char *location;  /* snapshot id (an EBS set: ids joined by commas), or s3://bucket/key */
    char *state;     /* AWS's (available, completed, creating, pending, error); archives "stored";
                        uploads their upload id */
    time_t taken;    /* snapshot creation, the sidecar's taken_at, an upload's initiation */
    int copy;        /* a cross-region copy (tag lcbackup:copy-of) */
    long long size, items;
    char *sha256;
    char *manifest;  /* the sidecar's manifest object (JSON text), or NULL */
    int archive;     /* archives: the object exists */
    int sidecar;     /* archives: its sidecar exists */
};

struct lcb_inventory {
    struct lcb_inv_item *items;
    size_t n, cap;
};

void lcb_inventory_init(struct lcb_inventory *inv);
void lcb_inventory_release(struct lcb_inventory *inv);

/* Read everything for env (NULL: the policy's) from AWS. Snapshots tagged with another
 * lcbackup:env are left out. Returns 0, or -1 with lcb_aws_send's codes. */
int lcb_inventory_collect(struct lcb_inventory *inv, struct lcb_aws *aws,
                          const struct lcb_policy *p, const char *env, struct lcb_err *err);

/* Parse a sidecar's text into it (backup_id, kind, env, target, taken_at, sha256, size, entities,
 * manifest; at the top level or inside "backup"). Returns 0, or -1 (LCB_ECORRUPT) when it is not
 * JSON or has no backup_id and kind. Exposed for tests. */
int lcb_inventory_sidecar(struct lcb_inv_item *it, const char *text, size_t len,
                          struct lcb_err *err);

/* ---- catalog rebuild ---- */

struct lcb_rebuild_stats {
    int added;   /* backups recorded */
    int known;   /* backups the catalog already had */
    int copies;  /* copies recorded */
    int skipped; /* what cannot be a backup: an archive without its sidecar or a sidecar without
                    its archive, uploads */
};

/* Record in cat every backup and copy of inv it does not know yet (the rebuild's run owns them).
 * A line per backup added goes to report. Returns 0 or -1 (catalog errors). */
int lcb_rebuild(struct lcb_catalog *cat, const struct lcb_inventory *inv,
                const struct lcb_policy *p, const char *env, struct lcb_rebuild_stats *st,
                struct lcb_buf *report, struct lcb_err *err);

/* ---- catalog drift ---- */

struct lcb_drift_item {
    const char *what; /* missing, missing-copy, unknown, not-expired, no-sidecar, no-archive,
                         upload */
    char *backup_id;  /* may be NULL */
    char *detail;
};

struct lcb_drift {
    struct lcb_drift_item *items;
    size_t n, cap;
};

void lcb_drift_release(struct lcb_drift *d);

/* Compare the catalog's backups and copies of env (completed or pending: what should exist) with
 * inv, and list what they disagree on. Returns 0 or -1 (catalog errors). */
int lcb_drift_compare(struct lcb_drift *out, struct lcb_catalog *cat,
                      const struct lcb_inventory *inv, const char *env, struct lcb_err *err);

#endif
