/* ids.c - identifiers for runs, backups, restores and drills. */
#include "internal.h"

#include <stdio.h>
#include <sys/random.h>

void
lcb_catalog_new_id(char *out, size_t size, const char *prefix, time_t t)
{
    unsigned char r[3] = { 0, 0, 0 };
    struct tm tm;
    char ts[20];

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        r[0] = (unsigned char)t;
        r[1] = (unsigned char)(t >> 8);
    }
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%S", &tm);
    snprintf(out, size, "%s-%s-%02x%02x%02x", prefix, ts, r[0], r[1], r[2]);
}
