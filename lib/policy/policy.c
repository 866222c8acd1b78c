/*
 * policy.c - parse and validate a policy file; see policy.h and docs/policies.md.
 *
 * Validation walks the JSON once with a "path" that grows as it descends
 * ("targets.rds[0].retention.daily"), so every message can name exactly what is wrong. All problems
 * are collected, not just the first, so that one `lcbackup policy check` shows them all.
 */
#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "../ext/json.h"
#include "validate.h"

#define MAX_POLICY_BYTES (4 * 1024 * 1024)

static const char *const kind_names[LCB_KIND_COUNT] = { "rds", "ebs", "broker", "config" };

const char *
lcb_kind_name(enum lcb_kind k)
{
    return (int)k >= 0 && k < LCB_KIND_COUNT ? kind_names[k] : "unknown";
}

int
lcb_kind_parse(const char *s)
{
    int k;

    for (k = 0; k < LCB_KIND_COUNT; k++)
        if (strcmp(kind_names[k], s) == 0)
            return k;
    return -1;
}

/* ---- reading members ------------------------------------------------------------------------ */

static char *
opt_str(struct pv *v, const struct lcb_json *obj, const char *key, int (*check)(const char *),
        const char *what)
{
    const struct lcb_json *j = lcb_json_get(obj, key);

    if (!j || lcb_json_type(j) == LCB_JSON_NULL)
        return NULL;
    if (lcb_json_type(j) != LCB_JSON_STRING) {
        pv_fail(v, key, "must be a string, not %s", lcb_json_type_name(lcb_json_type(j)));
        return NULL;
    }
    if (check && !check(lcb_json_str(j))) {
        pv_fail(v, key, "'%s' is not %s", lcb_json_str(j), what);
        return NULL;
    }
    return lcb_xstrdup(lcb_json_str(j));
}

static char *
req_str(struct pv *v, const struct lcb_json *obj, const char *key, int (*check)(const char *),
        const char *what)
{
    if (!lcb_json_get(obj, key)) {
        pv_fail(v, key, "is required");
        return NULL;
    }
    return opt_str(v, obj, key, check, what);
}

static int
opt_bool(struct pv *v, const struct lcb_json *obj, const char *key, int dflt)
{
    const struct lcb_json *j = lcb_json_get(obj, key);

    if (!j)
        return dflt;
    if (lcb_json_type(j) != LCB_JSON_BOOL) {
        pv_fail(v, key, "must be true or false");
        return dflt;
    }
    return lcb_json_bool(j, dflt);
}

/* A whole number in [min, max]; dflt when absent. */
static long long
opt_int(struct pv *v, const struct lcb_json *obj, const char *key, long long min, long long max,
        long long dflt)
{
    const struct lcb_json *j = lcb_json_get(obj, key);
    double d;

    if (!j)
        return dflt;
    d = lcb_json_num(j, -1e300);
    if (lcb_json_type(j) != LCB_JSON_NUMBER || d != (double)(long long)d || d < (double)min ||
        d > (double)max) {
        if (max >= 1000000000LL)
            pv_fail(v, key, "must be a whole number >= %lld", min);
        else
            pv_fail(v, key, "must be a whole number from %lld to %lld", min, max);
        return dflt;
    }
    return (long long)d;
}

static int64_t
opt_duration(struct pv *v, const struct lcb_json *obj, const char *key, int64_t dflt)
{
    const struct lcb_json *j = lcb_json_get(obj, key);
    int64_t secs;

    if (!j)
        return dflt;
    if (lcb_json_type(j) != LCB_JSON_STRING || lcb_duration_parse(lcb_json_str(j), &secs) < 0) {
        pv_fail(v, key, "must be a duration such as \"36h\", \"7d\" or \"2w\"");
        return dflt;
    }
    return secs;
}

static char **
opt_str_array(struct pv *v, const struct lcb_json *obj, const char *key, size_t *n,
              int (*check)(const char *), const char *what)
{
    const struct lcb_json *j = lcb_json_get(obj, key), *it;
    char **out;
    size_t i = 0;

    *n = 0;
    if (!j)
        return NULL;
    if (lcb_json_type(j) != LCB_JSON_ARRAY) {
        pv_fail(v, key, "must be an array of strings");
        return NULL;
    }
    out = lcb_xcalloc(lcb_json_size(j) + 1, sizeof(*out));
    for (it = lcb_json_child(j); it; it = lcb_json_next(it), i++) {
        const char *s = lcb_json_str(it);
        if (!s)
            pv_fail_at(v, key, i, "must be a string");
        else if (check && !check(s))
            pv_fail_at(v, key, i, "'%s' is not %s", s, what);
        else
            out[(*n)++] = lcb_xstrdup(s);
    }
    return out;
}

