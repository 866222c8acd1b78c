/* arc_test.c - lib/ext/arc.c: entry names, a written tar read back (short and pax-long names,
 * metadata), and the reader's refusals on hand-made ustar headers (absolute paths, "..", links,
 * directories, damaged checksums, truncation). */
#include "../../lib/ext/arc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/buf.h"
#include "harness.h"

struct mem {
    const unsigned char *p;
    size_t len, pos;
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
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    *got = n;
    return 0;
}

static int
failing_source(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err)
{
    (void)ud, (void)buf, (void)cap, (void)got;
    return lcb_err_set(err, LCB_ETEMP, "GET range: connection reset");
}

static void
test_name_check(void)
{
    static const char *const good[] = { "MANIFEST.json", "entities/Building/000001.json",
                                        "ecs/legocity-cluster/services/broker.json", "a..b/.c",
                                        "ssm/parameters.json" };
    static const char *const bad[] = { "", "/etc/passwd", "../x", "a/../b", "a/..", "./a", "a//b",
                                       "a/", "a\\b", "tab\there", "caf\xc3\xa9", "a/./b" };
    struct lcb_err err;
    char longname[1100];
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_INT(lcb_arc_name_check(good[i], &err), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = '\0';
        CHECK_INT(lcb_arc_name_check(bad[i], &err), -1);
        CHECK_INT(err.code, LCB_EUSAGE);
        CHECK(strstr(err.msg, "entry name") != NULL);
    }
    lcb_arc_name_check("../x", &err);
    CHECK_STR(err.msg, "entry name \"../x\": \"..\" component");
    lcb_arc_name_check("/abs", &err);
    CHECK_STR(err.msg, "entry name \"/abs\": absolute path");
    memset(longname, 'a', sizeof(longname));
    longname[sizeof(longname) - 1] = '\0';
    CHECK_INT(lcb_arc_name_check(longname, &err), -1);
}

struct ent {
    const char *name;
    const char *data;
};

static int
write_tar(struct lcb_buf *out, const struct ent *e, size_t n, struct lcb_err *err)
{
    struct lcb_arc_writer *w;
    size_t i;
    int rc = 0;

    if (lcb_arc_writer_new(&w, buf_sink, out, err) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++) {
        size_t len = strlen(e[i].data);
        rc = lcb_arc_writer_begin(w, e[i].name, (int64_t)len, 1764331267, err);
        if (rc == 0 && len > 3) { /* in two pieces */
            rc = lcb_arc_writer_data(w, e[i].data, 3, err);
            if (rc == 0)
                rc = lcb_arc_writer_data(w, e[i].data + 3, len - 3, err);
        } else if (rc == 0) {
            rc = lcb_arc_writer_data(w, e[i].data, len, err);
        }
        if (rc == 0)
            rc = lcb_arc_writer_end(w, err);
    }
    if (rc == 0)
        rc = lcb_arc_writer_close(w, err);
    lcb_arc_writer_free(w);
    return rc;
}

/* Read every entry; names and data appended to out as "name=data;". Returns 0 or -1. */
static int
read_tar(struct lcb_buf *out, const void *p, size_t len, struct lcb_err *err)
{
    struct mem m = { p, len, 0 };
    struct lcb_arc_reader *r;
    struct lcb_arc_entry e;
    char buf[7];
    size_t got;
    int rc;

    lcb_err_clear(err);
    if (lcb_arc_reader_new(&r, mem_source, &m, err) < 0)
        return -1;
    while ((rc = lcb_arc_reader_next(r, &e, err)) == 1) {
        lcb_buf_addf(out, "%s=", e.name);
        if (e.mode != 0644 || e.mtime != 1764331267)
            lcb_buf_adds(out, "(bad metadata)");
        while ((rc = lcb_arc_reader_data(r, buf, sizeof(buf), &got, err)) == 0 && got > 0)
            lcb_buf_add(out, buf, got);
        if (rc < 0)
            break;
        lcb_buf_addch(out, ';');
    }
    lcb_arc_reader_free(r);
    return rc < 0 ? -1 : 0;
}

static void
test_round_trip(void)
{
    char longname[400];
    struct ent ents[] = {
        { "entities/Building/000001.json", "[{\"id\":\"urn:ngsi-ld:Building:1\"}]" },
        { "empty", "" },
        { longname, "pax" },
        { "MANIFEST.json", "{}" },
    };
    struct lcb_buf tar = LCB_BUF_INIT, got = LCB_BUF_INIT, want = LCB_BUF_INIT;
    struct lcb_err err;
    size_t i;

    memset(longname, 0, sizeof(longname));
    for (i = 0; i < 30; i++)
        strcat(longname, "directory/");
    strcat(longname, "x.json");
    CHECK_INT(write_tar(&tar, ents, 4, &err), 0);
    CHECK(tar.len % 10240 == 0);
    CHECK(memcmp(tar.ptr + 257, "ustar", 5) == 0);
    CHECK_INT(read_tar(&got, tar.ptr, tar.len, &err), 0);
    for (i = 0; i < 4; i++)
        lcb_buf_addf(&want, "%s=%s;", ents[i].name, ents[i].data);
    CHECK_STR(lcb_buf_str(&got), lcb_buf_str(&want));
    lcb_buf_release(&tar);
    lcb_buf_release(&got);
    lcb_buf_release(&want);
}

