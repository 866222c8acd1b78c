/*
 * log.h - one call, two faces (git's trace2).
 *
 *   lcb_log(LCB_INFO, "rds.snapshot.done", "snapshot %s ready", id);
 *   lcb_logf(LCB_INFO, "rds.snapshot.done", LCB_FIELDS(LCB_KV_S("snapshot", id), LCB_KV_F("secs", t)),
 *            "snapshot %s ready (%.1fs)", id, t);
 *
 * Human text on stderr by default ("12:01:07 info  backup rds: snapshot x ready"), or one JSON object
 * per line with --log-format=json (ts, level, run_id, cmd, event, msg and the fields). Every line goes
 * through lcb_redact() first, so a registered secret can never be written.
 */
#ifndef LCB_CORE_LOG_H
#define LCB_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum lcb_level { LCB_TRACE, LCB_DEBUG, LCB_INFO, LCB_WARN, LCB_ERROR, LCB_QUIET };
enum lcb_log_format { LCB_LOG_TEXT, LCB_LOG_JSON };

enum lcb_kv_type { LCB_KV_STR, LCB_KV_INT, LCB_KV_FLOAT, LCB_KV_BOOL, LCB_KV_RAW };

struct lcb_kv {
    const char *key;
    enum lcb_kv_type type;
    const char *s; /* STR, or RAW (already JSON, e.g. an embedded metric object) */
    long long i;
    double f;
};

#define LCB_KV_S(k, v) ((struct lcb_kv){ (k), LCB_KV_STR, (v), 0, 0 })
#define LCB_KV_I(k, v) ((struct lcb_kv){ (k), LCB_KV_INT, NULL, (long long)(v), 0 })
#define LCB_KV_F(k, v) ((struct lcb_kv){ (k), LCB_KV_FLOAT, NULL, 0, (double)(v) })
#define LCB_KV_B(k, v) ((struct lcb_kv){ (k), LCB_KV_BOOL, NULL, (v) ? 1 : 0, 0 })
#define LCB_KV_RAW(k, v) ((struct lcb_kv){ (k), LCB_KV_RAW, (v), 0, 0 })
#define LCB_FIELDS(...)                                                                            \
    (const struct lcb_kv[]){ __VA_ARGS__ },                                                        \
        (sizeof((const struct lcb_kv[]){ __VA_ARGS__ }) / sizeof(struct lcb_kv))

/* Configure once in main(). */
void lcb_log_setup(enum lcb_level level, enum lcb_log_format format, FILE *out);
void lcb_log_set_context(const char *cmd, const char *run_id);
enum lcb_level lcb_log_level(void);
enum lcb_log_format lcb_log_format(void);
int lcb_log_enabled(enum lcb_level level);

void lcb_logf(enum lcb_level level, const char *event, const struct lcb_kv *kv, size_t nkv,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define lcb_log(level, event, ...) lcb_logf((level), (event), NULL, 0, __VA_ARGS__)

/* Progress for long work: on a terminal a self-overwriting line on stderr; otherwise an info line
 * with the fields at most every `every_ms` (0: always). Call lcb_progress_end() once done. */
void lcb_progress(const char *event, const struct lcb_kv *kv, size_t nkv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void lcb_progress_end(void);
void lcb_progress_interval(int64_t every_ms);

/* Append s to out as a JSON string literal (quotes included), escaping as RFC 8259 requires. */
struct lcb_buf;
void lcb_json_quote(struct lcb_buf *out, const char *s);

#endif
