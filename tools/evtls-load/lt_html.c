/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_html.c - evtls-load's report as one self-contained HTML file: inline
 * CSS and SVG, no script, nothing fetched. Charts: the latency percentile
 * distribution per phase (HDR percentile plot: percentile on a log scale of
 * 1/(1-p)), operations and errors per second over the run, p50 and p99 over
 * the run; tables: the handshake mix, errors by class and code, the shards,
 * the command, target, start time and machine. */
#include "lt_html.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <evtls/error.h>

#define W      1180 /* chart width, legible at 1280 px */
#define H      360
#define LEFT   80
#define RIGHT  170 /* the legend, beside the plot: never on a curve */
#define TOP    40
#define BOTTOM 60

static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c",
                                      "#d62728", "#9467bd", "#8c564b"};

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A tick step of 1, 2 or 5 times a power of ten giving at most 8 ticks. */
static double nice_step(double max)
{
    if (!(max > 0))
        return 1;
    double raw = max / 8, p = pow(10, floor(log10(raw)));
    return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

typedef struct line {
    const char *name;
    const double *x, *y;
    size_t n;
    int step; /* drawn as steps (a distribution) rather than straight segments */
} line;

typedef struct axis_x {
    const char *label;
    double max;
    int percentile; /* x is log10(1/(1-p)): ticks at 0, 90, 99, 99.9 % ... */
} axis_x;

static double px(double x, double xmax)
{
    return LEFT + (xmax > 0 ? x / xmax : 0) * (W - LEFT - RIGHT);
}

static double py(double y, double ymax)
{
    return H - BOTTOM - (ymax > 0 ? y / ymax : 0) * (H - TOP - BOTTOM);
}

static void chart(FILE *f, const char *title, const axis_x *ax, const char *ylabel,
                  const line *lines, size_t nl)
{
    double ymax = 0;
    for (size_t i = 0; i < nl; i++)
        for (size_t k = 0; k < lines[i].n; k++)
            if (lines[i].y[k] > ymax)
                ymax = lines[i].y[k];
    double ystep = nice_step(ymax);
    ymax = ystep * ceil(ymax / ystep + 1e-9);
    if (ymax <= 0)
        ymax = 1;
    double xmax = ax->max > 0 ? ax->max : 1;
    fprintf(f, "<figure><svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">", W, H,
            W, H);
    fprintf(f, "<text x=\"%d\" y=\"24\" class=\"t\">", LEFT);
    esc(f, title);
    fputs("</text>", f);
    /* y grid and labels */
    for (double y = 0; y <= ymax + ystep / 2; y += ystep) {
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%g</text>",
                LEFT, W - RIGHT, py(y, ymax), py(y, ymax), LEFT - 8, py(y, ymax) + 4, y);
    }
    /* x grid and labels */
    if (ax->percentile) {
        static const char *const names[] = {"0%",     "90%",     "99%",     "99.9%",
                                            "99.99%", "99.999%", "99.9999%"};
        for (int d = 0; d <= 6 && d <= xmax + 1e-9; d++)
            fprintf(f,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" class=\"g\"/>"
                    "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%s</text>",
                    px(d, xmax), px(d, xmax), TOP, H - BOTTOM, px(d, xmax), H - BOTTOM + 18,
                    names[d]);
    } else {
        double xstep = nice_step(xmax);
        for (double x = 0; x <= xmax + 1e-9; x += xstep)
            fprintf(f,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" class=\"g\"/>"
                    "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%g</text>",
                    px(x, xmax), px(x, xmax), TOP, H - BOTTOM, px(x, xmax), H - BOTTOM + 18, x);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"al\">", (LEFT + W - RIGHT) / 2, H - 18);
    esc(f, ax->label);
    fprintf(f, "</text><text transform=\"translate(18 %d) rotate(-90)\" class=\"al\">",
            (TOP + H - BOTTOM) / 2);
    esc(f, ylabel);
    fputs("</text>", f);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>", LEFT, TOP,
            W - LEFT - RIGHT, H - TOP - BOTTOM);
    for (size_t i = 0; i < nl; i++) {
        const line *l = &lines[i];
        const char *c = colours[i % (sizeof colours / sizeof colours[0])];
        if (l->n == 0)
            continue;
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\"%s points=\"", c,
                i % 2 ? " stroke-dasharray=\"8 4\"" : "");
        for (size_t k = 0; k < l->n; k++) {
            if (l->step && k > 0)
                fprintf(f, "%.1f,%.1f ", px(l->x[k], xmax), py(l->y[k - 1], ymax));
            fprintf(f, "%.1f,%.1f ", px(l->x[k], xmax), py(l->y[k], ymax));
        }
        fputs("\"/>", f);
        /* the legend, right of the plot's frame */
        int lx = W - RIGHT + 14, ly = TOP + 18 + (int)i * 20;
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s/>"
                "<text x=\"%d\" y=\"%d\" class=\"lg\">",
                lx, lx + 28, ly - 4, ly - 4, c, i % 2 ? " stroke-dasharray=\"8 4\"" : "", lx + 36,
                ly);
        esc(f, l->name);
        fputs("</text>", f);
    }
    fputs("</svg></figure>\n", f);
}

