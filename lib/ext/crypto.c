/* crypto.c - see crypto.h. The only file that includes an OpenSSL header. */
#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "../core/secret.h"

struct lcb_sha256 {
    EVP_MD_CTX *ctx;
};

struct lcb_md5 {
    EVP_MD_CTX *ctx;
};

/* The digests fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up again on every
 * use, which costs more than hashing an entity id (0.17 s against 0.08 s for 200k ids). */
static EVP_MD *sha256_md, *md5_md;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void
fetch_digests(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
    if (!sha256_md || !md5_md)
        abort(); /* both are in OpenSSL's default provider */
}

static const EVP_MD *
md_sha256(void)
{
    pthread_once(&fetch_once, fetch_digests);
    return sha256_md;
}

static const EVP_MD *
md_md5(void)
{
    pthread_once(&fetch_once, fetch_digests);
    return md5_md;
}

static void
digest(const EVP_MD *md, const void *data, size_t len, unsigned char *out)
{
    unsigned int n = 0;

    if (!EVP_Digest(data, len, out, &n, md, NULL))
        abort(); /* only fails on out-of-memory inside OpenSSL */
}

void
lcb_sha256(const void *data, size_t len, unsigned char out[LCB_SHA256_LEN])
{
    digest(md_sha256(), data, len, out);
}

char *
lcb_sha256_hex(const void *data, size_t len, char out[LCB_SHA256_HEX])
{
    unsigned char d[LCB_SHA256_LEN];

    lcb_sha256(data, len, d);
    return lcb_hex(d, sizeof(d), out);
}

void
lcb_md5(const void *data, size_t len, unsigned char out[LCB_MD5_LEN])
{
    digest(md_md5(), data, len, out);
}

void
lcb_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                unsigned char out[LCB_SHA256_LEN])
{
    unsigned int n = LCB_SHA256_LEN;

    if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n))
        abort();
}

/* The incremental digests: one context, reset after each final so it can be reused. */
static EVP_MD_CTX *
ctx_new(const EVP_MD *md)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL))
        abort(); /* only fails on out-of-memory inside OpenSSL */
    return ctx;
}

static void
ctx_update(EVP_MD_CTX *ctx, const void *data, size_t len)
{
    if (len && !EVP_DigestUpdate(ctx, data, len))
        abort();
}

static void
ctx_final(EVP_MD_CTX *ctx, const EVP_MD *md, unsigned char *out)
{
    unsigned int n = 0;

    if (!EVP_DigestFinal_ex(ctx, out, &n) || !EVP_DigestInit_ex(ctx, md, NULL))
        abort();
}

struct lcb_sha256 *
lcb_sha256_new(void)
{
    struct lcb_sha256 *c = lcb_xcalloc(1, sizeof(*c));

    c->ctx = ctx_new(md_sha256());
    return c;
}

void
lcb_sha256_update(struct lcb_sha256 *c, const void *data, size_t len)
{
    ctx_update(c->ctx, data, len);
}

void
lcb_sha256_final(struct lcb_sha256 *c, unsigned char out[LCB_SHA256_LEN])
{
    ctx_final(c->ctx, md_sha256(), out);
}

void
lcb_sha256_free(struct lcb_sha256 *c)
{
    if (!c)
        return;
    EVP_MD_CTX_free(c->ctx);
    free(c);
}

struct lcb_md5 *
lcb_md5_new(void)
{
    struct lcb_md5 *c = lcb_xcalloc(1, sizeof(*c));

    c->ctx = ctx_new(md_md5());
    return c;
}

void
lcb_md5_update(struct lcb_md5 *c, const void *data, size_t len)
{
    ctx_update(c->ctx, data, len);
}

void
lcb_md5_final(struct lcb_md5 *c, unsigned char out[LCB_MD5_LEN])
{
    ctx_final(c->ctx, md_md5(), out);
}

void
lcb_md5_free(struct lcb_md5 *c)
{
    if (!c)
        return;
    EVP_MD_CTX_free(c->ctx);
    free(c);
}

/* CRC32C, reflected polynomial 0x82F63B78, one table built on first use. */
static uint32_t crc32c_table[256];
static int crc32c_ready;

