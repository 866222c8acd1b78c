/* secrets.c - Secrets Manager secrets in the configuration model: model, archive codec, live
 * state and diff; see secrets.h. */
#include "secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../archive/envelope.h"
#include "../aws/secretsmanager.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/crypto.h"
#include "../policy/policy.h"
#include "backup.h"

#define MASK "***"

/* ---- model ---- */

static void
version_release(struct lcb_config_secret_version *v)
{
    free(v->id);
    lcb_strlist_release(&v->stages);
    lcb_secret_release(&v->value);
}

static void
secret_release(struct lcb_config_secret *s)
{
    size_t i;

    free(s->name);
    free(s->arn);
    free(s->description);
    free(s->kms_key_id);
    for (i = 0; i < s->ntags; i++) {
        free(s->tags[i].key);
        free(s->tags[i].value);
    }
    free(s->tags);
    free(s->rotation_lambda);
    free(s->rotation_rules);
    for (i = 0; i < s->nversions; i++)
        version_release(&s->versions[i]);
    free(s->versions);
}

void
lcb_config_secrets_release(struct lcb_config *c)
{
    size_t i;

    for (i = 0; i < c->nsecrets; i++)
        secret_release(&c->secrets[i]);
    free(c->secrets);
    c->secrets = NULL;
    c->nsecrets = c->csecrets = 0;
    lcb_strlist_release(&c->secret_prefixes);
    lcb_strlist_release(&c->secret_tags);
}

struct lcb_config_secret *
lcb_config_secret_add(struct lcb_config *c, const char *name)
{
    struct lcb_config_secret *s;

    if (c->nsecrets == c->csecrets) {
        c->csecrets = c->csecrets ? c->csecrets * 2 : 16;
        c->secrets = lcb_xrealloc(c->secrets, c->csecrets * sizeof(*c->secrets));
    }
    s = &c->secrets[c->nsecrets++];
    memset(s, 0, sizeof(*s));
    s->name = lcb_xstrdup(name);
    return s;
}

const struct lcb_config_secret *
lcb_config_secret_find(const struct lcb_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nsecrets; i++)
        if (strcmp(c->secrets[i].name, name) == 0)
            return &c->secrets[i];
    return NULL;
}

void
lcb_config_secret_tag(struct lcb_config_secret *s, const char *key, const char *value)
{
    size_t i, at;

    for (i = 0; i < s->ntags; i++) {
        int cmp = strcmp(s->tags[i].key, key);
        if (cmp == 0) {
            free(s->tags[i].value);
            s->tags[i].value = lcb_xstrdup(value ? value : "");
            return;
        }
        if (cmp > 0)
            break;
    }
    at = i;
    s->tags = lcb_xrealloc(s->tags, (s->ntags + 1) * sizeof(*s->tags));
    memmove(&s->tags[at + 1], &s->tags[at], (s->ntags - at) * sizeof(*s->tags));
    s->tags[at].key = lcb_xstrdup(key);
    s->tags[at].value = lcb_xstrdup(value ? value : "");
    s->ntags++;
}

const char *
lcb_config_secret_tag_get(const struct lcb_config_secret *s, const char *key)
{
    size_t i;

    for (i = 0; i < s->ntags; i++)
        if (strcmp(s->tags[i].key, key) == 0)
            return s->tags[i].value;
    return NULL;
}

struct lcb_config_secret_version *
lcb_config_secret_version_add(struct lcb_config_secret *s, const char *id)
{
    struct lcb_config_secret_version *v;

    s->versions = lcb_xrealloc(s->versions, (s->nversions + 1) * sizeof(*s->versions));
    v = &s->versions[s->nversions++];
    memset(v, 0, sizeof(*v));
    v->id = lcb_xstrdup(id);
    return v;
}

const struct lcb_config_secret_version *
lcb_config_secret_stage(const struct lcb_config_secret *s, const char *stage)
{
    size_t i;

    for (i = 0; i < s->nversions; i++)
        if (lcb_strlist_has(&s->versions[i].stages, stage))
            return &s->versions[i];
    return NULL;
}

static int
cmp_secret(const void *a, const void *b)
{
    return strcmp(((const struct lcb_config_secret *)a)->name,
                  ((const struct lcb_config_secret *)b)->name);
}

void
lcb_config_secrets_sort(struct lcb_config *c)
{
    if (c->nsecrets)
        qsort(c->secrets, c->nsecrets, sizeof(*c->secrets), cmp_secret);
}

