/* codec.c - the configuration model to and from archive entries; see config.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../archive/envelope.h"
#include "../core/mem.h"
#include "config.h"
#include "secrets.h"

#define TASKDEF_DIR "ecs/task-definitions/"

/* ---- parameters.json, writing ---- */

static void
add_opt(struct lcb_json *o, const char *key, const char *v)
{
    if (v)
        lcb_json_add_str(o, key, v);
}

static int
add_value(struct lcb_json *o, const struct lcb_config_param *p, const struct lcb_secret *key,
          struct lcb_err *err)
{
    struct lcb_buf env = LCB_BUF_INIT;

    if (!lcb_config_param_secure(p)) {
        lcb_json_add_str(o, "Value", p->value ? p->value : "");
        return 0;
    }
    if (!key || lcb_secret_empty(key))
        return lcb_err_set(err, LCB_ECONFIG, "%s is a SecureString and no encryption key was "
                           "given", p->name);
    if (lcb_envelope_encrypt(&env, key, p->name, p->secret.ptr ? p->secret.ptr : "",
                             p->secret.len, err) < 0)
        return lcb_wrap(err, "encrypt %s", p->name);
    lcb_json_add_str(o, "Value", lcb_buf_str(&env));
    lcb_buf_release(&env);
    return 0;
}

static int
param_json(struct lcb_json *arr, const struct lcb_config_param *p, const struct lcb_secret *key,
           struct lcb_err *err)
{
    struct lcb_json *o = lcb_json_push(arr, lcb_json_new_object()), *tags, *pol = NULL;
    struct lcb_err scratch;
    size_t i;

    lcb_json_add_str(o, "Name", p->name);
    lcb_json_add_str(o, "Type", p->type ? p->type : "String");
    if (add_value(o, p, key, err) < 0)
        return -1;
    lcb_json_add_num(o, "Version", (double)p->version);
    add_opt(o, "KeyId", p->key_id);
    add_opt(o, "Tier", p->tier);
    add_opt(o, "Description", p->description);
    add_opt(o, "AllowedPattern", p->allowed_pattern);
    add_opt(o, "DataType", p->data_type);
    if (p->policies && lcb_json_parse(&pol, p->policies, strlen(p->policies), &scratch) == 0)
        lcb_json_add(o, "Policies", pol);
    if (p->last_modified > 0)
        lcb_json_add_num(o, "LastModifiedDate", p->last_modified);
    tags = lcb_json_add(o, "Tags", lcb_json_new_array());
    for (i = 0; i < p->ntags; i++) {
        struct lcb_json *t = lcb_json_push(tags, lcb_json_new_object());
        lcb_json_add_str(t, "Key", p->tags[i].key);
        lcb_json_add_str(t, "Value", p->tags[i].value);
    }
    return 0;
}

int
lcb_config_params_json(struct lcb_buf *out, const struct lcb_config *c,
                       const struct lcb_secret *key, struct lcb_err *err)
{
    struct lcb_json *arr = lcb_json_new_array();
    size_t i;

    for (i = 0; i < c->nparams; i++) {
        if (param_json(arr, &c->params[i], key, err) < 0) {
            lcb_json_free(arr);
            return -1;
        }
    }
    lcb_json_print(out, arr, 1);
    lcb_buf_addch(out, '\n');
    lcb_json_free(arr);
    return 0;
}

/* ---- parameters.json, reading ---- */

static int
bad(struct lcb_err *err, size_t i, const char *field, const char *why)
{
    return lcb_err_set(err, LCB_ECORRUPT, "%s: [%zu]%s%s: %s", LCB_CONFIG_PARAMS_ENTRY, i,
                       field ? "." : "", field ? field : "", why);
}

/* An optional string member into *dst (absent or null: left NULL). */
static int
opt_str(const struct lcb_json *o, const char *key, char **dst, size_t i, struct lcb_err *err)
{
    const struct lcb_json *j = lcb_json_get(o, key);

    if (!j || lcb_json_type(j) == LCB_JSON_NULL)
        return 0;
    if (lcb_json_type(j) != LCB_JSON_STRING)
        return bad(err, i, key, "not a string");
    free(*dst);
    *dst = lcb_xstrdup(lcb_json_str(j));
    return 0;
}