/* The HDR percentile plot of every phase with samples. */
static void percentile_chart(FILE *f, const lt_stats *st)
{
    static double xs[LT_NPHASES][LT_HIST_SLOTS + 1], ys[LT_NPHASES][LT_HIST_SLOTS + 1];
    line lines[LT_NPHASES];
    size_t nl = 0;
    double xmax = 2;
    for (int p = 0; p < LT_NPHASES; p++) {
        const lt_hist *h = &st->hist[p];
        if (h->count == 0 || ((p == LT_DNS || p == LT_TCP_WAIT) && h->max == 0))
            continue;
        double top = log10((double)h->count); /* 1 - 1/count: the last rank */
        if (top > xmax)
            xmax = top;
        size_t n = 0;
        uint64_t seen = 0;
        for (unsigned i = 0; i < LT_HIST_SLOTS && seen < h->count; i++) {
            if (h->slot[i] == 0)
                continue;
            double before = (double)seen / (double)h->count;
            xs[p][n] = -log10(1 - before);
            uint64_t v = lt_hist_slot_high(i);
            ys[p][n++] = (double)(v > h->max ? h->max : v) / 1000;
            seen += h->slot[i];
        }
        xs[p][n] = top;
        ys[p][n] = ys[p][n - 1];
        n++;
        lines[nl++] = (line){lt_phase_names[p], xs[p], ys[p], n, 1};
    }
    if (xmax > 6)
        xmax = 6;
    axis_x ax = {"percentile (log scale of 1/(1-p))", ceil(xmax), 1};
    chart(f, "Latency by percentile, per phase", &ax, "latency (ms)", lines, nl);
}

