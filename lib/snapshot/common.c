/* common.c - tags, catalog rows, manifests and waiting for the snapshot kinds; see snapshot.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../core/secret.h"
#include "../ext/db.h"
#include "internal.h"

/* ---- tags ---- */

const char *
lcb_snap_policy_name(const char *policy_file, char *buf, size_t size)
{
    const char *base;
    size_t n;

    if (!policy_file || !*policy_file) {
        snprintf(buf, size, "none");
        return buf;
    }
    base = strrchr(policy_file, '/') ? strrchr(policy_file, '/') + 1 : policy_file;
    n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".json") == 0)
        n -= 5;
    snprintf(buf, size, "%.*s", (int)n, base);
    return buf;
}

/* RDS takes letters, digits, space and _ . : / = + - @ in tag values; EC2 anything. */
static void
clean_value(char *dst, size_t size, const char *src)
{
    size_t i;

    snprintf(dst, size, "%s", src ? src : "");
    for (i = 0; dst[i]; i++) {
        unsigned char c = (unsigned char)dst[i];
        if (!isalnum(c) && !strchr(" _.:/=+-@", c))
            dst[i] = '-';
    }
}

void
lcb_snap_tags_set(struct lcb_snap_tags *t, const char *key, const char *value)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->tag[i].key, key) == 0)
            break;
    if (i == LCB_SNAP_TAGS_MAX)
        return;
    snprintf(t->store[i][0], sizeof(t->store[i][0]), "%s", key);
    clean_value(t->store[i][1], sizeof(t->store[i][1]), value);
    t->tag[i].key = t->store[i][0];
    t->tag[i].value = t->store[i][1];
    if (i == t->n)
        t->n++;
}

void
lcb_snap_tags_base(struct lcb_snap_tags *t, const struct lcb_job_ctx *jc, const char *backup_id,
                   const char *kind, const char *target)
{
    char host[128], by[320], policy[128];

    memset(t, 0, sizeof(*t));
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "unknown-host");
    host[sizeof(host) - 1] = '\0';
    snprintf(by, sizeof(by), "lcbackup/%s %s %s", LCB_VERSION, host,
             jc->run_id && *jc->run_id ? jc->run_id : "no-run");
    if (backup_id)
        lcb_snap_tags_set(t, LCB_SNAP_TAG_BACKUP_ID, backup_id);
    lcb_snap_tags_set(t, LCB_SNAP_TAG_ENV, jc->env ? jc->env : "none");
    lcb_snap_tags_set(t, LCB_SNAP_TAG_POLICY,
                      lcb_snap_policy_name(jc->policy_file, policy, sizeof(policy)));
    lcb_snap_tags_set(t, LCB_SNAP_TAG_CREATED_BY, by);
    if (kind)
        lcb_snap_tags_set(t, LCB_SNAP_TAG_KIND, kind);
    if (target)
        lcb_snap_tags_set(t, LCB_SNAP_TAG_TARGET, target);
}

/* ---- catalog ---- */

int
snap_backup_begin(const struct lcb_job_ctx *jc, struct lcb_backup *b, const char *kind,
                  const char *target, const char *source, const char *region, struct lcb_err *err)
{
    memset(b, 0, sizeof(*b));
    b->kind = lcb_xstrdup(kind);
    b->env = jc->env ? lcb_xstrdup(jc->env) : NULL;
    b->target = target ? lcb_xstrdup(target) : NULL;
    b->source = source ? lcb_xstrdup(source) : NULL;
    b->region = region ? lcb_xstrdup(region) : NULL;
    b->status = lcb_xstrdup("running");
    b->policy = jc->policy_file ? lcb_xstrdup(jc->policy_file) : NULL;
    b->started_at = lcb_now();
    if (jc->run_id && *jc->run_id)
        b->run_id = lcb_xstrdup(jc->run_id);
    return lcb_catalog_backup_add(jc->cat, b, err);
}

