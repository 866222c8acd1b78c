/* query_test.c - the Query protocol: bodies byte-for-byte as botocore serializes them, both answer
 * shapes, both error shapes, and Marker/NextToken pagination against a scripted lcb_aws_send(). */
#include <stdlib.h>
#include <string.h>

#include "../../lib/aws/query.h"
#include "../../lib/aws/sts.h"
#include "../../lib/core/buf.h"
#include "../../lib/core/err.h"
#include "aws_mock.h"
#include "harness.h"

#define ODD "a b+c/d=e&f~g*h%i\xc3\xa9\xe2\x82\xac:j'k\"l!"

/* The body botocore produced for case name (tests/fixtures/aws/query-bodies.txt). */
static char *
botocore_body(const char *name)
{
    struct lcb_buf f = LCB_BUF_INIT;
    char want[128], *p, *body = NULL;

    if (fixture_load(&f, "query-bodies.txt") < 0)
        return NULL;
    snprintf(want, sizeof(want), "case %s\n", name);
    if ((p = strstr(f.ptr, want)) && (p = strstr(p, "\nbody ")))
        body = lcb_xstrndup(p + 6, strcspn(p + 6, "\n"));
    lcb_buf_release(&f);
    return body;
}

/* Encode q and compare with botocore's body for the case. */
static void
check_body(struct lcb_query *q, const char *name)
{
    struct lcb_buf b = LCB_BUF_INIT;
    char *want = botocore_body(name);

    lcb_query_encode(q, &b);
    CHECK(want != NULL);
    CHECK_STR(b.ptr, want);
    free(want);
    lcb_buf_release(&b);
    lcb_query_release(q);
}

static void
test_rds_bodies(void)
{
    struct lcb_query q;
    const struct lcb_query_tag tags[] = { { "lcbackup", "run-42" }, { "note", ODD } };
    const char *engines[] = { "postgres", "mysql" }, *manual[] = { "manual" };
    const struct lcb_query_filter filters[] = { { "engine", engines, 2 },
                                                { "snapshot-type", manual, 1 } };
    const char *sgs[] = { "sg-0a", "sg-0b" }, *logs[] = { "postgresql" }, *keys[] = { "a", "b c" };
    const struct lcb_query_tag drill[] = { { "lcbackup-drill", "d-1" } };

    lcb_query_init(&q, &lcb_query_rds, "CreateDBSnapshot");
    lcb_query_add(&q, "DBInstanceIdentifier", "prod-db");
    lcb_query_add(&q, "DBSnapshotIdentifier", "lcb-prod-db-20260101t000000");
    lcb_query_add_tags(&q, "Tags", "Tag", tags, 2);
    check_body(&q, "rds-create-snapshot");

    lcb_query_init(&q, &lcb_query_rds, "DescribeDBSnapshots");
    lcb_query_add(&q, "DBInstanceIdentifier", "prod-db");
    lcb_query_add(&q, "DBSnapshotIdentifier", NULL); /* optional, not given: skipped */
    lcb_query_add(&q, "SnapshotType", "manual");
    lcb_query_add_int(&q, "MaxRecords", 20);
    lcb_query_add(&q, "Marker", "bWFya2VyLTI=");
    lcb_query_add_filters(&q, filters, 2);
    lcb_query_add_bool(&q, "IncludeShared", 0);
    CHECK_STR(lcb_query_get(&q, "MaxRecords"), "20");
    CHECK(lcb_query_get(&q, "DBSnapshotIdentifier") == NULL);
    check_body(&q, "rds-describe-snapshots");

    lcb_query_init(&q, &lcb_query_rds, "RestoreDBInstanceFromDBSnapshot");
    lcb_query_add(&q, "DBInstanceIdentifier", "drill-db");
    lcb_query_add(&q, "DBSnapshotIdentifier", "lcb-prod-db-20260101t000000");
    lcb_query_add(&q, "DBInstanceClass", "db.t3.micro");
    lcb_query_add_int(&q, "Port", 5432);
    lcb_query_add_bool(&q, "MultiAZ", 0);
    lcb_query_add(&q, "DBSubnetGroupName", "legocity-private");
    lcb_query_add_list(&q, "VpcSecurityGroupIds", "VpcSecurityGroupId", sgs, 2);
    lcb_query_add_list(&q, "EnableCloudwatchLogsExports", "member", logs, 1);
    lcb_query_add_bool(&q, "DeletionProtection", 1);
    lcb_query_add_tags(&q, "Tags", "Tag", drill, 1);
    check_body(&q, "rds-restore");

    lcb_query_init(&q, &lcb_query_rds, "RemoveTagsFromResource");
    lcb_query_add(&q, "ResourceName", "arn:aws:rds:eu-west-1:123456789012:snapshot:x");
    lcb_query_add_list(&q, "TagKeys", "member", keys, 2);
    check_body(&q, "rds-remove-tags");

    lcb_query_init(&q, &lcb_query_rds, "RestoreDBInstanceToPointInTime");
    lcb_query_add(&q, "SourceDBInstanceIdentifier", "prod-db");
    lcb_query_add(&q, "TargetDBInstanceIdentifier", "pitr-db");
    lcb_query_add_time(&q, "RestoreTime", 1767270600); /* 2026-01-01T12:30:00Z */
    check_body(&q, "rds-pitr");
}

