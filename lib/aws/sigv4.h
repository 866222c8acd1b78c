/*
 * sigv4.h - AWS Signature Version 4, header and query (presigned) signing, as pure functions.
 *
 * Inputs are what goes on the wire: the path as sent (already percent-encoded), the query as raw
 * (decoded) name/value pairs, the headers as sent. Two canonical-URI rules (aws-wire.md 3.4):
 * s3 = 1 uses the wire path exactly as sent (encoded once, never normalised: "//", "." and ".."
 * kept); s3 = 0 removes "." and ".." segments, collapses "//" and percent-encodes the result again
 * (what botocore does for every other service, whose paths are "/" in practice).
 *
 * Nothing here reads the clock or the environment: the caller passes the time, so known-answer tests
 * pin it. The signing key (four HMACs) is cached per secret, day, region and service in a
 * caller-owned struct lcb_sigv4_cache.
 */
#ifndef LCB_AWS_SIGV4_H
#define LCB_AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/buf.h"

#define LCB_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define LCB_SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"
#define LCB_SIGV4_MAX_EXPIRES 604800

struct lcb_sigv4_pair {
    const char *name;
    const char *value; /* query: NULL for a bare flag ("uploads" signs as "uploads=") */
};

struct lcb_sigv4_key {
    const char *access_key_id;
    const char *secret;
    const char *token; /* session token, or NULL */
};

struct lcb_sigv4_req {
    const char *method;
    const char *host; /* "host[:port]" as in the Host header (port only when non-default) */
    const char *path; /* the wire path, percent-encoded as sent; NULL or "": "/" */
    const struct lcb_sigv4_pair *query;
    size_t nquery;
    const struct lcb_sigv4_pair *headers; /* as sent; Host, X-Amz-Date and the token may be among
                                             them (then they are not added twice) */
    size_t nheaders;
    const char *payload_hash; /* hex SHA-256 of the body, or a literal such as UNSIGNED-PAYLOAD;
                                 NULL: the hash of an empty body (presign: S3 UNSIGNED-PAYLOAD) */
    const char *region;
    const char *service;
    time_t when;
    int s3; /* the S3 canonical URI rule */
};

/* Cache of the derived signing key (the last one used). */
struct lcb_sigv4_cache {
    unsigned char key[32];
    char scope[128];         /* date/region/service */
    unsigned char secret_hash[32];
    int valid;
};

struct lcb_sigv4_out {
    char amz_date[17];        /* "20150830T123600Z": send it as X-Amz-Date */
    char signature[65];
    struct lcb_buf canonical; /* the canonical request (for tests and -v -v diagnostics) */
    struct lcb_buf sts;       /* the string to sign */
    struct lcb_buf signed_headers;
    struct lcb_buf authorization; /* header signing: the Authorization value */
    struct lcb_buf query;         /* presigning: the wire query string, X-Amz-Signature last */
};

void lcb_sigv4_out_init(struct lcb_sigv4_out *o);
void lcb_sigv4_out_release(struct lcb_sigv4_out *o);
/* Wipe the cached key. */
void lcb_sigv4_cache_release(struct lcb_sigv4_cache *c);

/* Sign with an Authorization header. The caller sends X-Amz-Date: out->amz_date and, when the key
 * has a token, X-Amz-Security-Token (both are signed here when not already among the headers). */
void lcb_sigv4_sign(struct lcb_sigv4_out *out, const struct lcb_sigv4_req *req,
                    const struct lcb_sigv4_key *key, struct lcb_sigv4_cache *cache);

/* Presign: out->query becomes "<request's query pairs>&X-Amz-Algorithm=...&X-Amz-Credential=...
 * &X-Amz-Date=...&X-Amz-SignedHeaders=...&X-Amz-Expires=...[&X-Amz-Security-Token=...]
 * &X-Amz-Signature=...", the order of botocore's signer when python3-awscrt is installed (as it is
 * with Debian's awscli; pure-Python botocore puts X-Amz-Expires before X-Amz-SignedHeaders; the
 * signature is the same). expires is seconds (1..LCB_SIGV4_MAX_EXPIRES). */
void lcb_sigv4_presign(struct lcb_sigv4_out *out, const struct lcb_sigv4_req *req,
                       const struct lcb_sigv4_key *key, int64_t expires,
                       struct lcb_sigv4_cache *cache);

/* The canonical URI for a wire path under the s3 / non-s3 rule, appended to out. */
void lcb_sigv4_canonical_uri(struct lcb_buf *out, const char *path, int s3);
/* "20150830T123600Z" into out (17 bytes). */
void lcb_sigv4_amz_date(time_t t, char out[17]);

#endif
