/* ec2.c - the typed EC2/EBS client; see ec2.h. */
#include "ec2.h"

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

enum lcb_wait
lcb_ec2_snapshot_wait_state(const char *state)
{
    if (!state || strcmp(state, "pending") == 0)
        return LCB_WAIT_PENDING;
    if (strcmp(state, "completed") == 0)
        return LCB_WAIT_DONE;
    /* error; recoverable/recovering belong to archived snapshots: not what a backup waits for */
    return LCB_WAIT_FAILED;
}

enum lcb_wait
lcb_ec2_volume_wait_state(const char *state)
{
    if (!state || strcmp(state, "creating") == 0)
        return LCB_WAIT_PENDING;
    if (strcmp(state, "available") == 0 || strcmp(state, "in-use") == 0)
        return LCB_WAIT_DONE;
    return LCB_WAIT_FAILED;
}

int
lcb_ec2_progress(const char *s)
{
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    v = strtol(s, &end, 10);
    if (end == s || (*end && strcmp(end, "%") != 0) || v < 0 || v > 100)
        return -1;
    return (int)v;
}

const char *
lcb_ec2_tag_get(const struct lcb_ec2_tag *tags, size_t n, const char *key)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

int
lcb_ec2_id_valid(const char *s, const char *prefix)
{
    size_t p = strlen(prefix), n, i;

    if (!s || strncmp(s, prefix, p) != 0 || s[p] != '-')
        return 0;
    s += p + 1;
    n = strlen(s);
    if (n != 8 && n != 17)
        return 0;
    for (i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

/* ---- parsing ---- */

static void
parse_tags(struct lcb_ec2_tag **out, size_t *n, const struct lcb_xml_node *set)
{
    struct lcb_xml_node *t;
    size_t i = 0;

    *n = lcb_xml_count(set, "item");
    *out = lcb_xcalloc(*n + 1, sizeof(**out));
    for (t = lcb_xml_child(set, "item"); t && i < *n; t = lcb_xml_next(t, "item"), i++) {
        (*out)[i].key = lcb_xstrdup(lcb_xml_get(t, "key") ? lcb_xml_get(t, "key") : "");
        (*out)[i].value = lcb_xstrdup(lcb_xml_get(t, "value") ? lcb_xml_get(t, "value") : "");
    }
    *n = i;
}

static void
free_tags(struct lcb_ec2_tag *tags, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(tags[i].key);
        free(tags[i].value);
    }
    free(tags);
}

int
lcb_ec2_snapshot_parse(struct lcb_ec2_snapshot *out, const struct lcb_xml_node *n,
                       struct lcb_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!(out->id = lcb_query_text(n, "snapshotId")))
        return lcb_err_set(err, LCB_ECORRUPT, "ec2: a snapshot without snapshotId");
    out->volume_id = lcb_query_text(n, "volumeId");
    out->state = lcb_query_text(n, "status");
    if (!out->state)
        out->state = lcb_query_text(n, "state"); /* CreateSnapshots' SnapshotInfo */
    out->state_message = lcb_query_text(n, "statusMessage");
    out->description = lcb_query_text(n, "description");
    out->kms_key_id = lcb_query_text(n, "kmsKeyId");
    out->owner_id = lcb_query_text(n, "ownerId");
    out->encrypted = lcb_xml_get_bool(n, "encrypted", 0);
    out->progress = lcb_ec2_progress(lcb_xml_get(n, "progress"));
    out->volume_gib = lcb_xml_get_ll(n, "volumeSize", 0);
    out->start_time = lcb_query_time(n, "startTime");
    parse_tags(&out->tags, &out->ntags, lcb_xml_child(n, "tagSet"));
    return 0;
}

int
lcb_ec2_volume_parse(struct lcb_ec2_volume *out, const struct lcb_xml_node *n, struct lcb_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!(out->id = lcb_query_text(n, "volumeId")))
        return lcb_err_set(err, LCB_ECORRUPT, "ec2: a volume without volumeId");
    out->state = lcb_query_text(n, "status");
    out->availability_zone = lcb_query_text(n, "availabilityZone");
    out->volume_type = lcb_query_text(n, "volumeType");
    out->snapshot_id = lcb_query_text(n, "snapshotId");
    out->kms_key_id = lcb_query_text(n, "kmsKeyId");
    out->instance_id = lcb_query_text(n, "attachmentSet/item/instanceId");
    out->device = lcb_query_text(n, "attachmentSet/item/device");
    out->encrypted = lcb_xml_get_bool(n, "encrypted", 0);
    out->iops = (int)lcb_xml_get_ll(n, "iops", 0);
    out->throughput = (int)lcb_xml_get_ll(n, "throughput", 0);
    out->size_gib = lcb_xml_get_ll(n, "size", 0);
    out->create_time = lcb_query_time(n, "createTime");
    parse_tags(&out->tags, &out->ntags, lcb_xml_child(n, "tagSet"));
    return 0;
}

