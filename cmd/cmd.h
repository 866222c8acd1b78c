/*
 * cmd.h - what every subcommand sees: the context main() prepares, and the command table's row.
 *
 * A command is `int cmd_<verb>_<noun>(struct lcb_ctx *ctx, int argc, char **argv)`: argv holds the
 * arguments after the command words (global options already removed). It starts with
 * lcb_cmd_begin() and returns 0 on success, or -1
 * with ctx->err filled; main() prints that error and maps its code to the exit status. Results go to
 * ctx->out (stdout), logs to stderr through lcb_log().
 */
#ifndef LCB_CMD_H
#define LCB_CMD_H

#include <stdint.h>
#include <stdio.h>

#include "../lib/core/err.h"
#include "../lib/core/log.h"
#include "../lib/core/opt.h"

struct lcb_policy;
struct lcb_catalog;
struct lcb_aws;

/* What main() sets up before calling a command. */
enum {
    NEED_POLICY = 1 << 0, /* a policy is required (--policy or LCBACKUP_POLICY) */
    CATALOG_RO = 1 << 1,  /* open the catalog (it must exist) */
    CATALOG_RW = 1 << 2,  /* open or create the catalog and record a run */
    LOCK = 1 << 3,        /* hold the catalog lock for the whole command */
    NEED_AWS = 1 << 4,    /* resolve region, endpoints and credentials */
};

struct lcb_ctx {
    const char *cmd_name; /* "backup rds" */
    const struct lcb_cmd *cmd;
    /* global options */
    const char *policy_path;
    const char *env;
    const char *region;
    const char *profile;
    const char *catalog_path;
    const char *ca_bundle;
    int json;
    int verbosity; /* -v count minus -q count */
    int allow_insecure_endpoint;
    long long max_attempts; /* 0: default */
    int64_t lock_timeout;   /* seconds */
    /* prepared by main() according to the command's setup flags */
    struct lcb_policy *policy;
    struct lcb_catalog *cat;
    struct lcb_aws *aws;
    char run_id[40];
    FILE *out;
    struct lcb_err err;
};

typedef int (*lcb_cmd_fn)(struct lcb_ctx *ctx, int argc, char **argv);

struct lcb_cmd {
    const char *verb;
    const char *noun; /* NULL: the verb alone */
    lcb_cmd_fn fn;
    unsigned setup;
    const char *help;  /* one line for `lcbackup --help` */
    const char *usage; /* the full usage text, the same as the command's page under docs/ */
};

/* The start of every command: parse its options (usage errors come first, before anything is
 * opened), then prepare what its setup flags ask for: policy, catalog, lock, run record, AWS.
 * Returns 0 or -1 with ctx->err. pos may be NULL when the command takes no positional argument. */
int lcb_cmd_begin(struct lcb_ctx *ctx, const struct lcb_opt *opts, int argc, char **argv,
                  struct lcb_strlist *pos);

/* Load broker backup id (completed) and verify its archive completely before anything is done
 * with it; src is left open on the object (cmd/restore_broker.c). */
struct lcb_backup;
struct lcb_s3_source;
int lcb_cmd_open_broker_archive(struct lcb_ctx *ctx, const char *id, struct lcb_backup *b,
                                struct lcb_s3_source *src);

/* Declare a command implemented in cmd/<name>.c. */
#define LCB_CMD_DECLARE(name)                                                                      \
    int cmd_##name(struct lcb_ctx *ctx, int argc, char **argv);                                    \
    extern const char cmd_##name##_usage[]

LCB_CMD_DECLARE(version);
LCB_CMD_DECLARE(backup_broker);
LCB_CMD_DECLARE(restore_broker);
LCB_CMD_DECLARE(backup_rds);
LCB_CMD_DECLARE(backup_ebs);
LCB_CMD_DECLARE(restore_rds);
LCB_CMD_DECLARE(restore_ebs);
LCB_CMD_DECLARE(delete);
LCB_CMD_DECLARE(catalog_refresh);
LCB_CMD_DECLARE(backup_config);
LCB_CMD_DECLARE(diff_config);
LCB_CMD_DECLARE(restore_ssm);
LCB_CMD_DECLARE(restore_services);
LCB_CMD_DECLARE(verify);
LCB_CMD_DECLARE(verify_broker);
LCB_CMD_DECLARE(presign);
LCB_CMD_DECLARE(doctor);
LCB_CMD_DECLARE(policy_check);
LCB_CMD_DECLARE(policy_show);
LCB_CMD_DECLARE(list);
LCB_CMD_DECLARE(show);
LCB_CMD_DECLARE(catalog_migrate);
LCB_CMD_DECLARE(catalog_check);
LCB_CMD_DECLARE(catalog_publish);
LCB_CMD_DECLARE(catalog_pull);
LCB_CMD_DECLARE(catalog_rebuild);
LCB_CMD_DECLARE(catalog_drift);
LCB_CMD_DECLARE(alarms);
LCB_CMD_DECLARE(restore_secrets);
LCB_CMD_DECLARE(checkpoint);
LCB_CMD_DECLARE(release);
LCB_CMD_DECLARE(restore_checkpoint);
LCB_CMD_DECLARE(run);
LCB_CMD_DECLARE(schedule);
LCB_CMD_DECLARE(expire);
LCB_CMD_DECLARE(drill);
LCB_CMD_DECLARE(report);

#endif
