/* validate.c - see validate.h. */
#include "validate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../ext/json.h"

void
pv_init(struct pv *v, const char *file, struct lcb_buf *problems)
{
    memset(v, 0, sizeof(*v));
    v->file = file;
    v->problems = problems;
}

void
pv_push(struct pv *v, const char *key, int index)
{
    size_t len = strlen(v->path);

    if (v->depth < sizeof(v->marks) / sizeof(v->marks[0]))
        v->marks[v->depth] = len;
    v->depth++;
    if (key)
        len += (size_t)snprintf(v->path + len, sizeof(v->path) - len, "%s%s", len ? "." : "", key);
    if (index >= 0 && len < sizeof(v->path))
        snprintf(v->path + len, sizeof(v->path) - len, "[%d]", index);
}

void
pv_pop(struct pv *v)
{
    if (v->depth == 0)
        return;
    v->depth--;
    if (v->depth < sizeof(v->marks) / sizeof(v->marks[0]))
        v->path[v->marks[v->depth]] = '\0';
}

const char *
pv_path(const struct pv *v)
{
    return v->path;
}

static void
record(struct pv *v, const char *where, const char *fmt, va_list ap)
{
    char msg[LCB_ERR_MSG_LEN];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (v->nproblems++ == 0)
        snprintf(v->first, sizeof(v->first), "%s%s%s", where, *where ? ": " : "", msg);
    if (v->problems)
        lcb_buf_addf(v->problems, "%s: %s%s%s\n", v->file, where, *where ? ": " : "", msg);
}

static void
key_path(const struct pv *v, const char *key, char *out, size_t size)
{
    if (!key)
        snprintf(out, size, "%s", v->path);
    else
        snprintf(out, size, "%s%s%s", v->path, v->path[0] ? "." : "", key);
}

void
pv_fail(struct pv *v, const char *key, const char *fmt, ...)
{
    char where[600];
    va_list ap;

    key_path(v, key, where, sizeof(where));
    va_start(ap, fmt);
    record(v, where, fmt, ap);
    va_end(ap);
}

void
pv_fail_at(struct pv *v, const char *key, size_t index, const char *fmt, ...)
{
    char where[600], base[560];
    va_list ap;

    key_path(v, key, base, sizeof(base));
    snprintf(where, sizeof(where), "%s[%zu]", base, index);
    va_start(ap, fmt);
    record(v, where, fmt, ap);
    va_end(ap);
}

void
pv_fail_path(struct pv *v, const char *path, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    record(v, path, fmt, ap);
    va_end(ap);
}

int
pv_failed_here(const struct pv *v, const char *key)
{
    char where[600];

    key_path(v, key, where, sizeof(where));
    return v->nproblems > 0 && strncmp(v->first, where, strlen(where)) == 0;
}

static int
in_list(const char *k, const char *const *keys, size_t n)
{
    size_t i;

    for (i = 0; i < n && keys[i]; i++)
        if (strcmp(keys[i], k) == 0)
            return 1;
    return 0;
}

int
pv_object2(struct pv *v, const struct lcb_json *j, const char *const *common, size_t ncommon,
           const char *const *keys)
{
    const struct lcb_json *it;

    if (lcb_json_type(j) != LCB_JSON_OBJECT) {
        pv_fail(v, NULL, "must be an object, not %s", lcb_json_type_name(lcb_json_type(j)));
        return 0;
    }
    for (it = lcb_json_child(j); it; it = lcb_json_next(it)) {
        const char *k = lcb_json_key(it);
        if (in_list(k, common, ncommon) || in_list(k, keys, (size_t)-1))
            continue;
        pv_fail(v, k, "unknown key (a typo?)");
    }
    return 1; /* unknown keys are reported, and the known ones are still checked */
}

int
pv_object(struct pv *v, const struct lcb_json *j, const char *const *keys)
{
    return pv_object2(v, j, NULL, 0, keys);
}

int
pv_done(struct pv *v, struct lcb_err *err)
{
    if (v->nproblems == 0)
        return 0;
    if (v->nproblems == 1)
        return lcb_err_set(err, LCB_ECONFIG, "%s: %s", v->file, v->first);
    return lcb_err_set(err, LCB_ECONFIG, "%s: %s (and %d more problems; `lcbackup policy check %s` "
                       "lists them)", v->file, v->first, v->nproblems - 1, v->file);
}

