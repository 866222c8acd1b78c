/* jsonscan_test.c - lib/archive/jsonscan.c: RFC 8259 accept/refuse vectors (from JSONTestSuite's
 * y_/n_ families), fed whole and one byte at a time, item counts of top-level arrays, and
 * agreement with cJSON (lib/ext/json.c) on the inputs both should judge alike. */
#include "../../lib/archive/jsonscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/ext/json.h"
#include "harness.h"

/* 0 when valid; items into *items. Feeds whole (split 0) or byte by byte (split 1). */
static int
scan(const char *text, size_t len, int split, int64_t *items, char *why, size_t whylen)
{
    struct lcb_jsonscan s;
    size_t i;
    int rc = 0;

    lcb_jsonscan_init(&s);
    if (split) {
        for (i = 0; i < len && rc == 0; i++)
            rc = lcb_jsonscan_feed(&s, text + i, 1);
    } else {
        rc = lcb_jsonscan_feed(&s, text, len);
    }
    if (rc == 0)
        rc = lcb_jsonscan_end(&s);
    if (items)
        *items = s.items;
    if (why)
        snprintf(why, whylen, "%s", s.error);
    return rc;
}

static const char *const valid[] = {
    "[]", "{}", " [ ] ", "0", "-0", "-0.0e+1", "1E400", "123.456e-7", "\"\"", "true", "false",
    "null", "\"\\u00e9\\n\\\"\\\\\\/\\b\\f\\r\\t\"", "[1,[2,[3]],{\"a\":{}}]",
    "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
    "\n\r\t[\"a\"]\n", "[-1.5e3, 0.25]", "\"\\uD83D\\uDE00\"",
};

static const char *const invalid[] = {
    "", " ", "[", "]", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{1:2}", "{'a':1}",
    "01", "1.", ".5", "-", "1e", "1e+", "+1", "0x10", "tru", "truex", "nul", "[1 2]", "\"abc",
    "\"a\nb\"", "\"\\x\"", "\"\\u12G4\"", "[1]]", "[1]x", "{\"a\":1]", "[}", "NaN", "Infinity",
    "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf5\x80\x80\x80\"", "\"\xe0\x80\xaf\"",
    "\xef\xbb\xbf[]", "[\"a\"]\"b\"", "1 2",
};

static void
test_vectors(void)
{
    size_t i;
    int split;
    char why[128];

    for (split = 0; split < 2; split++) {
        for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
            int rc = scan(valid[i], strlen(valid[i]), split, NULL, why, sizeof(why));
            if (rc != 0)
                fprintf(stderr, "  valid %s refused: %s\n", valid[i], why);
            CHECK_INT(rc, 0);
        }
        for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
            int rc = scan(invalid[i], strlen(invalid[i]), split, NULL, why, sizeof(why));
            if (rc == 0)
                fprintf(stderr, "  invalid %s accepted\n", invalid[i]);
            CHECK_INT(rc, -1);
            CHECK(strncmp(why, "byte ", 5) == 0);
        }
    }
}

static void
test_items_and_errors(void)
{
    int64_t items;
    char why[128];
    char deep[600];
    static const char pages[] = "[{\"id\":\"a\",\"v\":[1,2,3]},{\"id\":\"b\"},[],\"s\",0]";

    CHECK_INT(scan(pages, strlen(pages), 1, &items, NULL, 0), 0);
    CHECK_INT(items, 5);
    CHECK_INT(scan("[]", 2, 0, &items, NULL, 0), 0);
    CHECK_INT(items, 0);
    CHECK_INT(scan("{\"a\":[1,2]}", 11, 0, &items, NULL, 0), 0);
    CHECK_INT(items, -1);
    CHECK_INT(scan("[1,\n2,\n\"x\ny\"]", 14, 0, NULL, why, sizeof(why)), -1);
    CHECK_STR(why, "byte 9: control character in a string");
    CHECK_INT(scan("[1,2", 4, 0, NULL, why, sizeof(why)), -1);
    CHECK_STR(why, "byte 4: unexpected end of JSON");
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    CHECK_INT(scan(deep, 600, 0, NULL, why, sizeof(why)), -1);
    CHECK_STR(why, "byte 256: nested too deeply");
    CHECK_INT(scan(deep + 44, 512, 0, NULL, NULL, 0), 0); /* 256 levels are fine */
}

