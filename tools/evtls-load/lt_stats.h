/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_stats.h - what one evtls-load thread counts, merged across threads at
 * the end, and the summary printed from it (text and JSON). */
#ifndef LT_STATS_H
#define LT_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "lt_hist.h"
#include "lt_opts.h"

#define LT_ERR_SLOTS 128 /* evtls error codes are -1 .. -127 */
#define LT_MAX_TLS   8   /* distinct version/cipher/group combinations listed */

typedef struct lt_tls_kind {
    const char *version, *cipher, *group; /* static strings from evtls */
    uint64_t n;
} lt_tls_kind;

/* One second of the run (counted from the shard's start): operations
 * ended in it, of them errors, and the successful ones' total latency in
 * the coarse series layout (NULL until one is recorded, so that a hold
 * run's quiet seconds cost nothing). */
typedef struct lt_second {
    uint64_t ops, errors;
    uint32_t *slot; /* LT_SERIES_SLOTS counts */
} lt_second;
#define LT_SERIES_MAX 86400 /* seconds kept (a day); later ones are counted as dropped */

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
    /* --early-data-ratio: connections whose request was given as early
     * data, by fate; the bytes sent early; 425s sent again without */
    uint64_t early_accepted, early_rejected, early_not_sent, early_bytes, early_425;
    uint64_t checks, checks_failed; /* --expect-body, --expect-header: checks made, failed */
    uint64_t offered, resumed;      /* handshakes offered a session; resumed ones */
    uint64_t reqs_ok, reqs_failed;  /* HTTP exchanges (a 4xx/5xx status fails) */
    uint64_t ops_ok, ops_failed;    /* operations: handshakes or requests; failed = errors */
    uint64_t status[6];             /* responses by status class: [2] = 2xx */
    uint64_t codes[600];            /* responses by status code (100-599) */
    uint64_t bytes_in, bytes_out;   /* TLS bytes on the wire, of every connection */
    uint64_t body_bytes;            /* HTTP response body bytes received */
    uint64_t read_wakes;            /* times a socket woke reading (evtls_conn_info) */
    /* Request mode: requests (ended, ok or not) per connection slot, the
     * fewest and the most (UINT64_MAX / 0 while none is counted). */
    uint64_t slot_reqs_min, slot_reqs_max;
    uint64_t stop_late_us;         /* -d: how long after its due time the run stopped */
    uint64_t ended_by_d;           /* 1 when -d's time ended the run (not -n or a signal) */
    uint64_t errors[LT_ERR_SLOTS]; /* failures by evtls error code (index -code) */
    uint64_t status_errors;        /* failures by HTTP status >= 400 */
    lt_tls_kind tls[LT_MAX_TLS];
    unsigned n_tls;
    uint64_t tls_other; /* handshakes of combinations past LT_MAX_TLS */
    lt_hist hist[LT_NPHASES];
    lt_second *series; /* the per-second series, n_series long */
    size_t n_series;
    uint64_t series_dropped; /* operations past LT_SERIES_MAX seconds */
    /* HTTP/2: responses that came over it, streams the server refused
     * (each sent again), GOAWAYs received, connections that spoke it */
    uint64_t h2_responses, h2_refused, h2_goaways, h2_conns;
    uint64_t h2_peer_max_streams; /* the server's MAX_CONCURRENT_STREAMS (the highest seen) */
} lt_stats;

/* Empties st (which holds no memory yet, or was freed). */
void lt_stats_init(lt_stats *st);

/* Frees the series st holds (st must be initialised again to be used). */
void lt_stats_free(lt_stats *st);

/* Frees a series of n seconds. */
void lt_series_free(lt_second *series, size_t n);

/* The value at percentile p (0..100) of a second's successful operations'
 * latency (the highest value of the slot the rank falls in), 0 for none. */
uint64_t lt_second_percentile(const lt_second *s, double p);

/* Counts one ended operation in second sec of the series: failed when err
 * is non-zero, else with its total latency. Returns -1 when out of memory
 * (the operation is counted in series_dropped). */
int lt_stats_second(lt_stats *st, uint64_t sec, int err, uint64_t latency_us);

/* Adds ops operations, errors of them failed, with the successes' latency
 * counts slot (LT_SERIES_SLOTS of them, NULL for none) to second sec. */
int lt_stats_second_add(lt_stats *st, uint64_t sec, uint64_t ops, uint64_t errors,
                        const uint64_t *slot);

/* Adds a series of n seconds to dst's, its second i to dst's i + shift.
 * Returns -1 when out of memory (what did not fit is counted dropped). */
int lt_stats_merge_series(lt_stats *dst, const lt_second *series, size_t n, uint64_t shift);

/* Counts one failure with evtls error code err (< 0). */
void lt_stats_error(lt_stats *st, int err);

