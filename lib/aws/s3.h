/*
 * s3.h - the S3 client (REST-XML): objects, listings, batch deletes, multipart uploads, conditional
 * writes, SSE-KMS, Object Lock and tagging.
 *
 * Addressing is aws.c's (endpoint.c): path-style with an endpoint override, virtual-hosted against
 * AWS; this file hands over the raw bucket and key. Every upload carries integrity headers: a body
 * given as a buffer gets Content-MD5, x-amz-checksum-sha256 and a signed payload hash computed here;
 * a streamed body (struct lcb_s3_body.read) sends what the caller computed while producing it.
 * Multipart uploads declare SHA256 at create, so each part and the Complete list carry
 * x-amz-checksum-sha256 and S3 checks every byte.
 *
 * Errors come from lcb_aws_send() (aws.h): NoSuchKey/NoSuchBucket/NoSuchUpload and a body-less HEAD
 * 404 -> LCB_ENOTFOUND (66); AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId -> LCB_EAUTH
 * (77); SlowDown, 503, RequestTimeout -> LCB_ETEMP (75, after retries); PreconditionFailed (412, a
 * conditional write lost) -> the code lcb_aws_classify gives it. A CompleteMultipartUpload answered
 * with 200 and an <Error> document is an error (retried as a 500, as botocore does).
 *
 * Ownership: result structs are caller-owned; those holding heap memory pair _init/_release.
 * Strings passed in are borrowed for the call.
 */
#ifndef LCB_AWS_S3_H
#define LCB_AWS_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../ext/crypto.h"
#include "../ext/http.h"
#include "aws.h"

#define LCB_S3_MAX_DELETE 1000  /* keys per DeleteObjects request */
#define LCB_S3_MIN_PART (5u << 20) /* every part but the last */
#define LCB_S3_MAX_PARTS 10000

/* A request body: a buffer (data, len), or a producer of exactly len bytes (read + rewind, for
 * parts streamed from files). For a producer, give the checksums you computed; those left NULL
 * are not sent (and the payload is signed UNSIGNED-PAYLOAD without sha256_hex). */
struct lcb_s3_body {
    const void *data;
    size_t len;
    lcb_http_read_fn read;
    lcb_http_rewind_fn rewind;
    void *ud;
    const char *sha256_hex; /* lower-case hex SHA-256: the signed payload hash */
    const char *sha256_b64; /* base64 SHA-256: x-amz-checksum-sha256 */
    const char *md5_b64;    /* base64 MD5: Content-MD5 */
};

/* The checksums an upload carries, as text: the hex SHA-256 (the signed payload hash), the base64
 * SHA-256 (x-amz-checksum-sha256) and the base64 MD5 (Content-MD5). */
struct lcb_s3_sums {
    char sha_hex[LCB_SHA256_HEX];
    char sha_b64[48];
    char md5_b64[32];
};

/* The text of the digests of a body hashed while it was produced (a spooled part). */
void lcb_s3_sums_from_digests(struct lcb_s3_sums *s, const unsigned char sha[LCB_SHA256_LEN],
                              const unsigned char md5[LCB_MD5_LEN]);

/* Options for PutObject and CreateMultipartUpload. Zero (or NULL) is "not sent". */
struct lcb_s3_put_opts {
    const char *content_type;
    const char *if_none_match; /* "*": create only, 412 when the key exists */
    const char *if_match;      /* "\"etag\"": replace only that version */
    const char *sse;           /* "aws:kms" or "AES256" */
    const char *sse_kms_key_id;
    const char *sse_context;   /* base64 of a JSON object */
    int sse_bucket_key;        /* x-amz-server-side-encryption-bucket-key-enabled: true */
    const char *storage_class;
    const struct lcb_aws_kv *tags; /* x-amz-tagging, encoded here */
    size_t ntags;
    const struct lcb_aws_kv *meta; /* x-amz-meta-<name> */
    size_t nmeta;
    const char *lock_mode; /* "GOVERNANCE" or "COMPLIANCE"; needs lock_until */
    time_t lock_until;
    int legal_hold;        /* x-amz-object-lock-legal-hold: ON */
};

