/* s3source.c - see s3source.h. */
#include "s3source.h"

#include <stdlib.h>
#include <string.h>

#include "../aws/s3.h"
#include "../core/mem.h"

#define CHUNK (8u << 20)

int
lcb_s3_uri_split(const char *uri, char **bucket, char **key, struct lcb_err *err)
{
    const char *b, *slash;

    if (strncmp(uri, "s3://", 5) != 0 || !(slash = strchr(uri + 5, '/')) || slash == uri + 5 ||
        slash[1] == '\0')
        return lcb_err_set(err, LCB_EUSAGE, "'%s' is not an s3://BUCKET/KEY location", uri);
    b = uri + 5;
    *bucket = lcb_xstrndup(b, (size_t)(slash - b));
    *key = lcb_xstrdup(slash + 1);
    return 0;
}

int
lcb_s3_source_open(struct lcb_s3_source *s, struct lcb_aws *aws, const char *bucket,
                   const char *key, struct lcb_err *err)
{
    struct lcb_s3_object_info info;

    memset(s, 0, sizeof(*s));
    if (lcb_s3_head(&info, aws, bucket, key, NULL, err) < 0)
        return lcb_wrap(err, "s3://%s/%s", bucket, key);
    s->aws = aws;
    s->bucket = lcb_xstrdup(bucket);
    s->key = lcb_xstrdup(key);
    s->size = info.size ? info.size : info.length;
    s->chunk = CHUNK;
    lcb_buf_init(&s->buf, 0);
    return 0;
}

void
lcb_s3_source_close(struct lcb_s3_source *s)
{
    free(s->bucket);
    free(s->key);
    lcb_buf_release(&s->buf);
    memset(s, 0, sizeof(*s));
}

void
lcb_s3_source_rewind(struct lcb_s3_source *s)
{
    s->offset = 0;
    s->pos = 0;
    lcb_buf_reset(&s->buf);
}

int
lcb_s3_source_read(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err)
{
    struct lcb_s3_source *s = ud;
    struct lcb_s3_get_opts o = LCB_S3_GET_OPTS_INIT;
    size_t n;

    *got = 0;
    if (s->pos == s->buf.len) {
        if (s->offset >= s->size)
            return 0;
        o.range_start = s->offset;
        o.range_end = s->offset + (int64_t)s->chunk - 1;
        if (o.range_end >= s->size)
            o.range_end = s->size - 1;
        if (lcb_s3_get_buf(NULL, s->aws, s->bucket, s->key, &o, &s->buf, s->chunk + 1, err) < 0)
            return lcb_wrap(err, "read s3://%s/%s at %lld", s->bucket, s->key,
                            (long long)s->offset);
        if (s->buf.len == 0)
            return lcb_err_set(err, LCB_ECORRUPT, "s3://%s/%s: empty answer at byte %lld of %lld",
                               s->bucket, s->key, (long long)s->offset, (long long)s->size);
        s->offset += (int64_t)s->buf.len;
        s->pos = 0;
    }
    n = s->buf.len - s->pos;
    if (n > cap)
        n = cap;
    memcpy(buf, s->buf.ptr + s->pos, n);
    s->pos += n;
    *got = n;
    return 0;
}