int
lcb_config_secret_selected(const struct lcb_config_secret *s, const struct lcb_strlist *prefixes,
                           const struct lcb_strlist *tags)
{
    size_t i;
    const char *eq, *v;

    for (i = 0; prefixes && i < prefixes->n; i++)
        if (strncmp(s->name, prefixes->items[i], strlen(prefixes->items[i])) == 0)
            return 1;
    if (!tags || tags->n == 0)
        return 0;
    for (i = 0; i < tags->n; i++) {
        char key[256];
        eq = strchr(tags->items[i], '=');
        snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - tags->items[i]) : 255,
                 tags->items[i]);
        v = lcb_config_secret_tag_get(s, key);
        if (!v || (eq && strcmp(v, eq + 1) != 0))
            return 0;
    }
    return 1;
}

size_t
lcb_config_secrets_values(const struct lcb_config *c)
{
    size_t i, j, n = 0;

    for (i = 0; i < c->nsecrets; i++)
        for (j = 0; j < c->secrets[i].nversions; j++)
            n += c->secrets[i].versions[j].has_value;
    return n;
}

/* ---- archive: writing ---- */

static void
aad(struct lcb_buf *out, const char *name, const char *version)
{
    lcb_buf_addf(out, "secretsmanager:%s:%s", name, version);
}

static int
version_json(struct lcb_json *arr, const struct lcb_config_secret *s,
             const struct lcb_config_secret_version *v, const struct lcb_secret *key,
             struct lcb_err *err)
{
    struct lcb_json *o = lcb_json_push(arr, lcb_json_new_object()), *st;
    struct lcb_buf env = LCB_BUF_INIT, ad = LCB_BUF_INIT;
    size_t i;
    int rc = 0;

    lcb_json_add_str(o, "VersionId", v->id);
    st = lcb_json_add(o, "VersionStages", lcb_json_new_array());
    for (i = 0; i < v->stages.n; i++)
        lcb_json_push(st, lcb_json_new_str(v->stages.items[i]));
    if (v->created > 0)
        lcb_json_add_num(o, "CreatedDate", v->created);
    if (!v->has_value)
        return 0;
    if (!key || lcb_secret_empty(key))
        return lcb_err_set(err, LCB_ECONFIG, "secret %s has values and no encryption key was "
                           "given", s->name);
    aad(&ad, s->name, v->id);
    if (lcb_envelope_encrypt(&env, key, lcb_buf_str(&ad), v->value.ptr ? v->value.ptr : "",
                             v->value.len, err) < 0)
        rc = lcb_wrap(err, "encrypt secret %s", s->name);
    else
        lcb_json_add_str(o, v->binary ? "SecretBinary" : "SecretString", lcb_buf_str(&env));
    lcb_buf_release(&env);
    lcb_buf_release(&ad);
    return rc;
}

static int
secret_json(struct lcb_json *arr, const struct lcb_config_secret *s, const struct lcb_secret *key,
            struct lcb_err *err)
{
    struct lcb_json *o = lcb_json_push(arr, lcb_json_new_object()), *tags, *t, *vs, *rules = NULL;
    struct lcb_err scratch;
    size_t i;

    lcb_json_add_str(o, "Name", s->name);
    if (s->arn)
        lcb_json_add_str(o, "ARN", s->arn);
    if (s->description)
        lcb_json_add_str(o, "Description", s->description);
    if (s->kms_key_id)
        lcb_json_add_str(o, "KmsKeyId", s->kms_key_id);
    tags = lcb_json_add(o, "Tags", lcb_json_new_array());
    for (i = 0; i < s->ntags; i++) {
        t = lcb_json_push(tags, lcb_json_new_object());
        lcb_json_add_str(t, "Key", s->tags[i].key);
        lcb_json_add_str(t, "Value", s->tags[i].value);
    }
    lcb_json_add_bool(o, "RotationEnabled", s->rotation_enabled);
    if (s->rotation_lambda)
        lcb_json_add_str(o, "RotationLambdaARN", s->rotation_lambda);
    if (s->rotation_rules &&
        lcb_json_parse(&rules, s->rotation_rules, strlen(s->rotation_rules), &scratch) == 0)
        lcb_json_add(o, "RotationRules", rules);
    if (s->deleted > 0)
        lcb_json_add_num(o, "DeletedDate", s->deleted);
    vs = lcb_json_add(o, "Versions", lcb_json_new_array());
    for (i = 0; i < s->nversions; i++)
        if (version_json(vs, s, &s->versions[i], key, err) < 0)
            return -1;
    return 0;
}

