/* ebs.c - the EBS drill: a volume from each snapshot in the drill zone, waited for, checked and
 * deleted; see component.h. What the API can prove without attaching the volume to an instance:
 * the snapshot is complete and readable by EBS, a volume of its size and encryption comes out of
 * it, in the zone a recovery would use. */
#include <stdlib.h>
#include <string.h>

#include "../aws/aws.h"
#include "../catalog/catalog.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/json.h"
#include "../policy/policy.h"
#include "../snapshot/snapshot.h"
#include "cloud.h"
#include "component.h"

#define MAX_VOLUMES 40

struct doomed_volume {
    struct lcb_ec2 ec2;
    char region[64];
    char id[64];
    int64_t timeout;
};

static int
remove_volume(void *ud, struct lcb_err *err)
{
    struct doomed_volume *d = ud;

    lcb_log(LCB_INFO, "drill.ebs.teardown", "removing volume %s", d->id);
    return lcb_drill_ec2_volume_remove(&d->ec2, d->id, d->timeout, err);
}

/* The zone: the policy's drill zone, else the snapshot's source volume's, else <region>a. */
static void
drill_zone(char *out, size_t size, struct lcb_drill_ctx *dc, const struct lcb_json *snap,
           const char *region)
{
    const char *az = dc->policy->drill.availability_zone;

    if (!az)
        az = lcb_json_get_str(snap, "availability_zone");
    if (az && (!region || strncmp(az, region, strlen(region)) == 0))
        snprintf(out, size, "%s", az);
    else
        snprintf(out, size, "%sa", region ? region : "");
}

/* The manifest's entry for a snapshot id (borrowed), or NULL. */
static const struct lcb_json *
manifest_snapshot(const struct lcb_json *m, const char *id)
{
    const struct lcb_json *s;

    for (s = lcb_json_child(lcb_json_get(m, "snapshots")); s; s = lcb_json_next(s))
        if (lcb_json_get_str(s, "snapshot_id") &&
            strcmp(lcb_json_get_str(s, "snapshot_id"), id) == 0)
            return s;
    return NULL;
}

/* CreateVolume for one snapshot; the teardown owns the volume from the answer on. */
static int
create_one(struct lcb_drill_ctx *dc, const struct lcb_json *snap_m, const char *snap_id, size_t idx,
           struct doomed_volume *d, struct lcb_teardown *td, struct lcb_err *err)
{
    struct lcb_ec2_volume_req r;
    struct lcb_ec2_volume v;
    struct lcb_snap_tags tags;
    char az[64], token[65], ts[LCB_TIME_LEN], name[128], what[160];

    drill_zone(az, sizeof(az), dc, snap_m, d->region[0] ? d->region : NULL);
    memset(&tags, 0, sizeof(tags));
    lcb_drill_resource_name(name, sizeof(name), lcb_json_get_str(snap_m, "name"),
                            dc->run->started_at);
    lcb_snap_tags_set(&tags, "Name", name);
    lcb_snap_tags_set(&tags, LCB_DRILL_TAG_ID, dc->run->id);
    lcb_snap_tags_set(&tags, LCB_DRILL_TAG_EXPIRES, lcb_time_fmt(dc->expires, ts));
    lcb_snap_tags_set(&tags, LCB_SNAP_TAG_CREATED_BY, "lcbackup drill");
    snprintf(token, sizeof(token), "%.56s-%zu", dc->run->id, idx);
    memset(&r, 0, sizeof(r));
    r.snapshot_id = snap_id;
    r.availability_zone = az;
    r.volume_type = lcb_json_get_str(snap_m, "volume_type");
    r.client_token = token;
    r.tags = tags.tag;
    r.ntags = tags.n;
    lcb_log(LCB_INFO, "drill.ebs.create", "creating a volume from %s in %s", snap_id, az);
    if (lcb_ec2_volume_create(&v, &d->ec2, &r, err) < 0)
        return lcb_wrap(err, "volume from %s", snap_id);
    snprintf(d->id, sizeof(d->id), "%s", v.id ? v.id : "");
    lcb_ec2_volume_release(&v);
    if (!dc->dry_run) {
        snprintf(what, sizeof(what), "volume %s", d->id);
        lcb_teardown_push(td, what, remove_volume, d, free);
    }
    return 0;
}

static void
check_volume(struct lcb_drill_comp *c, const struct lcb_ec2_volume *v,
             const struct lcb_ec2_snapshot *s)
{
    lcb_drill_check_add(c, "volume available",
                        v->state && (strcmp(v->state, "available") == 0) ? LCB_CHECK_PASS
                                                                         : LCB_CHECK_FAIL,
                        v->id, "%s from %s is %s in %s", v->id, s->id, v->state ? v->state : "?",
                        v->availability_zone ? v->availability_zone : "?");
    lcb_drill_check_add(
        c, "volume size",
        v->size_gib >= s->volume_gib && s->volume_gib > 0 ? LCB_CHECK_PASS : LCB_CHECK_FAIL, v->id,
        "%s: %lld GiB, snapshot %lld GiB", v->id, v->size_gib, s->volume_gib);
    lcb_drill_check_add(c, "volume encryption",
                        v->encrypted == s->encrypted &&
                                (!s->encrypted || (v->kms_key_id && s->kms_key_id &&
                                                   strcmp(v->kms_key_id, s->kms_key_id) == 0))
                            ? LCB_CHECK_PASS
                            : LCB_CHECK_FAIL,
                        v->id, "%s: %s%s%s, snapshot %s%s%s", v->id,
                        v->encrypted ? "encrypted" : "not encrypted", v->kms_key_id ? " with " : "",
                        v->kms_key_id ? v->kms_key_id : "",
                        s->encrypted ? "encrypted" : "not encrypted", s->kms_key_id ? " with " : "",
                        s->kms_key_id ? s->kms_key_id : "");
    lcb_drill_check_add(
        c, "volume source",
        v->snapshot_id && strcmp(v->snapshot_id, s->id) == 0 ? LCB_CHECK_PASS : LCB_CHECK_FAIL,
        v->id, "%s made from %s", v->id, v->snapshot_id ? v->snapshot_id : "(none)");
}

