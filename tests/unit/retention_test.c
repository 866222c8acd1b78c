/* retention_test.c - restic `forget` semantics: known-answer tables across ISO-week and year
 * boundaries, month ends, leap days, DST and time zones, keep-within, min-age, the empty policy;
 * then random histories and policies compared with an independent reference written below. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/core/clock.h"
#include "../../lib/policy/retention.h"
#include "harness.h"

static time_t
T(const char *s)
{
    time_t t = -1;

    if (lcb_time_parse(s, &t) < 0)
        fprintf(stderr, "  bad time in test: %s\n", s);
    return t;
}

/* A known-answer case: backups (any order) with the reasons each one must get. */
struct kcase {
    const char *name;
    struct lcb_retention r;
    const char *tz, *now; /* now NULL: the newest backup */
    const char *items[16][2]; /* { time, "reason,reason" or "" }; NULL ends */
};

static void
run_case(const struct kcase *c)
{
    struct lcb_ret_item items[16];
    char got[128];
    time_t now = 0;
    size_t n, i;

    for (n = 0; n < 16 && c->items[n][0]; n++) {
        items[n].time = T(c->items[n][0]);
        items[n].reasons = 0xdead; /* must be overwritten */
        if (n == 0 || items[n].time > now)
            now = items[n].time;
    }
    if (c->now)
        now = T(c->now);
    lcb_retention_apply(&c->r, c->tz, now, items, n);
    for (i = 0; i < n; i++) {
        lcb_retention_reasons(items[i].reasons, got, sizeof(got));
        if (strcmp(got, c->items[i][1]) != 0)
            fprintf(stderr, "  %s: backup %s\n", c->name, c->items[i][0]);
        CHECK_STR(got, c->items[i][1]);
    }
}

#define RET(last, h, d, w, m, y, within, minage) { last, h, d, w, m, y, within, minage }

/* 2020 has 53 ISO weeks: Mon 2020-12-28 to Sun 2021-01-03 is 2020-W53, 2021-01-04 is 2021-W01. */
static void
test_iso_week_2020(void)
{
    static const struct kcase c1 = {
        "weekly 2 monthly 2 yearly 2", RET(0, 0, 0, 2, 2, 2, 0, 0), NULL, NULL,
        { { "2021-01-05T12:00:00Z", "weekly,monthly,yearly" },
          { "2021-01-04T12:00:00Z", "" },
          { "2021-01-03T12:00:00Z", "weekly" },
          { "2021-01-02T12:00:00Z", "" },
          { "2021-01-01T12:00:00Z", "" },
          { "2020-12-31T12:00:00Z", "monthly,yearly" },
          { "2020-12-30T12:00:00Z", "" },
          { "2020-12-29T12:00:00Z", "" },
          { "2020-12-28T12:00:00Z", "" } },
    };
    /* weekly 3 has a count left at the oldest backup: restic keeps it too */
    static const struct kcase c2 = {
        "weekly 3", RET(0, 0, 0, 3, 0, 0, 0, 0), NULL, NULL,
        { { "2020-12-28T12:00:00Z", "weekly" },
          { "2021-01-03T12:00:00Z", "weekly" },
          { "2021-01-01T12:00:00Z", "" },
          { "2020-12-31T12:00:00Z", "" },
          { "2021-01-04T12:00:00Z", "weekly" } },
    };
    /* daily across the year end, any input order */
    static const struct kcase c3 = {
        "daily 3 last 1", RET(1, 0, 3, 0, 0, 0, 0, 0), NULL, NULL,
        { { "2020-12-31T23:59:59Z", "daily" },
          { "2021-01-01T00:00:00Z", "" },
          { "2021-01-01T00:00:01Z", "last,daily" },
          { "2020-12-31T00:00:00Z", "" },
          { "2020-12-30T10:00:00Z", "daily" },
          { "2020-12-29T10:00:00Z", "" } },
    };

    run_case(&c1);
    run_case(&c2);
    run_case(&c3);
}

/* 2026 has 53 ISO weeks too: 2026-12-28 (Mon) to 2027-01-03 (Sun) is 2026-W53. The same history
 * at 23:30Z falls one day later in Europe/Berlin, so its buckets move. */
