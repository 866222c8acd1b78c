/* reader.c - the caller's source -> zstd (zst.c) -> tar (arc.c) -> entries, checked against
 * MANIFEST.json; see archive.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "../ext/arc.h"
#include "../ext/zst.h"
#include "archive.h"
#include "jsonscan.h"

#define SCRATCH 65536

enum phase { ENTRIES, AFTER_MANIFEST, VERIFIED, BROKEN };

struct lcb_archive_reader {
    lcb_archive_source_fn source;
    void *ud;
    int flags;
    struct lcb_zst_dec *zst;
    struct lcb_arc_reader *tar;
    struct lcb_sha256 *whole;
    struct lcb_sha256 *entry;
    uint64_t tar_bytes;
    struct lcb_manifest seen;     /* what the archive holds, in archive order */
    struct lcb_manifest manifest; /* what MANIFEST.json says */
    int have_manifest;
    struct lcb_buf mtext;         /* MANIFEST.json's bytes, served to the caller */
    size_t mpos;
    /* the current entry */
    char *name;
    uint64_t size, got;
    int in_entry, is_json, is_manifest;
    struct lcb_jsonscan scan;
    size_t nentries;
    char *scratch;
    enum phase phase;
    char whole_hex[LCB_SHA256_HEX];
};

/* The caller's bytes, hashed on the way in. */
static int
from_source(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err)
{
    struct lcb_archive_reader *r = ud;

    if (r->source(r->ud, buf, cap, got, err) < 0)
        return -1;
    lcb_sha256_update(r->whole, buf, *got);
    return 0;
}

/* Decompressed bytes for tar. */
static int
from_zstd(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err)
{
    struct lcb_archive_reader *r = ud;

    if (lcb_zst_dec_read(r->zst, buf, cap, got, err) < 0)
        return -1;
    r->tar_bytes += *got;
    return 0;
}

int
lcb_archive_reader_new(struct lcb_archive_reader **out, lcb_archive_source_fn source, void *ud,
                       int flags, struct lcb_err *err)
{
    struct lcb_archive_reader *r = lcb_xcalloc(1, sizeof(*r));

    *out = NULL;
    r->source = source;
    r->ud = ud;
    r->flags = flags;
    r->whole = lcb_sha256_new();
    r->entry = lcb_sha256_new();
    r->scratch = lcb_xmalloc(SCRATCH);
    lcb_manifest_init(&r->seen, NULL);
    lcb_manifest_init(&r->manifest, NULL);
    lcb_buf_init(&r->mtext, LCB_MANIFEST_MAX);
    if (lcb_zst_dec_new(&r->zst, from_source, r, 0, err) < 0 ||
        lcb_arc_reader_new(&r->tar, from_zstd, r, err) < 0) {
        lcb_archive_reader_free(r);
        return lcb_wrap(err, "archive reader");
    }
    *out = r;
    return 0;
}

static int
broken(struct lcb_archive_reader *r)
{
    r->phase = BROKEN;
    return -1;
}

static int
entry_fail(struct lcb_archive_reader *r, struct lcb_err *err, const char *fmt, const char *a,
           const char *b)
{
    lcb_err_set(err, LCB_ECORRUPT, fmt, r->name, a, b);
    return broken(r);
}

/* Read the current entry's data through the hash (and the JSON check). */
static int
pull(struct lcb_archive_reader *r, void *buf, size_t cap, size_t *got, struct lcb_err *err)
{
    if (lcb_arc_reader_data(r->tar, buf, cap, got, err) < 0) {
        lcb_wrap(err, "entry \"%.200s\"", r->name);
        return broken(r);
    }
    lcb_sha256_update(r->entry, buf, *got);
    r->got += *got;
    if (r->is_json && *got && lcb_jsonscan_feed(&r->scan, buf, *got) < 0)
        return entry_fail(r, err, "entry \"%.200s\": not valid JSON: %s%s", r->scan.error, "");
    if (*got == 0)
        r->in_entry = 0;
    return 0;
}

