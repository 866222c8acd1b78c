/*
 * main.c - global options, the command table, setup (policy, catalog, lock, run record), and the
 * mapping from the command's error to one printed line and the exit status (docs/exit-codes.md).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/catalog/catalog.h"
#include "../lib/core/clock.h"
#include "../lib/core/mem.h"
#include "../lib/core/secret.h"
#include "../lib/core/sig.h"
#include "../lib/policy/policy.h"
#include "cmd.h"
#include "setup.h"

static const struct lcb_cmd cmds[] = {
    /* verb       noun       fn                  setup                help */
    { "backup",  "rds",     cmd_backup_rds,     NEED_AWS | CATALOG_RW | LOCK, "snapshot RDS instances (fingerprint, DR copy)",
      cmd_backup_rds_usage },
    { "backup",  "ebs",     cmd_backup_ebs,     NEED_AWS | CATALOG_RW | LOCK, "snapshot EBS volumes (DR copy)",
      cmd_backup_ebs_usage },
    { "backup",  "broker",  cmd_backup_broker,  NEED_AWS | CATALOG_RW | LOCK, "export broker entities to S3",
      cmd_backup_broker_usage },
    { "backup",  "config",  cmd_backup_config,  NEED_AWS | CATALOG_RW | LOCK, "export SSM parameters and ECS services to S3",
      cmd_backup_config_usage },
    { "run",     NULL,      cmd_run,            NEED_POLICY | CATALOG_RW | LOCK | NEED_AWS, "back up what is due, expire, publish the catalog (for cron)",
      cmd_run_usage },
    { "schedule", NULL,     cmd_schedule,       NEED_POLICY,         "print a crontab, systemd timer or EventBridge schedule for run",
      cmd_schedule_usage },
    { "checkpoint", NULL,   cmd_checkpoint,     NEED_POLICY | CATALOG_RW | LOCK | NEED_AWS, "snapshots before a major change, held until released", cmd_checkpoint_usage },
    { "release", NULL,      cmd_release,        CATALOG_RW | LOCK,   "lift a checkpoint's hold once the change is known good", cmd_release_usage },
    { "list",    NULL,      cmd_list,           CATALOG_RO,          "list backups in the catalog",
      cmd_list_usage },
    { "show",    NULL,      cmd_show,           CATALOG_RO,          "show one backup, run, restore or drill",
      cmd_show_usage },
    { "verify",  "broker",  cmd_verify_broker,  NEED_AWS | CATALOG_RW, "compare a broker archive with a live broker",
      cmd_verify_broker_usage },
    { "verify",  NULL,      cmd_verify,         NEED_AWS | CATALOG_RW, "prove an archive is intact",
      cmd_verify_usage },
    { "diff",    "config",  cmd_diff_config,    NEED_AWS | CATALOG_RO, "compare a config backup with live AWS or another backup",
      cmd_diff_config_usage },
    { "restore", "rds",     cmd_restore_rds,    NEED_AWS | CATALOG_RW | LOCK, "restore an RDS snapshot or a point in time as a new instance",
      cmd_restore_rds_usage },
    { "restore", "ebs",     cmd_restore_ebs,    NEED_AWS | CATALOG_RW | LOCK, "create EBS volumes from a backup's snapshots",
      cmd_restore_ebs_usage },
    { "restore", "broker",  cmd_restore_broker, NEED_AWS | CATALOG_RW | LOCK, "put broker entities back from an archive",
      cmd_restore_broker_usage },
    { "restore", "ssm",     cmd_restore_ssm,    NEED_AWS | CATALOG_RW | LOCK, "put SSM parameters back from a config backup",
      cmd_restore_ssm_usage },
    { "restore", "services", cmd_restore_services, NEED_AWS | CATALOG_RW | LOCK, "re-create ECS services from a config backup",
      cmd_restore_services_usage },
    { "restore", "secrets", cmd_restore_secrets, NEED_AWS | CATALOG_RW | LOCK, "put Secrets Manager secrets back from a config backup", cmd_restore_secrets_usage },
    { "restore", "checkpoint", cmd_restore_checkpoint, CATALOG_RW | NEED_AWS, "go back to a checkpoint: config, then database, then broker", cmd_restore_checkpoint_usage },
    { "drill",   NULL,      cmd_drill,          NEED_POLICY | CATALOG_RW | NEED_AWS, "restore into throwaway resources, check, measure RTO/RPO, tear down", cmd_drill_usage },
    { "report",  NULL,      cmd_report,         CATALOG_RO | NEED_AWS, "drill and status reports (text, md, html, json), metrics", cmd_report_usage },
    { "expire",  NULL,      cmd_expire,         NEED_POLICY | CATALOG_RW | LOCK | NEED_AWS, "delete what no retention rule keeps (--explain, --simulate)",
      cmd_expire_usage },
    { "delete",  NULL,      cmd_delete,         NEED_AWS | CATALOG_RW | LOCK, "delete one backup and its cross-region copies",
      cmd_delete_usage },
    { "alarms",  NULL,      cmd_alarms,         NEED_POLICY | NEED_AWS, "print or apply the CloudWatch alarms on lcbackup's metrics", cmd_alarms_usage },
    { "catalog", "migrate", cmd_catalog_migrate, CATALOG_RW | LOCK,  "create or upgrade the catalog",
      cmd_catalog_migrate_usage },
    { "catalog", "check",   cmd_catalog_check,  CATALOG_RO,          "check the catalog's integrity and invariants",
      cmd_catalog_check_usage },
    { "catalog", "refresh", cmd_catalog_refresh, NEED_AWS | CATALOG_RW | LOCK, "complete pending rds and ebs backups from AWS",
      cmd_catalog_refresh_usage },
    { "catalog", "publish", cmd_catalog_publish, NEED_POLICY | CATALOG_RO | LOCK | NEED_AWS, "upload the catalog to S3 (merging first on conflict)",
      cmd_catalog_publish_usage },
    { "catalog", "pull",    cmd_catalog_pull,   NEED_POLICY | CATALOG_RW | LOCK | NEED_AWS, "fetch the published catalog and merge it in",
      cmd_catalog_pull_usage },
    { "catalog", "rebuild", cmd_catalog_rebuild, NEED_POLICY | CATALOG_RW | LOCK | NEED_AWS, "reconstruct the catalog from AWS alone (tags, sidecars)",
      cmd_catalog_rebuild_usage },
    { "catalog", "drift",   cmd_catalog_drift,  NEED_POLICY | CATALOG_RO | NEED_AWS, "list where the catalog and AWS disagree",
      cmd_catalog_drift_usage },
    { "policy",  "check",   cmd_policy_check,   0,                   "validate a policy file",
      cmd_policy_check_usage },
    { "policy",  "show",    cmd_policy_show,    0,                   "print a policy and its next scheduled times",
      cmd_policy_show_usage },
    { "doctor",  NULL,      cmd_doctor,         0,                   "check credentials, region, endpoints, clock, catalog", cmd_doctor_usage },
    { "presign", NULL,      cmd_presign,        NEED_AWS,            "print a presigned URL for an S3 object", cmd_presign_usage },
    { "version", NULL,      cmd_version,        0,                   "print version and library versions",
      cmd_version_usage },
};

