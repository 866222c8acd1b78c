/*
 * rds.h - a typed RDS client on the Query protocol (query.h): DB snapshots (create, describe,
 * copy to another region, delete), DB instances (describe, restore from a snapshot or to a point in
 * time) and tags, plus the pure rules around them (identifiers, snapshot names, states).
 *
 *   struct lcb_rds rds = { aws, "eu-west-1", NULL };
 *   struct lcb_rds_snapshot s;
 *   if (lcb_rds_snapshot_create(&s, &adopted, &rds, "db1", name, tags, n, "lcbackup:backup-id",
 *                               err) < 0) ...
 *   lcb_rds_snapshot_release(&s);
 *
 * Creates and copies are not blindly retried (aws.h no_blind_retry): after a timeout or a 5xx the
 * snapshot may exist, so the client describes it and adopts it when its owner tag (the backup id)
 * is ours; DBSnapshotAlreadyExists is handled the same way (aws-wire.md 5). A dry-run client
 * (dry_run set) prints every call that would change something, with all its parameters, and does
 * not send it; describes are still sent.
 *
 * Ownership: structs filled here are caller-owned (_release); lists likewise. Requests borrow their
 * strings. Errors are lcb_query_call's (LCB_ENOTFOUND 66, LCB_EREFUSED 69, LCB_ETEMP 75, LCB_EAUTH
 * 77), with quota and state errors explained (lcb_rds_explain).
 */
#ifndef LCB_AWS_RDS_H
#define LCB_AWS_RDS_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "../core/err.h"
#include "../ext/xml.h"
#include "query.h"
#include "waiter.h"

struct lcb_aws;

#define LCB_RDS_SNAPSHOT_ID_MAX 255
#define LCB_RDS_INSTANCE_ID_MAX 63

struct lcb_rds {
    struct lcb_aws *aws;
    const char *region; /* NULL: the client's region */
    FILE *dry_run;      /* set: print changing calls here instead of sending them */
};

struct lcb_rds_tag {
    char *key;
    char *value;
};

struct lcb_rds_snapshot {
    char *id; /* DBSnapshotIdentifier */
    char *instance_id;
    char *arn;
    char *status;        /* creating, available, copying, failed... */
    char *snapshot_type; /* manual, automated */
    char *engine;
    char *engine_version;
    char *kms_key_id;
    char *availability_zone;
    char *storage_type;
    char *source_region; /* cross-region copies */
    char *source_arn;    /* SourceDBSnapshotIdentifier of a copy */
    char *dbi_resource_id;
    long long allocated_gib;
    int encrypted;
    int percent;
    int port;
    time_t create_time; /* SnapshotCreateTime; 0 when absent */
    struct lcb_rds_tag *tags;
    size_t ntags;
};

struct lcb_rds_snapshot_list {
    struct lcb_rds_snapshot *items;
    size_t n;
};

struct lcb_rds_instance {
    char *id;
    char *arn;
    char *status; /* DBInstanceStatus */
    char *instance_class;
    char *engine;
    char *engine_version;
    char *address; /* Endpoint/Address; NULL while creating */
    char *availability_zone;
    char *subnet_group;
    char *parameter_group;
    char *option_group;
    char *kms_key_id;
    char *storage_type;
    char *db_name;
    char *master_user;
    char *dbi_resource_id;
    int port;      /* Endpoint/Port */
    int encrypted; /* StorageEncrypted */
    int multi_az;
    int publicly_accessible;
    int backup_retention;
    long long allocated_gib;
    time_t latest_restorable; /* LatestRestorableTime; 0 when none */
    char **security_groups;   /* VpcSecurityGroups/VpcSecurityGroupMembership/VpcSecurityGroupId */
    size_t nsecurity_groups;
    struct lcb_rds_tag *tags;
    size_t ntags;
};

/* ---- pure rules ---- */

/* RDS identifier rules: 1..maxlen of [A-Za-z0-9-], a letter first, no "--", no trailing '-'. */
int lcb_rds_ident_valid(const char *id, size_t maxlen);
/* "lcb-<instance>-<UTC yyyymmdd-hhmmss>" in lower case into out. Returns 0, or -1 when it would
 * not be a valid snapshot identifier (the instance id itself is not valid). */
int lcb_rds_snapshot_name(char *out, size_t size, const char *instance, time_t t);
/* Snapshot Status: available -> DONE; creating, copying, pending, modifying... -> PENDING;
 * failed, deleted, deleting, incompatible-* -> FAILED. */
enum lcb_wait lcb_rds_snapshot_wait_state(const char *status);
/* DBInstanceStatus: available -> DONE; states an instance leaves by itself (backing-up, modifying,
 * creating, configuring-*, rebooting, renaming, starting, upgrading, maintenance,
 * storage-optimization, resetting-master-credentials, ...) -> PENDING; the rest (stopped, failed,
 * storage-full, incompatible-*, inaccessible-encryption-credentials, deleting...) -> FAILED. */
enum lcb_wait lcb_rds_instance_wait_state(const char *status);
/* May CreateDBSnapshot be called now? (available or storage-optimization) */
int lcb_rds_instance_snapshottable(const char *status);
/* A tag's value (borrowed), or NULL. */
const char *lcb_rds_tag_get(const struct lcb_rds_tag *tags, size_t n, const char *key);

/* Read a <DBSnapshot> / <DBInstance> element. Return 0, or -1 (LCB_ECORRUPT) when it has no
 * identifier. */
int lcb_rds_snapshot_parse(struct lcb_rds_snapshot *out, const struct lcb_xml_node *n,
                           struct lcb_err *err);
