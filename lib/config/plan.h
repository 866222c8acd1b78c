/*
 * plan.h - what a restore must change, computed from an archive and what AWS holds now, and
 * the calls that change it (apply.c).
 *
 * SSM: for each archived parameter (under --path, renamed by --map), nothing when the live one is
 * equal (diff.h's fields); otherwise create it with its tags, or overwrite it (PutParameter
 * refuses Tags with Overwrite: overwrite without tags, then AddTagsToResource and
 * RemoveTagsFromResource), or only re-tag it, or replace it (DeleteParameter, then create) when
 * SSM cannot change it in place: another type, or Advanced -> Standard tier. Type, KeyId, tier,
 * description, pattern, data type and policies are kept. Live parameters the archive does not
 * hold are listed, never deleted.
 *
 * ECS: for each archived service, the archived task definition is reused when a live revision
 * of its family has the same content (diff.h's comparable form), else registered again; a
 * missing (or INACTIVE) service is created, a live one updated with only the members that
 * differ (and its task definition), its tags put back with TagResource/UntagResource. A DRAINING
 * service cannot be created again yet: it is skipped, and reported.
 *
 * Ownership: plans are caller-owned (_init/_release); steps borrow the archived and live
 * configurations, which must outlive the plan.
 */
#ifndef LCB_CONFIG_PLAN_H
#define LCB_CONFIG_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/opt.h"
#include "../ext/json.h"
#include "config.h"

struct lcb_aws;

/* ---- SSM ---- */

struct lcb_ssm_map {
    const char *from; /* "/legocity/prod/" */
    const char *to;   /* "/legocity/dev/" */
};

enum lcb_ssm_op { LCB_SSM_CREATE, LCB_SSM_OVERWRITE, LCB_SSM_RETAG, LCB_SSM_REPLACE };

struct lcb_ssm_step {
    enum lcb_ssm_op op;
    const struct lcb_config_param *src;  /* the archived parameter */
    const struct lcb_config_param *live; /* what is there now, or NULL */
    char *name;                          /* where it goes (after --map) */
    char *why;                           /* the fields that differ ("Value, Tags.Owner") */
    int put;                             /* PutParameter is needed */
    int tag;                             /* AddTagsToResource with the archived tags is needed */
    struct lcb_strlist untag;            /* live tag keys the archive does not have */
};

struct lcb_ssm_plan {
    struct lcb_ssm_step *steps;
    size_t n;
    size_t unchanged;
    struct lcb_strlist extra; /* live names under the restored paths the archive does not hold */
};

/* "FROM=TO" into m (pointing into spec). Both must start with '/'. Returns 0 or -1
 * (LCB_EUSAGE). */
int lcb_ssm_map_parse(struct lcb_ssm_map *m, const char *spec, struct lcb_err *err);
/* The name name takes under the maps (the first whose from is a prefix of it), into out.
 * Returns 1 when renamed, 0 when no map applies (out: the name unchanged). */
int lcb_ssm_map_name(struct lcb_buf *out, const char *name, const struct lcb_ssm_map *maps,
                     size_t n);
/* Where the restore writes: path (or each of the archive's paths) under the maps. */
void lcb_ssm_plan_roots(struct lcb_strlist *out, const struct lcb_config *archived,
                        const char *path, const struct lcb_ssm_map *maps, size_t n);

void lcb_ssm_plan_init(struct lcb_ssm_plan *p);
void lcb_ssm_plan_release(struct lcb_ssm_plan *p);
/* Plan the restore of the archived parameters under path (NULL: all), renamed by maps (when
 * n > 0 only the parameters under a map's from are restored), against live. Returns 0. */
int lcb_ssm_plan_build(struct lcb_ssm_plan *p, const struct lcb_config *archived,
                       const struct lcb_config *live, const char *path,
                       const struct lcb_ssm_map *maps, size_t n, struct lcb_err *err);

/* The PutParameter request of a step: to create (Tags included, when there are some), or to
 * overwrite (Overwrite true, no Tags). The caller owns it; it holds the value in clear. */
struct lcb_json *lcb_ssm_put_request(const struct lcb_ssm_step *s, int overwrite);
/* The archived tags as [{Key, Value}] (NULL when there are none). */
struct lcb_json *lcb_ssm_tags_json(const struct lcb_config_param *p);
/* The calls a step makes, one line each ("PutParameter {...}"), SecureString values as "***"
 * (what --dry-run prints). */
void lcb_ssm_step_calls(struct lcb_buf *out, const struct lcb_ssm_step *s);

/* ---- ECS ---- */

