/*
 * idset.h - a set of entity ids kept as 128-bit hashes (16 bytes an id, whatever the id's length),
 * so that deduplicating a broker of a million entities costs ~32 MiB at most instead of the ids'
 * text. Two ids colliding on 128 bits is not a practical concern (about 1e-27 for a million ids).
 *
 * It also computes the manifest's id-set digest: the sum modulo 2^256 of SHA-256(id) over the
 * distinct ids, which does not depend on the order in which they were seen.
 */
#ifndef LCB_NGSI_IDSET_H
#define LCB_NGSI_IDSET_H

#include <stddef.h>
#include <stdint.h>

struct lcb_idset {
    uint64_t *slots; /* pairs (h1, h2); (0, 0) is empty */
    size_t cap;      /* slot pairs, a power of two */
    size_t n;
    unsigned char digest[32];
};

void lcb_idset_init(struct lcb_idset *s);
void lcb_idset_release(struct lcb_idset *s);
/* Make room for n ids at once (no rehash, and no old and new table side by side, while they come
 * in): for a set whose size is known beforehand. */
void lcb_idset_reserve(struct lcb_idset *s, size_t n);
/* Add id; returns 1 when it is new, 0 when it was already there. */
int lcb_idset_add(struct lcb_idset *s, const char *id);
int lcb_idset_has(const struct lcb_idset *s, const char *id);
/* The digest as 64 hex characters into out (65 bytes). */
char *lcb_idset_digest_hex(const struct lcb_idset *s, char *out);

#endif
