/*
 * aws_probe.c - a small driver of lib/aws's protocol clients (s3, sts, kms, query, jsonrpc) for the
 * integration tests: t0201-s3-client.sh builds it against liblcb.a and runs it against the
 * simulator, through the real signing, endpoint, retry and HTTP layers. Not part of lcbackup.
 *
 *   aws_probe COMMAND ARGS...      (see usage() below)
 *
 * Results go to stdout, one fact per line; a failure prints "error: <chain>" and "aws_code: X" on
 * stderr and exits with lcbackup's exit status for the error's code (66, 75, 77...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/aws/aws.h"
#include "../../lib/aws/jsonrpc.h"
#include "../../lib/aws/kms.h"
#include "../../lib/aws/query.h"
#include "../../lib/aws/s3.h"
#include "../../lib/aws/s3stream.h"
#include "../../lib/aws/sts.h"
#include "../../lib/core/buf.h"
#include "../../lib/core/err.h"
#include "../../lib/core/log.h"
#include "../../lib/core/mem.h"
#include "../../lib/ext/crypto.h"
#include "../../lib/ext/json.h"
#include "../../lib/ext/xml.h"

static struct lcb_aws *aws;

static int
usage(void)
{
    fprintf(stderr,
            "usage: aws_probe whoami\n"
            "       aws_probe put BUCKET KEY FILE [if-none-match|kms:KEYID|lock:MODE:EPOCH|tags]\n"
            "       aws_probe get BUCKET KEY OUTFILE [START-END]\n"
            "       aws_probe head BUCKET KEY\n"
            "       aws_probe tags BUCKET KEY [K=V...]\n"
            "       aws_probe delete BUCKET KEY\n"
            "       aws_probe list BUCKET PREFIX [MAXKEYS]\n"
            "       aws_probe delete-many BUCKET KEY...\n"
            "       aws_probe mpu BUCKET KEY FILE PARTSIZE [abort-after:N|if-none-match]\n"
            "       aws_probe mpu-list BUCKET\n"
            "       aws_probe stream BUCKET KEY FILE PARTSIZE [INFLIGHT [POLL-MS]]\n"
            "       aws_probe kms KEYID\n"
            "       aws_probe rds-snapshot INSTANCE SNAPSHOT TAGVALUE\n"
            "       aws_probe rds-snapshots MAXRECORDS [INSTANCE]\n"
            "       aws_probe ec2-snapshot VOLUME TAGVALUE\n"
            "       aws_probe ec2-snapshots MAXRESULTS [TAGVALUE]\n"
            "       aws_probe ssm-path PATH\n");
    return 64;
}

static int
read_file(struct lcb_buf *b, const char *path, struct lcb_err *err)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (!f)
        return lcb_err_set(err, LCB_EIO, "cannot open %s", path);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        lcb_buf_add(b, chunk, n);
    fclose(f);
    return 0;
}

static int
cmd_whoami(struct lcb_err *err)
{
    struct lcb_sts_identity id;
    int rc;

    lcb_sts_identity_init(&id);
    rc = lcb_sts_get_caller_identity(&id, aws, NULL, err);
    if (rc == 0)
        printf("account %s\narn %s\n", id.account, id.arn);
    lcb_sts_identity_release(&id);
    return rc;
}

static int
cmd_put(char **argv, int argc, struct lcb_err *err)
{
    struct lcb_buf data = LCB_BUF_INIT;
    struct lcb_s3_put_opts o = { 0 };
    struct lcb_s3_body body = { 0 };
    struct lcb_s3_put_result r;
    int rc = -1;

    if (read_file(&data, argv[2], err) < 0)
        return -1;
    if (argc > 3 && strcmp(argv[3], "if-none-match") == 0)
        o.if_none_match = "*";
    if (argc > 3 && strncmp(argv[3], "kms:", 4) == 0) {
        o.sse = "aws:kms";
        o.sse_kms_key_id = argv[3] + 4;
    }
    if (argc > 3 && strncmp(argv[3], "lock:", 5) == 0) {
        char mode[16];
        long long until;

        if (sscanf(argv[3] + 5, "%15[A-Z]:%lld", mode, &until) != 2)
            return lcb_err_set(err, LCB_EUSAGE, "lock:MODE:EPOCH");
        o.lock_mode = strcmp(mode, "COMPLIANCE") == 0 ? "COMPLIANCE" : "GOVERNANCE";
        o.lock_until = (time_t)until;
    }
    if (argc > 3 && strcmp(argv[3], "tags") == 0) {
        static const struct lcb_aws_kv tags[] = { { "lcbackup", "run 42" }, { "k+=", "v&/" } };

        o.tags = tags;
        o.ntags = 2;
    }
    body.data = data.ptr;
    body.len = data.len;
    if (lcb_s3_put(&r, aws, argv[0], argv[1], &body, &o, err) == 0) {
        printf("etag %s\nchecksum %s\nsse %s\n", r.etag, r.checksum_sha256, r.sse);
        rc = 0;
    }
    lcb_buf_release(&data);
    return rc;
}

static int
file_write(void *ud, const void *data, size_t len)
{
    return fwrite(data, 1, len, ud) == len ? 0 : -1;
}

static int
file_reset(void *ud)
{
    return fseek(ud, 0, SEEK_SET) == 0 && ftruncate(fileno(ud), 0) == 0 ? 0 : -1;
}

static int
cmd_get(char **argv, int argc, struct lcb_err *err)
{
    struct lcb_s3_get_opts o = LCB_S3_GET_OPTS_INIT;
    struct lcb_s3_object_info info;
    long long a = -1, b = -1;
    FILE *f;
    int rc;

    if (argc > 3 && sscanf(argv[3], "%lld-%lld", &a, &b) < 1)
        return lcb_err_set(err, LCB_EUSAGE, "bad range %s", argv[3]);
    o.range_start = a;
    o.range_end = b;
    o.checksum_mode = 1;
    if (!(f = fopen(argv[2], "wb")))
        return lcb_err_set(err, LCB_EIO, "cannot write %s", argv[2]);
    rc = lcb_s3_get(&info, aws, argv[0], argv[1], &o, file_write, file_reset, f, err);
    fclose(f);
    if (rc == 0)
        printf("status %d\nlength %lld\nsize %lld\netag %s\nchecksum %s\n", info.status,
               (long long)info.length, (long long)info.size, info.etag, info.checksum_sha256);
    return rc;
}

static int
cmd_head(char **argv, struct lcb_err *err)
{
    struct lcb_s3_object_info info;

    if (lcb_s3_head(&info, aws, argv[0], argv[1], NULL, err) < 0)
        return -1;
    printf("size %lld\netag %s\nmodified %lld\n", (long long)info.size, info.etag,
           (long long)info.last_modified);
    return 0;
}

static int
cmd_tags(char **argv, int argc, struct lcb_err *err)
{
    struct lcb_aws_kv kv[8];
    struct lcb_s3_tags t;
    char *eq;
    int i, n = 0, rc = 0;

    for (i = 2; i < argc && n < 8; i++) {
        if (!(eq = strchr(argv[i], '=')))
            return lcb_err_set(err, LCB_EUSAGE, "tag %s is not K=V", argv[i]);
        *eq = '\0';
        kv[n].name = argv[i];
        kv[n++].value = eq + 1;
    }
    if (n && lcb_s3_tagging_put(aws, argv[0], argv[1], kv, (size_t)n, err) < 0)
        return -1;
    lcb_s3_tags_init(&t);
    rc = lcb_s3_tagging_get(&t, aws, argv[0], argv[1], err);
    for (i = 0; rc == 0 && i < (int)t.n; i++)
        printf("tag %s=%s\n", t.keys[i], t.values[i]);
    lcb_s3_tags_release(&t);
    return rc;
}

static int
cmd_list(char **argv, int argc, struct lcb_err *err)
{
    struct lcb_s3_list l;
    struct lcb_s3_list_opts o = { argv[1], NULL, NULL, argc > 2 ? atoi(argv[2]) : 0 };
    size_t i;
    int rc;

    lcb_s3_list_init(&l);
    rc = lcb_s3_list_all(&l, aws, argv[0], &o, 0, err);
    for (i = 0; rc == 0 && i < l.n; i++)
        printf("%s\t%lld\n", l.items[i].key, (long long)l.items[i].size);
    lcb_s3_list_release(&l);
    return rc;
}

static int
cmd_delete_many(char **argv, int argc, struct lcb_err *err)
{
    struct lcb_s3_delete_result r;
    size_t i;
    int rc;

    lcb_s3_delete_result_init(&r);
    rc = lcb_s3_delete_objects(&r, aws, argv[0], (const char *const *)argv + 1,
                               (size_t)(argc - 1), err);
    if (rc == 0) {
        printf("deleted %zu\nfailed %zu\n", r.ndeleted, r.nfailed);
        for (i = 0; i < r.nfailed; i++)
            printf("failure %s %s\n", r.failed[i].key, r.failed[i].code);
    }
    lcb_s3_delete_result_release(&r);
    return rc;
}

/* A part streamed from memory, with its checksums computed up front, as a file reader would. */
struct stream {
    const char *p;
    size_t len, off;
};

