/* opt.c - see opt.h. */
#include "opt.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"

void
lcb_strlist_add(struct lcb_strlist *l, const char *s)
{
    l->items = lcb_xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
    l->items[l->n++] = lcb_xstrdup(s);
}

void
lcb_strlist_add_split(struct lcb_strlist *l, const char *s)
{
    const char *p = s, *comma;

    while (*p) {
        comma = strchr(p, ',');
        if (!comma)
            comma = p + strlen(p);
        if (comma > p) {
            char *part = lcb_xstrndup(p, (size_t)(comma - p));
            lcb_strlist_add(l, part);
            free(part);
        }
        p = *comma ? comma + 1 : comma;
    }
}

int
lcb_strlist_has(const struct lcb_strlist *l, const char *s)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return 1;
    return 0;
}

void
lcb_strlist_release(struct lcb_strlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static const struct lcb_opt *
find_long(const struct lcb_opt *opts, const char *name, size_t len)
{
    for (; opts->name; opts++)
        if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
            return opts;
    return NULL;
}

static const struct lcb_opt *
find_short(const struct lcb_opt *opts, char c)
{
    for (; opts->name; opts++)
        if (opts->short_name && opts->short_name == c)
            return opts;
    return NULL;
}

static int
store_value(const struct lcb_opt *o, const char *val, struct lcb_err *err)
{
    char *end;
    long long v;

    switch (o->type) {
    case LCB_OPT_STR:
        *(const char **)o->dest = val;
        return 0;
    case LCB_OPT_INT:
        v = strtoll(val, &end, 10);
        if (!*val || *end || v < 0 || !isdigit((unsigned char)*val))
            return lcb_err_set(err, LCB_EUSAGE, "--%s: '%s' is not a whole number >= 0", o->name,
                               val);
        *(long long *)o->dest = v;
        return 0;
    case LCB_OPT_LIST:
        lcb_strlist_add_split(o->dest, val);
        return 0;
    case LCB_OPT_DURATION:
        if (lcb_duration_parse(val, o->dest) < 0)
            return lcb_err_set(err, LCB_EUSAGE,
                               "--%s: '%s' is not a duration such as 90s, 15m, 2h or 7d", o->name,
                               val);
        return 0;
    case LCB_OPT_FLAG:
        break;
    }
    return lcb_err_set(err, LCB_EINTERNAL, "--%s: bad option type", o->name);
}

/* Handle argv[*i]; may consume the next argument as the value. */
static int
parse_one(const struct lcb_opt *opts, int argc, char **argv, int *i, struct lcb_err *err)
{
    const char *arg = argv[*i], *eq = NULL, *val;
    const struct lcb_opt *o;

    if (arg[1] == '-') {
        eq = strchr(arg + 2, '=');
        o = find_long(opts, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
    } else {
        o = arg[2] == '\0' ? find_short(opts, arg[1]) : NULL;
    }
    if (!o)
        return lcb_err_set(err, LCB_EUSAGE, "unknown option '%s'", arg);
    if (o->type == LCB_OPT_FLAG) {
        if (eq)
            return lcb_err_set(err, LCB_EUSAGE, "option '--%s' takes no value", o->name);
        (*(int *)o->dest)++;
        return 0;
    }
    if (eq) {
        val = eq + 1;
    } else if (*i + 1 < argc) {
        val = argv[++*i];
    } else {
        return lcb_err_set(err, LCB_EUSAGE, "option '--%s' needs a value", o->name);
    }
    return store_value(o, val, err);
}

int
lcb_opt_parse(const struct lcb_opt *opts, int argc, char **argv, struct lcb_strlist *pos,
              struct lcb_err *err)
{
    int i, only_pos = 0;

    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];

        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = 1;
        } else if (!only_pos && arg[0] == '-' && arg[1] != '\0') {
            if (parse_one(opts, argc, argv, &i, err) < 0)
                return -1;
        } else if (pos) {
            lcb_strlist_add(pos, arg);
        } else {
            return lcb_err_set(err, LCB_EUSAGE, "unexpected argument '%s'", arg);
        }
    }
    return 0;
}
