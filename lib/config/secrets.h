/*
 * secrets.h - Secrets Manager secrets in the configuration model (config.h): what `backup config`
 * exports next to the SSM parameters, what `diff config` compares and what `restore secrets`
 * puts back.
 *
 * Which secrets: those whose name starts with one of the config target's secret_prefixes
 * ("legocity/prod/"), and those that carry every tag of its secret_tags. A secret is exported with
 * its description, KMS key, tags, rotation settings, DeletedDate (a secret scheduled for deletion
 * is kept, without values: Secrets Manager refuses to read them) and every version that carries a
 * stage (AWSCURRENT, AWSPREVIOUS, AWSPENDING) with its value, string or binary.
 *
 * In the archive: secretsmanager/secrets.json, a JSON array sorted by name; values are envelopes
 * (archive/envelope.h) under the archive's data key, exactly like SecureStrings, with
 * "secretsmanager:<name>:<version id>" as associated data so that a value cannot be moved to
 * another secret or version. The manifest counts "secretsmanager-secrets" and keeps the
 * selection in extra.secret_prefixes and extra.secret_tags ("key=value").
 *
 * Plaintext values live only in struct lcb_secret (registered for redaction, wiped on release).
 *
 * Restores (plan below): a missing secret is created with its archived description, KMS key, tags
 * and current value; a secret scheduled for deletion has its deletion cancelled (RestoreSecret)
 * first; a differing current value becomes a new version (PutSecretValue); description and KMS
 * key are put back with UpdateSecret, tags with TagResource/UntagResource, rotation settings
 * with RotateSecret (RotateImmediately false) or CancelRotateSecret. Live secrets the archive does
 * not hold are listed, never deleted.
 *
 * Ownership: everything hangs off struct lcb_config and is freed by lcb_config_release(); plans
 * are caller-owned (_init/_release) and borrow the configurations.
 */
#ifndef LCB_CONFIG_SECRETS_H
#define LCB_CONFIG_SECRETS_H

#include <stddef.h>
#include <stdio.h>

#include "../archive/archive.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/opt.h"
#include "../core/secret.h"
#include "config.h"
#include "diff.h"
#include "plan.h"

struct lcb_aws;

#define LCB_CONFIG_SECRETS_ENTRY "secretsmanager/secrets.json"

struct lcb_config_secret_version {
    char *id;
    struct lcb_strlist stages;
    double created;
    int binary;               /* SecretBinary */
    int has_value;            /* 0: not readable (the secret is scheduled for deletion) */
    struct lcb_secret value;
};

struct lcb_config_secret {
    char *name;
    char *arn;
    char *description;
    char *kms_key_id;         /* NULL: aws/secretsmanager */
    struct lcb_config_tag *tags; /* sorted by key */
    size_t ntags;
    int rotation_enabled;
    char *rotation_lambda;
    char *rotation_rules;     /* compact JSON, or NULL */
    double deleted;           /* DeletedDate; 0: not scheduled for deletion */
    struct lcb_config_secret_version *versions;
    size_t nversions;
};

/* ---- model ---- */

void lcb_config_secrets_release(struct lcb_config *c);
/* Add an empty secret named name; returns it (borrowed; valid until the next add). */
struct lcb_config_secret *lcb_config_secret_add(struct lcb_config *c, const char *name);
const struct lcb_config_secret *lcb_config_secret_find(const struct lcb_config *c,
                                                       const char *name);
/* Add (or replace) a tag, kept sorted. */
void lcb_config_secret_tag(struct lcb_config_secret *s, const char *key, const char *value);
const char *lcb_config_secret_tag_get(const struct lcb_config_secret *s, const char *key);
/* Add a version (its value is set by the caller); returns it (borrowed). */
struct lcb_config_secret_version *lcb_config_secret_version_add(struct lcb_config_secret *s,
                                                                const char *id);
/* The version carrying stage (AWSCURRENT...), or NULL. */
const struct lcb_config_secret_version *
lcb_config_secret_stage(const struct lcb_config_secret *s, const char *stage);
/* Sort secrets by name. */
void lcb_config_secrets_sort(struct lcb_config *c);
/* Pure. Is s selected by prefixes or by the "key=value" tags (all of them)? */
int lcb_config_secret_selected(const struct lcb_config_secret *s, const struct lcb_strlist *prefixes,
                               const struct lcb_strlist *tags);
/* The number of values held (each staged version of each secret). */
size_t lcb_config_secrets_values(const struct lcb_config *c);

/* ---- archive ---- */

/* secrets.json text (sorted as held), values encrypted under key. Returns 0, or -1 (envelope
 * errors; LCB_ECONFIG when there are values and no key). */
int lcb_config_secrets_json(struct lcb_buf *out, const struct lcb_config *c,
                            const struct lcb_secret *key, struct lcb_err *err);
/* Parse secrets.json into c, decrypting values (key_check as config.h says). Returns 0, or -1:
 * LCB_ECORRUPT naming the element, a GCM failure, LCB_EAUTH (wrong key), LCB_ECONFIG (no key). */
int lcb_config_secrets_parse(struct lcb_config *c, const char *text, size_t len,
                             const struct lcb_secret *key, const char *key_check,
                             struct lcb_err *err);
