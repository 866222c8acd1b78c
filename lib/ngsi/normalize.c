/*
 * normalize.c - the canonical text of an entity, so that an archived entity and the same entity
 * read back from another broker compare equal (ngsi-ld.md 5: what brokers add or reformat).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/json.h"
#include "ngsi.h"

static void emit(struct lcb_buf *out, const struct lcb_json *j, const char *key);

static int
is_system_key(const char *k)
{
    return strcmp(k, "createdAt") == 0 || strcmp(k, "modifiedAt") == 0 ||
           strcmp(k, "instanceId") == 0 || strcmp(k, "deletedAt") == 0 ||
           strcmp(k, "@context") == 0;
}

/* An ISO 8601 instant ("2026-11-28T12:00:00Z", "...00.5+05:30") to milliseconds. */
static int
parse_instant(const char *s, long long *ms)
{
    time_t t;
    const char *dot;
    long frac = 0;
    int digits = 0;

    if (strlen(s) < 20 || s[4] != '-' || s[10] != 'T' || lcb_time_parse(s, &t) < 0)
        return 0;
    dot = strchr(s, '.');
    if (dot) {
        for (dot++; isdigit((unsigned char)*dot) && digits < 3; dot++, digits++)
            frac = frac * 10 + (*dot - '0');
        while (digits++ < 3)
            frac *= 10;
    }
    *ms = (long long)t * 1000 + frac;
    return 1;
}

static void
emit_string(struct lcb_buf *out, const char *s)
{
    long long ms;
    time_t secs;
    char ts[LCB_TIME_LEN];

    if (parse_instant(s, &ms)) {
        secs = (time_t)(ms / 1000);
        lcb_time_fmt(secs, ts);
        ts[19] = '\0'; /* drop the Z: milliseconds go in between */
        lcb_buf_addf(out, "\"%s.%03lldZ\"", ts, ms % 1000);
        return;
    }
    lcb_json_quote(out, s);
}

static void
emit_number(struct lcb_buf *out, double v)
{
    if (v == 0)
        v = 0; /* -0 is 0: printf would keep the sign */
    if (v == floor(v) && fabs(v) < 1e15)
        lcb_buf_addf(out, "%.0f", v);
    else
        lcb_buf_addf(out, "%.6e", v); /* 7 significant digits: Orion-LD keeps 6 decimals */
}

static int
cmp_keys(const void *a, const void *b)
{
    return strcmp(lcb_json_key(*(struct lcb_json *const *)a),
                  lcb_json_key(*(struct lcb_json *const *)b));
}

static void
emit_object(struct lcb_buf *out, const struct lcb_json *j)
{
    size_t n = lcb_json_size(j), k = 0, i;
    struct lcb_json **members = lcb_xcalloc(n ? n : 1, sizeof(*members)), *m;
    int first = 1;

    for (m = lcb_json_child(j); m; m = lcb_json_next(m))
        members[k++] = m;
    qsort(members, k, sizeof(*members), cmp_keys);
    lcb_buf_addch(out, '{');
    for (i = 0; i < k; i++) {
        const char *key = lcb_json_key(members[i]);
        if (is_system_key(key))
            continue;
        lcb_buf_adds(out, first ? "" : ",");
        first = 0;
        lcb_json_quote(out, key);
        lcb_buf_addch(out, ':');
        emit(out, members[i], key);
    }
    lcb_buf_addch(out, '}');
    free(members);
}

struct item {
    char *text;
    const char *sort;
};

static int
cmp_items(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    int c = strcmp(x->sort, y->sort);

    return c ? c : strcmp(x->text, y->text);
}

/* Arrays whose order carries no meaning: entity types, and instances of a multi-attribute (sorted
 * by datasetId). A one-element array of attribute instances is the instance itself. */
static void
emit_set(struct lcb_buf *out, const struct lcb_json *j)
{
    size_t n = lcb_json_size(j), i = 0;
    struct item *items = lcb_xcalloc(n ? n : 1, sizeof(*items));
    struct lcb_json *e;
    struct lcb_buf one = LCB_BUF_INIT;

    for (e = lcb_json_child(j); e; e = lcb_json_next(e), i++) {
        lcb_buf_reset(&one);
        emit(&one, e, NULL);
        items[i].text = lcb_xstrdup(lcb_buf_str(&one));
        items[i].sort = lcb_json_get_str(e, "datasetId") ? lcb_json_get_str(e, "datasetId") : "";
    }
    qsort(items, n, sizeof(*items), cmp_items);
    lcb_buf_addch(out, '[');
    for (i = 0; i < n; i++) {
        lcb_buf_addf(out, "%s%s", i ? "," : "", items[i].text);
        free(items[i].text);
    }
    lcb_buf_addch(out, ']');
    free(items);
    lcb_buf_release(&one);
}

