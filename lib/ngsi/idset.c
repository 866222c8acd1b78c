/* idset.c - see idset.h. */
#include "idset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "../ext/crypto.h"

void
lcb_idset_init(struct lcb_idset *s)
{
    memset(s, 0, sizeof(*s));
}

void
lcb_idset_release(struct lcb_idset *s)
{
    free(s->slots);
    lcb_idset_init(s);
}

static void
hash_id(const char *id, uint64_t *h1, uint64_t *h2, unsigned char sha[LCB_SHA256_LEN])
{
    lcb_sha256(id, strlen(id), sha);
    memcpy(h1, sha, 8);
    memcpy(h2, sha + 8, 8);
    if (*h1 == 0 && *h2 == 0)
        *h2 = 1; /* (0, 0) marks an empty slot */
}

static size_t
find_slot(const uint64_t *slots, size_t cap, uint64_t h1, uint64_t h2)
{
    size_t i = (size_t)(h1 ^ (h2 >> 7)) & (cap - 1);

    while (slots[2 * i] || slots[2 * i + 1]) {
        if (slots[2 * i] == h1 && slots[2 * i + 1] == h2)
            return i;
        i = (i + 1) & (cap - 1);
    }
    return i;
}

static void
grow(struct lcb_idset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024, i, j;
    uint64_t *slots = lcb_xcalloc(cap * 2, sizeof(uint64_t));

    for (i = 0; i < s->cap; i++) {
        if (!s->slots[2 * i] && !s->slots[2 * i + 1])
            continue;
        j = find_slot(slots, cap, s->slots[2 * i], s->slots[2 * i + 1]);
        slots[2 * j] = s->slots[2 * i];
        slots[2 * j + 1] = s->slots[2 * i + 1];
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
}

void
lcb_idset_reserve(struct lcb_idset *s, size_t n)
{
    while ((n + 1) * 4 >= s->cap * 3)
        grow(s);
}

/* digest += sha (as a 256-bit big-endian number, modulo 2^256) */
static void
digest_add(unsigned char digest[32], const unsigned char sha[32])
{
    unsigned carry = 0;
    int i;

    for (i = 31; i >= 0; i--) {
        unsigned v = (unsigned)digest[i] + sha[i] + carry;
        digest[i] = (unsigned char)v;
        carry = v >> 8;
    }
}

int
lcb_idset_add(struct lcb_idset *s, const char *id)
{
    unsigned char sha[LCB_SHA256_LEN];
    uint64_t h1, h2;
    size_t i;

    if ((s->n + 1) * 4 >= s->cap * 3)
        grow(s);
    hash_id(id, &h1, &h2, sha);
    i = find_slot(s->slots, s->cap, h1, h2);
    if (s->slots[2 * i] || s->slots[2 * i + 1])
        return 0;
    s->slots[2 * i] = h1;
    s->slots[2 * i + 1] = h2;
    s->n++;
    digest_add(s->digest, sha);
    return 1;
}

int
lcb_idset_has(const struct lcb_idset *s, const char *id)
{
    unsigned char sha[LCB_SHA256_LEN];
    uint64_t h1, h2;
    size_t i;

    if (!s->cap)
        return 0;
    hash_id(id, &h1, &h2, sha);
    i = find_slot(s->slots, s->cap, h1, h2);
    return s->slots[2 * i] || s->slots[2 * i + 1];
}

char *
lcb_idset_digest_hex(const struct lcb_idset *s, char *out)
{
    int i;

    for (i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", s->digest[i]);
    out[64] = '\0';
    return out;
}