static size_t
stream_read(void *ud, char *buf, size_t len)
{
    struct stream *s = ud;
    size_t n = s->len - s->off < len ? s->len - s->off : len;

    memcpy(buf, s->p + s->off, n);
    s->off += n;
    return n;
}

static int
stream_rewind(void *ud)
{
    ((struct stream *)ud)->off = 0;
    return 0;
}

static int
upload_part(struct lcb_s3_part *part, char **argv, const char *id, int number, const char *p,
            size_t len, struct lcb_err *err)
{
    struct lcb_s3_body body = { 0 };
    struct stream s = { p, len, 0 };
    unsigned char sha[LCB_SHA256_LEN];
    char hex[LCB_SHA256_HEX];
    struct lcb_buf b64 = LCB_BUF_INIT;
    int rc;

    body.len = len;
    if (number % 2 == 0) { /* even parts are streamed, odd ones sent from a buffer */
        lcb_sha256(p, len, sha);
        lcb_base64_encode(&b64, sha, sizeof(sha));
        body.read = stream_read;
        body.rewind = stream_rewind;
        body.ud = &s;
        body.sha256_hex = lcb_hex(sha, sizeof(sha), hex);
        body.sha256_b64 = b64.ptr;
    } else {
        body.data = p;
    }
    rc = lcb_s3_mpu_part(part, aws, argv[0], argv[1], id, number, &body, err);
    lcb_buf_release(&b64);
    return rc;
}

