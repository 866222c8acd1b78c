/* restore_rds.c - `lcbackup restore rds`: a snapshot (a backup, its DR copy, or any snapshot id)
 * or a point in time of an instance, restored as a NEW instance; never the source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/aws/aws.h"
#include "../lib/aws/jsonrpc.h"
#include "../lib/aws/rds.h"
#include "../lib/aws/secretsmanager.h"
#include "../lib/aws/ssm.h"
#include "../lib/catalog/catalog.h"
#include "../lib/core/clock.h"
#include "../lib/core/mem.h"
#include "../lib/core/secret.h"
#include "../lib/ext/json.h"
#include "../lib/ext/pg.h"
#include "../lib/fingerprint/fingerprint.h"
#include "../lib/policy/policy.h"
#include "../lib/snapshot/snapshot.h"
#include "common.h"

const char cmd_restore_rds_usage[] =
    "usage: lcbackup restore rds (--backup ID | --snapshot SNAP | --point-in-time TIME |\n"
    "                            --latest-restorable) [--instance SRC] [--target NAME]\n"
    "                            [--instance-class C] [--subnet-group G]\n"
    "                            [--security-group SG ...] [--verify] [--db-url-param NAME]\n"
    "                            [--update-param NAME] [--yes] [--no-wait] [--timeout DUR]\n"
    "                            [--dry-run]\n"
    "\n"
    "Restore an RDS backup as a new DB instance: a backup from the catalog (its DR copy when run\n"
    "with --region of the DR region), any snapshot id, or a point in time of an instance (PITR,\n"
    "from --instance or the policy's rds target). The source is never touched and an existing\n"
    "target is refused. Settings the restore would otherwise reset to defaults (class, subnet\n"
    "group, security groups, parameter and option groups, port) come from the backup's manifest\n"
    "unless given. Waits until the instance is available, prints its endpoint and the next steps,\n"
    "and records the restore with its timings in the catalog.\n"
    "\n"
    "  --backup ID            a backup from the catalog (a unique prefix is enough)\n"
    "  --snapshot SNAP        a DB snapshot id or ARN\n"
    "  --point-in-time TIME   restore the instance as of TIME (RFC 3339, UTC)\n"
    "  --latest-restorable    restore the instance as of its latest restorable time\n"
    "  --instance SRC         the PITR source (default: the policy's rds target)\n"
    "  --target NAME          the new instance (default: <source>-r<yyyymmddhhmm>)\n"
    "  --instance-class C     DB instance class (default: the source's)\n"
    "  --subnet-group G       DB subnet group (default: the source's)\n"
    "  --security-group SG    VPC security group (repeatable; default: the source's)\n"
    "  --verify               compare the restored data with the backup's fingerprint\n"
    "  --db-url-param NAME    SSM parameter with the database URL for --verify (default: the\n"
    "                         one the fingerprint was taken through)\n"
    "  --update-param NAME    point this SSM parameter (a postgres:// URL) at the new endpoint,\n"
    "                         after confirmation (or --yes)\n"
    "  --yes                  confirm: a production policy's restore, and --update-param\n"
    "  --no-wait              return once the restore has started\n"
    "  --timeout DUR          stop waiting after DUR (default 2h)\n"
    "  --dry-run              print the API calls it would make; change nothing\n";

struct flags {
    const char *backup, *snapshot, *pitr, *instance, *target, *instance_class, *subnet_group;
    const char *update_param, *db_url_param;
    struct lcb_strlist sgs;
    int latest, verify, yes, no_wait, dry_run;
    int64_t timeout;
};

/* What the restore starts from, resolved. */
struct plan {
    struct lcb_backup b;
    int have_backup;
    struct lcb_json *m;              /* the backup's manifest (or an empty object) */
    const struct lcb_json *defaults; /* source_instance settings usable here, or NULL */
    char snapshot[320];              /* snapshot restore: the id or ARN */
    char source[80];                 /* PITR source, or the instance the snapshot was taken of */
    time_t when;                     /* PITR: RestoreTime; 0 with latest */
    char target[80];
    struct lcb_snap_tags tags;
    char region[64];
};

