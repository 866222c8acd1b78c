/* writer.c - entries -> tar (arc.c) -> zstd (zst.c) -> the caller's sink; see archive.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "../core/tmp.h"
#include "../ext/arc.h"
#include "../ext/zst.h"
#include "archive.h"
#include "jsonscan.h"

#define COPY_BLOCK 65536

struct lcb_archive_writer {
    struct lcb_arc_writer *tar;
    struct lcb_zst_enc *zst;
    lcb_archive_sink_fn sink;
    void *ud;
    struct lcb_sha256 *whole;   /* the compressed bytes */
    struct lcb_sha256 *entry;   /* the open entry's data */
    struct lcb_manifest seen;   /* entries written (names, sizes, hashes, items) */
    uint64_t bytes;
    time_t mtime;
    /* the open entry */
    char *name;
    int64_t size;               /* declared, or LCB_ARCHIVE_SIZE_UNKNOWN */
    uint64_t written;
    int is_json;
    int64_t checked_items; /* >= 0: JSON the caller checked, with this many array elements */
    struct lcb_jsonscan scan;
    FILE *spool;
    int failed;
    int finished;
};

/* zstd's output: hash, count, pass on. */
static int
to_sink(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    struct lcb_archive_writer *w = ud;

    lcb_sha256_update(w->whole, data, len);
    w->bytes += len;
    return w->sink(w->ud, data, len, err);
}

/* tar's output: compress. */
static int
to_zstd(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    struct lcb_archive_writer *w = ud;

    return lcb_zst_enc_write(w->zst, data, len, err);
}

int
lcb_archive_writer_new(struct lcb_archive_writer **out, lcb_archive_sink_fn sink, void *ud,
                       int level, int threads, struct lcb_err *err)
{
    struct lcb_archive_writer *w = lcb_xcalloc(1, sizeof(*w));

    *out = NULL;
    w->sink = sink;
    w->ud = ud;
    w->mtime = lcb_now();
    lcb_manifest_init(&w->seen, NULL);
    w->whole = lcb_sha256_new();
    w->entry = lcb_sha256_new();
    if (lcb_zst_enc_new(&w->zst, level, threads, to_sink, w, err) < 0 ||
        lcb_arc_writer_new(&w->tar, to_zstd, w, err) < 0) {
        lcb_archive_writer_free(w);
        return lcb_wrap(err, "archive writer");
    }
    *out = w;
    return 0;
}

void
lcb_archive_writer_set_mtime(struct lcb_archive_writer *w, time_t mtime)
{
    w->mtime = mtime;
}

static int
has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Refuse work after a failure; mark the writer failed when rc < 0. */
static int
usable(struct lcb_archive_writer *w, struct lcb_err *err)
{
    if (w->failed)
        return lcb_err_set(err, LCB_EUSAGE, "archive writer failed earlier: abort the upload");
    if (w->finished)
        return lcb_err_set(err, LCB_EUSAGE, "archive writer already finished");
    return 0;
}

static int
failed(struct lcb_archive_writer *w, struct lcb_err *err, const char *name)
{
    w->failed = 1;
    if (w->spool) {
        fclose(w->spool);
        w->spool = NULL;
    }
    return name ? lcb_wrap(err, "archive entry \"%.200s\"", name) : lcb_wrap(err, "archive");
}

int
lcb_archive_writer_begin(struct lcb_archive_writer *w, const char *name, int64_t size,
                         struct lcb_err *err)
{
    if (usable(w, err) < 0)
        return -1;
    if (w->name)
        return lcb_err_set(err, LCB_EUSAGE, "archive entry \"%.200s\" begun while \"%.200s\" is "
                           "open", name, w->name);
    if (lcb_arc_name_check(name, err) < 0)
        return -1;
    if (strcmp(name, LCB_MANIFEST_NAME) == 0 || lcb_manifest_entry_find(&w->seen, name))
        return lcb_err_set(err, LCB_EUSAGE, "archive entry \"%.200s\": %s", name,
                           strcmp(name, LCB_MANIFEST_NAME) == 0 ? "reserved name"
                                                                : "added twice");
    if (size < 0 && size != LCB_ARCHIVE_SIZE_UNKNOWN)
        return lcb_err_set(err, LCB_EUSAGE, "archive entry \"%.200s\": negative size", name);
    if (size == LCB_ARCHIVE_SIZE_UNKNOWN) {
        int fd = lcb_tmp_open(NULL, "entry"); /* tmpfile() would ignore TMPDIR */

        w->spool = fd >= 0 ? fdopen(fd, "w+b") : NULL;
        if (fd >= 0 && !w->spool)
            close(fd);
        if (!w->spool)
            return lcb_err_sys(err, LCB_EIO, errno, "archive entry \"%.200s\": temporary file",
                               name);
    } else if (lcb_arc_writer_begin(w->tar, name, size, w->mtime, err) < 0) {
        return failed(w, err, name);
    }
    w->name = lcb_xstrdup(name);
    w->size = size;
    w->written = 0;
    w->is_json = has_suffix(name, ".json");
    w->checked_items = -1;
    lcb_jsonscan_init(&w->scan);
    return 0;
}