static void
test_ec2_bodies(void)
{
    struct lcb_query q;
    const char *self[] = { "self" }, *runs[] = { "run-42", "run 43" }, *done[] = { "completed" };
    const struct lcb_query_filter filters[] = { { "tag:lcbackup", runs, 2 }, { "status", done, 1 } };
    const struct lcb_query_tag tags[] = { { "lcbackup", "run-42" }, { "Name", "prod data" } };
    const char *res[] = { "snap-1", "vol-2" }, *ids[] = { "snap-0123456789abcdef0",
                                                         "snap-0fedcba9876543210" };
    const struct lcb_query_tag del[] = { { "a", NULL }, { "b", "c" } };

    lcb_query_init(&q, &lcb_query_ec2, "DescribeSnapshots");
    lcb_query_add_list(&q, "Owner", NULL, self, 1);
    lcb_query_add_filters(&q, filters, 2);
    lcb_query_add_int(&q, "MaxResults", 1000);
    lcb_query_add(&q, "NextToken", "eyJvZmZzZXQiOiAyfQ==");
    check_body(&q, "ec2-describe-snapshots");

    lcb_query_init(&q, &lcb_query_ec2, "CreateSnapshot");
    lcb_query_add(&q, "VolumeId", "vol-0123456789abcdef0");
    lcb_query_addf(&q, "Description", "lcbackup %s", ODD);
    lcb_query_add_tag_spec(&q, 1, "snapshot", tags, 2);
    check_body(&q, "ec2-create-snapshot");

    lcb_query_init(&q, &lcb_query_ec2, "DeleteTags");
    lcb_query_add_list(&q, "ResourceId", NULL, res, 2);
    lcb_query_add_tags(&q, "Tag", NULL, del, 2);
    check_body(&q, "ec2-delete-tags");

    lcb_query_init(&q, &lcb_query_ec2, "DescribeSnapshots");
    lcb_query_add_list(&q, "SnapshotId", NULL, ids, 2);
    lcb_query_add_list(&q, "Empty", NULL, NULL, 0); /* an empty list adds nothing */
    lcb_query_add_bool(&q, "DryRun", 1);
    check_body(&q, "ec2-describe-by-id");

    lcb_query_init(&q, &lcb_query_sts, "AssumeRole");
    lcb_query_add(&q, "RoleArn", "arn:aws:iam::210987654321:role/lcbackup-dr");
    lcb_query_add(&q, "RoleSessionName", "lcbackup-1767225600");
    lcb_query_add_int(&q, "DurationSeconds", 3600);
    lcb_query_add(&q, "ExternalId", "x=y&z");
    check_body(&q, "sts-assume-role");
}