static int
check_flags(struct lcb_ctx *ctx, const struct flags *f, time_t *when)
{
    int n = (f->backup != NULL) + (f->snapshot != NULL) + (f->pitr != NULL) + f->latest;

    if (n != 1)
        return lcb_err_set(&ctx->err, LCB_EUSAGE,
                           "give one of --backup, --snapshot, "
                           "--point-in-time or --latest-restorable");
    if (f->pitr && lcb_time_parse(f->pitr, when) < 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE,
                           "--point-in-time: '%s' is not a time such as "
                           "2026-11-28T02:15:00Z",
                           f->pitr);
    if (f->pitr && *when > lcb_now())
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "--point-in-time %s is in the future", f->pitr);
    if (f->target && !lcb_rds_ident_valid(f->target, LCB_RDS_INSTANCE_ID_MAX))
        return lcb_err_set(&ctx->err, LCB_EUSAGE,
                           "--target: '%s' is not a valid DB instance "
                           "identifier (letters, digits, hyphens; a letter first)",
                           f->target);
    if (f->update_param && !f->yes && !f->dry_run && !isatty(0))
        return lcb_err_set(&ctx->err, LCB_EUSAGE,
                           "--update-param asks for confirmation and "
                           "there is no terminal: add --yes");
    return lcb_cmd_policy_guard(ctx, f->yes || f->dry_run);
}

/* --backup: the snapshot (or its copy in this region) and the manifest's settings. */
static int
from_backup(struct lcb_ctx *ctx, struct plan *p, const char *id)
{
    struct lcb_snap_copy *copies = NULL;
    const char *loc, *region;
    size_t nc = 0;
    int rc;

    if (lcb_catalog_backup_get(ctx->cat, id, &p->b, &ctx->err) < 0)
        return -1;
    p->have_backup = 1;
    if (strcmp(p->b.kind, "rds") != 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "%s is a %s backup: use `lcbackup restore %s`",
                           p->b.id, p->b.kind, p->b.kind);
    if (strcmp(p->b.status, "completed") != 0)
        return lcb_err_set(
            &ctx->err, LCB_EREFUSED, "backup %s is %s, not completed%s", p->b.id, p->b.status,
            strcmp(p->b.status, "pending") == 0 ? ": `lcbackup catalog refresh` first" : "");
    rc = lcb_snap_locate(ctx->cat, &p->b, lcb_aws_region(ctx->aws), &loc, &region, &copies, &nc,
                         &ctx->err);
    if (rc == 0) {
        snprintf(p->snapshot, sizeof(p->snapshot), "%s", loc);
        snprintf(p->region, sizeof(p->region), "%s", region);
    }
    lcb_snap_copies_free(copies, nc);
    if (rc < 0)
        return -1;
    p->m = lcb_snap_manifest(&p->b);
    if (p->b.region && strcmp(p->b.region, p->region) == 0)
        p->defaults = lcb_json_get(p->m, "source_instance");
    snprintf(p->source, sizeof(p->source), "%s", p->b.source ? p->b.source : "db");
    return 0;
}

/* The PITR source: --instance, else the policy's only rds target. */
static int
pitr_source(struct lcb_ctx *ctx, const struct flags *f, struct plan *p)
{
    const struct lcb_target *t[2];
    size_t n = lcb_policy_targets(ctx->policy, LCB_KIND_RDS, t, 2);

    if (f->instance)
        snprintf(p->source, sizeof(p->source), "%s", f->instance);
    else if (n == 1)
        snprintf(p->source, sizeof(p->source), "%s", t[0]->instance);
    else
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "a point-in-time restore needs --instance SRC%s",
                           n > 1 ? " (the policy has several rds targets)" : "");
    return 0;
}

/* Checks against the source instance of a PITR: retention on, the time within the window. */
static int
check_pitr(struct lcb_ctx *ctx, struct lcb_rds *rds, const struct flags *f, struct plan *p,
           struct lcb_rds_instance *src)
{
    char t1[LCB_TIME_LEN], t2[LCB_TIME_LEN];

    if (lcb_rds_instance_get(src, rds, p->source, &ctx->err) < 0)
        return -1;
    if (src->backup_retention <= 0)
        return lcb_err_set(&ctx->err, LCB_EREFUSED,
                           "DB instance %s keeps no automated backups "
                           "(BackupRetentionPeriod 0): no point-in-time restore is possible",
                           p->source);
    if (f->pitr && src->latest_restorable && p->when > src->latest_restorable)
        return lcb_err_set(&ctx->err, LCB_EREFUSED,
                           "%s is after %s's latest restorable time %s: "
                           "pick an earlier time or --latest-restorable",
                           lcb_time_fmt(p->when, t1), p->source,
                           lcb_time_fmt(src->latest_restorable, t2));
    return 0;
}