static void series_charts(FILE *f, const lt_stats *st, const lt_opts *o)
{
    size_t n = st->n_series;
    while (n > 0 && st->series[n - 1].ops == 0)
        n--;
    if (n == 0) {
        fputs("<p>No operation ended: no series.</p>\n", f);
        return;
    }
    static double t[LT_SERIES_MAX], ops[LT_SERIES_MAX], errs[LT_SERIES_MAX], p50[LT_SERIES_MAX],
        p99[LT_SERIES_MAX], tl[LT_SERIES_MAX];
    size_t nl = 0;
    for (size_t i = 0; i < n; i++) {
        const lt_second *s = &st->series[i];
        t[i] = (double)i + 0.5;
        ops[i] = (double)s->ops;
        errs[i] = (double)s->errors;
        if (s->slot) {
            p50[nl] = (double)lt_second_percentile(s, 50) / 1000;
            p99[nl] = (double)lt_second_percentile(s, 99) / 1000;
            tl[nl++] = t[i];
        }
    }
    axis_x ax = {"time since the start (s)", (double)n, 0};
    /* --stages: the rate asked, a corner at each stage's end (the stages
     * marked on the chart, and listed under it) */
    static double st_t[33], st_r[33];
    size_t ns = 0;
    if (o && o->n_stages) {
        double at = 0;
        st_t[ns] = 0, st_r[ns++] = 0;
        for (unsigned i = 0; i < o->n_stages; i++) {
            at += (double)o->stage_us[i] / 1e6;
            st_t[ns] = at, st_r[ns++] = o->stage_rate[i];
        }
        if (at > ax.max)
            ax.max = at;
    }
    line rate[3] = {{"operations/s", t, ops, n, 0},
                    {"errors/s", t, errs, n, 0},
                    {"asked (--stages)", st_t, st_r, ns, 0}};
    /* --conn-stages' levels are connections: listed, not drawn on a rate */
    int conns = o && o->stages_conns;
    chart(f, "Operations and errors per second", &ax, "per second", rate, ns && !conns ? 3 : 2);
    if (ns) {
        fprintf(f,
                "<table><tr><th>stage</th><th>from s</th><th>to s</th><th>%s from</th><th>%s "
                "to</th></tr>",
                conns ? "connections" : "rate", conns ? "connections" : "rate");
        for (size_t i = 1; i < ns; i++)
            fprintf(f,
                    "<tr><td class=\"n\">%zu</td><td class=\"n\">%g</td><td "
                    "class=\"n\">%g</td><td class=\"n\">%g</td><td class=\"n\">%g</td></tr>",
                    i, st_t[i - 1], st_t[i], st_r[i - 1], st_r[i]);
        fputs("</table>\n", f);
    }
    line lat[2] = {{"p50", tl, p50, nl, 0}, {"p99", tl, p99, nl, 0}};
    chart(f, "Latency over the run (total, successful operations)", &ax, "latency (ms)", lat, 2);
}

static void html_error_row(FILE *f, const char *cls, const char *name, const char *text, uint64_t n,
                           int *first)
{
    *first = 0;
    fputs("<tr><td>", f);
    esc(f, cls);
    fputs("</td><td>", f);
    esc(f, name);
    fprintf(f, "</td><td class=\"n\">%llu</td><td>", (unsigned long long)n);
    esc(f, text);
    fputs("</td></tr>", f);
}

/* The thresholds' verdicts and the open loop's accounting, at the top. */
static void html_verdicts(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    if (o->n_thresholds) {
        fputs("<h2>Thresholds</h2>\n<table><tr><th>threshold</th><th>value</th>"
              "<th>verdict</th></tr>",
              f);
        for (unsigned i = 0; i < o->n_thresholds; i++) {
            double v;
            int met = lt_threshold_eval_result(r, &o->thresholds[i], &v);
            fputs("<tr><td><code>", f);
            esc(f, o->thresholds[i].text);
            if (met < 0)
                fputs("</code></td><td>-</td><td>NOT met (no sample)</td></tr>", f);
            else
                fprintf(f, "</code></td><td class=\"n\">%.4g%s</td><td>%s</td></tr>", v,
                        lt_threshold_unit(&o->thresholds[i]), met ? "met" : "<b>NOT met</b>");
        }
        fputs("</table>\n", f);
    }
    if (o->rate > 0) {
        uint64_t done = st->ops_ok + st->ops_failed;
        fprintf(f,
                "<h2>Open loop</h2>\n<table><tr><th>rate asked</th><th>due</th><th>done</th>"
                "<th>failed among them</th><th>unfinished</th><th>never started (still "
                "queued at the end)</th></tr><tr><td class=\"n\">%.1f/s</td><td "
                "class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td "
                "class=\"n\">%llu</td><td class=\"n\">%llu</td></tr></table>\n",
                o->rate, (unsigned long long)st->due, (unsigned long long)done,
                (unsigned long long)st->ops_failed, (unsigned long long)r->unfinished,
                (unsigned long long)st->never_started);
    }
}

/* The responses by status code. */
static void html_statuses(FILE *f, const lt_stats *st)
{
    int any = 0;
    for (int c = 100; c < 600; c++)
        if (st->codes[c]) {
            if (!any)
                fputs("<h2>Status codes</h2>\n<table><tr><th>status</th><th>responses</th></tr>",
                      f);
            any = 1;
            fprintf(f, "<tr><td>%d</td><td class=\"n\">%llu</td></tr>", c,
                    (unsigned long long)st->codes[c]);
        }
    if (any)
        fputs("</table>\n", f);
}