static const char main_usage[] =
    "usage: lcbackup [global options] <command> [<noun>] [options]\n";

static const char global_help[] =
    "global options:\n"
    "  --policy FILE          policy file (LCBACKUP_POLICY)\n"
    "  --env NAME             environment, e.g. dev or prod (LCBACKUP_ENV; default: the policy's)\n"
    "  --region REGION        AWS region (AWS_REGION, AWS_DEFAULT_REGION, profile, policy)\n"
    "  --profile NAME         AWS shared-config profile (AWS_PROFILE)\n"
    "  --catalog PATH         catalog database (LCBACKUP_CATALOG)\n"
    "  --log-format text|json log lines on stderr as text or JSON (LCBACKUP_LOG_FORMAT)\n"
    "  --json                 machine-readable results on stdout\n"
    "  --lock-timeout DUR     wait this long for the catalog lock (default 0)\n"
    "  --max-attempts N       AWS request attempts (AWS_MAX_ATTEMPTS; default 3)\n"
    "  --ca-bundle FILE       extra CA certificates (AWS_CA_BUNDLE)\n"
    "  --allow-insecure-endpoint  accept plain http:// endpoints that are not on loopback\n"
    "  -v, -q                 more or less logging (repeat -v for request traces)\n"
    "  -h, --help             this help; `lcbackup <command> --help` for a command's\n"
    "  --version              version and library versions\n";

static void
print_help(FILE *out)
{
    size_t i;

    fputs(main_usage, out);
    fputs("\ncommands:\n", out);
    for (i = 0; i < LCB_ARRAY_SIZE(cmds); i++) {
        char name[48];
        snprintf(name, sizeof(name), "%s%s%s", cmds[i].verb, cmds[i].noun ? " " : "",
                 cmds[i].noun ? cmds[i].noun : "");
        fprintf(out, "  %-22s %s\n", name, cmds[i].help);
    }
    fputs("\n", out);
    fputs(global_help, out);
    fputs("\nexit codes: docs/exit-codes.md. Documentation: docs/README.md.\n", out);
}

