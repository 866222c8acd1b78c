/* zst.c - the libzstd wrapper; see zst.h. */
#include "zst.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "../core/log.h"
#include "../core/mem.h"

/* RFC 8878: a zstd frame starts with this magic (little-endian); skippable frames with
 * 0x184D2A5?. The byte after the magic is the Frame_Header_Descriptor, whose bit 2 is the
 * Content_Checksum_flag. */
#define ZSTD1_MAGIC 0xFD2FB528u
#define SKIPPABLE_MASK 0xFFFFFFF0u
#define SKIPPABLE_MAGIC 0x184D2A50u
#define FHD_CHECKSUM 0x04

enum state { OPEN, DONE, FAILED };

struct lcb_zst_enc {
    ZSTD_CCtx *cctx;
    lcb_zst_sink_fn sink;
    void *ud;
    unsigned char *obuf;
    size_t ocap;
    uint64_t in, out;
    enum state state;
};

struct lcb_zst_dec {
    ZSTD_DCtx *dctx;
    lcb_zst_source_fn source;
    void *ud;
    int flags;
    unsigned char *ibuf; /* pending compressed input is ibuf[ipos, ilen) */
    size_t icap, ipos, ilen;
    uint64_t pulled; /* bytes the source gave */
    uint64_t frame_at; /* where the current frame starts */
    uint64_t frames;
    int eof;
    int at_frame_start;
    enum state state;
};

const char *
lcb_zst_version(void)
{
    return ZSTD_versionString();
}

static int
zstd_fail(struct lcb_err *err, enum lcb_code code, const char *what, size_t r)
{
    return lcb_err_set(err, code, "zstd: %s: %s", what, ZSTD_getErrorName(r));
}

static int
set_workers(ZSTD_CCtx *cctx, int threads, struct lcb_err *err)
{
    size_t r;

    if (threads == 0)
        return 0;
    r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, threads);
    if (!ZSTD_isError(r)) /* zstd's default job (4 windows, 8 MiB at level 3) costs ~16 MiB of
                             RSS per worker for no measurable gain: tests/bench/archive_rss.c */
        r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_jobSize, LCB_ZST_JOB_SIZE);
    if (!ZSTD_isError(r))
        return 0;
    if (ZSTD_getErrorCode(r) == ZSTD_error_parameter_unsupported) {
        lcb_log(LCB_WARN, "zstd.threads.unsupported",
                "libzstd has no thread support: compressing in one thread");
        return 0;
    }
    return zstd_fail(err, LCB_EINTERNAL, "set worker threads", r);
}

int
lcb_zst_enc_new(struct lcb_zst_enc **out, int level, int threads, lcb_zst_sink_fn sink, void *ud,
                struct lcb_err *err)
{
    struct lcb_zst_enc *z;
    size_t r;

    *out = NULL;
    if (level == 0)
        level = LCB_ZST_LEVEL_DEFAULT;
    if (level < 1 || level > LCB_ZST_LEVEL_MAX)
        return lcb_err_set(err, LCB_EUSAGE, "zstd level %d out of range 1..%d", level,
                           LCB_ZST_LEVEL_MAX);
    if (threads < 0 || threads > LCB_ZST_THREADS_MAX)
        return lcb_err_set(err, LCB_EUSAGE, "zstd threads %d out of range 0..%d", threads,
                           LCB_ZST_THREADS_MAX);
    z = lcb_xcalloc(1, sizeof(*z));
    z->cctx = ZSTD_createCCtx();
    if (!z->cctx) {
        free(z);
        return lcb_err_set(err, LCB_EINTERNAL, "zstd: cannot create a compression context");
    }
    r = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(r) || set_workers(z->cctx, threads, err) < 0) {
        if (ZSTD_isError(r))
            zstd_fail(err, LCB_EINTERNAL, "set parameters", r);
        lcb_zst_enc_free(z);
        return -1;
    }
    z->sink = sink;
    z->ud = ud;
    z->ocap = ZSTD_CStreamOutSize();
    z->obuf = lcb_xmalloc(z->ocap);
    *out = z;
    return 0;
}

/* One compression step with mode; hands any output to the sink. Returns zstd's "bytes left to
 * flush" hint (>= 0) or -1. */