/* --targets: each target's operations, errors, statuses and latency. */
static void html_targets(FILE *f, const lt_result *r)
{
    if (r->n_targets == 0)
        return;
    fputs("<h2>Targets</h2>\n<table><tr><th>target</th><th>weight</th><th>operations</th>"
          "<th>errors</th><th>per s</th><th>2xx</th><th>3xx</th><th>4xx</th><th>5xx</th>"
          "<th>checks failed</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>",
          f);
    for (unsigned i = 0; i < r->n_targets; i++) {
        const lt_stats *st = &r->targets[i];
        const lt_hist *h = &st->hist[LT_TOTAL];
        uint64_t ops = st->ops_ok + st->ops_failed;
        fputs("<tr><td>", f);
        esc(f, r->target_info[i].name);
        fprintf(
            f,
            "</td><td class=\"n\">%u</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
            "<td class=\"n\">%.1f</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
            "<td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
            "<td class=\"n\">%.3f</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td>"
            "<td class=\"n\">%.3f</td></tr>",
            r->target_info[i].weight, (unsigned long long)ops, (unsigned long long)st->ops_failed,
            r->elapsed_s > 0 ? (double)ops / r->elapsed_s : 0, (unsigned long long)st->status[2],
            (unsigned long long)st->status[3], (unsigned long long)st->status[4],
            (unsigned long long)st->status[5], (unsigned long long)st->checks_failed,
            (double)lt_hist_percentile(h, 50) / 1000, (double)lt_hist_percentile(h, 95) / 1000,
            (double)lt_hist_percentile(h, 99) / 1000, (double)h->max / 1000);
    }
    fputs("</table>\n<p>Latency: total, every operation of the target.</p>\n", f);
}

/* --expect-body and --expect-header: the checks made and failed. */
static void html_checks(FILE *f, const lt_stats *st)
{
    if (st->checks == 0)
        return;
    fprintf(f,
            "<h2>Checks</h2>\n<table><tr><th>made</th><th>failed</th><th>passed</th></tr>"
            "<tr><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%.2f "
            "%%</td></tr></table>\n",
            (unsigned long long)st->checks, (unsigned long long)st->checks_failed,
            100.0 * (double)(st->checks - st->checks_failed) / (double)st->checks);
}

/* TLS 1.3 early data: each connection's fate, the bytes, the 425s. */
static void html_early(FILE *f, const lt_opts *o, const lt_stats *st)
{
    if (o->early_ratio <= 0)
        return;
    fprintf(f,
            "<h2>Early data (TLS 1.3 0-RTT)</h2>\n<table><tr><th>--early-data-ratio</th>"
            "<th>accepted</th><th>rejected (sent again)</th><th>not sent</th><th>bytes "
            "early</th><th>425 Too Early</th></tr><tr><td class=\"n\">%.2f</td><td "
            "class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td "
            "class=\"n\">%llu</td><td class=\"n\">%llu</td></tr></table>\n",
            o->early_ratio, (unsigned long long)st->early_accepted,
            (unsigned long long)st->early_rejected, (unsigned long long)st->early_not_sent,
            (unsigned long long)st->early_bytes, (unsigned long long)st->early_425);
}

/* HTTP/2: responses over it, connections, refusals, GOAWAYs. */
static void html_http2(FILE *f, const lt_opts *o, const lt_stats *st)
{
    if (!o->tls.http2)
        return;
    fprintf(f,
            "<h2>HTTP/2</h2>\n<table><tr><th>responses over h2</th><th>connections</th>"
            "<th>streams at once (-M)</th><th>refused (sent again)</th><th>GOAWAYs</th></tr>"
            "<tr><td class=\"n\">%llu of %llu</td><td class=\"n\">%llu</td><td "
            "class=\"n\">%u</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td></tr>"
            "</table>\n",
            (unsigned long long)st->h2_responses,
            (unsigned long long)(st->reqs_ok + st->status_errors), (unsigned long long)st->h2_conns,
            o->max_streams, (unsigned long long)st->h2_refused, (unsigned long long)st->h2_goaways);
}

