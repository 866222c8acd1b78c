/* rds.c - RDS backups: instance, fingerprint, snapshot, wait, DR copy, delete, refresh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/aws.h"
#include "../aws/secretsmanager.h"
#include "../aws/ssm.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../core/secret.h"
#include "../ext/pg.h"
#include "../fingerprint/fingerprint.h"
#include "internal.h"

/* ---- the instance ---- */

static void
record_instance(struct lcb_json *m, const struct lcb_rds_instance *in)
{
    struct lcb_json *o = lcb_json_new_object(), *sgs = lcb_json_new_array();
    size_t i;

    snap_json_str(o, "id", in->id);
    snap_json_str(o, "class", in->instance_class);
    snap_json_str(o, "engine_version", in->engine_version);
    snap_json_str(o, "availability_zone", in->availability_zone);
    snap_json_str(o, "subnet_group", in->subnet_group);
    snap_json_str(o, "parameter_group", in->parameter_group);
    snap_json_str(o, "option_group", in->option_group);
    snap_json_str(o, "db_name", in->db_name);
    snap_json_str(o, "master_user", in->master_user);
    snap_json_str(o, "storage_type", in->storage_type);
    for (i = 0; i < in->nsecurity_groups; i++)
        lcb_json_push(sgs, lcb_json_new_str(in->security_groups[i]));
    lcb_json_add(o, "security_groups", sgs);
    if (in->port)
        snap_json_num(o, "port", in->port);
    snap_json_bool(o, "multi_az", in->multi_az);
    snap_json_bool(o, "publicly_accessible", in->publicly_accessible);
    snap_json_num(o, "backup_retention_days", in->backup_retention);
    lcb_json_set(m, "source_instance", o);
}

/* Describe the instance; wait while it is busy (backing-up, modifying...); refuse when it is in a
 * state it will not leave by itself. */
static int
ready_instance(struct lcb_rds_instance *out, struct lcb_rds *rds, const char *id, int64_t timeout,
               struct lcb_err *err)
{
    char dur[32];

    if (lcb_rds_instance_get(out, rds, id, err) < 0)
        return -1;
    if (lcb_rds_instance_snapshottable(out->status))
        return 0;
    if (lcb_rds_instance_wait_state(out->status) == LCB_WAIT_FAILED)
        return lcb_err_set(err, LCB_EREFUSED,
                           "DB instance %s is %s: it cannot be snapshotted "
                           "until it is available again",
                           id, out->status);
    lcb_log(LCB_INFO, "rds.instance.busy", "DB instance %s is %s: waiting for it (up to %s)", id,
            out->status,
            lcb_duration_fmt(timeout ? timeout : LCB_SNAP_DEFAULT_TIMEOUT, dur, sizeof(dur)));
    lcb_rds_instance_release(out);
    return lcb_snap_wait_rds_instance(out, rds, id, timeout, 1, NULL, err);
}

/* ---- the fingerprint ---- */

static int
fingerprint(const struct lcb_job_ctx *jc, const char *param, const char *secret, long long limit,
            const struct lcb_rds_instance *in, struct lcb_json *m, struct lcb_err *err)
{
    struct lcb_secret url = LCB_SECRET_INIT;
    struct lcb_pg_url u;
    struct lcb_pg *pg = NULL;
    struct lcb_fingerprint fp;
    struct lcb_buf desc = LCB_BUF_INIT, js = LCB_BUF_INIT;
    struct lcb_json *j = NULL;
    int rc = -1;

    memset(&u, 0, sizeof(u));
    if ((secret ? lcb_sm_db_url(&url, jc->aws, secret, in->address, in->port, in->db_name, err)
                : lcb_ssm_get(&url, NULL, 0, jc->aws, param, err)) < 0 ||
        lcb_pg_url_parse(&u, lcb_secret_get(&url), err) < 0)
        goto out;
    lcb_pg_url_describe(&u, &desc);
    if (in->address && (strcmp(in->address, u.host) != 0 || (in->port && in->port != u.port)))
        lcb_log(LCB_WARN, "rds.fingerprint.endpoint",
                "%s points at %s:%d, not at %s's endpoint "
                "%s:%d",
                secret ? secret : param, u.host, u.port, in->id, in->address, in->port);
    if (lcb_pg_connect(&pg, &u, 1, err) < 0 || lcb_fingerprint_take(&fp, pg, limit, err) < 0)
        goto out;
    lcb_fingerprint_json(&fp, &js);
    if (lcb_json_parse(&j, js.ptr, js.len, err) == 0) {
        lcb_json_set(m, "fingerprint", j);
        snap_json_str(m, secret ? "db_secret" : "db_url_param", secret ? secret : param);
        snap_json_str(m, "database", lcb_buf_str(&desc));
        lcb_logf(LCB_INFO, "rds.fingerprint.done",
                 LCB_FIELDS(LCB_KV_I("tables", fp.ntables), LCB_KV_S("schema", fp.schema_sha256)),
                 "fingerprint of %s: %zu tables, schema %.12s, latest migration %s",
                 lcb_buf_str(&desc), fp.ntables, fp.schema_sha256,
                 fp.has_migration ? fp.migration_name : "(none)");
        rc = 0;
    }
    lcb_fingerprint_release(&fp);
out:
    lcb_pg_close(pg);
    lcb_pg_url_release(&u);
    lcb_secret_release(&url);
    lcb_buf_release(&desc);
    lcb_buf_release(&js);
    return rc;
}