void
snap_backup_fail(const struct lcb_job_ctx *jc, struct lcb_backup *b, const struct lcb_err *why)
{
    char line[1024];
    struct lcb_buf red = LCB_BUF_INIT;
    struct lcb_err e;

    lcb_err_clear(&e);
    lcb_redact_str(&red, lcb_err_format(why, line, sizeof(line)));
    free(b->status);
    b->status = lcb_xstrdup("failed");
    free(b->error);
    b->error = lcb_xstrdup(lcb_buf_str(&red));
    if (!b->completed_at)
        b->completed_at = lcb_now();
    if (lcb_catalog_backup_update(jc->cat, b, &e) < 0 ||
        lcb_catalog_event(jc->cat, jc->run_id, b->id, "backup.failed", lcb_buf_str(&red), &e) < 0)
        lcb_log(LCB_ERROR, "catalog.write", "could not record the failure of %s: %s", b->id,
                lcb_err_format(&e, line, sizeof(line)));
    lcb_buf_release(&red);
}

void
snap_backup_unfinished(const struct lcb_job_ctx *jc, struct lcb_backup *b, const struct lcb_json *m,
                       struct lcb_err *err)
{
    struct lcb_err e2;

    if (err->code == LCB_ETEMP || err->code == LCB_EINTR) {
        snap_backup_save(jc, b, m, "pending", &e2);
        lcb_wrap(err, "%s stays pending: `lcbackup catalog refresh` completes it", b->id);
    } else {
        snap_backup_fail(jc, b, err);
    }
}

int
snap_copy_failed(const struct lcb_job_ctx *jc, const struct lcb_backup *b, const char *dest,
                 const char *location, int recorded, struct lcb_err *err)
{
    struct lcb_err e2;
    int final = err->code != LCB_ETEMP && err->code != LCB_EINTR;

    if (!recorded)
        lcb_catalog_copy_add(jc->cat, b->id, dest, location, final ? "failed" : "pending", &e2);
    else if (final)
        lcb_catalog_copy_set_status(jc->cat, b->id, dest, "failed", &e2);
    if (err->code != LCB_EINTR)
        err->code = LCB_EPARTIAL;
    return lcb_wrap(err, "backup %s is complete but its copy to %s is %s", b->id, dest,
                    final ? "not" : "still pending (`lcbackup catalog refresh` completes it)");
}

void
snap_manifest_store(struct lcb_backup *b, const struct lcb_json *m)
{
    struct lcb_buf out = LCB_BUF_INIT;

    lcb_json_print(&out, m, 0);
    free(b->manifest);
    b->manifest = lcb_buf_detach(&out, NULL);
}

int
snap_backup_save(const struct lcb_job_ctx *jc, struct lcb_backup *b, const struct lcb_json *m,
                 const char *status, struct lcb_err *err)
{
    char *st = lcb_xstrdup(status); /* status may be b->status itself */

    free(b->status);
    b->status = st;
    if (strcmp(st, "completed") == 0) {
        if (!b->completed_at)
            b->completed_at = lcb_now();
        free(b->error);
        b->error = NULL;
    }
    if (m)
        snap_manifest_store(b, m);
    return lcb_catalog_backup_update(jc->cat, b, err);
}

struct lcb_json *
lcb_snap_manifest(const struct lcb_backup *b)
{
    struct lcb_json *m = NULL;
    struct lcb_err e;

    if (b->manifest && lcb_json_parse(&m, b->manifest, strlen(b->manifest), &e) == 0 &&
        lcb_json_type(m) == LCB_JSON_OBJECT)
        return m;
    lcb_json_free(m);
    return lcb_json_new_object();
}

int
lcb_snap_copies(struct lcb_catalog *cat, const char *backup_id, struct lcb_snap_copy **out,
                size_t *n, struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc;

    *out = NULL;
    *n = 0;
    if (lcb_db_prepare(&st, lcb_catalog_db(cat),
                       "SELECT region, location, status FROM copies WHERE backup_id=? "
                       "ORDER BY region",
                       err) < 0)
        return -1;
    lcb_stmt_text(st, 1, backup_id);
    while ((rc = lcb_stmt_step(st, err)) == 1) {
        struct lcb_snap_copy *c;
        *out = lcb_xrealloc(*out, (*n + 1) * sizeof(**out));
        c = &(*out)[(*n)++];
        c->region = lcb_xstrdup(lcb_col_text(st, 0) ? lcb_col_text(st, 0) : "");
        c->location = lcb_xstrdup(lcb_col_text(st, 1) ? lcb_col_text(st, 1) : "");
        c->status = lcb_xstrdup(lcb_col_text(st, 2) ? lcb_col_text(st, 2) : "");
    }
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

void
lcb_snap_copies_free(struct lcb_snap_copy *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(c[i].region);
        free(c[i].location);
        free(c[i].status);
    }
    free(c);
}