int
lcb_archive_writer_write(struct lcb_archive_writer *w, const void *data, size_t len,
                         struct lcb_err *err)
{
    if (usable(w, err) < 0)
        return -1;
    if (!w->name)
        return lcb_err_set(err, LCB_EUSAGE, "archive write without an open entry");
    if (w->size >= 0 && len > (uint64_t)w->size - w->written)
        return lcb_err_set(err, LCB_EUSAGE, "archive entry \"%.200s\": more data than the %lld "
                           "bytes declared", w->name, (long long)w->size);
    lcb_sha256_update(w->entry, data, len);
    if (w->is_json && lcb_jsonscan_feed(&w->scan, data, len) < 0) {
        lcb_err_set(err, LCB_ECORRUPT, "not valid JSON: %s", w->scan.error);
        return failed(w, err, w->name);
    }
    if (w->spool ? fwrite(data, 1, len, w->spool) != len
                 : lcb_arc_writer_data(w->tar, data, len, err) < 0) {
        if (w->spool)
            lcb_err_sys(err, LCB_EIO, errno, "temporary file");
        return failed(w, err, w->name);
    }
    w->written += len;
    return 0;
}

/* Copy a spooled entry into the tar stream now that its size is known. */
static int
unspool(struct lcb_archive_writer *w, struct lcb_err *err)
{
    char *buf;
    size_t n;
    int rc = -1;

    if (fflush(w->spool) != 0 || fseek(w->spool, 0, SEEK_SET) != 0)
        return lcb_err_sys(err, LCB_EIO, errno, "temporary file");
    if (lcb_arc_writer_begin(w->tar, w->name, (int64_t)w->written, w->mtime, err) < 0)
        return -1;
    buf = lcb_xmalloc(COPY_BLOCK);
    while ((n = fread(buf, 1, COPY_BLOCK, w->spool)) > 0)
        if (lcb_arc_writer_data(w->tar, buf, n, err) < 0)
            goto out;
    if (ferror(w->spool)) {
        lcb_err_sys(err, LCB_EIO, errno, "temporary file");
        goto out;
    }
    rc = 0;
out:
    free(buf);
    fclose(w->spool);
    w->spool = NULL;
    return rc;
}

int
lcb_archive_writer_end(struct lcb_archive_writer *w, struct lcb_err *err)
{
    unsigned char d[LCB_SHA256_LEN];
    char hex[LCB_SHA256_HEX];

    if (usable(w, err) < 0)
        return -1;
    if (!w->name)
        return lcb_err_set(err, LCB_EUSAGE, "archive entry end without an open entry");
    if (w->size >= 0 && w->written != (uint64_t)w->size) {
        lcb_err_set(err, LCB_EUSAGE, "%llu bytes written of the %lld declared",
                    (unsigned long long)w->written, (long long)w->size);
        return failed(w, err, w->name);
    }
    if (w->is_json && lcb_jsonscan_end(&w->scan) < 0) {
        lcb_err_set(err, LCB_ECORRUPT, "not valid JSON: %s", w->scan.error);
        return failed(w, err, w->name);
    }
    if ((w->spool && unspool(w, err) < 0) || lcb_arc_writer_end(w->tar, err) < 0)
        return failed(w, err, w->name);
    lcb_sha256_final(w->entry, d);
    lcb_hex(d, sizeof(d), hex);
    if (lcb_manifest_entry_add(&w->seen, w->name, w->written, hex,
                               w->checked_items >= 0 ? w->checked_items
                               : w->is_json           ? w->scan.items
                                                      : -1,
                               err) < 0)
        return failed(w, err, w->name);
    free(w->name);
    w->name = NULL;
    return 0;
}