/* A fingerprint never fails the backup: without one, the manifest says why. */
static void
take_fingerprint(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                 const struct lcb_snap_opts *o, const struct lcb_rds_instance *in,
                 struct lcb_json *m)
{
    const char *param = o->db_url_param ? o->db_url_param : t->db_url_param;
    long long limit = o->exact_count_limit ? o->exact_count_limit : t->exact_count_limit;
    struct lcb_buf red = LCB_BUF_INIT;
    struct lcb_err e;
    char line[1024];
    const char *why = NULL;

    lcb_err_clear(&e);
    if (o->no_fingerprint)
        why = "skipped (--no-fingerprint)";
    else if (!param && !t->db_secret)
        why = "no db_url_param or db_secret for this target";
    else if (fingerprint(jc, param, param ? NULL : t->db_secret, limit, in, m, &e) == 0)
        return;
    if (!why) {
        lcb_wrap(&e, "fingerprint through %s", param ? param : t->db_secret);
        why = lcb_redact_str(&red, lcb_err_format(&e, line, sizeof(line)));
        lcb_log(LCB_WARN, "rds.fingerprint.failed", "no fingerprint for %s: %s", t->instance, why);
    } else if (!o->no_fingerprint) {
        lcb_log(LCB_WARN, "rds.fingerprint.none", "no fingerprint for %s: %s", t->instance, why);
    }
    lcb_json_remove(m, "fingerprint");
    lcb_json_add_null(m, "fingerprint");
    snap_json_str(m, "fingerprint_error", why);
    lcb_buf_release(&red);
}

/* ---- the snapshot ---- */

/* CreateDBSnapshot; an instance that turned busy in between is waited for again. */
static int
create(struct lcb_rds_snapshot *out, struct lcb_rds *rds, const struct lcb_target *t,
       const char *name, const struct lcb_snap_tags *tags, int64_t timeout, int *adopted,
       struct lcb_err *err)
{
    struct lcb_rds_instance in;
    int tries, rc;

    for (tries = 0;; tries++) {
        if (lcb_rds_snapshot_create(out, adopted, rds, t->instance, name, tags->tag, tags->n,
                                    LCB_SNAP_TAG_BACKUP_ID, err) == 0)
            return 0;
        if (strcmp(err->aws_code, "InvalidDBInstanceState") != 0 || tries >= 3)
            return -1;
        lcb_log(LCB_INFO, "rds.instance.busy", "DB instance %s turned busy: waiting for it",
                t->instance);
        rc = lcb_snap_wait_rds_instance(&in, rds, t->instance, timeout, 1, NULL, err);
        lcb_rds_instance_release(&in);
        if (rc < 0)
            return -1;
    }
}

