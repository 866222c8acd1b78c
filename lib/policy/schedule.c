/*
 * schedule.c - see schedule.h and docs/schedules.md.
 *
 * lcb_schedule_next() works in two layers. The calendar layer finds the next local wall-clock
 * minute ("naive" time: minutes since 1970-01-01 00:00 as if the zone were UTC) that matches the
 * fields, skipping whole months, days and hours. The zone layer maps a naive minute to the real
 * instants that show it: one on an ordinary day, none in a spring-forward gap, two in a fall-back
 * repetition. Naive order and real order only disagree within a few hours of an offset change, so
 * next() scans that little extra only when a change is near.
 */
#define _DEFAULT_SOURCE
#include "schedule.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../core/clock.h"

#define HORIZON_YEARS 9            /* 2096-02-29 to 2104-02-29 is the longest gap: 8 years */
#define SLACK (3 * 3600)           /* more than any offset change resolved precisely (DST: 2h) */
#define HORIZON_SECS ((time_t)HORIZON_YEARS * 366 * 86400)

/* ---- parsing ------------------------------------------------------------------------------- */

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

struct field_def {
    const char *name;
    int lo, hi;
    const char *const *names; /* names[i] is lo + i */
    const char *names_help;
};

static const struct field_def fields[5] = {
    { "minute", 0, 59, NULL, NULL },
    { "hour", 0, 23, NULL, NULL },
    { "day-of-month", 1, 31, NULL, NULL },
    { "month", 1, 12, month_names, " or month name (jan-dec)" },
    { "day-of-week", 0, 7, day_names, " or day name (sun-sat)" },
};