static int
cmd_mpu(char **argv, int argc, struct lcb_err *err)
{
    struct lcb_buf data = LCB_BUF_INIT, id = LCB_BUF_INIT;
    size_t psize = (size_t)atol(argv[3]), off, n;
    struct lcb_s3_part parts[LCB_S3_MAX_PARTS / 100];
    struct lcb_s3_put_result r;
    int np = 0, abort_after = -1, rc = -1;
    const char *inm = NULL;

    if (argc > 4 && strncmp(argv[4], "abort-after:", 12) == 0)
        abort_after = atoi(argv[4] + 12);
    if (argc > 4 && strcmp(argv[4], "if-none-match") == 0)
        inm = "*";
    if (read_file(&data, argv[2], err) < 0 || lcb_s3_mpu_create(&id, aws, argv[0], argv[1], NULL, err) < 0)
        goto out;
    printf("upload %s\n", id.ptr);
    for (off = 0; off < data.len || np == 0; off += n) {
        n = data.len - off < psize ? data.len - off : psize;
        if (np == abort_after || (size_t)np >= LCB_ARRAY_SIZE(parts))
            break;
        if (upload_part(&parts[np], argv, id.ptr, np + 1, data.ptr + off, n, err) < 0)
            goto out;
        np++;
    }
    if (np == abort_after) {
        rc = lcb_s3_mpu_abort(aws, argv[0], argv[1], id.ptr, err);
        printf("aborted after %d parts\n", np);
        goto out;
    }
    if (lcb_s3_mpu_complete(&r, aws, argv[0], argv[1], id.ptr, parts, (size_t)np, inm, NULL,
                            err) == 0) {
        printf("parts %d\netag %s\nchecksum %s\n", np, r.etag, r.checksum_sha256);
        rc = 0;
    }
out:
    lcb_buf_release(&data);
    lcb_buf_release(&id);
    return rc;
}

/* FILE through lcb_s3_stream in 100,000-byte writes (parts never end on a write), read as it goes
 * so that the peak RSS printed is the stream's. */
