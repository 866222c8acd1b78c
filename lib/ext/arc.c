/* arc.c - the libarchive wrapper; see arc.h. */
#include "arc.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"

#define READ_BLOCK 65536

struct lcb_arc_writer {
    struct archive *a;
    struct archive_entry *entry;
    lcb_arc_write_fn write;
    void *ud;
    struct lcb_err cb_err; /* the callback's own error, kept across libarchive */
    int cb_failed;
    int open;        /* an entry is open */
    int64_t left;    /* bytes the open entry still expects */
    int closed;
};

struct lcb_arc_reader {
    struct archive *a;
    lcb_arc_read_fn read;
    void *ud;
    unsigned char *buf;
    size_t last;        /* bytes of the last block handed to libarchive */
    int64_t delivered;  /* bytes handed to libarchive in all */
    struct lcb_err cb_err;
    int cb_failed;
    int in_entry;
    int done;
};

const char *
lcb_arc_version(void)
{
    return archive_version_string();
}

static int
bad_name(struct lcb_err *err, const char *name, const char *why)
{
    return lcb_err_set(err, LCB_EUSAGE, "entry name \"%.200s\": %s", name, why);
}

int
lcb_arc_name_check(const char *name, struct lcb_err *err)
{
    const char *p, *c;
    size_t n;

    if (!name || !*name)
        return bad_name(err, "", "empty");
    if (strlen(name) > LCB_ARC_NAME_MAX)
        return bad_name(err, name, "longer than 1024 bytes");
    if (name[0] == '/')
        return bad_name(err, name, "absolute path");
    for (p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e || *p == '\\')
            return bad_name(err, name, "only printable ASCII without backslashes is allowed");
    for (c = name;; c = p + 1) {
        p = strchr(c, '/');
        n = p ? (size_t)(p - c) : strlen(c);
        if (n == 0)
            return bad_name(err, name, "empty path component");
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return bad_name(err, name, n == 1 ? "\".\" component" : "\"..\" component");
        if (!p)
            return 0;
    }
}

/* ---- writer ---- */

static la_ssize_t
write_cb(struct archive *a, void *ud, const void *data, size_t len)
{
    struct lcb_arc_writer *w = ud;

    (void)a;
    if (w->write(w->ud, data, len, &w->cb_err) < 0) {
        w->cb_failed = 1;
        return -1;
    }
    return (la_ssize_t)len;
}

/* After a libarchive failure: the callback's error if it caused it, else libarchive's. */
static int
write_fail(struct lcb_arc_writer *w, const char *what, struct lcb_err *err)
{
    if (w->cb_failed) {
        *err = w->cb_err;
        return -1;
    }
    return lcb_err_set(err, LCB_EINTERNAL, "tar: %s: %s", what,
                       archive_error_string(w->a) ? archive_error_string(w->a) : "failed");
}

int
lcb_arc_writer_new(struct lcb_arc_writer **out, lcb_arc_write_fn write, void *ud,
                   struct lcb_err *err)
{
    struct lcb_arc_writer *w = lcb_xcalloc(1, sizeof(*w));

    *out = NULL;
    w->write = write;
    w->ud = ud;
    w->a = archive_write_new();
    w->entry = archive_entry_new();
    if (!w->a || !w->entry) {
        lcb_arc_writer_free(w);
        return lcb_err_set(err, LCB_EINTERNAL, "tar: cannot create a writer");
    }
    if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
        archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
        archive_write_open2(w->a, w, NULL, write_cb, NULL, NULL) != ARCHIVE_OK) {
        write_fail(w, "open", err);
        lcb_arc_writer_free(w);
        return -1;
    }
    *out = w;
    return 0;
}

