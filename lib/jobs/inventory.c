/* inventory.c - reading back what lcbackup left in AWS; see inventory.h. */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/ec2.h"
#include "../aws/rds.h"
#include "../aws/s3.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/json.h"

#define TAG_ID "lcbackup:backup-id"
#define TAG_ENV "lcbackup:env"
#define TAG_TARGET "lcbackup:target"
#define TAG_POLICY "lcbackup:policy"
#define TAG_COPY_OF "lcbackup:copy-of"
#define SIDECAR ".manifest.json"
#define GIB (1024LL * 1024 * 1024)
#define MAX_SIDECAR (64u << 20)

void
lcb_inventory_init(struct lcb_inventory *inv)
{
    memset(inv, 0, sizeof(*inv));
}

static void
item_release(struct lcb_inv_item *it)
{
    char **s[] = { &it->backup_id, &it->env,   &it->target, &it->policy,  &it->source,
                   &it->region,    &it->location, &it->state, &it->sha256, &it->manifest };
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(s); i++) {
        free(*s[i]);
        *s[i] = NULL;
    }
}

void
lcb_inventory_release(struct lcb_inventory *inv)
{
    size_t i;

    for (i = 0; i < inv->n; i++)
        item_release(&inv->items[i]);
    free(inv->items);
    memset(inv, 0, sizeof(*inv));
}

static struct lcb_inv_item *
add(struct lcb_inventory *inv, enum lcb_inv_what what, enum lcb_kind kind)
{
    struct lcb_inv_item *it;

    if (inv->n == inv->cap) {
        inv->cap = inv->cap ? inv->cap * 2 : 32;
        inv->items = lcb_xrealloc(inv->items, inv->cap * sizeof(*inv->items));
    }
    it = &inv->items[inv->n++];
    memset(it, 0, sizeof(*it));
    it->what = what;
    it->kind = kind;
    return it;
}

static char *
dup_or_null(const char *s)
{
    return s && *s ? lcb_xstrdup(s) : NULL;
}

/* ---- RDS ---- */

static int
collect_rds(struct lcb_inventory *inv, struct lcb_aws *aws, const char *region, const char *env,
            struct lcb_err *err)
{
    struct lcb_rds c = { aws, region, NULL };
    struct lcb_rds_snapshot_list l = { NULL, 0 };
    size_t i;

    if (lcb_rds_snapshot_list(&l, &c, NULL, "manual", err) < 0)
        return lcb_wrap(err, "list RDS snapshots in %s", region);
    for (i = 0; i < l.n; i++) {
        const struct lcb_rds_snapshot *s = &l.items[i];
        const char *id = lcb_rds_tag_get(s->tags, s->ntags, TAG_ID);
        const char *e = lcb_rds_tag_get(s->tags, s->ntags, TAG_ENV);
        struct lcb_inv_item *it;
        if (!id || (e && env && strcmp(e, env) != 0))
            continue;
        it = add(inv, LCB_INV_SNAPSHOT, LCB_KIND_RDS);
        it->backup_id = lcb_xstrdup(id);
        it->env = dup_or_null(e);
        it->target = dup_or_null(lcb_rds_tag_get(s->tags, s->ntags, TAG_TARGET));
        it->policy = dup_or_null(lcb_rds_tag_get(s->tags, s->ntags, TAG_POLICY));
        it->source = dup_or_null(s->instance_id);
        it->region = lcb_xstrdup(region);
        it->location = lcb_xstrdup(s->id);
        it->state = lcb_xstrdup(s->status ? s->status : "");
        it->taken = s->create_time;
        it->copy = lcb_rds_tag_get(s->tags, s->ntags, TAG_COPY_OF) != NULL;
        it->size = s->allocated_gib * GIB;
        it->items = 1;
    }
    lcb_rds_snapshot_list_release(&l);
    return 0;
}

/* ---- EBS: the snapshots of one backup (a set of volumes) become one item ---- */

static const char *
ec2_tag(const struct lcb_ec2_snapshot *s, const char *key)
{
    return lcb_ec2_tag_get(s->tags, s->ntags, key);
}

