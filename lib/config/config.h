/*
 * config.h - the platform's configuration as lcbackup exports, compares and restores it: SSM
 * parameters (with their metadata and tags), ECS services and the task definitions they run.
 *
 * One struct lcb_config holds either what an archive holds or what AWS holds now ("live"), so
 * that diff.h compares any two and plan.h computes what a restore must change. Archives
 * (docs/commands/backup-config.md) hold:
 *
 *   ssm/parameters.json                          every parameter, sorted by name; SecureString
 *                                                values as "lcbenc:v1:..." envelopes (envelope.h)
 *   ecs/<cluster>/services/<name>.json           the Service object as DescribeServices gave it
 *   ecs/task-definitions/<family>-<revision>.json {"taskDefinition": {...}, "tags": [...]}
 *   MANIFEST.json                                counts, entries, and in "extra": env, paths,
 *                                                clusters and the encryption block (key.c)
 *
 * SecureString plaintext lives only in struct lcb_secret (registered for redaction, wiped on
 * release): never in a JSON tree, a log line or the archive.
 *
 * Ownership: struct lcb_config is caller-owned (_init/_release) and owns everything in it.
 * Getters return borrowed pointers that live as long as the config.
 */
#ifndef LCB_CONFIG_CONFIG_H
#define LCB_CONFIG_CONFIG_H

#include <stddef.h>

#include "../archive/archive.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/opt.h"
#include "../core/secret.h"
#include "../ext/json.h"

struct lcb_aws;
struct lcb_config_secret; /* secrets.h */

#define LCB_CONFIG_PARAMS_ENTRY "ssm/parameters.json"
#define LCB_CONFIG_MAX_ENTRY (16u << 20) /* the largest entry a reader keeps in memory */

struct lcb_config_tag {
    char *key;
    char *value;
};

struct lcb_config_param {
    char *name;
    char *type;                /* String | StringList | SecureString */
    char *value;               /* String and StringList values; NULL for a SecureString */
    struct lcb_secret secret;  /* a SecureString's plaintext */
    char *key_id;              /* SecureString only */
    char *tier;                /* Standard | Advanced */
    char *description;
    char *allowed_pattern;
    char *data_type;           /* text | aws:ec2:image | aws:ssm:integration */
    char *policies;            /* compact JSON of DescribeParameters' Policies, or NULL */
    long long version;
    double last_modified;      /* epoch seconds */
    struct lcb_config_tag *tags; /* sorted by key */
    size_t ntags;
};

struct lcb_config_service {
    char *cluster;         /* the cluster's name */
    char *name;
    struct lcb_json *doc;  /* the Service object, tags included */
};

struct lcb_config_taskdef {
    char *arn;
    char *family;
    long long revision;
    struct lcb_json *doc;  /* {"taskDefinition": {...}, "tags": [...]} */
};

struct lcb_config {
    struct lcb_config_param *params;
    size_t nparams, cparams;
    struct lcb_config_service *services;
    size_t nservices, cservices;
    struct lcb_config_taskdef *taskdefs;
    size_t ntaskdefs, ctaskdefs;
    struct lcb_strlist paths;    /* the SSM paths this holds */
    struct lcb_strlist clusters; /* the ECS clusters this holds */
    /* Secrets Manager (secrets.h): the secrets, and the selection they were read with */
    struct lcb_config_secret *secrets;
    size_t nsecrets, csecrets;
    struct lcb_strlist secret_prefixes;
    struct lcb_strlist secret_tags; /* "key=value" */
};

void lcb_config_init(struct lcb_config *c);
void lcb_config_release(struct lcb_config *c);

/* Add an empty parameter named name (copied) and return it (borrowed; valid until the next add). */
struct lcb_config_param *lcb_config_param_add(struct lcb_config *c, const char *name);
/* Set a parameter's value: kept in p->secret when p->type is SecureString, else in p->value. */
void lcb_config_param_set_value(struct lcb_config_param *p, const char *value, size_t len);
/* The value ("" when none). A SecureString's is its plaintext: never print it. */
const char *lcb_config_param_value(const struct lcb_config_param *p);
int lcb_config_param_secure(const struct lcb_config_param *p);
/* Add (or replace) a tag; tags stay sorted by key. */
void lcb_config_param_tag(struct lcb_config_param *p, const char *key, const char *value);
const char *lcb_config_param_tag_get(const struct lcb_config_param *p, const char *key);

/* Take ownership of doc (a Service object) for cluster/name; return the entry. */
struct lcb_config_service *lcb_config_service_add(struct lcb_config *c, const char *cluster,
                                                  const char *name, struct lcb_json *doc);
/* Take ownership of doc ({"taskDefinition":..., "tags":...}); the ARN, family and revision are
 * read from it. Returns the entry, or NULL when doc lacks them (doc is then freed). A second
 * document for the same ARN is dropped and the first entry returned. */
struct lcb_config_taskdef *lcb_config_taskdef_add(struct lcb_config *c, struct lcb_json *doc);

/* Sort parameters by name, services by cluster then name, task definitions by family then
 * revision (what archives and diffs rely on). */