/* ---- predicates ----------------------------------------------------------------------------- */

static int
all_chars(const char *s, const char *extra, int upper_ok)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (islower(c) || isdigit(c) || (upper_ok && isupper(c)) || strchr(extra, c))
            continue;
        return 0;
    }
    return 1;
}

int
pv_nonempty(const char *s)
{
    return s && *s;
}

int
pv_name(const char *s)
{
    return *s && strlen(s) <= 255 && all_chars(s, "-_.", 1);
}

int
pv_env(const char *s)
{
    return *s && strlen(s) <= 32 && isalpha((unsigned char)*s) && all_chars(s, "-", 0);
}

int
pv_region(const char *s)
{
    /* xx-name-N, xx-gov-name-N, ...: lowercase words separated by '-', ending in a digit */
    size_t n = strlen(s);
    int dashes = 0;
    const char *p;

    if (n < 9 || n > 30 || !isdigit((unsigned char)s[n - 1]) || !islower((unsigned char)s[0]))
        return 0;
    for (p = s; *p; p++) {
        if (*p == '-') {
            if (p[1] == '-' || p[1] == '\0')
                return 0;
            dashes++;
        } else if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p)) {
            return 0;
        }
    }
    return dashes >= 2;
}

int
pv_bucket(const char *s)
{
    size_t n = strlen(s);

    if (n < 3 || n > 63 || !all_chars(s, ".-", 0))
        return 0;
    if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return 0;
    return strstr(s, "..") == NULL && strncmp(s, "xn--", 4) != 0;
}

int
pv_prefix(const char *s)
{
    return s[0] != '/' && strlen(s) < 512 && strstr(s, "//") == NULL;
}

int
pv_kms_key(const char *s)
{
    return strncmp(s, "alias/", 6) == 0 || strncmp(s, "arn:aws", 7) == 0 ||
           (strlen(s) == 36 && all_chars(s, "-", 0)) || (strncmp(s, "mrk-", 4) == 0);
}

int
pv_sns_arn(const char *s)
{
    return strncmp(s, "arn:aws", 7) == 0 && strstr(s, ":sns:") != NULL;
}

int
pv_rds_id(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n > 63 || !isalpha((unsigned char)s[0]) || s[n - 1] == '-')
        return 0;
    return all_chars(s, "-", 1) && strstr(s, "--") == NULL;
}

int
pv_instance_class(const char *s)
{
    return strncmp(s, "db.", 3) == 0 && strlen(s) > 5 && all_chars(s, ".", 0);
}

static int
aws_id(const char *s, const char *prefix)
{
    size_t n = strlen(prefix), len = strlen(s);
    const char *p;

    if (strncmp(s, prefix, n) != 0 || (len - n != 8 && len - n != 17))
        return 0;
    for (p = s + n; *p; p++)
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return 0;
    return 1;
}

int
pv_volume_id(const char *s)
{
    return aws_id(s, "vol-");
}

int
pv_instance_id(const char *s)
{
    return aws_id(s, "i-");
}

int
pv_security_group(const char *s)
{
    return aws_id(s, "sg-");
}

int
pv_ssm_name(const char *s)
{
    return s[0] == '/' && strlen(s) > 1 && strlen(s) <= 2048 && all_chars(s, "/-_.", 1) &&
           s[strlen(s) - 1] != '/';
}

int
pv_ssm_path(const char *s)
{
    return s[0] == '/' && s[strlen(s) - 1] == '/' && all_chars(s, "/-_.", 1);
}

int
pv_http_url(const char *s)
{
    return (strncmp(s, "http://", 7) == 0 && s[7]) || (strncmp(s, "https://", 8) == 0 && s[8]);
}

int
pv_expectation(const char *s)
{
    static const char *const ops[] = { ">=", "<=", "==", "!=", "=", ">", "<" };
    size_t i, n;

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        n = strlen(ops[i]);
        if (strncmp(s, ops[i], n) == 0) {
            s += n;
            while (*s == ' ')
                s++;
            return *s != '\0';
        }
    }
    return 0;
}
