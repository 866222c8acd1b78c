/* ebs.c - EBS backups: pick the volumes, snapshot them, wait, DR copy, delete, refresh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/aws.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "internal.h"

/* ---- the volumes ---- */

/* The volumes a target names: volume ids, tags, or an instance's attachments. */
static int
pick_volumes(struct lcb_ec2_volume_list *out, struct lcb_ec2 *ec2, const struct lcb_target *t,
             struct lcb_buf *source, struct lcb_err *err)
{
    struct lcb_query_filter f[16];
    char names[16][160];
    const char *vals[16][1];
    size_t i, nf = 0;

    if (t->nvolume_ids) {
        for (i = 0; i < t->nvolume_ids; i++)
            lcb_buf_addf(source, "%s%s", i ? "," : "", t->volume_ids[i]);
        if (lcb_ec2_volume_list(out, ec2, (const char *const *)t->volume_ids, t->nvolume_ids, NULL,
                                0, err) < 0)
            return -1;
    } else {
        if (t->instance_id) {
            snprintf(names[nf], sizeof(names[nf]), "attachment.instance-id");
            vals[nf][0] = t->instance_id;
            lcb_buf_adds(source, t->instance_id);
            nf++;
        }
        for (i = 0; i < t->ntags && nf < 16; i++, nf++) {
            snprintf(names[nf], sizeof(names[nf]), "tag:%s", t->tags[i].key);
            vals[nf][0] = t->tags[i].value;
            lcb_buf_addf(source, "%stag:%s=%s", source->len ? "," : "", t->tags[i].key,
                         t->tags[i].value);
        }
        for (i = 0; i < nf; i++)
            f[i] = (struct lcb_query_filter){names[i], vals[i], 1};
        if (nf == 0)
            return lcb_err_set(err, LCB_ECONFIG,
                               "EBS target %s names no volume_ids, tags or "
                               "instance_id",
                               t->name);
        if (lcb_ec2_volume_list(out, ec2, NULL, 0, f, nf, err) < 0)
            return -1;
    }
    if (out->n == 0)
        return lcb_err_set(err, LCB_ENOTFOUND, "no EBS volume in %s matches %s",
                           lcb_ec2_region(ec2), lcb_buf_str(source));
    return 0;
}

/* ---- the snapshots ---- */

static void
snapshot_tags(struct lcb_snap_tags *tags, const struct lcb_job_ctx *jc, const char *backup_id,
              const struct lcb_target *t, const struct lcb_ec2_volume *v)
{
    const char *name = v ? lcb_ec2_tag_get(v->tags, v->ntags, "Name") : NULL;

    lcb_snap_tags_base(tags, jc, backup_id, "ebs", t->name);
    if (name)
        lcb_snap_tags_set(tags, "Name", name);
}

/* One CreateSnapshot per volume, or one CreateSnapshots for an instance target. */
static int
take(struct lcb_ec2_snapshot_list *out, struct lcb_ec2 *ec2, const struct lcb_job_ctx *jc,
     const struct lcb_target *t, const char *backup_id, const struct lcb_ec2_volume_list *vols,
     int *adopted, struct lcb_err *err)
{
    struct lcb_snap_tags tags;
    char desc[256];
    size_t i;
    int a;

    out->items = NULL;
    out->n = 0;
    *adopted = 0;
    if (t->instance_id && !t->nvolume_ids && !t->ntags) {
        snprintf(desc, sizeof(desc), "lcbackup %s %s %s", backup_id, t->name, t->instance_id);
        snapshot_tags(&tags, jc, backup_id, t, NULL);
        return lcb_ec2_snapshots_create(out, adopted, ec2, t->instance_id, 0, desc, tags.tag,
                                        tags.n, LCB_SNAP_TAG_BACKUP_ID, err);
    }
    out->items = lcb_xcalloc(vols->n + 1, sizeof(*out->items));
    for (i = 0; i < vols->n; i++) {
        snprintf(desc, sizeof(desc), "lcbackup %s %s %s", backup_id, t->name, vols->items[i].id);
        snapshot_tags(&tags, jc, backup_id, t, &vols->items[i]);
        if (lcb_ec2_snapshot_create(&out->items[out->n], &a, ec2, vols->items[i].id, desc, tags.tag,
                                    tags.n, LCB_SNAP_TAG_BACKUP_ID, err) < 0)
            return -1;
        out->n++;
        *adopted |= a;
    }
    return 0;
}