static int
parse_tags(struct lcb_config_param *p, const struct lcb_json *tags, size_t i, struct lcb_err *err)
{
    const struct lcb_json *t;

    if (!tags || lcb_json_type(tags) == LCB_JSON_NULL)
        return 0;
    if (lcb_json_type(tags) != LCB_JSON_ARRAY)
        return bad(err, i, "Tags", "not an array");
    for (t = lcb_json_child(tags); t; t = lcb_json_next(t)) {
        const char *k = lcb_json_get_str(t, "Key"), *v = lcb_json_get_str(t, "Value");
        if (!k || !v)
            return bad(err, i, "Tags", "an element without a string Key and Value");
        lcb_config_param_tag(p, k, v);
    }
    return 0;
}

static int
check_type(const char *type, size_t i, struct lcb_err *err)
{
    if (!type)
        return bad(err, i, "Type", "missing or not a string");
    if (strcmp(type, "String") != 0 && strcmp(type, "StringList") != 0 &&
        strcmp(type, "SecureString") != 0)
        return bad(err, i, "Type", "not String, StringList or SecureString");
    return 0;
}

static int
parse_value(struct lcb_config_param *p, const char *value, const struct lcb_secret *key,
            const char *key_check, size_t i, struct lcb_err *err)
{
    if (!lcb_config_param_secure(p)) {
        lcb_config_param_set_value(p, value, strlen(value));
        return 0;
    }
    if (!lcb_envelope_is_encrypted(value))
        return bad(err, i, "Value", "a SecureString value that is not encrypted");
    if (!key || lcb_secret_empty(key))
        return lcb_err_set(err, LCB_ECONFIG, "%s: %s is encrypted and no key was given",
                           LCB_CONFIG_PARAMS_ENTRY, p->name);
    if (lcb_envelope_decrypt(&p->secret, key, key_check, p->name, value, err) < 0)
        return lcb_wrap(err, "%s", LCB_CONFIG_PARAMS_ENTRY);
    return 0;
}

static int
parse_param(struct lcb_config *c, const struct lcb_json *o, size_t i, const struct lcb_secret *key,
            const char *key_check, struct lcb_err *err)
{
    const char *name = lcb_json_get_str(o, "Name"), *type = lcb_json_get_str(o, "Type");
    const char *value = lcb_json_get_str(o, "Value");
    const struct lcb_json *pol = lcb_json_get(o, "Policies");
    struct lcb_config_param *p;
    struct lcb_buf text = LCB_BUF_INIT;

    if (lcb_json_type(o) != LCB_JSON_OBJECT)
        return bad(err, i, NULL, "not an object");
    if (!name || !*name)
        return bad(err, i, "Name", "missing or not a string");
    if (lcb_config_param_find(c, name))
        return bad(err, i, "Name", "a duplicate name");
    if (check_type(type, i, err) < 0)
        return -1;
    if (!value)
        return bad(err, i, "Value", "missing or not a string");
    p = lcb_config_param_add(c, name);
    p->type = lcb_xstrdup(type);
    p->version = (long long)lcb_json_get_num(o, "Version", 0);
    p->last_modified = lcb_json_get_num(o, "LastModifiedDate", 0);
    if (opt_str(o, "KeyId", &p->key_id, i, err) < 0 || opt_str(o, "Tier", &p->tier, i, err) < 0 ||
        opt_str(o, "Description", &p->description, i, err) < 0 ||
        opt_str(o, "AllowedPattern", &p->allowed_pattern, i, err) < 0 ||
        opt_str(o, "DataType", &p->data_type, i, err) < 0 ||
        parse_tags(p, lcb_json_get(o, "Tags"), i, err) < 0)
        return -1;
    if (pol && lcb_json_type(pol) != LCB_JSON_NULL) {
        if (lcb_json_type(pol) != LCB_JSON_ARRAY)
            return bad(err, i, "Policies", "not an array");
        lcb_json_print(&text, pol, 0);
        p->policies = lcb_buf_detach(&text, NULL);
    }
    return parse_value(p, value, key, key_check, i, err);
}