/* The current entry is done: drain it, check its JSON, remember its size and hash. */
static int
close_entry(struct lcb_archive_reader *r, struct lcb_err *err)
{
    unsigned char d[LCB_SHA256_LEN];
    char hex[LCB_SHA256_HEX];
    size_t got;

    if (!r->name)
        return 0;
    while (r->in_entry)
        if (pull(r, r->scratch, SCRATCH, &got, err) < 0)
            return -1;
    if (r->is_json && lcb_jsonscan_end(&r->scan) < 0)
        return entry_fail(r, err, "entry \"%.200s\": not valid JSON: %s%s", r->scan.error, "");
    lcb_sha256_final(r->entry, d);
    lcb_hex(d, sizeof(d), hex);
    if (!r->is_manifest && lcb_manifest_entry_find(&r->seen, r->name))
        return entry_fail(r, err, "entry \"%.200s\" appears twice in the archive%s%s", "", "");
    if (!r->is_manifest &&
        lcb_manifest_entry_add(&r->seen, r->name, r->got, hex, r->is_json ? r->scan.items : -1,
                               err) < 0) {
        err->code = LCB_ECORRUPT;
        return broken(r);
    }
    free(r->name);
    r->name = NULL;
    return 0;
}

static int
has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* MANIFEST.json is read whole (it is small) and parsed before the caller sees it. */
static int
load_manifest(struct lcb_archive_reader *r, struct lcb_err *err)
{
    size_t got;

    if (r->have_manifest)
        return entry_fail(r, err, "entry \"%.200s\" appears twice%s%s", "", "");
    if (r->size > LCB_MANIFEST_MAX)
        return entry_fail(r, err, "entry \"%.200s\" is larger than 64 MiB%s%s", "", "");
    do {
        if (pull(r, r->scratch, SCRATCH, &got, err) < 0)
            return -1;
        lcb_buf_add(&r->mtext, r->scratch, got);
    } while (got > 0);
    lcb_manifest_release(&r->manifest);
    if (lcb_manifest_parse(&r->manifest, r->mtext.ptr ? r->mtext.ptr : "", r->mtext.len, err) < 0) {
        lcb_wrap(err, "entry \"%s\"", LCB_MANIFEST_NAME);
        return broken(r);
    }
    r->have_manifest = 1;
    r->mpos = 0;
    return 0;
}

static int
open_entry(struct lcb_archive_reader *r, const struct lcb_arc_entry *ae,
           struct lcb_archive_entry *e, struct lcb_err *err)
{
    r->name = lcb_xstrdup(ae->name);
    r->size = (uint64_t)ae->size;
    r->got = 0;
    r->in_entry = 1;
    r->is_manifest = strcmp(ae->name, LCB_MANIFEST_NAME) == 0;
    r->is_json = (r->flags & LCB_ARCHIVE_CHECK_JSON) && has_suffix(ae->name, ".json");
    lcb_jsonscan_init(&r->scan);
    r->nentries++;
    if (r->phase == AFTER_MANIFEST)
        return entry_fail(r, err, "entry \"%.200s\" follows %s%s: appended data?",
                          LCB_MANIFEST_NAME, "");
    if (r->is_manifest) {
        if (load_manifest(r, err) < 0)
            return -1;
        r->phase = AFTER_MANIFEST;
    }
    e->name = r->name;
    e->size = r->size;
    e->mtime = ae->mtime;
    e->is_manifest = r->is_manifest;
    return 0;
}

/* After tar's end-of-archive marker: only zero padding may follow, then zstd must end cleanly
 * (which checks the last frame's checksum and reads the source to its end). */
static int
drain(struct lcb_archive_reader *r, struct lcb_err *err)
{
    const unsigned char *tail;
    const void *p;
    size_t got, i, n;

    if (lcb_arc_reader_tail(r->tar, &p, &n) < 0) {
        lcb_err_set(err, LCB_ECORRUPT, "tar: cannot account for the bytes after the "
                    "end-of-archive marker");
        return broken(r);
    }
    for (tail = p, i = 0; i < n; i++)
        if (tail[i] != 0) {
            lcb_err_set(err, LCB_ECORRUPT, "tar: data after the end-of-archive marker");
            return broken(r);
        }
    do {
        if (lcb_zst_dec_read(r->zst, r->scratch, SCRATCH, &got, err) < 0)
            return broken(r);
        for (i = 0; i < got; i++)
            if (r->scratch[i] != 0) {
                lcb_err_set(err, LCB_ECORRUPT, "tar: data after the end-of-archive marker");
                return broken(r);
            }
        r->tar_bytes += got;
    } while (got > 0);
    return 0;
}

