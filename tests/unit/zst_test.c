/* zst_test.c - lib/ext/zst.c: round trips at several levels and thread counts, the checksum flag,
 * concatenated and skippable frames, and every way a compressed stream can be refused. */
#include "../../lib/ext/zst.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/buf.h"
#include "../../lib/core/mem.h"
#include "harness.h"

struct mem {
    const unsigned char *p;
    size_t len, pos, chunk; /* chunk: the most a source call gives (exercises refills) */
};

static int
buf_sink(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    (void)err;
    return lcb_buf_add(ud, data, len);
}

static int
mem_source(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err)
{
    struct mem *m = ud;
    size_t n = m->len - m->pos;

    (void)err;
    if (n > cap)
        n = cap;
    if (m->chunk && n > m->chunk)
        n = m->chunk;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    *got = n;
    return 0;
}

static int
failing_sink(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    (void)ud, (void)data, (void)len;
    return lcb_err_set(err, LCB_ETEMP, "upload part: 503 SlowDown");
}

/* Deterministic, partly compressible bytes. */
static void
fill_data(unsigned char *p, size_t n, uint32_t seed)
{
    size_t i;

    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (i % 64 < 40) ? (unsigned char)("entity-urn:ngsi-ld:Building:"[i % 28])
                             : (unsigned char)(seed >> 16);
    }
}

static int
compress(struct lcb_buf *out, const void *data, size_t len, int level, int threads)
{
    struct lcb_zst_enc *z;
    struct lcb_err err;
    size_t off, before = out->len;
    int rc = 0;

    if (lcb_zst_enc_new(&z, level, threads, buf_sink, out, &err) < 0)
        return -1;
    for (off = 0; off < len && rc == 0; off += 100000) /* several writes */
        rc = lcb_zst_enc_write(z, (const char *)data + off, len - off < 100000 ? len - off : 100000,
                               &err);
    if (rc == 0)
        rc = lcb_zst_enc_finish(z, &err);
    if (rc == 0 && (lcb_zst_enc_in(z) != len || lcb_zst_enc_out(z) != out->len - before))
        rc = -1;
    lcb_zst_enc_free(z);
    return rc;
}

/* Decompress everything; returns 0 or -1 with err. */
static int
decompress(struct lcb_buf *out, const void *data, size_t len, size_t chunk, int flags,
           struct lcb_err *err)
{
    struct mem m = { data, len, 0, chunk };
    struct lcb_zst_dec *d;
    char buf[4096];
    size_t got;
    int rc;

    lcb_err_clear(err);
    if (lcb_zst_dec_new(&d, mem_source, &m, flags, err) < 0)
        return -1;
    while ((rc = lcb_zst_dec_read(d, buf, sizeof(buf), &got, err)) == 0 && got > 0)
        lcb_buf_add(out, buf, got);
    if (rc == 0 && lcb_zst_dec_in(d) != len)
        rc = lcb_err_set(err, LCB_EINTERNAL, "not all input consumed");
    lcb_zst_dec_free(d);
    return rc;
}

static void
test_round_trip(void)
{
    static const int levels[] = { 1, 3, 19 }, threads[] = { 0, 2 };
    size_t n = 3u << 20, i, j;
    unsigned char *data = malloc(n);
    struct lcb_err err;

    fill_data(data, n, 7);
    for (i = 0; i < LCB_ARRAY_SIZE(levels); i++) {
        for (j = 0; j < LCB_ARRAY_SIZE(threads); j++) {
            struct lcb_buf z = LCB_BUF_INIT, back = LCB_BUF_INIT;

            CHECK_INT(compress(&z, data, levels[i] == 19 ? n / 4 : n, levels[i], threads[j]), 0);
            CHECK(z.len > 4 && (unsigned char)z.ptr[0] == 0x28 && (unsigned char)z.ptr[3] == 0xFD);
            CHECK(((unsigned char)z.ptr[4] & 0x04) != 0); /* Content_Checksum_flag */
            CHECK(z.len < n / 2);
            CHECK_INT(decompress(&back, z.ptr, z.len, 777, 0, &err), 0);
            CHECK_INT(back.len, levels[i] == 19 ? n / 4 : n);
            CHECK(back.ptr && memcmp(back.ptr, data, back.len) == 0);
            lcb_buf_release(&z);
            lcb_buf_release(&back);
        }
    }
    free(data);
}

