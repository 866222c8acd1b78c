/*
 * restore_checkpoint.c - `lcbackup restore checkpoint NAME`: go back to a checkpoint in order,
 * config, then database, then broker (lib/checkpoint/checkpoint.h). The plan is a list of
 * lcbackup commands; --dry-run prints them, otherwise each is run (this binary, the same global
 * options) after one confirmation, stopping at the first that fails.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/catalog/catalog.h"
#include "../lib/checkpoint/checkpoint.h"
#include "../lib/core/clock.h"
#include "../lib/core/mem.h"
#include "../lib/ext/json.h"
#include "cmd.h"
#include "common.h"

const char cmd_restore_checkpoint_usage[] =
    "usage: lcbackup restore checkpoint [--dry-run] [--yes] [--from N] NAME\n"
    "\n"
    "Go back to checkpoint NAME: put back its config backup (SSM parameters, secrets, ECS\n"
    "services), then its database (a new DB instance from its snapshot, the database URL\n"
    "parameter pointed at it), then its broker export, each with the lcbackup command shown.\n"
    "--dry-run prints the ordered plan and changes nothing. Otherwise the plan is printed, one\n"
    "confirmation is asked (type the checkpoint's name; --yes when there is no terminal) and the\n"
    "steps run in order, stopping at the first that fails.\n"
    "\n"
    "  --dry-run   print the plan with each command; run nothing\n"
    "  --yes       confirm without asking\n"
    "  --from N    start at step N (after fixing what stopped an earlier attempt)\n";

struct flags {
    int dry_run, yes;
    long long from;
};

static void
print_plan(struct lcb_ctx *ctx, const struct lcb_checkpoint *c,
           const struct lcb_checkpoint_plan *p)
{
    struct lcb_buf line = LCB_BUF_INIT;
    char ts[LCB_TIME_LEN];
    size_t i;

    fprintf(ctx->out, "checkpoint %s (%s, %s): %s\n", c->name, lcb_time_fmt(c->created_at, ts),
            lcb_checkpoint_state(c), c->reason ? c->reason : "");
    fprintf(ctx->out, "plan: %zu steps, config first, then the database, then the broker\n",
            p->n);
    for (i = 0; i < p->n; i++) {
        lcb_buf_reset(&line);
        lcb_checkpoint_step_line(&line, &p->steps[i]);
        fprintf(ctx->out, "%2zu. %-8s %s\n    %s\n", i + 1, p->steps[i].phase, p->steps[i].what,
                lcb_buf_str(&line));
    }
    for (i = 0; i < p->notes.n; i++)
        fprintf(ctx->out, "note: %s\n", p->notes.items[i]);
    lcb_buf_release(&line);
}

static void
print_plan_json(struct lcb_ctx *ctx, const struct lcb_checkpoint *c,
                const struct lcb_checkpoint_plan *p)
{
    struct lcb_json *o = lcb_json_new_object(), *steps, *s, *a, *notes;
    struct lcb_buf out = LCB_BUF_INIT, line = LCB_BUF_INIT;
    size_t i, k;

    lcb_json_add_str(o, "checkpoint", c->name);
    steps = lcb_json_add(o, "steps", lcb_json_new_array());
    for (i = 0; i < p->n; i++) {
        s = lcb_json_push(steps, lcb_json_new_object());
        lcb_json_add_str(s, "phase", p->steps[i].phase);
        lcb_json_add_str(s, "what", p->steps[i].what);
        lcb_json_add_str(s, "backup_id", p->steps[i].backup_id);
        a = lcb_json_add(s, "args", lcb_json_new_array());
        for (k = 0; k < p->steps[i].args.n; k++)
            lcb_json_push(a, lcb_json_new_str(p->steps[i].args.items[k]));
        lcb_buf_reset(&line);
        lcb_checkpoint_step_line(&line, &p->steps[i]);
        lcb_json_add_str(s, "command", lcb_buf_str(&line));
    }
    notes = lcb_json_add(o, "notes", lcb_json_new_array());
    for (i = 0; i < p->notes.n; i++)
        lcb_json_push(notes, lcb_json_new_str(p->notes.items[i]));
    lcb_json_print(&out, o, 0);
    fprintf(ctx->out, "%s\n", lcb_buf_str(&out));
    lcb_json_free(o);
    lcb_buf_release(&out);
    lcb_buf_release(&line);
}

/* One confirmation: the checkpoint's name typed on the terminal, or --yes. */
static int
confirm(struct lcb_ctx *ctx, const struct flags *f, const char *name)
{
    char answer[128];

    if (f->yes)
        return 0;
    if (!isatty(STDIN_FILENO))
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "restoring checkpoint %s changes the live "
                           "platform: run it on a terminal to confirm, or add --yes (--dry-run "
                           "shows the plan)", name);
    fprintf(stderr, "This puts config, database and broker back to checkpoint %s.\n"
            "Type the checkpoint's name to go on: ", name);
    fflush(stderr);
    if (!fgets(answer, sizeof(answer), stdin))
        answer[0] = '\0';
    answer[strcspn(answer, "\r\n")] = '\0';
    if (strcmp(answer, name) != 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "not confirmed: nothing was changed");
    return 0;
}

