/*
 * validate.h - policy validation helpers: a JSON path that follows the parser down the document,
 * a list of problems, and predicates for the identifiers AWS would refuse. Internal to lib/policy.
 */
#ifndef LCB_POLICY_VALIDATE_H
#define LCB_POLICY_VALIDATE_H

#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "retention.h"
#include "schedule.h"

struct lcb_json;

struct pv {
    const char *file;
    char path[512];
    size_t depth;
    size_t marks[32];
    int nproblems;
    char first[LCB_ERR_MSG_LEN];
    struct lcb_buf *problems; /* may be NULL */
};

struct pdefaults {
    struct lcb_schedule schedule;
    struct lcb_retention retention;
    int has_retention;
};

void pv_init(struct pv *v, const char *file, struct lcb_buf *problems);
/* Descend into key (NULL: none) and/or index (-1: none): "a.b" + key c -> "a.b.c"; index 0 -> "[0]". */
void pv_push(struct pv *v, const char *key, int index);
void pv_pop(struct pv *v);
const char *pv_path(const struct pv *v);
/* Record a problem at path.key (key NULL: at path). */
void pv_fail(struct pv *v, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void pv_fail_at(struct pv *v, const char *key, size_t index, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void pv_fail_path(struct pv *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Was a problem already recorded at path.key? (to avoid a second, vaguer message) */
int pv_failed_here(const struct pv *v, const char *key);
/* j must be an object whose keys are all in keys (NULL-terminated); problems name the others. */
int pv_object(struct pv *v, const struct lcb_json *j, const char *const *keys);
int pv_object2(struct pv *v, const struct lcb_json *j, const char *const *common, size_t ncommon,
               const char *const *keys);
/* 0 when no problem was found; else -1 with err = LCB_ECONFIG naming the first. */
int pv_done(struct pv *v, struct lcb_err *err);

/* Predicates: 1 when s is acceptable. */
int pv_nonempty(const char *s);
int pv_name(const char *s);
int pv_env(const char *s);
int pv_region(const char *s);
int pv_bucket(const char *s);
int pv_prefix(const char *s);
int pv_kms_key(const char *s);
int pv_sns_arn(const char *s);
int pv_rds_id(const char *s);
int pv_instance_class(const char *s);
int pv_volume_id(const char *s);
int pv_instance_id(const char *s);
int pv_security_group(const char *s);
int pv_ssm_name(const char *s);
int pv_ssm_path(const char *s);
int pv_http_url(const char *s);
int pv_expectation(const char *s);

#endif