static void
test_call_request_and_result(void)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    struct lcb_err err;
    struct lcb_xml_node *s;

    mock_reset();
    mock_reply_fixture(200, "x-amzn-RequestId: 6c2f5f2e\n", "rds-describe-db-snapshots.xml");
    lcb_query_init(&q, &lcb_query_rds, "DescribeDBSnapshots");
    q.region = "eu-central-1";
    q.no_blind_retry = 1;
    lcb_query_add(&q, "DBInstanceIdentifier", "prod-db");
    lcb_query_resp_init(&r);
    CHECK_INT(lcb_query_call(&r, NULL, &q, &err), 0);
    CHECK_INT(mock_ncalls, 1);
    CHECK_STR(mock_calls[0].method, "POST");
    CHECK_STR(mock_calls[0].service, "rds");
    CHECK_STR(mock_calls[0].operation, "DescribeDBSnapshots");
    CHECK_STR(mock_calls[0].region, "eu-central-1");
    CHECK_STR(mock_calls[0].path, "/");
    CHECK_STR(mock_header(&mock_calls[0], "content-type"),
              "application/x-www-form-urlencoded; charset=utf-8");
    CHECK_STR(mock_calls[0].body.ptr,
              "Action=DescribeDBSnapshots&Version=2014-10-31&DBInstanceIdentifier=prod-db");
    CHECK_INT(mock_calls[0].no_blind_retry, 1);
    CHECK_INT(r.status, 200);
    CHECK_STR(lcb_xml_name(r.result), "DescribeDBSnapshotsResult");
    CHECK_STR(r.request_id, "6c2f5f2e-1b7a-4c33-9a0f-2d3b4d6d7e8f");
    s = lcb_xml_path(r.result, "DBSnapshots/DBSnapshot");
    CHECK_STR(lcb_xml_get(s, "DBSnapshotIdentifier"), "lcb-prod-db-20260101t000000");
    lcb_query_resp_release(&r);
    lcb_query_release(&q);

    /* EC2: no Result wrapper; the result is the root */
    mock_reset();
    mock_reply_fixture(200, NULL, "ec2-delete-snapshot.xml");
    lcb_query_init(&q, &lcb_query_ec2, "DeleteSnapshot");
    lcb_query_add(&q, "SnapshotId", "snap-1");
    CHECK_INT(lcb_query_call(&r, NULL, &q, &err), 0);
    CHECK_INT(lcb_xml_get_bool(r.result, "return", 0), 1);
    CHECK_STR(r.request_id, "59dbff89-35bd-4eac-99ed-be587EXAMPLE");
    lcb_query_resp_release(&r);
    lcb_query_release(&q);

    /* a 200 that is not this action's answer is corrupt, not success */
    mock_reset();
    mock_reply_fixture(200, NULL, "sts-get-caller-identity.xml");
    lcb_query_init(&q, &lcb_query_rds, "DescribeDBSnapshots");
    CHECK_INT(lcb_query_call(&r, NULL, &q, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK(strstr(err.msg, "GetCallerIdentityResponse") != NULL);
    CHECK(r.doc == NULL);
    mock_reply(200, NULL, "<DescribeDBSnapshotsResponse><unclosed>");
    CHECK_INT(lcb_query_call(&r, NULL, &q, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_query_release(&q);
    mock_reset();
}

/* Run an error fixture through parse_error as aws.c would. */
static int
parse_err_fixture(const char *fixture, struct lcb_aws_error *e)
{
    struct lcb_aws_resp resp;
    int rc;

    memset(e, 0, sizeof(*e));
    lcb_aws_resp_init(&resp);
    fixture_load(&resp.body, fixture);
    rc = lcb_query_parse_error(&resp, e);
    lcb_aws_resp_release(&resp);
    return rc;
}

static void
test_error_shapes(void)
{
    struct lcb_aws_error e;
    struct lcb_aws_resp resp;

    CHECK_INT(parse_err_fixture("rds-error-not-found.xml", &e), 1);
    CHECK_STR(e.code, "DBSnapshotNotFound");
    CHECK_STR(e.message, "DBSnapshot lcb-nope not found.");
    CHECK_STR(e.request_id, "0b7e1f3a-6d8c-4a36-8a8d-5a3c1f1e9b21");
    CHECK_INT(parse_err_fixture("sts-error-invalid-token.xml", &e), 1);
    CHECK_STR(e.code, "InvalidClientTokenId");
    CHECK_INT(parse_err_fixture("ec2-error-not-found.xml", &e), 1);
    CHECK_STR(e.code, "InvalidSnapshot.NotFound");
    CHECK_STR(e.message, "The snapshot 'snap-0123456789abcdef0' does not exist.");
    CHECK_STR(e.request_id, "9e2a4b1c-0d3f-4e5a-8b6c-7d8e9f0a1b2c");
    CHECK_INT(parse_err_fixture("ec2-error-throttled.xml", &e), 1);
    CHECK_STR(e.code, "RequestLimitExceeded");
    CHECK_INT(parse_err_fixture("s3-error-no-such-key.xml", &e), 1); /* bare <Error> */
    CHECK_STR(e.code, "NoSuchKey");
    /* a success document, HTML from a proxy, an empty body: not an AWS error */
    CHECK_INT(parse_err_fixture("sts-get-caller-identity.xml", &e), 0);
    lcb_aws_resp_init(&resp);
    lcb_buf_adds(&resp.body, "<html><body>502 Bad Gateway</body></html>");
    CHECK_INT(lcb_query_parse_error(&resp, &e), 0);
    lcb_buf_reset(&resp.body);
    CHECK_INT(lcb_query_parse_error(&resp, &e), 0);
    lcb_aws_resp_release(&resp);
}

static void
test_call_errors(void)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    struct lcb_err err;

    mock_reset();
    mock_reply_fixture(404, NULL, "rds-error-not-found.xml");
    mock_reply_fixture(400, NULL, "ec2-error-not-found.xml");
    mock_reply(0, NULL, NULL);
    lcb_query_init(&q, &lcb_query_rds, "DeleteDBSnapshot");
    lcb_query_resp_init(&r);
    CHECK_INT(lcb_query_call(&r, NULL, &q, &err), -1);
    CHECK_STR(err.aws_code, "DBSnapshotNotFound");
    CHECK_INT(err.http, 404);
    CHECK_STR(err.msg, "HTTP 404 DBSnapshotNotFound: DBSnapshot lcb-nope not found.");
    lcb_query_release(&q);
    lcb_query_init(&q, &lcb_query_ec2, "DeleteSnapshot");
    CHECK_INT(lcb_query_call(&r, NULL, &q, &err), -1);
    CHECK_STR(err.aws_code, "InvalidSnapshot.NotFound");
    CHECK_INT(lcb_query_call(&r, NULL, &q, &err), -1);
    CHECK_INT(err.code, LCB_ETEMP);
    CHECK(r.doc == NULL);
    lcb_query_release(&q);
    mock_reset();
}

static const char *
page_xml(const char *marker, const char *id)
{
    static char x[1024];

    snprintf(x, sizeof(x),
             "<DescribeDBSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
             "<DescribeDBSnapshotsResult>%s%s%s<DBSnapshots><DBSnapshot><DBSnapshotIdentifier>%s"
             "</DBSnapshotIdentifier></DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult>"
             "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
             "</DescribeDBSnapshotsResponse>",
             marker ? "<Marker>" : "", marker ? marker : "", marker ? "</Marker>" : "", id);
    return x;
}

static void
test_marker_pagination(void)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    struct lcb_pager pg;
    struct lcb_err err;
    struct lcb_buf ids = LCB_BUF_INIT;
    int rc;

    mock_reset();
    mock_reply(200, NULL, page_xml("m 1/+", "s1"));
    mock_reply(200, NULL, page_xml("m2", "s2"));
    mock_reply(200, NULL, page_xml(NULL, "s3"));
    lcb_query_init(&q, &lcb_query_rds, "DescribeDBSnapshots");
    lcb_query_add_int(&q, "MaxRecords", 20);
    lcb_query_resp_init(&r);
    lcb_pager_init(&pg, LCB_QUERY_MARKER);
    while ((rc = lcb_query_page(&r, NULL, &q, &pg, &err)) > 0)
        lcb_buf_addf(&ids, "%s,", lcb_xml_get(r.result, "DBSnapshots/DBSnapshot/DBSnapshotIdentifier"));
    CHECK_INT(rc, 0);
    CHECK_STR(ids.ptr, "s1,s2,s3,");
    CHECK_INT(pg.pages, 3);
    CHECK_INT(mock_ncalls, 3);
    CHECK_STR(mock_calls[0].body.ptr, "Action=DescribeDBSnapshots&Version=2014-10-31&MaxRecords=20");
    CHECK_STR(mock_calls[1].body.ptr,
              "Action=DescribeDBSnapshots&Version=2014-10-31&MaxRecords=20&Marker=m+1%2F%2B");
    CHECK_STR(mock_calls[2].body.ptr,
              "Action=DescribeDBSnapshots&Version=2014-10-31&MaxRecords=20&Marker=m2");
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), 0); /* stays done */
    CHECK_INT(mock_ncalls, 3);
    lcb_pager_release(&pg);

    /* a service that hands back the same marker would loop forever: stop */
    mock_reset();
    mock_reply(200, NULL, page_xml("same", "s1"));
    mock_reply(200, NULL, page_xml("same", "s1"));
    lcb_pager_init(&pg, LCB_QUERY_MARKER);
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), 1);
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK(strstr(err.msg, "same Marker") != NULL);
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), 0);
    lcb_pager_release(&pg);

    /* an error ends the iteration */
    mock_reset();
    mock_reply_fixture(400, NULL, "rds-error-throttling.xml");
    lcb_pager_init(&pg, LCB_QUERY_MARKER);
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), -1);
    CHECK_STR(err.aws_code, "Throttling");
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), 0);
    lcb_pager_release(&pg);
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    lcb_buf_release(&ids);
    mock_reset();
}

