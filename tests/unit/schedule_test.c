/* schedule_test.c - cron parsing, errors, next/prev/period in UTC and across DST, and a randomised
 * comparison of next() with a minute-by-minute scan that applies cron's DST rules on its own. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/core/clock.h"
#include "../../lib/core/err.h"
#include "../../lib/policy/schedule.h"
#include "harness.h"

static time_t
T(const char *s)
{
    time_t t = -1;

    if (lcb_time_parse(s, &t) < 0)
        fprintf(stderr, "  bad time in test: %s\n", s);
    return t;
}

static const char *
fmt(time_t t, char *buf)
{
    return t < 0 ? strcpy(buf, "-1") : lcb_time_fmt(t, buf);
}

/* prev(at) formatted, for CHECK_STR */
static const char *
prev_of(const struct lcb_schedule *s, const char *tz, const char *at, char *buf)
{
    return fmt(lcb_schedule_prev(s, tz, T(at)), buf);
}

static int
parse(struct lcb_schedule *s, const char *expr)
{
    struct lcb_err err;

    lcb_err_clear(&err);
    if (lcb_schedule_parse(s, expr, &err) < 0) {
        fprintf(stderr, "  parse '%s': %s\n", expr, err.msg);
        return -1;
    }
    return 0;
}

/* ---- parsing ------------------------------------------------------------------------------- */

static void
test_parse_fields(void)
{
    struct lcb_schedule s;

    CHECK_INT(parse(&s, "*/15 0-6/2 1,15 jan-mar,Dec mon-fri"), 0);
    CHECK(s.minutes == ((1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45)));
    CHECK_INT(s.hours, (1 << 0) | (1 << 2) | (1 << 4) | (1 << 6));
    CHECK_INT(s.mdays, (1 << 1) | (1 << 15));
    CHECK_INT(s.months, (1 << 1) | (1 << 2) | (1 << 3) | (1 << 12));
    CHECK_INT(s.wdays, 0x3e);
    CHECK_INT(s.mday_star, 0);
    CHECK_INT(s.wday_star, 0);
    CHECK_INT(s.fixed, 0); /* the minute field starts with '*' */
    CHECK_STR(s.expr, "*/15 0-6/2 1,15 jan-mar,Dec mon-fri");

    CHECK_INT(parse(&s, "  30\t2  *  *  * "), 0);
    CHECK_STR(s.expr, "30\t2  *  *  *");
    CHECK(s.minutes == 1ull << 30);
    CHECK_INT(s.hours, 1 << 2);
    CHECK_INT(s.mdays, 0xfffffffe);
    CHECK_INT(s.months, 0x1ffe);
    CHECK_INT(s.wdays, 0x7f);
    CHECK_INT(s.mday_star, 1);
    CHECK_INT(s.wday_star, 1);
    CHECK_INT(s.fixed, 1);

    CHECK_INT(parse(&s, "5/20 * */10 * *"), 0); /* a/n: from a to the end, every n */
    CHECK(s.minutes == ((1ull << 5) | (1ull << 25) | (1ull << 45)));
    CHECK_INT(s.mdays, (1u << 1) | (1u << 11) | (1u << 21) | (1u << 31));
    CHECK_INT(s.mday_star, 1); /* "*\/10" starts with '*': Vixie counts it as unrestricted */
}

static void
test_parse_sunday(void)
{
    struct lcb_schedule s;

    CHECK_INT(parse(&s, "0 0 * * 7"), 0);
    CHECK_INT(s.wdays, 1);
    CHECK_INT(parse(&s, "0 0 * * 0"), 0);
    CHECK_INT(s.wdays, 1);
    CHECK_INT(parse(&s, "0 0 * * SUN"), 0);
    CHECK_INT(s.wdays, 1);
    CHECK_INT(parse(&s, "0 0 * * 5-7"), 0);
    CHECK_INT(s.wdays, (1 << 5) | (1 << 6) | 1);
    CHECK_INT(parse(&s, "0 0 * * fri-sun"), 0);
    CHECK_INT(s.wdays, (1 << 5) | (1 << 6) | 1);
    CHECK_INT(parse(&s, "0 0 * * 0-7"), 0);
    CHECK_INT(s.wdays, 0x7f);
    CHECK_INT(parse(&s, "0 0 * * */2"), 0); /* 0,2,4,6 as cron: "*" is 0-6 here */
    CHECK_INT(s.wdays, (1 << 0) | (1 << 2) | (1 << 4) | (1 << 6));
    CHECK_INT(parse(&s, "0 0 * * Tue,thu"), 0);
    CHECK_INT(s.wdays, (1 << 2) | (1 << 4));
}

