/*
 * cloud.h - the AWS calls a drill needs beyond the typed clients (lib/aws/rds.h, ec2.h): listing
 * DB instances, deleting a throwaway DB instance or volume and waiting until it is gone, and the
 * sweep of `lcb-drill-*` resources left behind by a drill that could not tear down (killed, host
 * lost) once their expiry has passed. The deletes themselves are the typed clients'.
 *
 * Removal is patient and idempotent: an instance still `creating` (or backing up) cannot be
 * deleted yet, so it is polled until it can; "not found" at any point means already gone.
 *
 * Ownership: lists are caller-owned (free with the _free functions). Errors: the clients'
 * (LCB_ETEMP, LCB_EAUTH, LCB_EREFUSED) and LCB_ETEMP "still <state> after <duration>" on timeout.
 */
#ifndef LCB_DRILL_CLOUD_H
#define LCB_DRILL_CLOUD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../aws/ec2.h"
#include "../aws/rds.h"
#include "../core/err.h"
#include "drill.h"

struct lcb_catalog;

/* DescribeDBInstances, every page; only instances whose identifier starts with prefix (NULL: all)
 * are kept. */
int lcb_drill_rds_list(struct lcb_rds_instance **out, size_t *n, struct lcb_rds *c,
                       const char *prefix, struct lcb_err *err);
void lcb_drill_rds_list_free(struct lcb_rds_instance *l, size_t n);

/* Delete id (lcb_rds_instance_delete: no final snapshot) as soon as its state allows, and wait
 * until it is gone (at most timeout seconds). A dry-run client only prints the delete. */
int lcb_drill_rds_remove(struct lcb_rds *c, const char *id, int64_t timeout, struct lcb_err *err);

/* Delete the volume (lcb_ec2_volume_delete) as soon as it can be (not while creating) and wait
 * until it is gone. A dry-run client only prints the delete. */
int lcb_drill_ec2_volume_remove(struct lcb_ec2 *c, const char *id, int64_t timeout,
                                struct lcb_err *err);

/* The sweep: every DB instance named lcb-drill-* and every volume tagged lcbackup:drill-id in
 * the clients' regions whose expiry tag has passed, or whose drill this catalog knows to be over
 * (lcb_drill_sweep_due), is removed (waited for until gone) and recorded in run (swept). One that
 * cannot be deleted yet (still being created) is recorded as not removed and left to a later
 * sweep: a sweep never holds a drill up waiting for it. cat may be NULL. Resources not yet due are
 * left alone (logged at debug). Returns the number that could not be removed, or -1 when listing
 * failed. */
int lcb_drill_sweep(struct lcb_drill_run *run, struct lcb_rds *rds, struct lcb_ec2 *ec2,
                    struct lcb_catalog *cat, time_t now, int64_t timeout, struct lcb_err *err);

#endif
