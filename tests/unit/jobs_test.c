/* jobs_test.c - when a target is due (catch-up once, twice in a minute, time zones, never-firing
 * schedules), the expiry planner (retention rules + safety rails), its explanations, and the
 * simulation of a policy over many days, under a pinned clock. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/core/clock.h"
#include "../../lib/jobs/expire.h"
#include "../../lib/jobs/inventory.h"
#include "../../lib/jobs/jobs.h"
#include "harness.h"

static time_t
T(const char *s)
{
    time_t t = -1;

    if (lcb_time_parse(s, &t) < 0)
        fprintf(stderr, "  bad time in test: %s\n", s);
    return t;
}

static struct lcb_schedule
S(const char *expr)
{
    struct lcb_schedule s;
    struct lcb_err err;

    memset(&s, 0, sizeof(s));
    if (lcb_schedule_parse(&s, expr, &err) < 0)
        fprintf(stderr, "  bad schedule in test: %s\n", expr);
    return s;
}

/* ---- due-ness ---- */

static void
test_due_first_run(void)
{
    struct lcb_schedule s = S("0 3 * * *");
    struct lcb_due d;

    lcb_job_due(&s, NULL, 0, T("2026-11-28T12:00:00Z"), &d);
    CHECK_INT(d.due, 1);
    CHECK_INT(d.slot, T("2026-11-28T03:00:00Z"));
    CHECK_INT(d.next, T("2026-11-29T03:00:00Z"));
    CHECK_INT(d.missed, 1);
    CHECK_INT(d.last, 0);
}

static void
test_due_after_backup(void)
{
    struct lcb_schedule s = S("0 3 * * *");
    struct lcb_due d;

    /* the backup of today's slot started a few seconds after it: nothing due until tomorrow */
    lcb_job_due(&s, NULL, T("2026-11-28T03:00:05Z"), T("2026-11-28T12:00:00Z"), &d);
    CHECK_INT(d.due, 0);
    CHECK_INT(d.slot, T("2026-11-28T03:00:00Z"));
    CHECK_INT(d.missed, 0);
    /* a backup that started exactly at the slot covers it */
    lcb_job_due(&s, NULL, T("2026-11-28T03:00:00Z"), T("2026-11-28T03:00:00Z"), &d);
    CHECK_INT(d.due, 0);
    /* the next day it is due again, one slot */
    lcb_job_due(&s, NULL, T("2026-11-28T03:00:05Z"), T("2026-11-29T03:00:00Z"), &d);
    CHECK_INT(d.due, 1);
    CHECK_INT(d.missed, 1);
    /* a backup taken by hand before the slot does not cover it */
    lcb_job_due(&s, NULL, T("2026-11-29T02:59:59Z"), T("2026-11-29T03:01:00Z"), &d);
    CHECK_INT(d.due, 1);
}

static void
test_due_twice_in_a_minute(void)
{
    struct lcb_schedule s = S("*/15 * * * *");
    struct lcb_due d;

    /* the first run at 10:15:02 takes the backup (started 10:15:03); the second, 40 s later,
     * sees that backup and does nothing */
    lcb_job_due(&s, NULL, T("2026-11-28T10:00:04Z"), T("2026-11-28T10:15:02Z"), &d);
    CHECK_INT(d.due, 1);
    lcb_job_due(&s, NULL, T("2026-11-28T10:15:03Z"), T("2026-11-28T10:15:42Z"), &d);
    CHECK_INT(d.due, 0);
    CHECK_INT(d.next, T("2026-11-28T10:30:00Z"));
}

