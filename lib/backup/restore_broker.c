/* restore_broker.c - see restore_broker.h. */
#include "restore_broker.h"

#include <stdlib.h>
#include <string.h>

#include "../archive/archive.h"
#include "../archive/manifest.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/json.h"
#include "s3source.h"

#define MAX_PAGE_BYTES (256u << 20)
#define REPORT_LINES 100

typedef int (*page_fn)(void *ud, const char *type, struct lcb_json *page, struct lcb_err *err);

void
lcb_broker_restore_stats_release(struct lcb_broker_restore_stats *s)
{
    lcb_buf_release(&s->failures);
    lcb_manifest_release(&s->per_type);
}

void
lcb_broker_compare_stats_release(struct lcb_broker_compare_stats *s)
{
    lcb_buf_release(&s->report);
}

/* "entities/<encoded type>/000001.json" -> the type, decoded. Returns 0, or -1 (not a page). */
static int
page_type(const char *name, struct lcb_buf *type)
{
    const char *t, *slash;

    if (strncmp(name, "entities/", 9) != 0)
        return -1;
    t = name + 9;
    slash = strchr(t, '/');
    if (!slash || strstr(slash, ".json") == NULL)
        return -1;
    lcb_buf_reset(type);
    return lcb_manifest_name_decode(type, t, (size_t)(slash - t));
}

static int
read_entry(struct lcb_archive_reader *r, struct lcb_buf *data, struct lcb_err *err)
{
    char chunk[65536];
    size_t got;

    lcb_buf_reset(data);
    do {
        if (lcb_archive_reader_read(r, chunk, sizeof(chunk), &got, err) < 0)
            return -1;
        if (lcb_buf_add(data, chunk, got) < 0)
            return lcb_err_set(err, LCB_ECORRUPT, "an archive page is larger than %u MiB",
                               MAX_PAGE_BYTES >> 20);
    } while (got > 0);
    return 0;
}

/* Call fn for each entity page of the archive whose type passes the filter. */
static int
for_each_page(struct lcb_s3_source *src, const struct lcb_strlist *types, page_fn fn, void *ud,
              struct lcb_err *err)
{
    struct lcb_archive_reader *r = NULL;
    struct lcb_archive_entry e;
    struct lcb_buf type = LCB_BUF_INIT, data = LCB_BUF_INIT;
    struct lcb_json *page;
    int rc;

    lcb_buf_init(&data, MAX_PAGE_BYTES);
    lcb_s3_source_rewind(src);
    if (lcb_archive_reader_new(&r, lcb_s3_source_read, src, 0, err) < 0)
        return -1;
    while ((rc = lcb_archive_reader_next(r, &e, err)) == 1) {
        if (e.is_manifest || page_type(e.name, &type) < 0)
            continue;
        if (types && types->n && !lcb_strlist_has(types, lcb_buf_str(&type)))
            continue;
        if ((rc = read_entry(r, &data, err)) < 0)
            break;
        if ((rc = lcb_json_parse(&page, data.ptr, data.len, err)) < 0) {
            lcb_wrap(err, "archive entry %s", e.name);
            break;
        }
        rc = fn(ud, lcb_buf_str(&type), page, err);
        lcb_json_free(page);
        if (rc < 0)
            break;
    }
    lcb_archive_reader_free(r);
    lcb_buf_release(&type);
    lcb_buf_release(&data);
    return rc < 0 ? -1 : 0;
}

struct restore_state {
    const struct lcb_broker_restore *req;
    struct lcb_broker_restore_stats *st;
};

static int
restore_page(void *ud, const char *type, struct lcb_json *page, struct lcb_err *err)
{
    struct restore_state *s = ud;
    struct lcb_ngsi_write_result res;
    size_t i;

    s->st->entities += (long long)lcb_json_size(page);
    lcb_manifest_count_add(&s->st->per_type, type, lcb_json_size(page));
    memset(&res, 0, sizeof(res));
    if (lcb_ngsi_write(s->req->ngsi, s->req->mode, page, s->req->batch, s->req->batch_bytes, &res,
                       err) < 0)
        return lcb_wrap(err, "write %s entities", type);
    s->st->written += res.written;
    s->st->failed += (long long)res.nfailed;
    for (i = 0; i < res.nfailed; i++)
        lcb_buf_addf(&s->st->failures, "%s: %s\n", res.failed[i].id, res.failed[i].reason);
    lcb_ngsi_write_result_release(&res);
    if (lcb_ngsi_is_dry_run(s->req->ngsi))
        return 0; /* "0 entities written" would alarm; the requests shown are the progress */
    lcb_progress("broker.restore.progress",
                 LCB_FIELDS(LCB_KV_I("written", s->st->written), LCB_KV_I("failed", s->st->failed)),
                 "%lld entities written, %lld failed", s->st->written, s->st->failed);
    return 0;
}

int
lcb_broker_restore_run(const struct lcb_broker_restore *req, struct lcb_s3_source *src,
                       struct lcb_broker_restore_stats *stats, struct lcb_err *err)
{
    struct restore_state s = { req, stats };
    int rc;

