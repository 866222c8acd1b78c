/* cloud.c - listing, removing and sweeping drill resources in AWS; see cloud.h. */
#include "cloud.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/waiter.h"
#include "../catalog/catalog.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/db.h"

#define REMOVE_POLL_MAX_MS 5000

/* ---- RDS ---- */

static int
add_instances(struct lcb_rds_instance **out, size_t *n, size_t *cap, const struct lcb_xml_node *set,
              const char *prefix, struct lcb_err *err)
{
    struct lcb_xml_node *x;

    for (x = lcb_xml_child(set, "DBInstance"); x; x = lcb_xml_next(x, "DBInstance")) {
        struct lcb_rds_instance in;
        if (lcb_rds_instance_parse(&in, x, err) < 0)
            return -1;
        if (prefix && strncmp(in.id, prefix, strlen(prefix)) != 0) {
            lcb_rds_instance_release(&in);
            continue;
        }
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *out = lcb_xrealloc(*out, *cap * sizeof(**out));
        }
        (*out)[(*n)++] = in;
    }
    return 0;
}

int
lcb_drill_rds_list(struct lcb_rds_instance **out, size_t *n, struct lcb_rds *c, const char *prefix,
                   struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    struct lcb_pager pg;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    lcb_query_init(&q, &lcb_query_rds, "DescribeDBInstances");
    q.region = c->region;
    lcb_query_add_int(&q, "MaxRecords", 100);
    lcb_pager_init(&pg, LCB_QUERY_MARKER);
    lcb_query_resp_init(&r);
    while ((rc = lcb_query_page(&r, c->aws, &q, &pg, err)) > 0)
        if ((rc = add_instances(out, n, &cap, lcb_xml_child(r.result, "DBInstances"), prefix,
                                err)) < 0)
            break;
    lcb_query_resp_release(&r);
    lcb_pager_release(&pg);
    lcb_query_release(&q);
    if (rc < 0) {
        lcb_drill_rds_list_free(*out, *n);
        *out = NULL;
        *n = 0;
        return lcb_wrap(err, "list DB instances in %s", lcb_rds_region(c));
    }
    return 0;
}

void
lcb_drill_rds_list_free(struct lcb_rds_instance *l, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        lcb_rds_instance_release(&l[i]);
    free(l);
}

/* A delete refused because of the resource's state (it changed under us): try again later. */
static int
busy(const struct lcb_err *err)
{
    return strcmp(err->aws_code, "InvalidDBInstanceState") == 0 ||
           strcmp(err->aws_code, "IncorrectState") == 0;
}

/* States from which DeleteDBInstance is accepted. */
static int
deletable(const char *status)
{
    static const char *const ok[] = {"available",
                                     "failed",
                                     "stopped",
                                     "storage-full",
                                     "incompatible-parameters",
                                     "incompatible-restore",
                                     "incompatible-network",
                                     NULL};
    size_t i;

    for (i = 0; status && ok[i]; i++)
        if (strcmp(status, ok[i]) == 0)
            return 1;
    return 0;
}

/* Steps of removing a resource: 1 gone; 0 on its way (deleting, or just asked to); BUSY: in a
 * state it cannot be deleted from yet (creating); -1 error. The state goes into status. */
#define BUSY 2
static int
rds_remove_step(struct lcb_rds *c, const char *id, struct lcb_buf *status, struct lcb_err *err)
{
    struct lcb_rds_instance in;
    int rc = 0;

    if (lcb_rds_instance_get(&in, c, id, err) < 0)
        return err->code == LCB_ENOTFOUND ? 1 : -1;
    lcb_buf_reset(status);
    lcb_buf_adds(status, in.status ? in.status : "?");
    if (deletable(in.status)) {
        if (lcb_rds_instance_delete(c, id, err) < 0)
            rc = err->code == LCB_ENOTFOUND ? 1 : busy(err) ? BUSY : -1;
        else
            lcb_log(LCB_INFO, "drill.rds.delete", "deleting DB instance %s", id);
    } else if (!in.status || strcmp(in.status, "deleting") != 0) {
        rc = BUSY;
    }
    lcb_rds_instance_release(&in);
    return rc;
}

/* Poll step() until it says gone, the deadline passes, or a signal arrives. Unless patient, a
 * resource that cannot be deleted yet is given up at once (the sweep must not hold a drill up). */