int
lcb_config_params_parse(struct lcb_config *c, const char *text, size_t len,
                        const struct lcb_secret *key, const char *key_check, struct lcb_err *err)
{
    struct lcb_json *root = NULL, *o;
    size_t i = 0;
    int rc = 0;

    if (lcb_json_parse(&root, text, len, err) < 0)
        return lcb_wrap(err, "%s", LCB_CONFIG_PARAMS_ENTRY);
    if (lcb_json_type(root) != LCB_JSON_ARRAY) {
        lcb_json_free(root);
        return lcb_err_set(err, LCB_ECORRUPT, "%s: not a JSON array", LCB_CONFIG_PARAMS_ENTRY);
    }
    for (o = lcb_json_child(root); o && rc == 0; o = lcb_json_next(o), i++)
        rc = parse_param(c, o, i, key, key_check, err);
    lcb_json_free(root);
    return rc;
}

/* ---- archive entries ---- */

static int
add_doc(struct lcb_archive_writer *w, const char *name, const struct lcb_json *doc,
        struct lcb_err *err)
{
    struct lcb_buf text = LCB_BUF_INIT;
    int rc;

    lcb_json_print(&text, doc, 1);
    lcb_buf_addch(&text, '\n');
    rc = lcb_archive_writer_add(w, name, text.ptr, text.len, err);
    lcb_buf_release(&text);
    return rc;
}

static void
service_entry_name(struct lcb_buf *out, const char *cluster, const char *name)
{
    lcb_buf_adds(out, "ecs/");
    lcb_manifest_name_encode(out, cluster);
    lcb_buf_adds(out, "/services/");
    lcb_manifest_name_encode(out, name);
    lcb_buf_adds(out, ".json");
}

static void
taskdef_entry_name(struct lcb_buf *out, const char *family, long long revision)
{
    lcb_buf_adds(out, TASKDEF_DIR);
    lcb_manifest_name_encode(out, family);
    lcb_buf_addf(out, "-%lld.json", revision);
}

int
lcb_config_archive_add(struct lcb_archive_writer *w, const struct lcb_config *c,
                       const struct lcb_secret *key, struct lcb_err *err)
{
    struct lcb_buf text = LCB_BUF_INIT, name = LCB_BUF_INIT;
    size_t i;
    int rc = -1;

    if (c->paths.n || c->nparams) {
        if (lcb_config_params_json(&text, c, key, err) < 0 ||
            lcb_archive_writer_add(w, LCB_CONFIG_PARAMS_ENTRY, text.ptr, text.len, err) < 0)
            goto out;
    }
    for (i = 0; i < c->nservices; i++) {
        lcb_buf_reset(&name);
        service_entry_name(&name, c->services[i].cluster, c->services[i].name);
        if (add_doc(w, lcb_buf_str(&name), c->services[i].doc, err) < 0)
            goto out;
    }
    for (i = 0; i < c->ntaskdefs; i++) {
        lcb_buf_reset(&name);
        taskdef_entry_name(&name, c->taskdefs[i].family, c->taskdefs[i].revision);
        if (add_doc(w, lcb_buf_str(&name), c->taskdefs[i].doc, err) < 0)
            goto out;
    }
    if (lcb_config_secrets_archive_add(w, c, key, err) < 0)
        goto out;
    rc = 0;
out:
    lcb_buf_release(&text);
    lcb_buf_release(&name);
    return rc;
}

struct lcb_json *
lcb_config_strlist_json(const struct lcb_strlist *l)
{
    struct lcb_json *arr = lcb_json_new_array();
    size_t i;

    for (i = 0; i < l->n; i++)
        lcb_json_push(arr, lcb_json_new_str(l->items[i]));
    return arr;
}

void
lcb_config_manifest_fill(struct lcb_manifest *m, const struct lcb_config *c)
{
    struct lcb_json *extra = lcb_manifest_extra(m);

    lcb_manifest_count_add(m, "ssm-parameters", c->nparams);
    lcb_manifest_count_add(m, "ecs-services", c->nservices);
    lcb_manifest_count_add(m, "ecs-task-definitions", c->ntaskdefs);
    lcb_json_set(extra, "ssm_paths", lcb_config_strlist_json(&c->paths));
    lcb_json_set(extra, "ecs_clusters", lcb_config_strlist_json(&c->clusters));
    lcb_config_secrets_manifest_fill(m, c);
}

/* ---- reading archives ---- */

