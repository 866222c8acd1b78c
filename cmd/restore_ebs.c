/* restore_ebs.c - `lcbackup restore ebs`: new EBS volumes from a backup's snapshots (or their DR
 * copies, or any snapshot id); the source volumes are never touched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/aws/aws.h"
#include "../lib/aws/ec2.h"
#include "../lib/catalog/catalog.h"
#include "../lib/core/mem.h"
#include "../lib/core/secret.h"
#include "../lib/ext/json.h"
#include "../lib/policy/policy.h"
#include "../lib/snapshot/snapshot.h"
#include "common.h"

const char cmd_restore_ebs_usage[] =
    "usage: lcbackup restore ebs (--backup ID | --snapshot SNAP) [--az AZ] [--volume-type T]\n"
    "                            [--volume VOL] [--yes] [--no-wait] [--timeout DUR] [--dry-run]\n"
    "\n"
    "Create a new EBS volume from each snapshot of a backup (its DR copies when run with\n"
    "--region of the DR region), or from one snapshot id, wait until it is available and print\n"
    "its id and the next steps (attach, mount). The volumes are tagged with the restore and the\n"
    "backup; the restore is recorded in the catalog with its timings.\n"
    "\n"
    "  --backup ID        an ebs backup from the catalog (a unique prefix is enough)\n"
    "  --snapshot SNAP    an EBS snapshot id\n"
    "  --az AZ            availability zone of the new volumes (default: the source volume's,\n"
    "                     when restoring in the backup's own region)\n"
    "  --volume-type T    gp3, gp2, io1, io2, st1, sc1 or standard (default: the source's)\n"
    "  --volume VOL       only the snapshot of this source volume (backups of several volumes)\n"
    "  --yes              confirm a restore under a production policy\n"
    "  --no-wait          return once the volumes are being created\n"
    "  --timeout DUR      stop waiting after DUR (default 2h)\n"
    "  --dry-run          print the API calls it would make; change nothing\n";

struct flags {
    const char *backup, *snapshot, *az, *volume_type, *volume;
    int yes, no_wait, dry_run;
    int64_t timeout;
};

/* One volume to create. */
struct item {
    char snapshot[64];
    char source_volume[64];
    char az[64];
    char volume_type[16];
    char name[200];
    int iops, throughput;
};

/* The copy of source snapshot id in the manifest's copies.<region>, or NULL. */
static const char *
copy_of(const struct lcb_json *m, const char *region, const char *id)
{
    const struct lcb_json *arr = lcb_json_path(lcb_json_get(m, "copies"), region);
    size_t i;

    for (i = 0; i < lcb_json_size(arr); i++) {
        const struct lcb_json *o = lcb_json_at(arr, i);
        const char *src = lcb_json_get_str(o, "source");
        if (src && strcmp(src, id) == 0)
            return lcb_json_get_str(o, "snapshot_id");
    }
    return NULL;
}

/* The items of a backup: each snapshot of its manifest (or its copy here). */
static int
items_from_backup(struct lcb_ctx *ctx, const struct flags *f, const struct lcb_backup *b,
                  const char *here, struct item *items, size_t max, size_t *n)
{
    struct lcb_json *m = lcb_snap_manifest(b);
    const struct lcb_json *arr = lcb_json_get(m, "snapshots");
    int same = !here || !b->region || strcmp(here, b->region) == 0;
    size_t i;
    int rc = 0;

    *n = 0;
    for (i = 0; i < lcb_json_size(arr) && *n < max; i++) {
        const struct lcb_json *o = lcb_json_at(arr, i);
        const char *sid = lcb_json_get_str(o, "snapshot_id"),
                   *vol = lcb_json_get_str(o, "volume_id");
        const char *use = same ? sid : copy_of(m, here, sid ? sid : "");
        struct item *it = &items[*n];
        if (f->volume && (!vol || strcmp(vol, f->volume) != 0))
            continue;
        if (!use) {
            rc = lcb_err_set(&ctx->err, LCB_ENOTFOUND, "snapshot %s of %s has no copy in %s",
                             sid ? sid : "?", b->id, here);
            break;
        }
        memset(it, 0, sizeof(*it));
        snprintf(it->snapshot, sizeof(it->snapshot), "%s", use);
        snprintf(it->source_volume, sizeof(it->source_volume), "%s", vol ? vol : "");
        if (same && lcb_json_get_str(o, "availability_zone"))
            snprintf(it->az, sizeof(it->az), "%s", lcb_json_get_str(o, "availability_zone"));
        snprintf(it->volume_type, sizeof(it->volume_type), "%s",
                 lcb_json_get_str(o, "volume_type") ? lcb_json_get_str(o, "volume_type") : "");
        snprintf(it->name, sizeof(it->name), "%s",
                 lcb_json_get_str(o, "name") ? lcb_json_get_str(o, "name") : (vol ? vol : sid));
        it->iops = (int)lcb_json_get_num(o, "iops", 0);
        it->throughput = (int)lcb_json_get_num(o, "throughput", 0);
        (*n)++;
    }
    lcb_json_free(m);
    if (rc == 0 && *n == 0)
        rc = lcb_err_set(&ctx->err, LCB_ENOTFOUND, "backup %s has no snapshot%s%s", b->id,
                         f->volume ? " of volume " : "", f->volume ? f->volume : "");
    return rc;
}