struct lcb_s3_put_result {
    char etag[80];            /* with its quotes, as S3 sends it */
    char version_id[128];
    char checksum_sha256[64]; /* base64 (multipart: "<b64>-N") */
    char sse[32];
    char sse_kms_key_id[256];
};

/* PutObject (up to 5 GiB). Returns 0, or -1 (codes above; LCB_EUSAGE: lock_mode without
 * lock_until). */
int lcb_s3_put(struct lcb_s3_put_result *out, struct lcb_aws *aws, const char *bucket,
               const char *key, const struct lcb_s3_body *body, const struct lcb_s3_put_opts *opts,
               struct lcb_err *err);

struct lcb_s3_get_opts {
    int64_t range_start; /* with range_end: "Range: bytes=start-end" ... */
    int64_t range_end;   /* ... (end -1: to the end); both -1 (or the opts NULL): whole object */
    const char *if_match;
    const char *version_id;
    int checksum_mode; /* x-amz-checksum-mode: ENABLED (then checksum_sha256 is filled) */
};

#define LCB_S3_GET_OPTS_INIT { -1, -1, NULL, NULL, 0 }

struct lcb_s3_object_info {
    int status;          /* 200, or 206 for a range */
    int64_t length;      /* Content-Length of this answer */
    int64_t size;        /* the whole object (from Content-Range for a range) */
    char etag[80];
    time_t last_modified;
    char content_type[128];
    char version_id[128];
    char checksum_sha256[64];
    char sse[32];
    char sse_kms_key_id[256];
    char storage_class[32];
    char lock_mode[16];
    time_t lock_until;
    char legal_hold[8];
    int parts_count; /* x-amz-mp-parts-count, 0 when absent */
};

/* GetObject streamed to write (called with the body in pieces; return -1 to abort). reset, when not
 * NULL, forgets what write received so that a transfer broken halfway can be retried. info may be
 * NULL. Returns 0, or -1 (codes above; InvalidRange 416 -> as classified; LCB_EIO when write
 * aborted). */
int lcb_s3_get(struct lcb_s3_object_info *info, struct lcb_aws *aws, const char *bucket,
               const char *key, const struct lcb_s3_get_opts *opts, lcb_http_write_fn write,
               int (*reset)(void *ud), void *ud, struct lcb_err *err);
/* GetObject into out (replaced; at most max bytes, 0: LCB_HTTP_MAX_BODY), for manifests and other
 * small objects. Returns 0, or -1 (as lcb_s3_get; LCB_ECORRUPT when larger than max). */
int lcb_s3_get_buf(struct lcb_s3_object_info *info, struct lcb_aws *aws, const char *bucket,
                   const char *key, const struct lcb_s3_get_opts *opts, struct lcb_buf *out,
                   size_t max, struct lcb_err *err);
/* HeadObject. Returns 0, or -1 (LCB_ENOTFOUND for a missing key: a HEAD 404 has no body). */
int lcb_s3_head(struct lcb_s3_object_info *info, struct lcb_aws *aws, const char *bucket,
                const char *key, const struct lcb_s3_get_opts *opts, struct lcb_err *err);
/* DeleteObject (204 even when the key is absent). version_id and if_match may be NULL. Returns 0,
 * or -1 (LCB_EAUTH: AccessDenied, e.g. an Object Lock retention). */
int lcb_s3_delete(struct lcb_aws *aws, const char *bucket, const char *key, const char *version_id,
                  const char *if_match, struct lcb_err *err);

/* ---- listings ---- */

struct lcb_s3_object {
    char *key; /* decoded */
    int64_t size;
    char etag[80];
    time_t last_modified;
    char storage_class[32];
};

struct lcb_s3_list {
    struct lcb_s3_object *items;
    size_t n, cap;
    char **prefixes; /* CommonPrefixes (decoded) when a delimiter was given */
    size_t nprefixes;
    int truncated;
    char *next_token; /* NextContinuationToken of the last page fetched, or NULL */
};

