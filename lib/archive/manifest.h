/*
 * manifest.h - MANIFEST.json, the last entry of every lcbackup archive (docs/formats.md).
 *
 * It says what the archive holds and how to check it: format version, the lcbackup version that
 * wrote it, the kind ("broker", "config"), the source (a URL stripped of credentials, query and
 * fragment), tenant, @context, start and end times, counts per type and their total, the digest
 * of the id set, every other entry with its size, SHA-256 and (for JSON arrays) its item count,
 * discrepancies found while exporting, and free-form "extra" fields that belong to the kind.
 *
 * Ownership: struct lcb_manifest is caller-owned (_init/_release) and owns every string in it;
 * getters return borrowed pointers that live as long as the manifest. The archive writer fills
 * the entries; the caller fills the rest before lcb_archive_writer_finish().
 */
#ifndef LCB_ARCHIVE_MANIFEST_H
#define LCB_ARCHIVE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../ext/crypto.h"

#define LCB_MANIFEST_FORMAT 1
#define LCB_MANIFEST_NAME "MANIFEST.json"
#define LCB_MANIFEST_MAX (64u << 20) /* the most a reader accepts */
#define LCB_IDS_ALGORITHM "sha256-sum" /* sum mod 2^256 of SHA-256(id) over distinct ids */

struct lcb_json;

struct lcb_manifest_entry {
    char *name;
    uint64_t size;
    char sha256[LCB_SHA256_HEX]; /* lower-case hex */
    int64_t items;               /* elements of a top-level JSON array; -1: not counted */
};

struct lcb_manifest_count {
    char *type;
    uint64_t n;
};

struct lcb_manifest_discrepancy {
    char *what;   /* a short tag: "vanished", "unreconciled", "count-mismatch"... */
    char *id;     /* the entity or parameter concerned; may be NULL */
    char *detail; /* free text; may be NULL */
};

struct lcb_manifest {
    int format;              /* LCB_MANIFEST_FORMAT when built here */
    char *lcbackup;          /* the writer's version */
    char *kind;
    char *source;            /* without credentials: see lcb_manifest_set_source() */
    char *tenant;
    char *context;           /* the @context the entities were compacted with */
    time_t started, ended;   /* 0: unknown */
    struct lcb_manifest_count *counts;
    size_t ncounts, ccounts;
    uint64_t total;          /* the sum of counts (computed when building, checked when parsing) */
    char ids_digest[LCB_SHA256_HEX]; /* "" when not recorded */
    uint64_t ids_count;
    struct lcb_manifest_entry *entries;
    size_t nentries, centries;
    struct lcb_manifest_discrepancy *disc;
    size_t ndisc, cdisc;
    struct lcb_json *extra;  /* an object, or NULL */
    size_t *index;           /* entries sorted by name (built on demand) */
    size_t nindex;
};

/* An empty manifest of kind ("broker", "config"), format LCB_MANIFEST_FORMAT and this lcbackup's
 * version. */
void lcb_manifest_init(struct lcb_manifest *m, const char *kind);
void lcb_manifest_release(struct lcb_manifest *m);

/* Setters copy their argument (NULL clears). */
void lcb_manifest_set_tenant(struct lcb_manifest *m, const char *tenant);
void lcb_manifest_set_context(struct lcb_manifest *m, const char *context);
/* Keep url without userinfo ("user:pass@"), query and fragment, so that no credential can be
 * written to an archive: "https://u:p@h:1026/ngsi-ld?token=x" -> "https://h:1026/ngsi-ld". */
void lcb_manifest_set_source(struct lcb_manifest *m, const char *url);
/* The id set's digest (64 lower-case hex digits, as lcb_idset_digest_hex gives) and its size.
 * Returns 0, or -1 with LCB_EUSAGE when hex is not 64 hex digits. */
int lcb_manifest_set_ids(struct lcb_manifest *m, const char *hex, uint64_t count,
                         struct lcb_err *err);
/* Add n to the count of type (created at 0 on first use). */
void lcb_manifest_count_add(struct lcb_manifest *m, const char *type, uint64_t n);
/* The count of type, or -1 when absent. */
int64_t lcb_manifest_count_get(const struct lcb_manifest *m, const char *type);
/* Record a discrepancy (id and detail may be NULL). */
void lcb_manifest_discrepancy_add(struct lcb_manifest *m, const char *what, const char *id,
                                  const char *detail);
/* The "extra" object, created on first use; add members with json.h's lcb_json_add_*. */
struct lcb_json *lcb_manifest_extra(struct lcb_manifest *m);

/* Record an entry (the archive writer does this). Returns 0, or -1: LCB_EUSAGE (bad name, the
 * manifest's own name, bad hex, or a duplicate). */
int lcb_manifest_entry_add(struct lcb_manifest *m, const char *name, uint64_t size,
                           const char *sha256_hex, int64_t items, struct lcb_err *err);
/* The entry named name, or NULL (binary search over a sorted index, rebuilt after adds). */
const struct lcb_manifest_entry *lcb_manifest_entry_find(struct lcb_manifest *m, const char *name);

/* MANIFEST.json's text (pretty, with a final newline) appended to out. */
void lcb_manifest_write(const struct lcb_manifest *m, struct lcb_buf *out);
/* Parse and check a MANIFEST.json into m (initialised here; release it even on failure).
 * Returns 0, or -1 with LCB_ECORRUPT naming the field ("manifest: entries[3].sha256: not 64 hex
 * digits"; "manifest: format 2 is newer than this lcbackup reads (1): upgrade lcbackup"). */
int lcb_manifest_parse(struct lcb_manifest *m, const char *text, size_t len, struct lcb_err *err);

/* Percent-encode s as one safe entry-name component (for entities/<Type>/...): bytes outside
 * [A-Za-z0-9._-], and a leading '.', become %XX, so "https://x/y#Z" -> "https%3A%2F%2Fx%2Fy%23Z".
 * Appended to out. */
void lcb_manifest_name_encode(struct lcb_buf *out, const char *s);
/* The inverse; returns 0, or -1 on a malformed %XX (out then holds a partial result). */
int lcb_manifest_name_decode(struct lcb_buf *out, const char *s, size_t len);

#endif