static long long
step(struct lcb_zst_enc *z, ZSTD_inBuffer *in, ZSTD_EndDirective mode, struct lcb_err *err)
{
    ZSTD_outBuffer o = { z->obuf, z->ocap, 0 };
    size_t r = ZSTD_compressStream2(z->cctx, &o, in, mode);

    if (ZSTD_isError(r)) {
        z->state = FAILED;
        return zstd_fail(err, LCB_EINTERNAL, "compress", r);
    }
    if (o.pos > 0) {
        if (z->sink(z->ud, z->obuf, o.pos, err) < 0) {
            z->state = FAILED;
            return -1;
        }
        z->out += o.pos;
    }
    return (long long)r;
}

int
lcb_zst_enc_write(struct lcb_zst_enc *z, const void *data, size_t len, struct lcb_err *err)
{
    ZSTD_inBuffer in = { data, len, 0 };

    if (z->state != OPEN)
        return lcb_err_set(err, LCB_EUSAGE, "zstd: write after the stream ended or failed");
    while (in.pos < in.size)
        if (step(z, &in, ZSTD_e_continue, err) < 0)
            return -1;
    z->in += len;
    return 0;
}

int
lcb_zst_enc_finish(struct lcb_zst_enc *z, struct lcb_err *err)
{
    ZSTD_inBuffer in = { NULL, 0, 0 };
    long long left;

    if (z->state != OPEN)
        return lcb_err_set(err, LCB_EUSAGE, "zstd: finish after the stream ended or failed");
    do {
        left = step(z, &in, ZSTD_e_end, err);
        if (left < 0)
            return -1;
    } while (left > 0);
    z->state = DONE;
    return 0;
}

uint64_t
lcb_zst_enc_in(const struct lcb_zst_enc *z)
{
    return z->in;
}

uint64_t
lcb_zst_enc_out(const struct lcb_zst_enc *z)
{
    return z->out;
}

void
lcb_zst_enc_free(struct lcb_zst_enc *z)
{
    if (!z)
        return;
    ZSTD_freeCCtx(z->cctx);
    free(z->obuf);
    free(z);
}

/* ---- decoder ---- */

int
lcb_zst_dec_new(struct lcb_zst_dec **out, lcb_zst_source_fn source, void *ud, int flags,
                struct lcb_err *err)
{
    struct lcb_zst_dec *d;
    size_t r;

    *out = NULL;
    d = lcb_xcalloc(1, sizeof(*d));
    d->dctx = ZSTD_createDCtx();
    if (!d->dctx) {
        free(d);
        return lcb_err_set(err, LCB_EINTERNAL, "zstd: cannot create a decompression context");
    }
    r = ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_windowLogMax, LCB_ZST_WINDOW_LOG_MAX);
    if (ZSTD_isError(r)) {
        lcb_zst_dec_free(d);
        return zstd_fail(err, LCB_EINTERNAL, "set the window limit", r);
    }
    d->source = source;
    d->ud = ud;
    d->flags = flags;
    d->icap = ZSTD_DStreamInSize();
    d->ibuf = lcb_xmalloc(d->icap);
    d->at_frame_start = 1;
    *out = d;
    return 0;
}

/* The compressed offset of the next unconsumed byte. */
static uint64_t
position(const struct lcb_zst_dec *d)
{
    return d->pulled - (d->ilen - d->ipos);
}

/* Pull from the source until at least need bytes are pending or the source ends. */
static int
fill(struct lcb_zst_dec *d, size_t need, struct lcb_err *err)
{
    size_t got;

    while (d->ilen - d->ipos < need && !d->eof) {
        if (d->ipos > 0) {
            memmove(d->ibuf, d->ibuf + d->ipos, d->ilen - d->ipos);
            d->ilen -= d->ipos;
            d->ipos = 0;
        }
        if (d->ilen == d->icap)
            return lcb_err_set(err, LCB_EINTERNAL, "zstd: input buffer full without progress");
        got = 0;
        if (d->source(d->ud, d->ibuf + d->ilen, d->icap - d->ilen, &got, err) < 0)
            return -1;
        if (got > d->icap - d->ilen)
            return lcb_err_set(err, LCB_EINTERNAL, "zstd: the source gave more than asked");
        if (got == 0)
            d->eof = 1;
        d->ilen += got;
        d->pulled += got;
    }
    return 0;
}

