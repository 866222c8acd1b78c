/*
 * rds_checks.h - the checks of an RDS drill, run against the restored throwaway instance:
 * connectivity (libpq, with the credentials from the policy's db_url_param, never logged), the
 * backup's fingerprint (schema digest, row counts within the policy's tolerance, latest payload
 * migration), amcheck on every btree index of every user table, the policy's SQL checks, and the
 * CMS->broker cross-check. Internal to lib/drill (rds.c).
 */
#ifndef LCB_DRILL_RDS_CHECKS_H
#define LCB_DRILL_RDS_CHECKS_H

#include "../aws/rds.h"
#include "component.h"

/* Add every check's result to c. Returns 0 (failed checks are results, not errors), or -1 when a
 * signal arrived. */
int lcb_drill_rds_checks(struct lcb_drill_ctx *dc, struct lcb_drill_comp *c,
                         const struct lcb_target *t, const struct lcb_backup *b,
                         const struct lcb_rds_instance *in, struct lcb_err *err);

#endif
