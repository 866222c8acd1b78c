/* s3stream.c - see s3stream.h. */
#include "s3stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/log.h"
#include "../core/mem.h"
#include "../core/sig.h"
#include "../core/tmp.h"
#include "../ext/crypto.h"

#define MAX_IN_FLIGHT 8
#define MIB (1u << 20)

struct part_slot {
    int busy;
    int fd;              /* the part's unlinked spool file, or -1: the part is in data */
    size_t len;          /* bytes in the part */
    size_t cursor;       /* the next byte to send (the spool body's read position) */
    int read_errno;      /* a pread that failed while the part was sent, else 0 */
    struct lcb_buf data; /* the part itself when it is not spooled */
    struct lcb_s3_part_req pr;
    struct lcb_aws_resp resp;
};

struct lcb_s3_stream {
    struct lcb_aws *aws;
    char *bucket;
    char *key;
    struct lcb_buf upload_id;
    size_t part_size;
    int in_flight;
    struct lcb_aws_batch *batch;
    struct part_slot slots[MAX_IN_FLIGHT + 1];
    struct part_slot *cur; /* the part being filled */
    struct lcb_s3_part *parts;
    int nparts;
    int open; /* the multipart upload exists and is neither completed nor aborted */
    int failed;
    struct lcb_sha256 *sha;
    uint64_t size;
    char *spool_dir;             /* NULL: parts are kept in memory */
    struct lcb_sha256 *part_sha; /* of the part being filled, when spooled */
    struct lcb_md5 *part_md5;
};

/* ---- the spool: one unlinked temporary file per slot ---- */

static const char *
spool_dir_of(const struct lcb_s3_stream_opts *opts)
{
    return opts && opts->spool_dir ? opts->spool_dir : lcb_tmp_dir();
}

static void
close_spools(struct lcb_s3_stream *s)
{
    int i;

    for (i = 0; i <= MAX_IN_FLIGHT; i++) {
        if (s->slots[i].fd >= 0)
            close(s->slots[i].fd);
        s->slots[i].fd = -1;
    }
}

/* Create every slot's spool file (mode 0600), unlinked at once so that a crash leaves nothing
 * behind. Returns 0, or the errno of the first failure (then no file is kept). */
static int
open_spools(struct lcb_s3_stream *s, const char *dir)
{
    int i, e = 0;

    for (i = 0; i <= s->in_flight && !e; i++)
        if ((s->slots[i].fd = lcb_tmp_open(dir, "part")) < 0)
            e = errno;
    if (e)
        close_spools(s);
    return e;
}

/* Spool the parts to files in dir, or keep them in memory (with a warning) when that fails. */
static void
setup_spool(struct lcb_s3_stream *s, const char *dir)
{
    size_t mib = ((size_t)(s->in_flight + 1) * s->part_size + MIB - 1) / MIB;
    int e = open_spools(s, dir);

    if (e) {
        lcb_logf(LCB_WARN, "s3.upload.spool_memory",
                 LCB_FIELDS(LCB_KV_S("dir", dir), LCB_KV_S("error", strerror(e))),
                 "cannot create a spool file in %s (%s): the parts of s3://%s/%s are kept in "
                 "memory instead (up to %zu MiB); set TMPDIR to a writable directory",
                 dir, strerror(e), s->bucket, s->key, mib);
        return;
    }
    s->spool_dir = lcb_xstrdup(dir);
    s->part_sha = lcb_sha256_new();
    s->part_md5 = lcb_md5_new();
    lcb_log(LCB_DEBUG, "s3.upload.spool", "parts spooled to %s (up to %zu MiB)", dir, mib);
}

static int
spool_error(struct lcb_s3_stream *s, int e, struct lcb_err *err)
{
    size_t mib = ((size_t)(s->in_flight + 1) * s->part_size + MIB - 1) / MIB;

    lcb_err_set(err, LCB_EIO,
                "cannot spool part %d to a temporary file in %s: %s: free space there or set "
                "TMPDIR to a directory with %zu MiB free",
                s->nparts + 1, s->spool_dir, strerror(e), mib);
    err->sys = e;
    return -1;
}

/* Write n bytes at the end of the current part's spool file. Straight, without a buffer: zstd hands
 * over about 5 KiB at a time, and gathering them in 256 KiB cost 1 to 2 MiB of peak RSS to save
 * 2 ms of system calls on an 11 MB archive (docs/performance.md). */
