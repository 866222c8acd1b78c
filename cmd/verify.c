/* verify.c - `lcbackup verify`: prove an archive is intact, byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/archive/archive.h"
#include "../lib/backup/s3source.h"
#include "../lib/catalog/catalog.h"
#include "../lib/core/clock.h"
#include "../lib/core/log.h"
#include "cmd.h"

const char cmd_verify_usage[] =
    "usage: lcbackup verify [--kind K] [--target T] (ID | --latest)\n"
    "\n"
    "Stream an archive back from S3 and check everything: the whole object's SHA-256 and size\n"
    "against the catalog, zstd's checksums, the tar structure, each entry's SHA-256 and size\n"
    "against MANIFEST.json, that every .json entry is valid JSON, and the counts. Any mismatch\n"
    "names the entry and exits 65; success records the verification time in the catalog.\n"
    "Snapshots (rds, ebs) are checked by restoring them: see `lcbackup drill`.\n"
    "\n"
    "  --latest      the newest completed archive (of --kind, default broker, and --target)\n"
    "  --kind K      broker or config (with --latest)\n"
    "  --target T    the policy target (with --latest)\n";

static int
pick(struct lcb_ctx *ctx, const struct lcb_strlist *ids, int latest, const char *kind,
     const char *target, struct lcb_backup *b)
{
    if (latest && ids->n == 0)
        return lcb_catalog_backup_latest(ctx->cat, kind ? kind : "broker", target, ctx->env, b,
                                         &ctx->err);
    if (ids->n != 1 || latest)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "give one backup id, or --latest");
    return lcb_catalog_backup_get(ctx->cat, ids->items[0], b, &ctx->err);
}

/* The archive against the catalog's record of it. */
static int
check_totals(struct lcb_ctx *ctx, const struct lcb_backup *b, const struct lcb_archive_totals *t,
             const struct lcb_manifest *m)
{
    if (b->sha256 && strcmp(b->sha256, t->sha256) != 0)
        return lcb_err_set(&ctx->err, LCB_ECORRUPT, "%s: the object's SHA-256 is %s but the "
                           "catalog recorded %s", b->location, t->sha256, b->sha256);
    if (b->size_bytes && (uint64_t)b->size_bytes != t->bytes)
        return lcb_err_set(&ctx->err, LCB_ECORRUPT, "%s: the object has %llu bytes but the "
                           "catalog recorded %lld", b->location, (unsigned long long)t->bytes,
                           b->size_bytes);
    if (b->item_count && strcmp(b->kind, "broker") == 0 && (long long)m->total != b->item_count)
        return lcb_err_set(&ctx->err, LCB_ECORRUPT, "%s: the manifest counts %llu entities but "
                           "the catalog recorded %lld", b->location,
                           (unsigned long long)m->total, b->item_count);
    return 0;
}

int
cmd_verify(struct lcb_ctx *ctx, int argc, char **argv)
{
    int latest = 0, rc = -1;
    const char *kind = NULL, *target = NULL;
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    struct lcb_backup b;
    struct lcb_s3_source src;
    struct lcb_archive_totals t;
    struct lcb_manifest m;
    char *bucket = NULL, *key = NULL;
    int64_t t0 = lcb_mono_ms();
    const struct lcb_opt opts[] = {
        { "latest", 0, LCB_OPT_FLAG, &latest }, { "kind", 0, LCB_OPT_STR, &kind },
        { "target", 0, LCB_OPT_STR, &target }, { NULL, 0, 0, NULL },
    };

    memset(&b, 0, sizeof(b));
    memset(&src, 0, sizeof(src));
    memset(&m, 0, sizeof(m)); /* lcb_archive_verify initialises it */
    if (lcb_cmd_begin(ctx, opts, argc, argv, &ids) < 0 || pick(ctx, &ids, latest, kind, target, &b) < 0)
        goto out;
    if (strcmp(b.kind, "broker") != 0 && strcmp(b.kind, "config") != 0) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "%s is a %s snapshot, not an archive: `lcbackup drill "
                    "--component %s --backup %s` restores and checks it", b.id, b.kind, b.kind, b.id);
        goto out;
    }
    if (!b.location || lcb_s3_uri_split(b.location, &bucket, &key, &ctx->err) < 0 ||
        lcb_s3_source_open(&src, ctx->aws, bucket, key, &ctx->err) < 0)
        goto out;
    lcb_log(LCB_INFO, "verify.start", "verifying %s (%s)", b.id, b.location);
    if (lcb_archive_verify(&t, &m, lcb_s3_source_read, &src, LCB_ARCHIVE_CHECK_JSON, &ctx->err) < 0 ||
        check_totals(ctx, &b, &t, &m) < 0) {
        struct lcb_err ignored;
        lcb_catalog_event(ctx->cat, ctx->run_id, b.id, "backup.verify_failed", ctx->err.msg, &ignored);
        lcb_wrap(&ctx->err, "verify %s", b.id);
        goto out;
    }
    if (lcb_catalog_backup_verified(ctx->cat, b.id, &ctx->err) < 0)
        goto out;
    if (ctx->json)
        fprintf(ctx->out, "{\"backup_id\":\"%s\",\"ok\":true,\"entries\":%zu,\"bytes\":%llu,"
                "\"sha256\":\"%s\",\"items\":%llu,\"seconds\":%.3f}\n", b.id, t.entries,
                (unsigned long long)t.bytes, t.sha256, (unsigned long long)m.total,
                (double)(lcb_mono_ms() - t0) / 1000.0);
    else
        fprintf(ctx->out, "%s: ok (%zu entries, %llu items, %llu bytes, sha256 %s)\n", b.id,
                t.entries, (unsigned long long)m.total, (unsigned long long)t.bytes, t.sha256);
    rc = 0;
out:
    lcb_manifest_release(&m);
    lcb_s3_source_close(&src);
    free(bucket);
    free(key);
    lcb_backup_release(&b);
    lcb_strlist_release(&ids);
    return rc;
}