int lcb_rds_instance_parse(struct lcb_rds_instance *out, const struct lcb_xml_node *n,
                           struct lcb_err *err);
void lcb_rds_snapshot_release(struct lcb_rds_snapshot *s);
void lcb_rds_snapshot_list_release(struct lcb_rds_snapshot_list *l);
void lcb_rds_instance_release(struct lcb_rds_instance *i);

/* Turn a failed call's error into what an on-call engineer needs: SnapshotQuotaExceeded names the
 * quota (LCB_EREFUSED), InvalidDBInstanceState and InvalidDBSnapshotState say what to wait for. */
void lcb_rds_explain(struct lcb_err *err, const char *region);

/* ---- calls ---- */

/* One instance. LCB_ENOTFOUND when it does not exist. */
int lcb_rds_instance_get(struct lcb_rds_instance *out, struct lcb_rds *c, const char *id,
                         struct lcb_err *err);
/* One snapshot by id (or ARN). LCB_ENOTFOUND when it does not exist. */
int lcb_rds_snapshot_get(struct lcb_rds_snapshot *out, struct lcb_rds *c, const char *id,
                         struct lcb_err *err);
/* Every snapshot of an instance (NULL: all) of a type (NULL: all), all pages. */
int lcb_rds_snapshot_list(struct lcb_rds_snapshot_list *out, struct lcb_rds *c,
                          const char *instance, const char *type, struct lcb_err *err);

/* CreateDBSnapshot. owner_key names the tag (among tags) whose value identifies this request: a
 * snapshot that already exists under id with that tag and value is adopted (*adopted = 1); one
 * without it is LCB_EREFUSED. A timeout or 5xx is followed by a describe and, when nothing was
 * created, up to two more attempts. */
int lcb_rds_snapshot_create(struct lcb_rds_snapshot *out, int *adopted, struct lcb_rds *c,
                            const char *instance, const char *id, const struct lcb_query_tag *tags,
                            size_t ntags, const char *owner_key, struct lcb_err *err);

struct lcb_rds_copy_req {
    const char *source_arn;    /* the source snapshot's ARN */
    const char *source_region; /* its region; a PreSignedUrl is made when it differs from c's */
    const char *target_id;
    const char *kms_key_id; /* a key in the destination region (required for encrypted sources) */
    const struct lcb_query_tag *tags;
    size_t ntags;
    const char *owner_key;
};

/* CopyDBSnapshot sent to c's region (the destination), with SourceDBSnapshotIdentifier = the ARN
 * and, across regions, PreSignedUrl (botocore's recipe: the same parameters plus
 * DestinationRegion, a GET to the source region signed for 3600 s). Adoption as for create. */
int lcb_rds_snapshot_copy(struct lcb_rds_snapshot *out, int *adopted, struct lcb_rds *c,
                          const struct lcb_rds_copy_req *r, struct lcb_err *err);
/* DeleteDBSnapshot. LCB_ENOTFOUND when it is already gone. */
int lcb_rds_snapshot_delete(struct lcb_rds *c, const char *id, struct lcb_err *err);

struct lcb_rds_restore_req {
    const char *target;          /* the new instance's identifier */
    const char *snapshot;        /* RestoreDBInstanceFromDBSnapshot: snapshot id or ARN */
    const char *source_instance; /* RestoreDBInstanceToPointInTime: the source */
    time_t restore_time;         /* PITR: RestoreTime (0: use_latest) */
    int use_latest;              /* PITR: UseLatestRestorableTime=true */
    const char *instance_class;
    const char *subnet_group;
    const char *const *security_groups;
    size_t nsecurity_groups;
    const char *availability_zone;
    const char *parameter_group;
    const char *option_group;
    int port;                /* 0: the engine's default */
    int multi_az;            /* -1: not sent */
    int publicly_accessible; /* -1: not sent */
    const struct lcb_query_tag *tags;
    size_t ntags;
    const char *owner_key; /* a tag among tags: an existing target carrying it is adopted
                              after a timeout or 5xx (the restore may have started) */
};

/* RestoreDBInstanceFromDBSnapshot / RestoreDBInstanceToPointInTime. *out is the new instance as
 * the answer describes it (status creating). LCB_EREFUSED when the target exists
 * (DBInstanceAlreadyExists) or the time is outside the restorable window (InvalidRestoreFault). */
int lcb_rds_restore_snapshot(struct lcb_rds_instance *out, struct lcb_rds *c,
                             const struct lcb_rds_restore_req *r, struct lcb_err *err);
int lcb_rds_restore_pitr(struct lcb_rds_instance *out, struct lcb_rds *c,
                         const struct lcb_rds_restore_req *r, struct lcb_err *err);

/* DeleteDBInstance without a final snapshot, automated backups included (drills tear down their
 * throwaway instances with it). LCB_ENOTFOUND when it is already gone. */
int lcb_rds_instance_delete(struct lcb_rds *c, const char *id, struct lcb_err *err);

/* AddTagsToResource / ListTagsForResource on an ARN. */
int lcb_rds_tags_add(struct lcb_rds *c, const char *arn, const struct lcb_query_tag *tags,
                     size_t ntags, struct lcb_err *err);
int lcb_rds_tags_list(struct lcb_rds_tag **out, size_t *n, struct lcb_rds *c, const char *arn,
                      struct lcb_err *err);
void lcb_rds_tags_free(struct lcb_rds_tag *tags, size_t n);

/* The region c talks to (its own, else the client's; NULL when neither is known). */
const char *lcb_rds_region(const struct lcb_rds *c);

#endif
