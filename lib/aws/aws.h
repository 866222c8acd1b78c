/*
 * aws.h - the AWS client: every request to S3, RDS, EC2, SSM, ECS, STS and KMS goes through
 * lcb_aws_send() (or a batch), which resolves the endpoint (endpoint.c), gets credentials from the
 * SDK chain (creds.c), signs with SigV4 (sigv4.c), sends with libcurl (lib/ext/http.c), and retries
 * in standard mode (retry.c), correcting clock skew from the server's Date header.
 *
 * The protocol layers (query.c, jsonrpc.c, s3.c, sts.c, kms.c) build a struct lcb_aws_req with raw
 * (unencoded) paths, query pairs and headers, and supply a parse_error hook that reads their error
 * documents; this layer never parses a success body.
 *
 * Ownership: struct lcb_aws is heap (_new/_free). struct lcb_aws_resp is caller-owned
 * (_init/_release) and holds the final attempt's status, headers and body. A request and all it
 * points to are borrowed for the duration of the call (for a batch: until the request completes).
 *
 * Errors: a failing call returns -1 with err->code from lcb_aws_classify() (LCB_EAUTH 77,
 * LCB_ENOTFOUND 66, LCB_ETEMP 75, LCB_EREFUSED 69, LCB_ECONFIG 78), err->http the status,
 * err->aws_code the AWS error code, the message "HTTP 404 NoSuchKey: The specified key does not
 * exist", and when it was retried a frame summarising every attempt
 * ("3 attempts: 503 SlowDown x2, timeout").
 */
#ifndef LCB_AWS_AWS_H
#define LCB_AWS_AWS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../ext/http.h"

struct lcb_aws;
struct lcb_aws_batch;
struct lcb_creds;

struct lcb_aws_config {
    const char *region;        /* --region; NULL: AWS_REGION, AWS_DEFAULT_REGION, the profile */
    const char *policy_region; /* the policy's region: the last fallback (may be NULL) */
    const char *profile;       /* --profile; NULL: AWS_PROFILE, else "default" */
    const char *ca_bundle;     /* --ca-bundle / AWS_CA_BUNDLE; NULL: the profile's, else system */
    int max_attempts;          /* 0: AWS_MAX_ATTEMPTS, the profile's max_attempts, else 3 */
    int allow_insecure;        /* --allow-insecure-endpoint */
};

struct lcb_aws_kv {
    const char *name;
    const char *value; /* query: NULL for a bare flag such as "uploads" */
};

/* What a protocol's error parser found in an error response. */
struct lcb_aws_error {
    char code[64];     /* "NoSuchKey", "Throttling", "ParameterNotFound"; "" when unknown */
    char message[512]; /* the service's message, may be "" */
    char request_id[128];
};

struct lcb_aws_resp;

/* Parse an error document. Return 1 when resp holds an AWS error (out filled), 0 when it does not.
 * Called for every non-2xx response, and for 2xx ones when the request sets check_2xx: a 2xx that
 * holds an error (S3's 200 + <Error> on CompleteMultipartUpload) is then treated as a 500. */
typedef int (*lcb_aws_error_fn)(const struct lcb_aws_resp *resp, struct lcb_aws_error *out);

struct lcb_aws_req {
    const char *service;   /* endpoint key and signing name: "s3", "rds", "ec2", "sts", "ssm"... */
    const char *operation; /* "CreateDBSnapshot": for logs, errors and retry summaries */
    const char *region;    /* NULL: the client's region */
    const char *method;    /* NULL: "POST" */
    /* Where: S3 gives bucket (+ key); the endpoint picks path-style or virtual-hosted addressing.
     * Others give path (raw, not percent-encoded; NULL: "/"). */
    const char *bucket;
    const char *key; /* raw object key ("backups/run 42/a+b.tar.zst") */
    const char *path;
    const struct lcb_aws_kv *query; /* raw names and values; encoded and signed here */
    size_t nquery;
    const struct lcb_aws_kv *headers; /* extra headers, all signed (Content-Type, X-Amz-Target,
                                         x-amz-checksum-sha256, Content-MD5, Range...) */
    size_t nheaders;
    /* Body: a buffer, or a read callback (+ rewind for retries) producing exactly body_len bytes. */
    const void *body;
    size_t body_len;
    lcb_http_read_fn read;
    lcb_http_rewind_fn rewind;
    void *read_ud;
    const char *payload_hash; /* hex SHA-256 of a streamed body when known; NULL: computed for a
                                 buffer, UNSIGNED-PAYLOAD for a stream (S3 only) */
    int unsigned_payload;     /* S3: sign UNSIGNED-PAYLOAD even for a buffer */
    /* Response: 2xx bodies stream to write when set; otherwise they are buffered (max_body cap). */
    lcb_http_write_fn write;
    void *write_ud;
    int (*write_reset)(void *ud); /* forget what write received, so a failed GET can be retried;
                                     NULL: a transfer that failed after data arrived is not retried */
    size_t max_body;              /* 0: LCB_HTTP_MAX_BODY */
    /* Errors and retries */
    lcb_aws_error_fn parse_error; /* NULL: a generic parser (<Code>/<Message> XML, __type JSON) */
    int check_2xx;                /* call parse_error on 2xx responses too */
    int no_blind_retry;           /* a create without a client token: after a timeout or a 5xx the
                                     request may have been done, so do not retry; the caller looks
                                     for what the first attempt created, then retries itself */
    int max_attempts;             /* 0: the client's */
    /* Signing */
    const struct lcb_creds *creds; /* NULL: the client's credential chain */
    int anonymous;                 /* send unsigned (STS AssumeRoleWithWebIdentity) */
};

