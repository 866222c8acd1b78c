/* diff.c - field-level comparison of two configurations; see diff.h. */
#include "diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aws/ecs.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "secrets.h"

#define MASK "***"
#define TEXT_MAX 120 /* longest value shown in text output */

static const char *const service_runtime[] = {
    "serviceArn", "clusterArn", "runningCount", "pendingCount", "deployments", "events",
    "createdAt", "createdBy", "taskSets", "currentServiceDeployment", "currentServiceRevisions",
    NULL,
};

void
lcb_config_diff_init(struct lcb_config_diff *d)
{
    memset(d, 0, sizeof(*d));
}

void
lcb_diff_item_release(struct lcb_diff_item *it)
{
    size_t i;

    for (i = 0; i < it->nfields; i++) {
        free(it->fields[i].path);
        lcb_json_free(it->fields[i].from);
        lcb_json_free(it->fields[i].to);
    }
    free(it->fields);
    free(it->name);
    free(it->note);
}

void
lcb_config_diff_release(struct lcb_config_diff *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        lcb_diff_item_release(&d->items[i]);
    free(d->items);
    lcb_config_diff_init(d);
}

struct lcb_diff_item *
lcb_diff_item_add(struct lcb_config_diff *d, const char *what, const char *name,
                  enum lcb_diff_kind kind)
{
    struct lcb_diff_item *it;

    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->items = lcb_xrealloc(d->items, d->cap * sizeof(*d->items));
    }
    it = &d->items[d->n++];
    memset(it, 0, sizeof(*it));
    it->what = what;
    it->name = lcb_xstrdup(name);
    it->kind = kind;
    return it;
}

void
lcb_diff_item_done(struct lcb_config_diff *d)
{
    struct lcb_diff_item *it = &d->items[d->n - 1];

    if (it->kind == LCB_DIFF_CHANGED && it->nfields == 0) {
        lcb_diff_item_release(it);
        d->n--;
        return;
    }
    if (it->kind == LCB_DIFF_ADDED)
        d->added++;
    else if (it->kind == LCB_DIFF_REMOVED)
        d->removed++;
    else
        d->changed++;
}

void
lcb_diff_field_add(struct lcb_diff_item *it, const char *path, struct lcb_json *from,
                   struct lcb_json *to)
{
    struct lcb_diff_field *f;

    it->fields = lcb_xrealloc(it->fields, (it->nfields + 1) * sizeof(*it->fields));
    f = &it->fields[it->nfields++];
    f->path = lcb_xstrdup(path);
    f->from = from;
    f->to = to;
}

/* ---- generic JSON comparison ---- */

static int
json_equal(const struct lcb_json *x, const struct lcb_json *y)
{
    struct lcb_buf a = LCB_BUF_INIT, b = LCB_BUF_INIT;
    int eq;

    lcb_json_print(&a, x, 0);
    lcb_json_print(&b, y, 0);
    eq = strcmp(lcb_buf_str(&a), lcb_buf_str(&b)) == 0;
    lcb_buf_release(&a);
    lcb_buf_release(&b);
    return eq;
}

/* The member that identifies the elements of arr ("name", "key" or "Key"), when every element
 * is an object with a distinct string value for it; else NULL. */
static const char *
array_key(const struct lcb_json *x, const struct lcb_json *y)
{
    static const char *const keys[] = { "name", "key", "Key" };
    const struct lcb_json *arrs[2] = { x, y }, *e, *f;
    size_t k, i;

    for (k = 0; k < LCB_ARRAY_SIZE(keys); k++) {
        int ok = lcb_json_size(x) + lcb_json_size(y) > 0;
        for (i = 0; i < 2 && ok; i++) {
            for (e = lcb_json_child(arrs[i]); e && ok; e = lcb_json_next(e)) {
                const char *v = lcb_json_get_str(e, keys[k]);
                ok = v != NULL;
                for (f = lcb_json_child(arrs[i]); ok && f != e; f = lcb_json_next(f))
                    ok = strcmp(lcb_json_get_str(f, keys[k]), v) != 0;
            }
        }
        if (ok)
            return keys[k];
    }
    return NULL;
}

static const struct lcb_json *
find_by(const struct lcb_json *arr, const char *key, const char *value)
{
    const struct lcb_json *e;

    for (e = lcb_json_child(arr); e; e = lcb_json_next(e))
        if (strcmp(lcb_json_get_str(e, key), value) == 0)
            return e;
    return NULL;
}

