/*
 * harness.h - the unit-test harness: a test is a function, checks count and report their line,
 * and the binary ends with "N passed, N failed" (one per test function).
 *
 *   static void test_parse(void) { CHECK_INT(lcb_duration_parse("2h", &s), 0); CHECK(s == 7200); }
 *   int main(void) { RUN(test_parse); return harness_done(); }
 */
#ifndef LCB_TEST_HARNESS_H
#define LCB_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_passed, harness_failed, harness_cur_failed, harness_checks;
static const char *harness_cur;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        harness_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  FAIL %s:%d %s: %s\n", __FILE__, __LINE__, harness_cur, #cond);      \
            harness_cur_failed = 1;                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        harness_checks++;                                                                          \
        if (g_ != w_) {                                                                            \
            fprintf(stderr, "  FAIL %s:%d %s: %s == %lld, want %lld\n", __FILE__, __LINE__,        \
                    harness_cur, #got, g_, w_);                                                    \
            harness_cur_failed = 1;                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        harness_checks++;                                                                          \
        if (!g_ || !w_ || strcmp(g_, w_) != 0) {                                                   \
            fprintf(stderr, "  FAIL %s:%d %s: %s\n    got:  %s\n    want: %s\n", __FILE__,        \
                    __LINE__, harness_cur, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");          \
            harness_cur_failed = 1;                                                                \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int before_ = harness_checks;                                                              \
        harness_cur = #fn;                                                                         \
        harness_cur_failed = 0;                                                                    \
        fn();                                                                                      \
        if (harness_checks == before_) {                                                           \
            fprintf(stderr, "  FAIL %s: checked nothing\n", #fn);                                  \
            harness_cur_failed = 1;                                                                \
        }                                                                                          \
        if (harness_cur_failed)                                                                    \
            harness_failed++;                                                                      \
        else                                                                                       \
            harness_passed++;                                                                      \
    } while (0)

static int
harness_done(void)
{
    printf("%d passed, %d failed\n", harness_passed, harness_failed);
    return harness_failed ? 1 : 0;
}

#endif
