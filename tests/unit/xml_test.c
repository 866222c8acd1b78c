/* xml_test.c - the libxml2 wrapper: finding by local name, paths, text, hostile input, the writer. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/buf.h"
#include "../../lib/core/err.h"
#include "../../lib/ext/xml.h"
#include "aws_fixture.h"
#include "harness.h"

static struct lcb_xml *
parse_fixture(const char *name)
{
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_err err;
    struct lcb_xml *doc = NULL;

    lcb_err_clear(&err);
    if (fixture_load(&b, name) == 0 && lcb_xml_parse(&doc, b.ptr, b.len, &err) < 0)
        fprintf(stderr, "  parse %s: %s\n", name, err.msg);
    lcb_buf_release(&b);
    return doc;
}

static void
test_rds_listing(void)
{
    struct lcb_xml *doc = parse_fixture("rds-describe-db-snapshots.xml");
    struct lcb_xml_node *root = lcb_xml_root(doc), *res, *s, *tags, *t;
    int n = 0;

    CHECK(doc != NULL);
    CHECK_STR(lcb_xml_name(root), "DescribeDBSnapshotsResponse"); /* namespace ignored */
    res = lcb_xml_child(root, "DescribeDBSnapshotsResult");
    CHECK(res != NULL);
    CHECK_STR(lcb_xml_get(res, "Marker"), "bWFya2VyLTI=");
    CHECK_INT(lcb_xml_count(lcb_xml_child(res, "DBSnapshots"), "DBSnapshot"), 2);
    s = lcb_xml_path(res, "DBSnapshots/DBSnapshot");
    CHECK_STR(lcb_xml_get(s, "Status"), "available");
    CHECK_INT(lcb_xml_get_ll(s, "AllocatedStorage", -1), 20);
    CHECK_INT(lcb_xml_get_bool(s, "Encrypted", -1), 1);
    tags = lcb_xml_child(s, "TagList");
    for (t = lcb_xml_child(tags, "Tag"); t; t = lcb_xml_next(t, "Tag"))
        n++;
    CHECK_INT(n, 2);
    /* entities decoded, trailing space kept */
    CHECK_STR(lcb_xml_get(lcb_xml_next(lcb_xml_child(tags, "Tag"), "Tag"), "Value"), "a & b <c> ");
    s = lcb_xml_next(s, "DBSnapshot");
    CHECK_STR(lcb_xml_get(s, "Status"), "creating");
    CHECK_INT(lcb_xml_get_ll(s, "PercentProgress", -1), 37);
    CHECK_INT(lcb_xml_get_bool(s, "Encrypted", -1), 0);
    CHECK_STR(lcb_xml_get(s, "TagList"), ""); /* present but empty */
    CHECK(lcb_xml_get(s, "Port") == NULL);    /* absent */
    CHECK_INT(lcb_xml_get_ll(s, "Port", 5432), 5432);
    CHECK(lcb_xml_next(s, "DBSnapshot") == NULL);
    CHECK_STR(lcb_xml_get(root, "ResponseMetadata/RequestId"), "6c2f5f2e-1b7a-4c33-9a0f-2d3b4d6d7e8f");
    CHECK_STR(lcb_xml_text(lcb_xml_find(root, "RequestId")), "6c2f5f2e-1b7a-4c33-9a0f-2d3b4d6d7e8f");
    CHECK(lcb_xml_path(root, "DescribeDBSnapshotsResult//Marker") == NULL);
    CHECK(lcb_xml_path(root, "") == root);
    lcb_xml_free(doc);
}

