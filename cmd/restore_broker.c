/* restore_broker.c - `lcbackup restore broker`: put an archive's entities back into a broker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/archive/archive.h"
#include "../lib/backup/broker.h"
#include "../lib/aws/aws.h"
#include "../lib/backup/restore_broker.h"
#include "../lib/backup/s3source.h"
#include "../lib/catalog/catalog.h"
#include "../lib/core/clock.h"
#include "../lib/core/log.h"
#include "../lib/core/mem.h"
#include "../lib/ext/json.h"
#include "../lib/policy/policy.h"
#include "cmd.h"

const char cmd_restore_broker_usage[] =
    "usage: lcbackup restore broker [--to URL] [--tenant T] [--types T,...]\n"
    "                               [--mode upsert|create-only|replace] [--batch N]\n"
    "                               [--verify] [--dry-run] [--yes] ID\n"
    "\n"
    "Put the entities of broker archive ID back into a broker. The archive is verified completely\n"
    "first (nothing is written from an archive that does not verify). Entities are written in\n"
    "batches (entityOperations/upsert by default) with several batches in flight; entities that\n"
    "fail are retried one by one and then listed (exit 2). Restoring into the broker the policy\n"
    "marks as production needs --yes.\n"
    "\n"
    "  --to URL       the target broker (default: the backup's target in the policy)\n"
    "  --tenant T     NGSILD-Tenant to write into (default: the archive's tenant)\n"
    "  --types T,...  only these entity types (in full, or the last part: Streetlight)\n"
    "  --mode M       upsert (default: create or replace each entity), create-only (fail on\n"
    "                 existing entities), replace (delete, then create)\n"
    "  --batch N      entities per batch request (default 100)\n"
    "  --verify       afterwards, read every entity back and compare it in normalised form\n"
    "  --dry-run      verify the archive, print each request it would send; send none\n"
    "  --yes          confirm a restore into production\n";

struct flags {
    const char *to, *tenant, *mode;
    struct lcb_strlist types;
    long long batch;
    int verify, dry_run, yes;
};

static int
parse_mode(struct lcb_ctx *ctx, const char *s, enum lcb_ngsi_mode *out)
{
    if (!s || strcmp(s, "upsert") == 0)
        *out = LCB_NGSI_UPSERT;
    else if (strcmp(s, "create-only") == 0)
        *out = LCB_NGSI_CREATE_ONLY;
    else if (strcmp(s, "replace") == 0)
        *out = LCB_NGSI_REPLACE;
    else
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "--mode: '%s' is not upsert, create-only or "
                           "replace", s);
    return 0;
}

/* The target broker: --to, else the backup's target in the policy; and whether it is production. */
static int
target_url(struct lcb_ctx *ctx, const struct flags *f, const struct lcb_backup *b,
           struct lcb_secret *url, int *production)
{
    const struct lcb_target *t = lcb_policy_target(ctx->policy, LCB_KIND_BROKER, b->target);

    *production = t && (t->production || (ctx->policy && ctx->policy->production));
    if (f->to) {
        lcb_secret_set(url, f->to, strlen(f->to));
        lcb_redact_remove(f->to, strlen(f->to)); /* given on the command line: not a secret */
        /* --to pointing at the production broker is still production */
        if (*production && t->url && strcmp(t->url, f->to) != 0)
            *production = 0;
        return 0;
    }
    if (!t)
        return lcb_err_set(&ctx->err, LCB_ECONFIG, "backup %s's target '%s' is not in the policy: "
                           "give --to URL", b->id, b->target ? b->target : "");
    return lcb_broker_url(url, ctx->aws, t, &ctx->err);
}

/* The tenant the archive was taken from (its manifest, as the catalog recorded it), or NULL for the
 * default tenant. The caller frees it. */
