/* idset_test.c - the id set in bounded memory: exact answers and digest across spills to disk,
 * spill failures, and the temporary file's hygiene. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/ngsi/idset.h"
#include "harness.h"

#define TINY_BUDGET (1024 * 16) /* 1024 slots: 767 ids, then a spill */
#define NIDS 100000

/* python3: sum(int.from_bytes(sha256(b'urn:ngsi-ld:Streetlight:lego-%06d' % i).digest(), 'big')
 *              for i in range(100000)) % 2**256 */
#define DIGEST_100K "79606e57d59e42b4599bb6852ad2e90babe0e30fc3942824fea95df58e435864"

static char tmp[] = "/tmp/lcb-idset-test-XXXXXX";

static const char *
light(int i)
{
    static char id[64];

    snprintf(id, sizeof(id), "urn:ngsi-ld:Streetlight:lego-%06d", i);
    return id;
}

/* Add NIDS ids; every 7th one brings back a recent id (in the table or just spilled) and an old
 * one (on disk). Returns the count of 1s; *zeros gets the count of 0s, *repeats the repeats. */
static int
add_with_repeats(struct lcb_idset *s, int *zeros, int *repeats, struct lcb_err *err)
{
    int i, ones = 0, rc;

    *zeros = *repeats = 0;
    for (i = 0; i < NIDS; i++) {
        if ((rc = lcb_idset_add(s, light(i), err)) < 0)
            return -1;
        ones += rc == 1;
        if (i % 7 || i < 1000)
            continue;
        *zeros += lcb_idset_add(s, light(i - 700), err) == 0;
        *zeros += lcb_idset_add(s, light(i / 3), err) == 0;
        *repeats += 2;
    }
    return ones;
}

static void
test_idset_spills_keep_exact_answers(void)
{
    struct lcb_idset s, ref;
    struct lcb_err err;
    char hs[65], hr[65], id[64];
    int i, zeros, repeats, present = 0, absent = 0;
    size_t reads;

    setenv("TMPDIR", tmp, 1);
    lcb_idset_init(&s);
    lcb_idset_set_budget(&s, TINY_BUDGET);
    for (i = 0; i < 500; i++)
        lcb_idset_add(&s, light(i), &err);
    CHECK_INT(s.spills, 0);
    CHECK_INT(lcb_idset_has(&s, light(499), &err), 1);
    CHECK_INT(lcb_idset_has(&s, light(500), &err), 0);
    lcb_idset_release(&s);

    lcb_idset_init(&s);
    lcb_idset_set_budget(&s, TINY_BUDGET);
    CHECK_INT(add_with_repeats(&s, &zeros, &repeats, &err), NIDS);
    CHECK_INT(zeros, repeats);
    CHECK_INT(s.n, NIDS);
    CHECK(s.spills >= NIDS / 768);
    CHECK(s.cap == 1024);
    for (i = 0; i < NIDS; i++)
        present += lcb_idset_has(&s, light(i), &err) == 1;
    CHECK_INT(present, NIDS);
    reads = s.disk_reads;
    for (i = 0; i < 10000; i++) {
        snprintf(id, sizeof(id), "urn:ngsi-ld:Streetlight:absent-%d", i);
        absent += lcb_idset_has(&s, id, &err) == 0;
    }
    CHECK_INT(absent, 10000);
    CHECK(s.disk_reads > reads + 1000); /* the tiny filter is full: the disk said no */

    lcb_idset_init(&ref); /* the default budget: no spill, and the ids in reverse order */
    for (i = NIDS - 1; i >= 0; i--)
        lcb_idset_add(&ref, light(i), &err);
    CHECK_INT(ref.spills, 0);
    CHECK_STR(lcb_idset_digest_hex(&s, hs), lcb_idset_digest_hex(&ref, hr));
    CHECK_STR(hs, DIGEST_100K);
    lcb_idset_release(&ref);
    lcb_idset_release(&s);
}

static void
expect_spill_failure(const char *dir, const char *why)
{
    struct lcb_idset s;
    struct lcb_err err;
    int i, rc = 1;

    setenv("TMPDIR", dir, 1);
    lcb_idset_init(&s);
    lcb_idset_set_budget(&s, TINY_BUDGET);
    for (i = 0; i < 1000 && rc == 1; i++)
        rc = lcb_idset_add(&s, light(i), &err);
    CHECK_INT(rc, -1);
    CHECK_INT(i, 768); /* the first spill */
    CHECK_INT(err.code, LCB_EIO);
    CHECK(strstr(err.msg, dir) != NULL);
    CHECK(strstr(err.msg, why) != NULL);
    CHECK_INT(lcb_idset_add(&s, light(2000), &err), -1);
    CHECK_INT(lcb_idset_has(&s, light(1), &err), -1);
    lcb_idset_release(&s);
}

static void
test_idset_spill_failure_names_the_directory(void)
{
    char file[PATH_MAX];
    FILE *f;

    expect_spill_failure("/nonexistent/lcb-idset", "No such file or directory");
    snprintf(file, sizeof(file), "%s/a-file", tmp);
    f = fopen(file, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    expect_spill_failure(file, "not a directory");
    unlink(file);
}

static int
dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

/* The mode of this process's deleted file under dir, -1 when there is none. */
static int
deleted_file_mode(const char *dir)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    char link[PATH_MAX + 32], target[PATH_MAX];
    struct stat st;
    ssize_t len;
    int mode = -1;

    while (d && (e = readdir(d))) {
        snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
        if ((len = readlink(link, target, sizeof(target) - 1)) < 0)
            continue;
        target[len] = '\0';
        if (strncmp(target, dir, strlen(dir)) == 0 && strstr(target, " (deleted)") &&
            stat(link, &st) == 0)
            mode = (int)(st.st_mode & 0777);
    }
    if (d)
        closedir(d);
    return mode;
}

static void
test_idset_temporary_file_is_private_and_unlinked(void)
{
    struct lcb_idset s;
    struct lcb_err err;
    int i;

    setenv("TMPDIR", tmp, 1);
    lcb_idset_init(&s);
    lcb_idset_set_budget(&s, 1 << 20);
    for (i = 0; i < 200000; i++) /* ~5 MB on disk: more than SQLite's 1 MiB cache */
        lcb_idset_add(&s, light(i), &err);
    CHECK(s.spills >= 3);
    CHECK_INT(dir_entries(tmp), 0);
    CHECK_INT(deleted_file_mode(tmp), 0600);
    lcb_idset_release(&s);
    CHECK_INT(deleted_file_mode(tmp), -1);
}

static void
test_idset_budget_from_environment(void)
{
    struct lcb_idset s;

    setenv("LCBACKUP_ID_INDEX_BYTES", "65536", 1);
    lcb_idset_init(&s);
    CHECK_INT(s.max_cap, 4096);
    lcb_idset_reserve(&s, 1000000);
    CHECK_INT(s.cap, 4096); /* reserve stays within the budget */
    lcb_idset_release(&s);
    unsetenv("LCBACKUP_ID_INDEX_BYTES");
    lcb_idset_init(&s);
    CHECK_INT(s.max_cap, LCB_IDSET_BUDGET / 16);
    lcb_idset_release(&s);
}

int
main(void)
{
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_idset_spills_keep_exact_answers);
    RUN(test_idset_spill_failure_names_the_directory);
    RUN(test_idset_temporary_file_is_private_and_unlinked);
    RUN(test_idset_budget_from_environment);
    rmdir(tmp);
    return harness_done();
}