int
lcb_config_secrets_json(struct lcb_buf *out, const struct lcb_config *c,
                        const struct lcb_secret *key, struct lcb_err *err)
{
    struct lcb_json *arr = lcb_json_new_array();
    size_t i;

    for (i = 0; i < c->nsecrets; i++) {
        if (secret_json(arr, &c->secrets[i], key, err) < 0) {
            lcb_json_free(arr);
            return -1;
        }
    }
    lcb_json_print(out, arr, 1);
    lcb_buf_addch(out, '\n');
    lcb_json_free(arr);
    return 0;
}

int
lcb_config_secrets_archive_add(struct lcb_archive_writer *w, const struct lcb_config *c,
                               const struct lcb_secret *key, struct lcb_err *err)
{
    struct lcb_buf text = LCB_BUF_INIT;
    int rc = 0;

    if (!c->nsecrets && !c->secret_prefixes.n && !c->secret_tags.n)
        return 0;
    if (lcb_config_secrets_json(&text, c, key, err) < 0 ||
        lcb_archive_writer_add(w, LCB_CONFIG_SECRETS_ENTRY, text.ptr, text.len, err) < 0)
        rc = -1;
    lcb_wipe(text.ptr, text.len);
    lcb_buf_release(&text);
    return rc;
}

void
lcb_config_secrets_manifest_fill(struct lcb_manifest *m, const struct lcb_config *c)
{
    struct lcb_json *extra = lcb_manifest_extra(m);

    if (!c->nsecrets && !c->secret_prefixes.n && !c->secret_tags.n)
        return;
    lcb_manifest_count_add(m, "secretsmanager-secrets", c->nsecrets);
    lcb_json_set(extra, "secret_prefixes", lcb_config_strlist_json(&c->secret_prefixes));
    lcb_json_set(extra, "secret_tags", lcb_config_strlist_json(&c->secret_tags));
}

void
lcb_config_secrets_selection_load(struct lcb_config *c, const struct lcb_json *extra)
{
    const struct lcb_json *e;

    for (e = lcb_json_child(lcb_json_get(extra, "secret_prefixes")); e; e = lcb_json_next(e))
        if (lcb_json_str(e) && !lcb_strlist_has(&c->secret_prefixes, lcb_json_str(e)))
            lcb_strlist_add(&c->secret_prefixes, lcb_json_str(e));
    for (e = lcb_json_child(lcb_json_get(extra, "secret_tags")); e; e = lcb_json_next(e))
        if (lcb_json_str(e) && !lcb_strlist_has(&c->secret_tags, lcb_json_str(e)))
            lcb_strlist_add(&c->secret_tags, lcb_json_str(e));
}

/* ---- archive: reading ---- */

static int
bad(struct lcb_err *err, size_t i, const char *field, const char *why)
{
    return lcb_err_set(err, LCB_ECORRUPT, "%s: [%zu]%s%s: %s", LCB_CONFIG_SECRETS_ENTRY, i,
                       field ? "." : "", field ? field : "", why);
}

static int
opt_str(const struct lcb_json *o, const char *key, char **dst, size_t i, struct lcb_err *err)
{
    const struct lcb_json *j = lcb_json_get(o, key);

    if (!j || lcb_json_type(j) == LCB_JSON_NULL)
        return 0;
    if (lcb_json_type(j) != LCB_JSON_STRING)
        return bad(err, i, key, "not a string");
    *dst = lcb_xstrdup(lcb_json_str(j));
    return 0;
}

