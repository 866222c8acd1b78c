/*
 * jsonscan.h - a streaming JSON syntax checker (RFC 8259, UTF-8 checked) that also counts the
 * elements of a top-level array.
 *
 * The archive writer and reader feed entry data through it piece by piece, so checking a page of
 * entities costs a few hundred bytes of state whatever the page's size, where parsing it with cJSON
 * would build the whole tree. Nesting deeper than LCB_JSONSCAN_DEPTH is refused.
 *
 * Caller-owned: lcb_jsonscan_init(), feed, end; nothing to release.
 */
#ifndef LCB_ARCHIVE_JSONSCAN_H
#define LCB_ARCHIVE_JSONSCAN_H

#include <stddef.h>
#include <stdint.h>

#define LCB_JSONSCAN_DEPTH 256

struct lcb_jsonscan {
    unsigned char stack[LCB_JSONSCAN_DEPTH]; /* '[' or '{' per open level */
    int depth;
    int state;
    int in_key;        /* the string being read is an object key */
    int lit_pos;       /* true/false/null: bytes matched so far */
    const char *lit;
    int hex_left;      /* \uXXXX digits still expected */
    int utf8_left;     /* continuation bytes still expected */
    unsigned char utf8_lo, utf8_hi; /* the allowed range of the next continuation byte */
    uint64_t offset;   /* bytes consumed */
    int64_t items;     /* elements of the top-level array; -1 when the top value is not an array */
    char error[96];
};

void lcb_jsonscan_init(struct lcb_jsonscan *s);
/* Feed the next len bytes. Returns 0, or -1 with s->error set ("byte 812: unterminated string");
 * once failed it stays failed. */
int lcb_jsonscan_feed(struct lcb_jsonscan *s, const void *data, size_t len);
/* The input is complete: exactly one JSON value and white space. Returns 0 or -1 (s->error). */
int lcb_jsonscan_end(struct lcb_jsonscan *s);

#endif
