/* broker.c - the broker drill: restore an archive into a scratch tenant (or the policy's drill
 * broker), compare counts and normalised entities, delete what was written; see component.h. */
#include <stdlib.h>
#include <string.h>

#include "../aws/aws.h"
#include "../backup/broker.h"
#include "../backup/restore_broker.h"
#include "../backup/s3source.h"
#include "../catalog/catalog.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../core/secret.h"
#include "../ext/json.h"
#include "../ngsi/idset.h"
#include "../ngsi/ngsi.h"
#include "../policy/policy.h"
#include "component.h"

#define DELETE_CHUNK 200

/* What the teardown needs: the client on the scratch tenant and the ids written there. */
struct scratch {
    struct lcb_ngsi *ngsi;
    struct lcb_strlist ids;
    char tenant[128];
};

static void
scratch_free(void *ud)
{
    struct scratch *s = ud;

    lcb_ngsi_free(s->ngsi);
    lcb_strlist_release(&s->ids);
    free(s);
}

static int
scratch_delete(void *ud, struct lcb_err *err)
{
    struct scratch *s = ud;
    struct lcb_json *arr;
    size_t i = 0, j;
    long long left = -1;

    while (i < s->ids.n) {
        arr = lcb_json_new_array();
        for (j = 0; j < DELETE_CHUNK && i < s->ids.n; j++, i++)
            lcb_json_push(arr, lcb_json_new_str(s->ids.items[i]));
        if (lcb_ngsi_delete(s->ngsi, arr, err) < 0) {
            lcb_json_free(arr);
            return lcb_wrap(err, "delete the drill's entities in tenant %s", s->tenant);
        }
        lcb_json_free(arr);
    }
    if (lcb_ngsi_count(s->ngsi, NULL, &left, err) == 0 && left > 0)
        lcb_log(LCB_WARN, "drill.broker.left",
                "tenant %s still holds %lld entities the drill "
                "did not write",
                s->tenant, left);
    lcb_log(LCB_INFO, "drill.broker.teardown", "deleted %zu drill entities from tenant %s",
            s->ids.n, s->tenant);
    return 0;
}

/* The broker to restore into: the policy's drill broker, else the target's own. */
static int
drill_url(struct lcb_drill_ctx *dc, const struct lcb_target *t, struct lcb_secret *url,
          struct lcb_err *err)
{
    const char *u = dc->policy->drill.broker_url;

    if (u) {
        lcb_secret_set(url, u, strlen(u));
        lcb_redact_remove(u, strlen(u)); /* written in the policy: not a secret */
        return 0;
    }
    if (!t)
        return lcb_err_set(err, LCB_ECONFIG,
                           "no broker target in the policy and no "
                           "drill.broker_url to restore into");
    return lcb_broker_url(url, dc->aws, t, err);
}

static int
open_scratch(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
             struct scratch *s, struct lcb_err *err)
{
    struct lcb_ngsi_config nc;
    struct lcb_secret url = LCB_SECRET_INIT;
    int rc;

    if (dc->policy->drill.broker_tenant)
        snprintf(s->tenant, sizeof(s->tenant), "%s", dc->policy->drill.broker_tenant);
    else
        lcb_drill_resource_name(s->tenant, sizeof(s->tenant), NULL, dc->run->started_at);
    if (drill_url(dc, t, &url, err) < 0)
        return -1;
    memset(&nc, 0, sizeof(nc));
    nc.url = lcb_secret_get(&url);
    nc.tenant = s->tenant;
    nc.page_size = t && t->page_size ? t->page_size : 0;
    rc = lcb_ngsi_new(&s->ngsi, lcb_aws_http(dc->aws), &nc, err);
    lcb_secret_release(&url);
    if (rc == 0) {
        struct lcb_buf where = LCB_BUF_INIT;
        lcb_buf_addf(&where, "%s tenant %s", lcb_ngsi_url(s->ngsi), s->tenant);
        lcb_drill_comp_set(&c->restored, lcb_buf_str(&where));
        lcb_buf_release(&where);
    }
    return rc;
}

static void
check_counts(struct lcb_drill_comp *c, struct scratch *s, const struct lcb_broker_restore_stats *st,
             struct lcb_err *err)
{
    long long n = -1;

