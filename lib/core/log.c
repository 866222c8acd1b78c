/* log.c - see log.h. */
#define _DEFAULT_SOURCE
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "secret.h"

static enum lcb_level cur_level = LCB_INFO;
static enum lcb_log_format cur_format = LCB_LOG_TEXT;
static FILE *log_out;
static char cur_cmd[64];
static char cur_run[64];
static int progress_shown;
static int64_t progress_every_ms = 10000;
static int64_t progress_last_ms;

static const char *const level_names[] = { "trace", "debug", "info", "warn", "error", "quiet" };

void
lcb_log_setup(enum lcb_level level, enum lcb_log_format format, FILE *out)
{
    cur_level = level;
    cur_format = format;
    log_out = out;
}

void
lcb_log_set_context(const char *cmd, const char *run_id)
{
    snprintf(cur_cmd, sizeof(cur_cmd), "%s", cmd ? cmd : "");
    snprintf(cur_run, sizeof(cur_run), "%s", run_id ? run_id : "");
}

enum lcb_level
lcb_log_level(void)
{
    return cur_level;
}

enum lcb_log_format
lcb_log_format(void)
{
    return cur_format;
}

int
lcb_log_enabled(enum lcb_level level)
{
    return level >= cur_level && cur_level != LCB_QUIET;
}

void
lcb_json_quote(struct lcb_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");

    lcb_buf_addch(out, '"');
    for (; *p; p++) {
        switch (*p) {
        case '"': lcb_buf_adds(out, "\\\""); break;
        case '\\': lcb_buf_adds(out, "\\\\"); break;
        case '\n': lcb_buf_adds(out, "\\n"); break;
        case '\r': lcb_buf_adds(out, "\\r"); break;
        case '\t': lcb_buf_adds(out, "\\t"); break;
        default:
            if (*p < 0x20)
                lcb_buf_addf(out, "\\u%04x", *p);
            else
                lcb_buf_addch(out, (char)*p);
        }
    }
    lcb_buf_addch(out, '"');
}

static void
add_value_json(struct lcb_buf *b, const struct lcb_kv *kv)
{
    switch (kv->type) {
    case LCB_KV_STR: lcb_json_quote(b, kv->s); break;
    case LCB_KV_INT: lcb_buf_addf(b, "%lld", kv->i); break;
    case LCB_KV_FLOAT: lcb_buf_addf(b, "%.3f", kv->f); break;
    case LCB_KV_BOOL: lcb_buf_adds(b, kv->i ? "true" : "false"); break;
    case LCB_KV_RAW: lcb_buf_adds(b, kv->s ? kv->s : "null"); break;
    }
}

static void
format_json(struct lcb_buf *b, enum lcb_level level, const char *event, const struct lcb_kv *kv,
            size_t nkv, const char *msg)
{
    struct timeval tv;
    struct tm tm;
    char ts[40];
    size_t i;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    lcb_buf_addf(b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\"", ts, (long)(tv.tv_usec / 1000),
                 level_names[level]);
    if (cur_run[0])
        lcb_buf_addf(b, ",\"run_id\":\"%s\"", cur_run);
    if (cur_cmd[0])
        lcb_buf_addf(b, ",\"cmd\":\"%s\"", cur_cmd);
    lcb_buf_adds(b, ",\"event\":");
    lcb_json_quote(b, event ? event : "log");
    lcb_buf_adds(b, ",\"msg\":");
    lcb_json_quote(b, msg);
    for (i = 0; i < nkv; i++) {
        lcb_buf_addch(b, ',');
        lcb_json_quote(b, kv[i].key);
        lcb_buf_addch(b, ':');
        add_value_json(b, &kv[i]);
    }
    lcb_buf_adds(b, "}\n");
}

static void
format_text(struct lcb_buf *b, enum lcb_level level, const char *msg)
{
    time_t now = time(NULL);
    struct tm tm;
    char ts[16];

    localtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
    lcb_buf_addf(b, "%s %-5s ", ts, level_names[level]);
    if (cur_cmd[0])
        lcb_buf_addf(b, "%s: ", cur_cmd);
    lcb_buf_addf(b, "%s\n", msg);
}

static void
emit(const char *line)
{
    FILE *out = log_out ? log_out : stderr;
    struct lcb_buf red = LCB_BUF_INIT;

    if (progress_shown && isatty(fileno(out))) {
        fputs("\r\033[K", out);
        progress_shown = 0;
    }
    fputs(lcb_redact_str(&red, line), out);
    fflush(out);
    lcb_buf_release(&red);
}

static void
vlog(enum lcb_level level, const char *event, const struct lcb_kv *kv, size_t nkv,
     const char *fmt, va_list ap)
{
    struct lcb_buf msg = LCB_BUF_INIT, line = LCB_BUF_INIT;

    lcb_buf_vaddf(&msg, fmt, ap);
    if (cur_format == LCB_LOG_JSON)
        format_json(&line, level, event, kv, nkv, lcb_buf_str(&msg));
    else
        format_text(&line, level, lcb_buf_str(&msg));
    emit(lcb_buf_str(&line));
    lcb_buf_release(&msg);
    lcb_buf_release(&line);
}

void
lcb_logf(enum lcb_level level, const char *event, const struct lcb_kv *kv, size_t nkv,
         const char *fmt, ...)
{
    va_list ap;

    if (!lcb_log_enabled(level))
        return;
    va_start(ap, fmt);
    vlog(level, event, kv, nkv, fmt, ap);
    va_end(ap);
}

void
lcb_progress_interval(int64_t every_ms)
{
    progress_every_ms = every_ms;
}

void
lcb_progress(const char *event, const struct lcb_kv *kv, size_t nkv, const char *fmt, ...)
{
    FILE *out = log_out ? log_out : stderr;
    struct lcb_buf msg = LCB_BUF_INIT, red = LCB_BUF_INIT;
    int64_t now = lcb_mono_ms();
    va_list ap;

    if (!lcb_log_enabled(LCB_INFO))
        return;
    va_start(ap, fmt);
    if (cur_format == LCB_LOG_TEXT && isatty(fileno(out))) {
        lcb_buf_vaddf(&msg, fmt, ap);
        fprintf(out, "\r\033[K%s", lcb_redact_str(&red, lcb_buf_str(&msg)));
        fflush(out);
        progress_shown = 1;
    } else if (progress_every_ms == 0 || now - progress_last_ms >= progress_every_ms) {
        progress_last_ms = now;
        vlog(LCB_INFO, event, kv, nkv, fmt, ap);
    }
    va_end(ap);
    lcb_buf_release(&msg);
    lcb_buf_release(&red);
}

void
lcb_progress_end(void)
{
    FILE *out = log_out ? log_out : stderr;

    if (progress_shown) {
        fputs("\n", out);
        progress_shown = 0;
    }
    progress_last_ms = 0;
}
