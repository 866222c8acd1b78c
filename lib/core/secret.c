/* secret.c - see secret.h. */
#define _DEFAULT_SOURCE
#include "secret.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"

struct entry {
    char *value;
    size_t len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries;
static size_t nentries, centries;

void
lcb_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void
lcb_redact_add(const char *value, size_t len)
{
    if (!value || len < 4)
        return;
    pthread_mutex_lock(&lock);
    if (nentries == centries) {
        centries = centries ? centries * 2 : 16;
        entries = lcb_xrealloc(entries, centries * sizeof(*entries));
    }
    entries[nentries].value = lcb_xstrndup(value, len);
    entries[nentries].len = len;
    nentries++;
    pthread_mutex_unlock(&lock);
}

void
lcb_redact_remove(const char *value, size_t len)
{
    size_t i;

    if (!value || len < 4)
        return;
    pthread_mutex_lock(&lock);
    for (i = 0; i < nentries; i++) {
        if (entries[i].len == len && memcmp(entries[i].value, value, len) == 0) {
            lcb_wipe(entries[i].value, len);
            free(entries[i].value);
            entries[i] = entries[--nentries];
            break;
        }
    }
    pthread_mutex_unlock(&lock);
}

void
lcb_secret_set(struct lcb_secret *s, const char *value, size_t len)
{
    lcb_secret_release(s);
    s->ptr = lcb_xmalloc(len + 1); /* binary-safe: data keys may hold NUL bytes */
    memcpy(s->ptr, value, len);
    s->ptr[len] = '\0';
    s->len = len;
    /* text secrets are masked wherever they would be printed; binary ones cannot be printed */
    if (memchr(value, '\0', len) == NULL)
        lcb_redact_add(s->ptr, len);
}

void
lcb_secret_release(struct lcb_secret *s)
{
    if (!s->ptr)
        return;
    lcb_redact_remove(s->ptr, s->len);
    lcb_wipe(s->ptr, s->len);
    free(s->ptr);
    s->ptr = NULL;
    s->len = 0;
}

const char *
lcb_secret_get(const struct lcb_secret *s)
{
    return s->ptr ? s->ptr : "";
}

int
lcb_secret_empty(const struct lcb_secret *s)
{
    return !s->ptr || s->len == 0;
}

/* Length of the registered secret starting at p, or 0. Longest match wins. */
static size_t
registered_at(const char *p)
{
    size_t i, best = 0;

    for (i = 0; i < nentries; i++)
        if (entries[i].len > best && strncmp(p, entries[i].value, entries[i].len) == 0)
            best = entries[i].len;
    return best;
}

/* Patterns whose value runs to the next delimiter, whatever it is. */
static const char *const value_keys[] = {
    "authorization: ", "authorization=", "x-amz-security-token: ", "x-amz-security-token=",
    "x-amz-signature=", "signature=", "password=", "\"password\":\"", "\"secretaccesskey\":\"",
    "\"sessiontoken\":\"", "\"token\":\"", "aws_secret_access_key=", "aws_session_token=",
    "x-aws-ec2-metadata-token: ",
};

static size_t
key_at(const char *p)
{
    size_t i, n;

    for (i = 0; i < LCB_ARRAY_SIZE(value_keys); i++) {
        n = strlen(value_keys[i]);
        if (strncasecmp(p, value_keys[i], n) == 0)
            return n;
    }
    return 0;
}

/* Header values (keys ending in ": ") run to the end of the line; others to a delimiter. The JSON
 * logger redacts its escaped line, where a header's line ends at "\\n" and the field at '"'. */
static size_t
value_len(const char *p, int header)
{
    size_t n = 0;

    if (header) { /* to the end of the line, also when the line is inside a JSON string */
        while (p[n] && p[n] != '\n' && p[n] != '\r' &&
               !(p[n] == '\\' && (p[n + 1] == 'n' || p[n + 1] == 'r')) &&
               !(p[n] == '"' && (n == 0 || p[n - 1] != '\\')))
            n++;
        return n;
    }
    while (p[n] && p[n] != '&' && p[n] != '"' && p[n] != '\n' && p[n] != '\r' && p[n] != ' ' &&
           p[n] != ',')
        n++;
    return n;
}

/* "scheme://user:pass@" -> length of "pass" when p points just after "user:". */
static size_t
userinfo_password_len(const char *text, const char *p)
{
    const char *scheme = p;
    size_t n;

    /* walk back over the user name to "://" */
    while (scheme > text && scheme[-1] != '/' && !isspace((unsigned char)scheme[-1]) &&
           scheme[-1] != '@')
        scheme--;
    if (scheme - text < 3 || strncmp(scheme - 3, "://", 3) != 0)
        return 0;
    n = 0;
    while (p[n] && p[n] != '@' && p[n] != '/' && !isspace((unsigned char)p[n]))
        n++;
    return p[n] == '@' ? n : 0;
}

void
lcb_redact(struct lcb_buf *out, const char *text)
{
    const char *p = text;
    size_t n;

    pthread_mutex_lock(&lock);
    while (*p) {
        if ((n = registered_at(p)) > 0) {
            lcb_buf_adds(out, "***");
            p += n;
        } else if ((n = key_at(p)) > 0) {
            lcb_buf_add(out, p, n);
            p += n;
            n = value_len(p, p[-1] == ' ' && p[-2] == ':');
            if (n) {
                lcb_buf_adds(out, "***");
                p += n;
            }
        } else if (*p == ':' && p > text && (n = userinfo_password_len(text, p + 1)) > 0) {
            lcb_buf_adds(out, ":***");
            p += 1 + n;
        } else {
            lcb_buf_addch(out, *p++);
        }
    }
    pthread_mutex_unlock(&lock);
}

const char *
lcb_redact_str(struct lcb_buf *out, const char *text)
{
    lcb_buf_reset(out);
    lcb_redact(out, text);
    return lcb_buf_str(out);
}