static void
default_target(struct plan *p)
{
    struct tm tm;
    time_t now = lcb_now();
    char ts[16];
    size_t n;

    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y%m%d%H%M", &tm);
    n = strlen(p->source);
    if (n > 48)
        n = 48;
    while (n && p->source[n - 1] == '-')
        n--;
    snprintf(p->target, sizeof(p->target), "%.*s-r%s", (int)n, p->source, ts);
}

/* The request: flags first, then what the source had (same region only), never public. */
static void
fill_request(struct lcb_rds_restore_req *r, const struct flags *f, const struct plan *p,
             const char **sgs, size_t *nsgs, const struct lcb_rds_instance *src)
{
    const struct lcb_json *d = p->defaults, *arr = lcb_json_get(d, "security_groups");
    size_t i;

    memset(r, 0, sizeof(*r));
    r->target = p->target;
    r->multi_az = -1;
    r->publicly_accessible = 0;
    r->instance_class = f->instance_class ? f->instance_class : lcb_json_get_str(d, "class");
    r->subnet_group = f->subnet_group ? f->subnet_group : lcb_json_get_str(d, "subnet_group");
    r->parameter_group = lcb_json_get_str(d, "parameter_group");
    r->option_group = lcb_json_get_str(d, "option_group");
    r->port = (int)lcb_json_get_num(d, "port", 0);
    *nsgs = 0;
    for (i = 0; i < f->sgs.n && i < 16; i++)
        sgs[(*nsgs)++] = f->sgs.items[i];
    for (i = 0; !f->sgs.n && i < lcb_json_size(arr) && i < 16; i++)
        sgs[(*nsgs)++] = lcb_json_str(lcb_json_at(arr, i));
    if (src) { /* PITR: the source instance's settings */
        if (!f->instance_class)
            r->instance_class = src->instance_class;
        if (!f->subnet_group)
            r->subnet_group = src->subnet_group;
        r->parameter_group = src->parameter_group;
        r->option_group = src->option_group;
        for (i = 0; !f->sgs.n && i < src->nsecurity_groups && i < 16; i++)
            sgs[(*nsgs)++] = src->security_groups[i];
    }
    r->security_groups = sgs;
    r->nsecurity_groups = *nsgs;
    r->tags = p->tags.tag;
    r->ntags = p->tags.n;
    r->owner_key = LCB_SNAP_TAG_RESTORE_ID;
}

/* Tags: the source's own (not lcbackup's) plus what this restore is. */
static void
restore_tags(struct lcb_ctx *ctx, struct plan *p, const char *restore_id,
             const struct lcb_rds_tag *src, size_t n, const char *from)
{
    struct lcb_job_ctx jc;
    size_t i;

    lcb_cmd_job_ctx(&jc, ctx, 0);
    lcb_snap_tags_base(&p->tags, &jc, NULL, "rds", NULL);
    for (i = 0; i < n; i++)
        if (strncmp(src[i].key, "lcbackup:", 9) != 0 && strncmp(src[i].key, "aws:", 4) != 0)
            lcb_snap_tags_set(&p->tags, src[i].key, src[i].value);
    lcb_snap_tags_set(&p->tags, LCB_SNAP_TAG_RESTORE_ID, restore_id);
    lcb_snap_tags_set(&p->tags, LCB_SNAP_TAG_RESTORED_FROM, from);
    if (p->have_backup)
        lcb_snap_tags_set(&p->tags, LCB_SNAP_TAG_BACKUP_ID, p->b.id);
}

/* ---- after the restore ---- */

/* The database URL of the restored instance: the source's URL (an SSM parameter, or a Secrets
 * Manager secret with the credentials when secret is set) with host and port replaced. */
static int
restored_url(struct lcb_ctx *ctx, const char *param, const char *secret,
             const struct lcb_rds_instance *in, struct lcb_pg_url *u)
{
    struct lcb_secret url = LCB_SECRET_INIT;
    int rc = -1, got;

    got = secret
              ? lcb_sm_db_url(&url, ctx->aws, secret, in->address, in->port, in->db_name, &ctx->err)
              : lcb_ssm_get(&url, NULL, 0, ctx->aws, param, &ctx->err);
    if (got == 0 && lcb_pg_url_parse(u, lcb_secret_get(&url), &ctx->err) == 0) {
        lcb_pg_url_set_host(u, in->address, in->port);
        rc = 0;
    }
    lcb_secret_release(&url);
    return rc;
}

