/* rules.c - the drill's pure rules: expectations, picking a recovery point, names, expiry and the
 * sweep decision, reading amcheck errors; see drill.h. */
#include "drill.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../policy/policy.h"

/* ---- expectations ---- */

enum op { OP_GE, OP_LE, OP_EQ, OP_NE, OP_GT, OP_LT };

static int
read_op(const char **s, enum op *op)
{
    static const struct {
        const char *text;
        enum op op;
    } ops[] = {
        {">=", OP_GE}, {"<=", OP_LE}, {"==", OP_EQ}, {"!=", OP_NE},
        {"=", OP_EQ},  {">", OP_GT},  {"<", OP_LT},
    };
    size_t i, n;

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        n = strlen(ops[i].text);
        if (strncmp(*s, ops[i].text, n) == 0) {
            *op = ops[i].op;
            *s += n;
            return 0;
        }
    }
    return -1;
}

static int
as_number(const char *s, double *out)
{
    char *end;

    if (!s || !*s)
        return 0;
    *out = strtod(s, &end);
    while (*end == ' ')
        end++;
    return *end == '\0';
}

static int
compare(enum op op, int cmp)
{
    switch (op) {
    case OP_GE:
        return cmp >= 0;
    case OP_LE:
        return cmp <= 0;
    case OP_EQ:
        return cmp == 0;
    case OP_NE:
        return cmp != 0;
    case OP_GT:
        return cmp > 0;
    case OP_LT:
        return cmp < 0;
    }
    return 0;
}

int
lcb_drill_expect(const char *expect, const char *value)
{
    char want[512];
    double a, b;
    enum op op;
    size_t n;
    const char *s = expect;

    if (!s)
        return -1;
    while (*s == ' ')
        s++;
    if (read_op(&s, &op) < 0)
        return -1;
    while (*s == ' ')
        s++;
    n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n == 0)
        return -1;
    if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'') {
        s++;
        n -= 2;
    }
    if (n >= sizeof(want))
        return -1;
    memcpy(want, s, n);
    want[n] = '\0';
    if (!value) /* SQL NULL meets only "= null" and "!= <anything but null>" */
        return strcmp(want, "null") == 0 ? (op == OP_EQ) : (op == OP_NE);
    if (as_number(value, &a) && as_number(want, &b))
        return compare(op, (a > b) - (a < b));
    return compare(op, strcmp(value, want));
}

/* ---- choosing a recovery point ---- */

int
lcb_drill_pick_parse(struct lcb_drill_pick *p, const char *s, struct lcb_err *err)
{
    memset(p, 0, sizeof(*p));
    if (!s || strcmp(s, "latest") == 0)
        return 0;
    if (strncmp(s, "random-within:", 14) == 0 && lcb_duration_parse(s + 14, &p->within) == 0 &&
        p->within > 0) {
        p->random = 1;
        return 0;
    }
    return lcb_err_set(err, LCB_EUSAGE,
                       "--pick: '%s' is not latest or random-within:DUR "
                       "(e.g. random-within:7d)",
                       s);
}

long
lcb_drill_pick_choose(const struct lcb_drill_pick *p, const time_t *taken_at, size_t n, time_t now,
                      unsigned rnd)
{
    size_t i, count = 0, want;

    if (n == 0)
        return -1;
    if (!p->random)
        return 0;
    for (i = 0; i < n; i++)
        if (taken_at[i] && now - taken_at[i] <= p->within)
            count++;
    if (count == 0)
        return -1;
    want = rnd % count;
    for (i = 0; i < n; i++)
        if (taken_at[i] && now - taken_at[i] <= p->within && want-- == 0)
            return (long)i;
    return -1;
}

int
lcb_drill_components_parse(unsigned *set, const char *s, struct lcb_err *err)
{
    char word[32];
    const char *p = s;
    int k;

    *set = 0;
    if (!s || !*s) {
        *set = (1u << LCB_KIND_COUNT) - 1;
        return 0;
    }
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n > 0) {
            if (n >= sizeof(word))
                n = sizeof(word) - 1;
            memcpy(word, p, n);
            word[n] = '\0';
            if ((k = lcb_kind_parse(word)) < 0)
                return lcb_err_set(err, LCB_EUSAGE,
                                   "--component: '%s' is not rds, ebs, broker "
                                   "or config",
                                   word);
            *set |= 1u << k;
        }
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    if (!*set)
        return lcb_err_set(err, LCB_EUSAGE,
                           "--component: name at least one of rds, ebs, broker, "
                           "config");
    return 0;
}

/* ---- names, expiry, the sweep ---- */

void
lcb_drill_resource_name(char *out, size_t size, const char *instance, time_t t)
{
    char ts[16], part[64];
    struct tm tm;
    size_t room, i, n;

    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y%m%d%H%M%S", &tm);
    /* 63 = "lcb-drill-" (10) + part + "-" (1) + 14 digits */
    room = 63 - 10 - 1 - strlen(ts);
    for (i = 0, n = 0; instance && instance[i] && n < room && n < sizeof(part) - 1; i++) {
        char ch = (char)tolower((unsigned char)instance[i]);
        if (!isalnum((unsigned char)ch))
            ch = '-';
        if (ch == '-' && (n == 0 || part[n - 1] == '-'))
            continue;
        part[n++] = ch;
    }
    while (n > 0 && part[n - 1] == '-')
        n--;
    part[n] = '\0';
    snprintf(out, size, "%s%s%s%s", LCB_DRILL_PREFIX, part, n ? "-" : "", ts);
}

time_t
lcb_drill_expiry(time_t start, int64_t timeout)
{
    int64_t margin = timeout / 4;

    if (margin < 300)
        margin = 300;
    if (margin > 3600)
        margin = 3600;
    return start + 2 * (time_t)timeout + (time_t)margin;
}

int
lcb_drill_sweep_due(const char *expires, const char *drill_status, time_t now, char *reason,
                    size_t size)
{
    time_t t;
    char ts[LCB_TIME_LEN];
    int known = expires && lcb_time_parse(expires, &t) == 0;

    if (drill_status && strcmp(drill_status, "running") == 0) {
        snprintf(reason, size, "its drill is still running");
        return 0;
    }
    if (known && t <= now) {
        snprintf(reason, size, "expired at %s", lcb_time_fmt(t, ts));
        return 1;
    }
    if (drill_status) {
        snprintf(reason, size, "its drill is over (%s)", drill_status);
        return 1;
    }
    if (known)
        snprintf(reason, size, "expires at %s", lcb_time_fmt(t, ts));
    else
        snprintf(reason, size, "no readable expiry tag and a drill this catalog does not know");
    return 0;
}

int
lcb_drill_amcheck_relation(const char *message, char *out, size_t size)
{
    static const char *const words[] = {"index \"", "relation \""};
    const char *p, *q;
    size_t i, n;

    if (!message || size == 0)
        return 0;
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        p = strstr(message, words[i]);
        if (!p)
            continue;
        p += strlen(words[i]);
        q = strchr(p, '"');
        if (!q || q == p)
            continue;
        n = (size_t)(q - p);
        if (n >= size)
            n = size - 1;
        memcpy(out, p, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}
