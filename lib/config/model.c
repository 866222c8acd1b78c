/* model.c - the configuration model: parameters, services, task definitions; see config.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "config.h"
#include "secrets.h"

void
lcb_config_init(struct lcb_config *c)
{
    memset(c, 0, sizeof(*c));
}

static void
param_release(struct lcb_config_param *p)
{
    size_t i;

    free(p->name);
    free(p->type);
    if (p->value)
        lcb_wipe(p->value, strlen(p->value));
    free(p->value);
    lcb_secret_release(&p->secret);
    free(p->key_id);
    free(p->tier);
    free(p->description);
    free(p->allowed_pattern);
    free(p->data_type);
    free(p->policies);
    for (i = 0; i < p->ntags; i++) {
        free(p->tags[i].key);
        free(p->tags[i].value);
    }
    free(p->tags);
}

void
lcb_config_release(struct lcb_config *c)
{
    size_t i;

    for (i = 0; i < c->nparams; i++)
        param_release(&c->params[i]);
    free(c->params);
    for (i = 0; i < c->nservices; i++) {
        free(c->services[i].cluster);
        free(c->services[i].name);
        lcb_json_free(c->services[i].doc);
    }
    free(c->services);
    for (i = 0; i < c->ntaskdefs; i++) {
        free(c->taskdefs[i].arn);
        free(c->taskdefs[i].family);
        lcb_json_free(c->taskdefs[i].doc);
    }
    free(c->taskdefs);
    lcb_strlist_release(&c->paths);
    lcb_strlist_release(&c->clusters);
    lcb_config_secrets_release(c);
    lcb_config_init(c);
}

/* Make room for one more element in an array of elements of size sz. */
static void *
grow(void *items, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap)
        return items;
    *cap = *cap ? *cap * 2 : 16;
    return lcb_xrealloc(items, *cap * sz);
}

struct lcb_config_param *
lcb_config_param_add(struct lcb_config *c, const char *name)
{
    struct lcb_config_param *p;

    c->params = grow(c->params, c->nparams, &c->cparams, sizeof(*c->params));
    p = &c->params[c->nparams++];
    memset(p, 0, sizeof(*p));
    p->name = lcb_xstrdup(name);
    return p;
}

int
lcb_config_param_secure(const struct lcb_config_param *p)
{
    return p->type && strcmp(p->type, "SecureString") == 0;
}

void
lcb_config_param_set_value(struct lcb_config_param *p, const char *value, size_t len)
{
    if (lcb_config_param_secure(p)) {
        lcb_secret_set(&p->secret, value, len);
        return;
    }
    free(p->value);
    p->value = lcb_xstrndup(value, len);
}

const char *
lcb_config_param_value(const struct lcb_config_param *p)
{
    if (lcb_config_param_secure(p))
        return lcb_secret_get(&p->secret);
    return p->value ? p->value : "";
}

void
lcb_config_param_tag(struct lcb_config_param *p, const char *key, const char *value)
{
    size_t i, at;

    for (i = 0; i < p->ntags; i++) {
        int cmp = strcmp(p->tags[i].key, key);
        if (cmp == 0) {
            free(p->tags[i].value);
            p->tags[i].value = lcb_xstrdup(value ? value : "");
            return;
        }
        if (cmp > 0)
            break;
    }
    at = i;
    p->tags = lcb_xrealloc(p->tags, (p->ntags + 1) * sizeof(*p->tags));
    memmove(&p->tags[at + 1], &p->tags[at], (p->ntags - at) * sizeof(*p->tags));
    p->tags[at].key = lcb_xstrdup(key);
    p->tags[at].value = lcb_xstrdup(value ? value : "");
    p->ntags++;
}

const char *
lcb_config_param_tag_get(const struct lcb_config_param *p, const char *key)
{
    size_t i;

    for (i = 0; i < p->ntags; i++)
        if (strcmp(p->tags[i].key, key) == 0)
            return p->tags[i].value;
    return NULL;
}

struct lcb_config_service *
lcb_config_service_add(struct lcb_config *c, const char *cluster, const char *name,
                       struct lcb_json *doc)
{
    struct lcb_config_service *s;

    c->services = grow(c->services, c->nservices, &c->cservices, sizeof(*c->services));
    s = &c->services[c->nservices++];
    s->cluster = lcb_xstrdup(cluster);
    s->name = lcb_xstrdup(name);
    s->doc = doc;
    return s;
}

