/*
 * envelope.h - envelope encryption of small secret values (SSM SecureStrings) inside archives.
 *
 * A value is encrypted with AES-256-GCM under a 32-byte data key (one per archive: a KMS
 * GenerateDataKey plaintext, or a --key-file) and stored as text:
 *
 *     "lcbenc:v1:" + base64(nonce[12] | ciphertext[n] | tag[16])
 *
 * with a fresh random nonce per value and the parameter's name as GCM associated data, so a value
 * cannot be moved to another name (it would fail to decrypt). The data key itself never enters the
 * archive in clear: the manifest carries the KMS-wrapped key, or nothing for a key file, plus the
 * key check value (lcb_envelope_key_check), which identifies the key without revealing it.
 *
 * Wrong key or tampering? GCM alone cannot tell them apart. The rule: when the caller passes the
 * archive's key check value to lcb_envelope_decrypt() and the key's own check value differs, the
 * key is wrong: LCB_EAUTH (exit 77). Otherwise a tag mismatch is LCB_ECORRUPT (exit 65): the value
 * was altered, moved to another name, or (with no key check to compare) the key is wrong.
 *
 * Key material lives in struct lcb_secret as raw bytes (len 32, NUL-terminated after len), wiped
 * on release and, being binary, not registered for redaction. Decrypted values come back in a
 * struct lcb_secret registered for redaction, so no log line can print them.
 */
#ifndef LCB_ARCHIVE_ENVELOPE_H
#define LCB_ARCHIVE_ENVELOPE_H

#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/secret.h"

#define LCB_ENVELOPE_PREFIX "lcbenc:v1:"
#define LCB_ENVELOPE_KEY_LEN 32
#define LCB_ENVELOPE_CHECK_HEX 33 /* 32 hex digits + NUL */

/* Is value an envelope ("lcbenc:v1:" prefix)? */
int lcb_envelope_is_encrypted(const char *value);

/* Encrypt len bytes of plain for the parameter name; the envelope text is appended to out.
 * Returns 0, or -1: LCB_EUSAGE (key not 32 bytes, name NULL), LCB_EINTERNAL (random, cipher). */
int lcb_envelope_encrypt(struct lcb_buf *out, const struct lcb_secret *key, const char *name,
                         const void *plain, size_t len, struct lcb_err *err);

/* Decrypt value (an envelope) written for name into plain (replaced). key_check: the archive's key
 * check value, or NULL when unknown. Returns 0, or -1: LCB_EAUTH (key_check given and not this
 * key's), LCB_ECORRUPT (not an lcbenc:v1 value, bad base64, too short, tag mismatch),
 * LCB_EUSAGE (key not 32 bytes). The error message never contains the value. */
int lcb_envelope_decrypt(struct lcb_secret *plain, const struct lcb_secret *key,
                         const char *key_check, const char *name, const char *value,
                         struct lcb_err *err);

/* The key check value: hex of the first 16 bytes of HMAC-SHA256(key, "lcbackup envelope key
 * check v1"), into out. Returns 0, or -1 (LCB_EUSAGE: key not 32 bytes). */
int lcb_envelope_key_check(char out[LCB_ENVELOPE_CHECK_HEX], const struct lcb_secret *key,
                           struct lcb_err *err);

/* Load a raw 32-byte key from path into key (replaced). The file must be a regular file (symbolic
 * links are followed) of mode exactly 0600 holding exactly 32 bytes. Returns 0, or -1 with
 * LCB_ECONFIG and what to do ("key file k.bin has mode 0644: it must be 0600 (chmod 600 k.bin)"). */
int lcb_envelope_key_load(struct lcb_secret *key, const char *path, struct lcb_err *err);

/* A fresh random 32-byte key into key (replaced). Returns 0, or -1 (LCB_EINTERNAL). */
int lcb_envelope_key_generate(struct lcb_secret *key, struct lcb_err *err);

/* Keep raw bytes in a secret (replacing what it held), not registered for redaction. */
void lcb_envelope_secret_bytes(struct lcb_secret *s, const void *data, size_t len);

#endif