static int
cmp_ec2(const void *a, const void *b)
{
    const struct lcb_ec2_snapshot *x = *(const struct lcb_ec2_snapshot *const *)a;
    const struct lcb_ec2_snapshot *y = *(const struct lcb_ec2_snapshot *const *)b;
    int c = strcmp(ec2_tag(x, TAG_ID), ec2_tag(y, TAG_ID));

    if (c)
        return c;
    if ((ec2_tag(x, TAG_COPY_OF) != NULL) != (ec2_tag(y, TAG_COPY_OF) != NULL))
        return ec2_tag(x, TAG_COPY_OF) ? 1 : -1;
    if (x->start_time != y->start_time)
        return x->start_time < y->start_time ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Snapshots of one backup: the same id, both copies or both not. */
static int
same_set(const struct lcb_ec2_snapshot *x, const struct lcb_ec2_snapshot *y)
{
    return strcmp(ec2_tag(x, TAG_ID), ec2_tag(y, TAG_ID)) == 0 &&
           (ec2_tag(x, TAG_COPY_OF) != NULL) == (ec2_tag(y, TAG_COPY_OF) != NULL);
}

/* The state of a set: error if any is in error, else pending if any is, else completed. */
static const char *
worse(const char *a, const char *b)
{
    if (!a)
        return b;
    if (strcmp(a, "error") == 0 || strcmp(b, "error") == 0)
        return "error";
    if (strcmp(a, "completed") != 0)
        return a;
    return b;
}

static void
ebs_group(struct lcb_inventory *inv, struct lcb_ec2_snapshot **s, size_t n, const char *region)
{
    struct lcb_inv_item *it = add(inv, LCB_INV_SNAPSHOT, LCB_KIND_EBS);
    struct lcb_buf loc = LCB_BUF_INIT;
    const char *state = NULL;
    size_t i;

    it->backup_id = lcb_xstrdup(ec2_tag(s[0], TAG_ID));
    it->env = dup_or_null(ec2_tag(s[0], TAG_ENV));
    it->target = dup_or_null(ec2_tag(s[0], TAG_TARGET));
    it->policy = dup_or_null(ec2_tag(s[0], TAG_POLICY));
    it->region = lcb_xstrdup(region);
    it->copy = ec2_tag(s[0], TAG_COPY_OF) != NULL;
    it->taken = s[0]->start_time;
    for (i = 0; i < n; i++) {
        lcb_buf_addf(&loc, "%s%s", i ? "," : "", s[i]->id);
        it->size += s[i]->volume_gib * GIB;
        state = worse(state, s[i]->state ? s[i]->state : "");
    }
    it->items = (long long)n;
    it->location = lcb_buf_detach(&loc, NULL);
    it->state = lcb_xstrdup(state ? state : "");
}

static int
collect_ebs(struct lcb_inventory *inv, struct lcb_aws *aws, const char *region, const char *env,
            struct lcb_err *err)
{
    struct lcb_ec2 c = { aws, region, NULL };
    struct lcb_ec2_snapshot_list l = { NULL, 0 };
    const char *const key[] = { TAG_ID };
    struct lcb_query_filter f = { "tag-key", key, 1 };
    struct lcb_ec2_snapshot **v;
    size_t i, j, m = 0;

    if (lcb_ec2_snapshot_list(&l, &c, NULL, 0, &f, 1, err) < 0)
        return lcb_wrap(err, "list EBS snapshots in %s", region);
    v = lcb_xcalloc(l.n ? l.n : 1, sizeof(*v));
    for (i = 0; i < l.n; i++) {
        const char *e = ec2_tag(&l.items[i], TAG_ENV);
        if (ec2_tag(&l.items[i], TAG_ID) && !(e && env && strcmp(e, env) != 0))
            v[m++] = &l.items[i];
    }
    qsort(v, m, sizeof(*v), cmp_ec2);
    for (i = 0; i < m; i = j) {
        for (j = i + 1; j < m && same_set(v[i], v[j]); j++)
            ;
        ebs_group(inv, v + i, j - i, region);
    }
    free(v);
    lcb_ec2_snapshot_list_release(&l);
    return 0;
}

/* ---- S3: archives and sidecars ---- */

static time_t
json_time(const struct lcb_json *j)
{
    time_t t = 0;

    if (lcb_json_type(j) == LCB_JSON_NUMBER)
        return (time_t)lcb_json_num(j, 0);
    if (lcb_json_str(j) && lcb_time_parse(lcb_json_str(j), &t) == 0)
        return t;
    return 0;
}

int
lcb_inventory_sidecar(struct lcb_inv_item *it, const char *text, size_t len, struct lcb_err *err)
{
    struct lcb_json *root = NULL, *o, *m;
    struct lcb_buf man = LCB_BUF_INIT;
    int k;

    if (lcb_json_parse(&root, text, len, err) < 0)
        return lcb_wrap(err, "sidecar");
    o = lcb_json_get(root, "backup") ? lcb_json_get(root, "backup") : root;
    k = lcb_kind_parse(lcb_json_get_str(o, "kind") ? lcb_json_get_str(o, "kind") : "");
    if (!lcb_json_get_str(o, "backup_id") || k < 0) {
        lcb_json_free(root);
        return lcb_err_set(err, LCB_ECORRUPT, "sidecar: no backup_id or kind");
    }
    it->kind = (enum lcb_kind)k;
    it->backup_id = lcb_xstrdup(lcb_json_get_str(o, "backup_id"));
    it->env = dup_or_null(lcb_json_get_str(o, "env"));
    it->target = dup_or_null(lcb_json_get_str(o, "target"));
    it->sha256 = dup_or_null(lcb_json_get_str(o, "sha256"));
    it->taken = json_time(lcb_json_get(o, "taken_at"));
    it->size = (long long)lcb_json_get_num(o, "size", 0);
    m = lcb_json_get(root, "manifest");
    if (!m)
        m = lcb_json_get(o, "manifest");
    it->items = (long long)lcb_json_get_num(o, "entities", -1);
    if (it->items < 0)
        it->items = (long long)lcb_json_get_num(m, "total", 0);
    if (m) {
        lcb_json_print(&man, m, 0);
        it->manifest = lcb_buf_detach(&man, NULL);
    }
    lcb_json_free(root);
    return 0;
}

static int
is_sidecar(const char *key)
{
    size_t n = strlen(key), s = strlen(SIDECAR);

    return n > s && strcmp(key + n - s, SIDECAR) == 0;
}

static int
is_archive(const char *key)
{
    size_t n = strlen(key);

    return n > 8 && strcmp(key + n - 8, ".tar.zst") == 0;
}

/* An archive without a (readable) sidecar: what its key says. */
static void
archive_from_key(struct lcb_inv_item *it, const char *key, size_t plen)
{
    const char *rest = key + plen, *slash = strchr(rest, '/'), *base = strrchr(key, '/');
    char kind[16] = "";
    int k;

    if (slash && (size_t)(slash - rest) < sizeof(kind))
        snprintf(kind, sizeof(kind), "%.*s", (int)(slash - rest), rest);
    k = lcb_kind_parse(kind);
    it->kind = k < 0 ? LCB_KIND_BROKER : (enum lcb_kind)k;
    base = base ? base + 1 : key;
    if (strstr(base, ".tar.zst"))
        it->backup_id = lcb_xstrndup(base, (size_t)(strstr(base, ".tar.zst") - base));
}

static int
present(const struct lcb_s3_list *l, const char *key)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return 1;
    return 0;
}

