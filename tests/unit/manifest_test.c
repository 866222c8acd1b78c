/* manifest_test.c - lib/archive/manifest.c: the MANIFEST.json text for a pinned manifest, parse
 * round trips, credential stripping, entry-name encoding, lookups, and every refusal of the
 * parser naming its field. */
#include "../../lib/archive/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/version.h"
#include "../../lib/ext/json.h"
#include "harness.h"

#define SHA_A "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_B "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
build(struct lcb_manifest *m)
{
    struct lcb_err err;

    lcb_manifest_init(m, "broker");
    lcb_manifest_set_source(m, "http://admin:hunter2@127.0.0.1:1026/ngsi-ld/v1?token=abc#x");
    lcb_manifest_set_tenant(m, "legocity");
    lcb_manifest_set_context(m, "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld");
    m->started = 1764331200; /* 2025-11-28T12:00:00Z */
    m->ended = 1764331267;
    lcb_manifest_count_add(m, "Building", 2);
    lcb_manifest_count_add(m, "Vehicle", 1);
    lcb_manifest_count_add(m, "Building", 1);
    lcb_manifest_set_ids(m, SHA_B, 4, &err);
    lcb_manifest_entry_add(m, "entities/Building/000001.json", 1234, SHA_A, 3, &err);
    lcb_manifest_entry_add(m, "entities/Vehicle/000001.json", 0, SHA_B, 1, &err);
    lcb_manifest_entry_add(m, "notes.txt", 3, SHA_A, -1, &err);
    lcb_manifest_discrepancy_add(m, "vanished", "urn:ngsi-ld:Vehicle:9", "deleted during export");
    lcb_json_add_str(lcb_manifest_extra(m), "broker", "orion-ld 1.6.0");
}

static void
test_write(void)
{
    struct lcb_manifest m;
    struct lcb_buf out = LCB_BUF_INIT, want = LCB_BUF_INIT;

    build(&m);
    lcb_manifest_write(&m, &out);
    lcb_buf_addf(&want,
                 "{\n"
                 "  \"format\": 1,\n"
                 "  \"lcbackup\": \"%s\",\n"
                 "  \"kind\": \"broker\",\n"
                 "  \"source\": \"http://127.0.0.1:1026/ngsi-ld/v1\",\n"
                 "  \"tenant\": \"legocity\",\n"
                 "  \"@context\": \"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld\",\n"
                 "  \"started\": \"2025-11-28T12:00:00Z\",\n"
                 "  \"ended\": \"2025-11-28T12:01:07Z\",\n"
                 "  \"counts\": {\n"
                 "    \"Building\": 3,\n"
                 "    \"Vehicle\": 1\n"
                 "  },\n"
                 "  \"total\": 4,\n"
                 "  \"ids\": {\n"
                 "    \"algorithm\": \"sha256-sum\",\n"
                 "    \"count\": 4,\n"
                 "    \"digest\": \"" SHA_B "\"\n"
                 "  },\n"
                 "  \"entries\": [{\n"
                 "      \"name\": \"entities/Building/000001.json\",\n"
                 "      \"size\": 1234,\n"
                 "      \"sha256\": \"" SHA_A "\",\n"
                 "      \"items\": 3\n"
                 "    }, {\n"
                 "      \"name\": \"entities/Vehicle/000001.json\",\n"
                 "      \"size\": 0,\n"
                 "      \"sha256\": \"" SHA_B "\",\n"
                 "      \"items\": 1\n"
                 "    }, {\n"
                 "      \"name\": \"notes.txt\",\n"
                 "      \"size\": 3,\n"
                 "      \"sha256\": \"" SHA_A "\"\n"
                 "    }],\n"
                 "  \"discrepancies\": [{\n"
                 "      \"what\": \"vanished\",\n"
                 "      \"id\": \"urn:ngsi-ld:Vehicle:9\",\n"
                 "      \"detail\": \"deleted during export\"\n"
                 "    }],\n"
                 "  \"extra\": {\n"
                 "    \"broker\": \"orion-ld 1.6.0\"\n"
                 "  }\n"
                 "}\n",
                 lcb_version());
    CHECK_STR(lcb_buf_str(&out), lcb_buf_str(&want));
    CHECK(strstr(lcb_buf_str(&out), "hunter2") == NULL);
    CHECK(strstr(lcb_buf_str(&out), "token") == NULL);
    lcb_manifest_release(&m);
    lcb_buf_release(&out);
    lcb_buf_release(&want);
}

