/*
 * json.h - JSON through cJSON, in lcbackup's own types (the only file that includes cJSON.h is json.c).
 *
 * A struct lcb_json is one node of a parsed or built document; the root owns its children and
 * lcb_json_free() frees the whole tree. Getters return borrowed pointers that live as long as the root.
 */
#ifndef LCB_EXT_JSON_H
#define LCB_EXT_JSON_H

#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"

struct lcb_json;

enum lcb_json_type {
    LCB_JSON_INVALID,
    LCB_JSON_NULL,
    LCB_JSON_BOOL,
    LCB_JSON_NUMBER,
    LCB_JSON_STRING,
    LCB_JSON_ARRAY,
    LCB_JSON_OBJECT,
};

/* Parse text (len bytes, need not be NUL-terminated). On a syntax error fails with LCB_ECORRUPT and a
 * message "line L, column C: ..." (what to append to the file name). */
int lcb_json_parse(struct lcb_json **out, const char *text, size_t len, struct lcb_err *err);
void lcb_json_free(struct lcb_json *j);

enum lcb_json_type lcb_json_type(const struct lcb_json *j);
const char *lcb_json_type_name(enum lcb_json_type t);
/* Member of an object (NULL when absent or j is not an object). */
struct lcb_json *lcb_json_get(const struct lcb_json *j, const char *key);
/* Follow a dotted path of object keys ("Endpoint.Address"). */
struct lcb_json *lcb_json_path(const struct lcb_json *j, const char *path);
/* Value accessors: NULL / 0 / dflt when the node is absent or of another type. */
const char *lcb_json_str(const struct lcb_json *j);
const char *lcb_json_get_str(const struct lcb_json *j, const char *key);
double lcb_json_num(const struct lcb_json *j, double dflt);
double lcb_json_get_num(const struct lcb_json *j, const char *key, double dflt);
int lcb_json_bool(const struct lcb_json *j, int dflt);
/* Arrays and objects: size, index, iteration (first child, next sibling, the member's key). */
size_t lcb_json_size(const struct lcb_json *j);
struct lcb_json *lcb_json_at(const struct lcb_json *j, size_t i);
struct lcb_json *lcb_json_child(const struct lcb_json *j);
struct lcb_json *lcb_json_next(const struct lcb_json *j);
const char *lcb_json_key(const struct lcb_json *j);

/* Building. add_* return the new node (borrowed). item/obj take ownership of a detached tree. */
struct lcb_json *lcb_json_new_object(void);
struct lcb_json *lcb_json_new_array(void);
struct lcb_json *lcb_json_new_str(const char *s);
struct lcb_json *lcb_json_new_num(double v);
struct lcb_json *lcb_json_add_str(struct lcb_json *obj, const char *key, const char *s);
struct lcb_json *lcb_json_add_num(struct lcb_json *obj, const char *key, double v);
struct lcb_json *lcb_json_add_bool(struct lcb_json *obj, const char *key, int v);
struct lcb_json *lcb_json_add_null(struct lcb_json *obj, const char *key);
struct lcb_json *lcb_json_add(struct lcb_json *obj, const char *key, struct lcb_json *item);
struct lcb_json *lcb_json_push(struct lcb_json *arr, struct lcb_json *item);
/* Replace (or add) a member. */
void lcb_json_set(struct lcb_json *obj, const char *key, struct lcb_json *item);
void lcb_json_remove(struct lcb_json *obj, const char *key);
struct lcb_json *lcb_json_dup(const struct lcb_json *j);
/* Remove a node from its parent and return it (caller owns it). */
struct lcb_json *lcb_json_detach(struct lcb_json *parent, struct lcb_json *item);

/* Serialise: compact, or pretty with 2-space indentation. Appends to out. */
void lcb_json_print(struct lcb_buf *out, const struct lcb_json *j, int pretty);

/* cJSON's version string, for `lcbackup version`. */
const char *lcb_json_version(void);

#endif