static int
parse_value(struct lcb_config_secret_version *v, const struct lcb_config_secret *s,
            const struct lcb_json *o, const struct lcb_secret *key, const char *key_check,
            size_t i, struct lcb_err *err)
{
    const char *str = lcb_json_get_str(o, "SecretString");
    const char *bin = lcb_json_get_str(o, "SecretBinary");
    struct lcb_buf ad = LCB_BUF_INIT;
    int rc;

    if (!str && !bin)
        return 0;
    if (!lcb_envelope_is_encrypted(str ? str : bin))
        return bad(err, i, "Versions", "a value that is not encrypted");
    if (!key || lcb_secret_empty(key))
        return lcb_err_set(err, LCB_ECONFIG, "%s: secret %s is encrypted and no key was given",
                           LCB_CONFIG_SECRETS_ENTRY, s->name);
    aad(&ad, s->name, v->id);
    rc = lcb_envelope_decrypt(&v->value, key, key_check, lcb_buf_str(&ad), str ? str : bin, err);
    lcb_buf_release(&ad);
    if (rc < 0)
        return lcb_wrap(err, "%s: secret %s", LCB_CONFIG_SECRETS_ENTRY, s->name);
    v->binary = bin != NULL;
    v->has_value = 1;
    if (v->binary) { /* register the printable form, as secretsmanager.c does */
        struct lcb_sm_value tmp;
        lcb_sm_value_init(&tmp);
        lcb_sm_value_set(&tmp, v->value.ptr ? v->value.ptr : "", v->value.len, 1);
        lcb_sm_value_release(&tmp);
    }
    return 0;
}

static int
parse_versions(struct lcb_config_secret *s, const struct lcb_json *vs, const struct lcb_secret *key,
               const char *key_check, size_t i, struct lcb_err *err)
{
    const struct lcb_json *o, *st;
    struct lcb_config_secret_version *v;

    if (!vs)
        return 0;
    if (lcb_json_type(vs) != LCB_JSON_ARRAY)
        return bad(err, i, "Versions", "not an array");
    for (o = lcb_json_child(vs); o; o = lcb_json_next(o)) {
        if (!lcb_json_get_str(o, "VersionId"))
            return bad(err, i, "Versions", "an element without a VersionId");
        v = lcb_config_secret_version_add(s, lcb_json_get_str(o, "VersionId"));
        v->created = lcb_json_get_num(o, "CreatedDate", 0);
        for (st = lcb_json_child(lcb_json_get(o, "VersionStages")); st; st = lcb_json_next(st))
            if (lcb_json_str(st))
                lcb_strlist_add(&v->stages, lcb_json_str(st));
        if (parse_value(v, s, o, key, key_check, i, err) < 0)
            return -1;
    }
    return 0;
}

static int
parse_secret(struct lcb_config *c, const struct lcb_json *o, size_t i,
             const struct lcb_secret *key, const char *key_check, struct lcb_err *err)
{
    const char *name = lcb_json_get_str(o, "Name");
    const struct lcb_json *tags, *t, *rules;
    struct lcb_config_secret *s;
    struct lcb_buf text = LCB_BUF_INIT;

    if (lcb_json_type(o) != LCB_JSON_OBJECT)
        return bad(err, i, NULL, "not an object");
    if (!name || !*name)
        return bad(err, i, "Name", "missing or not a string");
    if (lcb_config_secret_find(c, name))
        return bad(err, i, "Name", "a duplicate name");
    s = lcb_config_secret_add(c, name);
    if (opt_str(o, "ARN", &s->arn, i, err) < 0 ||
        opt_str(o, "Description", &s->description, i, err) < 0 ||
        opt_str(o, "KmsKeyId", &s->kms_key_id, i, err) < 0 ||
        opt_str(o, "RotationLambdaARN", &s->rotation_lambda, i, err) < 0)
        return -1;
    tags = lcb_json_get(o, "Tags");
    for (t = lcb_json_child(tags); t; t = lcb_json_next(t)) {
        if (!lcb_json_get_str(t, "Key") || !lcb_json_get_str(t, "Value"))
            return bad(err, i, "Tags", "an element without a string Key and Value");
        lcb_config_secret_tag(s, lcb_json_get_str(t, "Key"), lcb_json_get_str(t, "Value"));
    }
    s->rotation_enabled = lcb_json_bool(lcb_json_get(o, "RotationEnabled"), 0);
    if ((rules = lcb_json_get(o, "RotationRules")) && lcb_json_type(rules) == LCB_JSON_OBJECT) {
        lcb_json_print(&text, rules, 0);
        s->rotation_rules = lcb_buf_detach(&text, NULL);
    }
    s->deleted = lcb_json_get_num(o, "DeletedDate", 0);
    return parse_versions(s, lcb_json_get(o, "Versions"), key, key_check, i, err);
}