static void
test_parse_macros(void)
{
    static const struct {
        const char *macro, *expr;
    } v[] = {
        { "@hourly", "0 * * * *" },   { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
        { "@weekly", "0 0 * * 0" },   { "@monthly", "0 0 1 * *" },  { "@yearly", "0 0 1 1 *" },
        { "@annually", "0 0 1 1 *" }, { " @DAILY ", "0 0 * * *" },
    };
    struct lcb_schedule a, b;
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        CHECK_INT(parse(&a, v[i].macro), 0);
        CHECK_INT(parse(&b, v[i].expr), 0);
        CHECK(a.minutes == b.minutes && a.hours == b.hours && a.mdays == b.mdays &&
              a.months == b.months && a.wdays == b.wdays && a.mday_star == b.mday_star &&
              a.wday_star == b.wday_star && a.fixed == b.fixed);
    }
    CHECK_INT(parse(&a, "@weekly"), 0);
    CHECK_STR(a.expr, "@weekly");
    CHECK_INT(parse(&a, "@hourly"), 0);
    CHECK_INT(a.fixed, 0); /* "0 * ...": the hour is a wildcard */
}

static void
test_parse_errors(void)
{
    static const struct {
        const char *expr, *msg;
    } v[] = {
        { "", "cron expression is empty" },
        { "   ", "cron expression is empty" },
        { "0 3 * *", "cron expression '0 3 * *': has 4 fields, needs 5 (minute hour day-of-month "
                     "month day-of-week) or a macro such as @daily" },
        { "daily", "cron expression 'daily': has 1 field, needs 5 (minute hour day-of-month "
                   "month day-of-week) or a macro such as @daily" },
        { "0 3 * * * *", "cron expression '0 3 * * * *': has more than 5 fields, needs 5 (minute "
                         "hour day-of-month month day-of-week) or a macro such as @daily" },
        { "60 * * * *", "minute field '60': must be 0-59" },
        { "0 24 * * *", "hour field '24': must be 0-23" },
        { "0 20-25 * * *", "hour field '20-25': '25' must be 0-23" },
        { "0 0 0 * *", "day-of-month field '0': must be 1-31" },
        { "0 0 32 * *", "day-of-month field '32': must be 1-31" },
        { "0 0 * 13 *", "month field '13': must be 1-12" },
        { "0 0 * 0 *", "month field '0': must be 1-12" },
        { "0 0 * * 8", "day-of-week field '8': must be 0-7" },
        { "0 0 * * 1,8", "day-of-week field '1,8': '8' must be 0-7" },
        { "0 0 * foo *", "month field 'foo': is not a number or month name (jan-dec)" },
        { "0 0 * * sunday", "day-of-week field 'sunday': is not a number or day name (sun-sat)" },
        { "0 0 * * mon-funday", "day-of-week field 'mon-funday': 'funday' is not a number or day "
                                "name (sun-sat)" },
        { "x * * * *", "minute field 'x': is not a number" },
        { "1x * * * *", "minute field '1x': is not a value, range or step" },
        { "*/0 * * * *", "minute field '*/0': step must be a number 1-59" },
        { "*/ * * * *", "minute field '*/': step must be a number 1-59" },
        { "0 */24 * * *", "hour field '*/24': step must be a number 1-23" },
        { "0 5-1 * * *", "hour field '5-1': is a range whose start is after its end" },
        { "0 1,5-1 * * *", "hour field '1,5-1': '5-1' is a range whose start is after its end" },
        { "0 0 1, * *", "day-of-month field '1,': has an empty list element" },
        { "0 0 ,1 * *", "day-of-month field ',1': has an empty list element" },
        { "0 0 * * mon-", "day-of-week field 'mon-': has a missing value" },
        { "99999999999999999999 * * * *", "minute field '99999999999999999999': must be 0-59" },
        { "@fortnightly", "cron expression '@fortnightly': unknown; use 5 fields or @hourly, "
                          "@daily, @midnight, @weekly, @monthly, @yearly or @annually" },
        { "@reboot", "cron expression '@reboot': unknown; use 5 fields or @hourly, @daily, "
                     "@midnight, @weekly, @monthly, @yearly or @annually" },
    };
    struct lcb_schedule s;
    struct lcb_err err;
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        lcb_err_clear(&err);
        CHECK_INT(lcb_schedule_parse(&s, v[i].expr, &err), -1);
        CHECK_INT(err.code, LCB_ECONFIG);
        CHECK_STR(err.msg, v[i].msg);
    }
}