static int
mismatch(struct lcb_archive_reader *r, struct lcb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
mismatch(struct lcb_archive_reader *r, struct lcb_err *err, const char *fmt, ...)
{
    char msg[LCB_ERR_MSG_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lcb_err_set(err, LCB_ECORRUPT, "%s", msg);
    return broken(r);
}

/* Every entry read against MANIFEST.json, in archive order, then what the manifest lists but the
 * archive lacks. */
static int
check_entries(struct lcb_archive_reader *r, struct lcb_err *err)
{
    const struct lcb_manifest_entry *s, *m;
    size_t i;

    for (i = 0; i < r->seen.nentries; i++) {
        s = &r->seen.entries[i];
        m = lcb_manifest_entry_find(&r->manifest, s->name);
        if (!m)
            return mismatch(r, err, "entry \"%.200s\" is not listed in %s", s->name,
                            LCB_MANIFEST_NAME);
        if (m->size != s->size)
            return mismatch(r, err, "entry \"%.200s\": %llu bytes, %s says %llu", s->name,
                            (unsigned long long)s->size, LCB_MANIFEST_NAME,
                            (unsigned long long)m->size);
        if (strcmp(m->sha256, s->sha256) != 0)
            return mismatch(r, err, "entry \"%.200s\": sha256 %s does not match %s's %s",
                            s->name, s->sha256, LCB_MANIFEST_NAME, m->sha256);
        if (m->items >= 0 && s->items >= 0 && m->items != s->items)
            return mismatch(r, err, "entry \"%.200s\": %lld items, %s says %lld", s->name,
                            (long long)s->items, LCB_MANIFEST_NAME, (long long)m->items);
    }
    for (i = 0; i < r->manifest.nentries; i++) {
        m = &r->manifest.entries[i];
        if (!lcb_manifest_entry_find(&r->seen, m->name))
            return mismatch(r, err, "entry \"%.200s\" listed in %s is missing from the archive",
                            m->name, LCB_MANIFEST_NAME);
    }
    return 0;
}

/* Sum the items of entities/<Type>/... pages per type into sums' counts. */
static int
sum_pages(struct lcb_archive_reader *r, struct lcb_manifest *sums, struct lcb_err *err)
{
    const struct lcb_manifest_entry *s;
    struct lcb_buf type = LCB_BUF_INIT;
    const char *t, *slash;
    size_t i;
    int rc = 0;

    for (i = 0; i < r->seen.nentries && rc == 0; i++) {
        s = &r->seen.entries[i];
        if (strncmp(s->name, "entities/", 9) != 0)
            continue;
        t = s->name + 9;
        slash = strchr(t, '/');
        lcb_buf_reset(&type);
        if (!slash || lcb_manifest_name_decode(&type, t, (size_t)(slash - t)) < 0)
            rc = mismatch(r, err, "entry \"%.200s\": not entities/<Type>/<page>", s->name);
        else if (s->items < 0)
            rc = mismatch(r, err, "entry \"%.200s\": not a JSON array of entities", s->name);
        else
            lcb_manifest_count_add(sums, lcb_buf_str(&type), (uint64_t)s->items);
    }
    lcb_buf_release(&type);
    return rc;
}

/* kind "broker": each type's count equals the items of its pages, and no type is left out. */
static int
check_counts(struct lcb_archive_reader *r, struct lcb_err *err)
{
    struct lcb_manifest sums;
    const struct lcb_manifest_count *c;
    int64_t n;
    size_t i;
    int rc = 0;

    if (!(r->flags & LCB_ARCHIVE_CHECK_JSON) || strcmp(r->manifest.kind, "broker") != 0)
        return 0;
    lcb_manifest_init(&sums, NULL);
    rc = sum_pages(r, &sums, err);
    for (i = 0; rc == 0 && i < sums.ncounts; i++) {
        c = &sums.counts[i];
        n = lcb_manifest_count_get(&r->manifest, c->type);
        if (n != (int64_t)c->n)
            rc = mismatch(r, err, "type \"%.200s\": %llu entities in the archive, %s counts %lld",
                          c->type, (unsigned long long)c->n, LCB_MANIFEST_NAME,
                          (long long)(n < 0 ? 0 : n));
    }
    for (i = 0; rc == 0 && i < r->manifest.ncounts; i++) {
        c = &r->manifest.counts[i];
        if (c->n > 0 && lcb_manifest_count_get(&sums, c->type) < 0)
            rc = mismatch(r, err, "type \"%.200s\": %s counts %llu entities, the archive has "
                          "none", c->type, LCB_MANIFEST_NAME, (unsigned long long)c->n);
    }
    lcb_manifest_release(&sums);
    return rc;
}

static int
finish(struct lcb_archive_reader *r, struct lcb_err *err)
{
    unsigned char d[LCB_SHA256_LEN];

    if (drain(r, err) < 0)
        return -1;
    lcb_sha256_final(r->whole, d);
    lcb_hex(d, sizeof(d), r->whole_hex);
    if (!r->have_manifest)
        return mismatch(r, err, "no %s: the archive is truncated or was not written by lcbackup",
                        LCB_MANIFEST_NAME);
    if (check_entries(r, err) < 0 || check_counts(r, err) < 0)
        return -1;
    r->phase = VERIFIED;
    return 0;
}

int
lcb_archive_reader_next(struct lcb_archive_reader *r, struct lcb_archive_entry *e,
                        struct lcb_err *err)
{
    struct lcb_arc_entry ae;
    int rc;

    memset(e, 0, sizeof(*e));
    if (r->phase == BROKEN)
        return lcb_err_set(err, LCB_EUSAGE, "archive reader failed earlier");
    if (r->phase == VERIFIED)
        return 0;
    if (close_entry(r, err) < 0)
        return -1;
    rc = lcb_arc_reader_next(r->tar, &ae, err);
    if (rc < 0)
        return broken(r);
    if (rc == 0)
        return finish(r, err);
    if (open_entry(r, &ae, e, err) < 0)
        return -1;
    return 1;
}

int
lcb_archive_verify(struct lcb_archive_totals *totals, struct lcb_manifest *m,
                   lcb_archive_source_fn source, void *ud, int flags, struct lcb_err *err)
{
    struct lcb_archive_reader *r;
    struct lcb_archive_entry e;
    int rc;

    if (m)
        lcb_manifest_init(m, NULL);
    if (lcb_archive_reader_new(&r, source, ud, flags, err) < 0)
        return -1;
    while ((rc = lcb_archive_reader_next(r, &e, err)) == 1)
        ;
    if (totals)
        lcb_archive_reader_totals(r, totals);
    if (rc == 0 && m) {
        lcb_manifest_release(m);
        *m = r->manifest;
        lcb_manifest_init(&r->manifest, NULL);
        r->have_manifest = 0;
    }
    lcb_archive_reader_free(r);
    return rc;
}

int
lcb_archive_reader_read(struct lcb_archive_reader *r, void *buf, size_t cap, size_t *got,
                        struct lcb_err *err)
{
    size_t n;

    *got = 0;
    if (r->phase == BROKEN)
        return lcb_err_set(err, LCB_EUSAGE, "archive reader failed earlier");
    if (!r->name)
        return 0;
    if (r->is_manifest) {
        n = r->mtext.len - r->mpos;
        n = n < cap ? n : cap;
        memcpy(buf, r->mtext.ptr + r->mpos, n);
        r->mpos += n;
        *got = n;
        return 0;
    }
    return r->in_entry ? pull(r, buf, cap, got, err) : 0;
}

struct lcb_manifest *
lcb_archive_reader_manifest(struct lcb_archive_reader *r)
{
    return r->have_manifest ? &r->manifest : NULL;
}

void
lcb_archive_reader_totals(const struct lcb_archive_reader *r, struct lcb_archive_totals *t)
{
    memset(t, 0, sizeof(*t));
    t->bytes = lcb_zst_dec_in(r->zst);
    memcpy(t->sha256, r->whole_hex, sizeof(t->sha256));
    t->tar_bytes = r->tar_bytes;
    t->entries = r->nentries;
}

void
lcb_archive_reader_free(struct lcb_archive_reader *r)
{
    if (!r)
        return;
    lcb_arc_reader_free(r->tar);
    lcb_zst_dec_free(r->zst);
    lcb_sha256_free(r->whole);
    lcb_sha256_free(r->entry);
    lcb_manifest_release(&r->seen);
    lcb_manifest_release(&r->manifest);
    lcb_buf_release(&r->mtext);
    free(r->name);
    free(r->scratch);
    free(r);
}
