/* kms.c - KMS over JSON 1.1; see kms.h. */
#include "kms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "../ext/crypto.h"
#include "../ext/json.h"
#include "jsonrpc.h"

#define KMS_MAX_PLAINTEXT 4096

void
lcb_kms_data_key_init(struct lcb_kms_data_key *k)
{
    memset(k, 0, sizeof(*k));
    lcb_buf_init(&k->ciphertext, 0);
}

void
lcb_kms_data_key_release(struct lcb_kms_data_key *k)
{
    lcb_secret_release(&k->plaintext);
    lcb_buf_release(&k->ciphertext);
    lcb_kms_data_key_init(k);
}

/* Keep raw key bytes in a secret. lcb_secret_set() copies a C string (it stops at the first NUL, and
 * a data key may hold any byte), so the bytes are copied here; binary keys are not registered for
 * redaction, since they are never printed as text. */
static void
secret_set_bytes(struct lcb_secret *s, const void *data, size_t len)
{
    lcb_secret_release(s);
    s->ptr = lcb_xmalloc(len + 1);
    memcpy(s->ptr, data, len);
    s->ptr[len] = '\0';
    s->len = len;
}

static void
add_b64(struct lcb_json *obj, const char *name, const void *data, size_t len)
{
    struct lcb_buf b = LCB_BUF_INIT;

    lcb_base64_encode(&b, data, len);
    lcb_json_add_str(obj, name, lcb_buf_str(&b));
    lcb_wipe(b.ptr, b.len); /* may be a plaintext key */
    lcb_buf_release(&b);
}

static void
add_context(struct lcb_json *obj, const struct lcb_aws_kv *context, size_t n)
{
    struct lcb_json *ctx;
    size_t i;

    if (!n)
        return;
    ctx = lcb_json_add(obj, "EncryptionContext", lcb_json_new_object());
    for (i = 0; i < n; i++)
        lcb_json_add_str(ctx, context[i].name, context[i].value ? context[i].value : "");
}

/* Decode the base64 member name of answer into out (replaced). */
static int
get_b64(struct lcb_buf *out, const struct lcb_json *answer, const char *name, const char *op,
        struct lcb_err *err)
{
    const char *s = lcb_json_get_str(answer, name);

    lcb_buf_reset(out);
    if (!s || lcb_base64_decode(out, s, strlen(s)) < 0 || out->len == 0)
        return lcb_err_set(err, LCB_ECORRUPT, "kms %s answer without a valid %s", op, name);
    return 0;
}

static void
copy_field(char *dst, size_t size, const struct lcb_json *j, const char *name)
{
    const char *s = lcb_json_get_str(j, name);

    snprintf(dst, size, "%s", s ? s : "");
}

int
lcb_kms_generate_data_key(struct lcb_kms_data_key *out, struct lcb_aws *aws, const char *key_id,
                          size_t nbytes, const struct lcb_aws_kv *context, size_t ncontext,
                          struct lcb_err *err)
{
    struct lcb_json *in, *answer = NULL;
    struct lcb_buf plain = LCB_BUF_INIT;
    int rc = -1;

    if (nbytes < 1 || nbytes > 1024)
        return lcb_err_set(err, LCB_EUSAGE, "a data key of %zu bytes (1..1024)", nbytes);
    in = lcb_json_new_object();
    lcb_json_add_str(in, "KeyId", key_id);
    if (nbytes == 32 || nbytes == 16)
        lcb_json_add_str(in, "KeySpec", nbytes == 32 ? "AES_256" : "AES_128");
    else
        lcb_json_add_num(in, "NumberOfBytes", (double)nbytes);
    add_context(in, context, ncontext);
    if (lcb_jsonrpc_call(&answer, aws, &lcb_jsonrpc_kms, "GenerateDataKey", in, NULL, err) < 0)
        goto out;
    if (get_b64(&plain, answer, "Plaintext", "GenerateDataKey", err) < 0 ||
        get_b64(&out->ciphertext, answer, "CiphertextBlob", "GenerateDataKey", err) < 0)
        goto out;
    if (plain.len != nbytes) {
        lcb_err_set(err, LCB_ECORRUPT, "kms GenerateDataKey gave %zu bytes, not %zu", plain.len,
                    nbytes);
        goto out;
    }
    secret_set_bytes(&out->plaintext, plain.ptr, plain.len);
    copy_field(out->key_arn, sizeof(out->key_arn), answer, "KeyId");
    rc = 0;
out:
    if (plain.ptr)
        lcb_wipe(plain.ptr, plain.cap);
    lcb_buf_release(&plain);
    /* the answer's base64 Plaintext is key material too */
    if (answer && lcb_json_get_str(answer, "Plaintext"))
        lcb_wipe((void *)lcb_json_get_str(answer, "Plaintext"),
                 strlen(lcb_json_get_str(answer, "Plaintext")));
    lcb_json_free(answer);
    lcb_json_free(in);
    return rc;
}