static void
test_ec2_listing(void)
{
    struct lcb_xml *doc = parse_fixture("ec2-describe-snapshots.xml");
    struct lcb_xml_node *root = lcb_xml_root(doc), *item;

    CHECK(doc != NULL);
    CHECK_STR(lcb_xml_get(root, "nextToken"), "eyJvZmZzZXQiOiAyfQ==");
    item = lcb_xml_path(root, "snapshotSet/item");
    CHECK_STR(lcb_xml_get(item, "snapshotId"), "snap-0123456789abcdef0");
    CHECK_STR(lcb_xml_get(item, "tagSet/item/value"), "run-42");
    CHECK_STR(lcb_xml_get(lcb_xml_next(item, NULL), "status"), "pending");
    CHECK_INT(lcb_xml_count(lcb_xml_child(root, "snapshotSet"), NULL), 2);
    lcb_xml_free(doc);
}

static void
test_text_pieces(void)
{
    const char *x = "<?xml version=\"1.0\"?>\n<a xmlns:p=\"urn:x\"><p:b>one<!-- c -->two"
                    "<![CDATA[<three>]]></p:b><c>  </c><d>&#233;t&#xE9;</d><n> 12 </n><m>1x</m></a>";
    struct lcb_xml *doc = NULL;
    struct lcb_err err;
    struct lcb_xml_node *a;

    CHECK_INT(lcb_xml_parse(&doc, x, strlen(x), &err), 0);
    a = lcb_xml_root(doc);
    CHECK_STR(lcb_xml_get(a, "b"), "onetwo<three>"); /* prefix ignored, pieces joined */
    CHECK_STR(lcb_xml_get(a, "b"), "onetwo<three>"); /* second call: the cached copy */
    CHECK_STR(lcb_xml_get(a, "c"), "  ");            /* blanks are data (an S3 key can be " ") */
    CHECK_STR(lcb_xml_get(a, "d"), "\xc3\xa9t\xc3\xa9");
    CHECK_INT(lcb_xml_get_ll(a, "n", -1), 12);
    CHECK_INT(lcb_xml_get_ll(a, "m", -1), -1);
    CHECK_INT(lcb_xml_get_bool(a, "m", 7), 7);
    lcb_xml_free(doc);
    lcb_xml_free(NULL);
    CHECK(lcb_xml_get(NULL, "x") == NULL);
    CHECK(lcb_xml_child(NULL, "x") == NULL);
}

static void
test_leading_whitespace(void)
{
    /* S3 keeps a slow CompleteMultipartUpload alive with white space before the XML declaration */
    struct lcb_xml *doc = parse_fixture("s3-complete-ok.xml");

    CHECK(doc != NULL);
    CHECK_STR(lcb_xml_name(lcb_xml_root(doc)), "CompleteMultipartUploadResult");
    CHECK_STR(lcb_xml_get(lcb_xml_root(doc), "ETag"), "\"3858f62230ac3c915f300c664312c11f-9\"");
    lcb_xml_free(doc);
}

static void
test_bad_input(void)
{
    static const char *bad[] = {
        "", "   \n ", "<a><b></a>", "<a>", "not xml", "<a></a><b></b>",
        "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>",
        "<!DOCTYPE a [<!ENTITY x \"xx\"><!ENTITY y \"&x;&x;\">]><a>&y;</a>",
    };
    struct lcb_xml *doc;
    struct lcb_err err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        doc = (struct lcb_xml *)1;
        lcb_err_clear(&err);
        CHECK_INT(lcb_xml_parse(&doc, bad[i], strlen(bad[i]), &err), -1);
        CHECK(doc == NULL);
        CHECK_INT(err.code, LCB_ECORRUPT);
        CHECK(err.msg[0] != '\0');
    }
    /* truncated answer: not NUL-terminated, cut mid-element */
    lcb_err_clear(&err);
    CHECK_INT(lcb_xml_parse(&doc, "<a><b>xyz</b></a>", 9, &err), -1);
    CHECK(strstr(err.msg, "line 1") != NULL);
}

