/* rds.c - the typed RDS client; see rds.h. */
#include "rds.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/mem.h"
#include "aws.h"
#include "retry.h"

#define PRESIGN_EXPIRES 3600
#define CREATE_TRIES 3

/* ---- pure rules ---- */

int
lcb_rds_ident_valid(const char *id, size_t maxlen)
{
    size_t i, n = id ? strlen(id) : 0;

    if (n == 0 || n > maxlen || !isalpha((unsigned char)id[0]) || id[n - 1] == '-')
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (!(isalnum(ch) || ch == '-') || ch > 127)
            return 0;
        if (ch == '-' && id[i + 1] == '-')
            return 0;
    }
    return 1;
}

int
lcb_rds_snapshot_name(char *out, size_t size, const char *instance, time_t t)
{
    struct tm tm;
    char ts[20];
    size_t i;
    int n;

    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
    n = snprintf(out, size, "lcb-%s-%s", instance ? instance : "", ts);
    if (n < 0 || (size_t)n >= size)
        return -1;
    for (i = 0; out[i]; i++)
        out[i] = (char)tolower((unsigned char)out[i]);
    return lcb_rds_ident_valid(instance, LCB_RDS_INSTANCE_ID_MAX) &&
                   lcb_rds_ident_valid(out, LCB_RDS_SNAPSHOT_ID_MAX)
               ? 0
               : -1;
}

static int
in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

enum lcb_wait
lcb_rds_snapshot_wait_state(const char *status)
{
    static const char *const failed[] = {
        "failed", "deleted", "deleting", "incompatible-restore", "incompatible-parameters",
        "error",  NULL};

    if (!status)
        return LCB_WAIT_PENDING;
    if (strcmp(status, "available") == 0)
        return LCB_WAIT_DONE;
    return in_list(status, failed) ? LCB_WAIT_FAILED : LCB_WAIT_PENDING;
}

enum lcb_wait
lcb_rds_instance_wait_state(const char *status)
{
    static const char *const failed[] = {"failed",
                                         "stopped",
                                         "stopping",
                                         "storage-full",
                                         "deleting",
                                         "deleted",
                                         "incompatible-restore",
                                         "incompatible-parameters",
                                         "incompatible-network",
                                         "incompatible-option-group",
                                         "incompatible-credentials",
                                         "inaccessible-encryption-credentials",
                                         "inaccessible-encryption-credentials-recoverable",
                                         "insufficient-capacity",
                                         "restore-error",
                                         NULL};

    if (!status)
        return LCB_WAIT_PENDING;
    if (strcmp(status, "available") == 0)
        return LCB_WAIT_DONE;
    return in_list(status, failed) ? LCB_WAIT_FAILED : LCB_WAIT_PENDING;
}

int
lcb_rds_instance_snapshottable(const char *status)
{
    return status &&
           (strcmp(status, "available") == 0 || strcmp(status, "storage-optimization") == 0);
}

const char *
lcb_rds_tag_get(const struct lcb_rds_tag *tags, size_t n, const char *key)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

/* ---- parsing ---- */

static void
parse_tags(struct lcb_rds_tag **out, size_t *n, const struct lcb_xml_node *list)
{
    struct lcb_xml_node *t;
    size_t i = 0;

    *n = lcb_xml_count(list, "Tag");
    *out = lcb_xcalloc(*n + 1, sizeof(**out));
    for (t = lcb_xml_child(list, "Tag"); t && i < *n; t = lcb_xml_next(t, "Tag"), i++) {
        (*out)[i].key = lcb_xstrdup(lcb_xml_get(t, "Key") ? lcb_xml_get(t, "Key") : "");
        (*out)[i].value = lcb_xstrdup(lcb_xml_get(t, "Value") ? lcb_xml_get(t, "Value") : "");
    }
    *n = i;
}

void
lcb_rds_tags_free(struct lcb_rds_tag *tags, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(tags[i].key);
        free(tags[i].value);
    }
    free(tags);
}

