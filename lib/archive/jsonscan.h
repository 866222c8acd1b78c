/*
 * jsonscan.h - a streaming JSON syntax checker (RFC 8259, UTF-8 checked) that also counts the
 * elements of a top-level array.
 *
 * The archive writer and reader feed entry data through it piece by piece, so checking a page of
 * entities costs a few hundred bytes of state whatever the page's size, where parsing it with cJSON
 * would build the whole tree. Nesting deeper than LCB_JSONSCAN_DEPTH is refused.
 *
 * It can also index the elements of a top-level array as it checks them (lcb_jsonscan_index):
 * where each element starts and ends and where one named member of an element object holds its
 * string value, which is how the broker export splits a page into entities and reads their ids
 * in the same pass that checks the page.
 *
 * Caller-owned: lcb_jsonscan_init(), feed, end; nothing to release (but the index's items).
 */
#ifndef LCB_ARCHIVE_JSONSCAN_H
#define LCB_ARCHIVE_JSONSCAN_H

#include <stddef.h>
#include <stdint.h>

#define LCB_JSONSCAN_DEPTH 256

/* An element of the top-level array: its bytes [start, end) and, for an object, the string value
 * of the indexed member between its quotes [key_start, key_end) as written (escaped when
 * key_escaped); key_end 0 when the member is absent or not a string. */
struct lcb_jsonscan_item {
    size_t start, end;
    size_t key_start, key_end;
    int key_escaped;
    int is_object;
};

struct lcb_jsonscan_index {
    struct lcb_jsonscan_item *items;
    size_t n, cap;
};

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
    int cut;           /* lcb_jsonscan_end failed because the input stopped early */
    char error[96];
    /* index mode (lcb_jsonscan_index) */
    struct lcb_jsonscan_index *ix;
    const char *member;           /* the member whose string value is located */
    size_t member_len;
    const unsigned char *base;    /* the input (fed in one call) */
    size_t str_start;             /* the string at depth 2 being read: its first byte */
    int str_escaped;
    int member_next;              /* the key just read at depth 2 is the member */
};

void lcb_jsonscan_init(struct lcb_jsonscan *s);
/* Index mode, after init: the elements of the top-level array go into ix (emptied first; its items
 * are the caller's to free), each element object's member named member located. The input must
 * then come in one lcb_jsonscan_feed call. */
void lcb_jsonscan_index(struct lcb_jsonscan *s, struct lcb_jsonscan_index *ix, const char *member);
void lcb_jsonscan_index_release(struct lcb_jsonscan_index *ix);
/* Feed the next len bytes. Returns 0, or -1 with s->error set ("byte 812: unterminated string");
 * once failed it stays failed. */
int lcb_jsonscan_feed(struct lcb_jsonscan *s, const void *data, size_t len);
/* The input is complete: exactly one JSON value and white space. Returns 0 or -1 (s->error; s->cut
 * set when what came was good so far but stopped early: a cut body rather than bad syntax). */
int lcb_jsonscan_end(struct lcb_jsonscan *s);

#endif
