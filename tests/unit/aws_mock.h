/*
 * aws_mock.h - a scripted stand-in for lcb_aws_send() for the protocol unit tests (query, jsonrpc,
 * s3): it records every request exactly as the protocol layer built it and answers from a script
 * of replies (status, headers, body; or a transport failure). Signing, endpoints and retries are
 * aws.c's and are tested there and against the simulator (tests/integration).
 *
 * Defining lcb_aws_send and the lcb_aws_resp_* functions here keeps the linker from pulling aws.o
 * out of liblcb.a for these binaries. Like aws.c, a non-2xx reply (or a 2xx when the request sets
 * check_2xx and its parse_error finds an error) is a failure: resp->error is filled through the
 * request's parse_error and err gets "HTTP <status> <code>: <message>" with err->aws_code; the lcb
 * code is left as LCB_EFAIL, since mapping codes is lcb_aws_classify's job, not the protocol's.
 */
#ifndef LCB_TEST_AWS_MOCK_H
#define LCB_TEST_AWS_MOCK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../lib/aws/aws.h"
#include "../../lib/core/buf.h"
#include "../../lib/core/mem.h"
#include "aws_fixture.h"

#define MOCK_MAX 64

struct mock_call {
    char method[16], service[16], operation[64], region[32];
    char *bucket, *key, *path;
    struct lcb_buf query;   /* "name=value\n" per pair, raw, in order ("name\n" for a bare flag) */
    struct lcb_buf headers; /* "Name: value\n" per header, in order */
    struct lcb_buf body;    /* the bytes of a buffer body or everything the read callback gave */
    size_t body_len;        /* what the request declared */
    int streamed, rewindable, anonymous, has_creds, check_2xx, no_blind_retry, unsigned_payload;
    char payload_hash[80];
};

struct mock_reply {
    int status;          /* 0: a transport failure (LCB_ETEMP) */
    const char *headers; /* "Name: value\n..." or NULL */
    struct lcb_buf body;
    int attempts;        /* what resp->attempts reports (0: 1) */
};

static struct mock_call mock_calls[MOCK_MAX];
static int mock_ncalls;
static struct mock_reply mock_replies[MOCK_MAX];
static int mock_nreplies, mock_next;

__attribute__((unused)) static void
mock_reset(void)
{
    int i;

    for (i = 0; i < mock_ncalls; i++) {
        free(mock_calls[i].bucket);
        free(mock_calls[i].key);
        free(mock_calls[i].path);
        lcb_buf_release(&mock_calls[i].query);
        lcb_buf_release(&mock_calls[i].headers);
        lcb_buf_release(&mock_calls[i].body);
    }
    for (i = 0; i < mock_nreplies; i++)
        lcb_buf_release(&mock_replies[i].body);
    memset(mock_calls, 0, sizeof(mock_calls));
    memset(mock_replies, 0, sizeof(mock_replies));
    mock_ncalls = mock_nreplies = mock_next = 0;
}

/* Queue a reply. body may be NULL (empty). */
__attribute__((unused)) static void
mock_reply(int status, const char *headers, const char *body)
{
    struct mock_reply *r = &mock_replies[mock_nreplies++];

    r->status = status;
    r->headers = headers;
    lcb_buf_init(&r->body, 0);
    if (body)
        lcb_buf_adds(&r->body, body);
}

__attribute__((unused)) static void
mock_reply_fixture(int status, const char *headers, const char *fixture)
{
    struct mock_reply *r = &mock_replies[mock_nreplies++];

    r->status = status;
    r->headers = headers;
    lcb_buf_init(&r->body, 0);
    fixture_load(&r->body, fixture);
}

/* Make the last queued reply look like the outcome of n attempts (aws.c retried). */
__attribute__((unused)) static void
mock_reply_attempts(int n)
{
    mock_replies[mock_nreplies - 1].attempts = n;
}

/* The n-th recorded header's value (case-insensitive name), or NULL. */
__attribute__((unused)) static const char *
mock_header(const struct mock_call *c, const char *name)
{
    static char value[2048];
    const char *p = lcb_buf_str(&c->headers), *colon, *eol;
    size_t n = strlen(name);

    for (; *p; p = eol + 1) {
        eol = strchr(p, '\n');
        colon = strchr(p, ':');
        if (!eol || !colon)
            break;
        if ((size_t)(colon - p) == n && strncasecmp(p, name, n) == 0) {
            snprintf(value, sizeof(value), "%.*s", (int)(eol - colon - 2), colon + 2);
            return value;
        }
    }
    return NULL;
}