static void
test_empty_and_concatenated(void)
{
    struct lcb_buf a = LCB_BUF_INIT, b = LCB_BUF_INIT, back = LCB_BUF_INIT;
    static const unsigned char skippable[] = { 0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 'x', 'y', 'z' };
    struct lcb_err err;

    CHECK_INT(compress(&a, "", 0, 3, 0), 0); /* an empty frame */
    CHECK_INT(decompress(&back, a.ptr, a.len, 0, 0, &err), 0);
    CHECK_INT(back.len, 0);
    CHECK_INT(compress(&b, "hello ", 6, 3, 0), 0);
    lcb_buf_add(&b, skippable, sizeof(skippable));
    CHECK_INT(compress(&b, "world", 5, 1, 0), 0);
    CHECK_INT(decompress(&back, b.ptr, b.len, 1, 0, &err), 0); /* one byte per source call */
    CHECK_STR(lcb_buf_str(&back), "hello world");
    lcb_buf_release(&a);
    lcb_buf_release(&b);
    lcb_buf_release(&back);
}

static void
test_refusals(void)
{
    struct lcb_buf z = LCB_BUF_INIT, back = LCB_BUF_INIT;
    struct lcb_err err;
    unsigned char data[5000];
    /* `printf 'hello hello hello' | zstd --no-check` and `... | zstd --long=25` */
    static const unsigned char nocheck[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x11, 0x65, 0x00, 0x00,
                                             0x30, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x01, 0x00,
                                             0x31, 0x4a, 0x11 };
    static const unsigned char bigwin[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x78, 0x65, 0x00, 0x00,
                                            0x30, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x01, 0x00,
                                            0x31, 0x4a, 0x11, 0xa2, 0xed, 0x1e, 0x0c };

    fill_data(data, sizeof(data), 3);
    CHECK_INT(compress(&z, data, sizeof(data), 3, 0), 0);

    CHECK_INT(decompress(&back, z.ptr, z.len - 1, 0, 0, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK(strstr(err.msg, "truncated") != NULL);

    z.ptr[z.len - 1] ^= 0x01; /* the XXH64 checksum's last byte */
    CHECK_INT(decompress(&back, z.ptr, z.len, 0, 0, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK(strstr(err.msg, "zstd: checksum mismatch: the content of the frame at compressed byte 0") != NULL);
    z.ptr[z.len - 1] ^= 0x01;

    lcb_buf_add(&z, "garbage!", 8);
    CHECK_INT(decompress(&back, z.ptr, z.len, 0, 0, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK(strstr(err.msg, "not a zstd frame at compressed byte") != NULL);

    CHECK_INT(decompress(&back, "", 0, 0, 0, &err), -1);
    CHECK(strstr(err.msg, "empty input") != NULL);

    lcb_buf_reset(&back);
    CHECK_INT(decompress(&back, nocheck, sizeof(nocheck), 0, 0, &err), -1);
    CHECK(strstr(err.msg, "has no content checksum") != NULL);
    CHECK_INT(decompress(&back, nocheck, sizeof(nocheck), 0, LCB_ZST_ALLOW_NO_CHECKSUM, &err), 0);
    CHECK_STR(lcb_buf_str(&back), "hello hello hello");

    lcb_buf_reset(&back);
    CHECK_INT(decompress(&back, bigwin, sizeof(bigwin), 0, 0, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK(strstr(err.msg, "window above the 16 MiB limit") != NULL);
    lcb_buf_release(&z);
    lcb_buf_release(&back);
}

static void
test_encoder_errors(void)
{
    struct lcb_zst_enc *z = NULL;
    struct lcb_err err;
    unsigned char data[300000];

    CHECK_INT(lcb_zst_enc_new(&z, 20, 0, buf_sink, NULL, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_zst_enc_new(&z, 3, -1, buf_sink, NULL, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK(z == NULL);
    /* the sink's error comes back unchanged, and the encoder refuses more work */
    fill_data(data, sizeof(data), 11);
    CHECK_INT(lcb_zst_enc_new(&z, 1, 0, failing_sink, NULL, &err), 0);
    if (lcb_zst_enc_write(z, data, sizeof(data), &err) == 0)
        CHECK_INT(lcb_zst_enc_finish(z, &err), -1);
    CHECK_INT(err.code, LCB_ETEMP);
    CHECK_STR(err.msg, "upload part: 503 SlowDown");
    CHECK_INT(lcb_zst_enc_write(z, "x", 1, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    lcb_zst_enc_free(z);
    lcb_zst_enc_free(NULL);
    lcb_zst_dec_free(NULL);
    CHECK(strlen(lcb_zst_version()) > 0);
}

int
main(void)
{
    RUN(test_round_trip);
    RUN(test_empty_and_concatenated);
    RUN(test_refusals);
    RUN(test_encoder_errors);
    return harness_done();
}
