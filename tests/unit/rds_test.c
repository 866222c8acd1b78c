/* rds_test.c - the RDS client's pure rules (identifiers, snapshot names, states, the waiter's
 * schedule), its reading of answers (fixtures), and its calls against a scripted lcb_aws_send():
 * exact parameters, adoption after an ambiguous create, quota errors, cross-region copies with a
 * presigned URL, pagination and dry runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/aws/rds.h"
#include "../../lib/aws/waiter.h"
#include "../../lib/catalog/catalog.h"
#include "../../lib/core/buf.h"
#include "../../lib/core/err.h"
#include "../../lib/snapshot/snapshot.h"
#include "aws_mock.h"
#include "harness.h"

/* What rds.c needs from aws.c besides lcb_aws_send (kept out of the link with the mock). */
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
    lcb_buf_addf(url,
                 "https://rds.%s.amazonaws.com/?Action=%s&X-Amz-Expires=%lld&X-Amz-Signature=ab12",
                 req->region, req->operation, (long long)expires);
    return 0;
}

/* Does the n-th call's query hold "name=value"? */
static int
sent(int n, const char *pair)
{
    char want[1024];

    snprintf(want, sizeof(want), "%s\n", pair);
    return strstr(lcb_buf_str(&mock_calls[n].query), want) != NULL ||
           strstr(lcb_buf_str(&mock_calls[n].body), pair) != NULL;
}

/* The form body of call n, decoded enough to search for "name=value" (the mock records the raw
 * body: Query parameters are form-encoded, so ':' arrives as %3A). */
static int
body_has(int n, const char *encoded_pair)
{
    const char *b = lcb_buf_str(&mock_calls[n].body);
    size_t k = strlen(encoded_pair);
    const char *p = b;

    while ((p = strstr(p, encoded_pair))) {
        if ((p == b || p[-1] == '&') && (p[k] == '&' || p[k] == '\0'))
            return 1;
        p++;
    }
    return 0;
}

static void
test_identifiers(void)
{
    static const struct {
        const char *id;
        int ok;
    } cases[] = {
        {"legocity-payload-db", 1},
        {"a", 1},
        {"A1-b2", 1},
        {"", 0},
        {"1db", 0},
        {"-db", 0},
        {"db-", 0},
        {"db--x", 0},
        {"db_x", 0},
        {"db.x", 0},
        {"db:x", 0},
        {"rds:db-2026-11-28-02-15", 0},
        {"caf\xc3\xa9", 0},
    };
    char long_id[300];
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(cases); i++)
        CHECK_INT(lcb_rds_ident_valid(cases[i].id, 63), cases[i].ok);
    memset(long_id, 'a', 63);
    long_id[63] = '\0';
    CHECK_INT(lcb_rds_ident_valid(long_id, 63), 1);
    long_id[63] = 'a';
    long_id[64] = '\0';
    CHECK_INT(lcb_rds_ident_valid(long_id, 63), 0);
    CHECK_INT(lcb_rds_ident_valid(long_id, 255), 1);
    CHECK(lcb_rds_ident_valid(NULL, 63) == 0);
}

static void
test_snapshot_name(void)
{
    char out[320], long_id[64];

    /* 1795905412 is 2026-11-28 22:36:52 UTC */
    CHECK_INT(lcb_rds_snapshot_name(out, sizeof(out), "legocity-payload-db", 1795905412), 0);
    CHECK_STR(out, "lcb-legocity-payload-db-20261128-223652");
    CHECK_INT(lcb_rds_snapshot_name(out, sizeof(out), "Prod-DB", 0), 0);
    CHECK_STR(out, "lcb-prod-db-19700101-000000"); /* RDS stores identifiers in lower case */
    CHECK_INT(lcb_rds_ident_valid(out, LCB_RDS_SNAPSHOT_ID_MAX), 1);
    CHECK_INT(lcb_rds_snapshot_name(out, sizeof(out), "bad--id", 0), -1);
    CHECK_INT(lcb_rds_snapshot_name(out, sizeof(out), "9db", 0), -1);
    CHECK_INT(lcb_rds_snapshot_name(out, sizeof(out), "", 0), -1);
    CHECK_INT(lcb_rds_snapshot_name(out, 10, "legocity-payload-db", 0), -1); /* no room */
    memset(long_id, 'x', 63);                                                /* longest instance */
    long_id[63] = '\0';
    CHECK_INT(lcb_rds_snapshot_name(out, sizeof(out), long_id, 1795905412), 0);
    CHECK_INT((long long)strlen(out), 4 + 63 + 16);
}