int
lcb_config_secrets_parse(struct lcb_config *c, const char *text, size_t len,
                         const struct lcb_secret *key, const char *key_check, struct lcb_err *err)
{
    struct lcb_json *root = NULL, *o;
    size_t i = 0;
    int rc = 0;

    if (lcb_json_parse(&root, text, len, err) < 0)
        return lcb_wrap(err, "%s", LCB_CONFIG_SECRETS_ENTRY);
    if (lcb_json_type(root) != LCB_JSON_ARRAY) {
        lcb_json_free(root);
        return lcb_err_set(err, LCB_ECORRUPT, "%s: not a JSON array", LCB_CONFIG_SECRETS_ENTRY);
    }
    for (o = lcb_json_child(root); o && rc == 0; o = lcb_json_next(o), i++)
        rc = parse_secret(c, o, i, key, key_check, err);
    lcb_json_free(root);
    lcb_config_secrets_sort(c);
    return rc;
}

/* ---- live ---- */

/* Metadata of a ListSecrets entry or a DescribeSecret answer into s. */
static void
take_meta(struct lcb_config_secret *s, const struct lcb_json *e)
{
    const struct lcb_json *t, *rules = lcb_json_get(e, "RotationRules");
    struct lcb_buf text = LCB_BUF_INIT;

    if (lcb_json_get_str(e, "ARN"))
        s->arn = lcb_xstrdup(lcb_json_get_str(e, "ARN"));
    if (lcb_json_get_str(e, "Description"))
        s->description = lcb_xstrdup(lcb_json_get_str(e, "Description"));
    if (lcb_json_get_str(e, "KmsKeyId"))
        s->kms_key_id = lcb_xstrdup(lcb_json_get_str(e, "KmsKeyId"));
    for (t = lcb_json_child(lcb_json_get(e, "Tags")); t; t = lcb_json_next(t))
        if (lcb_json_get_str(t, "Key"))
            lcb_config_secret_tag(s, lcb_json_get_str(t, "Key"), lcb_json_get_str(t, "Value"));
    s->rotation_enabled = lcb_json_bool(lcb_json_get(e, "RotationEnabled"), 0);
    if (lcb_json_get_str(e, "RotationLambdaARN"))
        s->rotation_lambda = lcb_xstrdup(lcb_json_get_str(e, "RotationLambdaARN"));
    if (lcb_json_type(rules) == LCB_JSON_OBJECT) {
        lcb_json_print(&text, rules, 0);
        s->rotation_rules = lcb_buf_detach(&text, NULL);
    }
    s->deleted = lcb_json_get_num(e, "DeletedDate", 0);
}

/* Every staged version (VersionIdsToStages or SecretVersionsToStages) and, unless the secret is
 * scheduled for deletion, its value. */
static int
take_versions(struct lcb_config_secret *s, struct lcb_aws *aws, const struct lcb_json *e,
              struct lcb_err *err)
{
    const struct lcb_json *map = lcb_json_get(e, "VersionIdsToStages"), *m, *st;
    struct lcb_config_secret_version *v;
    struct lcb_sm_value val;

    if (!map)
        map = lcb_json_get(e, "SecretVersionsToStages");
    for (m = lcb_json_child(map); m; m = lcb_json_next(m)) {
        v = lcb_config_secret_version_add(s, lcb_json_key(m));
        for (st = lcb_json_child(m); st; st = lcb_json_next(st))
            if (lcb_json_str(st))
                lcb_strlist_add(&v->stages, lcb_json_str(st));
        if (s->deleted > 0)
            continue;
        lcb_sm_value_init(&val);
        if (lcb_sm_get_value(&val, aws, s->arn ? s->arn : s->name, v->id, NULL, err) < 0)
            return -1;
        lcb_secret_set(&v->value, val.value.ptr ? val.value.ptr : "", val.value.len);
        v->binary = val.binary;
        v->created = val.created;
        v->has_value = 1;
        lcb_sm_value_release(&val);
    }
    return 0;
}

static int
add_listed(struct lcb_config *c, struct lcb_aws *aws, const struct lcb_json *e,
           struct lcb_err *err)
{
    const char *name = lcb_json_get_str(e, "Name");
    struct lcb_config_secret *s;

    if (!name || lcb_config_secret_find(c, name))
        return 0;
    s = lcb_config_secret_add(c, name);
    take_meta(s, e);
    if (take_versions(s, aws, e, err) < 0)
        return lcb_wrap(err, "secret %s", name);
    return 0;
}

