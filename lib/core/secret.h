/*
 * secret.h - values that must never be printed: credentials, SecureString values, DB passwords.
 *
 * A struct lcb_secret owns a copy of the value and registers it with the redactor; every log line,
 * error line and progress line passes through lcb_redact() before it is written, so a registered
 * value can only ever appear as "***". lcb_secret_release() wipes the memory (explicit_bzero) and
 * unregisters it. lcb_redact() also masks what looks secret even when nobody registered it:
 * Authorization headers, security tokens, presigned signatures, URL userinfo passwords and
 * "password=" pairs.
 */
#ifndef LCB_CORE_SECRET_H
#define LCB_CORE_SECRET_H

#include <stddef.h>

#include "buf.h"

struct lcb_secret {
    char *ptr; /* NUL-terminated; NULL when empty */
    size_t len;
};

#define LCB_SECRET_INIT { NULL, 0 }

/* Copy value into s (replacing what it held) and register it for redaction. */
void lcb_secret_set(struct lcb_secret *s, const char *value, size_t len);
/* Wipe and unregister. Safe on an empty secret. */
void lcb_secret_release(struct lcb_secret *s);
/* The value, or "" when empty. Never print it. */
const char *lcb_secret_get(const struct lcb_secret *s);
int lcb_secret_empty(const struct lcb_secret *s);

/* Register / unregister a value owned elsewhere (values shorter than 4 bytes are ignored). */
void lcb_redact_add(const char *value, size_t len);
void lcb_redact_remove(const char *value, size_t len);

/* Append text to out with every secret masked as "***". */
void lcb_redact(struct lcb_buf *out, const char *text);
/* Mask in place (the result is never longer than the input... except "***" for 1-2 char tokens,
 * so callers pass a buffer; returns out's string). */
const char *lcb_redact_str(struct lcb_buf *out, const char *text);

/* Wipe memory in a way the compiler cannot drop. */
void lcb_wipe(void *p, size_t n);

#endif
