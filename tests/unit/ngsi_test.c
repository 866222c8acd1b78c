/* ngsi_test.c - the id set (dedup and order-independent digest) and entity normalisation. */
#include <stdio.h>
#include <string.h>

#include "../../lib/core/mem.h"
#include "../../lib/ext/json.h"
#include "../../lib/ngsi/idset.h"
#include "../../lib/ngsi/internal.h"
#include "../../lib/ngsi/ngsi.h"
#include "harness.h"

static void
test_idset_dedup(void)
{
    struct lcb_idset s;
    char id[64];
    int i, added = 0;

    lcb_idset_init(&s);
    for (i = 0; i < 50000; i++) {
        snprintf(id, sizeof(id), "urn:ngsi-ld:Streetlight:lego-%06d", i);
        added += lcb_idset_add(&s, id);
    }
    CHECK_INT(added, 50000);
    CHECK_INT(lcb_idset_add(&s, "urn:ngsi-ld:Streetlight:lego-000042"), 0);
    CHECK(lcb_idset_has(&s, "urn:ngsi-ld:Streetlight:lego-049999"));
    CHECK(!lcb_idset_has(&s, "urn:ngsi-ld:Streetlight:lego-050000"));
    CHECK_INT(s.n, 50000);
    lcb_idset_release(&s);
}

static void
test_idset_digest_order_independent(void)
{
    struct lcb_idset a, b;
    char ha[65], hb[65];

    lcb_idset_init(&a);
    lcb_idset_init(&b);
    lcb_idset_add(&a, "urn:a");
    lcb_idset_add(&a, "urn:b");
    lcb_idset_add(&a, "urn:c");
    lcb_idset_add(&b, "urn:c");
    lcb_idset_add(&b, "urn:a");
    lcb_idset_add(&b, "urn:a"); /* a duplicate does not count twice */
    lcb_idset_add(&b, "urn:b");
    CHECK_STR(lcb_idset_digest_hex(&a, ha), lcb_idset_digest_hex(&b, hb));
    lcb_idset_add(&b, "urn:d");
    CHECK(strcmp(lcb_idset_digest_hex(&a, ha), lcb_idset_digest_hex(&b, hb)) != 0);
    lcb_idset_release(&a);
    lcb_idset_release(&b);
}

static char *
norm(const char *text, struct lcb_buf *out)
{
    struct lcb_json *j = NULL;
    struct lcb_err err;

    lcb_buf_reset(out);
    if (lcb_json_parse(&j, text, strlen(text), &err) < 0)
        return NULL;
    lcb_ngsi_normalize(out, j);
    lcb_json_free(j);
    return out->ptr;
}

/* What Orion-LD, Stellio and the archive render differently normalises to the same text. */
static void
test_normalize_equivalences(void)
{
    struct lcb_buf a = LCB_BUF_INIT, b = LCB_BUF_INIT;

    norm("{\"id\":\"urn:x\",\"type\":\"WeatherObserved\",\"temperature\":{\"type\":\"Property\","
         "\"value\":41.640833333,\"observedAt\":\"2026-11-28T12:00:00+01:00\"},"
         "\"createdAt\":\"2026-01-01T00:00:00Z\"}", &a);
    norm("{\"temperature\":{\"observedAt\":\"2026-11-28T11:00:00.000Z\",\"value\":41.640833,"
         "\"type\":\"Property\",\"modifiedAt\":\"2026-11-28T11:00:00Z\"},\"type\":[\"WeatherObserved\"],"
         "\"id\":\"urn:x\"}", &b);
    CHECK_STR(a.ptr, b.ptr);
    CHECK(strstr(a.ptr, "createdAt") == NULL);
    CHECK(strstr(a.ptr, "\"2026-11-28T11:00:00.000Z\"") != NULL);
    /* 25 and 25.0 are the same number */
    norm("{\"id\":\"urn:y\",\"n\":{\"type\":\"Property\",\"value\":25}}", &a);
    norm("{\"id\":\"urn:y\",\"n\":{\"type\":\"Property\",\"value\":25.0}}", &b);
    CHECK_STR(a.ptr, b.ptr);
    /* a single-instance array is the instance; multi-instance order does not matter */
    norm("{\"id\":\"urn:z\",\"p\":[{\"type\":\"Property\",\"value\":1}]}", &a);
    norm("{\"id\":\"urn:z\",\"p\":{\"type\":\"Property\",\"value\":1}}", &b);
    CHECK_STR(a.ptr, b.ptr);
    norm("{\"id\":\"urn:z\",\"p\":[{\"type\":\"Property\",\"value\":1,\"datasetId\":\"urn:d:b\"},"
         "{\"type\":\"Property\",\"value\":2,\"datasetId\":\"urn:d:a\"}]}", &a);
    norm("{\"id\":\"urn:z\",\"p\":[{\"type\":\"Property\",\"value\":2,\"datasetId\":\"urn:d:a\"},"
         "{\"type\":\"Property\",\"value\":1,\"datasetId\":\"urn:d:b\"}]}", &b);
    CHECK_STR(a.ptr, b.ptr);
    lcb_buf_release(&a);
    lcb_buf_release(&b);
}