/* Does a listing entry carry every "key=value" of tags? */
static int
entry_has_tags(const struct lcb_json *e, const struct lcb_strlist *tags)
{
    const struct lcb_json *t;
    const char *eq, *k, *v;
    size_t i, klen;
    int hit;

    for (i = 0; i < tags->n; i++) {
        eq = strchr(tags->items[i], '=');
        klen = eq ? (size_t)(eq - tags->items[i]) : strlen(tags->items[i]);
        hit = 0;
        for (t = lcb_json_child(lcb_json_get(e, "Tags")); t && !hit; t = lcb_json_next(t)) {
            k = lcb_json_get_str(t, "Key");
            v = lcb_json_get_str(t, "Value");
            hit = k && strlen(k) == klen && strncmp(k, tags->items[i], klen) == 0 &&
                  (!eq || (v && strcmp(v, eq + 1) == 0));
        }
        if (!hit)
            return 0;
    }
    return 1;
}

/* The secrets of one listing (filters f), those carrying tags (NULL: all) added to c. */
static int
fetch_list(struct lcb_config *c, struct lcb_aws *aws, const struct lcb_sm_filter *f, size_t nf,
           const struct lcb_strlist *tags, struct lcb_err *err)
{
    struct lcb_json *list = NULL;
    const struct lcb_json *e;
    int rc = 0;

    if (lcb_sm_list(&list, aws, f, nf, err) < 0)
        return -1;
    for (e = lcb_json_child(list); e && rc == 0; e = lcb_json_next(e))
        if (!tags || entry_has_tags(e, tags))
            rc = add_listed(c, aws, e, err);
    lcb_json_free(list);
    return rc;
}

int
lcb_config_fetch_secrets(struct lcb_config *c, struct lcb_aws *aws,
                         const struct lcb_strlist *prefixes, const struct lcb_strlist *tags,
                         struct lcb_err *err)
{
    struct lcb_sm_filter f;
    const char *value;
    char key[256];
    size_t i;

    for (i = 0; prefixes && i < prefixes->n; i++) {
        value = prefixes->items[i];
        f = (struct lcb_sm_filter){ "name", &value, 1 };
        if (!lcb_strlist_has(&c->secret_prefixes, value))
            lcb_strlist_add(&c->secret_prefixes, value);
        if (fetch_list(c, aws, &f, 1, NULL, err) < 0)
            return lcb_wrap(err, "secrets under %s", prefixes->items[i]);
    }
    if (tags && tags->n) {
        const char *eq = strchr(tags->items[0], '=');
        snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - tags->items[0]) : 255,
                 tags->items[0]);
        value = key;
        f = (struct lcb_sm_filter){ "tag-key", &value, 1 };
        for (i = 0; i < tags->n; i++)
            if (!lcb_strlist_has(&c->secret_tags, tags->items[i]))
                lcb_strlist_add(&c->secret_tags, tags->items[i]);
        if (fetch_list(c, aws, &f, 1, tags, err) < 0)
            return lcb_wrap(err, "secrets tagged %s", tags->items[0]);
    }
    lcb_config_secrets_sort(c);
    return 0;
}

int
lcb_config_fetch_secret(struct lcb_config *c, struct lcb_aws *aws, const char *name, int *found,
                        struct lcb_err *err)
{
    struct lcb_json *d = NULL;
    struct lcb_config_secret *s;
    int rc = -1;

    *found = 0;
    if (lcb_sm_describe(&d, aws, name, err) < 0) {
        if (err->code != LCB_ENOTFOUND)
            return -1;
        lcb_err_clear(err);
        return 0;
    }
    s = lcb_config_secret_add(c, name);
    take_meta(s, d);
    if (take_versions(s, aws, d, err) == 0) {
        *found = 1;
        rc = 0;
    } else {
        lcb_wrap(err, "secret %s", name);
    }
    lcb_json_free(d);
    lcb_config_secrets_sort(c);
    return rc;
}

int
lcb_config_fetch_secrets_like(struct lcb_config *live, struct lcb_aws *aws,
                              const struct lcb_config *archived, struct lcb_err *err)
{
    size_t i;
    int found;

    if (lcb_config_fetch_secrets(live, aws, &archived->secret_prefixes, &archived->secret_tags,
                                 err) < 0)
        return -1;
    for (i = 0; i < archived->nsecrets; i++)
        if (!lcb_config_secret_find(live, archived->secrets[i].name) &&
            lcb_config_fetch_secret(live, aws, archived->secrets[i].name, &found, err) < 0)
            return -1;
    return 0;
}