static void
test_iso_week_2026_zones(void)
{
    static const struct kcase utc = {
        "utc", RET(0, 0, 0, -1, 0, -1, 0, 0), NULL, NULL,
        { { "2027-01-03T23:30:00Z", "weekly,yearly" },
          { "2027-01-02T23:30:00Z", "" },
          { "2027-01-01T23:30:00Z", "" },
          { "2026-12-31T23:30:00Z", "yearly" },
          { "2026-12-30T23:30:00Z", "" },
          { "2026-12-29T23:30:00Z", "" },
          { "2026-12-28T23:30:00Z", "" },
          { "2026-12-27T23:30:00Z", "weekly,yearly" } },
    };
    static const struct kcase berlin = {
        "berlin", RET(0, 0, 0, -1, 0, -1, 0, 0), "Europe/Berlin", NULL,
        { { "2027-01-03T23:30:00Z", "weekly,yearly" }, /* Mon 2027-01-04 00:30: 2027-W01 */
          { "2027-01-02T23:30:00Z", "weekly" },        /* Sun 2027-01-03: 2026-W53 */
          { "2027-01-01T23:30:00Z", "" },
          { "2026-12-31T23:30:00Z", "" },              /* 2027-01-01 00:30 local */
          { "2026-12-30T23:30:00Z", "yearly" },        /* 2026-12-31 00:30 local */
          { "2026-12-29T23:30:00Z", "" },
          { "2026-12-28T23:30:00Z", "" },
          { "2026-12-27T23:30:00Z", "weekly,yearly" } }, /* the oldest, rules unlimited */
    };

    run_case(&utc);
    run_case(&berlin);
}

/* Month ends and 29 February, in UTC and in New York (UTC-5 in winter). */
static void
test_month_ends_leap(void)
{
    static const struct kcase utc = {
        "utc", RET(0, 0, 3, 0, 4, 0, 0, 0), NULL, NULL,
        { { "2024-01-31T22:00:00Z", "monthly" },
          { "2024-02-01T01:00:00Z", "" },
          { "2024-02-28T12:00:00Z", "daily" },
          { "2024-02-29T12:00:00Z", "" },
          { "2024-02-29T18:00:00Z", "daily,monthly" },
          { "2024-03-01T00:00:00Z", "" },
          { "2024-03-01T06:00:00Z", "daily,monthly" } },
    };
    static const struct kcase ny = {
        "new york", RET(0, 0, 3, 0, 4, 0, 0, 0), "America/New_York", NULL,
        { { "2024-01-31T22:00:00Z", "monthly" },       /* 01-31 17:00, the oldest */
          { "2024-02-01T01:00:00Z", "monthly" },       /* 01-31 20:00 */
          { "2024-02-28T12:00:00Z", "daily" },
          { "2024-02-29T12:00:00Z", "" },
          { "2024-02-29T18:00:00Z", "" },
          { "2024-03-01T00:00:00Z", "daily,monthly" }, /* 02-29 19:00 */
          { "2024-03-01T06:00:00Z", "daily,monthly" } },
    };
    /* yearly on a leap day and the 31st of December */
    static const struct kcase years = {
        "yearly", RET(0, 0, 0, 0, 0, 2, 0, 0), NULL, NULL,
        { { "2024-02-29T00:00:00Z", "" },
          { "2024-12-31T23:59:59Z", "yearly" },
          { "2025-01-01T00:00:00Z", "" },
          { "2025-12-31T00:00:00Z", "yearly" },
          { "2023-12-31T23:59:59Z", "" } },
    };

    run_case(&utc);
    run_case(&ny);
    run_case(&years);
}

/* Europe/Berlin 2026-10-25: 03:00 CEST -> 02:00 CET at 01:00Z, so local 02:xx happens twice and
 * is one hourly bucket; 2026-03-29: 02:00 CET -> 03:00 CEST at 01:00Z. */
static void
test_dst_hourly(void)
{
    static const struct kcase fall = {
        "fall back", RET(0, 3, 0, 0, 0, 0, 0, 0), "Europe/Berlin", NULL,
        { { "2026-10-24T23:50:00Z", "hourly" }, /* 01:50 CEST */
          { "2026-10-25T00:10:00Z", "" },       /* 02:10 CEST */
          { "2026-10-25T00:40:00Z", "" },       /* 02:40 CEST */
          { "2026-10-25T01:10:00Z", "" },       /* 02:10 CET */
          { "2026-10-25T01:40:00Z", "hourly" }, /* 02:40 CET */
          { "2026-10-25T02:10:00Z", "hourly" } },
    };
    static const struct kcase fall_utc = {
        "fall back in utc", RET(0, 3, 0, 0, 0, 0, 0, 0), NULL, NULL,
        { { "2026-10-24T23:50:00Z", "" },
          { "2026-10-25T00:10:00Z", "" },
          { "2026-10-25T00:40:00Z", "hourly" },
          { "2026-10-25T01:10:00Z", "" },
          { "2026-10-25T01:40:00Z", "hourly" },
          { "2026-10-25T02:10:00Z", "hourly" } },
    };
    static const struct kcase spring = {
        "spring forward", RET(0, -1, 2, 0, 0, 0, 0, 0), "Europe/Berlin", NULL,
        { { "2026-03-28T22:59:00Z", "hourly,daily" }, /* 23:59 CET, Saturday, the oldest */
          { "2026-03-29T00:30:00Z", "hourly" },       /* 01:30 CET */
          { "2026-03-29T01:00:00Z", "" },             /* 03:00 CEST */
          { "2026-03-29T01:30:00Z", "hourly,daily" } }, /* 03:30 CEST */
    };

    run_case(&fall);
    run_case(&fall_utc);
    run_case(&spring);
}

