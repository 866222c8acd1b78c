/* jsonscan.c - a pushdown automaton over JSON bytes; see jsonscan.h. */
#include "jsonscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"

enum {
    S_VALUE,     /* a value must come (top level, after '[' ... ',', after ':') */
    S_ARR_FIRST, /* a value or ']' */
    S_OBJ_FIRST, /* a key or '}' */
    S_KEY,       /* a key */
    S_COLON,
    S_AFTER,     /* ',' or a closing bracket */
    S_STRING,
    S_ESCAPE,
    S_HEX,
    S_UTF8,
    S_NUM_MINUS,
    S_NUM_ZERO,
    S_NUM_INT,
    S_NUM_DOT,
    S_NUM_FRAC,
    S_NUM_E,
    S_NUM_ESIGN,
    S_NUM_EXP,
    S_LIT,
    S_DONE,
    S_FAILED
};

/* Bytes that stand for themselves inside a string: printable ASCII but '"' and '\\'. */
#define ONES8 1, 1, 1, 1, 1, 1, 1, 1
#define P16 ONES8, ONES8
static const unsigned char plain[256] = {
    /* 0x00-0x1f */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20-0x2f */ 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30-0x5b */ P16, P16, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x5c */ 0,
    /* 0x5d-0x7f */ 1, 1, 1, P16, P16,
    /* 0x80-0xff: UTF-8, checked byte by byte */
};

void
lcb_jsonscan_init(struct lcb_jsonscan *s)
{
    memset(s, 0, sizeof(*s));
    s->state = S_VALUE;
    s->items = -1;
}

void
lcb_jsonscan_index(struct lcb_jsonscan *s, struct lcb_jsonscan_index *ix, const char *member)
{
    s->ix = ix;
    ix->n = 0;
    s->member = member;
    s->member_len = strlen(member);
}

void
lcb_jsonscan_index_release(struct lcb_jsonscan_index *ix)
{
    free(ix->items);
    memset(ix, 0, sizeof(*ix));
}

/* In index mode, at depth 2 inside an element object of the top-level array. */
static int
in_element(const struct lcb_jsonscan *s)
{
    return s->ix && s->depth == 2 && s->stack[0] == '[' && s->stack[1] == '{';
}

static void
element_begin(struct lcb_jsonscan *s, unsigned char c, uint64_t at)
{
    struct lcb_jsonscan_index *ix = s->ix;
    struct lcb_jsonscan_item *it;

    if (ix->n == ix->cap) {
        ix->cap = ix->cap ? ix->cap * 2 : 1024;
        ix->items = lcb_xrealloc(ix->items, ix->cap * sizeof(*ix->items));
    }
    it = &ix->items[ix->n++];
    memset(it, 0, sizeof(*it));
    it->start = (size_t)at;
    it->is_object = c == '{';
    s->member_next = 0;
}

/* A string at depth 2 ended at byte at (its closing quote): a key that names the member, or the
 * member's value. */
static void
element_string_end(struct lcb_jsonscan *s, uint64_t at)
{
    struct lcb_jsonscan_item *it = &s->ix->items[s->ix->n - 1];
    size_t len = (size_t)at - s->str_start;

    if (s->in_key) {
        s->member_next = len == s->member_len && !s->str_escaped &&
                         memcmp(s->base + s->str_start, s->member, len) == 0;
    } else if (s->member_next) {
        it->key_start = s->str_start;
        it->key_end = (size_t)at;
        it->key_escaped = s->str_escaped;
        s->member_next = 0;
    }
}

static int
fail(struct lcb_jsonscan *s, uint64_t at, const char *why)
{
    snprintf(s->error, sizeof(s->error), "byte %llu: %s", (unsigned long long)at, why);
    s->state = S_FAILED;
    return -1;
}

static int
is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int
is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void
end_value(struct lcb_jsonscan *s)
{
    s->state = s->depth == 0 ? S_DONE : S_AFTER;
}

static int
push(struct lcb_jsonscan *s, unsigned char c, uint64_t at)
{
    if (s->depth == LCB_JSONSCAN_DEPTH)
        return fail(s, at, "nested too deeply");
    s->stack[s->depth++] = c;
    if (c == '[' && s->depth == 1)
        s->items = 0;
    s->state = c == '[' ? S_ARR_FIRST : S_OBJ_FIRST;
    return 1;
}

