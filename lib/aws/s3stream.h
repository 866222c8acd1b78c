/*
 * s3stream.h - an object written to S3 as a stream: bytes go in, parts of part_size go out as a
 * multipart upload with up to in_flight parts on the wire, each with its SHA-256 checksum, while the
 * whole object's SHA-256 and size are computed on the way.
 *
 * Each part is spooled to an unlinked temporary file of its own (created with mode 0600 in
 * spool_dir, else $TMPDIR, else /tmp, and reused for the next part), its SHA-256 and MD5 kept while
 * it is written, and sent from the file: the parts take (in_flight + 1) * part_size of disk (page
 * cache), not of our memory. When the files cannot be created, the parts are kept in memory,
 * (in_flight + 1) * part_size of it, with one warning (s3.upload.spool_memory). A failed write to
 * the spool (ENOSPC) fails the upload with LCB_EIO.
 *
 * Nothing is left behind on failure: any error, and lcb_s3_stream_abort() (what a SIGINT/SIGTERM
 * handler path calls), aborts the multipart upload, so S3 holds no partial object and no open
 * upload. Complete is a conditional write (If-None-Match: *): an archive is never overwritten.
 */
#ifndef LCB_AWS_S3STREAM_H
#define LCB_AWS_S3STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"
#include "s3.h"

#define LCB_S3_STREAM_PART (8u << 20)

struct lcb_s3_stream;

struct lcb_s3_stream_opts {
    size_t part_size;  /* 0: 8 MiB; at least 5 MiB */
    int in_flight;     /* 0: 2 (suits a 2-core runner) */
    const char *spool_dir; /* NULL: $TMPDIR, else /tmp */
    struct lcb_s3_put_opts put; /* SSE, Object Lock, tags, content type */
};

struct lcb_s3_stream_result {
    struct lcb_s3_put_result put;
    char sha256_hex[65]; /* of the whole object */
    uint64_t size;
    int parts;
};

/* Start the upload (CreateMultipartUpload). Returns 0, or -1 with lcb_aws_send's codes. */
int lcb_s3_stream_open(struct lcb_s3_stream **out, struct lcb_aws *aws, const char *bucket,
                       const char *key, const struct lcb_s3_stream_opts *opts, struct lcb_err *err);
/* Append bytes. Returns 0, or -1 (the upload is then aborted: only _free remains to call;
 * LCB_EIO: the spool file cannot be written, e.g. the disk is full). */
int lcb_s3_stream_write(struct lcb_s3_stream *s, const void *data, size_t len, struct lcb_err *err);
/* Move the parts on the wire on without waiting, and record those that finished: a writer with
 * other work between writes (pages to fetch) calls it now and then, so that parts upload while it
 * works instead of when the slots run out or at finish. Returns 0, or -1 (the upload is aborted)
 * with a part's error. */
int lcb_s3_stream_poll(struct lcb_s3_stream *s, struct lcb_err *err);
/* Send the last part, wait for every part, complete. Returns 0 with res, or -1 (aborted). */
int lcb_s3_stream_finish(struct lcb_s3_stream *s, struct lcb_s3_stream_result *res,
                         struct lcb_err *err);
/* Abort the upload if it is still open (idempotent). */
void lcb_s3_stream_abort(struct lcb_s3_stream *s);
/* Abort if still open, and free. */
void lcb_s3_stream_free(struct lcb_s3_stream *s);
/* The upload id ("" once completed or aborted), for logs and tests. */
const char *lcb_s3_stream_upload_id(const struct lcb_s3_stream *s);
/* The directory the parts are spooled to, or NULL when they are kept in memory. */
const char *lcb_s3_stream_spool_dir(const struct lcb_s3_stream *s);

#endif