static void
test_due_missed_slots_caught_up_once(void)
{
    struct lcb_schedule s = S("0 3 * * *");
    struct lcb_due d;

    /* the runner was down from the 25th to the 28th: slots 26, 27, 28 were missed */
    lcb_job_due(&s, NULL, T("2026-11-25T03:00:10Z"), T("2026-11-28T12:00:00Z"), &d);
    CHECK_INT(d.due, 1);
    CHECK_INT(d.missed, 3);
    CHECK_INT(d.slot, T("2026-11-28T03:00:00Z"));
    /* after the one catch-up backup nothing more is due */
    lcb_job_due(&s, NULL, T("2026-11-28T12:00:01Z"), T("2026-11-28T12:05:00Z"), &d);
    CHECK_INT(d.due, 0);
}

/* A runner woken every 10 minutes over 5 days, down for two of them: it takes one backup per slot
 * while up and a single catch-up backup when it comes back. */
static void
test_due_runner_simulation(void)
{
    struct lcb_schedule s = S("30 2 * * *");
    time_t t, start = T("2026-11-20T00:00:00Z"), down_from = T("2026-11-21T12:00:00Z"),
              down_to = T("2026-11-23T20:00:00Z"), last = T("2026-11-19T02:30:05Z");
    struct lcb_due d;
    time_t taken[16];
    int n = 0;

    for (t = start; t < start + 5 * 86400; t += 600) {
        if (t >= down_from && t < down_to)
            continue;
        lcb_job_due(&s, NULL, last, t, &d);
        if (!d.due)
            continue;
        if (n < 16)
            taken[n] = t;
        n++;
        last = t + 1;
    }
    /* 20th and 21st on time, the 22nd and 23rd missed (one catch-up at 20:00 on the 23rd), 24th */
    CHECK_INT(n, 4);
    CHECK_INT(taken[0], T("2026-11-20T02:30:00Z"));
    CHECK_INT(taken[1], T("2026-11-21T02:30:00Z"));
    CHECK_INT(taken[2], T("2026-11-23T20:00:00Z"));
    CHECK_INT(taken[3], T("2026-11-24T02:30:00Z"));
}

static void
test_due_time_zone_and_never(void)
{
    struct lcb_schedule s = S("0 3 * * *"), never = S("0 0 31 2 *");
    struct lcb_due d;

    /* 03:00 in Berlin is 02:00Z in winter */
    lcb_job_due(&s, "Europe/Berlin", 0, T("2026-11-28T02:30:00Z"), &d);
    CHECK_INT(d.due, 1);
    CHECK_INT(d.slot, T("2026-11-28T02:00:00Z"));
    lcb_job_due(&s, "Europe/Berlin", T("2026-11-28T02:00:30Z"), T("2026-11-28T02:30:00Z"), &d);
    CHECK_INT(d.due, 0);
    /* a schedule that never fires is never due */
    lcb_job_due(&never, NULL, 0, T("2026-11-28T02:30:00Z"), &d);
    CHECK_INT(d.due, 0);
    CHECK_INT(d.slot, -1);
    CHECK_INT(d.next, -1);
    /* a last backup dated in the future (a skewed clock) does not make anything due */
    lcb_job_due(&s, NULL, T("2026-12-01T00:00:00Z"), T("2026-11-28T12:00:00Z"), &d);
    CHECK_INT(d.due, 0);
}

/* ---- expiry planning ---- */

#define RET(last, h, d, w, m, y, within, minage) { last, h, d, w, m, y, within, minage }

static void
daily(struct lcb_expire_item *it, size_t n, const char *first)
{
    size_t i;

    memset(it, 0, n * sizeof(*it));
    for (i = 0; i < n; i++) {
        it[i].taken = T(first) + (time_t)i * 86400;
        it[i].completed = 1;
    }
}

static void
test_plan_keep_last(void)
{
    struct lcb_retention r = RET(3, 0, 0, 0, 0, 0, 0, 0);
    struct lcb_expire_item it[10];
    char why[128];
    size_t i;

    daily(it, 10, "2026-11-01T03:00:00Z");
    lcb_expire_plan(&r, NULL, T("2026-11-10T04:00:00Z"), it, 10);
    for (i = 0; i < 7; i++)
        CHECK_INT(it[i].expire, 1);
    for (i = 7; i < 10; i++)
        CHECK_INT(it[i].expire, 0);
    CHECK_STR(lcb_expire_why(&it[9], why, sizeof(why)), "last,newest-completed");
    CHECK_STR(lcb_expire_why(&it[8], why, sizeof(why)), "last");
    CHECK_STR(lcb_expire_why(&it[0], why, sizeof(why)), "expire: no rule keeps it");
}