void lcb_config_sort(struct lcb_config *c);

const struct lcb_config_param *lcb_config_param_find(const struct lcb_config *c,
                                                     const char *name);
const struct lcb_config_service *lcb_config_service_find(const struct lcb_config *c,
                                                         const char *cluster, const char *name);
/* By ARN, or by "family:revision". */
const struct lcb_config_taskdef *lcb_config_taskdef_find(const struct lcb_config *c,
                                                         const char *ref);
/* The task definition a service runs (its taskDefinition ARN), or NULL when not held. */
const struct lcb_config_taskdef *lcb_config_service_taskdef(const struct lcb_config *c,
                                                            const struct lcb_config_service *s);

/* Pure. The family of a task definition ARN or "family:rev" into out. */
void lcb_config_family_of(const char *ref, char *out, size_t size);
/* Pure. Does name lie under path ("/a/b/" and "/a/b" both hold "/a/b/c"; "/" holds all)? */
int lcb_config_under(const char *name, const char *path);
/* The strings of l as a JSON array (caller owns it). */
struct lcb_json *lcb_config_strlist_json(const struct lcb_strlist *l);

/* ---- parameters.json ---- */

/* The parameters as parameters.json text (a JSON array, pretty, sorted as held), each
 * SecureString value encrypted under key for its name (key must be 32 bytes when there is one).
 * Returns 0, or -1 (envelope errors). */
int lcb_config_params_json(struct lcb_buf *out, const struct lcb_config *c,
                           const struct lcb_secret *key, struct lcb_err *err);
/* Parse parameters.json text into c (appended), decrypting SecureString values with key (its
 * check value, when known, in key_check). key may be NULL when no value is encrypted.
 * Returns 0, or -1: LCB_ECORRUPT naming the element ("parameters.json: [3].Type: not a string"),
 * a GCM failure (the value was altered), LCB_EAUTH (key_check is not key's: wrong key),
 * LCB_ECONFIG (an encrypted value and no key). */
int lcb_config_params_parse(struct lcb_config *c, const char *text, size_t len,
                            const struct lcb_secret *key, const char *key_check,
                            struct lcb_err *err);

/* ---- archives ---- */

/* Add every entry of c to an archive being written (parameters.json when c holds paths or
 * parameters, one file per service and per task definition). The caller finishes the writer
 * with the manifest. Returns 0, or -1 (the writer's errors, envelope errors). */
int lcb_config_archive_add(struct lcb_archive_writer *w, const struct lcb_config *c,
                           const struct lcb_secret *key, struct lcb_err *err);
/* Record counts (ssm-parameters, ecs-services, ecs-task-definitions) and the paths and
 * clusters (extra.ssm_paths, extra.ecs_clusters) in m. */
void lcb_config_manifest_fill(struct lcb_manifest *m, const struct lcb_config *c);

/* An archive read and verified in memory: its manifest and its entries' bytes. */
struct lcb_config_archive {
    struct lcb_manifest manifest;
    struct lcb_archive_totals totals;
    char **names;
    struct lcb_buf *data;
    size_t n;
};

void lcb_config_archive_init(struct lcb_config_archive *a);
void lcb_config_archive_release(struct lcb_config_archive *a);
/* Read a whole archive from source and verify it (archive.h: entries against the manifest,
 * zstd checksums, whole-object SHA-256) before anything is kept. Returns 0, or -1 (LCB_ECORRUPT
 * naming what failed; the source's errors). */
int lcb_config_archive_read(struct lcb_config_archive *a, lcb_archive_source_fn source, void *ud,
                            struct lcb_err *err);
/* Bytes of an entry, or NULL. */
const struct lcb_buf *lcb_config_archive_entry(const struct lcb_config_archive *a,
                                               const char *name);
/* Turn a verified archive into c: parameters (decrypted with key; see params_parse), services and
 * task definitions, paths and clusters from the manifest. Returns 0, or -1 (as params_parse;
 * LCB_ECORRUPT for an entry that is not what its name says). */
int lcb_config_archive_load(struct lcb_config *c, const struct lcb_config_archive *a,
                            const struct lcb_secret *key, const char *key_check,
                            struct lcb_err *err);

/* A source over memory, for archives fetched whole. */
struct lcb_config_mem_source {
    const char *data;
    size_t len, pos;
};
int lcb_config_mem_source(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err);

/* ---- live state (live.c) ---- */

/* Every parameter under path (recursive, all pages, decrypted), its metadata from
 * DescribeParameters and its tags, appended to c; path is added to c->paths. Returns 0, or -1
 * (ssm.h's codes). */
int lcb_config_fetch_params(struct lcb_config *c, struct lcb_aws *aws, const char *path,
                            struct lcb_err *err);
/* Every service of cluster (ListServices, DescribeServices with tags) and the task definition
 * revision each runs (DescribeTaskDefinition with tags), appended to c; cluster is added to
 * c->clusters. Returns 0, or -1 (ecs.h's codes). */
int lcb_config_fetch_services(struct lcb_config *c, struct lcb_aws *aws, const char *cluster,
                              struct lcb_err *err);

#endif
