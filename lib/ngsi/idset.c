/* idset.c - see idset.h. */
#include "idset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/mem.h"
#include "../core/tmp.h"
#include "../ext/crypto.h"
#include "../ext/db.h"

#define MIN_CAP 64
#define FIRST_CAP 1024
#define BLOOM_K 4

struct lcb_idset_disk {
    struct lcb_db *db;
    struct lcb_stmt *ins, *sel;
    unsigned char *bloom;
    uint64_t bloom_mask; /* bits - 1, a power of two */
    char *dir;
};

static size_t
budget_slots(size_t bytes)
{
    size_t cap = MIN_CAP;

    while (cap * 2 * 16 <= bytes)
        cap *= 2;
    return cap;
}

void
lcb_idset_init(struct lcb_idset *s)
{
    const char *env = getenv("LCBACKUP_ID_INDEX_BYTES");
    char *end;
    unsigned long long v = env ? strtoull(env, &end, 10) : 0;

    memset(s, 0, sizeof(*s));
    s->max_cap = budget_slots(LCB_IDSET_BUDGET);
    if (v > 0 && *end == '\0')
        lcb_idset_set_budget(s, (size_t)v);
}

void
lcb_idset_set_budget(struct lcb_idset *s, size_t bytes)
{
    s->max_cap = budget_slots(bytes);
}

static void
disk_free(struct lcb_idset_disk *d)
{
    if (!d)
        return;
    lcb_stmt_free(d->ins);
    lcb_stmt_free(d->sel);
    lcb_db_close(d->db);
    free(d->bloom);
    free(d->dir);
    free(d);
}

