/*
 * component.h - one drill of one policy target: restore its recovery point into throwaway
 * resources, check what came back, and register everything made with the teardown registry the
 * moment it exists (the command runs it, timed as the teardown phase, whatever happened).
 *
 *   rds     RestoreDBInstanceFromDBSnapshot to lcb-drill-<instance>-<ts> (drill class, subnet
 *           group, security groups, zone; never publicly accessible; tagged with the drill id and
 *           an expiry), wait until available, connect with the credentials in db_url_param
 *           (never logged), then: connectivity, schema digest and row counts (within the
 *           tolerance) and latest payload migration against the backup's fingerprint, amcheck
 *           (bt_index_check on every btree index of every user table, the extension created in
 *           the throwaway copy), the policy's SQL checks, and the CMS->broker cross-check (ids
 *           from cms_entity_query exist in the broker archive nearest in time).
 *   ebs     CreateVolume from each snapshot in the drill zone, wait until available, check it
 *           (state, size, encryption, source snapshot), delete it.
 *   broker  restore the (verified) archive into a scratch tenant or the drill broker, compare
 *           counts and normalised entities with the archive, delete the scratch entities.
 *   config  fetch, verify and decrypt the archive (the key and permissions work), validate that
 *           each task definition would register, report drift against what is live.
 *
 * Each function moves the component through its phases (the caller has begun the request phase)
 * and adds checks; a check that fails is not an error. It returns -1 only when the drill of this
 * component could not go on (the restore was refused, a wait timed out, a signal arrived), with
 * err saying why. With dc->dry_run set nothing is created: the calls that would be made are
 * printed there.
 */
#ifndef LCB_DRILL_COMPONENT_H
#define LCB_DRILL_COMPONENT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../core/err.h"
#include "../core/opt.h"
#include "drill.h"
#include "teardown.h"

struct lcb_aws;
struct lcb_backup;
struct lcb_catalog;
struct lcb_idset;
struct lcb_policy;
struct lcb_s3_source;
struct lcb_target;

struct lcb_drill_ctx {
    struct lcb_aws *aws;
    struct lcb_catalog *cat;
    const struct lcb_policy *policy;
    struct lcb_drill_run *run;
    const char *env;
    time_t expires;  /* the expiry tag of everything a drill makes */
    int64_t timeout; /* seconds any one wait may take (policy drill.timeout) */
    FILE *dry_run;   /* set: print the calls, create nothing */
};

int lcb_drill_rds(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
                  const struct lcb_backup *b, struct lcb_teardown *td, struct lcb_err *err);
int lcb_drill_ebs(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
                  const struct lcb_backup *b, struct lcb_teardown *td, struct lcb_err *err);
/* src: the archive, opened and verified completely by the caller (cmd: it is part of the request
 * phase). */
int lcb_drill_broker(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
                     const struct lcb_backup *b, struct lcb_s3_source *src, struct lcb_teardown *td,
                     struct lcb_err *err);
int lcb_drill_config(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c, const struct lcb_target *t,
                     const struct lcb_backup *b, struct lcb_teardown *td, struct lcb_err *err);

/* Every entity id of a broker archive (read from src from its first byte): into set, and into
 * list when it is not NULL. The archive is verified on the way (a damaged one fails with
 * LCB_ECORRUPT). */
int lcb_drill_archive_ids(struct lcb_idset *set, struct lcb_strlist *list,
                          struct lcb_s3_source *src, struct lcb_err *err);

/* Pure. Would this RegisterTaskDefinition request (lcb_ecs_register_request's output) be
 * accepted? Each problem found is appended to problems as one line (the rules AWS documents:
 * family and container names, images, unique names, port mappings, tags, repository credentials,
 * network mode, cpu/memory units, Fargate sizes and its awsvpc and execution-role needs). Returns
 * the number of problems. */
int lcb_drill_taskdef_problems(const struct lcb_json *req, struct lcb_buf *problems);

#endif