static int
close_level(struct lcb_jsonscan *s, unsigned char c, uint64_t at)
{
    if (s->depth == 0 || s->stack[s->depth - 1] != (c == ']' ? '[' : '{'))
        return fail(s, at, "mismatched closing bracket");
    s->depth--;
    if (s->ix && s->depth == 1 && s->stack[0] == '[' && c == '}')
        s->ix->items[s->ix->n - 1].end = (size_t)at + 1;
    end_value(s);
    return 1;
}

static int
begin_value(struct lcb_jsonscan *s, unsigned char c, uint64_t at)
{
    if (s->depth == 1 && s->stack[0] == '[') {
        s->items++;
        if (s->ix)
            element_begin(s, c, at);
    } else if (in_element(s)) {
        s->member_next &= c == '"'; /* the member's value must be a string */
        s->str_start = (size_t)at + 1;
        s->str_escaped = 0;
    }
    switch (c) {
    case '{':
    case '[':
        return push(s, c, at);
    case '"':
        s->in_key = 0;
        s->state = S_STRING;
        return 1;
    case '-':
        s->state = S_NUM_MINUS;
        return 1;
    case 't':
    case 'f':
    case 'n':
        s->lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
        s->lit_pos = 1;
        s->state = S_LIT;
        return 1;
    default:
        if (is_digit(c)) {
            s->state = c == '0' ? S_NUM_ZERO : S_NUM_INT;
            return 1;
        }
        return fail(s, at, "expected a value");
    }
}

/* The first byte of a multi-byte UTF-8 sequence (RFC 3629 table: no overlongs, no surrogates). */
static int
utf8_lead(struct lcb_jsonscan *s, unsigned char c, uint64_t at)
{
    s->utf8_lo = 0x80;
    s->utf8_hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        s->utf8_left = 1;
    else if (c >= 0xE0 && c <= 0xEF)
        s->utf8_left = 2;
    else if (c >= 0xF0 && c <= 0xF4)
        s->utf8_left = 3;
    else
        return fail(s, at, "invalid UTF-8 in a string");
    if (c == 0xE0)
        s->utf8_lo = 0xA0;
    else if (c == 0xED)
        s->utf8_hi = 0x9F;
    else if (c == 0xF0)
        s->utf8_lo = 0x90;
    else if (c == 0xF4)
        s->utf8_hi = 0x8F;
    s->state = S_UTF8;
    return 1;
}

static int
in_string(struct lcb_jsonscan *s, unsigned char c, uint64_t at)
{
    switch (s->state) {
    case S_STRING:
        if (c == '"' && in_element(s))
            element_string_end(s, at);
        if (c == '"') {
            if (s->in_key)
                s->state = S_COLON;
            else
                end_value(s);
        } else if (c == '\\') {
            s->state = S_ESCAPE;
            s->str_escaped = 1;
        } else if (c < 0x20) {
            return fail(s, at, "control character in a string");
        } else if (c >= 0x80) {
            return utf8_lead(s, c, at);
        }
        return 1;
    case S_ESCAPE:
        if (c == 'u') {
            s->hex_left = 4;
            s->state = S_HEX;
        } else if (c && strchr("\"\\/bfnrt", c)) {
            s->state = S_STRING;
        } else {
            return fail(s, at, "invalid escape in a string");
        }
        return 1;
    case S_HEX:
        if (!is_hex(c))
            return fail(s, at, "invalid \\u escape");
        if (--s->hex_left == 0)
            s->state = S_STRING;
        return 1;
    default: /* S_UTF8 */
        if (c < s->utf8_lo || c > s->utf8_hi)
            return fail(s, at, "invalid UTF-8 in a string");
        s->utf8_lo = 0x80;
        s->utf8_hi = 0xBF;
        if (--s->utf8_left == 0)
            s->state = S_STRING;
        return 1;
    }
}

/* Numbers; returns 0 when c ends the number and must be looked at again. */
static int
in_number(struct lcb_jsonscan *s, unsigned char c, uint64_t at)
{
    int st = s->state;

    if (is_digit(c)) {
        if (st == S_NUM_ZERO)
            return fail(s, at, "leading zero in a number");
        s->state = st == S_NUM_MINUS   ? (c == '0' ? S_NUM_ZERO : S_NUM_INT)
                   : st == S_NUM_DOT   ? S_NUM_FRAC
                   : st == S_NUM_E     ? S_NUM_EXP
                   : st == S_NUM_ESIGN ? S_NUM_EXP
                                       : st;
        return 1;
    }
    if (c == '.' && (st == S_NUM_ZERO || st == S_NUM_INT)) {
        s->state = S_NUM_DOT;
        return 1;
    }
    if ((c == 'e' || c == 'E') && (st == S_NUM_ZERO || st == S_NUM_INT || st == S_NUM_FRAC)) {
        s->state = S_NUM_E;
        return 1;
    }
    if ((c == '+' || c == '-') && st == S_NUM_E) {
        s->state = S_NUM_ESIGN;
        return 1;
    }
    if (st == S_NUM_ZERO || st == S_NUM_INT || st == S_NUM_FRAC || st == S_NUM_EXP) {
        end_value(s);
        return 0;
    }
    return fail(s, at, "malformed number");
}