static void
test_states(void)
{
    CHECK_INT(lcb_rds_snapshot_wait_state("available"), LCB_WAIT_DONE);
    CHECK_INT(lcb_rds_snapshot_wait_state("creating"), LCB_WAIT_PENDING);
    CHECK_INT(lcb_rds_snapshot_wait_state("copying"), LCB_WAIT_PENDING);
    CHECK_INT(lcb_rds_snapshot_wait_state("pending"), LCB_WAIT_PENDING);
    CHECK_INT(lcb_rds_snapshot_wait_state(NULL), LCB_WAIT_PENDING);
    CHECK_INT(lcb_rds_snapshot_wait_state("failed"), LCB_WAIT_FAILED);
    CHECK_INT(lcb_rds_snapshot_wait_state("deleting"), LCB_WAIT_FAILED);
    CHECK_INT(lcb_rds_snapshot_wait_state("incompatible-restore"), LCB_WAIT_FAILED);
    CHECK_INT(lcb_rds_instance_wait_state("available"), LCB_WAIT_DONE);
    CHECK_INT(lcb_rds_instance_wait_state("backing-up"), LCB_WAIT_PENDING);
    CHECK_INT(lcb_rds_instance_wait_state("modifying"), LCB_WAIT_PENDING);
    CHECK_INT(lcb_rds_instance_wait_state("creating"), LCB_WAIT_PENDING);
    CHECK_INT(lcb_rds_instance_wait_state("configuring-enhanced-monitoring"), LCB_WAIT_PENDING);
    CHECK_INT(lcb_rds_instance_wait_state("storage-optimization"), LCB_WAIT_PENDING);
    CHECK_INT(lcb_rds_instance_wait_state("stopped"), LCB_WAIT_FAILED);
    CHECK_INT(lcb_rds_instance_wait_state("storage-full"), LCB_WAIT_FAILED);
    CHECK_INT(lcb_rds_instance_wait_state("inaccessible-encryption-credentials"), LCB_WAIT_FAILED);
    CHECK_INT(lcb_rds_instance_wait_state("deleting"), LCB_WAIT_FAILED);
    CHECK_INT(lcb_rds_instance_snapshottable("available"), 1);
    CHECK_INT(lcb_rds_instance_snapshottable("storage-optimization"), 1);
    CHECK_INT(lcb_rds_instance_snapshottable("backing-up"), 0);
    CHECK_INT(lcb_rds_instance_snapshottable(NULL), 0);
}

static void
test_waiter_schedule(void)
{
    struct lcb_waiter w;
    int64_t now = 50000, d, total = 0;
    int i;

    /* 1 s, then x1.5, trimmed so that the last look is at the deadline (10 s) */
    lcb_waiter_init(&w, now, 10);
    CHECK_INT(lcb_waiter_delay(&w, now), 1000);
    CHECK_INT(lcb_waiter_delay(&w, now + 1000), 1500);
    CHECK_INT(lcb_waiter_delay(&w, now + 2500), 2250);
    CHECK_INT(lcb_waiter_delay(&w, now + 4750), 3375);
    CHECK_INT(lcb_waiter_delay(&w, now + 8125), 1875);
    CHECK_INT(lcb_waiter_delay(&w, now + 10000), -1);
    CHECK_INT(lcb_waiter_delay(&w, now + 20000), -1);
    CHECK(lcb_waiter_elapsed(&w, now + 2500) > 2.49 && lcb_waiter_elapsed(&w, now + 2500) < 2.51);
    /* capped at 30 s; no deadline never times out */
    lcb_waiter_init(&w, 0, 0);
    for (i = 0; i < 40; i++) {
        d = lcb_waiter_delay(&w, total);
        CHECK(d > 0 && d <= LCB_WAITER_MAX_MS);
        total += d;
    }
    CHECK_INT(d, LCB_WAITER_MAX_MS);
    CHECK_INT(w.polls, 40);
}