    rc = for_each_page(src, req->types, restore_page, &s, err);
    lcb_progress_end();
    return rc;
}

struct compare_state {
    struct lcb_ngsi *ngsi;
    struct lcb_broker_compare_stats *st;
};

static void
report(struct lcb_broker_compare_stats *st, const char *fmt, const char *id)
{
    if (st->missing + st->different <= REPORT_LINES)
        lcb_buf_addf(&st->report, fmt, id);
}

/* Compare up to 100 archived entities with the broker's copies. */
static int
compare_chunk(struct compare_state *c, const char *type, struct lcb_json **ents, size_t n,
              struct lcb_err *err)
{
    char *ids[100] = { NULL };
    struct lcb_json *live = NULL, *e;
    size_t i;

    for (i = 0; i < n; i++)
        ids[i] = (char *)lcb_json_get_str(ents[i], "id");
    if (lcb_ngsi_get_many(c->ngsi, type, ids, n, &live, err) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        for (e = lcb_json_child(live); e; e = lcb_json_next(e))
            if (strcmp(lcb_json_get_str(e, "id") ? lcb_json_get_str(e, "id") : "", ids[i]) == 0)
                break;
        c->st->compared++;
        if (!e) {
            c->st->missing++;
            report(c->st, "missing %s\n", ids[i]);
            continue;
        }
        if (!lcb_ngsi_same(ents[i], e)) {
            c->st->different++;
            report(c->st, "different %s\n", ids[i]);
        }
    }
    lcb_json_free(live);
    return 0;
}

static int
compare_page(void *ud, const char *type, struct lcb_json *page, struct lcb_err *err)
{
    struct compare_state *c = ud;
    struct lcb_json *ents[50], *e;
    size_t n = 0;

    for (e = lcb_json_child(page); e; e = lcb_json_next(e)) {
        ents[n++] = e;
        if (n == 50) {
            if (compare_chunk(c, type, ents, n, err) < 0)
                return -1;
            n = 0;
        }
    }
    return n ? compare_chunk(c, type, ents, n, err) : 0;
}

int
lcb_broker_compare(struct lcb_ngsi *ngsi, const struct lcb_strlist *types,
                   struct lcb_s3_source *src, struct lcb_broker_compare_stats *stats,
                   struct lcb_err *err)
{
    struct compare_state c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.ngsi = ngsi;
    c.st = stats;
    rc = for_each_page(src, types, compare_page, &c, err);
    return rc;
}

/* type is short, and full ends with it right after a '/', '#' or ':' */
static int
short_name_of(const char *full, const char *type)
{
    size_t fl = strlen(full), tl = strlen(type);

    return tl < fl && strcmp(full + fl - tl, type) == 0 && strchr("/#:", full[fl - tl - 1]);
}

static int
resolve_one(const struct lcb_manifest *m, const char *type, const char **out, struct lcb_err *err)
{
    struct lcb_buf held = LCB_BUF_INIT;
    size_t i, fits = 0;

    *out = NULL;
    for (i = 0; i < m->ncounts; i++) {
        if (strcmp(m->counts[i].type, type) == 0) {
            *out = m->counts[i].type;
            return 0;
        }
        if (short_name_of(m->counts[i].type, type) && fits++ == 0)
            *out = m->counts[i].type;
    }
    if (fits == 1)
        return 0;
    for (i = 0; i < m->ncounts; i++)
        if (fits == 0 || short_name_of(m->counts[i].type, type))
            lcb_buf_addf(&held, "%s%s (%llu)", held.len ? ", " : "", m->counts[i].type,
                         (unsigned long long)m->counts[i].n);
    lcb_err_set(err, LCB_EUSAGE, fits ? "type '%s' fits several types of this backup: %s; name "
                "one in full" : "type '%s' is not in this backup, which holds %s", type,
                held.len ? lcb_buf_str(&held) : "no entities");
    lcb_buf_release(&held);
    return -1;
}

int
lcb_broker_resolve_types(struct lcb_strlist *types, const char *manifest, struct lcb_err *err)
{
    struct lcb_strlist named = LCB_STRLIST_INIT;
    struct lcb_manifest m;
    const char *full;
    size_t i;
    int rc = 0;

    if (!types->n || !manifest)
        return 0;
    if (lcb_manifest_parse(&m, manifest, strlen(manifest), err) < 0) {
        lcb_manifest_release(&m); /* a failed parse leaves what it began to the caller */
        return lcb_wrap(err, "the backup's manifest");
    }
    for (i = 0; i < types->n && rc == 0; i++)
        if ((rc = resolve_one(&m, types->items[i], &full, err)) == 0 &&
            !lcb_strlist_has(&named, full))
            lcb_strlist_add(&named, full);
    if (rc == 0) {
        lcb_strlist_release(types);
        *types = named;
    } else {
        lcb_strlist_release(&named);
    }
    lcb_manifest_release(&m);
    return rc;
}
