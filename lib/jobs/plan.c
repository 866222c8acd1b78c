/* plan.c - the expiry planner (retention rules + safety rails) and its simulation; see expire.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "expire.h"

/* The index of the newest item satisfying want (ties: the first in input order), or n. */
static size_t
newest(const struct lcb_expire_item *items, size_t n, int verified)
{
    size_t i, best = n;

    for (i = 0; i < n; i++) {
        if (!items[i].completed || (verified && items[i].verified_at <= 0))
            continue;
        if (best == n || items[i].taken > items[best].taken)
            best = i;
    }
    return best;
}

void
lcb_expire_plan(const struct lcb_retention *r, const char *tz, time_t now,
                struct lcb_expire_item *items, size_t n)
{
    struct lcb_ret_item *ri = lcb_xcalloc(n ? n : 1, sizeof(*ri));
    size_t *map = lcb_xcalloc(n ? n : 1, sizeof(*map));
    size_t i, m = 0;

    for (i = 0; i < n; i++) {
        items[i].reasons = items[i].rails = 0;
        items[i].expire = 0;
        if (!items[i].completed)
            continue;
        ri[m].time = items[i].taken;
        map[m++] = i;
    }
    lcb_retention_apply(r, tz, now, ri, m);
    for (i = 0; i < m; i++)
        items[map[i]].reasons = ri[i].reasons;
    if ((i = newest(items, n, 0)) < n)
        items[i].rails |= LCB_RAIL_NEWEST;
    if ((i = newest(items, n, 1)) < n)
        items[i].rails |= LCB_RAIL_VERIFIED;
    for (i = 0; i < n; i++) {
        if (items[i].hold)
            items[i].rails |= LCB_RAIL_HOLD;
        items[i].expire = items[i].completed && !items[i].reasons && !items[i].rails;
    }
    free(map);
    free(ri);
}

char *
lcb_expire_why(const struct lcb_expire_item *it, char *out, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } rails[] = { { LCB_RAIL_NEWEST, "newest-completed" },
                  { LCB_RAIL_VERIFIED, "newest-verified" },
                  { LCB_RAIL_HOLD, "hold" },
                  { LCB_RAIL_LOCK, "object-lock" } };
    size_t i, len;

    if (!it->completed) {
        snprintf(out, size, "not completed: expiry leaves it alone");
        return out;
    }
    if (it->expire) {
        snprintf(out, size, "expire: no rule keeps it");
        return out;
    }
    lcb_retention_reasons(it->reasons, out, size);
    for (i = 0; i < LCB_ARRAY_SIZE(rails); i++) {
        if (!(it->rails & rails[i].bit))
            continue;
        len = strlen(out);
        snprintf(out + len, size - len, "%s%s", len ? "," : "", rails[i].name);
    }
    return out;
}

/* "keep_last 3, daily 7, keep_within 36h" */
void
lcb_expire_describe(const struct lcb_retention *r, struct lcb_buf *out)
{
    const struct {
        const char *name;
        int v;
    } counts[] = { { "keep_last", r->keep_last }, { "hourly", r->hourly },
                   { "daily", r->daily },         { "weekly", r->weekly },
                   { "monthly", r->monthly },     { "yearly", r->yearly } };
    char d[32];
    size_t i, start = out->len;

    for (i = 0; i < LCB_ARRAY_SIZE(counts); i++) {
        if (counts[i].v == 0)
            continue;
        lcb_buf_addf(out, "%s%s ", out->len > start ? ", " : "", counts[i].name);
        if (counts[i].v < 0)
            lcb_buf_adds(out, "unlimited");
        else
            lcb_buf_addf(out, "%d", counts[i].v);
    }
    if (r->keep_within)
        lcb_buf_addf(out, "%skeep_within %s", out->len > start ? ", " : "",
                     lcb_duration_fmt(r->keep_within, d, sizeof(d)));
    if (r->min_age)
        lcb_buf_addf(out, "%smin_age %s", out->len > start ? ", " : "",
                     lcb_duration_fmt(r->min_age, d, sizeof(d)));
}

/* ---- simulation ---- */

struct sim {
    time_t *kept;
    size_t n, cap, most;
    struct lcb_expire_item *items;
};

static void
sim_add(struct sim *s, time_t t)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->kept = lcb_xrealloc(s->kept, s->cap * sizeof(*s->kept));
        s->items = lcb_xrealloc(s->items, s->cap * sizeof(*s->items));
    }
    memmove(s->kept + 1, s->kept, s->n * sizeof(*s->kept)); /* newest first */
    s->kept[0] = t;
    s->n++;
    if (s->n > s->most)
        s->most = s->n;
}

/* Expire as `run` does right after the backup at now. */
static void
sim_expire(struct sim *s, const struct lcb_retention *r, const char *tz, time_t now)
{
    size_t i, m = 0;

    for (i = 0; i < s->n; i++) {
        memset(&s->items[i], 0, sizeof(s->items[i]));
        s->items[i].taken = s->kept[i];
        s->items[i].completed = 1;
    }
    lcb_expire_plan(r, tz, now, s->items, s->n);
    for (i = 0; i < s->n; i++)
        if (!s->items[i].expire)
            s->kept[m++] = s->kept[i];
    s->n = m;
}

/* The start of the local day after the one holding t. */
static time_t
next_day(const char *tz, time_t t)
{
    struct tm tm;

    lcb_tz_localtime(tz, t, &tm);
    tm.tm_mday++;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return lcb_tz_mktime(tz, &tm);
}

size_t
lcb_expire_simulate(const struct lcb_target *t, const char *tz, time_t from, int days,
                    lcb_expire_day_fn fn, void *ud)
{
    struct sim s;
    time_t day = from, end, slot;
    int d;

    memset(&s, 0, sizeof(s));
    slot = lcb_schedule_next(&t->schedule, tz, from - 1);
    for (d = 0; d < days; d++) {
        end = next_day(tz, day);
        while (slot >= 0 && slot < end) {
            sim_add(&s, slot);
            sim_expire(&s, &t->retention, tz, slot);
            slot = lcb_schedule_next(&t->schedule, tz, slot);
        }
        fn(ud, day, s.kept, s.n);
        day = end;
    }
    free(s.kept);
    free(s.items);
    return s.most;
}