static int
spool_write(struct lcb_s3_stream *s, const char *data, size_t n, struct lcb_err *err)
{
    struct part_slot *p = s->cur;
    size_t done = 0;
    ssize_t w;

    while (done < n) {
        w = pwrite(p->fd, data + done, n - done, (off_t)(p->len + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return spool_error(s, w < 0 ? errno : EIO, err);
        done += (size_t)w;
    }
    return 0;
}

/* The producer body of a spooled part: pread from the slot's file at its cursor. */
static size_t
spool_read(void *ud, char *buf, size_t len)
{
    struct part_slot *p = ud;
    size_t want = p->len - p->cursor < len ? p->len - p->cursor : len;
    ssize_t n;

    if (want == 0)
        return 0;
    do
        n = pread(p->fd, buf, want, (off_t)p->cursor);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        p->read_errno = n < 0 ? errno : EIO; /* 0: the file is shorter than the part */
        return LCB_HTTP_ABORT;
    }
    p->cursor += (size_t)n;
    return (size_t)n;
}

/* A retried part starts again from its first byte. */
static int
spool_rewind(void *ud)
{
    ((struct part_slot *)ud)->cursor = 0;
    return 0;
}

/* The body of the part in slot p: its buffer, or its spool file with the checksums kept while it
 * was written (sums holds their text until lcb_s3_part_prepare copies it). */
static void
part_body(struct lcb_s3_stream *s, struct part_slot *p, struct lcb_s3_body *body,
          struct lcb_s3_sums *sums)
{
    unsigned char sha[LCB_SHA256_LEN], md5[LCB_MD5_LEN];

    memset(body, 0, sizeof(*body));
    body->len = p->len;
    if (!s->spool_dir) {
        body->data = p->data.ptr;
        return;
    }
    lcb_sha256_final(s->part_sha, sha);
    lcb_md5_final(s->part_md5, md5);
    lcb_s3_sums_from_digests(sums, sha, md5);
    p->cursor = 0;
    p->read_errno = 0;
    body->read = spool_read;
    body->rewind = spool_rewind;
    body->ud = p;
    body->sha256_hex = sums->sha_hex;
    body->sha256_b64 = sums->sha_b64;
    body->md5_b64 = sums->md5_b64;
}

/* Make slot p the part being filled, empty. */
static int
start_part(struct lcb_s3_stream *s, struct part_slot *p, struct lcb_err *err)
{
    s->cur = p;
    p->len = 0;
    lcb_buf_reset(&p->data);
    /* the previous part's pages go back to the system (and the disk) at once */
    if (p->fd >= 0 && ftruncate(p->fd, 0) < 0)
        return spool_error(s, errno, err);
    return 0;
}

/* Add n bytes, which fit, to the part being filled. */
static int
append(struct lcb_s3_stream *s, const char *data, size_t n, struct lcb_err *err)
{
    if (!s->spool_dir) {
        lcb_buf_add(&s->cur->data, data, n);
    } else {
        lcb_sha256_update(s->part_sha, data, n);
        lcb_md5_update(s->part_md5, data, n);
        if (spool_write(s, data, n, err) < 0)
            return -1;
    }
    s->cur->len += n;
    return 0;
}

/* ---- the upload ---- */

int
lcb_s3_stream_open(struct lcb_s3_stream **out, struct lcb_aws *aws, const char *bucket,
                   const char *key, const struct lcb_s3_stream_opts *opts, struct lcb_err *err)
{
    struct lcb_s3_stream *s = lcb_xcalloc(1, sizeof(*s));
    int i;

    *out = NULL;
    s->aws = aws;
    s->bucket = lcb_xstrdup(bucket);
    s->key = lcb_xstrdup(key);
    s->part_size = opts && opts->part_size ? opts->part_size : LCB_S3_STREAM_PART;
    if (s->part_size < LCB_S3_MIN_PART)
        s->part_size = LCB_S3_MIN_PART;
    s->in_flight = opts && opts->in_flight > 0 ? opts->in_flight : 2;
    if (s->in_flight > MAX_IN_FLIGHT)
        s->in_flight = MAX_IN_FLIGHT;
    lcb_buf_init(&s->upload_id, 0);
    for (i = 0; i <= MAX_IN_FLIGHT; i++) {
        s->slots[i].fd = -1;
        lcb_buf_init(&s->slots[i].data, 0);
        lcb_aws_resp_init(&s->slots[i].resp);
    }
    s->sha = lcb_sha256_new();
    setup_spool(s, spool_dir_of(opts));
    if (lcb_aws_batch_new(&s->batch, aws, s->in_flight, err) < 0 ||
        lcb_s3_mpu_create(&s->upload_id, aws, bucket, key, opts ? &opts->put : NULL, err) < 0) {
        lcb_s3_stream_free(s);
        return lcb_wrap(err, "start upload of s3://%s/%s", bucket, key);
    }
    s->open = 1;
    lcb_log(LCB_DEBUG, "s3.upload.start", "multipart upload of s3://%s/%s started", bucket, key);
    *out = s;
    return 0;
}

const char *
lcb_s3_stream_upload_id(const struct lcb_s3_stream *s)
{
    return s->open ? lcb_buf_str(&s->upload_id) : "";
}

const char *
lcb_s3_stream_spool_dir(const struct lcb_s3_stream *s)
{
    return s->spool_dir;
}

void
lcb_s3_stream_abort(struct lcb_s3_stream *s)
{
    struct lcb_err e;
    int rc;

    if (!s || !s->open)
        return;
    s->open = 0;
    s->failed = 1;
    lcb_err_clear(&e);
    /* drop the parts still on the wire first: one that lands after the abort would keep its
     * storage in an upload nobody can see any more (S3 may need a second abort) */
    lcb_aws_batch_free(s->batch);
    s->batch = NULL;
    lcb_sig_hold(); /* after SIGINT/SIGTERM the abort is exactly what must still go out */
    rc = lcb_s3_mpu_abort(s->aws, s->bucket, s->key, lcb_buf_str(&s->upload_id), &e);
    lcb_sig_unhold();
    if (rc < 0)
        lcb_log(LCB_WARN, "s3.upload.abort_failed",
                "could not abort the upload of s3://%s/%s (%s): `lcbackup catalog drift` lists "
                "open uploads", s->bucket, s->key, e.msg);
    else
        lcb_log(LCB_INFO, "s3.upload.aborted", "upload of s3://%s/%s aborted: nothing was stored",
                s->bucket, s->key);
}

void
lcb_s3_stream_free(struct lcb_s3_stream *s)
{
    int i;

    if (!s)
        return;
    lcb_s3_stream_abort(s);
    lcb_aws_batch_free(s->batch);
    close_spools(s);
    for (i = 0; i <= MAX_IN_FLIGHT; i++) {
        lcb_buf_release(&s->slots[i].data);
        lcb_aws_resp_release(&s->slots[i].resp);
    }
    lcb_sha256_free(s->sha);
    lcb_sha256_free(s->part_sha);
    lcb_md5_free(s->part_md5);
    lcb_buf_release(&s->upload_id);
    free(s->spool_dir);
    free(s->parts);
    free(s->bucket);
    free(s->key);
    free(s);
}

static int
fail(struct lcb_s3_stream *s, struct lcb_err *err)
{
    lcb_s3_stream_abort(s);
    return lcb_wrap(err, "upload s3://%s/%s", s->bucket, s->key);
}

/* Record a part the batch handed back. */
static int
part_done(struct lcb_s3_stream *s, struct part_slot *p, int rc, struct lcb_err *req_err,
          struct lcb_err *err)
{
    if (rc < 0 && p->read_errno)
        return lcb_err_sys(err, LCB_EIO, p->read_errno, "part %d: read back its spool file in %s",
                           p->pr.part_number, s->spool_dir);
    if (rc < 0) {
        *err = *req_err;
        return lcb_wrap(err, "part %d", p->pr.part_number);
    }
    if (lcb_s3_part_finish(&s->parts[p->pr.part_number - 1], &p->pr, &p->resp, err) < 0)
        return -1;
    p->busy = 0;
    return 0;
}

/* Wait for one part to finish and record it. */
static int
reap_one(struct lcb_s3_stream *s, struct lcb_err *err)
{
    struct lcb_err req_err;
    void *tag;
    int rc, r;

    lcb_err_clear(&req_err);
    r = lcb_aws_batch_next(s->batch, &tag, &rc, &req_err, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return lcb_err_set(err, LCB_EINTERNAL, "no part in flight");
    return part_done(s, tag, rc, &req_err, err);
}

int
lcb_s3_stream_poll(struct lcb_s3_stream *s, struct lcb_err *err)
{
    struct lcb_err req_err;
    void *tag;
    int rc, r;

    if (s->failed || !s->open)
        return lcb_err_set(err, LCB_EINTERNAL, "poll of a finished upload");
    for (;;) {
        lcb_err_clear(&req_err);
        r = lcb_aws_batch_poll(s->batch, &tag, &rc, &req_err, err);
        if (r == 0)
            return 0;
        if (r < 0 || part_done(s, tag, rc, &req_err, err) < 0)
            return fail(s, err);
    }
}

static struct part_slot *
idle_slot(struct lcb_s3_stream *s)
{
    int i;

    for (i = 0; i <= s->in_flight; i++)
        if (!s->slots[i].busy && &s->slots[i] != s->cur)
            return &s->slots[i];
    return NULL;
}

/* Send the part being filled; afterwards s->cur is an idle slot again, empty. */
static int
send_part(struct lcb_s3_stream *s, struct lcb_err *err)
{
    struct part_slot *p = s->cur, *next;
    struct lcb_s3_body body;
    struct lcb_s3_sums sums;

    if (s->nparts >= LCB_S3_MAX_PARTS)
        return lcb_err_set(err, LCB_EREFUSED, "more than %d parts: raise the part size",
                           LCB_S3_MAX_PARTS);
    s->nparts++;
    s->parts = lcb_xrealloc(s->parts, (size_t)s->nparts * sizeof(*s->parts));
    memset(&s->parts[s->nparts - 1], 0, sizeof(*s->parts));
    part_body(s, p, &body, &sums);
    if (lcb_s3_part_prepare(&p->pr, s->bucket, s->key, lcb_buf_str(&s->upload_id), s->nparts,
                            &body, err) < 0)
        return -1;
    lcb_aws_resp_release(&p->resp);
    lcb_aws_resp_init(&p->resp);
    p->busy = 1;
    if (lcb_aws_batch_add(s->batch, &p->pr.req, &p->resp, p, err) < 0)
        return -1;
    s->cur = NULL;
    while ((next = idle_slot(s)) == NULL)
        if (reap_one(s, err) < 0)
            return -1;
    return start_part(s, next, err);
}

int
lcb_s3_stream_write(struct lcb_s3_stream *s, const void *data, size_t len, struct lcb_err *err)
{
    const char *p = data;

    if (s->failed || !s->open)
        return lcb_err_set(err, LCB_EINTERNAL, "write to a finished upload");
    if (!s->cur && start_part(s, &s->slots[0], err) < 0)
        return fail(s, err);
    lcb_sha256_update(s->sha, data, len);
    s->size += len;
    while (len > 0) {
        size_t room = s->part_size - s->cur->len, n = len < room ? len : room;

        if (append(s, p, n, err) < 0)
            return fail(s, err);
        p += n;
        len -= n;
        if (s->cur->len == s->part_size && send_part(s, err) < 0)
            return fail(s, err);
    }
    if (lcb_sig_pending()) {
        lcb_err_set(err, LCB_EINTR, "interrupted");
        return fail(s, err);
    }
    return 0;
}

int
lcb_s3_stream_finish(struct lcb_s3_stream *s, struct lcb_s3_stream_result *res,
                     struct lcb_err *err)
{
    unsigned char digest[LCB_SHA256_LEN];
    int i;

    memset(res, 0, sizeof(*res));
    if (s->failed || !s->open)
        return lcb_err_set(err, LCB_EINTERNAL, "finish of a failed upload");
    /* an empty object still needs one (empty) part */
    if (!s->cur && start_part(s, &s->slots[0], err) < 0)
        return fail(s, err);
    if (s->cur->len > 0 || s->nparts == 0)
        if (send_part(s, err) < 0)
            return fail(s, err);
    for (i = 0; i <= s->in_flight; i++)
        while (s->slots[i].busy)
            if (reap_one(s, err) < 0)
                return fail(s, err);
    if (lcb_s3_mpu_complete(&res->put, s->aws, s->bucket, s->key, lcb_buf_str(&s->upload_id),
                            s->parts, (size_t)s->nparts, "*", NULL, err) < 0)
        return fail(s, err);
    s->open = 0;
    lcb_sha256_final(s->sha, digest);
    lcb_hex(digest, sizeof(digest), res->sha256_hex);
    res->size = s->size;
    res->parts = s->nparts;
    return 0;
}
