/* s3stream.c - see s3stream.h. */
#include "s3stream.h"

#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/mem.h"
#include "../core/sig.h"
#include "../ext/crypto.h"

#define MAX_IN_FLIGHT 8

struct part_slot {
    int busy;
    struct lcb_buf data;
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
};

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
    for (i = 0; i <= s->in_flight; i++) {
        lcb_buf_init(&s->slots[i].data, 0);
        lcb_aws_resp_init(&s->slots[i].resp);
    }
    s->sha = lcb_sha256_new();
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
    for (i = 0; i <= MAX_IN_FLIGHT; i++) {
        lcb_buf_release(&s->slots[i].data);
        lcb_aws_resp_release(&s->slots[i].resp);
    }
    lcb_sha256_free(s->sha);
    lcb_buf_release(&s->upload_id);
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

/* Wait for one part to finish and record it. */
static int
reap_one(struct lcb_s3_stream *s, struct lcb_err *err)
{
    struct lcb_err req_err;
    struct part_slot *p;
    void *tag;
    int rc, r;

    lcb_err_clear(&req_err);
    r = lcb_aws_batch_next(s->batch, &tag, &rc, &req_err, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return lcb_err_set(err, LCB_EINTERNAL, "no part in flight");
    p = tag;
    if (rc < 0) {
        *err = req_err;
        return lcb_wrap(err, "part %d", p->pr.part_number);
    }
    if (lcb_s3_part_finish(&s->parts[p->pr.part_number - 1], &p->pr, &p->resp, err) < 0)
        return -1;
    p->busy = 0;
    return 0;
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

/* Send the part being filled; afterwards s->cur is an idle slot again. */
static int
send_part(struct lcb_s3_stream *s, struct lcb_err *err)
{
    struct part_slot *p = s->cur;
    struct lcb_s3_body body;

    if (s->nparts >= LCB_S3_MAX_PARTS)
        return lcb_err_set(err, LCB_EREFUSED, "more than %d parts: raise the part size",
                           LCB_S3_MAX_PARTS);
    s->nparts++;
    s->parts = lcb_xrealloc(s->parts, (size_t)s->nparts * sizeof(*s->parts));
    memset(&s->parts[s->nparts - 1], 0, sizeof(*s->parts));
    memset(&body, 0, sizeof(body));
    body.data = p->data.ptr;
    body.len = p->data.len;
    if (lcb_s3_part_prepare(&p->pr, s->bucket, s->key, lcb_buf_str(&s->upload_id), s->nparts,
                            &body, err) < 0)
        return -1;
    lcb_aws_resp_release(&p->resp);
    lcb_aws_resp_init(&p->resp);
    p->busy = 1;
    if (lcb_aws_batch_add(s->batch, &p->pr.req, &p->resp, p, err) < 0)
        return -1;
    s->cur = NULL;
    while ((s->cur = idle_slot(s)) == NULL)
        if (reap_one(s, err) < 0)
            return -1;
    lcb_buf_reset(&s->cur->data);
    return 0;
}

int
lcb_s3_stream_write(struct lcb_s3_stream *s, const void *data, size_t len, struct lcb_err *err)
{
    const char *p = data;

    if (s->failed || !s->open)
        return lcb_err_set(err, LCB_EINTERNAL, "write to a finished upload");
    if (!s->cur) {
        s->cur = &s->slots[0];
        lcb_buf_reset(&s->cur->data);
    }
    lcb_sha256_update(s->sha, data, len);
    s->size += len;
    while (len > 0) {
        size_t room = s->part_size - s->cur->data.len, n = len < room ? len : room;
        lcb_buf_add(&s->cur->data, p, n);
        p += n;
        len -= n;
        if (s->cur->data.len == s->part_size && send_part(s, err) < 0)
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
    if (!s->cur) { /* an empty object still needs one (empty) part */
        s->cur = &s->slots[0];
        lcb_buf_reset(&s->cur->data);
    }
    if (s->cur->data.len > 0 || s->nparts == 0)
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
