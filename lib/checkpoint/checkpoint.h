/*
 * checkpoint.h - snapshots before major changes (docs/checkpoints.md): one named group of
 * backups (an RDS snapshot, a broker export, a config export, taken together), held so that
 * retention never deletes them, until `lcbackup release` says the change is known good; and the
 * ordered plan to go back to one (config, then database, then broker).
 *
 * In the catalog a checkpoint is: its backups (backups.checkpoint = NAME, backups.hold = NAME
 * while held) and two kinds of events, "checkpoint.created" (detail: {"name", "reason", "env",
 * "components", "backups", "failed"}) and "checkpoint.released" (detail: {"name", "released"}).
 * The expiry planner (lib/jobs/expire.h) keeps every held backup, and the snapshot deleters
 * refuse one (lib/snapshot/snapshot.h).
 *
 * Ownership: structs are caller-owned (_init/_release) and own their strings.
 */
#ifndef LCB_CHECKPOINT_CHECKPOINT_H
#define LCB_CHECKPOINT_CHECKPOINT_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "../catalog/catalog.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/opt.h"

struct lcb_policy;

#define LCB_CHECKPOINT_NAME_MAX 64

/* Pure. Is name usable (1 to 64 of [A-Za-z0-9._-], starting with a letter or digit)? */
int lcb_checkpoint_name_ok(const char *name);
/* Pure. "cp-20261128T120107" for now (UTC), into out (LCB_CHECKPOINT_NAME_MAX + 1 bytes). */
char *lcb_checkpoint_default_name(char *out, time_t now);

struct lcb_checkpoint {
    char *name;
    char *reason;
    char *env;
    char *components;   /* "rds,broker,config" */
    char *run_id;       /* the run that took it */
    time_t created_at;
    time_t released_at; /* 0: still held */
    int failed;         /* components that could not be backed up when it was taken */
    size_t held;        /* backups still held by it */
    struct lcb_backup_list backups; /* its backups: rds, broker, config, ebs; oldest first */
};

void lcb_checkpoint_init(struct lcb_checkpoint *c);
void lcb_checkpoint_release(struct lcb_checkpoint *c);
/* "held", "released", "held, partial" or "released, partial". */
const char *lcb_checkpoint_state(const struct lcb_checkpoint *c);

/* Record a new checkpoint (the created event). Its backups are attached with
 * lcb_checkpoint_hold(). Errors: LCB_EREFUSED when a checkpoint of that name exists. */
int lcb_checkpoint_create(struct lcb_catalog *cat, const char *run_id, const char *name,
                          const char *reason, const char *env, const char *components,
                          const struct lcb_strlist *backup_ids, int failed,
                          struct lcb_err *err);
/* Put backup id into checkpoint name and hold it (backups.checkpoint, backups.hold, an event). */
int lcb_checkpoint_hold(struct lcb_catalog *cat, const char *run_id, const char *id,
                        const char *name, struct lcb_err *err);
/* Load one checkpoint with its backups. Errors: LCB_ENOTFOUND. */
int lcb_checkpoint_load(struct lcb_checkpoint *out, struct lcb_catalog *cat, const char *name,
                        struct lcb_err *err);
/* Every checkpoint (of env, when not NULL), newest first, into *out (n of them; free each with
 * lcb_checkpoint_release, then the array). */
int lcb_checkpoint_list(struct lcb_checkpoint **out, size_t *n, struct lcb_catalog *cat,
                        const char *env, struct lcb_err *err);
/* Lift the hold of checkpoint name from its backups (a hold someone else put is kept) and record
 * the released event. *count receives how many were released (0: already released). Errors:
 * LCB_ENOTFOUND. */
int lcb_checkpoint_lift(struct lcb_catalog *cat, const char *run_id, const char *name,
                        size_t *count, struct lcb_err *err);

/* The checkpoints as a table (NAME, CREATED, AGE, STATE, BACKUPS, REASON) or a JSON array,
 * appended to out. */
void lcb_checkpoint_table(struct lcb_buf *out, const struct lcb_checkpoint *c, size_t n,
                          time_t now);
void lcb_checkpoint_json(struct lcb_buf *out, const struct lcb_checkpoint *c, size_t n, time_t now);
/* `lcbackup list --checkpoints`: every checkpoint (of env, when not NULL), newest first, as the
 * table or JSON, printed to out. Returns 0 or -1 (catalog errors). */
int lcb_checkpoint_print(FILE *out, struct lcb_catalog *cat, const char *env, int json, time_t now,
                         struct lcb_err *err);

/* ---- going back ---- */

struct lcb_checkpoint_step {
    char *phase;    /* "config", "database", "broker" */
    char *what;     /* "SSM parameters of config-..." */
    char *backup_id;
    struct lcb_strlist args; /* the command after `lcbackup [global options]` */
};

struct lcb_checkpoint_plan {
    struct lcb_checkpoint_step *steps;
    size_t n;
    struct lcb_strlist notes; /* what the plan cannot do ("rds backup ... is pending") */
};

void lcb_checkpoint_plan_init(struct lcb_checkpoint_plan *p);
void lcb_checkpoint_plan_release(struct lcb_checkpoint_plan *p);
/* Pure. The ordered plan for checkpoint c under policy p (may be NULL): config (restore ssm,
 * secrets and services of each config backup, as its manifest says it holds them), then the
 * database (restore rds --backup, repointing the target's db_url_param when it has one), then
 * the broker (restore broker); ebs backups last (new volumes to attach). Every command carries
 * --yes: the checkpoint restore asks once. Returns the number of steps. */
size_t lcb_checkpoint_plan_build(struct lcb_checkpoint_plan *out, const struct lcb_checkpoint *c,
                                 const struct lcb_policy *p);
/* One step as a shell line ("lcbackup restore ssm config-... --yes"), appended (words with
 * characters a shell would read are quoted). */
void lcb_checkpoint_step_line(struct lcb_buf *out, const struct lcb_checkpoint_step *s);

#endif
