/* fuzz_config_archive.c - what a restore reads from a config archive, on arbitrary bytes: the
 * bytes as a whole archive (tar.zst, verified, then loaded and decrypted with a fixed key), and
 * as ssm/parameters.json. No crash, no leak, and every refusal says why. The corpus holds an
 * archive written with the key below (--key-file of 32 bytes 0x42). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/archive/envelope.h"
#include "../../lib/config/config.h"
#include "../../lib/config/diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
must_say_why(const struct lcb_err *err)
{
    if (err->msg[0] == '\0')
        abort();
}

static void
as_params(const uint8_t *data, size_t size, const struct lcb_secret *key, const char *check)
{
    struct lcb_config c, other;
    struct lcb_config_diff d;
    struct lcb_err err;

    lcb_config_init(&c);
    lcb_config_init(&other);
    lcb_err_clear(&err);
    if (lcb_config_params_parse(&c, (const char *)data, size, key, check, &err) < 0) {
        must_say_why(&err);
    } else {
        lcb_config_diff_init(&d);
        lcb_config_diff(&d, &c, &other, 0); /* everything "removed": exercises the fields */
        lcb_config_diff_release(&d);
    }
    lcb_config_release(&c);
    lcb_config_release(&other);
}

static void
as_archive(const uint8_t *data, size_t size, const struct lcb_secret *key, const char *check)
{
    struct lcb_config_archive a;
    struct lcb_config_mem_source src;
    struct lcb_config c;
    struct lcb_err err;

    lcb_config_archive_init(&a);
    lcb_config_init(&c);
    memset(&src, 0, sizeof(src));
    src.data = (const char *)data;
    src.len = size;
    lcb_err_clear(&err);
    if (lcb_config_archive_read(&a, lcb_config_mem_source, &src, &err) < 0)
        must_say_why(&err);
    else if (lcb_config_archive_load(&c, &a, key, check, &err) < 0)
        must_say_why(&err);
    lcb_config_release(&c);
    lcb_config_archive_release(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char raw[LCB_ENVELOPE_KEY_LEN];
    struct lcb_secret key = LCB_SECRET_INIT;
    char check[LCB_ENVELOPE_CHECK_HEX];
    struct lcb_err err;

    memset(raw, 0x42, sizeof(raw));
    lcb_envelope_secret_bytes(&key, raw, sizeof(raw));
    lcb_envelope_key_check(check, &key, &err);
    as_archive(data, size, &key, check);
    as_params(data, size, &key, check);
    lcb_secret_release(&key);
    return 0;
}