static void
test_parse_round_trip(void)
{
    struct lcb_manifest m, p;
    struct lcb_buf a = LCB_BUF_INIT, b = LCB_BUF_INIT;
    const struct lcb_manifest_entry *e;
    struct lcb_err err;

    build(&m);
    lcb_manifest_write(&m, &a);
    CHECK_INT(lcb_manifest_parse(&p, a.ptr, a.len, &err), 0);
    lcb_manifest_write(&p, &b);
    CHECK_STR(lcb_buf_str(&b), lcb_buf_str(&a));
    CHECK_STR(p.kind, "broker");
    CHECK_STR(p.tenant, "legocity");
    CHECK_INT(p.started, 1764331200);
    CHECK_INT(p.total, 4);
    CHECK_INT(lcb_manifest_count_get(&p, "Building"), 3);
    CHECK_INT(lcb_manifest_count_get(&p, "Bus"), -1);
    CHECK_INT(p.ids_count, 4);
    CHECK_INT(p.ndisc, 1);
    CHECK_STR(p.disc[0].id, "urn:ngsi-ld:Vehicle:9");
    CHECK_STR(lcb_json_get_str(p.extra, "broker"), "orion-ld 1.6.0");
    e = lcb_manifest_entry_find(&p, "notes.txt");
    CHECK(e && e->size == 3 && e->items == -1 && strcmp(e->sha256, SHA_A) == 0);
    CHECK(lcb_manifest_entry_find(&p, "missing") == NULL);
    lcb_manifest_release(&m);
    lcb_manifest_release(&p);
    lcb_buf_release(&a);
    lcb_buf_release(&b);
}

static void
test_source_stripping(void)
{
    static const char *const cases[][2] = {
        { "https://u:p@broker.example:1026/ngsi-ld", "https://broker.example:1026/ngsi-ld" },
        { "http://user@h/", "http://h/" },
        { "http://h:1026", "http://h:1026" },
        { "http://h/a?x=1", "http://h/a" },
        { "http://h/a#frag", "http://h/a" },
        { "http://h/p@th", "http://h/p@th" }, /* an '@' in the path is not userinfo */
        { "s3://bucket/key", "s3://bucket/key" },
        { "legocity-cluster", "legocity-cluster" },
        { "u:p@host", "host" },
    };
    struct lcb_manifest m;
    size_t i;

    lcb_manifest_init(&m, "config");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lcb_manifest_set_source(&m, cases[i][0]);
        CHECK_STR(m.source, cases[i][1]);
    }
    lcb_manifest_set_source(&m, NULL);
    CHECK(m.source == NULL);
    lcb_manifest_release(&m);
}

static void
test_names(void)
{
    struct lcb_buf b = LCB_BUF_INIT, d = LCB_BUF_INIT;

    lcb_manifest_name_encode(&b, "Building");
    CHECK_STR(lcb_buf_str(&b), "Building");
    lcb_buf_reset(&b);
    lcb_manifest_name_encode(&b, "https://uri.etsi.org/ngsi-ld/default-context/Off Street#1");
    CHECK_STR(lcb_buf_str(&b),
              "https%3A%2F%2Furi.etsi.org%2Fngsi-ld%2Fdefault-context%2FOff%20Street%231");
    CHECK_INT(lcb_manifest_name_decode(&d, b.ptr, b.len), 0);
    CHECK_STR(lcb_buf_str(&d), "https://uri.etsi.org/ngsi-ld/default-context/Off Street#1");
    lcb_buf_reset(&b);
    lcb_manifest_name_encode(&b, "..");
    CHECK_STR(lcb_buf_str(&b), "%2E.");
    lcb_buf_reset(&d);
    CHECK_INT(lcb_manifest_name_decode(&d, "%2", 2), -1);
    CHECK_INT(lcb_manifest_name_decode(&d, "%zz", 3), -1);
    lcb_buf_release(&b);
    lcb_buf_release(&d);
}

