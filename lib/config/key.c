/* key.c - a config archive's data key; see key.h. */
#include "key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/kms.h"
#include "../core/mem.h"
#include "../ext/crypto.h"

#define CONTEXT_KEY "lcbackup:archive"

void
lcb_config_key_init(struct lcb_config_key *k)
{
    memset(k, 0, sizeof(*k));
}

void
lcb_config_key_release(struct lcb_config_key *k)
{
    lcb_secret_release(&k->key);
    lcb_buf_release(&k->wrapped);
    free(k->archive_id);
    lcb_config_key_init(k);
}

int
lcb_config_key_generate(struct lcb_config_key *k, struct lcb_aws *aws, const char *kms_key,
                        const char *archive_id, struct lcb_err *err)
{
    struct lcb_kms_data_key dk;
    struct lcb_aws_kv ctx = { CONTEXT_KEY, archive_id };
    int rc = -1;

    lcb_kms_data_key_init(&dk);
    if (lcb_kms_generate_data_key(&dk, aws, kms_key, LCB_ENVELOPE_KEY_LEN, &ctx, 1, err) < 0) {
        lcb_wrap(err, "data key from KMS key %s", kms_key);
        goto out;
    }
    lcb_envelope_secret_bytes(&k->key, dk.plaintext.ptr, dk.plaintext.len);
    if (lcb_envelope_key_check(k->check, &k->key, err) < 0)
        goto out;
    lcb_buf_reset(&k->wrapped);
    lcb_buf_add(&k->wrapped, dk.ciphertext.ptr, dk.ciphertext.len);
    snprintf(k->kms_arn, sizeof(k->kms_arn), "%s", dk.key_arn[0] ? dk.key_arn : kms_key);
    free(k->archive_id);
    k->archive_id = lcb_xstrdup(archive_id);
    k->source = "kms";
    rc = 0;
out:
    lcb_kms_data_key_release(&dk);
    return rc;
}

int
lcb_config_key_file(struct lcb_config_key *k, const char *path, struct lcb_err *err)
{
    if (lcb_envelope_key_load(&k->key, path, err) < 0 ||
        lcb_envelope_key_check(k->check, &k->key, err) < 0)
        return -1;
    k->source = "key-file";
    return 0;
}

struct lcb_json *
lcb_config_key_manifest(const struct lcb_config_key *k)
{
    struct lcb_json *o = lcb_json_new_object(), *ctx;
    struct lcb_buf b64 = LCB_BUF_INIT;

    lcb_json_add_str(o, "algorithm", "AES-256-GCM");
    lcb_json_add_str(o, "format", "lcbenc:v1");
    lcb_json_add_str(o, "source", k->source ? k->source : "none");
    if (k->source && strcmp(k->source, "kms") == 0) {
        lcb_json_add_str(o, "kms_key", k->kms_arn);
        lcb_base64_encode(&b64, k->wrapped.ptr, k->wrapped.len);
        lcb_json_add_str(o, "wrapped_key", lcb_buf_str(&b64));
        ctx = lcb_json_add(o, "context", lcb_json_new_object());
        lcb_json_add_str(ctx, CONTEXT_KEY, k->archive_id ? k->archive_id : "");
    }
    lcb_json_add_str(o, "key_check", k->check);
    lcb_buf_release(&b64);
    return o;
}

static int
check_matches(const struct lcb_config_key *k, const char *want, const char *what,
              struct lcb_err *err)
{
    if (!want || strlen(want) != LCB_ENVELOPE_CHECK_HEX - 1)
        return lcb_err_set(err, LCB_ECORRUPT, "manifest: extra.encryption.key_check: not %d hex "
                           "digits", LCB_ENVELOPE_CHECK_HEX - 1);
    if (strcmp(k->check, want) != 0)
        return lcb_err_set(err, LCB_EAUTH, "wrong key: %s has check value %s, the archive was "
                           "encrypted with the key whose check value is %s", what, k->check, want);
    return 0;
}

static int
open_kms(struct lcb_config_key *k, struct lcb_aws *aws, const struct lcb_json *enc,
         struct lcb_err *err)
{
    const char *wrapped = lcb_json_get_str(enc, "wrapped_key");
    const char *id = lcb_json_get_str(lcb_json_get(enc, "context"), CONTEXT_KEY);
    struct lcb_aws_kv ctx = { CONTEXT_KEY, id };
    struct lcb_buf blob = LCB_BUF_INIT;
    int rc = -1;

    if (!wrapped || !id || lcb_base64_decode(&blob, wrapped, strlen(wrapped)) < 0 ||
        blob.len == 0) {
        lcb_err_set(err, LCB_ECORRUPT, "manifest: extra.encryption: no usable wrapped_key or "
                    "context");
        goto out;
    }
    if (lcb_kms_decrypt(&k->key, NULL, aws, NULL, blob.ptr, blob.len, &ctx, 1, err) < 0) {
        lcb_wrap(err, "unwrap the archive's data key with KMS");
        goto out;
    }
    if (k->key.len != LCB_ENVELOPE_KEY_LEN) {
        lcb_err_set(err, LCB_ECORRUPT, "the archive's data key is %zu bytes, not %d", k->key.len,
                    LCB_ENVELOPE_KEY_LEN);
        goto out;
    }
    if (lcb_envelope_key_check(k->check, &k->key, err) < 0 ||
        check_matches(k, lcb_json_get_str(enc, "key_check"), "the key KMS unwrapped", err) < 0)
        goto out;
    k->source = "kms";
    rc = 0;
out:
    lcb_buf_release(&blob);
    return rc;
}

int
lcb_config_key_open(struct lcb_config_key *k, struct lcb_aws *aws,
                    const struct lcb_json *encryption, const char *key_file, struct lcb_err *err)
{
    const char *source = lcb_json_get_str(encryption, "source");

    if (!encryption)
        return 0;
    if (lcb_json_type(encryption) != LCB_JSON_OBJECT || !source)
        return lcb_err_set(err, LCB_ECORRUPT, "manifest: extra.encryption: not an object with "
                           "a source");
    if (key_file) {
        if (lcb_config_key_file(k, key_file, err) < 0)
            return -1;
        return check_matches(k, lcb_json_get_str(encryption, "key_check"), key_file, err);
    }
    if (strcmp(source, "key-file") == 0)
        return lcb_err_set(err, LCB_ECONFIG, "the archive was encrypted with a key file: give "
                           "it with --key-file");
    if (strcmp(source, "kms") == 0)
        return open_kms(k, aws, encryption, err);
    return lcb_err_set(err, LCB_ECORRUPT, "manifest: extra.encryption.source: '%.40s' is not "
                       "kms or key-file", source);
}