int
lcb_config_mem_source(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err)
{
    struct lcb_config_mem_source *m = ud;
    size_t n = m->len - m->pos < cap ? m->len - m->pos : cap;

    (void)err;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    *got = n;
    return 0;
}

void
lcb_config_archive_init(struct lcb_config_archive *a)
{
    memset(a, 0, sizeof(*a));
    lcb_manifest_init(&a->manifest, NULL);
}

void
lcb_config_archive_release(struct lcb_config_archive *a)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        free(a->names[i]);
        lcb_buf_release(&a->data[i]);
    }
    free(a->names);
    free(a->data);
    lcb_manifest_release(&a->manifest);
    memset(a, 0, sizeof(*a));
}

static int
read_entry(struct lcb_archive_reader *r, struct lcb_buf *out, const char *name,
           struct lcb_err *err)
{
    char chunk[16384];
    size_t got;

    lcb_buf_init(out, LCB_CONFIG_MAX_ENTRY);
    for (;;) {
        if (lcb_archive_reader_read(r, chunk, sizeof(chunk), &got, err) < 0)
            return -1;
        if (got == 0)
            return 0;
        if (lcb_buf_add(out, chunk, got) < 0)
            return lcb_err_set(err, LCB_ECORRUPT, "entry \"%s\" is larger than %u MiB", name,
                               LCB_CONFIG_MAX_ENTRY >> 20);
    }
}

int
lcb_config_archive_read(struct lcb_config_archive *a, lcb_archive_source_fn source, void *ud,
                        struct lcb_err *err)
{
    struct lcb_archive_reader *r = NULL;
    struct lcb_archive_entry e;
    struct lcb_buf mtext = LCB_BUF_INIT;
    int rc;

    if (lcb_archive_reader_new(&r, source, ud, LCB_ARCHIVE_CHECK_JSON, err) < 0)
        return -1;
    while ((rc = lcb_archive_reader_next(r, &e, err)) == 1) {
        if (e.is_manifest) {
            rc = read_entry(r, &mtext, e.name, err);
        } else {
            a->names = lcb_xrealloc(a->names, (a->n + 1) * sizeof(*a->names));
            a->data = lcb_xrealloc(a->data, (a->n + 1) * sizeof(*a->data));
            a->names[a->n] = lcb_xstrdup(e.name);
            rc = read_entry(r, &a->data[a->n++], e.name, err);
        }
        if (rc < 0)
            break;
    }
    if (rc == 0) {
        lcb_archive_reader_totals(r, &a->totals);
        lcb_manifest_release(&a->manifest);
        rc = lcb_manifest_parse(&a->manifest, mtext.ptr ? mtext.ptr : "", mtext.len, err);
    }
    lcb_buf_release(&mtext);
    lcb_archive_reader_free(r);
    return rc < 0 ? -1 : 0;
}

const struct lcb_buf *
lcb_config_archive_entry(const struct lcb_config_archive *a, const char *name)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        if (strcmp(a->names[i], name) == 0)
            return &a->data[i];
    return NULL;
}

static int
load_strlist(struct lcb_strlist *l, const struct lcb_json *arr)
{
    const struct lcb_json *e;

    for (e = lcb_json_child(arr); e; e = lcb_json_next(e))
        if (lcb_json_str(e))
            lcb_strlist_add(l, lcb_json_str(e));
    return 0;
}

/* "ecs/<cluster>/services/<name>.json" -> cluster and name (decoded); 0 when it is one. */
static int
split_service_name(const char *entry, struct lcb_buf *cluster, struct lcb_buf *name)
{
    const char *p, *q;
    size_t n = strlen(entry);

    if (strncmp(entry, "ecs/", 4) != 0 || n < 5 || strcmp(entry + n - 5, ".json") != 0)
        return -1;
    p = entry + 4;
    q = strchr(p, '/');
    if (!q || strncmp(q, "/services/", 10) != 0 || strchr(q + 10, '/'))
        return -1;
    if (lcb_manifest_name_decode(cluster, p, (size_t)(q - p)) < 0 ||
        lcb_manifest_name_decode(name, q + 10, (size_t)(entry + n - 5 - (q + 10))) < 0)
        return -1;
    return 0;
}