static void
crc32c_init(void)
{
    uint32_t i, j, c;

    for (i = 0; i < 256; i++) {
        c = i;
        for (j = 0; j < 8; j++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc32c_table[i] = c;
    }
    crc32c_ready = 1;
}

uint32_t
lcb_crc32c(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;

    if (!crc32c_ready)
        crc32c_init();
    crc = ~crc;
    while (len--)
        crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

char *
lcb_hex(const unsigned char *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
    return out;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
lcb_base64_encode(struct lcb_buf *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;
    char q[4];

    for (i = 0; i + 2 < len; i += 3) {
        q[0] = b64[p[i] >> 2];
        q[1] = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        q[2] = b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
        q[3] = b64[p[i + 2] & 63];
        lcb_buf_add(out, q, 4);
    }
    if (len - i == 1) {
        q[0] = b64[p[i] >> 2];
        q[1] = b64[(p[i] & 3) << 4];
        q[2] = q[3] = '=';
        lcb_buf_add(out, q, 4);
    } else if (len - i == 2) {
        q[0] = b64[p[i] >> 2];
        q[1] = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        q[2] = b64[(p[i + 1] & 15) << 2];
        q[3] = '=';
        lcb_buf_add(out, q, 4);
    }
}

static int
b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;

    return p ? (int)(p - b64) : -1;
}

int
lcb_base64_decode(struct lcb_buf *out, const char *s, size_t len)
{
    size_t i, start = out->len;
    uint32_t acc = 0;
    int bits = 0, pad = 0, v;
    unsigned char byte;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad || (v = b64_value(c)) < 0)
            goto bad;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            byte = (unsigned char)(acc >> bits);
            if (lcb_buf_add(out, &byte, 1) < 0)
                goto bad;
        }
    }
    if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
        goto bad;
    return 0;
bad:
    out->len = start;
    if (out->ptr)
        out->ptr[start] = '\0';
    return -1;
}

int
lcb_random(void *out, size_t len, struct lcb_err *err)
{
    if (RAND_bytes(out, (int)len) != 1)
        return lcb_err_set(err, LCB_EINTERNAL, "the random number generator failed");
    return 0;
}

int
lcb_memeq_ct(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) != 0;
}

static int
gcm_run(int enc, struct lcb_buf *out, unsigned char *tag, const unsigned char *key,
        const unsigned char *iv, const void *aad, size_t aad_len, const void *in, size_t len)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    size_t start = out->len;
    int n = 0, ok = 0;

    if (!c)
        abort();
    if (lcb_buf_grow(out, len + 16) < 0)
        goto done;
    if (!EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, LCB_GCM_IV_LEN, NULL) ||
        !EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc))
        goto done;
    if (aad && aad_len && !EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len))
        goto done;
    if (len && !EVP_CipherUpdate(c, (unsigned char *)out->ptr + start, &n, in, (int)len))
        goto done;
    if (!enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, LCB_GCM_TAG_LEN, tag))
        goto done;
    if (!EVP_CipherFinal_ex(c, (unsigned char *)out->ptr + start + len, &n))
        goto done;
    if (enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, LCB_GCM_TAG_LEN, tag))
        goto done;
    out->len = start + len;
    out->ptr[out->len] = '\0';
    ok = 1;
done:
    if (!ok && out->ptr) {
        lcb_wipe(out->ptr + start, out->cap > start ? out->cap - start : 0);
        out->len = start;
        out->ptr[start] = '\0';
    }
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int
lcb_aes_gcm_encrypt(struct lcb_buf *out, unsigned char tag[LCB_GCM_TAG_LEN],
                    const unsigned char key[LCB_GCM_KEY_LEN], const unsigned char iv[LCB_GCM_IV_LEN],
                    const void *aad, size_t aad_len, const void *in, size_t len,
                    struct lcb_err *err)
{
    if (gcm_run(1, out, tag, key, iv, aad, aad_len, in, len) < 0)
        return lcb_err_set(err, LCB_EINTERNAL, "AES-256-GCM encryption failed");
    return 0;
}

int
lcb_aes_gcm_decrypt(struct lcb_buf *out, const unsigned char key[LCB_GCM_KEY_LEN],
                    const unsigned char iv[LCB_GCM_IV_LEN], const void *aad, size_t aad_len,
                    const void *in, size_t len, const unsigned char tag[LCB_GCM_TAG_LEN],
                    struct lcb_err *err)
{
    unsigned char t[LCB_GCM_TAG_LEN];

    memcpy(t, tag, sizeof(t));
    if (gcm_run(0, out, t, key, iv, aad, aad_len, in, len) < 0)
        return lcb_err_set(err, LCB_ECORRUPT,
                           "decryption failed: wrong key or the data was altered");
    return 0;
}

const char *
lcb_crypto_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}