void lcb_s3_list_init(struct lcb_s3_list *l);
void lcb_s3_list_release(struct lcb_s3_list *l);

struct lcb_s3_list_opts {
    const char *prefix;
    const char *delimiter;
    const char *start_after;
    int max_keys; /* per page; 0: the service default (1000) */
};

/* One ListObjectsV2 page (encoding-type=url, keys decoded) appended to out. token: the previous
 * page's out->next_token, or NULL for the first page. Returns 0, or -1 (LCB_ENOTFOUND:
 * NoSuchBucket; LCB_ECORRUPT: a bad answer). */
int lcb_s3_list_page(struct lcb_s3_list *out, struct lcb_aws *aws, const char *bucket,
                     const struct lcb_s3_list_opts *opts, const char *token, struct lcb_err *err);
/* Every page, appended to out; stops with LCB_ECORRUPT when a token repeats or more than max_items
 * keys (0: no limit) arrive. Returns 0 or -1. */
int lcb_s3_list_all(struct lcb_s3_list *out, struct lcb_aws *aws, const char *bucket,
                    const struct lcb_s3_list_opts *opts, size_t max_items, struct lcb_err *err);

/* ---- DeleteObjects ---- */

struct lcb_s3_delete_failure {
    char *key;
    char code[64];
    char *message;
};

struct lcb_s3_delete_result {
    size_t ndeleted;
    struct lcb_s3_delete_failure *failed;
    size_t nfailed;
};

void lcb_s3_delete_result_init(struct lcb_s3_delete_result *r);
void lcb_s3_delete_result_release(struct lcb_s3_delete_result *r);

/* Delete keys in requests of up to 1000 (quiet mode, Content-MD5). Per-key failures (an Object Lock
 * retention: AccessDenied) come back in out->failed with a 0 return: the caller decides whether that
 * is a partial success. Returns 0, or -1 when a request as a whole failed (codes above; LCB_EUSAGE:
 * a key XML cannot carry). */
int lcb_s3_delete_objects(struct lcb_s3_delete_result *out, struct lcb_aws *aws, const char *bucket,
                          const char *const *keys, size_t n, struct lcb_err *err);

/* ---- multipart uploads ---- */

/* CreateMultipartUpload with the headers of opts (if_none_match/if_match are not sent here; give
 * them to Complete) and x-amz-checksum-algorithm SHA256. The upload id replaces upload_id's content.
 * Returns 0, or -1. */
int lcb_s3_mpu_create(struct lcb_buf *upload_id, struct lcb_aws *aws, const char *bucket,
                      const char *key, const struct lcb_s3_put_opts *opts, struct lcb_err *err);

struct lcb_s3_part {
    int number;
    char etag[80];
    char checksum_sha256[64]; /* base64, sent in Complete */
    int64_t size;
};

/* A part request ready for lcb_aws_send() or lcb_aws_batch_add() (several parts in flight): all
 * the storage the request points to lives inside, so keep it in place until the request is done. */
struct lcb_s3_part_req {
    struct lcb_aws_req req;
    struct lcb_aws_kv query[2];
    struct lcb_aws_kv headers[2];
    char number[16];
    char sha256_hex[65];
    char sha256_b64[48];
    char md5_b64[32];
    int part_number;
};

/* Fill pr for UploadPart number (1..10000) of upload_id. A buffer body's checksums are computed
 * here; a producer must bring sha256_b64 (S3 requires it, since the upload declared SHA256) and
 * should bring md5_b64 and sha256_hex. Returns 0, or -1 (LCB_EUSAGE: bad number, missing
 * checksum). */
int lcb_s3_part_prepare(struct lcb_s3_part_req *pr, const char *bucket, const char *key,
                        const char *upload_id, int number, const struct lcb_s3_body *body,
                        struct lcb_err *err);
/* Read a finished part's answer: ETag, and the echoed checksum must equal what was sent. Returns 0,
 * or -1 (LCB_ECORRUPT: no ETag, or S3 stored other bytes than we sent). */
