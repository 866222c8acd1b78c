/*
 * page.c - a page of entities (a JSON array of objects) split into its elements in one pass over
 * the bytes, without building a tree: the export needs only each entity's id and where it starts
 * and ends, so that it can drop entities seen before by copying the others' bytes as received.
 * Parsing a 1 MB page with cJSON would cost several MB and most of the export's CPU time.
 *
 * The split checks the structure (strings, brackets, the array around the objects, nothing after
 * it), which is what a cut body breaks: a cut page is retried, never archived. The rest of the
 * syntax (numbers, literals, UTF-8) is checked once, by the archive writer, which refuses the page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "../ext/json.h"
#include "internal.h"

#define MAX_DEPTH 256

static size_t
skip_ws(const char *p, size_t i, size_t len)
{
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

static int
failed(char *why, size_t whylen, size_t at, const char *what)
{
    snprintf(why, whylen, "byte %zu: %s", at, what);
    return -1;
}

/* The object starting at *pos: its end and its top-level "id" string. */
static int
scan_object(const char *p, size_t len, size_t *pos, struct ngsi_item *it, char *why, size_t wl)
{
    unsigned char stack[MAX_DEPTH];
    int depth = 0, key_next = 0, id_value = 0, escaped;
    size_t i, s;

    memset(it, 0, sizeof(*it));
    it->start = *pos;
    for (i = *pos; i < len; i++) {
        switch (p[i]) {
        case '{':
        case '[':
            if (depth == MAX_DEPTH)
                return failed(why, wl, i, "nested too deep");
            stack[depth++] = (unsigned char)p[i];
            key_next = depth == 1;
            break;
        case '}':
        case ']':
            if (!depth || stack[depth - 1] != (p[i] == '}' ? '{' : '['))
                return failed(why, wl, i, "mismatched bracket");
            if (--depth == 0) {
                it->end = i + 1;
                *pos = i + 1;
                return 0;
            }
            break;
        case ',':
            key_next = depth == 1;
            break;
        case '"':
            for (s = ++i, escaped = 0; i < len && p[i] != '"'; i++) {
                if ((unsigned char)p[i] < 0x20)
                    return failed(why, wl, i, "control character in a string");
                if (p[i] == '\\') {
                    escaped = 1;
                    i++;
                }
            }
            if (i >= len)
                return failed(why, wl, s, "unterminated string");
            if (depth == 1 && key_next) {
                key_next = 0;
                id_value = i - s == 2 && p[s] == 'i' && p[s + 1] == 'd';
            } else if (depth == 1 && id_value) {
                it->id_start = s;
                it->id_end = i;
                it->id_escaped = escaped;
                id_value = 0;
            }
            break;
        default:
            break;
        }
    }
    return failed(why, wl, it->start, "unterminated object");
}

/* The ']' at i closes the page: only white space may follow. */
static int
end_of_array(const char *p, size_t i, size_t len, char *why, size_t wl)
{
    return skip_ws(p, i + 1, len) == len ? 0 : failed(why, wl, i + 1, "data after the array");
}

static void
push(struct ngsi_page *pg, const struct ngsi_item *it)
{
    if (pg->n == pg->cap) {
        pg->cap = pg->cap ? pg->cap * 2 : 1024;
        pg->items = lcb_xrealloc(pg->items, pg->cap * sizeof(*pg->items));
    }
    pg->items[pg->n++] = *it;
}

int
ngsi_page_split(struct ngsi_page *pg, const char *p, size_t len, char *why, size_t wl)
{
    struct ngsi_item it;
    size_t i = skip_ws(p, 0, len);

    pg->n = 0;
    if (i >= len || p[i] != '[')
        return failed(why, wl, i, "not a JSON array");
    i = skip_ws(p, i + 1, len);
    if (i < len && p[i] == ']')
        return end_of_array(p, i, len, why, wl);
    for (;;) {
        if (i >= len || p[i] != '{')
            return failed(why, wl, i, "an element is not an object");
        if (scan_object(p, len, &i, &it, why, wl) < 0)
            return -1;
        push(pg, &it);
        i = skip_ws(p, i, len);
        if (i < len && p[i] == ']')
            return end_of_array(p, i, len, why, wl);
        if (i >= len || p[i] != ',')
            return failed(why, wl, i, "expected ',' or ']'");
        i = skip_ws(p, i + 1, len);
    }
}

const char *
ngsi_page_id(const struct ngsi_page *pg, const char *p, size_t k, struct lcb_buf *out)
{
    const struct ngsi_item *it = &pg->items[k];
    struct lcb_json *j = NULL;
    struct lcb_err ignored;
    const char *id = NULL;

    if (!it->id_end)
        return NULL;
    lcb_buf_reset(out);
    if (!it->id_escaped) {
        lcb_buf_add(out, p + it->id_start, it->id_end - it->id_start);
        return lcb_buf_str(out);
    }
    /* rare: let the JSON parser decode the escapes of the quoted string */
    if (lcb_json_parse(&j, p + it->id_start - 1, it->id_end - it->id_start + 2, &ignored) == 0 &&
        (id = lcb_json_str(j)) != NULL)
        lcb_buf_adds(out, id);
    lcb_json_free(j);
    return id ? lcb_buf_str(out) : NULL;
}

void
ngsi_page_release(struct ngsi_page *pg)
{
    free(pg->items);
    memset(pg, 0, sizeof(*pg));
}