static void
test_plan_rails(void)
{
    struct lcb_retention r = RET(2, 0, 0, 0, 0, 0, 0, 0);
    struct lcb_expire_item it[8];
    char why[128];

    daily(it, 8, "2026-11-01T03:00:00Z");
    it[1].verified_at = T("2026-11-05T00:00:00Z"); /* older verified: not the newest verified */
    it[3].verified_at = T("2026-11-06T00:00:00Z"); /* the newest verified backup */
    it[2].hold = 1;
    it[7].completed = 0; /* the newest is a failed backup */
    it[0].completed = 0; /* a pending one: never touched */
    lcb_expire_plan(&r, NULL, T("2026-11-09T00:00:00Z"), it, 8);
    CHECK_INT(it[7].expire, 0); /* not completed */
    CHECK_INT(it[7].rails, 0);
    CHECK_INT(it[0].expire, 0);
    CHECK_STR(lcb_expire_why(&it[0], why, sizeof(why)), "not completed: expiry leaves it alone");
    CHECK_INT(it[6].reasons, LCB_KEEP_LAST);
    CHECK_INT(it[6].rails, LCB_RAIL_NEWEST); /* the newest completed one */
    CHECK_INT(it[5].reasons, LCB_KEEP_LAST);
    CHECK_INT(it[4].expire, 1);
    CHECK_INT(it[3].expire, 0);
    CHECK_STR(lcb_expire_why(&it[3], why, sizeof(why)), "newest-verified");
    CHECK_INT(it[2].expire, 0);
    CHECK_STR(lcb_expire_why(&it[2], why, sizeof(why)), "hold");
    CHECK_INT(it[1].expire, 1); /* verified, but a newer one is too */
}

static void
test_plan_min_age(void)
{
    struct lcb_retention r = RET(1, 0, 0, 0, 0, 0, 0, 36 * 3600);
    struct lcb_expire_item it[5];
    char why[128];

    daily(it, 5, "2026-11-01T03:00:00Z"); /* 1st .. 5th */
    lcb_expire_plan(&r, NULL, T("2026-11-05T12:00:00Z"), it, 5);
    CHECK_INT(it[0].expire, 1);
    CHECK_INT(it[1].expire, 1);
    CHECK_INT(it[2].expire, 1);                          /* 57 h old */
    CHECK_STR(lcb_expire_why(&it[3], why, sizeof(why)), "min-age"); /* 33 h old */
    CHECK_STR(lcb_expire_why(&it[4], why, sizeof(why)), "last,min-age,newest-completed");
}

static void
test_describe(void)
{
    struct lcb_retention r = RET(3, 0, 7, 4, 0, -1, 36 * 3600, 6 * 3600);
    struct lcb_buf b = LCB_BUF_INIT;

    lcb_expire_describe(&r, &b);
    CHECK_STR(lcb_buf_str(&b),
              "keep_last 3, daily 7, weekly 4, yearly unlimited, keep_within 1d 12h, min_age 6h 00m");
    lcb_buf_release(&b);
}

/* The rails only ever keep more than the rules: on random histories, whatever the rules keep
 * is kept, and whatever expires is completed, unheld, and neither the newest nor the newest
 * verified. */