static int
dry_run(const struct lcb_job_ctx *jc, struct lcb_rds *rds, const struct lcb_target *t,
        const struct lcb_snap_opts *o, const char *name, struct lcb_err *err)
{
    struct lcb_rds_instance in;
    struct lcb_rds_snapshot s;
    struct lcb_snap_tags tags;
    const char *dest = snap_copy_region(jc, t, o);
    const char *param = o->db_url_param ? o->db_url_param : t->db_url_param;
    int adopted;

    if (lcb_rds_instance_get(&in, rds, t->instance, err) < 0)
        return -1;
    fprintf(jc->out, "# %s: DB instance %s is %s\n", t->name, t->instance, in.status);
    if (param && !o->no_fingerprint)
        fprintf(jc->out, "# fingerprint: read-only, through the URL in SSM parameter %s\n", param);
    else if (t->db_secret && !o->no_fingerprint)
        fprintf(jc->out, "# fingerprint: read-only, with the credentials in secret %s\n",
                t->db_secret);
    lcb_snap_tags_base(&tags, jc, "new-backup-id", "rds", t->name);
    lcb_rds_snapshot_create(&s, &adopted, rds, t->instance, name, tags.tag, tags.n,
                            LCB_SNAP_TAG_BACKUP_ID, err);
    lcb_rds_snapshot_release(&s);
    if (dest) {
        struct lcb_rds dst = {jc->aws, dest, jc->out};
        struct lcb_rds_copy_req r = {
            "(the snapshot's ARN)", lcb_rds_region(rds), name, snap_copy_key(jc, o), NULL, 0,
            LCB_SNAP_TAG_BACKUP_ID};
        fprintf(jc->out, "# once %s is available:\n", name);
        lcb_snap_tags_set(&tags, LCB_SNAP_TAG_COPY_OF, "(the snapshot's ARN)");
        r.tags = tags.tag;
        r.ntags = tags.n;
        lcb_rds_snapshot_copy(&s, &adopted, &dst, &r, err);
        lcb_rds_snapshot_release(&s);
    }
    lcb_rds_instance_release(&in);
    return 0;
}

/* The snapshot is there: wait for it, record it, copy it. */
static int
finish(const struct lcb_job_ctx *jc, struct lcb_rds *rds, struct lcb_backup *b, struct lcb_json *m,
       const char *name, const char *dest, const struct lcb_snap_opts *o, struct lcb_err *err)
{
    struct lcb_rds_snapshot snap;
    int rc = -1;

    memset(&snap, 0, sizeof(snap));
    if (lcb_snap_wait_rds_snapshot(&snap, rds, name, o->timeout, err) < 0) {
        snap_backup_unfinished(jc, b, m, err);
        goto out;
    }
    snap_rds_fill(b, m, &snap, b->region);
    if (snap_backup_save(jc, b, m, "completed", err) < 0)
        goto out;
    lcb_log(LCB_INFO, "rds.snapshot.done", "snapshot %s available (%lld GiB)", name,
            snap.allocated_gib);
    rc = 0;
    if (dest &&
        snap_rds_copy(jc, b, m, &snap, dest, snap_copy_key(jc, o), o->no_wait, o->timeout, err) < 0)
        rc = -1;
out:
    lcb_rds_snapshot_release(&snap);
    return rc;
}

int
lcb_snap_backup_rds(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                    const struct lcb_snap_opts *opts, struct lcb_job_result *res,
                    struct lcb_err *err)
{
    static const struct lcb_snap_opts none;
    const struct lcb_snap_opts *o = opts ? opts : &none;
    struct lcb_rds rds = {jc->aws, NULL, jc->dry_run ? jc->out : NULL};
    const char *region = lcb_aws_region(jc->aws), *dest = snap_copy_region(jc, t, o);
    struct lcb_rds_instance in;
    struct lcb_rds_snapshot snap;
    struct lcb_snap_tags tags;
    struct lcb_backup b;
    struct lcb_json *m;
    char name[320];
    int adopted = 0, rc = -1;

