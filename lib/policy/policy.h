/*
 * policy.h - a policy file (JSON, docs/policies.md) describes one environment: where archives go,
 * what to back up, when, how long to keep it, and how to drill.
 *
 * lcb_policy_load() parses and validates; every error names the file and the line/column (syntax,
 * LCB_ECORRUPT, exit 65) or the JSON path (meaning, LCB_ECONFIG, exit 78), e.g.
 * "policies/prod.json: targets.rds[0].retention.daily: must be a whole number >= 0".
 * The struct is read-only after loading; strings live as long as the policy.
 */
#ifndef LCB_POLICY_POLICY_H
#define LCB_POLICY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "retention.h"
#include "schedule.h"

enum lcb_kind { LCB_KIND_RDS, LCB_KIND_EBS, LCB_KIND_BROKER, LCB_KIND_CONFIG, LCB_KIND_COUNT };

struct lcb_kv_pair {
    char *key;
    char *value;
};

struct lcb_sql_check {
    char *name;
    char *sql;
    char *expect; /* ">= 1", "= 0", "== 'x'" */
};

struct lcb_target {
    enum lcb_kind kind;
    char *name; /* unique within the policy: instance id, or the given name */
    struct lcb_schedule schedule;
    struct lcb_retention retention;
    int copy_to_dr;
    char *path; /* "targets.rds[0]", for messages */
    /* rds */
    char *instance;
    char *db_url_param;   /* SSM parameter holding postgres://user:pass@host/db */
    char *db_secret;      /* or a Secrets Manager secret with the credentials */
    long long exact_count_limit; /* tables larger than this get the estimate */
    /* ebs */
    char **volume_ids;
    size_t nvolume_ids;
    struct lcb_kv_pair *tags; /* select volumes by tag (config: secret_tags, secrets by tag) */
    size_t ntags;
    char *instance_id;
    /* broker */
    char *url;
    char *url_param;
    char *tenant;
    char **types;
    size_t ntypes;
    int page_size;
    int production; /* restoring into it needs --yes */
    /* config */
    char **ssm_paths;
    size_t nssm_paths;
    char **ecs_clusters;
    size_t necs_clusters;
    char **secret_prefixes;
    size_t nsecret_prefixes;
};

struct lcb_drill {
    char *instance_class;
    char *subnet_group;
    char **security_groups;
    size_t nsecurity_groups;
    char *availability_zone;
    char *broker_url;    /* a scratch broker; default: the source with a scratch tenant */
    char *broker_tenant;
    int64_t rto_target;  /* seconds; 0: none */
    int64_t rpo_target;
    double row_tolerance; /* fraction, e.g. 0.01 */
    int64_t timeout;
    struct lcb_sql_check *checks;
    size_t nchecks;
    char *cms_entity_query; /* SQL returning broker entity ids the CMS references */
};

struct lcb_policy {
    char *file;
    int version;
    char *env;
    char *region;
    char *dr_region;
    char *timezone;
    char *bucket;
    char *prefix;
    char *kms_key;
    char *dr_kms_key;
    int64_t object_lock; /* retain-until = now + this; 0: none */
    char *notify_topic;
    int notify_on_success; /* notify.on_success: announce successful runs too */
    int production;
    struct lcb_target *targets;
    size_t ntargets;
    struct lcb_drill drill;
};

/* Load and validate path. On failure *out is NULL and err names the file and the culprit. */
int lcb_policy_load(struct lcb_policy **out, const char *path, struct lcb_err *err);
/* The same from a string (name is used in messages). When problems is not NULL every problem
 * found is appended to it, one line each ("FILE: PATH: message"); err names the first. */
int lcb_policy_parse(struct lcb_policy **out, const char *name, const char *text, size_t len,
                     struct lcb_buf *problems, struct lcb_err *err);
/* lcb_policy_load with every problem listed in problems (for `lcbackup policy check`). */
int lcb_policy_load_all(struct lcb_policy **out, const char *path, struct lcb_buf *problems,
                        struct lcb_err *err);
void lcb_policy_free(struct lcb_policy *p);

const char *lcb_policy_env(const struct lcb_policy *p);
const char *lcb_kind_name(enum lcb_kind k);
/* "rds" -> LCB_KIND_RDS; -1 when unknown. */
int lcb_kind_parse(const char *s);
/* The targets of one kind, in file order: fills out (size n) and returns the count. */
size_t lcb_policy_targets(const struct lcb_policy *p, enum lcb_kind k, const struct lcb_target **out,
                          size_t n);
const struct lcb_target *lcb_policy_target(const struct lcb_policy *p, enum lcb_kind k,
                                           const char *name);
/* The normalised policy as JSON (defaults filled in) into out. */
void lcb_policy_dump(const struct lcb_policy *p, struct lcb_buf *out);

#endif