/* --verify: fingerprint the restored database and compare it with the backup's. */
static int
verify(struct lcb_ctx *ctx, const struct flags *f, struct plan *p,
       const struct lcb_rds_instance *in, struct lcb_json *detail)
{
    const struct lcb_json *want_j = lcb_json_get(p->m, "fingerprint");
    const char *param = f->db_url_param ? f->db_url_param : lcb_json_get_str(p->m, "db_url_param");
    const char *secret = param ? NULL : lcb_json_get_str(p->m, "db_secret");
    struct lcb_fingerprint want, got;
    struct lcb_buf report = LCB_BUF_INIT;
    struct lcb_pg_url u;
    struct lcb_pg *pg = NULL;
    int diffs = -1;

    memset(&want, 0, sizeof(want));
    memset(&got, 0, sizeof(got));
    memset(&u, 0, sizeof(u));
    if (lcb_json_type(want_j) != LCB_JSON_OBJECT || (!param && !secret)) {
        lcb_err_set(&ctx->err, LCB_EUSAGE,
                    "--verify needs a backup with a fingerprint (and its db_url_param or "
                    "db_secret, or --db-url-param)");
        goto out;
    }
    if (lcb_fingerprint_from_json(&want, want_j, &ctx->err) < 0 ||
        restored_url(ctx, param, secret, in, &u) < 0 || lcb_pg_connect(&pg, &u, 1, &ctx->err) < 0 ||
        lcb_fingerprint_take(&got, pg, want.exact_limit, &ctx->err) < 0)
        goto out;
    diffs = lcb_fingerprint_compare(&want, &got, 0.0, &report);
    lcb_json_add_bool(detail, "verified", diffs == 0);
    lcb_json_add_str(detail, "verify_report", lcb_buf_str(&report));
    fprintf(ctx->out, "verify: %s\n",
            diffs == 0 ? "the restored data matches the backup's "
                         "fingerprint"
                       : "DIFFERENCES");
    if (diffs)
        fprintf(ctx->out, "%s", lcb_buf_str(&report));
    else
        fprintf(ctx->out, "verify: %zu tables, schema %.12s, latest migration %s\n", got.ntables,
                got.schema_sha256, got.has_migration ? got.migration_name : "(none)");
    if (diffs)
        lcb_err_set(&ctx->err, LCB_ECORRUPT,
                    "the restored data differs from the backup's "
                    "fingerprint in %d place%s",
                    diffs, diffs == 1 ? "" : "s");
out:
    lcb_fingerprint_release(&want);
    lcb_fingerprint_release(&got);
    lcb_pg_close(pg);
    lcb_pg_url_release(&u);
    lcb_buf_release(&report);
    return diffs == 0 ? 0 : -1;
}

static int
confirm(const char *question)
{
    char line[16];

    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    return fgets(line, sizeof(line), stdin) && (line[0] == 'y' || line[0] == 'Y');
}