int
lcb_kms_encrypt(struct lcb_buf *ciphertext, struct lcb_aws *aws, const char *key_id,
                const void *plaintext, size_t len, const struct lcb_aws_kv *context,
                size_t ncontext, struct lcb_err *err)
{
    struct lcb_json *in, *answer = NULL;
    int rc = -1;

    if (len < 1 || len > KMS_MAX_PLAINTEXT)
        return lcb_err_set(err, LCB_EUSAGE, "kms Encrypt takes 1..%d bytes, not %zu",
                           KMS_MAX_PLAINTEXT, len);
    in = lcb_json_new_object();
    lcb_json_add_str(in, "KeyId", key_id);
    add_b64(in, "Plaintext", plaintext, len);
    add_context(in, context, ncontext);
    if (lcb_jsonrpc_call(&answer, aws, &lcb_jsonrpc_kms, "Encrypt", in, NULL, err) == 0)
        rc = get_b64(ciphertext, answer, "CiphertextBlob", "Encrypt", err);
    lcb_json_free(answer);
    /* the request held the plaintext in base64 */
    if (lcb_json_get_str(in, "Plaintext"))
        lcb_wipe((void *)lcb_json_get_str(in, "Plaintext"), strlen(lcb_json_get_str(in, "Plaintext")));
    lcb_json_free(in);
    return rc;
}

int
lcb_kms_decrypt(struct lcb_secret *plaintext, struct lcb_buf *key_arn, struct lcb_aws *aws,
                const char *key_id, const void *blob, size_t len,
                const struct lcb_aws_kv *context, size_t ncontext, struct lcb_err *err)
{
    struct lcb_json *in, *answer = NULL;
    struct lcb_buf plain = LCB_BUF_INIT;
    const char *s;
    int rc = -1;

    in = lcb_json_new_object();
    add_b64(in, "CiphertextBlob", blob, len);
    if (key_id)
        lcb_json_add_str(in, "KeyId", key_id);
    add_context(in, context, ncontext);
    if (lcb_jsonrpc_call(&answer, aws, &lcb_jsonrpc_kms, "Decrypt", in, NULL, err) < 0) {
        /* a tampered blob or a wrong context is our data's fault, not the service's */
        if (strcmp(err->aws_code, "InvalidCiphertextException") == 0)
            err->code = LCB_ECORRUPT;
        goto out;
    }
    if (get_b64(&plain, answer, "Plaintext", "Decrypt", err) < 0)
        goto out;
    secret_set_bytes(plaintext, plain.ptr, plain.len);
    if (key_arn) {
        lcb_buf_reset(key_arn);
        lcb_buf_adds(key_arn, (s = lcb_json_get_str(answer, "KeyId")) ? s : "");
    }
    rc = 0;
out:
    if (plain.ptr)
        lcb_wipe(plain.ptr, plain.cap);
    lcb_buf_release(&plain);
    if (answer && (s = lcb_json_get_str(answer, "Plaintext")))
        lcb_wipe((void *)s, strlen(s));
    lcb_json_free(answer);
    lcb_json_free(in);
    return rc;
}

int
lcb_kms_describe_key(struct lcb_kms_key *out, struct lcb_aws *aws, const char *key_id,
                     struct lcb_err *err)
{
    struct lcb_json *in, *answer = NULL, *md;
    int rc = -1;

    in = lcb_json_new_object();
    lcb_json_add_str(in, "KeyId", key_id);
    if (lcb_jsonrpc_call(&answer, aws, &lcb_jsonrpc_kms, "DescribeKey", in, NULL, err) < 0)
        goto out;
    md = lcb_json_get(answer, "KeyMetadata");
    if (!md || !lcb_json_get_str(md, "Arn")) {
        lcb_err_set(err, LCB_ECORRUPT, "kms DescribeKey answer without KeyMetadata");
        goto out;
    }
    memset(out, 0, sizeof(*out));
    copy_field(out->arn, sizeof(out->arn), md, "Arn");
    copy_field(out->key_id, sizeof(out->key_id), md, "KeyId");
    copy_field(out->state, sizeof(out->state), md, "KeyState");
    copy_field(out->usage, sizeof(out->usage), md, "KeyUsage");
    copy_field(out->spec, sizeof(out->spec), md, "KeySpec");
    copy_field(out->manager, sizeof(out->manager), md, "KeyManager");
    out->enabled = lcb_json_bool(lcb_json_get(md, "Enabled"), 0);
    out->created = (time_t)lcb_json_get_num(md, "CreationDate", 0);
    rc = 0;
out:
    lcb_json_free(answer);
    lcb_json_free(in);
    return rc;
}
