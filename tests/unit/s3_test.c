/* s3_test.c - the S3 client's requests (method, bucket/key, query, headers, integrity checksums,
 * XML bodies) and its reading of answers (headers, listings with url encoding, DeleteObjects
 * failures, 200-with-Error, multipart listings), against a scripted lcb_aws_send(). */
#include <stdlib.h>
#include <string.h>

#include "../../lib/aws/s3.h"
#include "../../lib/core/buf.h"
#include "../../lib/core/err.h"
#include "aws_mock.h"
#include "harness.h"

#define HELLO_SHA_HEX "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
#define HELLO_SHA_B64 "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="
#define HELLO_MD5_B64 "XrY7u+Ae7tCTyyK7j1rNww=="

/* The recorded query as one line: "a=1&flag&b=2" (raw, in order). */
static const char *
query_line(const struct mock_call *c)
{
    static char line[4096];
    size_t i;

    snprintf(line, sizeof(line), "%s", lcb_buf_str(&c->query));
    for (i = 0; line[i]; i++)
        if (line[i] == '\n')
            line[i] = line[i + 1] ? '&' : '\0';
    return line;
}

static void
test_put(void)
{
    const struct lcb_aws_kv tags[] = { { "lcbackup run", "a+b/c" }, { "x", "y" } };
    const struct lcb_aws_kv meta[] = { { "lcb-sha256", "abc" } };
    struct lcb_s3_put_opts o = { 0 };
    struct lcb_s3_body body = { "hello world", 11, NULL, NULL, NULL, NULL, NULL, NULL };
    struct lcb_s3_put_result r;
    struct lcb_err err;
    const struct mock_call *c;

    mock_reset();
    mock_reply(200, "ETag: \"5eb63bbbe01eeed093cb22bb8f5acdc3\"\nx-amz-version-id: v1\n"
                    "x-amz-checksum-sha256: " HELLO_SHA_B64 "\n"
                    "x-amz-server-side-encryption: aws:kms\n"
                    "x-amz-server-side-encryption-aws-kms-key-id: arn:aws:kms:k\n", NULL);
    o.content_type = "application/zstd";
    o.if_none_match = "*";
    o.sse = "aws:kms";
    o.sse_kms_key_id = "alias/lcbackup";
    o.sse_bucket_key = 1;
    o.storage_class = "STANDARD_IA";
    o.tags = tags;
    o.ntags = 2;
    o.meta = meta;
    o.nmeta = 1;
    o.lock_mode = "COMPLIANCE";
    o.lock_until = 1798761600; /* 2027-01-01T00:00:00Z */
    o.legal_hold = 1;
    CHECK_INT(lcb_s3_put(&r, NULL, "lcb-backups", "backups/run 42/a+b.tar.zst", &body, &o, &err), 0);
    c = &mock_calls[0];
    CHECK_STR(c->service, "s3");
    CHECK_STR(c->method, "PUT");
    CHECK_STR(c->operation, "PutObject");
    CHECK_STR(c->bucket, "lcb-backups");
    CHECK_STR(c->key, "backups/run 42/a+b.tar.zst"); /* raw: aws.c encodes it once */
    CHECK_STR(c->body.ptr, "hello world");
    CHECK_STR(c->payload_hash, HELLO_SHA_HEX);
    CHECK_STR(mock_header(c, "Content-MD5"), HELLO_MD5_B64);
    CHECK_STR(mock_header(c, "x-amz-checksum-sha256"), HELLO_SHA_B64);
    CHECK_STR(mock_header(c, "Content-Type"), "application/zstd");
    CHECK_STR(mock_header(c, "If-None-Match"), "*");
    CHECK_STR(mock_header(c, "x-amz-server-side-encryption"), "aws:kms");
    CHECK_STR(mock_header(c, "x-amz-server-side-encryption-aws-kms-key-id"), "alias/lcbackup");
    CHECK_STR(mock_header(c, "x-amz-server-side-encryption-bucket-key-enabled"), "true");
    CHECK_STR(mock_header(c, "x-amz-storage-class"), "STANDARD_IA");
    CHECK_STR(mock_header(c, "x-amz-tagging"), "lcbackup%20run=a%2Bb%2Fc&x=y");
    CHECK_STR(mock_header(c, "x-amz-meta-lcb-sha256"), "abc");
    CHECK_STR(mock_header(c, "x-amz-object-lock-mode"), "COMPLIANCE");
    CHECK_STR(mock_header(c, "x-amz-object-lock-retain-until-date"), "2027-01-01T00:00:00Z");
    CHECK_STR(mock_header(c, "x-amz-object-lock-legal-hold"), "ON");
    CHECK(mock_header(c, "If-Match") == NULL);
    CHECK_STR(r.etag, "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
    CHECK_STR(r.version_id, "v1");
    CHECK_STR(r.sse, "aws:kms");
    CHECK_STR(r.sse_kms_key_id, "arn:aws:kms:k");

    /* S3 says it stored other bytes than we sent */
    mock_reply(200, "ETag: \"x\"\nx-amz-checksum-sha256: AAAA\n", NULL);
    CHECK_INT(lcb_s3_put(&r, NULL, "b", "k", &body, NULL, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    /* a retention needs both halves; nothing is sent */
    o.lock_until = 0;
    CHECK_INT(lcb_s3_put(&r, NULL, "b", "k", &body, &o, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(mock_ncalls, 2);
    /* a conditional write that lost */
    mock_reply(412, NULL, "<Error><Code>PreconditionFailed</Code><Message>At least one of the "
                          "pre-conditions you specified did not hold</Message></Error>");
    CHECK_INT(lcb_s3_put(&r, NULL, "b", "k", &body, NULL, &err), -1);
    CHECK_STR(err.aws_code, "PreconditionFailed");
    mock_reset();
}

struct sink {
    struct lcb_buf b;
    int resets;
};

static int
sink_write(void *ud, const void *data, size_t len)
{
    return lcb_buf_add(&((struct sink *)ud)->b, data, len);
}

static int
sink_reset(void *ud)
{
    ((struct sink *)ud)->resets++;
    lcb_buf_reset(&((struct sink *)ud)->b);
    return 0;
}

static void
test_get_head_delete(void)
{
    struct lcb_s3_get_opts o = LCB_S3_GET_OPTS_INIT;
    struct lcb_s3_object_info info;
    struct sink s = { LCB_BUF_INIT, 0 };
    struct lcb_buf small = LCB_BUF_INIT;
    struct lcb_err err;

    mock_reset();
    mock_reply(206, "Content-Length: 10\nContent-Range: bytes 10-19/75497472\nETag: \"e-9\"\n"
                    "Last-Modified: Wed, 12 Oct 2009 17:50:00 GMT\nx-amz-version-id: v7\n"
                    "x-amz-checksum-sha256: Zm9v\nx-amz-object-lock-mode: GOVERNANCE\n"
                    "x-amz-object-lock-retain-until-date: 2027-01-01T00:00:00.000Z\n"
                    "x-amz-mp-parts-count: 9\nx-amz-storage-class: STANDARD_IA\n",
               "0123456789");
    o.range_start = 10;
    o.range_end = 19;
    o.version_id = "v7";
    o.checksum_mode = 1;
    CHECK_INT(lcb_s3_get(&info, NULL, "b", "backups/a b", &o, sink_write, sink_reset, &s, &err), 0);
    CHECK_STR(mock_calls[0].method, "GET");
    CHECK_STR(mock_header(&mock_calls[0], "Range"), "bytes=10-19");
    CHECK_STR(mock_header(&mock_calls[0], "x-amz-checksum-mode"), "ENABLED");
    CHECK_STR(query_line(&mock_calls[0]), "versionId=v7");
    CHECK_STR(s.b.ptr, "0123456789");
    CHECK_INT(info.status, 206);
    CHECK_INT(info.length, 10);
    CHECK_INT(info.size, 75497472);
    CHECK_STR(info.etag, "\"e-9\"");
    CHECK_INT(info.last_modified, 1255369800);
    CHECK_STR(info.version_id, "v7");
    CHECK_STR(info.lock_mode, "GOVERNANCE");
    CHECK_INT(info.lock_until, 1798761600);
    CHECK_INT(info.parts_count, 9);
    CHECK_STR(info.storage_class, "STANDARD_IA");

    /* open-ended range; a small object into a buffer */
    mock_reply(200, "Content-Length: 3\n", "abc");
    o = (struct lcb_s3_get_opts)LCB_S3_GET_OPTS_INIT;
    o.range_start = 5;
    CHECK_INT(lcb_s3_get_buf(&info, NULL, "b", "m.json", &o, &small, 100, &err), 0);
    CHECK_STR(mock_header(&mock_calls[1], "Range"), "bytes=5-");
    CHECK_STR(small.ptr, "abc");
    CHECK_INT(info.size, 3);
    mock_reply(200, NULL, "whole");
    CHECK_INT(lcb_s3_get_buf(NULL, NULL, "b", "m.json", NULL, &small, 0, &err), 0);
    CHECK(mock_header(&mock_calls[2], "Range") == NULL);
    CHECK_STR(small.ptr, "whole");

    /* HEAD 404 has no body: the error is named by the status */
    mock_reply(404, NULL, NULL);
    CHECK_INT(lcb_s3_head(&info, NULL, "b", "missing", NULL, &err), -1);
    CHECK_STR(mock_calls[3].method, "HEAD");
    CHECK_INT(err.http, 404);
    CHECK_STR(err.aws_code, "404");
    mock_reply_fixture(404, NULL, "s3-error-no-such-key.xml");
    CHECK_INT(lcb_s3_get(NULL, NULL, "b", "missing", NULL, sink_write, NULL, &s, &err), -1);
    CHECK_STR(err.aws_code, "NoSuchKey");

    mock_reply(204, NULL, NULL);
    CHECK_INT(lcb_s3_delete(NULL, "b", "old key", "v1", "\"e\"", &err), 0);
    CHECK_STR(mock_calls[5].method, "DELETE");
    CHECK_STR(mock_calls[5].key, "old key");
    CHECK_STR(query_line(&mock_calls[5]), "versionId=v1");
    CHECK_STR(mock_header(&mock_calls[5], "If-Match"), "\"e\"");
    lcb_buf_release(&s.b);
    lcb_buf_release(&small);
    mock_reset();
}

static void
test_list(void)
{
    struct lcb_s3_list l;
    struct lcb_s3_list_opts o = { "backups/", "/", "backups/0", 3 };
    struct lcb_err err;

    mock_reset();
    mock_reply_fixture(200, NULL, "s3-list-objects-v2.xml");
    mock_reply(200, NULL,
               "<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated>"
               "<Contents><Key>backups/z+raw%</Key><Size>5</Size></Contents></ListBucketResult>");
    lcb_s3_list_init(&l);
    CHECK_INT(lcb_s3_list_all(&l, NULL, "lcb-backups", &o, 0, &err), 0);
    CHECK_INT(mock_ncalls, 2);
    CHECK(mock_calls[0].key == NULL);
    CHECK_STR(query_line(&mock_calls[0]), "list-type=2&encoding-type=url&prefix=backups/"
                                          "&delimiter=/&start-after=backups/0&max-keys=3");
    CHECK_STR(query_line(&mock_calls[1]),
              "list-type=2&encoding-type=url&prefix=backups/&delimiter=/&max-keys=3"
              "&continuation-token=1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    CHECK_INT(l.n, 4);
    CHECK_STR(l.items[0].key, "backups/a.tar.zst");
    CHECK_INT(l.items[0].size, 0);
    CHECK_STR(l.items[1].key, "backups/run 42/db+tar.zst"); /* '+' is a space, %2B a plus */
    CHECK_INT(l.items[1].size, 75497472);
    CHECK_STR(l.items[1].etag, "\"3858f62230ac3c915f300c664312c11f-9\"");
    CHECK_INT(l.items[1].last_modified, 1767225660);
    CHECK_STR(l.items[2].key, "backups/\xc3\xa9t\xc3\xa9.txt");
    CHECK_STR(l.items[3].key, "backups/z+raw%"); /* no EncodingType in that answer: verbatim */
    CHECK_INT(l.nprefixes, 1);
    CHECK_STR(l.prefixes[0], "backups/old/");
    CHECK(l.next_token == NULL);
    lcb_s3_list_release(&l);

    /* a service that repeats its token, a truncated page without one, a cap */
    mock_reset();
    mock_reply_fixture(200, NULL, "s3-list-objects-v2.xml");
    mock_reply_fixture(200, NULL, "s3-list-objects-v2.xml");
    CHECK_INT(lcb_s3_list_all(&l, NULL, "b", NULL, 0, &err), -1);
    CHECK(strstr(err.msg, "repeated") != NULL);
    lcb_s3_list_release(&l);
    mock_reply(200, NULL, "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
    CHECK_INT(lcb_s3_list_all(&l, NULL, "b", NULL, 0, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_s3_list_release(&l);
    mock_reply_fixture(200, NULL, "s3-list-objects-v2.xml");
    CHECK_INT(lcb_s3_list_all(&l, NULL, "b", NULL, 2, &err), -1);
    CHECK(strstr(err.msg, "more than 2 keys") != NULL);
    lcb_s3_list_release(&l);
    mock_reply_fixture(404, NULL, "s3-error-no-such-key.xml");
    CHECK_INT(lcb_s3_list_page(&l, NULL, "b", NULL, NULL, &err), -1);
    lcb_s3_list_release(&l);
    mock_reset();
}

static void
test_delete_objects(void)
{
    static char names[1001][16];
    const char *keys[1001];
    struct lcb_s3_delete_result r;
    struct lcb_err err;
    const char *one[] = { "a&b" }, *bad[] = { "bell\a" };
    size_t i;

    for (i = 0; i < 1001; i++) {
        snprintf(names[i], sizeof(names[i]), "k%zu", i);
        keys[i] = names[i];
    }
    mock_reset();
    mock_reply_fixture(200, NULL, "s3-delete-objects.xml"); /* one failure */
    mock_reply(200, NULL, "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>");
    mock_reply(200, NULL, "<DeleteResult/>");
    lcb_s3_delete_result_init(&r);
    CHECK_INT(lcb_s3_delete_objects(&r, NULL, "b", keys, 1001, &err), 0);
    CHECK_INT(mock_ncalls, 2); /* 1000 + 1 */
    CHECK_STR(mock_calls[0].method, "POST");
    CHECK_STR(query_line(&mock_calls[0]), "delete");
    CHECK(strstr(mock_calls[0].body.ptr, "<Quiet>true</Quiet><Object><Key>k0</Key></Object>"));
    CHECK(strstr(mock_calls[0].body.ptr, "<Key>k999</Key></Object></Delete>"));
    CHECK(strstr(mock_calls[1].body.ptr, "<Object><Key>k1000</Key></Object></Delete>"));
    CHECK_INT(r.ndeleted, 1000);
    CHECK_INT(r.nfailed, 1);
    CHECK_STR(r.failed[0].key, "backups/locked.tar.zst");
    CHECK_STR(r.failed[0].code, "AccessDenied");
    CHECK(strstr(r.failed[0].message, "object lock") != NULL);
    lcb_s3_delete_result_release(&r);

    /* the body is escaped and its Content-MD5 is the MD5 of exactly those bytes */
    CHECK_INT(lcb_s3_delete_objects(&r, NULL, "b", one, 1, &err), 0);
    CHECK_STR(mock_calls[2].body.ptr, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete xmlns=\""
                                      "http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true"
                                      "</Quiet><Object><Key>a&amp;b</Key></Object></Delete>");
    CHECK_STR(mock_header(&mock_calls[2], "Content-MD5"), "fEt7rIfOnEHQu9cLfPet3w==");
    CHECK_INT(r.ndeleted, 1);
    /* a key XML cannot carry is refused before sending */
    CHECK_INT(lcb_s3_delete_objects(&r, NULL, "b", bad, 1, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(mock_ncalls, 3);
    lcb_s3_delete_result_release(&r);
    mock_reset();
}

struct src {
    const char *data;
    size_t len, off;
    int rewinds;
};

static size_t
src_read(void *ud, char *buf, size_t len)
{
    struct src *s = ud;
    size_t n = s->len - s->off < len ? s->len - s->off : len;

    memcpy(buf, s->data + s->off, n);
    s->off += n;
    return n;
}

static int
src_rewind(void *ud)
{
    ((struct src *)ud)->off = 0;
    ((struct src *)ud)->rewinds++;
    return 0;
}

static void
test_multipart(void)
{
    struct lcb_buf id = LCB_BUF_INIT;
    struct lcb_s3_put_opts o = { 0 };
    struct lcb_s3_body b1 = { "aaaaaaaaaa", 10, NULL, NULL, NULL, NULL, NULL, NULL };
    struct src src = { "bbbbb", 5, 0, 0 };
    struct lcb_s3_body b2 = { NULL, 5, src_read, src_rewind, &src, NULL,
                              "XoRsZPLbEiZua2WKjltbQswiVBmz7h/KiKy7GB3f21I=", NULL };
    struct lcb_s3_part parts[2];
    struct lcb_s3_put_result r;
    struct lcb_err err;

    mock_reset();
    mock_reply(200, NULL, "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                          "<UploadId>VXBsb2Fk+/=</UploadId></InitiateMultipartUploadResult>");
    o.sse = "aws:kms";
    o.if_none_match = "*"; /* belongs to Complete: not sent at create */
    CHECK_INT(lcb_s3_mpu_create(&id, NULL, "b", "big key", &o, &err), 0);
    CHECK_STR(id.ptr, "VXBsb2Fk+/=");
    CHECK_STR(mock_calls[0].method, "POST");
    CHECK_STR(query_line(&mock_calls[0]), "uploads");
    CHECK_STR(mock_header(&mock_calls[0], "x-amz-checksum-algorithm"), "SHA256");
    CHECK_STR(mock_header(&mock_calls[0], "x-amz-server-side-encryption"), "aws:kms");
    CHECK(mock_header(&mock_calls[0], "If-None-Match") == NULL);

    mock_reply(200, "ETag: \"p1\"\nx-amz-checksum-sha256: vyy1imj2hNlaO3jvj2Ycmk5bCegsyPnMiMzpBSjK6yc=\n",
               NULL);
    mock_reply(200, "ETag: \"p2\"\n", NULL);
    CHECK_INT(lcb_s3_mpu_part(&parts[0], NULL, "b", "big key", id.ptr, 1, &b1, &err), 0);
    CHECK_STR(mock_calls[1].method, "PUT");
    CHECK_STR(query_line(&mock_calls[1]), "partNumber=1&uploadId=VXBsb2Fk+/=");
    CHECK_STR(mock_header(&mock_calls[1], "x-amz-checksum-sha256"),
              "vyy1imj2hNlaO3jvj2Ycmk5bCegsyPnMiMzpBSjK6yc=");
    CHECK(mock_header(&mock_calls[1], "Content-MD5") != NULL);
    CHECK_STR(parts[0].etag, "\"p1\"");
    CHECK_INT(parts[0].size, 10);
    CHECK_INT(lcb_s3_mpu_part(&parts[1], NULL, "b", "big key", id.ptr, 2, &b2, &err), 0);
    CHECK_INT(mock_calls[2].streamed, 1);
    CHECK_INT(mock_calls[2].rewindable, 1);
    CHECK_INT(mock_calls[2].body_len, 5);
    CHECK_STR(mock_calls[2].body.ptr, "bbbbb");
    CHECK_STR(mock_calls[2].payload_hash, ""); /* not given: aws.c signs UNSIGNED-PAYLOAD */
    CHECK(mock_header(&mock_calls[2], "Content-MD5") == NULL);
    CHECK_STR(parts[1].checksum_sha256, "XoRsZPLbEiZua2WKjltbQswiVBmz7h/KiKy7GB3f21I=");

    /* 200 with <Error> (after leading keep-alive white space) is a failure */
    mock_reply_fixture(200, NULL, "s3-complete-200-error.xml");
    CHECK_INT(lcb_s3_mpu_complete(&r, NULL, "b", "big key", id.ptr, parts, 2, "*", NULL, &err), -1);
    CHECK_INT(mock_calls[3].check_2xx, 1);
    CHECK_STR(err.aws_code, "InternalError");
    CHECK_STR(query_line(&mock_calls[3]), "uploadId=VXBsb2Fk+/=");
    CHECK_STR(mock_header(&mock_calls[3], "If-None-Match"), "*");
    CHECK_STR(mock_calls[3].body.ptr,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUpload xmlns=\"http://"
              "s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>1</PartNumber><ETag>&quot;p1"
              "&quot;</ETag><ChecksumSHA256>vyy1imj2hNlaO3jvj2Ycmk5bCegsyPnMiMzpBSjK6yc="
              "</ChecksumSHA256></Part><Part><PartNumber>2</PartNumber><ETag>&quot;p2&quot;"
              "</ETag><ChecksumSHA256>XoRsZPLbEiZua2WKjltbQswiVBmz7h/KiKy7GB3f21I="
              "</ChecksumSHA256></Part></CompleteMultipartUpload>");
    mock_reply_fixture(200, "x-amz-version-id: v9\n", "s3-complete-ok.xml");
    CHECK_INT(lcb_s3_mpu_complete(&r, NULL, "b", "big key", id.ptr, parts, 2, NULL, NULL, &err), 0);
    CHECK_STR(r.etag, "\"3858f62230ac3c915f300c664312c11f-9\"");
    CHECK_STR(r.checksum_sha256, "u2Jt4FPMrUF5BZzgOXyy5TbbUR2hJT1Ks5oEVdLXy1I=-9");
    CHECK_STR(r.version_id, "v9");
    CHECK(mock_header(&mock_calls[4], "If-None-Match") == NULL);

    /* the answer to a completed upload got lost; the retry says NoSuchUpload; the object there has
     * our parts' composite checksum, so it is ours */
    mock_reply(404, NULL, "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>");
    mock_reply_attempts(2);
    mock_reply(200, "ETag: \"m-2\"\nx-amz-checksum-sha256: KJ79TdKFKTdAnjtRZjP7Wi/JgPwhArx+v8ggQnE5kJs=-2\n",
               NULL);
    CHECK_INT(lcb_s3_mpu_complete(&r, NULL, "b", "big key", id.ptr, parts, 2, NULL, NULL, &err), 0);
    CHECK_STR(mock_calls[6].method, "HEAD");
    CHECK_STR(mock_header(&mock_calls[6], "x-amz-checksum-mode"), "ENABLED");
    CHECK_STR(r.etag, "\"m-2\"");
    /* ... but another object there is not */
    mock_reply(404, NULL, "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>");
    mock_reply_attempts(2);
    mock_reply(200, "ETag: \"m-2\"\nx-amz-checksum-sha256: AAAA-2\n", NULL);
    CHECK_INT(lcb_s3_mpu_complete(&r, NULL, "b", "big key", id.ptr, parts, 2, NULL, NULL, &err), -1);
    CHECK_STR(err.aws_code, "NoSuchUpload");
    /* ... and a first-attempt NoSuchUpload is just that */
    mock_reply(404, NULL, "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>");
    CHECK_INT(lcb_s3_mpu_complete(&r, NULL, "b", "big key", id.ptr, parts, 2, NULL, NULL, &err), -1);
    CHECK_INT(mock_ncalls, 10);

    /* refused before sending */
    parts[1].number = 1;
    CHECK_INT(lcb_s3_mpu_complete(&r, NULL, "b", "k", id.ptr, parts, 2, NULL, NULL, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_s3_mpu_complete(&r, NULL, "b", "k", id.ptr, parts, 0, NULL, NULL, &err), -1);
    b2.sha256_b64 = NULL;
    CHECK_INT(lcb_s3_mpu_part(&parts[1], NULL, "b", "k", id.ptr, 2, &b2, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_s3_mpu_part(&parts[1], NULL, "b", "k", id.ptr, 10001, &b1, &err), -1);
    CHECK_INT(mock_ncalls, 10);

    /* a part whose echoed checksum differs, a part without ETag */
    mock_reply(200, "ETag: \"p1\"\nx-amz-checksum-sha256: AAAA\n", NULL);
    CHECK_INT(lcb_s3_mpu_part(&parts[0], NULL, "b", "k", id.ptr, 1, &b1, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    mock_reply(200, NULL, NULL);
    CHECK_INT(lcb_s3_mpu_part(&parts[0], NULL, "b", "k", id.ptr, 1, &b1, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);

    mock_reply(204, NULL, NULL);
    CHECK_INT(lcb_s3_mpu_abort(NULL, "b", "big key", id.ptr, &err), 0);
    CHECK_STR(mock_calls[12].method, "DELETE");
    CHECK_STR(query_line(&mock_calls[12]), "uploadId=VXBsb2Fk+/=");
    lcb_buf_release(&id);
    mock_reset();
}

static void
test_multipart_listings(void)
{
    struct lcb_s3_uploads u;
    struct lcb_s3_parts p;
    struct lcb_err err;

    mock_reset();
    mock_reply(200, NULL,
               "<ListMultipartUploadsResult><Bucket>b</Bucket><EncodingType>url</EncodingType>"
               "<IsTruncated>true</IsTruncated><NextKeyMarker>a+b</NextKeyMarker>"
               "<NextUploadIdMarker>u2</NextUploadIdMarker>"
               "<Upload><Key>a+b</Key><UploadId>u1</UploadId>"
               "<Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload>"
               "<Upload><Key>a+b</Key><UploadId>u2</UploadId></Upload>"
               "</ListMultipartUploadsResult>");
    mock_reply(200, NULL,
               "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
               "<Upload><Key>c</Key><UploadId>u3</UploadId></Upload>"
               "</ListMultipartUploadsResult>");
    lcb_s3_uploads_init(&u);
    CHECK_INT(lcb_s3_mpu_list(&u, NULL, "b", "a", &err), 0);
    CHECK_INT(u.n, 3);
    CHECK_STR(u.items[0].key, "a b");
    CHECK_INT(u.items[0].initiated, 1767225600);
    CHECK_STR(u.items[2].upload_id, "u3");
    CHECK_STR(query_line(&mock_calls[0]), "uploads&encoding-type=url&prefix=a");
    CHECK_STR(query_line(&mock_calls[1]),
              "uploads&encoding-type=url&prefix=a&key-marker=a+b&upload-id-marker=u2");
    lcb_s3_uploads_release(&u);

    mock_reset();
    mock_reply(200, NULL,
               "<ListPartsResult><IsTruncated>true</IsTruncated>"
               "<NextPartNumberMarker>1</NextPartNumberMarker><Part><PartNumber>1</PartNumber>"
               "<ETag>\"p1\"</ETag><Size>5242880</Size><ChecksumSHA256>x=</ChecksumSHA256></Part>"
               "</ListPartsResult>");
    mock_reply(200, NULL,
               "<ListPartsResult><IsTruncated>true</IsTruncated>"
               "<NextPartNumberMarker>1</NextPartNumberMarker></ListPartsResult>");
    lcb_s3_parts_init(&p);
    CHECK_INT(lcb_s3_mpu_list_parts(&p, NULL, "b", "k", "u1", &err), -1); /* marker repeated */
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK_INT(p.n, 1);
    CHECK_INT(p.items[0].number, 1);
    CHECK_INT(p.items[0].size, 5242880);
    CHECK_STR(p.items[0].etag, "\"p1\"");
    CHECK_STR(p.items[0].checksum_sha256, "x=");
    CHECK_STR(query_line(&mock_calls[1]), "uploadId=u1&part-number-marker=1");
    lcb_s3_parts_release(&p);
    mock_reset();
}

static void
test_tagging(void)
{
    const struct lcb_aws_kv tags[] = { { "lcbackup", "run 42" }, { "a=b", "<c>" } };
    struct lcb_s3_tags t;
    struct lcb_err err;

    mock_reset();
    mock_reply(200, NULL, NULL);
    mock_reply(200, NULL, "<Tagging><TagSet><Tag><Key>a=b</Key><Value>&lt;c&gt;</Value></Tag>"
                          "<Tag><Key>k</Key><Value></Value></Tag></TagSet></Tagging>");
    CHECK_INT(lcb_s3_tagging_put(NULL, "b", "k", tags, 2, &err), 0);
    CHECK_STR(mock_calls[0].method, "PUT");
    CHECK_STR(query_line(&mock_calls[0]), "tagging");
    CHECK(strstr(mock_calls[0].body.ptr, "<TagSet><Tag><Key>lcbackup</Key><Value>run 42</Value>"
                                         "</Tag><Tag><Key>a=b</Key><Value>&lt;c&gt;</Value></Tag>"
                                         "</TagSet></Tagging>") != NULL);
    CHECK(mock_header(&mock_calls[0], "Content-MD5") != NULL);
    lcb_s3_tags_init(&t);
    CHECK_INT(lcb_s3_tagging_get(&t, NULL, "b", "k", &err), 0);
    CHECK_INT(t.n, 2);
    CHECK_STR(lcb_s3_tags_get(&t, "a=b"), "<c>");
    CHECK_STR(lcb_s3_tags_get(&t, "k"), "");
    CHECK(lcb_s3_tags_get(&t, "nope") == NULL);
    lcb_s3_tags_release(&t);
    mock_reset();
}

static void
test_parse_error(void)
{
    struct lcb_aws_resp resp;
    struct lcb_aws_error e;

    lcb_aws_resp_init(&resp);
    resp.status = 200;
    lcb_buf_adds(&resp.body, "<CompleteMultipartUploadResult><ETag>\"x\"</ETag>"); /* cut */
    memset(&e, 0, sizeof(e));
    CHECK_INT(lcb_s3_parse_error(&resp, &e), 1);
    CHECK_STR(e.code, "InternalError");
    lcb_buf_reset(&resp.body);
    fixture_load(&resp.body, "s3-complete-ok.xml");
    CHECK_INT(lcb_s3_parse_error(&resp, &e), 0);
    resp.status = 503;
    lcb_buf_reset(&resp.body);
    lcb_buf_adds(&resp.body, "<Error><Code>SlowDown</Code><Message>Please reduce your request "
                             "rate.</Message><RequestId>R1</RequestId></Error>");
    CHECK_INT(lcb_s3_parse_error(&resp, &e), 1);
    CHECK_STR(e.code, "SlowDown");
    CHECK_STR(e.request_id, "R1");
    lcb_buf_reset(&resp.body);
    lcb_buf_adds(&resp.body, "<html>Service Unavailable</html>");
    CHECK_INT(lcb_s3_parse_error(&resp, &e), 0);
    lcb_aws_resp_release(&resp);
}

int
main(void)
{
    RUN(test_put);
    RUN(test_get_head_delete);
    RUN(test_list);
    RUN(test_delete_objects);
    RUN(test_multipart);
    RUN(test_multipart_listings);
    RUN(test_tagging);
    RUN(test_parse_error);
    return harness_done();
}