int
lcb_arc_writer_begin(struct lcb_arc_writer *w, const char *name, int64_t size, time_t mtime,
                     struct lcb_err *err)
{
    if (w->open || w->closed)
        return lcb_err_set(err, LCB_EUSAGE, "tar: entry \"%.200s\" begun while %s", name,
                           w->closed ? "the archive is closed" : "another entry is open");
    if (lcb_arc_name_check(name, err) < 0)
        return -1;
    if (size < 0)
        return lcb_err_set(err, LCB_EUSAGE, "tar: entry \"%.200s\": negative size", name);
    archive_entry_clear(w->entry);
    archive_entry_set_pathname(w->entry, name);
    archive_entry_set_filetype(w->entry, AE_IFREG);
    archive_entry_set_perm(w->entry, 0644);
    archive_entry_set_size(w->entry, size);
    archive_entry_set_mtime(w->entry, mtime, 0);
    archive_entry_set_uid(w->entry, 0);
    archive_entry_set_gid(w->entry, 0);
    if (archive_write_header(w->a, w->entry) != ARCHIVE_OK)
        return write_fail(w, name, err);
    w->open = 1;
    w->left = size;
    return 0;
}

int
lcb_arc_writer_data(struct lcb_arc_writer *w, const void *data, size_t len, struct lcb_err *err)
{
    la_ssize_t n;

    if (!w->open)
        return lcb_err_set(err, LCB_EUSAGE, "tar: data without an open entry");
    if ((uint64_t)len > (uint64_t)w->left)
        return lcb_err_set(err, LCB_EUSAGE, "tar: entry data exceeds its declared size");
    while (len > 0) {
        n = archive_write_data(w->a, data, len);
        if (n <= 0)
            return write_fail(w, "data", err);
        data = (const char *)data + n;
        len -= (size_t)n;
        w->left -= n;
    }
    return 0;
}

int
lcb_arc_writer_end(struct lcb_arc_writer *w, struct lcb_err *err)
{
    if (!w->open)
        return lcb_err_set(err, LCB_EUSAGE, "tar: end without an open entry");
    if (w->left != 0)
        return lcb_err_set(err, LCB_EUSAGE, "tar: entry ended %lld bytes short of its size",
                           (long long)w->left);
    w->open = 0;
    if (archive_write_finish_entry(w->a) != ARCHIVE_OK)
        return write_fail(w, "finish entry", err);
    return 0;
}

int
lcb_arc_writer_close(struct lcb_arc_writer *w, struct lcb_err *err)
{
    if (w->open)
        return lcb_err_set(err, LCB_EUSAGE, "tar: close with an entry still open");
    if (w->closed)
        return 0;
    w->closed = 1;
    if (archive_write_close(w->a) != ARCHIVE_OK)
        return write_fail(w, "close", err);
    return 0;
}

void
lcb_arc_writer_free(struct lcb_arc_writer *w)
{
    if (!w)
        return;
    if (w->a)
        archive_write_free(w->a); /* closes if needed; errors are ignored here */
    if (w->entry)
        archive_entry_free(w->entry);
    free(w);
}

/* ---- reader ---- */

/* Hand libarchive full blocks (short only at the end), so that what it has not consumed when it
 * meets the end-of-archive marker is always the tail of the last block (lcb_arc_reader_tail). */
static la_ssize_t
read_cb(struct archive *a, void *ud, const void **buf)
{
    struct lcb_arc_reader *r = ud;
    size_t have = 0, got;

    (void)a;
    *buf = r->buf;
    do {
        got = 0;
        if (r->read(r->ud, r->buf + have, READ_BLOCK - have, &got, &r->cb_err) < 0) {
            r->cb_failed = 1;
            return -1;
        }
        have += got;
    } while (got > 0 && have < READ_BLOCK);
    r->last = have;
    r->delivered += (int64_t)have;
    return (la_ssize_t)have;
}

static int
read_fail(struct lcb_arc_reader *r, const char *what, struct lcb_err *err)
{
    const char *msg = archive_error_string(r->a);

    if (r->cb_failed) {
        *err = r->cb_err;
        return -1;
    }
    return lcb_err_set(err, LCB_ECORRUPT, "tar: %s: %s", what, msg ? msg : "damaged archive");
}

int
lcb_arc_reader_new(struct lcb_arc_reader **out, lcb_arc_read_fn read, void *ud,
                   struct lcb_err *err)
{
    struct lcb_arc_reader *r = lcb_xcalloc(1, sizeof(*r));