static uint32_t
le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* At a frame boundary: the clean end (1), a frame we accept (0), or an error (-1). */
static int
check_frame_start(struct lcb_zst_dec *d, struct lcb_err *err)
{
    const unsigned char *p;
    size_t avail;
    uint32_t magic;

    if (fill(d, 5, err) < 0)
        return -1;
    avail = d->ilen - d->ipos;
    p = d->ibuf + d->ipos;
    if (avail == 0)
        return d->frames > 0 ? 1
                             : lcb_err_set(err, LCB_ECORRUPT, "zstd: empty input: no frame at all");
    magic = avail >= 4 ? le32(p) : 0;
    d->frame_at = position(d);
    if (avail >= 4 && (magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC)
        return 0;
    if (avail < 5 || magic != ZSTD1_MAGIC)
        return lcb_err_set(err, LCB_ECORRUPT, "zstd: not a zstd frame at compressed byte %llu%s",
                           (unsigned long long)position(d),
                           avail < 5 ? " (the input ends there)" : "");
    if (!(p[4] & FHD_CHECKSUM) && !(d->flags & LCB_ZST_ALLOW_NO_CHECKSUM))
        return lcb_err_set(err, LCB_ECORRUPT,
                           "zstd: frame at compressed byte %llu has no content checksum",
                           (unsigned long long)position(d));
    return 0;
}

static int
decode_error(struct lcb_zst_dec *d, size_t r, struct lcb_err *err)
{
    unsigned long long at = (unsigned long long)d->frame_at;

    switch (ZSTD_getErrorCode(r)) {
    case ZSTD_error_checksum_wrong:
        return lcb_err_set(err, LCB_ECORRUPT,
                           "zstd: checksum mismatch: the content of the frame at compressed byte "
                           "%llu does not match its checksum", at);
    case ZSTD_error_frameParameter_windowTooLarge:
        return lcb_err_set(err, LCB_ECORRUPT,
                           "zstd: the frame at compressed byte %llu needs a window above the %d "
                           "MiB limit", at, 1 << (LCB_ZST_WINDOW_LOG_MAX - 20));
    case ZSTD_error_memory_allocation:
        return lcb_err_set(err, LCB_EINTERNAL, "zstd: out of memory");
    default:
        return lcb_err_set(err, LCB_ECORRUPT,
                           "zstd: corrupt data in the frame at compressed byte %llu: %s", at,
                           ZSTD_getErrorName(r));
    }
}

/* One decompression step into out. Returns 0, or -1. */
static int
decode_step(struct lcb_zst_dec *d, ZSTD_outBuffer *out, struct lcb_err *err)
{
    ZSTD_inBuffer in;
    size_t r, before = out->pos;

    if (d->ipos == d->ilen && fill(d, 1, err) < 0)
        return -1;
    in.src = d->ibuf + d->ipos;
    in.size = d->ilen - d->ipos;
    in.pos = 0;
    r = ZSTD_decompressStream(d->dctx, out, &in);
    d->ipos += in.pos;
    if (ZSTD_isError(r))
        return decode_error(d, r, err);
    if (r == 0) {
        d->frames++;
        d->at_frame_start = 1;
        return 0;
    }
    if (in.pos == 0 && out->pos == before) {
        if (d->eof && d->ipos == d->ilen)
            return lcb_err_set(err, LCB_ECORRUPT,
                               "zstd: truncated: the input ends inside a frame at compressed byte "
                               "%llu",
                               (unsigned long long)position(d));
        if (fill(d, d->ilen - d->ipos + 1, err) < 0)
            return -1;
    }
    return 0;
}

int
lcb_zst_dec_read(struct lcb_zst_dec *d, void *buf, size_t cap, size_t *got, struct lcb_err *err)
{
    ZSTD_outBuffer out = { buf, cap, 0 };
    int rc;

    *got = 0;
    if (d->state == FAILED)
        return lcb_err_set(err, LCB_EUSAGE, "zstd: read after a failure");
    if (d->state == DONE || cap == 0)
        return 0;
    while (out.pos == 0) {
        if (d->at_frame_start) {
            rc = check_frame_start(d, err);
            if (rc == 1) {
                d->state = DONE;
                return 0;
            }
            if (rc < 0)
                goto fail;
            d->at_frame_start = 0;
        }
        if (decode_step(d, &out, err) < 0)
            goto fail;
    }
    *got = out.pos;
    return 0;
fail:
    d->state = FAILED;
    return -1;
}

uint64_t
lcb_zst_dec_in(const struct lcb_zst_dec *d)
{
    return d->pulled;
}

uint64_t
lcb_zst_dec_frames(const struct lcb_zst_dec *d)
{
    return d->frames;
}

void
lcb_zst_dec_free(struct lcb_zst_dec *d)
{
    if (!d)
        return;
    ZSTD_freeDCtx(d->dctx);
    free(d->ibuf);
    free(d);
}
