/* ngsi_test.c - the id set (dedup and order-independent digest), entity normalisation, page
 * splitting, and the requests a dry run shows instead of sending. */
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
    struct lcb_err err;
    char id[64];
    int i, added = 0;

    lcb_idset_init(&s);
    for (i = 0; i < 50000; i++) {
        snprintf(id, sizeof(id), "urn:ngsi-ld:Streetlight:lego-%06d", i);
        added += lcb_idset_add(&s, id, &err);
    }
    CHECK_INT(added, 50000);
    CHECK_INT(lcb_idset_add(&s, "urn:ngsi-ld:Streetlight:lego-000042", &err), 0);
    CHECK(lcb_idset_has(&s, "urn:ngsi-ld:Streetlight:lego-049999", &err));
    CHECK(!lcb_idset_has(&s, "urn:ngsi-ld:Streetlight:lego-050000", &err));
    CHECK_INT(s.n, 50000);
    lcb_idset_release(&s);
}

static void
test_idset_digest_order_independent(void)
{
    struct lcb_idset a, b;
    struct lcb_err err;
    char ha[65], hb[65];

    lcb_idset_init(&a);
    lcb_idset_init(&b);
    lcb_idset_add(&a, "urn:a", &err);
    lcb_idset_add(&a, "urn:b", &err);
    lcb_idset_add(&a, "urn:c", &err);
    lcb_idset_add(&b, "urn:c", &err);
    lcb_idset_add(&b, "urn:a", &err);
    lcb_idset_add(&b, "urn:a", &err); /* a duplicate does not count twice */
    lcb_idset_add(&b, "urn:b", &err);
    CHECK_STR(lcb_idset_digest_hex(&a, ha), lcb_idset_digest_hex(&b, hb));
    lcb_idset_add(&b, "urn:d", &err);
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
    /* cut bodies (-2: the network's, retried) and bad syntax (-1: the broker's) */
    static const char *const cut[] = { "", "  ", "[{\"id\":\"a\"}", "[{\"id\":\"a" };
    static const char *const bad[] = {
        "{}", "[1]", "[{\"id\":\"a\"},]", "[{\"id\":\"a\"}] x",
        "[{\"id\":\"a\"]}", "[{\"id\":\"a\"}]]", "[{\"id\":\"a\"} {}]",
        /* the split checks the whole syntax, as the archive writer no longer does for pages */
        "[{\"id\":\"a\",\"n\":01}]", "[{\"id\":\"a\",\"b\":tru}]", "[{\"id\":\"\xff\"}]",
        "[{\"id\":\"a\",\"n\":1.}]", "[{\"id\":\"a\\q\"}]",
    };
    struct lcb_jsonscan_index pg;
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
    for (i = 0; i < LCB_ARRAY_SIZE(cut); i++)
        CHECK_INT(ngsi_page_split(&pg, cut[i], strlen(cut[i]), why, sizeof(why)), -2);
    ngsi_page_release(&pg);
    lcb_buf_release(&id);
}

/* What a dry run's show function saw. */
struct seen {
    int n;
    struct lcb_buf lines; /* lcb_ngsi_request_format, one a line */
    size_t items[16], bytes[16];
    char first[16][32], last[16][32];
};

static void
see(void *ud, const struct lcb_ngsi_request *r)
{
    struct seen *s = ud;

    lcb_ngsi_request_format(&s->lines, r);
    lcb_buf_addch(&s->lines, '\n');
    if (s->n < 16) {
        s->items[s->n] = r->items;
        s->bytes[s->n] = r->bytes;
        snprintf(s->first[s->n], sizeof(s->first[0]), "%s", r->first_id);
        snprintf(s->last[s->n], sizeof(s->last[0]), "%s", r->last_id);
    }
    s->n++;
}

/* n entities "urn:e:000", "urn:e:001"... each with a 100-character text */
static struct lcb_json *
entities(int n)
{
    struct lcb_json *arr = lcb_json_new_array(), *e;
    char id[32], text[101];
    int i;

    memset(text, 'x', 100);
    text[100] = '\0';
    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "urn:e:%03d", i);
        e = lcb_json_new_object();
        lcb_json_add_str(e, "id", id);
        lcb_json_add_str(e, "type", "T");
        lcb_json_add_str(e, "text", text);
        lcb_json_push(arr, e);
    }
    return arr;
}

/* A client with no HTTP at all: a dry run must not need one. */
static struct lcb_ngsi *
dry_client(const char *tenant, struct seen *s)
{
    struct lcb_ngsi_config cfg;
    struct lcb_ngsi *n = NULL;
    struct lcb_err err;

    memset(&cfg, 0, sizeof(cfg));
    cfg.url = "http://admin:hunter2@127.0.0.1:1026/";
    cfg.tenant = tenant;
    if (lcb_ngsi_new(&n, NULL, &cfg, &err) < 0)
        return NULL;
    memset(s, 0, sizeof(*s));
    lcb_ngsi_dry_run(n, see, s);
    return n;
}