static int
cmd_stream(char **argv, int argc, struct lcb_err *err)
{
    struct lcb_s3_stream_opts o = { 0 };
    struct lcb_s3_stream_result r;
    struct lcb_s3_stream *s = NULL;
    struct rusage ru;
    FILE *f = fopen(argv[2], "rb");
    static char chunk[100000];
    long poll_ms;
    size_t n;
    int rc = -1;

    if (!f)
        return lcb_err_set(err, LCB_EIO, "cannot open %s", argv[2]);
    o.part_size = (size_t)atol(argv[3]);
    o.in_flight = argc > 4 ? atoi(argv[4]) : 0;
    poll_ms = argc > 5 ? atol(argv[5]) : 0;
    if (lcb_s3_stream_open(&s, aws, argv[0], argv[1], &o, err) < 0)
        goto out;
    printf("spool %s\n", lcb_s3_stream_spool_dir(s) ? lcb_s3_stream_spool_dir(s) : "memory");
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (lcb_s3_stream_write(s, chunk, n, err) < 0)
            goto out;
        if (poll_ms > 0) { /* other work between writes, as the broker export's page fetches */
            struct timespec ts = { 0, poll_ms * 1000000L };
            if (lcb_s3_stream_poll(s, err) < 0)
                goto out;
            nanosleep(&ts, NULL);
        }
    }
    if (poll_ms > 0) { /* a marker in the request log: what came before it was not left to finish */
        struct lcb_s3_object_info info;
        struct lcb_err ignored;
        char marker[512];
        snprintf(marker, sizeof(marker), "%s.before-finish", argv[1]);
        lcb_err_clear(&ignored);
        lcb_s3_head(&info, aws, argv[0], marker, NULL, &ignored);
    }
    if (lcb_s3_stream_finish(s, &r, err) < 0)
        goto out;
    getrusage(RUSAGE_SELF, &ru);
    printf("parts %d\nsize %llu\nsha256 %s\nchecksum %s\nmaxrss_kib %ld\n", r.parts,
           (unsigned long long)r.size, r.sha256_hex, r.put.checksum_sha256, ru.ru_maxrss);
    rc = 0;
out:
    lcb_s3_stream_free(s);
    fclose(f);
    return rc;
}

static int
cmd_mpu_list(char **argv, struct lcb_err *err)
{
    struct lcb_s3_uploads u;
    size_t i;
    int rc;

    lcb_s3_uploads_init(&u);
    rc = lcb_s3_mpu_list(&u, aws, argv[0], NULL, err);
    for (i = 0; rc == 0 && i < u.n; i++)
        printf("%s\t%s\n", u.items[i].key, u.items[i].upload_id);
    lcb_s3_uploads_release(&u);
    return rc;
}

static int
cmd_kms(char **argv, struct lcb_err *err)
{
    const struct lcb_aws_kv ctx[] = { { "lcbackup:run", "probe" } };
    struct lcb_kms_data_key dk;
    struct lcb_secret pt = LCB_SECRET_INIT;
    struct lcb_buf arn = LCB_BUF_INIT, ct = LCB_BUF_INIT;
    struct lcb_kms_key key;
    int rc = -1;

    lcb_kms_data_key_init(&dk);
    if (lcb_kms_describe_key(&key, aws, argv[0], err) < 0 ||
        lcb_kms_generate_data_key(&dk, aws, argv[0], 32, ctx, 1, err) < 0 ||
        lcb_kms_decrypt(&pt, &arn, aws, NULL, dk.ciphertext.ptr, dk.ciphertext.len, ctx, 1, err) < 0)
        goto out;
    printf("key %s %s\n", key.arn, key.state);
    printf("data key %zu bytes, round trip %s, arn %s\n", dk.plaintext.len,
           pt.len == 32 && memcmp(pt.ptr, dk.plaintext.ptr, 32) == 0 ? "ok" : "MISMATCH",
           strcmp(arn.ptr, dk.key_arn) == 0 ? "same" : "DIFFERENT");
    if (lcb_kms_encrypt(&ct, aws, argv[0], "hello kms", 9, NULL, 0, err) < 0 ||
        lcb_kms_decrypt(&pt, NULL, aws, argv[0], ct.ptr, ct.len, NULL, 0, err) < 0)
        goto out;
    printf("encrypt round trip %s\n", pt.len == 9 && memcmp(pt.ptr, "hello kms", 9) == 0 ? "ok" : "MISMATCH");
    /* the wrong context must fail as corrupt data */
    rc = lcb_kms_decrypt(&pt, NULL, aws, NULL, dk.ciphertext.ptr, dk.ciphertext.len, NULL, 0, err);
    printf("wrong context %s\n", rc < 0 && err->code == LCB_ECORRUPT ? "refused" : "ACCEPTED");
    rc = 0;
out:
    lcb_kms_data_key_release(&dk);
    lcb_secret_release(&pt);
    lcb_buf_release(&arn);
    lcb_buf_release(&ct);
    return rc;
}

