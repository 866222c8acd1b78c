/* buf.c - see buf.h. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void
lcb_buf_init(struct lcb_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
lcb_buf_release(struct lcb_buf *b)
{
    free(b->ptr);
    lcb_buf_init(b, b->max);
}

void
lcb_buf_reset(struct lcb_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

int
lcb_buf_grow(struct lcb_buf *b, size_t n)
{
    size_t want = b->len + n + 1;

    if (b->max && b->len + n > b->max)
        return -1;
    if (want <= b->cap)
        return 0;
    if (want < b->cap * 2)
        want = b->cap * 2;
    if (want < 64)
        want = 64;
    b->ptr = lcb_xrealloc(b->ptr, want);
    b->ptr[b->len] = '\0'; /* a fresh allocation must read as "" too */
    b->cap = want;
    return 0;
}

int
lcb_buf_add(struct lcb_buf *b, const void *data, size_t len)
{
    if (lcb_buf_grow(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return 0;
}

int
lcb_buf_adds(struct lcb_buf *b, const char *s)
{
    return lcb_buf_add(b, s, strlen(s));
}

int
lcb_buf_addch(struct lcb_buf *b, char c)
{
    return lcb_buf_add(b, &c, 1);
}

int
lcb_buf_vaddf(struct lcb_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0 || lcb_buf_grow(b, (size_t)n) < 0)
        return -1;
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int
lcb_buf_addf(struct lcb_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = lcb_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *
lcb_buf_str(const struct lcb_buf *b)
{
    return b->ptr ? b->ptr : "";
}

char *
lcb_buf_detach(struct lcb_buf *b, size_t *len)
{
    char *p = b->ptr ? b->ptr : lcb_xstrdup("");

    if (len)
        *len = b->len;
    lcb_buf_init(b, b->max);
    return p;
}

void
lcb_buf_rtrim(struct lcb_buf *b)
{
    while (b->len && (b->ptr[b->len - 1] == ' ' || b->ptr[b->len - 1] == '\n' ||
                      b->ptr[b->len - 1] == '\r' || b->ptr[b->len - 1] == '\t'))
        b->ptr[--b->len] = '\0';
}