static void
test_parse_long(void)
{
    char expr[300];
    struct lcb_schedule s;
    struct lcb_err err;
    int i, len = 0;

    /* 0,1,...,59: 169 characters, too long to keep */
    for (i = 0; i < 60; i++)
        len += snprintf(expr + len, sizeof(expr) - (size_t)len, "%s%d", i ? "," : "", i);
    snprintf(expr + len, sizeof(expr) - (size_t)len, " * * * *");
    lcb_err_clear(&err);
    CHECK_INT(lcb_schedule_parse(&s, expr, &err), -1);
    CHECK_STR(err.msg, "cron expression '0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16...': longer "
                       "than 127 characters");
    /* 0,2,...,58 fits */
    for (i = 0, len = 0; i < 60; i += 2)
        len += snprintf(expr + len, sizeof(expr) - (size_t)len, "%s%d", i ? "," : "", i);
    snprintf(expr + len, sizeof(expr) - (size_t)len, " * * * *");
    CHECK_INT(parse(&s, expr), 0);
    CHECK(s.minutes == 0x555555555555555ull);
    CHECK_STR(s.expr, expr);
}

/* ---- next() known answers ------------------------------------------------------------------- */

struct next_case {
    const char *expr, *tz, *from;
    const char *want[4]; /* successive next() results; "-1" for none; NULL ends */
};

static void
run_next_cases(const struct next_case *v, size_t n)
{
    struct lcb_schedule s;
    char got[40], ctx[200];
    size_t i, j;
    time_t t;

    for (i = 0; i < n; i++) {
        if (parse(&s, v[i].expr) < 0) {
            CHECK(0);
            continue;
        }
        t = T(v[i].from);
        for (j = 0; j < 4 && v[i].want[j]; j++) {
            t = lcb_schedule_next(&s, v[i].tz, t);
            snprintf(ctx, sizeof(ctx), "%s", fmt(t, got));
            if (strcmp(ctx, v[i].want[j]) != 0)
                fprintf(stderr, "  next #%zu of '%s' in %s from %s\n", j + 1, v[i].expr,
                        v[i].tz ? v[i].tz : "UTC", v[i].from);
            CHECK_STR(ctx, v[i].want[j]);
            if (t < 0)
                break;
        }
    }
}