static int
load_doc(struct lcb_json **doc, const char *name, const struct lcb_buf *data, struct lcb_err *err)
{
    if (lcb_json_parse(doc, data->ptr ? data->ptr : "", data->len, err) < 0)
        return lcb_wrap(err, "entry \"%s\"", name);
    if (lcb_json_type(*doc) != LCB_JSON_OBJECT) {
        lcb_json_free(*doc);
        *doc = NULL;
        return lcb_err_set(err, LCB_ECORRUPT, "entry \"%s\": not a JSON object", name);
    }
    return 0;
}

static int
load_service(struct lcb_config *c, const char *entry, const struct lcb_buf *data,
             struct lcb_err *err)
{
    struct lcb_buf cluster = LCB_BUF_INIT, name = LCB_BUF_INIT;
    struct lcb_json *doc = NULL;
    const char *sname;
    int rc = -1;

    if (split_service_name(entry, &cluster, &name) < 0) {
        lcb_err_set(err, LCB_ECORRUPT, "entry \"%s\": not ecs/<cluster>/services/<name>.json",
                    entry);
        goto out;
    }
    if (load_doc(&doc, entry, data, err) < 0)
        goto out;
    sname = lcb_json_get_str(doc, "serviceName");
    if (!sname || strcmp(sname, lcb_buf_str(&name)) != 0 ||
        !lcb_json_get_str(doc, "taskDefinition")) {
        lcb_json_free(doc);
        lcb_err_set(err, LCB_ECORRUPT, "entry \"%s\": its serviceName or taskDefinition does "
                    "not match", entry);
        goto out;
    }
    lcb_config_service_add(c, lcb_buf_str(&cluster), sname, doc);
    rc = 0;
out:
    lcb_buf_release(&cluster);
    lcb_buf_release(&name);
    return rc;
}

static int
load_taskdef(struct lcb_config *c, const char *entry, const struct lcb_buf *data,
             struct lcb_err *err)
{
    struct lcb_json *doc = NULL;
    struct lcb_buf want = LCB_BUF_INIT;
    const struct lcb_config_taskdef *t;
    int rc = 0;

    if (load_doc(&doc, entry, data, err) < 0)
        return -1;
    t = lcb_config_taskdef_add(c, doc);
    if (t)
        taskdef_entry_name(&want, t->family, t->revision);
    if (!t || strcmp(lcb_buf_str(&want), entry) != 0)
        rc = lcb_err_set(err, LCB_ECORRUPT, "entry \"%s\": not the task definition its name "
                         "says", entry);
    lcb_buf_release(&want);
    return rc;
}

int
lcb_config_archive_load(struct lcb_config *c, const struct lcb_config_archive *a,
                        const struct lcb_secret *key, const char *key_check, struct lcb_err *err)
{
    const struct lcb_json *extra = a->manifest.extra;
    size_t i;
    int rc = 0;

    load_strlist(&c->paths, lcb_json_get(extra, "ssm_paths"));
    load_strlist(&c->clusters, lcb_json_get(extra, "ecs_clusters"));
    lcb_config_secrets_selection_load(c, extra);
    for (i = 0; i < a->n && rc == 0; i++) {
        const char *name = a->names[i];
        if (strcmp(name, LCB_CONFIG_PARAMS_ENTRY) == 0)
            rc = lcb_config_params_parse(c, a->data[i].ptr ? a->data[i].ptr : "", a->data[i].len,
                                         key, key_check, err);
        else if (strcmp(name, LCB_CONFIG_SECRETS_ENTRY) == 0)
            rc = lcb_config_secrets_parse(c, a->data[i].ptr ? a->data[i].ptr : "",
                                          a->data[i].len, key, key_check, err);
        else if (strncmp(name, TASKDEF_DIR, strlen(TASKDEF_DIR)) == 0 &&
                 !strchr(name + strlen(TASKDEF_DIR), '/'))
            rc = load_taskdef(c, name, &a->data[i], err);
        else if (strncmp(name, "ecs/", 4) == 0)
            rc = load_service(c, name, &a->data[i], err);
        else
            rc = lcb_err_set(err, LCB_ECORRUPT, "entry \"%s\" does not belong in a config "
                             "archive", name);
    }
    lcb_config_sort(c);
    return rc;
}