static char **
snapshot_ids(const struct lcb_ec2_snapshot_list *l)
{
    char **ids = lcb_xcalloc(l->n + 1, sizeof(*ids));
    size_t i;

    for (i = 0; i < l->n; i++)
        ids[i] = l->items[i].id;
    return ids;
}

static int
dry_run(const struct lcb_job_ctx *jc, struct lcb_ec2 *ec2, const struct lcb_target *t,
        const struct lcb_snap_opts *o, struct lcb_err *err)
{
    struct lcb_ec2_volume_list vols = {NULL, 0};
    struct lcb_ec2_snapshot_list snaps = {NULL, 0};
    struct lcb_buf source = LCB_BUF_INIT;
    const char *dest = snap_copy_region(jc, t, o);
    int adopted, rc = -1;
    size_t i;

    if (pick_volumes(&vols, ec2, t, &source, err) < 0)
        goto out;
    for (i = 0; i < vols.n; i++)
        fprintf(jc->out, "# %s: volume %s (%lld GiB, %s)\n", t->name, vols.items[i].id,
                vols.items[i].size_gib, vols.items[i].state ? vols.items[i].state : "?");
    take(&snaps, ec2, jc, t, "new-backup-id", &vols, &adopted, err);
    if (dest) {
        struct lcb_ec2 dst = {jc->aws, dest, jc->out};
        struct lcb_snap_tags tags;
        struct lcb_ec2_snapshot c;
        fprintf(jc->out, "# once the snapshots are completed, for each of them:\n");
        lcb_snap_tags_base(&tags, jc, "new-backup-id", "ebs", t->name);
        lcb_snap_tags_set(&tags, LCB_SNAP_TAG_COPY_OF, "(region/snapshot id)");
        {
            struct lcb_ec2_copy_req r = {lcb_ec2_region(ec2),
                                         "(the snapshot id)",
                                         "lcbackup copy",
                                         snap_copy_key(jc, o),
                                         0,
                                         tags.tag,
                                         tags.n,
                                         LCB_SNAP_TAG_COPY_OF};
            lcb_ec2_snapshot_copy(&c, &adopted, &dst, &r, err);
            lcb_ec2_snapshot_release(&c);
        }
    }
    rc = 0;
out:
    lcb_ec2_snapshot_list_release(&snaps);
    lcb_ec2_volume_list_release(&vols);
    lcb_buf_release(&source);
    return rc;
}

static int
finish(const struct lcb_job_ctx *jc, struct lcb_ec2 *ec2, struct lcb_backup *b, struct lcb_json *m,
       const struct lcb_ec2_snapshot_list *taken, const struct lcb_ec2_volume_list *vols,
       const char *dest, const struct lcb_snap_opts *o, struct lcb_err *err)
{
    struct lcb_ec2_snapshot_list done = {NULL, 0};
    char **ids = snapshot_ids(taken);
    int rc = -1;

    if (lcb_snap_wait_ec2_snapshots(&done, ec2, (const char *const *)ids, taken->n, o->timeout,
                                    err) < 0) {
        snap_backup_unfinished(jc, b, m, err);
        goto out;
    }
    snap_ec2_fill(b, m, &done, vols);
    if (snap_backup_save(jc, b, m, "completed", err) < 0)
        goto out;
    lcb_log(LCB_INFO, "ebs.snapshot.done", "%s: %zu snapshot%s completed (%s)", b->id, done.n,
            done.n == 1 ? "" : "s", b->location);
    rc = 0;
    if (dest &&
        snap_ec2_copy(jc, b, m, &done, dest, snap_copy_key(jc, o), o->no_wait, o->timeout, err) < 0)
        rc = -1;
out:
    free(ids);
    lcb_ec2_snapshot_list_release(&done);
    return rc;
}

