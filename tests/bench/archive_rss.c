/*
 * archive_rss.c - peak memory and speed of the archive pipeline (lib/archive) on a large export.
 *
 *   archive_rss [MIB [LEVEL [THREADS]]]       defaults: 200 MiB, level 3, 2 threads
 *
 * ARCHIVE_RSS_KEEP=path keeps the archive there (for `tar --zstd -tvf path`).
 *
 * A child process writes MIB of broker-like pages (1 MiB JSON arrays of ~1000 entities each,
 * pseudo-random values, so the ratio is realistic rather than flattering) through the archive
 * writer into an unlinked temporary file; a second child reads the file back with the JSON check
 * and verifies it. Each child's peak RSS comes from wait4(), so the two are measured apart and
 * nothing of the parent counts. Prints one line per phase and the closing "N passed, N failed"
 * line: a phase fails when its peak RSS reaches 64 MiB or verification fails.
 *
 * `make bench` runs it through tests/bench/bench-archive.sh. By hand, from the repository root,
 * after `make`:
 *   cc -std=c11 -D_GNU_SOURCE -O2 -o build/archive_rss tests/bench/archive_rss.c \
 *      build/release/liblcb.a $(pkg-config --libs libcurl openssl libcjson libzstd libarchive \
 *      sqlite3 libxml-2.0 libpq) -lpthread -lm && build/archive_rss 200
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/archive/archive.h"
#include "../../lib/core/mem.h"

#define PAGE (1u << 20)
#define LIMIT_KIB (64L * 1024)

static uint64_t rng = 88172645463325252ull;

static uint64_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A JSON array of NGSI-LD-like entities filling most of a 1 MiB page. Returns its length. */
static size_t
make_page(char *buf, size_t page_no, uint64_t *ids)
{
    size_t off = 0;
    int n = 0;

    buf[off++] = '[';
    while (off + 600 < PAGE) {
        uint64_t r = next_rand();
        off += (size_t)snprintf(
            buf + off, PAGE - off,
            "%s{\"id\":\"urn:ngsi-ld:Sensor:%06llu\",\"type\":\"Sensor\","
            "\"temperature\":{\"type\":\"Property\",\"value\":%.2f,\"unitCode\":\"CEL\","
            "\"observedAt\":\"2026-11-%02dT%02d:%02d:%02dZ\"},"
            "\"humidity\":{\"type\":\"Property\",\"value\":%llu},"
            "\"location\":{\"type\":\"GeoProperty\",\"value\":{\"type\":\"Point\","
            "\"coordinates\":[%.6f,%.6f]}},"
            "\"serial\":{\"type\":\"Property\",\"value\":\"%016llx\"},"
            "\"refBuilding\":{\"type\":\"Relationship\",\"object\":\"urn:ngsi-ld:Building:%llu\"}}",
            n ? "," : "", (unsigned long long)++*ids, (double)(r % 4000) / 100.0 - 5,
            (int)((r >> 12) % 28) + 1, (int)((r >> 20) % 24), (int)((r >> 28) % 60),
            (int)((r >> 36) % 60), (unsigned long long)(r >> 44) % 100,
            -3.7 + (double)(r % 100000) / 1e6, 40.4 + (double)((r >> 17) % 100000) / 1e6,
            (unsigned long long)next_rand(), (unsigned long long)(r >> 50) % 500 + page_no % 3);
        n++;
    }
    buf[off++] = ']';
    return off;
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
write_archive(int fd, size_t mib, int level, int threads)
{
    struct lcb_archive_writer *w;
    struct lcb_archive_totals t;
    struct lcb_manifest m;
    struct lcb_err err;
    char *page = lcb_xmalloc(PAGE), name[64], line[1024];
    uint64_t ids = 0;
    double t0 = now_s(), spent = 0, t1;
    size_t i, len, raw = 0;

    lcb_manifest_init(&m, "broker");
    if (lcb_archive_writer_new(&w, lcb_archive_fd_sink, &fd, level, threads, &err) < 0)
        goto fail;
    for (i = 0; raw < mib * PAGE; i++) {
        len = make_page(page, i, &ids);
        snprintf(name, sizeof(name), "entities/Sensor/%06zu.json", i + 1);
        t1 = now_s();
        if (lcb_archive_writer_add(w, name, page, len, &err) < 0)
            goto fail;
        spent += now_s() - t1;
        raw += len;
    }
    lcb_manifest_count_add(&m, "Sensor", ids);
    t1 = now_s();
    if (lcb_archive_writer_finish(w, &m, &t, &err) < 0)
        goto fail;
    spent += now_s() - t1;
    printf("write: %zu MiB in %zu pages (%llu entities), level %d, %d threads: %.2f s in the "
           "writer (%.2f s with page generation), %.0f MiB/s, %.1f MiB compressed (ratio %.1f)\n",
           raw >> 20, i, (unsigned long long)ids, level, threads, spent, now_s() - t0,
           (double)raw / (1 << 20) / spent, (double)t.bytes / (1 << 20),
           (double)raw / (double)t.bytes);
    lcb_archive_writer_free(w);
    lcb_manifest_release(&m);
    free(page);
    return 0;
fail:
    fprintf(stderr, "write: %s\n", lcb_err_format(&err, line, sizeof(line)));
    return 1;
}

static int
read_archive(int fd)
{
    struct lcb_archive_totals t;
    struct lcb_manifest m;
    struct lcb_err err;
    char line[1024];
    double t0 = now_s();

    if (lcb_archive_verify(&t, &m, lcb_archive_fd_source, &fd, LCB_ARCHIVE_CHECK_JSON, &err) < 0) {
        fprintf(stderr, "read: %s\n", lcb_err_format(&err, line, sizeof(line)));
        return 1;
    }
    printf("read+verify: %zu entries, %.1f MiB of tar: %.2f s, %.0f MiB/s, sha256 %.16s...\n",
           t.entries, (double)t.tar_bytes / (1 << 20), now_s() - t0,
           (double)t.tar_bytes / (1 << 20) / (now_s() - t0), t.sha256);
    lcb_manifest_release(&m);
    return 0;
}

/* Run one phase in a child; returns its peak RSS in KiB, or -1 when it failed. */
static long
in_child(int (*fn)(int, size_t, int, int), int fd, size_t mib, int level, int threads)
{
    struct rusage ru;
    pid_t pid;
    int status;

    fflush(stdout);
    pid = fork();
    if (pid == 0)
    {
        int rc = fn(fd, mib, level, threads);
        fflush(stdout);
        _exit(rc);
    }
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ru.ru_maxrss : -1;
}

static int
do_write(int fd, size_t mib, int level, int threads)
{
    return write_archive(fd, mib, level, threads);
}

static int
do_read(int fd, size_t mib, int level, int threads)
{
    (void)mib, (void)level, (void)threads;
    lseek(fd, 0, SEEK_SET);
    return read_archive(fd);
}

int
main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 200;
    int level = argc > 2 ? atoi(argv[2]) : 3, threads = argc > 3 ? atoi(argv[3]) : 2;
    char path[] = "/tmp/lcb-bench-XXXXXX";
    const char *keep = getenv("ARCHIVE_RSS_KEEP");
    int fd = keep ? open(keep, O_RDWR | O_CREAT | O_TRUNC, 0644) : mkstemp(path), passed = 0,
        failed = 0;
    long w, r;

    if (fd < 0 || mib == 0) {
        fprintf(stderr, "usage: [ARCHIVE_RSS_KEEP=x.tar.zst] archive_rss [MIB [LEVEL [THREADS]]]\n");
        return 64;
    }
    if (!keep)
        unlink(path);
    w = in_child(do_write, fd, mib, level, threads);
    printf("write: peak RSS %.1f MiB (limit 64)\n", (double)w / 1024);
    (w > 0 && w < LIMIT_KIB) ? passed++ : failed++;
    r = in_child(do_read, fd, mib, level, threads);
    printf("read+verify: peak RSS %.1f MiB (limit 64)\n", (double)r / 1024);
    (r > 0 && r < LIMIT_KIB) ? passed++ : failed++;
    close(fd);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