static void
test_keep_last_ties(void)
{
    /* equal times keep input order: the first two of the three ties are the "newest" */
    static const struct kcase c = {
        "ties", RET(2, 0, 0, 0, 0, 0, 0, 0), NULL, NULL,
        { { "2026-01-01T00:00:00Z", "" },
          { "2026-01-02T00:00:00Z", "last" },
          { "2026-01-02T00:00:00Z", "last" },
          { "2026-01-02T00:00:00Z", "" } },
    };
    static const struct kcase few = {
        "fewer than keep_last", RET(5, 0, 0, 0, 0, 0, 0, 0), NULL, NULL,
        { { "2026-01-01T00:00:00Z", "last" }, { "2026-01-03T00:00:00Z", "last" } },
    };
    /* the daily rule keeps the first of equal times in a day, and restic's oldest rule applies
     * to the last in the sorted order (the tie that came last in the input) */
    static const struct kcase daily = {
        "daily ties", RET(0, 0, -1, 0, 0, 0, 0, 0), NULL, NULL,
        { { "2026-01-02T08:00:00Z", "daily" },
          { "2026-01-02T08:00:00Z", "" },
          { "2026-01-01T08:00:00Z", "daily" },
          { "2026-01-01T08:00:00Z", "daily" } },
    };

    run_case(&c);
    run_case(&few);
    run_case(&daily);
}

static void
test_within_and_min_age(void)
{
    /* within 24h of the newest (not of now), strictly */
    static const struct kcase within = {
        "within", RET(0, 0, 0, 0, 0, 0, 86400, 0), NULL, "2026-06-30T00:00:00Z",
        { { "2026-06-10T12:00:00Z", "within" },
          { "2026-06-10T11:00:00Z", "within" },
          { "2026-06-09T12:00:01Z", "within" },
          { "2026-06-09T12:00:00Z", "" },
          { "2026-06-08T12:00:00Z", "" } },
    };
    /* a backup dated after now (a skewed clock) does not move the window, but is kept */
    static const struct kcase future = {
        "future", RET(0, 0, 0, 0, 0, 0, 3600, 0), NULL, "2026-06-10T12:00:00Z",
        { { "2026-06-11T12:00:00Z", "within" },
          { "2026-06-10T12:00:00Z", "within" },
          { "2026-06-10T11:30:00Z", "within" },
          { "2026-06-10T10:00:00Z", "" } },
    };
    static const struct kcase all_future = {
        "all in the future", RET(0, 0, 0, 0, 0, 0, 3600, 0), NULL, "2026-06-01T00:00:00Z",
        { { "2026-06-11T12:00:00Z", "within" }, { "2026-06-10T10:00:00Z", "within" } },
    };
    run_case(&within);
    run_case(&future);
    run_case(&all_future);
}

static void
test_min_age(void)
{
    /* now 13:00, min-age 2h: younger than 2h is 11:00:01 and later (and the future); min-age
     * adds to the rules, it does not take young backups out of their count */
    static const struct kcase c = {
        "min-age", RET(1, 0, 0, 0, 0, 0, 0, 7200), NULL, "2026-06-10T13:00:00Z",
        { { "2026-06-10T12:00:00Z", "min-age" },
          { "2026-06-10T11:30:00Z", "min-age" },
          { "2026-06-10T11:00:00Z", "" },
          { "2026-06-10T14:00:00Z", "last,min-age" } },
    };

    run_case(&c);
}

