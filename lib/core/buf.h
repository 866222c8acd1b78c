/*
 * buf.h - a growable byte buffer with an optional size cap (git's strbuf, curl's dynbuf).
 *
 * Caller-owned: lcb_buf_init() then lcb_buf_release(). The content is always NUL-terminated, so
 * text can be used as a C string. A cap (max > 0) makes appends past it fail with -1 instead of
 * growing without bound: that is how we bound what a server can make us buffer.
 */
#ifndef LCB_CORE_BUF_H
#define LCB_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct lcb_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max; /* 0: no cap */
};

#define LCB_BUF_INIT { NULL, 0, 0, 0 }

void lcb_buf_init(struct lcb_buf *b, size_t max);
void lcb_buf_release(struct lcb_buf *b);
/* Empty it, keeping the memory. */
void lcb_buf_reset(struct lcb_buf *b);
/* Append bytes. Returns 0, or -1 when the cap would be exceeded (nothing appended). */
int lcb_buf_add(struct lcb_buf *b, const void *data, size_t len);
int lcb_buf_adds(struct lcb_buf *b, const char *s);
int lcb_buf_addch(struct lcb_buf *b, char c);
int lcb_buf_addf(struct lcb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lcb_buf_vaddf(struct lcb_buf *b, const char *fmt, va_list ap);
/* The content as a C string ("" when empty; never NULL). */
const char *lcb_buf_str(const struct lcb_buf *b);
/* Hand the memory to the caller (free() it) and reset the buffer. */
char *lcb_buf_detach(struct lcb_buf *b, size_t *len);
/* Make room for n more bytes; returns 0 or -1 past the cap. */
int lcb_buf_grow(struct lcb_buf *b, size_t n);
/* Remove trailing white space. */
void lcb_buf_rtrim(struct lcb_buf *b);

#endif