static void
test_plan_rails_only_add(void)
{
    struct lcb_expire_item it[40];
    struct lcb_ret_item ri[40];
    unsigned seed = 42;
    int round, bad = 0;
    size_t i, n, m;

    for (round = 0; round < 300; round++) {
        struct lcb_retention r = RET(rand_r(&seed) % 4, rand_r(&seed) % 3, rand_r(&seed) % 5,
                                     rand_r(&seed) % 3, rand_r(&seed) % 3, 0, 0, 0);
        time_t now = T("2026-11-28T00:00:00Z");
        if (lcb_retention_empty(&r))
            r.keep_last = 1;
        n = 1 + (size_t)(rand_r(&seed) % 40);
        for (i = 0, m = 0; i < n; i++) {
            memset(&it[i], 0, sizeof(it[i]));
            it[i].taken = now - (time_t)(rand_r(&seed) % (90 * 86400));
            it[i].completed = rand_r(&seed) % 5 != 0;
            it[i].hold = rand_r(&seed) % 10 == 0;
            it[i].verified_at = rand_r(&seed) % 6 == 0 ? now : 0;
            if (it[i].completed)
                ri[m++].time = it[i].taken;
        }
        lcb_retention_apply(&r, NULL, now, ri, m);
        lcb_expire_plan(&r, NULL, now, it, n);
        for (i = 0, m = 0; i < n; i++) {
            if (!it[i].completed) {
                bad += it[i].expire;
                continue;
            }
            if (ri[m++].reasons != it[i].reasons || (it[i].reasons && it[i].expire))
                bad++;
            if (it[i].expire && (it[i].hold || it[i].rails))
                bad++;
        }
    }
    CHECK_INT(bad, 0);
}

/* ---- simulation ---- */

struct sim_log {
    int days;
    size_t last_n;
    time_t last_kept[64];
    time_t first_day, last_day;
};

static void
on_day(void *ud, time_t day, const time_t *kept, size_t n)
{
    struct sim_log *l = ud;

    if (l->days++ == 0)
        l->first_day = day;
    l->last_day = day;
    l->last_n = n;
    memcpy(l->last_kept, kept, (n < 64 ? n : 64) * sizeof(*kept));
}

/* The worked example of docs/retention.md, reached by expiring after every daily backup: the same
 * 9 backups remain as when the rules are applied once to the whole history. */
static void
test_simulate_worked_example(void)
{
    struct lcb_target t;
    struct sim_log l;
    struct lcb_err err;
    static const char *const want[] = { "2026-02-20", "2026-02-19", "2026-02-18",
                                        "2026-02-17", "2026-02-16", "2026-02-15",
                                        "2026-02-08", "2026-01-31", "2026-01-01" };
    char got[LCB_TIME_LEN];
    size_t i, most;

    memset(&t, 0, sizeof(t));
    memset(&l, 0, sizeof(l));
    lcb_schedule_parse(&t.schedule, "0 3 * * *", &err);
    t.retention = (struct lcb_retention)RET(2, 0, 5, 3, 3, 0, 0, 0);
    most = lcb_expire_simulate(&t, NULL, T("2026-01-01T00:00:00Z"), 51, on_day, &l);
    CHECK_INT(l.days, 51);
    CHECK_INT(l.first_day, T("2026-01-01T00:00:00Z"));
    CHECK_INT(l.last_day, T("2026-02-20T00:00:00Z"));
    CHECK_INT(l.last_n, 9);
    for (i = 0; i < 9 && i < l.last_n; i++)
        CHECK(strncmp(lcb_time_fmt(l.last_kept[i], got), want[i], 10) == 0);
    CHECK(most >= 9 && most <= 12);
}

/* Hourly backups with hourly 24 + daily 7 level off at 24 + 6 = 30 after a week, however long it
 * runs; days are counted in the policy's zone. */
static void
test_simulate_steady_state(void)
{
    struct lcb_target t;
    struct sim_log l;
    struct lcb_err err;
    size_t most;

    memset(&t, 0, sizeof(t));
    memset(&l, 0, sizeof(l));
    lcb_schedule_parse(&t.schedule, "@hourly", &err);
    t.retention = (struct lcb_retention)RET(0, 24, 7, 0, 0, 0, 0, 0);
    most = lcb_expire_simulate(&t, "Europe/Berlin", T("2026-11-01T12:00:00Z"), 40, on_day, &l);
    CHECK_INT(l.days, 40);
    CHECK_INT(l.last_n, 30);
    CHECK_INT(most, 31); /* the moment a new backup arrives, before expiry runs */
    CHECK_INT(l.last_day, T("2026-12-09T23:00:00Z")); /* local midnight in Berlin (CET) */
}

