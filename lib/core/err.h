/*
 * err.h - errors as return codes plus a chain of context frames.
 *
 * A failing function fills a caller-provided struct lcb_err and returns -1. Callers add context with
 * lcb_wrap() on the way up; main() prints the chain as one line and maps the code to the exit status
 * (docs/exit-codes.md). Everything is fixed-size, so even out-of-memory can be reported.
 */
#ifndef LCB_CORE_ERR_H
#define LCB_CORE_ERR_H

#include <stddef.h>

enum lcb_code {
    LCB_OK = 0,
    LCB_EFAIL,      /* unexpected failure                        -> 1  */
    LCB_EPARTIAL,   /* ran to the end, some items failed         -> 2  */
    LCB_EDRILL,     /* drill verification failed                 -> 3  */
    LCB_EUSAGE,     /* bad flags or arguments                    -> 64 */
    LCB_ECORRUPT,   /* corrupt data, checksum, policy syntax     -> 65 */
    LCB_ENOTFOUND,  /* backup, snapshot, entry not found         -> 66 */
    LCB_EREFUSED,   /* the service refused (quota, state)        -> 69 */
    LCB_EINTERNAL,  /* a bug                                     -> 70 */
    LCB_ELOCKED,    /* another run holds the lock                -> 73 */
    LCB_EIO,        /* local I/O                                 -> 74 */
    LCB_ETEMP,      /* throttled, timeout, network               -> 75 */
    LCB_EAUTH,      /* authentication or permission denied       -> 77 */
    LCB_ECONFIG,    /* configuration missing or invalid          -> 78 */
    LCB_EINTR,      /* interrupted by a signal                   -> 130/143 */
    LCB_CODE_MAX
};

#define LCB_ERR_FRAMES 8
#define LCB_ERR_FRAME_LEN 192
#define LCB_ERR_MSG_LEN 768

struct lcb_err {
    enum lcb_code code;
    int sys;                 /* errno, CURLcode or sqlite code, 0 when none */
    int http;                /* HTTP status, 0 when none */
    char aws_code[64];       /* AWS error code such as "DBSnapshotNotFound" */
    char msg[LCB_ERR_MSG_LEN];
    int nframes;             /* frames[0] is the innermost context */
    char frames[LCB_ERR_FRAMES][LCB_ERR_FRAME_LEN];
};

/* Reset to "no error". */
void lcb_err_clear(struct lcb_err *err);

/* Set code and message (printf-style); clears frames. Always returns -1. */
int lcb_err_set(struct lcb_err *err, enum lcb_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As lcb_err_set, with errno's text appended (": No such file or directory"). Returns -1. */
int lcb_err_sys(struct lcb_err *err, enum lcb_code code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Push a context frame ("copy db1 to eu-central-1"). Always returns -1, so it ends a return statement. */
int lcb_wrap(struct lcb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The whole chain as one line: "outer: inner: message". Returns buf. */
char *lcb_err_format(const struct lcb_err *err, char *buf, size_t size);

/* The process exit status for a code (docs/exit-codes.md). */
int lcb_exit_status(enum lcb_code code);

/* The short name of a code ("not found"). */
const char *lcb_code_name(enum lcb_code code);

#endif
