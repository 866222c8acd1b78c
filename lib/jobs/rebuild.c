/* rebuild.c - catalog rows from an inventory (`catalog rebuild`), and drift between the two
 * (`catalog drift`); see inventory.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../core/clock.h"
#include "../core/mem.h"
#include "../ext/db.h"
#include "../ext/json.h"
#include "inventory.h"

/* The catalog status for what AWS says. */
static const char *
status_of(const struct lcb_inv_item *it)
{
    const char *s = it->state ? it->state : "";

    if (strcmp(s, "available") == 0 || strcmp(s, "completed") == 0 || strcmp(s, "stored") == 0)
        return "completed";
    if (strcmp(s, "creating") == 0 || strcmp(s, "pending") == 0 || strcmp(s, "copying") == 0)
        return "pending";
    return "failed";
}

static int
exists(struct lcb_catalog *cat, const char *sql, const char *a, const char *b, struct lcb_err *err)
{
    struct lcb_stmt *st;
    int rc;

    if (lcb_db_prepare(&st, lcb_catalog_db(cat), sql, err) < 0)
        return -1;
    lcb_stmt_text(st, 1, a);
    if (b)
        lcb_stmt_text(st, 2, b);
    rc = lcb_stmt_step(st, err);
    lcb_stmt_free(st);
    return rc;
}

/* The policy target of a snapshot without a lcbackup:target tag (RDS: by instance). */
static const char *
infer_target(const struct lcb_policy *p, const struct lcb_inv_item *it)
{
    size_t i;

    for (i = 0; it->source && i < p->ntargets; i++)
        if (p->targets[i].kind == it->kind && p->targets[i].instance &&
            strcmp(p->targets[i].instance, it->source) == 0)
            return p->targets[i].name;
    return NULL;
}

static char *
xdup(const char *s)
{
    return s ? lcb_xstrdup(s) : NULL;
}

/* What a backup was taken from, when AWS does not say: an archive's manifest "source" (the
 * broker URL without credentials, the config paths); for EBS the policy target's volume
 * selection written as lib/snapshot does ("vol-1,vol-2", "i-0abc", "tag:Name=x"). */
static char *
source_of(const struct lcb_inv_item *it, const struct lcb_policy *p, const char *target)
{
    const struct lcb_target *t = target ? lcb_policy_target(p, it->kind, target) : NULL;
    struct lcb_json *m = NULL;
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_err ignored;
    size_t i;

    if (it->source)
        return lcb_xstrdup(it->source);
    if (it->manifest && lcb_json_parse(&m, it->manifest, strlen(it->manifest), &ignored) == 0) {
        char *s = xdup(lcb_json_get_str(m, "source"));
        lcb_json_free(m);
        return s;
    }
    if (it->kind != LCB_KIND_EBS || !t)
        return NULL;
    for (i = 0; i < t->nvolume_ids; i++)
        lcb_buf_addf(&b, "%s%s", i ? "," : "", t->volume_ids[i]);
    if (!t->nvolume_ids && t->instance_id)
        lcb_buf_adds(&b, t->instance_id);
    for (i = 0; !t->nvolume_ids && i < t->ntags; i++)
        lcb_buf_addf(&b, "%stag:%s=%s", b.len ? "," : "", t->tags[i].key, t->tags[i].value);
    return lcb_buf_detach(&b, NULL);
}

static int
add_backup(struct lcb_catalog *cat, const struct lcb_inv_item *it, const struct lcb_policy *p,
           const char *env, struct lcb_buf *report, struct lcb_err *err)
{
    struct lcb_backup b;
    char ts[LCB_TIME_LEN];
    int rc;

    memset(&b, 0, sizeof(b));
    b.id = lcb_xstrdup(it->backup_id);
    b.kind = lcb_xstrdup(lcb_kind_name(it->kind));
    b.env = xdup(it->env ? it->env : env);
    b.target = xdup(it->target ? it->target : infer_target(p, it));
    b.source = source_of(it, p, b.target);
    b.location = xdup(it->location);
    b.region = xdup(it->region);
    b.status = lcb_xstrdup(status_of(it));
    b.started_at = b.taken_at = it->taken ? it->taken : lcb_now();
    b.completed_at = strcmp(b.status, "completed") == 0 ? b.taken_at : 0;
    b.size_bytes = it->size;
    b.item_count = it->items;
    b.sha256 = xdup(it->sha256);
    b.manifest = it->manifest ? lcb_xstrdup(it->manifest)
                              : lcb_xstrdup("{\"rebuilt\":\"from the snapshot's tags\"}");
    b.policy = xdup(it->policy);
    rc = lcb_catalog_backup_add(cat, &b, err);
    if (rc == 0)
        rc = lcb_catalog_event(cat, b.run_id, b.id, "backup.rebuilt", it->location, err);
    if (rc == 0)
        lcb_buf_addf(report, "added  %-34s %-6s %-22s %s  %s (%s%s%s)\n", b.id, b.kind,
                     b.target ? b.target : "-", lcb_time_fmt(b.taken_at, ts), b.location,
                     b.region ? b.region : "", b.region ? ", " : "", b.status);
    lcb_backup_release(&b);
    return rc;
}