static int
resolve(struct lcb_ctx *ctx, struct lcb_ec2 *ec2, const struct flags *f, struct lcb_backup *b,
        int *have, struct item *items, size_t max, size_t *n)
{
    struct lcb_snap_copy *copies = NULL;
    const char *loc, *region;
    size_t nc = 0;
    int rc;

    if (f->snapshot) {
        struct lcb_ec2_snapshot s;
        if (lcb_ec2_snapshot_get(&s, ec2, f->snapshot, &ctx->err) < 0)
            return -1;
        rc = lcb_ec2_snapshot_wait_state(s.state) == LCB_WAIT_DONE
                 ? 0
                 : lcb_err_set(&ctx->err, LCB_EREFUSED, "snapshot %s is %s, not completed", s.id,
                               s.state ? s.state : "?");
        memset(&items[0], 0, sizeof(items[0]));
        snprintf(items[0].snapshot, sizeof(items[0].snapshot), "%s", s.id);
        snprintf(items[0].source_volume, sizeof(items[0].source_volume), "%s",
                 s.volume_id ? s.volume_id : "");
        snprintf(items[0].name, sizeof(items[0].name), "%s", s.id);
        *n = 1;
        lcb_ec2_snapshot_release(&s);
        return rc;
    }
    if (lcb_catalog_backup_get(ctx->cat, f->backup, b, &ctx->err) < 0)
        return -1;
    *have = 1;
    if (strcmp(b->kind, "ebs") != 0)
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "%s is a %s backup: use `lcbackup restore %s`",
                           b->id, b->kind, b->kind);
    if (strcmp(b->status, "completed") != 0)
        return lcb_err_set(&ctx->err, LCB_EREFUSED, "backup %s is %s, not completed", b->id,
                           b->status);
    rc = lcb_snap_locate(ctx->cat, b, lcb_ec2_region(ec2), &loc, &region, &copies, &nc, &ctx->err);
    lcb_snap_copies_free(copies, nc);
    if (rc < 0)
        return -1;
    return items_from_backup(ctx, f, b, lcb_ec2_region(ec2), items, max, n);
}

static int
create_one(struct lcb_ctx *ctx, struct lcb_ec2 *ec2, const struct flags *f, struct item *it,
           const char *rid, size_t idx, const struct lcb_backup *b, struct lcb_json *detail)
{
    struct lcb_ec2_volume_req r;
    struct lcb_ec2_volume v, done;
    struct lcb_snap_tags tags;
    struct lcb_job_ctx jc;
    struct lcb_json *o;
    char token[80], name[256];
    double secs = 0;
    int rc = -1;

    lcb_cmd_job_ctx(&jc, ctx, 0);
    lcb_snap_tags_base(&tags, &jc, b ? b->id : NULL, "ebs", b ? b->target : NULL);
    snprintf(name, sizeof(name), "%s-restored", it->name);
    lcb_snap_tags_set(&tags, "Name", name);
    lcb_snap_tags_set(&tags, LCB_SNAP_TAG_RESTORE_ID, rid);
    lcb_snap_tags_set(&tags, LCB_SNAP_TAG_RESTORED_FROM, it->snapshot);
    snprintf(token, sizeof(token), "%.60s-%zu", rid, idx);
    memset(&r, 0, sizeof(r));
    r.snapshot_id = it->snapshot;
    r.availability_zone = f->az ? f->az : it->az;
    r.volume_type = f->volume_type ? f->volume_type : (it->volume_type[0] ? it->volume_type : NULL);
    if (!f->volume_type || (it->volume_type[0] && strcmp(f->volume_type, it->volume_type) == 0)) {
        r.iops = it->iops;
        r.throughput = it->throughput;
    }
    r.client_token = token;
    r.tags = tags.tag;
    r.ntags = tags.n;
    memset(&done, 0, sizeof(done));
    if (lcb_ec2_volume_create(&v, ec2, &r, &ctx->err) < 0)
        return -1;
    if (f->dry_run || f->no_wait) {
        if (!f->dry_run) {
            fprintf(ctx->out, "volume %s from %s: creating in %s\n", v.id, it->snapshot,
                    r.availability_zone);
            o = lcb_json_push(lcb_json_get(detail, "volumes"), lcb_json_new_object());
            lcb_json_add_str(o, "volume_id", v.id);
            lcb_json_add_str(o, "snapshot_id", it->snapshot);
            lcb_json_add_str(o, "source_volume", it->source_volume);
            lcb_json_add_str(o, "availability_zone", r.availability_zone);
        }
        rc = 0;
        goto out;
    }
    if (lcb_snap_wait_ec2_volume(&done, ec2, v.id, f->timeout, &secs, &ctx->err) < 0)
        goto out;
    fprintf(ctx->out, "volume %s from %s (source %s): available in %s after %.0fs\n", done.id,
            it->snapshot, it->source_volume[0] ? it->source_volume : "-",
            done.availability_zone ? done.availability_zone : r.availability_zone, secs);
    o = lcb_json_push(lcb_json_get(detail, "volumes"), lcb_json_new_object());
    lcb_json_add_str(o, "volume_id", done.id);
    lcb_json_add_str(o, "snapshot_id", it->snapshot);
    lcb_json_add_str(o, "source_volume", it->source_volume);
    lcb_json_add_str(o, "availability_zone", r.availability_zone);
    lcb_json_add_num(o, "seconds_to_available", secs);
    rc = 0;
out:
    lcb_ec2_volume_release(&v);
    lcb_ec2_volume_release(&done);
    return rc;
}