    if (res)
        memset(res, 0, sizeof(*res));
    if (!region)
        return lcb_err_set(err, LCB_ECONFIG, "no AWS region: give --region or set AWS_REGION");
    if (!t->instance || lcb_rds_snapshot_name(name, sizeof(name), t->instance, lcb_now()) < 0)
        return lcb_err_set(err, LCB_ECONFIG, "'%s' is not a valid RDS instance identifier",
                           t->instance ? t->instance : "");
    if (dest && strcmp(dest, region) == 0)
        return lcb_err_set(err, LCB_EUSAGE, "the copy region %s is the snapshot's own region",
                           dest);
    if (jc->dry_run)
        return dry_run(jc, &rds, t, o, name, err);
    if (snap_backup_begin(jc, &b, "rds", t->name, t->instance, region, err) < 0)
        return -1;
    if (res) {
        snprintf(res->backup_id, sizeof(res->backup_id), "%s", b.id);
        snprintf(res->location, sizeof(res->location), "%s", name);
    }
    memset(&in, 0, sizeof(in));
    memset(&snap, 0, sizeof(snap));
    m = lcb_json_new_object();
    snap_json_str(m, "kind", "rds");
    lcb_snap_tags_base(&tags, jc, b.id, "rds", t->name);
    if (ready_instance(&in, &rds, t->instance, o->timeout, err) < 0)
        goto fail;
    record_instance(m, &in);
    take_fingerprint(jc, t, o, &in, m);
    if (create(&snap, &rds, t, name, &tags, o->timeout, &adopted, err) < 0)
        goto fail;
    lcb_logf(LCB_INFO, "rds.snapshot.started",
             LCB_FIELDS(LCB_KV_S("snapshot", name), LCB_KV_S("backup", b.id)),
             "snapshot %s of %s %s (backup %s)", name, t->instance, adopted ? "adopted" : "started",
             b.id);
    snap_json_bool(m, "adopted", adopted);
    snap_rds_fill(&b, m, &snap, region);
    if (dest) {
        snap_json_str(m, "copy_to", dest);
        snap_json_str(m, "copy_kms_key", snap_copy_key(jc, o));
    }
    if (snap_backup_save(jc, &b, m, o->no_wait ? "pending" : "running", err) < 0)
        goto out;
    if (o->no_wait) {
        lcb_log(LCB_INFO, "rds.snapshot.pending",
                "%s recorded as pending: `lcbackup catalog "
                "refresh` completes it%s",
                b.id, dest ? " and copies it" : "");
        rc = 0;
        goto out;
    }
    rc = finish(jc, &rds, &b, m, name, dest, o, err);
    goto out;
fail:
    snap_backup_fail(jc, &b, err);
out:
    lcb_json_free(m);
    lcb_rds_snapshot_release(&snap);
    lcb_rds_instance_release(&in);
    lcb_backup_release(&b);
    return rc;
}

int
lcb_job_backup_rds(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                   struct lcb_job_result *res, struct lcb_err *err)
{
    return lcb_snap_backup_rds(jc, t, NULL, res, err);
}

/* ---- the copy ---- */

/* The copy's tags: the source's (AWS-reserved keys left out), lcbackup's, and what it copies. */
static void
copy_tags(struct lcb_snap_tags *tags, const struct lcb_job_ctx *jc, const struct lcb_backup *b,
          const struct lcb_rds_snapshot *src)
{
    size_t i;

    lcb_snap_tags_base(tags, jc, b->id, "rds", b->target);
    for (i = 0; i < src->ntags; i++)
        if (strncmp(src->tags[i].key, "aws:", 4) != 0)
            lcb_snap_tags_set(tags, src->tags[i].key, src->tags[i].value);
    lcb_snap_tags_set(tags, LCB_SNAP_TAG_BACKUP_ID, b->id);
    lcb_snap_tags_set(tags, LCB_SNAP_TAG_COPY_OF, src->arn ? src->arn : src->id);
}

static void
record_copy(struct lcb_json *m, const char *dest, const struct lcb_rds_snapshot *c, int adopted)
{
    struct lcb_json *copies = lcb_json_get(m, "copies"), *o = lcb_json_new_object();

    if (!copies)
        copies = lcb_json_add(m, "copies", lcb_json_new_object());
    snap_json_str(o, "snapshot_id", c->id);
    snap_json_str(o, "arn", c->arn);
    snap_json_str(o, "kms_key_id", c->kms_key_id);
    snap_json_bool(o, "encrypted", c->encrypted);
    snap_json_str(o, "status", c->status);
    if (adopted)
        snap_json_bool(o, "adopted", 1);
    lcb_json_set(copies, dest, o);
}

