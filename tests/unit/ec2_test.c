/* ec2_test.c - the EC2/EBS client: pure rules (ids, progress, states), answers read from fixtures
 * (snapshotSet items with status or state, volumes with attachments), and calls against a scripted
 * lcb_aws_send(): Owner.1=self and MaxResults rules, pagination, adoption by tag after an ambiguous
 * CreateSnapshot, CreateSnapshots, cross-region copies with a presigned URL, quotas, dry runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/aws/ec2.h"
#include "../../lib/core/buf.h"
#include "../../lib/core/err.h"
#include "aws_mock.h"
#include "harness.h"

static struct lcb_aws_req presigned;
static char presigned_query[4096];

const char *
lcb_aws_region(const struct lcb_aws *aws)
{
    (void)aws;
    return "eu-west-1";
}

int
lcb_aws_presign(struct lcb_aws *aws, const struct lcb_aws_req *req, int64_t expires,
                struct lcb_buf *url, struct lcb_err *err)
{
    size_t i;

    (void)aws;
    (void)err;
    presigned = *req;
    presigned_query[0] = '\0';
    for (i = 0; i < req->nquery; i++)
        snprintf(presigned_query + strlen(presigned_query),
                 sizeof(presigned_query) - strlen(presigned_query), "%s=%s\n", req->query[i].name,
                 req->query[i].value ? req->query[i].value : "");
    lcb_buf_addf(url, "https://ec2.%s.amazonaws.com/?Action=%s&X-Amz-Expires=%lld", req->region,
                 req->operation, (long long)expires);
    return 0;
}

/* Is "name=value" (form-encoded) one of call n's body pairs? */
static int
body_has(int n, const char *pair)
{
    const char *b = lcb_buf_str(&mock_calls[n].body), *p = b;
    size_t k = strlen(pair);

    while ((p = strstr(p, pair))) {
        if ((p == b || p[-1] == '&') && (p[k] == '&' || p[k] == '\0'))
            return 1;
        p++;
    }
    return 0;
}

static int
body_mentions(int n, const char *s)
{
    return strstr(lcb_buf_str(&mock_calls[n].body), s) != NULL;
}

static void
test_rules(void)
{
    CHECK_INT(lcb_ec2_id_valid("snap-0123456789abcdef0", "snap"), 1);
    CHECK_INT(lcb_ec2_id_valid("snap-01234567", "snap"), 1);
    CHECK_INT(lcb_ec2_id_valid("vol-0b40ce7da7a5e0d01", "vol"), 1);
    CHECK_INT(lcb_ec2_id_valid("i-0b40ce7da7a5e0001", "i"), 1);
    CHECK_INT(lcb_ec2_id_valid("vol-0b40ce7da7a5e0d01", "snap"), 0);
    CHECK_INT(lcb_ec2_id_valid("snap-0123456789ABCDEF0", "snap"), 0);
    CHECK_INT(lcb_ec2_id_valid("snap-0123", "snap"), 0);
    CHECK_INT(lcb_ec2_id_valid("snap-0123456789abcdefg", "snap"), 0);
    CHECK_INT(lcb_ec2_id_valid("snap0123456789abcdef0", "snap"), 0);
    CHECK_INT(lcb_ec2_id_valid(NULL, "snap"), 0);
    CHECK_INT(lcb_ec2_progress("37%"), 37);
    CHECK_INT(lcb_ec2_progress("100%"), 100);
    CHECK_INT(lcb_ec2_progress("0"), 0);
    CHECK_INT(lcb_ec2_progress(""), -1);
    CHECK_INT(lcb_ec2_progress(NULL), -1);
    CHECK_INT(lcb_ec2_progress("abc"), -1);
    CHECK_INT(lcb_ec2_progress("101%"), -1);
    CHECK_INT(lcb_ec2_progress("12%%"), -1);
    CHECK_INT(lcb_ec2_snapshot_wait_state("completed"), LCB_WAIT_DONE);
    CHECK_INT(lcb_ec2_snapshot_wait_state("pending"), LCB_WAIT_PENDING);
    CHECK_INT(lcb_ec2_snapshot_wait_state(NULL), LCB_WAIT_PENDING);
    CHECK_INT(lcb_ec2_snapshot_wait_state("error"), LCB_WAIT_FAILED);
    CHECK_INT(lcb_ec2_volume_wait_state("available"), LCB_WAIT_DONE);
    CHECK_INT(lcb_ec2_volume_wait_state("in-use"), LCB_WAIT_DONE);
    CHECK_INT(lcb_ec2_volume_wait_state("creating"), LCB_WAIT_PENDING);
    CHECK_INT(lcb_ec2_volume_wait_state("error"), LCB_WAIT_FAILED);
    CHECK_INT(lcb_ec2_volume_wait_state("deleting"), LCB_WAIT_FAILED);
}