int
lcb_snap_backup_ebs(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                    const struct lcb_snap_opts *opts, struct lcb_job_result *res,
                    struct lcb_err *err)
{
    static const struct lcb_snap_opts none;
    const struct lcb_snap_opts *o = opts ? opts : &none;
    struct lcb_ec2 ec2 = {jc->aws, NULL, jc->dry_run ? jc->out : NULL};
    const char *region = lcb_aws_region(jc->aws), *dest = snap_copy_region(jc, t, o);
    struct lcb_ec2_volume_list vols = {NULL, 0};
    struct lcb_ec2_snapshot_list snaps = {NULL, 0};
    struct lcb_buf source = LCB_BUF_INIT;
    struct lcb_backup b;
    struct lcb_json *m;
    int adopted = 0, rc = -1;

    if (res)
        memset(res, 0, sizeof(*res));
    if (!region)
        return lcb_err_set(err, LCB_ECONFIG, "no AWS region: give --region or set AWS_REGION");
    if (dest && strcmp(dest, region) == 0)
        return lcb_err_set(err, LCB_EUSAGE, "the copy region %s is the snapshots' own region",
                           dest);
    if (jc->dry_run)
        return dry_run(jc, &ec2, t, o, err);
    if (snap_backup_begin(jc, &b, "ebs", t->name, NULL, region, err) < 0)
        return -1;
    if (res)
        snprintf(res->backup_id, sizeof(res->backup_id), "%s", b.id);
    m = lcb_json_new_object();
    snap_json_str(m, "kind", "ebs");
    snap_json_str(m, "region", region);
    if (pick_volumes(&vols, &ec2, t, &source, err) < 0)
        goto fail;
    free(b.source);
    b.source = lcb_xstrdup(lcb_buf_str(&source));
    snap_json_bool(m, "crash_consistent_set", t->instance_id && !t->nvolume_ids && !t->ntags);
    if (take(&snaps, &ec2, jc, t, b.id, &vols, &adopted, err) < 0) {
        if (snaps.n) /* what was taken stays findable (and deletable) */
            snap_ec2_fill(&b, m, &snaps, &vols);
        goto fail;
    }
    snap_json_bool(m, "adopted", adopted);
    snap_ec2_fill(&b, m, &snaps, &vols);
    if (res)
        snprintf(res->location, sizeof(res->location), "%s", b.location);
    if (dest) {
        snap_json_str(m, "copy_to", dest);
        snap_json_str(m, "copy_kms_key", snap_copy_key(jc, o));
    }
    lcb_log(LCB_INFO, "ebs.snapshot.started", "%s: %s %s", b.id, adopted ? "adopted" : "started",
            b.location);
    if (snap_backup_save(jc, &b, m, o->no_wait ? "pending" : "running", err) < 0)
        goto out;
    if (o->no_wait) {
        rc = 0;
        goto out;
    }
    rc = finish(jc, &ec2, &b, m, &snaps, &vols, dest, o, err);
    goto out;
fail:
    snap_backup_fail(jc, &b, err);
out:
    if (res && b.location)
        snprintf(res->location, sizeof(res->location), "%s", b.location);
    lcb_json_free(m);
    lcb_ec2_snapshot_list_release(&snaps);
    lcb_ec2_volume_list_release(&vols);
    lcb_buf_release(&source);
    lcb_backup_release(&b);
    return rc;
}

int
lcb_job_backup_ebs(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                   struct lcb_job_result *res, struct lcb_err *err)
{
    return lcb_snap_backup_ebs(jc, t, NULL, res, err);
}

/* ---- the copies ---- */

