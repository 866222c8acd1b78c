/* archive_test.c - lib/archive/{writer,reader}.c: the tar.zst pipeline end to end. An archive is
 * written and read back; GNU tar (`tar --zstd -x`) extracts identical entries; every byte of a
 * small archive is flipped and each flip is caught; truncations fail; hand-made archives with a
 * lying manifest are refused naming the entry; writer misuse and sink errors; memory stays flat
 * while 64 MiB of pages go through (tests/bench/archive_rss.c does 200 MiB). */
#include "../../lib/archive/archive.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/core/mem.h"
#include "../../lib/ext/arc.h"
#include "../../lib/ext/json.h"
#include "../../lib/ext/zst.h"
#include "harness.h"

#define MTIME 1764331267

struct mem {
    const unsigned char *p;
    size_t len, pos, chunk;
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

static const char page1[] = "[{\"id\":\"urn:ngsi-ld:Building:1\",\"type\":\"Building\"},"
                            "{\"id\":\"urn:ngsi-ld:Building:2\",\"type\":\"Building\"},"
                            "{\"id\":\"urn:ngsi-ld:Building:3\",\"type\":\"Building\"}]";
static const char page2[] = "[{\"id\":\"urn:ngsi-ld:Building:4\",\"type\":\"Building\"},\n"
                            " {\"id\":\"urn:ngsi-ld:Building:5\",\"type\":\"Building\"}]\n";
static const char page3[] = "[{\"id\":\"urn:x:Bus:1\",\"type\":\"https://ex.org/Bus\"}]";
#define BUS_DIR "entities/https%3A%2F%2Fex.org%2FBus"

static unsigned char blob[70000];

static void
fill_blob(void)
{
    uint32_t x = 12345;
    size_t i;

    for (i = 0; i < sizeof(blob); i++) {
        x = x * 1664525u + 1013904223u;
        blob[i] = (unsigned char)(i % 3 ? x >> 24 : 'a');
    }
}

static void
sample_manifest(struct lcb_manifest *m)
{
    lcb_manifest_init(m, "broker");
    lcb_manifest_set_source(m, "http://user:pw@127.0.0.1:1026");
    lcb_manifest_set_tenant(m, "legocity");
    lcb_manifest_count_add(m, "Building", 5);
    lcb_manifest_count_add(m, "https://ex.org/Bus", 1);
    m->started = MTIME - 60;
    m->ended = MTIME;
}

/* The sample archive: two Building pages (one from memory, one streamed with its size), a Bus
 * page, a binary blob streamed with an unknown size, MANIFEST.json. */
static int
write_sample(struct lcb_buf *out, int level, int threads, struct lcb_archive_totals *t,
             struct lcb_buf *manifest_text, struct lcb_err *err)
{
    struct lcb_archive_writer *w;
    struct lcb_manifest m;
    int rc;

    if (lcb_archive_writer_new(&w, buf_sink, out, level, threads, err) < 0)
        return -1;
    lcb_archive_writer_set_mtime(w, MTIME);
    sample_manifest(&m);
    rc = lcb_archive_writer_add(w, "entities/Building/000001.json", page1, strlen(page1), err);
    if (rc == 0)
        rc = lcb_archive_writer_begin(w, "entities/Building/000002.json", strlen(page2), err);
    if (rc == 0)
        rc = lcb_archive_writer_write(w, page2, 10, err);
    if (rc == 0)
        rc = lcb_archive_writer_write(w, page2 + 10, strlen(page2) - 10, err);
    if (rc == 0)
        rc = lcb_archive_writer_end(w, err);
    if (rc == 0)
        rc = lcb_archive_writer_add(w, BUS_DIR "/000001.json", page3, strlen(page3), err);
    if (rc == 0)
        rc = lcb_archive_writer_begin(w, "blob.bin", LCB_ARCHIVE_SIZE_UNKNOWN, err);
    if (rc == 0)
        rc = lcb_archive_writer_write(w, blob, 40000, err);
    if (rc == 0)
        rc = lcb_archive_writer_write(w, blob + 40000, sizeof(blob) - 40000, err);
    if (rc == 0)
        rc = lcb_archive_writer_end(w, err);
    if (rc == 0)
        rc = lcb_archive_writer_finish(w, &m, t, err);
    if (rc == 0 && manifest_text)
        lcb_manifest_write(&m, manifest_text);
    lcb_manifest_release(&m);
    lcb_archive_writer_free(w);
    return rc;
}

/* Read everything; each entry appended to out as "name size sha256\n" (data hashed here). */
static int
read_all(const struct lcb_buf *in, size_t chunk, int flags, struct lcb_buf *out,
         struct lcb_archive_totals *t, struct lcb_err *err)
{
    struct mem m = { (const unsigned char *)in->ptr, in->len, 0, chunk };
    struct lcb_archive_reader *r;
    struct lcb_archive_entry e;
    struct lcb_buf data = LCB_BUF_INIT;
    char buf[5000], hex[LCB_SHA256_HEX];
    size_t got;
    int rc;