/* ---- sections ------------------------------------------------------------------------------- */

static void
parse_retention(struct pv *v, const struct lcb_json *j, struct lcb_retention *r)
{
    static const char *const keys[] = { "keep_last", "hourly", "daily", "weekly", "monthly",
                                        "yearly", "keep_within", "min_age", NULL };

    if (!pv_object(v, j, keys))
        return;
    r->keep_last = (int)opt_int(v, j, "keep_last", -1, 100000, 0);
    r->hourly = (int)opt_int(v, j, "hourly", -1, 100000, 0);
    r->daily = (int)opt_int(v, j, "daily", -1, 100000, 0);
    r->weekly = (int)opt_int(v, j, "weekly", -1, 100000, 0);
    r->monthly = (int)opt_int(v, j, "monthly", -1, 100000, 0);
    r->yearly = (int)opt_int(v, j, "yearly", -1, 100000, 0);
    r->keep_within = opt_duration(v, j, "keep_within", 0);
    r->min_age = opt_duration(v, j, "min_age", 0);
    if (lcb_retention_empty(r))
        pv_fail(v, NULL, "keeps nothing, so every backup would be deleted: set at least one of "
                         "keep_last, hourly, daily, weekly, monthly, yearly or keep_within");
}

static void
parse_schedule(struct pv *v, const struct lcb_json *obj, struct lcb_schedule *s,
               const struct lcb_schedule *dflt)
{
    const struct lcb_json *j = lcb_json_get(obj, "schedule");
    struct lcb_err e;

    if (!j) {
        if (dflt && dflt->expr[0])
            *s = *dflt;
        else
            pv_fail(v, "schedule", "is required (here or in defaults.schedule)");
        return;
    }
    if (!lcb_json_str(j)) {
        pv_fail(v, "schedule", "must be a string such as \"0 3 * * *\" or \"@daily\"");
        return;
    }
    lcb_err_clear(&e);
    if (lcb_schedule_parse(s, lcb_json_str(j), &e) < 0)
        pv_fail(v, "schedule", "%s", e.msg);
}

/* schedule + retention (own, else the policy's defaults) */
static void
parse_plan(struct pv *v, const struct lcb_json *t, struct lcb_target *tg, const struct pdefaults *d)
{
    const struct lcb_json *r = lcb_json_get(t, "retention");

    parse_schedule(v, t, &tg->schedule, &d->schedule);
    if (r) {
        pv_push(v, "retention", -1);
        parse_retention(v, r, &tg->retention);
        pv_pop(v);
    } else if (d->has_retention) {
        tg->retention = d->retention;
    } else {
        pv_fail(v, "retention", "is required (here or in defaults.retention)");
    }
}

static const char *const common_keys[] = { "name", "schedule", "retention", "copy_to_dr" };

static void
parse_rds(struct pv *v, const struct lcb_json *t, struct lcb_target *tg)
{
    static const char *const keys[] = { "instance", "db_url_param", "db_secret",
                                        "exact_count_limit", NULL };

    if (!pv_object2(v, t, common_keys, LCB_ARRAY_SIZE(common_keys), keys))
        return;
    tg->instance = req_str(v, t, "instance", pv_rds_id, "a valid RDS instance identifier "
                           "(1-63 letters, digits or hyphens, starting with a letter)");
    tg->name = opt_str(v, t, "name", pv_name, "a name (letters, digits, - and _)");
    if (!tg->name && tg->instance)
        tg->name = lcb_xstrdup(tg->instance);
    tg->db_url_param = opt_str(v, t, "db_url_param", pv_ssm_name, "an SSM parameter name");
    tg->db_secret = opt_str(v, t, "db_secret", pv_nonempty, "a secret name or ARN");
    tg->exact_count_limit = opt_int(v, t, "exact_count_limit", 0, 1000000000000LL, 1000000);
}