/* Both parsers agree on these (cJSON is lenient elsewhere, e.g. on UTF-8 and control bytes). */
static void
test_agrees_with_cjson(void)
{
    static const char *const texts[] = {
        "[{\"id\":\"urn:ngsi-ld:Building:1\",\"type\":\"Building\",\"name\":{\"type\":\"Property\","
        "\"value\":\"Town hall\"},\"location\":{\"type\":\"GeoProperty\",\"value\":{\"type\":"
        "\"Point\",\"coordinates\":[-3.7,40.4]}}}]",
        "[1,2", "{\"a\":1,}", "[1]x", "\"\\q\"", "[true,false,null,-0.5e-2]", "{}",
    };
    struct lcb_json *j;
    struct lcb_err err;
    size_t i;
    int mine, theirs;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        mine = scan(texts[i], strlen(texts[i]), 0, NULL, NULL, 0);
        theirs = lcb_json_parse(&j, texts[i], strlen(texts[i]), &err);
        if (theirs == 0)
            lcb_json_free(j);
        CHECK_INT(mine, theirs);
    }
}

/* Index mode: element ranges and the named member's string value, at the top level of each
 * element object only, in the pass that checks the syntax. */
static void
test_index(void)
{
    static const char text[] =
        "[{\"a\":{\"id\":\"inner\"},\"id\":\"x\\\"y\"}, 7 ,{\"id\":3,\"k\":\"id\"},"
        "{\"ids\":\"no\",\"id\":\"z\"}]";
    struct lcb_jsonscan s;
    struct lcb_jsonscan_index ix = { 0 };
    const struct lcb_jsonscan_item *it;

    lcb_jsonscan_init(&s);
    lcb_jsonscan_index(&s, &ix, "id");
    CHECK_INT(lcb_jsonscan_feed(&s, text, strlen(text)), 0);
    CHECK_INT(lcb_jsonscan_end(&s), 0);
    CHECK_INT((int)s.items, 4);
    CHECK_INT((int)ix.n, 4);
    it = &ix.items[0];
    CHECK(it->is_object && text[it->start] == '{' && text[it->end - 1] == '}' &&
          text[it->end] == ',');
    CHECK_INT((int)(it->key_end - it->key_start), 4); /* x\"y as written, not "inner" */
    CHECK(strncmp(text + it->key_start, "x\\\"y", 4) == 0 && it->key_escaped);
    CHECK(!ix.items[1].is_object && text[ix.items[1].start] == '7');
    CHECK(ix.items[2].is_object && ix.items[2].key_end == 0); /* a number, and "id" as a value */
    it = &ix.items[3];
    CHECK(strncmp(text + it->key_start, "z\"", 2) == 0 && !it->key_escaped);
    CHECK_INT((int)(it->end), (int)strlen(text) - 1);
    /* the index needs the input in one piece */
    lcb_jsonscan_init(&s);
    lcb_jsonscan_index(&s, &ix, "id");
    CHECK_INT(lcb_jsonscan_feed(&s, "[{", 2), 0);
    CHECK_INT(lcb_jsonscan_feed(&s, "}]", 2), -1);
    CHECK(strstr(s.error, "one piece") != NULL);
    lcb_jsonscan_index_release(&ix);
}

int
main(void)
{
    RUN(test_vectors);
    RUN(test_items_and_errors);
    RUN(test_agrees_with_cjson);
    RUN(test_index);
    return harness_done();
}