static void
test_parse_fixtures(void)
{
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_xml *doc = NULL;
    struct lcb_xml_node *n;
    struct lcb_rds_snapshot s;
    struct lcb_rds_instance in;
    struct lcb_err err;

    CHECK_INT(fixture_load(&b, "rds-describe-db-snapshots.xml"), 0);
    CHECK_INT(lcb_xml_parse(&doc, b.ptr, b.len, &err), 0);
    n = lcb_xml_path(lcb_xml_root(doc), "DescribeDBSnapshotsResult/DBSnapshots/DBSnapshot");
    CHECK_INT(lcb_rds_snapshot_parse(&s, n, &err), 0);
    CHECK_STR(s.id, "lcb-prod-db-20260101t000000");
    CHECK_STR(s.instance_id, "prod-db");
    CHECK_STR(s.status, "available");
    CHECK_STR(s.engine, "postgres");
    CHECK_INT(s.allocated_gib, 20);
    CHECK_INT(s.encrypted, 1);
    CHECK_INT(s.percent, 100);
    CHECK_INT((long long)s.create_time, 1767225603); /* 2026-01-01T00:00:03.512Z */
    CHECK_STR(s.arn, "arn:aws:rds:eu-west-1:123456789012:snapshot:lcb-prod-db-20260101t000000");
    CHECK_INT(s.ntags, 2);
    CHECK_STR(lcb_rds_tag_get(s.tags, s.ntags, "note"), "a & b <c> ");
    CHECK(lcb_rds_tag_get(s.tags, s.ntags, "absent") == NULL);
    lcb_rds_snapshot_release(&s);
    CHECK_INT(lcb_rds_snapshot_parse(&s, lcb_xml_next(n, "DBSnapshot"), &err), 0);
    CHECK_STR(s.status, "creating");
    CHECK_INT(s.percent, 37);
    CHECK_INT((long long)s.create_time, 0);
    CHECK_INT(s.ntags, 0);
    lcb_rds_snapshot_release(&s);
    CHECK_INT(lcb_rds_snapshot_parse(&s, lcb_xml_root(doc), &err), -1); /* no identifier */
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_xml_free(doc);

    CHECK_INT(fixture_load(&b, "rds-describe-db-instances.xml"), 0);
    CHECK_INT(lcb_xml_parse(&doc, b.ptr, b.len, &err), 0);
    n = lcb_xml_path(lcb_xml_root(doc), "DescribeDBInstancesResult/DBInstances/DBInstance");
    CHECK_INT(lcb_rds_instance_parse(&in, n, &err), 0);
    CHECK_STR(in.status, "backing-up");
    CHECK_STR(in.address, "legocity-payload-db.c9akciq32.eu-west-1.rds.amazonaws.com");
    CHECK_INT(in.port, 5432);
    CHECK_STR(in.subnet_group, "legocity-db-subnets");
    CHECK_STR(in.parameter_group, "legocity-pg15");
    CHECK_STR(in.option_group, "default:postgres-15");
    CHECK_INT(in.nsecurity_groups, 2);
    CHECK_STR(in.security_groups[1], "sg-0legocity0db00002");
    CHECK_INT(in.backup_retention, 7);
    CHECK_INT(in.multi_az, 1);
    CHECK_INT(in.encrypted, 1);
    CHECK_INT((long long)in.latest_restorable, 1795831800); /* 2026-11-28T02:10:00Z */
    CHECK_STR(in.db_name, "payload");
    CHECK_STR(in.master_user, "payload_admin");
    lcb_rds_instance_release(&in);
    lcb_xml_free(doc);
    lcb_buf_release(&b);
}