int
lcb_snap_locate(struct lcb_catalog *cat, const struct lcb_backup *b, const char *here,
                const char **location, const char **region, struct lcb_snap_copy **copies,
                size_t *ncopies, struct lcb_err *err)
{
    size_t i;

    *copies = NULL;
    *ncopies = 0;
    if (!here || !b->region || strcmp(here, b->region) == 0) {
        *location = b->location;
        *region = b->region ? b->region : here;
        if (!b->location || !*b->location)
            return lcb_err_set(err, LCB_ENOTFOUND, "backup %s has no snapshot (status %s)", b->id,
                               b->status);
        return 0;
    }
    if (lcb_snap_copies(cat, b->id, copies, ncopies, err) < 0)
        return -1;
    for (i = 0; i < *ncopies; i++) {
        struct lcb_snap_copy *c = &(*copies)[i];
        if (strcmp(c->region, here) == 0 && strcmp(c->status, "completed") == 0 && *c->location) {
            *location = c->location;
            *region = c->region;
            lcb_log(LCB_INFO, "snapshot.copy.used", "using the copy of %s in %s: %s", b->id, here,
                    c->location);
            return 0;
        }
    }
    return lcb_err_set(err, LCB_ENOTFOUND,
                       "backup %s was taken in %s and has no completed copy in %s: use --region "
                       "%s, or a backup copied to %s",
                       b->id, b->region, here, b->region, here);
}

static int
protected_until(const struct lcb_json *m, const char *path, char *why, size_t size)
{
    const char *s = lcb_json_str(lcb_json_path(m, path));
    time_t t;

    if (!s || lcb_time_parse(s, &t) < 0 || t <= lcb_now())
        return 0;
    snprintf(why, size, "locked until %s (%s)", s, path);
    return 1;
}

int
lcb_snap_protected(const struct lcb_backup *b, char *why, size_t size)
{
    struct lcb_json *m;
    int locked;

    why[0] = '\0';
    if (b->hold && *b->hold) {
        snprintf(why, size, "held (%s): release the hold first", b->hold);
        return 1;
    }
    m = lcb_snap_manifest(b);
    locked = protected_until(m, "retain_until", why, size) ||
             protected_until(m, "object_lock.retain_until", why, size);
    if (!locked && lcb_json_bool(lcb_json_path(m, "legal_hold"), 0)) {
        snprintf(why, size, "under a legal hold (manifest legal_hold)");
        locked = 1;
    }
    lcb_json_free(m);
    return locked;
}

int
snap_delete_all(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
                struct lcb_job_deleted *out, snap_delete_fn del, struct lcb_err *err)
{
    struct lcb_snap_copy *copies = NULL;
    size_t n = 0, i;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (lcb_snap_protected(b, out->why, sizeof(out->why)))
        return 1;
    if (lcb_snap_copies(jc->cat, b->id, &copies, &n, err) < 0)
        return -1;
    for (i = 0; i < n; i++)
        if (*copies[i].location && strcmp(copies[i].status, "deleted") != 0 &&
            del(jc, copies[i].region, copies[i].location, &out->objects, err) < 0)
            goto out;
    if (b->location && *b->location && del(jc, b->region, b->location, &out->objects, err) < 0)
        goto out;
    rc = 0;
out:
    lcb_snap_copies_free(copies, n);
    return rc;
}

/* ---- JSON ---- */

void
snap_json_str(struct lcb_json *o, const char *key, const char *v)
{
    lcb_json_remove(o, key);
    if (v)
        lcb_json_add_str(o, key, v);
}

void
snap_json_time(struct lcb_json *o, const char *key, time_t t)
{
    char ts[LCB_TIME_LEN];

    snap_json_str(o, key, t ? lcb_time_fmt(t, ts) : NULL);
}

void
snap_json_bool(struct lcb_json *o, const char *key, int v)
{
    lcb_json_remove(o, key);
    lcb_json_add_bool(o, key, v);
}

void
snap_json_num(struct lcb_json *o, const char *key, double v)
{
    lcb_json_remove(o, key);
    lcb_json_add_num(o, key, v);
}

const char *
snap_copy_region(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                 const struct lcb_snap_opts *o)
{
    if (o && o->no_copy)
        return NULL;
    if (o && o->copy_to)
        return o->copy_to;
    if (t && t->copy_to_dr && jc->policy && jc->policy->dr_region)
        return jc->policy->dr_region;
    return NULL;
}

