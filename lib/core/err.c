/* err.c - see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int status;
    const char *name;
} code_table[LCB_CODE_MAX] = {
    [LCB_OK] = { 0, "ok" },
    [LCB_EFAIL] = { 1, "failure" },
    [LCB_EPARTIAL] = { 2, "partial" },
    [LCB_EDRILL] = { 3, "drill failed" },
    [LCB_EUSAGE] = { 64, "usage" },
    [LCB_ECORRUPT] = { 65, "data" },
    [LCB_ENOTFOUND] = { 66, "not found" },
    [LCB_EREFUSED] = { 69, "refused" },
    [LCB_EINTERNAL] = { 70, "internal" },
    [LCB_ELOCKED] = { 73, "locked" },
    [LCB_EIO] = { 74, "i/o" },
    [LCB_ETEMP] = { 75, "temporary" },
    [LCB_EAUTH] = { 77, "auth" },
    [LCB_ECONFIG] = { 78, "config" },
    [LCB_EINTR] = { 130, "interrupted" },
};

void
lcb_err_clear(struct lcb_err *err)
{
    memset(err, 0, sizeof(*err));
}

static int
set_message(struct lcb_err *err, enum lcb_code code, const char *fmt, va_list ap)
{
    err->code = code;
    err->nframes = 0;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    return -1;
}

int
lcb_err_set(struct lcb_err *err, enum lcb_code code, const char *fmt, ...)
{
    va_list ap;

    err->sys = 0;
    err->http = 0;
    err->aws_code[0] = '\0';
    va_start(ap, fmt);
    set_message(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int
lcb_err_sys(struct lcb_err *err, enum lcb_code code, int errnum, const char *fmt, ...)
{
    va_list ap;
    size_t len;

    lcb_err_set(err, code, "%s", "");
    va_start(ap, fmt);
    set_message(err, code, fmt, ap);
    va_end(ap);
    err->sys = errnum;
    len = strlen(err->msg);
    snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
    return -1;
}

int
lcb_wrap(struct lcb_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err->code == LCB_OK)
        err->code = LCB_EFAIL;
    if (err->nframes >= LCB_ERR_FRAMES)
        return -1; /* keep the innermost frames: they say what failed */
    va_start(ap, fmt);
    vsnprintf(err->frames[err->nframes], LCB_ERR_FRAME_LEN, fmt, ap);
    va_end(ap);
    err->nframes++;
    return -1;
}

char *
lcb_err_format(const struct lcb_err *err, char *buf, size_t size)
{
    size_t len = 0;
    int i;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (i = err->nframes - 1; i >= 0 && len < size; i--) {
        int n = snprintf(buf + len, size - len, "%s: ", err->frames[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (len < size)
        snprintf(buf + len, size - len, "%s", err->msg[0] ? err->msg : lcb_code_name(err->code));
    return buf;
}

int
lcb_exit_status(enum lcb_code code)
{
    if ((int)code < 0 || code >= LCB_CODE_MAX)
        return 70;
    return code_table[code].status;
}

const char *
lcb_code_name(enum lcb_code code)
{
    if ((int)code < 0 || code >= LCB_CODE_MAX)
        return "unknown";
    return code_table[code].name;
}
