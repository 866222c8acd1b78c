/* envelope_test.c - lib/archive/envelope.c: a known answer from an independent AES-GCM
 * (Python's cryptography), round trips, tampering, swapped names, wrong keys with and without the
 * key check, redaction of decrypted values, and the key-file rules (mode 0600, exactly 32 bytes). */
#include "../../lib/archive/envelope.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/ext/crypto.h"
#include "harness.h"

/* AESGCM(bytes(range(32))).encrypt(bytes(range(100, 112)), value, b"/legocity/prod/db/url") */
static const char known[] = "lcbenc:v1:ZGVmZ2hpamtsbW5vOHStEh6bM+0ETXCd4BZZnjDxcifbDcZH57XOcs6Xl"
                            "nq7hSM+UFiAwerL6TmSRSPFZuG7";
static const char known_value[] = "postgres://u:s3cr3t-Pa55@db:5432/lc";
static const char name[] = "/legocity/prod/db/url";

static void
key_of(struct lcb_secret *k, unsigned char base)
{
    unsigned char raw[32];
    size_t i;

    for (i = 0; i < 32; i++)
        raw[i] = (unsigned char)(base + i);
    lcb_envelope_secret_bytes(k, raw, sizeof(raw));
}

static void
test_known_answer(void)
{
    struct lcb_secret key = LCB_SECRET_INIT, plain = LCB_SECRET_INIT;
    struct lcb_err err;
    char check[LCB_ENVELOPE_CHECK_HEX];

    key_of(&key, 0);
    CHECK_INT(lcb_envelope_decrypt(&plain, &key, NULL, name, known, &err), 0);
    CHECK_INT(plain.len, strlen(known_value));
    CHECK_STR(lcb_secret_get(&plain), known_value);
    /* hmac.new(bytes(32), b"lcbackup envelope key check v1", sha256).hexdigest()[:32] */
    lcb_secret_release(&key);
    lcb_envelope_secret_bytes(&key, (const unsigned char[32]){ 0 }, 32);
    CHECK_INT(lcb_envelope_key_check(check, &key, &err), 0);
    CHECK_STR(check, "2b9f589c02b188fd021709a45b1d74d1");
    CHECK(lcb_envelope_is_encrypted(known));
    CHECK(!lcb_envelope_is_encrypted("plain"));
    CHECK(!lcb_envelope_is_encrypted(NULL));
    lcb_secret_release(&key);
    lcb_secret_release(&plain);
}

static void
test_round_trip(void)
{
    struct lcb_secret key = LCB_SECRET_INIT, plain = LCB_SECRET_INIT;
    struct lcb_buf a = LCB_BUF_INIT, b = LCB_BUF_INIT, raw = LCB_BUF_INIT;
    struct lcb_err err;
    char check[LCB_ENVELOPE_CHECK_HEX];

    CHECK_INT(lcb_envelope_key_generate(&key, &err), 0);
    CHECK_INT(key.len, 32);
    CHECK_INT(lcb_envelope_key_check(check, &key, &err), 0);
    CHECK_INT(lcb_envelope_encrypt(&a, &key, name, known_value, strlen(known_value), &err), 0);
    CHECK_INT(lcb_envelope_encrypt(&b, &key, name, known_value, strlen(known_value), &err), 0);
    CHECK(strncmp(lcb_buf_str(&a), "lcbenc:v1:", 10) == 0);
    CHECK(strcmp(lcb_buf_str(&a), lcb_buf_str(&b)) != 0); /* a fresh nonce each time */
    CHECK(strstr(lcb_buf_str(&a), "s3cr3t") == NULL);
    CHECK_INT(lcb_base64_decode(&raw, a.ptr + 10, a.len - 10), 0);
    CHECK_INT(raw.len, 12 + strlen(known_value) + 16);
    CHECK_INT(lcb_envelope_decrypt(&plain, &key, check, name, lcb_buf_str(&a), &err), 0);
    CHECK_STR(lcb_secret_get(&plain), known_value);
    CHECK_INT(lcb_envelope_decrypt(&plain, &key, NULL, name, lcb_buf_str(&b), &err), 0);
    CHECK_STR(lcb_secret_get(&plain), known_value);
    /* the empty value */
    lcb_buf_reset(&a);
    CHECK_INT(lcb_envelope_encrypt(&a, &key, name, "", 0, &err), 0);
    CHECK_INT(lcb_envelope_decrypt(&plain, &key, check, name, lcb_buf_str(&a), &err), 0);
    CHECK_INT(plain.len, 0);
    lcb_secret_release(&key);
    lcb_secret_release(&plain);
    lcb_buf_release(&a);
    lcb_buf_release(&b);
    lcb_buf_release(&raw);
}