static const struct {
    const char *name;
    const char *expr;
} macros[] = {
    { "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
    { "@weekly", "0 0 * * 0" },  { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
    { "@hourly", "0 * * * *" },
};

/* One field being parsed: where to report problems. */
struct fparse {
    const struct field_def *def;
    const char *text; /* the whole field, NUL-terminated */
    struct lcb_err *err;
};

static int
field_fail(const struct fparse *fp, const char *tok, size_t toklen, const char *what)
{
    if (tok && (toklen != strlen(fp->text) || strncmp(tok, fp->text, toklen) != 0))
        return lcb_err_set(fp->err, LCB_ECONFIG, "%s field '%s': '%.*s' %s", fp->def->name,
                           fp->text, (int)toklen, tok, what);
    return lcb_err_set(fp->err, LCB_ECONFIG, "%s field '%s': %s", fp->def->name, fp->text, what);
}

/* A number or a name at *p; advances *p. */
static int
parse_value(const struct fparse *fp, const char **p, int *out)
{
    const char *s = *p;
    char what[96];
    long v = 0;
    int i;

    if (isdigit((unsigned char)*s)) {
        while (isdigit((unsigned char)*s)) {
            if (v < 100000)
                v = v * 10 + (*s - '0');
            s++;
        }
        if (v < fp->def->lo || v > fp->def->hi) {
            snprintf(what, sizeof(what), "must be %d-%d", fp->def->lo, fp->def->hi);
            return field_fail(fp, *p, (size_t)(s - *p), what);
        }
        *out = (int)v;
        *p = s;
        return 0;
    }
    for (i = 0; fp->def->names && fp->def->names[i]; i++) {
        if (strncasecmp(s, fp->def->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
            *out = fp->def->lo + i;
            *p = s + 3;
            return 0;
        }
    }
    while (*s && *s != ',' && *s != '-' && *s != '/')
        s++;
    if (s == *p)
        return field_fail(fp, NULL, 0, "has a missing value");
    snprintf(what, sizeof(what), "is not a number%s",
             fp->def->names_help ? fp->def->names_help : "");
    return field_fail(fp, *p, (size_t)(s - *p), what);
}

static int
parse_step(const struct fparse *fp, const char **p, int *step)
{
    const char *s = *p + 1;
    char what[64];
    long v = 0;

    snprintf(what, sizeof(what), "step must be a number 1-%d", fp->def->hi);
    if (!isdigit((unsigned char)*s))
        return field_fail(fp, NULL, 0, what);
    while (isdigit((unsigned char)*s)) {
        if (v < 100000)
            v = v * 10 + (*s - '0');
        s++;
    }
    if (v < 1 || v > fp->def->hi)
        return field_fail(fp, NULL, 0, what);
    *step = (int)v;
    *p = s;
    return 0;
}

/* One list element: "*", "*\/n", "a", "a-b", "a-b/n", "a/n" (a to the end, every n). */
static int
parse_element(const struct fparse *fp, const char **p, uint64_t *bits)
{
    const char *elem = *p;
    int a, b, step = 1, v;

    if (**p == '*') {
        a = fp->def->lo;
        b = fp->def->hi == 7 ? 6 : fp->def->hi; /* "*" in day-of-week is 0-6 */
        (*p)++;
    } else {
        if (parse_value(fp, p, &a) < 0)
            return -1;
        b = a;
        if (**p == '-') {
            (*p)++;
            if (parse_value(fp, p, &b) < 0)
                return -1;
            if (fp->def->names == day_names && b == 0 && a > 0)
                b = 7; /* "fri-sun" */
            if (b < a)
                return field_fail(fp, elem, (size_t)(*p - elem),
                                  "is a range whose start is after its end");
        } else if (**p == '/') {
            b = fp->def->hi;
        }
    }
    if (**p == '/' && parse_step(fp, p, &step) < 0)
        return -1;
    if (**p != ',' && **p != '\0')
        return field_fail(fp, elem, strcspn(elem, ","), "is not a value, range or step");
    for (v = a; v <= b; v += step)
        *bits |= (uint64_t)1 << v;
    return 0;
}

static int
parse_field(const struct field_def *def, const char *text, uint64_t *bits, struct lcb_err *err)
{
    struct fparse fp = { def, text, err };
    const char *p = text;

    *bits = 0;
    for (;;) {
        if (*p == ',' || *p == '\0')
            return field_fail(&fp, NULL, 0, "has an empty list element");
        if (parse_element(&fp, &p, bits) < 0)
            return -1;
        if (*p == '\0')
            break;
        p++; /* ',' */
    }
    if (def->names == day_names && (*bits & (1u << 7)))
        *bits = (*bits & 0x7f) | 1u; /* 7 is Sunday */
    return 0;
}

/* Split expr into at most 5 blank-separated fields in buf; returns the count (6: too many). */
static int
split_fields(const char *expr, char *buf, size_t size, char *f[5])
{
    char *p;
    int n = 0;

    snprintf(buf, size, "%s", expr);
    for (p = buf; *p;) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        if (n == 5)
            return 6;
        f[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    return n;
}

static int
parse_macro(struct lcb_schedule *s, const char *expr, struct lcb_err *err)
{
    size_t i;

    for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
        if (strcasecmp(expr, macros[i].name) == 0)
            return lcb_schedule_parse(s, macros[i].expr, err) < 0 ? -1 : 0;
    return lcb_err_set(err, LCB_ECONFIG,
                       "cron expression '%s': unknown; use 5 fields or @hourly, @daily, "
                       "@midnight, @weekly, @monthly, @yearly or @annually",
                       expr);
}

int
lcb_schedule_parse(struct lcb_schedule *s, const char *expr, struct lcb_err *err)
{
    char buf[LCB_SCHEDULE_EXPR_LEN], *f[5];
    uint64_t bits[5];
    size_t len;
    int n, i;

    while (*expr == ' ' || *expr == '\t')
        expr++;
    len = strlen(expr);
    while (len && (expr[len - 1] == ' ' || expr[len - 1] == '\t'))
        len--;
    if (len == 0)
        return lcb_err_set(err, LCB_ECONFIG, "cron expression is empty");
    if (len >= sizeof(buf))
        return lcb_err_set(err, LCB_ECONFIG,
                           "cron expression '%.40s...': longer than %d characters", expr,
                           (int)sizeof(buf) - 1);
    memcpy(buf, expr, len);
    buf[len] = '\0';
    memset(s, 0, sizeof(*s));
    if (buf[0] == '@') {
        if (parse_macro(s, buf, err) < 0)
            return -1;
        memcpy(s->expr, buf, len + 1);
        return 0;
    }
    memcpy(s->expr, buf, len + 1);
    n = split_fields(s->expr, buf, sizeof(buf), f);
    if (n != 5)
        return lcb_err_set(err, LCB_ECONFIG,
                           "cron expression '%s': has %s%d field%s, needs 5 (minute hour "
                           "day-of-month month day-of-week) or a macro such as @daily",
                           s->expr, n > 5 ? "more than " : "", n > 5 ? 5 : n, n == 1 ? "" : "s");
    for (i = 0; i < 5; i++)
        if (parse_field(&fields[i], f[i], &bits[i], err) < 0)
            return -1;
    s->minutes = bits[0];
    s->hours = (uint32_t)bits[1];
    s->mdays = (uint32_t)bits[2];
    s->months = (uint16_t)bits[3];
    s->wdays = (uint8_t)bits[4];
    s->mday_star = f[2][0] == '*';
    s->wday_star = f[4][0] == '*';
    s->fixed = f[0][0] != '*' && f[1][0] != '*';
    return 0;
}

/* ---- the calendar layer: naive minutes ------------------------------------------------------ */

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
    static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dim[m - 1];
}

/* The first set bit of mask at or after `from`, or -1. */
static int
next_bit(uint64_t mask, int from, int max)
{
    int i;

    for (i = from; i <= max; i++)
        if (mask & ((uint64_t)1 << i))
            return i;
    return -1;
}

static int
day_matches(const struct lcb_schedule *s, int64_t y, int m, int d)
{
    int64_t w = (days_from_civil(y, m, d) + 4) % 7; /* 1970-01-01 was a Thursday */
    int dom = (s->mdays >> d) & 1, dow = (s->wdays >> (w < 0 ? w + 7 : w)) & 1;

    if (s->mday_star || s->wday_star)
        return dom && dow;
    return dom || dow;
}

/* A position in the calendar search. */
struct cal {
    int64_t y;
    int m, d, h, mi;
};

static void
next_day(struct cal *c)
{
    c->h = 0, c->mi = 0;
    if (++c->d > days_in_month(c->y, c->m)) {
        c->d = 1;
        if (++c->m > 12)
            c->m = 1, c->y++;
    }
}

/* The first naive minute at or after nm that matches, skipping by field; -1 past the horizon. */
static int64_t
next_naive(const struct lcb_schedule *s, int64_t nm)
{
    int64_t days = floor_div(nm, 1440), ymax;
    int rem = (int)(nm - days * 1440), v;
    struct cal c;

    civil_from_days(days, &c.y, &c.m, &c.d);
    c.h = rem / 60, c.mi = rem % 60;
    ymax = c.y + HORIZON_YEARS;
    while (c.y <= ymax) {
        if (!(s->months & (1u << c.m))) {
            v = next_bit(s->months, c.m + 1, 12);
            if (v < 0)
                c.y++, v = next_bit(s->months, 1, 12);
            c.m = v, c.d = 1, c.h = 0, c.mi = 0;
        } else if (!day_matches(s, c.y, c.m, c.d)) {
            next_day(&c);
        } else if ((v = next_bit(s->hours, c.h, 23)) != c.h) {
            if (v < 0)
                next_day(&c);
            else
                c.h = v, c.mi = 0;
        } else if ((v = next_bit(s->minutes, c.mi, 59)) != c.mi) {
            if (v >= 0)
                c.mi = v;
            else if (++c.h > 23)
                next_day(&c);
            else
                c.mi = 0;
        } else {
            return days_from_civil(c.y, c.m, c.d) * 1440 + c.h * 60 + c.mi;
        }
    }
    return -1;
}

/* ---- the zone layer ------------------------------------------------------------------------ */

/* UTC offset in seconds of tz at instant t. */
static int64_t
offset_at(const char *tz, time_t t)
{
    struct tm tm;

    lcb_tz_localtime(tz, t, &tm);
    return (int64_t)timegm(&tm) - (int64_t)t;
}

/* Is the offset the same SLACK before and after t (no change near t)? */
static int
quiet_at(const char *tz, time_t t)
{
    return offset_at(tz, t - SLACK) == offset_at(tz, t + SLACK);
}

/* The first instant whose local time is later than naive second n, which lies in a gap that
 * opens at offset o1 and closes at o2 (o2 > o1). */
static time_t
gap_end(const char *tz, int64_t n, int64_t o1, int64_t o2)
{
    time_t lo = (time_t)(n - o2), hi = (time_t)(n - o1), mid;

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;
        if ((int64_t)mid + offset_at(tz, mid) > n)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* The real instants at which s fires for naive minute nm, ascending; returns how many (0-2). */
static int
instants(const struct lcb_schedule *s, const char *tz, int64_t nm, time_t out[2])
{
    int64_t n = nm * 60;
    int64_t o1 = offset_at(tz, (time_t)(n - 86400)), o2 = offset_at(tz, (time_t)(n + 86400));
    int k = 0;

    if (offset_at(tz, (time_t)(n - o1)) == o1)
        out[k++] = (time_t)(n - o1);
    if (o2 != o1 && offset_at(tz, (time_t)(n - o2)) == o2)
        out[k++] = (time_t)(n - o2);
    if (k == 2 && out[1] < out[0]) {
        time_t t = out[0];
        out[0] = out[1], out[1] = t;
    }
    if (k == 2 && s->fixed)
        k = 1; /* a repeated local time: fixed jobs run at the first occurrence only */
    if (k == 0 && s->fixed && o2 > o1) {
        out[k++] = gap_end(tz, n, o1, o2); /* a skipped local time: run when the clock jumps */
    }
    return k;
}

time_t
lcb_schedule_next(const struct lcb_schedule *s, const char *tz, time_t after)
{
    int64_t na = floor_div((int64_t)after + offset_at(tz, after), 60), nm, limit = -1;
    time_t best = -1, ts[2];
    int i, k;

    if (!s->minutes || !s->hours || !s->months || !(s->mdays | s->wdays))
        return -1; /* not parsed */
    nm = quiet_at(tz, after) ? na + 1 : na + 1 - SLACK / 60;
    for (nm = next_naive(s, nm); nm >= 0; nm = next_naive(s, nm + 1)) {
        if (limit >= 0 && nm > limit)
            break;
        k = instants(s, tz, nm, ts);
        for (i = 0; i < k; i++)
            if (ts[i] > after && (best < 0 || ts[i] < best))
                best = ts[i];
        if (best >= 0 && limit < 0) {
            if (quiet_at(tz, best))
                break;
            /* an offset change near best: a later naive minute may still be an earlier instant */
            limit = floor_div((int64_t)best + offset_at(tz, best) + SLACK, 60);
        }
    }
    return best;
}

time_t
lcb_schedule_prev(const struct lcb_schedule *s, const char *tz, time_t at)
{
    time_t k = 60, lo, hi, mid, t;

    /* widen the window (at - k, at] until it holds a slot */
    for (;;) {
        lo = at - k;
        t = lcb_schedule_next(s, tz, lo);
        if (t >= 0 && t <= at)
            break;
        if (k > HORIZON_SECS)
            return -1;
        k *= 2;
    }
    /* the largest lo with next(lo) <= at: then next(lo) is the last slot at or before at */
    hi = at;
    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;
        t = lcb_schedule_next(s, tz, mid);
        if (t >= 0 && t <= at)
            lo = mid;
        else
            hi = mid;
    }
    return lcb_schedule_next(s, tz, lo);
}

int64_t
lcb_schedule_period(const struct lcb_schedule *s, const char *tz, time_t from)
{
    time_t t1 = lcb_schedule_next(s, tz, from), t2;

    if (t1 < 0)
        return -1;
    t2 = lcb_schedule_next(s, tz, t1);
    return t2 < 0 ? -1 : (int64_t)(t2 - t1);
}