static int
structural(struct lcb_jsonscan *s, unsigned char c, uint64_t at)
{
    if (is_ws(c))
        return 1;
    switch (s->state) {
    case S_VALUE:
        return begin_value(s, c, at);
    case S_ARR_FIRST:
        return c == ']' ? close_level(s, c, at) : begin_value(s, c, at);
    case S_OBJ_FIRST:
    case S_KEY:
        if (c == '}' && s->state == S_OBJ_FIRST)
            return close_level(s, c, at);
        if (c != '"')
            return fail(s, at, "expected an object key");
        s->in_key = 1;
        s->state = S_STRING;
        if (in_element(s)) {
            s->str_start = (size_t)at + 1;
            s->str_escaped = 0;
        }
        return 1;
    case S_COLON:
        if (c != ':')
            return fail(s, at, "expected ':'");
        s->state = S_VALUE;
        return 1;
    case S_AFTER:
        if (c == ']' || c == '}')
            return close_level(s, c, at);
        if (c != ',')
            return fail(s, at, "expected ',' or a closing bracket");
        s->state = s->stack[s->depth - 1] == '[' ? S_VALUE : S_KEY;
        return 1;
    default: /* S_DONE */
        return fail(s, at, "unexpected text after the JSON value");
    }
}

static int
step(struct lcb_jsonscan *s, unsigned char c, uint64_t at)
{
    switch (s->state) {
    case S_STRING:
    case S_ESCAPE:
    case S_HEX:
    case S_UTF8:
        return in_string(s, c, at);
    case S_NUM_MINUS:
    case S_NUM_ZERO:
    case S_NUM_INT:
    case S_NUM_DOT:
    case S_NUM_FRAC:
    case S_NUM_E:
    case S_NUM_ESIGN:
    case S_NUM_EXP:
        return in_number(s, c, at);
    case S_LIT:
        if (c != (unsigned char)s->lit[s->lit_pos])
            return fail(s, at, "invalid literal");
        if (s->lit[++s->lit_pos] == '\0')
            end_value(s);
        return 1;
    default:
        return structural(s, c, at);
    }
}

int
lcb_jsonscan_feed(struct lcb_jsonscan *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i = 0;
    int r;

    if (s->state == S_FAILED)
        return -1;
    if (s->ix) {
        if (s->offset != 0)
            return fail(s, s->offset, "an indexed input must come in one piece");
        s->base = p;
    }
    while (i < len) {
        switch (s->state) { /* fast paths: runs of bytes that do not change the state */
        case S_STRING:
            while (i < len && plain[p[i]])
                i++;
            break;
        case S_NUM_INT:
        case S_NUM_FRAC:
        case S_NUM_EXP:
            while (i < len && is_digit(p[i]))
                i++;
            break;
        case S_VALUE:
        case S_AFTER:
        case S_COLON:
        case S_KEY:
        case S_DONE:
            while (i < len && is_ws(p[i]))
                i++;
            break;
        default:
            break;
        }
        if (i == len)
            break;
        r = step(s, p[i], s->offset + i);
        if (r < 0)
            return -1;
        i += (size_t)r;
    }
    s->offset += len;
    return 0;
}

int
lcb_jsonscan_end(struct lcb_jsonscan *s)
{
    switch (s->state) {
    case S_FAILED:
        return -1;
    case S_DONE:
        return 0;
    case S_NUM_ZERO:
    case S_NUM_INT:
    case S_NUM_FRAC:
    case S_NUM_EXP:
        if (s->depth == 0)
            return 0;
        break;
    case S_VALUE:
        if (s->offset == 0 || s->depth == 0) {
            s->cut = 1;
            return fail(s, s->offset, "no JSON value");
        }
        break;
    default:
        break;
    }
    s->cut = 1;
    return fail(s, s->offset, "unexpected end of JSON");
}