static char *
archive_tenant(const struct lcb_backup *b)
{
    struct lcb_json *m = NULL;
    struct lcb_err ignored;
    const char *t;
    char *out = NULL;

    if (b->manifest && lcb_json_parse(&m, b->manifest, strlen(b->manifest), &ignored) == 0 &&
        (t = lcb_json_get_str(m, "tenant")) != NULL && *t)
        out = lcb_xstrdup(t);
    lcb_json_free(m);
    return out;
}

/* A dry run's requests: printed as they come, or kept for --json; and their totals. */
struct shown {
    FILE *out;
    struct lcb_json *list; /* --json: one object per request */
    long long requests, bytes;
};

/* The header's value, or null when the request does not carry it (the default tenant). */
static void
add_header(struct lcb_json *o, const char *key, const struct lcb_ngsi_request *r, const char *name)
{
    const char *v = lcb_ngsi_request_header(r, name);

    if (v)
        lcb_json_add_str(o, key, v);
    else
        lcb_json_add_null(o, key);
}

static struct lcb_json *
request_json(const struct lcb_ngsi_request *r)
{
    struct lcb_json *o = lcb_json_new_object();

    lcb_json_add_str(o, "method", r->method);
    lcb_json_add_str(o, "url", r->url);
    add_header(o, "tenant", r, "NGSILD-Tenant");
    add_header(o, "content_type", r, "Content-Type");
    lcb_json_add_num(o, "entities", (double)r->items);
    lcb_json_add_num(o, "bytes", (double)r->bytes);
    lcb_json_add_str(o, "first_id", r->first_id);
    lcb_json_add_str(o, "last_id", r->last_id);
    return o;
}

static void
show_request(void *ud, const struct lcb_ngsi_request *r)
{
    struct shown *sh = ud;
    struct lcb_buf line = LCB_BUF_INIT;

    sh->requests++;
    sh->bytes += (long long)r->bytes;
    if (sh->list) {
        lcb_json_push(sh->list, request_json(r));
        return;
    }
    lcb_ngsi_request_format(&line, r);
    fprintf(sh->out, "%s\n", lcb_buf_str(&line));
    lcb_buf_release(&line);
}

static void
print_json(struct lcb_ctx *ctx, const struct lcb_backup *b, const struct flags *f,
           const struct lcb_broker_restore_stats *st, const struct lcb_broker_compare_stats *cs,
           const struct shown *sh)
{
    struct lcb_buf list = LCB_BUF_INIT;

    fprintf(ctx->out, "{\"backup_id\":\"%s\",\"dry_run\":%s,\"entities\":%lld,\"written\":%lld,"
            "\"failed\":%lld", b->id, f->dry_run ? "true" : "false", st->entities,
            st->written, st->failed);
    if (f->verify)
        fprintf(ctx->out, ",\"compared\":%lld,\"missing\":%lld,\"different\":%lld",
                cs->compared, cs->missing, cs->different);
    if (f->dry_run) {
        lcb_json_print(&list, sh->list, 0);
        fprintf(ctx->out, ",\"bytes\":%lld,\"requests\":%s", sh->bytes, lcb_buf_str(&list));
    }
    fprintf(ctx->out, "}\n");
    lcb_buf_release(&list);
}

static void
print_summary(struct lcb_ctx *ctx, const struct lcb_backup *b, const struct flags *f,
              const struct lcb_broker_restore_stats *st, const struct lcb_broker_compare_stats *cs,
              const struct shown *sh)
{
    size_t i;

    if (ctx->json) {
        print_json(ctx, b, f, st, cs, sh);
        return;
    }
    if (f->dry_run) {
        fprintf(ctx->out, "dry run: would write %lld entities from %s (no request sent):\n",
                st->entities, b->id);
        for (i = 0; i < st->per_type.ncounts; i++)
            fprintf(ctx->out, "%s %llu\n", st->per_type.counts[i].type,
                    (unsigned long long)st->per_type.counts[i].n);
        fprintf(ctx->out, "total: %lld requests, %lld entities, %lld bytes\n", sh->requests,
                st->entities, sh->bytes);
        return;
    }
    fprintf(ctx->out, "%s: %lld entities written, %lld failed\n", b->id, st->written, st->failed);
    if (st->failed)
        fprintf(ctx->out, "failed entities:\n%s", lcb_buf_str(&st->failures));
    if (f->verify)
        fprintf(ctx->out, "verify: %lld compared, %lld missing, %lld different\n%s", cs->compared,
                cs->missing, cs->different, lcb_buf_str(&cs->report));
}

