/*
 * internal.h - catalog-internal helpers shared by catalog.c, backups.c, lock.c and check.c.
 */
#ifndef LCB_CATALOG_INTERNAL_H
#define LCB_CATALOG_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include "../core/err.h"

#define LCB_ID_LEN 40

struct lcb_catalog;

/* "<prefix>-20261128T120107-a1b2c3" into out. */
void lcb_catalog_new_id(char *out, size_t size, const char *prefix, time_t t);
/* Run one statement; types: 't' text (const char *), 'i' integer (long long), 'n' null. */
int lcb_catalog_execf(struct lcb_catalog *cat, const char *sql, const char *types,
                      struct lcb_err *err, ...);

/* The lock's file descriptor (kept open while locked; -1 when not). */
void cat_set_lock_fd(struct lcb_catalog *cat, int fd);

/* The run this process recorded (NULL when none). */
const char *cat_run_id(struct lcb_catalog *cat);

#endif