static void
test_writer_misuse(void)
{
    struct lcb_buf tar = LCB_BUF_INIT;
    struct lcb_arc_writer *w;
    struct lcb_err err;

    CHECK_INT(lcb_arc_writer_new(&w, buf_sink, &tar, &err), 0);
    CHECK_INT(lcb_arc_writer_begin(w, "../escape", 1, 0, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK_INT(lcb_arc_writer_data(w, "x", 1, &err), -1); /* no open entry */
    CHECK_INT(lcb_arc_writer_begin(w, "a", 2, 0, &err), 0);
    CHECK_INT(lcb_arc_writer_begin(w, "b", 2, 0, &err), -1);
    CHECK_INT(lcb_arc_writer_data(w, "xyz", 3, &err), -1);
    CHECK(strstr(err.msg, "exceeds its declared size") != NULL);
    CHECK_INT(lcb_arc_writer_data(w, "x", 1, &err), 0);
    CHECK_INT(lcb_arc_writer_end(w, &err), -1);
    CHECK(strstr(err.msg, "1 bytes short") != NULL);
    CHECK_INT(lcb_arc_writer_close(w, &err), -1);
    lcb_arc_writer_free(w);
    lcb_arc_writer_free(NULL);
    lcb_arc_reader_free(NULL);
    lcb_buf_release(&tar);
}

/* A ustar header block for name with typeflag and size; link may be NULL. */
static void
ustar(unsigned char *h, const char *name, char type, size_t size, const char *link)
{
    unsigned sum = 0;
    size_t i;

    memset(h, 0, 512);
    memcpy(h, name, strlen(name));
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0000000", 7);
    memcpy(h + 116, "0000000", 7);
    snprintf((char *)h + 124, 12, "%011zo", size);
    memcpy(h + 136, "15113370003", 11);
    h[156] = (unsigned char)type;
    if (link)
        memcpy(h + 157, link, strlen(link));
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    for (i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
}

/* One entry with 5 bytes of data, then the end-of-archive blocks. */
static size_t
one_entry_tar(unsigned char *t, const char *name, char type, const char *link)
{
    memset(t, 0, 512 * 4);
    ustar(t, name, type, type == '0' ? 5 : 0, link);
    if (type == '0') {
        memcpy(t + 512, "hello", 5);
        return 512 * 4;
    }
    return 512 * 3;
}

static void
test_reader_refusals(void)
{
    static const struct {
        const char *name;
        char type;
        const char *link;
        const char *want;
    } cases[] = {
        { "/etc/cron.d/x", '0', NULL, "absolute path" },
        { "../../x", '0', NULL, "\"..\" component" },
        { "a/../../x", '0', NULL, "\"..\" component" },
        { "link", '2', "/etc/passwd", "is a symbolic link" },
        { "hard", '1', "ok", "is a hard link" },
        { "dir/", '5', NULL, "only regular files" },
        { "fifo", '6', NULL, "is a FIFO" },
    };
    unsigned char t[512 * 4];
    struct lcb_buf out = LCB_BUF_INIT;
    struct lcb_err err;
    size_t i, n;

    n = one_entry_tar(t, "ok.txt", '0', NULL);
    CHECK_INT(read_tar(&out, t, n, &err), 0);
    CHECK(strstr(lcb_buf_str(&out), "ok.txt=") != NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = one_entry_tar(t, cases[i].name, cases[i].type, cases[i].link);
        lcb_buf_reset(&out);
        CHECK_INT(read_tar(&out, t, n, &err), -1);
        CHECK_INT(err.code, LCB_ECORRUPT);
        if (!strstr(err.msg, cases[i].want) && !strstr(err.frames[0], cases[i].want))
            fprintf(stderr, "  case %s: %s\n", cases[i].name, err.msg);
        CHECK(strstr(err.msg, cases[i].want) != NULL);
        CHECK(strncmp(err.msg, "tar: ", 5) == 0 || strstr(err.msg, "entry name") != NULL);
    }
    /* a damaged header checksum */
    n = one_entry_tar(t, "ok.txt", '0', NULL);
    t[10] ^= 0x20;
    CHECK_INT(read_tar(&out, t, n, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK(strncmp(err.msg, "tar: ", 5) == 0);
    /* truncated inside the data */
    n = one_entry_tar(t, "ok.txt", '0', NULL);
    CHECK_INT(read_tar(&out, t, 514, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_buf_release(&out);
}

static void
test_source_error(void)
{
    struct lcb_arc_reader *r;
    struct lcb_arc_entry e;
    struct lcb_err err;

    /* libarchive reads while opening, so either step may meet the source's error */
    if (lcb_arc_reader_new(&r, failing_source, NULL, &err) == 0)
        CHECK_INT(lcb_arc_reader_next(r, &e, &err), -1);
    else
        r = NULL;
    CHECK_INT(err.code, LCB_ETEMP);
    CHECK_STR(err.msg, "GET range: connection reset");
    lcb_arc_reader_free(r);
    CHECK(strlen(lcb_arc_version()) > 0);
}

int
main(void)
{
    RUN(test_name_check);
    RUN(test_round_trip);
    RUN(test_writer_misuse);
    RUN(test_reader_refusals);
    RUN(test_source_error);
    return harness_done();
}
