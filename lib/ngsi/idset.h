/*
 * idset.h - a set of entity ids kept as 128-bit hashes (16 bytes an id, whatever the id's length),
 * in bounded memory whatever the number of ids. Two ids colliding on 128 bits is not a practical
 * concern (about 1e-27 for a million ids).
 *
 * The ids live in an in-memory hash table of at most a budget of bytes (LCB_IDSET_BUDGET by
 * default; the LCBACKUP_ID_INDEX_BYTES environment variable sets it, for tests). When the table
 * is full, all its ids move to a temporary on-disk index (SQLite, in $TMPDIR or /tmp: a file of
 * mode 0600, unlinked as soon as it is created) and the table starts empty again. A Bloom filter of
 * a quarter of the budget over the spilled ids answers most lookups of new ids without the disk.
 * Memory is then at most the budget, the filter and SQLite's 1 MiB cache. The first spill of a set
 * logs "ngsi.ids.spill" at info level.
 *
 * It also computes the manifest's id-set digest: the sum modulo 2^256 of SHA-256(id) over the
 * distinct ids, which does not depend on the order in which they were seen.
 */
#ifndef LCB_NGSI_IDSET_H
#define LCB_NGSI_IDSET_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

/* 2^19 slot pairs: 393,215 ids, then a spill. A spill costs ~1 CPU s per million ids already on
 * disk (SQLite inserts), so the budget keeps brokers of a few hundred thousand entities in memory. */
#define LCB_IDSET_BUDGET (8u << 20)

struct lcb_idset_disk;

struct lcb_idset {
    uint64_t *slots;  /* pairs (h1, h2); (0, 0) is empty */
    size_t cap;       /* slot pairs, a power of two */
    size_t max_cap;   /* the budget in slot pairs */
    size_t used;      /* ids in the table; the others are on disk */
    size_t n;         /* distinct ids */
    size_t spills;    /* times the table moved to disk */
    size_t disk_reads; /* lookups that the Bloom filter sent to the disk */
    int broken;       /* a spill failed: the set may have lost ids */
    unsigned char digest[32];
    struct lcb_idset_disk *disk; /* NULL until the first spill */
};

void lcb_idset_init(struct lcb_idset *s);
void lcb_idset_release(struct lcb_idset *s);
/* Set the memory table's budget in bytes (rounded down to a power of two of 16-byte slots, at
 * least 64 slots); call it on an empty set, before reserve or add. */
void lcb_idset_set_budget(struct lcb_idset *s, size_t bytes);
/* Make room for n ids at once, within the budget (no rehash, and no old and new table side by
 * side, while they come in): for a set whose size is known beforehand. */
void lcb_idset_reserve(struct lcb_idset *s, size_t n);
/* Add id; returns 1 when it is new, 0 when it was already there, -1 (LCB_EIO: the temporary
 * directory is unusable or full; the message names it) when a spill or a disk lookup failed. After
 * a failed spill the set may have lost ids: every later add and has fails, only release is left. */
int lcb_idset_add(struct lcb_idset *s, const char *id, struct lcb_err *err);
/* 1 when id is in the set, 0 when not, -1 (LCB_EIO) when the disk index failed (not const: a
 * lookup may read the disk index). */
int lcb_idset_has(struct lcb_idset *s, const char *id, struct lcb_err *err);
/* The digest as 64 hex characters into out (65 bytes). */
char *lcb_idset_digest_hex(const struct lcb_idset *s, char *out);

#endif