    lcb_err_clear(err);
    if (lcb_archive_reader_new(&r, mem_source, &m, flags, err) < 0)
        return -1;
    while ((rc = lcb_archive_reader_next(r, &e, err)) == 1) {
        lcb_buf_reset(&data);
        while ((rc = lcb_archive_reader_read(r, buf, sizeof(buf), &got, err)) == 0 && got > 0)
            lcb_buf_add(&data, buf, got);
        if (rc < 0)
            break;
        if (out)
            lcb_buf_addf(out, "%s %zu %s%s\n", e.name, data.len,
                         lcb_sha256_hex(data.ptr ? data.ptr : "", data.len, hex),
                         e.is_manifest ? " manifest" : "");
    }
    if (t)
        lcb_archive_reader_totals(r, t);
    lcb_archive_reader_free(r);
    lcb_buf_release(&data);
    return rc;
}

static void
expect_line(struct lcb_buf *want, const char *name, const void *data, size_t len)
{
    char hex[LCB_SHA256_HEX];

    lcb_buf_addf(want, "%s %zu %s\n", name, len, lcb_sha256_hex(data, len, hex));
}

static void
test_round_trip(void)
{
    static const int threads[] = { 0, 2 };
    struct lcb_buf arc = LCB_BUF_INIT, got = LCB_BUF_INIT, want = LCB_BUF_INIT, mt = LCB_BUF_INIT;
    struct lcb_archive_totals wt, rt;
    struct lcb_err err;
    char hex[LCB_SHA256_HEX];
    size_t i;

    for (i = 0; i < 2; i++) {
        lcb_buf_reset(&arc);
        lcb_buf_reset(&got);
        lcb_buf_reset(&want);
        lcb_buf_reset(&mt);
        CHECK_INT(write_sample(&arc, 3, threads[i], &wt, &mt, &err), 0);
        CHECK_INT(wt.bytes, arc.len);
        CHECK_STR(wt.sha256, lcb_sha256_hex(arc.ptr, arc.len, hex));
        CHECK_INT(wt.entries, 5);
        CHECK(wt.tar_bytes % 10240 == 0 && wt.tar_bytes > sizeof(blob));
        CHECK_INT(read_all(&arc, 1000, LCB_ARCHIVE_CHECK_JSON, &got, &rt, &err), 0);
        expect_line(&want, "entities/Building/000001.json", page1, strlen(page1));
        expect_line(&want, "entities/Building/000002.json", page2, strlen(page2));
        expect_line(&want, BUS_DIR "/000001.json", page3, strlen(page3));
        expect_line(&want, "blob.bin", blob, sizeof(blob));
        lcb_buf_addf(&want, "MANIFEST.json %zu %s manifest\n", mt.len,
                     lcb_sha256_hex(mt.ptr, mt.len, hex));
        CHECK_STR(lcb_buf_str(&got), lcb_buf_str(&want));
        CHECK_INT(rt.bytes, wt.bytes);
        CHECK_STR(rt.sha256, wt.sha256);
        CHECK_INT(rt.tar_bytes, wt.tar_bytes);
        CHECK_INT(rt.entries, 5);
    }
    CHECK(strstr(lcb_buf_str(&mt), "\"items\": 3") != NULL);
    CHECK(strstr(lcb_buf_str(&mt), "pw") == NULL);
    lcb_buf_release(&arc);
    lcb_buf_release(&got);
    lcb_buf_release(&want);
    lcb_buf_release(&mt);
}

/* An entry of unknown size is spooled in $TMPDIR, as every temporary file: an unusable TMPDIR
 * is named in the error (tmpfile() used to ignore it). */
static void
test_spool_tmpdir(void)
{
    struct lcb_archive_writer *w;
    struct lcb_buf arc = LCB_BUF_INIT;
    struct lcb_err err;

    setenv("TMPDIR", "/nonexistent/lcb-tmp", 1);
    CHECK_INT(lcb_archive_writer_new(&w, buf_sink, &arc, 3, 0, &err), 0);
    CHECK_INT(lcb_archive_writer_begin(w, "blob.bin", LCB_ARCHIVE_SIZE_UNKNOWN, &err), -1);
    CHECK_INT(err.code, LCB_EIO);
    lcb_archive_writer_free(w);
    unsetenv("TMPDIR");
    lcb_buf_release(&arc);
}

/* A page the caller checked while splitting it goes in without a second scan, its element count
 * as given in the manifest; only .json arrays can come checked. The archive still reads back
 * with every check. */
static void
test_add_checked(void)
{
    struct lcb_archive_writer *w;
    struct lcb_manifest m;
    struct lcb_archive_totals wt, rt;
    struct lcb_buf arc = LCB_BUF_INIT;
    struct lcb_err err;
    const struct lcb_manifest_entry *e;

    CHECK_INT(lcb_archive_writer_new(&w, buf_sink, &arc, 3, 0, &err), 0);
    lcb_manifest_init(&m, "broker");
    lcb_manifest_count_add(&m, "Building", 5);
    CHECK_INT(lcb_archive_writer_add_checked(w, "blob.bin", "[]", 2, 0, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_archive_writer_add_checked(w, "entities/Building/000001.json", page1,
                                             strlen(page1), 3, &err), 0);
    CHECK_INT(lcb_archive_writer_add(w, "entities/Building/000002.json", page2, strlen(page2),
                                     &err), 0);
    CHECK_INT(lcb_archive_writer_finish(w, &m, &wt, &err), 0);
    e = lcb_manifest_entry_find(&m, "entities/Building/000001.json");
    CHECK(e != NULL && e->items == 3);
    lcb_archive_writer_free(w);
    lcb_manifest_release(&m);
    CHECK_INT(read_all(&arc, 0, LCB_ARCHIVE_CHECK_JSON, NULL, &rt, &err), 0);
    CHECK_STR(rt.sha256, wt.sha256);
    lcb_buf_release(&arc);
}

/* Reading only part of an entry, or none of it, still hashes all of it. */
static void
test_partial_reads_and_verify(void)
{
    struct lcb_buf arc = LCB_BUF_INIT;
    struct mem m;
    struct lcb_archive_reader *r;
    struct lcb_archive_entry e;
    struct lcb_archive_totals t;
    struct lcb_manifest man;
    struct lcb_err err;
    char buf[10];
    size_t got;
    int rc, n = 0;

    CHECK_INT(write_sample(&arc, 1, 0, NULL, NULL, &err), 0);
    m = (struct mem){ (const unsigned char *)arc.ptr, arc.len, 0, 0 };
    CHECK_INT(lcb_archive_reader_new(&r, mem_source, &m, LCB_ARCHIVE_CHECK_JSON, &err), 0);
    while ((rc = lcb_archive_reader_next(r, &e, &err)) == 1) {
        if (n++ % 2 == 0)
            CHECK_INT(lcb_archive_reader_read(r, buf, sizeof(buf), &got, &err), 0);
        CHECK(lcb_archive_reader_manifest(r) == NULL || e.is_manifest);
    }
    CHECK_INT(rc, 0);
    CHECK_INT(n, 5);
    CHECK(lcb_archive_reader_manifest(r) != NULL);
    CHECK_INT(lcb_archive_reader_next(r, &e, &err), 0); /* stays at the end */
    lcb_archive_reader_free(r);

    m.pos = 0;
    CHECK_INT(lcb_archive_verify(&t, &man, mem_source, &m, LCB_ARCHIVE_CHECK_JSON, &err), 0);
    CHECK_INT(t.bytes, arc.len);
    CHECK_STR(man.kind, "broker");
    CHECK_STR(man.source, "http://127.0.0.1:1026");
    CHECK_INT(man.nentries, 4);
    CHECK_INT(lcb_manifest_count_get(&man, "https://ex.org/Bus"), 1);
    lcb_manifest_release(&man);
    lcb_buf_release(&arc);
}

static int
file_equals(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(len + 1);
    size_t n = f ? fread(buf, 1, len + 1, f) : 0;
    int ok = f && n == len && memcmp(buf, data, len) == 0;

    if (f)
        fclose(f);
    free(buf);
    return ok;
}

/* GNU tar and the zstd CLI read what we write, and find the same bytes. */
static void
test_gnu_tar_extracts(void)
{
    struct lcb_buf arc = LCB_BUF_INIT, mt = LCB_BUF_INIT, list = LCB_BUF_INIT;
    char dir[] = "/tmp/lcb-arc-XXXXXX", cmd[512], path[512], line[256];
    struct lcb_err err;
    FILE *f;
    int fd;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(write_sample(&arc, 3, 2, NULL, &mt, &err), 0);
    snprintf(path, sizeof(path), "%s/x.tar.zst", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_INT(lcb_archive_fd_sink(&fd, arc.ptr, arc.len, &err), 0);
    close(fd);
    snprintf(cmd, sizeof(cmd), "cd %s && mkdir out && zstd -q -t x.tar.zst && "
             "tar --zstd -xf x.tar.zst -C out", dir);
    CHECK_INT(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/out/entities/Building/000001.json", dir);
    CHECK(file_equals(path, page1, strlen(page1)));
    snprintf(path, sizeof(path), "%s/out/entities/Building/000002.json", dir);
    CHECK(file_equals(path, page2, strlen(page2)));
    snprintf(path, sizeof(path), "%s/out/%s/000001.json", dir, BUS_DIR);
    CHECK(file_equals(path, page3, strlen(page3)));
    snprintf(path, sizeof(path), "%s/out/blob.bin", dir);
    CHECK(file_equals(path, blob, sizeof(blob)));
    snprintf(path, sizeof(path), "%s/out/MANIFEST.json", dir);
    CHECK(file_equals(path, mt.ptr, mt.len));
    /* the listing: our order, MANIFEST.json last, mode 0644, owner 0/0, the pinned mtime */
    snprintf(cmd, sizeof(cmd), "cd %s && TZ=UTC tar --zstd --numeric-owner -tvf x.tar.zst", dir);
    f = popen(cmd, "r");
    while (f && fgets(line, sizeof(line), f))
        lcb_buf_adds(&list, line);
    CHECK(f && pclose(f) == 0);
    CHECK(strstr(lcb_buf_str(&list), "-rw-r--r-- 0/0             151 2025-11-28 12:01 "
                                     "entities/Building/000001.json\n") != NULL);
    CHECK(strstr(lcb_buf_str(&list), " MANIFEST.json\n") != NULL &&
          strcmp(lcb_buf_str(&list) + list.len - 14, "MANIFEST.json\n") == 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    lcb_buf_release(&arc);
    lcb_buf_release(&mt);
    lcb_buf_release(&list);
}

/* Which layer caught a corruption. */
static int
layer(const struct lcb_err *err)
{
    char line[LCB_ERR_MSG_LEN + 8 * LCB_ERR_FRAME_LEN];

    lcb_err_format(err, line, sizeof(line));
    if (strstr(line, "zstd: "))
        return 0;
    if (strstr(line, "tar: "))
        return 1;
    if (strstr(line, "entry \"") || strstr(line, "MANIFEST.json") || strstr(line, "type \""))
        return 2;
    return 3;
}

/* Flip each byte of a small archive (xor 0x01 and xor 0xff): the reader refuses it with
 * LCB_ECORRUPT and a message naming the layer, or, for a flip that leaves the content intact,
 * the whole-object SHA-256 (what verify compares with the catalog) differs. */
static void
test_flip_every_byte(void)
{
    struct lcb_archive_writer *w;
    struct lcb_manifest m;
    struct lcb_archive_totals wt, rt;
    struct lcb_buf arc = LCB_BUF_INIT;
    struct lcb_err err;
    size_t i, counts[5] = { 0 }, bad_code = 0, unnamed = 0, sha_only_late = 0;
    int x, rc;

    CHECK_INT(lcb_archive_writer_new(&w, buf_sink, &arc, 3, 0, &err), 0);
    lcb_archive_writer_set_mtime(w, MTIME);
    lcb_manifest_init(&m, "broker");
    lcb_manifest_count_add(&m, "Building", 5);
    CHECK_INT(lcb_archive_writer_add(w, "entities/Building/000001.json", page1, strlen(page1),
                                     &err), 0);
    CHECK_INT(lcb_archive_writer_add(w, "entities/Building/000002.json", page2, strlen(page2),
                                     &err), 0);
    CHECK_INT(lcb_archive_writer_finish(w, &m, &wt, &err), 0);
    lcb_archive_writer_free(w);
    lcb_manifest_release(&m);
    for (x = 0; x < 2; x++) {
        for (i = 0; i < arc.len; i++) {
            arc.ptr[i] ^= (char)(x ? 0xff : 0x01);
            rc = read_all(&arc, 0, LCB_ARCHIVE_CHECK_JSON, NULL, &rt, &err);
            arc.ptr[i] ^= (char)(x ? 0xff : 0x01);
            if (rc == 0) {
                counts[strcmp(rt.sha256, wt.sha256) != 0 ? 4 : 3]++;
                if (i >= 6) /* not in the frame header: slack bits of an entropy table */
                    sha_only_late++;
                continue;
            }
            if (err.code != LCB_ECORRUPT)
                bad_code++;
            if (layer(&err) == 3)
                unnamed++;
            counts[layer(&err) < 3 ? layer(&err) : 3]++;
        }
    }
    fprintf(stderr, "  flips over %zu bytes x2: zstd %zu, tar %zu, entry/manifest %zu, "
            "whole-object sha256 only %zu (%zu past the frame header), undetected %zu\n", arc.len,
            counts[0], counts[1], counts[2], counts[4], sha_only_late, counts[3]);
    /* A flip the reader lets through left the content intact (zstd's checksum and every entry's
     * SHA-256 matched): only the whole-object SHA-256 recorded at write time can see it. */
    CHECK_INT(counts[3], 0);
    CHECK_INT(bad_code, 0);
    CHECK_INT(unnamed, 0);
    CHECK(counts[4] + 0 <= arc.len / 50);
    CHECK(counts[0] + counts[1] + counts[2] + counts[4] == 2 * arc.len);
    lcb_buf_release(&arc);
}

/* Where tar offset i lies: 1 in the data of an entry other than MANIFEST.json, 2 in a header,
 * 0 elsewhere. Walks the ustar headers (pax headers are entries too; our short names need none). */
static int
where(const unsigned char *tar, size_t len, size_t i)
{
    size_t off = 0, size;

    while (off + 512 <= len && tar[off] != 0) {
        size = (size_t)strtoul((const char *)tar + off + 124, NULL, 8);
        if (i >= off && i < off + 512)
            return 2;
        if (i >= off + 512 && i < off + 512 + size)
            return strcmp((const char *)tar + off, LCB_MANIFEST_NAME) != 0;
        off += 512 + (size + 511) / 512 * 512;
    }
    return 0;
}

/* Someone alters the tar and compresses it again, so zstd's checksum holds: every change to an
 * entry's bytes is caught naming the entry, a damaged header by tar; changes to what no reader can
 * check (mtime, owner, padding, MANIFEST.json's own descriptive fields) are left to the
 * whole-object SHA-256 that the catalog and the sidecar manifest keep. */
static void
test_tamper_and_recompress(void)
{
    struct lcb_buf arc = LCB_BUF_INIT, tar = LCB_BUF_INIT, again = LCB_BUF_INIT;
    struct lcb_archive_totals wt, rt;
    struct lcb_zst_enc *z;
    struct lcb_err err;
    size_t i, counts[5] = { 0 }, data_missed = 0, data_bytes = 0;
    int rc;

    CHECK_INT(write_sample(&arc, 3, 0, &wt, NULL, &err), 0);
    {
        struct mem m = { (const unsigned char *)arc.ptr, arc.len, 0, 0 };
        struct lcb_zst_dec *d;
        char buf[8192];
        size_t got;

        CHECK_INT(lcb_zst_dec_new(&d, mem_source, &m, 0, &err), 0);
        while (lcb_zst_dec_read(d, buf, sizeof(buf), &got, &err) == 0 && got > 0)
            lcb_buf_add(&tar, buf, got);
        lcb_zst_dec_free(d);
    }
    CHECK_INT(tar.len, wt.tar_bytes);
    for (i = 0; i < tar.len; i += where((unsigned char *)tar.ptr, tar.len, i) == 2 ? 1 : 41) {
        tar.ptr[i] ^= 0x04;
        lcb_buf_reset(&again);
        lcb_zst_enc_new(&z, 1, 0, buf_sink, &again, &err);
        lcb_zst_enc_write(z, tar.ptr, tar.len, &err);
        lcb_zst_enc_finish(z, &err);
        lcb_zst_enc_free(z);
        tar.ptr[i] ^= 0x04;
        rc = read_all(&again, 0, LCB_ARCHIVE_CHECK_JSON, NULL, &rt, &err);
        if (where((const unsigned char *)tar.ptr, tar.len, i) == 1) {
            data_bytes++;
            if (rc == 0 || layer(&err) != 2)
                data_missed++;
        }
        if (rc == 0)
            counts[strcmp(rt.sha256, wt.sha256) != 0 ? 4 : 3]++;
        else
            counts[layer(&err)]++;
    }
    fprintf(stderr, "  tar changes recompressed: tar %zu, entry/manifest %zu, zstd %zu, "
            "whole-object sha256 only %zu, undetected %zu; %zu in entry data, %zu missed\n",
            counts[1], counts[2], counts[0], counts[4], counts[3], data_bytes, data_missed);
    CHECK_INT(counts[3], 0);
    CHECK(data_bytes > 1000);
    CHECK_INT(data_missed, 0);
    CHECK(counts[1] > 0);
    lcb_buf_release(&arc);
    lcb_buf_release(&tar);
    lcb_buf_release(&again);
}

static void
test_truncations(void)
{
    struct lcb_buf arc = LCB_BUF_INIT, cut = LCB_BUF_INIT;
    struct lcb_err err;
    size_t i, refused = 0, tried = 0, wrong = 0;

    CHECK_INT(write_sample(&arc, 3, 0, NULL, NULL, &err), 0);
    for (i = 0; i < arc.len; i += 37, tried++) {
        lcb_buf_reset(&cut);
        lcb_buf_add(&cut, arc.ptr, i);
        if (read_all(&cut, 0, 0, NULL, NULL, &err) < 0)
            refused++;
        if (err.code != LCB_ECORRUPT)
            wrong++;
    }
    CHECK_INT(refused, tried);
    CHECK_INT(wrong, 0);
    lcb_buf_reset(&cut);
    lcb_buf_add(&cut, arc.ptr, arc.len - 1);
    CHECK_INT(read_all(&cut, 0, 0, NULL, NULL, &err), -1);
    CHECK(strstr(err.msg, "zstd: truncated") != NULL);
    lcb_buf_release(&arc);
    lcb_buf_release(&cut);
}

/* ---- hand-made archives: tar entries and any MANIFEST.json, straight through arc and zst ---- */

struct raw {
    const char *name;
    const char *data;
};

static int
raw_tar(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    return lcb_zst_enc_write(ud, data, len, err);
}

static void
build_raw(struct lcb_buf *out, const struct raw *e, size_t n, const char *trailer)
{
    struct lcb_zst_enc *z;
    struct lcb_arc_writer *w;
    struct lcb_err err;
    size_t i;

    lcb_buf_reset(out);
    lcb_zst_enc_new(&z, 3, 0, buf_sink, out, &err);
    lcb_arc_writer_new(&w, raw_tar, z, &err);
    for (i = 0; i < n; i++) {
        lcb_arc_writer_begin(w, e[i].name, (int64_t)strlen(e[i].data), MTIME, &err);
        lcb_arc_writer_data(w, e[i].data, strlen(e[i].data), &err);
        lcb_arc_writer_end(w, &err);
    }
    lcb_arc_writer_close(w, &err);
    if (trailer)
        lcb_zst_enc_write(z, trailer, strlen(trailer), &err);
    lcb_zst_enc_finish(z, &err);
    lcb_arc_writer_free(w);
    lcb_zst_enc_free(z);
}

/* A MANIFEST.json for entries given as name/data pairs, with a few things to get wrong. */
static char *
manifest_for(const char *kind, const struct raw *e, size_t n, const char *skip,
             const char *wrong_sha, int64_t building)
{
    struct lcb_manifest m;
    struct lcb_buf out = LCB_BUF_INIT;
    struct lcb_err err;
    char hex[LCB_SHA256_HEX];
    size_t i;

    lcb_manifest_init(&m, kind);
    if (building >= 0)
        lcb_manifest_count_add(&m, "Building", (uint64_t)building);
    for (i = 0; i < n; i++) {
        if (skip && strcmp(e[i].name, skip) == 0)
            continue;
        lcb_sha256_hex(e[i].data, strlen(e[i].data), hex);
        if (wrong_sha && strcmp(e[i].name, wrong_sha) == 0)
            hex[0] = hex[0] == 'a' ? 'b' : 'a';
        lcb_manifest_entry_add(&m, e[i].name, strlen(e[i].data), hex, -1, &err);
    }
    lcb_manifest_write(&m, &out);
    lcb_manifest_release(&m);
    return lcb_buf_detach(&out, NULL);
}

static void
refused(const struct lcb_buf *arc, int flags, const char *want)
{
    struct lcb_err err;
    char line[LCB_ERR_MSG_LEN + 8 * LCB_ERR_FRAME_LEN];

    CHECK_INT(read_all(arc, 0, flags, NULL, NULL, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_err_format(&err, line, sizeof(line));
    if (!strstr(line, want))
        fprintf(stderr, "  got \"%s\"\n  want \"%s\"\n", line, want);
    CHECK(strstr(line, want) != NULL);
}

static void
test_lying_manifests(void)
{
    struct raw e[5] = {
        { "entities/Building/000001.json", page1 },
        { "entities/Building/000002.json", page2 },
        { "notes.txt", "not json" },
    };
    struct lcb_buf arc = LCB_BUF_INIT;
    struct lcb_err err;
    char *mt;

    /* the honest one passes */
    mt = manifest_for("broker", e, 3, NULL, NULL, 5);
    e[3] = (struct raw){ "MANIFEST.json", mt };
    build_raw(&arc, e, 4, NULL);
    CHECK_INT(read_all(&arc, 0, LCB_ARCHIVE_CHECK_JSON, NULL, NULL, &err), 0);
    free(mt);

    mt = manifest_for("broker", e, 3, NULL, "entities/Building/000002.json", 5);
    e[3].data = mt;
    build_raw(&arc, e, 4, NULL);
    refused(&arc, 0, "entry \"entities/Building/000002.json\": sha256 ");
    free(mt);

    mt = manifest_for("broker", e, 3, "notes.txt", NULL, 5);
    e[3].data = mt;
    build_raw(&arc, e, 4, NULL);
    refused(&arc, 0, "entry \"notes.txt\" is not listed in MANIFEST.json");
    free(mt);

    mt = manifest_for("broker", e, 3, NULL, NULL, 5); /* lists notes.txt, which is left out */
    e[2] = (struct raw){ "MANIFEST.json", mt };
    build_raw(&arc, e, 3, NULL);
    refused(&arc, 0, "entry \"notes.txt\" listed in MANIFEST.json is missing from the archive");
    e[2] = (struct raw){ "notes.txt", "not json" };
    e[3] = (struct raw){ "MANIFEST.json", mt };

    build_raw(&arc, e, 3, NULL); /* no manifest at all */
    refused(&arc, 0, "no MANIFEST.json: the archive is truncated or was not written by lcbackup");

    e[4] = (struct raw){ "late.txt", "x" };
    build_raw(&arc, e, 5, NULL);
    refused(&arc, 0, "entry \"late.txt\" follows MANIFEST.json");

    build_raw(&arc, e, 4, "junk after the tar");
    refused(&arc, 0, "tar: data after the end-of-archive marker");

    build_raw(&arc, e, 4, NULL);
    lcb_buf_add(&arc, "trailing", 8);
    refused(&arc, 0, "zstd: not a zstd frame at compressed byte");
    free(mt);

    /* counts: the pages hold 5 Buildings */
    mt = manifest_for("broker", e, 3, NULL, NULL, 6);
    e[3].data = mt;
    build_raw(&arc, e, 4, NULL);
    CHECK_INT(read_all(&arc, 0, 0, NULL, NULL, &err), 0); /* counts need the JSON check */
    refused(&arc, LCB_ARCHIVE_CHECK_JSON,
            "type \"Building\": 5 entities in the archive, MANIFEST.json counts 6");
    free(mt);
    mt = manifest_for("config", e, 3, NULL, NULL, 6); /* other kinds: no page counting */
    e[3].data = mt;
    build_raw(&arc, e, 4, NULL);
    CHECK_INT(read_all(&arc, 0, LCB_ARCHIVE_CHECK_JSON, NULL, NULL, &err), 0);
    free(mt);

    /* invalid JSON in a .json entry */
    e[1].data = "[{\"id\":\"urn:ngsi-ld:Building:4\"},]";
    mt = manifest_for("broker", e, 3, NULL, NULL, 5);
    e[3].data = mt;
    build_raw(&arc, e, 4, NULL);
    refused(&arc, LCB_ARCHIVE_CHECK_JSON,
            "entry \"entities/Building/000002.json\": not valid JSON: byte 33: expected a value");
    free(mt);
    e[1].data = page2;

    /* a duplicate entry; an unparsable manifest; an entry size that disagrees */
    e[2] = (struct raw){ "entities/Building/000001.json", page1 };
    mt = manifest_for("broker", e, 2, NULL, NULL, 5);
    e[3].data = mt;
    build_raw(&arc, e, 4, NULL);
    refused(&arc, 0, "entry \"entities/Building/000001.json\" appears twice in the archive");
    free(mt);
    e[2] = (struct raw){ "MANIFEST.json", "{\"format\":1}" };
    build_raw(&arc, e, 3, NULL);
    refused(&arc, 0, "entry \"MANIFEST.json\": manifest: kind: missing");
    lcb_buf_release(&arc);
}

static int
failing_sink(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    size_t *left = ud;

    (void)data;
    if (len > *left)
        return lcb_err_set(err, LCB_ETEMP, "upload part 3: 503 SlowDown");
    *left -= len;
    return 0;
}

static void
test_writer_errors(void)
{
    struct lcb_archive_writer *w;
    struct lcb_buf arc = LCB_BUF_INIT;
    struct lcb_manifest m;
    struct lcb_err err;
    size_t left = 100000, i;
    int rc = 0;

    CHECK_INT(lcb_archive_writer_new(&w, buf_sink, &arc, 99, 0, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_archive_writer_new(&w, buf_sink, &arc, 3, 0, &err), 0);
    CHECK_INT(lcb_archive_writer_add(w, "MANIFEST.json", "{}", 2, &err), -1);
    CHECK(strstr(err.msg, "reserved name") != NULL);
    CHECK_INT(lcb_archive_writer_add(w, "/abs.json", "{}", 2, &err), -1);
    CHECK_INT(lcb_archive_writer_add(w, "a.json", "{}", 2, &err), 0);
    CHECK_INT(lcb_archive_writer_add(w, "a.json", "{}", 2, &err), -1);
    CHECK(strstr(err.msg, "added twice") != NULL);
    CHECK_INT(lcb_archive_writer_begin(w, "b.txt", 5, &err), 0);
    CHECK_INT(lcb_archive_writer_write(w, "123456", 6, &err), -1);
    CHECK(strstr(err.msg, "more data than the 5 bytes declared") != NULL);
    CHECK_INT(lcb_archive_writer_write(w, "123", 3, &err), 0);
    CHECK_INT(lcb_archive_writer_end(w, &err), -1);
    CHECK(strstr(err.msg, "3 bytes written of the 5 declared") != NULL);
    CHECK_INT(lcb_archive_writer_add(w, "c.json", "{}", 2, &err), -1); /* failed for good */
    CHECK(strstr(err.msg, "failed earlier") != NULL);
    lcb_archive_writer_free(w);

    CHECK_INT(lcb_archive_writer_new(&w, buf_sink, &arc, 3, 0, &err), 0);
    CHECK_INT(lcb_archive_writer_add(w, "p.json", "[1,2,", 5, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_err_format(&err, (char[512]){ 0 }, 512);
    CHECK(strstr(err.msg, "not valid JSON: byte 5: unexpected end of JSON") != NULL);
    CHECK_STR(err.frames[0], "archive entry \"p.json\"");
    lcb_archive_writer_free(w);

    /* the sink's error (an S3 part upload) comes back with its code */
    fill_blob();
    CHECK_INT(lcb_archive_writer_new(&w, failing_sink, &left, 1, 0, &err), 0);
    for (i = 0; i < 100 && rc == 0; i++) {
        char name[32];
        size_t k;
        snprintf(name, sizeof(name), "blob%02zu.bin", i);
        for (k = 0; k < sizeof(blob); k += 2) /* no two entries alike: zstd cannot shrink them */
            blob[k] = (unsigned char)(blob[k] * 31 + i + (k >> 8));
        rc = lcb_archive_writer_add(w, name, blob, sizeof(blob), &err);
    }
    fill_blob();
    if (rc == 0) {
        lcb_manifest_init(&m, "broker");
        rc = lcb_archive_writer_finish(w, &m, NULL, &err);
        lcb_manifest_release(&m);
    }
    CHECK_INT(rc, -1);
    CHECK_INT(err.code, LCB_ETEMP);
    CHECK_STR(err.msg, "upload part 3: 503 SlowDown");
    lcb_archive_writer_free(w);
    lcb_archive_writer_free(NULL);
    lcb_archive_reader_free(NULL);
    lcb_buf_release(&arc);
}

struct counting {
    uint64_t bytes;
};

static int
count_sink(void *ud, const void *data, size_t len, struct lcb_err *err)
{
    (void)data, (void)err;
    ((struct counting *)ud)->bytes += len;
    return 0;
}

static long
max_rss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 64 MiB of 1 MiB pages: the peak RSS grows by far less than what went through. */
static void
test_bounded_memory(void)
{
#if defined(__SANITIZE_ADDRESS__)
    const size_t total = 8u << 20; /* ASan's shadow memory makes RSS meaningless: check data */
#else
    const size_t total = 64u << 20;
#endif
    const size_t page = 1u << 20;
    struct lcb_archive_writer *w;
    struct counting c = { 0 };
    struct lcb_archive_totals t;
    struct lcb_manifest m;
    struct lcb_err err;
    char *buf = lcb_xmalloc(page), name[64];
    long before, after;
    size_t i, off;
    int rc = 0;

    for (off = 0, i = 0; off + 200 < page; i++) /* a JSON array of entity-like objects */
        off += (size_t)snprintf(buf + off, page - off, "%s{\"id\":\"urn:ngsi-ld:Sensor:%zu\","
                                "\"temperature\":{\"type\":\"Property\",\"value\":%zu.%zu}}",
                                i ? "," : "[", i, i * 7 % 41, i % 10);
    buf[off++] = ']';
    before = max_rss_kib();
    CHECK_INT(lcb_archive_writer_new(&w, count_sink, &c, 3, 2, &err), 0);
    for (i = 0; i < total / page && rc == 0; i++) {
        snprintf(name, sizeof(name), "entities/Sensor/%06zu.json", i + 1);
        rc = lcb_archive_writer_add(w, name, buf, off, &err);
    }
    CHECK_INT(rc, 0);
    lcb_manifest_init(&m, "broker");
    CHECK_INT(lcb_archive_writer_finish(w, &m, &t, &err), 0);
    after = max_rss_kib();
    lcb_archive_writer_free(w);
    CHECK_INT(t.bytes, c.bytes);
    CHECK_INT(t.entries, total / page + 1);
    CHECK(t.tar_bytes > total / page * off);
    fprintf(stderr, "  %zu MiB of pages -> %llu KiB compressed; peak RSS %ld -> %ld KiB\n",
            total >> 20, (unsigned long long)(c.bytes >> 10), before, after);
#if !defined(__SANITIZE_ADDRESS__)
    CHECK(after - before < 48 * 1024);
#endif
    lcb_manifest_release(&m);
    free(buf);
}

int
main(void)
{
    fill_blob();
    RUN(test_round_trip);
    RUN(test_add_checked);
    RUN(test_spool_tmpdir);
    RUN(test_partial_reads_and_verify);
    RUN(test_gnu_tar_extracts);
    RUN(test_flip_every_byte);
    RUN(test_tamper_and_recompress);
    RUN(test_truncations);
    RUN(test_lying_manifests);
    RUN(test_writer_errors);
    RUN(test_bounded_memory);
    return harness_done();
}