static int
cmd_rds_snapshot(char **argv, struct lcb_err *err)
{
    const struct lcb_query_tag tags[] = { { "lcbackup", argv[2] }, { "probe", "a b+c/d=e&f" } };
    struct lcb_query q;
    struct lcb_query_resp r;
    int rc;

    lcb_query_init(&q, &lcb_query_rds, "CreateDBSnapshot");
    lcb_query_add(&q, "DBInstanceIdentifier", argv[0]);
    lcb_query_add(&q, "DBSnapshotIdentifier", argv[1]);
    lcb_query_add_tags(&q, "Tags", "Tag", tags, 2);
    q.no_blind_retry = 1;
    lcb_query_resp_init(&r);
    rc = lcb_query_call(&r, aws, &q, err);
    if (rc == 0)
        printf("%s %s tags %zu\n", lcb_xml_get(r.result, "DBSnapshot/DBSnapshotIdentifier"),
               lcb_xml_get(r.result, "DBSnapshot/Status"),
               lcb_xml_count(lcb_xml_path(r.result, "DBSnapshot/TagList"), "Tag"));
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    return rc;
}

static int
cmd_rds_snapshots(char **argv, int argc, struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    struct lcb_pager pg;
    struct lcb_xml_node *s;
    int rc, n = 0;

    lcb_query_init(&q, &lcb_query_rds, "DescribeDBSnapshots");
    lcb_query_add(&q, "MaxRecords", argv[0]);
    if (argc > 1) {
        const char *ids[] = { argv[1] };
        const struct lcb_query_filter f[] = { { "db-instance-id", ids, 1 } };

        lcb_query_add_filters(&q, f, 1);
    }
    lcb_query_resp_init(&r);
    lcb_pager_init(&pg, LCB_QUERY_MARKER);
    while ((rc = lcb_query_page(&r, aws, &q, &pg, err)) > 0)
        for (s = lcb_xml_path(r.result, "DBSnapshots/DBSnapshot"); s; s = lcb_xml_next(s, NULL)) {
            printf("%s\t%s\n", lcb_xml_get(s, "DBSnapshotIdentifier"), lcb_xml_get(s, "Status"));
            n++;
        }
    if (rc == 0)
        printf("snapshots %d pages %u\n", n, pg.pages);
    lcb_pager_release(&pg);
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    return rc;
}

static int
cmd_ec2_snapshot(char **argv, struct lcb_err *err)
{
    const struct lcb_query_tag tags[] = { { "lcbackup", argv[1] }, { "Name", "probe snapshot" } };
    struct lcb_query q;
    struct lcb_query_resp r;
    int rc;

    lcb_query_init(&q, &lcb_query_ec2, "CreateSnapshot");
    lcb_query_add(&q, "VolumeId", argv[0]);
    lcb_query_add(&q, "Description", "lcbackup probe");
    lcb_query_add_tag_spec(&q, 1, "snapshot", tags, 2);
    q.no_blind_retry = 1;
    lcb_query_resp_init(&r);
    rc = lcb_query_call(&r, aws, &q, err);
    if (rc == 0)
        printf("%s %s tags %zu\n", lcb_xml_get(r.result, "snapshotId"),
               lcb_xml_get(r.result, "status"), lcb_xml_count(lcb_xml_child(r.result, "tagSet"), "item"));
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    return rc;
}

static int
cmd_ec2_snapshots(char **argv, int argc, struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    struct lcb_pager pg;
    struct lcb_xml_node *s;
    const char *self[] = { "self" };
    int rc, n = 0;

    lcb_query_init(&q, &lcb_query_ec2, "DescribeSnapshots");
    lcb_query_add_list(&q, "Owner", NULL, self, 1);
    lcb_query_add(&q, "MaxResults", argv[0]);
    if (argc > 1) {
        const char *vals[] = { argv[1] };
        const struct lcb_query_filter f[] = { { "tag:lcbackup", vals, 1 } };

        lcb_query_add_filters(&q, f, 1);
    }
    lcb_query_resp_init(&r);
    lcb_pager_init(&pg, LCB_QUERY_NEXT_TOKEN_EC2);
    while ((rc = lcb_query_page(&r, aws, &q, &pg, err)) > 0)
        for (s = lcb_xml_path(r.result, "snapshotSet/item"); s; s = lcb_xml_next(s, "item")) {
            printf("%s\t%s\n", lcb_xml_get(s, "snapshotId"), lcb_xml_get(s, "status"));
            n++;
        }
    if (rc == 0)
        printf("snapshots %d pages %u\n", n, pg.pages);
    lcb_pager_release(&pg);
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    return rc;
}