static int
check_flags(struct lcb_ctx *ctx, const struct flags *f)
{
    if ((f->backup != NULL) == (f->snapshot != NULL))
        return lcb_err_set(&ctx->err, LCB_EUSAGE, "give one of --backup or --snapshot");
    if (f->snapshot && !lcb_ec2_id_valid(f->snapshot, "snap"))
        return lcb_err_set(&ctx->err, LCB_EUSAGE,
                           "--snapshot: '%s' is not a snapshot id "
                           "(snap-0123456789abcdef0)",
                           f->snapshot);
    return lcb_cmd_policy_guard(ctx, f->yes || f->dry_run);
}

int
cmd_restore_ebs(struct lcb_ctx *ctx, int argc, char **argv)
{
    struct flags f;
    struct lcb_ec2 ec2;
    struct lcb_backup b;
    struct item items[32];
    struct lcb_json *detail = NULL;
    char rid[64] = "new-restore-id";
    size_t n = 0, i;
    int have = 0, began = 0;
    const struct lcb_opt opts[] = {
        {"backup", 0, LCB_OPT_STR, &f.backup},
        {"snapshot", 0, LCB_OPT_STR, &f.snapshot},
        {"az", 0, LCB_OPT_STR, &f.az},
        {"volume-type", 0, LCB_OPT_STR, &f.volume_type},
        {"volume", 0, LCB_OPT_STR, &f.volume},
        {"yes", 'y', LCB_OPT_FLAG, &f.yes},
        {"no-wait", 0, LCB_OPT_FLAG, &f.no_wait},
        {"timeout", 0, LCB_OPT_DURATION, &f.timeout},
        {"dry-run", 'n', LCB_OPT_FLAG, &f.dry_run},
        {NULL, 0, 0, NULL},
    };

    memset(&f, 0, sizeof(f));
    memset(&b, 0, sizeof(b));
    if (lcb_cmd_begin(ctx, opts, argc, argv, NULL) < 0 || check_flags(ctx, &f) < 0)
        goto out;
    ec2 = (struct lcb_ec2){ctx->aws, NULL, f.dry_run ? ctx->out : NULL};
    if (resolve(ctx, &ec2, &f, &b, &have, items, 32, &n) < 0)
        goto out;
    for (i = 0; i < n; i++)
        if (!f.az && !items[i].az[0]) {
            lcb_err_set(&ctx->err, LCB_EUSAGE,
                        "give --az: the availability zone of %s's source "
                        "volume is not known here",
                        items[i].snapshot);
            goto out;
        }
    if (!f.dry_run && lcb_catalog_restore_begin(ctx->cat, have ? b.id : NULL, "ebs",
                                                f.az ? f.az : items[0].az, rid, &ctx->err) < 0)
        goto out;
    began = !f.dry_run;
    detail = lcb_json_new_object();
    lcb_json_add(detail, "volumes", lcb_json_new_array());
    lcb_json_add_str(detail, "region", lcb_ec2_region(&ec2) ? lcb_ec2_region(&ec2) : "");
    for (i = 0; i < n; i++)
        if (create_one(ctx, &ec2, &f, &items[i], rid, i, have ? &b : NULL, detail) < 0)
            goto out;
    if (f.dry_run) {
        fprintf(ctx->out, "# then: wait until each volume is available and print its id\n");
        goto out;
    }
    lcb_cmd_restore_record(ctx, rid, f.no_wait ? "running" : "succeeded", detail);
    began = 0;
    if (!f.no_wait)
        fprintf(ctx->out, "next steps:\n"
                          "  1. attach: aws ec2 attach-volume --volume-id VOLUME --instance-id "
                          "INSTANCE --device /dev/sdf (same availability zone)\n"
                          "  2. on the instance: lsblk, then mount it read-only first to check "
                          "it (mount -o ro /dev/nvme1n1 /mnt/restore)\n"
                          "  3. the source volumes are untouched\n");
out:
    if (began)
        lcb_cmd_restore_failed(ctx, rid, detail);
    lcb_json_free(detail);
    if (have)
        lcb_backup_release(&b);
    return ctx->err.code == LCB_OK ? 0 : -1;
}
