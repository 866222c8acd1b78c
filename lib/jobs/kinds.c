/*
 * kinds.c - the table of kinds: how `run` takes a backup of a target and how `expire` deletes one
 * (jobs.h has the note for engineers adding a kind). A NULL function is a kind not in this build.
 */
#include <stddef.h>

#include "../snapshot/snapshot.h" /* rds, ebs */
#include "jobs.h"

static const struct lcb_job_kind builtin[LCB_KIND_COUNT] = {
    /* kind             backup one target        delete one backup */
    { LCB_KIND_RDS,    lcb_job_backup_rds,      lcb_job_delete_rds },
    { LCB_KIND_EBS,    lcb_job_backup_ebs,      lcb_job_delete_ebs },
    { LCB_KIND_BROKER, lcb_job_backup_broker,   lcb_job_delete_archive },
    { LCB_KIND_CONFIG, lcb_job_backup_config,   lcb_job_delete_archive },
};

static const struct lcb_job_kind *table = builtin;

const struct lcb_job_kind *
lcb_job_kind(enum lcb_kind k)
{
    return &table[k];
}

void
lcb_job_kinds_override(const struct lcb_job_kind *t)
{
    table = t ? t : builtin;
}