int
lcb_rds_snapshot_parse(struct lcb_rds_snapshot *out, const struct lcb_xml_node *n,
                       struct lcb_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!(out->id = lcb_query_text(n, "DBSnapshotIdentifier")))
        return lcb_err_set(err, LCB_ECORRUPT, "rds: a DBSnapshot without DBSnapshotIdentifier");
    out->instance_id = lcb_query_text(n, "DBInstanceIdentifier");
    out->arn = lcb_query_text(n, "DBSnapshotArn");
    out->status = lcb_query_text(n, "Status");
    out->snapshot_type = lcb_query_text(n, "SnapshotType");
    out->engine = lcb_query_text(n, "Engine");
    out->engine_version = lcb_query_text(n, "EngineVersion");
    out->kms_key_id = lcb_query_text(n, "KmsKeyId");
    out->availability_zone = lcb_query_text(n, "AvailabilityZone");
    out->storage_type = lcb_query_text(n, "StorageType");
    out->source_region = lcb_query_text(n, "SourceRegion");
    out->source_arn = lcb_query_text(n, "SourceDBSnapshotIdentifier");
    out->dbi_resource_id = lcb_query_text(n, "DbiResourceId");
    out->allocated_gib = lcb_xml_get_ll(n, "AllocatedStorage", 0);
    out->encrypted = lcb_xml_get_bool(n, "Encrypted", 0);
    out->percent = (int)lcb_xml_get_ll(n, "PercentProgress", 0);
    out->port = (int)lcb_xml_get_ll(n, "Port", 0);
    out->create_time = lcb_query_time(n, "SnapshotCreateTime");
    parse_tags(&out->tags, &out->ntags, lcb_xml_child(n, "TagList"));
    return 0;
}

static void
parse_security_groups(struct lcb_rds_instance *out, const struct lcb_xml_node *list)
{
    struct lcb_xml_node *m;
    size_t cap = lcb_xml_count(list, "VpcSecurityGroupMembership");

    out->security_groups = lcb_xcalloc(cap + 1, sizeof(char *));
    for (m = lcb_xml_child(list, "VpcSecurityGroupMembership"); m && out->nsecurity_groups < cap;
         m = lcb_xml_next(m, "VpcSecurityGroupMembership")) {
        char *id = lcb_query_text(m, "VpcSecurityGroupId");
        if (id)
            out->security_groups[out->nsecurity_groups++] = id;
    }
}

int
lcb_rds_instance_parse(struct lcb_rds_instance *out, const struct lcb_xml_node *n,
                       struct lcb_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!(out->id = lcb_query_text(n, "DBInstanceIdentifier")))
        return lcb_err_set(err, LCB_ECORRUPT, "rds: a DBInstance without DBInstanceIdentifier");
    out->arn = lcb_query_text(n, "DBInstanceArn");
    out->status = lcb_query_text(n, "DBInstanceStatus");
    out->instance_class = lcb_query_text(n, "DBInstanceClass");
    out->engine = lcb_query_text(n, "Engine");
    out->engine_version = lcb_query_text(n, "EngineVersion");
    out->address = lcb_query_text(n, "Endpoint/Address");
    out->port = (int)lcb_xml_get_ll(n, "Endpoint/Port", 0);
    out->availability_zone = lcb_query_text(n, "AvailabilityZone");
    out->subnet_group = lcb_query_text(n, "DBSubnetGroup/DBSubnetGroupName");
    out->parameter_group =
        lcb_query_text(n, "DBParameterGroups/DBParameterGroup/DBParameterGroupName");
    out->option_group =
        lcb_query_text(n, "OptionGroupMemberships/OptionGroupMembership/OptionGroupName");
    out->kms_key_id = lcb_query_text(n, "KmsKeyId");
    out->storage_type = lcb_query_text(n, "StorageType");
    out->db_name = lcb_query_text(n, "DBName");
    out->master_user = lcb_query_text(n, "MasterUsername");
    out->dbi_resource_id = lcb_query_text(n, "DbiResourceId");
    out->encrypted = lcb_xml_get_bool(n, "StorageEncrypted", 0);
    out->multi_az = lcb_xml_get_bool(n, "MultiAZ", 0);
    out->publicly_accessible = lcb_xml_get_bool(n, "PubliclyAccessible", 0);
    out->backup_retention = (int)lcb_xml_get_ll(n, "BackupRetentionPeriod", 0);
    out->allocated_gib = lcb_xml_get_ll(n, "AllocatedStorage", 0);
    out->latest_restorable = lcb_query_time(n, "LatestRestorableTime");
    parse_security_groups(out, lcb_xml_child(n, "VpcSecurityGroups"));
    parse_tags(&out->tags, &out->ntags, lcb_xml_child(n, "TagList"));
    return 0;
}