const char *
snap_copy_key(const struct lcb_job_ctx *jc, const struct lcb_snap_opts *o)
{
    if (o && o->copy_kms_key)
        return o->copy_kms_key;
    return jc->policy ? jc->policy->dr_kms_key : NULL;
}

/* ---- waiting ---- */

int
lcb_snap_wait(const char *event, const char *what, int64_t timeout, lcb_snap_poll_fn poll, void *ud,
              double *secs, struct lcb_err *err)
{
    struct lcb_waiter w;
    struct lcb_buf status = LCB_BUF_INIT;
    int64_t limit = timeout > 0 ? timeout : LCB_SNAP_DEFAULT_TIMEOUT, d;
    char dur[32];
    int st, rc = -1;

    lcb_waiter_init(&w, lcb_mono_ms(), limit);
    for (;;) {
        lcb_buf_reset(&status);
        st = poll(ud, &status, err);
        if (st < 0 && err->code != LCB_ETEMP)
            break;
        if (st < 0) {
            lcb_log(LCB_WARN, "snapshot.wait.retry", "%s: %s (polling again)", what, err->msg);
        } else if (st == LCB_WAIT_DONE) {
            rc = 0;
            break;
        } else if (st == LCB_WAIT_FAILED) {
            lcb_err_set(err, LCB_EREFUSED, "%s is %s", what, lcb_buf_str(&status));
            break;
        } else {
            lcb_progress(event, LCB_FIELDS(LCB_KV_S("status", lcb_buf_str(&status))), "%s: %s",
                         what, lcb_buf_str(&status));
        }
        if ((d = lcb_waiter_delay(&w, lcb_mono_ms())) < 0) {
            lcb_err_set(err, LCB_ETEMP, "%s still %s after %s", what,
                        st >= 0 && status.len ? lcb_buf_str(&status) : "not ready",
                        lcb_duration_fmt(limit, dur, sizeof(dur)));
            break;
        }
        if (lcb_waiter_sleep(d, err) < 0)
            break;
    }
    lcb_progress_end();
    if (secs)
        *secs = lcb_waiter_elapsed(&w, lcb_mono_ms());
    lcb_buf_release(&status);
    return rc;
}

struct rds_poll {
    struct lcb_rds *c;
    const char *id;
    int for_snapshot;
    struct lcb_rds_snapshot *snap;
    struct lcb_rds_instance *inst;
};

static int
poll_rds_snapshot(void *ud, struct lcb_buf *status, struct lcb_err *err)
{
    struct rds_poll *p = ud;

    lcb_rds_snapshot_release(p->snap);
    if (lcb_rds_snapshot_get(p->snap, p->c, p->id, err) < 0)
        return -1;
    lcb_buf_addf(status, "%s", p->snap->status ? p->snap->status : "?");
    if (p->snap->percent > 0 && p->snap->percent < 100)
        lcb_buf_addf(status, " %d%%", p->snap->percent);
    return (int)lcb_rds_snapshot_wait_state(p->snap->status);
}

int
lcb_snap_wait_rds_snapshot(struct lcb_rds_snapshot *out, struct lcb_rds *c, const char *id,
                           int64_t timeout, struct lcb_err *err)
{
    struct rds_poll p = {c, id, 0, out, NULL};
    char what[320];

    memset(out, 0, sizeof(*out));
    snprintf(what, sizeof(what), "snapshot %s in %s", id, lcb_rds_region(c));
    return lcb_snap_wait("rds.snapshot.wait", what, timeout, poll_rds_snapshot, &p, NULL, err);
}

static int
poll_rds_instance(void *ud, struct lcb_buf *status, struct lcb_err *err)
{
    struct rds_poll *p = ud;

    lcb_rds_instance_release(p->inst);
    if (lcb_rds_instance_get(p->inst, p->c, p->id, err) < 0)
        return -1;
    lcb_buf_addf(status, "%s", p->inst->status ? p->inst->status : "?");
    if (p->for_snapshot && lcb_rds_instance_snapshottable(p->inst->status))
        return LCB_WAIT_DONE;
    return (int)lcb_rds_instance_wait_state(p->inst->status);
}