/* The snapshots to restore (a copy's when the backup lives in another region). */
static int
snapshot_ids(struct lcb_drill_ctx *dc, const struct lcb_backup *b, struct lcb_strlist *ids,
             char *region, size_t rsize, struct lcb_err *err)
{
    struct lcb_snap_copy *copies = NULL;
    const char *loc = NULL, *reg = NULL;
    size_t n = 0;

    if (lcb_snap_locate(dc->cat, b, lcb_aws_region(dc->aws), &loc, &reg, &copies, &n, err) < 0)
        return -1;
    lcb_strlist_add_split(ids, loc);
    snprintf(region, rsize, "%s", reg ? reg : "");
    lcb_snap_copies_free(copies, n);
    if (ids->n == 0 || ids->n > MAX_VOLUMES)
        return lcb_err_set(err, LCB_ECORRUPT, "backup %s has %zu snapshots in its location", b->id,
                           ids->n);
    return 0;
}

struct volumes {
    struct doomed_volume *d[MAX_VOLUMES];
    struct lcb_ec2_snapshot snaps[MAX_VOLUMES];
    size_t n;
};

static void
volumes_release(struct volumes *vs)
{
    size_t i;

    for (i = 0; i < vs->n; i++)
        lcb_ec2_snapshot_release(&vs->snaps[i]);
}

static int
request(struct lcb_drill_ctx *dc, const struct lcb_backup *b, struct volumes *vs,
        struct lcb_teardown *td, struct lcb_err *err)
{
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    struct lcb_json *m = lcb_snap_manifest(b);
    char region[64];
    size_t i;
    int rc = -1;

    if (snapshot_ids(dc, b, &ids, region, sizeof(region), err) < 0)
        goto out;
    for (i = 0; i < ids.n; i++) {
        struct doomed_volume *d = lcb_xcalloc(1, sizeof(*d));
        snprintf(d->region, sizeof(d->region), "%s", region);
        d->ec2.aws = dc->aws;
        d->ec2.region = d->region[0] ? d->region : NULL;
        d->ec2.dry_run = dc->dry_run;
        d->timeout = dc->timeout;
        vs->d[vs->n] = d;
        memset(&vs->snaps[vs->n], 0, sizeof(vs->snaps[vs->n]));
        vs->n++;
        if (lcb_ec2_snapshot_get(&vs->snaps[i], &d->ec2, ids.items[i], err) < 0 ||
            create_one(dc, manifest_snapshot(m, ids.items[i]), ids.items[i], i, d, td, err) < 0)
            goto out;
    }
    rc = 0;
out:
    lcb_json_free(m);
    lcb_strlist_release(&ids);
    return rc;
}

static int
wait_and_check(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, struct volumes *vs,
               struct lcb_err *err)
{
    struct lcb_ec2_volume v[MAX_VOLUMES];
    size_t i, got = 0;
    int rc = 0;

    for (i = 0; i < vs->n && rc == 0; i++, got++)
        rc = lcb_snap_wait_ec2_volume(&v[i], &vs->d[i]->ec2, vs->d[i]->id, dc->timeout, NULL, err);
    if (rc == 0) {
        lcb_drill_phase_end(dc->run, c, LCB_PHASE_PROVISION, lcb_mono_ms());
        lcb_drill_phase_begin(dc->run, c, LCB_PHASE_CHECKS, lcb_mono_ms());
        for (i = 0; i < vs->n; i++)
            check_volume(c, &v[i], &vs->snaps[i]);
        lcb_drill_phase_end(dc->run, c, LCB_PHASE_CHECKS, lcb_mono_ms());
    }
    for (i = 0; i < got; i++)
        lcb_ec2_volume_release(&v[i]);
    return rc;
}

int
lcb_drill_ebs(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
              const struct lcb_backup *b, struct lcb_teardown *td, struct lcb_err *err)
{
    struct volumes vs;
    struct lcb_buf where = LCB_BUF_INIT;
    size_t i;
    int rc;

    (void)t;
    memset(&vs, 0, sizeof(vs));
    lcb_drill_comp_set(&c->source, b->source);
    rc = request(dc, b, &vs, td, err);
    for (i = 0; i < vs.n; i++)
        lcb_buf_addf(&where, "%s%s", i ? "," : "", vs.d[i]->id[0] ? vs.d[i]->id : "?");
    lcb_drill_comp_set(&c->restored, lcb_buf_str(&where));
    lcb_buf_release(&where);
    if (dc->dry_run) {
        for (i = 0; i < vs.n; i++) {
            if (rc == 0 && vs.d[i]->id[0])
                lcb_ec2_volume_delete(&vs.d[i]->ec2, vs.d[i]->id, err);
            free(vs.d[i]);
        }
        volumes_release(&vs);
        return rc;
    }
    /* a volume that was never created is not in the teardown: free its holder */
    for (i = 0; i < vs.n; i++)
        if (!vs.d[i]->id[0])
            free(vs.d[i]);
    if (rc == 0) {
        lcb_drill_phase_end(dc->run, c, LCB_PHASE_REQUEST, lcb_mono_ms());
        lcb_drill_phase_begin(dc->run, c, LCB_PHASE_PROVISION, lcb_mono_ms());
        rc = wait_and_check(dc, c, &vs, err);
    }
    volumes_release(&vs);
    return rc;
}