static void
test_dry_run_upsert_batches(void)
{
    struct lcb_ngsi_write_result res;
    struct lcb_json *ents = entities(250);
    struct seen s;
    struct lcb_ngsi *n = dry_client("q", &s);
    struct lcb_err err;
    const char *want = "POST http://127.0.0.1:1026/ngsi-ld/v1/entityOperations/upsert"
                       "?options=replace  NGSILD-Tenant: q  Content-Type: application/json  "
                       "100 entities, ";

    memset(&res, 0, sizeof(res));
    CHECK(n != NULL && lcb_ngsi_is_dry_run(n));
    CHECK_INT(lcb_ngsi_write(n, LCB_NGSI_UPSERT, ents, 100, 0, &res, &err), 0);
    CHECK_INT(res.written, 0); /* nothing was written */
    CHECK_INT(res.nfailed, 0);
    CHECK_INT(s.n, 3);
    CHECK_INT(s.items[0], 100);
    CHECK_INT(s.items[1], 100);
    CHECK_INT(s.items[2], 50);
    CHECK_STR(s.first[1], "urn:e:100");
    CHECK_STR(s.last[1], "urn:e:199");
    CHECK_STR(s.last[2], "urn:e:249");
    CHECK(strncmp(lcb_buf_str(&s.lines), want, strlen(want)) == 0);
    CHECK(strstr(lcb_buf_str(&s.lines), ": urn:e:000 .. urn:e:099\n") != NULL);
    CHECK(strstr(lcb_buf_str(&s.lines), "hunter2") == NULL); /* no credentials */
    CHECK(strstr(lcb_buf_str(&s.lines), "Accept") == NULL);
    lcb_ngsi_free(n);
    lcb_json_free(ents);
    lcb_buf_release(&s.lines);
}

/* The byte limit cuts batches as in a real run: each body within it, the ids in order. */
static void
test_dry_run_byte_limit(void)
{
    struct lcb_ngsi_write_result res;
    struct lcb_json *ents = entities(25);
    struct seen s;
    struct lcb_ngsi *n = dry_client(NULL, &s);
    struct lcb_err err;
    struct lcb_buf one = LCB_BUF_INIT;
    size_t per, total = 0;
    int i;

    lcb_json_print(&one, lcb_json_child(ents), 0);
    per = one.len;
    memset(&res, 0, sizeof(res));
    /* room for 4 entities and their commas and brackets, not 5 */
    CHECK_INT(lcb_ngsi_write(n, LCB_NGSI_CREATE_ONLY, ents, 100, 4 * (per + 1) + 2, &res, &err), 0);
    CHECK_INT(s.n, 7);
    for (i = 0; i < s.n && i < 16; i++) {
        CHECK(s.bytes[i] <= 4 * (per + 1) + 2);
        total += s.items[i];
    }
    CHECK_INT(total, 25);
    CHECK_INT(s.items[0], 4);
    CHECK_INT(s.bytes[0], 4 * per + 3 + 2);
    CHECK_STR(s.first[6], "urn:e:024");
    /* the default tenant: no tenant header */
    CHECK(strstr(lcb_buf_str(&s.lines), "/entityOperations/create  Content-Type: "
                                        "application/json  4 entities") != NULL);
    CHECK(strstr(lcb_buf_str(&s.lines), "NGSILD-Tenant") == NULL);
    lcb_ngsi_free(n);
    lcb_json_free(ents);
    lcb_buf_release(&one);
    lcb_buf_release(&s.lines);
}

/* replace: the delete of the page's ids first, then the creates */
static void
test_dry_run_replace(void)
{
    struct lcb_ngsi_write_result res;
    struct lcb_json *ents = entities(150);
    struct seen s;
    struct lcb_ngsi *n = dry_client("t", &s);
    struct lcb_err err;

    memset(&res, 0, sizeof(res));
    CHECK_INT(lcb_ngsi_write(n, LCB_NGSI_REPLACE, ents, 100, 0, &res, &err), 0);
    CHECK_INT(s.n, 3);
    CHECK_INT(s.items[0], 150);
    CHECK_STR(s.last[0], "urn:e:149");
    CHECK(strncmp(lcb_buf_str(&s.lines), "POST http://127.0.0.1:1026/ngsi-ld/v1/entityOperations/"
                  "delete  NGSILD-Tenant: t  Content-Type: application/json  150 ids, ", 96) == 0);
    CHECK(strstr(lcb_buf_str(&s.lines), "/entityOperations/create  NGSILD-Tenant: t  Content-Type: "
                                        "application/json  50 entities") != NULL);
    CHECK_INT(s.items[1] + s.items[2], 150);
    CHECK_INT(res.written, 0);
    lcb_ngsi_free(n);
    lcb_json_free(ents);
    lcb_buf_release(&s.lines);
}

static void
test_request_format_redacts(void)
{
    struct lcb_http_header h[2] = { { "Authorization", "Bearer s3cr3t" },
                                    { "Link", "<https://ctx>; rel=\"x\"" } };
    struct lcb_ngsi_request r = { "POST", "https://b/ngsi-ld/v1/entityOperations/delete", h, 2,
                                  "ids", 0, 2, "", "" };
    struct lcb_buf out = LCB_BUF_INIT;

    lcb_ngsi_request_format(&out, &r);
    CHECK_STR(lcb_buf_str(&out), "POST https://b/ngsi-ld/v1/entityOperations/delete  "
                                 "Authorization: (redacted)  Link: <https://ctx>; rel=\"x\"  "
                                 "0 ids, 2 bytes");
    CHECK_STR(lcb_ngsi_request_header(&r, "link"), "<https://ctx>; rel=\"x\"");
    CHECK(lcb_ngsi_request_header(&r, "NGSILD-Tenant") == NULL);
    lcb_buf_release(&out);
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
    RUN(test_dry_run_upsert_batches);
    RUN(test_dry_run_byte_limit);
    RUN(test_dry_run_replace);
    RUN(test_request_format_redacts);
    return harness_done();
}