static int
is_instance_array(const struct lcb_json *j)
{
    const struct lcb_json *e = lcb_json_child(j);

    return e && lcb_json_type(e) == LCB_JSON_OBJECT && lcb_json_get(e, "type") &&
           (lcb_json_get(e, "value") || lcb_json_get(e, "object") ||
            lcb_json_get(e, "languageMap") || lcb_json_get(e, "datasetId"));
}

static void
emit(struct lcb_buf *out, const struct lcb_json *j, const char *key)
{
    const struct lcb_json *e;
    int first = 1;

    switch (lcb_json_type(j)) {
    case LCB_JSON_OBJECT:
        emit_object(out, j);
        return;
    case LCB_JSON_STRING:
        emit_string(out, lcb_json_str(j));
        return;
    case LCB_JSON_NUMBER:
        emit_number(out, lcb_json_num(j, 0));
        return;
    case LCB_JSON_BOOL:
        lcb_buf_adds(out, lcb_json_bool(j, 0) ? "true" : "false");
        return;
    case LCB_JSON_ARRAY:
        if (key && strcmp(key, "type") == 0 && lcb_json_size(j) == 1) {
            emit(out, lcb_json_child(j), NULL);
        } else if (is_instance_array(j) && lcb_json_size(j) == 1) {
            emit(out, lcb_json_child(j), NULL);
        } else if ((key && strcmp(key, "type") == 0) || is_instance_array(j)) {
            emit_set(out, j);
        } else {
            lcb_buf_addch(out, '[');
            for (e = lcb_json_child(j); e; e = lcb_json_next(e), first = 0) {
                lcb_buf_adds(out, first ? "" : ",");
                emit(out, e, NULL);
            }
            lcb_buf_addch(out, ']');
        }
        return;
    default:
        lcb_buf_adds(out, "null");
    }
}

void
lcb_ngsi_normalize(struct lcb_buf *out, const struct lcb_json *entity)
{
    emit(out, entity, NULL);
}

/* Numbers within 1e-6 * max(1, |a|) (ngsi-ld.md 5): a broker that rounds to 6 decimals moves a
 * value by less than that, while two values that round to neighbouring 7-digit texts differ by at
 * most one unit in the 7th digit, which is within it too. */
static int
close_enough(double a, double b)
{
    return fabs(a - b) <= 1.000001e-6 * (fabs(a) > 1 ? fabs(a) : 1);
}

/* Two normalised documents alike but for number rounding (keys are sorted by now). */
static int
same_tree(const struct lcb_json *a, const struct lcb_json *b)
{
    const struct lcb_json *x, *y;
    enum lcb_json_type t = lcb_json_type(a);

    if (t != lcb_json_type(b))
        return 0;
    switch (t) {
    case LCB_JSON_NUMBER:
        return close_enough(lcb_json_num(a, 0), lcb_json_num(b, 0));
    case LCB_JSON_STRING:
        return strcmp(lcb_json_str(a), lcb_json_str(b)) == 0;
    case LCB_JSON_BOOL:
        return lcb_json_bool(a, 0) == lcb_json_bool(b, 0);
    case LCB_JSON_ARRAY:
    case LCB_JSON_OBJECT:
        if (lcb_json_size(a) != lcb_json_size(b))
            return 0;
        for (x = lcb_json_child(a), y = lcb_json_child(b); x && y;
             x = lcb_json_next(x), y = lcb_json_next(y))
            if ((t == LCB_JSON_OBJECT && strcmp(lcb_json_key(x), lcb_json_key(y)) != 0) ||
                !same_tree(x, y))
                return 0;
        return 1;
    default:
        return 1;
    }
}

int
lcb_ngsi_same(const struct lcb_json *a, const struct lcb_json *b)
{
    struct lcb_buf ta = LCB_BUF_INIT, tb = LCB_BUF_INIT;
    struct lcb_json *ja = NULL, *jb = NULL;
    struct lcb_err ignored;
    int same;

    lcb_ngsi_normalize(&ta, a);
    lcb_ngsi_normalize(&tb, b);
    same = strcmp(lcb_buf_str(&ta), lcb_buf_str(&tb)) == 0;
    if (!same && lcb_json_parse(&ja, ta.ptr, ta.len, &ignored) == 0 &&
        lcb_json_parse(&jb, tb.ptr, tb.len, &ignored) == 0)
        same = same_tree(ja, jb);
    lcb_json_free(ja);
    lcb_json_free(jb);
    lcb_buf_release(&ta);
    lcb_buf_release(&tb);
    return same;
}