void
lcb_ec2_snapshot_release(struct lcb_ec2_snapshot *s)
{
    char **f[] = {&s->id,          &s->volume_id,  &s->state,   &s->state_message,
                  &s->description, &s->kms_key_id, &s->owner_id};
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(f); i++)
        free(*f[i]);
    free_tags(s->tags, s->ntags);
    memset(s, 0, sizeof(*s));
}

void
lcb_ec2_snapshot_list_release(struct lcb_ec2_snapshot_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        lcb_ec2_snapshot_release(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void
lcb_ec2_volume_release(struct lcb_ec2_volume *v)
{
    char **f[] = {&v->id,          &v->state,      &v->availability_zone, &v->volume_type,
                  &v->snapshot_id, &v->kms_key_id, &v->instance_id,       &v->device};
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(f); i++)
        free(*f[i]);
    free_tags(v->tags, v->ntags);
    memset(v, 0, sizeof(*v));
}

void
lcb_ec2_volume_list_release(struct lcb_ec2_volume_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        lcb_ec2_volume_release(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void
lcb_ec2_explain(struct lcb_err *err, const char *region)
{
    const char *r = region ? region : "this region", *c = err->aws_code;

    if (strcmp(c, "SnapshotLimitExceeded") == 0) {
        err->code = LCB_EREFUSED;
        lcb_wrap(err,
                 "the quota of EBS snapshots in %s is reached (Service Quotas: \"Snapshots "
                 "per Region\"): delete old snapshots (`lcbackup expire`) or ask for a "
                 "higher quota",
                 r);
    } else if (strcmp(c, "ResourceLimitExceeded") == 0) {
        err->code = LCB_EREFUSED;
        lcb_wrap(err,
                 "the quota of snapshot copies in flight to %s is reached (Service Quotas: "
                 "\"Concurrent snapshot copies per destination Region\", default 20): wait "
                 "for the running copies or ask for a higher quota",
                 r);
    } else if (strcmp(c, "VolumeLimitExceeded") == 0 || strcmp(c, "MaxIOPSLimitExceeded") == 0) {
        err->code = LCB_EREFUSED;
        lcb_wrap(err,
                 "the EBS storage quota of %s is reached (Service Quotas: \"Storage for "
                 "... volumes\" or \"IOPS for Provisioned IOPS volumes\")",
                 r);
    } else if (strcmp(c, "SnapshotCreationPerVolumeRateExceeded") == 0) {
        err->code = LCB_ETEMP;
        lcb_wrap(err, "snapshots of this volume are requested too fast; try again in a few "
                      "minutes");
    }
}

/* ---- calls ---- */

const char *
lcb_ec2_region(const struct lcb_ec2 *c)
{
    return c->region ? c->region : lcb_aws_region(c->aws);
}

static void
init_query(struct lcb_query *q, struct lcb_ec2 *c, const char *action)
{
    lcb_query_init(q, &lcb_query_ec2, action);
    q->region = c->region;
}

static void
show_call(struct lcb_ec2 *c, const struct lcb_query *q)
{
    lcb_query_print(c->dry_run, q, lcb_ec2_region(c));
}

/* Append the snapshots of a page (or of CreateSnapshots' answer) to the list arg. */
static int
add_snapshot_page(void *arg, const struct lcb_xml_node *result, struct lcb_err *err)
{
    struct lcb_ec2_snapshot_list *out = arg;
    struct lcb_xml_node *n, *set = lcb_xml_child(result, "snapshotSet");

    for (n = lcb_xml_child(set, "item"); n; n = lcb_xml_next(n, "item")) {
        out->items = lcb_xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
        if (lcb_ec2_snapshot_parse(&out->items[out->n], n, err) < 0)
            return -1;
        out->n++;
    }
    return 0;
}

static int
add_volume_page(void *arg, const struct lcb_xml_node *result, struct lcb_err *err)
{
    struct lcb_ec2_volume_list *out = arg;
    struct lcb_xml_node *n, *set = lcb_xml_child(result, "volumeSet");

    for (n = lcb_xml_child(set, "item"); n; n = lcb_xml_next(n, "item")) {
        out->items = lcb_xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
        if (lcb_ec2_volume_parse(&out->items[out->n], n, err) < 0)
            return -1;
        out->n++;
    }
    return 0;
}

int
lcb_ec2_snapshot_list(struct lcb_ec2_snapshot_list *out, struct lcb_ec2 *c, const char *const *ids,
                      size_t nids, const struct lcb_query_filter *f, size_t nf, struct lcb_err *err)
{
    struct lcb_query q;
    int rc;

    out->items = NULL;
    out->n = 0;
    init_query(&q, c, "DescribeSnapshots");
    lcb_query_add(&q, "Owner.1", "self");
    lcb_query_add_list(&q, "SnapshotId", NULL, ids, nids);
    lcb_query_add_filters(&q, f, nf);
    if (nids == 0)
        lcb_query_add_int(&q, "MaxResults", 1000); /* not allowed together with ids */
    rc = lcb_query_each_page(c->aws, &q, LCB_QUERY_NEXT_TOKEN_EC2, add_snapshot_page, out, err);
    lcb_query_release(&q);
    if (rc < 0) {
        lcb_ec2_snapshot_list_release(out);
        lcb_query_not_found(err);
    }
    return rc < 0 ? lcb_wrap(err, "describe EBS snapshots in %s", lcb_ec2_region(c)) : 0;
}

int
lcb_ec2_snapshot_get(struct lcb_ec2_snapshot *out, struct lcb_ec2 *c, const char *id,
                     struct lcb_err *err)
{
    struct lcb_ec2_snapshot_list l;

    memset(out, 0, sizeof(*out));
    if (lcb_ec2_snapshot_list(&l, c, &id, 1, NULL, 0, err) < 0)
        return -1;
    if (l.n == 0) {
        lcb_ec2_snapshot_list_release(&l);
        return lcb_err_set(err, LCB_ENOTFOUND, "EBS snapshot %s not found in %s", id,
                           lcb_ec2_region(c));
    }
    *out = l.items[0];
    memset(&l.items[0], 0, sizeof(l.items[0]));
    lcb_ec2_snapshot_list_release(&l);
    return 0;
}

int
lcb_ec2_volume_list(struct lcb_ec2_volume_list *out, struct lcb_ec2 *c, const char *const *ids,
                    size_t nids, const struct lcb_query_filter *f, size_t nf, struct lcb_err *err)
{
    struct lcb_query q;
    int rc;

    out->items = NULL;
    out->n = 0;
    init_query(&q, c, "DescribeVolumes");
    lcb_query_add_list(&q, "VolumeId", NULL, ids, nids);
    lcb_query_add_filters(&q, f, nf);
    if (nids == 0)
        lcb_query_add_int(&q, "MaxResults", 500);
    rc = lcb_query_each_page(c->aws, &q, LCB_QUERY_NEXT_TOKEN_EC2, add_volume_page, out, err);
    lcb_query_release(&q);
    if (rc < 0) {
        lcb_ec2_volume_list_release(out);
        lcb_query_not_found(err);
    }
    return rc < 0 ? lcb_wrap(err, "describe EBS volumes in %s", lcb_ec2_region(c)) : 0;
}

int
lcb_ec2_volume_get(struct lcb_ec2_volume *out, struct lcb_ec2 *c, const char *id,
                   struct lcb_err *err)
{
    struct lcb_ec2_volume_list l;

    memset(out, 0, sizeof(*out));
    if (lcb_ec2_volume_list(&l, c, &id, 1, NULL, 0, err) < 0)
        return -1;
    if (l.n == 0) {
        lcb_ec2_volume_list_release(&l);
        return lcb_err_set(err, LCB_ENOTFOUND, "EBS volume %s not found in %s", id,
                           lcb_ec2_region(c));
    }
    *out = l.items[0];
    memset(&l.items[0], 0, sizeof(l.items[0]));
    lcb_ec2_volume_list_release(&l);
    return 0;
}

/* Snapshots in c's region carrying owner_key=owner (and of volume_id when given). */
static int
find_owned(struct lcb_ec2_snapshot_list *out, struct lcb_ec2 *c, const char *owner_key,
           const char *owner, const char *volume_id)
{
    char name[160];
    const char *v1[1] = {owner}, *v2[1] = {volume_id};
    struct lcb_query_filter f[2] = {{name, v1, 1}, {"volume-id", v2, 1}};
    struct lcb_err derr;

    snprintf(name, sizeof(name), "tag:%s", owner_key);
    lcb_err_clear(&derr);
    return lcb_ec2_snapshot_list(out, c, NULL, 0, f, volume_id ? 2 : 1, &derr);
}

enum after { AFTER_ADOPTED, AFTER_RETRY, AFTER_FAIL };

/* A create failed: adopt what an earlier attempt made, or say whether to try again. */
static enum after
after_failed_create(struct lcb_ec2_snapshot_list *found, struct lcb_ec2 *c, const char *owner_key,
                    const char *owner, const char *volume_id, const struct lcb_err *err)
{
    if (strcmp(err->aws_code, "SnapshotCreationPerVolumeRateExceeded") == 0)
        return AFTER_RETRY;
    if (!lcb_retry_maybe_done(err) || !owner)
        return AFTER_FAIL;
    if (find_owned(found, c, owner_key, owner, volume_id) < 0)
        return AFTER_FAIL;
    if (found->n > 0) {
        lcb_log(LCB_INFO, "ec2.snapshot.adopted",
                "%s already exists with %s=%s: adopting it "
                "(an earlier attempt made it)",
                found->items[0].id, owner_key, owner);
        return AFTER_ADOPTED;
    }
    return AFTER_RETRY;
}

/* Send a create-like call until it succeeds, is adopted, or fails for good. parse reads the
 * answer (root node) into out. */
static int
create_loop(struct lcb_ec2_snapshot_list *out, int *adopted, struct lcb_ec2 *c,
            const struct lcb_query *q, const char *owner_key, const char *owner,
            const char *volume_id,
            int (*parse)(struct lcb_ec2_snapshot_list *, const struct lcb_xml_node *,
                         struct lcb_err *),
            struct lcb_err *err)
{
    struct lcb_query_resp r;
    int attempt, rc;

    for (attempt = 1;; attempt++) {
        lcb_query_resp_init(&r);
        rc = lcb_query_call(&r, c->aws, q, err);
        if (rc == 0)
            rc = parse(out, r.result, err);
        lcb_query_resp_release(&r);
        if (rc == 0)
            return 0;
        lcb_ec2_snapshot_list_release(out);
        switch (after_failed_create(out, c, owner_key, owner, volume_id, err)) {
        case AFTER_ADOPTED:
            *adopted = 1;
            return 0;
        case AFTER_RETRY:
            if (attempt < CREATE_TRIES) {
                lcb_log(LCB_WARN, "ec2.snapshot.retry",
                        "ec2 %s failed (%s) and nothing was "
                        "created; trying again",
                        q->action, err->aws_code[0] ? err->aws_code : lcb_code_name(err->code));
                if (lcb_waiter_sleep(2000LL * attempt, err) < 0)
                    return -1;
                continue;
            }
            return -1;
        case AFTER_FAIL:
            return -1;
        }
    }
}

static int
parse_one(struct lcb_ec2_snapshot_list *out, const struct lcb_xml_node *root, struct lcb_err *err)
{
    out->items = lcb_xcalloc(1, sizeof(*out->items));
    if (lcb_ec2_snapshot_parse(&out->items[0], root, err) < 0)
        return -1;
    out->n = 1;
    return 0;
}

static int
parse_set(struct lcb_ec2_snapshot_list *out, const struct lcb_xml_node *root, struct lcb_err *err)
{
    if (add_snapshot_page(out, root, err) < 0)
        return -1;
    if (out->n == 0)
        return lcb_err_set(err, LCB_ECORRUPT, "ec2 CreateSnapshots: no snapshot in the answer");
    return 0;
}

static void
fake_snapshot(struct lcb_ec2_snapshot *s, const char *volume_id)
{
    memset(s, 0, sizeof(*s));
    s->id = lcb_xstrdup("snap-(dry-run)");
    s->volume_id = volume_id ? lcb_xstrdup(volume_id) : NULL;
    s->state = lcb_xstrdup("dry-run");
}

int
lcb_ec2_snapshot_create(struct lcb_ec2_snapshot *out, int *adopted, struct lcb_ec2 *c,
                        const char *volume_id, const char *description,
                        const struct lcb_query_tag *tags, size_t ntags, const char *owner_key,
                        struct lcb_err *err)
{
    struct lcb_ec2_snapshot_list l = {NULL, 0};
    struct lcb_query q;
    int rc = 0;

    *adopted = 0;
    memset(out, 0, sizeof(*out));
    init_query(&q, c, "CreateSnapshot");
    q.no_blind_retry = 1;
    lcb_query_add(&q, "VolumeId", volume_id);
    lcb_query_add(&q, "Description", description);
    lcb_query_add_tag_spec(&q, 1, "snapshot", tags, ntags);
    if (c->dry_run) {
        show_call(c, &q);
        fake_snapshot(out, volume_id);
    } else if ((rc = create_loop(&l, adopted, c, &q, owner_key,
                                 lcb_query_tag_value(tags, ntags, owner_key), volume_id, parse_one,
                                 err)) < 0) {
        lcb_ec2_explain(err, lcb_ec2_region(c));
        lcb_wrap(err, "snapshot %s", volume_id);
    } else {
        *out = l.items[0];
        memset(&l.items[0], 0, sizeof(l.items[0]));
    }
    lcb_ec2_snapshot_list_release(&l);
    lcb_query_release(&q);
    return rc;
}

int
lcb_ec2_snapshots_create(struct lcb_ec2_snapshot_list *out, int *adopted, struct lcb_ec2 *c,
                         const char *instance_id, int exclude_boot, const char *description,
                         const struct lcb_query_tag *tags, size_t ntags, const char *owner_key,
                         struct lcb_err *err)
{
    struct lcb_query q;
    int rc = 0;

    *adopted = 0;
    out->items = NULL;
    out->n = 0;
    init_query(&q, c, "CreateSnapshots");
    q.no_blind_retry = 1;
    lcb_query_add(&q, "InstanceSpecification.InstanceId", instance_id);
    if (exclude_boot)
        lcb_query_add_bool(&q, "InstanceSpecification.ExcludeBootVolume", 1);
    lcb_query_add(&q, "Description", description);
    lcb_query_add_tag_spec(&q, 1, "snapshot", tags, ntags);
    lcb_query_add(&q, "CopyTagsFromSource", "volume");
    if (c->dry_run) {
        show_call(c, &q);
    } else if ((rc = create_loop(out, adopted, c, &q, owner_key,
                                 lcb_query_tag_value(tags, ntags, owner_key), NULL, parse_set,
                                 err)) < 0) {
        lcb_ec2_explain(err, lcb_ec2_region(c));
        lcb_wrap(err, "snapshot the volumes of %s", instance_id);
    }
    lcb_query_release(&q);
    return rc;
}

static int
parse_copy(struct lcb_ec2_snapshot_list *out, const struct lcb_xml_node *root, struct lcb_err *err)
{
    if (parse_one(out, root, err) < 0)
        return -1;
    if (!out->items[0].state)
        out->items[0].state = lcb_xstrdup("pending");
    return 0;
}

int
lcb_ec2_snapshot_copy(struct lcb_ec2_snapshot *out, int *adopted, struct lcb_ec2 *c,
                      const struct lcb_ec2_copy_req *r, struct lcb_err *err)
{
    struct lcb_ec2_snapshot_list l = {NULL, 0};
    struct lcb_buf url = LCB_BUF_INIT;
    const char *dest = lcb_ec2_region(c);
    struct lcb_query q;
    int rc = 0;

    *adopted = 0;
    memset(out, 0, sizeof(*out));
    init_query(&q, c, "CopySnapshot");
    q.no_blind_retry = 1;
    lcb_query_add(&q, "SourceRegion", r->source_region);
    lcb_query_add(&q, "SourceSnapshotId", r->source_id);
    lcb_query_add(&q, "Description", r->description);
    if (r->encrypted || r->kms_key_id)
        lcb_query_add_bool(&q, "Encrypted", 1);
    lcb_query_add(&q, "KmsKeyId", r->kms_key_id);
    lcb_query_add(&q, "DestinationRegion", dest);
    lcb_query_add_tag_spec(&q, 1, "snapshot", r->tags, r->ntags);
    if (c->dry_run) {
        show_call(c, &q);
        fprintf(c->dry_run,
                "    PresignedUrl=(GET ec2 %s, signed for %d s when sent: the "
                "parameters above)\n",
                r->source_region, PRESIGN_EXPIRES);
        fake_snapshot(out, NULL);
        goto out;
    }
    rc = lcb_query_presign(&url, c->aws, &q, r->source_region, NULL, PRESIGN_EXPIRES, err);
    if (rc < 0)
        goto fail;
    lcb_query_add(&q, "PresignedUrl", lcb_buf_str(&url));
    if ((rc = create_loop(&l, adopted, c, &q, r->owner_key,
                          lcb_query_tag_value(r->tags, r->ntags, r->owner_key), NULL, parse_copy,
                          err)) < 0)
        goto fail;
    *out = l.items[0];
    memset(&l.items[0], 0, sizeof(l.items[0]));
    goto out;
fail:
    lcb_ec2_explain(err, dest);
    lcb_wrap(err, "copy %s from %s to %s", r->source_id, r->source_region, dest ? dest : "?");
out:
    lcb_ec2_snapshot_list_release(&l);
    lcb_buf_release(&url);
    lcb_query_release(&q);
    return rc;
}

/* Send q (printed instead by a dry-run client) and release it. */
static int
simple_call(struct lcb_ec2 *c, struct lcb_query *q, struct lcb_err *err)
{
    int rc = lcb_query_send(c->aws, q, c->dry_run, lcb_ec2_region(c), err);

    if (rc < 0)
        lcb_query_not_found(err);
    lcb_query_release(q);
    return rc;
}

int
lcb_ec2_snapshot_delete(struct lcb_ec2 *c, const char *id, struct lcb_err *err)
{
    struct lcb_query q;

    init_query(&q, c, "DeleteSnapshot");
    lcb_query_add(&q, "SnapshotId", id);
    if (simple_call(c, &q, err) < 0)
        return lcb_wrap(err, "delete snapshot %s in %s", id, lcb_ec2_region(c));
    return 0;
}

int
lcb_ec2_volume_create(struct lcb_ec2_volume *out, struct lcb_ec2 *c,
                      const struct lcb_ec2_volume_req *r, struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp resp;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    init_query(&q, c, "CreateVolume");
    lcb_query_add(&q, "AvailabilityZone", r->availability_zone);
    lcb_query_add(&q, "SnapshotId", r->snapshot_id);
    if (r->size_gib > 0)
        lcb_query_add_int(&q, "Size", r->size_gib);
    lcb_query_add(&q, "VolumeType", r->volume_type);
    if (r->iops > 0)
        lcb_query_add_int(&q, "Iops", r->iops);
    if (r->throughput > 0)
        lcb_query_add_int(&q, "Throughput", r->throughput);
    if (r->kms_key_id) {
        lcb_query_add_bool(&q, "Encrypted", 1);
        lcb_query_add(&q, "KmsKeyId", r->kms_key_id);
    }
    lcb_query_add(&q, "ClientToken", r->client_token);
    lcb_query_add_tag_spec(&q, 1, "volume", r->tags, r->ntags);
    if (c->dry_run) {
        show_call(c, &q);
        out->id = lcb_xstrdup("vol-(dry-run)");
        out->state = lcb_xstrdup("dry-run");
    } else {
        lcb_query_resp_init(&resp);
        if ((rc = lcb_query_call(&resp, c->aws, &q, err)) == 0)
            rc = lcb_ec2_volume_parse(out, resp.result, err);
        lcb_query_resp_release(&resp);
        if (rc < 0) {
            lcb_ec2_explain(err, lcb_ec2_region(c));
            lcb_wrap(err, "create a volume from %s in %s", r->snapshot_id, r->availability_zone);
        }
    }
    lcb_query_release(&q);
    return rc;
}

int
lcb_ec2_volume_delete(struct lcb_ec2 *c, const char *id, struct lcb_err *err)
{
    struct lcb_query q;

    init_query(&q, c, "DeleteVolume");
    lcb_query_add(&q, "VolumeId", id);
    if (simple_call(c, &q, err) < 0)
        return lcb_wrap(err, "delete volume %s in %s", id, lcb_ec2_region(c));
    return 0;
}

int
lcb_ec2_tags_create(struct lcb_ec2 *c, const char *const *ids, size_t nids,
                    const struct lcb_query_tag *tags, size_t ntags, struct lcb_err *err)
{
    struct lcb_query q;

    init_query(&q, c, "CreateTags");
    lcb_query_add_list(&q, "ResourceId", NULL, ids, nids);
    lcb_query_add_tags(&q, "Tag", NULL, tags, ntags);
    if (simple_call(c, &q, err) < 0)
        return lcb_wrap(err, "tag %s%s", nids ? ids[0] : "?", nids > 1 ? " ..." : "");
    return 0;
}