/* ---- sidecars (what `catalog rebuild` reads) ---- */

/* Free one item's strings the way an inventory does. */
static void
drop(struct lcb_inv_item *it)
{
    struct lcb_inventory inv;

    lcb_inventory_init(&inv);
    inv.items = malloc(sizeof(*it));
    memcpy(inv.items, it, sizeof(*it));
    inv.n = inv.cap = 1;
    lcb_inventory_release(&inv);
    memset(it, 0, sizeof(*it));
}

static void
test_sidecar(void)
{
    static const char broker[] =
        "{\"backup_id\":\"broker-20261128T120000-db955d\",\"kind\":\"broker\",\"env\":\"dev\","
        "\"target\":\"broker\",\"archive\":\"lcbackup/dev/broker/broker/x.tar.zst\","
        "\"sha256\":\"abc\",\"size\":19621,\"entities\":300,\"taken_at\":1795867200,"
        "\"manifest\":{\"format\":1,\"source\":\"http://127.0.0.1:1026/ngsi-ld/v1\",\"total\":300}}";
    static const char config[] =
        "{\"backup\":{\"backup_id\":\"config-1\",\"kind\":\"config\",\"env\":\"prod\","
        "\"target\":\"config\",\"taken_at\":\"2026-11-28T12:00:00Z\",\"size\":6625},"
        "\"manifest\":{\"total\":26}}";
    struct lcb_inv_item it;
    struct lcb_err err;
    const char *no_kind = "{\"backup_id\":\"x\"}";

    memset(&it, 0, sizeof(it));
    CHECK_INT(lcb_inventory_sidecar(&it, broker, strlen(broker), &err), 0);
    CHECK_STR(it.backup_id, "broker-20261128T120000-db955d");
    CHECK_INT(it.kind, LCB_KIND_BROKER);
    CHECK_STR(it.env, "dev");
    CHECK_INT(it.taken, T("2026-11-28T12:00:00Z"));
    CHECK_INT(it.size, 19621);
    CHECK_INT(it.items, 300);
    CHECK(it.manifest && strstr(it.manifest, "\"source\":\"http://127.0.0.1:1026/ngsi-ld/v1\""));
    drop(&it);
    CHECK_INT(lcb_inventory_sidecar(&it, config, strlen(config), &err), 0);
    CHECK_STR(it.backup_id, "config-1");
    CHECK_INT(it.kind, LCB_KIND_CONFIG);
    CHECK_STR(it.env, "prod");
    CHECK_INT(it.taken, T("2026-11-28T12:00:00Z"));
    CHECK_INT(it.items, 26); /* no "entities": the manifest's total */
    drop(&it);
    CHECK_INT(lcb_inventory_sidecar(&it, no_kind, strlen(no_kind), &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK_INT(lcb_inventory_sidecar(&it, "not json", 8, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
}

int
main(void)
{
    setenv("TZ", "UTC", 1);
    RUN(test_due_first_run);
    RUN(test_due_after_backup);
    RUN(test_due_twice_in_a_minute);
    RUN(test_due_missed_slots_caught_up_once);
    RUN(test_due_runner_simulation);
    RUN(test_due_time_zone_and_never);
    RUN(test_plan_keep_last);
    RUN(test_plan_rails);
    RUN(test_plan_min_age);
    RUN(test_plan_rails_only_add);
    RUN(test_describe);
    RUN(test_sidecar);
    RUN(test_simulate_worked_example);
    RUN(test_simulate_steady_state);
    return harness_done();
}