static void
test_normalize_differences(void)
{
    struct lcb_buf a = LCB_BUF_INIT, b = LCB_BUF_INIT;

    norm("{\"id\":\"urn:x\",\"t\":{\"type\":\"Property\",\"value\":21.5}}", &a);
    norm("{\"id\":\"urn:x\",\"t\":{\"type\":\"Property\",\"value\":21.6}}", &b);
    CHECK(strcmp(a.ptr, b.ptr) != 0);
    /* the order of a coordinate list is meaningful */
    norm("{\"id\":\"urn:x\",\"location\":{\"type\":\"GeoProperty\",\"value\":{\"type\":\"Point\","
         "\"coordinates\":[4.35,50.85]}}}", &a);
    norm("{\"id\":\"urn:x\",\"location\":{\"type\":\"GeoProperty\",\"value\":{\"type\":\"Point\","
         "\"coordinates\":[50.85,4.35]}}}", &b);
    CHECK(strcmp(a.ptr, b.ptr) != 0);
    norm("{\"id\":\"urn:x\",\"r\":{\"type\":\"Relationship\",\"object\":\"urn:a\"}}", &a);
    norm("{\"id\":\"urn:x\",\"r\":{\"type\":\"Relationship\",\"object\":\"urn:b\"}}", &b);
    CHECK(strcmp(a.ptr, b.ptr) != 0);
    lcb_buf_release(&a);
    lcb_buf_release(&b);
}

static int
same(const char *x, const char *y)
{
    struct lcb_json *a = NULL, *b = NULL;
    struct lcb_err err;
    int r = -1;

    if (lcb_json_parse(&a, x, strlen(x), &err) == 0 && lcb_json_parse(&b, y, strlen(y), &err) == 0)
        r = lcb_ngsi_same(a, b);
    lcb_json_free(a);
    lcb_json_free(b);
    return r;
}

/* Rounding by a broker that keeps 6 decimals is no difference, even across a 7th-digit
 * rounding boundary of the normalised text; real changes still are. */