int
lcb_snap_wait_rds_instance(struct lcb_rds_instance *out, struct lcb_rds *c, const char *id,
                           int64_t timeout, int for_snapshot, double *secs, struct lcb_err *err)
{
    struct rds_poll p = {c, id, for_snapshot, NULL, out};
    char what[200];

    memset(out, 0, sizeof(*out));
    snprintf(what, sizeof(what), "DB instance %s", id);
    return lcb_snap_wait("rds.instance.wait", what, timeout, poll_rds_instance, &p, secs, err);
}

struct ec2_poll {
    struct lcb_ec2 *c;
    const char *const *ids;
    size_t n;
    struct lcb_ec2_snapshot_list *snaps;
    struct lcb_ec2_volume *vol;
    const char *vol_id;
};

static int
poll_ec2_snapshots(void *ud, struct lcb_buf *status, struct lcb_err *err)
{
    struct ec2_poll *p = ud;
    size_t i, done = 0;
    int state = LCB_WAIT_DONE;

    lcb_ec2_snapshot_list_release(p->snaps);
    if (lcb_ec2_snapshot_list(p->snaps, p->c, p->ids, p->n, NULL, 0, err) < 0)
        return -1;
    if (p->snaps->n < p->n) {
        lcb_buf_addf(status, "gone (%zu of %zu snapshots no longer exist)", p->n - p->snaps->n,
                     p->n);
        return LCB_WAIT_FAILED;
    }
    for (i = 0; i < p->snaps->n; i++) {
        const struct lcb_ec2_snapshot *s = &p->snaps->items[i];
        enum lcb_wait w = lcb_ec2_snapshot_wait_state(s->state);
        if (w == LCB_WAIT_FAILED) {
            lcb_buf_reset(status);
            lcb_buf_addf(status, "%s (%s)%s%s", s->state ? s->state : "?", s->id,
                         s->state_message ? ": " : "", s->state_message ? s->state_message : "");
            return LCB_WAIT_FAILED;
        }
        done += w == LCB_WAIT_DONE;
        if (w == LCB_WAIT_PENDING)
            state = LCB_WAIT_PENDING;
        lcb_buf_addf(status, "%s%s %d%%", i ? ", " : "", s->id, s->progress < 0 ? 0 : s->progress);
    }
    if (state == LCB_WAIT_PENDING)
        lcb_buf_addf(status, " (%zu/%zu completed)", done, p->snaps->n);
    return state;
}

int
lcb_snap_wait_ec2_snapshots(struct lcb_ec2_snapshot_list *out, struct lcb_ec2 *c,
                            const char *const *ids, size_t n, int64_t timeout, struct lcb_err *err)
{
    struct ec2_poll p = {c, ids, n, out, NULL, NULL};
    char what[160];

    out->items = NULL;
    out->n = 0;
    snprintf(what, sizeof(what), "EBS snapshot%s %s%s in %s", n > 1 ? "s" : "", ids[0],
             n > 1 ? " ..." : "", lcb_ec2_region(c));
    return lcb_snap_wait("ebs.snapshot.wait", what, timeout, poll_ec2_snapshots, &p, NULL, err);
}

static int
poll_ec2_volume(void *ud, struct lcb_buf *status, struct lcb_err *err)
{
    struct ec2_poll *p = ud;

    lcb_ec2_volume_release(p->vol);
    if (lcb_ec2_volume_get(p->vol, p->c, p->vol_id, err) < 0)
        return -1;
    lcb_buf_addf(status, "%s", p->vol->state ? p->vol->state : "?");
    return (int)lcb_ec2_volume_wait_state(p->vol->state);
}

int
lcb_snap_wait_ec2_volume(struct lcb_ec2_volume *out, struct lcb_ec2 *c, const char *id,
                         int64_t timeout, double *secs, struct lcb_err *err)
{
    struct ec2_poll p = {c, NULL, 0, NULL, out, id};
    char what[160];

    memset(out, 0, sizeof(*out));
    snprintf(what, sizeof(what), "volume %s in %s", id, lcb_ec2_region(c));
    return lcb_snap_wait("ebs.volume.wait", what, timeout, poll_ec2_volume, &p, secs, err);
}

/* ---- recording what AWS says ---- */

