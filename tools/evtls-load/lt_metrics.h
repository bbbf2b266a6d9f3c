/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_metrics.h - evtls-load's live metrics for a scraper (Prometheus):
 * --metrics-listen ADDR:PORT serves OpenMetrics text at /metrics from the
 * main thread's loop (libevent's HTTP server), reading the threads'
 * counters without a lock; they are never blocked by it. */
#ifndef LT_METRICS_H
#define LT_METRICS_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

/* The fixed latency buckets, upper bounds in microseconds. */
#define LT_METRIC_BUCKETS 12
extern const uint64_t lt_metric_bucket_us[LT_METRIC_BUCKETS];

#define LT_METRIC_CLASSES 16 /* evtls error classes; the last: an HTTP status that failed */
#define LT_METRIC_TARGETS 64
#define LT_METRIC_PHASES  16

/* What one scrape shows, summed over the threads. */
struct lt_metrics_view {
    uint64_t ok, errors;               /* operations ended */
    uint64_t held, backlog, in_flight; /* gauges */
    uint64_t conns_open;               /* gauge: connections up now */
    uint64_t body_bytes;               /* response bodies received */
    uint64_t tls_in, tls_out;          /* TLS bytes of the connections closed so far */
    /* each phase's latency: cumulative buckets, count, sum (n_phases, named) */
    unsigned n_phases;
    const char *phase_name[LT_METRIC_PHASES];
    uint64_t phase_bucket[LT_METRIC_PHASES][LT_METRIC_BUCKETS], phase_count[LT_METRIC_PHASES];
    double phase_sum_s[LT_METRIC_PHASES];
    uint64_t status[6];                    /* responses by class: [2] 2xx ... [5] 5xx */
    uint64_t err_class[LT_METRIC_CLASSES]; /* failed operations by what failed them */
    /* --targets: each one's operations ended, by result */
    unsigned n_targets;
    const char *target_name[LT_METRIC_TARGETS];
    uint64_t target_ok[LT_METRIC_TARGETS], target_err[LT_METRIC_TARGETS];
    uint64_t bucket[LT_METRIC_BUCKETS]; /* successful operations' total latency, cumulative */
    uint64_t latency_count;
    double latency_sum_s;
};

typedef struct lt_metrics lt_metrics;

/* Serves /metrics on base at addr ("127.0.0.1:9464", "[::1]:9464"), each
 * scrape filled by fill(arg, view). Returns NULL with err set (a bad
 * address, a port in use). */
lt_metrics *lt_metrics_new(struct event_base *base, const char *addr,
                           void (*fill)(void *arg, struct lt_metrics_view *v), void *arg, char *err,
                           size_t errlen);

/* The scrapes served so far. */
uint64_t lt_metrics_scrapes(const lt_metrics *m);

void lt_metrics_free(lt_metrics *m);

/* The OpenMetrics text of v into a malloc'd string (NULL out of memory). */
char *lt_metrics_text(const struct lt_metrics_view *v);

#endif
