/* fuzz_page_split.c - the broker page split (jsonscan's index mode) on arbitrary bytes: no crash,
 * no leak; it accepts exactly what the plain syntax check accepts as an array of objects, and
 * calls a body cut (-2) exactly when the plain check does; every element it locates lies inside
 * the page, in order, starts with '{' and ends with '}', and every id it locates lies inside its
 * element. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/archive/jsonscan.h"
#include "../../lib/ngsi/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0 when valid (items set), -2 when cut short, -1 otherwise: the split's own codes */
static int
plain_verdict(const uint8_t *data, size_t size, int64_t *items)
{
    struct lcb_jsonscan s;

    lcb_jsonscan_init(&s);
    if (lcb_jsonscan_feed(&s, data, size) < 0 || lcb_jsonscan_end(&s) < 0)
        return s.cut ? -2 : -1;
    *items = s.items;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lcb_jsonscan_index pg = { 0 };
    const char *p = (const char *)data;
    char why[128];
    int64_t items = -1;
    size_t k, prev_end = 0;
    int plain;
    int rc = ngsi_page_split(&pg, p, size, why, sizeof(why));

    if (rc < 0 && why[0] == '\0')
        abort(); /* a refusal says why */
    plain = plain_verdict(data, size, &items);
    if (plain < 0 ? rc != plain : rc == 0 && (int64_t)pg.n != items)
        abort(); /* the index mode checks exactly as the plain scan, cut or not, and counts alike */
    for (k = 0; rc == 0 && k < pg.n; k++) {
        const struct lcb_jsonscan_item *it = &pg.items[k];
        if (!it->is_object || it->start < prev_end || it->end <= it->start || it->end > size ||
            p[it->start] != '{' || p[it->end - 1] != '}')
            abort();
        if (it->key_end && (it->key_start <= it->start || it->key_end >= it->end ||
                            it->key_end < it->key_start || p[it->key_start - 1] != '"' ||
                            p[it->key_end] != '"'))
            abort();
        prev_end = it->end;
    }
    ngsi_page_release(&pg);
    return 0;
}