    *out = NULL;
    r->read = read;
    r->ud = ud;
    r->buf = lcb_xmalloc(READ_BLOCK);
    r->a = archive_read_new();
    if (!r->a) {
        lcb_arc_reader_free(r);
        return lcb_err_set(err, LCB_EINTERNAL, "tar: cannot create a reader");
    }
    if (archive_read_support_format_tar(r->a) != ARCHIVE_OK ||
        archive_read_open(r->a, r, NULL, read_cb, NULL) != ARCHIVE_OK) {
        read_fail(r, "open", err);
        lcb_arc_reader_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

static const char *
type_name(unsigned type)
{
    switch (type) {
    case AE_IFDIR:
        return "a directory";
    case AE_IFLNK:
        return "a symbolic link";
    case AE_IFCHR:
    case AE_IFBLK:
        return "a device";
    case AE_IFIFO:
        return "a FIFO";
    default:
        return "not a regular file";
    }
}

/* Check a header libarchive parsed and fill e. */
static int
accept_entry(struct archive_entry *ae, struct lcb_arc_entry *e, struct lcb_err *err)
{
    const char *name = archive_entry_pathname(ae);

    if (!name)
        return lcb_err_set(err, LCB_ECORRUPT, "tar: an entry without a readable name");
    if (archive_entry_hardlink(ae) || archive_entry_filetype(ae) != AE_IFREG)
        return lcb_err_set(err, LCB_ECORRUPT, "tar: entry \"%.200s\" is %s: only regular files "
                           "are allowed", name,
                           archive_entry_hardlink(ae) ? "a hard link"
                                                      : type_name(archive_entry_filetype(ae)));
    if (lcb_arc_name_check(name, err) < 0) {
        err->code = LCB_ECORRUPT;
        return lcb_wrap(err, "tar: unsafe entry");
    }
    if (!archive_entry_size_is_set(ae) || archive_entry_size(ae) < 0)
        return lcb_err_set(err, LCB_ECORRUPT, "tar: entry \"%.200s\" has no valid size", name);
    e->name = name;
    e->size = archive_entry_size(ae);
    e->mtime = archive_entry_mtime(ae);
    e->mode = (unsigned)archive_entry_perm(ae);
    return 0;
}

int
lcb_arc_reader_next(struct lcb_arc_reader *r, struct lcb_arc_entry *e, struct lcb_err *err)
{
    struct archive_entry *ae;
    int rc;

    memset(e, 0, sizeof(*e));
    if (r->done)
        return 0;
    r->in_entry = 0;
    rc = archive_read_next_header(r->a, &ae);
    if (rc == ARCHIVE_EOF) {
        r->done = 1;
        return 0;
    }
    if (rc != ARCHIVE_OK)
        return read_fail(r, "header", err);
    if (accept_entry(ae, e, err) < 0)
        return -1;
    r->in_entry = 1;
    return 1;
}

int
lcb_arc_reader_data(struct lcb_arc_reader *r, void *buf, size_t cap, size_t *got,
                    struct lcb_err *err)
{
    la_ssize_t n;

    *got = 0;
    if (!r->in_entry || cap == 0)
        return 0;
    n = archive_read_data(r->a, buf, cap);
    if (n < 0)
        return read_fail(r, "data", err);
    if (n == 0)
        r->in_entry = 0;
    *got = (size_t)n;
    return 0;
}

int
lcb_arc_reader_tail(struct lcb_arc_reader *r, const void **data, size_t *len)
{
    int64_t consumed = archive_filter_bytes(r->a, 0), left;

    *data = NULL;
    *len = 0;
    if (!r->done || consumed < 0)
        return -1;
    left = r->delivered - consumed;
    if (left < 0 || (uint64_t)left > r->last)
        return -1;
    *data = r->buf + r->last - (size_t)left;
    *len = (size_t)left;
    return 0;
}

void
lcb_arc_reader_free(struct lcb_arc_reader *r)
{
    if (!r)
        return;
    if (r->a)
        archive_read_free(r->a);
    free(r->buf);
    free(r);
}
