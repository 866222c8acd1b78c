/* broker.c - one broker backup; see broker.h. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../archive/archive.h"
#include "../archive/manifest.h"
#include "../aws/s3.h"
#include "../aws/s3stream.h"
#include "../aws/ssm.h"
#include "../catalog/catalog.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/json.h"
#include "../ngsi/ngsi.h"
#include "../policy/policy.h"

#define CORE_CONTEXT "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"

struct run {
    const struct lcb_broker_backup *b;
    struct lcb_aws *aws;
    struct lcb_catalog *cat;
    struct lcb_backup rec;
    struct lcb_ngsi *ngsi;
    struct lcb_ngsi_export x;
    struct lcb_s3_stream *up;
    struct lcb_archive_writer *w;
    struct lcb_manifest m;
    char *key;
    struct lcb_buf name;
    long long expected; /* for the ETA; 0 when unknown */
    int64_t t0;
    uint64_t read;     /* bytes of the pages archived (as received) */
    uint64_t archived; /* bytes of the compressed archive so far */
};

int
lcb_broker_url(struct lcb_secret *out, struct lcb_aws *aws, const struct lcb_target *t,
               struct lcb_err *err)
{
    if (t->url) {
        lcb_secret_set(out, t->url, strlen(t->url));
        return 0;
    }
    if (!t->url_param)
        return lcb_err_set(err, LCB_ECONFIG, "%s: no url or url_param", t->path);
    if (lcb_ssm_get(out, NULL, 0, aws, t->url_param, err) < 0)
        return lcb_wrap(err, "broker URL of target %s", t->name);
    return 0;
}

static int
to_s3(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    struct run *r = ud;

    r->archived += len;
    return lcb_s3_stream_write(r->up, data, len, err);
}

static void
progress(struct run *r)
{
    double secs = (double)(lcb_mono_ms() - r->t0) / 1000.0;
    double rate = secs > 0 ? (double)r->x.total / secs : 0;
    char eta[32] = "?";

    if (r->expected > r->x.total && rate > 0)
        lcb_duration_fmt((int64_t)((double)(r->expected - r->x.total) / rate), eta, sizeof(eta));
    lcb_progress("broker.export.progress",
                 LCB_FIELDS(LCB_KV_I("entities", r->x.total), LCB_KV_I("expected", r->expected),
                            LCB_KV_F("rate", rate), LCB_KV_I("bytes_read", r->read),
                            LCB_KV_I("bytes_archived", r->archived)),
                 "%lld/%lld entities, %.0f entities/s, %.1f MB read, %.1f MB archived, ETA %s",
                 r->x.total, r->expected, rate, (double)r->read / 1e6, (double)r->archived / 1e6,
                 eta);
}

static int
on_page(void *ud, const char *type, int page_no, const char *json, size_t len, size_t n,
        struct lcb_err *err)
{
    struct run *r = ud;

    lcb_buf_reset(&r->name);
    lcb_buf_adds(&r->name, "entities/");
    lcb_manifest_name_encode(&r->name, type);
    lcb_buf_addf(&r->name, "/%06d.json", page_no);
    /* lcb_ngsi_export_type hands over pages it checked while splitting them */
    if (lcb_archive_writer_add_checked(r->w, lcb_buf_str(&r->name), json, len, (int64_t)n,
                                       err) < 0)
        return lcb_wrap(err, "archive %s", lcb_buf_str(&r->name));
    lcb_manifest_count_add(&r->m, type, n);
    r->read += len;
    progress(r);
    /* the parts already cut go out between pages, not all at the end */
    if (lcb_s3_stream_poll(r->up, err) < 0)
        return lcb_wrap(err, "upload");
    return 0;
}