static size_t diff_value(struct lcb_diff_item *it, struct lcb_buf *path, const struct lcb_json *x,
                         const struct lcb_json *y);

/* Recurse into a child named by suffix appended to path. */
static size_t
diff_child(struct lcb_diff_item *it, struct lcb_buf *path, const char *fmt, const char *part,
           const struct lcb_json *x, const struct lcb_json *y)
{
    size_t len = path->len, n;

    if (fmt[0] == '.' && len == 0)
        fmt++;
    lcb_buf_addf(path, fmt, part);
    n = diff_value(it, path, x, y);
    path->len = len;
    path->ptr[len] = '\0';
    return n;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t
diff_object(struct lcb_diff_item *it, struct lcb_buf *path, const struct lcb_json *x,
            const struct lcb_json *y)
{
    const char **keys = lcb_xmalloc((lcb_json_size(x) + lcb_json_size(y) + 1) * sizeof(*keys));
    const struct lcb_json *e;
    size_t n = 0, i, found = 0;

    for (e = lcb_json_child(x); e; e = lcb_json_next(e))
        keys[n++] = lcb_json_key(e);
    for (e = lcb_json_child(y); e; e = lcb_json_next(e))
        if (!lcb_json_get(x, lcb_json_key(e)))
            keys[n++] = lcb_json_key(e);
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (i = 0; i < n; i++)
        found += diff_child(it, path, ".%s", keys[i], lcb_json_get(x, keys[i]),
                            lcb_json_get(y, keys[i]));
    free(keys);
    return found;
}

static size_t
diff_keyed(struct lcb_diff_item *it, struct lcb_buf *path, const char *key,
           const struct lcb_json *x, const struct lcb_json *y)
{
    const struct lcb_json *e;
    size_t found = 0;

    for (e = lcb_json_child(x); e; e = lcb_json_next(e)) {
        const char *v = lcb_json_get_str(e, key);
        found += diff_child(it, path, "[%s]", v, e, find_by(y, key, v));
    }
    for (e = lcb_json_child(y); e; e = lcb_json_next(e)) {
        const char *v = lcb_json_get_str(e, key);
        if (!find_by(x, key, v))
            found += diff_child(it, path, "[%s]", v, NULL, e);
    }
    return found;
}

static size_t
diff_array(struct lcb_diff_item *it, struct lcb_buf *path, const struct lcb_json *x,
           const struct lcb_json *y)
{
    const char *key = array_key(x, y);
    size_t i, nx = lcb_json_size(x), ny = lcb_json_size(y), found = 0;
    char idx[24];

    if (key)
        return diff_keyed(it, path, key, x, y);
    for (i = 0; i < nx || i < ny; i++) {
        snprintf(idx, sizeof(idx), "%zu", i);
        found += diff_child(it, path, "[%s]", idx, i < nx ? lcb_json_at(x, i) : NULL,
                            i < ny ? lcb_json_at(y, i) : NULL);
    }
    return found;
}

static size_t
diff_value(struct lcb_diff_item *it, struct lcb_buf *path, const struct lcb_json *x,
           const struct lcb_json *y)
{
    enum lcb_json_type tx = x ? lcb_json_type(x) : LCB_JSON_INVALID;
    enum lcb_json_type ty = y ? lcb_json_type(y) : LCB_JSON_INVALID;

    if (!x && !y)
        return 0;
    if (x && y && tx == ty && tx == LCB_JSON_OBJECT)
        return diff_object(it, path, x, y);
    if (x && y && tx == ty && tx == LCB_JSON_ARRAY)
        return diff_array(it, path, x, y);
    if (x && y && json_equal(x, y))
        return 0;
    lcb_diff_field_add(it, lcb_buf_str(path), x ? lcb_json_dup(x) : NULL,
                       y ? lcb_json_dup(y) : NULL);
    return 1;
}

size_t
lcb_config_json_diff(struct lcb_diff_item *item, const char *prefix, const struct lcb_json *x,
                     const struct lcb_json *y)
{
    struct lcb_buf path = LCB_BUF_INIT;
    size_t n;

    lcb_buf_adds(&path, prefix ? prefix : "");
    n = diff_value(item, &path, x, y);
    lcb_buf_release(&path);
    return n;
}

/* ---- comparable forms ---- */

struct lcb_json *
lcb_config_taskdef_comparable(const struct lcb_config_taskdef *t)
{
    struct lcb_json *td = lcb_json_dup(lcb_json_get(t->doc, "taskDefinition"));
    const struct lcb_json *tags = lcb_json_get(t->doc, "tags");
    const char *const *k;

    for (k = lcb_ecs_taskdef_read_only; *k; k++)
        lcb_json_remove(td, *k);
    lcb_json_set(td, "tags", tags ? lcb_json_dup(tags) : lcb_json_new_array());
    return td;
}

struct lcb_json *
lcb_config_service_comparable(const struct lcb_config_service *s)
{
    struct lcb_json *svc = lcb_json_dup(s->doc);
    const char *const *k;
    char family[256];

    for (k = service_runtime; *k; k++)
        lcb_json_remove(svc, *k);
    lcb_config_family_of(lcb_json_get_str(s->doc, "taskDefinition"), family, sizeof(family));
    lcb_json_set(svc, "taskDefinition", lcb_json_new_str(family));
    if (!lcb_json_get(svc, "tags"))
        lcb_json_add(svc, "tags", lcb_json_new_array());
    return svc;
}

/* ---- parameters ---- */

static const char *
or_default(const char *v, const char *dflt)
{
    return v && *v ? v : dflt;
}

static void
str_field(struct lcb_diff_item *it, const char *path, const char *x, const char *y)
{
    if (strcmp(x ? x : "", y ? y : "") == 0)
        return;
    lcb_diff_field_add(it, path, x ? lcb_json_new_str(x) : NULL,
                       y ? lcb_json_new_str(y) : NULL);
}

static void
value_field(struct lcb_diff_item *it, const struct lcb_config_param *x,
            const struct lcb_config_param *y, int show_secrets)
{
    const char *vx = lcb_config_param_value(x), *vy = lcb_config_param_value(y);
    int masked = !show_secrets && (lcb_config_param_secure(x) || lcb_config_param_secure(y));

    if (strcmp(vx, vy) == 0)
        return;
    if (masked)
        lcb_diff_field_add(it, "Value", lcb_json_new_str(MASK), lcb_json_new_str(MASK));
    else
        lcb_diff_field_add(it, "Value", lcb_json_new_str(vx), lcb_json_new_str(vy));
}

static void
tag_fields(struct lcb_diff_item *it, const struct lcb_config_param *x,
           const struct lcb_config_param *y)
{
    char path[200];
    size_t i;

    for (i = 0; i < x->ntags; i++) {
        const char *yv = lcb_config_param_tag_get(y, x->tags[i].key);
        snprintf(path, sizeof(path), "Tags.%s", x->tags[i].key);
        if (!yv)
            lcb_diff_field_add(it, path, lcb_json_new_str(x->tags[i].value), NULL);
        else if (strcmp(yv, x->tags[i].value) != 0)
            lcb_diff_field_add(it, path, lcb_json_new_str(x->tags[i].value),
                               lcb_json_new_str(yv));
    }
    for (i = 0; i < y->ntags; i++) {
        if (lcb_config_param_tag_get(x, y->tags[i].key))
            continue;
        snprintf(path, sizeof(path), "Tags.%s", y->tags[i].key);
        lcb_diff_field_add(it, path, NULL, lcb_json_new_str(y->tags[i].value));
    }
}

size_t
lcb_config_param_diff(struct lcb_diff_item *it, const struct lcb_config_param *x,
                      const struct lcb_config_param *y, int show_secrets)
{
    size_t before = it->nfields;

    str_field(it, "Type", x->type, y->type);
    value_field(it, x, y, show_secrets);
    if (lcb_config_param_secure(x) && lcb_config_param_secure(y))
        str_field(it, "KeyId", x->key_id, y->key_id);
    str_field(it, "Tier", or_default(x->tier, "Standard"), or_default(y->tier, "Standard"));
    str_field(it, "Description", x->description, y->description);
    str_field(it, "AllowedPattern", x->allowed_pattern, y->allowed_pattern);
    str_field(it, "DataType", or_default(x->data_type, "text"), or_default(y->data_type, "text"));
    str_field(it, "Policies", x->policies, y->policies);
    tag_fields(it, x, y);
    return it->nfields - before;
}

static void
diff_params(struct lcb_config_diff *d, const struct lcb_config *a, const struct lcb_config *b,
            int show_secrets)
{
    size_t i;

    for (i = 0; i < a->nparams; i++) {
        const struct lcb_config_param *x = &a->params[i];
        const struct lcb_config_param *y = lcb_config_param_find(b, x->name);
        struct lcb_diff_item *it =
            lcb_diff_item_add(d, "parameter", x->name, y ? LCB_DIFF_CHANGED : LCB_DIFF_REMOVED);
        if (y)
            lcb_config_param_diff(it, x, y, show_secrets);
        else
            it->note = lcb_xstrdup(x->type);
        lcb_diff_item_done(d);
    }
    for (i = 0; i < b->nparams; i++) {
        if (lcb_config_param_find(a, b->params[i].name))
            continue;
        lcb_diff_item_add(d, "parameter", b->params[i].name, LCB_DIFF_ADDED)->note =
            lcb_xstrdup(b->params[i].type);
        lcb_diff_item_done(d);
    }
}

/* ---- task definitions and services ---- */

/* The task definition of family that a service of c runs, or NULL. */
static const struct lcb_config_taskdef *
family_taskdef(const struct lcb_config *c, const char *family)
{
    const struct lcb_config_taskdef *t;
    size_t i;

    for (i = 0; i < c->nservices; i++) {
        t = lcb_config_service_taskdef(c, &c->services[i]);
        if (t && strcmp(t->family, family) == 0)
            return t;
    }
    return NULL;
}

/* The families services run, in a then b, without repeats. */
static void
families(struct lcb_strlist *out, const struct lcb_config *a, const struct lcb_config *b)
{
    const struct lcb_config *cs[2] = { a, b };
    const struct lcb_config_taskdef *t;
    size_t k, i;

    for (k = 0; k < 2; k++) {
        for (i = 0; i < cs[k]->nservices; i++) {
            t = lcb_config_service_taskdef(cs[k], &cs[k]->services[i]);
            if (t && !lcb_strlist_has(out, t->family))
                lcb_strlist_add(out, t->family);
        }
    }
}

static void
diff_taskdefs(struct lcb_config_diff *d, const struct lcb_config *a, const struct lcb_config *b)
{
    struct lcb_strlist fams = LCB_STRLIST_INIT;
    size_t i;

    families(&fams, a, b);
    if (fams.n)
        qsort(fams.items, fams.n, sizeof(*fams.items), cmp_str);
    for (i = 0; i < fams.n; i++) {
        const struct lcb_config_taskdef *x = family_taskdef(a, fams.items[i]);
        const struct lcb_config_taskdef *y = family_taskdef(b, fams.items[i]);
        struct lcb_json *cx = x ? lcb_config_taskdef_comparable(x) : NULL;
        struct lcb_json *cy = y ? lcb_config_taskdef_comparable(y) : NULL;
        struct lcb_diff_item *it = lcb_diff_item_add(d, "task definition", fams.items[i],
                                                     !x ? LCB_DIFF_ADDED
                                                        : !y ? LCB_DIFF_REMOVED : LCB_DIFF_CHANGED);
        if (x && y && lcb_config_json_diff(it, "", cx, cy) > 0)
            it->note = lcb_xasprintf("%s:%lld -> %s:%lld", x->family, x->revision, y->family,
                                     y->revision);
        else if (x || y)
            it->note = lcb_xasprintf("%s:%lld", (x ? x : y)->family, (x ? x : y)->revision);
        lcb_diff_item_done(d);
        lcb_json_free(cx);
        lcb_json_free(cy);
    }
    lcb_strlist_release(&fams);
}

static void
diff_services(struct lcb_config_diff *d, const struct lcb_config *a, const struct lcb_config *b)
{
    char name[512];
    size_t i;

    for (i = 0; i < a->nservices; i++) {
        const struct lcb_config_service *x = &a->services[i];
        const struct lcb_config_service *y = lcb_config_service_find(b, x->cluster, x->name);
        struct lcb_diff_item *it;
        snprintf(name, sizeof(name), "%s/%s", x->cluster, x->name);
        it = lcb_diff_item_add(d, "service", name, y ? LCB_DIFF_CHANGED : LCB_DIFF_REMOVED);
        if (y) {
            struct lcb_json *cx = lcb_config_service_comparable(x);
            struct lcb_json *cy = lcb_config_service_comparable(y);
            lcb_config_json_diff(it, "", cx, cy);
            lcb_json_free(cx);
            lcb_json_free(cy);
        }
        lcb_diff_item_done(d);
    }
    for (i = 0; i < b->nservices; i++) {
        const struct lcb_config_service *y = &b->services[i];
        if (lcb_config_service_find(a, y->cluster, y->name))
            continue;
        snprintf(name, sizeof(name), "%s/%s", y->cluster, y->name);
        lcb_diff_item_add(d, "service", name, LCB_DIFF_ADDED);
        lcb_diff_item_done(d);
    }
}

size_t
lcb_config_diff(struct lcb_config_diff *d, const struct lcb_config *a, const struct lcb_config *b,
                int show_secrets)
{
    size_t before = d->n;

    diff_params(d, a, b, show_secrets);
    diff_taskdefs(d, a, b);
    diff_services(d, a, b);
    lcb_config_secrets_diff(d, a, b, show_secrets);
    return d->n - before;
}

/* ---- output ---- */

static void
text_value(struct lcb_buf *out, const struct lcb_json *v)
{
    struct lcb_buf t = LCB_BUF_INIT;

    if (!v) {
        lcb_buf_adds(out, "(absent)");
        return;
    }
    lcb_json_print(&t, v, 0);
    if (t.len > TEXT_MAX)
        lcb_buf_addf(out, "%.*s...", TEXT_MAX, t.ptr);
    else
        lcb_buf_adds(out, lcb_buf_str(&t));
    lcb_buf_release(&t);
}

void
lcb_config_diff_text(struct lcb_buf *out, const struct lcb_config_diff *d)
{
    static const char sign[] = { '+', '-', '~' };
    size_t i, j;

    for (i = 0; i < d->n; i++) {
        const struct lcb_diff_item *it = &d->items[i];
        lcb_buf_addf(out, "%c %s %s", sign[it->kind], it->what, it->name);
        if (it->note)
            lcb_buf_addf(out, " (%s)", it->note);
        lcb_buf_addch(out, '\n');
        for (j = 0; j < it->nfields; j++) {
            lcb_buf_addf(out, "    %s: ", it->fields[j].path);
            text_value(out, it->fields[j].from);
            lcb_buf_adds(out, " -> ");
            text_value(out, it->fields[j].to);
            lcb_buf_addch(out, '\n');
        }
    }
    if (d->n == 0)
        lcb_buf_adds(out, "no differences\n");
    else
        lcb_buf_addf(out, "%zu difference%s: %zu added, %zu removed, %zu changed\n", d->n,
                     d->n == 1 ? "" : "s", d->added, d->removed, d->changed);
}

void
lcb_config_diff_json(struct lcb_buf *out, const struct lcb_config_diff *d)
{
    static const char *const kinds[] = { "added", "removed", "changed" };
    struct lcb_json *root = lcb_json_new_object(), *items, *o, *fields, *f;
    size_t i, j;

    lcb_json_add_bool(root, "equal", d->n == 0);
    lcb_json_add_num(root, "added", (double)d->added);
    lcb_json_add_num(root, "removed", (double)d->removed);
    lcb_json_add_num(root, "changed", (double)d->changed);
    items = lcb_json_add(root, "items", lcb_json_new_array());
    for (i = 0; i < d->n; i++) {
        const struct lcb_diff_item *it = &d->items[i];
        o = lcb_json_push(items, lcb_json_new_object());
        lcb_json_add_str(o, "type", it->what);
        lcb_json_add_str(o, "name", it->name);
        lcb_json_add_str(o, "change", kinds[it->kind]);
        if (it->note)
            lcb_json_add_str(o, "note", it->note);
        fields = lcb_json_add(o, "fields", lcb_json_new_array());
        for (j = 0; j < it->nfields; j++) {
            f = lcb_json_push(fields, lcb_json_new_object());
            lcb_json_add_str(f, "field", it->fields[j].path);
            if (it->fields[j].from)
                lcb_json_add(f, "from", lcb_json_dup(it->fields[j].from));
            else
                lcb_json_add_null(f, "from");
            if (it->fields[j].to)
                lcb_json_add(f, "to", lcb_json_dup(it->fields[j].to));
            else
                lcb_json_add_null(f, "to");
        }
    }
    lcb_json_print(out, root, 0);
    lcb_buf_addch(out, '\n');
    lcb_json_free(root);
}