/* Add secrets.json to an archive being written, when c holds secrets or a selection. */
int lcb_config_secrets_archive_add(struct lcb_archive_writer *w, const struct lcb_config *c,
                                   const struct lcb_secret *key, struct lcb_err *err);
/* Counts and the selection into the manifest; the selection back from its extra. */
void lcb_config_secrets_manifest_fill(struct lcb_manifest *m, const struct lcb_config *c);
void lcb_config_secrets_selection_load(struct lcb_config *c, const struct lcb_json *extra);

/* ---- live ---- */

/* Every secret selected by prefixes and tags ("key=value"), with its metadata and the values of
 * its staged versions, appended to c (the selection is recorded in c). Returns 0, or -1
 * (secretsmanager.h's codes). */
int lcb_config_fetch_secrets(struct lcb_config *c, struct lcb_aws *aws,
                             const struct lcb_strlist *prefixes, const struct lcb_strlist *tags,
                             struct lcb_err *err);
/* One secret by name (DescribeSecret, then its values unless it is scheduled for deletion),
 * appended to c. *found is 0 when it does not exist. Returns 0 or -1. */
int lcb_config_fetch_secret(struct lcb_config *c, struct lcb_aws *aws, const char *name,
                            int *found, struct lcb_err *err);
/* What a diff against live needs: the archived selection fetched, plus every archived secret the
 * listing does not show (scheduled for deletion, or gone). */
int lcb_config_fetch_secrets_like(struct lcb_config *live, struct lcb_aws *aws,
                                  const struct lcb_config *archived, struct lcb_err *err);
/* The calls a backup of this selection makes (for --dry-run), appended. */
void lcb_config_secrets_calls(struct lcb_buf *out, const struct lcb_strlist *prefixes,
                              const struct lcb_strlist *tags);

/* ---- backup.c's hooks (backup.h's options: the target's secret_prefixes and secret_tags) ---- */

struct lcb_config_backup_opts;
/* Fetch the secrets o selects into c (nothing when it selects none). Returns 0 or -1. */
int lcb_config_backup_fetch_secrets(struct lcb_config *c, struct lcb_aws *aws,
                                    const struct lcb_config_backup_opts *o, struct lcb_err *err);
/* ",secretsmanager:<prefix>" and ",secretsmanager:tag:<k>=<v>" for the catalog's source. */
void lcb_config_backup_secret_source(struct lcb_buf *out, const struct lcb_config_backup_opts *o);
/* The dry-run lines of the secrets o selects. */
void lcb_config_backup_secret_calls(struct lcb_buf *out, const struct lcb_config_backup_opts *o);

/* ---- diff ---- */

/* Pure. The KMS key as compared: NULL for Secrets Manager's default (aws/secretsmanager). */
const char *lcb_config_secret_kms(const struct lcb_config_secret *s);
/* Pure. Fields that differ between secrets x and y: Value (current; "***" unless show_secrets),
 * Binary, Description, KmsKeyId, Tags.<key>, Rotation*, Deletion. Returns the number added. */
size_t lcb_config_secret_diff(struct lcb_diff_item *it, const struct lcb_config_secret *x,
                              const struct lcb_config_secret *y, int show_secrets);
/* Append one item per secret added, removed or changed between a and b. */
void lcb_config_secrets_diff(struct lcb_config_diff *d, const struct lcb_config *a,
                             const struct lcb_config *b, int show_secrets);

/* ---- restore ---- */

struct lcb_secret_step {
    const struct lcb_config_secret *src;  /* archived */
    const struct lcb_config_secret *live; /* NULL: missing */
    int create;      /* CreateSecret (with value, description, KMS key, tags) */
    int undelete;    /* RestoreSecret: the live secret is scheduled for deletion */
    int put_value;   /* PutSecretValue with the archived current value */
    int update;      /* UpdateSecret: description (update & 1) and/or KMS key (update & 2) */
    int tag;         /* TagResource with the archived tags */
    struct lcb_strlist untag;
    int rotate;      /* RotateSecret with the archived settings, RotateImmediately false */
    int cancel_rotation;
    char *why;       /* what differs */
};

struct lcb_secret_plan {
    struct lcb_secret_step *steps;
    size_t n;
    size_t unchanged;
    struct lcb_strlist extra; /* live secrets of the selection that the archive does not hold */
    struct lcb_strlist unreadable; /* archived without a value (scheduled for deletion then) */
};

void lcb_secret_plan_init(struct lcb_secret_plan *p);
void lcb_secret_plan_release(struct lcb_secret_plan *p);
/* Plan the restore of the archived secrets (only those in names, when not empty) against live.
 * Returns 0, or -1 (LCB_ENOTFOUND: a --name the archive does not hold). */
int lcb_secret_plan_build(struct lcb_secret_plan *p, const struct lcb_config *archived,
                          const struct lcb_config *live, const struct lcb_strlist *names,
                          struct lcb_err *err);
/* The calls a step makes, one line each ("CreateSecret {...}"), values as "***". */
void lcb_secret_step_calls(struct lcb_buf *out, const struct lcb_secret_step *s);
/* Carry out a plan (apply.c's reporting: one line per change on out, failures recorded and the
 * others go on). Returns the number of failed steps. */
size_t lcb_secret_plan_apply(struct lcb_restore_tally *t, struct lcb_aws *aws,
                             const struct lcb_secret_plan *p, FILE *out);

#endif