static int
parse_tags_of(struct pv *v, const struct lcb_json *t, struct lcb_target *tg, const char *key)
{
    const struct lcb_json *j = lcb_json_get(t, key), *it;

    if (!j)
        return 0;
    if (lcb_json_type(j) != LCB_JSON_OBJECT) {
        pv_fail(v, key, "must be an object of tag keys and values");
        return 0;
    }
    tg->tags = lcb_xcalloc(lcb_json_size(j) + 1, sizeof(*tg->tags));
    for (it = lcb_json_child(j); it; it = lcb_json_next(it)) {
        if (!lcb_json_str(it)) {
            pv_fail(v, key, "value of '%s' must be a string", lcb_json_key(it));
            continue;
        }
        tg->tags[tg->ntags].key = lcb_xstrdup(lcb_json_key(it));
        tg->tags[tg->ntags++].value = lcb_xstrdup(lcb_json_str(it));
    }
    return (int)tg->ntags;
}

static int
parse_tags(struct pv *v, const struct lcb_json *t, struct lcb_target *tg)
{
    return parse_tags_of(v, t, tg, "tags");
}

static void
parse_ebs(struct pv *v, const struct lcb_json *t, struct lcb_target *tg)
{
    static const char *const keys[] = { "volume_ids", "tags", "instance_id", NULL };
    int selectors;

    if (!pv_object2(v, t, common_keys, LCB_ARRAY_SIZE(common_keys), keys))
        return;
    tg->name = req_str(v, t, "name", pv_name, "a name (letters, digits, - and _)");
    tg->volume_ids = opt_str_array(v, t, "volume_ids", &tg->nvolume_ids, pv_volume_id,
                                   "an EBS volume id (vol-0123456789abcdef0)");
    tg->instance_id = opt_str(v, t, "instance_id", pv_instance_id,
                              "an EC2 instance id (i-0123456789abcdef0)");
    selectors = (tg->nvolume_ids > 0) + (parse_tags(v, t, tg) > 0) + (tg->instance_id != NULL);
    if (selectors != 1)
        pv_fail(v, NULL, "needs exactly one of volume_ids, tags or instance_id");
}

static void
parse_broker(struct pv *v, const struct lcb_json *t, struct lcb_target *tg)
{
    static const char *const keys[] = { "url", "url_param", "tenant", "types", "page_size",
                                        "production", NULL };

    if (!pv_object2(v, t, common_keys, LCB_ARRAY_SIZE(common_keys), keys))
        return;
    tg->name = req_str(v, t, "name", pv_name, "a name (letters, digits, - and _)");
    tg->url = opt_str(v, t, "url", pv_http_url, "an http:// or https:// URL");
    tg->url_param = opt_str(v, t, "url_param", pv_ssm_name, "an SSM parameter name");
    if (!!tg->url + !!tg->url_param != 1 && !pv_failed_here(v, "url"))
        pv_fail(v, NULL, "needs exactly one of url or url_param");
    tg->tenant = opt_str(v, t, "tenant", pv_name, "a tenant name");
    tg->types = opt_str_array(v, t, "types", &tg->ntypes, pv_nonempty, "an entity type");
    tg->page_size = (int)opt_int(v, t, "page_size", 1, 10000, 1000);
    tg->production = opt_bool(v, t, "production", 0);
}

static void
parse_config(struct pv *v, const struct lcb_json *t, struct lcb_target *tg)
{
    static const char *const keys[] = { "ssm_paths", "ecs_clusters", "secret_prefixes",
                                        "secret_tags", NULL };

    if (!pv_object2(v, t, common_keys, LCB_ARRAY_SIZE(common_keys), keys))
        return;
    tg->name = req_str(v, t, "name", pv_name, "a name (letters, digits, - and _)");
    tg->ssm_paths = opt_str_array(v, t, "ssm_paths", &tg->nssm_paths, pv_ssm_path,
                                  "an SSM path starting and ending with '/'");
    tg->ecs_clusters = opt_str_array(v, t, "ecs_clusters", &tg->necs_clusters, pv_name,
                                     "an ECS cluster name");
    tg->secret_prefixes = opt_str_array(v, t, "secret_prefixes", &tg->nsecret_prefixes,
                                        pv_nonempty, "a secret name prefix");
    parse_tags_of(v, t, tg, "secret_tags"); /* config targets: secrets carrying these tags */
    if (tg->nssm_paths + tg->necs_clusters + tg->nsecret_prefixes + tg->ntags == 0)
        pv_fail(v, NULL, "needs at least one of ssm_paths, ecs_clusters, secret_prefixes or "
                "secret_tags");
}