/* CopySnapshot for each source snapshot; the copies' ids into copies. */
static int
start_copies(struct lcb_ec2_snapshot_list *copies, const struct lcb_job_ctx *jc,
             struct lcb_ec2 *dst, const struct lcb_backup *b,
             const struct lcb_ec2_snapshot_list *src, const char *kms, struct lcb_err *err)
{
    struct lcb_snap_tags tags;
    char copy_of[160], desc[256];
    size_t i, j;
    int adopted;

    copies->items = lcb_xcalloc(src->n + 1, sizeof(*copies->items));
    copies->n = 0;
    for (i = 0; i < src->n; i++) {
        const struct lcb_ec2_snapshot *s = &src->items[i];
        struct lcb_ec2_copy_req r = {b->region,    s->id, desc, kms,
                                     s->encrypted, NULL,  0,    LCB_SNAP_TAG_COPY_OF};
        lcb_snap_tags_base(&tags, jc, b->id, "ebs", b->target);
        for (j = 0; j < s->ntags; j++)
            if (strncmp(s->tags[j].key, "aws:", 4) != 0)
                lcb_snap_tags_set(&tags, s->tags[j].key, s->tags[j].value);
        snprintf(copy_of, sizeof(copy_of), "%s/%s", b->region, s->id);
        lcb_snap_tags_set(&tags, LCB_SNAP_TAG_BACKUP_ID, b->id);
        lcb_snap_tags_set(&tags, LCB_SNAP_TAG_COPY_OF, copy_of);
        snprintf(desc, sizeof(desc), "lcbackup %s copy of %s", b->id, copy_of);
        r.tags = tags.tag;
        r.ntags = tags.n;
        if (lcb_ec2_snapshot_copy(&copies->items[copies->n], &adopted, dst, &r, err) < 0)
            return -1;
        copies->n++;
    }
    return 0;
}

static void
record_copies(struct lcb_json *m, const char *dest, const struct lcb_ec2_snapshot_list *src,
              const struct lcb_ec2_snapshot_list *copies, struct lcb_buf *location)
{
    struct lcb_json *all = lcb_json_get(m, "copies"), *arr = lcb_json_new_array();
    size_t i;

    if (!all)
        all = lcb_json_add(m, "copies", lcb_json_new_object());
    lcb_buf_reset(location);
    for (i = 0; i < copies->n; i++) {
        struct lcb_json *o = lcb_json_new_object();
        snap_json_str(o, "source", src->items[i].id);
        snap_json_str(o, "snapshot_id", copies->items[i].id);
        snap_json_str(o, "state", copies->items[i].state);
        lcb_json_push(arr, o);
        lcb_buf_addf(location, "%s%s", i ? "," : "", copies->items[i].id);
    }
    lcb_json_set(all, dest, arr);
}

int
snap_ec2_copy(const struct lcb_job_ctx *jc, struct lcb_backup *b, struct lcb_json *m,
              const struct lcb_ec2_snapshot_list *src, const char *dest, const char *kms,
              int no_wait, int64_t timeout, struct lcb_err *err)
{
    struct lcb_ec2 dst = {jc->aws, dest, NULL};
    struct lcb_ec2_snapshot_list copies = {NULL, 0}, done = {NULL, 0};
    struct lcb_buf loc = LCB_BUF_INIT;
    char **ids = NULL;
    int rc = -1;

    if (start_copies(&copies, jc, &dst, b, src, kms, err) < 0) {
        record_copies(m, dest, src, &copies, &loc);
        rc = snap_copy_failed(jc, b, dest, lcb_buf_str(&loc), 0, err);
        goto out;
    }
    record_copies(m, dest, src, &copies, &loc);
    if (snap_backup_save(jc, b, m, b->status, err) < 0 ||
        lcb_catalog_copy_add(jc->cat, b->id, dest, lcb_buf_str(&loc), "pending", err) < 0)
        goto out;
    lcb_log(LCB_INFO, "ebs.copy.started", "%s: copies to %s started (%s)", b->id, dest,
            lcb_buf_str(&loc));
    rc = 0;
    if (no_wait)
        goto out;
    ids = snapshot_ids(&copies);
    if (lcb_snap_wait_ec2_snapshots(&done, &dst, (const char *const *)ids, copies.n, timeout, err) <
        0) {
        rc = snap_copy_failed(jc, b, dest, lcb_buf_str(&loc), 0, err);
        goto out;
    }
    record_copies(m, dest, src, &done, &loc);
    if (snap_backup_save(jc, b, m, b->status, err) < 0 ||
        lcb_catalog_copy_add(jc->cat, b->id, dest, lcb_buf_str(&loc), "completed", err) < 0)
        rc = -1;
    else
        lcb_log(LCB_INFO, "ebs.copy.done", "%s: copies in %s completed", b->id, dest);
out:
    free(ids);
    lcb_ec2_snapshot_list_release(&copies);
    lcb_ec2_snapshot_list_release(&done);
    lcb_buf_release(&loc);
    return rc;
}

