/*
 * backup.h - one config backup from end to end, and getting one back: what `lcbackup backup
 * config` (and a scheduled run) does, and what diff and restore read.
 *
 * A backup: a catalog row (kind config, status running) gives the id; the parameters under each
 * path and the services of each cluster are read (config.h); SecureString values are encrypted
 * under a fresh KMS data key (or a key file); the archive is written in memory (config archives
 * are small) and put to s3://<bucket>/<prefix>/<env>/config/<target>/<id>.tar.zst with
 * If-None-Match: * (never overwritten), SSE-KMS and Object Lock as the policy says; the sidecar
 * <key>.manifest.json (backup_id, kind, env, target, taken_at, location, sha256, size at the
 * top level, as lib/jobs/jobs.h asks, and the manifest) follows; the row becomes completed
 * with location, sha256, size, item count and manifest. On failure the row is marked failed and an archive already put is deleted.
 */
#ifndef LCB_CONFIG_BACKUP_H
#define LCB_CONFIG_BACKUP_H

#include <stdint.h>

#include "../catalog/catalog.h"
#include "../core/err.h"
#include "../core/opt.h"
#include "config.h"

struct lcb_aws;
struct lcb_kv_pair;

struct lcb_config_backup_opts {
    const char *env;
    const char *target;          /* the policy target's name ("config") */
    const char *policy;          /* the policy file, for the catalog */
    const struct lcb_strlist *paths;
    const struct lcb_strlist *clusters;
    /* Secrets Manager (secrets.h), borrowed from the target: name prefixes and tags */
    char *const *secret_prefixes;
    size_t nsecret_prefixes;
    const struct lcb_kv_pair *secret_tags;
    size_t nsecret_tags;
    const char *bucket;
    const char *prefix;          /* "lcbackup" */
    const char *kms_key;         /* the data key's KMS key, and SSE-KMS; NULL: none */
    const char *key_file;        /* a 32-byte key file instead of a KMS data key; NULL: none */
    int64_t object_lock;         /* seconds; 0: none */
};

struct lcb_config_backup_result {
    char id[64];
    char location[1200];
    char sha256[65];
    uint64_t size;
    size_t params, secure, services, taskdefs, secrets;
};

/* Fill o from policy p (bucket, prefix, kms_key, object_lock, env unless env is given) and its
 * config target t (name, ssm_paths, ecs_clusters; t may be NULL). o borrows from p and t, and
 * keeps the lists in paths and clusters (caller-owned, filled here when empty). When neither
 * the target nor the caller gives a path, "/legocity/<env>/" is used. */
struct lcb_policy;
struct lcb_target;
void lcb_config_backup_opts_from(struct lcb_config_backup_opts *o, const struct lcb_policy *p,
                                 const struct lcb_target *t, const char *env,
                                 struct lcb_strlist *paths, struct lcb_strlist *clusters);
/* The calls a backup with o makes, one per line (what --dry-run prints). */
void lcb_config_backup_calls(struct lcb_buf *out, const struct lcb_config_backup_opts *o);

/* Take one config backup (see above). Returns 0, or -1: LCB_ECONFIG (SecureStrings and neither a
 * KMS key nor a key file), the AWS clients' codes, the catalog's. */
int lcb_config_backup(struct lcb_config_backup_result *res, struct lcb_catalog *cat,
                      struct lcb_aws *aws, const struct lcb_config_backup_opts *o,
                      struct lcb_err *err);

/* Fetch the archive of a completed config backup, verify it (archive.h, and its whole-object
 * SHA-256 against the catalog's), get its key (key.h; key_file may be NULL), and load it into c.
 * Nothing is written anywhere. Returns 0, or -1: LCB_EUSAGE (not a config backup),
 * LCB_ENOTFOUND (not completed, or the object is gone), LCB_ECORRUPT (damaged or tampered
 * archive, GCM failure), LCB_EAUTH (wrong key), LCB_ECONFIG (a key file is needed). */
int lcb_config_load_backup(struct lcb_config *c, struct lcb_aws *aws, const struct lcb_backup *b,
                           const char *key_file, struct lcb_err *err);

/* Pure. Split "s3://bucket/key" into bucket and key (both into their buffers). Returns 0 or -1
 * (LCB_ECORRUPT). */
int lcb_config_split_location(struct lcb_buf *bucket, struct lcb_buf *key, const char *location,
                              struct lcb_err *err);

#endif