/* An lcb_query_each_page callback: collect the page's snapshot id; fail on arg's stop id. */
struct collect {
    struct lcb_buf ids;
    const char *stop;
};

static int
collect_page(void *arg, const struct lcb_xml_node *result, struct lcb_err *err)
{
    struct collect *c = arg;
    const char *id = lcb_xml_get(result, "DBSnapshots/DBSnapshot/DBSnapshotIdentifier");

    if (c->stop && strcmp(id, c->stop) == 0)
        return lcb_err_set(err, LCB_ECORRUPT, "stopped at %s", id);
    lcb_buf_addf(&c->ids, "%s,", id);
    return 0;
}

static void
test_each_page(void)
{
    struct lcb_query q;
    struct lcb_err err;
    struct collect c = { LCB_BUF_INIT, NULL };

    mock_reset();
    mock_reply(200, NULL, page_xml("m1", "s1"));
    mock_reply(200, NULL, page_xml("m2", "s2"));
    mock_reply(200, NULL, page_xml(NULL, "s3"));
    lcb_query_init(&q, &lcb_query_rds, "DescribeDBSnapshots");
    CHECK_INT(lcb_query_each_page(NULL, &q, LCB_QUERY_MARKER, collect_page, &c, &err), 0);
    CHECK_STR(c.ids.ptr, "s1,s2,s3,");
    CHECK_INT(mock_ncalls, 3);
    CHECK_STR(mock_calls[2].body.ptr, "Action=DescribeDBSnapshots&Version=2014-10-31&Marker=m2");

    /* a page the callback refuses ends the walk: no further page is fetched */
    mock_reset();
    lcb_buf_reset(&c.ids);
    c.stop = "s2";
    mock_reply(200, NULL, page_xml("m1", "s1"));
    mock_reply(200, NULL, page_xml("m2", "s2"));
    mock_reply(200, NULL, page_xml(NULL, "s3"));
    CHECK_INT(lcb_query_each_page(NULL, &q, LCB_QUERY_MARKER, collect_page, &c, &err), -1);
    CHECK_STR(err.msg, "stopped at s2");
    CHECK_STR(c.ids.ptr, "s1,");
    CHECK_INT(mock_ncalls, 2);

    /* so does a failed call, with its error */
    mock_reset();
    mock_reply_fixture(400, NULL, "rds-error-throttling.xml");
    CHECK_INT(lcb_query_each_page(NULL, &q, LCB_QUERY_MARKER, collect_page, &c, &err), -1);
    CHECK_STR(err.aws_code, "Throttling");
    lcb_query_release(&q);
    lcb_buf_release(&c.ids);
    mock_reset();
}

