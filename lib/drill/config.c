/* config.c - the config drill: decrypt the archive (the key and its permissions work), check that
 * every task definition would register, report drift against what is live; see component.h.
 * Nothing is created, so there is nothing to tear down. */
#include <stdlib.h>
#include <string.h>

#include "../aws/ecs.h"
#include "../catalog/catalog.h"
#include "../config/backup.h"
#include "../config/config.h"
#include "../config/diff.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/json.h"
#include "../policy/policy.h"
#include "component.h"

#define DRIFT_DETAIL 600

static const char *
errline(const struct lcb_err *err, char *buf, size_t size)
{
    return lcb_err_format(err, buf, size);
}

static void
check_decrypt(struct lcb_drill_comp *c, const struct lcb_config *cfg, const struct lcb_backup *b)
{
    size_t i, secure = 0;

    for (i = 0; i < cfg->nparams; i++)
        secure += lcb_config_param_secure(&cfg->params[i]) != 0;
    lcb_drill_check_add(c, "archive decrypts", LCB_CHECK_PASS, NULL,
                        "%s verified; %zu parameters (%zu SecureString values decrypted with the "
                        "archive's key), %zu services, %zu task definitions",
                        b->id, cfg->nparams, secure, cfg->nservices, cfg->ntaskdefs);
}

static void
check_taskdefs(struct lcb_drill_comp *c, const struct lcb_config *cfg)
{
    struct lcb_buf problems = LCB_BUF_INIT;
    char name[300];
    size_t i;
    int n, bad = 0;

    for (i = 0; i < cfg->ntaskdefs; i++) {
        const struct lcb_config_taskdef *td = &cfg->taskdefs[i];
        struct lcb_json *req = lcb_ecs_register_request(lcb_json_get(td->doc, "taskDefinition"),
                                                        lcb_json_get(td->doc, "tags"));
        lcb_buf_reset(&problems);
        n = lcb_drill_taskdef_problems(req, &problems);
        lcb_json_free(req);
        if (n == 0)
            continue;
        bad++;
        lcb_buf_rtrim(&problems);
        snprintf(name, sizeof(name), "task definition %s:%lld", td->family, td->revision);
        lcb_drill_check_add(c, name, LCB_CHECK_FAIL, NULL, "would not register: %s",
                            lcb_buf_str(&problems));
    }
    lcb_drill_check_add(c, "task definitions register", bad ? LCB_CHECK_FAIL : LCB_CHECK_PASS, NULL,
                        "%zu task definitions checked against RegisterTaskDefinition's "
                        "rules, %d would be refused",
                        cfg->ntaskdefs, bad);
    lcb_buf_release(&problems);
}

/* What AWS holds now under the archive's paths and clusters. */
static int
fetch_live(struct lcb_drill_ctx *dc, const struct lcb_config *cfg, struct lcb_config *live,
           struct lcb_err *err)
{
    size_t i;

    for (i = 0; i < cfg->paths.n; i++)
        if (lcb_config_fetch_params(live, dc->aws, cfg->paths.items[i], err) < 0)
            return -1;
    for (i = 0; i < cfg->clusters.n; i++)
        if (lcb_config_fetch_services(live, dc->aws, cfg->clusters.items[i], err) < 0)
            return -1;
    lcb_config_sort(live);
    return 0;
}

/* Drift is reported, not failed: the live configuration moves on after every backup. */
static void
check_drift(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_config *cfg,
            struct lcb_err *err)
{
    struct lcb_config live;
    struct lcb_config_diff d;
    struct lcb_buf items = LCB_BUF_INIT;
    char line[512];
    size_t i;

    lcb_config_init(&live);
    lcb_config_diff_init(&d);
    if (fetch_live(dc, cfg, &live, err) < 0) {
        lcb_drill_check_add(c, "drift against live", LCB_CHECK_ERROR, NULL, "%s",
                            errline(err, line, sizeof(line)));
        goto out;
    }
    lcb_config_diff(&d, cfg, &live, 0);
    for (i = 0; i < d.n && items.len < DRIFT_DETAIL; i++)
        lcb_buf_addf(&items, "%s%s %s %s", i ? "; " : ": ",
                     d.items[i].kind == LCB_DIFF_ADDED     ? "added"
                     : d.items[i].kind == LCB_DIFF_REMOVED ? "removed"
                                                           : "changed",
                     d.items[i].what, d.items[i].name);
    lcb_drill_check_add(c, "drift against live", LCB_CHECK_PASS, NULL,
                        "%s: %zu added, %zu "
                        "removed, %zu changed since the backup%s%s",
                        d.n ? "drift" : "no drift", d.added, d.removed, d.changed,
                        lcb_buf_str(&items), i < d.n ? "; ..." : "");
out:
    lcb_buf_release(&items);
    lcb_config_diff_release(&d);
    lcb_config_release(&live);
}

int
lcb_drill_config(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
                 const struct lcb_backup *b, struct lcb_teardown *td, struct lcb_err *err)
{
    struct lcb_config cfg;
    int rc;

    (void)t;
    (void)td;
    lcb_drill_comp_set(&c->source, b->source);
    lcb_drill_comp_set(&c->restored, "memory (nothing is written to AWS)");
    if (dc->dry_run) {
        fprintf(dc->dry_run,
                "config %s: fetch and verify %s, decrypt its SecureString values "
                "(KMS Decrypt of the data key), check each task definition, read the live "
                "parameters and services to compare (nothing is written)\n",
                b->id, b->location ? b->location : "?");
        return 0;
    }
    lcb_config_init(&cfg);
    lcb_log(LCB_INFO, "drill.config.load", "fetching, verifying and decrypting %s", b->id);
    rc = lcb_config_load_backup(&cfg, dc->aws, b, NULL, err);
    lcb_drill_phase_end(dc->run, c, LCB_PHASE_REQUEST, lcb_mono_ms());
    lcb_drill_phase_begin(dc->run, c, LCB_PHASE_CHECKS, lcb_mono_ms());
    if (rc < 0) {
        char line[512];
        /* what the drill is for: a key or a permission that no longer works is a failed check */
        lcb_drill_check_add(c, "archive decrypts", LCB_CHECK_FAIL, NULL, "%s",
                            errline(err, line, sizeof(line)));
        lcb_drill_phase_end(dc->run, c, LCB_PHASE_CHECKS, lcb_mono_ms());
        rc = err->code == LCB_EINTR ? -1 : 0;
        goto out;
    }
    check_decrypt(c, &cfg, b);
    check_taskdefs(c, &cfg);
    check_drift(dc, c, &cfg, err);
    lcb_drill_phase_end(dc->run, c, LCB_PHASE_CHECKS, lcb_mono_ms());
out:
    lcb_config_release(&cfg);
    return rc;
}