static void
test_entries(void)
{
    struct lcb_manifest m;
    struct lcb_err err;
    char name[32];
    int i, ok = 1;

    lcb_manifest_init(&m, "config");
    for (i = 0; i < 500; i++) { /* out of order, to exercise the index */
        snprintf(name, sizeof(name), "e/%03d", (i * 7919) % 500);
        if (lcb_manifest_entry_add(&m, name, (uint64_t)i, SHA_A, -1, &err) < 0)
            ok = 0;
        if (i == 250 && !lcb_manifest_entry_find(&m, name))
            ok = 0;
    }
    CHECK(ok);
    for (i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "e/%03d", i);
        if (!lcb_manifest_entry_find(&m, name))
            ok = 0;
    }
    CHECK(ok);
    CHECK_INT(lcb_manifest_entry_add(&m, "e/007", 1, SHA_A, -1, &err), -1);
    CHECK(strstr(err.msg, "added twice") != NULL);
    CHECK_INT(lcb_manifest_entry_add(&m, "MANIFEST.json", 1, SHA_A, -1, &err), -1);
    CHECK_INT(lcb_manifest_entry_add(&m, "../up", 1, SHA_A, -1, &err), -1);
    CHECK_INT(lcb_manifest_entry_add(&m, "x", 1, "ABC", -1, &err), -1);
    CHECK_INT(lcb_manifest_set_ids(&m, "xyz", 1, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    lcb_manifest_release(&m);
}

/* Parse text; expect a refusal whose message contains want. */
static void
refused(const char *text, const char *want)
{
    struct lcb_manifest m;
    struct lcb_err err;
    char line[LCB_ERR_MSG_LEN + 200];

    lcb_err_clear(&err);
    CHECK_INT(lcb_manifest_parse(&m, text, strlen(text), &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_err_format(&err, line, sizeof(line));
    if (!strstr(line, want))
        fprintf(stderr, "  got \"%s\", want \"%s\"\n", line, want);
    CHECK(strstr(line, want) != NULL);
    lcb_manifest_release(&m);
}

#define E1 "{\"name\":\"a.json\",\"size\":1,\"sha256\":\"" SHA_A "\"}"

static void
test_refusals(void)
{
    refused("", "manifest");
    refused("[]", "manifest: top level: not an object");
    refused("{\"kind\":\"broker\"}", "manifest: format: missing");
    refused("{\"format\":2,\"kind\":\"broker\",\"counts\":{},\"total\":0,\"entries\":[]}",
            "manifest: format: 2 is newer than this lcbackup reads (1): upgrade lcbackup");
    refused("{\"format\":1.5,\"kind\":\"b\"}", "manifest: format: not a non-negative integer");
    refused("{\"format\":1,\"counts\":{},\"total\":0,\"entries\":[]}", "manifest: kind: missing");
    refused("{\"format\":1,\"kind\":\"b\",\"total\":0,\"entries\":[]}", "manifest: counts: missing");
    refused("{\"format\":1,\"kind\":\"b\",\"counts\":{\"A\":-1},\"total\":0,\"entries\":[]}",
            "manifest: counts.A: not a non-negative integer");
    refused("{\"format\":1,\"kind\":\"b\",\"counts\":{\"A\":2},\"total\":3,\"entries\":[]}",
            "manifest: total: does not equal the sum of counts");
    refused("{\"format\":1,\"kind\":\"b\",\"counts\":{},\"total\":0}",
            "manifest: entries: missing");
    refused("{\"format\":1,\"kind\":\"b\",\"counts\":{},\"total\":0,\"entries\":[" E1 "," E1 "]}",
            "manifest: entries[1]: entry \"a.json\" added twice");
    refused("{\"format\":1,\"kind\":\"b\",\"counts\":{},\"total\":0,\"entries\":["
            "{\"name\":\"../a\",\"size\":1,\"sha256\":\"" SHA_A "\"}]}",
            "manifest: entries[0]: entry name \"../a\": \"..\" component");
    refused("{\"format\":1,\"kind\":\"b\",\"counts\":{},\"total\":0,\"entries\":["
            "{\"name\":\"a\",\"size\":1,\"sha256\":\"ABCD\"}]}",
            "manifest: entries[0]: sha256 is not 64 lower-case hex digits");
    refused("{\"format\":1,\"kind\":\"b\",\"counts\":{},\"total\":0,\"entries\":["
            "{\"name\":\"a\",\"sha256\":\"" SHA_A "\"}]}",
            "manifest: entries[0].size: missing");
    refused("{\"format\":1,\"kind\":\"b\",\"started\":\"yesterday\",\"counts\":{},\"total\":0,"
            "\"entries\":[]}",
            "manifest: started: not an RFC 3339 time");
    refused("{\"format\":1,\"kind\":\"b\",\"ended\":\"0983-11-28T13:00:00+01:00\",\"counts\":{},"
            "\"total\":0,\"entries\":[]}",
            "manifest: ended: out of range"); /* found by fuzz_manifest */
    refused("{\"format\":1,\"kind\":\"b\",\"counts\":{},\"total\":0,\"entries\":[],"
            "\"ids\":{\"algorithm\":\"md5\"}}",
            "manifest: ids.algorithm");
    refused("{\"format\":1,\"kind\":\"b\",\"counts\":{},\"total\":0,\"entries\":[],\"extra\":[]}",
            "manifest: extra: not an object");
}

int
main(void)
{
    RUN(test_write);
    RUN(test_parse_round_trip);
    RUN(test_source_stripping);
    RUN(test_names);
    RUN(test_entries);
    RUN(test_refusals);
    return harness_done();
}
