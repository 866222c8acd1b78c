/* config_codec_test.c - config archives (lib/config/codec.c, key.c): parameters.json with
 * encrypted SecureStrings, tampering and wrong keys refused, whole archives written and read
 * back with their services and task definitions. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/archive/envelope.h"
#include "../../lib/config/config.h"
#include "../../lib/config/key.h"
#include "../../lib/ext/crypto.h"
#include "harness.h"

#define SECRET "correct-horse-battery-staple"

static void
make_key(struct lcb_secret *k, unsigned char fill)
{
    unsigned char raw[32];

    memset(raw, fill, sizeof(raw));
    lcb_envelope_secret_bytes(k, raw, sizeof(raw));
}

static void
sample(struct lcb_config *c)
{
    struct lcb_config_param *p;

    lcb_strlist_add(&c->paths, "/legocity/dev/");
    p = lcb_config_param_add(c, "/legocity/dev/db");
    p->type = strdup("SecureString");
    lcb_config_param_set_value(p, SECRET, strlen(SECRET));
    p->key_id = strdup("alias/aws/ssm");
    p->tier = strdup("Advanced");
    p->version = 4;
    p->policies = strdup("[{\"PolicyText\":\"{}\",\"PolicyType\":\"Expiration\"}]");
    lcb_config_param_tag(p, "Project", "legocity");
    p = lcb_config_param_add(c, "/legocity/dev/list");
    p->type = strdup("StringList");
    lcb_config_param_set_value(p, "a,b,c", 5);
    p->description = strdup("a list");
    p->allowed_pattern = strdup("^[a-z,]+$");
    p->data_type = strdup("text");
}

static void
test_params_round_trip(void)
{
    struct lcb_config c, back;
    struct lcb_secret key = LCB_SECRET_INIT;
    struct lcb_buf text = LCB_BUF_INIT;
    char check[LCB_ENVELOPE_CHECK_HEX];
    const struct lcb_config_param *p;
    struct lcb_err err;

    lcb_config_init(&c);
    lcb_config_init(&back);
    sample(&c);
    make_key(&key, 0x11);
    lcb_envelope_key_check(check, &key, &err);
    CHECK_INT(lcb_config_params_json(&text, &c, &key, &err), 0);
    CHECK(strstr(text.ptr, SECRET) == NULL);
    CHECK(strstr(text.ptr, "\"Value\": \"lcbenc:v1:") != NULL);
    CHECK(strstr(text.ptr, "\"Value\": \"a,b,c\"") != NULL);
    CHECK_INT(lcb_config_params_parse(&back, text.ptr, text.len, &key, check, &err), 0);
    CHECK_INT(back.nparams, 2);
    p = lcb_config_param_find(&back, "/legocity/dev/db");
    CHECK(p && lcb_config_param_secure(p));
    CHECK_STR(lcb_config_param_value(p), SECRET);
    CHECK_STR(p->key_id, "alias/aws/ssm");
    CHECK_STR(p->tier, "Advanced");
    CHECK_INT(p->version, 4);
    CHECK_STR(lcb_config_param_tag_get(p, "Project"), "legocity");
    CHECK(p->policies && strstr(p->policies, "Expiration"));
    p = lcb_config_param_find(&back, "/legocity/dev/list");
    CHECK_STR(lcb_config_param_value(p), "a,b,c");
    CHECK_STR(p->allowed_pattern, "^[a-z,]+$");
    /* without a key there is nothing to encrypt with */
    lcb_buf_reset(&text);
    CHECK_INT(lcb_config_params_json(&text, &c, NULL, &err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    lcb_buf_release(&text);
    lcb_secret_release(&key);
    lcb_config_release(&c);
    lcb_config_release(&back);
}

/* Parse text with key and the check value of check_key; return the error code (0: parsed). */
static int
parse_code(const char *text, const struct lcb_secret *key, const struct lcb_secret *check_key,
           struct lcb_err *err)
{
    struct lcb_config c;
    char check[LCB_ENVELOPE_CHECK_HEX];
    int rc;

    lcb_config_init(&c);
    if (check_key)
        lcb_envelope_key_check(check, check_key, err);
    rc = lcb_config_params_parse(&c, text, strlen(text), key, check_key ? check : NULL, err);
    lcb_config_release(&c);
    return rc == 0 ? 0 : (int)err->code;
}

static void
test_tamper_and_wrong_key(void)
{
    struct lcb_config c;
    struct lcb_secret key = LCB_SECRET_INIT, other = LCB_SECRET_INIT;
    struct lcb_buf text = LCB_BUF_INIT;
    struct lcb_err err;
    char *v, *swapped;

    lcb_config_init(&c);
    sample(&c);
    make_key(&key, 0x11);
    make_key(&other, 0x22);
    lcb_config_params_json(&text, &c, &key, &err);
    CHECK_INT(parse_code(text.ptr, &key, &key, &err), 0);
    /* the wrong key, known to be wrong by its check value: 77 */
    CHECK_INT(parse_code(text.ptr, &other, &key, &err), LCB_EAUTH);
    CHECK(strstr(err.msg, "wrong key") != NULL);
    /* the wrong key with no check value: the GCM tag fails: 65 */
    CHECK_INT(parse_code(text.ptr, &other, NULL, &err), LCB_ECORRUPT);
    /* one character of the ciphertext changed: 65, and the message never holds the value */
    v = strstr(text.ptr, "lcbenc:v1:") + 14;
    *v = *v == 'A' ? 'B' : 'A';
    CHECK_INT(parse_code(text.ptr, &key, &key, &err), LCB_ECORRUPT);
    CHECK(strstr(err.msg, "authentication failed") != NULL || strstr(err.msg, "malformed"));
    CHECK(strstr(err.msg, SECRET) == NULL);
    *v = *v == 'A' ? 'B' : 'A';
    /* a value moved to another name fails too (the name is GCM associated data) */
    swapped = strdup(text.ptr);
    memcpy(strstr(swapped, "/legocity/dev/db"), "/legocity/dev/xx", 16);
    CHECK_INT(parse_code(swapped, &key, &key, &err), LCB_ECORRUPT);
    free(swapped);
    /* a SecureString in clear is not an archive lcbackup wrote */
    CHECK_INT(parse_code("[{\"Name\":\"/a\",\"Type\":\"SecureString\",\"Value\":\"plain\"}]", &key,
                         NULL, &err),
              LCB_ECORRUPT);
    /* an encrypted value and no key: 78 */
    CHECK_INT(parse_code(text.ptr, NULL, NULL, &err), LCB_ECONFIG);
    lcb_buf_release(&text);
    lcb_secret_release(&key);
    lcb_secret_release(&other);
    lcb_config_release(&c);
}

static void
test_malformed_params(void)
{
    struct lcb_err err;

    CHECK_INT(parse_code("{}", NULL, NULL, &err), LCB_ECORRUPT);
    CHECK_INT(
        parse_code("[{\"Name\":\"/a\",\"Type\":\"Number\",\"Value\":\"1\"}]", NULL, NULL, &err),
        LCB_ECORRUPT);
    CHECK_STR(err.msg, "ssm/parameters.json: [0].Type: not String, StringList or SecureString");
    CHECK_INT(parse_code("[{\"Name\":\"/a\",\"Type\":\"String\",\"Value\":\"1\"},"
                         "{\"Name\":\"/a\",\"Type\":\"String\",\"Value\":\"2\"}]",
                         NULL, NULL, &err),
              LCB_ECORRUPT);
    CHECK(strstr(err.msg, "[1].Name: a duplicate name") != NULL);
    CHECK_INT(
        parse_code("[{\"Name\":\"/a\",\"Type\":\"String\",\"Value\":\"1\",\"Tags\":[{\"Key\":1}]}]",
                   NULL, NULL, &err),
        LCB_ECORRUPT);
    CHECK_INT(parse_code("[{\"Name\":\"/a\",\"Type\":\"String\"}]", NULL, NULL, &err),
              LCB_ECORRUPT);
    CHECK_INT(parse_code("[{\"Name\":\"/a\",\"Type\":\"String\",\"Value\":\"1\",\"Tier\":5}]", NULL,
                         NULL, &err),
              LCB_ECORRUPT);
    CHECK_INT(parse_code("[]", NULL, NULL, &err), 0);
}

static int
buf_sink(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    (void)err;
    return lcb_buf_add(ud, data, len);
}

static struct lcb_json *
js(const char *text)
{
    struct lcb_json *j = NULL;
    struct lcb_err err;

    lcb_json_parse(&j, text, strlen(text), &err);
    return j;
}

static void
build_archive(struct lcb_buf *out, const struct lcb_secret *key)
{
    struct lcb_config c;
    struct lcb_archive_writer *w = NULL;
    struct lcb_manifest m;
    struct lcb_err err;

    lcb_config_init(&c);
    sample(&c);
    lcb_strlist_add(&c.clusters, "legocity-cluster");
    lcb_config_taskdef_add(&c, js("{\"taskDefinition\":{\"taskDefinitionArn\":\"arn:aws:ecs:r:1:"
                                  "task-definition/web:3\",\"family\":\"web\",\"revision\":3},"
                                  "\"tags\":[]}"));
    lcb_config_service_add(&c, "legocity-cluster", "web",
                           js("{\"serviceName\":\"web\",\"taskDefinition\":\"arn:aws:ecs:r:1:"
                              "task-definition/web:3\"}"));
    lcb_manifest_init(&m, "config");
    lcb_config_manifest_fill(&m, &c);
    CHECK_INT(lcb_archive_writer_new(&w, buf_sink, out, 0, 0, &err), 0);
    CHECK_INT(lcb_config_archive_add(w, &c, key, &err), 0);
    CHECK_INT(lcb_archive_writer_finish(w, &m, NULL, &err), 0);
    lcb_archive_writer_free(w);
    lcb_manifest_release(&m);
    lcb_config_release(&c);
}

static void
test_archive_round_trip(void)
{
    struct lcb_secret key = LCB_SECRET_INIT;
    struct lcb_buf arc = LCB_BUF_INIT;
    struct lcb_config_archive a;
    struct lcb_config_mem_source src;
    struct lcb_config back;
    struct lcb_err err;
    char check[LCB_ENVELOPE_CHECK_HEX];

    make_key(&key, 0x33);
    lcb_envelope_key_check(check, &key, &err);
    build_archive(&arc, &key);
    CHECK(memmem(arc.ptr, arc.len, SECRET, strlen(SECRET)) == NULL);
    lcb_config_archive_init(&a);
    memset(&src, 0, sizeof(src));
    src.data = arc.ptr;
    src.len = arc.len;
    CHECK_INT(lcb_config_archive_read(&a, lcb_config_mem_source, &src, &err), 0);
    CHECK_INT(a.n, 3);
    CHECK(lcb_config_archive_entry(&a, "ssm/parameters.json") != NULL);
    CHECK(lcb_config_archive_entry(&a, "ecs/legocity-cluster/services/web.json") != NULL);
    CHECK(lcb_config_archive_entry(&a, "ecs/task-definitions/web-3.json") != NULL);
    CHECK_INT(lcb_manifest_count_get(&a.manifest, "ssm-parameters"), 2);
    lcb_config_init(&back);
    CHECK_INT(lcb_config_archive_load(&back, &a, &key, check, &err), 0);
    CHECK_INT(back.nparams, 2);
    CHECK_INT(back.nservices, 1);
    CHECK_INT(back.ntaskdefs, 1);
    CHECK_STR(back.paths.items[0], "/legocity/dev/");
    CHECK_STR(back.clusters.items[0], "legocity-cluster");
    CHECK(lcb_config_service_taskdef(&back, &back.services[0]) == &back.taskdefs[0]);
    CHECK_STR(lcb_config_param_value(lcb_config_param_find(&back, "/legocity/dev/db")), SECRET);
    lcb_config_release(&back);
    lcb_config_archive_release(&a);
    /* one flipped byte anywhere in the object: refused as corrupt (zstd or an entry's sha256) */
    arc.ptr[arc.len / 2] ^= 0x01;
    lcb_config_archive_init(&a);
    src.pos = 0;
    CHECK_INT(lcb_config_archive_read(&a, lcb_config_mem_source, &src, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_config_archive_release(&a);
    lcb_buf_release(&arc);
    lcb_secret_release(&key);
}

static void
test_key_file_and_block(void)
{
    char path[] = "/tmp/lcb-config-key-XXXXXX";
    unsigned char raw[32];
    struct lcb_config_key k, back;
    struct lcb_json *block;
    struct lcb_err err;
    int fd = mkstemp(path);

    memset(raw, 0x44, sizeof(raw));
    CHECK(fd >= 0 && write(fd, raw, sizeof(raw)) == (ssize_t)sizeof(raw));
    close(fd);
    lcb_config_key_init(&k);
    chmod(path, 0644);
    CHECK_INT(lcb_config_key_file(&k, path, &err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    chmod(path, 0600);
    CHECK_INT(lcb_config_key_file(&k, path, &err), 0);
    block = lcb_config_key_manifest(&k);
    CHECK_STR(lcb_json_get_str(block, "source"), "key-file");
    CHECK_STR(lcb_json_get_str(block, "algorithm"), "AES-256-GCM");
    CHECK(lcb_json_get(block, "wrapped_key") == NULL);
    CHECK_STR(lcb_json_get_str(block, "key_check"), k.check);
    /* the right file opens it, no file is a configuration error, another key is refused */
    lcb_config_key_init(&back);
    CHECK_INT(lcb_config_key_open(&back, NULL, block, path, &err), 0);
    lcb_config_key_release(&back);
    CHECK_INT(lcb_config_key_open(&back, NULL, block, NULL, &err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    lcb_json_set(block, "key_check", lcb_json_new_str("00000000000000000000000000000000"));
    CHECK_INT(lcb_config_key_open(&back, NULL, block, path, &err), -1);
    CHECK_INT(err.code, LCB_EAUTH);
    lcb_config_key_release(&back);
    CHECK_INT(lcb_config_key_open(&back, NULL, NULL, NULL, &err), 0);
    CHECK(back.source == NULL);
    lcb_json_free(block);
    lcb_config_key_release(&k);
    unlink(path);
}

static void
test_helpers(void)
{
    char fam[64];

    CHECK(lcb_config_under("/a/b/c", "/a/b/"));
    CHECK(lcb_config_under("/a/b/c", "/a/b"));
    CHECK(!lcb_config_under("/a/bc", "/a/b"));
    CHECK(lcb_config_under("/x", "/"));
    lcb_config_family_of("arn:aws:ecs:eu-west-1:1:task-definition/legocity-broker:12", fam,
                         sizeof(fam));
    CHECK_STR(fam, "legocity-broker");
    lcb_config_family_of("web:3", fam, sizeof(fam));
    CHECK_STR(fam, "web");
}

int
main(void)
{
    RUN(test_params_round_trip);
    RUN(test_tamper_and_wrong_key);
    RUN(test_malformed_params);
    RUN(test_archive_round_trip);
    RUN(test_key_file_and_block);
    RUN(test_helpers);
    return harness_done();
}