struct lcb_aws_resp {
    int status; /* final HTTP status; 0 when no response arrived */
    struct lcb_http_headers headers;
    struct lcb_buf body; /* error bodies always land here; 2xx ones unless req->write took them */
    int attempts;
    struct lcb_aws_error error; /* filled when the call ended with an AWS error */
};

void lcb_aws_resp_init(struct lcb_aws_resp *r);
void lcb_aws_resp_release(struct lcb_aws_resp *r);
/* A response header by case-insensitive name (borrowed), or NULL. */
const char *lcb_aws_resp_header(const struct lcb_aws_resp *r, const char *name);

/* Create a client: reads the shared config/credentials files for the profile, resolves the region
 * (it may stay unresolved: lcb_aws_region() is then NULL and sends fail with LCB_ECONFIG) and sets up
 * HTTP. Credentials are resolved on first use. Returns 0, or -1 (LCB_ECONFIG: malformed config file,
 * unknown explicit profile, unreadable CA bundle). */
int lcb_aws_new(struct lcb_aws **out, const struct lcb_aws_config *cfg, struct lcb_err *err);
void lcb_aws_free(struct lcb_aws *aws);

const char *lcb_aws_region(const struct lcb_aws *aws);
/* Where the region came from: "--region", "AWS_REGION", "AWS_DEFAULT_REGION", "profile x",
 * "policy", or NULL. */
const char *lcb_aws_region_source(const struct lcb_aws *aws);
const char *lcb_aws_profile(const struct lcb_aws *aws);
int lcb_aws_max_attempts(const struct lcb_aws *aws);
struct lcb_http *lcb_aws_http(struct lcb_aws *aws);

/* The current credentials (resolved or refreshed as needed; borrowed until the next call that
 * may refresh). Returns 0, or -1 (LCB_EAUTH: no credentials anywhere in the chain; LCB_ETEMP: a
 * metadata or STS endpoint failed). */
int lcb_aws_credentials(struct lcb_aws *aws, const struct lcb_creds **out, struct lcb_err *err);

/* The endpoint base URL for a service in a region ("https://rds.eu-west-1.amazonaws.com",
 * "http://127.0.0.1:4566"), and where it came from ("AWS_ENDPOINT_URL_S3", "default"...). */
int lcb_aws_endpoint(struct lcb_aws *aws, const char *service, const char *region,
                     struct lcb_buf *url, const char **source, struct lcb_err *err);

/* Seconds to add to the local clock when signing (learnt from RequestTimeTooSkewed & co). */
int64_t lcb_aws_clock_offset(const struct lcb_aws *aws);
/* The skew (server Date - local clock, seconds) seen on the latest response; 0 if none. */
int64_t lcb_aws_last_skew(const struct lcb_aws *aws);
/* The signing time: lcb_now() plus the learnt offset. */
time_t lcb_aws_now(const struct lcb_aws *aws);

/* Send one request, retrying as retry.c decides. Returns 0 when the final response is a 2xx without
 * an error document, else -1 (codes above; resp keeps the final status, headers and body). */
int lcb_aws_send(struct lcb_aws *aws, const struct lcb_aws_req *req, struct lcb_aws_resp *resp,
                 struct lcb_err *err);

/* A presigned URL for req (query signing; S3 signs UNSIGNED-PAYLOAD; expires in seconds, 1..604800)
 * into url (empty on entry). Plain http:// is refused off loopback as for requests (LCB_ECONFIG). For Query services the request's query pairs carry Action, Version and the parameters
 * (the RDS/EC2 cross-region PreSignedUrl). Returns 0, or -1 (LCB_EUSAGE: bad expiry;
 * credential and endpoint errors as above). */
int lcb_aws_presign(struct lcb_aws *aws, const struct lcb_aws_req *req, int64_t expires,
                    struct lcb_buf *url, struct lcb_err *err);

/* Map an HTTP status and AWS error code to an lcb code: auth (77), not found (66),
 * throttled/temporary (75), refused (69). */
enum lcb_code lcb_aws_classify(int status, const char *code);

/* Several requests in flight (S3 parts): up to max_in_flight at once, each retried on its own. */
int lcb_aws_batch_new(struct lcb_aws_batch **out, struct lcb_aws *aws, int max_in_flight,
                      struct lcb_err *err);
void lcb_aws_batch_free(struct lcb_aws_batch *b);
/* Queue a request (it starts as soon as there is room). req, what it points to, and resp must stay
 * valid until lcb_aws_batch_next() returns its tag. Returns 0 or -1 (LCB_ECONFIG). */
int lcb_aws_batch_add(struct lcb_aws_batch *b, const struct lcb_aws_req *req,
                      struct lcb_aws_resp *resp, void *tag, struct lcb_err *err);
/* Wait for the next request to finish (after its retries). Returns 1 with *tag, *rc (0 or -1 as
 * lcb_aws_send) and req_err filled; 0 when nothing is queued or in flight; -1 with err LCB_EINTR
 * when a signal arrived (requests in flight are abandoned). */
int lcb_aws_batch_next(struct lcb_aws_batch *b, void **tag, int *rc, struct lcb_err *req_err,
                       struct lcb_err *err);
/* lcb_aws_batch_next without waiting: move the transfers on as far as the sockets take them now,
 * start the retries that are due, and return 1 (as lcb_aws_batch_next) when a request finished,
 * else 0. For a caller with other work to do between parts (the broker export between pages). */
int lcb_aws_batch_poll(struct lcb_aws_batch *b, void **tag, int *rc, struct lcb_err *req_err,
                       struct lcb_err *err);

#endif
