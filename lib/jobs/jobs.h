/*
 * jobs.h - what `lcbackup run` and `lcbackup expire` do for one policy target, whatever its kind:
 * take a backup, delete a backup, and decide when a target is due.
 *
 * `run` never exec's lcbackup: it calls the backup of each due target through the table of kinds
 * below (lib/jobs/kinds.c), in this process, under the catalog lock the command already holds.
 * `expire` deletes through the same table, so `lcbackup delete ID` (snapshots) and expiry share
 * one function per kind.
 *
 * ---- A NOTE FOR THE ENGINEERS WHO ADD A BACKUP KIND --------------------------------------------
 * 1. Put the backup of ONE target in lib/ (e.g. lib/backup/<kind>.c), not in cmd/: `run` and the
 *    unit tests link only liblcb.a. Your `lcbackup backup <kind>` command calls it too.
 * 2. Give it this shape (declared below; defined in your file, or in lib/jobs/ as an adapter):
 *        int lcb_job_backup_<kind>(const struct lcb_job_ctx *jc, const struct lcb_target *t,
 *                                  struct lcb_job_result *res, struct lcb_err *err);
 *    It records the backup in jc->cat itself (lcb_catalog_backup_add ... status completed or
 *    failed, kind, env = jc->env, target = t->name, policy = jc->policy_file), fills
 *    res->backup_id, and returns 0, or -1 with err (the catalog entry, if any, marked failed).
 *    With jc->dry_run it prints the exact API calls it would make to jc->out, changing nothing.
 * 3. Deleting one backup of your kind (and its cross-region copies / sidecar):
 *        int lcb_job_delete_<kind>(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
 *                                  struct lcb_job_deleted *out, struct lcb_err *err);
 *    It deletes in AWS only (the caller updates the catalog), is idempotent (already gone is
 *    success), and returns 1 with out->why when it must skip (Object Lock retention or legal hold:
 *    not an error, reported and retried on a later run).
 * 4. Add your functions to the row of your kind in lib/jobs/kinds.c. A kind without a function is
 *    reported by `run` as "not available in this build" (that target fails, the others run).
 * Tags that `catalog rebuild` reads back from AWS: lcbackup:backup-id (required), lcbackup:env,
 * lcbackup:policy, lcbackup:created-by, and please lcbackup:target and lcbackup:kind as well.
 * S3 archives: a sidecar <key>.manifest.json whose JSON has at least "backup_id", "kind", "env",
 * "target" and "taken_at" (Unix seconds or RFC 3339) at the top level (or inside "backup"), and
 * the archive's manifest as "manifest".
 * -------------------------------------------------------------------------------------------------
 *
 * Due-ness (pure, tested in tests/unit/jobs_test.c): a target is due when its latest scheduled slot
 * at or before now is later than the start of its last successful backup. However many slots were
 * missed, that is one backup: a missed slot is caught up once, and a second run in the same minute
 * finds nothing due.
 */
#ifndef LCB_JOBS_JOBS_H
#define LCB_JOBS_JOBS_H

#include <stdio.h>
#include <time.h>

#include "../core/err.h"
#include "../policy/policy.h"

struct lcb_aws;
struct lcb_catalog;
struct lcb_backup;
struct lcb_sync_remote;

/* What a job may use. Everything is borrowed from the command. */
struct lcb_job_ctx {
    struct lcb_aws *aws;
    struct lcb_catalog *cat;
    const struct lcb_policy *policy;
    const char *policy_file;
    const char *env;     /* the environment (policy's env unless --env) */
    const char *run_id;  /* the run recording this work */
    int dry_run;         /* print the exact API calls to out; change nothing */
    FILE *out;           /* stdout: dry-run plans */
};

struct lcb_job_result {
    char backup_id[64]; /* the catalog id of the backup taken; "" when none was recorded */
    char location[1024];
};

struct lcb_job_deleted {
    char why[256]; /* with a return of 1: why it was skipped ("object lock until ...") */
    int objects;   /* snapshots or objects deleted */
};

typedef int (*lcb_job_backup_fn)(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                                 struct lcb_job_result *res, struct lcb_err *err);
typedef int (*lcb_job_delete_fn)(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
                                 struct lcb_job_deleted *out, struct lcb_err *err);

struct lcb_job_kind {
    enum lcb_kind kind;
    lcb_job_backup_fn backup; /* NULL: not in this build */
    lcb_job_delete_fn del;    /* NULL: not in this build */
};

/* The row of a kind (never NULL for a valid kind; its functions may be NULL). */
const struct lcb_job_kind *lcb_job_kind(enum lcb_kind k);
/* Tests only: use table (LCB_KIND_COUNT rows indexed by kind) instead of the built-in one; NULL
 * restores it. */
void lcb_job_kinds_override(const struct lcb_job_kind *table);

/* ---- the kinds (see the note above) ---- */
/* broker: lib/jobs/broker.c, through lib/backup/broker.h */
int lcb_job_backup_broker(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                          struct lcb_job_result *res, struct lcb_err *err);
/* config: lib/config/job.c (backup.h) */
int lcb_job_backup_config(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                          struct lcb_job_result *res, struct lcb_err *err);
/* S3 archives (broker, config): the object at b->location and its sidecar <key>.manifest.json.
 * A HEAD first: an object under Object Lock retention (or a legal hold) is skipped (returns 1). */
int lcb_job_delete_archive(const struct lcb_job_ctx *jc, const struct lcb_backup *b,
                           struct lcb_job_deleted *out, struct lcb_err *err);

/* ---- due-ness ---- */

struct lcb_due {
    int due;           /* 1: take a backup now */
    time_t slot;       /* the latest scheduled time at or before now; -1: it never fires */
    time_t last;       /* start of the last successful backup; 0: none */
    int missed;        /* scheduled slots since last, up to and including slot (capped at 1000) */
    time_t next;       /* the next scheduled time after now; -1: none */
};

/* Decide for a schedule in time zone tz, given the start of the last successful backup (0: none)
 * and now. Pure; never fails. */
void lcb_job_due(const struct lcb_schedule *s, const char *tz, time_t last_ok, time_t now,
                 struct lcb_due *out);

/* The start of the last successful backup (completed, or pending: taken, still settling in AWS)
 * of a target in env. *out is 0 when there is none. Returns 0 or -1 (catalog errors). */
int lcb_job_last_ok(struct lcb_catalog *cat, enum lcb_kind k, const char *env, const char *target,
                    time_t *out, struct lcb_err *err);

/* Where policy p publishes the catalog of env (lib/catalog/sync.h): its bucket, the key
 * <prefix>/catalog/<env>/catalog.db and its KMS key. Returns the key, which out borrows (caller
 * frees it after the last use of out). */
char *lcb_job_remote(const struct lcb_policy *p, const char *env, struct lcb_sync_remote *out);

#endif