static const struct lcb_query_tag tags[] = {
    {"lcbackup:backup-id", "rds-20261128T021500-3fa9c1"},
    {"lcbackup:env", "prod"},
};

static const char describe_ours[] =
    "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>"
    "<DBSnapshotIdentifier>lcb-legocity-payload-db-20261128-021500</DBSnapshotIdentifier>"
    "<DBInstanceIdentifier>legocity-payload-db</DBInstanceIdentifier><Status>creating</Status>"
    "<TagList><Tag><Key>lcbackup:backup-id</Key><Value>rds-20261128T021500-3fa9c1</Value></Tag>"
    "</TagList></DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult>"
    "</DescribeDBSnapshotsResponse>";

static const char describe_theirs[] =
    "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>"
    "<DBSnapshotIdentifier>lcb-legocity-payload-db-20261128-021500</DBSnapshotIdentifier>"
    "<Status>available</Status><TagList><Tag><Key>lcbackup:backup-id</Key>"
    "<Value>rds-20261128T021500-000000</Value></Tag></TagList></DBSnapshot></DBSnapshots>"
    "</DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>";

static const char internal_error[] =
    "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>boom"
    "</Message></Error></ErrorResponse>";

#define SNAP "lcb-legocity-payload-db-20261128-021500"

static void
test_create_exact(void)
{
    struct lcb_rds c = {NULL, NULL, NULL};
    struct lcb_rds_snapshot s;
    struct lcb_err err;
    int adopted = -1;

    mock_reset();
    mock_reply_fixture(200, NULL, "rds-create-db-snapshot.xml");
    CHECK_INT(lcb_rds_snapshot_create(&s, &adopted, &c, "legocity-payload-db", SNAP, tags, 2,
                                      "lcbackup:backup-id", &err),
              0);
    CHECK_INT(adopted, 0);
    CHECK_INT(mock_ncalls, 1);
    CHECK_STR(mock_calls[0].operation, "CreateDBSnapshot");
    CHECK_STR(mock_calls[0].service, "rds");
    CHECK_INT(mock_calls[0].no_blind_retry,
              1); /* a create without a token is not retried blindly */
    CHECK_STR(lcb_buf_str(&mock_calls[0].body),
              "Action=CreateDBSnapshot&Version=2014-10-31&DBInstanceIdentifier=legocity-payload-db"
              "&DBSnapshotIdentifier=" SNAP "&Tags.Tag.1.Key=lcbackup%3Abackup-id"
              "&Tags.Tag.1.Value=rds-20261128T021500-3fa9c1&Tags.Tag.2.Key=lcbackup%3Aenv"
              "&Tags.Tag.2.Value=prod");
    CHECK_STR(s.status, "creating");
    CHECK_INT(s.encrypted, 1);
    lcb_rds_snapshot_release(&s);
}

