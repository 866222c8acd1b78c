/* setup.c - see setup.h. */
#include "setup.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/aws/aws.h"
#include "../lib/catalog/catalog.h"
#include "../lib/core/clock.h"
#include "../lib/core/mem.h"
#include "../lib/core/secret.h"
#include "../lib/policy/policy.h"

static char *catalog_path_owned;

static int
take_value(int argc, char **argv, int *i, const char *name, const char **dest, struct lcb_err *err)
{
    size_t n = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, name, n) == 0 && a[n] == '=') {
        *dest = a + n + 1;
        return 1;
    }
    if (strcmp(a, name) != 0)
        return 0;
    if (*i + 1 >= argc)
        return lcb_err_set(err, LCB_EUSAGE, "option '%s' needs a value", name);
    *dest = argv[++*i];
    return 1;
}

static const char *
env_or(const char *value, const char *var)
{
    const char *e;

    if (value)
        return value;
    e = getenv(var);
    return e && *e ? e : NULL;
}

static int
parse_number_options(struct lcb_ctx *ctx, const char *lock_timeout, const char *max_attempts)
{
    char *end;

    if (lock_timeout && lcb_duration_parse(lock_timeout, &ctx->lock_timeout) < 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE,
                           "--lock-timeout: '%s' is not a duration such as 30s or 5m", lock_timeout);
    max_attempts = env_or(max_attempts, "AWS_MAX_ATTEMPTS");
    if (max_attempts) {
        ctx->max_attempts = strtoll(max_attempts, &end, 10);
        if (*end || ctx->max_attempts < 1 || ctx->max_attempts > 20)
            return lcb_err_set(&ctx->err, LCB_EUSAGE,
                               "max attempts '%s' must be a whole number from 1 to 20", max_attempts);
    }
    return 0;
}

static int
parse_log_format(struct lcb_ctx *ctx, const char *fmt)
{
    enum lcb_level level;

    fmt = env_or(fmt, "LCBACKUP_LOG_FORMAT");
    if (fmt && strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "--log-format: '%s' is not text or json", fmt);
    if (ctx->verbosity >= 2)
        level = LCB_TRACE;
    else if (ctx->verbosity == 1)
        level = LCB_DEBUG;
    else if (ctx->verbosity == 0)
        level = LCB_INFO;
    else if (ctx->verbosity == -1)
        level = LCB_WARN;
    else
        level = LCB_ERROR;
    lcb_log_setup(level, fmt && strcmp(fmt, "json") == 0 ? LCB_LOG_JSON : LCB_LOG_TEXT, stderr);
    return 0;
}

int
lcb_setup_globals(struct lcb_ctx *ctx, int argc, char **argv, char **rest)
{
    const char *log_format = NULL, *lock_timeout = NULL, *max_attempts = NULL;
    int i, n = 0, r, stop = 0;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (stop || strcmp(a, "--") == 0) {
            stop = 1;
            rest[n++] = argv[i];
            continue;
        }
        if ((r = take_value(argc, argv, &i, "--policy", &ctx->policy_path, &ctx->err)) ||
            (r = take_value(argc, argv, &i, "--env", &ctx->env, &ctx->err)) ||
            (r = take_value(argc, argv, &i, "--region", &ctx->region, &ctx->err)) ||
            (r = take_value(argc, argv, &i, "--profile", &ctx->profile, &ctx->err)) ||
            (r = take_value(argc, argv, &i, "--catalog", &ctx->catalog_path, &ctx->err)) ||
            (r = take_value(argc, argv, &i, "--ca-bundle", &ctx->ca_bundle, &ctx->err)) ||
            (r = take_value(argc, argv, &i, "--log-format", &log_format, &ctx->err)) ||
            (r = take_value(argc, argv, &i, "--lock-timeout", &lock_timeout, &ctx->err)) ||
            (r = take_value(argc, argv, &i, "--max-attempts", &max_attempts, &ctx->err))) {
            if (r < 0)
                return -1;
        } else if (strcmp(a, "--json") == 0) {
            ctx->json = 1;
        } else if (strcmp(a, "--allow-insecure-endpoint") == 0) {
            ctx->allow_insecure_endpoint = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            ctx->verbosity++;
        } else if (strcmp(a, "-vv") == 0) {
            ctx->verbosity += 2;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            ctx->verbosity--;
        } else {
            rest[n++] = argv[i];
        }
    }
    ctx->policy_path = env_or(ctx->policy_path, "LCBACKUP_POLICY");
    ctx->env = env_or(ctx->env, "LCBACKUP_ENV");
    ctx->catalog_path = env_or(ctx->catalog_path, "LCBACKUP_CATALOG");
    ctx->ca_bundle = env_or(ctx->ca_bundle, "AWS_CA_BUNDLE");
    if (parse_log_format(ctx, log_format) < 0 ||
        parse_number_options(ctx, lock_timeout, max_attempts) < 0 || lcb_clock_check(&ctx->err) < 0)
        return -1;
    return n;
}

