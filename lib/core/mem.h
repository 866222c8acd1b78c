/*
 * mem.h - allocation that never returns NULL.
 *
 * A CLI cannot do anything useful after malloc fails, so, like git and redis, we log one line and
 * abort instead of threading out-of-memory through every caller.
 */
#ifndef LCB_CORE_MEM_H
#define LCB_CORE_MEM_H

#include <stddef.h>

void *lcb_xmalloc(size_t size);
void *lcb_xcalloc(size_t n, size_t size);
void *lcb_xrealloc(void *ptr, size_t size);
char *lcb_xstrdup(const char *s);
char *lcb_xstrndup(const char *s, size_t n);
/* printf into a new string. */
char *lcb_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define LCB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
