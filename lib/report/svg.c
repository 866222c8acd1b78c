/* svg.c - the report's inline SVG charts: the phase timeline of one drill and RTO/RPO over past
 * drills; see report.h. Colours are fixed so that a screenshot can be checked (tests/integration
 * t3005): phases request #4e79a7, provisioning #f28e2b, checks #59a14f, teardown #b07aa1;
 * components rds #e15759, ebs #76b7b2, broker #edc948, config #9c755f. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/clock.h"

#define W 960
#define LEFT 230
#define RIGHT 30
#define ROW 34
#define TOP 40

static const char *const phase_colour[LCB_PHASE_COUNT] = {"#4e79a7", "#f28e2b", "#59a14f",
                                                          "#b07aa1"};

static const char *
comp_colour(const char *kind)
{
    static const char *const kinds[] = {"rds", "ebs", "broker", "config"};
    static const char *const colours[] = {"#e15759", "#76b7b2", "#edc948", "#9c755f"};
    size_t i;

    for (i = 0; i < 4; i++)
        if (kind && strcmp(kind, kinds[i]) == 0)
            return colours[i];
    return "#555555";
}

void
lcb_html_escape(struct lcb_buf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            lcb_buf_adds(out, "&amp;");
            break;
        case '<':
            lcb_buf_adds(out, "&lt;");
            break;
        case '>':
            lcb_buf_adds(out, "&gt;");
            break;
        case '"':
            lcb_buf_adds(out, "&quot;");
            break;
        case '\'':
            lcb_buf_adds(out, "&#39;");
            break;
        default:
            lcb_buf_addch(out, *s);
        }
    }
}

/* A "nice" axis maximum (1, 2, 5 x 10^n) at or above v. */
static double
nice_max(double v)
{
    double p, f;

    if (v <= 0)
        return 1;
    p = pow(10, floor(log10(v)));
    f = v / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static void
secs_label(char *out, size_t size, double secs)
{
    if (secs < 60)
        snprintf(out, size, "%.4gs", secs);
    else
        lcb_duration_fmt((int64_t)(secs + 0.5), out, size);
}

static void
x_axis(struct lcb_buf *out, double max, int y, int plot_w)
{
    char label[32];
    int i;

    for (i = 0; i <= 5; i++) {
        double v = max * i / 5;
        int x = LEFT + (int)(plot_w * i / 5);
        secs_label(label, sizeof(label), v);
        lcb_buf_addf(out,
                     "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#dddddd\"/>"
                     "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" "
                     "fill=\"#444444\">%s</text>\n",
                     x, TOP - 6, x, y, x, y + 14, label);
    }
}

static double
run_end(const struct lcb_drill_run *r)
{
    double end = 0;
    size_t i;
    int p;

    for (i = 0; i < r->ncomps; i++)
        for (p = 0; p < LCB_PHASE_COUNT; p++)
            if (r->comps[i].phases[p].start >= 0 &&
                r->comps[i].phases[p].start + r->comps[i].phases[p].secs > end)
                end = r->comps[i].phases[p].start + r->comps[i].phases[p].secs;
    return end;
}

static void
legend(struct lcb_buf *out, int y, const char *const *names, const char *const *colours, int n)
{
    int i, x = LEFT;

    for (i = 0; i < n; i++, x += 150)
        lcb_buf_addf(out,
                     "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/>"
                     "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#222222\">%s</text>\n",
                     x, y, colours[i], x + 20, y + 12, names[i]);
}

static void
timeline_row(struct lcb_buf *out, const struct lcb_drill_comp *c, int y, double max, int plot_w)
{
    char label[32];
    int p;

    lcb_buf_addf(out,
                 "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"end\" "
                 "fill=\"#222222\">",
                 LEFT - 10, y + 17);
    lcb_html_escape(out, c->kind);
    lcb_buf_adds(out, " ");
    lcb_html_escape(out, c->target);
    lcb_buf_adds(out, "</text>\n");
    for (p = 0; p < LCB_PHASE_COUNT; p++) {
        const struct lcb_drill_phase_time *ph = &c->phases[p];
        double x, w;
        if (ph->start < 0)
            continue;
        x = LEFT + ph->start / max * plot_w;
        w = ph->secs / max * plot_w;
        if (w < 3)
            w = 3;
        secs_label(label, sizeof(label), ph->secs);
        lcb_buf_addf(out,
                     "<rect class=\"phase-%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                     "height=\"24\" fill=\"%s\"><title>%s: %s</title></rect>\n",
                     lcb_phase_name((enum lcb_phase)p), x, y + 2, w, phase_colour[p],
                     lcb_phase_name((enum lcb_phase)p), label);
    }
}

void
lcb_svg_timeline(struct lcb_buf *out, const struct lcb_drill_run *r)
{
    const char *names[LCB_PHASE_COUNT];
    int plot_w = W - LEFT - RIGHT, h, axis_y, p;
    double max = nice_max(run_end(r));
    size_t i;

    h = TOP + (int)(r->ncomps ? r->ncomps : 1) * ROW + 60;
    axis_y = TOP + (int)(r->ncomps ? r->ncomps : 1) * ROW;
    lcb_buf_addf(out,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart timeline\" "
                 "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
                 "aria-label=\"phase timeline\">\n<rect width=\"%d\" height=\"%d\" "
                 "fill=\"#ffffff\"/>\n",
                 W, h, W, h, W, h);
    x_axis(out, max, axis_y, plot_w);
    if (r->ncomps == 0)
        lcb_buf_addf(out,
                     "<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#444444\">no "
                     "component was drilled</text>\n",
                     LEFT, TOP + 20);
    for (i = 0; i < r->ncomps; i++)
        timeline_row(out, &r->comps[i], TOP + (int)i * ROW, max, plot_w);
    for (p = 0; p < LCB_PHASE_COUNT; p++)
        names[p] = lcb_phase_name((enum lcb_phase)p);
    legend(out, h - 24, names, phase_colour, LCB_PHASE_COUNT);
    lcb_buf_adds(out, "</svg>\n");
}

/* ---- trend ---- */

struct series_bounds {
    double max;
    size_t points;
};

static double
comp_value(const struct lcb_drill_comp *c, int rpo)
{
    return rpo ? (double)c->rpo : c->rto;
}

static double
comp_target(const struct lcb_drill_comp *c, int rpo)
{
    return rpo ? (double)c->rpo_target : (double)c->rto_target;
}

static struct series_bounds
bounds(const struct lcb_drill_history *h, int rpo)
{
    struct series_bounds b = {0, 0};
    size_t i, j;

    for (i = 0; h && i < h->n; i++)
        for (j = 0; j < h->runs[i].ncomps; j++) {
            double v = comp_value(&h->runs[i].comps[j], rpo);
            if (v >= 0) {
                b.points++;
                if (v > b.max)
                    b.max = v;
            }
        }
    /* the scale follows the values, so that their changes show; a target above it is named */
    b.max = nice_max(b.max * 1.25);
    return b;
}

static double
px_x(size_t i, size_t n, int plot_w)
{
    return LEFT + (n > 1 ? (double)plot_w * (double)i / (double)(n - 1) : plot_w / 2.0);
}

static void
panel_series(struct lcb_buf *out, const struct lcb_drill_history *h, const char *kind, int rpo,
             int y0, int ph, double max, int plot_w)
{
    struct lcb_buf pts = LCB_BUF_INIT, dots = LCB_BUF_INIT;
    char label[32];
    size_t i, j, n = 0;

    for (i = 0; i < h->n; i++)
        for (j = 0; j < h->runs[i].ncomps; j++) {
            const struct lcb_drill_comp *c = &h->runs[i].comps[j];
            double v = comp_value(c, rpo), x, y;
            if (strcmp(c->kind, kind) != 0 || v < 0)
                continue;
            x = px_x(i, h->n, plot_w);
            y = y0 + ph - v / max * ph;
            secs_label(label, sizeof(label), v);
            lcb_buf_addf(&pts, "%s%.1f,%.1f", n++ ? " " : "", x, y);
            lcb_buf_addf(&dots,
                         "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>%s "
                         "%s %s: %s</title></circle>\n",
                         x, y, comp_colour(kind), h->runs[i].id, kind, rpo ? "RPO" : "RTO", label);
        }
    if (n > 1)
        lcb_buf_addf(out,
                     "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"3\" "
                     "points=\"%s\"/>\n",
                     comp_colour(kind), lcb_buf_str(&pts));
    lcb_buf_adds(out, lcb_buf_str(&dots));
    lcb_buf_release(&pts);
    lcb_buf_release(&dots);
}

static void
panel_target(struct lcb_buf *out, const struct lcb_drill_history *h, int rpo, int y0, int ph,
             double max, int plot_w)
{
    double t = 0, y;
    char label[32];
    size_t i, j;

    for (i = 0; i < h->n; i++)
        for (j = 0; j < h->runs[i].ncomps; j++)
            if (comp_target(&h->runs[i].comps[j], rpo) > 0)
                t = comp_target(&h->runs[i].comps[j], rpo); /* the latest target */
    if (t <= 0)
        return;
    secs_label(label, sizeof(label), t);
    if (t > max) {
        lcb_buf_addf(out,
                     "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" "
                     "fill=\"#555555\">target %s (above the scale)</text>\n",
                     LEFT + plot_w, y0 + 4, label);
        return;
    }
    y = y0 + ph - t / max * ph;
    lcb_buf_addf(out,
                 "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#555555\" "
                 "stroke-dasharray=\"6 4\"/><text x=\"%d\" y=\"%.1f\" font-size=\"11\" "
                 "text-anchor=\"end\" fill=\"#555555\">target %s</text>\n",
                 LEFT, y, LEFT + plot_w, y, LEFT + plot_w, y - 4, label);
}

static void
trend_panel(struct lcb_buf *out, const struct lcb_drill_history *h, int rpo, int y0, int ph,
            int plot_w)
{
    static const char *const kinds[] = {"rds", "ebs", "broker", "config"};
    struct series_bounds b = bounds(h, rpo);
    char label[32];
    size_t k;
    int i;

    lcb_buf_addf(out,
                 "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\" "
                 "text-anchor=\"end\" fill=\"#222222\">%s</text>\n",
                 LEFT - 60, y0 + ph / 2, rpo ? "RPO" : "RTO");
    for (i = 0; i <= 4; i++) {
        int y = y0 + ph - ph * i / 4;
        secs_label(label, sizeof(label), b.max * i / 4);
        lcb_buf_addf(out,
                     "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#e4e4e4\"/>"
                     "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" "
                     "fill=\"#444444\">%s</text>\n",
                     LEFT, y, LEFT + plot_w, y, LEFT - 6, y + 4, label);
    }
    panel_target(out, h, rpo, y0, ph, b.max, plot_w);
    for (k = 0; k < 4; k++)
        panel_series(out, h, kinds[k], rpo, y0, ph, b.max, plot_w);
}

static void
trend_dates(struct lcb_buf *out, const struct lcb_drill_history *h, int y, int plot_w)
{
    char ts[32];
    struct tm tm;
    size_t i, step = h->n > 8 ? (h->n + 7) / 8 : 1;

    for (i = 0; i < h->n; i += step) {
        gmtime_r(&h->runs[i].started_at, &tm);
        strftime(ts, sizeof(ts), "%m-%d %H:%M", &tm);
        lcb_buf_addf(out,
                     "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\" "
                     "fill=\"#444444\">%s</text>\n",
                     px_x(i, h->n, plot_w), y, ts);
    }
}

void
lcb_svg_trend(struct lcb_buf *out, const struct lcb_drill_history *h)
{
    static const char *const names[] = {"rds", "ebs", "broker", "config"};
    static const char *const colours[] = {"#e15759", "#76b7b2", "#edc948", "#9c755f"};
    int plot_w = W - LEFT - RIGHT, ph = 150, hgt = 2 * ph + 130;

    lcb_buf_addf(out,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart trend\" "
                 "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
                 "aria-label=\"RTO and RPO over time\">\n<rect width=\"%d\" height=\"%d\" "
                 "fill=\"#ffffff\"/>\n",
                 W, hgt, W, hgt, W, hgt);
    if (!h || h->n == 0) {
        lcb_buf_addf(out,
                     "<text x=\"%d\" y=\"60\" font-size=\"13\" fill=\"#444444\">no drill "
                     "in this period</text>\n</svg>\n",
                     LEFT);
        return;
    }
    trend_panel(out, h, 0, 20, ph, plot_w);
    trend_panel(out, h, 1, 20 + ph + 40, ph, plot_w);
    trend_dates(out, h, 20 + 2 * ph + 58, plot_w);
    legend(out, hgt - 24, names, colours, 4);
    lcb_buf_adds(out, "</svg>\n");
}
