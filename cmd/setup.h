/*
 * setup.h - what main() does around a command: global options, logging, policy, catalog, lock, and
 * the run record that says what this invocation did.
 */
#ifndef LCB_CMD_SETUP_H
#define LCB_CMD_SETUP_H

#include "cmd.h"

/* Take the global options (and their environment equivalents) out of argv; the remaining
 * arguments go to rest (which has room for argc entries). Returns their count, or -1 (usage). */
int lcb_setup_globals(struct lcb_ctx *ctx, int argc, char **argv, char **rest);
/* Prepare what cmd's setup flags ask for. Returns 0 or -1 with ctx->err. */
int lcb_setup_command(struct lcb_ctx *ctx, const struct lcb_cmd *cmd);
/* Record the run's outcome, release the lock, close the catalog, free the policy. */
void lcb_teardown_command(struct lcb_ctx *ctx, int rc, int status);
/* Notify the policy's SNS topic of a failed run, as the run ends (cmd/notify.c). */
void lcb_cmd_notify(struct lcb_ctx *ctx, int rc, int status, const char *error);
/* The catalog path: --catalog, LCBACKUP_CATALOG, else the default for this user. Caller frees. */
char *lcb_default_catalog_path(void);

#endif
