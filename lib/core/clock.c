/* clock.c - see clock.h. */
#define _DEFAULT_SOURCE
#include "clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"

time_t
lcb_now(void)
{
    const char *pin = getenv("LCBACKUP_NOW");
    time_t t;

    if (pin && *pin && lcb_time_parse(pin, &t) == 0)
        return t;
    return time(NULL);
}

int
lcb_clock_check(struct lcb_err *err)
{
    const char *pin = getenv("LCBACKUP_NOW");
    time_t t;

    if (pin && *pin && lcb_time_parse(pin, &t) < 0)
        return lcb_err_set(err, LCB_ECONFIG,
                           "LCBACKUP_NOW '%s' is not an RFC 3339 time such as 2015-08-30T12:36:00Z",
                           pin);
    return 0;
}

int64_t
lcb_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
lcb_time_fmt(time_t t, char *out)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, LCB_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

static int
digits(const char *s, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int
lcb_time_parse(const char *s, time_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, off = 0, oh, om;
    const char *p;

    if (!s || strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
            return -1;
        off = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else if (*p != '\0' || s[10] != ' ') {
        return -1; /* a time without a zone is ambiguous, except the SQL form, taken as UTC */
    }
    if (*p != '\0')
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = timegm(&tm) - off;
    return 0;
}

static int64_t
unit_secs(char u)
{
    switch (u) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    case 'y': return 365 * 86400;
    default: return -1;
    }
}

int
lcb_duration_parse(const char *s, int64_t *secs)
{
    int64_t total = 0, v, mul;
    const char *p = s;
    char *end;

    if (!s || !*s)
        return -1;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        v = strtoll(p, &end, 10);
        if (v < 0 || v > 100000000)
            return -1;
        p = end;
        if (*p == '\0') {
            if (total)
                return -1; /* a bare number only on its own: "1h30" is a typo */
            mul = 1;
        } else if ((mul = unit_secs(*p++)) < 0) {
            return -1;
        }
        total += v * mul;
    }
    *secs = total;
    return 0;
}

char *
lcb_duration_fmt(int64_t secs, char *out, size_t size)
{
    if (secs < 0)
        secs = 0;
    if (secs < 60)
        snprintf(out, size, "%llds", (long long)secs);
    else if (secs < 3600)
        snprintf(out, size, "%lldm %02llds", (long long)(secs / 60), (long long)(secs % 60));
    else if (secs < 86400)
        snprintf(out, size, "%lldh %02lldm", (long long)(secs / 3600),
                 (long long)(secs % 3600 / 60));
    else
        snprintf(out, size, "%lldd %02lldh", (long long)(secs / 86400),
                 (long long)(secs % 86400 / 3600));
    return out;
}

static int
is_utc(const char *tz)
{
    return !tz || !*tz || strcmp(tz, "UTC") == 0 || strcmp(tz, "Etc/UTC") == 0;
}

int
lcb_tz_valid(const char *tz)
{
    char path[512];
    struct stat st;

    if (is_utc(tz))
        return 1;
    if (strstr(tz, "..") || tz[0] == '/' || strlen(tz) > 200)
        return 0;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Run with TZ set to tz, restoring the previous value afterwards. */
static char *
tz_enter(const char *tz)
{
    const char *old = getenv("TZ");
    char *saved = old ? lcb_xstrdup(old) : NULL;

    setenv("TZ", tz, 1);
    tzset();
    return saved;
}

static void
tz_leave(char *saved)
{
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
}

void
lcb_tz_localtime(const char *tz, time_t t, struct tm *out)
{
    char *saved;

    if (is_utc(tz)) {
        gmtime_r(&t, out);
        return;
    }
    saved = tz_enter(tz);
    localtime_r(&t, out);
    tz_leave(saved);
}

time_t
lcb_tz_mktime(const char *tz, struct tm *tm)
{
    char *saved;
    time_t t;

    if (is_utc(tz))
        return timegm(tm);
    saved = tz_enter(tz);
    t = mktime(tm);
    tz_leave(saved);
    return t;
}