static void
test_empty(void)
{
    static const struct lcb_retention none = RET(0, 0, 0, 0, 0, 0, 0, 0);
    static const struct lcb_retention age_only = RET(0, 0, 0, 0, 0, 0, 0, 3600);
    static const struct lcb_retention within = RET(0, 0, 0, 0, 0, 0, 60, 0);
    static const struct lcb_retention unlimited = RET(0, 0, 0, 0, 0, -1, 0, 0);
    static const struct kcase keep_all = {
        "empty", RET(0, 0, 0, 0, 0, 0, 0, 3600), NULL, "2026-01-02T00:30:00Z",
        { { "2026-01-01T00:00:00Z", "empty-policy" },
          { "2026-01-02T00:00:00Z", "min-age,empty-policy" } },
    };

    CHECK_INT(lcb_retention_empty(&none), 1);
    CHECK_INT(lcb_retention_empty(&age_only), 1);
    CHECK_INT(lcb_retention_empty(&within), 0);
    CHECK_INT(lcb_retention_empty(&unlimited), 0);
    run_case(&keep_all);
    lcb_retention_apply(&unlimited, NULL, 0, NULL, 0); /* nothing to decide, no crash */
}

static void
test_reason_names(void)
{
    char buf[96];

    CHECK_STR(lcb_retention_reasons(0, buf, sizeof(buf)), "");
    CHECK_STR(lcb_retention_reasons(LCB_KEEP_LAST | LCB_KEEP_WEEKLY | LCB_KEEP_MIN_AGE, buf,
                                    sizeof(buf)),
              "last,weekly,min-age");
    CHECK_STR(lcb_retention_reasons(0x1ff, buf, sizeof(buf)),
              "last,hourly,daily,weekly,monthly,yearly,within,min-age,empty-policy");
    CHECK_STR(lcb_retention_reasons(LCB_KEEP_LAST | LCB_KEEP_WEEKLY, buf, 12), "last,weekly");
    CHECK_STR(lcb_retention_reasons(LCB_KEEP_LAST | LCB_KEEP_WEEKLY, buf, 11), "last");
    CHECK_STR(lcb_retention_reasons(LCB_KEEP_DAILY, buf, 3), "");
}

/* ---- the reference ----------------------------------------------------------------------------
 * Written from restic's description, rule by rule rather than backup by backup: TZ is set once,
 * buckets are strftime strings (%G-W%V for ISO weeks), the order comes from an insertion sort. */

struct ref_rule {
    int count;
    const char *fmt; /* NULL: every backup is its own bucket (keep_last) */
    unsigned bit;
};

static void
ref_apply(const struct lcb_retention *r, const char *tz, time_t now, const time_t *times, size_t n,
          unsigned *out)
{
    const struct ref_rule rules[] = {
        { r->keep_last, NULL, LCB_KEEP_LAST },   { r->hourly, "%Y-%m-%d %H", LCB_KEEP_HOURLY },
        { r->daily, "%Y-%m-%d", LCB_KEEP_DAILY }, { r->weekly, "%G-W%V", LCB_KEEP_WEEKLY },
        { r->monthly, "%Y-%m", LCB_KEEP_MONTHLY }, { r->yearly, "%Y", LCB_KEEP_YEARLY },
    };
    size_t order[200], i, j, k, ri;
    int any_rule = r->keep_within != 0, have_newest = 0;
    time_t newest = 0;

    setenv("TZ", tz ? tz : "UTC", 1);
    tzset();
    for (i = 0; i < n; i++) {
        for (j = i; j > 0 && times[order[j - 1]] < times[i]; j--)
            order[j] = order[j - 1];
        order[j] = i;
        out[i] = r->min_age > 0 && now - times[i] < r->min_age ? LCB_KEEP_MIN_AGE : 0;
        if (times[i] <= now && (!have_newest || times[i] > newest))
            newest = times[i], have_newest = 1;
    }
    for (ri = 0; ri < 6; ri++)
        any_rule |= rules[ri].count != 0;
    if (!any_rule) {
        for (i = 0; i < n; i++)
            out[i] |= LCB_KEEP_EMPTY;
        return;
    }
    for (i = 0; i < n && r->keep_within > 0; i++)
        if (!have_newest || times[i] > newest - r->keep_within)
            out[i] |= LCB_KEEP_WITHIN;
    for (ri = 0; ri < 6; ri++) {
        char last[40] = "", key[40];
        int left = rules[ri].count;

        if (left < -1)
            continue;
        for (k = 0; k < n && left != 0; k++) {
            struct tm tm;

            localtime_r(&times[order[k]], &tm);
            if (rules[ri].fmt)
                strftime(key, sizeof(key), rules[ri].fmt, &tm);
            else
                snprintf(key, sizeof(key), "#%zu", k);
            if (strcmp(key, last) != 0 || k == n - 1) {
                out[order[k]] |= rules[ri].bit;
                strcpy(last, key);
                if (left > 0)
                    left--;
            }
        }
    }
}

