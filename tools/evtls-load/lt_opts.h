/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_opts.h - evtls-load's command line: parsed and checked into one
 * struct, with no side effects (the parser is pure and fuzzable). */
#ifndef LT_OPTS_H
#define LT_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <evtls/http.h>

#include "cli_tls.h"
#include "evtls_cli.h"
#include "lt_targets.h"

#define LT_MAX_ADDRS   16
#define LT_MAX_URLS    64
#define LT_MAX_HEADERS 32

/* The latency phases evtls-load measures (and --threshold names). */
typedef enum lt_phase {
    LT_DNS = 0,     /* name resolution (0 for an address literal) */
    LT_TCP_WAIT,    /* addresses known to the first connect() call: the client's own queue */
    LT_TCP,         /* TCP connect, from the first connect() call to connected */
    LT_TLS,         /* TLS handshake */
    LT_CONNECT,     /* a connection ready: from its start (or schedule) to ready */
    LT_STREAM_WAIT, /* HTTP/2: from the operation's start to a stream on a connection */
    LT_TTFB,        /* request sent to first response byte */
    LT_TTFB_CONN,   /* a new connection's first request: its connect's start to the first
                       response byte (early data shows here) */
    LT_TOTAL,       /* one operation, from its (scheduled) start to its end, failed ones too */
    LT_TOTAL_OK,    /* the same, of the operations that succeeded */
    LT_NPHASES
} lt_phase;

/* Their names: dns, tcp_wait, tcp, tls, connect, stream_wait, ttfb, total,
 * total_ok. */
extern const char *const lt_phase_names[LT_NPHASES];

typedef enum lt_mode {
    LT_MODE_HANDSHAKE = 1, /* connect, handshake, close: one operation each */
    LT_MODE_REQUEST,       /* HTTP/1.1 requests over keep-alive connections */
    LT_MODE_HOLD           /* open -c connections and hold them for -d */
} lt_mode;

typedef struct lt_opts {
    const char *target; /* as given */
    evtls_url url;      /* parsed (target "" for a bare HOST:PORT) */
    /* request mode: more URLs of the same origin, requests take them in
     * turn (h2load's several URIs) */
    const char *more_urls[LT_MAX_URLS - 1];
    unsigned n_more_urls;
    lt_mode mode;
    /* --targets FILE: the targets (read and parsed by lt_opts_use_targets),
     * each one's URL and origin; the origins with where they are dialled
     * and their connections (of -c) */
    const char *targets_path;
    const lt_targets *targets;
    evtls_url target_url[LT_MAX_TARGETS];
    unsigned target_origin[LT_MAX_TARGETS];
    struct lt_origin {
        const evtls_url *url; /* its first target's */
        const char *dial_host;
        uint16_t dial_port;
        const char *addr; /* --resolve's address for it, NULL */
        unsigned conns;   /* its share of -c */
    } origins[LT_MAX_TARGETS];
    unsigned n_origins;
    uint64_t seed;               /* --seed: the targets' draw */
    const char *script_path;     /* --script FILE.lua: wrk's script API (lt_script.c) */
    const char *script_args[64]; /* the arguments after "--", init()'s */
    unsigned n_script_args;
    int mode_given;       /* -m was given */
    unsigned conns;       /* -c */
    unsigned max_streams; /* -M: HTTP/2 streams at once per connection (0 without HTTP/2) */
    unsigned threads;     /* -t */
    uint64_t total;       /* -n, 0 = not given */
    uint64_t duration_us; /* -d, 0 = not given */
    double rate;          /* --rate, operations per second in all, 0 = closed loop */
    uint64_t ramp_us;     /* --ramp-up */
    /* --stages DUR:RATE,...: the open loop's rate in linear ramps */
    uint64_t stage_us[32];
    double stage_rate[32];
    unsigned n_stages;
    const char *stages_text;
    int stages_conns;         /* --conn-stages: the levels are the closed loop's connections */
    unsigned reqs_per_conn;   /* --requests-per-conn, 0 = as many as the server allows */
    double resume_ratio;      /* --resume-ratio */
    int resume_given;         /* --resume-ratio was given */
    int no_resume;            /* --no-resume (evtls-poll's): the ratio stays 0 */
    const char *session_file; /* --session-file (evtls-poll's): loaded, each thread its share,
                                 and saved at the end */
    double early_ratio;       /* --early-data-ratio: of the resumed operations, sent early */
    struct cli_tls tls;       /* --cacert ... --handshake-timeout, as evtls-poll; tls_min and
                                 tls_max are set (12, 13) */
    struct cli_net net;       /* PSK, proxy, pins, interface */
    unsigned race_limit;      /* Happy Eyeballs racing sockets per thread (default 0) */
    const char *resolver;
    const char *addrs[LT_MAX_ADDRS];          /* --address: dial these, not the host's addresses */
    struct cli_resolve resolve[LT_MAX_ADDRS]; /* --resolve HOST:PORT:ADDR (curl's) */
    unsigned n_resolve;
    struct cli_connect_to connect_to[8]; /* --connect-to HOST1:PORT1:HOST2:PORT2 (curl's) */
    unsigned n_connect_to;
    const char *dial_host; /* where connections go: the URL's host, or --connect-to's */
    uint16_t dial_port;
    unsigned n_addrs;
    const char *sources[LT_MAX_ADDRS]; /* --source */
    unsigned n_sources;
    const char *method;
    const char *headers[LT_MAX_HEADERS];
    unsigned n_headers;
    const char *data; /* --data as given (TEXT or @FILE) */
    char *data_buf;   /* its bytes (evtls-load's main reads them, before the run) */
    size_t data_len;
    unsigned timeout_ms;         /* 0: the library's default */
    unsigned request_timeout_ms; /* --request-timeout: the whole exchange, body included */
    uint64_t max_body;           /* --max-body, 0: the library's default */
    const char *json_path;
    const char *series_out;     /* --series-out FILE or -: a JSON line as each second ends */
    const char *metrics_listen; /* --metrics-listen ADDR:PORT: OpenMetrics at /metrics */
    uint64_t metrics_linger_us; /* --metrics-linger: served that long after the run */
    const char *html_path;      /* --html: the report as one self-contained page */
    const char *log_file;       /* --log-file: one line per operation, written after the run */
    uint64_t max_errors;
    uint64_t warm_up; /* --warm-up N: operations run first and not counted */
    /* --threshold (k6's thresholds): the run fails (exit 3) when a
     * statistic is not on the right side of its limit: PHASE.STAT<TIME or
     * >TIME, errors.rate, checks.rate (the share of checks passed) or rps,
     * each with < or > */
    struct lt_threshold {
        const char *text;
        enum { LT_TH_LATENCY, LT_TH_ERRORS_RATE, LT_TH_CHECKS_RATE, LT_TH_RPS } kind;
        int phase;        /* latency: an lt_phase, -1 while parsing */
        double p;         /* latency: percentile, 100 for max, -1 for mean */
        int above;        /* the statistic must be above the limit ('>'), else below */
        double limit;     /* latency in us; a rate from 0 to 1; operations per second */
        char target[128]; /* {target:NAME}: the target's figures (--targets), "" the run's */
    } thresholds[8];
    unsigned n_thresholds;
    int abort_on_threshold; /* --abort-on-threshold: a failed count threshold ends the run */
    /* --expect-status LIST: the statuses that are success (default: below
     * 400); --expect-body and --expect-header: checks on each response,
     * counted apart from errors (k6's checks) */
    uint8_t expect_status[600];
    int expect_status_given;
    const char *expect_body;
    const char *expect_header; /* "Name:value" as given */
    int no_progress;
    int no_retry;
    /* --shard I/N: this process runs shard I of N (0/1 when not sharded) */
    unsigned shard_index, shard_count;
    int shard_given;
    uint64_t start_at_us; /* --start-at, UNIX time in µs; 0 = now */
} lt_opts;