void
lcb_config_secrets_calls(struct lcb_buf *out, const struct lcb_strlist *prefixes,
                         const struct lcb_strlist *tags)
{
    size_t i;

    for (i = 0; prefixes && i < prefixes->n; i++)
        lcb_buf_addf(out, "secretsmanager ListSecrets {\"Filters\":[{\"Key\":\"name\",\"Values\":"
                     "[\"%s\"]}],\"MaxResults\":100} (every page)\n", prefixes->items[i]);
    if (tags && tags->n)
        lcb_buf_addf(out, "secretsmanager ListSecrets {\"Filters\":[{\"Key\":\"tag-key\","
                     "\"Values\":[\"<the first of secret_tags>\"]}],\"MaxResults\":100} (every "
                     "page; every tag checked)\n");
    if ((prefixes && prefixes->n) || (tags && tags->n))
        lcb_buf_adds(out, "secretsmanager GetSecretValue {\"SecretId\":\"<each secret's ARN>\","
                     "\"VersionId\":\"<each staged version>\"}\n");
}

/* ---- diff ---- */

static void
str_field(struct lcb_diff_item *it, const char *path, const char *x, const char *y)
{
    if (strcmp(x ? x : "", y ? y : "") == 0)
        return;
    lcb_diff_field_add(it, path, x ? lcb_json_new_str(x) : NULL, y ? lcb_json_new_str(y) : NULL);
}

static struct lcb_json *
shown(const struct lcb_config_secret_version *v, int show)
{
    struct lcb_buf b64 = LCB_BUF_INIT;
    struct lcb_json *j;

    if (!v || !v->has_value)
        return NULL;
    if (!show)
        return lcb_json_new_str(MASK);
    if (!v->binary)
        return lcb_json_new_str(lcb_secret_get(&v->value));
    lcb_base64_encode(&b64, v->value.ptr ? v->value.ptr : "", v->value.len);
    j = lcb_json_new_str(lcb_buf_str(&b64));
    lcb_buf_release(&b64);
    return j;
}

static void
value_field(struct lcb_diff_item *it, const struct lcb_config_secret *x,
            const struct lcb_config_secret *y, int show)
{
    const struct lcb_config_secret_version *vx = lcb_config_secret_stage(x, "AWSCURRENT");
    const struct lcb_config_secret_version *vy = lcb_config_secret_stage(y, "AWSCURRENT");

    if (!vx || !vy || !vx->has_value || !vy->has_value)
        return; /* nothing to compare (no version, or scheduled for deletion) */
    if (vx->binary != vy->binary)
        str_field(it, "Type", vx->binary ? "SecretBinary" : "SecretString",
                  vy->binary ? "SecretBinary" : "SecretString");
    if (vx->value.len == vy->value.len &&
        memcmp(lcb_secret_get(&vx->value), lcb_secret_get(&vy->value), vx->value.len) == 0)
        return;
    lcb_diff_field_add(it, "Value", shown(vx, show), shown(vy, show));
}

static void
tag_fields(struct lcb_diff_item *it, const struct lcb_config_secret *x,
           const struct lcb_config_secret *y)
{
    char path[200];
    size_t i;

    for (i = 0; i < x->ntags; i++) {
        snprintf(path, sizeof(path), "Tags.%s", x->tags[i].key);
        str_field(it, path, x->tags[i].value, lcb_config_secret_tag_get(y, x->tags[i].key));
    }
    for (i = 0; i < y->ntags; i++) {
        if (lcb_config_secret_tag_get(x, y->tags[i].key))
            continue;
        snprintf(path, sizeof(path), "Tags.%s", y->tags[i].key);
        lcb_diff_field_add(it, path, NULL, lcb_json_new_str(y->tags[i].value));
    }
}

const char *
lcb_config_secret_kms(const struct lcb_config_secret *s)
{
    const char *k = s->kms_key_id;

    if (!k || !*k || strcmp(k, "alias/aws/secretsmanager") == 0 ||
        strcmp(k, "aws/secretsmanager") == 0)
        return NULL;
    return k;
}

static const char *
deletion(const struct lcb_config_secret *s)
{
    return s->deleted > 0 ? "scheduled" : NULL;
}

