/*
 * catalog.h - the SQLite catalog: every run, backup, copy, restore and drill, and an append-only
 * event log (schema in catalog/NNNN_*.sql, compiled in and applied on open).
 *
 * The file is created mode 0600, in WAL mode with a busy timeout. Backup, expire and restore runs are
 * serialised by an flock()ed lock file beside the catalog (<catalog>.lock) that also records the
 * holder; a second run waits up to its lock timeout then fails with LCB_ELOCKED naming the holder.
 * Runs left "running" by a process that died are marked "abandoned" by the next open.
 */
#ifndef LCB_CATALOG_CATALOG_H
#define LCB_CATALOG_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"

struct lcb_catalog;
struct lcb_db;

/* A backup row. Strings are owned by the struct: lcb_backup_release() frees them. */
struct lcb_backup {
    char *id;        /* "rds-20261128T120107-a1b2" */
    char *kind;      /* rds | ebs | broker | config */
    char *env;
    char *target;    /* the policy target's name */
    char *source;    /* instance id, volume id, broker URL (no credentials), ssm path */
    char *location;  /* snapshot id/ARN or s3://bucket/key */
    char *region;
    char *status;    /* running | pending | completed | failed | expired | deleted */
    time_t started_at;
    time_t completed_at; /* 0: not yet */
    time_t taken_at;     /* the recovery point (snapshot time, export start) */
    long long size_bytes;
    long long item_count;
    char *sha256;
    char *manifest;  /* JSON text */
    char *policy;
    char *keep_reason;
    time_t expires_at;
    time_t verified_at;
    char *hold;      /* non-NULL: held (checkpoint name or reason); retention never deletes it */
    char *run_id;
    char *error;
    char *checkpoint;
};

struct lcb_backup_filter {
    const char *kind;
    const char *env;
    const char *status;
    const char *target;
    time_t since; /* 0: any */
    int limit;    /* 0: no limit */
};

struct lcb_backup_list {
    struct lcb_backup *items;
    size_t n;
};

/* Open path, creating it (and its directory) when create is set; apply pending migrations; mark
 * abandoned runs. Errors: LCB_ENOTFOUND (no catalog and !create), LCB_EIO, LCB_ECORRUPT. */
int lcb_catalog_open(struct lcb_catalog **out, const char *path, int create, struct lcb_err *err);
void lcb_catalog_close(struct lcb_catalog *cat);
const char *lcb_catalog_path(const struct lcb_catalog *cat);
struct lcb_db *lcb_catalog_db(struct lcb_catalog *cat);
/* The schema version (PRAGMA user_version) and the newest this binary knows. */
int lcb_catalog_version(struct lcb_catalog *cat);
int lcb_catalog_latest_version(void);

/* Take the lock for `command`, waiting up to timeout seconds. LCB_ELOCKED names the holder. */
int lcb_catalog_lock(struct lcb_catalog *cat, const char *command, int64_t timeout,
                     struct lcb_err *err);
void lcb_catalog_unlock(struct lcb_catalog *cat);

/* Runs: one per invocation. run_id receives the new id (40 bytes). */
int lcb_catalog_run_begin(struct lcb_catalog *cat, const char *command, const char *policy,
                          const char *env, char *run_id, struct lcb_err *err);
int lcb_catalog_run_end(struct lcb_catalog *cat, const char *run_id, const char *status,
                        int exit_code, const char *error, struct lcb_err *err);

/* Backups. add assigns b->id when it is NULL (kind + time + random suffix). */
int lcb_catalog_backup_add(struct lcb_catalog *cat, struct lcb_backup *b, struct lcb_err *err);
/* Write every field of b (matched by id). */
int lcb_catalog_backup_update(struct lcb_catalog *cat, const struct lcb_backup *b,
                              struct lcb_err *err);
/* Load one by id (or unique id prefix). LCB_ENOTFOUND when none; LCB_EUSAGE when ambiguous. */
int lcb_catalog_backup_get(struct lcb_catalog *cat, const char *id, struct lcb_backup *out,
                           struct lcb_err *err);
/* The newest completed backup of kind (target and env may be NULL: any). LCB_ENOTFOUND when none. */
int lcb_catalog_backup_latest(struct lcb_catalog *cat, const char *kind, const char *target,
                              const char *env, struct lcb_backup *out, struct lcb_err *err);
/* Record that a backup was verified now (verified_at) with an event. */
int lcb_catalog_backup_verified(struct lcb_catalog *cat, const char *id, struct lcb_err *err);
/* Newest first. */
int lcb_catalog_backup_list(struct lcb_catalog *cat, const struct lcb_backup_filter *f,
                            struct lcb_backup_list *out, struct lcb_err *err);
void lcb_backup_release(struct lcb_backup *b);
void lcb_backup_list_release(struct lcb_backup_list *l);
/* Set one backup's status (and error text), recording an event. */
int lcb_catalog_backup_set_status(struct lcb_catalog *cat, const char *id, const char *status,
                                  const char *error, struct lcb_err *err);

/* Cross-region copies of a backup. */
int lcb_catalog_copy_add(struct lcb_catalog *cat, const char *backup_id, const char *region,
                         const char *location, const char *status, struct lcb_err *err);
int lcb_catalog_copy_set_status(struct lcb_catalog *cat, const char *backup_id, const char *region,
                                const char *status, struct lcb_err *err);

/* Restores and drills: begin returns an id; end records the outcome and a JSON detail. */
int lcb_catalog_restore_begin(struct lcb_catalog *cat, const char *backup_id, const char *kind,
                              const char *target, char *id, struct lcb_err *err);
int lcb_catalog_restore_end(struct lcb_catalog *cat, const char *id, const char *status,
                            const char *detail_json, struct lcb_err *err);
int lcb_catalog_drill_begin(struct lcb_catalog *cat, const char *components, char *id,
                            struct lcb_err *err);
int lcb_catalog_drill_end(struct lcb_catalog *cat, const char *id, const char *status,
                          const char *report_json, struct lcb_err *err);

/* Append to the event log. backup_id may be NULL. */
int lcb_catalog_event(struct lcb_catalog *cat, const char *run_id, const char *backup_id,
                      const char *event, const char *detail, struct lcb_err *err);

/* The backup as a JSON object (manifest embedded as JSON), appended to out. */
void lcb_backup_json(const struct lcb_backup *b, struct lcb_buf *out);
/* One row of runs/restores/drills by id (or unique prefix) as "column: value" lines, or as a JSON
 * object. LCB_ENOTFOUND when none. */
int lcb_catalog_show_row(struct lcb_catalog *cat, const char *table, const char *id, int json,
                         struct lcb_buf *out, struct lcb_err *err);

/* SQLite's integrity check plus the catalog's own invariants; problems are appended to report
 * (one per line). Returns the number of problems, or -1 on error. */
int lcb_catalog_check(struct lcb_catalog *cat, struct lcb_buf *report, struct lcb_err *err);

#endif
