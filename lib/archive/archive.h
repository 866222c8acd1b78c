/*
 * archive.h - lcbackup archives: a POSIX tar stream compressed with zstd (".tar.zst"), entries
 * first, MANIFEST.json last (docs/formats.md). `tar --zstd -xf x.tar.zst` reads them without
 * lcbackup.
 *
 * Writing is push-driven and streams: every entry goes through tar (lib/ext/arc.c) and zstd
 * (lib/ext/zst.c) to the caller's sink as soon as zstd emits it, so memory stays bounded whatever
 * the archive's size (zstd's window and jobs, ~10 KiB of tar, and ~100 bytes per entry for the
 * manifest; tests/bench/archive_rss.c measures it). The sink is typically an S3 multipart upload
 * filling a part buffer. While writing, each entry's SHA-256 is computed, every ".json" entry is
 * checked to be valid JSON (and the items of a top-level array counted), and the compressed bytes
 * are hashed for the whole-object SHA-256 the catalog records.
 *
 * Reading is pull-driven: the reader asks its source for compressed bytes (a file descriptor, or
 * ranged S3 GETs of a few MiB each: lcb_s3_get is push-driven, so serve the source from a buffer
 * refilled by lcb_s3_get_buf with a range), decompresses, parses tar, and hands entries out one by
 * one. Verification is complete only when lcb_archive_reader_next() returns 0: that is when
 * MANIFEST.json has been read and every entry's size, SHA-256, item count and presence has been
 * checked against it, zstd's checksums verified and the whole object hashed. A restore must
 * therefore read an archive twice: once to verify (lcb_archive_verify), once to write.
 *
 * Errors that concern the data are LCB_ECORRUPT (exit 65) and name what failed: "zstd: checksum
 * mismatch ...", "tar: header: ...", "entry \"entities/Building/000002.json\": sha256 ... does not
 * match the manifest's ...". The sink's and the source's own errors come back unchanged (an S3
 * upload's LCB_ETEMP stays LCB_ETEMP).
 */
#ifndef LCB_ARCHIVE_ARCHIVE_H
#define LCB_ARCHIVE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/err.h"
#include "../ext/crypto.h"
#include "manifest.h"

/* Receives compressed bytes (in pieces of at most ~128 KiB). Return 0, or -1 with err filled. */
typedef int (*lcb_archive_sink_fn)(void *ud, const void *data, size_t len, struct lcb_err *err);
/* Gives up to cap compressed bytes in buf; *got = 0 means the end of the object. Return 0, or -1
 * with err filled. */
typedef int (*lcb_archive_source_fn)(void *ud, void *buf, size_t cap, size_t *got,
                                     struct lcb_err *err);

struct lcb_archive_totals {
    uint64_t bytes;               /* compressed bytes: the object's size */
    char sha256[LCB_SHA256_HEX];  /* lower-case hex SHA-256 of the compressed bytes */
    uint64_t tar_bytes;           /* uncompressed tar bytes */
    size_t entries;               /* entries, MANIFEST.json included */
};

/* ---- writer ---- */

#define LCB_ARCHIVE_SIZE_UNKNOWN (-1) /* lcb_archive_writer_begin: spool to a temporary file */

struct lcb_archive_writer;

/* A writer handing compressed bytes to sink. level: zstd level (0: default 3, up to 19);
 * threads: zstd worker threads (0: none). Entry mtimes are lcb_now() at creation unless
 * lcb_archive_writer_set_mtime() says otherwise. Returns 0, or -1 (LCB_EUSAGE: level or threads
 * out of range; LCB_EINTERNAL). */
int lcb_archive_writer_new(struct lcb_archive_writer **out, lcb_archive_sink_fn sink, void *ud,
                           int level, int threads, struct lcb_err *err);
void lcb_archive_writer_set_mtime(struct lcb_archive_writer *w, time_t mtime);
/* Add one entry from memory. Returns 0, or -1: LCB_EUSAGE (unsafe or duplicate name, the reserved
 * name MANIFEST.json, an entry still open), LCB_ECORRUPT (a ".json" entry that is not valid
 * JSON), or the sink's error. After any failure the writer refuses everything: abort the upload. */