void
lcb_config_family_of(const char *ref, char *out, size_t size)
{
    const char *p = ref ? ref : "", *slash = strrchr(p, '/'), *colon;

    if (strncmp(p, "arn:", 4) == 0 && slash)
        p = slash + 1;
    colon = strchr(p, ':');
    snprintf(out, size, "%.*s", colon ? (int)(colon - p) : (int)strlen(p), p);
}

struct lcb_config_taskdef *
lcb_config_taskdef_add(struct lcb_config *c, struct lcb_json *doc)
{
    const struct lcb_json *td = lcb_json_get(doc, "taskDefinition");
    const char *arn = lcb_json_get_str(td, "taskDefinitionArn");
    const char *family = lcb_json_get_str(td, "family");
    double rev = lcb_json_get_num(td, "revision", -1);
    struct lcb_config_taskdef *t;
    size_t i;

    if (!arn || !family || rev < 1) {
        lcb_json_free(doc);
        return NULL;
    }
    for (i = 0; i < c->ntaskdefs; i++) {
        if (strcmp(c->taskdefs[i].arn, arn) == 0) {
            lcb_json_free(doc);
            return &c->taskdefs[i];
        }
    }
    c->taskdefs = grow(c->taskdefs, c->ntaskdefs, &c->ctaskdefs, sizeof(*c->taskdefs));
    t = &c->taskdefs[c->ntaskdefs++];
    t->arn = lcb_xstrdup(arn);
    t->family = lcb_xstrdup(family);
    t->revision = (long long)rev;
    t->doc = doc;
    return t;
}

static int
cmp_param(const void *a, const void *b)
{
    return strcmp(((const struct lcb_config_param *)a)->name,
                  ((const struct lcb_config_param *)b)->name);
}

static int
cmp_service(const void *a, const void *b)
{
    const struct lcb_config_service *x = a, *y = b;
    int c = strcmp(x->cluster, y->cluster);

    return c ? c : strcmp(x->name, y->name);
}

static int
cmp_taskdef(const void *a, const void *b)
{
    const struct lcb_config_taskdef *x = a, *y = b;
    int c = strcmp(x->family, y->family);

    if (c)
        return c;
    return x->revision < y->revision ? -1 : x->revision > y->revision;
}

void
lcb_config_sort(struct lcb_config *c)
{
    if (c->nparams)
        qsort(c->params, c->nparams, sizeof(*c->params), cmp_param);
    if (c->nservices)
        qsort(c->services, c->nservices, sizeof(*c->services), cmp_service);
    if (c->ntaskdefs)
        qsort(c->taskdefs, c->ntaskdefs, sizeof(*c->taskdefs), cmp_taskdef);
}

const struct lcb_config_param *
lcb_config_param_find(const struct lcb_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nparams; i++)
        if (strcmp(c->params[i].name, name) == 0)
            return &c->params[i];
    return NULL;
}

const struct lcb_config_service *
lcb_config_service_find(const struct lcb_config *c, const char *cluster, const char *name)
{
    size_t i;

    for (i = 0; i < c->nservices; i++)
        if (strcmp(c->services[i].name, name) == 0 &&
            (!cluster || strcmp(c->services[i].cluster, cluster) == 0))
            return &c->services[i];
    return NULL;
}

const struct lcb_config_taskdef *
lcb_config_taskdef_find(const struct lcb_config *c, const char *ref)
{
    char family[256];
    const char *colon;
    size_t i;

    if (!ref)
        return NULL;
    for (i = 0; i < c->ntaskdefs; i++)
        if (strcmp(c->taskdefs[i].arn, ref) == 0)
            return &c->taskdefs[i];
    if (strncmp(ref, "arn:", 4) == 0 || !(colon = strchr(ref, ':')))
        return NULL;
    lcb_config_family_of(ref, family, sizeof(family));
    for (i = 0; i < c->ntaskdefs; i++)
        if (strcmp(c->taskdefs[i].family, family) == 0 &&
            c->taskdefs[i].revision == atoll(colon + 1))
            return &c->taskdefs[i];
    return NULL;
}

const struct lcb_config_taskdef *
lcb_config_service_taskdef(const struct lcb_config *c, const struct lcb_config_service *s)
{
    return lcb_config_taskdef_find(c, lcb_json_get_str(s->doc, "taskDefinition"));
}

int
lcb_config_under(const char *name, const char *path)
{
    size_t n = strlen(path);

    while (n > 0 && path[n - 1] == '/')
        n--;
    if (n == 0)
        return name[0] == '/';
    return strncmp(name, path, n) == 0 && name[n] == '/';
}