enum lcb_svc_op { LCB_SVC_UNCHANGED, LCB_SVC_UPDATE, LCB_SVC_CREATE, LCB_SVC_SKIP };

struct lcb_svc_step {
    enum lcb_svc_op op;
    const struct lcb_config_service *src;  /* archived */
    const struct lcb_config_taskdef *td;   /* the archived task definition it ran */
    const struct lcb_config_service *live; /* NULL when missing or INACTIVE */
    char *cluster;                         /* where it goes */
    char *reuse_td;   /* a live revision with the archived content, or NULL: register one */
    int td_change;    /* the service must move to another task definition */
    struct lcb_json *update;   /* UpdateService members that differ (archived values) */
    struct lcb_json *tag;      /* [{key, value}] to put back with TagResource, or NULL */
    struct lcb_strlist untag;  /* live tag keys the archive does not have */
    struct lcb_strlist notes;  /* differences a restore cannot change in place */
    char *why;                 /* what differs, or why it is skipped */
    int blocked;               /* skipped although it should be restored (DRAINING) */
};

struct lcb_svc_plan {
    struct lcb_svc_step *steps;
    size_t n;
};

void lcb_svc_plan_init(struct lcb_svc_plan *p);
void lcb_svc_plan_release(struct lcb_svc_plan *p);
/* Plan the restore of the archived services of cluster (NULL: every cluster) named in services
 * (empty: all), into target_cluster (NULL: each service's own), against live (its services and
 * task definitions, plus the latest revision of each archived family). Returns 0, or -1
 * (LCB_ENOTFOUND: a --service the archive does not hold; LCB_ECORRUPT: a service whose task
 * definition is not in the archive). */
int lcb_svc_plan_build(struct lcb_svc_plan *p, const struct lcb_config *archived,
                       const struct lcb_config *live, const char *cluster,
                       const char *target_cluster, const struct lcb_strlist *services,
                       struct lcb_err *err);
/* The UpdateService request of a step (service, cluster, the differing members, and
 * taskDefinition when td_arn is not NULL). The caller owns it. */
struct lcb_json *lcb_svc_update_request(const struct lcb_svc_step *s, const char *td_arn);
/* The calls a step makes, one line each, with "<registered>" standing for a revision not yet
 * registered (what --dry-run prints). */
void lcb_svc_step_calls(struct lcb_buf *out, const struct lcb_svc_step *s);

/* ---- applying (apply.c) ---- */

struct lcb_restore_tally {
    size_t created, updated, retagged, replaced, registered, unchanged, skipped, failed;
    struct lcb_json *detail; /* {"changes": [{name, action, status, error?}], ...}: the catalog's */
};

void lcb_restore_tally_init(struct lcb_restore_tally *t);
void lcb_restore_tally_release(struct lcb_restore_tally *t);
/* Record one change in t's detail (err NULL: done) and report it on out: "<action> <name>
 * (<why>)", or "FAILED <action> <name>: <error>" (redacted), logged under event and counted in
 * t->failed. */
void lcb_restore_tally_record(struct lcb_restore_tally *t, FILE *out, const char *event,
                              const char *action, const char *name, const char *why,
                              const struct lcb_err *err);

/* One count of a restore's summary: its member in the tally and the detail ("created"...), and
 * its words in the text line (NULL: the key, as in "3 created"). */
struct lcb_restore_count {
    const char *key;
    const char *label;
};

/* Complete t's detail for the catalog: restore_id (when not NULL), backup_id, each count in
 * order, then kept (when not NULL: live items the backup does not hold) as an array. */
void lcb_restore_tally_fill(struct lcb_restore_tally *t, const char *restore_id,
                            const char *backup_id, const struct lcb_restore_count *counts,
                            size_t n, const struct lcb_strlist *kept);
/* The summary line, appended to out: "<restore_id>: 3 created, 1 updated, 0 failed\n". */
void lcb_restore_tally_summary(struct lcb_buf *out, const struct lcb_restore_tally *t,
                               const char *restore_id, const struct lcb_restore_count *counts,
                               size_t n);

/* Carry out a plan, reporting each change on out as it is done ("created /a/b (String)",
 * "FAILED /a/c: ..."). A failing step is recorded and the others go on. Returns the number of
 * failed steps. */
size_t lcb_ssm_plan_apply(struct lcb_restore_tally *t, struct lcb_aws *aws,
                          const struct lcb_ssm_plan *p, FILE *out);
/* restore_id seeds CreateService's client tokens. */
size_t lcb_svc_plan_apply(struct lcb_restore_tally *t, struct lcb_aws *aws,
                          const struct lcb_svc_plan *p, const char *restore_id, FILE *out);

#endif
