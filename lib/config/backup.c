/* backup.c - a config backup from end to end, and loading one back; see backup.h. */
#include "backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../archive/archive.h"
#include "../aws/s3.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../core/secret.h"
#include "key.h"
#include "secrets.h"

#define MAX_OBJECT (256u << 20) /* the largest config archive a restore fetches */

static int
buf_sink(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    if (lcb_buf_add(ud, data, len) < 0)
        return lcb_err_set(err, LCB_EIO, "config archive larger than %u MiB", MAX_OBJECT >> 20);
    return 0;
}

static void
describe_source(struct lcb_buf *out, const struct lcb_config_backup_opts *o)
{
    size_t i;

    for (i = 0; o->paths && i < o->paths->n; i++)
        lcb_buf_addf(out, "%sssm:%s", out->len ? "," : "", o->paths->items[i]);
    for (i = 0; o->clusters && i < o->clusters->n; i++)
        lcb_buf_addf(out, "%secs:%s", out->len ? "," : "", o->clusters->items[i]);
    lcb_config_backup_secret_source(out, o);
}

static int
fetch(struct lcb_config *c, struct lcb_aws *aws, const struct lcb_config_backup_opts *o,
      struct lcb_err *err)
{
    size_t i;

    for (i = 0; o->paths && i < o->paths->n; i++)
        if (lcb_config_fetch_params(c, aws, o->paths->items[i], err) < 0)
            return -1;
    for (i = 0; o->clusters && i < o->clusters->n; i++)
        if (lcb_config_fetch_services(c, aws, o->clusters->items[i], err) < 0)
            return -1;
    if (lcb_config_backup_fetch_secrets(c, aws, o, err) < 0)
        return -1;
    lcb_config_sort(c);
    return 0;
}

static size_t
count_secure(const struct lcb_config *c)
{
    size_t i, n = 0;

    for (i = 0; i < c->nparams; i++)
        n += lcb_config_param_secure(&c->params[i]);
    return n;
}

static int
get_key(struct lcb_config_key *k, struct lcb_aws *aws, const struct lcb_config_backup_opts *o,
        const char *id, size_t secure, struct lcb_err *err)
{
    if (o->key_file)
        return lcb_config_key_file(k, o->key_file, err);
    if (o->kms_key)
        return lcb_config_key_generate(k, aws, o->kms_key, id, err);
    if (secure)
        return lcb_err_set(err, LCB_ECONFIG, "%zu SecureString parameters and no key to encrypt "
                           "them: set storage.kms_key in the policy or give --key-file", secure);
    return 0;
}

static void
fill_manifest(struct lcb_manifest *m, const struct lcb_config *c,
              const struct lcb_config_backup_opts *o, const struct lcb_config_key *k,
              const char *id, time_t started)
{
    struct lcb_buf src = LCB_BUF_INIT;
    struct lcb_json *extra;

    describe_source(&src, o);
    lcb_manifest_set_source(m, lcb_buf_str(&src));
    m->started = started;
    m->ended = lcb_now();
    lcb_config_manifest_fill(m, c);
    extra = lcb_manifest_extra(m);
    lcb_json_add_str(extra, "backup_id", id);
    if (o->env)
        lcb_json_add_str(extra, "env", o->env);
    if (o->target)
        lcb_json_add_str(extra, "target", o->target);
    lcb_json_add_num(extra, "secure_strings", (double)count_secure(c));
    if (k->source)
        lcb_json_add(extra, "encryption", lcb_config_key_manifest(k));
    lcb_buf_release(&src);
}

/* Build the whole archive into out; totals and the manifest text come back too. */
static int
build_archive(struct lcb_buf *out, struct lcb_archive_totals *totals, struct lcb_buf *mtext,
              const struct lcb_config *c, const struct lcb_config_backup_opts *o,
              const struct lcb_config_key *k, const char *id, time_t started,
              struct lcb_err *err)
{
    struct lcb_archive_writer *w = NULL;
    struct lcb_manifest m;
    int rc = -1;