int lcb_archive_writer_add(struct lcb_archive_writer *w, const char *name, const void *data,
                           size_t len, struct lcb_err *err);
/* lcb_archive_writer_add for a ".json" array the caller has already checked with lcb_jsonscan
 * (the broker export splits pages in that pass), items its element count: not checked again. */
int lcb_archive_writer_add_checked(struct lcb_archive_writer *w, const char *name,
                                   const void *data, size_t len, int64_t items,
                                   struct lcb_err *err);
/* The streamed variant: begin an entry of size bytes (LCB_ARCHIVE_SIZE_UNKNOWN: the data is
 * spooled to an unlinked temporary file until end), write its data in pieces, end it. Errors as
 * lcb_archive_writer_add, plus LCB_EUSAGE when the data written differs from size and LCB_EIO
 * for the spool file. */
int lcb_archive_writer_begin(struct lcb_archive_writer *w, const char *name, int64_t size,
                             struct lcb_err *err);
int lcb_archive_writer_write(struct lcb_archive_writer *w, const void *data, size_t len,
                             struct lcb_err *err);
int lcb_archive_writer_end(struct lcb_archive_writer *w, struct lcb_err *err);
/* Move the entries written into m (which must have none), write m as MANIFEST.json, end the tar
 * and zstd streams, and fill totals (may be NULL). The manifest's start/end times are left as the
 * caller set them. Returns 0 or -1 (as add). */
int lcb_archive_writer_finish(struct lcb_archive_writer *w, struct lcb_manifest *m,
                              struct lcb_archive_totals *totals, struct lcb_err *err);
void lcb_archive_writer_free(struct lcb_archive_writer *w);

/* ---- reader ---- */

#define LCB_ARCHIVE_CHECK_JSON 0x1 /* check every ".json" entry is valid JSON and, for kind
                                      "broker", that each type's count equals its pages' items */

struct lcb_archive_entry {
    const char *name; /* borrowed until the next lcb_archive_reader_next() */
    uint64_t size;
    time_t mtime;
    int is_manifest;  /* MANIFEST.json: its data is readable too */
};

struct lcb_archive_reader;

/* A reader pulling compressed bytes from source. flags: LCB_ARCHIVE_CHECK_JSON or 0. Returns 0,
 * or -1 (LCB_EINTERNAL). */
int lcb_archive_reader_new(struct lcb_archive_reader **out, lcb_archive_source_fn source,
                           void *ud, int flags, struct lcb_err *err);
/* The next entry into e; data of the previous entry that was not read is read (and hashed) here.
 * Returns 1 with an entry; 0 at the end, with everything verified; -1: LCB_ECORRUPT naming the
 * first bad entry or what failed, or the source's error. */
int lcb_archive_reader_next(struct lcb_archive_reader *r, struct lcb_archive_entry *e,
                            struct lcb_err *err);
/* Up to cap bytes of the current entry; *got = 0 at its end. Data is not trusted until next()
 * has returned 0. Returns 0 or -1 (as next). */
int lcb_archive_reader_read(struct lcb_archive_reader *r, void *buf, size_t cap, size_t *got,
                            struct lcb_err *err);
/* The parsed MANIFEST.json once the reader has passed it, else NULL. Borrowed. */
struct lcb_manifest *lcb_archive_reader_manifest(struct lcb_archive_reader *r);
/* What was read so far (complete after next() returned 0). */
void lcb_archive_reader_totals(const struct lcb_archive_reader *r, struct lcb_archive_totals *t);
void lcb_archive_reader_free(struct lcb_archive_reader *r);

/* Read and verify a whole archive; totals (may be NULL) as lcb_archive_reader_totals, and the
 * manifest moved into m when m is not NULL (release it). Returns 0 or -1 (as next). */
int lcb_archive_verify(struct lcb_archive_totals *totals, struct lcb_manifest *m,
                       lcb_archive_source_fn source, void *ud, int flags, struct lcb_err *err);

/* A sink and a source over a file descriptor (ud points to an int holding it). LCB_EIO on
 * failure. */
int lcb_archive_fd_sink(void *ud, const void *data, size_t len, struct lcb_err *err);
int lcb_archive_fd_source(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err);

#endif
