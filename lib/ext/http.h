/*
 * http.h - HTTP/1.1 through libcurl, in lcbackup's own types (http.c is the only libcurl user).
 *
 * A struct lcb_http is a client: shared settings (CA bundle, timeouts, the insecure-endpoint rule)
 * and a connection cache, so consecutive requests to one host reuse the connection (keep-alive).
 * lcb_http_send() runs one request; struct lcb_http_multi runs several in flight on one thread
 * (curl's multi interface), for S3 parts and broker pages. Nothing here retries: lib/aws/retry.c
 * decides that, and lib/aws/aws.c (or the NGSI-LD client) loops.
 *
 * Bodies: a request body is either a buffer (body, body_len) or a read callback with a known length
 * (S3 parts are streamed from files) plus a rewind callback so that a retry can send it again. A
 * response body is buffered in resp->body (capped by max_body, default LCB_HTTP_MAX_BODY) unless a
 * write callback is given; then only 2xx bodies stream to it and other bodies are still buffered
 * (they are error documents that the caller wants to parse).
 *
 * TLS verification is always on (AWS_CA_BUNDLE / --ca-bundle add a private CA). Plain http:// is
 * refused with LCB_ECONFIG unless the host is a loopback address (127.0.0.0/8, ::1, localhost) or the
 * client was made with allow_insecure (--allow-insecure-endpoint), or the request sets
 * allow_plain_http (the EC2/ECS metadata endpoints, which only speak http on link-local addresses).
 * We never send an implicit "Expect: 100-continue".
 *
 * -v -v (LCB_TRACE) logs one line per request: method, URL, status, bytes and time; the line goes
 * through the redactor, which masks signatures, tokens and registered secrets.
 */
#ifndef LCB_EXT_HTTP_H
#define LCB_EXT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/err.h"

#define LCB_HTTP_MAX_BODY ((size_t)64 << 20) /* default cap on a buffered response body */

struct lcb_http;
struct lcb_http_multi;

struct lcb_http_config {
    const char *ca_bundle;   /* extra CA file (PEM); NULL: the system store */
    int allow_insecure;      /* accept http:// to any host */
    long connect_timeout_ms; /* 0: 10 s */
    long timeout_ms;         /* whole request; 0: none (long uploads rely on low-speed limits) */
    long low_speed_bytes;    /* abort when slower than this many bytes/s ... (0: 1) */
    long low_speed_secs;     /* ... for this many seconds (0: 60) */
    const char *user_agent;  /* NULL: "lcbackup/<version>" */
};

struct lcb_http_header {
    const char *name;
    const char *value;
};

/* Response headers of the final response (after 1xx and redirects are skipped). */
struct lcb_http_headers {
    char **names;
    char **values;
    size_t n;
};

/* Request body producer: copy up to len bytes into buf; return the count, 0 at the end, or
 * LCB_HTTP_ABORT to abort the transfer. */
typedef size_t (*lcb_http_read_fn)(void *ud, char *buf, size_t len);
/* Start the body again from its first byte (for retries). Return 0, or -1 when impossible. */
typedef int (*lcb_http_rewind_fn)(void *ud);
/* Response body consumer (2xx only). Return 0, or -1 to abort the transfer. */
typedef int (*lcb_http_write_fn)(void *ud, const void *data, size_t len);

#define LCB_HTTP_ABORT ((size_t)-1)

struct lcb_http_req {
    const char *method; /* "GET", "PUT", "POST", "HEAD", "DELETE" */
    const char *url;    /* absolute, already percent-encoded */
    const struct lcb_http_header *headers;
    size_t nheaders;
    /* body: a buffer, or a read callback with its exact length */
    const void *body;
    size_t body_len; /* bytes of body, or the length the read callback produces */
    lcb_http_read_fn read;
    lcb_http_rewind_fn rewind;
    void *read_ud;
    /* response sink for 2xx bodies; NULL: buffer in resp->body */
    lcb_http_write_fn write;
    void *write_ud;
    size_t max_body;      /* cap on the buffered body; 0: LCB_HTTP_MAX_BODY */
    long timeout_ms;      /* 0: the client's */
    int allow_plain_http; /* metadata endpoints only */
};

