/* envelope.c - AES-256-GCM envelopes for secret values; see envelope.h. */
#include "envelope.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/mem.h"
#include "../ext/crypto.h"

#define PREFIX_LEN (sizeof(LCB_ENVELOPE_PREFIX) - 1)
#define CHECK_LABEL "lcbackup envelope key check v1"

int
lcb_envelope_is_encrypted(const char *value)
{
    return value && strncmp(value, LCB_ENVELOPE_PREFIX, PREFIX_LEN) == 0;
}

void
lcb_envelope_secret_bytes(struct lcb_secret *s, const void *data, size_t len)
{
    lcb_secret_release(s);
    s->ptr = lcb_xmalloc(len + 1);
    memcpy(s->ptr, data, len);
    s->ptr[len] = '\0';
    s->len = len;
}

static int
check_key(const struct lcb_secret *key, struct lcb_err *err)
{
    if (!key || key->len != LCB_ENVELOPE_KEY_LEN || !key->ptr)
        return lcb_err_set(err, LCB_EUSAGE, "encryption key must be %d bytes, not %zu",
                           LCB_ENVELOPE_KEY_LEN, key ? key->len : 0);
    return 0;
}

int
lcb_envelope_encrypt(struct lcb_buf *out, const struct lcb_secret *key, const char *name,
                     const void *plain, size_t len, struct lcb_err *err)
{
    struct lcb_buf raw = LCB_BUF_INIT;
    unsigned char nonce[LCB_GCM_IV_LEN], tag[LCB_GCM_TAG_LEN];
    int rc = -1;

    if (check_key(key, err) < 0)
        return -1;
    if (!name)
        return lcb_err_set(err, LCB_EUSAGE, "encrypt: no parameter name");
    if (lcb_random(nonce, sizeof(nonce), err) < 0)
        return -1;
    lcb_buf_add(&raw, nonce, sizeof(nonce));
    if (lcb_aes_gcm_encrypt(&raw, tag, (const unsigned char *)key->ptr, nonce, name, strlen(name),
                            plain, len, err) < 0)
        goto out;
    lcb_buf_add(&raw, tag, sizeof(tag));
    lcb_buf_adds(out, LCB_ENVELOPE_PREFIX);
    lcb_base64_encode(out, raw.ptr, raw.len);
    rc = 0;
out:
    lcb_wipe(raw.ptr, raw.len);
    lcb_buf_release(&raw);
    return rc;
}

int
lcb_envelope_key_check(char out[LCB_ENVELOPE_CHECK_HEX], const struct lcb_secret *key,
                       struct lcb_err *err)
{
    unsigned char mac[LCB_SHA256_LEN];

    out[0] = '\0';
    if (check_key(key, err) < 0)
        return -1;
    lcb_hmac_sha256(key->ptr, key->len, CHECK_LABEL, strlen(CHECK_LABEL), mac);
    lcb_hex(mac, 16, out);
    return 0;
}

/* Plaintext into a secret; registered for redaction unless it holds a NUL (the redactor works
 * on C strings). */
static void
keep_plain(struct lcb_secret *plain, const char *data, size_t len)
{
    lcb_envelope_secret_bytes(plain, data, len);
    if (!memchr(data, '\0', len))
        lcb_redact_add(plain->ptr, len);
}

