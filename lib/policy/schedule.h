/*
 * schedule.h - 5-field cron expressions and @hourly/@daily/@weekly/@monthly/@yearly, evaluated in
 * a time zone (pure functions apart from the zone database). docs/schedules.md has the details.
 *
 * Fields: minute 0-59, hour 0-23, day of month 1-31, month 1-12 (or jan-dec), day of week 0-7
 * (0 and 7 are Sunday, or sun-sat). Each field takes *, a value, a range a-b, a list a,b,c and a
 * step (*\/15, 1-30/2, and 5/15 meaning 5-max/15). As in Vixie cron, when both day fields are
 * restricted a day matches if either matches; a day field that starts with '*' (even "*\/2") counts
 * as unrestricted for that rule.
 *
 * Daylight saving time, as Vixie cron does it: a "fixed" job (minute and hour both written without
 * '*', e.g. "30 2 * * *") whose local time is skipped by a spring-forward change runs once, at the
 * instant the clock jumps (03:00 CEST in Europe/Berlin), and runs only at the first of the two
 * occurrences of a repeated local time on the fall-back day. A "wildcard" job ("*\/15 * * * *",
 * "0 * * * *") runs at every real instant whose local time matches: skipped local times do not run,
 * repeated ones run twice.
 */
#ifndef LCB_POLICY_SCHEDULE_H
#define LCB_POLICY_SCHEDULE_H

#include <stdint.h>
#include <time.h>

#include "../core/err.h"

#define LCB_SCHEDULE_EXPR_LEN 128

struct lcb_schedule {
    char expr[LCB_SCHEDULE_EXPR_LEN]; /* as written (trimmed), e.g. "0 3 * * *" or "@daily" */
    uint64_t minutes;   /* bit m set: minute m matches */
    uint32_t hours;
    uint32_t mdays;     /* bits 1..31 */
    uint16_t months;    /* bits 1..12 */
    uint8_t wdays;      /* bits 0..6, Sunday = 0 */
    int mday_star;      /* the field started with '*' (for the either-day rule) */
    int wday_star;
    int fixed;          /* minute and hour fields both written without '*' (cron's DST rule) */
};

/* Parse expr into *s. Returns 0, or -1 with LCB_ECONFIG and a message naming the field and the
 * value, e.g. "hour field '25': must be 0-23", "day-of-week field '1,8': '8' must be 0-7". */
int lcb_schedule_parse(struct lcb_schedule *s, const char *expr, struct lcb_err *err);
/* The first scheduled time strictly after `after`, in time zone tz (NULL: UTC); -1 when none in
 * the next 9 years (the longest gap between two 29 Februaries is 8 years), e.g. "0 0 31 2 *". */
time_t lcb_schedule_next(const struct lcb_schedule *s, const char *tz, time_t after);
/* The latest scheduled time at or before `at` (-1 when none in the 9 years before). */
time_t lcb_schedule_prev(const struct lcb_schedule *s, const char *tz, time_t at);
/* The interval in seconds between the first two scheduled times after `from` (for RPO defaults
 * and catch-up); -1 when the schedule never fires. */
int64_t lcb_schedule_period(const struct lcb_schedule *s, const char *tz, time_t from);

#endif