static void
test_next_utc(void)
{
    static const struct next_case v[] = {
        { "0 3 * * *", NULL, "2026-11-28T12:01:07Z",
          { "2026-11-29T03:00:00Z", "2026-11-30T03:00:00Z", "2026-12-01T03:00:00Z" } },
        { "0 3 * * *", "UTC", "2026-11-29T02:59:59Z", { "2026-11-29T03:00:00Z" } },
        { "0 3 * * *", NULL, "2026-11-29T03:00:00Z", { "2026-11-30T03:00:00Z" } },
        { "*/15 * * * *", NULL, "2026-01-01T00:07:30Z",
          { "2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z",
            "2026-01-01T01:00:00Z" } },
        { "5/20 * * * *", NULL, "2026-01-01T00:00:00Z",
          { "2026-01-01T00:05:00Z", "2026-01-01T00:25:00Z", "2026-01-01T00:45:00Z",
            "2026-01-01T01:05:00Z" } },
        { "@hourly", NULL, "2026-12-31T23:30:00Z",
          { "2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z" } },
        { "59 23 31 12 *", NULL, "2026-12-31T23:59:00Z", { "2027-12-31T23:59:00Z" } },
        { "@yearly", NULL, "2026-05-05T05:05:05Z",
          { "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z" } },
        { "0 0 1 jan,jul *", NULL, "2026-02-01T00:00:00Z",
          { "2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z" } },
        { "@monthly", NULL, "2026-01-31T12:00:00Z",
          { "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z" } },
        { "@weekly", NULL, "2026-01-01T00:00:00Z", /* a Thursday */
          { "2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z" } },
        { "0 0 * * 7", NULL, "2026-01-04T00:00:00Z", { "2026-01-11T00:00:00Z" } },
        { "0 9-17/4 * * mon-fri", NULL, "2026-01-02T10:00:00Z", /* a Friday */
          { "2026-01-02T13:00:00Z", "2026-01-02T17:00:00Z", "2026-01-05T09:00:00Z" } },
        /* Vixie's either-day rule: the 13th or a Friday */
        { "0 12 13 * 5", NULL, "2026-01-01T00:00:00Z",
          { "2026-01-02T12:00:00Z", "2026-01-09T12:00:00Z", "2026-01-13T12:00:00Z",
            "2026-01-16T12:00:00Z" } },
        { "30 4 1,15 * mon", NULL, "2026-01-01T05:00:00Z",
          { "2026-01-05T04:30:00Z", "2026-01-12T04:30:00Z", "2026-01-15T04:30:00Z",
            "2026-01-19T04:30:00Z" } },
        /* ... but "*\/2" starts with '*': both must match (odd days that are Fridays) */
        { "0 12 */2 * 5", NULL, "2026-01-01T00:00:00Z",
          { "2026-01-09T12:00:00Z", "2026-01-23T12:00:00Z", "2026-02-13T12:00:00Z" } },
        { "0 0 31 2 mon", NULL, "2026-02-01T00:00:00Z",
          { "2026-02-02T00:00:00Z", "2026-02-09T00:00:00Z" } },
        /* month ends and leap days */
        { "0 0 31 * *", NULL, "2026-01-01T00:00:00Z",
          { "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z",
            "2026-07-31T00:00:00Z" } },
        { "0 0 30 * *", NULL, "2026-01-30T00:00:00Z",
          { "2026-03-30T00:00:00Z", "2026-04-30T00:00:00Z" } },
        { "0 0 29 2 *", NULL, "2026-01-01T00:00:00Z",
          { "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z" } },
        { "0 0 29 2 *", NULL, "2024-02-28T23:59:59Z", { "2024-02-29T00:00:00Z" } },
        { "0 0 29 2 *", NULL, "2024-02-29T00:00:00Z", { "2028-02-29T00:00:00Z" } },
        { "0 0 29 2 *", NULL, "2097-03-01T00:00:00Z", { "2104-02-29T00:00:00Z" } }, /* not 2100 */
        { "0 0 28-31 2 *", NULL, "2026-02-28T00:00:00Z",
          { "2027-02-28T00:00:00Z", "2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z" } },
        { "0 0 31 2 *", NULL, "2026-01-01T00:00:00Z", { "-1" } },
        { "0 0 30 2 *", NULL, "2026-01-01T00:00:00Z", { "-1" } },
        { "0 0 31 4,6,9,11 *", NULL, "2026-01-01T00:00:00Z", { "-1" } },
        /* before 1970 and a fraction of a minute */
        { "0 0 1 1 *", NULL, "1969-06-01T00:00:00Z", { "1970-01-01T00:00:00Z" } },
        { "* * * * *", NULL, "1969-12-31T23:59:30Z",
          { "1970-01-01T00:00:00Z", "1970-01-01T00:01:00Z" } },
    };

    run_next_cases(v, sizeof(v) / sizeof(v[0]));
}

/* Europe/Berlin in 2026: spring forward on 29 March at 01:00Z (02:00 CET -> 03:00 CEST), fall
 * back on 25 October at 01:00Z (03:00 CEST -> 02:00 CET). */