void
lcb_rds_snapshot_release(struct lcb_rds_snapshot *s)
{
    char **f[] = {&s->id,
                  &s->instance_id,
                  &s->arn,
                  &s->status,
                  &s->snapshot_type,
                  &s->engine,
                  &s->engine_version,
                  &s->kms_key_id,
                  &s->availability_zone,
                  &s->storage_type,
                  &s->source_region,
                  &s->source_arn,
                  &s->dbi_resource_id};
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(f); i++)
        free(*f[i]);
    lcb_rds_tags_free(s->tags, s->ntags);
    memset(s, 0, sizeof(*s));
}

void
lcb_rds_snapshot_list_release(struct lcb_rds_snapshot_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        lcb_rds_snapshot_release(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void
lcb_rds_instance_release(struct lcb_rds_instance *in)
{
    char **f[] = {&in->id,           &in->arn,
                  &in->status,       &in->instance_class,
                  &in->engine,       &in->engine_version,
                  &in->address,      &in->availability_zone,
                  &in->subnet_group, &in->parameter_group,
                  &in->option_group, &in->kms_key_id,
                  &in->storage_type, &in->db_name,
                  &in->master_user,  &in->dbi_resource_id};
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(f); i++)
        free(*f[i]);
    for (i = 0; i < in->nsecurity_groups; i++)
        free(in->security_groups[i]);
    free(in->security_groups);
    lcb_rds_tags_free(in->tags, in->ntags);
    memset(in, 0, sizeof(*in));
}

void
lcb_rds_explain(struct lcb_err *err, const char *region)
{
    const char *r = region ? region : "this region";

    if (strcmp(err->aws_code, "SnapshotQuotaExceeded") == 0) {
        err->code = LCB_EREFUSED;
        lcb_wrap(err,
                 "the quota of manual DB snapshots in %s is reached (Service Quotas: \"Manual "
                 "DB instance snapshots\", default 100): delete old snapshots (`lcbackup "
                 "expire`) or ask for a higher quota",
                 r);
    } else if (strcmp(err->aws_code, "InstanceQuotaExceeded") == 0) {
        err->code = LCB_EREFUSED;
        lcb_wrap(err,
                 "the quota of DB instances in %s is reached (Service Quotas: \"DB "
                 "instances\"): delete unused instances or ask for a higher quota",
                 r);
    } else if (strcmp(err->aws_code, "StorageQuotaExceeded") == 0) {
        err->code = LCB_EREFUSED;
        lcb_wrap(err,
                 "the quota of total DB storage in %s is reached (Service Quotas: \"Total "
                 "storage for all DB instances\")",
                 r);
    } else if (strcmp(err->aws_code, "InvalidDBSnapshotState") == 0) {
        lcb_wrap(err, "the snapshot is not available yet (or is being deleted)");
    }
}

/* ---- calls ---- */

const char *
lcb_rds_region(const struct lcb_rds *c)
{
    return c->region ? c->region : lcb_aws_region(c->aws);
}

static void
init_query(struct lcb_query *q, struct lcb_rds *c, const char *action)
{
    lcb_query_init(q, &lcb_query_rds, action);
    q->region = c->region;
}

/* A dry run: the call as it would go out, every parameter on its own line. */
static void
show_call(struct lcb_rds *c, const struct lcb_query *q)
{
    lcb_query_print(c->dry_run, q, lcb_rds_region(c));
}

/* Send a call that changes something and drop its answer; a dry run only shows it. */
static int
send_change(struct lcb_rds *c, const struct lcb_query *q, struct lcb_err *err)
{
    return lcb_query_send(c->aws, q, c->dry_run, lcb_rds_region(c), err);
}

/* Call q into r and find the element at path in its result. A missing one is LCB_ENOTFOUND
 * ("<what> <id> not found") when id names what was described, else a corrupt answer. Returns the
 * element, or NULL with err set. */
static struct lcb_xml_node *
call_find(struct lcb_query_resp *r, struct lcb_rds *c, const struct lcb_query *q, const char *path,
          const char *what, const char *id, struct lcb_err *err)
{
    struct lcb_xml_node *n;

    if (lcb_query_call(r, c->aws, q, err) < 0)
        return NULL;
    if ((n = lcb_xml_path(r->result, path)))
        return n;
    if (id)
        lcb_err_set(err, LCB_ENOTFOUND, "%s %s not found", what, id);
    else
        lcb_err_set(err, LCB_ECORRUPT, "rds %s: no %s in the answer", q->action, path);
    return NULL;
}

/* Call q and read the snapshot at path in its result (id: see call_find). */
static int
call_snapshot(struct lcb_rds_snapshot *out, struct lcb_rds *c, const struct lcb_query *q,
              const char *path, const char *id, struct lcb_err *err)
{
    struct lcb_query_resp r;
    struct lcb_xml_node *n;
    int rc = -1;

    lcb_query_resp_init(&r);
    if ((n = call_find(&r, c, q, path, "DB snapshot", id, err)))
        rc = lcb_rds_snapshot_parse(out, n, err);
    lcb_query_resp_release(&r);
    return rc;
}

/* Call q and read the instance at path in its result (id: see call_find). */
static int
call_instance(struct lcb_rds_instance *out, struct lcb_rds *c, const struct lcb_query *q,
              const char *path, const char *id, struct lcb_err *err)
{
    struct lcb_query_resp r;
    struct lcb_xml_node *n;
    int rc = -1;

    lcb_query_resp_init(&r);
    if ((n = call_find(&r, c, q, path, "DB instance", id, err)))
        rc = lcb_rds_instance_parse(out, n, err);
    lcb_query_resp_release(&r);
    return rc;
}

int
lcb_rds_instance_get(struct lcb_rds_instance *out, struct lcb_rds *c, const char *id,
                     struct lcb_err *err)
{
    struct lcb_query q;
    int rc;

    memset(out, 0, sizeof(*out));
    init_query(&q, c, "DescribeDBInstances");
    lcb_query_add(&q, "DBInstanceIdentifier", id);
    rc = call_instance(out, c, &q, "DBInstances/DBInstance", id, err);
    lcb_query_release(&q);
    if (rc < 0)
        lcb_query_not_found(err);
    return rc < 0 ? lcb_wrap(err, "describe DB instance %s", id) : 0;
}

int
lcb_rds_snapshot_get(struct lcb_rds_snapshot *out, struct lcb_rds *c, const char *id,
                     struct lcb_err *err)
{
    struct lcb_query q;
    int rc;

    memset(out, 0, sizeof(*out));
    init_query(&q, c, "DescribeDBSnapshots");
    lcb_query_add(&q, "DBSnapshotIdentifier", id);
    rc = call_snapshot(out, c, &q, "DBSnapshots/DBSnapshot", id, err);
    lcb_query_release(&q);
    if (rc < 0)
        lcb_query_not_found(err);
    return rc;
}

/* Append the snapshots of a page to the list arg. */
static int
add_page(void *arg, const struct lcb_xml_node *result, struct lcb_err *err)
{
    struct lcb_rds_snapshot_list *out = arg;
    struct lcb_xml_node *set = lcb_xml_child(result, "DBSnapshots"), *n;

    for (n = lcb_xml_child(set, "DBSnapshot"); n; n = lcb_xml_next(n, "DBSnapshot")) {
        out->items = lcb_xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
        if (lcb_rds_snapshot_parse(&out->items[out->n], n, err) < 0)
            return -1;
        out->n++;
    }
    return 0;
}

int
lcb_rds_snapshot_list(struct lcb_rds_snapshot_list *out, struct lcb_rds *c, const char *instance,
                      const char *type, struct lcb_err *err)
{
    struct lcb_query q;
    int rc;

    out->items = NULL;
    out->n = 0;
    init_query(&q, c, "DescribeDBSnapshots");
    lcb_query_add(&q, "DBInstanceIdentifier", instance);
    lcb_query_add(&q, "SnapshotType", type);
    lcb_query_add_int(&q, "MaxRecords", 100);
    rc = lcb_query_each_page(c->aws, &q, LCB_QUERY_MARKER, add_page, out, err);
    lcb_query_release(&q);
    if (rc < 0)
        lcb_rds_snapshot_list_release(out);
    return rc < 0 ? lcb_wrap(err, "list DB snapshots") : 0;
}

enum after { AFTER_ADOPTED, AFTER_RETRY, AFTER_FAIL };

/* A create of snapshot id failed with err: adopt what exists when it is ours, or say whether to
 * try again. */
static enum after
after_failed_create(struct lcb_rds_snapshot *out, struct lcb_rds *c, const char *id,
                    const char *owner_key, const char *owner, struct lcb_err *err)
{
    int exists = strcmp(err->aws_code, "DBSnapshotAlreadyExists") == 0;
    struct lcb_err derr;
    const char *theirs;

    if (!exists && !lcb_retry_maybe_done(err))
        return AFTER_FAIL;
    lcb_err_clear(&derr);
    if (lcb_rds_snapshot_get(out, c, id, &derr) < 0)
        return lcb_query_not_found(&derr) && !exists ? AFTER_RETRY : AFTER_FAIL;
    theirs = lcb_rds_tag_get(out->tags, out->ntags, owner_key ? owner_key : "");
    if (owner && theirs && strcmp(owner, theirs) == 0) {
        lcb_log(LCB_INFO, "rds.snapshot.adopted",
                "snapshot %s already exists with %s=%s: adopting it (an earlier attempt made it)",
                id, owner_key, owner);
        return AFTER_ADOPTED;
    }
    lcb_err_set(err, LCB_EREFUSED, "snapshot %s already exists and is not this backup's (%s=%s)",
                id, owner_key ? owner_key : "owner", theirs ? theirs : "none");
    lcb_rds_snapshot_release(out);
    return AFTER_FAIL;
}

/* Send a create (or copy) of snapshot id, adopting or retrying as after_failed_create decides. */
static int
create_or_adopt(struct lcb_rds_snapshot *out, int *adopted, struct lcb_rds *c,
                const struct lcb_query *q, const char *id, const char *owner_key, const char *owner,
                struct lcb_err *err)
{
    int attempt;

    for (attempt = 1;; attempt++) {
        if (call_snapshot(out, c, q, "DBSnapshot", NULL, err) == 0)
            return 0;
        switch (after_failed_create(out, c, id, owner_key, owner, err)) {
        case AFTER_ADOPTED:
            *adopted = 1;
            return 0;
        case AFTER_RETRY:
            if (attempt < CREATE_TRIES) {
                lcb_log(LCB_WARN, "rds.snapshot.retry",
                        "rds %s of %s failed and nothing was created; trying again", q->action, id);
                if (lcb_waiter_sleep(1000LL * attempt, err) < 0)
                    return -1;
                continue;
            }
            return -1;
        case AFTER_FAIL:
            return -1;
        }
    }
}

static void
fake_snapshot(struct lcb_rds_snapshot *out, const char *id, const char *instance)
{
    memset(out, 0, sizeof(*out));
    out->id = lcb_xstrdup(id);
    out->instance_id = instance ? lcb_xstrdup(instance) : NULL;
    out->status = lcb_xstrdup("dry-run");
}

int
lcb_rds_snapshot_create(struct lcb_rds_snapshot *out, int *adopted, struct lcb_rds *c,
                        const char *instance, const char *id, const struct lcb_query_tag *tags,
                        size_t ntags, const char *owner_key, struct lcb_err *err)
{
    struct lcb_query q;
    int rc = 0;

    *adopted = 0;
    memset(out, 0, sizeof(*out));
    init_query(&q, c, "CreateDBSnapshot");
    q.no_blind_retry = 1;
    lcb_query_add(&q, "DBInstanceIdentifier", instance);
    lcb_query_add(&q, "DBSnapshotIdentifier", id);
    lcb_query_add_tags(&q, "Tags", "Tag", tags, ntags);
    if (c->dry_run) {
        show_call(c, &q);
        fake_snapshot(out, id, instance);
    } else if ((rc = create_or_adopt(out, adopted, c, &q, id, owner_key,
                                     lcb_query_tag_value(tags, ntags, owner_key), err)) < 0) {
        lcb_rds_explain(err, lcb_rds_region(c));
        lcb_wrap(err, "create snapshot %s of %s", id, instance);
    }
    lcb_query_release(&q);
    return rc;
}

int
lcb_rds_snapshot_copy(struct lcb_rds_snapshot *out, int *adopted, struct lcb_rds *c,
                      const struct lcb_rds_copy_req *r, struct lcb_err *err)
{
    const char *dest = lcb_rds_region(c);
    int cross = r->source_region && dest && strcmp(r->source_region, dest) != 0;
    struct lcb_buf url = LCB_BUF_INIT;
    struct lcb_query q;
    int rc = 0;

    *adopted = 0;
    memset(out, 0, sizeof(*out));
    init_query(&q, c, "CopyDBSnapshot");
    q.no_blind_retry = 1;
    lcb_query_add(&q, "SourceDBSnapshotIdentifier", r->source_arn);
    lcb_query_add(&q, "TargetDBSnapshotIdentifier", r->target_id);
    lcb_query_add(&q, "KmsKeyId", r->kms_key_id);
    lcb_query_add_tags(&q, "Tags", "Tag", r->tags, r->ntags);
    if (c->dry_run) {
        show_call(c, &q);
        if (cross)
            fprintf(c->dry_run,
                    "    PreSignedUrl=(GET rds %s, signed for %d s when sent: the "
                    "parameters above plus DestinationRegion=%s)\n",
                    r->source_region, PRESIGN_EXPIRES, dest);
        fake_snapshot(out, r->target_id, NULL);
        goto out;
    }
    if (cross && (rc = lcb_query_presign(&url, c->aws, &q, r->source_region, dest, PRESIGN_EXPIRES,
                                         err)) < 0)
        goto fail;
    if (cross)
        lcb_query_add(&q, "PreSignedUrl", lcb_buf_str(&url));
    if ((rc = create_or_adopt(out, adopted, c, &q, r->target_id, r->owner_key,
                              lcb_query_tag_value(r->tags, r->ntags, r->owner_key), err)) < 0)
        goto fail;
    goto out;
fail:
    lcb_rds_explain(err, dest);
    lcb_wrap(err, "copy snapshot %s to %s", r->source_arn, dest ? dest : "?");
out:
    lcb_buf_release(&url);
    lcb_query_release(&q);
    return rc;
}

int
lcb_rds_snapshot_delete(struct lcb_rds *c, const char *id, struct lcb_err *err)
{
    struct lcb_query q;
    int rc;

    init_query(&q, c, "DeleteDBSnapshot");
    lcb_query_add(&q, "DBSnapshotIdentifier", id);
    if ((rc = send_change(c, &q, err)) < 0) {
        lcb_query_not_found(err);
        lcb_rds_explain(err, lcb_rds_region(c));
        lcb_wrap(err, "delete snapshot %s in %s", id, lcb_rds_region(c));
    }
    lcb_query_release(&q);
    return rc;
}

/* The options both restores share. */
static void
add_restore_options(struct lcb_query *q, const struct lcb_rds_restore_req *r)
{
    lcb_query_add(q, "DBInstanceClass", r->instance_class);
    if (r->port > 0)
        lcb_query_add_int(q, "Port", r->port);
    lcb_query_add(q, "AvailabilityZone", r->availability_zone);
    lcb_query_add(q, "DBSubnetGroupName", r->subnet_group);
    if (r->multi_az >= 0)
        lcb_query_add_bool(q, "MultiAZ", r->multi_az);
    if (r->publicly_accessible >= 0)
        lcb_query_add_bool(q, "PubliclyAccessible", r->publicly_accessible);
    lcb_query_add_list(q, "VpcSecurityGroupIds", "VpcSecurityGroupId", r->security_groups,
                       r->nsecurity_groups);
    lcb_query_add(q, "DBParameterGroupName", r->parameter_group);
    lcb_query_add(q, "OptionGroupName", r->option_group);
    lcb_query_add_tags(q, "Tags", "Tag", r->tags, r->ntags);
}

/* A restore that failed in a way that may have started it: the target exists with our tag. */
static int
adopt_restore(struct lcb_rds_instance *out, struct lcb_rds *c, const struct lcb_rds_restore_req *r,
              struct lcb_err *err)
{
    const char *owner = lcb_query_tag_value(r->tags, r->ntags, r->owner_key), *theirs;
    struct lcb_err derr;

    if (!owner || !lcb_retry_maybe_done(err))
        return -1;
    lcb_err_clear(&derr);
    if (lcb_rds_instance_get(out, c, r->target, &derr) < 0)
        return -1;
    theirs = lcb_rds_tag_get(out->tags, out->ntags, r->owner_key);
    if (theirs && strcmp(theirs, owner) == 0) {
        lcb_log(LCB_INFO, "rds.restore.adopted",
                "instance %s already exists with %s=%s: "
                "adopting it (an earlier attempt started the restore)",
                r->target, r->owner_key, owner);
        return 0;
    }
    lcb_rds_instance_release(out);
    return -1;
}

static int
restore(struct lcb_rds_instance *out, struct lcb_rds *c, const struct lcb_rds_restore_req *r,
        struct lcb_query *q, struct lcb_err *err)
{
    int rc = 0;

    memset(out, 0, sizeof(*out));
    q->no_blind_retry = 1;
    add_restore_options(q, r);
    if (c->dry_run) {
        show_call(c, q);
        out->id = lcb_xstrdup(r->target);
        out->status = lcb_xstrdup("dry-run");
    } else if ((rc = call_instance(out, c, q, "DBInstance", NULL, err)) < 0 &&
               (rc = adopt_restore(out, c, r, err)) < 0) {
        if (strcmp(err->aws_code, "DBInstanceAlreadyExists") == 0)
            lcb_wrap(err,
                     "instance %s already exists; a restore never overwrites: choose "
                     "another --target",
                     r->target);
        lcb_rds_explain(err, lcb_rds_region(c));
    }
    lcb_query_release(q);
    return rc;
}

int
lcb_rds_restore_snapshot(struct lcb_rds_instance *out, struct lcb_rds *c,
                         const struct lcb_rds_restore_req *r, struct lcb_err *err)
{
    struct lcb_query q;

    init_query(&q, c, "RestoreDBInstanceFromDBSnapshot");
    lcb_query_add(&q, "DBInstanceIdentifier", r->target);
    lcb_query_add(&q, "DBSnapshotIdentifier", r->snapshot);
    if (restore(out, c, r, &q, err) < 0)
        return lcb_wrap(err, "restore snapshot %s as %s", r->snapshot, r->target);
    return 0;
}

int
lcb_rds_restore_pitr(struct lcb_rds_instance *out, struct lcb_rds *c,
                     const struct lcb_rds_restore_req *r, struct lcb_err *err)
{
    struct lcb_query q;

    init_query(&q, c, "RestoreDBInstanceToPointInTime");
    lcb_query_add(&q, "SourceDBInstanceIdentifier", r->source_instance);
    lcb_query_add(&q, "TargetDBInstanceIdentifier", r->target);
    if (r->use_latest)
        lcb_query_add_bool(&q, "UseLatestRestorableTime", 1);
    else
        lcb_query_add_time(&q, "RestoreTime", r->restore_time);
    if (restore(out, c, r, &q, err) < 0)
        return lcb_wrap(err, "restore %s to a point in time as %s", r->source_instance, r->target);
    return 0;
}

int
lcb_rds_instance_delete(struct lcb_rds *c, const char *id, struct lcb_err *err)
{
    struct lcb_query q;
    int rc;

    init_query(&q, c, "DeleteDBInstance");
    lcb_query_add(&q, "DBInstanceIdentifier", id);
    lcb_query_add_bool(&q, "SkipFinalSnapshot", 1);
    lcb_query_add_bool(&q, "DeleteAutomatedBackups", 1);
    if ((rc = send_change(c, &q, err)) < 0) {
        lcb_query_not_found(err);
        lcb_wrap(err, "delete DB instance %s in %s", id, lcb_rds_region(c));
    }
    lcb_query_release(&q);
    return rc;
}

int
lcb_rds_tags_add(struct lcb_rds *c, const char *arn, const struct lcb_query_tag *tags, size_t ntags,
                 struct lcb_err *err)
{
    struct lcb_query q;
    int rc;

    init_query(&q, c, "AddTagsToResource");
    lcb_query_add(&q, "ResourceName", arn);
    lcb_query_add_tags(&q, "Tags", "Tag", tags, ntags);
    if ((rc = send_change(c, &q, err)) < 0)
        lcb_wrap(err, "tag %s", arn);
    lcb_query_release(&q);
    return rc;
}

int
lcb_rds_tags_list(struct lcb_rds_tag **out, size_t *n, struct lcb_rds *c, const char *arn,
                  struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    int rc;

    *out = NULL;
    *n = 0;
    init_query(&q, c, "ListTagsForResource");
    lcb_query_add(&q, "ResourceName", arn);
    lcb_query_resp_init(&r);
    if ((rc = lcb_query_call(&r, c->aws, &q, err)) == 0)
        parse_tags(out, n, lcb_xml_child(r.result, "TagList"));
    else
        lcb_wrap(err, "list the tags of %s", arn);
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    return rc;
}
