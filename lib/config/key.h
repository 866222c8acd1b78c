/*
 * key.h - the data key that encrypts a config archive's SecureString values (envelope.h).
 *
 * One key per archive: a KMS GenerateDataKey plaintext (the policy's storage.kms_key, with the
 * encryption context {"lcbackup:archive": <backup id>}), or a 32-byte --key-file (mode 0600).
 * The manifest's extra.encryption block records how to get it back without revealing it:
 *
 *   {"algorithm": "AES-256-GCM", "format": "lcbenc:v1", "source": "kms" | "key-file",
 *    "kms_key": "<key ARN>", "wrapped_key": "<base64 CiphertextBlob>",
 *    "context": {"lcbackup:archive": "<id>"}, "key_check": "<32 hex digits>"}
 *
 * Ownership: struct lcb_config_key is caller-owned (_init/_release); release wipes the key.
 */
#ifndef LCB_CONFIG_KEY_H
#define LCB_CONFIG_KEY_H

#include "../archive/envelope.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/secret.h"
#include "../ext/json.h"

struct lcb_aws;

struct lcb_config_key {
    struct lcb_secret key;              /* 32 raw bytes */
    char check[LCB_ENVELOPE_CHECK_HEX]; /* its key check value */
    const char *source;                 /* "kms" or "key-file" */
    char kms_arn[256];
    struct lcb_buf wrapped;             /* the raw CiphertextBlob (kms) */
    char *archive_id;                   /* the encryption context's value (kms) */
};

void lcb_config_key_init(struct lcb_config_key *k);
void lcb_config_key_release(struct lcb_config_key *k);

/* A fresh data key from KMS GenerateDataKey (AES_256) under kms_key, bound to archive_id by the
 * encryption context. Returns 0, or -1 (kms.h's codes: LCB_ENOTFOUND, LCB_EAUTH, ...). */
int lcb_config_key_generate(struct lcb_config_key *k, struct lcb_aws *aws, const char *kms_key,
                            const char *archive_id, struct lcb_err *err);
/* The key in a --key-file (envelope.h's rules: regular, mode 0600, exactly 32 bytes). Returns 0,
 * or -1 (LCB_ECONFIG). */
int lcb_config_key_file(struct lcb_config_key *k, const char *path, struct lcb_err *err);
/* The manifest's encryption block for k (the caller owns it). */
struct lcb_json *lcb_config_key_manifest(const struct lcb_config_key *k);

/* Get an archive's key back from its encryption block (NULL: the archive holds no encrypted
 * value; k stays empty and 0 is returned). key_file, when given, is used whatever the source,
 * and must be the archive's key. Returns 0, or -1: LCB_EAUTH (a key file whose check value is not
 * the archive's: the wrong key; KMS refusing access), LCB_ECORRUPT (a damaged block, or KMS
 * InvalidCiphertextException: the wrapped key or its context was altered), LCB_ECONFIG (a
 * key-file archive and no --key-file), kms.h's other codes. */
int lcb_config_key_open(struct lcb_config_key *k, struct lcb_aws *aws,
                        const struct lcb_json *encryption, const char *key_file,
                        struct lcb_err *err);

#endif