static void
test_send(void)
{
    struct lcb_query q;
    struct lcb_err err;
    char *printed = NULL;
    size_t len = 0;
    FILE *dry = open_memstream(&printed, &len);

    mock_reset();
    lcb_query_init(&q, &lcb_query_rds, "DeleteDBSnapshot");
    lcb_query_add(&q, "DBSnapshotIdentifier", "s 1");
    CHECK_INT(lcb_query_send(NULL, &q, dry, "eu-west-1", &err), 0);
    fclose(dry);
    CHECK_STR(printed, "rds DeleteDBSnapshot (eu-west-1)\n    DBSnapshotIdentifier=s 1\n");
    CHECK_INT(mock_ncalls, 0); /* a dry run sends nothing */

    mock_reply(200, NULL,
               "<DeleteDBSnapshotResponse><DeleteDBSnapshotResult/></DeleteDBSnapshotResponse>");
    mock_reply_fixture(400, NULL, "rds-error-throttling.xml");
    CHECK_INT(lcb_query_send(NULL, &q, NULL, "eu-west-1", &err), 0);
    CHECK_INT(mock_ncalls, 1);
    CHECK_STR(mock_calls[0].body.ptr,
              "Action=DeleteDBSnapshot&Version=2014-10-31&DBSnapshotIdentifier=s+1");
    CHECK_INT(lcb_query_send(NULL, &q, NULL, "eu-west-1", &err), -1);
    CHECK_STR(err.aws_code, "Throttling");
    free(printed);
    lcb_query_release(&q);
    mock_reset();
}

