/*
 * diff.h - a readable, field-level comparison of two configurations (config.h): parameters
 * added, removed and changed; task definitions and services changed, field by field.
 *
 * Direction is diff(1)'s: a is the backup, b the other backup or what AWS holds now; "added"
 * is in b only. What always differs between an export and a re-creation is left out: parameter
 * versions and modification times; task definition ARNs, revisions and registration times;
 * service counts, deployments, events and creation times; a service's task definition is
 * compared as its family (its content is compared under "task definition").
 *
 * SecureString values are shown as "***" unless show_secrets is set (they are compared all the
 * same). Arrays of objects that carry a "name" (containers, environment, secrets) or a
 * "key"/"Key" (tags) are matched by it, so a field reads as containerDefinitions[payload].image.
 *
 * Ownership: struct lcb_config_diff is caller-owned (_init/_release) and owns every item.
 */
#ifndef LCB_CONFIG_DIFF_H
#define LCB_CONFIG_DIFF_H

#include <stddef.h>

#include "../core/buf.h"
#include "../ext/json.h"
#include "config.h"

enum lcb_diff_kind { LCB_DIFF_ADDED, LCB_DIFF_REMOVED, LCB_DIFF_CHANGED };

struct lcb_diff_field {
    char *path;           /* "Value", "Tags.Owner", "containerDefinitions[payload].image" */
    struct lcb_json *from; /* NULL: absent in a */
    struct lcb_json *to;   /* NULL: absent in b */
};

struct lcb_diff_item {
    const char *what; /* "parameter", "task definition", "service" */
    char *name;
    enum lcb_diff_kind kind;
    char *note;       /* "SecureString", "legocity-payload:3 -> legocity-payload:7"; may be NULL */
    struct lcb_diff_field *fields;
    size_t nfields;
};

struct lcb_config_diff {
    struct lcb_diff_item *items;
    size_t n, cap;
    size_t added, removed, changed;
};

void lcb_config_diff_init(struct lcb_config_diff *d);
void lcb_config_diff_release(struct lcb_config_diff *d);

/* Compare a with b into d (appended). Returns the number of items that differ. */
size_t lcb_config_diff(struct lcb_config_diff *d, const struct lcb_config *a,
                       const struct lcb_config *b, int show_secrets);

/* The differences as text (one line per item, indented lines per field, a closing summary
 * line), or as one JSON object {"equal", "added", "removed", "changed", "items": [...]}. */
void lcb_config_diff_text(struct lcb_buf *out, const struct lcb_config_diff *d);
void lcb_config_diff_json(struct lcb_buf *out, const struct lcb_config_diff *d);

/* Pure. Append to item one field per difference between the JSON values x and y, under prefix
 * ("" at the top). Returns the number of fields added. */
size_t lcb_config_json_diff(struct lcb_diff_item *item, const char *prefix,
                            const struct lcb_json *x, const struct lcb_json *y);

/* Pure. Append to item one field per difference between parameters x and y (Type, Value,
 * KeyId, Tier, Description, AllowedPattern, DataType, Policies, Tags.<key>). Returns the number
 * of fields added. */
size_t lcb_config_param_diff(struct lcb_diff_item *item, const struct lcb_config_param *x,
                             const struct lcb_config_param *y, int show_secrets);
/* Free what an item owns (for items built outside a struct lcb_config_diff). */
void lcb_diff_item_release(struct lcb_diff_item *item);

/* For the comparisons of each part of a configuration (diff.c, secrets.c). Append an item of d
 * (what: "parameter", "secret"...) and return it (borrowed: valid until the next add); once its
 * fields are added, lcb_diff_item_done() counts it, or drops it when a changed item has
 * no field after all. */
struct lcb_diff_item *lcb_diff_item_add(struct lcb_config_diff *d, const char *what,
                                               const char *name, enum lcb_diff_kind kind);
void lcb_diff_item_done(struct lcb_config_diff *d);
/* Add a field to item, taking ownership of from and to (NULL: absent). */
void lcb_diff_field_add(struct lcb_diff_item *item, const char *path, struct lcb_json *from,
                        struct lcb_json *to);

/* The forms that are compared (caller owns them): a task definition without its read-only
 * fields, with its tags as "tags"; a service without its runtime fields, its taskDefinition
 * replaced by the family. */
struct lcb_json *lcb_config_taskdef_comparable(const struct lcb_config_taskdef *t);
struct lcb_json *lcb_config_service_comparable(const struct lcb_config_service *s);

#endif