static int
cmd_ssm_path(char **argv, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *out = NULL, *p;
    struct lcb_pager pg;
    int rc, n = 0;

    lcb_json_add_str(in, "Path", argv[0]);
    lcb_json_add_bool(in, "Recursive", 1);
    lcb_json_add_num(in, "MaxResults", 10);
    lcb_pager_init(&pg, "NextToken", "NextToken");
    while ((rc = lcb_jsonrpc_page(&out, aws, &lcb_jsonrpc_ssm, "GetParametersByPath", in, NULL,
                                  &pg, err)) > 0)
        for (p = lcb_json_child(lcb_json_get(out, "Parameters")); p; p = lcb_json_next(p)) {
            printf("%s\n", lcb_json_get_str(p, "Name"));
            n++;
        }
    if (rc == 0)
        printf("parameters %d pages %u\n", n, pg.pages);
    lcb_pager_release(&pg);
    lcb_json_free(in);
    return rc;
}

static int
dispatch(const char *cmd, char **argv, int argc, struct lcb_err *err)
{
    static const struct {
        const char *name;
        int nargs;
    } arity[] = { { "whoami", 0 }, { "put", 3 }, { "get", 3 }, { "head", 2 }, { "tags", 2 }, { "delete", 2 },
                  { "list", 2 }, { "delete-many", 2 }, { "mpu", 4 }, { "mpu-list", 1 }, { "stream", 4 },
                  { "kms", 1 }, { "rds-snapshot", 3 }, { "rds-snapshots", 1 },
                  { "ec2-snapshot", 2 }, { "ec2-snapshots", 1 },
                  { "ssm-path", 1 } };
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(arity); i++)
        if (strcmp(cmd, arity[i].name) == 0 && argc < arity[i].nargs)
            return lcb_err_set(err, LCB_EUSAGE, "%s needs %d arguments", cmd, arity[i].nargs);
    if (!strcmp(cmd, "whoami"))
        return cmd_whoami(err);
    if (!strcmp(cmd, "put"))
        return cmd_put(argv, argc, err);
    if (!strcmp(cmd, "get"))
        return cmd_get(argv, argc, err);
    if (!strcmp(cmd, "head"))
        return cmd_head(argv, err);
    if (!strcmp(cmd, "tags"))
        return cmd_tags(argv, argc, err);
    if (!strcmp(cmd, "delete"))
        return lcb_s3_delete(aws, argv[0], argv[1], NULL, NULL, err);
    if (!strcmp(cmd, "list"))
        return cmd_list(argv, argc, err);
    if (!strcmp(cmd, "delete-many"))
        return cmd_delete_many(argv, argc, err);
    if (!strcmp(cmd, "mpu"))
        return cmd_mpu(argv, argc, err);
    if (!strcmp(cmd, "mpu-list"))
        return cmd_mpu_list(argv, err);
    if (!strcmp(cmd, "stream"))
        return cmd_stream(argv, argc, err);
    if (!strcmp(cmd, "kms"))
        return cmd_kms(argv, err);
    if (!strcmp(cmd, "rds-snapshot"))
        return cmd_rds_snapshot(argv, err);
    if (!strcmp(cmd, "rds-snapshots"))
        return cmd_rds_snapshots(argv, argc, err);
    if (!strcmp(cmd, "ec2-snapshot"))
        return cmd_ec2_snapshot(argv, err);
    if (!strcmp(cmd, "ec2-snapshots"))
        return cmd_ec2_snapshots(argv, argc, err);
    if (!strcmp(cmd, "ssm-path"))
        return cmd_ssm_path(argv, err);
    return lcb_err_set(err, LCB_EUSAGE, "unknown command %s", cmd);
}

int
main(int argc, char **argv)
{
    struct lcb_aws_config cfg = { 0 };
    struct lcb_err err;
    char msg[2048];
    int rc;

    if (argc < 2)
        return usage();
    lcb_log_setup(getenv("PROBE_TRACE") ? LCB_TRACE : LCB_WARN, LCB_LOG_TEXT, stderr);
    lcb_err_clear(&err);
    if (lcb_aws_new(&aws, &cfg, &err) == 0) {
        rc = dispatch(argv[1], argv + 2, argc - 2, &err);
        lcb_aws_free(aws);
    } else {
        rc = -1;
    }
    if (rc == 0)
        return 0;
    fprintf(stderr, "error: %s\naws_code: %s\nhttp: %d\n", lcb_err_format(&err, msg, sizeof(msg)),
            err.aws_code, err.http);
    return err.code == LCB_EUSAGE && !err.aws_code[0] ? 64 : lcb_exit_status(err.code);
}