int
snap_rds_copy(const struct lcb_job_ctx *jc, struct lcb_backup *b, struct lcb_json *m,
              const struct lcb_rds_snapshot *src, const char *dest, const char *kms, int no_wait,
              int64_t timeout, struct lcb_err *err)
{
    struct lcb_rds dst = {jc->aws, dest, NULL};
    struct lcb_rds_snapshot c;
    struct lcb_snap_tags tags;
    int adopted = 0, rc = -1;
    struct lcb_rds_copy_req r = {
        src->arn, b->region, src->id, kms, NULL, 0, LCB_SNAP_TAG_BACKUP_ID};

    memset(&c, 0, sizeof(c));
    if (src->encrypted && !kms) {
        lcb_err_set(err, LCB_ECONFIG,
                    "snapshot %s is encrypted: its copy in %s needs a KMS key "
                    "there: set storage.dr_kms_key in the policy or give --copy-kms-key",
                    src->id, dest);
        return snap_copy_failed(jc, b, dest, NULL, 0, err);
    }
    copy_tags(&tags, jc, b, src);
    r.tags = tags.tag;
    r.ntags = tags.n;
    if (lcb_rds_snapshot_copy(&c, &adopted, &dst, &r, err) < 0)
        return snap_copy_failed(jc, b, dest, NULL, 0, err);
    record_copy(m, dest, &c, adopted);
    if (snap_backup_save(jc, b, m, b->status, err) < 0 ||
        lcb_catalog_copy_add(jc->cat, b->id, dest, c.id, "pending", err) < 0)
        goto out;
    lcb_log(LCB_INFO, "rds.copy.started", "copy of %s to %s %s", src->id, dest,
            adopted ? "adopted" : "started");
    rc = 0;
    if (no_wait)
        goto out;
    lcb_rds_snapshot_release(&c);
    if (lcb_snap_wait_rds_snapshot(&c, &dst, src->id, timeout, err) < 0) {
        rc = snap_copy_failed(jc, b, dest, NULL, 1, err);
        goto out;
    }
    record_copy(m, dest, &c, adopted);
    if (snap_backup_save(jc, b, m, b->status, err) < 0 ||
        lcb_catalog_copy_set_status(jc->cat, b->id, dest, "completed", err) < 0) {
        rc = -1;
        goto out;
    }
    lcb_log(LCB_INFO, "rds.copy.done", "copy of %s in %s available", src->id, dest);
out:
    lcb_rds_snapshot_release(&c);
    return rc;
}

/* ---- delete ---- */

/* A snap_delete_fn: an RDS backup's location is one snapshot id. */
static int
delete_one(const struct lcb_job_ctx *jc, const char *region, const char *id, int *deleted,
           struct lcb_err *err)
{
    struct lcb_rds c = {jc->aws, region, jc->dry_run ? jc->out : NULL};

    if (lcb_rds_snapshot_delete(&c, id, err) == 0) {
        (*deleted)++;
        return 0;
    }
    if (err->code == LCB_ENOTFOUND) {
        lcb_log(LCB_INFO, "rds.snapshot.gone", "snapshot %s in %s is already gone", id,
                lcb_rds_region(&c));
        lcb_err_clear(err);
        return 0;
    }
    return -1;
}

int
lcb_job_delete_rds(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
                   struct lcb_job_deleted *out, struct lcb_err *err)
{
    return snap_delete_all(jc, b, out, delete_one, err);
}

/* ---- refresh ---- */

int
snap_rds_refresh(const struct lcb_job_ctx *jc, struct lcb_backup *b, struct lcb_json *m,
                 int64_t wait, int *changed, struct lcb_err *err)
{
    struct lcb_rds rds = {jc->aws, b->region, NULL};
    struct lcb_rds_snapshot s;
    const char *dest = lcb_json_get_str(m, "copy_to");
    int owed = 0, rc;
    enum lcb_wait st;

    memset(&s, 0, sizeof(s));
    if (wait > 0) {
        rc = lcb_snap_wait_rds_snapshot(&s, &rds, b->location, wait, err);
    } else if ((rc = lcb_rds_snapshot_get(&s, &rds, b->location, err)) == 0 &&
               (st = lcb_rds_snapshot_wait_state(s.status)) != LCB_WAIT_DONE) {
        if (st == LCB_WAIT_PENDING) {
            lcb_log(LCB_INFO, "rds.snapshot.pending", "%s: snapshot %s is still %s", b->id,
                    b->location, s.status);
            goto out;
        }
        rc = lcb_err_set(err, LCB_EREFUSED, "snapshot %s is %s", b->location, s.status);
    }
    if (rc < 0) {
        rc = snap_refresh_unseen(jc, b, "rds.snapshot.pending", wait, changed, err);
        goto out;
    }
    snap_rds_fill(b, m, &s, b->region);
    rc = snap_refresh_completed(jc, b, m, dest, changed, &owed, err);
    if (rc == 0 && owed)
        rc = snap_rds_copy(jc, b, m, &s, dest, lcb_json_get_str(m, "copy_kms_key"), wait <= 0, wait,
                           err);
out:
    lcb_rds_snapshot_release(&s);
    return rc;
}