typedef void (*target_parser)(struct pv *, const struct lcb_json *, struct lcb_target *);

static void
parse_targets_of(struct pv *v, struct lcb_policy *p, const struct lcb_json *arr, enum lcb_kind k,
                 const struct pdefaults *d)
{
    static const target_parser parsers[LCB_KIND_COUNT] = { parse_rds, parse_ebs, parse_broker,
                                                           parse_config };
    const struct lcb_json *t;
    size_t i = 0;

    if (lcb_json_type(arr) != LCB_JSON_ARRAY) {
        pv_fail(v, NULL, "must be an array of targets");
        return;
    }
    p->targets = lcb_xrealloc(p->targets, (p->ntargets + lcb_json_size(arr)) * sizeof(*p->targets));
    for (t = lcb_json_child(arr); t; t = lcb_json_next(t), i++) {
        struct lcb_target *tg = &p->targets[p->ntargets++];
        memset(tg, 0, sizeof(*tg));
        tg->kind = k;
        pv_push(v, NULL, (int)i);
        tg->path = lcb_xstrdup(pv_path(v));
        parsers[k](v, t, tg);
        if (lcb_json_type(t) == LCB_JSON_OBJECT) {
            tg->copy_to_dr = opt_bool(v, t, "copy_to_dr", 0);
            parse_plan(v, t, tg, d);
        }
        pv_pop(v);
    }
}

static void
parse_targets(struct pv *v, struct lcb_policy *p, const struct lcb_json *j, const struct pdefaults *d)
{
    static const char *const keys[] = { "rds", "ebs", "broker", "config", NULL };
    int k;

    if (!j) {
        pv_fail(v, "targets", "is required");
        return;
    }
    pv_push(v, "targets", -1);
    if (pv_object(v, j, keys)) {
        for (k = 0; k < LCB_KIND_COUNT; k++) {
            const struct lcb_json *arr = lcb_json_get(j, kind_names[k]);
            if (!arr)
                continue;
            pv_push(v, kind_names[k], -1);
            parse_targets_of(v, p, arr, (enum lcb_kind)k, d);
            pv_pop(v);
        }
        if (p->ntargets == 0)
            pv_fail(v, NULL, "lists no target: nothing would be backed up");
    }
    pv_pop(v);
}

static void
check_unique_names(struct pv *v, const struct lcb_policy *p)
{
    size_t i, j;

    for (i = 0; i < p->ntargets; i++)
        for (j = 0; j < i; j++)
            if (p->targets[i].kind == p->targets[j].kind && p->targets[i].name &&
                p->targets[j].name && strcmp(p->targets[i].name, p->targets[j].name) == 0)
                pv_fail_path(v, p->targets[i].path, "name '%s' is already used by %s",
                             p->targets[i].name, p->targets[j].path);
}

static void
parse_checks(struct pv *v, const struct lcb_json *arr, struct lcb_drill *d)
{
    static const char *const keys[] = { "name", "sql", "expect", NULL };
    const struct lcb_json *c;
    size_t i = 0;

    if (lcb_json_type(arr) != LCB_JSON_ARRAY) {
        pv_fail(v, NULL, "must be an array of {name, sql, expect}");
        return;
    }
    d->checks = lcb_xcalloc(lcb_json_size(arr) + 1, sizeof(*d->checks));
    for (c = lcb_json_child(arr); c; c = lcb_json_next(c), i++) {
        struct lcb_sql_check *ck = &d->checks[d->nchecks++];
        pv_push(v, NULL, (int)i);
        if (pv_object(v, c, keys)) {
            ck->name = req_str(v, c, "name", pv_nonempty, "a name");
            ck->sql = req_str(v, c, "sql", pv_nonempty, "an SQL query");
            ck->expect = req_str(v, c, "expect", pv_expectation,
                                 "an expectation such as \">= 1\", \"= 0\" or \"== 'text'\"");
        }
        pv_pop(v);
    }
}