static int
list_types(struct run *r, struct lcb_strlist *types, struct lcb_err *err)
{
    size_t i;
    long long c;

    if (r->b->ntypes) {
        for (i = 0; i < r->b->ntypes; i++) {
            lcb_strlist_add(types, r->b->types[i]);
            if (lcb_ngsi_count(r->ngsi, r->b->types[i], &c, err) == 0)
                r->expected += c;
        }
        return 0;
    }
    if (lcb_ngsi_discover_types(r->ngsi, types, err) < 0)
        return -1;
    if (lcb_ngsi_count(r->ngsi, NULL, &c, err) == 0)
        r->expected = c;
    lcb_err_clear(err);
    return 0;
}

static void
fill_manifest(struct run *r)
{
    struct lcb_json *extra = lcb_manifest_extra(&r->m), *types, *t;
    struct lcb_err ignored;
    char digest[65];
    const char *line, *nl;
    size_t i;

    lcb_manifest_set_source(&r->m, lcb_ngsi_url(r->ngsi));
    lcb_manifest_set_tenant(&r->m, r->b->tenant);
    lcb_manifest_set_context(&r->m, CORE_CONTEXT);
    lcb_manifest_set_ids(&r->m, lcb_idset_digest_hex(&r->x.ids, digest), r->x.ids.n, &ignored);
    for (line = lcb_buf_str(&r->x.discrepancies); *line; line = nl + 1) {
        char *text;
        nl = strchr(line, '\n');
        if (!nl)
            break;
        text = lcb_xstrndup(line, (size_t)(nl - line));
        lcb_manifest_discrepancy_add(&r->m, "unreconciled", NULL, text);
        free(text);
    }
    lcb_json_add_str(extra, "backup_id", r->rec.id);
    lcb_json_add_num(extra, "page_size", r->x.page_size);
    types = lcb_json_add(extra, "types", lcb_json_new_object());
    for (i = 0; i < r->x.ntypes; i++) {
        const struct lcb_ngsi_type_stats *s = &r->x.types[i];
        t = lcb_json_add(types, s->type, lcb_json_new_object());
        lcb_json_add_num(t, "count_start", (double)s->count_start);
        lcb_json_add_num(t, "count_end", (double)s->count_end);
        lcb_json_add_num(t, "exported", (double)s->exported);
        lcb_json_add_num(t, "duplicates_dropped", (double)s->duplicates);
        lcb_json_add_num(t, "reconciled", (double)s->reconciled);
        lcb_json_add_num(t, "pages", s->pages);
    }
    r->m.started = r->rec.started_at;
    r->m.ended = lcb_now();
}

/* <key>.manifest.json: what `catalog rebuild` and `verify` read without opening the archive. */
static int
put_sidecar(struct run *r, const struct lcb_s3_stream_result *sr, struct lcb_err *err)
{
    struct lcb_buf text = LCB_BUF_INIT, man = LCB_BUF_INIT;
    struct lcb_s3_put_result pr;
    struct lcb_s3_body body;
    struct lcb_s3_put_opts po;
    char *key = lcb_xasprintf("%s.manifest.json", r->key);
    int rc;

    lcb_manifest_write(&r->m, &man);
    lcb_buf_addf(&text, "{\"backup_id\":\"%s\",\"kind\":\"broker\",\"env\":\"%s\",\"target\":\"%s\","
                 "\"archive\":\"%s\",\"sha256\":\"%s\",\"size\":%llu,\"entities\":%lld,"
                 "\"taken_at\":%lld,\"manifest\":%s}\n",
                 r->rec.id, r->b->env ? r->b->env : "", r->b->target, r->key, sr->sha256_hex,
                 (unsigned long long)sr->size, r->x.total, (long long)r->rec.taken_at,
                 lcb_buf_str(&man));
    memset(&body, 0, sizeof(body));
    body.data = text.ptr;
    body.len = text.len;
    memset(&po, 0, sizeof(po));
    po.content_type = "application/json";
    po.if_none_match = "*";
    if (r->b->kms_key) {
        po.sse = "aws:kms";
        po.sse_kms_key_id = r->b->kms_key;
    }
    rc = lcb_s3_put(&pr, r->aws, r->b->bucket, key, &body, &po, err);
    if (rc < 0)
        lcb_wrap(err, "write s3://%s/%s", r->b->bucket, key);
    free(key);
    lcb_buf_release(&text);
    lcb_buf_release(&man);
    return rc;
}

