/* mem.c - see mem.h. */
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
die_oom(size_t size)
{
    fprintf(stderr, "lcbackup: out of memory allocating %zu bytes\n", size);
    abort();
}

void *
lcb_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p)
        die_oom(size);
    return p;
}

void *
lcb_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        die_oom(n * size);
    return p;
}

void *
lcb_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (!p)
        die_oom(size);
    return p;
}

char *
lcb_xstrdup(const char *s)
{
    return lcb_xstrndup(s, strlen(s));
}

char *
lcb_xstrndup(const char *s, size_t n)
{
    char *p;
    size_t len = strnlen(s, n);

    p = lcb_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
lcb_xasprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die_oom(0);
    p = lcb_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