typedef int (*remove_step_fn)(void *c, const char *id, struct lcb_buf *status, struct lcb_err *e);

static int
remove_loop(remove_step_fn step, void *c, const char *what, const char *id, int64_t timeout,
            int patient, struct lcb_err *err)
{
    struct lcb_waiter w;
    struct lcb_buf status = LCB_BUF_INIT;
    char dur[32];
    int64_t d;
    int rc;

    lcb_waiter_init(&w, lcb_mono_ms(), timeout > 0 ? timeout : 3600);
    w.max_ms = REMOVE_POLL_MAX_MS;
    for (;;) {
        rc = step(c, id, &status, err);
        if (rc == BUSY && !patient) {
            rc = lcb_err_set(err, LCB_EREFUSED,
                             "%s %s is still %s: it cannot be deleted yet (a "
                             "later drill sweeps it)",
                             what, id, lcb_buf_str(&status));
            break;
        }
        if (rc != 0 && rc != BUSY)
            break;
        if ((d = lcb_waiter_delay(&w, lcb_mono_ms())) < 0) {
            rc = lcb_err_set(err, LCB_ETEMP, "%s %s still %s after %s", what, id,
                             lcb_buf_str(&status), lcb_duration_fmt(timeout, dur, sizeof(dur)));
            break;
        }
        if ((rc = lcb_waiter_sleep(d, err)) < 0)
            break;
    }
    lcb_buf_release(&status);
    return rc < 0 ? -1 : 0;
}

static int
rds_step(void *c, const char *id, struct lcb_buf *status, struct lcb_err *err)
{
    return rds_remove_step(c, id, status, err);
}

int
lcb_drill_rds_remove(struct lcb_rds *c, const char *id, int64_t timeout, struct lcb_err *err)
{
    if (c->dry_run)
        return lcb_rds_instance_delete(c, id, err);
    return remove_loop(rds_step, c, "DB instance", id, timeout, 1, err);
}

/* ---- EC2 ---- */

static int
ec2_step(void *cv, const char *id, struct lcb_buf *status, struct lcb_err *err)
{
    struct lcb_ec2 *c = cv;
    struct lcb_ec2_volume v;
    int rc = 0;

    if (lcb_ec2_volume_get(&v, c, id, err) < 0)
        return err->code == LCB_ENOTFOUND ? 1 : -1;
    lcb_buf_reset(status);
    lcb_buf_adds(status, v.state ? v.state : "?");
    if (!v.state || strcmp(v.state, "creating") == 0) {
        rc = BUSY;
    } else if (strcmp(v.state, "deleting") != 0) {
        if (lcb_ec2_volume_delete(c, id, err) < 0)
            rc = err->code == LCB_ENOTFOUND ? 1 : busy(err) ? BUSY : -1;
        else
            lcb_log(LCB_INFO, "drill.ebs.delete", "deleting volume %s", id);
    }
    lcb_ec2_volume_release(&v);
    return rc;
}

int
lcb_drill_ec2_volume_remove(struct lcb_ec2 *c, const char *id, int64_t timeout, struct lcb_err *err)
{
    if (c->dry_run)
        return lcb_ec2_volume_delete(c, id, err);
    return remove_loop(ec2_step, c, "volume", id, timeout, 1, err);
}

/* ---- the sweep ---- */

/* The status the catalog records for a drill id, into out ("" when unknown). */
static void
drill_status(struct lcb_catalog *cat, const char *id, char *out, size_t size)
{
    struct lcb_stmt *st;
    struct lcb_err err;

    out[0] = '\0';
    if (!cat || !id ||
        lcb_db_prepare(&st, lcb_catalog_db(cat), "SELECT status FROM drills WHERE id = ?", &err) <
            0)
        return;
    lcb_stmt_text(st, 1, id);
    if (lcb_stmt_step(st, &err) == 1 && lcb_col_text(st, 0))
        snprintf(out, size, "%s", lcb_col_text(st, 0));
    lcb_stmt_free(st);
}

/* How to remove one kind of resource. */
struct remover {
    const char *kind; /* "rds instance" */
    int (*rm)(void *client, const char *id, int64_t timeout, struct lcb_err *err);
    void *client;
    int64_t timeout;
    struct lcb_catalog *cat;
    time_t now;
};