static int
read_sidecar(struct lcb_inv_item *it, struct lcb_aws *aws, const char *bucket, const char *key)
{
    struct lcb_buf text = LCB_BUF_INIT;
    struct lcb_err err;
    int rc;

    rc = lcb_s3_get_buf(NULL, aws, bucket, key, NULL, &text, MAX_SIDECAR, &err);
    if (rc == 0)
        rc = lcb_inventory_sidecar(it, text.ptr, text.len, &err);
    if (rc < 0) {
        char line[LCB_ERR_MSG_LEN];
        lcb_log(LCB_WARN, "inventory.sidecar", "s3://%s/%s: %s", bucket, key,
                lcb_err_format(&err, line, sizeof(line)));
    }
    lcb_buf_release(&text);
    return rc;
}

static int
collect_s3(struct lcb_inventory *inv, struct lcb_aws *aws, const struct lcb_policy *p,
           const char *env, struct lcb_err *err)
{
    struct lcb_s3_list l;
    struct lcb_s3_list_opts o;
    char *prefix = lcb_xasprintf("%s%s%s/", p->prefix && *p->prefix ? p->prefix : "",
                                 p->prefix && *p->prefix ? "/" : "", env);
    size_t i, plen = strlen(prefix);
    int rc;

    lcb_s3_list_init(&l);
    memset(&o, 0, sizeof(o));
    o.prefix = prefix;
    rc = lcb_s3_list_all(&l, aws, p->bucket, &o, 0, err);
    for (i = 0; rc == 0 && i < l.n; i++) {
        const char *key = l.items[i].key;
        struct lcb_inv_item *it;
        char *archive = is_sidecar(key) ? lcb_xstrndup(key, strlen(key) - strlen(SIDECAR)) : NULL;
        char *sidecar = archive ? NULL : lcb_xasprintf("%s%s", key, SIDECAR);
        if (archive || (is_archive(key) && !present(&l, sidecar))) {
            it = add(inv, LCB_INV_ARCHIVE, LCB_KIND_BROKER);
            it->location = lcb_xasprintf("s3://%s/%s", p->bucket, archive ? archive : key);
            it->region = dup_or_null(p->region);
            it->state = lcb_xstrdup("stored");
            it->sidecar = archive != NULL;
            it->archive = archive ? present(&l, archive) : 1;
            if (!archive || read_sidecar(it, aws, p->bucket, key) < 0) {
                free(it->backup_id);
                it->backup_id = NULL;
                archive_from_key(it, archive ? archive : key, plen);
                it->taken = l.items[i].last_modified;
            }
        }
        free(archive);
        free(sidecar);
    }
    if (rc < 0)
        lcb_wrap(err, "list s3://%s/%s", p->bucket, prefix);
    lcb_s3_list_release(&l);
    free(prefix);
    return rc;
}

