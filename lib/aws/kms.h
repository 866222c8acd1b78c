/*
 * kms.h - AWS KMS over JSON 1.1 (TrentService): data keys for envelope encryption of archives,
 * Encrypt/Decrypt of small secrets, and DescribeKey to check a policy's key before a run.
 *
 * Binary values (plaintext keys, ciphertext blobs) are raw bytes here; the base64 of the wire stays
 * inside kms.c. A plaintext data key lives in a struct lcb_secret (ptr/len hold the raw bytes, any
 * byte value, NUL-terminated after len; wiped on release; not registered for redaction, since raw
 * key bytes are never printed as text). An encryption context is a list of name/value pairs (struct lcb_aws_kv); the same
 * pairs must be given to Decrypt.
 *
 * Ownership: struct lcb_kms_data_key and struct lcb_kms_key are caller-owned (_init/_release);
 * output buffers and secrets are the caller's.
 */
#ifndef LCB_AWS_KMS_H
#define LCB_AWS_KMS_H

#include <stddef.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/secret.h"
#include "aws.h"

struct lcb_kms_data_key {
    struct lcb_secret plaintext; /* the raw key (len bytes) */
    struct lcb_buf ciphertext;   /* the raw CiphertextBlob: store it next to the data */
    char key_arn[256];           /* the ARN of the KMS key that wrapped it */
};

void lcb_kms_data_key_init(struct lcb_kms_data_key *k);
void lcb_kms_data_key_release(struct lcb_kms_data_key *k);

/* GenerateDataKey: nbytes 32 asks KeySpec AES_256, 16 AES_128, else NumberOfBytes (1..1024).
 * key_id: a key id, key ARN, alias name or alias ARN. Returns 0, or -1: LCB_ENOTFOUND
 * (NotFoundException), LCB_EAUTH (AccessDeniedException), LCB_EREFUSED (DisabledException,
 * KMSInvalidStateException), LCB_ETEMP, LCB_ECORRUPT (a bad answer), LCB_EUSAGE (bad nbytes). */
int lcb_kms_generate_data_key(struct lcb_kms_data_key *out, struct lcb_aws *aws, const char *key_id,
                              size_t nbytes, const struct lcb_aws_kv *context, size_t ncontext,
                              struct lcb_err *err);

/* Encrypt up to 4096 bytes under key_id; the raw CiphertextBlob replaces ciphertext's content.
 * Returns 0, or -1 as lcb_kms_generate_data_key (LCB_EUSAGE: more than 4096 bytes). */
int lcb_kms_encrypt(struct lcb_buf *ciphertext, struct lcb_aws *aws, const char *key_id,
                    const void *plaintext, size_t len, const struct lcb_aws_kv *context,
                    size_t ncontext, struct lcb_err *err);

/* Decrypt a raw CiphertextBlob into plaintext (replaced). key_id may be NULL (symmetric keys name
 * themselves in the blob); key_arn, when not NULL, receives the key's ARN. Returns 0, or -1:
 * LCB_ECORRUPT (InvalidCiphertextException: tampered blob or wrong context), LCB_EREFUSED
 * (IncorrectKeyException, DisabledException), LCB_EAUTH, LCB_ENOTFOUND, LCB_ETEMP. */
int lcb_kms_decrypt(struct lcb_secret *plaintext, struct lcb_buf *key_arn, struct lcb_aws *aws,
                    const char *key_id, const void *blob, size_t len,
                    const struct lcb_aws_kv *context, size_t ncontext, struct lcb_err *err);

struct lcb_kms_key {
    char arn[256];
    char key_id[128];
    char state[40];   /* "Enabled", "Disabled", "PendingDeletion", ... */
    char usage[40];   /* "ENCRYPT_DECRYPT" */
    char spec[40];    /* "SYMMETRIC_DEFAULT" */
    char manager[16]; /* "CUSTOMER" or "AWS" */
    int enabled;
    time_t created;   /* CreationDate (epoch seconds); 0 when absent */
};

/* DescribeKey. Returns 0, or -1: LCB_ENOTFOUND (NotFoundException), LCB_EAUTH, LCB_ETEMP,
 * LCB_ECORRUPT (no KeyMetadata in the answer). */
int lcb_kms_describe_key(struct lcb_kms_key *out, struct lcb_aws *aws, const char *key_id,
                         struct lcb_err *err);

#endif