/* --targets: takes the parsed file ts (kept by o, owned by the caller):
 * the first target stands for the run's URL, every target's URL is
 * parsed, the origins found, -c shared among them; conflicting options
 * refused. Call after lt_opts_shard_env. Returns 0 or -1 with err set. */
int lt_opts_use_targets(lt_opts *o, const lt_targets *ts, char *err, size_t errlen);

/* An exact share of n among parts: part i's, the remainder to the lowest. */
uint64_t lt_share_of(uint64_t n, unsigned i, unsigned parts);

/* Parses argv. Returns 0 with o filled, 1 when --help or --version was
 * asked for (the text is in err), or -1 with the reason in err. */
int lt_opts_parse(int argc, char **argv, lt_opts *o, char *err, size_t errlen);

/* Parses "I/N" (0 <= I < N <= 100000). Returns 0 or -1. */
int lt_parse_shard(const char *s, unsigned *index, unsigned *count);

/* Parses a wall-clock instant: UNIX seconds (a fraction allowed) or UTC
 * "YYYY-MM-DDTHH:MM:SS[.frac]Z". Returns 0 with *unix_us set, or -1. */
int lt_parse_start_at(const char *s, uint64_t *unix_us);

/* The shard from the environment when --shard was not given: index and
 * count are JOB_COMPLETION_INDEX's and EVTLS_SHARD_COUNT's values (NULL
 * when unset; both must be set to take effect). Checks the shard against
 * o's -c and -n. Returns 0 or -1 with the reason in err. */
int lt_opts_shard_env(lt_opts *o, const char *index, const char *count, char *err, size_t errlen);

/* Parses a duration: a number with an optional unit us, ms, s (the
 * default), m or h. Returns 0 with *us set, or -1. */
int lt_parse_duration(const char *s, uint64_t *us);

/* Parses "PHASE.STAT<TIME" (PHASE dns, tcp, tls, connect, ttfb or total;
 * STAT p50, p90, p95, p99, p99.9, max or mean). Returns 0 or -1. */
int lt_parse_threshold(const char *s, struct lt_threshold *t);

/* --stages DUR:RATE,...: into o's stages. Returns 0 or -1. */
int lt_parse_stages(const char *s, lt_opts *o);

/* snprintf into err (errlen bytes); returns -1. The options' and the
 * workers' set-up errors are written with it. */
int lt_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The usage text. */
extern const char lt_usage[];

#endif