int
lcb_envelope_decrypt(struct lcb_secret *plain, const struct lcb_secret *key, const char *key_check,
                     const char *name, const char *value, struct lcb_err *err)
{
    struct lcb_buf raw = LCB_BUF_INIT, out = LCB_BUF_INIT;
    char mine[LCB_ENVELOPE_CHECK_HEX];
    const unsigned char *p;
    size_t n;
    int rc = -1;

    if (lcb_envelope_key_check(mine, key, err) < 0)
        return -1;
    if (key_check && (strlen(key_check) != 32 || lcb_memeq_ct(mine, key_check, 32) != 0))
        return lcb_err_set(err, LCB_EAUTH, "wrong key: its check value %s is not the archive's "
                           "%.40s", mine, key_check);
    if (!name || !lcb_envelope_is_encrypted(value))
        return lcb_err_set(err, LCB_ECORRUPT, "\"%.200s\": not an lcbenc:v1 value",
                           name ? name : "");
    if (lcb_base64_decode(&raw, value + PREFIX_LEN, strlen(value + PREFIX_LEN)) < 0 ||
        raw.len < LCB_GCM_IV_LEN + LCB_GCM_TAG_LEN) {
        lcb_err_set(err, LCB_ECORRUPT, "\"%.200s\": malformed lcbenc:v1 value", name);
        goto out;
    }
    p = (const unsigned char *)raw.ptr;
    n = raw.len - LCB_GCM_IV_LEN - LCB_GCM_TAG_LEN;
    if (lcb_aes_gcm_decrypt(&out, (const unsigned char *)key->ptr, p, name, strlen(name),
                            p + LCB_GCM_IV_LEN, n, p + LCB_GCM_IV_LEN + n, err) < 0) {
        lcb_err_set(err, LCB_ECORRUPT, "\"%.200s\": authentication failed: the value was altered "
                    "or moved from another name%s", name,
                    key_check ? "" : ", or the key is wrong");
        goto out;
    }
    keep_plain(plain, out.ptr ? out.ptr : "", out.len);
    rc = 0;
out:
    lcb_wipe(out.ptr, out.len);
    lcb_buf_release(&out);
    lcb_buf_release(&raw);
    return rc;
}

int
lcb_envelope_key_generate(struct lcb_secret *key, struct lcb_err *err)
{
    unsigned char k[LCB_ENVELOPE_KEY_LEN];

    if (lcb_random(k, sizeof(k), err) < 0)
        return -1;
    lcb_envelope_secret_bytes(key, k, sizeof(k));
    lcb_wipe(k, sizeof(k));
    return 0;
}

static int
read_key(int fd, const char *path, unsigned char *k, struct lcb_err *err)
{
    size_t have = 0;
    ssize_t n;

    /* read one byte more than a key, so that a file that grew since fstat is refused too */
    while (have < LCB_ENVELOPE_KEY_LEN + 1) {
        n = read(fd, k + have, LCB_ENVELOPE_KEY_LEN + 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return lcb_err_sys(err, LCB_ECONFIG, errno, "key file %s", path);
        if (n == 0)
            break;
        have += (size_t)n;
    }
    if (have != LCB_ENVELOPE_KEY_LEN)
        return lcb_err_set(err, LCB_ECONFIG, "key file %s changed while being read", path);
    return 0;
}

int
lcb_envelope_key_load(struct lcb_secret *key, const char *path, struct lcb_err *err)
{
    unsigned char k[LCB_ENVELOPE_KEY_LEN + 1];
    struct stat st;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lcb_err_sys(err, LCB_ECONFIG, errno, "key file %s", path);
    if (fstat(fd, &st) < 0) {
        lcb_err_sys(err, LCB_ECONFIG, errno, "key file %s", path);
    } else if (!S_ISREG(st.st_mode)) {
        lcb_err_set(err, LCB_ECONFIG, "key file %s is not a regular file", path);
    } else if ((st.st_mode & 07777) != 0600) {
        lcb_err_set(err, LCB_ECONFIG, "key file %s has mode %04o: it must be 0600 (chmod 600 %s)",
                    path, (unsigned)(st.st_mode & 07777), path);
    } else if (st.st_size != LCB_ENVELOPE_KEY_LEN) {
        lcb_err_set(err, LCB_ECONFIG, "key file %s holds %lld bytes: it must hold exactly %d raw "
                    "bytes (head -c 32 /dev/urandom > %s)", path, (long long)st.st_size,
                    LCB_ENVELOPE_KEY_LEN, path);
    } else if (read_key(fd, path, k, err) == 0) {
        lcb_envelope_secret_bytes(key, k, LCB_ENVELOPE_KEY_LEN);
        rc = 0;
    }
    lcb_wipe(k, sizeof(k));
    close(fd);
    return rc;
}
