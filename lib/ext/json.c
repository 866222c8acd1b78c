/* json.c - the cJSON wrapper; see json.h. */
#include "json.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"

#define C(j) ((cJSON *)(j))
#define J(c) ((struct lcb_json *)(c))

static void
position(const char *text, size_t len, const char *at, int *line, int *col)
{
    const char *p;

    *line = 1;
    *col = 1;
    for (p = text; p < at && p < text + len; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int
lcb_json_parse(struct lcb_json **out, const char *text, size_t len, struct lcb_err *err)
{
    const char *end = NULL;
    cJSON *root;
    int line, col;

    *out = NULL;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        if (!at || at < text || at > text + len)
            at = text + len;
        position(text, len, at, &line, &col);
        return lcb_err_set(err, LCB_ECORRUPT, "line %d, column %d: %s", line, col,
                           at >= text + len ? "unexpected end of JSON" : "invalid JSON");
    }
    /* cJSON stops after the first value: anything but white space after it is an error */
    while (end && end < text + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    if (end && end < text + len && *end) {
        position(text, len, end, &line, &col);
        cJSON_Delete(root);
        return lcb_err_set(err, LCB_ECORRUPT, "line %d, column %d: unexpected text after the JSON value",
                           line, col);
    }
    *out = J(root);
    return 0;
}

void
lcb_json_free(struct lcb_json *j)
{
    cJSON_Delete(C(j));
}

enum lcb_json_type
lcb_json_type(const struct lcb_json *j)
{
    const cJSON *c = C(j);

    if (!c)
        return LCB_JSON_INVALID;
    if (cJSON_IsNull(c))
        return LCB_JSON_NULL;
    if (cJSON_IsBool(c))
        return LCB_JSON_BOOL;
    if (cJSON_IsNumber(c))
        return LCB_JSON_NUMBER;
    if (cJSON_IsString(c))
        return LCB_JSON_STRING;
    if (cJSON_IsArray(c))
        return LCB_JSON_ARRAY;
    if (cJSON_IsObject(c))
        return LCB_JSON_OBJECT;
    return LCB_JSON_INVALID;
}

const char *
lcb_json_type_name(enum lcb_json_type t)
{
    static const char *const names[] = { "nothing", "null", "a boolean", "a number",
                                         "a string", "an array", "an object" };
    return names[t];
}

struct lcb_json *
lcb_json_get(const struct lcb_json *j, const char *key)
{
    if (!j || !cJSON_IsObject(C(j)))
        return NULL;
    return J(cJSON_GetObjectItemCaseSensitive(C(j), key));
}

struct lcb_json *
lcb_json_path(const struct lcb_json *j, const char *path)
{
    char key[256];
    const char *p = path, *dot;
    size_t n;

    while (j && *p) {
        dot = strchr(p, '.');
        n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        j = lcb_json_get(j, key);
        p += n + (dot ? 1 : 0);
    }
    return (struct lcb_json *)j;
}

const char *
lcb_json_str(const struct lcb_json *j)
{
    return j && cJSON_IsString(C(j)) ? C(j)->valuestring : NULL;
}

const char *
lcb_json_get_str(const struct lcb_json *j, const char *key)
{
    return lcb_json_str(lcb_json_get(j, key));
}

double
lcb_json_num(const struct lcb_json *j, double dflt)
{
    return j && cJSON_IsNumber(C(j)) ? C(j)->valuedouble : dflt;
}

double
lcb_json_get_num(const struct lcb_json *j, const char *key, double dflt)
{
    return lcb_json_num(lcb_json_get(j, key), dflt);
}

int
lcb_json_bool(const struct lcb_json *j, int dflt)
{
    if (!j || !cJSON_IsBool(C(j)))
        return dflt;
    return cJSON_IsTrue(C(j));
}

size_t
lcb_json_size(const struct lcb_json *j)
{
    return j ? (size_t)cJSON_GetArraySize(C(j)) : 0;
}

struct lcb_json *
lcb_json_at(const struct lcb_json *j, size_t i)
{
    return j ? J(cJSON_GetArrayItem(C(j), (int)i)) : NULL;
}

struct lcb_json *
lcb_json_child(const struct lcb_json *j)
{
    return j && (cJSON_IsArray(C(j)) || cJSON_IsObject(C(j))) ? J(C(j)->child) : NULL;
}

struct lcb_json *
lcb_json_next(const struct lcb_json *j)
{
    return j ? J(C(j)->next) : NULL;
}

const char *
lcb_json_key(const struct lcb_json *j)
{
    return j ? C(j)->string : NULL;
}

struct lcb_json *
lcb_json_new_object(void)
{
    return J(cJSON_CreateObject());
}

struct lcb_json *
lcb_json_new_array(void)
{
    return J(cJSON_CreateArray());
}

struct lcb_json *
lcb_json_new_str(const char *s)
{
    return J(cJSON_CreateString(s ? s : ""));
}

struct lcb_json *
lcb_json_new_num(double v)
{
    return J(cJSON_CreateNumber(v));
}

struct lcb_json *
lcb_json_add(struct lcb_json *obj, const char *key, struct lcb_json *item)
{
    cJSON_AddItemToObject(C(obj), key, C(item));
    return item;
}

struct lcb_json *
lcb_json_add_str(struct lcb_json *obj, const char *key, const char *s)
{
    return lcb_json_add(obj, key, s ? lcb_json_new_str(s) : J(cJSON_CreateNull()));
}

struct lcb_json *
lcb_json_add_num(struct lcb_json *obj, const char *key, double v)
{
    return lcb_json_add(obj, key, lcb_json_new_num(v));
}

struct lcb_json *
lcb_json_add_bool(struct lcb_json *obj, const char *key, int v)
{
    return lcb_json_add(obj, key, J(cJSON_CreateBool(v)));
}

struct lcb_json *
lcb_json_add_null(struct lcb_json *obj, const char *key)
{
    return lcb_json_add(obj, key, J(cJSON_CreateNull()));
}

struct lcb_json *
lcb_json_push(struct lcb_json *arr, struct lcb_json *item)
{
    cJSON_AddItemToArray(C(arr), C(item));
    return item;
}

void
lcb_json_set(struct lcb_json *obj, const char *key, struct lcb_json *item)
{
    if (cJSON_GetObjectItemCaseSensitive(C(obj), key))
        cJSON_ReplaceItemInObjectCaseSensitive(C(obj), key, C(item));
    else
        cJSON_AddItemToObject(C(obj), key, C(item));
}

void
lcb_json_remove(struct lcb_json *obj, const char *key)
{
    cJSON_DeleteItemFromObjectCaseSensitive(C(obj), key);
}

struct lcb_json *
lcb_json_dup(const struct lcb_json *j)
{
    return J(cJSON_Duplicate(C(j), 1));
}

struct lcb_json *
lcb_json_detach(struct lcb_json *parent, struct lcb_json *item)
{
    return J(cJSON_DetachItemViaPointer(C(parent), C(item)));
}

/* cJSON indents with tabs and writes "key":<tab>value; people read two spaces and ": ".
 * Raw tabs cannot occur inside JSON strings (they are escaped), so this rewrite is safe. */
static void
add_pretty(struct lcb_buf *out, const char *s)
{
    int line_start = 1;

    for (; *s; s++) {
        if (*s == '\t') {
            lcb_buf_adds(out, line_start ? "  " : " ");
            continue;
        }
        line_start = *s == '\n';
        lcb_buf_addch(out, *s);
    }
}

void
lcb_json_print(struct lcb_buf *out, const struct lcb_json *j, int pretty)
{
    char *s = pretty ? cJSON_Print(C(j)) : cJSON_PrintUnformatted(C(j));

    if (!s) {
        fprintf(stderr, "lcbackup: out of memory printing JSON\n");
        abort();
    }
    if (pretty)
        add_pretty(out, s);
    else
        lcb_buf_adds(out, s);
    cJSON_free(s);
}

const char *
lcb_json_version(void)
{
    return cJSON_Version();
}