void
lcb_idset_release(struct lcb_idset *s)
{
    free(s->slots);
    disk_free(s->disk);
    memset(s, 0, sizeof(*s));
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
    size_t cap = s->cap ? s->cap * 2 : (FIRST_CAP < s->max_cap ? FIRST_CAP : s->max_cap), i, j;
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

static int
table_full(const struct lcb_idset *s, size_t n)
{
    return (n + 1) * 4 >= s->cap * 3;
}

void
lcb_idset_reserve(struct lcb_idset *s, size_t n)
{
    while (table_full(s, n) && s->cap < s->max_cap)
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

/* The k-th bit of a pair (double hashing over the two halves; the top bits of the sum). */
static uint64_t
bloom_bit(const struct lcb_idset_disk *d, const uint64_t *pair, unsigned k)
{
    return (pair[1] + (uint64_t)k * (pair[0] | 1)) & d->bloom_mask;
}

static void
bloom_add(struct lcb_idset_disk *d, const uint64_t *pair)
{
    unsigned k;

    for (k = 0; k < BLOOM_K; k++) {
        uint64_t bit = bloom_bit(d, pair, k);
        d->bloom[bit >> 3] |= (unsigned char)(1u << (bit & 7));
    }
}

static int
bloom_maybe(const struct lcb_idset_disk *d, const uint64_t *pair)
{
    unsigned k;

    for (k = 0; k < BLOOM_K; k++) {
        uint64_t bit = bloom_bit(d, pair, k);
        if (!(d->bloom[bit >> 3] & (1u << (bit & 7))))
            return 0;
    }
    return 1;
}

/* The on-disk index: journal and syncs off (it dies with the process anyway), a 1 MiB cache. */
static int
disk_open(struct lcb_idset *s, struct lcb_err *err)
{
    struct lcb_idset_disk *d = lcb_xcalloc(1, sizeof(*d));
    size_t bloom_bytes = s->max_cap * 16 / 4;

    d->dir = lcb_xstrdup(lcb_tmp_dir());
    if (lcb_db_open_temp(&d->db, d->dir, err) < 0 ||
        lcb_db_exec(d->db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                    "PRAGMA cache_size = -1024;"
                    "CREATE TABLE ids(h BLOB PRIMARY KEY) WITHOUT ROWID", err) < 0 ||
        lcb_db_prepare(&d->ins, d->db, "INSERT INTO ids VALUES (?)", err) < 0 ||
        lcb_db_prepare(&d->sel, d->db, "SELECT 1 FROM ids WHERE h = ?", err) < 0) {
        disk_free(d);
        return -1;
    }
    d->bloom = lcb_xcalloc(bloom_bytes, 1);
    d->bloom_mask = (uint64_t)bloom_bytes * 8 - 1;
    s->disk = d;
    return 0;
}

/* 1 when the pair is on disk, 0 when not, -1 on error. */
static int
disk_has(struct lcb_idset *s, const uint64_t *pair, struct lcb_err *err)
{
    struct lcb_idset_disk *d = s->disk;
    int rc;

    if (!d || !bloom_maybe(d, pair))
        return 0;
    s->disk_reads++;
    lcb_stmt_reset(d->sel);
    lcb_stmt_blob(d->sel, 1, pair, 16);
    if ((rc = lcb_stmt_step(d->sel, err)) < 0)
        return lcb_wrap(err, "look up an id in the temporary index in %s", d->dir);
    return rc;
}

static void
swap_pairs(uint64_t *p, size_t a, size_t b)
{
    uint64_t t0 = p[2 * a], t1 = p[2 * a + 1];

    p[2 * a] = p[2 * b];
    p[2 * a + 1] = p[2 * b + 1];
    p[2 * b] = t0;
    p[2 * b + 1] = t1;
}

/* A 64-bit half read as the big-endian number its bytes make (a bswap on x86). */
static uint64_t
be64(const uint64_t *h)
{
    const unsigned char *b = (const unsigned char *)h;

    return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
           (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
           (uint64_t)b[6] << 8 | (uint64_t)b[7];
}

/* Pair a before pair b in the order SQLite keeps blobs (memcmp of the 16 bytes). */
static int
pair_less(const uint64_t *a, const uint64_t *b)
{
    uint64_t a0 = be64(a), b0 = be64(b);

    return a0 < b0 || (a0 == b0 && be64(a + 1) < be64(b + 1));
}

/* Sift pair i down the max-heap p[0..n). */
static void
sift_down(uint64_t *p, size_t i, size_t n)
{
    size_t c;

    while ((c = 2 * i + 1) < n) {
        if (c + 1 < n && pair_less(p + 2 * c, p + 2 * c + 2))
            c++;
        if (!pair_less(p + 2 * i, p + 2 * c))
            return;
        swap_pairs(p, i, c);
        i = c;
    }
}

/* Heapsort: in place, where qsort (a merge sort in glibc) would borrow a copy of the table. */
static void
sort_pairs(uint64_t *p, size_t n)
{
    size_t i;

    for (i = n / 2; i-- > 0;)
        sift_down(p, i, n);
    for (i = n; i-- > 1;) {
        swap_pairs(p, 0, i);
        sift_down(p, 0, i);
    }
}

/* Move the table's pairs to its front, in the order SQLite keeps blobs; returns how many. */
static size_t
compact_sorted(struct lcb_idset *s)
{
    size_t i, k = 0;

    for (i = 0; i < s->cap; i++)
        if (s->slots[2 * i] || s->slots[2 * i + 1]) {
            s->slots[2 * k] = s->slots[2 * i];
            s->slots[2 * k + 1] = s->slots[2 * i + 1];
            k++;
        }
    sort_pairs(s->slots, k);
    return k;
}

static int
insert_sorted(struct lcb_idset_disk *d, const uint64_t *pairs, size_t k, struct lcb_err *err)
{
    size_t i;

    if (lcb_db_exec(d->db, "BEGIN", err) < 0)
        return -1;
    for (i = 0; i < k; i++) {
        lcb_stmt_reset(d->ins);
        lcb_stmt_blob(d->ins, 1, pairs + 2 * i, 16);
        if (lcb_stmt_step(d->ins, err) < 0)
            return -1; /* the set is broken: no need to roll back */
        bloom_add(d, pairs + 2 * i);
    }
    return lcb_db_exec(d->db, "COMMIT", err);
}

static void
log_first_spill(const struct lcb_idset *s)
{
    lcb_logf(LCB_INFO, "ngsi.ids.spill",
             LCB_FIELDS(LCB_KV_I("ids", s->n), LCB_KV_S("dir", s->disk->dir)),
             "%zu ids seen: the id index continues in a temporary file in %s (slower)", s->n,
             s->disk->dir);
}

/* Move every id of the table to disk and empty the table. */
static int
spill(struct lcb_idset *s, struct lcb_err *err)
{
    size_t k;

    if (!s->disk && disk_open(s, err) < 0) {
        s->broken = 1;
        return lcb_wrap(err, "move %zu ids of the id index to disk", s->used);
    }
    if (s->spills == 0)
        log_first_spill(s);
    k = compact_sorted(s);
    if (insert_sorted(s->disk, s->slots, k, err) < 0) {
        s->broken = 1;
        return lcb_wrap(err, "move %zu ids to the temporary index in %s", k, s->disk->dir);
    }
    memset(s->slots, 0, s->cap * 2 * sizeof(uint64_t));
    s->used = 0;
    s->spills++;
    return 0;
}

/* Make room for one more id in the table: grow it, or spill it when at its budget. */
static int
make_room(struct lcb_idset *s, struct lcb_err *err)
{
    if (!table_full(s, s->used))
        return 0;
    if (s->cap < s->max_cap) {
        grow(s);
        return 0;
    }
    return spill(s, err);
}

/* 1 when the pair is in the set, 0 when not, -1 on error. */
static int
lookup(struct lcb_idset *s, const uint64_t *pair, struct lcb_err *err)
{
    size_t i;

    if (s->broken)
        return lcb_err_set(err, LCB_EIO, "the id index failed to move to disk before");
    if (s->cap) {
        i = find_slot(s->slots, s->cap, pair[0], pair[1]);
        if (s->slots[2 * i] || s->slots[2 * i + 1])
            return 1;
    }
    return disk_has(s, pair, err);
}

int
lcb_idset_add(struct lcb_idset *s, const char *id, struct lcb_err *err)
{
    unsigned char sha[LCB_SHA256_LEN];
    uint64_t pair[2];
    size_t i;
    int rc;

    hash_id(id, &pair[0], &pair[1], sha);
    if ((rc = lookup(s, pair, err)) != 0)
        return rc < 0 ? -1 : 0;
    if (make_room(s, err) < 0)
        return -1;
    i = find_slot(s->slots, s->cap, pair[0], pair[1]);
    s->slots[2 * i] = pair[0];
    s->slots[2 * i + 1] = pair[1];
    s->used++;
    s->n++;
    digest_add(s->digest, sha);
    return 1;
}

int
lcb_idset_has(struct lcb_idset *s, const char *id, struct lcb_err *err)
{
    unsigned char sha[LCB_SHA256_LEN];
    uint64_t pair[2];

    hash_id(id, &pair[0], &pair[1], sha);
    return lookup(s, pair, err);
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
