/*
 * fingerprint.h - a read-only fingerprint of a PostgreSQL database, taken just before a snapshot
 * and compared by drills with what a restore brings back.
 *
 * A fingerprint holds, from one REPEATABLE READ READ ONLY transaction:
 *   - the row count of every user table: exact (count(*)) when the planner's estimate
 *     (pg_class.reltuples) is below exact_limit, else the estimate, marked as such;
 *   - a schema digest: SHA-256 over a canonical listing of tables, columns (name, type,
 * nullability, default), indexes (their definitions) and enum types, one line per object, sorted;
 *   - the latest payload_migrations entry (PayloadCMS), when that table exists.
 * It serialises to a JSON object for the backup's manifest and parses back from it.
 *
 * Ownership: struct lcb_fingerprint is caller-owned (_release). Library: libpq through
 * lib/ext/pg.h; SHA-256 through lib/ext/crypto.h.
 */
#ifndef LCB_FINGERPRINT_FINGERPRINT_H
#define LCB_FINGERPRINT_FINGERPRINT_H

#include <stddef.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"

struct lcb_pg;
struct lcb_json;

#define LCB_FP_DEFAULT_EXACT_LIMIT 1000000LL

struct lcb_fp_table {
    char *name; /* "public.users" (schema-qualified, unquoted) */
    long long rows;
    int estimate; /* rows is pg_class.reltuples, not count(*) */
};

struct lcb_fingerprint {
    time_t taken_at;
    char *database;
    char *server_version;
    long long exact_limit;
    struct lcb_fp_table *tables; /* sorted by name */
    size_t ntables;
    char schema_sha256[65];
    size_t schema_objects; /* lines in the canonical listing */
    int has_migration;
    char *migration_name;
    char *migration_batch;
    char *migration_at; /* created_at as the server prints it */
};

/* Take a fingerprint (the connection should be read-only; the transaction is). exact_limit 0 means
 * LCB_FP_DEFAULT_EXACT_LIMIT. Errors: those of lcb_pg_query (LCB_EREFUSED when the role cannot
 * read a table, LCB_ETEMP when the connection drops). */
int lcb_fingerprint_take(struct lcb_fingerprint *out, struct lcb_pg *pg, long long exact_limit,
                         struct lcb_err *err);
void lcb_fingerprint_release(struct lcb_fingerprint *fp);

/* Should a table whose planner estimate is reltuples be counted exactly? (reltuples < 0 means
 * never analysed: counted exactly.) */
int lcb_fingerprint_exact(double reltuples, long long exact_limit);
/* SHA-256 (hex) over lines sorted bytewise and joined with "\n" (each line ends with one). The
 * lines are sorted in place. */
void lcb_fingerprint_digest(char **lines, size_t n, char out[65]);

/* The JSON object for manifests (appended to out):
 *   {"taken_at":"...","database":"payload","server_version":"15.10","exact_count_limit":1000000,
 *    "tables":{"public.users":{"rows":200},"public.big":{"rows":9000000,"estimate":true}},
 *    "schema_sha256":"...","schema_objects":57,
 *    "latest_migration":{"name":"...","batch":"4","created_at":"..."}} */
void lcb_fingerprint_json(const struct lcb_fingerprint *fp, struct lcb_buf *out);
/* Read it back. Returns 0, or -1 with LCB_ECORRUPT naming the bad member. */
int lcb_fingerprint_from_json(struct lcb_fingerprint *out, const struct lcb_json *j,
                              struct lcb_err *err);

/* Compare a restored database (got) with the source's fingerprint (want). Row counts that are
 * both exact must differ by at most tolerance (a fraction: 0 means equal); a count involving an
 * estimate may differ by max(tolerance, 10%). Each difference is one line in report ("table
 * public.users: 200 rows, want 201"). Returns the number of differences. */
int lcb_fingerprint_compare(const struct lcb_fingerprint *want, const struct lcb_fingerprint *got,
                            double tolerance, struct lcb_buf *report);

#endif
