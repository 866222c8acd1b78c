/* internal.h - what the report's renderers share (not part of report.h's interface). */
#ifndef LCB_REPORT_INTERNAL_H
#define LCB_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/buf.h"
#include "report.h"

/* "4.2s" under a minute, else lcb_duration_fmt; "-" for a negative value. Returns out. */
const char *rep_secs(double secs, char *out, size_t size);
/* RFC 3339, or "-" for 0 (out: LCB_TIME_LEN bytes). */
const char *rep_time(time_t t, char *out);
/* "35.2s (target 15m 00s): met" into out (reset first); returns its text. */
const char *rep_target(struct lcb_buf *out, double value, int64_t target, int ok);
/* The report's title into buf (reset first). */
const char *rep_title(const struct lcb_report_in *in, struct lcb_buf *buf);
void rep_render_html(struct lcb_buf *out, const struct lcb_report_in *in);

#endif