static int
sweep_one(struct lcb_drill_run *run, const struct remover *r, const char *id, const char *expires,
          const char *drill_id)
{
    const char *kind = r->kind;
    char status[32], reason[160], line[512];
    struct lcb_err err;

    drill_status(r->cat, drill_id, status, sizeof(status));
    if (!lcb_drill_sweep_due(expires, status[0] ? status : NULL, r->now, reason, sizeof(reason))) {
        lcb_log(LCB_DEBUG, "drill.sweep.keep", "keeping %s %s: %s", kind, id, reason);
        return 0;
    }
    lcb_logf(LCB_INFO, "drill.sweep", LCB_FIELDS(LCB_KV_S("resource", id), LCB_KV_S("why", reason)),
             "sweeping %s %s left by %s: %s", kind, id, drill_id ? drill_id : "an unknown drill",
             reason);
    lcb_err_clear(&err);
    if (r->rm(r->client, id, r->timeout, &err) < 0) {
        lcb_log(LCB_ERROR, "drill.sweep.failed", "could not sweep %s %s: %s", kind, id,
                lcb_err_format(&err, line, sizeof(line)));
        lcb_drill_swept_add(run, kind, id, reason, 0);
        return 1;
    }
    lcb_drill_swept_add(run, kind, id, reason, 1);
    return 0;
}

static int
rm_instance(void *c, const char *id, int64_t timeout, struct lcb_err *err)
{
    if (((struct lcb_rds *)c)->dry_run)
        return lcb_rds_instance_delete(c, id, err);
    return remove_loop(rds_step, c, "DB instance", id, timeout, 0, err);
}

static int
rm_volume(void *c, const char *id, int64_t timeout, struct lcb_err *err)
{
    if (((struct lcb_ec2 *)c)->dry_run)
        return lcb_ec2_volume_delete(c, id, err);
    return remove_loop(ec2_step, c, "volume", id, timeout, 0, err);
}

static int
sweep_rds(struct lcb_drill_run *run, const struct remover *r, struct lcb_err *err)
{
    struct lcb_rds_instance *l = NULL;
    size_t n = 0, i;
    int failed = 0;

    if (lcb_drill_rds_list(&l, &n, r->client, LCB_DRILL_PREFIX, err) < 0)
        return -1;
    for (i = 0; i < n; i++)
        failed += sweep_one(run, r, l[i].id,
                            lcb_rds_tag_get(l[i].tags, l[i].ntags, LCB_DRILL_TAG_EXPIRES),
                            lcb_rds_tag_get(l[i].tags, l[i].ntags, LCB_DRILL_TAG_ID));
    lcb_drill_rds_list_free(l, n);
    return failed;
}

static int
sweep_ec2(struct lcb_drill_run *run, const struct remover *r, struct lcb_err *err)
{
    static const char *const key[] = {LCB_DRILL_TAG_ID};
    struct lcb_query_filter f = {"tag-key", key, 1};
    struct lcb_ec2_volume_list l;
    size_t i;
    int failed = 0;

    memset(&l, 0, sizeof(l));
    if (lcb_ec2_volume_list(&l, r->client, NULL, 0, &f, 1, err) < 0)
        return lcb_wrap(err, "list drill volumes");
    for (i = 0; i < l.n; i++) {
        const struct lcb_ec2_volume *v = &l.items[i];
        failed +=
            sweep_one(run, r, v->id, lcb_ec2_tag_get(v->tags, v->ntags, LCB_DRILL_TAG_EXPIRES),
                      lcb_ec2_tag_get(v->tags, v->ntags, LCB_DRILL_TAG_ID));
    }
    lcb_ec2_volume_list_release(&l);
    return failed;
}

int
lcb_drill_sweep(struct lcb_drill_run *run, struct lcb_rds *rds, struct lcb_ec2 *ec2,
                struct lcb_catalog *cat, time_t now, int64_t timeout, struct lcb_err *err)
{
    struct remover r1 = {"rds instance", rm_instance, rds, timeout, cat, now};
    struct remover r2 = {"ebs volume", rm_volume, ec2, timeout, cat, now};
    int a = 0, b = 0;

    if (rds && (a = sweep_rds(run, &r1, err)) < 0)
        return -1;
    if (ec2 && (b = sweep_ec2(run, &r2, err)) < 0)
        return -1;
    return a + b;
}
