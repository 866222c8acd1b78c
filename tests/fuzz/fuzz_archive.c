/* fuzz_archive.c - the archive reader (zstd, tar, manifest checks, JSON check) on arbitrary bytes:
 * no crash, no leak, no hang, and a refusal always comes with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/archive/archive.h"

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
        return 0;
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
    return 0;
}