/* --update-param: the parameter's URL now points at the new endpoint (type and key kept). */
static int
update_param(struct lcb_ctx *ctx, const struct flags *f, const struct lcb_rds_instance *in)
{
    struct lcb_json *in_j = NULL, *out = NULL, *flt, *vals;
    struct lcb_secret value = LCB_SECRET_INIT;
    struct lcb_pg_url u;
    char type[32], q[512];
    const char *key;
    int rc = -1;

    memset(&u, 0, sizeof(u));
    if (restored_url(ctx, f->update_param, NULL, in, &u) < 0)
        return lcb_wrap(&ctx->err, "--update-param %s", f->update_param);
    snprintf(q, sizeof(q), "point SSM parameter %s at %s:%d?", f->update_param, in->address,
             in->port);
    if (!f->yes && !confirm(q)) {
        fprintf(ctx->out, "SSM parameter %s left unchanged\n", f->update_param);
        rc = 0;
        goto out;
    }
    if (lcb_ssm_get(&value, type, sizeof(type), ctx->aws, f->update_param, &ctx->err) < 0)
        goto out;
    lcb_secret_release(&value);
    in_j = lcb_json_new_object();
    flt = lcb_json_add(in_j, "ParameterFilters", lcb_json_new_array());
    vals = lcb_json_push(flt, lcb_json_new_object());
    lcb_json_add_str(vals, "Key", "Name");
    lcb_json_add_str(vals, "Option", "Equals");
    lcb_json_push(lcb_json_add(vals, "Values", lcb_json_new_array()),
                  lcb_json_new_str(f->update_param));
    if (lcb_jsonrpc_call(&out, ctx->aws, &lcb_jsonrpc_ssm, "DescribeParameters", in_j, NULL,
                         &ctx->err) < 0)
        goto out;
    key = lcb_json_get_str(lcb_json_at(lcb_json_get(out, "Parameters"), 0), "KeyId");
    lcb_json_free(in_j);
    in_j = lcb_json_new_object();
    lcb_pg_url_format(&value, &u);
    lcb_json_add_str(in_j, "Name", f->update_param);
    lcb_json_add_str(in_j, "Value", lcb_secret_get(&value));
    lcb_json_add_str(in_j, "Type", type);
    if (key && strcmp(type, "SecureString") == 0)
        lcb_json_add_str(in_j, "KeyId", key);
    lcb_json_add_bool(in_j, "Overwrite", 1);
    lcb_json_free(out);
    out = NULL;
    if (lcb_jsonrpc_call(&out, ctx->aws, &lcb_jsonrpc_ssm, "PutParameter", in_j, NULL, &ctx->err) <
        0)
        goto out;
    fprintf(ctx->out, "SSM parameter %s now points at %s:%d (version %.0f)\n", f->update_param,
            in->address, in->port, lcb_json_get_num(out, "Version", 0));
    rc = 0;
out:
    if (rc < 0)
        lcb_wrap(&ctx->err, "update SSM parameter %s", f->update_param);
    lcb_secret_release(&value);
    lcb_pg_url_release(&u);
    lcb_json_free(in_j);
    lcb_json_free(out);
    return rc;
}

static void
next_steps(struct lcb_ctx *ctx, const struct flags *f, const struct plan *p,
           const struct lcb_rds_instance *in, double secs)
{
    const char *param = lcb_json_get_str(p->m, "db_url_param");
    const struct lcb_json *d = lcb_json_get(p->m, "source_instance");
    const struct lcb_target *t[16];
    size_t i, n = lcb_policy_targets(ctx->policy, LCB_KIND_RDS, t, 16);

    for (i = 0; !param && i < n && i < 16; i++)
        if (t[i]->instance && strcmp(t[i]->instance, p->source) == 0)
            param = t[i]->db_url_param;

    fprintf(ctx->out, "restored %s as %s in %s\n", p->snapshot[0] ? p->snapshot : p->source, in->id,
            p->region);
    fprintf(ctx->out, "endpoint: %s:%d (available after %.0fs)\n", in->address ? in->address : "?",
            in->port, secs);
    fprintf(ctx->out, "next steps:\n");
    fprintf(ctx->out, "  1. check the data: psql \"host=%s port=%d dbname=%s user=%s\"\n",
            in->address ? in->address : "?", in->port,
            in->db_name
                ? in->db_name
                : (lcb_json_get_str(d, "db_name") ? lcb_json_get_str(d, "db_name") : "postgres"),
            in->master_user ? in->master_user : "?");
    if (!f->update_param)
        fprintf(ctx->out,
                "  2. point the platform at it: lcbackup restore rds ... --update-param "
                "%s (or put the new host:port into that parameter yourself)\n",
                param ? param : "/legocity/<env>/payload/db-url");
    fprintf(ctx->out, "  3. restart what reads the parameter (ECS: aws ecs update-service "
                      "--force-new-deployment)\n");
    fprintf(ctx->out,
            "  4. the source %s is untouched: remove it only after the incident "
            "review\n",
            p->source);
}

/* ---- the command ---- */