static int
start(struct run *r, struct lcb_err *err)
{
    struct lcb_s3_stream_opts so;
    struct lcb_ngsi_config nc;
    char loc[1024];

    memset(&nc, 0, sizeof(nc));
    nc.url = lcb_secret_get(r->b->url);
    nc.tenant = r->b->tenant;
    nc.page_size = r->b->page_size;
    nc.in_flight = r->b->pages_in_flight;
    if (lcb_ngsi_new(&r->ngsi, lcb_aws_http(r->aws), &nc, err) < 0)
        return -1;
    r->rec.kind = lcb_xstrdup("broker");
    r->rec.env = r->b->env ? lcb_xstrdup(r->b->env) : NULL;
    r->rec.target = lcb_xstrdup(r->b->target);
    r->rec.source = lcb_xstrdup(lcb_ngsi_url(r->ngsi));
    r->rec.region = lcb_xstrdup(lcb_aws_region(r->aws) ? lcb_aws_region(r->aws) : "");
    r->rec.status = lcb_xstrdup("running");
    r->rec.policy = r->b->policy_file ? lcb_xstrdup(r->b->policy_file) : NULL;
    r->rec.started_at = r->rec.taken_at = lcb_now();
    if (lcb_catalog_backup_add(r->cat, &r->rec, err) < 0)
        return -1;
    r->key = lcb_xasprintf("%s%s%s/broker/%s/%s.tar.zst", r->b->prefix ? r->b->prefix : "",
                           r->b->prefix && *r->b->prefix ? "/" : "", r->b->env ? r->b->env : "default",
                           r->b->target, r->rec.id);
    snprintf(loc, sizeof(loc), "s3://%s/%s", r->b->bucket, r->key);
    r->rec.location = lcb_xstrdup(loc);
    memset(&so, 0, sizeof(so));
    so.part_size = r->b->part_size;
    so.in_flight = r->b->parts_in_flight;
    so.put.content_type = "application/zstd";
    if (r->b->kms_key) {
        so.put.sse = "aws:kms";
        so.put.sse_kms_key_id = r->b->kms_key;
    }
    if (r->b->object_lock > 0) {
        so.put.lock_mode = "GOVERNANCE";
        so.put.lock_until = lcb_now() + r->b->object_lock;
    }
    if (lcb_s3_stream_open(&r->up, r->aws, r->b->bucket, r->key, &so, err) < 0 ||
        lcb_archive_writer_new(&r->w, to_s3, r, r->b->level, r->b->threads, err) < 0)
        return -1;
    return 0;
}

static int
export_all(struct run *r, struct lcb_err *err)
{
    struct lcb_strlist types = LCB_STRLIST_INIT;
    size_t i;
    int rc = 0;

    if (list_types(r, &types, err) < 0) {
        lcb_strlist_release(&types);
        return lcb_wrap(err, "list entity types of %s", lcb_ngsi_url(r->ngsi));
    }
    lcb_log(LCB_INFO, "broker.export.start", "exporting %zu entity types (about %lld entities) "
            "from %s to %s", types.n, r->expected, lcb_ngsi_url(r->ngsi), r->rec.location);
    /* the id set at its final size from the start, within its memory budget: no rehash with two
     * tables alive near the end, when the upload's part buffers are full too (beyond the budget
     * the index spills to $TMPDIR instead of growing) */
    lcb_idset_reserve(&r->x.ids, (size_t)(r->expected > 0 ? r->expected : 0) * 17 / 16);
    for (i = 0; i < types.n && rc == 0; i++)
        if ((rc = lcb_ngsi_export_type(r->ngsi, types.items[i], on_page, r, &r->x, err)) < 0)
            lcb_wrap(err, "export type %s", types.items[i]);
    lcb_progress_end();
    lcb_strlist_release(&types);
    return rc;
}