static void
test_read_helpers(void)
{
    const char *x = "<r><id>snap-1</id><empty/><t>2026-01-01T00:00:01.500Z</t><bad>soon</bad></r>";
    const struct lcb_query_tag tags[] = { { "Name", "db" }, { "lcbackup:backup-id", "b-1" } };
    struct lcb_xml *doc = NULL;
    struct lcb_xml_node *root;
    struct lcb_err err;
    char *s;

    CHECK_INT(lcb_xml_parse(&doc, x, strlen(x), &err), 0);
    root = lcb_xml_root(doc);
    s = lcb_query_text(root, "id");
    CHECK_STR(s, "snap-1");
    free(s);
    CHECK(lcb_query_text(root, "empty") == NULL); /* empty reads as absent */
    CHECK(lcb_query_text(root, "none") == NULL);
    CHECK_INT(lcb_query_time(root, "t"), 1767225601);
    CHECK_INT(lcb_query_time(root, "bad"), 0);
    CHECK_INT(lcb_query_time(root, "none"), 0);
    lcb_xml_free(doc);

    CHECK_STR(lcb_query_tag_value(tags, 2, "lcbackup:backup-id"), "b-1");
    CHECK(lcb_query_tag_value(tags, 2, "other") == NULL);
    CHECK(lcb_query_tag_value(tags, 2, NULL) == NULL);
    CHECK(lcb_query_tag_value(NULL, 0, "Name") == NULL);
}

static void
test_ec2_pagination(void)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    struct lcb_pager pg;
    struct lcb_err err;

    mock_reset();
    mock_reply_fixture(200, NULL, "ec2-describe-snapshots.xml");
    mock_reply(200, NULL,
               "<DescribeSnapshotsResponse><requestId>x</requestId><snapshotSet/>"
               "<nextToken></nextToken></DescribeSnapshotsResponse>");
    lcb_query_init(&q, &lcb_query_ec2, "DescribeSnapshots");
    lcb_query_add(&q, "Owner.1", "self");
    lcb_query_resp_init(&r);
    lcb_pager_init(&pg, LCB_QUERY_NEXT_TOKEN_EC2);
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), 1);
    CHECK_INT(lcb_xml_count(lcb_xml_child(r.result, "snapshotSet"), "item"), 2);
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), 1); /* empty nextToken: the last page */
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), 0);
    CHECK_STR(mock_calls[1].body.ptr, "Action=DescribeSnapshots&Version=2016-11-15&Owner.1=self"
                                      "&NextToken=eyJvZmZzZXQiOiAyfQ%3D%3D");
    lcb_pager_release(&pg);

    /* the runaway guard */
    mock_reset();
    mock_reply(200, NULL, "<DescribeSnapshotsResponse><nextToken>a</nextToken></DescribeSnapshotsResponse>");
    mock_reply(200, NULL, "<DescribeSnapshotsResponse><nextToken>b</nextToken></DescribeSnapshotsResponse>");
    lcb_pager_init(&pg, LCB_QUERY_NEXT_TOKEN_EC2);
    pg.max_pages = 2;
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), 1);
    CHECK_INT(lcb_query_page(&r, NULL, &q, &pg, &err), -1);
    CHECK(strstr(err.msg, "more than 2 pages") != NULL);
    lcb_pager_release(&pg);
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    mock_reset();
}

