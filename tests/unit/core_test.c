/* core_test.c - err, buf, opt, clock and the redacting logger. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/core/buf.h"
#include "../../lib/core/clock.h"
#include "../../lib/core/err.h"
#include "../../lib/core/log.h"
#include "../../lib/core/opt.h"
#include "../../lib/core/secret.h"
#include "../../lib/core/tmp.h"
#include "harness.h"

#define S(x) ((char *)(x)) /* argv strings are writable in real life */

static void
test_err_chain(void)
{
    struct lcb_err err;
    char line[512];

    lcb_err_clear(&err);
    CHECK_INT(lcb_err_set(&err, LCB_ENOTFOUND, "HTTP 404 NoSuchKey: %s", "gone"), -1);
    lcb_wrap(&err, "get s3://b/k");
    lcb_wrap(&err, "verify %s", "broker-1");
    CHECK_STR(lcb_err_format(&err, line, sizeof(line)), "verify broker-1: get s3://b/k: HTTP 404 NoSuchKey: gone");
    CHECK_INT(lcb_exit_status(err.code), 66);
}

static void
test_err_frames_overflow(void)
{
    struct lcb_err err;
    char line[4096];
    int i;

    lcb_err_clear(&err);
    lcb_err_set(&err, LCB_ETEMP, "timeout");
    for (i = 0; i < 20; i++)
        lcb_wrap(&err, "frame %d", i);
    lcb_err_format(&err, line, sizeof(line));
    /* the innermost frames are kept: they say what failed */
    CHECK(strstr(line, "frame 0: timeout") != NULL);
    CHECK(strstr(line, "frame 19") == NULL);
    CHECK_INT(lcb_exit_status(LCB_ETEMP), 75);
}

static void
test_exit_codes(void)
{
    CHECK_INT(lcb_exit_status(LCB_OK), 0);
    CHECK_INT(lcb_exit_status(LCB_EPARTIAL), 2);
    CHECK_INT(lcb_exit_status(LCB_EDRILL), 3);
    CHECK_INT(lcb_exit_status(LCB_EUSAGE), 64);
    CHECK_INT(lcb_exit_status(LCB_ECORRUPT), 65);
    CHECK_INT(lcb_exit_status(LCB_EREFUSED), 69);
    CHECK_INT(lcb_exit_status(LCB_EINTERNAL), 70);
    CHECK_INT(lcb_exit_status(LCB_ELOCKED), 73);
    CHECK_INT(lcb_exit_status(LCB_EIO), 74);
    CHECK_INT(lcb_exit_status(LCB_EAUTH), 77);
    CHECK_INT(lcb_exit_status(LCB_ECONFIG), 78);
    CHECK_INT(lcb_exit_status((enum lcb_code)999), 70);
}

static void
test_buf_cap(void)
{
    struct lcb_buf b;

    lcb_buf_init(&b, 8);
    CHECK_INT(lcb_buf_adds(&b, "12345678"), 0);
    CHECK_INT(lcb_buf_adds(&b, "9"), -1);
    CHECK_STR(lcb_buf_str(&b), "12345678");
    lcb_buf_release(&b);
    lcb_buf_init(&b, 0);
    CHECK_INT(lcb_buf_addf(&b, "%d-%s", 42, "x"), 0);
    CHECK_STR(lcb_buf_str(&b), "42-x");
    lcb_buf_release(&b);
}