/* A backup is recorded from its primary item, else (the primary is gone) from a copy. */
static int
primary(const struct lcb_inv_item *it)
{
    return it->backup_id && ((it->what == LCB_INV_SNAPSHOT && !it->copy) ||
                             (it->what == LCB_INV_ARCHIVE && it->archive && it->sidecar));
}

static int
add_copy(struct lcb_catalog *cat, const struct lcb_inv_item *it, struct lcb_rebuild_stats *st,
         struct lcb_buf *report, struct lcb_err *err)
{
    int rc = exists(cat, "SELECT 1 FROM copies WHERE backup_id=?1 AND region=?2", it->backup_id,
                    it->region, err);

    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (lcb_catalog_copy_add(cat, it->backup_id, it->region, it->location, status_of(it), err) < 0)
        return -1;
    lcb_buf_addf(report, "copy   %-34s %s in %s\n", it->backup_id, it->location, it->region);
    st->copies++;
    return 0;
}

int
lcb_rebuild(struct lcb_catalog *cat, const struct lcb_inventory *inv,
            const struct lcb_policy *p, const char *env, struct lcb_rebuild_stats *st,
            struct lcb_buf *report, struct lcb_err *err)
{
    size_t i;
    int pass, rc;

    memset(st, 0, sizeof(*st));
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < inv->n; i++) {
            const struct lcb_inv_item *it = &inv->items[i];
            if (!it->backup_id || (it->what == LCB_INV_ARCHIVE && !primary(it))) {
                st->skipped += pass == 0;
                continue;
            }
            if (primary(it) != (pass == 0))
                continue;
            rc = exists(cat, "SELECT 1 FROM backups WHERE id=?1", it->backup_id, NULL, err);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                if (add_backup(cat, it, p, env, report, err) < 0)
                    return -1;
                st->added++;
                if (!primary(it))
                    continue; /* recorded from the copy: it is the backup now */
            } else if (pass == 0) {
                st->known++;
            }
            if (pass == 1 && add_copy(cat, it, st, report, err) < 0)
                return -1;
        }
    }
    return 0;
}

/* ---- drift ---- */

void
lcb_drift_release(struct lcb_drift *d)
{
    size_t i;

    for (i = 0; i < d->n; i++) {
        free(d->items[i].backup_id);
        free(d->items[i].detail);
    }
    free(d->items);
    memset(d, 0, sizeof(*d));
}

static void
drift_add(struct lcb_drift *d, const char *what, const char *id, char *detail)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->items = lcb_xrealloc(d->items, d->cap * sizeof(*d->items));
    }
    d->items[d->n].what = what;
    d->items[d->n].backup_id = id ? lcb_xstrdup(id) : NULL;
    d->items[d->n++].detail = detail;
}

/* The inventory item of a backup (primary: not a copy; else the copy in region). */
static const struct lcb_inv_item *
find(const struct lcb_inventory *inv, const char *id, int copy, const char *region)
{
    size_t i;

    for (i = 0; i < inv->n; i++) {
        const struct lcb_inv_item *it = &inv->items[i];
        if (!it->backup_id || strcmp(it->backup_id, id) != 0 || it->what == LCB_INV_UPLOAD)
            continue;
        if (it->what == LCB_INV_ARCHIVE && !it->archive)
            continue;
        if (copy != it->copy || (region && it->region && strcmp(region, it->region) != 0))
            continue;
        return it;
    }
    return NULL;
}

static const struct lcb_backup *
catalog_row(const struct lcb_backup_list *l, const char *id)
{
    size_t i;

    for (i = 0; id && i < l->n; i++)
        if (strcmp(l->items[i].id, id) == 0)
            return &l->items[i];
    return NULL;
}

static int
live(const char *status)
{
    return strcmp(status, "completed") == 0 || strcmp(status, "pending") == 0;
}

struct copy_row {
    char *backup_id, *region, *location, *status;
};

struct copies {
    struct copy_row *items;
    size_t n;
};

static void
copies_release(struct copies *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        free(c->items[i].backup_id);
        free(c->items[i].region);
        free(c->items[i].location);
        free(c->items[i].status);
    }
    free(c->items);
}