    lcb_drill_check_add(
        c, "entities written",
        st->failed == 0 && st->written == st->entities ? LCB_CHECK_PASS : LCB_CHECK_FAIL, NULL,
        "%lld of %lld archived entities written, %lld failed%s%s", st->written, st->entities,
        st->failed, st->failed ? ": " : "", st->failed ? lcb_buf_str(&st->failures) : "");
    if (lcb_ngsi_count(s->ngsi, NULL, &n, err) < 0) {
        char line[512];
        lcb_drill_check_add(c, "entity count", LCB_CHECK_ERROR, NULL, "%s",
                            lcb_err_format(err, line, sizeof(line)));
        return;
    }
    lcb_drill_check_add(c, "entity count", n == st->entities ? LCB_CHECK_PASS : LCB_CHECK_FAIL,
                        NULL, "tenant %s holds %lld entities, the archive %lld", s->tenant, n,
                        st->entities);
}

static void
check_compare(struct lcb_drill_comp *c, struct scratch *s, struct lcb_s3_source *src,
              struct lcb_err *err)
{
    struct lcb_broker_compare_stats cs;
    char line[512];

    memset(&cs, 0, sizeof(cs));
    if (lcb_broker_compare(s->ngsi, NULL, src, &cs, err) < 0)
        lcb_drill_check_add(c, "normalised entities", LCB_CHECK_ERROR, NULL, "%s",
                            lcb_err_format(err, line, sizeof(line)));
    else
        lcb_drill_check_add(
            c, "normalised entities",
            cs.missing == 0 && cs.different == 0 ? LCB_CHECK_PASS : LCB_CHECK_FAIL, NULL,
            "%lld compared with the archive, %lld missing, %lld different%s%.300s", cs.compared,
            cs.missing, cs.different, cs.report.len ? ": " : "", lcb_buf_str(&cs.report));
    lcb_broker_compare_stats_release(&cs);
}

static int
restore(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, struct scratch *s,
        struct lcb_s3_source *src, struct lcb_err *err)
{
    struct lcb_broker_restore req;
    struct lcb_broker_restore_stats st;
    int rc = -1;

    memset(&req, 0, sizeof(req));
    memset(&st, 0, sizeof(st));
    req.ngsi = s->ngsi;
    req.mode = LCB_NGSI_UPSERT;
    lcb_drill_phase_end(dc->run, c, LCB_PHASE_REQUEST, lcb_mono_ms());
    lcb_drill_phase_begin(dc->run, c, LCB_PHASE_PROVISION, lcb_mono_ms());
    lcb_log(LCB_INFO, "drill.broker.restore", "restoring %s (%zu entities) into %s", c->backup_id,
            s->ids.n, c->restored);
    if (lcb_broker_restore_run(&req, src, &st, err) < 0)
        goto out;
    lcb_drill_phase_end(dc->run, c, LCB_PHASE_PROVISION, lcb_mono_ms());
    lcb_drill_phase_begin(dc->run, c, LCB_PHASE_CHECKS, lcb_mono_ms());
    lcb_drill_check_add(c, "archive verified", LCB_CHECK_PASS, NULL,
                        "%s: zstd checksums, tar, "
                        "every entry's SHA-256 against the manifest",
                        c->backup_id);
    check_counts(c, s, &st, err);
    check_compare(c, s, src, err);
    lcb_drill_phase_end(dc->run, c, LCB_PHASE_CHECKS, lcb_mono_ms());
    rc = 0;
out:
    lcb_broker_restore_stats_release(&st);
    return rc;
}

int
lcb_drill_broker(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
                 const struct lcb_backup *b, struct lcb_s3_source *src, struct lcb_teardown *td,
                 struct lcb_err *err)
{
    struct lcb_idset set;
    struct scratch *s = lcb_xcalloc(1, sizeof(*s));
    char what[256];

    lcb_drill_comp_set(&c->source, b->source);
    if (open_scratch(dc, c, t, s, err) < 0) {
        scratch_free(s);
        return -1;
    }
    lcb_idset_init(&set);
    if (lcb_drill_archive_ids(&set, &s->ids, src, err) < 0) {
        lcb_idset_release(&set);
        scratch_free(s);
        return lcb_wrap(err, "read the ids of %s", b->id);
    }
    lcb_idset_release(&set);
    if (dc->dry_run) {
        fprintf(dc->dry_run,
                "broker restore %s: upsert %zu entities into %s, compare them, "
                "then delete them\n",
                b->id, s->ids.n, c->restored);
        scratch_free(s);
        return 0;
    }
    snprintf(what, sizeof(what), "the drill's %zu entities in %s", s->ids.n, c->restored);
    lcb_teardown_push(td, what, scratch_delete, s, scratch_free);
    return restore(dc, c, s, src, err);
}
