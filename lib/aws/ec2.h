/*
 * ec2.h - a typed EC2/EBS client on the Query protocol's EC2 dialect (query.h): snapshots of one
 * volume or of every volume of an instance at one point in time, describes with filters and
 * pagination, copies to another region, deletes, volumes from snapshots, and tags.
 *
 *   struct lcb_ec2 ec2 = { aws, "eu-west-1", NULL };
 *   struct lcb_ec2_snapshot s;
 *   lcb_ec2_snapshot_create(&s, &adopted, &ec2, "vol-0abc", "lcbackup rds-...", tags, n,
 *                           "lcbackup:backup-id", err);
 *
 * EBS snapshot ids are chosen by AWS, so a create or copy that timed out is looked for by its
 * owner tag (the backup id) before it is tried again: what an earlier attempt made is adopted, not
 * duplicated. CreateVolume carries a ClientToken and is retried safely. A dry-run client prints
 * every changing call with its parameters and does not send it.
 *
 * Describes always send Owner.1=self (aws-wire.md 2.2: without it every public snapshot is
 * listed). Ownership: filled structs and lists are caller-owned (_release). Errors are
 * lcb_query_call's (LCB_ENOTFOUND, LCB_EREFUSED, LCB_ETEMP, LCB_EAUTH); quotas are named
 * (lcb_ec2_explain).
 */
#ifndef LCB_AWS_EC2_H
#define LCB_AWS_EC2_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "../core/err.h"
#include "../ext/xml.h"
#include "query.h"
#include "waiter.h"

struct lcb_aws;

struct lcb_ec2 {
    struct lcb_aws *aws;
    const char *region; /* NULL: the client's region */
    FILE *dry_run;      /* set: print changing calls here instead of sending them */
};

struct lcb_ec2_tag {
    char *key;
    char *value;
};

struct lcb_ec2_snapshot {
    char *id; /* snapshotId */
    char *volume_id;
    char *state; /* pending, completed, error (status, or state in CreateSnapshots) */
    char *state_message;
    char *description;
    char *kms_key_id;
    char *owner_id;
    int encrypted;
    int progress; /* percent, from "37%" */
    long long volume_gib;
    time_t start_time;
    struct lcb_ec2_tag *tags;
    size_t ntags;
};

struct lcb_ec2_snapshot_list {
    struct lcb_ec2_snapshot *items;
    size_t n;
};

struct lcb_ec2_volume {
    char *id;
    char *state; /* creating, available, in-use, deleting, error */
    char *availability_zone;
    char *volume_type;
    char *snapshot_id; /* NULL when not made from a snapshot */
    char *kms_key_id;
    char *instance_id; /* the first attachment's, or NULL */
    char *device;
    int encrypted;
    int iops;
    int throughput;
    long long size_gib;
    time_t create_time;
    struct lcb_ec2_tag *tags;
    size_t ntags;
};

struct lcb_ec2_volume_list {
    struct lcb_ec2_volume *items;
    size_t n;
};

/* ---- pure rules ---- */

/* Snapshot state: completed -> DONE, pending -> PENDING, error (and anything unknown but
 * recoverable/recovering, which are archive tiers) -> FAILED for error. */
enum lcb_wait lcb_ec2_snapshot_wait_state(const char *state);
/* Volume state: available (or in-use) -> DONE, creating -> PENDING, the rest -> FAILED. */
enum lcb_wait lcb_ec2_volume_wait_state(const char *state);
/* "37%" -> 37; -1 when it is not a percentage. */
int lcb_ec2_progress(const char *s);
const char *lcb_ec2_tag_get(const struct lcb_ec2_tag *tags, size_t n, const char *key);
/* Is s a snapshot id (snap- and 8 or 17 hex digits), a volume id (vol-...), an instance id (i-...)?
 */
int lcb_ec2_id_valid(const char *s, const char *prefix);

/* Read an <item> of snapshotSet (or CreateSnapshot's answer root) / volumeSet. */
int lcb_ec2_snapshot_parse(struct lcb_ec2_snapshot *out, const struct lcb_xml_node *n,
                           struct lcb_err *err);
int lcb_ec2_volume_parse(struct lcb_ec2_volume *out, const struct lcb_xml_node *n,
                         struct lcb_err *err);
void lcb_ec2_snapshot_release(struct lcb_ec2_snapshot *s);
void lcb_ec2_snapshot_list_release(struct lcb_ec2_snapshot_list *l);
void lcb_ec2_volume_release(struct lcb_ec2_volume *v);
void lcb_ec2_volume_list_release(struct lcb_ec2_volume_list *l);

