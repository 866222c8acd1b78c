/*
 * page.c - a page of entities (a JSON array of objects) split into its elements: where each starts
 * and ends and its "id", located by lcb_jsonscan's index mode in the pass that checks the page's
 * whole syntax, without building a tree. The export drops entities seen before by copying the
 * others' bytes as received, and archives what passed without checking it again. (Parsing a 1 MB
 * page with cJSON would cost several MB and most of the export's CPU time; a separate split and
 * check walked every byte twice.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ext/json.h"
#include "internal.h"

int
ngsi_page_split(struct lcb_jsonscan_index *pg, const char *p, size_t len, char *why, size_t wl)
{
    struct lcb_jsonscan sc;
    size_t k;

    lcb_jsonscan_init(&sc);
    lcb_jsonscan_index(&sc, pg, "id");
    if (lcb_jsonscan_feed(&sc, p, len) < 0 || lcb_jsonscan_end(&sc) < 0) {
        snprintf(why, wl, "%s", sc.error);
        pg->n = 0;
        return sc.cut ? -2 : -1;
    }
    if (sc.items < 0) {
        snprintf(why, wl, "not a JSON array");
        return -1;
    }
    for (k = 0; k < pg->n; k++)
        if (!pg->items[k].is_object) {
            snprintf(why, wl, "byte %zu: an element is not an object", pg->items[k].start);
            pg->n = 0;
            return -1;
        }
    return 0;
}

const char *
ngsi_page_id(const struct lcb_jsonscan_index *pg, const char *p, size_t k, struct lcb_buf *out)
{
    const struct lcb_jsonscan_item *it = &pg->items[k];
    struct lcb_json *j = NULL;
    struct lcb_err ignored;
    const char *id = NULL;

    if (!it->key_end)
        return NULL;
    lcb_buf_reset(out);
    if (!it->key_escaped) {
        lcb_buf_add(out, p + it->key_start, it->key_end - it->key_start);
        return lcb_buf_str(out);
    }
    /* rare: let the JSON parser decode the escapes of the quoted string */
    if (lcb_json_parse(&j, p + it->key_start - 1, it->key_end - it->key_start + 2, &ignored) == 0 &&
        (id = lcb_json_str(j)) != NULL)
        lcb_buf_adds(out, id);
    lcb_json_free(j);
    return id ? lcb_buf_str(out) : NULL;
}

void
ngsi_page_release(struct lcb_jsonscan_index *pg)
{
    lcb_jsonscan_index_release(pg);
}