static void
test_create_adopts(void)
{
    struct lcb_rds c = {NULL, NULL, NULL};
    struct lcb_rds_snapshot s;
    struct lcb_err err;
    int adopted = 0;

    /* a 500 after the snapshot was made: describe, find our tag, adopt; no second create */
    mock_reset();
    mock_reply(500, NULL, internal_error);
    mock_reply(200, NULL, describe_ours);
    CHECK_INT(lcb_rds_snapshot_create(&s, &adopted, &c, "legocity-payload-db", SNAP, tags, 2,
                                      "lcbackup:backup-id", &err),
              0);
    CHECK_INT(adopted, 1);
    CHECK_INT(mock_ncalls, 2);
    CHECK_STR(mock_calls[1].operation, "DescribeDBSnapshots");
    CHECK(body_has(1, "DBSnapshotIdentifier=" SNAP));
    CHECK_STR(s.status, "creating");
    lcb_rds_snapshot_release(&s);

    /* DBSnapshotAlreadyExists on a retry of ours: the same */
    mock_reset();
    mock_reply_fixture(400, NULL, "rds-error-snapshot-exists.xml");
    mock_reply(200, NULL, describe_ours);
    CHECK_INT(lcb_rds_snapshot_create(&s, &adopted, &c, "legocity-payload-db", SNAP, tags, 2,
                                      "lcbackup:backup-id", &err),
              0);
    CHECK_INT(adopted, 1);
    lcb_rds_snapshot_release(&s);

    /* ... but another backup's snapshot under that name is refused, not adopted */
    mock_reset();
    mock_reply_fixture(400, NULL, "rds-error-snapshot-exists.xml");
    mock_reply(200, NULL, describe_theirs);
    adopted = 0;
    CHECK_INT(lcb_rds_snapshot_create(&s, &adopted, &c, "legocity-payload-db", SNAP, tags, 2,
                                      "lcbackup:backup-id", &err),
              -1);
    CHECK_INT(adopted, 0);
    CHECK_INT(err.code, LCB_EREFUSED);
    CHECK(strstr(err.msg, "rds-20261128T021500-000000") != NULL);

    /* a lost connection and nothing created: a second create, then success */
    mock_reset();
    mock_reply(0, NULL, NULL);
    mock_reply_fixture(404, NULL, "rds-error-not-found.xml");
    mock_reply_fixture(200, NULL, "rds-create-db-snapshot.xml");
    CHECK_INT(lcb_rds_snapshot_create(&s, &adopted, &c, "legocity-payload-db", SNAP, tags, 2,
                                      "lcbackup:backup-id", &err),
              0);
    CHECK_INT(adopted, 0);
    CHECK_INT(mock_ncalls, 3);
    CHECK_STR(mock_calls[2].operation, "CreateDBSnapshot");
    lcb_rds_snapshot_release(&s);

    /* throttling that outlived the retries is not ambiguous: no describe, no loop */
    mock_reset();
    mock_reply_fixture(400, NULL, "rds-error-throttling.xml");
    CHECK_INT(lcb_rds_snapshot_create(&s, &adopted, &c, "legocity-payload-db", SNAP, tags, 2,
                                      "lcbackup:backup-id", &err),
              -1);
    CHECK_INT(mock_ncalls, 1);
    CHECK_STR(err.aws_code, "Throttling");
}

static void
test_quota(void)
{
    struct lcb_rds c = {NULL, NULL, NULL};
    struct lcb_rds_snapshot s;
    struct lcb_err err;
    char line[2048];
    int adopted;

    mock_reset();
    mock_reply_fixture(400, NULL, "rds-error-snapshot-quota.xml");
    CHECK_INT(lcb_rds_snapshot_create(&s, &adopted, &c, "legocity-payload-db", SNAP, tags, 2,
                                      "lcbackup:backup-id", &err),
              -1);
    CHECK_INT(err.code, LCB_EREFUSED);
    CHECK_INT(lcb_exit_status(err.code), 69);
    lcb_err_format(&err, line, sizeof(line));
    CHECK(strstr(line, "Manual DB instance snapshots") != NULL);
    CHECK(strstr(line, "eu-west-1") != NULL);
    CHECK(strstr(line, "SnapshotQuotaExceeded") != NULL);
    CHECK_INT(mock_ncalls, 1);
}

