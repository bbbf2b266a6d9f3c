/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_metrics.c - /metrics in OpenMetrics text (lt_metrics.h). */
#include "lt_metrics.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <evtls/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint64_t lt_metric_bucket_us[LT_METRIC_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000};

struct lt_metrics {
    struct evhttp *http;
    void (*fill)(void *arg, struct lt_metrics_view *v);
    void *arg;
    uint64_t scrapes;
};

/* A label's value, escaped as OpenMetrics asks (\\, \", \n). */
static void label_value(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f);
        if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

char *lt_metrics_text(const struct lt_metrics_view *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    fputs("# TYPE evtls_operations counter\n"
          "# HELP evtls_operations Operations ended, by result.\n",
          f);
    fprintf(f, "evtls_operations_total{result=\"ok\"} %llu\n", (unsigned long long)v->ok);
    fprintf(f, "evtls_operations_total{result=\"error\"} %llu\n", (unsigned long long)v->errors);
    fprintf(f,
            "# TYPE evtls_body_bytes counter\n"
            "# HELP evtls_body_bytes Response body bytes received.\n"
            "evtls_body_bytes_total %llu\n"
            "# TYPE evtls_tls_bytes counter\n"
            "# HELP evtls_tls_bytes TLS bytes on the wire, of the connections closed so far.\n"
            "evtls_tls_bytes_total{direction=\"in\"} %llu\n"
            "evtls_tls_bytes_total{direction=\"out\"} %llu\n",
            (unsigned long long)v->body_bytes, (unsigned long long)v->tls_in,
            (unsigned long long)v->tls_out);
    fputs("# TYPE evtls_responses counter\n"
          "# HELP evtls_responses HTTP responses, by status class.\n",
          f);
    for (int c = 1; c < 6; c++)
        fprintf(f, "evtls_responses_total{class=\"%dxx\"} %llu\n", c,
                (unsigned long long)v->status[c]);
    fputs("# TYPE evtls_errors counter\n"
          "# HELP evtls_errors Failed operations, by class of error (status: an HTTP status "
          "not expected).\n",
          f);
    for (int c = 1; c < LT_METRIC_CLASSES; c++) {
        const char *name = c == LT_METRIC_CLASSES - 1 ? "status"
                           : c <= EVTLS_CLASS_HTTP    ? evtls_err_class_name((evtls_err_class)c)
                                                      : NULL;
        if (name)
            fprintf(f, "evtls_errors_total{class=\"%s\"} %llu\n", name,
                    (unsigned long long)v->err_class[c]);
    }
    if (v->n_targets)
        fputs("# TYPE evtls_target_operations counter\n"
              "# HELP evtls_target_operations Operations ended, by target (--targets) and "
              "result.\n",
              f);
    for (unsigned t = 0; t < v->n_targets; t++)
        for (int ok = 1; ok >= 0; ok--) {
            fputs("evtls_target_operations_total{target=\"", f);
            label_value(f, v->target_name[t]);
            fprintf(f, "\",result=\"%s\"} %llu\n", ok ? "ok" : "error",
                    (unsigned long long)(ok ? v->target_ok[t] : v->target_err[t]));
        }
    fprintf(f,
            "# TYPE evtls_in_flight gauge\n"
            "# HELP evtls_in_flight Operations running now.\n"
            "evtls_in_flight %llu\n"
            "# TYPE evtls_connections_open gauge\n"
            "# HELP evtls_connections_open Connections up now.\n"
            "evtls_connections_open %llu\n",
            (unsigned long long)v->in_flight, (unsigned long long)v->conns_open);
    if (v->n_phases)
        fputs("# TYPE evtls_phase_seconds histogram\n"
              "# HELP evtls_phase_seconds Each phase's latency (dns, tcp, tls, connect, ttfb, "
              "total...), as the summary's table.\n",
              f);
    for (unsigned p = 0; p < v->n_phases; p++) {
        for (int i = 0; i < LT_METRIC_BUCKETS; i++)
            fprintf(f, "evtls_phase_seconds_bucket{phase=\"%s\",le=\"%g\"} %llu\n",
                    v->phase_name[p], (double)lt_metric_bucket_us[i] / 1e6,
                    (unsigned long long)v->phase_bucket[p][i]);
        fprintf(f,
                "evtls_phase_seconds_bucket{phase=\"%s\",le=\"+Inf\"} %llu\n"
                "evtls_phase_seconds_sum{phase=\"%s\"} %.6f\n"
                "evtls_phase_seconds_count{phase=\"%s\"} %llu\n",
                v->phase_name[p], (unsigned long long)v->phase_count[p], v->phase_name[p],
                v->phase_sum_s[p], v->phase_name[p], (unsigned long long)v->phase_count[p]);
    }
    fprintf(f,
            "# TYPE evtls_connections_held gauge\n"
            "# HELP evtls_connections_held Connections held open (--mode hold).\n"
            "evtls_connections_held %llu\n"
            "# TYPE evtls_behind_schedule gauge\n"
            "# HELP evtls_behind_schedule Open loop: operations due and not started.\n"
            "evtls_behind_schedule %llu\n",
            (unsigned long long)v->held, (unsigned long long)v->backlog);
    fputs("# TYPE evtls_latency_seconds histogram\n"
          "# HELP evtls_latency_seconds Successful operations' whole time.\n",
          f);
    for (int i = 0; i < LT_METRIC_BUCKETS; i++)
        fprintf(f, "evtls_latency_seconds_bucket{le=\"%g\"} %llu\n",
                (double)lt_metric_bucket_us[i] / 1e6, (unsigned long long)v->bucket[i]);
    fprintf(f,
            "evtls_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
            "evtls_latency_seconds_sum %.6f\n"
            "evtls_latency_seconds_count %llu\n"
            "# EOF\n",
            (unsigned long long)v->latency_count, v->latency_sum_s,
            (unsigned long long)v->latency_count);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
    lt_metrics *m = arg;
    struct lt_metrics_view v;
    memset(&v, 0, sizeof v);
    m->fill(m->arg, &v);
    char *text = lt_metrics_text(&v);
    struct evbuffer *b = evbuffer_new();
    if (text == NULL || b == NULL) {
        free(text);
        if (b)
            evbuffer_free(b);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    evbuffer_add(b, text, strlen(text));
    free(text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/openmetrics-text; version=1.0.0; charset=utf-8");
    evhttp_send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);
    m->scrapes++;
}

lt_metrics *lt_metrics_new(struct event_base *base, const char *addr,
                           void (*fill)(void *arg, struct lt_metrics_view *v), void *arg, char *err,
                           size_t errlen)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : -1;
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') { /* [::1]:PORT */
        addr++;
        hl -= 2;
    }
    if (colon == NULL || hl == 0 || hl >= sizeof host || port <= 0 || port > 65535) {
        snprintf(err, errlen, "--metrics-listen: '%s' is not ADDR:PORT", addr);
        return NULL;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    lt_metrics *m = calloc(1, sizeof *m);
    if (m == NULL || (m->http = evhttp_new(base)) == NULL) {
        free(m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->fill = fill;
    m->arg = arg;
    if (evhttp_bind_socket(m->http, host, (uint16_t)port) != 0) {
        snprintf(err, errlen, "--metrics-listen: cannot listen on %s:%ld", host, port);
        lt_metrics_free(m);
        return NULL;
    }
    evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET);
    evhttp_set_cb(m->http, "/metrics", on_metrics, m);
    return m;
}

uint64_t lt_metrics_scrapes(const lt_metrics *m)
{
    return m ? m->scrapes : 0;
}

void lt_metrics_free(lt_metrics *m)
{
    if (m == NULL)
        return;
    if (m->http)
        evhttp_free(m->http);
    free(m);
}