static int
copies_load(struct copies *c, struct lcb_catalog *cat, struct lcb_err *err)
{
    struct lcb_stmt *st;
    size_t cap = 0;
    int rc;

    memset(c, 0, sizeof(*c));
    if (lcb_db_prepare(&st, lcb_catalog_db(cat),
                       "SELECT backup_id, region, location, status FROM copies", err) < 0)
        return -1;
    while ((rc = lcb_stmt_step(st, err)) == 1) {
        if (c->n == cap) {
            cap = cap ? cap * 2 : 16;
            c->items = lcb_xrealloc(c->items, cap * sizeof(*c->items));
        }
        c->items[c->n].backup_id = xdup(lcb_col_text(st, 0));
        c->items[c->n].region = xdup(lcb_col_text(st, 1));
        c->items[c->n].location = xdup(lcb_col_text(st, 2));
        c->items[c->n++].status = xdup(lcb_col_text(st, 3));
    }
    lcb_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

static const struct copy_row *
copy_row(const struct copies *c, const char *id, const char *region)
{
    size_t i;

    for (i = 0; id && region && i < c->n; i++)
        if (c->items[i].backup_id && c->items[i].region &&
            strcmp(c->items[i].backup_id, id) == 0 && strcmp(c->items[i].region, region) == 0)
            return &c->items[i];
    return NULL;
}

static int
snapshot_kind(const char *kind)
{
    return strcmp(kind, "rds") == 0 || strcmp(kind, "ebs") == 0;
}

/* The catalog's side: what should exist and does not. */
static void
catalog_side(struct lcb_drift *out, const struct lcb_backup_list *l, const struct copies *c,
             const struct lcb_inventory *inv)
{
    const struct lcb_inv_item *it;
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct lcb_backup *b = &l->items[i];
        if (!live(b->status))
            continue;
        it = find(inv, b->id, 0, snapshot_kind(b->kind) ? b->region : NULL);
        if (!it)
            drift_add(out, "missing", b->id,
                      lcb_xasprintf("%s %s%s%s is gone (the catalog says %s)", b->kind,
                                    b->location ? b->location : "-",
                                    snapshot_kind(b->kind) && b->region ? " in " : "",
                                    snapshot_kind(b->kind) && b->region ? b->region : "",
                                    b->status));
        else if (b->location && it->location && strcmp(b->location, it->location) != 0)
            drift_add(out, "missing", b->id, lcb_xasprintf("the catalog says %s, AWS has %s",
                                                           b->location, it->location));
    }
    for (i = 0; i < c->n; i++) {
        const struct copy_row *r = &c->items[i];
        const struct lcb_backup *b = catalog_row(l, r->backup_id);
        if (!b || !live(b->status) || !r->status || !live(r->status) ||
            find(inv, r->backup_id, 1, r->region))
            continue;
        drift_add(out, "missing-copy", r->backup_id, lcb_xasprintf("copy %s in %s is gone",
                  r->location ? r->location : "-", r->region ? r->region : "-"));
    }
}

/* AWS's side: what exists and the catalog does not know, or thinks gone. */
static void
aws_side(struct lcb_drift *out, const struct lcb_backup_list *l, const struct copies *c,
         const struct lcb_inventory *inv)
{
    char ts[LCB_TIME_LEN];
    size_t i;

    for (i = 0; i < inv->n; i++) {
        const struct lcb_inv_item *it = &inv->items[i];
        const struct lcb_backup *b = catalog_row(l, it->backup_id);
        const char *what = it->copy ? "copy " : "";
        if (it->what == LCB_INV_UPLOAD) {
            drift_add(out, "upload", NULL, lcb_xasprintf("unfinished multipart upload of %s "
                      "(upload id %s, started %s)", it->location, it->state,
                      lcb_time_fmt(it->taken, ts)));
        } else if (it->what == LCB_INV_ARCHIVE && !it->sidecar) {
            drift_add(out, "no-sidecar", it->backup_id, lcb_xasprintf("%s has no sidecar "
                      "manifest", it->location));
        } else if (it->what == LCB_INV_ARCHIVE && !it->archive) {
            drift_add(out, "no-archive", it->backup_id, lcb_xasprintf("%s.manifest.json has no "
                      "archive", it->location));
        } else if (!b || (it->copy && live(b->status) && !copy_row(c, it->backup_id, it->region))) {
            drift_add(out, "unknown", it->backup_id, lcb_xasprintf("%s%s %s%s%s is not in the "
                      "catalog", what, lcb_kind_name(it->kind), it->location,
                      it->what == LCB_INV_SNAPSHOT ? " in " : "",
                      it->what == LCB_INV_SNAPSHOT ? it->region : ""));
        } else if (!live(b->status)) {
            drift_add(out, "not-expired", it->backup_id, lcb_xasprintf("%s%s %s%s%s still exists "
                      "although the catalog says %s", what, lcb_kind_name(it->kind), it->location,
                      it->what == LCB_INV_SNAPSHOT ? " in " : "",
                      it->what == LCB_INV_SNAPSHOT ? it->region : "", b->status));
        }
    }
}

int
lcb_drift_compare(struct lcb_drift *out, struct lcb_catalog *cat,
                  const struct lcb_inventory *inv, const char *env, struct lcb_err *err)
{
    struct lcb_backup_filter f;
    struct lcb_backup_list l = { NULL, 0 };
    struct copies c;

    memset(out, 0, sizeof(*out));
    memset(&f, 0, sizeof(f));
    f.env = env;
    if (lcb_catalog_backup_list(cat, &f, &l, err) < 0)
        return -1;
    if (copies_load(&c, cat, err) < 0) {
        lcb_backup_list_release(&l);
        return -1;
    }
    catalog_side(out, &l, &c, inv);
    aws_side(out, &l, &c, inv);
    copies_release(&c);
    lcb_backup_list_release(&l);
    return 0;
}
