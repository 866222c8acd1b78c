/* refresh.c - complete pending snapshot backups and copies; mark deleted ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/mem.h"
#include "internal.h"

int
snap_refresh_unseen(const struct lcb_job_ctx *jc, struct lcb_backup *b, const char *event,
                    int64_t wait, int *changed, struct lcb_err *err)
{
    if (err->code == LCB_ENOTFOUND || err->code == LCB_EREFUSED) {
        snap_backup_fail(jc, b, err);
        *changed = 1;
    } else if (err->code == LCB_ETEMP && wait > 0) {
        lcb_log(LCB_INFO, event, "%s: %s", b->id, err->msg);
    } else {
        return -1;
    }
    lcb_err_clear(err);
    return 0;
}

int
snap_refresh_completed(const struct lcb_job_ctx *jc, struct lcb_backup *b,
                       const struct lcb_json *m, const char *dest, int *changed, int *owed,
                       struct lcb_err *err)
{
    struct lcb_snap_copy *copies = NULL;
    size_t n = 0, i;

    *owed = 0;
    if (snap_backup_save(jc, b, m, "completed", err) < 0)
        return -1;
    *changed = 1;
    if (lcb_snap_copies(jc->cat, b->id, &copies, &n, err) < 0)
        return -1;
    *owed = dest != NULL;
    for (i = 0; i < n && *owed; i++)
        *owed = strcmp(copies[i].region, dest) != 0;
    lcb_snap_copies_free(copies, n);
    return 0;
}

/* Look at one pending copy: completed, failed (gone or error), or still pending. */
static int
refresh_copy(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
             const struct lcb_snap_copy *c, int *changed, struct lcb_err *err)
{
    enum lcb_wait w = LCB_WAIT_DONE;
    char *list = lcb_xstrdup(c->location), *save = NULL, *id;
    struct lcb_err e2;
    int rc = 0;

    for (id = strtok_r(list, ",", &save); id && w != LCB_WAIT_FAILED;
         id = strtok_r(NULL, ",", &save)) {
        enum lcb_wait one;
        if (strcmp(b->kind, "rds") == 0) {
            struct lcb_rds rds = {jc->aws, c->region, NULL};
            struct lcb_rds_snapshot s;
            rc = lcb_rds_snapshot_get(&s, &rds, id, err);
            one = rc == 0 ? lcb_rds_snapshot_wait_state(s.status) : LCB_WAIT_FAILED;
            lcb_rds_snapshot_release(&s);
        } else {
            struct lcb_ec2 ec2 = {jc->aws, c->region, NULL};
            struct lcb_ec2_snapshot s;
            rc = lcb_ec2_snapshot_get(&s, &ec2, id, err);
            one = rc == 0 ? lcb_ec2_snapshot_wait_state(s.state) : LCB_WAIT_FAILED;
            lcb_ec2_snapshot_release(&s);
        }
        if (rc < 0 && err->code != LCB_ENOTFOUND)
            goto out;
        rc = 0;
        if (one == LCB_WAIT_FAILED || one == LCB_WAIT_PENDING)
            w = one;
    }
    if (w != LCB_WAIT_PENDING) {
        rc = lcb_catalog_copy_set_status(jc->cat, b->id, c->region,
                                         w == LCB_WAIT_DONE ? "completed" : "failed", err);
        *changed = 1;
        lcb_log(LCB_INFO, "snapshot.copy.refreshed", "%s: copy in %s %s", b->id, c->region,
                w == LCB_WAIT_DONE ? "completed" : "failed (gone or in error)");
    }
out:
    lcb_err_clear(&e2);
    free(list);
    return rc;
}

static int
refresh_copies(const struct lcb_job_ctx *jc, const struct lcb_backup *b, int *changed,
               struct lcb_err *err)
{
    struct lcb_snap_copy *c = NULL;
    size_t n = 0, i;
    int rc = 0;

    if (lcb_snap_copies(jc->cat, b->id, &c, &n, err) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++)
        if ((strcmp(c[i].status, "pending") == 0 || strcmp(c[i].status, "running") == 0) &&
            *c[i].location)
            rc = refresh_copy(jc, b, &c[i], changed, err);
    lcb_snap_copies_free(c, n);
    return rc;
}

int
lcb_snap_refresh(const struct lcb_job_ctx *jc, struct lcb_backup *b, int64_t wait, int *changed,
                 struct lcb_err *err)
{
    struct lcb_json *m;
    int rc = 0, open;

    *changed = 0;
    if (strcmp(b->kind, "rds") != 0 && strcmp(b->kind, "ebs") != 0)
        return lcb_err_set(err, LCB_EUSAGE,
                           "%s is a %s backup: refresh completes rds and ebs "
                           "backups",
                           b->id, b->kind);
    open = strcmp(b->status, "pending") == 0 || strcmp(b->status, "running") == 0 ||
           (strcmp(b->status, "failed") == 0 && b->error && strncmp(b->error, "abandoned", 9) == 0);
    if (open && (!b->location || !*b->location)) {
        struct lcb_err why;
        lcb_err_set(&why, LCB_EFAIL, "no snapshot was recorded before its run ended");
        if (strcmp(b->status, "failed") != 0) {
            snap_backup_fail(jc, b, &why);
            *changed = 1;
        }
        return 0;
    }
    if (open) {
        m = lcb_snap_manifest(b);
        rc = strcmp(b->kind, "rds") == 0 ? snap_rds_refresh(jc, b, m, wait, changed, err)
                                         : snap_ec2_refresh(jc, b, m, wait, changed, err);
        lcb_json_free(m);
        if (rc < 0 && err->code != LCB_EPARTIAL)
            return rc;
    }
    if (refresh_copies(jc, b, changed, err) < 0)
        return -1;
    return rc;
}

int
lcb_snap_mark_deleted(const struct lcb_job_ctx *jc, const char *backup_id, struct lcb_err *err)
{
    struct lcb_snap_copy *c = NULL;
    size_t n = 0, i;
    int rc = 0;

    if (lcb_catalog_backup_set_status(jc->cat, backup_id, "deleted", NULL, err) < 0 ||
        lcb_snap_copies(jc->cat, backup_id, &c, &n, err) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++)
        rc = lcb_catalog_copy_set_status(jc->cat, backup_id, c[i].region, "deleted", err);
    lcb_snap_copies_free(c, n);
    return rc;
}
