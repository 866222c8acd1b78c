/*
 * zst.h - streaming zstd through libzstd, in lcbackup's own types (zst.c is the only file that
 * includes zstd.h).
 *
 * The encoder is push-driven: lcb_zst_enc_write() takes uncompressed bytes and hands compressed
 * bytes to the sink given at creation, in pieces of at most ~128 KiB; lcb_zst_enc_finish() ends the
 * frame. Every frame carries zstd's content checksum (XXH64 of the content), so `zstd -t`,
 * `tar --zstd` and our decoder all check it. Worker threads are zstd's own: the sink is always called
 * from the thread that calls write/finish.
 *
 * The decoder is pull-driven: lcb_zst_dec_read() fills the caller's buffer, pulling compressed
 * bytes from the source given at creation. It accepts one or more zstd frames (and skippable
 * frames), refuses frames without a content checksum unless told otherwise, refuses windows above
 * LCB_ZST_WINDOW_LOG_MAX (bounded memory on hostile input), and reports where a corruption was
 * found as a compressed-byte offset.
 *
 * Memory: the encoder holds zstd's window and tables and, with workers, 2 MiB jobs. Peak RSS of a
 * whole archive writer (tests/bench/archive_rss.c, 200 MiB of pages): level 3 ~11 MiB with no
 * worker, ~21 MiB with 2; level 9 ~24/43 MiB; level 12 ~60/115 MiB; level 19 ~97/192 MiB (and
 * about 1 MiB/s). The decoder holds one window plus ~256 KiB of buffers.
 */
#ifndef LCB_EXT_ZST_H
#define LCB_EXT_ZST_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

#define LCB_ZST_LEVEL_DEFAULT 3
#define LCB_ZST_LEVEL_MAX 19       /* the "ultra" levels need windows the decoder refuses */
#define LCB_ZST_THREADS_MAX 64
#define LCB_ZST_WINDOW_LOG_MAX 24  /* 16 MiB: enough for every level up to 19 */
#define LCB_ZST_JOB_SIZE (2 << 20) /* input per worker job */

/* Receives compressed bytes. Return 0, or -1 with err filled (the encoder then fails with that
 * error, code included, so an S3 upload's LCB_ETEMP stays LCB_ETEMP). */
typedef int (*lcb_zst_sink_fn)(void *ud, const void *data, size_t len, struct lcb_err *err);

/* Gives up to cap compressed bytes in buf; *got = 0 means the end of the input. Return 0, or -1
 * with err filled. */
typedef int (*lcb_zst_source_fn)(void *ud, void *buf, size_t cap, size_t *got,
                                 struct lcb_err *err);

struct lcb_zst_enc;
struct lcb_zst_dec;

/* A new encoder at level (1..LCB_ZST_LEVEL_MAX; 0: LCB_ZST_LEVEL_DEFAULT) with threads worker
 * threads (0: compress in the calling thread). Returns 0, or -1: LCB_EUSAGE (level or threads out
 * of range), LCB_EINTERNAL (libzstd refused a parameter). When libzstd was built without thread
 * support, threads > 0 falls back to 0 with a warning in the log. */
int lcb_zst_enc_new(struct lcb_zst_enc **out, int level, int threads, lcb_zst_sink_fn sink,
                    void *ud, struct lcb_err *err);
/* Compress len bytes (may call the sink zero or more times). Returns 0, or -1: the sink's error,
 * or LCB_EINTERNAL (libzstd), or LCB_EUSAGE (after finish or a failure). */
int lcb_zst_enc_write(struct lcb_zst_enc *z, const void *data, size_t len, struct lcb_err *err);
/* Flush everything and end the frame (checksum included). Returns 0 or -1 (as write). */
int lcb_zst_enc_finish(struct lcb_zst_enc *z, struct lcb_err *err);
/* Bytes taken in and handed to the sink so far. */
uint64_t lcb_zst_enc_in(const struct lcb_zst_enc *z);
uint64_t lcb_zst_enc_out(const struct lcb_zst_enc *z);
void lcb_zst_enc_free(struct lcb_zst_enc *z);

#define LCB_ZST_ALLOW_NO_CHECKSUM 0x1 /* accept frames written without a content checksum */

/* A new decoder pulling from source. flags: LCB_ZST_ALLOW_NO_CHECKSUM or 0. Returns 0, or -1
 * (LCB_EINTERNAL). */
int lcb_zst_dec_new(struct lcb_zst_dec **out, lcb_zst_source_fn source, void *ud, int flags,
                    struct lcb_err *err);
/* Decompress up to cap bytes into buf. *got = 0 means the clean end: every frame complete and
 * checked, and the source exhausted. Returns 0, or -1: LCB_ECORRUPT naming the frame by its
 * compressed offset ("zstd: checksum mismatch: the content of the frame at compressed byte 0 does
 * not match its checksum", "zstd: truncated: the input ends inside a frame at compressed byte N",
 * "zstd: not a zstd frame at compressed byte N", "zstd: frame at compressed byte N has no content
 * checksum", "zstd: ... a window above the 16 MiB limit", "zstd: corrupt data in the frame at
 * compressed byte N: <libzstd's reason>"), or the source's error. */
int lcb_zst_dec_read(struct lcb_zst_dec *d, void *buf, size_t cap, size_t *got,
                     struct lcb_err *err);
/* Compressed bytes pulled from the source so far, and frames completed. */
uint64_t lcb_zst_dec_in(const struct lcb_zst_dec *d);
uint64_t lcb_zst_dec_frames(const struct lcb_zst_dec *d);
void lcb_zst_dec_free(struct lcb_zst_dec *d);

/* libzstd's version string. */
const char *lcb_zst_version(void);

#endif