static void
test_copy_cross_region(void)
{
    struct lcb_rds c = {NULL, "eu-central-1", NULL};
    struct lcb_rds_snapshot s;
    struct lcb_err err;
    int adopted;
    struct lcb_rds_copy_req r = {"arn:aws:rds:eu-west-1:123456789012:snapshot:" SNAP,
                                 "eu-west-1",
                                 SNAP,
                                 "alias/legocity-backups",
                                 tags,
                                 2,
                                 "lcbackup:backup-id"};

    mock_reset();
    mock_reply(
        200, NULL,
        "<CopyDBSnapshotResponse><CopyDBSnapshotResult><DBSnapshot><DBSnapshotIdentifier>" SNAP
        "</DBSnapshotIdentifier><Status>pending</Status><SourceRegion>eu-west-1"
        "</SourceRegion></DBSnapshot></CopyDBSnapshotResult></CopyDBSnapshotResponse>");
    CHECK_INT(lcb_rds_snapshot_copy(&s, &adopted, &c, &r, &err), 0);
    CHECK_STR(mock_calls[0].region, "eu-central-1"); /* sent to the destination */
    CHECK_INT(mock_calls[0].no_blind_retry, 1);
    CHECK(body_has(0, "SourceDBSnapshotIdentifier=arn%3Aaws%3Ards%3Aeu-west-1%3A123456789012%3A"
                      "snapshot%3A" SNAP));
    CHECK(body_has(0, "TargetDBSnapshotIdentifier=" SNAP));
    CHECK(body_has(0, "KmsKeyId=alias%2Flegocity-backups"));
    CHECK(strstr(lcb_buf_str(&mock_calls[0].body), "&PreSignedUrl=https%3A%2F%2Frds.eu-west-1") !=
          NULL);
    CHECK(strstr(lcb_buf_str(&mock_calls[0].body), "SourceRegion") == NULL); /* SDK-only */
    /* botocore's recipe: a GET to the source region with the same parameters + DestinationRegion */
    CHECK_STR(presigned.region, "eu-west-1");
    CHECK_STR(presigned.method, "GET");
    CHECK_STR(presigned.service, "rds");
    CHECK(strstr(presigned_query, "Action=CopyDBSnapshot\nVersion=2014-10-31\n") ==
          presigned_query);
    CHECK(strstr(presigned_query, "DestinationRegion=eu-central-1\n") != NULL);
    CHECK(strstr(presigned_query, "KmsKeyId=alias/legocity-backups\n") != NULL);
    CHECK_STR(s.status, "pending");
    lcb_rds_snapshot_release(&s);

    /* within one region: no presigned URL */
    memset(&presigned, 0, sizeof(presigned));
    r.source_region = "eu-central-1";
    mock_reset();
    mock_reply(200, NULL,
               "<CopyDBSnapshotResponse><CopyDBSnapshotResult><DBSnapshot><DBSnapshotIdentifier>"
               "x</DBSnapshotIdentifier></DBSnapshot></CopyDBSnapshotResult>"
               "</CopyDBSnapshotResponse>");
    CHECK_INT(lcb_rds_snapshot_copy(&s, &adopted, &c, &r, &err), 0);
    CHECK(strstr(lcb_buf_str(&mock_calls[0].body), "PreSignedUrl") == NULL);
    CHECK(presigned.region == NULL);
    lcb_rds_snapshot_release(&s);
}

static void
test_list_pages(void)
{
    struct lcb_rds c = {NULL, NULL, NULL};
    struct lcb_rds_snapshot_list l;
    struct lcb_err err;

    mock_reset();
    mock_reply_fixture(200, NULL, "rds-describe-db-snapshots.xml"); /* 2 items, Marker */
    mock_reply(200, NULL,
               "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>"
               "<DBSnapshotIdentifier>third</DBSnapshotIdentifier></DBSnapshot></DBSnapshots>"
               "</DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>");
    CHECK_INT(lcb_rds_snapshot_list(&l, &c, "prod-db", "manual", &err), 0);
    CHECK_INT(l.n, 3);
    CHECK_STR(l.items[2].id, "third");
    CHECK_INT(mock_ncalls, 2);
    CHECK(body_has(0, "MaxRecords=100"));
    CHECK(body_has(0, "SnapshotType=manual"));
    CHECK(!sent(0, "Marker"));
    CHECK(body_has(1, "Marker=bWFya2VyLTI%3D"));
    lcb_rds_snapshot_list_release(&l);
}