/* Counts one handshake's negotiated parameters (n of them). */
void lt_stats_tls(lt_stats *st, const char *version, const char *cipher, const char *group);
void lt_stats_tls_n(lt_stats *st, const char *version, const char *cipher, const char *group,
                    uint64_t n);

/* Adds src to dst, the series second for second. Returns -1 when out of
 * memory for the series. */
int lt_stats_merge(lt_stats *dst, const lt_stats *src);

/* The scalar counters, by their names in the result file's "counters"
 * (one table for the writer and the reader), and how two merge. */
typedef enum lt_merge_how { LT_SUM, LT_MAX, LT_MIN } lt_merge_how;
typedef struct lt_counter {
    const char *name;
    size_t off; /* of a uint64_t in lt_stats */
    lt_merge_how how;
} lt_counter;
extern const lt_counter lt_counters[];
extern const size_t lt_n_counters;

/* One shard's row in a result's table of shards. */
typedef struct lt_shard_row {
    unsigned index;
    char host[64];
    uint64_t start_unix_us, end_unix_us; /* what it counted: wall clock, µs */
    uint64_t began_unix_us;              /* when its last thread actually began */
    uint64_t ops, errors, conns;         /* operations, of them errors; its share of -c */
    unsigned threads;
    double cpu_s;
    long rss_peak_kb;
} lt_shard_row;

#define LT_MERGED UINT32_MAX /* lt_result.shard_index of a merged result */

/* --targets: what a target's figures are of. */
typedef struct lt_target_info {
    const char *name, *method, *url;
    unsigned weight;
} lt_target_info;

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
    /* Hold mode: resident KiB per held connection, the slope of a line
     * through (held, resident) as the connections opened (-1: not
     * measured, no ramp to fit); the line's memory at zero held above
     * rss_base_kb (the threads' first use); the fewest held it was fitted
     * from. */
    double kib_per_held, fixed_kib;
    uint64_t fit_from;
    uint64_t unfinished; /* operations in flight at the end, not counted */
    int interrupted;     /* stopped by a signal: its number (merged: 1) */
    int aborted;         /* ended by --abort-on-threshold */
    /* The result file's own fields. */
    unsigned shard_index, shard_count;   /* LT_MERGED for a merged result */
    const char *host;                    /* where the shard ran */
    uint64_t start_unix_us, end_unix_us; /* the counted time, wall clock */
    uint64_t began_unix_us;              /* when the last thread actually began */
    uint64_t series_start_unix_us;       /* second 0 of the series */
    const char *fingerprint;             /* the test, a JSON object's text */
    const lt_shard_row *shards;          /* merged: every shard's row */
    size_t n_shards;
    uint64_t conns_here; /* this shard's share of -c (all of it when not sharded) */
    const char *command; /* the command line */
    /* --targets: each target's counters (no series) and what it is */
    const lt_stats *targets;
    const lt_target_info *target_info;
    unsigned n_targets;
} lt_result;

/* The fingerprint of the test o describes (a JSON object's text, to
 * free): the mode, the URLs and every option that changes the work. */
char *lt_fingerprint(const lt_opts *o);

/* The earliest and latest actual beginning among n shards (their start
 * skew is the gap). */
void lt_start_span(const lt_shard_row *rows, size_t n, uint64_t *first, uint64_t *last);

/* The row of the shard r describes (its own, not a merged one). */
lt_shard_row lt_result_row(const lt_result *r);

#define LT_RESULT_FORMAT "evtls-result/3"

/* UNIX µs as UTC "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void lt_iso_time(uint64_t unix_us, char *out, size_t n);

/* Failures per class, then per code, one call of row each (every output
 * lists them alike). */
typedef void (*lt_err_row_fn)(FILE *f, const char *cls, const char *name, const char *text,
                              uint64_t n, int *first);
void lt_each_error(FILE *f, const lt_stats *st, lt_err_row_fn row);

/* The h2load-like summary. */
void lt_report_text(FILE *f, const lt_result *r);

/* A --threshold against st (a run of elapsed_s seconds, for rps): 1 met,
 * 0 not met, -1 no sample; the value of its statistic in *value, in the
 * unit lt_threshold_unit names: ms for a latency, a share from 0 to 1 for
 * a rate, operations per second for rps (0 with no sample). */
int lt_threshold_eval(const lt_stats *st, double elapsed_s, const struct lt_threshold *t,
                      double *value);
const char *lt_threshold_unit(const struct lt_threshold *t);

/* The same against the result r: the run's figures, or those of the
 * target the threshold names ({target:NAME}; -1 when r has none such). */
int lt_threshold_eval_result(const lt_result *r, const struct lt_threshold *t, double *value);

/* The result as one JSON object and a newline (format LT_RESULT_FORMAT). */
void lt_report_json(FILE *f, const lt_result *r);

/* The same as a malloc'd string (NULL when out of memory). */
char *lt_report_json_text(const lt_result *r);

#endif