static void
test_next_dst_berlin(void)
{
    static const char *B = "Europe/Berlin";
    static const struct next_case v[] = {
        /* a fixed job in the gap runs once, when the clock jumps */
        { "30 2 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z",
          { "2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z" } },
        { "0 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
          { "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z" } },
        { "0 2,3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", /* 02:00 and 03:00 coincide */
          { "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T01:00:00Z" } },
        /* a fixed job in the repeated hour runs at its first occurrence only */
        { "30 2 * * *", "Europe/Berlin", "2026-10-24T00:00:00Z",
          { "2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z" } },
        { "30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", { "2026-10-26T01:30:00Z" } },
        /* wildcard jobs follow real time: skipped times do not run, repeated ones run twice */
        { "30 * * * *", "Europe/Berlin", "2026-03-29T00:00:00Z",
          { "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z" } },
        { "*/20 2 * * *", "Europe/Berlin", "2026-03-28T23:00:00Z", { "2026-03-30T00:00:00Z" } },
        { "30 * * * *", "Europe/Berlin", "2026-10-24T23:00:00Z",
          { "2026-10-24T23:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z",
            "2026-10-25T02:30:00Z" } },
        { "*/20 2 * * *", "Europe/Berlin", "2026-10-25T00:00:00Z",
          { "2026-10-25T00:20:00Z", "2026-10-25T00:40:00Z", "2026-10-25T01:00:00Z",
            "2026-10-25T01:20:00Z" } },
        /* from inside the first pass of the repeated hour, the second pass comes next */
        { "0 * * * *", "Europe/Berlin", "2026-10-25T00:30:00Z",
          { "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z" } },
        { "@daily", "Europe/Berlin", "2026-03-28T12:00:00Z",
          { "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z" } },
        { "0 0 29 2 *", "Europe/Berlin", "2026-01-01T00:00:00Z", { "2028-02-28T23:00:00Z" } },
        { "0 0 31 2 *", "Europe/Berlin", "2026-01-01T00:00:00Z", { "-1" } },
    };
    struct lcb_schedule s;
    char buf[40];

    run_next_cases(v, sizeof(v) / sizeof(v[0]));

    /* prev() honours the same rules */
    CHECK_INT(parse(&s, "30 2 * * *"), 0);
    CHECK_STR(prev_of(&s, B, "2026-10-25T01:45:00Z", buf), "2026-10-25T00:30:00Z");
    CHECK_STR(prev_of(&s, B, "2026-03-29T01:00:00Z", buf), "2026-03-29T01:00:00Z");
    CHECK_STR(prev_of(&s, B, "2026-03-29T00:59:59Z", buf), "2026-03-28T01:30:00Z");
    CHECK_INT(parse(&s, "30 * * * *"), 0);
    CHECK_STR(prev_of(&s, B, "2026-10-25T01:45:00Z", buf), "2026-10-25T01:30:00Z");
    CHECK_STR(prev_of(&s, B, "2026-03-29T01:29:00Z", buf), "2026-03-29T00:30:00Z");

    /* period across the spring-forward day: 03:00 CET to 03:00 CEST is 23 hours */
    CHECK_INT(parse(&s, "0 3 * * *"), 0);
    CHECK_INT(lcb_schedule_period(&s, B, T("2026-03-27T12:00:00Z")), 23 * 3600);
    CHECK_INT(lcb_schedule_period(&s, B, T("2026-10-23T12:00:00Z")), 25 * 3600);
    CHECK_INT(lcb_schedule_period(&s, B, T("2026-06-01T12:00:00Z")), 24 * 3600);
}

/* America/New_York (02:00 local changes) and Australia/Lord_Howe (a 30-minute shift). */
static void
test_next_dst_other(void)
{
    static const struct next_case v[] = {
        /* 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00Z; 2026-11-01: 02:00 EDT -> 01:00 EST */
        { "30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z",
          { "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z" } },
        { "30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z",
          { "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z" } },
        { "30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", { "2026-11-02T06:30:00Z" } },
        { "*/30 1 * * *", "America/New_York", "2026-11-01T05:15:00Z",
          { "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z",
            "2026-11-02T06:00:00Z" } },
        /* Lord Howe 2026-10-04: 02:00 +1030 -> 02:30 +11 at 2026-10-03T15:30Z */
        { "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z",
          { "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z" } },
        { "45 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z",
          { "2026-10-03T15:45:00Z" } },
    };

    run_next_cases(v, sizeof(v) / sizeof(v[0]));
}

