/* crypto_test.c - known answers for lib/ext/crypto.c (FIPS 180, RFC 4231, RFC 4648, RFC 3720,
 * the GCM specification's test cases 13 and 14). */
#include "../../lib/ext/crypto.h"

#include <stdlib.h>

#include "harness.h"

static void
test_sha256(void)
{
    char hex[LCB_SHA256_HEX];
    struct lcb_sha256 *c = lcb_sha256_new();
    unsigned char d[LCB_SHA256_LEN];

    CHECK_STR(lcb_sha256_hex("abc", 3, hex),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_STR(lcb_sha256_hex("", 0, hex),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    lcb_sha256_update(c, "a", 1);
    lcb_sha256_update(c, "bc", 2);
    lcb_sha256_final(c, d);
    CHECK_STR(lcb_hex(d, sizeof(d), hex),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* the context is reusable after final */
    lcb_sha256_final(c, d);
    CHECK_STR(lcb_hex(d, sizeof(d), hex),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    lcb_sha256_free(c);
    lcb_sha256_free(NULL);
}

/* RFC 1321's "message digest" case, fed in pieces; reusable after final like the SHA-256 one */
static void
test_md5_incremental(void)
{
    struct lcb_md5 *c = lcb_md5_new();
    unsigned char d[LCB_MD5_LEN];
    char hex[2 * LCB_MD5_LEN + 1];

    lcb_md5_update(c, "message ", 8);
    lcb_md5_update(c, "", 0);
    lcb_md5_update(c, "digest", 6);
    lcb_md5_final(c, d);
    CHECK_STR(lcb_hex(d, sizeof(d), hex), "f96b697d7cb7938d525a2f31aaf161d0");
    lcb_md5_final(c, d);
    CHECK_STR(lcb_hex(d, sizeof(d), hex), "d41d8cd98f00b204e9800998ecf8427e");
    lcb_md5_free(c);
    lcb_md5_free(NULL);
}

static void
test_hmac_md5(void)
{
    unsigned char d[LCB_SHA256_LEN], m[LCB_MD5_LEN];
    char hex[LCB_SHA256_HEX];
    struct lcb_buf b = LCB_BUF_INIT;

    lcb_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
    CHECK_STR(lcb_hex(d, sizeof(d), hex),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    lcb_md5("", 0, m);
    CHECK_STR(lcb_hex(m, sizeof(m), hex), "d41d8cd98f00b204e9800998ecf8427e");
    lcb_base64_encode(&b, m, sizeof(m));
    CHECK_STR(lcb_buf_str(&b), "1B2M2Y8AsgTpgAmY7PhCfg==");
    lcb_buf_release(&b);
}

static void
test_crc32c(void)
{
    CHECK_INT(lcb_crc32c(0, "123456789", 9), 0xE3069283u);
    /* incremental equals one-shot */
    CHECK_INT(lcb_crc32c(lcb_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
    CHECK_INT(lcb_crc32c(0, "", 0), 0);
}

static void
test_base64(void)
{
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                       "Zm9vYmFy" };
    struct lcb_buf b = LCB_BUF_INIT;
    size_t i;

    for (i = 0; i < 7; i++) {
        lcb_buf_reset(&b);
        lcb_base64_encode(&b, plain[i], strlen(plain[i]));
        CHECK_STR(lcb_buf_str(&b), enc[i]);
        lcb_buf_reset(&b);
        CHECK_INT(lcb_base64_decode(&b, enc[i], strlen(enc[i])), 0);
        CHECK_STR(lcb_buf_str(&b), plain[i]);
    }
    lcb_buf_reset(&b);
    CHECK_INT(lcb_base64_decode(&b, "Zm9v\nYmFy", 9), 0);
    CHECK_STR(lcb_buf_str(&b), "foobar");
    lcb_buf_reset(&b);
    CHECK_INT(lcb_base64_decode(&b, "Zm9v!", 5), -1);
    CHECK_INT(lcb_base64_decode(&b, "Zg=a", 4), -1);
    CHECK_INT((int)b.len, 0);
    lcb_buf_release(&b);
}

static void
test_gcm(void)
{
    unsigned char key[32] = { 0 }, iv[12] = { 0 }, zero[16] = { 0 }, tag[16];
    char hex[65];
    struct lcb_buf ct = LCB_BUF_INIT, pt = LCB_BUF_INIT;
    struct lcb_err err;

    CHECK_INT(lcb_aes_gcm_encrypt(&ct, tag, key, iv, NULL, 0, "", 0, &err), 0);
    CHECK_STR(lcb_hex(tag, 16, hex), "530f8afbc74536b9a963b4f1c4cb738b");
    lcb_buf_reset(&ct);
    CHECK_INT(lcb_aes_gcm_encrypt(&ct, tag, key, iv, NULL, 0, zero, 16, &err), 0);
    CHECK_STR(lcb_hex((unsigned char *)ct.ptr, ct.len, hex), "cea7403d4d606b6e074ec5d3baf39d18");
    CHECK_STR(lcb_hex(tag, 16, hex), "d0d1c8a799996bf0265b98b5d48ab919");
    CHECK_INT(lcb_aes_gcm_decrypt(&pt, key, iv, NULL, 0, ct.ptr, ct.len, tag, &err), 0);
    CHECK(pt.len == 16 && memcmp(pt.ptr, zero, 16) == 0);
    /* a flipped bit fails authentication and leaves out untouched */
    lcb_buf_reset(&pt);
    ct.ptr[3] ^= 1;
    CHECK_INT(lcb_aes_gcm_decrypt(&pt, key, iv, NULL, 0, ct.ptr, ct.len, tag, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK_INT((int)pt.len, 0);
    /* with additional data: the same AAD round-trips, another fails */
    lcb_buf_reset(&ct);
    CHECK_INT(lcb_aes_gcm_encrypt(&ct, tag, key, iv, "hdr", 3, "secret data", 11, &err), 0);
    CHECK_INT(lcb_aes_gcm_decrypt(&pt, key, iv, "hdr", 3, ct.ptr, ct.len, tag, &err), 0);
    CHECK_STR(lcb_buf_str(&pt), "secret data");
    lcb_buf_reset(&pt);
    CHECK_INT(lcb_aes_gcm_decrypt(&pt, key, iv, "hdx", 3, ct.ptr, ct.len, tag, &err), -1);
    lcb_buf_release(&ct);
    lcb_buf_release(&pt);
}

static void
test_random(void)
{
    unsigned char a[32], b[32];
    struct lcb_err err;

    CHECK_INT(lcb_random(a, sizeof(a), &err), 0);
    CHECK_INT(lcb_random(b, sizeof(b), &err), 0);
    CHECK(lcb_memeq_ct(a, b, sizeof(a)) != 0);
    CHECK(lcb_memeq_ct(a, a, sizeof(a)) == 0);
    CHECK(strlen(lcb_crypto_version()) > 0);
}

int
main(void)
{
    RUN(test_sha256);
    RUN(test_md5_incremental);
    RUN(test_hmac_md5);
    RUN(test_crc32c);
    RUN(test_base64);
    RUN(test_gcm);
    RUN(test_random);
    return harness_done();
}