    lcb_manifest_init(&m, "config");
    lcb_buf_init(out, MAX_OBJECT);
    if (lcb_archive_writer_new(&w, buf_sink, out, 0, 0, err) < 0)
        goto out;
    lcb_archive_writer_set_mtime(w, started);
    if (lcb_config_archive_add(w, c, k->source ? &k->key : NULL, err) < 0)
        goto out;
    fill_manifest(&m, c, o, k, id, started);
    if (lcb_archive_writer_finish(w, &m, totals, err) < 0)
        goto out;
    lcb_manifest_write(&m, mtext);
    rc = 0;
out:
    lcb_archive_writer_free(w);
    lcb_manifest_release(&m);
    return rc;
}

static void
put_opts(struct lcb_s3_put_opts *po, const struct lcb_config_backup_opts *o, const char *type)
{
    memset(po, 0, sizeof(*po));
    po->content_type = type;
    po->if_none_match = "*";
    if (o->kms_key) {
        po->sse = "aws:kms";
        po->sse_kms_key_id = o->kms_key;
    }
    if (o->object_lock > 0) {
        po->lock_mode = "GOVERNANCE"; /* as broker archives: one policy setting, one meaning */
        po->lock_until = lcb_now() + (time_t)o->object_lock;
    }
}

/* The sidecar (jobs.h's shape, what `catalog rebuild` reads): who the backup is at the top
 * level, where its archive is, and the manifest. */
static void
sidecar_text(struct lcb_buf *out, const char *mtext, const struct lcb_config_backup_opts *o,
             const char *key, const char *id, time_t taken, const struct lcb_archive_totals *t)
{
    struct lcb_json *root = lcb_json_new_object(), *man = NULL;
    struct lcb_err scratch;
    char ts[LCB_TIME_LEN], *loc = lcb_xasprintf("s3://%s/%s", o->bucket, key);

    lcb_json_add_str(root, "backup_id", id);
    lcb_json_add_str(root, "kind", "config");
    lcb_json_add_str(root, "env", o->env ? o->env : "");
    lcb_json_add_str(root, "target", o->target ? o->target : "config");
    lcb_json_add_str(root, "taken_at", lcb_time_fmt(taken, ts));
    lcb_json_add_str(root, "location", loc);
    lcb_json_add_str(root, "archive", key);
    lcb_json_add_str(root, "sha256", t->sha256);
    lcb_json_add_num(root, "size", (double)t->bytes);
    if (lcb_json_parse(&man, mtext, strlen(mtext), &scratch) == 0)
        lcb_json_add(root, "manifest", man);
    lcb_json_print(out, root, 1);
    lcb_buf_addch(out, '\n');
    lcb_json_free(root);
    free(loc);
}

static int
upload(const struct lcb_buf *arc, const struct lcb_buf *mtext, struct lcb_aws *aws,
       const struct lcb_config_backup_opts *o, const char *key, const struct lcb_backup *b,
       const struct lcb_archive_totals *t, struct lcb_err *err)
{
    struct lcb_s3_put_opts po;
    struct lcb_s3_put_result res;
    struct lcb_s3_body body;
    struct lcb_buf side = LCB_BUF_INIT;
    char *skey = lcb_xasprintf("%s.manifest.json", key);
    int rc = -1;

    memset(&body, 0, sizeof(body));
    body.data = arc->ptr;
    body.len = arc->len;
    put_opts(&po, o, "application/zstd");
    if (lcb_s3_put(&res, aws, o->bucket, key, &body, &po, err) < 0) {
        lcb_wrap(err, "put s3://%s/%s", o->bucket, key);
        goto out;
    }
    sidecar_text(&side, lcb_buf_str(mtext), o, key, b->id, b->taken_at, t);
    body.data = side.ptr;
    body.len = side.len;
    put_opts(&po, o, "application/json");
    if (lcb_s3_put(&res, aws, o->bucket, skey, &body, &po, err) < 0) {
        struct lcb_err ignored;
        lcb_wrap(err, "put s3://%s/%s", o->bucket, skey);
        lcb_s3_delete(aws, o->bucket, key, NULL, NULL, &ignored);
        goto out;
    }
    rc = 0;
out:
    lcb_buf_release(&side);
    free(skey);
    return rc;
}

static char *
object_key(const struct lcb_config_backup_opts *o, const char *id)
{
    const char *prefix = o->prefix && *o->prefix ? o->prefix : "lcbackup";

    return lcb_xasprintf("%s/%s/config/%s/%s.tar.zst", prefix, o->env ? o->env : "default",
                         o->target ? o->target : "config", id);
}