static void
mock_record(struct mock_call *c, const struct lcb_aws_req *req)
{
    size_t i, n;
    char chunk[1000];

    snprintf(c->method, sizeof(c->method), "%s", req->method ? req->method : "POST");
    snprintf(c->service, sizeof(c->service), "%s", req->service ? req->service : "");
    snprintf(c->operation, sizeof(c->operation), "%s", req->operation ? req->operation : "");
    snprintf(c->region, sizeof(c->region), "%s", req->region ? req->region : "");
    c->bucket = req->bucket ? lcb_xstrdup(req->bucket) : NULL;
    c->key = req->key ? lcb_xstrdup(req->key) : NULL;
    c->path = req->path ? lcb_xstrdup(req->path) : NULL;
    for (i = 0; i < req->nquery; i++) {
        lcb_buf_adds(&c->query, req->query[i].name);
        if (req->query[i].value)
            lcb_buf_addf(&c->query, "=%s", req->query[i].value);
        lcb_buf_addch(&c->query, '\n');
    }
    for (i = 0; i < req->nheaders; i++)
        lcb_buf_addf(&c->headers, "%s: %s\n", req->headers[i].name, req->headers[i].value);
    c->body_len = req->body_len;
    if (req->read) {
        c->streamed = 1;
        c->rewindable = req->rewind != NULL;
        while ((n = req->read(req->read_ud, chunk, sizeof(chunk))) > 0 && n != LCB_HTTP_ABORT)
            lcb_buf_add(&c->body, chunk, n);
    } else if (req->body) {
        lcb_buf_add(&c->body, req->body, req->body_len);
    }
    c->anonymous = req->anonymous;
    c->has_creds = req->creds != NULL;
    c->check_2xx = req->check_2xx;
    c->no_blind_retry = req->no_blind_retry;
    c->unsigned_payload = req->unsigned_payload;
    snprintf(c->payload_hash, sizeof(c->payload_hash), "%s",
             req->payload_hash ? req->payload_hash : "");
}

static void
mock_set_headers(struct lcb_http_headers *h, const char *text)
{
    const char *p = text, *colon, *eol;

    for (; p && *p; p = eol + 1) {
        eol = strchr(p, '\n');
        colon = strchr(p, ':');
        if (!eol || !colon)
            break;
        h->names = lcb_xrealloc(h->names, (h->n + 1) * sizeof(char *));
        h->values = lcb_xrealloc(h->values, (h->n + 1) * sizeof(char *));
        h->names[h->n] = lcb_xstrndup(p, (size_t)(colon - p));
        h->values[h->n] = lcb_xstrndup(colon + 2, (size_t)(eol - colon - 2));
        h->n++;
    }
}

void
lcb_aws_resp_init(struct lcb_aws_resp *r)
{
    memset(r, 0, sizeof(*r));
    lcb_buf_init(&r->body, 0);
}

void
lcb_aws_resp_release(struct lcb_aws_resp *r)
{
    size_t i;

    for (i = 0; i < r->headers.n; i++) {
        free(r->headers.names[i]);
        free(r->headers.values[i]);
    }
    free(r->headers.names);
    free(r->headers.values);
    lcb_buf_release(&r->body);
    lcb_aws_resp_init(r);
}

const char *
lcb_aws_resp_header(const struct lcb_aws_resp *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->headers.n; i++)
        if (strcasecmp(r->headers.names[i], name) == 0)
            return r->headers.values[i];
    return NULL;
}

static int
mock_fail(const struct lcb_aws_req *req, struct lcb_aws_resp *resp, int status,
          struct lcb_err *err)
{
    if (!req->parse_error || !req->parse_error(resp, &resp->error))
        snprintf(resp->error.code, sizeof(resp->error.code), "%d", status);
    lcb_err_set(err, LCB_EFAIL, "HTTP %d %s: %s", status, resp->error.code, resp->error.message);
    err->http = status;
    snprintf(err->aws_code, sizeof(err->aws_code), "%s", resp->error.code);
    return -1;
}

int
lcb_aws_send(struct lcb_aws *aws, const struct lcb_aws_req *req, struct lcb_aws_resp *resp,
             struct lcb_err *err)
{
    struct mock_reply *r;
    size_t half;

    (void)aws;
    lcb_aws_resp_release(resp);
    if (mock_ncalls < MOCK_MAX)
        mock_record(&mock_calls[mock_ncalls++], req);
    if (mock_next >= mock_nreplies)
        return lcb_err_set(err, LCB_EINTERNAL, "mock: no reply scripted for %s", req->operation);
    r = &mock_replies[mock_next++];
    resp->attempts = r->attempts ? r->attempts : 1;
    if (r->status == 0)
        return lcb_err_set(err, LCB_ETEMP, "connection failed");
    resp->status = r->status;
    mock_set_headers(&resp->headers, r->headers);
    if (r->status < 200 || r->status > 299) {
        lcb_buf_add(&resp->body, r->body.ptr ? r->body.ptr : "", r->body.len);
        return mock_fail(req, resp, r->status, err);
    }
    if (req->check_2xx && req->parse_error) {
        lcb_buf_add(&resp->body, r->body.ptr ? r->body.ptr : "", r->body.len);
        if (req->parse_error(resp, &resp->error))
            return mock_fail(req, resp, 500, err);
        lcb_buf_reset(&resp->body);
    }
    if (req->write) {
        /* in two pieces, as a network would */
        half = r->body.len / 2;
        if ((half && req->write(req->write_ud, r->body.ptr, half) < 0) ||
            (r->body.len > half && req->write(req->write_ud, r->body.ptr + half, r->body.len - half) < 0))
            return lcb_err_set(err, LCB_EIO, "mock: the write callback aborted");
        return 0;
    }
    lcb_buf_add(&resp->body, r->body.ptr ? r->body.ptr : "", r->body.len);
    return 0;
}

#endif
