/*
 * retention.h - which backups a retention policy keeps: the semantics of restic's `forget`
 * (docs/retention.md), as pure functions.
 *
 * Backups are considered newest first. keep_last keeps the newest N. Each of hourly, daily, weekly
 * (ISO 8601 weeks, as strftime's %G-%V), monthly and yearly keeps the newest backup in each of its
 * N most recent buckets that contain a backup; every rule counts independently and a backup kept by
 * several rules lists them all. As restic (0.17 and later) does, a rule that still has count left
 * when it reaches the oldest backup keeps that one too, even if it shares a bucket with a newer
 * kept backup: a young history is not thinned before it has filled the buckets. keep_within keeps
 * every backup taken strictly less than keep_within seconds before the newest backup; the newest is
 * the newest one not dated after `now` (a backup from a skewed clock does not shift the window),
 * and when every backup is in the future all of them are within. Buckets are computed in the
 * policy's time zone: on a fall-back day the repeated local hour is one hourly bucket. A count of
 * -1 means unlimited.
 *
 * A retention with no rule at all keeps everything (restic's "policy is empty"; policies refuse it
 * at validation). min_age is a safety rail, not a rule: the rules run on the whole list exactly as
 * above, then every backup younger than min_age at `now` is kept as well (reason "min-age"). The
 * other rails (newest completed, newest drill-verified, hold, Object Lock) belong to the caller.
 */
#ifndef LCB_POLICY_RETENTION_H
#define LCB_POLICY_RETENTION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct lcb_retention {
    int keep_last; /* 0: rule off; -1: unlimited */
    int hourly;
    int daily;
    int weekly;
    int monthly;
    int yearly;
    int64_t keep_within; /* seconds; 0: off */
    int64_t min_age;     /* seconds; 0: off */
};

enum {
    LCB_KEEP_LAST = 1 << 0,
    LCB_KEEP_HOURLY = 1 << 1,
    LCB_KEEP_DAILY = 1 << 2,
    LCB_KEEP_WEEKLY = 1 << 3,
    LCB_KEEP_MONTHLY = 1 << 4,
    LCB_KEEP_YEARLY = 1 << 5,
    LCB_KEEP_WITHIN = 1 << 6,
    LCB_KEEP_MIN_AGE = 1 << 7,
    LCB_KEEP_EMPTY = 1 << 8, /* the retention has no rule: everything is kept */
};

struct lcb_ret_item {
    time_t time;      /* when the backup was taken */
    unsigned reasons; /* out: LCB_KEEP_* bits; 0 means "may be deleted" */
};

/* Does the retention have no keep rule (keep_last, hourly ... yearly and keep_within all 0)?
 * min_age does not count: on its own it would let every older backup go. Returns 1 or 0. */
int lcb_retention_empty(const struct lcb_retention *r);
/* Decide for items[0..n), setting each one's reasons (any order; considered newest first, ties in
 * input order; items are not moved). now is used for min_age and to ignore future backups when
 * finding the newest for keep_within. tz NULL means UTC. */
void lcb_retention_apply(const struct lcb_retention *r, const char *tz, time_t now,
                         struct lcb_ret_item *items, size_t n);
/* The reason bits as "last,daily,weekly" (names: last hourly daily weekly monthly yearly within
 * min-age empty-policy; "" for 0), truncated to fit out. Returns out. */
char *lcb_retention_reasons(unsigned reasons, char *out, size_t size);

#endif
