/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_stats.h - what one evtls-load thread counts, merged across threads at
 * the end, and the summary printed from it (text and JSON). */
#ifndef LT_STATS_H
#define LT_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "lt_hist.h"
#include "lt_opts.h"

typedef enum lt_phase {
    LT_DNS = 0, /* name resolution (0 for an address literal) */
    LT_TCP,     /* TCP connect */
    LT_TLS,     /* TLS handshake */
    LT_CONNECT, /* a connection ready: from its start (or schedule) to ready */
    LT_TTFB,    /* request sent to first response byte */
    LT_TOTAL,   /* one operation, from its (scheduled) start to its end */
    LT_NPHASES
} lt_phase;

#define LT_ERR_SLOTS 128 /* evtls error codes are -1 .. -127 */
#define LT_MAX_TLS   8   /* distinct version/cipher/group combinations listed */

typedef struct lt_tls_kind {
    const char *version, *cipher, *group; /* static strings from evtls */
    uint64_t n;
} lt_tls_kind;

typedef struct lt_stats {
    uint64_t conns_ok, conns_failed; /* connects (handshakes) */
    uint64_t attempts;               /* TCP connect attempts (sockets), Happy Eyeballs' included */
    uint64_t attempts_lost;          /* attempts closed because another one won the race */
    uint64_t retried;                /* requests sent again after the keep-alive race */
    uint64_t due, never_started;     /* open loop: operations due by the end; of them,
                                        those that never started */
    uint64_t backoffs;               /* connect failures a slot waited after */
    uint64_t settle_us;              /* hold mode: start to every connection made or failed */
    uint64_t offers_missed;          /* --resume-ratio: offers due that never found a session */
    uint64_t offered, resumed;       /* handshakes offered a session; resumed ones */
    uint64_t reqs_ok, reqs_failed;   /* HTTP exchanges (a 4xx/5xx status fails) */
    uint64_t ops_ok, ops_failed;     /* operations: handshakes or requests; failed = errors */
    uint64_t status[6];              /* responses by status class: [2] = 2xx */
    uint64_t codes[600];             /* responses by status code (100-599) */
    uint64_t bytes_in, bytes_out;    /* TLS bytes on the wire, of every connection */
    uint64_t body_bytes;             /* HTTP response body bytes received */
    /* Request mode: requests (ended, ok or not) per connection slot, the
     * fewest and the most (UINT64_MAX / 0 while none is counted). */
    uint64_t slot_reqs_min, slot_reqs_max;
    uint64_t stop_late_us;         /* -d: how long after its due time the run stopped */
    uint64_t errors[LT_ERR_SLOTS]; /* failures by evtls error code (index -code) */
    uint64_t status_errors;        /* failures by HTTP status >= 400 */
    lt_tls_kind tls[LT_MAX_TLS];
    unsigned n_tls;
    uint64_t tls_other; /* handshakes of combinations past LT_MAX_TLS */
    lt_hist hist[LT_NPHASES];
} lt_stats;

/* Empties st. */
void lt_stats_init(lt_stats *st);

/* Counts one failure with evtls error code err (< 0). */
void lt_stats_error(lt_stats *st, int err);

/* Counts one handshake's negotiated parameters. */
void lt_stats_tls(lt_stats *st, const char *version, const char *cipher, const char *group);

/* Adds src to dst. */
void lt_stats_merge(lt_stats *dst, const lt_stats *src);

/* A finished run, as reported. */
typedef struct lt_result {
    const lt_opts *o;
    const lt_stats *st;
    double elapsed_s;             /* from the first operation to the end */
    double cpu_user_s, cpu_sys_s; /* the process's */
    long rss_base_kb;             /* resident memory before connecting */
    long rss_peak_kb;             /* peak resident memory */
    long rss_held_kb;             /* hold mode: resident memory with every connection open */
    uint64_t held;                /* hold mode: connections open at the peak */
    uint64_t unfinished;          /* operations in flight at the end, not counted */
    int interrupted;              /* stopped by a signal */
} lt_result;

/* The h2load-like summary. */
void lt_report_text(FILE *f, const lt_result *r);

/* The same as one JSON object and a newline. */
void lt_report_json(FILE *f, const lt_result *r);

#endif
