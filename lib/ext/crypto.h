/*
 * crypto.h - hashes, MACs, encodings, random bytes and AES-256-GCM through OpenSSL, in lcbackup's own
 * types (crypto.c is the only file that includes an OpenSSL header).
 *
 * Digests come back as raw bytes in caller arrays; lcb_hex() and lcb_base64_encode() turn them into
 * text. The incremental SHA-256 context is heap-allocated (_new/_free) because OpenSSL's EVP_MD_CTX
 * is opaque.
 */
#ifndef LCB_EXT_CRYPTO_H
#define LCB_EXT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/err.h"

#define LCB_SHA256_LEN 32
#define LCB_SHA256_HEX 65 /* 64 hex digits + NUL */
#define LCB_MD5_LEN 16
#define LCB_GCM_KEY_LEN 32
#define LCB_GCM_IV_LEN 12
#define LCB_GCM_TAG_LEN 16

struct lcb_sha256;
struct lcb_md5;

/* One-shot digests. */
void lcb_sha256(const void *data, size_t len, unsigned char out[LCB_SHA256_LEN]);
/* Lower-case hex SHA-256 into out (LCB_SHA256_HEX bytes). Returns out. */
char *lcb_sha256_hex(const void *data, size_t len, char out[LCB_SHA256_HEX]);
void lcb_md5(const void *data, size_t len, unsigned char out[LCB_MD5_LEN]);
void lcb_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                     unsigned char out[LCB_SHA256_LEN]);

/* Incremental SHA-256 (archives, S3 parts read from files). */
struct lcb_sha256 *lcb_sha256_new(void);
void lcb_sha256_update(struct lcb_sha256 *c, const void *data, size_t len);
/* Finish; the context is reset and can be reused. */
void lcb_sha256_final(struct lcb_sha256 *c, unsigned char out[LCB_SHA256_LEN]);
void lcb_sha256_free(struct lcb_sha256 *c);

/* Incremental MD5 (Content-MD5 of S3 parts spooled to files), used as the SHA-256 one. */
struct lcb_md5 *lcb_md5_new(void);
void lcb_md5_update(struct lcb_md5 *c, const void *data, size_t len);
void lcb_md5_final(struct lcb_md5 *c, unsigned char out[LCB_MD5_LEN]);
void lcb_md5_free(struct lcb_md5 *c);

/* CRC32C (Castagnoli), as S3's x-amz-checksum-crc32c. Start with crc = 0. */
uint32_t lcb_crc32c(uint32_t crc, const void *data, size_t len);

/* Lower-case hex of len bytes into out (2*len+1 bytes). Returns out. */
char *lcb_hex(const unsigned char *data, size_t len, char *out);
/* Standard base64 with padding, appended to out. */
void lcb_base64_encode(struct lcb_buf *out, const void *data, size_t len);
/* Decode standard base64 (padding optional, white space ignored), appended to out. Returns 0, or -1
 * on malformed input. */
int lcb_base64_decode(struct lcb_buf *out, const char *s, size_t len);

/* Cryptographically secure random bytes. Returns 0, or -1 (LCB_EINTERNAL). */
int lcb_random(void *out, size_t len, struct lcb_err *err);
/* Constant-time comparison; 0 when equal. */
int lcb_memeq_ct(const void *a, const void *b, size_t len);

/* AES-256-GCM. Encrypt appends ciphertext (same length as the input) to out and writes the tag.
 * Decrypt appends plaintext and fails with LCB_ECORRUPT when the tag does not match (out is then
 * left as it was). aad may be NULL. */
int lcb_aes_gcm_encrypt(struct lcb_buf *out, unsigned char tag[LCB_GCM_TAG_LEN],
                        const unsigned char key[LCB_GCM_KEY_LEN],
                        const unsigned char iv[LCB_GCM_IV_LEN], const void *aad, size_t aad_len,
                        const void *in, size_t len, struct lcb_err *err);
int lcb_aes_gcm_decrypt(struct lcb_buf *out, const unsigned char key[LCB_GCM_KEY_LEN],
                        const unsigned char iv[LCB_GCM_IV_LEN], const void *aad, size_t aad_len,
                        const void *in, size_t len, const unsigned char tag[LCB_GCM_TAG_LEN],
                        struct lcb_err *err);

/* OpenSSL's version string, for `lcbackup version`. */
const char *lcb_crypto_version(void);

#endif