static int
finish(struct run *r, struct lcb_broker_result *res, struct lcb_err *err)
{
    struct lcb_archive_totals totals;
    struct lcb_s3_stream_result sr;
    struct lcb_buf man = LCB_BUF_INIT;

    fill_manifest(r);
    if (lcb_archive_writer_finish(r->w, &r->m, &totals, err) < 0 ||
        lcb_s3_stream_finish(r->up, &sr, err) < 0)
        return -1;
    if (strcmp(totals.sha256, sr.sha256_hex) != 0 || totals.bytes != sr.size)
        return lcb_err_set(err, LCB_EINTERNAL, "the archive's checksum %s differs from the "
                           "uploaded object's %s", totals.sha256, sr.sha256_hex);
    if (put_sidecar(r, &sr, err) < 0)
        return -1;
    lcb_manifest_write(&r->m, &man);
    free(r->rec.status);
    r->rec.status = lcb_xstrdup("completed");
    r->rec.completed_at = lcb_now();
    r->rec.size_bytes = (long long)sr.size;
    r->rec.item_count = r->x.total;
    r->rec.sha256 = lcb_xstrdup(sr.sha256_hex);
    r->rec.manifest = lcb_buf_detach(&man, NULL);
    if (lcb_catalog_backup_update(r->cat, &r->rec, err) < 0)
        return -1;
    snprintf(res->backup_id, sizeof(res->backup_id), "%s", r->rec.id);
    snprintf(res->location, sizeof(res->location), "%s", r->rec.location);
    snprintf(res->sha256, sizeof(res->sha256), "%s", sr.sha256_hex);
    res->entities = (uint64_t)r->x.total;
    res->size = sr.size;
    res->discrepancies = (int)r->m.ndisc;
    return 0;
}

static void
record_failure(struct run *r, const struct lcb_err *err)
{
    struct lcb_buf red = LCB_BUF_INIT;
    struct lcb_err ignored;
    char line[2048];

    lcb_s3_stream_abort(r->up);
    if (!r->rec.id)
        return;
    lcb_redact_str(&red, lcb_err_format(err, line, sizeof(line)));
    lcb_err_clear(&ignored);
    lcb_catalog_backup_set_status(r->cat, r->rec.id, "failed", lcb_buf_str(&red), &ignored);
    lcb_buf_release(&red);
}

int
lcb_broker_backup_run(const struct lcb_broker_backup *b, struct lcb_aws *aws,
                      struct lcb_catalog *cat, struct lcb_broker_result *res, struct lcb_err *err)
{
    struct run r;
    int rc;

    memset(&r, 0, sizeof(r));
    memset(res, 0, sizeof(*res));
    r.b = b;
    r.aws = aws;
    r.cat = cat;
    r.t0 = lcb_mono_ms();
    lcb_buf_init(&r.name, 0);
    lcb_ngsi_export_init(&r.x);
    lcb_manifest_init(&r.m, "broker");
    rc = start(&r, err) < 0 || export_all(&r, err) < 0 || finish(&r, res, err) < 0 ? -1 : 0;
    if (rc < 0)
        record_failure(&r, err);
    res->elapsed_ms = lcb_mono_ms() - r.t0;
    lcb_archive_writer_free(r.w);
    lcb_s3_stream_free(r.up);
    lcb_manifest_release(&r.m);
    lcb_ngsi_export_release(&r.x);
    lcb_ngsi_free(r.ngsi);
    lcb_backup_release(&r.rec);
    lcb_buf_release(&r.name);
    free(r.key);
    return rc;
}