size_t
lcb_config_secret_diff(struct lcb_diff_item *it, const struct lcb_config_secret *x,
                       const struct lcb_config_secret *y, int show_secrets)
{
    size_t before = it->nfields;

    str_field(it, "Deletion", deletion(x), deletion(y));
    value_field(it, x, y, show_secrets);
    str_field(it, "Description", x->description, y->description);
    str_field(it, "KmsKeyId", lcb_config_secret_kms(x), lcb_config_secret_kms(y));
    tag_fields(it, x, y);
    str_field(it, "RotationEnabled", x->rotation_enabled ? "true" : "false",
              y->rotation_enabled ? "true" : "false");
    str_field(it, "RotationLambdaARN", x->rotation_lambda, y->rotation_lambda);
    str_field(it, "RotationRules", x->rotation_rules, y->rotation_rules);
    return it->nfields - before;
}

static const char *
kind_note(const struct lcb_config_secret *s)
{
    const struct lcb_config_secret_version *v = lcb_config_secret_stage(s, "AWSCURRENT");

    if (s->deleted > 0)
        return "scheduled for deletion";
    return v && v->binary ? "binary" : "string";
}

void
lcb_config_secrets_diff(struct lcb_config_diff *d, const struct lcb_config *a,
                        const struct lcb_config *b, int show_secrets)
{
    size_t i;

    for (i = 0; i < a->nsecrets; i++) {
        const struct lcb_config_secret *x = &a->secrets[i];
        const struct lcb_config_secret *y = lcb_config_secret_find(b, x->name);
        struct lcb_diff_item *it =
            lcb_diff_item_add(d, "secret", x->name, y ? LCB_DIFF_CHANGED : LCB_DIFF_REMOVED);
        if (y)
            lcb_config_secret_diff(it, x, y, show_secrets);
        else
            it->note = lcb_xstrdup(kind_note(x));
        lcb_diff_item_done(d);
    }
    for (i = 0; i < b->nsecrets; i++) {
        if (lcb_config_secret_find(a, b->secrets[i].name))
            continue;
        lcb_diff_item_add(d, "secret", b->secrets[i].name, LCB_DIFF_ADDED)->note =
            lcb_xstrdup(kind_note(&b->secrets[i]));
        lcb_diff_item_done(d);
    }
}

/* ---- backup.c's hooks ---- */

static void
selection(struct lcb_strlist *prefixes, struct lcb_strlist *tags,
          const struct lcb_config_backup_opts *o)
{
    size_t i;
    char *kv;

    for (i = 0; i < o->nsecret_prefixes; i++)
        lcb_strlist_add(prefixes, o->secret_prefixes[i]);
    for (i = 0; i < o->nsecret_tags; i++) {
        kv = lcb_xasprintf("%s=%s", o->secret_tags[i].key, o->secret_tags[i].value);
        lcb_strlist_add(tags, kv);
        free(kv);
    }
}

int
lcb_config_backup_fetch_secrets(struct lcb_config *c, struct lcb_aws *aws,
                                const struct lcb_config_backup_opts *o, struct lcb_err *err)
{
    struct lcb_strlist prefixes = LCB_STRLIST_INIT, tags = LCB_STRLIST_INIT;
    int rc = 0;

    selection(&prefixes, &tags, o);
    if (prefixes.n || tags.n)
        rc = lcb_config_fetch_secrets(c, aws, &prefixes, &tags, err);
    lcb_strlist_release(&prefixes);
    lcb_strlist_release(&tags);
    return rc;
}

void
lcb_config_backup_secret_source(struct lcb_buf *out, const struct lcb_config_backup_opts *o)
{
    size_t i;

    for (i = 0; i < o->nsecret_prefixes; i++)
        lcb_buf_addf(out, "%ssecretsmanager:%s", out->len ? "," : "", o->secret_prefixes[i]);
    for (i = 0; i < o->nsecret_tags; i++)
        lcb_buf_addf(out, "%ssecretsmanager:tag:%s=%s", out->len ? "," : "",
                     o->secret_tags[i].key, o->secret_tags[i].value);
}

void
lcb_config_backup_secret_calls(struct lcb_buf *out, const struct lcb_config_backup_opts *o)
{
    struct lcb_strlist prefixes = LCB_STRLIST_INIT, tags = LCB_STRLIST_INIT;

    selection(&prefixes, &tags, o);
    lcb_config_secrets_calls(out, &prefixes, &tags);
    lcb_strlist_release(&prefixes);
    lcb_strlist_release(&tags);
}