/* Name the quota behind SnapshotLimitExceeded, ResourceLimitExceeded, VolumeLimitExceeded,
 * MaxIOPSLimitExceeded... (LCB_EREFUSED) and explain SnapshotCreationPerVolumeRateExceeded. */
void lcb_ec2_explain(struct lcb_err *err, const char *region);

/* ---- calls ---- */

/* DescribeSnapshots (Owner self) by ids and/or filters, all pages. */
int lcb_ec2_snapshot_list(struct lcb_ec2_snapshot_list *out, struct lcb_ec2 *c,
                          const char *const *ids, size_t nids, const struct lcb_query_filter *f,
                          size_t nf, struct lcb_err *err);
/* One snapshot. LCB_ENOTFOUND when it does not exist. */
int lcb_ec2_snapshot_get(struct lcb_ec2_snapshot *out, struct lcb_ec2 *c, const char *id,
                         struct lcb_err *err);
/* DescribeVolumes by ids and/or filters (tag:Name, attachment.instance-id...), all pages. */
int lcb_ec2_volume_list(struct lcb_ec2_volume_list *out, struct lcb_ec2 *c, const char *const *ids,
                        size_t nids, const struct lcb_query_filter *f, size_t nf,
                        struct lcb_err *err);
int lcb_ec2_volume_get(struct lcb_ec2_volume *out, struct lcb_ec2 *c, const char *id,
                       struct lcb_err *err);

/* CreateSnapshot of one volume, tagged (TagSpecification snapshot). owner_key names the tag among
 * tags that identifies this request: after a timeout or 5xx a snapshot of the volume carrying it
 * is adopted (*adopted = 1) instead of taking a second one. */
int lcb_ec2_snapshot_create(struct lcb_ec2_snapshot *out, int *adopted, struct lcb_ec2 *c,
                            const char *volume_id, const char *description,
                            const struct lcb_query_tag *tags, size_t ntags, const char *owner_key,
                            struct lcb_err *err);
/* CreateSnapshots: every volume of an instance (the boot volume too unless exclude_boot) at one
 * point in time; one snapshot per volume in *out. Adoption as above. */
int lcb_ec2_snapshots_create(struct lcb_ec2_snapshot_list *out, int *adopted, struct lcb_ec2 *c,
                             const char *instance_id, int exclude_boot, const char *description,
                             const struct lcb_query_tag *tags, size_t ntags, const char *owner_key,
                             struct lcb_err *err);

struct lcb_ec2_copy_req {
    const char *source_region;
    const char *source_id;
    const char *description;
    const char *kms_key_id; /* a key in the destination: the copy is encrypted with it */
    int encrypted;          /* Encrypted=true (required with kms_key_id; implied for encrypted
                               sources) */
    const struct lcb_query_tag *tags;
    size_t ntags;
    const char *owner_key;
};

/* CopySnapshot sent to c's region (the destination) with SourceRegion, DestinationRegion and a
 * PresignedUrl (botocore's recipe). *out holds the new snapshot id and tags; state pending.
 * After a timeout or 5xx a copy in the destination carrying the owner tag is adopted. */
int lcb_ec2_snapshot_copy(struct lcb_ec2_snapshot *out, int *adopted, struct lcb_ec2 *c,
                          const struct lcb_ec2_copy_req *r, struct lcb_err *err);
/* DeleteSnapshot. LCB_ENOTFOUND when it is already gone. */
int lcb_ec2_snapshot_delete(struct lcb_ec2 *c, const char *id, struct lcb_err *err);

struct lcb_ec2_volume_req {
    const char *snapshot_id;
    const char *availability_zone;
    const char *volume_type;  /* NULL: the API's default (gp2) */
    long long size_gib;       /* 0: the snapshot's size */
    int iops;                 /* 0: not sent */
    int throughput;           /* 0: not sent */
    const char *kms_key_id;   /* set: Encrypted=true with this key */
    const char *client_token; /* idempotency (<= 64 ASCII characters) */
    const struct lcb_query_tag *tags;
    size_t ntags;
};

/* CreateVolume (TagSpecification volume). *out is the new volume (state creating). */
int lcb_ec2_volume_create(struct lcb_ec2_volume *out, struct lcb_ec2 *c,
                          const struct lcb_ec2_volume_req *r, struct lcb_err *err);
/* DeleteVolume (it must be detached). LCB_ENOTFOUND when it is already gone. */
int lcb_ec2_volume_delete(struct lcb_ec2 *c, const char *id, struct lcb_err *err);
/* CreateTags on resources. */
int lcb_ec2_tags_create(struct lcb_ec2 *c, const char *const *ids, size_t nids,
                        const struct lcb_query_tag *tags, size_t ntags, struct lcb_err *err);

const char *lcb_ec2_region(const struct lcb_ec2 *c);

#endif