static void
test_escape(void)
{
    struct lcb_buf b = LCB_BUF_INIT;

    CHECK_INT(lcb_xml_escape(&b, "a&b<c>\"d'\r\n\te \xc3\xa9 \xf0\x9f\x98\x80"), 0);
    CHECK_STR(b.ptr, "a&amp;b&lt;c&gt;&quot;d&apos;&#13;\n\te \xc3\xa9 \xf0\x9f\x98\x80");
    lcb_buf_reset(&b);
    lcb_buf_adds(&b, "keep");
    CHECK_INT(lcb_xml_escape(&b, "x\x01y"), -1);      /* control character */
    CHECK_INT(lcb_xml_escape(&b, "\xc3"), -1);         /* truncated UTF-8 */
    CHECK_INT(lcb_xml_escape(&b, "\xc0\xaf"), -1);     /* overlong */
    CHECK_INT(lcb_xml_escape(&b, "\xed\xa0\x80"), -1); /* surrogate */
    CHECK_INT(lcb_xml_escape(&b, "\xef\xbf\xbe"), -1); /* U+FFFE */
    CHECK_STR(b.ptr, "keep");                          /* nothing appended on failure */
    lcb_buf_release(&b);
}

static void
test_writer_roundtrip(void)
{
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_xmlw w;
    struct lcb_err err;
    struct lcb_xml *doc = NULL;
    struct lcb_xml_node *o;

    lcb_xmlw_init(&w, &b);
    lcb_xmlw_open(&w, "Delete", "http://s3.amazonaws.com/doc/2006-03-01/");
    lcb_xmlw_leaf(&w, "Quiet", "true");
    lcb_xmlw_open(&w, "Object", NULL);
    lcb_xmlw_leaf(&w, "Key", "run 42/a&b <c>.tar\r");
    lcb_xmlw_close(&w);
    lcb_xmlw_open(&w, "Object", NULL);
    lcb_xmlw_leaff(&w, "Key", "k-%d", 7);
    CHECK_INT(lcb_xmlw_finish(&w, &err), 0); /* closes Object and Delete */
    CHECK(strncmp(b.ptr, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete xmlns=", 51) == 0);
    CHECK_INT(lcb_xml_parse(&doc, b.ptr, b.len, &err), 0);
    o = lcb_xml_path(lcb_xml_root(doc), "Object");
    CHECK_STR(lcb_xml_get(o, "Key"), "run 42/a&b <c>.tar\r"); /* CR survives the round trip */
    CHECK_STR(lcb_xml_get(lcb_xml_next(o, "Object"), "Key"), "k-7");
    lcb_xml_free(doc);
    lcb_buf_release(&b);
}

static void
test_writer_errors(void)
{
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_xmlw w;
    struct lcb_err err;
    int i;

    lcb_xmlw_init(&w, &b);
    lcb_xmlw_open(&w, "Delete", NULL);
    lcb_xmlw_leaf(&w, "Key", "bell\a");
    lcb_xmlw_leaf(&w, "Key", "also\x02" "bad"); /* only the first problem is reported */
    CHECK_INT(lcb_xmlw_finish(&w, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK(strstr(err.msg, "<Key>") != NULL);

    lcb_buf_reset(&b);
    lcb_xmlw_init(&w, &b);
    lcb_xmlw_close(&w);
    CHECK_INT(lcb_xmlw_finish(&w, &err), -1);
    CHECK_INT(err.code, LCB_EINTERNAL);

    lcb_buf_reset(&b);
    lcb_xmlw_init(&w, &b);
    for (i = 0; i < LCB_XMLW_DEPTH + 1; i++)
        lcb_xmlw_open(&w, "x", NULL);
    CHECK_INT(lcb_xmlw_finish(&w, &err), -1);
    CHECK(strstr(err.msg, "too deep") != NULL);
    lcb_buf_release(&b);
}

int
main(void)
{
    RUN(test_rds_listing);
    RUN(test_ec2_listing);
    RUN(test_text_pieces);
    RUN(test_leading_whitespace);
    RUN(test_bad_input);
    RUN(test_escape);
    RUN(test_writer_roundtrip);
    RUN(test_writer_errors);
    return harness_done();
}
