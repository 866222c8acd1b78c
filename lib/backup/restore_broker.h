/*
 * restore_broker.h - put an archive's entities back into a broker, and compare an archive with a
 * live broker entity by entity in the normalised form (lib/ngsi normalize).
 *
 * A restore reads the archive twice: once to verify it completely (nothing is written from an
 * archive that does not verify), once to write. Archives are read from S3 with ranged GETs.
 */
#ifndef LCB_BACKUP_RESTORE_BROKER_H
#define LCB_BACKUP_RESTORE_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../archive/manifest.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/opt.h"
#include "../ngsi/ngsi.h"

struct lcb_aws;
struct lcb_s3_source;

struct lcb_broker_restore {
    struct lcb_ngsi *ngsi;      /* the target broker (and tenant) */
    enum lcb_ngsi_mode mode;
    const struct lcb_strlist *types; /* only these (NULL or empty: all) */
    int batch;                  /* entities per batch request (default 100) */
    size_t batch_bytes;         /* default 900 KiB */
};

struct lcb_broker_restore_stats {
    long long entities;  /* entities in the archive (after the type filter) */
    long long written;
    long long failed;
    struct lcb_buf failures;    /* "id: reason" lines */
    struct lcb_manifest per_type; /* only its counts: entities per type, one a type */
};

struct lcb_broker_compare_stats {
    long long compared;
    long long missing;   /* in the archive, not in the broker */
    long long different;
    struct lcb_buf report; /* "missing id" / "different id: ..." lines (the first 100) */
};

void lcb_broker_restore_stats_release(struct lcb_broker_restore_stats *s);
void lcb_broker_compare_stats_release(struct lcb_broker_compare_stats *s);

/* Name the entity types of types as the backup does (its manifest's counts, JSON text): a type
 * named in full stays; a short name ("Streetlight") becomes the one archived type whose last
 * segment (after '/', '#' or ':') it is. Returns 0, or -1 (LCB_EUSAGE: a type the backup does not
 * hold, or a short name that fits several, the error listing what the backup holds; LCB_ECORRUPT:
 * an unreadable manifest). */
int lcb_broker_resolve_types(struct lcb_strlist *types, const char *manifest, struct lcb_err *err);

/* Write the archive's entities (second pass: the caller verified it first). A dry run is the
 * same run with req->ngsi's writes only shown (lcb_ngsi_dry_run): the same batches, nothing
 * written. Returns 0 (check stats->failed), or -1 when the archive or the broker failed outright. */
int lcb_broker_restore_run(const struct lcb_broker_restore *req, struct lcb_s3_source *src,
                           struct lcb_broker_restore_stats *stats, struct lcb_err *err);
/* Compare every archived entity with the broker's (by id, in batches). Returns 0 (check the
 * stats), or -1. */
int lcb_broker_compare(struct lcb_ngsi *ngsi, const struct lcb_strlist *types,
                       struct lcb_s3_source *src, struct lcb_broker_compare_stats *stats,
                       struct lcb_err *err);

#endif