static int
record(struct lcb_ctx *ctx, const char *restore_id, const struct lcb_broker_restore_stats *st,
       const struct lcb_broker_compare_stats *cs, int ok)
{
    char detail[512];

    snprintf(detail, sizeof(detail), "{\"entities\":%lld,\"written\":%lld,\"failed\":%lld,"
             "\"compared\":%lld,\"missing\":%lld,\"different\":%lld}", st->entities, st->written,
             st->failed, cs->compared, cs->missing, cs->different);
    return lcb_catalog_restore_end(ctx->cat, restore_id, ok ? "succeeded" : "partial", detail,
                                   &ctx->err);
}

static int
run(struct lcb_ctx *ctx, struct flags *f, const struct lcb_backup *b, struct lcb_s3_source *src)
{
    struct lcb_broker_restore req;
    struct lcb_broker_restore_stats st;
    struct lcb_broker_compare_stats cs;
    struct lcb_ngsi_config nc;
    struct lcb_secret url = LCB_SECRET_INIT;
    struct lcb_ngsi *ngsi = NULL;
    struct shown sh = { ctx->out, NULL, 0, 0 };
    char restore_id[64] = "";
    char *tenant = f->tenant ? NULL : archive_tenant(b);
    int production = 0, rc = -1;

    memset(&req, 0, sizeof(req));
    memset(&st, 0, sizeof(st));
    memset(&cs, 0, sizeof(cs));
    memset(&nc, 0, sizeof(nc));
    if (parse_mode(ctx, f->mode, &req.mode) < 0 ||
        lcb_broker_resolve_types(&f->types, b->manifest, &ctx->err) < 0 ||
        target_url(ctx, f, b, &url, &production) < 0)
        goto out;
    if (production && !f->yes && !f->dry_run) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "target '%s' is production: check with --dry-run, "
                    "then confirm with --yes", b->target);
        goto out;
    }
    nc.url = lcb_secret_get(&url);
    nc.tenant = f->tenant ? f->tenant : tenant; /* default: where the archive came from */
    if (lcb_ngsi_new(&ngsi, lcb_aws_http(ctx->aws), &nc, &ctx->err) < 0)
        goto out;
    req.ngsi = ngsi;
    req.types = &f->types;
    req.batch = (int)f->batch;
    if (f->dry_run) {
        sh.list = ctx->json ? lcb_json_new_array() : NULL;
        lcb_ngsi_dry_run(ngsi, show_request, &sh); /* from here on, no write leaves */
    }
    if (!f->dry_run && lcb_catalog_restore_begin(ctx->cat, b->id, "broker", lcb_ngsi_url(ngsi),
                                                 restore_id, &ctx->err) < 0)
        goto out;
    lcb_log(LCB_INFO, "restore.broker.start", "%s %s into %s%s%s", f->dry_run ? "checking" :
            "restoring", b->id, lcb_ngsi_url(ngsi), nc.tenant ? " tenant " : "",
            nc.tenant ? nc.tenant : "");
    if (lcb_broker_restore_run(&req, src, &st, &ctx->err) < 0)
        goto out;
    if (f->verify && !f->dry_run && lcb_broker_compare(ngsi, &f->types, src, &cs, &ctx->err) < 0)
        goto out;
    print_summary(ctx, b, f, &st, &cs, &sh);
    if (restore_id[0] && record(ctx, restore_id, &st, &cs, st.failed == 0 && cs.missing == 0 &&
                                cs.different == 0) < 0)
        goto out;
    if (st.failed)
        lcb_err_set(&ctx->err, LCB_EPARTIAL, "%lld of %lld entities could not be written (listed "
                    "above)", st.failed, st.entities);
    else if (cs.missing || cs.different)
        lcb_err_set(&ctx->err, LCB_EPARTIAL, "verify: %lld entities missing and %lld different "
                    "in the target", cs.missing, cs.different);
    else
        rc = 0;