static void
test_sts(void)
{
    struct lcb_sts_identity id;
    struct lcb_creds c;
    struct lcb_buf arn = LCB_BUF_INIT;
    struct lcb_err err;
    struct lcb_sts_assume_role p = { 0 };

    mock_reset();
    mock_reply_fixture(200, NULL, "sts-get-caller-identity.xml");
    mock_reply_fixture(200, NULL, "sts-assume-role.xml");
    mock_reply_fixture(200, NULL, "sts-assume-role.xml"); /* wrong answer for web identity */
    mock_reply_fixture(403, NULL, "sts-error-invalid-token.xml");
    lcb_sts_identity_init(&id);
    CHECK_INT(lcb_sts_get_caller_identity(&id, NULL, NULL, &err), 0);
    CHECK_STR(id.account, "123456789012");
    CHECK_STR(id.arn, "arn:aws:iam::123456789012:user/lcbackup");
    CHECK_STR(id.user_id, "AIDACKCEVSQ6C2EXAMPLE");
    CHECK_STR(mock_calls[0].body.ptr, "Action=GetCallerIdentity&Version=2011-06-15");
    CHECK_STR(mock_calls[0].service, "sts");

    memset(&c, 0, sizeof(c)); /* not lcb_creds_init: creds.o would pull the real aws.o */
    p.role_arn = "arn:aws:iam::210987654321:role/lcbackup-dr";
    p.session_name = "lcbackup-1767225600";
    p.external_id = "x=y&z";
    CHECK_INT(lcb_sts_assume_role(&c, &arn, NULL, NULL, &p, &err), 0);
    CHECK_STR(mock_calls[1].body.ptr, "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam"
                                      "%3A%3A210987654321%3Arole%2Flcbackup-dr&RoleSessionName="
                                      "lcbackup-1767225600&ExternalId=x%3Dy%26z");
    CHECK_STR(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
    CHECK_STR(lcb_secret_get(&c.secret), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
    CHECK_STR(lcb_secret_get(&c.token), "IQoJb3JpZ2luX2VjEXAMPLETOKEN+/=");
    CHECK_INT(c.expires, 1767229200); /* 2026-01-01T01:00:00Z */
    CHECK_STR(arn.ptr, "arn:aws:sts::210987654321:assumed-role/lcbackup-dr/lcbackup-1767225600");

    CHECK_INT(lcb_sts_assume_role_web_identity(&c, NULL, NULL, "arn:aws:iam::1:role/r", "s",
                                               "eyJ0b2tlbiJ9", 900, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT); /* an AssumeRoleResponse is not the answer to this */
    CHECK_INT(mock_calls[2].anonymous, 1);
    CHECK(strstr(mock_calls[2].body.ptr, "&WebIdentityToken=eyJ0b2tlbiJ9&DurationSeconds=900"));

    CHECK_INT(lcb_sts_get_caller_identity(&id, NULL, NULL, &err), -1);
    CHECK_STR(err.aws_code, "InvalidClientTokenId");
    CHECK_STR(id.account, "123456789012"); /* untouched on failure */
    p.role_arn = NULL;
    CHECK_INT(lcb_sts_assume_role(&c, NULL, NULL, NULL, &p, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(mock_ncalls, 4);
    lcb_sts_identity_release(&id);
    lcb_secret_release(&c.secret);
    lcb_secret_release(&c.token);
    lcb_buf_release(&arn);
    mock_reset();
}

int
main(void)
{
    RUN(test_rds_bodies);
    RUN(test_ec2_bodies);
    RUN(test_call_request_and_result);
    RUN(test_error_shapes);
    RUN(test_call_errors);
    RUN(test_marker_pagination);
    RUN(test_ec2_pagination);
    RUN(test_each_page);
    RUN(test_send);
    RUN(test_read_helpers);
    RUN(test_sts);
    return harness_done();
}