int
lcb_archive_writer_add_checked(struct lcb_archive_writer *w, const char *name, const void *data,
                               size_t len, int64_t items, struct lcb_err *err)
{
    if (!has_suffix(name, ".json") || items < 0)
        return lcb_err_set(err, LCB_EUSAGE, "archive entry \"%.200s\": only a .json array can "
                           "come checked", name);
    if (lcb_archive_writer_begin(w, name, (int64_t)len, err) < 0)
        return -1;
    w->is_json = 0; /* the caller's lcb_jsonscan pass accepted it */
    w->checked_items = items;
    if (lcb_archive_writer_write(w, data, len, err) < 0 || lcb_archive_writer_end(w, err) < 0)
        return -1;
    return 0;
}

int
lcb_archive_writer_add(struct lcb_archive_writer *w, const char *name, const void *data,
                       size_t len, struct lcb_err *err)
{
    if (lcb_archive_writer_begin(w, name, (int64_t)len, err) < 0 ||
        lcb_archive_writer_write(w, data, len, err) < 0 || lcb_archive_writer_end(w, err) < 0)
        return -1;
    return 0;
}

/* Hand the entries seen to m. */
static int
move_entries(struct lcb_archive_writer *w, struct lcb_manifest *m, struct lcb_err *err)
{
    if (m->nentries)
        return lcb_err_set(err, LCB_EUSAGE, "the manifest given to finish already has entries");
    free(m->entries);
    free(m->index);
    m->entries = w->seen.entries;
    m->nentries = w->seen.nentries;
    m->centries = w->seen.centries;
    m->index = NULL;
    m->nindex = 0;
    w->seen.entries = NULL;
    w->seen.nentries = w->seen.centries = 0;
    free(w->seen.index);
    w->seen.index = NULL;
    w->seen.nindex = 0;
    return 0;
}

int
lcb_archive_writer_finish(struct lcb_archive_writer *w, struct lcb_manifest *m,
                          struct lcb_archive_totals *totals, struct lcb_err *err)
{
    struct lcb_buf text = LCB_BUF_INIT;
    unsigned char d[LCB_SHA256_LEN];
    int rc;

    if (usable(w, err) < 0)
        return -1;
    if (w->name)
        return lcb_err_set(err, LCB_EUSAGE, "archive finish with entry \"%.200s\" still open",
                           w->name);
    if (move_entries(w, m, err) < 0)
        return -1;
    lcb_manifest_write(m, &text);
    rc = lcb_arc_writer_begin(w->tar, LCB_MANIFEST_NAME, (int64_t)text.len, w->mtime, err);
    if (rc == 0)
        rc = lcb_arc_writer_data(w->tar, text.ptr, text.len, err);
    if (rc == 0)
        rc = lcb_arc_writer_end(w->tar, err);
    if (rc == 0)
        rc = lcb_arc_writer_close(w->tar, err);
    if (rc == 0)
        rc = lcb_zst_enc_finish(w->zst, err);
    lcb_buf_release(&text);
    if (rc < 0)
        return failed(w, err, LCB_MANIFEST_NAME);
    w->finished = 1;
    if (totals) {
        memset(totals, 0, sizeof(*totals));
        totals->bytes = w->bytes;
        lcb_sha256_final(w->whole, d);
        lcb_hex(d, sizeof(d), totals->sha256);
        totals->tar_bytes = lcb_zst_enc_in(w->zst);
        totals->entries = m->nentries + 1;
    }
    return 0;
}

void
lcb_archive_writer_free(struct lcb_archive_writer *w)
{
    if (!w)
        return;
    lcb_arc_writer_free(w->tar);
    lcb_zst_enc_free(w->zst);
    lcb_sha256_free(w->whole);
    lcb_sha256_free(w->entry);
    lcb_manifest_release(&w->seen);
    if (w->spool)
        fclose(w->spool);
    free(w->name);
    free(w);
}

int
lcb_archive_fd_sink(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    int fd = *(int *)ud;
    ssize_t n;

    while (len > 0) {
        n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return lcb_err_sys(err, LCB_EIO, errno, "write archive");
        data = (const char *)data + n;
        len -= (size_t)n;
    }
    return 0;
}

int
lcb_archive_fd_source(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err)
{
    int fd = *(int *)ud;
    ssize_t n;

    do
        n = read(fd, buf, cap);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return lcb_err_sys(err, LCB_EIO, errno, "read archive");
    *got = (size_t)n;
    return 0;
}