static int
collect_uploads(struct lcb_inventory *inv, struct lcb_aws *aws, const struct lcb_policy *p,
                struct lcb_err *err)
{
    struct lcb_s3_uploads u;
    char *prefix = lcb_xasprintf("%s/", p->prefix && *p->prefix ? p->prefix : "");
    size_t i;
    int rc;

    lcb_s3_uploads_init(&u);
    rc = lcb_s3_mpu_list(&u, aws, p->bucket, *p->prefix ? prefix : NULL, err);
    for (i = 0; rc == 0 && i < u.n; i++) {
        struct lcb_inv_item *it = add(inv, LCB_INV_UPLOAD, LCB_KIND_BROKER);
        it->location = lcb_xasprintf("s3://%s/%s", p->bucket, u.items[i].key);
        it->state = lcb_xstrdup(u.items[i].upload_id);
        it->region = dup_or_null(p->region);
        it->taken = u.items[i].initiated;
    }
    if (rc < 0)
        lcb_wrap(err, "list multipart uploads in s3://%s/%s", p->bucket, prefix);
    lcb_s3_uploads_release(&u);
    free(prefix);
    return rc;
}

int
lcb_inventory_collect(struct lcb_inventory *inv, struct lcb_aws *aws,
                      const struct lcb_policy *p, const char *env, struct lcb_err *err)
{
    const char *regions[2] = { p->region, p->dr_region };
    size_t i;

    if (!env)
        env = p->env;
    for (i = 0; i < 2; i++) {
        if (!regions[i])
            continue;
        if (collect_rds(inv, aws, regions[i], env, err) < 0 ||
            collect_ebs(inv, aws, regions[i], env, err) < 0)
            return -1;
    }
    if (collect_s3(inv, aws, p, env, err) < 0 || collect_uploads(inv, aws, p, err) < 0)
        return -1;
    return 0;
}