void
snap_rds_fill(struct lcb_backup *b, struct lcb_json *m, const struct lcb_rds_snapshot *s,
              const char *region)
{
    free(b->location);
    b->location = lcb_xstrdup(s->id);
    b->taken_at = s->create_time ? s->create_time : b->started_at;
    b->size_bytes = s->allocated_gib * LCB_SNAP_GIB;
    b->item_count = 1;
    snap_json_str(m, "kind", "rds");
    snap_json_str(m, "snapshot_id", s->id);
    snap_json_str(m, "arn", s->arn);
    snap_json_str(m, "region", region);
    snap_json_str(m, "instance", s->instance_id);
    snap_json_str(m, "engine", s->engine);
    snap_json_str(m, "engine_version", s->engine_version);
    snap_json_num(m, "allocated_storage_gib", (double)s->allocated_gib);
    snap_json_str(m, "storage_type", s->storage_type);
    snap_json_bool(m, "encrypted", s->encrypted);
    snap_json_str(m, "kms_key_id", s->kms_key_id);
    snap_json_time(m, "snapshot_create_time", s->create_time);
    snap_json_str(m, "snapshot_status", s->status);
}

static int
same_id(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static struct lcb_json *
ec2_snapshot_json(const struct lcb_ec2_snapshot *s, const struct lcb_ec2_volume_list *vols)
{
    struct lcb_json *o = lcb_json_new_object();
    const char *name = lcb_ec2_tag_get(s->tags, s->ntags, "Name");
    size_t i;

    snap_json_str(o, "snapshot_id", s->id);
    snap_json_str(o, "volume_id", s->volume_id);
    snap_json_num(o, "volume_size_gib", (double)s->volume_gib);
    snap_json_bool(o, "encrypted", s->encrypted);
    snap_json_str(o, "kms_key_id", s->kms_key_id);
    snap_json_time(o, "start_time", s->start_time);
    snap_json_str(o, "state", s->state);
    for (i = 0; vols && i < vols->n; i++) {
        const struct lcb_ec2_volume *v = &vols->items[i];
        if (!same_id(v->id, s->volume_id))
            continue;
        snap_json_str(o, "availability_zone", v->availability_zone);
        snap_json_str(o, "volume_type", v->volume_type);
        if (v->iops)
            snap_json_num(o, "iops", v->iops);
        if (v->throughput)
            snap_json_num(o, "throughput", v->throughput);
        snap_json_str(o, "instance_id", v->instance_id);
        snap_json_str(o, "device", v->device);
        if (!name)
            name = lcb_ec2_tag_get(v->tags, v->ntags, "Name");
    }
    snap_json_str(o, "name", name);
    return o;
}

/* Keep what an earlier fill learnt from the volumes (a refresh has none). */
static void
keep_old(struct lcb_json *o, const struct lcb_json *old, const char *id)
{
    const struct lcb_json *p, *k;
    size_t j;

    for (j = 0; old && j < lcb_json_size(old); j++) {
        p = lcb_json_at(old, j);
        if (!same_id(lcb_json_get_str(p, "snapshot_id"), id))
            continue;
        for (k = lcb_json_child(p); k; k = lcb_json_next(k))
            if (!lcb_json_get(o, lcb_json_key(k)))
                lcb_json_add(o, lcb_json_key(k), lcb_json_dup(k));
    }
}

void
snap_ec2_fill(struct lcb_backup *b, struct lcb_json *m, const struct lcb_ec2_snapshot_list *s,
              const struct lcb_ec2_volume_list *vols)
{
    struct lcb_json *arr = lcb_json_new_array(), *old = lcb_json_get(m, "snapshots");
    struct lcb_buf loc = LCB_BUF_INIT;
    time_t taken = 0;
    long long size = 0;
    size_t i;

    for (i = 0; i < s->n; i++) {
        struct lcb_json *o = ec2_snapshot_json(&s->items[i], vols);
        keep_old(o, old, s->items[i].id);
        lcb_json_push(arr, o);
        lcb_buf_addf(&loc, "%s%s", i ? "," : "", s->items[i].id);
        size += s->items[i].volume_gib * LCB_SNAP_GIB;
        if (s->items[i].start_time && (!taken || s->items[i].start_time < taken))
            taken = s->items[i].start_time;
    }
    lcb_json_set(m, "snapshots", arr);
    snap_json_str(m, "kind", "ebs");
    free(b->location);
    b->location = lcb_buf_detach(&loc, NULL);
    b->taken_at = taken ? taken : b->started_at;
    b->size_bytes = size;
    b->item_count = (long long)s->n;
}