static int
verb_exists(const char *verb)
{
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(cmds); i++)
        if (strcmp(cmds[i].verb, verb) == 0)
            return 1;
    return 0;
}

/* Find the row for argv[0] (and argv[1] when the verb takes a noun); *used is 1 or 2. */
static const struct lcb_cmd *
find_cmd(int argc, char **argv, int *used, struct lcb_err *err)
{
    size_t i;
    struct lcb_buf nouns = LCB_BUF_INIT;

    for (i = 0; i < LCB_ARRAY_SIZE(cmds); i++) {
        if (strcmp(cmds[i].verb, argv[0]) != 0)
            continue;
        if (!cmds[i].noun || (argc > 1 && strcmp(cmds[i].noun, argv[1]) == 0)) {
            *used = cmds[i].noun ? 2 : 1;
            lcb_buf_release(&nouns);
            return &cmds[i];
        }
        lcb_buf_addf(&nouns, "%s%s", nouns.len ? ", " : "", cmds[i].noun);
    }
    if (verb_exists(argv[0]))
        lcb_err_set(err, LCB_EUSAGE, "'%s' needs one of: %s", argv[0], lcb_buf_str(&nouns));
    else
        lcb_err_set(err, LCB_EUSAGE, "'%s' is not a command; see 'lcbackup --help'", argv[0]);
    lcb_buf_release(&nouns);
    return NULL;
}

static int
has_help_flag(int argc, char **argv)
{
    int i;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

static int
exit_for_signal(int signo)
{
    return signo == SIGTERM ? 143 : 130;
}

/* Print the error line (redacted) and, for usage errors, the command's usage line. */
static void
report_error(const struct lcb_ctx *ctx, const struct lcb_cmd *cmd)
{
    char line[2048];
    struct lcb_buf red = LCB_BUF_INIT;

    lcb_err_format(&ctx->err, line, sizeof(line));
    fprintf(stderr, "lcbackup: %s%s%s\n", ctx->cmd_name ? ctx->cmd_name : "",
            ctx->cmd_name ? ": " : "", lcb_redact_str(&red, line));
    if (ctx->err.code == LCB_EUSAGE) {
        const char *u = cmd ? cmd->usage : main_usage;
        const char *nl = strchr(u, '\n');
        fprintf(stderr, "%.*s\n", nl ? (int)(nl - u) : (int)strlen(u), u);
    }
    lcb_buf_release(&red);
}

int
main(int argc, char **argv)
{
    struct lcb_ctx ctx;
    const struct lcb_cmd *cmd = NULL;
    char name[64];
    int rest, used = 0, rc, status;
    char **args;

    memset(&ctx, 0, sizeof(ctx));
    ctx.out = stdout;
    lcb_sig_install();
    args = lcb_xcalloc((size_t)argc + 1, sizeof(*args));
    rest = lcb_setup_globals(&ctx, argc - 1, argv + 1, args);
    if (rest < 0) {
        report_error(&ctx, NULL);
        free(args);
        return lcb_exit_status(ctx.err.code);
    }
    if (rest == 0) {
        print_help(stderr);
        free(args);
        return 64;
    }
    if (strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0 ||
        strcmp(args[0], "help") == 0) {
        print_help(stdout);
        free(args);
        return 0;
    }
    if (strcmp(args[0], "--version") == 0)
        args[0] = (char *)"version";
    cmd = find_cmd(rest, args, &used, &ctx.err);
    if (!cmd) {
        report_error(&ctx, NULL);
        free(args);
        return lcb_exit_status(ctx.err.code);
    }
    snprintf(name, sizeof(name), "%s%s%s", cmd->verb, cmd->noun ? " " : "",
             cmd->noun ? cmd->noun : "");
    ctx.cmd_name = name;
    ctx.cmd = cmd;
    if (has_help_flag(rest - used, args + used)) {
        fputs(cmd->usage, stdout);
        free(args);
        return 0;
    }
    lcb_log_set_context(ctx.cmd_name, NULL);
    rc = cmd->fn(&ctx, rest - used, args + used);
    if (rc < 0 && lcb_sig_pending() && ctx.err.code != LCB_EINTR)
        lcb_wrap(&ctx.err, "interrupted");
    status = rc < 0 ? lcb_exit_status(ctx.err.code) : 0;
    if (rc < 0 && (ctx.err.code == LCB_EINTR || lcb_sig_pending()))
        status = exit_for_signal(lcb_sig_pending());
    if (rc < 0)
        report_error(&ctx, cmd);
    lcb_teardown_command(&ctx, rc, status);
    free(args);
    return status;
}