/* The global options this run was given, for the steps. */
static void
globals(struct lcb_ctx *ctx, struct lcb_strlist *out)
{
    char n[32];

    if (ctx->policy_path) {
        lcb_strlist_add(out, "--policy");
        lcb_strlist_add(out, ctx->policy_path);
    }
    if (ctx->env) {
        lcb_strlist_add(out, "--env");
        lcb_strlist_add(out, ctx->env);
    }
    lcb_strlist_add(out, "--catalog");
    lcb_strlist_add(out, lcb_catalog_path(ctx->cat));
    if (ctx->region) {
        lcb_strlist_add(out, "--region");
        lcb_strlist_add(out, ctx->region);
    }
    if (ctx->profile) {
        lcb_strlist_add(out, "--profile");
        lcb_strlist_add(out, ctx->profile);
    }
    if (ctx->ca_bundle) {
        lcb_strlist_add(out, "--ca-bundle");
        lcb_strlist_add(out, ctx->ca_bundle);
    }
    if (ctx->max_attempts) {
        snprintf(n, sizeof(n), "%lld", ctx->max_attempts);
        lcb_strlist_add(out, "--max-attempts");
        lcb_strlist_add(out, n);
    }
    if (ctx->allow_insecure_endpoint)
        lcb_strlist_add(out, "--allow-insecure-endpoint");
    lcb_strlist_add(out, "--log-format");
    lcb_strlist_add(out, lcb_log_format() == LCB_LOG_JSON ? "json" : "text");
}

/* Run this binary with the global options and the step's words. Returns its exit status (or
 * 128 + the signal that ended it, or -1 when it could not be started). */
static int
run_step(struct lcb_ctx *ctx, const struct lcb_checkpoint_step *s)
{
    struct lcb_strlist argv = LCB_STRLIST_INIT;
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    size_t i;
    pid_t pid;
    int status = -1;

    if (len <= 0)
        return -1;
    self[len] = '\0';
    lcb_strlist_add(&argv, self);
    globals(ctx, &argv);
    for (i = 0; i < s->args.n; i++)
        lcb_strlist_add(&argv, s->args.items[i]);
    argv.items = lcb_xrealloc(argv.items, (argv.n + 1) * sizeof(*argv.items));
    argv.items[argv.n] = NULL;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        execv(self, argv.items);
        _exit(127);
    }
    if (pid > 0) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    lcb_strlist_release(&argv);
    return status;
}