out:
    if (rc < 0 && restore_id[0] && ctx->err.code != LCB_EPARTIAL) {
        struct lcb_err ignored;
        lcb_catalog_restore_end(ctx->cat, restore_id, "failed", NULL, &ignored);
    }
    lcb_ngsi_free(ngsi);
    lcb_json_free(sh.list);
    free(tenant);
    lcb_secret_release(&url);
    lcb_broker_restore_stats_release(&st);
    lcb_broker_compare_stats_release(&cs);
    return rc;
}

int
lcb_cmd_open_broker_archive(struct lcb_ctx *ctx, const char *id, struct lcb_backup *b,
                            struct lcb_s3_source *src)
{
    struct lcb_archive_totals t;
    char *bucket = NULL, *key = NULL;
    int rc = -1;

    if (lcb_catalog_backup_get(ctx->cat, id, b, &ctx->err) < 0)
        return -1;
    if (strcmp(b->kind, "broker") != 0) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "%s is a %s backup, not a broker archive", b->id,
                    b->kind);
    } else if (strcmp(b->status, "completed") != 0) {
        lcb_err_set(&ctx->err, LCB_EREFUSED, "%s is %s, not completed: choose another backup "
                    "(`lcbackup list --kind broker`)", b->id, b->status);
    } else if (lcb_s3_uri_split(b->location, &bucket, &key, &ctx->err) == 0 &&
               lcb_s3_source_open(src, ctx->aws, bucket, key, &ctx->err) == 0) {
        lcb_log(LCB_INFO, "restore.verify", "verifying %s before anything is written", b->id);
        if (lcb_archive_verify(&t, NULL, lcb_s3_source_read, src, LCB_ARCHIVE_CHECK_JSON,
                               &ctx->err) < 0)
            lcb_wrap(&ctx->err, "%s does not verify: nothing was written", b->id);
        else if (b->sha256 && strcmp(b->sha256, t.sha256) != 0)
            lcb_err_set(&ctx->err, LCB_ECORRUPT, "%s: the object's SHA-256 %s differs from the "
                        "catalog's %s: nothing was written", b->id, t.sha256, b->sha256);
        else
            rc = 0;
    }
    free(bucket);
    free(key);
    return rc;
}

int
cmd_restore_broker(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    struct lcb_backup b;
    struct lcb_s3_source src;
    int rc = -1;
    const struct lcb_opt opts[] = {
        { "to", 0, LCB_OPT_STR, &f.to },         { "tenant", 0, LCB_OPT_STR, &f.tenant },
        { "types", 0, LCB_OPT_LIST, &f.types },  { "mode", 0, LCB_OPT_STR, &f.mode },
        { "batch", 0, LCB_OPT_INT, &f.batch },   { "verify", 0, LCB_OPT_FLAG, &f.verify },
        { "dry-run", 'n', LCB_OPT_FLAG, &f.dry_run }, { "yes", 'y', LCB_OPT_FLAG, &f.yes },
        { NULL, 0, 0, NULL },
    };

    memset(&f, 0, sizeof(f));
    memset(&b, 0, sizeof(b));
    memset(&src, 0, sizeof(src));
    if (lcb_cmd_begin(ctx, opts, argc, argv, &ids) < 0)
        goto out;
    if (ids.n != 1) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "give exactly one backup id");
        goto out;
    }
    if (lcb_cmd_open_broker_archive(ctx, ids.items[0], &b, &src) < 0)
        goto out;
    rc = run(ctx, &f, &b, &src);
out:
    lcb_s3_source_close(&src);
    lcb_backup_release(&b);
    lcb_strlist_release(&ids);
    lcb_strlist_release(&f.types);
    return rc;
}