static void
test_parse_fixtures(void)
{
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_xml *doc = NULL;
    struct lcb_xml_node *n;
    struct lcb_ec2_snapshot s;
    struct lcb_ec2_volume v;
    struct lcb_err err;

    CHECK_INT(fixture_load(&b, "ec2-describe-snapshots.xml"), 0);
    CHECK_INT(lcb_xml_parse(&doc, b.ptr, b.len, &err), 0);
    n = lcb_xml_path(lcb_xml_root(doc), "snapshotSet/item");
    CHECK_INT(lcb_ec2_snapshot_parse(&s, n, &err), 0);
    CHECK_STR(s.id, "snap-0123456789abcdef0");
    CHECK_STR(s.state, "completed");
    CHECK_INT(s.progress, 100);
    CHECK_INT(s.volume_gib, 8);
    CHECK_INT(s.encrypted, 1);
    CHECK_INT((long long)s.start_time, 1767225600);
    CHECK_STR(lcb_ec2_tag_get(s.tags, s.ntags, "lcbackup"), "run-42");
    lcb_ec2_snapshot_release(&s);
    CHECK_INT(lcb_ec2_snapshot_parse(&s, lcb_xml_next(n, "item"), &err), 0);
    CHECK_STR(s.state, "pending");
    CHECK_INT(s.progress, 12);
    CHECK_INT(s.ntags, 0);
    lcb_ec2_snapshot_release(&s);
    lcb_xml_free(doc);

    /* CreateSnapshots says state, not status; an empty progress is unknown */
    CHECK_INT(fixture_load(&b, "ec2-create-snapshots.xml"), 0);
    CHECK_INT(lcb_xml_parse(&doc, b.ptr, b.len, &err), 0);
    n = lcb_xml_path(lcb_xml_root(doc), "snapshotSet/item");
    CHECK_INT(lcb_ec2_snapshot_parse(&s, n, &err), 0);
    CHECK_STR(s.state, "pending");
    CHECK_INT(s.progress, -1);
    CHECK_STR(s.volume_id, "vol-0b40ce7da7a5e0b01");
    lcb_ec2_snapshot_release(&s);
    lcb_xml_free(doc);

    CHECK_INT(fixture_load(&b, "ec2-describe-volumes.xml"), 0);
    CHECK_INT(lcb_xml_parse(&doc, b.ptr, b.len, &err), 0);
    CHECK_INT(lcb_ec2_volume_parse(&v, lcb_xml_path(lcb_xml_root(doc), "volumeSet/item"), &err), 0);
    CHECK_STR(v.id, "vol-0b40ce7da7a5e0d01");
    CHECK_STR(v.state, "in-use");
    CHECK_STR(v.availability_zone, "eu-west-1a");
    CHECK_STR(v.instance_id, "i-0b40ce7da7a5e0001");
    CHECK_STR(v.device, "/dev/sdf");
    CHECK_STR(v.volume_type, "gp3");
    CHECK_INT(v.iops, 3000);
    CHECK_INT(v.throughput, 125);
    CHECK_INT(v.size_gib, 50);
    CHECK(v.snapshot_id == NULL); /* <snapshotId/> */
    CHECK_STR(lcb_ec2_tag_get(v.tags, v.ntags, "Name"), "legocity-broker-data");
    lcb_ec2_volume_release(&v);
    CHECK_INT(lcb_ec2_volume_parse(&v, lcb_xml_root(doc), &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_xml_free(doc);
    lcb_buf_release(&b);
}

static void
test_describe_rules(void)
{
    struct lcb_ec2 c = {NULL, NULL, NULL};
    struct lcb_ec2_snapshot_list l;
    struct lcb_ec2_volume_list vl;
    struct lcb_err err;
    const char *ids[] = {"snap-0123456789abcdef0"};
    const char *name[] = {"legocity-broker-data"};
    const struct lcb_query_filter f[] = {{"tag:Name", name, 1}};

    /* by filter: Owner.1=self, MaxResults, every page */
    mock_reset();
    mock_reply_fixture(200, NULL, "ec2-describe-snapshots.xml");
    mock_reply(200, NULL,
               "<DescribeSnapshotsResponse><snapshotSet><item><snapshotId>snap-03"
               "</snapshotId><status>completed</status></item></snapshotSet>"
               "</DescribeSnapshotsResponse>");
    CHECK_INT(lcb_ec2_snapshot_list(&l, &c, NULL, 0, f, 1, &err), 0);
    CHECK_INT(l.n, 3);
    CHECK(body_has(0, "Owner.1=self"));
    CHECK(body_has(0, "MaxResults=1000"));
    CHECK(body_has(0, "Filter.1.Name=tag%3AName"));
    CHECK(body_has(0, "Filter.1.Value.1=legocity-broker-data"));
    CHECK(body_has(1, "NextToken=eyJvZmZzZXQiOiAyfQ%3D%3D"));
    lcb_ec2_snapshot_list_release(&l);

    /* by id: no MaxResults (EC2 refuses the two together), still Owner.1=self */
    mock_reset();
    mock_reply(200, NULL, "<DescribeSnapshotsResponse><snapshotSet/></DescribeSnapshotsResponse>");
    CHECK_INT(lcb_ec2_snapshot_list(&l, &c, ids, 1, NULL, 0, &err), 0);
    CHECK(body_has(0, "SnapshotId.1=snap-0123456789abcdef0"));
    CHECK(body_has(0, "Owner.1=self"));
    CHECK(!body_mentions(0, "MaxResults"));
    lcb_ec2_snapshot_list_release(&l);

    /* one that is gone is LCB_ENOTFOUND */
    mock_reset();
    mock_reply_fixture(400, NULL, "ec2-error-not-found.xml");
    {
        struct lcb_ec2_snapshot s;
        CHECK_INT(lcb_ec2_snapshot_get(&s, &c, ids[0], &err), -1);
        CHECK_INT(err.code, LCB_ENOTFOUND);
    }

    mock_reset();
    mock_reply_fixture(200, NULL, "ec2-describe-volumes.xml");
    mock_reply(200, NULL, "<DescribeVolumesResponse><volumeSet/></DescribeVolumesResponse>");
    CHECK_INT(lcb_ec2_volume_list(&vl, &c, NULL, 0, f, 1, &err), 0);
    CHECK_INT(vl.n, 1);
    CHECK(body_has(0, "MaxResults=500"));
    CHECK(body_has(1, "NextToken=eyJrIjoidm9sdW1lcyIsInMiOjF9"));
    lcb_ec2_volume_list_release(&vl);
}

static const struct lcb_query_tag tags[] = {
    {"lcbackup:backup-id", "ebs-20261128T023000-9c1e2f"},
    {"Name", "legocity-broker-data"},
};

static const char created[] =
    "<CreateSnapshotResponse><snapshotId>snap-0a1b2c3d4e5f60719</snapshotId>"
    "<volumeId>vol-0b40ce7da7a5e0d01</volumeId><status>pending</status><progress></progress>"
    "<volumeSize>50</volumeSize></CreateSnapshotResponse>";

static void
test_create_and_adopt(void)
{
    struct lcb_ec2 c = {NULL, NULL, NULL};
    struct lcb_ec2_snapshot s;
    struct lcb_err err;
    int adopted = -1;

    mock_reset();
    mock_reply(200, NULL, created);
    CHECK_INT(lcb_ec2_snapshot_create(&s, &adopted, &c, "vol-0b40ce7da7a5e0d01", "lcbackup x", tags,
                                      2, "lcbackup:backup-id", &err),
              0);
    CHECK_INT(adopted, 0);
    CHECK_INT(mock_calls[0].no_blind_retry, 1);
    CHECK_STR(
        lcb_buf_str(&mock_calls[0].body),
        "Action=CreateSnapshot&Version=2016-11-15&VolumeId=vol-0b40ce7da7a5e0d01"
        "&Description=lcbackup+x&TagSpecification.1.ResourceType=snapshot"
        "&TagSpecification.1.Tag.1.Key=lcbackup%3Abackup-id"
        "&TagSpecification.1.Tag.1.Value=ebs-20261128T023000-9c1e2f"
        "&TagSpecification.1.Tag.2.Key=Name&TagSpecification.1.Tag.2.Value=legocity-broker-data");
    CHECK_STR(s.id, "snap-0a1b2c3d4e5f60719");
    lcb_ec2_snapshot_release(&s);

    /* a 503 Unavailable after the snapshot started: found by its tag and volume, adopted */
    mock_reset();
    mock_reply(503, NULL,
               "<Response><Errors><Error><Code>Unavailable</Code><Message>x</Message>"
               "</Error></Errors></Response>");
    mock_reply(200, NULL,
               "<DescribeSnapshotsResponse><snapshotSet><item><snapshotId>"
               "snap-0a1b2c3d4e5f60719</snapshotId><status>pending</status></item>"
               "</snapshotSet></DescribeSnapshotsResponse>");
    CHECK_INT(lcb_ec2_snapshot_create(&s, &adopted, &c, "vol-0b40ce7da7a5e0d01", "x", tags, 2,
                                      "lcbackup:backup-id", &err),
              0);
    CHECK_INT(adopted, 1);
    CHECK_INT(mock_ncalls, 2);
    CHECK_STR(mock_calls[1].operation, "DescribeSnapshots");
    CHECK(body_has(1, "Filter.1.Name=tag%3Alcbackup%3Abackup-id"));
    CHECK(body_has(1, "Filter.1.Value.1=ebs-20261128T023000-9c1e2f"));
    CHECK(body_has(1, "Filter.2.Name=volume-id"));
    CHECK(body_has(1, "Filter.2.Value.1=vol-0b40ce7da7a5e0d01"));
    CHECK_STR(s.id, "snap-0a1b2c3d4e5f60719");
    lcb_ec2_snapshot_release(&s);

    /* the quota, named */
    mock_reset();
    mock_reply_fixture(400, NULL, "ec2-error-snapshot-limit.xml");
    CHECK_INT(lcb_ec2_snapshot_create(&s, &adopted, &c, "vol-0b40ce7da7a5e0d01", "x", tags, 2,
                                      "lcbackup:backup-id", &err),
              -1);
    CHECK_INT(err.code, LCB_EREFUSED);
    CHECK_INT(mock_ncalls, 1);
    {
        char line[2048];
        lcb_err_format(&err, line, sizeof(line));
        CHECK(strstr(line, "Snapshots per Region") != NULL);
        CHECK(strstr(line, "SnapshotLimitExceeded") != NULL);
    }
}

static void
test_create_snapshots(void)
{
    struct lcb_ec2 c = {NULL, NULL, NULL};
    struct lcb_ec2_snapshot_list l;
    struct lcb_err err;
    int adopted;

    mock_reset();
    mock_reply_fixture(200, NULL, "ec2-create-snapshots.xml");
    CHECK_INT(lcb_ec2_snapshots_create(&l, &adopted, &c, "i-0b40ce7da7a5e0001", 0, "d", tags, 2,
                                       "lcbackup:backup-id", &err),
              0);
    CHECK_INT(l.n, 2);
    CHECK_STR(l.items[1].id, "snap-0a1b2c3d4e5f60719");
    CHECK_STR(l.items[1].state, "pending");
    CHECK(body_has(0, "InstanceSpecification.InstanceId=i-0b40ce7da7a5e0001"));
    CHECK(body_has(0, "CopyTagsFromSource=volume"));
    CHECK(body_has(0, "TagSpecification.1.ResourceType=snapshot"));
    CHECK(!body_mentions(0, "ExcludeBootVolume"));
    lcb_ec2_snapshot_list_release(&l);
}

static void
test_copy(void)
{
    struct lcb_ec2 c = {NULL, "eu-central-1", NULL};
    struct lcb_ec2_snapshot s;
    struct lcb_err err;
    int adopted;
    const struct lcb_query_tag ct[] = {{"lcbackup:copy-of", "eu-west-1/snap-0123456789abcdef0"}};
    struct lcb_ec2_copy_req r = {
        "eu-west-1", "snap-0123456789abcdef0", "copy", "alias/legocity-backups", 0, ct,
        1,           "lcbackup:copy-of"};

    mock_reset();
    mock_reply_fixture(200, NULL, "ec2-copy-snapshot.xml");
    CHECK_INT(lcb_ec2_snapshot_copy(&s, &adopted, &c, &r, &err), 0);
    CHECK_STR(mock_calls[0].region, "eu-central-1");
    CHECK(body_has(0, "SourceRegion=eu-west-1"));
    CHECK(body_has(0, "SourceSnapshotId=snap-0123456789abcdef0"));
    CHECK(body_has(0, "DestinationRegion=eu-central-1"));
    CHECK(body_has(0, "Encrypted=true"));
    CHECK(body_has(0, "KmsKeyId=alias%2Flegocity-backups"));
    CHECK(body_mentions(0, "&PresignedUrl=https%3A%2F%2Fec2.eu-west-1.amazonaws.com"));
    CHECK_STR(presigned.region, "eu-west-1");
    CHECK_STR(presigned.service, "ec2");
    CHECK_STR(presigned.method, "GET");
    CHECK(strstr(presigned_query, "Action=CopySnapshot\nVersion=2016-11-15\n") == presigned_query);
    CHECK(strstr(presigned_query, "DestinationRegion=eu-central-1\n") != NULL);
    CHECK(strstr(presigned_query, "PresignedUrl") == NULL);
    CHECK_STR(s.id, "snap-0fedcba9876543211");
    CHECK_STR(s.state, "pending");
    lcb_ec2_snapshot_release(&s);

    /* unencrypted, no key: neither Encrypted nor KmsKeyId */
    r.kms_key_id = NULL;
    mock_reset();
    mock_reply_fixture(200, NULL, "ec2-copy-snapshot.xml");
    CHECK_INT(lcb_ec2_snapshot_copy(&s, &adopted, &c, &r, &err), 0);
    CHECK(!body_mentions(0, "Encrypted"));
    CHECK(!body_mentions(0, "KmsKeyId"));
    lcb_ec2_snapshot_release(&s);
}

static void
test_volume_and_dry_run(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out;
    struct lcb_ec2 c = {NULL, NULL, NULL};
    struct lcb_ec2_volume v;
    struct lcb_ec2_snapshot s;
    struct lcb_err err;
    int adopted;
    struct lcb_ec2_volume_req r;

    memset(&r, 0, sizeof(r));
    r.snapshot_id = "snap-0123456789abcdef0";
    r.availability_zone = "eu-west-1a";
    r.volume_type = "gp3";
    r.iops = 3000;
    r.client_token = "restore-20261128T030000-a1b2c3-0";
    r.tags = tags;
    r.ntags = 1;
    mock_reset();
    mock_reply_fixture(200, NULL, "ec2-create-volume.xml");
    CHECK_INT(lcb_ec2_volume_create(&v, &c, &r, &err), 0);
    CHECK_INT(mock_calls[0].no_blind_retry, 0); /* the client token makes retries safe */
    CHECK(body_has(0, "ClientToken=restore-20261128T030000-a1b2c3-0"));
    CHECK(body_has(0, "TagSpecification.1.ResourceType=volume"));
    CHECK(body_has(0, "Iops=3000"));
    CHECK(!body_mentions(0, "Size="));
    CHECK(!body_mentions(0, "Throughput"));
    CHECK_STR(v.id, "vol-0f3c2d1e0a9b8c7d6");
    CHECK_STR(v.state, "creating");
    lcb_ec2_volume_release(&v);

    out = open_memstream(&text, &len);
    c.dry_run = out;
    mock_reset();
    CHECK_INT(lcb_ec2_snapshot_create(&s, &adopted, &c, "vol-0b40ce7da7a5e0d01", "d", tags, 2,
                                      "lcbackup:backup-id", &err),
              0);
    lcb_ec2_snapshot_release(&s);
    CHECK_INT(lcb_ec2_snapshot_delete(&c, "snap-0123456789abcdef0", &err), 0);
    fclose(out);
    CHECK_INT(mock_ncalls, 0);
    CHECK(strstr(text, "ec2 CreateSnapshot (eu-west-1)\n    VolumeId=vol-0b40ce7da7a5e0d01\n") ==
          text);
    CHECK(strstr(text, "    TagSpecification.1.Tag.1.Key=lcbackup:backup-id\n") != NULL);
    CHECK(strstr(text, "ec2 DeleteSnapshot (eu-west-1)\n    SnapshotId=snap-0123456789abcdef0\n") !=
          NULL);
    free(text);
}

int
main(void)
{
    RUN(test_rules);
    RUN(test_parse_fixtures);
    RUN(test_describe_rules);
    RUN(test_create_and_adopt);
    RUN(test_create_snapshots);
    RUN(test_copy);
    RUN(test_volume_and_dry_run);
    mock_reset();
    return harness_done();
}