/* ---- delete ---- */

/* A snap_delete_fn: each id of a comma-separated list. */
static int
delete_ids(const struct lcb_job_ctx *jc, const char *region, const char *list, int *deleted,
           struct lcb_err *err)
{
    struct lcb_ec2 c = {jc->aws, region, jc->dry_run ? jc->out : NULL};
    char *copy = lcb_xstrdup(list), *save = NULL, *id;
    int rc = 0;

    for (id = strtok_r(copy, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        if (lcb_ec2_snapshot_delete(&c, id, err) == 0) {
            (*deleted)++;
        } else if (err->code == LCB_ENOTFOUND) {
            lcb_log(LCB_INFO, "ebs.snapshot.gone", "snapshot %s in %s is already gone", id,
                    lcb_ec2_region(&c));
            lcb_err_clear(err);
        } else {
            rc = -1;
            break;
        }
    }
    free(copy);
    return rc;
}

int
lcb_job_delete_ebs(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
                   struct lcb_job_deleted *out, struct lcb_err *err)
{
    return snap_delete_all(jc, b, out, delete_ids, err);
}

/* ---- refresh ---- */

static size_t
split_ids(char *list, char **ids, size_t max)
{
    char *save = NULL, *id;
    size_t n = 0;

    for (id = strtok_r(list, ",", &save); id && n < max; id = strtok_r(NULL, ",", &save))
        ids[n++] = id;
    return n;
}

int
snap_ec2_refresh(const struct lcb_job_ctx *jc, struct lcb_backup *b, struct lcb_json *m,
                 int64_t wait, int *changed, struct lcb_err *err)
{
    struct lcb_ec2 ec2 = {jc->aws, b->region, NULL};
    struct lcb_ec2_snapshot_list s = {NULL, 0};
    const char *dest = lcb_json_get_str(m, "copy_to");
    char *list = lcb_xstrdup(b->location), *ids[64];
    size_t n = split_ids(list, ids, 64), i;
    int owed = 0, rc;

    if (wait > 0) {
        rc = lcb_snap_wait_ec2_snapshots(&s, &ec2, (const char *const *)ids, n, wait, err);
    } else if ((rc = lcb_ec2_snapshot_list(&s, &ec2, (const char *const *)ids, n, NULL, 0, err)) ==
               0) {
        for (i = 0; i < s.n && rc == 0; i++) {
            enum lcb_wait w = lcb_ec2_snapshot_wait_state(s.items[i].state);
            if (w == LCB_WAIT_FAILED)
                rc = lcb_err_set(err, LCB_EREFUSED, "snapshot %s is %s", s.items[i].id,
                                 s.items[i].state);
            else if (w == LCB_WAIT_PENDING)
                rc = 1;
        }
        if (rc == 1) {
            lcb_log(LCB_INFO, "ebs.snapshot.pending", "%s: snapshots still pending", b->id);
            rc = 0;
            goto out;
        }
    }
    if (rc < 0) {
        rc = snap_refresh_unseen(jc, b, "ebs.snapshot.pending", wait, changed, err);
        goto out;
    }
    snap_ec2_fill(b, m, &s, NULL);
    rc = snap_refresh_completed(jc, b, m, dest, changed, &owed, err);
    if (rc == 0 && owed)
        rc = snap_ec2_copy(jc, b, m, &s, dest, lcb_json_get_str(m, "copy_kms_key"), wait <= 0, wait,
                           err);
out:
    lcb_ec2_snapshot_list_release(&s);
    free(list);
    return rc;
}
