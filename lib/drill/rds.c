/* rds.c - the RDS drill: restore the snapshot to a throwaway instance, wait, connect, check;
 * see component.h. The checks against the database are in rds_checks.c. */
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
#include "rds_checks.h"

/* The teardown of the throwaway instance (owns its client settings and name). */
struct doomed_instance {
    struct lcb_rds rds;
    char region[64];
    char id[64];
    int64_t timeout;
};

static int
remove_instance(void *ud, struct lcb_err *err)
{
    struct doomed_instance *d = ud;

    lcb_log(LCB_INFO, "drill.rds.teardown", "removing DB instance %s", d->id);
    return lcb_drill_rds_remove(&d->rds, d->id, d->timeout, err);
}

/* The snapshot to restore and its region (a copy when the backup lives elsewhere). */
static int
locate(struct lcb_drill_ctx *dc, const struct lcb_backup *b, char *snap, size_t snap_size,
       char *region, size_t region_size, struct lcb_err *err)
{
    struct lcb_snap_copy *copies = NULL;
    const char *loc = NULL, *reg = NULL;
    size_t n = 0;
    int rc;

    rc = lcb_snap_locate(dc->cat, b, lcb_aws_region(dc->aws), &loc, &reg, &copies, &n, err);
    if (rc == 0) {
        snprintf(snap, snap_size, "%s", loc);
        snprintf(region, region_size, "%s", reg ? reg : "");
    }
    lcb_snap_copies_free(copies, n);
    return rc;
}

/* The source's settings from the manifest, as fallbacks for what the policy does not set. */
static const char *
source_setting(const struct lcb_json *m, const char *key)
{
    return lcb_json_get_str(lcb_json_get(m, "source_instance"), key);
}

static void
fill_request(struct lcb_rds_restore_req *r, struct lcb_drill_ctx *dc, const struct lcb_json *m,
             const char **sgs, size_t *nsgs)
{
    const struct lcb_drill *d = &dc->policy->drill;
    const struct lcb_json *src_sgs =
        lcb_json_get(lcb_json_get(m, "source_instance"), "security_groups");
    size_t i;

    r->instance_class = d->instance_class ? d->instance_class : source_setting(m, "class");
    r->subnet_group = d->subnet_group ? d->subnet_group : source_setting(m, "subnet_group");
    r->availability_zone = d->availability_zone;
    r->parameter_group = source_setting(m, "parameter_group");
    r->option_group = source_setting(m, "option_group");
    r->multi_az = 0;
    r->publicly_accessible = 0; /* never reachable from outside the VPC */
    *nsgs = 0;
    if (d->nsecurity_groups) {
        for (i = 0; i < d->nsecurity_groups && i < 16; i++)
            sgs[(*nsgs)++] = d->security_groups[i];
    } else {
        for (i = 0; i < lcb_json_size(src_sgs) && i < 16; i++)
            if (lcb_json_str(lcb_json_at(src_sgs, i)))
                sgs[(*nsgs)++] = lcb_json_str(lcb_json_at(src_sgs, i));
    }
    r->security_groups = sgs;
    r->nsecurity_groups = *nsgs;
}

static void
drill_tags(struct lcb_snap_tags *tags, struct lcb_drill_ctx *dc, const struct lcb_backup *b)
{
    char ts[LCB_TIME_LEN];

    memset(tags, 0, sizeof(*tags));
    lcb_snap_tags_set(tags, LCB_DRILL_TAG_ID, dc->run->id);
    lcb_snap_tags_set(tags, LCB_DRILL_TAG_EXPIRES, lcb_time_fmt(dc->expires, ts));
    lcb_snap_tags_set(tags, LCB_SNAP_TAG_CREATED_BY, "lcbackup drill");
    lcb_snap_tags_set(tags, LCB_SNAP_TAG_RESTORED_FROM, b->id);
    if (dc->env)
        lcb_snap_tags_set(tags, LCB_SNAP_TAG_ENV, dc->env);
}

/* RestoreDBInstanceFromDBSnapshot of the backup's snapshot (or its copy in our region). */
static int
request(struct lcb_drill_ctx *dc, const struct lcb_backup *b, struct doomed_instance *d,
        struct lcb_err *err)
{
    struct lcb_rds_restore_req r;
    struct lcb_rds_instance in;
    struct lcb_snap_tags tags;
    struct lcb_json *m = lcb_snap_manifest(b);
    const char *sgs[16];
    char snap[256];
    size_t nsgs;
    int rc;

    if (locate(dc, b, snap, sizeof(snap), d->region, sizeof(d->region), err) < 0) {
        lcb_json_free(m);
        return -1;
    }
    d->rds.region = d->region[0] ? d->region : NULL;
    memset(&r, 0, sizeof(r));
    fill_request(&r, dc, m, sgs, &nsgs);
    drill_tags(&tags, dc, b);
    r.target = d->id;
    r.snapshot = snap;
    r.tags = tags.tag;
    r.ntags = tags.n;
    r.owner_key = LCB_DRILL_TAG_ID;
    lcb_log(LCB_INFO, "drill.rds.restore", "restoring %s (%s) to %s", b->id, snap, d->id);
    rc = lcb_rds_restore_snapshot(&in, &d->rds, &r, err);
    lcb_rds_instance_release(&in);
    lcb_json_free(m);
    return rc;
}

int
lcb_drill_rds(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
              const struct lcb_backup *b, struct lcb_teardown *td, struct lcb_err *err)
{
    struct doomed_instance *d = lcb_xcalloc(1, sizeof(*d));
    struct lcb_rds_instance in;
    char what[160];
    int rc;

    d->rds.aws = dc->aws;
    d->rds.dry_run = dc->dry_run;
    d->timeout = dc->timeout;
    lcb_drill_resource_name(d->id, sizeof(d->id), t ? t->instance : b->source, dc->run->started_at);
    lcb_drill_comp_set(&c->restored, d->id);
    lcb_drill_comp_set(&c->source, b->source);
    if (dc->dry_run) {
        rc = request(dc, b, d, err) < 0 ? -1 : lcb_rds_instance_delete(&d->rds, d->id, err);
        free(d);
        return rc;
    }
    /* registered first: whatever the restore answers, an instance of that name is ours */
    snprintf(what, sizeof(what), "DB instance %s", d->id);
    lcb_teardown_push(td, what, remove_instance, d, free);
    if (request(dc, b, d, err) < 0)
        return -1;
    lcb_drill_phase_end(dc->run, c, LCB_PHASE_REQUEST, lcb_mono_ms());
    lcb_drill_phase_begin(dc->run, c, LCB_PHASE_PROVISION, lcb_mono_ms());
    if (lcb_snap_wait_rds_instance(&in, &d->rds, d->id, dc->timeout, 0, NULL, err) < 0) {
        lcb_rds_instance_release(&in);
        return lcb_wrap(err, "wait for the restored instance");
    }
    lcb_drill_phase_end(dc->run, c, LCB_PHASE_PROVISION, lcb_mono_ms());
    lcb_log(LCB_INFO, "drill.rds.available", "%s is available at %s:%d", d->id,
            in.address ? in.address : "?", in.port);
    lcb_drill_phase_begin(dc->run, c, LCB_PHASE_CHECKS, lcb_mono_ms());
    rc = lcb_drill_rds_checks(dc, c, t, b, &in, err);
    lcb_drill_phase_end(dc->run, c, LCB_PHASE_CHECKS, lcb_mono_ms());
    lcb_rds_instance_release(&in);
    return rc;
}
