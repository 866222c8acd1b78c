/* fuzz_secrets.c - secretsmanager/secrets.json of a config archive (lib/config/secrets.h) on
 * arbitrary bytes, decrypted with a fixed key: no crash, no leak, a refusal always says why; what
 * is accepted diffs and plans against an empty live side (every field and step exercised) and
 * writes back to JSON that parses again to the same JSON. The corpus holds a secrets.json of the
 * simulator's seed written with --key-file of 32 bytes 0x42. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/archive/envelope.h"
#include "../../lib/config/secrets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
must_say_why(const struct lcb_err *err)
{
    if (err->msg[0] == '\0')
        abort();
}

static void
exercise(const struct lcb_config *c, const struct lcb_secret *key)
{
    struct lcb_config empty, again;
    struct lcb_config_diff d;
    struct lcb_secret_plan p;
    struct lcb_buf a = LCB_BUF_INIT, calls = LCB_BUF_INIT;
    struct lcb_err err;
    size_t i;

    lcb_config_init(&empty);
    lcb_config_init(&again);
    lcb_config_diff_init(&d);
    lcb_config_secrets_diff(&d, c, &empty, 1);
    lcb_config_secrets_diff(&d, &empty, c, 0);
    lcb_secret_plan_init(&p);
    if (lcb_secret_plan_build(&p, c, &empty, NULL, &err) < 0)
        abort(); /* no --name: nothing to refuse */
    for (i = 0; i < p.n; i++)
        lcb_secret_step_calls(&calls, &p.steps[i]);
    if (lcb_config_secrets_json(&a, c, key, &err) < 0)
        abort(); /* a key is given: every value can be written */
    if (lcb_config_secrets_parse(&again, a.ptr, a.len, key, NULL, &err) < 0)
        abort(); /* what we write, we read */
    if (lcb_config_secrets_values(&again) != lcb_config_secrets_values(c) ||
        again.nsecrets != c->nsecrets)
        abort();
    lcb_secret_plan_release(&p);
    lcb_config_diff_release(&d);
    lcb_config_release(&empty);
    lcb_config_release(&again);
    lcb_buf_release(&a);
    lcb_buf_release(&calls);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lcb_secret key = LCB_SECRET_INIT;
    struct lcb_config c;
    struct lcb_err err;
    unsigned char raw[LCB_ENVELOPE_KEY_LEN];

    memset(raw, 0x42, sizeof(raw));
    lcb_envelope_secret_bytes(&key, raw, sizeof(raw));
    lcb_config_init(&c);
    lcb_err_clear(&err);
    if (lcb_config_secrets_parse(&c, (const char *)data, size, &key, NULL, &err) < 0)
        must_say_why(&err);
    else
        exercise(&c, &key);
    lcb_config_release(&c);
    lcb_secret_release(&key);
    return 0;
}