static void
parse_drill(struct pv *v, const struct lcb_json *j, struct lcb_drill *d)
{
    static const char *const keys[] = { "instance_class", "subnet_group", "security_groups",
                                        "availability_zone", "broker_url", "broker_tenant",
                                        "rto_target", "rpo_target", "row_tolerance", "timeout",
                                        "checks", "cms_entity_query", NULL };
    const struct lcb_json *tol;

    d->row_tolerance = 0.0;
    d->timeout = 2 * 3600;
    if (!j)
        return;
    pv_push(v, "drill", -1);
    if (pv_object(v, j, keys)) {
        d->instance_class = opt_str(v, j, "instance_class", pv_instance_class,
                                    "an RDS instance class such as db.t3.micro");
        d->subnet_group = opt_str(v, j, "subnet_group", pv_name, "a DB subnet group name");
        d->security_groups = opt_str_array(v, j, "security_groups", &d->nsecurity_groups,
                                           pv_security_group, "a security group id (sg-...)");
        d->availability_zone = opt_str(v, j, "availability_zone", pv_nonempty, "a zone");
        d->broker_url = opt_str(v, j, "broker_url", pv_http_url, "an http:// or https:// URL");
        d->broker_tenant = opt_str(v, j, "broker_tenant", pv_name, "a tenant name");
        d->rto_target = opt_duration(v, j, "rto_target", 0);
        d->rpo_target = opt_duration(v, j, "rpo_target", 0);
        d->timeout = opt_duration(v, j, "timeout", d->timeout);
        d->cms_entity_query = opt_str(v, j, "cms_entity_query", pv_nonempty, "an SQL query");
        tol = lcb_json_get(j, "row_tolerance");
        if (tol) {
            d->row_tolerance = lcb_json_num(tol, -1);
            if (lcb_json_type(tol) != LCB_JSON_NUMBER || d->row_tolerance < 0 ||
                d->row_tolerance > 1)
                pv_fail(v, "row_tolerance", "must be a fraction from 0 to 1, e.g. 0.01");
        }
        if (lcb_json_get(j, "checks")) {
            pv_push(v, "checks", -1);
            parse_checks(v, lcb_json_get(j, "checks"), d);
            pv_pop(v);
        }
    }
    pv_pop(v);
}

static void
parse_storage(struct pv *v, const struct lcb_json *j, struct lcb_policy *p)
{
    static const char *const keys[] = { "bucket", "prefix", "kms_key", "dr_kms_key",
                                        "object_lock", NULL };

    if (!j) {
        pv_fail(v, "storage", "is required (the S3 bucket for archives and the catalog)");
        return;
    }
    pv_push(v, "storage", -1);
    if (pv_object(v, j, keys)) {
        p->bucket = req_str(v, j, "bucket", pv_bucket,
                            "a valid S3 bucket name (3-63 lowercase letters, digits, '.' and '-')");
        p->prefix = opt_str(v, j, "prefix", pv_prefix, "a key prefix without leading '/'");
        if (!p->prefix)
            p->prefix = lcb_xstrdup("lcbackup");
        p->kms_key = opt_str(v, j, "kms_key", pv_kms_key, "a KMS key id, ARN or alias/...");
        p->dr_kms_key = opt_str(v, j, "dr_kms_key", pv_kms_key, "a KMS key id, ARN or alias/...");
        p->object_lock = opt_duration(v, j, "object_lock", 0);
    }
    pv_pop(v);
}

static void
parse_defaults(struct pv *v, const struct lcb_json *j, struct pdefaults *d)
{
    static const char *const keys[] = { "schedule", "retention", NULL };

    memset(d, 0, sizeof(*d));
    if (!j)
        return;
    pv_push(v, "defaults", -1);
    if (pv_object(v, j, keys)) {
        if (lcb_json_get(j, "schedule"))
            parse_schedule(v, j, &d->schedule, NULL);
        if (lcb_json_get(j, "retention")) {
            pv_push(v, "retention", -1);
            parse_retention(v, lcb_json_get(j, "retention"), &d->retention);
            pv_pop(v);
            d->has_retention = 1;
        }
    }
    pv_pop(v);
}

static void
parse_notify(struct pv *v, const struct lcb_json *j, struct lcb_policy *p)
{
    static const char *const keys[] = { "sns_topic", "on_success", NULL };

    if (!j)
        return;
    pv_push(v, "notify", -1);
    if (pv_object(v, j, keys)) {
        p->notify_topic = opt_str(v, j, "sns_topic", pv_sns_arn, "an SNS topic ARN");
        p->notify_on_success = opt_bool(v, j, "on_success", 0);
    }
    pv_pop(v);
}

