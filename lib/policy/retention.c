/*
 * retention.c - see retention.h and docs/retention.md.
 *
 * The walk follows restic's ApplyPolicy: newest first, one "last bucket kept" per rule; a rule
 * keeps a backup whose bucket differs from the last one it kept (or the oldest backup while it has
 * count left) and spends one count. Bucket keys are integers (YYYYMMDDHH, YYYYMMDD, ISO YYYYWW,
 * YYYYMM, YYYY) from the local time in the policy's zone.
 */
#define _DEFAULT_SOURCE
#include "retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/mem.h"

enum { R_LAST, R_HOURLY, R_DAILY, R_WEEKLY, R_MONTHLY, R_YEARLY, R_COUNT };

static const unsigned rule_bit[R_COUNT] = { LCB_KEEP_LAST,   LCB_KEEP_HOURLY,  LCB_KEEP_DAILY,
                                            LCB_KEEP_WEEKLY, LCB_KEEP_MONTHLY, LCB_KEEP_YEARLY };

int
lcb_retention_empty(const struct lcb_retention *r)
{
    return r->keep_last == 0 && r->hourly == 0 && r->daily == 0 && r->weekly == 0 &&
           r->monthly == 0 && r->yearly == 0 && r->keep_within == 0;
}

/* Weeks in ISO year y: 53 when it starts on a Thursday, or on a Wednesday in a leap year. */
static int
iso_weeks(long y)
{
    long p = (y + y / 4 - y / 100 + y / 400) % 7;
    long q = ((y - 1) + (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400) % 7;

    return p == 4 || q == 3 ? 53 : 52;
}

/* ISO 8601 year * 100 + week of a broken-down time. */
static long
iso_year_week(const struct tm *tm)
{
    long y = tm->tm_year + 1900;
    int wd = tm->tm_wday == 0 ? 7 : tm->tm_wday; /* Monday 1 .. Sunday 7 */
    int w = (tm->tm_yday + 1 - wd + 10) / 7;

    if (w < 1)
        return (y - 1) * 100 + iso_weeks(y - 1);
    if (w > iso_weeks(y))
        return (y + 1) * 100 + 1;
    return y * 100 + w;
}

/* The bucket keys of one backup, per rule (R_LAST uses its position). */
static void
bucket_keys(const char *tz, time_t t, size_t pos, long key[R_COUNT])
{
    struct tm tm;
    long y, ymd;

    lcb_tz_localtime(tz, t, &tm);
    y = tm.tm_year + 1900;
    ymd = y * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    key[R_LAST] = (long)pos;
    key[R_HOURLY] = ymd * 100 + tm.tm_hour;
    key[R_DAILY] = ymd;
    key[R_WEEKLY] = iso_year_week(&tm);
    key[R_MONTHLY] = y * 100 + tm.tm_mon + 1;
    key[R_YEARLY] = y;
}

struct slot {
    time_t time;
    size_t index;
};

/* Newest first; equal times keep input order. */
static int
by_time_desc(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;

    if (x->time != y->time)
        return x->time > y->time ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The newest backup not dated after now; when all are in the future, the earliest time possible
 * (restic's zero time), so that keep_within keeps them all. */
static int
newest_time(const struct lcb_ret_item *items, size_t n, time_t now, time_t *out)
{
    size_t i;
    int found = 0;

    for (i = 0; i < n; i++) {
        if (items[i].time <= now && (!found || items[i].time > *out)) {
            *out = items[i].time;
            found = 1;
        }
    }
    return found;
}

/* Walk newest first through order[], applying the counted rules and keep_within. */
static void
apply_rules(const struct lcb_retention *r, const char *tz, time_t now, struct lcb_ret_item *items,
            const struct slot *order, size_t n)
{
    int count[R_COUNT] = { r->keep_last, r->hourly, r->daily, r->weekly, r->monthly, r->yearly };
    long last[R_COUNT], key[R_COUNT];
    time_t newest = 0;
    int have_newest = newest_time(items, n, now, &newest), i;
    size_t nr;

    for (i = 0; i < R_COUNT; i++)
        last[i] = -1;
    for (nr = 0; nr < n; nr++) {
        struct lcb_ret_item *it = &items[order[nr].index];

        if (r->keep_within > 0 &&
            (!have_newest || (int64_t)it->time > (int64_t)newest - r->keep_within))
            it->reasons |= LCB_KEEP_WITHIN;
        bucket_keys(tz, it->time, nr, key);
        for (i = 0; i < R_COUNT; i++) {
            if (count[i] <= 0 && count[i] != -1)
                continue;
            if (key[i] != last[i] || nr == n - 1) {
                it->reasons |= rule_bit[i];
                last[i] = key[i];
                if (count[i] > 0)
                    count[i]--;
            }
        }
    }
}

void
lcb_retention_apply(const struct lcb_retention *r, const char *tz, time_t now,
                    struct lcb_ret_item *items, size_t n)
{
    struct slot *order;
    size_t i;

    for (i = 0; i < n; i++) {
        items[i].reasons = 0;
        if (r->min_age > 0 && (int64_t)now - (int64_t)items[i].time < r->min_age)
            items[i].reasons |= LCB_KEEP_MIN_AGE;
    }
    if (n == 0)
        return;
    if (lcb_retention_empty(r)) {
        for (i = 0; i < n; i++)
            items[i].reasons |= LCB_KEEP_EMPTY;
        return;
    }
    order = lcb_xmalloc(n * sizeof(*order));
    for (i = 0; i < n; i++)
        order[i] = (struct slot){ items[i].time, i };
    qsort(order, n, sizeof(*order), by_time_desc);
    apply_rules(r, tz, now, items, order, n);
    free(order);
}

char *
lcb_retention_reasons(unsigned reasons, char *out, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        { LCB_KEEP_LAST, "last" },     { LCB_KEEP_HOURLY, "hourly" },
        { LCB_KEEP_DAILY, "daily" },   { LCB_KEEP_WEEKLY, "weekly" },
        { LCB_KEEP_MONTHLY, "monthly" }, { LCB_KEEP_YEARLY, "yearly" },
        { LCB_KEEP_WITHIN, "within" }, { LCB_KEEP_MIN_AGE, "min-age" },
        { LCB_KEEP_EMPTY, "empty-policy" },
    };
    size_t i, len = 0;
    int w;

    if (size == 0)
        return out;
    out[0] = '\0';
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(reasons & names[i].bit))
            continue;
        w = snprintf(out + len, size - len, "%s%s", len ? "," : "", names[i].name);
        if (w < 0 || (size_t)w >= size - len) {
            out[len] = '\0'; /* drop a name that does not fit whole */
            break;
        }
        len += (size_t)w;
    }
    return out;
}