/* Run the steps from `from` (1-based); record each outcome in detail. */
static int
run_plan(struct lcb_ctx *ctx, const struct lcb_checkpoint *c, const struct lcb_checkpoint_plan *p,
         size_t from, struct lcb_json *detail)
{
    struct lcb_json *steps = lcb_json_add(detail, "steps", lcb_json_new_array()), *s;
    struct lcb_buf line = LCB_BUF_INIT;
    size_t i;
    int status = 0;

    for (i = from - 1; i < p->n; i++) {
        lcb_buf_reset(&line);
        lcb_checkpoint_step_line(&line, &p->steps[i]);
        lcb_log(LCB_INFO, "checkpoint.restore.step", "step %zu of %zu (%s): %s", i + 1, p->n,
                p->steps[i].phase, lcb_buf_str(&line));
        status = run_step(ctx, &p->steps[i]);
        s = lcb_json_push(steps, lcb_json_new_object());
        lcb_json_add_num(s, "step", (double)(i + 1));
        lcb_json_add_str(s, "command", lcb_buf_str(&line));
        lcb_json_add_num(s, "exit_code", status);
        if (status != 0)
            break;
    }
    lcb_buf_release(&line);
    if (status == 0)
        return 0;
    return lcb_err_set(&ctx->err, i + 1 > from ? LCB_EPARTIAL : LCB_EFAIL, "checkpoint %s: step "
                       "%zu (%s) ended with exit %d; the steps after it were not run: once it "
                       "is fixed, go on with `lcbackup restore checkpoint --from %zu %s`",
                       c->name, i + 1, p->steps[i].phase, status, i + 1, c->name);
}

static int
execute(struct lcb_ctx *ctx, const struct flags *f, const struct lcb_checkpoint *c,
        const struct lcb_checkpoint_plan *p)
{
    struct lcb_json *detail = lcb_json_new_object();
    char rid[40];
    int rc;

    if (lcb_catalog_restore_begin(ctx->cat, NULL, "checkpoint", c->name, rid, &ctx->err) < 0) {
        lcb_json_free(detail);
        return -1;
    }
    lcb_json_add_str(detail, "checkpoint", c->name);
    rc = run_plan(ctx, c, p, (size_t)f->from, detail);
    lcb_cmd_restore_record(ctx, rid, rc == 0 ? "succeeded" : "failed", detail);
    if (rc == 0)
        fprintf(ctx->out, "%s: checkpoint %s restored (%zu steps); release it with `lcbackup "
                "release %s` once all is well\n", rid, c->name, p->n - (size_t)f->from + 1,
                c->name);
    lcb_json_free(detail);
    return rc;
}

int
cmd_restore_checkpoint(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f = { 0, 0, 1 };
    struct lcb_strlist names = LCB_STRLIST_INIT;
    const struct lcb_opt opts[] = {
        { "dry-run", 'n', LCB_OPT_FLAG, &f.dry_run },
        { "yes", 'y', LCB_OPT_FLAG, &f.yes },
        { "from", 0, LCB_OPT_INT, &f.from },
        { NULL, 0, 0, NULL },
    };
    struct lcb_checkpoint c;
    struct lcb_checkpoint_plan p;
    int rc = -1;

    lcb_checkpoint_init(&c);
    lcb_checkpoint_plan_init(&p);
    if (lcb_cmd_begin(ctx, opts, argc, argv, &names) < 0)
        goto out;
    if (names.n != 1) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "give exactly one checkpoint name");
        goto out;
    }
    if (lcb_checkpoint_load(&c, ctx->cat, names.items[0], &ctx->err) < 0)
        goto out;
    lcb_checkpoint_plan_build(&p, &c, ctx->policy);
    if (f.from < 1 || (size_t)f.from > (p.n ? p.n : 1)) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "--from %lld: the plan has steps 1 to %zu", f.from,
                    p.n);
        goto out;
    }
    if (ctx->json && f.dry_run)
        print_plan_json(ctx, &c, &p);
    else
        print_plan(ctx, &c, &p);
    if (p.n == 0) {
        rc = lcb_err_set(&ctx->err, LCB_ENOTFOUND, "checkpoint %s has no backup that can be "
                         "restored", c.name);
        goto out;
    }
    if (f.dry_run) {
        rc = 0;
        goto out;
    }
    if (confirm(ctx, &f, c.name) < 0)
        goto out;
    rc = execute(ctx, &f, &c, &p);
out:
    lcb_checkpoint_plan_release(&p);
    lcb_checkpoint_release(&c);
    lcb_strlist_release(&names);
    return rc;
}