static void
test_prev_and_period(void)
{
    struct lcb_schedule s;
    char buf[40];

    CHECK_INT(parse(&s, "0 3 * * *"), 0);
    CHECK_STR(prev_of(&s, NULL, "2026-11-28T12:00:00Z", buf), "2026-11-28T03:00:00Z");
    CHECK_STR(prev_of(&s, NULL, "2026-11-28T03:00:00Z", buf), "2026-11-28T03:00:00Z");
    CHECK_STR(prev_of(&s, NULL, "2026-11-28T02:59:59Z", buf), "2026-11-27T03:00:00Z");
    CHECK_INT(lcb_schedule_period(&s, NULL, T("2026-11-28T12:00:00Z")), 86400);
    CHECK_INT(parse(&s, "0 0 29 2 *"), 0);
    CHECK_STR(prev_of(&s, NULL, "2027-06-01T00:00:00Z", buf), "2024-02-29T00:00:00Z");
    CHECK_STR(prev_of(&s, NULL, "2104-01-01T00:00:00Z", buf), "2096-02-29T00:00:00Z");
    CHECK_INT(lcb_schedule_period(&s, NULL, T("2027-06-01T00:00:00Z")), 4 * 365 * 86400 + 86400);
    CHECK_INT(parse(&s, "0 0 31 2 *"), 0);
    CHECK_INT(lcb_schedule_prev(&s, NULL, T("2027-06-01T00:00:00Z")), -1);
    CHECK_INT(lcb_schedule_period(&s, NULL, T("2027-06-01T00:00:00Z")), -1);
    CHECK_INT(parse(&s, "*/15 * * * *"), 0);
    CHECK_INT(lcb_schedule_period(&s, "Europe/Berlin", T("2026-10-25T00:50:00Z")), 900);
    CHECK_INT(parse(&s, "0 3 * * 1-5"), 0);
    CHECK_INT(lcb_schedule_period(&s, NULL, T("2026-11-27T00:00:00Z")), 3 * 86400); /* Fri->Mon */
    CHECK_STR(prev_of(&s, NULL, "2026-11-30T02:00:00Z", buf), "2026-11-27T03:00:00Z");
}

/* A parsed-nothing (zeroed) schedule never fires rather than looping. */
static void
test_zeroed(void)
{
    struct lcb_schedule s;

    memset(&s, 0, sizeof(s));
    CHECK_INT(lcb_schedule_next(&s, NULL, T("2026-01-01T00:00:00Z")), -1);
    CHECK_INT(lcb_schedule_prev(&s, NULL, T("2026-01-01T00:00:00Z")), -1);
}

/* next() skips by field: a year of misses costs a few calendar steps, not 500,000 minutes. */
static void
test_fast(void)
{
    struct lcb_schedule never, leap;
    int64_t t0 = lcb_mono_ms();
    time_t t = T("2026-01-01T00:00:00Z");
    int i, ok = 1;

    CHECK_INT(parse(&never, "0 0 31 2 *"), 0);
    CHECK_INT(parse(&leap, "59 23 29 2 *"), 0);
    for (i = 0; i < 200; i++) {
        ok &= lcb_schedule_next(&never, "Europe/Berlin", t + i * 3600) == -1;
        ok &= lcb_schedule_next(&leap, "Europe/Berlin", t + i * 3600) > t;
    }
    CHECK(ok);
    /* generous enough for sanitizers; a minute-by-minute scan needs many seconds per call */
    CHECK(lcb_mono_ms() - t0 < 5000);
}

/* ---- randomised comparison with a minute-by-minute scan -------------------------------------- */

static uint64_t rng = 0x5eed2026ull;