struct lcb_http_resp {
    int status; /* 0 when no response arrived */
    struct lcb_http_headers headers;
    struct lcb_buf body;
    int64_t elapsed_ms;
    uint64_t bytes_down; /* body bytes received (streamed or buffered) */
    uint64_t bytes_up;
};

/* Create a client. Returns 0, or -1 (LCB_ECONFIG: unreadable CA bundle). */
int lcb_http_new(struct lcb_http **out, const struct lcb_http_config *cfg, struct lcb_err *err);
void lcb_http_free(struct lcb_http *h);

void lcb_http_resp_init(struct lcb_http_resp *r);
void lcb_http_resp_release(struct lcb_http_resp *r);
/* Empty it for another attempt (keeps nothing). */
void lcb_http_resp_reset(struct lcb_http_resp *r);

/* Run one request. Returns 0 when a response arrived, whatever its status (resp->status), or -1:
 * LCB_ETEMP (connection failure, timeout; err->sys is the CURLcode), LCB_ECONFIG (plain http refused,
 * bad URL, TLS setup), LCB_EIO (the read or write callback aborted), LCB_ECORRUPT (the response body
 * exceeded max_body), LCB_EINTR (a signal arrived). */
int lcb_http_send(struct lcb_http *h, const struct lcb_http_req *req, struct lcb_http_resp *resp,
                  struct lcb_err *err);

/* For retry decisions on a failed lcb_http_send: did it time out; was it certainly never sent
 * (connection refused, name not resolved)? */
int lcb_http_timed_out(const struct lcb_err *err);
int lcb_http_never_sent(const struct lcb_err *err);

/* Is this URL acceptable to this client (the http:// rule)? Returns 0 or -1 (LCB_ECONFIG). */
int lcb_http_check_url(const struct lcb_http *h, const char *url, int allow_plain_http,
                       struct lcb_err *err);
/* Is host (no port, IPv6 without brackets) a loopback name or address? */
int lcb_http_is_loopback(const char *host);

/* A header value by case-insensitive name (borrowed), or NULL. */
const char *lcb_http_header_get(const struct lcb_http_headers *h, const char *name);
void lcb_http_headers_release(struct lcb_http_headers *h);

/* Several requests in flight. Each added request (and everything it points to) and its resp must
 * stay valid until lcb_http_multi_next() hands back its tag. */
int lcb_http_multi_new(struct lcb_http_multi **out, struct lcb_http *h, struct lcb_err *err);
void lcb_http_multi_free(struct lcb_http_multi *m);
/* Start a request. Returns 0, or -1 (LCB_ECONFIG: plain http refused or bad URL). */
int lcb_http_multi_add(struct lcb_http_multi *m, const struct lcb_http_req *req,
                       struct lcb_http_resp *resp, void *tag, struct lcb_err *err);
/* Requests still in flight. */
size_t lcb_http_multi_pending(const struct lcb_http_multi *m);
/* Wait up to timeout_ms (-1: until one finishes) for a finished request. Returns 1 with *tag and
 * req_err (its outcome, as lcb_http_send's: code LCB_OK when a response arrived), 0 when nothing
 * finished in time or nothing is in flight, -1 with LCB_EINTR when a signal arrived. */
int lcb_http_multi_next(struct lcb_http_multi *m, long timeout_ms, void **tag,
                        struct lcb_err *req_err);

/* Percent-encode for URLs the SigV4 way: every byte but A-Z a-z 0-9 - . _ ~ (and '/' when
 * keep_slash) as %XX with upper-case hex. Appends to out. */
void lcb_http_uri_encode(struct lcb_buf *out, const char *s, size_t len, int keep_slash);
/* Decode %XX (and '+' as space when plus_space); appends to out. Returns 0, or -1 on a malformed
 * escape. */
int lcb_http_uri_decode(struct lcb_buf *out, const char *s, size_t len, int plus_space);

/* libcurl's version string ("7.88.1"), for `lcbackup version`. */
const char *lcb_http_version(void);

#endif