static void
record_done(struct lcb_backup *b, const struct lcb_config_backup_opts *o, const char *key,
            const struct lcb_archive_totals *t, const struct lcb_buf *mtext,
            const struct lcb_config *c)
{
    free(b->location);
    b->location = lcb_xasprintf("s3://%s/%s", o->bucket, key);
    free(b->sha256);
    b->sha256 = lcb_xstrdup(t->sha256);
    b->size_bytes = (long long)t->bytes;
    b->item_count = (long long)(c->nparams + c->nservices + c->ntaskdefs + c->nsecrets);
    free(b->manifest);
    b->manifest = lcb_xstrdup(lcb_buf_str(mtext));
    free(b->status);
    b->status = lcb_xstrdup("completed");
    b->completed_at = lcb_now();
}

static void
fill_result(struct lcb_config_backup_result *res, const struct lcb_backup *b,
            const struct lcb_config *c, const struct lcb_archive_totals *t)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->id, sizeof(res->id), "%s", b->id);
    snprintf(res->location, sizeof(res->location), "%s", b->location);
    snprintf(res->sha256, sizeof(res->sha256), "%s", t->sha256);
    res->size = t->bytes;
    res->params = c->nparams;
    res->secure = count_secure(c);
    res->services = c->nservices;
    res->taskdefs = c->ntaskdefs;
    res->secrets = c->nsecrets;
}

static void
record_failure(struct lcb_catalog *cat, const char *id, const struct lcb_err *err)
{
    char line[1024];
    struct lcb_buf red = LCB_BUF_INIT;
    struct lcb_err ignored;

    lcb_redact_str(&red, lcb_err_format(err, line, sizeof(line)));
    lcb_catalog_backup_set_status(cat, id, "failed", lcb_buf_str(&red), &ignored);
    lcb_buf_release(&red);
}

static int
run(struct lcb_backup *b, struct lcb_config *c, struct lcb_aws *aws,
    const struct lcb_config_backup_opts *o, struct lcb_config_backup_result *res,
    struct lcb_catalog *cat, struct lcb_err *err)
{
    struct lcb_config_key k;
    struct lcb_archive_totals t;
    struct lcb_buf arc = LCB_BUF_INIT, mtext = LCB_BUF_INIT;
    char *key = object_key(o, b->id);
    int rc = -1;

    lcb_config_key_init(&k);
    if (fetch(c, aws, o, err) < 0 || get_key(&k, aws, o, b->id, count_secure(c) + lcb_config_secrets_values(c), err) < 0 ||
        build_archive(&arc, &t, &mtext, c, o, &k, b->id, b->started_at, err) < 0 ||
        upload(&arc, &mtext, aws, o, key, b, &t, err) < 0)
        goto out;
    record_done(b, o, key, &t, &mtext, c);
    if (lcb_catalog_backup_update(cat, b, err) < 0)
        goto out;
    fill_result(res, b, c, &t);
    rc = 0;
out:
    lcb_config_key_release(&k);
    lcb_buf_release(&arc);
    lcb_buf_release(&mtext);
    free(key);
    return rc;
}

int
lcb_config_backup(struct lcb_config_backup_result *res, struct lcb_catalog *cat,
                  struct lcb_aws *aws, const struct lcb_config_backup_opts *o, struct lcb_err *err)
{
    struct lcb_backup b;
    struct lcb_config c;
    struct lcb_buf src = LCB_BUF_INIT;
    int rc;

    memset(&b, 0, sizeof(b));
    lcb_config_init(&c);
    describe_source(&src, o);
    b.kind = lcb_xstrdup("config");
    b.env = o->env ? lcb_xstrdup(o->env) : NULL;
    b.target = lcb_xstrdup(o->target ? o->target : "config");
    b.source = lcb_buf_detach(&src, NULL);
    b.region = lcb_aws_region(aws) ? lcb_xstrdup(lcb_aws_region(aws)) : NULL;
    b.policy = o->policy ? lcb_xstrdup(o->policy) : NULL;
    b.started_at = b.taken_at = lcb_now();
    rc = lcb_catalog_backup_add(cat, &b, err);
    if (rc == 0 && (rc = run(&b, &c, aws, o, res, cat, err)) < 0)
        record_failure(cat, b.id, err);
    if (rc == 0)
        lcb_logf(LCB_INFO, "config.backup.done",
                 LCB_FIELDS(LCB_KV_S("backup", b.id), LCB_KV_S("location", b.location),
                            LCB_KV_I("parameters", c.nparams), LCB_KV_I("services", c.nservices),
                            LCB_KV_I("bytes", b.size_bytes)),
                 "config backup %s: %zu parameters, %zu services, %zu task definitions", b.id,
                 c.nparams, c.nservices, c.ntaskdefs);
    lcb_config_release(&c);
    lcb_backup_release(&b);
    return rc;
}