static void
test_opt_parse(void)
{
    int dry = 0;
    const char *target = NULL;
    long long n = 0;
    int64_t dur = 0;
    struct lcb_strlist sgs = LCB_STRLIST_INIT, pos = LCB_STRLIST_INIT;
    const struct lcb_opt opts[] = {
        { "dry-run", 'n', LCB_OPT_FLAG, &dry }, { "target", 0, LCB_OPT_STR, &target },
        { "count", 0, LCB_OPT_INT, &n },        { "sg", 0, LCB_OPT_LIST, &sgs },
        { "since", 0, LCB_OPT_DURATION, &dur }, { NULL, 0, 0, NULL },
    };
    char *argv[] = { S("ID1"), S("-n"), S("--target=db2"), S("--count"), S("7"), S("--sg"), S("sg-1,sg-2"), S("--sg=sg-3"),
                     S("--since"), S("1h30m"), S("--"), S("--literal") };
    char *bad[] = { S("--count"), S("x") };
    char *unknown[] = { S("--nope") };
    char *missing[] = { S("--target") };
    struct lcb_err err;

    lcb_err_clear(&err);
    CHECK_INT(lcb_opt_parse(opts, 12, argv, &pos, &err), 0);
    CHECK_INT(dry, 1);
    CHECK_STR(target, "db2");
    CHECK_INT(n, 7);
    CHECK_INT(sgs.n, 3);
    CHECK_STR(sgs.items[2], "sg-3");
    CHECK_INT(dur, 5400);
    CHECK_INT(pos.n, 2);
    CHECK_STR(pos.items[1], "--literal");
    CHECK_INT(lcb_opt_parse(opts, 2, bad, NULL, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK(strstr(err.msg, "--count") != NULL);
    CHECK_INT(lcb_opt_parse(opts, 1, unknown, NULL, &err), -1);
    CHECK_STR(err.msg, "unknown option '--nope'");
    CHECK_INT(lcb_opt_parse(opts, 1, missing, NULL, &err), -1);
    CHECK_STR(err.msg, "option '--target' needs a value");
    lcb_strlist_release(&sgs);
    lcb_strlist_release(&pos);
}

static void
test_time_parse(void)
{
    time_t t;
    char out[LCB_TIME_LEN];

    CHECK_INT(lcb_time_parse("2015-08-30T12:36:00Z", &t), 0);
    CHECK_INT(t, 1440938160);
    CHECK_STR(lcb_time_fmt(t, out), "2015-08-30T12:36:00Z");
    CHECK_INT(lcb_time_parse("2015-08-30T14:36:00.250+02:00", &t), 0);
    CHECK_INT(t, 1440938160);
    CHECK_INT(lcb_time_parse("2015-08-30 12:36:00", &t), 0);
    CHECK_INT(lcb_time_parse("2015-08-30T12:36:00", &t), -1); /* no zone: ambiguous */
    CHECK_INT(lcb_time_parse("2015-13-30T12:36:00Z", &t), -1);
    CHECK_INT(lcb_time_parse("yesterday", &t), -1);
}

static void
test_durations(void)
{
    int64_t s;
    char out[32];

    CHECK_INT(lcb_duration_parse("90s", &s), 0);
    CHECK_INT(s, 90);
    CHECK_INT(lcb_duration_parse("2w", &s), 0);
    CHECK_INT(s, 14 * 86400);
    CHECK_INT(lcb_duration_parse("1d12h", &s), 0);
    CHECK_INT(s, 129600);
    CHECK_INT(lcb_duration_parse("3600", &s), 0);
    CHECK_INT(s, 3600);
    CHECK_INT(lcb_duration_parse("1h30", &s), -1);
    CHECK_INT(lcb_duration_parse("-5m", &s), -1);
    CHECK_INT(lcb_duration_parse("5x", &s), -1);
    CHECK_INT(lcb_duration_parse("", &s), -1);
    CHECK_STR(lcb_duration_fmt(3725, out, sizeof(out)), "1h 02m");
    CHECK_STR(lcb_duration_fmt(42, out, sizeof(out)), "42s");
}

static void
test_now_pinned(void)
{
    struct lcb_err err;

    setenv("LCBACKUP_NOW", "2015-08-30T12:36:00Z", 1);
    CHECK_INT(lcb_now(), 1440938160);
    CHECK_INT(lcb_clock_check(&err), 0);
    setenv("LCBACKUP_NOW", "soon", 1);
    CHECK_INT(lcb_clock_check(&err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    unsetenv("LCBACKUP_NOW");
}

static void
test_redaction(void)
{
    struct lcb_secret s = LCB_SECRET_INIT;
    struct lcb_buf out = LCB_BUF_INIT;

    lcb_secret_set(&s, "hunter2-very-secret", 19);
    CHECK_STR(lcb_redact_str(&out, "value is hunter2-very-secret!"), "value is ***!");
    CHECK_STR(lcb_redact_str(&out, "postgres://payload:s3cr3t@db:5432/app"),
              "postgres://payload:***@db:5432/app");
    CHECK_STR(lcb_redact_str(&out, "Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, Signature=ab12"),
              "Authorization: ***");
    /* a canonical request in a JSON log field: the header ends at the escaped newline */
    CHECK_STR(lcb_redact_str(&out, "{\"req\":\"PUT /\\nAuthorization: AWS4 Signature=ab12\\nX-Amz-Date: 1\"}"),
              "{\"req\":\"PUT /\\nAuthorization: ***\\nX-Amz-Date: 1\"}");
    CHECK_STR(lcb_redact_str(&out, "{\"h\":\"Authorization: AWS4 Signature=ab12\",\"n\":1}"),
              "{\"h\":\"Authorization: ***\",\"n\":1}");
    CHECK_STR(lcb_redact_str(&out, "GET /k?X-Amz-Signature=abcdef&X-Amz-Security-Token=tok123&a=1"),
              "GET /k?X-Amz-Signature=***&X-Amz-Security-Token=***&a=1");
    CHECK_STR(lcb_redact_str(&out, "host=db password=pw123 user=u"), "host=db password=*** user=u");
    CHECK_STR(lcb_redact_str(&out, "time 12:30 and http://host:8080/x"), "time 12:30 and http://host:8080/x");
    lcb_secret_release(&s);
    CHECK_STR(lcb_redact_str(&out, "value is hunter2-very-secret!"), "value is hunter2-very-secret!");
    lcb_buf_release(&out);
}

/* Data keys are 32 random bytes: a NUL among them must not cut the secret short. */
static void
test_secret_binary(void)
{
    struct lcb_secret s = LCB_SECRET_INIT;
    const char key[8] = { 'a', 'b', 0, 'c', 'd', 0, 'e', 'f' };

    lcb_secret_set(&s, key, sizeof(key));
    CHECK_INT(s.len, 8);
    CHECK(memcmp(s.ptr, key, 8) == 0);
    lcb_secret_release(&s);
    CHECK(s.ptr == NULL);
}

/* The logger writes JSON lines with the fields, and never a registered secret. */
static void
test_log_json(void)
{
    char path[] = "/tmp/lcb-log-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w+");
    struct lcb_secret s = LCB_SECRET_INIT;
    char line[1024] = "";

    lcb_secret_set(&s, "SuperSecretToken42", 18);
    lcb_log_setup(LCB_INFO, LCB_LOG_JSON, f);
    lcb_log_set_context("backup rds", "run-1");
    lcb_logf(LCB_INFO, "rds.snapshot.done", LCB_FIELDS(LCB_KV_S("snapshot", "snap-1"), LCB_KV_I("n", 3)),
             "snapshot %s ready, token %s", "snap-1", "SuperSecretToken42");
    lcb_log(LCB_DEBUG, "hidden", "not shown at info");
    rewind(f);
    CHECK(fgets(line, sizeof(line), f) != NULL);
    CHECK(strstr(line, "\"level\":\"info\"") != NULL);
    CHECK(strstr(line, "\"cmd\":\"backup rds\"") != NULL);
    CHECK(strstr(line, "\"run_id\":\"run-1\"") != NULL);
    CHECK(strstr(line, "\"event\":\"rds.snapshot.done\"") != NULL);
    CHECK(strstr(line, "\"snapshot\":\"snap-1\",\"n\":3") != NULL);
    CHECK(strstr(line, "SuperSecretToken42") == NULL);
    CHECK(strstr(line, "token ***") != NULL);
    CHECK(fgets(line, sizeof(line), f) == NULL);
    lcb_log_setup(LCB_INFO, LCB_LOG_TEXT, stderr);
    lcb_secret_release(&s);
    fclose(f);
    unlink(path);
}

/* Temporary files go to $TMPDIR (else /tmp), mode 0600, and never show in the directory. */
static void
test_tmp(void)
{
    char dir[] = "/tmp/lcb-core-tmp-XXXXXX";
    struct stat st;
    int fd;

    CHECK(mkdtemp(dir) != NULL);
    setenv("TMPDIR", dir, 1);
    CHECK_STR(lcb_tmp_dir(), dir);
    fd = lcb_tmp_open(NULL, "test");
    CHECK(fd >= 0);
    CHECK(fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_nlink == 0);
    CHECK_INT(write(fd, "abc", 3), 3);
    close(fd);
    CHECK(rmdir(dir) == 0); /* empty: the file was unlinked at once */
    CHECK_INT(lcb_tmp_open(NULL, "test"), -1); /* the directory is gone */
    setenv("TMPDIR", "", 1);
    CHECK_STR(lcb_tmp_dir(), "/tmp");
    unsetenv("TMPDIR");
    CHECK_STR(lcb_tmp_dir(), "/tmp");
}

int
main(void)
{
    RUN(test_err_chain);
    RUN(test_err_frames_overflow);
    RUN(test_exit_codes);
    RUN(test_buf_cap);
    RUN(test_opt_parse);
    RUN(test_time_parse);
    RUN(test_durations);
    RUN(test_now_pinned);
    RUN(test_redaction);
    RUN(test_secret_binary);
    RUN(test_log_json);
    RUN(test_tmp);
    return harness_done();
}