char *
lcb_default_catalog_path(void)
{
    const char *home = getenv("HOME");
    const char *state = getenv("XDG_STATE_HOME");

    if (geteuid() == 0)
        return lcb_xstrdup("/var/lib/lcbackup/catalog.db");
    if (state && *state)
        return lcb_xasprintf("%s/lcbackup/catalog.db", state);
    return lcb_xasprintf("%s/.local/state/lcbackup/catalog.db", home ? home : ".");
}

static int
load_policy(struct lcb_ctx *ctx, const struct lcb_cmd *cmd)
{
    if (!ctx->policy_path) {
        if (cmd->setup & NEED_POLICY)
            return lcb_err_set(&ctx->err, LCB_ECONFIG,
                               "no policy: give --policy FILE or set LCBACKUP_POLICY");
        return 0;
    }
    if (lcb_policy_load(&ctx->policy, ctx->policy_path, &ctx->err) < 0)
        return -1;
    if (!ctx->env)
        ctx->env = lcb_policy_env(ctx->policy);
    return 0;
}

static int
open_catalog(struct lcb_ctx *ctx, const struct lcb_cmd *cmd)
{
    int create = (cmd->setup & CATALOG_RW) != 0;

    if (!ctx->catalog_path)
        ctx->catalog_path = catalog_path_owned = lcb_default_catalog_path();
    if (lcb_catalog_open(&ctx->cat, ctx->catalog_path, create, &ctx->err) < 0)
        return -1;
    if ((cmd->setup & LOCK) &&
        lcb_catalog_lock(ctx->cat, ctx->cmd_name, ctx->lock_timeout, &ctx->err) < 0)
        return -1;
    if (create && lcb_catalog_run_begin(ctx->cat, ctx->cmd_name, ctx->policy_path, ctx->env,
                                        ctx->run_id, &ctx->err) < 0)
        return -1;
    lcb_log_set_context(ctx->cmd_name, ctx->run_id);
    return 0;
}

/* NEED_AWS: the client, with the region from --region, AWS_REGION, AWS_DEFAULT_REGION, the
 * profile, then the policy (lib/aws/aws.h). */
static int
open_aws(struct lcb_ctx *ctx)
{
    struct lcb_aws_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.region = ctx->region;
    cfg.policy_region = ctx->policy ? ctx->policy->region : NULL;
    cfg.profile = ctx->profile;
    cfg.ca_bundle = ctx->ca_bundle;
    cfg.max_attempts = (int)ctx->max_attempts;
    cfg.allow_insecure = ctx->allow_insecure_endpoint;
    return lcb_aws_new(&ctx->aws, &cfg, &ctx->err);
}

int
lcb_setup_command(struct lcb_ctx *ctx, const struct lcb_cmd *cmd)
{
    lcb_log_set_context(ctx->cmd_name, NULL);
    if (load_policy(ctx, cmd) < 0)
        return -1;
    if ((cmd->setup & (CATALOG_RO | CATALOG_RW)) && open_catalog(ctx, cmd) < 0)
        return -1;
    if ((cmd->setup & NEED_AWS) && open_aws(ctx) < 0)
        return -1;
    return 0;
}

int
lcb_cmd_begin(struct lcb_ctx *ctx, const struct lcb_opt *opts, int argc, char **argv,
              struct lcb_strlist *pos)
{
    if (lcb_opt_parse(opts, argc, argv, pos, &ctx->err) < 0)
        return -1;
    return lcb_setup_command(ctx, ctx->cmd);
}

static const char *
run_status(int rc, int status)
{
    if (rc == 0)
        return "succeeded";
    if (status == 2)
        return "partial";
    if (status == 130 || status == 143)
        return "interrupted";
    return "failed";
}

void
lcb_teardown_command(struct lcb_ctx *ctx, int rc, int status)
{
    char line[2048];
    struct lcb_buf red = LCB_BUF_INIT;
    struct lcb_err ignored;

    if (ctx->cat && ctx->run_id[0]) {
        lcb_err_clear(&ignored);
        if (rc < 0)
            lcb_redact_str(&red, lcb_err_format(&ctx->err, line, sizeof(line)));
        lcb_catalog_run_end(ctx->cat, ctx->run_id, run_status(rc, status), status,
                            rc < 0 ? lcb_buf_str(&red) : NULL, &ignored);
    }
    if (rc < 0 && !red.len)
        lcb_redact_str(&red, lcb_err_format(&ctx->err, line, sizeof(line)));
    lcb_cmd_notify(ctx, rc, status, lcb_buf_str(&red));
    if (ctx->cat) {
        lcb_catalog_unlock(ctx->cat);
        lcb_catalog_close(ctx->cat);
        ctx->cat = NULL;
    }
    lcb_aws_free(ctx->aws);
    ctx->aws = NULL;
    lcb_policy_free(ctx->policy);
    ctx->policy = NULL;
    free(catalog_path_owned);
    catalog_path_owned = NULL;
    lcb_buf_release(&red);
}
