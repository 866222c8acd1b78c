/*
 * s3source.h - an S3 object read as a stream of ranged GETs (a few MiB each), as an
 * lcb_archive_source_fn: verifying or restoring an archive of any size holds one range in memory.
 */
#ifndef LCB_BACKUP_S3SOURCE_H
#define LCB_BACKUP_S3SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/err.h"

struct lcb_aws;

struct lcb_s3_source {
    struct lcb_aws *aws;
    char *bucket;
    char *key;
    int64_t size;   /* from HEAD */
    int64_t offset; /* of the next byte to fetch */
    size_t chunk;
    struct lcb_buf buf;
    size_t pos; /* in buf */
};

/* Open s3://bucket/key (HEAD). "s3://b/k" URIs are split by lcb_s3_uri_split. Returns 0, or -1
 * (LCB_ENOTFOUND and lcb_s3_head's codes). */
int lcb_s3_source_open(struct lcb_s3_source *s, struct lcb_aws *aws, const char *bucket,
                       const char *key, struct lcb_err *err);
void lcb_s3_source_close(struct lcb_s3_source *s);
/* Start again from the first byte. */
void lcb_s3_source_rewind(struct lcb_s3_source *s);
/* The lcb_archive_source_fn (ud: struct lcb_s3_source *). */
int lcb_s3_source_read(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err);
/* Split "s3://bucket/key" into newly allocated bucket and key. Returns 0 or -1 (LCB_EUSAGE). */
int lcb_s3_uri_split(const char *uri, char **bucket, char **key, struct lcb_err *err);

#endif
