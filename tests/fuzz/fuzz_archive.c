/* fuzz_archive.c - the archive reader (zstd, tar, manifest checks, JSON check) on arbitrary bytes:
 * no crash, no leak, no hang, and a refusal always comes with a message. An input starting with
 * "TAR:" is a tar stream that is compressed here first, so that mutations reach the tar and
 * manifest checks instead of stopping at zstd's checksum. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/archive/archive.h"
#include "../../lib/ext/zst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
    const uint8_t *p;
    size_t len, pos;
};

static int
source(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err)
{
    struct mem *m = ud;
    size_t n = m->len - m->pos;

    (void)err;
    if (n > cap)
        n = cap;
    if (n > 4096) /* small pieces exercise the refill paths */
        n = 4096;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    *got = n;
    return 0;
}

static int
to_buf(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    (void)err;
    return lcb_buf_add(ud, data, len);
}

static void read_archive(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lcb_buf z = LCB_BUF_INIT;
    struct lcb_zst_enc *enc;
    struct lcb_err err;

    if (size < 4 || memcmp(data, "TAR:", 4) != 0) {
        read_archive(data, size);
        return 0;
    }
    if (lcb_zst_enc_new(&enc, 1, 0, to_buf, &z, &err) < 0 ||
        lcb_zst_enc_write(enc, data + 4, size - 4, &err) < 0 || lcb_zst_enc_finish(enc, &err) < 0)
        abort();
    lcb_zst_enc_free(enc);
    read_archive((const uint8_t *)z.ptr, z.len);
    lcb_buf_release(&z);
    return 0;
}

static void
read_archive(const uint8_t *data, size_t size)
{
    struct mem m = { data, size, 0 };
    struct lcb_archive_reader *r;
    struct lcb_archive_entry e;
    struct lcb_err err;
    char buf[1024];
    size_t got;
    int rc;

    lcb_err_clear(&err);
    if (lcb_archive_reader_new(&r, source, &m, LCB_ARCHIVE_CHECK_JSON, &err) < 0) {
        if (err.msg[0] == '\0')
            abort();
        return;
    }
    while ((rc = lcb_archive_reader_next(r, &e, &err)) == 1) {
        if (!e.name || !e.name[0])
            abort();
        while ((rc = lcb_archive_reader_read(r, buf, sizeof(buf), &got, &err)) == 0 && got > 0)
            ;
        if (rc < 0)
            break;
    }
    if (rc < 0 && err.msg[0] == '\0')
        abort(); /* every refusal must say why */
    if (rc == 0 && !lcb_archive_reader_manifest(r))
        abort(); /* a verified archive always has its manifest */
    lcb_archive_reader_free(r);
}
