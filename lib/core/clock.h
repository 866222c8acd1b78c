/*
 * clock.h - wall clock, monotonic clock, RFC 3339 times, durations and time zones.
 *
 * lcb_now() honours LCBACKUP_NOW (RFC 3339 UTC) so that tests can pin the clock, as curl pins time
 * for its SigV4 tests. Time-zone conversions switch TZ for the duration of one call: lcbackup is
 * single-threaded wherever it evaluates schedules and retention.
 */
#ifndef LCB_CORE_CLOCK_H
#define LCB_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

#include "err.h"

#define LCB_TIME_LEN 32

/* Now, or LCBACKUP_NOW when it is set and valid (an invalid value is reported by
 * lcb_clock_check()). */
time_t lcb_now(void);
/* Validate LCBACKUP_NOW; 0 when unset or valid, -1 with LCB_ECONFIG otherwise. */
int lcb_clock_check(struct lcb_err *err);
/* Milliseconds from an arbitrary origin, never going backwards (for timings). */
int64_t lcb_mono_ms(void);

/* "2026-11-28T12:01:07Z" into out (LCB_TIME_LEN bytes). Returns out. */
char *lcb_time_fmt(time_t t, char *out);
/* Parse RFC 3339 ("2026-11-28T12:01:07Z", "...07.123Z", "...07+01:00") and "YYYY-MM-DD HH:MM:SS"
 * (taken as UTC). Returns 0, or -1 (not a time). */
int lcb_time_parse(const char *s, time_t *out);

/* Parse a duration: "90s", "15m", "36h", "7d", "2w", "1y" (365d), combinations "1h30m", or a plain
 * number of seconds. Returns 0 or -1. */
int lcb_duration_parse(const char *s, int64_t *secs);
/* Human form: "45s", "12m 03s", "3h 07m", "2d 04h". Returns out (size >= 32). */
char *lcb_duration_fmt(int64_t secs, char *out, size_t size);

/* Is tz a time zone we can use ("UTC" or a name under /usr/share/zoneinfo)? */
int lcb_tz_valid(const char *tz);
/* Broken-down local time of t in tz (NULL or "UTC": UTC). */
void lcb_tz_localtime(const char *tz, time_t t, struct tm *out);
/* Inverse of lcb_tz_localtime (tm_isdst -1: let the zone decide). */
time_t lcb_tz_mktime(const char *tz, struct tm *tm);

#endif