static void
test_restore_requests(void)
{
    struct lcb_rds c = {NULL, NULL, NULL};
    struct lcb_rds_instance in;
    struct lcb_err err;
    const char *sgs[] = {"sg-0a", "sg-0b"};
    struct lcb_rds_restore_req r;

    memset(&r, 0, sizeof(r));
    r.target = "legocity-payload-db-r202611281041";
    r.source_instance = "legocity-payload-db";
    r.restore_time = 1795862460; /* 2026-11-28T10:41:00Z */
    r.instance_class = "db.t3.micro";
    r.subnet_group = "legocity-db-subnets";
    r.security_groups = sgs;
    r.nsecurity_groups = 2;
    r.multi_az = -1;
    r.publicly_accessible = 0;
    mock_reset();
    mock_reply(200, NULL,
               "<RestoreDBInstanceToPointInTimeResponse><RestoreDBInstanceToPointInTimeResult>"
               "<DBInstance><DBInstanceIdentifier>legocity-payload-db-r202611281041"
               "</DBInstanceIdentifier><DBInstanceStatus>creating</DBInstanceStatus></DBInstance>"
               "</RestoreDBInstanceToPointInTimeResult></RestoreDBInstanceToPointInTimeResponse>");
    CHECK_INT(lcb_rds_restore_pitr(&in, &c, &r, &err), 0);
    CHECK_STR(in.status, "creating");
    CHECK(body_has(0, "SourceDBInstanceIdentifier=legocity-payload-db"));
    CHECK(body_has(0, "TargetDBInstanceIdentifier=legocity-payload-db-r202611281041"));
    CHECK(body_has(0, "RestoreTime=2026-11-28T10%3A41%3A00Z"));
    CHECK(!strstr(lcb_buf_str(&mock_calls[0].body), "UseLatestRestorableTime"));
    CHECK(body_has(0, "VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-0b"));
    CHECK(body_has(0, "PubliclyAccessible=false"));
    CHECK(!strstr(lcb_buf_str(&mock_calls[0].body), "MultiAZ"));
    lcb_rds_instance_release(&in);

    /* an existing target is refused with a message that says what to do */
    r.use_latest = 1;
    mock_reset();
    mock_reply(400, NULL,
               "<ErrorResponse><Error><Code>DBInstanceAlreadyExists</Code><Message>"
               "DB instance already exists</Message></Error></ErrorResponse>");
    CHECK_INT(lcb_rds_restore_pitr(&in, &c, &r, &err), -1);
    CHECK(body_has(0, "UseLatestRestorableTime=true"));
    CHECK(strstr(lcb_buf_str(&mock_calls[0].body), "RestoreTime=") == NULL);
    CHECK(strstr(err.frames[0], "never overwrites") != NULL ||
          strstr(err.frames[1], "never overwrites") != NULL);
}

static void
test_dry_run(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    struct lcb_rds c = {NULL, NULL, out};
    struct lcb_rds_snapshot s;
    struct lcb_err err;
    int adopted;

    mock_reset();
    CHECK_INT(lcb_rds_snapshot_create(&s, &adopted, &c, "legocity-payload-db", SNAP, tags, 2,
                                      "lcbackup:backup-id", &err),
              0);
    CHECK_STR(s.id, SNAP);
    lcb_rds_snapshot_release(&s);
    CHECK_INT(lcb_rds_snapshot_delete(&c, SNAP, &err), 0);
    fclose(out);
    CHECK_INT(mock_ncalls, 0); /* nothing sent */
    CHECK(strstr(text, "rds CreateDBSnapshot (eu-west-1)\n") == text);
    CHECK(strstr(text, "    DBSnapshotIdentifier=" SNAP "\n") != NULL);
    CHECK(strstr(text, "    Tags.Tag.1.Key=lcbackup:backup-id\n") != NULL);
    CHECK(strstr(text, "rds DeleteDBSnapshot (eu-west-1)\n    DBSnapshotIdentifier=" SNAP) != NULL);
    free(text);
}