static int
resolve(struct lcb_ctx *ctx, struct lcb_rds *rds, const struct flags *f, struct plan *p,
        struct lcb_rds_instance *src, struct lcb_rds_snapshot *snap)
{
    snprintf(p->region, sizeof(p->region), "%s", lcb_rds_region(rds) ? lcb_rds_region(rds) : "");
    if (f->backup && from_backup(ctx, p, f->backup) < 0)
        return -1;
    if (f->snapshot)
        snprintf(p->snapshot, sizeof(p->snapshot), "%s", f->snapshot);
    if (p->snapshot[0]) {
        if (lcb_rds_snapshot_get(snap, rds, p->snapshot, &ctx->err) < 0)
            return lcb_wrap(&ctx->err, "snapshot %s in %s", p->snapshot, p->region);
        if (lcb_rds_snapshot_wait_state(snap->status) != LCB_WAIT_DONE)
            return lcb_err_set(&ctx->err, LCB_EREFUSED, "snapshot %s is %s, not available",
                               p->snapshot, snap->status);
        if (!f->backup && snap->instance_id)
            snprintf(p->source, sizeof(p->source), "%s", snap->instance_id);
        if (!p->m)
            p->m = lcb_json_new_object();
        return 0;
    }
    p->m = lcb_json_new_object();
    if (pitr_source(ctx, f, p) < 0 || check_pitr(ctx, rds, f, p, src) < 0)
        return -1;
    return 0;
}

static int
check_target(struct lcb_ctx *ctx, struct lcb_rds *rds, struct plan *p)
{
    struct lcb_rds_instance t;
    struct lcb_err e;

    if (strcasecmp(p->target, p->source) == 0)
        return lcb_err_set(&ctx->err, LCB_EREFUSED,
                           "the target %s is the source itself: a "
                           "restore never touches the source",
                           p->target);
    if (lcb_rds_instance_get(&t, rds, p->target, &e) == 0) {
        lcb_err_set(&ctx->err, LCB_EREFUSED,
                    "DB instance %s already exists (%s): a restore "
                    "never overwrites an instance; choose another --target",
                    p->target, t.status);
        lcb_rds_instance_release(&t);
        return -1;
    }
    if (e.code != LCB_ENOTFOUND) {
        ctx->err = e;
        return -1;
    }
    return 0;
}

static int
run_restore(struct lcb_ctx *ctx, struct lcb_rds *rds, const struct flags *f, struct plan *p,
            const struct lcb_rds_instance *src, struct lcb_rds_instance *out)
{
    struct lcb_rds_restore_req r;
    const char *sgs[16];
    size_t nsgs;

    fill_request(&r, f, p, sgs, &nsgs, p->snapshot[0] ? NULL : src);
    if (p->snapshot[0]) {
        r.snapshot = p->snapshot;
        return lcb_rds_restore_snapshot(out, rds, &r, &ctx->err);
    }
    r.source_instance = p->source;
    r.use_latest = f->latest;
    r.restore_time = p->when;
    return lcb_rds_restore_pitr(out, rds, &r, &ctx->err);
}

/* The restore's detail for the catalog, and the tags of the new instance. */
static struct lcb_json *
describe_restore(struct lcb_ctx *ctx, const struct flags *f, struct plan *p,
                 const struct lcb_rds_instance *src, const struct lcb_rds_snapshot *snap,
                 const char *rid)
{
    struct lcb_json *detail = lcb_json_new_object();
    char ts[LCB_TIME_LEN];

    lcb_json_add_str(detail, "target", p->target);
    lcb_json_add_str(detail, "region", p->region);
    if (p->snapshot[0]) {
        lcb_json_add_str(detail, "snapshot", p->snapshot);
        restore_tags(ctx, p, rid, snap->tags, snap->ntags, p->snapshot);
    } else {
        lcb_json_add_str(detail, "source_instance", p->source);
        lcb_json_add_str(detail, "point_in_time", f->latest ? "latest" : lcb_time_fmt(p->when, ts));
        restore_tags(ctx, p, rid, src->tags, src->ntags,
                     f->latest ? "pitr-latest" : lcb_time_fmt(p->when, ts));
    }
    return detail;
}

/* The restore has started: wait, print the endpoint and the next steps, verify, switch the
 * parameter, record. *recorded says whether the catalog has the outcome. */
static int
after_start(struct lcb_ctx *ctx, struct lcb_rds *rds, const struct flags *f, struct plan *p,
            struct lcb_rds_instance *in, struct lcb_json *detail, const char *rid, int *recorded)
{
    double secs = 0;