static uint64_t rng = 0x2026a11ce5ull;

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

static int
pick_count(void)
{
    static const int v[] = { 0, 0, 0, 0, 1, 2, 3, 4, 7, 12, -1 };

    return v[rn((int)(sizeof(v) / sizeof(v[0])))];
}

/* A random history: a start near an interesting date, a cadence, jitter, ties and gaps. */
static size_t
random_history(time_t *times, size_t max)
{
    static const char *const near[] = { "2020-12-31T12:00:00Z", "2026-12-31T20:00:00Z",
                                        "2024-02-29T12:00:00Z", "2026-10-25T01:00:00Z",
                                        "2026-03-29T01:00:00Z", "2021-01-04T00:00:00Z",
                                        "2026-11-01T06:00:00Z", "2027-01-04T00:00:00Z" };
    static const int cadence[] = { 600, 3600, 4 * 3600, 86400, 86400, 3 * 86400, 7 * 86400 };
    size_t n = (size_t)rn(rn(4) ? 60 : (int)max), i;
    time_t t = rn(3) ? T(near[rn(8)]) + rn(40 * 86400) - 20 * 86400
                     : T("2019-01-01T00:00:00Z") + (time_t)rn(10 * 365) * 86400;
    int step = cadence[rn(7)];

    for (i = 0; i < n; i++) {
        times[i] = t;
        if (rn(10) == 0)
            continue; /* a tie */
        t -= step + rn(step) - step / 2;
        if (rn(25) == 0)
            t -= (time_t)rn(60) * 86400; /* a gap */
    }
    for (i = n; i > 1; i--) { /* any input order */
        size_t j = (size_t)rn((int)i);
        time_t x = times[i - 1];
        times[i - 1] = times[j], times[j] = x;
    }
    return n;
}

static void
test_random_vs_reference(void)
{
    static const char *const zones[] = { NULL, "Europe/Berlin", "America/New_York",
                                         "Australia/Lord_Howe", "Asia/Kathmandu", "UTC" };
    static const int64_t withins[] = { 0, 0, 0, 3600, 86400, 7 * 86400, 30 * 86400 };
    static const int64_t ages[] = { 0, 0, 0, 3600, 86400 };
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    struct lcb_ret_item items[200];
    time_t times[200], now;
    unsigned want[200];
    int h, bad = 0, kept = 0, dropped = 0, cases = 0;
    size_t n, i;

    for (h = 0; h < 600; h++) {
        struct lcb_retention r = RET(pick_count(), pick_count(), pick_count(), pick_count(),
                                     pick_count(), pick_count(), withins[rn(7)], ages[rn(5)]);
        const char *tz = zones[rn(6)];
        char a[128], b[128], ts[40];

        n = random_history(times, 200);
        now = n ? times[0] : T("2026-01-01T00:00:00Z");
        for (i = 1; i < n; i++)
            now = times[i] > now ? times[i] : now;
        now += rn(4) ? rn(30 * 86400) : -rn(2 * 86400); /* sometimes backups in the future */
        for (i = 0; i < n; i++)
            items[i].time = times[i], items[i].reasons = 0;
        ref_apply(&r, tz, now, times, n, want);
        lcb_retention_apply(&r, tz, now, items, n);
        cases++;
        for (i = 0; i < n; i++) {
            kept += items[i].reasons != 0;
            dropped += items[i].reasons == 0;
            if (items[i].reasons == want[i])
                continue;
            if (bad++ < 5)
                fprintf(stderr, "  history %d (%zu backups, %s) backup %s: got %s, want %s\n", h,
                        n, tz ? tz : "UTC", lcb_time_fmt(times[i], ts),
                        lcb_retention_reasons(items[i].reasons, a, sizeof(a)),
                        lcb_retention_reasons(want[i], b, sizeof(b)));
        }
    }
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
    CHECK_INT(bad, 0);
    CHECK_INT(cases, 600);
    CHECK(kept > 1000 && dropped > 1000); /* the policies both keep and delete */
}

int
main(void)
{
    RUN(test_iso_week_2020);
    RUN(test_iso_week_2026_zones);
    RUN(test_month_ends_leap);
    RUN(test_dst_hourly);
    RUN(test_keep_last_ties);
    RUN(test_within_and_min_age);
    RUN(test_min_age);
    RUN(test_empty);
    RUN(test_reason_names);
    RUN(test_random_vs_reference);
    return harness_done();
}