static void
parse_root(struct pv *v, const struct lcb_json *root, struct lcb_policy *p)
{
    static const char *const keys[] = { "version", "env", "production", "region", "dr_region",
                                        "timezone", "storage", "notify", "defaults", "targets",
                                        "drill", "$schema", "description", NULL };
    struct pdefaults d;

    if (!pv_object(v, root, keys))
        return;
    p->version = (int)opt_int(v, root, "version", 1, 1, 0);
    if (!lcb_json_get(root, "version"))
        pv_fail(v, "version", "is required (1)");
    p->env = req_str(v, root, "env", pv_env, "an environment name (lowercase letters, digits, -)");
    p->production = opt_bool(v, root, "production", p->env && strcmp(p->env, "prod") == 0);
    p->region = req_str(v, root, "region", pv_region, "an AWS region such as eu-west-1");
    p->dr_region = opt_str(v, root, "dr_region", pv_region, "an AWS region such as eu-central-1");
    if (p->region && p->dr_region && strcmp(p->region, p->dr_region) == 0)
        pv_fail(v, "dr_region", "must differ from region (%s): a copy in the same region does not "
                                "survive losing it", p->region);
    p->timezone = opt_str(v, root, "timezone", lcb_tz_valid, "a time zone such as UTC or "
                          "Europe/Berlin");
    if (!p->timezone)
        p->timezone = lcb_xstrdup("UTC");
    parse_storage(v, lcb_json_get(root, "storage"), p);
    parse_notify(v, lcb_json_get(root, "notify"), p);
    parse_defaults(v, lcb_json_get(root, "defaults"), &d);
    parse_targets(v, p, lcb_json_get(root, "targets"), &d);
    parse_drill(v, lcb_json_get(root, "drill"), &p->drill);
    check_unique_names(v, p);
    for (size_t i = 0; i < p->ntargets; i++)
        if (p->targets[i].copy_to_dr && !p->dr_region)
            pv_fail_path(v, p->targets[i].path, "copy_to_dr is set but the policy has no "
                                                "dr_region");
}

int
lcb_policy_parse(struct lcb_policy **out, const char *name, const char *text, size_t len,
                 struct lcb_buf *problems, struct lcb_err *err)
{
    struct lcb_policy *p;
    struct lcb_json *root;
    struct pv v;

    *out = NULL;
    if (lcb_json_parse(&root, text, len, err) < 0) {
        char where[LCB_ERR_MSG_LEN];
        snprintf(where, sizeof(where), "%s", err->msg);
        if (problems)
            lcb_buf_addf(problems, "%s: %s\n", name, where);
        return lcb_err_set(err, LCB_ECORRUPT, "%s: %s", name, where);
    }
    p = lcb_xcalloc(1, sizeof(*p));
    p->file = lcb_xstrdup(name);
    pv_init(&v, name, problems);
    parse_root(&v, root, p);
    lcb_json_free(root);
    if (pv_done(&v, err) < 0) {
        lcb_policy_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

int
lcb_policy_load_all(struct lcb_policy **out, const char *path, struct lcb_buf *problems,
                    struct lcb_err *err)
{
    FILE *f;
    struct lcb_buf text = LCB_BUF_INIT;
    char chunk[8192];
    size_t n;
    int rc;

    *out = NULL;
    f = fopen(path, "r");
    if (!f)
        return lcb_err_sys(err, errno == ENOENT ? LCB_ECONFIG : LCB_EIO, errno, "policy '%s'",
                           path);
    text.max = MAX_POLICY_BYTES;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (lcb_buf_add(&text, chunk, n) < 0) {
            fclose(f);
            lcb_buf_release(&text);
            return lcb_err_set(err, LCB_ECONFIG, "policy '%s' is larger than 4 MiB", path);
        }
    }
    rc = ferror(f);
    fclose(f);
    if (rc) {
        lcb_buf_release(&text);
        return lcb_err_set(err, LCB_EIO, "read policy '%s'", path);
    }
    rc = lcb_policy_parse(out, path, lcb_buf_str(&text), text.len, problems, err);
    lcb_buf_release(&text);
    return rc;
}

int
lcb_policy_load(struct lcb_policy **out, const char *path, struct lcb_err *err)
{
    return lcb_policy_load_all(out, path, NULL, err);
}