int lcb_s3_part_finish(struct lcb_s3_part *out, const struct lcb_s3_part_req *pr,
                       const struct lcb_aws_resp *resp, struct lcb_err *err);
/* UploadPart in one call: prepare, lcb_aws_send, finish. */
int lcb_s3_mpu_part(struct lcb_s3_part *out, struct lcb_aws *aws, const char *bucket,
                    const char *key, const char *upload_id, int number,
                    const struct lcb_s3_body *body, struct lcb_err *err);

/* CompleteMultipartUpload with parts in ascending order. if_none_match ("*") / if_match make it a
 * conditional write (NULL: none). A 200 carrying <Error> is an error (retried as a 500). Returns
 * 0, or -1 (InvalidPart, InvalidPartOrder, EntityTooSmall, NoSuchUpload, PreconditionFailed...;
 * LCB_EUSAGE: parts out of order or empty). */
int lcb_s3_mpu_complete(struct lcb_s3_put_result *out, struct lcb_aws *aws, const char *bucket,
                        const char *key, const char *upload_id, const struct lcb_s3_part *parts,
                        size_t nparts, const char *if_none_match, const char *if_match,
                        struct lcb_err *err);
/* AbortMultipartUpload. Returns 0, or -1 (LCB_ENOTFOUND: NoSuchUpload). */
int lcb_s3_mpu_abort(struct lcb_aws *aws, const char *bucket, const char *key,
                     const char *upload_id, struct lcb_err *err);

struct lcb_s3_upload {
    char *key;
    char *upload_id;
    time_t initiated;
};

struct lcb_s3_uploads {
    struct lcb_s3_upload *items;
    size_t n, cap;
};

void lcb_s3_uploads_init(struct lcb_s3_uploads *u);
void lcb_s3_uploads_release(struct lcb_s3_uploads *u);

/* ListMultipartUploads under prefix (NULL: all), every page (key-marker/upload-id-marker), appended
 * to out. Returns 0 or -1. */
int lcb_s3_mpu_list(struct lcb_s3_uploads *out, struct lcb_aws *aws, const char *bucket,
                    const char *prefix, struct lcb_err *err);

struct lcb_s3_parts {
    struct lcb_s3_part *items;
    size_t n, cap;
};

void lcb_s3_parts_init(struct lcb_s3_parts *p);
void lcb_s3_parts_release(struct lcb_s3_parts *p);

/* ListParts of an upload, every page (part-number-marker), appended to out: what a resumed upload
 * already has. Returns 0, or -1 (LCB_ENOTFOUND: NoSuchUpload). */
int lcb_s3_mpu_list_parts(struct lcb_s3_parts *out, struct lcb_aws *aws, const char *bucket,
                          const char *key, const char *upload_id, struct lcb_err *err);

/* ---- tagging ---- */

/* PutObjectTagging (replaces the tag set). Returns 0 or -1. */
int lcb_s3_tagging_put(struct lcb_aws *aws, const char *bucket, const char *key,
                       const struct lcb_aws_kv *tags, size_t n, struct lcb_err *err);
struct lcb_s3_tags {
    char **keys;
    char **values;
    size_t n;
};

void lcb_s3_tags_init(struct lcb_s3_tags *t);
void lcb_s3_tags_release(struct lcb_s3_tags *t);
/* The value of a tag, or NULL. */
const char *lcb_s3_tags_get(const struct lcb_s3_tags *t, const char *key);

/* GetObjectTagging into out (replaced), in the service's order. Returns 0 or -1. */
int lcb_s3_tagging_get(struct lcb_s3_tags *out, struct lcb_aws *aws, const char *bucket,
                       const char *key, struct lcb_err *err);

/* The error parser for struct lcb_aws_req.parse_error: an <Error> document (any status); for a 2xx
 * (check_2xx), also a truncated or unreadable document, reported as InternalError so it is
 * retried. Returns 1 with out filled, else 0 (then aws.c names the error by the status). */
int lcb_s3_parse_error(const struct lcb_aws_resp *resp, struct lcb_aws_error *out);

#endif