static void
test_snapshot_rules(void)
{
    struct lcb_snap_tags t;
    struct lcb_job_ctx jc;
    struct lcb_backup b;
    char buf[64], why[256];

    CHECK_STR(lcb_snap_policy_name("/etc/lcbackup/prod.json", buf, sizeof(buf)), "prod");
    CHECK_STR(lcb_snap_policy_name("policies/demo", buf, sizeof(buf)), "demo");
    CHECK_STR(lcb_snap_policy_name(NULL, buf, sizeof(buf)), "none");
    memset(&jc, 0, sizeof(jc));
    jc.env = "prod";
    jc.policy_file = "policies/prod.json";
    jc.run_id = "run-20261128T021500-a1b2c3";
    lcb_snap_tags_base(&t, &jc, "rds-20261128T021500-3fa9c1", "rds", "legocity-payload-db");
    CHECK_INT(t.n, 6);
    CHECK_STR(t.tag[0].key, "lcbackup:backup-id");
    CHECK_STR(t.tag[2].value, "prod");
    CHECK(strncmp(t.tag[3].value, "lcbackup/", 9) == 0);
    CHECK(strstr(t.tag[3].value, " run-20261128T021500-a1b2c3") != NULL);
    lcb_snap_tags_set(&t, "Name", "db (primary), #1"); /* RDS refuses ( ) , # in tag values */
    CHECK_STR(t.tag[6].value, "db -primary-- -1");
    lcb_snap_tags_set(&t, "lcbackup:env", "dev"); /* replaced, not added */
    CHECK_INT(t.n, 7);
    CHECK_STR(t.tag[1].value, "dev");

    setenv("LCBACKUP_NOW", "2026-11-28T12:00:00Z", 1);
    memset(&b, 0, sizeof(b));
    CHECK_INT(lcb_snap_protected(&b, why, sizeof(why)), 0);
    CHECK_STR(why, "");
    b.hold = (char *)"incident-4711";
    CHECK_INT(lcb_snap_protected(&b, why, sizeof(why)), 1);
    CHECK(strstr(why, "incident-4711") != NULL);
    b.hold = NULL;
    b.manifest = (char *)"{\"retain_until\":\"2026-12-01T00:00:00Z\"}";
    CHECK_INT(lcb_snap_protected(&b, why, sizeof(why)), 1);
    CHECK(strstr(why, "locked until 2026-12-01T00:00:00Z") != NULL);
    b.manifest = (char *)"{\"object_lock\":{\"retain_until\":\"2026-11-01T00:00:00Z\"}}";
    CHECK_INT(lcb_snap_protected(&b, why, sizeof(why)), 0); /* expired */
    b.manifest = (char *)"{\"legal_hold\":true}";
    CHECK_INT(lcb_snap_protected(&b, why, sizeof(why)), 1);
    b.manifest = (char *)"not json";
    CHECK_INT(lcb_snap_protected(&b, why, sizeof(why)), 0);
    unsetenv("LCBACKUP_NOW");
}

int
main(void)
{
    RUN(test_identifiers);
    RUN(test_snapshot_name);
    RUN(test_states);
    RUN(test_waiter_schedule);
    RUN(test_parse_fixtures);
    RUN(test_create_exact);
    RUN(test_create_adopts);
    RUN(test_quota);
    RUN(test_copy_cross_region);
    RUN(test_list_pages);
    RUN(test_restore_requests);
    RUN(test_dry_run);
    RUN(test_snapshot_rules);
    mock_reset();
    return harness_done();
}
