/*
 * common.h - what several commands share beyond setup.h, each piece in one place: the job context
 * of a command, the run of `backup rds` and `backup ebs` over their targets with its results, and
 * the restores' production guard, catalog records and config restore summaries.
 *
 * Ownership: everything is borrowed from the caller.
 */
#ifndef LCB_CMD_COMMON_H
#define LCB_CMD_COMMON_H

#include <stddef.h>

#include "../lib/config/plan.h"
#include "../lib/jobs/jobs.h"
#include "../lib/snapshot/snapshot.h"
#include "cmd.h"

/* The job context lib/jobs functions take, from ctx; dry_run: print the calls to ctx->out. */
void lcb_cmd_job_ctx(struct lcb_job_ctx *jc, const struct lcb_ctx *ctx, int dry_run);

/* ---- backup rds, backup ebs ---- */

typedef int (*lcb_cmd_snap_backup_fn)(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                                      const struct lcb_snap_opts *o, struct lcb_job_result *res,
                                      struct lcb_err *err);

/* Back up each of the n targets with backup (lcb_snap_backup_rds or _ebs) and print each backup
 * recorded: a line for it and one per copy, or a JSON array of the catalog's rows under --json.
 * A failing target is logged under event when there are several, and the others go on; an
 * interruption stops. Returns 0, or -1 with ctx->err: the first failure's error, LCB_EPARTIAL
 * ("N of M targets failed") when only some failed. */
int lcb_cmd_backup_snapshots(struct lcb_ctx *ctx, const struct lcb_target *const *targets,
                             size_t n, const struct lcb_snap_opts *o, int dry_run,
                             lcb_cmd_snap_backup_fn backup, const char *event);

/* ---- restores ---- */

/* Is env production? The policy says so for its own env; otherwise "prod" is. */
int lcb_cmd_is_production(const struct lcb_ctx *ctx, const char *env);
/* A restore into env when it is production and not confirmed (--yes or --dry-run): -1 with
 * LCB_EUSAGE saying so; else 0. */
int lcb_cmd_production_guard(struct lcb_ctx *ctx, const char *env, int confirmed);
/* The same for the snapshot restores, which ask the policy: -1 (LCB_EUSAGE) when it is a
 * production policy and the restore is not confirmed. */
int lcb_cmd_policy_guard(struct lcb_ctx *ctx, int confirmed);

/* End restore rid in the catalog with status and detail; a failure to write it is logged. */
void lcb_cmd_restore_record(struct lcb_ctx *ctx, const char *rid, const char *status,
                            const struct lcb_json *detail);
/* End restore rid stopped by ctx->err: failed (or interrupted), with the error in detail. */
void lcb_cmd_restore_failed(struct lcb_ctx *ctx, const char *rid, struct lcb_json *detail);

/* Start the config restore (kind "ssm", "secrets", "services") of b: its catalog row (rid gets
 * its id) and an empty tally t (release it). Returns 0, or -1 with ctx->err. */
int lcb_cmd_config_restore_begin(struct lcb_ctx *ctx, const struct lcb_backup *b, const char *kind,
                                 char rid[40], struct lcb_restore_tally *t);
/* Where a config restore reports each change as it is done: stdout, stderr under --json. */
FILE *lcb_cmd_config_restore_progress(const struct lcb_ctx *ctx);
/* End config restore rid with t's detail (lcb_restore_tally_fill), partial when a change failed,
 * and print the result: the detail under --json (with restore_id), else the summary line of
 * counts. */
void lcb_cmd_config_restore_end(struct lcb_ctx *ctx, const char *rid, struct lcb_restore_tally *t,
                                const struct lcb_restore_count *counts, size_t n);

#endif