static void
test_tamper(void)
{
    struct lcb_secret key = LCB_SECRET_INIT, plain = LCB_SECRET_INIT;
    struct lcb_err err;
    char bad[sizeof(known)], check[LCB_ENVELOPE_CHECK_HEX];
    size_t i, refused = 0, corrupt = 0;

    key_of(&key, 0);
    lcb_envelope_key_check(check, &key, &err);
    /* every base64 character changed (nonce, ciphertext, tag): refused as corrupt, never EAUTH */
    for (i = 10; i < strlen(known); i++) {
        memcpy(bad, known, sizeof(known));
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        if (lcb_envelope_decrypt(&plain, &key, check, name, bad, &err) < 0)
            refused++;
        if (err.code == LCB_ECORRUPT)
            corrupt++;
    }
    CHECK_INT(refused, strlen(known) - 10);
    CHECK_INT(corrupt, strlen(known) - 10);
    CHECK(lcb_secret_empty(&plain));
    CHECK(strstr(err.msg, "s3cr3t") == NULL);

    /* moved to another parameter: the name is the associated data */
    CHECK_INT(lcb_envelope_decrypt(&plain, &key, check, "/legocity/dev/db/url", known, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK_STR(err.msg, "\"/legocity/dev/db/url\": authentication failed: the value was altered "
                       "or moved from another name");
    /* truncated, not base64, not an envelope */
    CHECK_INT(lcb_envelope_decrypt(&plain, &key, NULL, name, "lcbenc:v1:ZGVm", &err), -1);
    CHECK(strstr(err.msg, "malformed") != NULL);
    CHECK_INT(lcb_envelope_decrypt(&plain, &key, NULL, name, "lcbenc:v1:***", &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK_INT(lcb_envelope_decrypt(&plain, &key, NULL, name, "hunter2", &err), -1);
    CHECK_STR(err.msg, "\"/legocity/prod/db/url\": not an lcbenc:v1 value");
    lcb_secret_release(&key);
    lcb_secret_release(&plain);
}

static void
test_wrong_key(void)
{
    struct lcb_secret key = LCB_SECRET_INIT, other = LCB_SECRET_INIT, plain = LCB_SECRET_INIT;
    struct lcb_err err;
    char check[LCB_ENVELOPE_CHECK_HEX];
    struct lcb_buf out = LCB_BUF_INIT;

    key_of(&key, 0);
    key_of(&other, 1);
    lcb_envelope_key_check(check, &key, &err);
    /* with the archive's key check: a wrong key is told apart (77) */
    CHECK_INT(lcb_envelope_decrypt(&plain, &other, check, name, known, &err), -1);
    CHECK_INT(err.code, LCB_EAUTH);
    CHECK(strstr(err.msg, "wrong key") != NULL);
    CHECK_INT(lcb_exit_status(err.code), 77);
    /* without it, GCM cannot tell: corrupt (65), and the message says both */
    CHECK_INT(lcb_envelope_decrypt(&plain, &other, NULL, name, known, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK(strstr(err.msg, "or the key is wrong") != NULL);
    CHECK_INT(lcb_exit_status(err.code), 65);
    /* a key of the wrong size is a usage error */
    lcb_envelope_secret_bytes(&other, "short", 5);
    CHECK_INT(lcb_envelope_encrypt(&out, &other, name, "x", 1, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_envelope_decrypt(&plain, &other, NULL, name, known, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    lcb_secret_release(&key);
    lcb_secret_release(&other);
    lcb_secret_release(&plain);
    lcb_buf_release(&out);
}

static void
test_redaction(void)
{
    struct lcb_secret key = LCB_SECRET_INIT, plain = LCB_SECRET_INIT;
    struct lcb_buf out = LCB_BUF_INIT, env = LCB_BUF_INIT;
    struct lcb_err err;

    key_of(&key, 7);
    CHECK_INT(lcb_envelope_encrypt(&env, &key, "/legocity/prod/api-token", "tok-9f8e7d6c5b4a", 16,
                                   &err), 0);
    CHECK_STR(lcb_redact_str(&out, "token tok-9f8e7d6c5b4a"), "token tok-9f8e7d6c5b4a");
    CHECK_INT(lcb_envelope_decrypt(&plain, &key, NULL, "/legocity/prod/api-token",
                                   lcb_buf_str(&env), &err), 0);
    /* once decrypted, the value can no longer reach a log line */
    CHECK_STR(lcb_redact_str(&out, "token tok-9f8e7d6c5b4a"), "token ***");
    lcb_secret_release(&plain); /* wiped and unregistered */
    CHECK_STR(lcb_redact_str(&out, "token tok-9f8e7d6c5b4a"), "token tok-9f8e7d6c5b4a");
    lcb_secret_release(&key);
    lcb_buf_release(&out);
    lcb_buf_release(&env);
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd >= 0) {
        if (write(fd, data, len) != (ssize_t)len)
            fprintf(stderr, "  short write to %s\n", path);
        fchmod(fd, mode);
        close(fd);
    }
}

static void
test_key_file(void)
{
    char dir[] = "/tmp/lcb-key-XXXXXX", path[256], link[256];
    unsigned char raw[33];
    struct lcb_secret key = LCB_SECRET_INIT, plain = LCB_SECRET_INIT;
    struct lcb_err err;
    size_t i;

    for (i = 0; i < sizeof(raw); i++)
        raw[i] = (unsigned char)i; /* the known answer's key; byte 0 is a NUL */
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/k.bin", dir);

    write_file(path, raw, 32, 0600);
    CHECK_INT(lcb_envelope_key_load(&key, path, &err), 0);
    CHECK_INT(key.len, 32);
    CHECK(memcmp(key.ptr, raw, 32) == 0);
    CHECK_INT(lcb_envelope_decrypt(&plain, &key, NULL, name, known, &err), 0);
    CHECK_STR(lcb_secret_get(&plain), known_value);
    snprintf(link, sizeof(link), "%s/link.bin", dir); /* a symbolic link to it: followed */
    CHECK_INT(symlink(path, link), 0);
    CHECK_INT(lcb_envelope_key_load(&key, link, &err), 0);

    write_file(path, raw, 32, 0644);
    CHECK_INT(lcb_envelope_key_load(&key, path, &err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    CHECK(strstr(err.msg, "has mode 0644: it must be 0600 (chmod 600 ") != NULL);
    write_file(path, raw, 32, 0400);
    CHECK_INT(lcb_envelope_key_load(&key, path, &err), -1);
    CHECK(strstr(err.msg, "has mode 0400") != NULL);
    write_file(path, raw, 31, 0600);
    CHECK_INT(lcb_envelope_key_load(&key, path, &err), -1);
    CHECK(strstr(err.msg, "holds 31 bytes: it must hold exactly 32 raw bytes") != NULL);
    write_file(path, raw, 33, 0600);
    CHECK_INT(lcb_envelope_key_load(&key, path, &err), -1);
    CHECK(strstr(err.msg, "holds 33 bytes") != NULL);
    CHECK_INT(lcb_envelope_key_load(&key, dir, &err), -1);
    CHECK(strstr(err.msg, "not a regular file") != NULL);
    snprintf(path, sizeof(path), "%s/missing.bin", dir);
    CHECK_INT(lcb_envelope_key_load(&key, path, &err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    CHECK(strstr(err.msg, "No such file") != NULL);

    snprintf(path, sizeof(path), "rm -rf %s", dir);
    CHECK_INT(system(path), 0);
    lcb_secret_release(&key);
    lcb_secret_release(&plain);
}

int
main(void)
{
    RUN(test_known_answer);
    RUN(test_round_trip);
    RUN(test_tamper);
    RUN(test_wrong_key);
    RUN(test_redaction);
    RUN(test_key_file);
    return harness_done();
}