static void
test_same_within_rounding(void)
{
    struct lcb_buf a = LCB_BUF_INIT, b = LCB_BUF_INIT;
    const char *x = "{\"id\":\"urn:p\",\"location\":{\"type\":\"GeoProperty\",\"value\":"
                    "{\"type\":\"Point\",\"coordinates\":[4.392172,50.8652949]}}}";
    const char *y = "{\"id\":\"urn:p\",\"location\":{\"type\":\"GeoProperty\",\"value\":"
                    "{\"type\":\"Point\",\"coordinates\":[4.392172,50.865295]}}}";

    CHECK(strcmp(norm(x, &a), norm(y, &b)) != 0); /* the texts straddle the boundary */
    CHECK_INT(same(x, y), 1);
    CHECK_INT(same("{\"id\":\"urn:t\",\"t\":{\"type\":\"Property\",\"value\":-0.0}}",
                   "{\"id\":\"urn:t\",\"t\":{\"type\":\"Property\",\"value\":0}}"), 1);
    CHECK_INT(same("{\"id\":\"urn:t\",\"t\":{\"type\":\"Property\",\"value\":0.000123456}}",
                   "{\"id\":\"urn:t\",\"t\":{\"type\":\"Property\",\"value\":0.000123}}"), 1);
    CHECK_INT(same("{\"id\":\"urn:t\",\"t\":{\"type\":\"Property\",\"value\":50.865}}",
                   "{\"id\":\"urn:t\",\"t\":{\"type\":\"Property\",\"value\":50.8652}}"), 0);
    CHECK_INT(same("{\"id\":\"urn:t\",\"t\":{\"type\":\"Property\",\"value\":21.5}}",
                   "{\"id\":\"urn:t\",\"t\":{\"type\":\"Property\",\"value\":\"21.5\"}}"), 0);
    CHECK_INT(same("{\"id\":\"urn:t\",\"a\":{\"type\":\"Property\",\"value\":1}}",
                   "{\"id\":\"urn:t\",\"b\":{\"type\":\"Property\",\"value\":1}}"), 0);
    lcb_buf_release(&a);
    lcb_buf_release(&b);
}

/* A page split into its entities without a tree: top-level ids only, escapes decoded, byte
 * ranges that reproduce each element, and cut or garbled bodies refused. */
static void
test_page_split(void)
{
    static const char page[] =
        " [ {\"type\":\"T\",\"sub\":{\"id\":\"urn:inner\"},\"id\":\"urn:a\"},\n"
        "{\"id\":\"urn:b\\/x\",\"v\":[1,{\"id\":2}],\"s\":\"a,]}\\\"\"} ,{\"id\":7} ] ";
    static const char *const bad[] = {
        "", "{}", "[1]", "[{\"id\":\"a\"}", "[{\"id\":\"a\"},]", "[{\"id\":\"a\"}] x",
        "[{\"id\":\"a\"]}", "[{\"id\":\"a", "[{\"id\":\"a\"}]]", "[{\"id\":\"a\"} {}]",
    };
    struct ngsi_page pg;
    struct lcb_buf id = LCB_BUF_INIT;
    char why[128];
    size_t i;

    memset(&pg, 0, sizeof(pg));
    CHECK_INT(ngsi_page_split(&pg, page, strlen(page), why, sizeof(why)), 0);
    CHECK_INT((int)pg.n, 3);
    CHECK_STR(ngsi_page_id(&pg, page, 0, &id), "urn:a");
    CHECK_STR(ngsi_page_id(&pg, page, 1, &id), "urn:b/x");
    CHECK(ngsi_page_id(&pg, page, 2, &id) == NULL); /* a number is no id */
    CHECK(strncmp(page + pg.items[0].start, "{\"type\"", 7) == 0);
    CHECK(page[pg.items[0].end - 1] == '}' && page[pg.items[0].end] == ',');
    CHECK(pg.items[2].end - pg.items[2].start == 8 &&
          strncmp(page + pg.items[2].start, "{\"id\":7}", 8) == 0);
    CHECK_INT(ngsi_page_split(&pg, " [ ] ", 5, why, sizeof(why)), 0);
    CHECK_INT((int)pg.n, 0);
    for (i = 0; i < LCB_ARRAY_SIZE(bad); i++)
        CHECK_INT(ngsi_page_split(&pg, bad[i], strlen(bad[i]), why, sizeof(why)), -1);
    ngsi_page_release(&pg);
    lcb_buf_release(&id);
}

int
main(void)
{
    RUN(test_idset_dedup);
    RUN(test_idset_digest_order_independent);
    RUN(test_normalize_equivalences);
    RUN(test_normalize_differences);
    RUN(test_same_within_rounding);
    RUN(test_page_split);
    return harness_done();
}