static uint64_t
rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int
rn(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

/* One random field for [lo, hi]: "*", a value, a range, a step or a list. */
static void
random_field(char *out, size_t size, int lo, int hi, int star_weight)
{
    int a = lo + rn(hi - lo + 1), b = a + rn(hi - a + 1);

    switch (rn(5 + star_weight)) {
    case 0: snprintf(out, size, "%d", a); break;
    case 1: snprintf(out, size, "%d-%d", a, b); break;
    case 2: snprintf(out, size, "*/%d", 1 + rn(hi > 12 ? 20 : 4)); break;
    case 3: snprintf(out, size, "%d,%d", a, b); break;
    case 4: snprintf(out, size, "%d-%d/%d", a, b, 1 + rn(5)); break;
    default: snprintf(out, size, "*"); break;
    }
}

/* Does the local broken-down time match s (Vixie's day rule)? */
static int
tm_matches(const struct lcb_schedule *s, const struct tm *tm)
{
    int dom = (s->mdays >> tm->tm_mday) & 1, dow = (s->wdays >> tm->tm_wday) & 1;
    int day = s->mday_star || s->wday_star ? dom && dow : dom || dow;

    return ((s->minutes >> tm->tm_min) & 1) && ((s->hours >> tm->tm_hour) & 1) && day &&
           ((s->months >> (tm->tm_mon + 1)) & 1);
}

static long long
naive_min(const struct tm *tm)
{
    struct tm c = *tm;

    return (long long)timegm(&c) / 60;
}

/* The first firing after `after` by scanning every minute from after - 4h to after + span, with
 * TZ already set for localtime_r. Fixed jobs: a repeated local minute does not fire again; a
 * local minute skipped by a jump fires at the jump. Wildcard jobs: every matching minute. */
static time_t
scan_next(const struct lcb_schedule *s, time_t after, time_t span)
{
    time_t t = (after / 60) * 60 - 4 * 3600, end = after + span;
    long long seen = -1, prev = -1, nm, k;
    struct tm tm;
    int fire;

    for (; t <= end; t += 60) {
        localtime_r(&t, &tm);
        nm = naive_min(&tm);
        fire = tm_matches(s, &tm) && (!s->fixed || nm > seen);
        if (s->fixed && prev >= 0 && nm > prev + 1) {
            for (k = prev + 1; k < nm && !fire; k++) {
                time_t kt = (time_t)(k * 60);
                struct tm ktm;

                gmtime_r(&kt, &ktm); /* the skipped local minute, as fields */
                fire = tm_matches(s, &ktm);
            }
        }
        if (nm > seen)
            seen = nm;
        prev = nm;
        if (fire && t > after)
            return t;
    }
    return -1;
}

/* Offset changes in 2026 (and two quiet days), with the local hour they skip or repeat. */
static const struct {
    const char *tz, *at;
    int hour;
} changes[] = {
    { "Europe/Berlin", "2026-03-29T01:00:00Z", 2 },       /* 02:00 -> 03:00 */
    { "Europe/Berlin", "2026-10-25T01:00:00Z", 2 },       /* 03:00 -> 02:00 */
    { "America/New_York", "2026-03-08T07:00:00Z", 2 },    /* 02:00 -> 03:00 */
    { "America/New_York", "2026-11-01T06:00:00Z", 1 },    /* 02:00 -> 01:00 */
    { "Australia/Lord_Howe", "2026-04-04T15:00:00Z", 1 }, /* 02:00 -> 01:30 */
    { "Australia/Lord_Howe", "2026-10-03T15:30:00Z", 2 }, /* 02:00 -> 02:30 */
    { "America/Santiago", "2026-04-05T03:00:00Z", 23 },   /* 00:00 -> 23:00 the day before */
    { "America/Santiago", "2026-09-06T04:00:00Z", 0 },    /* 00:00 -> 01:00, no midnight */
    { "UTC", "2024-02-28T20:00:00Z", 23 },
    { "Asia/Kathmandu", "2026-12-31T18:00:00Z", 0 },      /* +05:45 */
};

static void
test_next_random(void)
{
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    char f[5][32], expr[200], a[40], b[40], w[40];
    struct lcb_schedule s;
    int i, c, mismatches = 0, compared = 0, fixed = 0, near = 0;

    for (i = 0; i < 2000; i++) {
        int spread = rn(2) ? 4 * 86400 : 4 * 3600; /* half of them close to the change */
        time_t after, want, got;

        c = rn((int)(sizeof(changes) / sizeof(changes[0])));
        after = T(changes[c].at) + (time_t)rn(spread) - spread / 2 + rn(2) * rn(60);
        random_field(f[0], sizeof(f[0]), 0, 59, 1);
        random_field(f[1], sizeof(f[1]), 0, 23, 2);
        random_field(f[2], sizeof(f[2]), 1, 31, 8);
        random_field(f[3], sizeof(f[3]), 1, 12, 8);
        random_field(f[4], sizeof(f[4]), 0, 7, 6);
        if (rn(2)) { /* often the hour that is skipped or repeated, or its neighbours */
            int h = (changes[c].hour + rn(3) + 23) % 24;
            if (rn(3))
                snprintf(f[1], sizeof(f[1]), "%d", h);
            else
                snprintf(f[1], sizeof(f[1]), "%d,%d", h, (h + 1) % 24);
        }
        if (rn(2))
            snprintf(f[0], sizeof(f[0]), "%d", rn(60));
        snprintf(expr, sizeof(expr), "%s %s %s %s %s", f[0], f[1], f[2], f[3], f[4]);
        if (parse(&s, expr) < 0) {
            CHECK(0);
            continue;
        }
        setenv("TZ", changes[c].tz, 1);
        tzset();
        want = scan_next(&s, after, 3 * 86400);
        got = lcb_schedule_next(&s, changes[c].tz, after);
        if (want < 0) /* nothing in the scanned 3 days: next() must agree it is later */
            want = got > after + 3 * 86400 || got == -1 ? got : -2;
        compared++;
        fixed += s.fixed;
        near += got >= 0 && llabs((long long)(got - T(changes[c].at))) < 3 * 3600;
        if (got != want && mismatches++ < 5)
            fprintf(stderr, "  '%s' in %s after %s: next %s, scan %s\n", expr, changes[c].tz,
                    lcb_time_fmt(after, a), fmt(got, b),
                    want == -2 ? "none in 3 days" : fmt(want, w));
    }
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
    CHECK_INT(mismatches, 0);
    CHECK_INT(compared, 2000);
    CHECK(fixed > 500 && near > 200); /* the cases exercise the DST rules */
    if (fixed <= 500 || near <= 200)
        fprintf(stderr, "  fixed %d, near a change %d\n", fixed, near);
}

/* prev() is the inverse of next(): p = prev(t) is a slot at or before t and the next slot is
 * after t. */
static void
test_prev_random(void)
{
    static const char *const exprs[] = { "30 2 * * *", "*/20 2 * * *", "0 * * * *",
                                         "15 1-3 * * 0", "0 0 29 2 *", "45 23 31 * *",
                                         "0 12 13 * 5", "@weekly" };
    static const char *const zones[] = { "UTC", "Europe/Berlin", "America/New_York" };
    struct lcb_schedule s;
    int i, bad = 0;
    char a[40], b[40];

    for (i = 0; i < 120; i++) {
        const char *tz = zones[rn(3)];
        time_t at = T("2026-03-20T00:00:00Z") + (time_t)rn(240 * 86400), p;

        if (parse(&s, exprs[rn(8)]) < 0) {
            CHECK(0);
            continue;
        }
        p = lcb_schedule_prev(&s, tz, at);
        if (p < 0 || p > at || lcb_schedule_next(&s, tz, p - 1) != p ||
            lcb_schedule_next(&s, tz, p) <= at) {
            if (bad++ < 5)
                fprintf(stderr, "  prev '%s' in %s at %s: %s\n", s.expr, tz, lcb_time_fmt(at, a),
                        fmt(p, b));
        }
    }
    CHECK_INT(bad, 0);
}

int
main(void)
{
    RUN(test_parse_fields);
    RUN(test_parse_sunday);
    RUN(test_parse_macros);
    RUN(test_parse_errors);
    RUN(test_parse_long);
    RUN(test_next_utc);
    RUN(test_next_dst_berlin);
    RUN(test_next_dst_other);
    RUN(test_prev_and_period);
    RUN(test_zeroed);
    RUN(test_fast);
    RUN(test_next_random);
    RUN(test_prev_random);
    return harness_done();
}