/* ---- loading ---- */

int
lcb_config_split_location(struct lcb_buf *bucket, struct lcb_buf *key, const char *location,
                          struct lcb_err *err)
{
    const char *p, *slash;

    if (!location || strncmp(location, "s3://", 5) != 0)
        return lcb_err_set(err, LCB_ECORRUPT, "location '%s' is not s3://bucket/key",
                           location ? location : "");
    p = location + 5;
    slash = strchr(p, '/');
    if (!slash || slash == p || !slash[1])
        return lcb_err_set(err, LCB_ECORRUPT, "location '%s' is not s3://bucket/key", location);
    lcb_buf_add(bucket, p, (size_t)(slash - p));
    lcb_buf_adds(key, slash + 1);
    return 0;
}

static int
check_backup(const struct lcb_backup *b, struct lcb_err *err)
{
    if (strcmp(b->kind, "config") != 0)
        return lcb_err_set(err, LCB_EUSAGE, "backup %s is a %s backup, not a config backup",
                           b->id, b->kind);
    if (strcmp(b->status, "completed") != 0)
        return lcb_err_set(err, LCB_ENOTFOUND, "backup %s is %s: only a completed backup can be "
                           "read", b->id, b->status);
    return 0;
}

static int
fetch_archive(struct lcb_config_archive *a, struct lcb_aws *aws, const struct lcb_backup *b,
              struct lcb_err *err)
{
    struct lcb_buf bucket = LCB_BUF_INIT, key = LCB_BUF_INIT, data = LCB_BUF_INIT;
    struct lcb_config_mem_source src;
    int rc = -1;

    if (lcb_config_split_location(&bucket, &key, b->location, err) < 0)
        goto out;
    if (lcb_s3_get_buf(NULL, aws, lcb_buf_str(&bucket), lcb_buf_str(&key), NULL, &data,
                       MAX_OBJECT, err) < 0) {
        lcb_wrap(err, "get %s", b->location);
        goto out;
    }
    memset(&src, 0, sizeof(src));
    src.data = data.ptr ? data.ptr : "";
    src.len = data.len;
    if (lcb_config_archive_read(a, lcb_config_mem_source, &src, err) < 0) {
        lcb_wrap(err, "%s", b->location);
        goto out;
    }
    if (b->sha256 && strcmp(b->sha256, a->totals.sha256) != 0) {
        lcb_err_set(err, LCB_ECORRUPT, "%s: sha256 %s is not the %s the catalog recorded",
                    b->location, a->totals.sha256, b->sha256);
        goto out;
    }
    rc = 0;
out:
    lcb_buf_release(&bucket);
    lcb_buf_release(&key);
    lcb_buf_release(&data);
    return rc;
}

int
lcb_config_load_backup(struct lcb_config *c, struct lcb_aws *aws, const struct lcb_backup *b,
                       const char *key_file, struct lcb_err *err)
{
    struct lcb_config_archive a;
    struct lcb_config_key k;
    int rc = -1;

    lcb_config_archive_init(&a);
    lcb_config_key_init(&k);
    if (check_backup(b, err) < 0 || fetch_archive(&a, aws, b, err) < 0)
        goto out;
    if (lcb_config_key_open(&k, aws, lcb_json_get(a.manifest.extra, "encryption"), key_file,
                            err) < 0 ||
        lcb_config_archive_load(c, &a, k.source ? &k.key : NULL, k.source ? k.check : NULL,
                                err) < 0) {
        lcb_wrap(err, "backup %s", b->id);
        goto out;
    }
    rc = 0;
out:
    lcb_config_key_release(&k);
    lcb_config_archive_release(&a);
    return rc;
}