    lcb_log(LCB_INFO, "rds.restore.started", "restore %s: %s is %s", rid, p->target, in->status);
    if (f->no_wait) {
        lcb_json_add_str(detail, "status", "started");
        lcb_cmd_restore_record(ctx, rid, "running", detail);
        *recorded = 1;
        fprintf(ctx->out,
                "restore %s started: %s (`aws rds describe-db-instances "
                "--db-instance-identifier %s` shows when it is available)\n",
                rid, p->target, p->target);
        return 0;
    }
    lcb_rds_instance_release(in);
    if (lcb_snap_wait_rds_instance(in, rds, p->target, f->timeout, 0, &secs, &ctx->err) < 0)
        return -1;
    lcb_json_add_num(detail, "seconds_to_available", secs);
    lcb_json_add_str(detail, "endpoint", in->address ? in->address : "");
    lcb_json_add_num(detail, "port", in->port);
    next_steps(ctx, f, p, in, secs);
    if ((f->verify && verify(ctx, f, p, in, detail) < 0) ||
        (f->update_param && update_param(ctx, f, in) < 0))
        return -1;
    lcb_cmd_restore_record(ctx, rid, "succeeded", detail);
    *recorded = 1;
    return 0;
}

int
cmd_restore_rds(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    struct plan p;
    struct lcb_rds rds;
    struct lcb_rds_instance src, in;
    struct lcb_rds_snapshot snap;
    struct lcb_json *detail = NULL;
    char rid[64] = "new-restore-id";
    int began = 0, recorded = 0;
    const struct lcb_opt opts[] = {
        {"backup", 0, LCB_OPT_STR, &f.backup},
        {"snapshot", 0, LCB_OPT_STR, &f.snapshot},
        {"point-in-time", 0, LCB_OPT_STR, &f.pitr},
        {"latest-restorable", 0, LCB_OPT_FLAG, &f.latest},
        {"instance", 0, LCB_OPT_STR, &f.instance},
        {"target", 0, LCB_OPT_STR, &f.target},
        {"instance-class", 0, LCB_OPT_STR, &f.instance_class},
        {"subnet-group", 0, LCB_OPT_STR, &f.subnet_group},
        {"security-group", 0, LCB_OPT_LIST, &f.sgs},
        {"verify", 0, LCB_OPT_FLAG, &f.verify},
        {"db-url-param", 0, LCB_OPT_STR, &f.db_url_param},
        {"update-param", 0, LCB_OPT_STR, &f.update_param},
        {"yes", 'y', LCB_OPT_FLAG, &f.yes},
        {"no-wait", 0, LCB_OPT_FLAG, &f.no_wait},
        {"timeout", 0, LCB_OPT_DURATION, &f.timeout},
        {"dry-run", 'n', LCB_OPT_FLAG, &f.dry_run},
        {NULL, 0, 0, NULL},
    };

    memset(&f, 0, sizeof(f));
    memset(&p, 0, sizeof(p));
    memset(&src, 0, sizeof(src));
    memset(&in, 0, sizeof(in));
    memset(&snap, 0, sizeof(snap));
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0 || check_flags(ctx, &f, &p.when) < 0)
        goto out;
    rds = (struct lcb_rds){ctx->aws, NULL, f.dry_run ? ctx->out : NULL};
    if (resolve(ctx, &rds, &f, &p, &src, &snap) < 0)
        goto out;
    if (f.target)
        snprintf(p.target, sizeof(p.target), "%s", f.target);
    else
        default_target(&p);
    if (check_target(ctx, &rds, &p) < 0)
        goto out;
    if (!f.dry_run && lcb_catalog_restore_begin(ctx->cat, p.have_backup ? p.b.id : NULL, "rds",
                                                p.target, rid, &ctx->err) < 0)
        goto out;
    began = !f.dry_run;
    detail = describe_restore(ctx, &f, &p, &src, &snap, rid);
    if (run_restore(ctx, &rds, &f, &p, &src, &in) < 0)
        goto out;
    if (f.dry_run)
        fprintf(ctx->out, "# then: wait until %s is available, print its endpoint%s\n", p.target,
                f.update_param ? " and point the SSM parameter at it" : "");
    else
        after_start(ctx, &rds, &f, &p, &in, detail, rid, &recorded);
out:
    if (began && !recorded)
        lcb_cmd_restore_failed(ctx, rid, detail);
    lcb_json_free(detail);
    lcb_json_free(p.m);
    if (p.have_backup)
        lcb_backup_release(&p.b);
    lcb_rds_instance_release(&src);
    lcb_rds_instance_release(&in);
    lcb_rds_snapshot_release(&snap);
    lcb_strlist_release(&f.sgs);
    return ctx->err.code == LCB_OK ? 0 : -1;
}