void lt_report_html(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    char when[40];
    lt_iso_time(r->start_unix_us, when, sizeof when);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>evtls-load report</title><style>"
          "body{font:15px/1.45 sans-serif;color:#222;margin:24px auto;max-width:1200px}"
          "h1{font-size:24px}h2{font-size:19px;margin-top:28px}"
          "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;"
          "padding:3px 8px;text-align:left}td.n{text-align:right;font-variant-numeric:"
          "tabular-nums}code{background:#f3f3f3;padding:1px 4px}"
          "figure{margin:12px 0}svg{background:#fff}"
          ".t{font:bold 16px sans-serif}.al{font:14px sans-serif;text-anchor:middle}"
          ".xl{font:13px sans-serif;text-anchor:middle}.yl{font:13px sans-serif;"
          "text-anchor:end}.lg{font:14px sans-serif}.g{stroke:#e4e4e4}"
          ".frame{fill:none;stroke:#888}"
          "</style></head><body>\n",
          f);
    fputs("<h1>evtls-load: ", f);
    esc(f, o->target);
    fputs("</h1>\n<table>", f);
    /* A merged report's command is the merge: the test is the shards'. */
    fprintf(f, "<tr><th>%s</th><td><code>", r->shard_index == LT_MERGED ? "merged by" : "command");
    esc(f, r->command);
    fprintf(f, "</code></td></tr><tr><th>started</th><td>%s</td></tr>", when);
    fputs("<tr><th>machine</th><td>", f);
    if (r->shard_index == LT_MERGED) {
        fprintf(f, "%zu shards:", r->n_shards);
        for (size_t i = 0; i < r->n_shards; i++) {
            fputs(i ? ", " : " ", f);
            esc(f, r->shards[i].host);
        }
    } else
        esc(f, r->host);
    uint64_t ops = st->ops_ok + st->ops_failed;
    fprintf(f, "</td></tr><tr><th>test</th><td>%s mode, -c %u, %u thread%s",
            o->mode == LT_MODE_REQUEST ? "request"
            : o->mode == LT_MODE_HOLD  ? "hold"
                                       : "handshake",
            o->conns, o->threads, o->threads == 1 ? "" : "s");
    if (o->max_streams)
        fprintf(f, ", HTTP/2 -M %u", o->max_streams);
    if (o->total)
        fprintf(f, ", -n %llu", (unsigned long long)o->total);
    if (o->duration_us)
        fprintf(f, ", -d %.3g s", (double)o->duration_us / 1e6);
    if (o->rate > 0)
        fprintf(f, ", --rate %.6g/s", o->rate);
    fprintf(
        f,
        "</td></tr><tr><th>run</th><td>%.2f s; %llu operations (%.1f/s), %llu failed%s</td></tr>"
        "<tr><th>client</th><td>CPU %.2f s user, %.2f s system; peak resident %ld KiB",
        r->elapsed_s, (unsigned long long)ops, r->elapsed_s > 0 ? (double)ops / r->elapsed_s : 0,
        (unsigned long long)st->ops_failed, r->interrupted ? " (interrupted)" : "", r->cpu_user_s,
        r->cpu_sys_s, r->rss_peak_kb);
    if (o->mode == LT_MODE_HOLD && r->kib_per_held >= 0)
        fprintf(f, "; %.1f KiB per held connection (the slope), %.0f KiB fixed", r->kib_per_held,
                r->fixed_kib);
    fputs("</td></tr></table>\n", f);
    html_verdicts(f, r);
    fputs("<h2>Latency</h2>\n", f);
    percentile_chart(f, st);
    fputs("<table><tr><th>phase</th><th>count</th><th>min ms</th><th>p50 ms</th><th>p75 "
          "ms</th><th>p90 ms</th><th>p95 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max "
          "ms</th></tr>",
          f);
    for (int p = 0; p < LT_NPHASES; p++) {
        const lt_hist *h = &st->hist[p];
        if (h->count == 0)
            continue;
        fprintf(f,
                "<tr><td>%s</td><td class=\"n\">%llu</td><td class=\"n\">%.3f</td><td "
                "class=\"n\">%.3f</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td><td "
                "class=\"n\">%.3f</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td><td "
                "class=\"n\">%.3f</td></tr>",
                lt_phase_names[p], (unsigned long long)h->count, (double)h->min / 1000,
                (double)lt_hist_percentile(h, 50) / 1000, (double)lt_hist_percentile(h, 75) / 1000,
                (double)lt_hist_percentile(h, 90) / 1000, (double)lt_hist_percentile(h, 95) / 1000,
                (double)lt_hist_percentile(h, 99) / 1000,
                (double)lt_hist_percentile(h, 99.9) / 1000, (double)h->max / 1000);
    }
    fputs("</table>\n", f);
    html_targets(f, r);
    fputs("<h2>Over the run</h2>\n", f);
    series_charts(f, st, o);
    fputs("<h2>Handshakes</h2>\n<table><tr><th>full</th><th>resumed</th><th>failed</th></tr>", f);
    fprintf(f,
            "<tr><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td "
            "class=\"n\">%llu</td></tr></table>",
            (unsigned long long)(st->conns_ok - st->resumed), (unsigned long long)st->resumed,
            (unsigned long long)st->conns_failed);
    fputs("<table><tr><th>version</th><th>cipher</th><th>group</th><th>handshakes</th></tr>", f);
    for (unsigned i = 0; i < st->n_tls; i++) {
        fputs("<tr><td>", f);
        esc(f, st->tls[i].version);
        fputs("</td><td>", f);
        esc(f, st->tls[i].cipher);
        fputs("</td><td>", f);
        esc(f, st->tls[i].group ? st->tls[i].group : "-");
        fprintf(f, "</td><td class=\"n\">%llu</td></tr>", (unsigned long long)st->tls[i].n);
    }
    if (st->tls_other)
        fprintf(f, "<tr><td colspan=\"3\">others</td><td class=\"n\">%llu</td></tr>",
                (unsigned long long)st->tls_other);
    fputs("</table>\n", f);
    html_statuses(f, st);
    html_http2(f, o, st);
    html_early(f, o, st);
    html_checks(f, st);
    fputs("<h2>Errors</h2>\n", f);
    if (st->ops_failed == 0 && st->conns_failed == 0)
        fputs("<p>None.</p>\n", f);
    else {
        fputs("<table><tr><th>class</th><th>code</th><th>count</th><th>meaning</th></tr>", f);
        lt_each_error(f, st, html_error_row);
        fputs("</table>\n", f);
    }
    if (r->shard_index == LT_MERGED && r->n_shards) {
        uint64_t first, last;
        lt_start_span(r->shards, r->n_shards, &first, &last);
        fprintf(f,
                "<h2>Shards</h2>\n<p>%zu of %u shards merged; start skew %.3f ms.</p><table>"
                "<tr><th>shard</th><th>host</th><th>start + ms</th><th>time s</th>"
                "<th>operations</th><th>errors</th><th>connections</th><th>cpu s</th></tr>",
                r->n_shards, r->shard_count, (double)(last - first) / 1000);
        for (size_t i = 0; i < r->n_shards; i++) {
            const lt_shard_row *w = &r->shards[i];
            fprintf(f, "<tr><td class=\"n\">%u</td><td>", w->index);
            esc(f, w->host);
            fprintf(f,
                    "</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td><td "
                    "class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td "
                    "class=\"n\">%.2f</td></tr>",
                    (double)(w->began_unix_us - first) / 1000,
                    (double)(w->end_unix_us - w->start_unix_us) / 1e6, (unsigned long long)w->ops,
                    (unsigned long long)w->errors, (unsigned long long)w->conns, w->cpu_s);
        }
        fputs("</table>\n", f);
    }
    fputs("</body></html>\n", f);
}
