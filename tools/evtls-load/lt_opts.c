/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_opts.c - evtls-load's command line. */
#include "lt_opts.h"

#include <arpa/inet.h>

#include "evtls_cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char lt_usage[] =
    "Usage: evtls-load [options] https://HOST[:PORT]/PATH [URL...]   (or http://)\n"
    "       evtls-load [options] --targets FILE   (requests to several origins)\n"
    "       (several URLs of one origin: the requests take them in turn)\n"
    "       evtls-load [options] HOST:PORT          (TLS handshakes, no HTTP)\n"
    "\n"
    "A TLS load generator: one libevent loop per thread drives many\n"
    "non-blocking evtls connections.\n"
    "\n"
    "What to do:\n"
    "  -m, --mode MODE        handshake: connect, handshake, close (the default for\n"
    "                         HOST:PORT); request: HTTP/1.1 requests over keep-alive\n"
    "                         connections (the default for a URL); hold: open -c\n"
    "                         connections and hold them for -d from the moment\n"
    "                         every one is made or has failed (or until Ctrl-C);\n"
    "                         its handshake rate is over the time they took, and\n"
    "                         its memory per connection is the slope of resident\n"
    "                         memory as they open (with --ramp-up), fixed costs apart\n"
    "  -c, --connections N    concurrent connections (default 10)\n"
    "  -M, --max-concurrent-streams N  HTTP/2 (--http2, --http2-prior-knowledge): N\n"
    "                         requests at once on each connection, as h2load's -m\n"
    "                         (default 1; -c x N in flight)\n"
    "  -n, --requests N       operations in all: handshakes or requests\n"
    "  -d, --duration TIME    run for TIME (default 10s when -n is not given)\n"
    "      --rate R           open loop: start R operations per second in all; latency\n"
    "                         counts from each operation's scheduled start, so a slow\n"
    "                         server cannot hide its queue (no coordinated omission)\n"
    "      --stages DUR:RATE,...  the open loop's rate in linear ramps from the level\n"
    "                         before (0 at the start), e.g. 30s:100,2m:100,30s:0 (k6's\n"
    "                         ramping-arrival-rate); the run lasts their sum, each\n"
    "                         operation due exactly when the integral reaches it\n"
    "      --conn-stages DUR:N,...  the closed loop's connections in linear ramps\n"
    "                         from the level before (0 at the start), e.g.\n"
    "                         30s:100,2m:100,30s:0 (k6's ramping-VUs): a connection\n"
    "                         joins when the level passes its number and leaves (after\n"
    "                         its operation) when the level falls below it; -c is the\n"
    "                         highest level\n"
    "      --ramp-up TIME     start the connections (or the rate) gradually over TIME\n"
    "      --no-retry         do not send a request again after the keep-alive race (a\n"
    "                         reused connection closed before any answer; by default an\n"
    "                         idempotent request is sent once more on a new connection,\n"
    "                         counted as retried, its latency including the retry)\n"
    "      --requests-per-conn N  requests on one connection before a new one\n"
    "                         (request mode; default 0: as many as the server allows)\n"
    "  -t, --threads N        threads, each with its own loop and share of -c (default 1)\n"
    "\n"
    "HTTP (request mode):\n"
    "  -X, --method METHOD    GET (default), HEAD, POST, PUT, DELETE, OPTIONS, PATCH\n"
    "  -H, --header 'N: V'    add a request header (repeatable; --targets: to each)\n"
    "      --data TEXT        request body, or @FILE for a file's bytes (the method\n"
    "                         becomes POST unless given)\n"
    "      --ttfb-timeout TIME  time allowed from request to first response byte (30s;\n"
    "                         evtls-poll's name; --timeout is the same)\n"
    "      --request-timeout TIME  time allowed for the whole exchange, the body\n"
    "                         included (default none; HTTP_TIMEOUT when it passes)\n"
    "      --max-body BYTES   largest response body accepted (default 16777216)\n"
    "      --targets FILE     the requests from FILE instead of URLs: JSON Lines, one\n"
    "                         target a line: {\"name\", \"method\", \"url\", \"headers\",\n"
    "                         \"body\" or \"body_file\", \"weight\", \"expect_status\",\n"
    "                         \"connections\"} (\"url\" alone is needed), or vegeta's\n"
    "                         'METHOD URL' lines with 'Name: value' and '@FILE' lines;\n"
    "                         origins may differ: each has its own connections (-c\n"
    "                         shared by weight, or a target's \"connections\"); each\n"
    "                         operation's target drawn by weight (every weight-sum\n"
    "                         operations hold each target its weight's times, shuffled\n"
    "                         by --seed; shards and threads take their turns of the\n"
    "                         one sequence); every figure also per target\n"
    "      --seed N           the targets' draw (default 0): the same seed, the same\n"
    "                         sequence\n"
    "  -s, --script FILE.lua  wrk's Lua scripts, unchanged: setup(thread), init(args)\n"
    "                         (the arguments after '--'), delay(), request(),\n"
    "                         response(status, headers, body), done(summary, latency,\n"
    "                         requests); wrk.format, wrk.lookup, thread:get/set/stop;\n"
    "                         one Lua 5.4 state per thread, no lock; a script error\n"
    "                         names its line and ends the run (exit 1)\n"
    "\n"
    "TLS and connection (the same options as evtls-poll's):\n"
    "%s"
    "      --resume-ratio X   share of handshakes offered a cached session, 0..1\n"
    "                         (default 0: every handshake full)\n"
    "      --no-resume        never resume: --resume-ratio 0, as evtls-poll's\n"
    "      --session-file FILE  load sessions from FILE at the start (each thread its\n"
    "                         share: a ticket is offered once) and save every thread's\n"
    "                         at the end (mode 0600), as evtls-poll's\n"
    "      --early-data-ratio X  of the resumed connections' first requests, the share\n"
    "                         sent as TLS 1.3 early data with the ClientHello (0-RTT),\n"
    "                         spread exactly as --resume-ratio; GET, HEAD, OPTIONS, TRACE\n"
    "                         only (the tuned build has early data)\n"
    "\n"
    "Network:\n"
    "      --race-limit N     Happy Eyeballs attempts that may race a connection's first\n"
    "                         socket at once, per thread (default 0: -c N is at most N\n"
    "                         sockets at the server; an address that does not answer is\n"
    "                         left at the connect timeout, and remembered)\n"
    "      --resolver IP[:PORT]  DNS server to ask (default: /etc/resolv.conf)\n"
    "      --address ADDR     connect to ADDR instead of the host's addresses, still\n"
    "                         verifying the host's name (repeatable: taken in turn)\n"
    "      --resolve HOST:PORT:ADDR  curl's: --address ADDR when the target is HOST:PORT\n"
    "      --connect-to HOST1:PORT1:HOST2:PORT2  curl's: connect to HOST2:PORT2 when the\n"
    "                         target is HOST1:PORT1 (empty: any, or the same), still\n"
    "                         verifying HOST1, as evtls-poll\n"
    "      --source ADDR      connect from ADDR (repeatable: taken in turn); each\n"
    "                         source address has its own range of ports\n"
    "%s"
    "\n"
    "Output:\n"
    "      --json FILE        also write the result to FILE (-: to stdout, and the text\n"
    "                         summary to stderr): one JSON object, format\n"
    "                         evtls-result/3, with every counter, each phase's latency\n"
    "                         histogram in HdrHistogram's V2 compressed base64 (values\n"
    "                         in us) and a per-second series; results merge exactly\n"
    "      --html FILE        write a report to FILE (-: stdout): one page (latency by\n"
    "                         percentile per phase, rates, errors and p50/p99 over the\n"
    "                         run, the handshake mix; SVG, no script, nothing fetched)\n"
    "      --warm-up N        run N operations first and count none of them: one-time\n"
    "                         set-up is not latency (h2load's --warm-up-time); -n only\n"
    "      --log-file FILE    one line per operation (h2load's --log-file): start (us after\n"
    "                         the run's start), HTTP status, error name (HTTP_STATUS for a\n"
    "                         4xx or 5xx, as the summary counts it) or -, duration (us);\n"
    "                         kept in memory and written after the run (1,000,000 a thread)\n"
    "      --max-errors N     exit 1 when more than N operations fail (default 0)\n"
    "      --expect-status LIST  the statuses that are success, e.g. 200,204 or 2xx,301 or\n"
    "                         200-299 (default: below 400); others fail the operation\n"
    "      --expect-body STR  check each response's body holds STR (k6's checks: a failed\n"
    "                         check is counted apart from errors)\n"
    "      --expect-header 'Name: value'  check each response has that header value\n"
    "      --threshold EXPR   exit 3 unless it holds at the end (k6's thresholds;\n"
    "                         repeatable): PHASE.STAT<TIME or >TIME, errors.rate<X,\n"
    "                         checks.rate>X (the share of checks passed), rps>N or <N;\n"
    "                         e.g. total.p99<200ms, errors.rate<0.01, rps>5000;\n"
    "                         PHASE dns, tcp_wait, tcp, tls, connect,\n"
    "                         stream_wait, ttfb, ttfb_conn (from a new connection's\n"
    "                         connect), total (every operation, failed ones too) or\n"
    "                         total_ok;\n"
    "                         STAT any percentile pN (p50, p95, p99.9...), max or mean;\n"
    "                         one target's (--targets): STAT{target:NAME}<LIMIT, e.g.\n"
    "                         total.p95{target:login}<300ms (k6's submetrics);\n"
    "                         each one's value and verdict printed and in the JSON\n"
    "      --abort-on-threshold  end the run as soon as an errors.rate, checks.rate or\n"
    "                         total_ok percentile threshold fails (checked each second,\n"
    "                         the percentiles over the whole seconds so far, to 1 %%; the\n"
    "                         others at the end)\n"
    "      --no-progress      no progress line (it is shown only on a terminal)\n"
    "      --metrics-listen ADDR:PORT  serve OpenMetrics text at /metrics while the run\n"
    "                         goes (operations by result, the successful ones' latency\n"
    "                         as a histogram, connections held, behind schedule), for\n"
    "                         Prometheus; --metrics-linger TIME keeps serving the final\n"
    "                         figures that long after the run\n"
    "      --series-out FILE  one JSON line as each second ends: t, ops, errors, p50_ms,\n"
    "                         p99_ms (as the result's series; - for stdout, the summary\n"
    "                         then on stderr)\n"
    "\n"
    "Beyond one machine (see 'evtls-load merge --help'):\n"
    "      --shard I/N        run shard I of N (0 <= I < N): an exact share of -c, -n and\n"
    "                         --rate (remainders to the lowest shards), --rate's schedule\n"
    "                         offset so that the shards together keep the unsharded one;\n"
    "                         default from JOB_COMPLETION_INDEX and EVTLS_SHARD_COUNT\n"
    "                         when both are set (a Kubernetes Indexed Job)\n"
    "      --start-at TIME    start at this wall-clock instant (UNIX seconds, or UTC\n"
    "                         YYYY-MM-DDTHH:MM:SS[.frac]Z), so that shards start together\n"
    "  -h, --help             this text\n"
    "      --version          the versions of evtls and wolfSSL, and the build's features\n"
    "\n"
    "TIME is a number with an optional unit: us, ms, s (the default), m or h.\n"
    "Exit status: 0 done within --max-errors; 1 too many errors or none succeeded;\n"
    "3 a threshold failed; 2 bad usage; 130 or 143 when SIGINT or SIGTERM stopped the run\n"
    "(128 + the signal, as a shell reports it; the summary is written first).\n";

const char *const lt_phase_names[LT_NPHASES] = {"dns",     "tcp_wait",    "tcp",  "tls",
                                                "connect", "stream_wait", "ttfb", "ttfb_conn",
                                                "total",   "total_ok"};

int lt_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

uint64_t lt_share_of(uint64_t n, unsigned i, unsigned parts)
{
    return n / parts + (i < n % parts);
}

int lt_parse_shard(const char *s, unsigned *index, unsigned *count)
{
    char *end;
    errno = 0;
    if (!(*s >= '0' && *s <= '9'))
        return -1;
    unsigned long i = strtoul(s, &end, 10);
    if (errno || *end != '/' || !(end[1] >= '0' && end[1] <= '9'))
        return -1;
    unsigned long n = strtoul(end + 1, &end, 10);
    if (errno || *end || n == 0 || n > 100000 || i >= n)
        return -1;
    *index = (unsigned)i;
    *count = (unsigned)n;
    return 0;
}

int lt_parse_start_at(const char *s, uint64_t *unix_us)
{
    char *end;
    double frac = 0;
    if (strchr(s, 'T') == NULL) {
        if (!(*s >= '0' && *s <= '9'))
            return -1;
        errno = 0;
        double t = strtod(s, &end);
        if (errno || *end || !(t > 0 && t < 1e11))
            return -1;
        *unix_us = (uint64_t)(t * 1e6 + 0.5);
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL)
        return -1;
    if (*p == '.') {
        errno = 0;
        frac = strtod(p, &end);
        if (errno || end == p + 1)
            return -1;
        p = end;
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    time_t t = timegm(&tm);
    if (t <= 0)
        return -1;
    *unix_us = (uint64_t)t * 1000000u + (uint64_t)(frac * 1e6 + 0.5);
    return 0;
}

/* The shard's share must hold something to do. */
static int check_shard(lt_opts *o, char *err, size_t errlen)
{
    unsigned i = o->shard_index, n = o->shard_count;
    if (n <= 1)
        return 0;
    uint64_t conns = lt_share_of(o->conns, i, n);
    if (conns == 0)
        return lt_fail(err, errlen, "--connections %u is fewer than the %u shards", o->conns, n);
    if (o->total && lt_share_of(o->total, i, n) == 0)
        return lt_fail(err, errlen, "-n %llu is fewer than the %u shards",
                       (unsigned long long)o->total, n);
    if (o->warm_up && lt_share_of(o->warm_up, i, n) == 0)
        return lt_fail(err, errlen, "--warm-up %llu is fewer than the %u shards",
                       (unsigned long long)o->warm_up, n);
    if (o->threads > conns)
        return lt_fail(err, errlen, "--threads %u is more than shard %u's %llu connections",
                       o->threads, i, (unsigned long long)conns);
    return 0;
}

int lt_opts_shard_env(lt_opts *o, const char *index, const char *count, char *err, size_t errlen)
{
    if (!o->shard_given && ((index && *index) != (count && *count)))
        return lt_fail(err, errlen,
                       "%s is set but %s is not: a shard needs both (in a Kubernetes Indexed Job, "
                       "set EVTLS_SHARD_COUNT to the Job's completions), or --shard I/N",
                       index && *index ? "JOB_COMPLETION_INDEX" : "EVTLS_SHARD_COUNT",
                       index && *index ? "EVTLS_SHARD_COUNT" : "JOB_COMPLETION_INDEX");
    if (!o->shard_given && index && *index && count && *count) {
        char spec[64];
        snprintf(spec, sizeof spec, "%s/%s", index, count);
        if (lt_parse_shard(spec, &o->shard_index, &o->shard_count) != 0)
            return lt_fail(err, errlen,
                           "JOB_COMPLETION_INDEX=%s and EVTLS_SHARD_COUNT=%s are not a shard "
                           "(0 <= index < count)",
                           index, count);
    }
    return check_shard(o, err, errlen);
}

int lt_parse_threshold(const char *s, struct lt_threshold *t)
{
    /* k6's submetric: STAT{target:NAME}<LIMIT, the statistic of one target */
    t->target[0] = '\0';
    const char *brace = strstr(s, "{target:");
    if (brace) {
        const char *name = brace + 8, *close = strchr(name, '}');
        char rest[128];
        if (close == NULL || close == name || (size_t)(close - name) >= sizeof t->target ||
            (close[1] != '<' && close[1] != '>') ||
            (size_t)(brace - s) + strlen(close + 1) >= sizeof rest)
            return -1;
        snprintf(rest, sizeof rest, "%.*s%s", (int)(brace - s), s, close + 1);
        if (lt_parse_threshold(rest, t) != 0)
            return -1;
        snprintf(t->target, sizeof t->target, "%.*s", (int)(close - name), name);
        t->text = s;
        return 0;
    }
    const char *op = strpbrk(s, "<>");
    if (op == NULL || op == s)
        return -1;
    t->above = *op == '>';
    size_t nl = (size_t)(op - s);
    char *end;
    if ((nl == 11 && strncmp(s, "errors.rate", 11) == 0) ||
        (nl == 11 && strncmp(s, "checks.rate", 11) == 0)) {
        t->kind = s[0] == 'e' ? LT_TH_ERRORS_RATE : LT_TH_CHECKS_RATE;
        t->limit = strtod(op + 1, &end);
        if (end == op + 1 || *end != '\0' || !(t->limit >= 0 && t->limit <= 1))
            return -1;
        t->text = s;
        return 0;
    }
    if (nl == 3 && strncmp(s, "rps", 3) == 0) {
        t->kind = LT_TH_RPS;
        t->limit = strtod(op + 1, &end);
        if (end == op + 1 || *end != '\0' || !(t->limit > 0))
            return -1;
        t->text = s;
        return 0;
    }
    const char *dot = memchr(s, '.', nl);
    if (dot == NULL)
        return -1;
    t->kind = LT_TH_LATENCY;
    t->phase = -1;
    for (int i = 0; i < LT_NPHASES; i++)
        if ((size_t)(dot - s) == strlen(lt_phase_names[i]) &&
            strncmp(s, lt_phase_names[i], (size_t)(dot - s)) == 0)
            t->phase = i;
    if (t->phase < 0)
        return -1;
    char stat[16];
    size_t n = (size_t)(op - dot - 1);
    if (n == 0 || n >= sizeof stat)
        return -1;
    memcpy(stat, dot + 1, n);
    stat[n] = '\0';
    if (strcmp(stat, "max") == 0)
        t->p = 100;
    else if (strcmp(stat, "mean") == 0)
        t->p = -1;
    else if (stat[0] == 'p') {
        t->p = strtod(stat + 1, &end);
        if (end == stat + 1 || *end != '\0' || !(t->p > 0 && t->p < 100))
            return -1;
    } else {
        return -1;
    }
    uint64_t us;
    if (lt_parse_duration(op + 1, &us) != 0 || us == 0)
        return -1;
    t->limit = (double)us;
    t->text = s;
    return 0;
}

int lt_parse_stages(const char *s, lt_opts *o)
{
    o->n_stages = 0;
    o->stages_text = s;
    double top = 0;
    while (*s) {
        const char *comma = strchr(s, ','), *colon = strchr(s, ':');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (colon == NULL || colon >= s + n || o->n_stages == 32)
            return -1;
        char dur[32], *end;
        size_t dl = (size_t)(colon - s);
        if (dl == 0 || dl >= sizeof dur)
            return -1;
        memcpy(dur, s, dl);
        dur[dl] = '\0';
        uint64_t us;
        double rate = strtod(colon + 1, &end);
        if (lt_parse_duration(dur, &us) != 0 || us == 0 || end != s + n || colon + 1 == end ||
            !(rate >= 0 && rate <= 1e7))
            return -1;
        o->stage_us[o->n_stages] = us;
        o->stage_rate[o->n_stages++] = rate;
        top = rate > top ? rate : top;
        s += n + (comma != NULL);
        if (comma && *s == '\0')
            return -1;
    }
    return o->n_stages && top > 0 ? 0 : -1;
}

int lt_parse_duration(const char *s, uint64_t *us)
{
    return cli_parse_duration(s, 1e6, us); /* a bare number is seconds */
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

enum {
    O_RATE = 256,
    O_RAMP,
    O_STAGES,
    O_RPC,
    O_DATA,
    O_TIMEOUT,
    O_MAXBODY,
    O_RESUME,
    O_NORESUME,
    O_SESSFILE,
    O_EARLY,
    O_RACE,
    O_RESOLVER,
    O_ADDRESS,
    O_RESOLVE,
    O_CONNECT_TO,
    O_NET, /* cli_net_option */
    O_TLS, /* cli_tls_option */
    O_SOURCE,
    O_JSON,
    O_MAXERR,
    O_THRESHOLD,
    O_SERIES,
    O_METRICS,
    O_LINGER,
    O_ABORT_TH,
    O_EXPECT_STATUS,
    O_EXPECT_BODY,
    O_EXPECT_HEADER,
    O_LOGFILE,
    O_WARMUP,
    O_NOPROGRESS,
    O_NORETRY,
    O_SHARD,
    O_STARTAT,
    O_HTML,
    O_TARGETS,
    O_SEED,
};

static const struct option long_opts[] = {
    {"mode", required_argument, 0, 'm'},
    {"connections", required_argument, 0, 'c'},
    {"max-concurrent-streams", required_argument, 0, 'M'},
    {"requests", required_argument, 0, 'n'},
    {"duration", required_argument, 0, 'd'},
    {"threads", required_argument, 0, 't'},
    {"rate", required_argument, 0, O_RATE},
    {"ramp-up", required_argument, 0, O_RAMP},
    {"stages", required_argument, 0, O_STAGES},
    {"conn-stages", required_argument, 0, O_STAGES},
    {"requests-per-conn", required_argument, 0, O_RPC},
    {"method", required_argument, 0, 'X'},
    {"header", required_argument, 0, 'H'},
    {"data", required_argument, 0, O_DATA},
    {"ttfb-timeout", required_argument, 0, O_TIMEOUT},
    {"request-timeout", required_argument, 0, O_TIMEOUT},
    {"timeout", required_argument, 0, O_TIMEOUT}, /* the older name */
    {"max-body", required_argument, 0, O_MAXBODY},
    {"resume-ratio", required_argument, 0, O_RESUME},
    {"no-resume", no_argument, 0, O_NORESUME},
    {"session-file", required_argument, 0, O_SESSFILE},
    {"early-data-ratio", required_argument, 0, O_EARLY},
    {"race-limit", required_argument, 0, O_RACE},
    {"resolver", required_argument, 0, O_RESOLVER},
    {"address", required_argument, 0, O_ADDRESS},
    {"resolve", required_argument, 0, O_RESOLVE},
    {"connect-to", required_argument, 0, O_CONNECT_TO},
    CLI_TLS_LONG_OPTIONS(O_TLS),
    CLI_NET_LONG_OPTIONS(O_NET),
    {"source", required_argument, 0, O_SOURCE},
    {"json", required_argument, 0, O_JSON},
    {"max-errors", required_argument, 0, O_MAXERR},
    {"threshold", required_argument, 0, O_THRESHOLD},
    {"series-out", required_argument, 0, O_SERIES},
    {"metrics-listen", required_argument, 0, O_METRICS},
    {"metrics-linger", required_argument, 0, O_LINGER},
    {"abort-on-threshold", no_argument, 0, O_ABORT_TH},
    {"expect-status", required_argument, 0, O_EXPECT_STATUS},
    {"expect-body", required_argument, 0, O_EXPECT_BODY},
    {"expect-header", required_argument, 0, O_EXPECT_HEADER},
    {"log-file", required_argument, 0, O_LOGFILE},
    {"warm-up", required_argument, 0, O_WARMUP},
    {"no-progress", no_argument, 0, O_NOPROGRESS},
    {"no-retry", no_argument, 0, O_NORETRY},
    {"shard", required_argument, 0, O_SHARD},
    {"start-at", required_argument, 0, O_STARTAT},
    {"html", required_argument, 0, O_HTML},
    {"targets", required_argument, 0, O_TARGETS},
    {"seed", required_argument, 0, O_SEED},
    {"script", required_argument, 0, 's'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static int add_addr(const char **list, unsigned *n, const char *a)
{
    if (*n == LT_MAX_ADDRS)
        return -1;
    list[(*n)++] = a;
    return 0;
}

#define NOT_MINE 2 /* an option of another group */

/* What to do: the mode, how much, how fast. Returns 0, 1 for help, -1 with err set, or NOT_MINE. */
static int workload_option(lt_opts *o, int ch, const char *name, const char *arg, int *mode_given,
                           char *err, size_t errlen)
{
    (void)name;
    uint64_t v;
    switch (ch) {
    case 'm':
        *mode_given = 1;
        if (strcmp(arg, "handshake") == 0)
            o->mode = LT_MODE_HANDSHAKE;
        else if (strcmp(arg, "request") == 0)
            o->mode = LT_MODE_REQUEST;
        else if (strcmp(arg, "hold") == 0)
            o->mode = LT_MODE_HOLD;
        else
            return lt_fail(err, errlen, "--mode: '%s' is not handshake, request or hold", arg);
        return 0;
    case 'c':
        if (parse_u64(arg, 1000000, &v) != 0 || v == 0)
            return lt_fail(err, errlen, "--connections: '%s' is not a number from 1 to 1000000",
                           arg);
        o->conns = (unsigned)v;
        return 0;
    case 'M':
        if (parse_u64(arg, 1000, &v) != 0 || v == 0)
            return lt_fail(err, errlen,
                           "--max-concurrent-streams: '%s' is not a number from 1 to 1000", arg);
        o->max_streams = (unsigned)v;
        return 0;
    case 'n':
        if (parse_u64(arg, UINT64_MAX / 2, &v) != 0 || v == 0)
            return lt_fail(err, errlen, "--requests: '%s' is not a positive number", arg);
        o->total = v;
        return 0;
    case 'd':
        if (lt_parse_duration(arg, &o->duration_us) != 0 || o->duration_us == 0)
            return lt_fail(err, errlen, "--duration: '%s' is not a time like 10, 10s or 500ms",
                           arg);
        return 0;
    case 't':
        if (parse_u64(arg, 64, &v) != 0 || v == 0)
            return lt_fail(err, errlen, "--threads: '%s' is not a number from 1 to 64", arg);
        o->threads = (unsigned)v;
        return 0;
    case O_RATE: {
        char *end;
        errno = 0;
        double r = arg[0] >= '0' && arg[0] <= '9' ? strtod(arg, &end) : -1;
        if (r <= 0 || errno || *end != '\0' || !isfinite(r) || r > 1e7)
            return lt_fail(err, errlen, "--rate: '%s' is not a rate from 0 to 10000000 per second",
                           arg);
        o->rate = r;
        return 0;
    }
    case O_RAMP:
        if (lt_parse_duration(arg, &o->ramp_us) != 0)
            return lt_fail(err, errlen, "--ramp-up: '%s' is not a time like 10, 10s or 500ms", arg);
        return 0;
    case O_STAGES: {
        int conns = strcmp(name, "conn-stages") == 0;
        if (o->n_stages && conns != o->stages_conns)
            return lt_fail(err, errlen, "--stages and --conn-stages: give one of them");
        o->stages_conns = conns;
        int ok = lt_parse_stages(arg, o) == 0;
        for (unsigned i = 0; ok && conns && i < o->n_stages; i++) /* connections come whole */
            ok = o->stage_rate[i] == (double)(unsigned)o->stage_rate[i] &&
                 o->stage_rate[i] <= 1000000;
        if (!ok)
            return lt_fail(err, errlen,
                           conns ? "--conn-stages: '%s' is not DURATION:CONNECTIONS,... (e.g. "
                                   "30s:100,2m:100,30s:0; at most 32, whole numbers to 1000000, "
                                   "one above 0)"
                                 : "--stages: '%s' is not DURATION:RATE,... (e.g. "
                                   "30s:100,2m:100,30s:0; at most 32, rates to 10000000 per "
                                   "second, one above 0)",
                           arg);
        return 0;
    }
    case O_RPC:
        if (parse_u64(arg, UINT32_MAX, &v) != 0)
            return lt_fail(err, errlen, "--requests-per-conn: '%s' is not a number", arg);
        o->reqs_per_conn = (unsigned)v;
        return 0;
    case O_WARMUP:
        if (parse_u64(arg, 1000000, &o->warm_up) != 0)
            return lt_fail(err, errlen, "--warm-up: '%s' is not a number of operations", arg);
        return 0;
    case O_NORETRY: o->no_retry = 1; return 0;
    default: return NOT_MINE;
    }
}

/* The request. Returns 0, 1 for help, -1 with err set, or NOT_MINE. */
static int http_option(lt_opts *o, int ch, const char *name, const char *arg, char *err,
                       size_t errlen)
{
    (void)name;
    switch (ch) {
    case 'X': o->method = arg; return 0;
    case 'H':
        if (o->n_headers == LT_MAX_HEADERS)
            return lt_fail(err, errlen, "--header: at most %d headers", LT_MAX_HEADERS);
        if (strchr(arg, ':') == NULL || arg[0] == ':')
            return lt_fail(err, errlen, "--header: '%s' is not 'Name: value'", arg);
        o->headers[o->n_headers++] = arg;
        return 0;
    case O_DATA: o->data = arg; return 0;
    case O_TARGETS: o->targets_path = arg; return 0;
    case 's': o->script_path = arg; return 0;
    case O_SEED: {
        uint64_t v;
        if (parse_u64(arg, UINT64_MAX, &v) != 0)
            return lt_fail(err, errlen, "--seed: '%s' is not a non-negative integer", arg);
        o->seed = v;
        return 0;
    }
    case O_TIMEOUT:
        if (cli_parse_timeout_ms(arg, strcmp(name, "request-timeout") == 0 ? &o->request_timeout_ms
                                                                           : &o->timeout_ms) != 0)
            return lt_fail(err, errlen, "--%s: '%s' is not a time from 1ms to 1h", name, arg);
        return 0;
    case O_MAXBODY:
        if (parse_u64(arg, 1ull << 40, &o->max_body) != 0 || o->max_body == 0)
            return lt_fail(err, errlen, "--max-body: '%s' is not a size in bytes (1 to 2^40)", arg);
        return 0;
    default: return NOT_MINE;
    }
}

/* TLS. Returns 0, 1 for help, -1 with err set, or NOT_MINE. */
static int tls_option(lt_opts *o, int ch, const char *name, const char *arg, char *err,
                      size_t errlen)
{
    switch (ch) {
    case O_RESUME:
    case O_EARLY: {
        char *end;
        errno = 0;
        double r = (arg[0] >= '0' && arg[0] <= '9') || arg[0] == '.' ? strtod(arg, &end) : -1;
        if (r < 0 || r > 1 || errno || *end != '\0')
            return lt_fail(err, errlen, "--%s: '%s' is not a number from 0 to 1", name, arg);
        if (ch == O_EARLY) {
            o->early_ratio = r;
            return 0;
        }
        o->resume_ratio = r;
        o->resume_given = 1;
        return 0;
    }
    case O_NORESUME: o->no_resume = 1; return 0;
    case O_SESSFILE: o->session_file = arg; return 0;
    case O_TLS: return cli_tls_option(&o->tls, name, arg, err, errlen) < 0 ? -1 : 0;
    default: return NOT_MINE;
    }
}

/* The network. Returns 0, 1 for help, -1 with err set, or NOT_MINE. */
static int network_option(lt_opts *o, int ch, const char *name, const char *arg, char *err,
                          size_t errlen)
{
    switch (ch) {
    case O_RACE: {
        uint64_t lim;
        if (parse_u64(arg, EVTLS_RACE_LIMIT_MAX, &lim) != 0)
            return lt_fail(err, errlen, "--race-limit: '%s' is not a number from 0 to %u", arg,
                           EVTLS_RACE_LIMIT_MAX);
        o->race_limit = (unsigned)lim;
        return 0;
    }
    case O_RESOLVER: o->resolver = arg; return 0;
    case O_ADDRESS:
    case O_SOURCE: {
        evtls_url u;
        /* An address literal, possibly in brackets for IPv6 (no port). */
        if (strchr(arg, ':') && arg[0] != '[') {
            char tmp[64];
            snprintf(tmp, sizeof tmp, "[%s]", arg);
            if (evtls_url_parse(tmp, 1, &u) != 0 || u.host_is_ip != 6 || u.port != 443)
                return lt_fail(err, errlen, "--%s: '%s' is not an IP address", name, arg);
        } else if (evtls_url_parse(arg, 1, &u) != 0 || !u.host_is_ip || u.port != 443 ||
                   strchr(arg, ':') != strrchr(arg, ':')) {
            return lt_fail(err, errlen, "--%s: '%s' is not an IP address", name, arg);
        }
        if (ch == O_ADDRESS ? add_addr(o->addrs, &o->n_addrs, arg)
                            : add_addr(o->sources, &o->n_sources, arg))
            return lt_fail(err, errlen, "--%s: at most %d addresses", name, LT_MAX_ADDRS);
        return 0;
    }
    case O_RESOLVE:
        if (o->n_resolve == LT_MAX_ADDRS)
            return lt_fail(err, errlen, "--resolve: at most %d", LT_MAX_ADDRS);
        return cli_parse_resolve(arg, &o->resolve[o->n_resolve++], err, errlen) ? -1 : 0;
    case O_CONNECT_TO:
        if (o->n_connect_to == sizeof o->connect_to / sizeof o->connect_to[0])
            return lt_fail(err, errlen, "--connect-to: at most 8");
        return cli_parse_connect_to(arg, &o->connect_to[o->n_connect_to++], err, errlen) ? -1 : 0;
    case O_NET: cli_net_option(&o->net, name, arg); return 0;
    default: return NOT_MINE;
    }
}

/* What is written, and when the run fails or starts. Returns 0, 1 for help, -1 with err set, or
 * NOT_MINE. */
static int output_option(lt_opts *o, int ch, const char *name, const char *arg, char *err,
                         size_t errlen)
{
    (void)name;
    switch (ch) {
    case O_JSON: o->json_path = arg; return 0;
    case O_SERIES: o->series_out = arg; return 0;
    case O_METRICS: o->metrics_listen = arg; return 0;
    case O_LINGER:
        if (lt_parse_duration(arg, &o->metrics_linger_us) != 0 ||
            o->metrics_linger_us > 3600ull * 1000000)
            return lt_fail(err, errlen, "--metrics-linger: '%s' is not a time up to 1h", arg);
        return 0;
    case O_HTML: o->html_path = arg; return 0;
    case O_LOGFILE: o->log_file = arg; return 0;
    case O_THRESHOLD:
        if (o->n_thresholds == sizeof o->thresholds / sizeof o->thresholds[0] ||
            lt_parse_threshold(arg, &o->thresholds[o->n_thresholds]) != 0)
            return lt_fail(err, errlen,
                           "--threshold: '%s' is not PHASE.STAT<TIME, errors.rate<X, "
                           "checks.rate>X or rps>N (e.g. total.p99<200ms; at most 8)",
                           arg);
        o->n_thresholds++;
        return 0;
    case O_ABORT_TH: o->abort_on_threshold = 1; return 0;
    case O_EXPECT_STATUS:
        if (lt_parse_status_list(arg, o->expect_status) != 0)
            return lt_fail(err, errlen,
                           "--expect-status: '%s' is not a list of codes, classes (2xx) or "
                           "ranges (200-299) from 100 to 599",
                           arg);
        o->expect_status_given = 1;
        return 0;
    case O_EXPECT_BODY:
        if (arg[0] == '\0' || strlen(arg) > 256)
            return lt_fail(err, errlen, "--expect-body: from 1 to 256 bytes");
        o->expect_body = arg;
        return 0;
    case O_EXPECT_HEADER: {
        const char *colon = strchr(arg, ':');
        if (colon == NULL || colon == arg)
            return lt_fail(err, errlen, "--expect-header: '%s' is not 'Name: value'", arg);
        o->expect_header = arg;
        return 0;
    }
    case O_MAXERR:
        if (parse_u64(arg, UINT64_MAX / 2, &o->max_errors) != 0)
            return lt_fail(err, errlen, "--max-errors: '%s' is not a number", arg);
        return 0;
    case O_NOPROGRESS: o->no_progress = 1; return 0;
    case O_SHARD:
        if (lt_parse_shard(arg, &o->shard_index, &o->shard_count) != 0)
            return lt_fail(err, errlen,
                           "--shard: '%s' is not I/N with 0 <= I < N <= 100000 (e.g. 0/3)", arg);
        o->shard_given = 1;
        return 0;
    case O_STARTAT:
        if (lt_parse_start_at(arg, &o->start_at_us) != 0)
            return lt_fail(err, errlen,
                           "--start-at: '%s' is not a time (UNIX seconds such as 1764496800.5, "
                           "or UTC such as 2026-11-30T10:00:00Z)",
                           arg);
        return 0;
    case 'h': snprintf(err, errlen, lt_usage, cli_tls_usage, cli_net_usage); return 1;
    default: return NOT_MINE;
    }
}

/* One option; returns 0, 1 for help, or -1 with err set. */
static int one_option(lt_opts *o, int ch, const char *name, const char *arg, int *mode_given,
                      char *err, size_t errlen)
{
    int rc = workload_option(o, ch, name, arg, mode_given, err, errlen);
    if (rc == NOT_MINE)
        rc = http_option(o, ch, name, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = tls_option(o, ch, name, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = network_option(o, ch, name, arg, err, errlen);
    if (rc == NOT_MINE)
        rc = output_option(o, ch, name, arg, err, errlen);
    return rc == NOT_MINE ? lt_fail(err, errlen, "unknown option") : rc;
}

/* 4 or 6 for an address literal (brackets allowed), 0 for a name. */
static int literal_family(const char *s)
{
    unsigned char buf[16];
    char tmp[64];
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof tmp) {
        memcpy(tmp, s + 1, n - 2);
        tmp[n - 2] = '\0';
        s = tmp;
    }
    if (inet_pton(AF_INET, s, buf) == 1)
        return 4;
    return inet_pton(AF_INET6, s, buf) == 1 ? 6 : 0;
}

/* Where the connections for URL u go: --connect-to's destination, else
 * u's host and port, and --resolve's address for that (NULL for none).
 * Returns 1 when --connect-to took it elsewhere. */
static int dial_of(const lt_opts *o, const evtls_url *u, const char **host, uint16_t *port,
                   const char **addr)
{
    const struct cli_connect_to *ct =
        cli_connect_to_find(o->connect_to, o->n_connect_to, u->host, u->port);
    *host = ct && ct->to_host[0] ? ct->to_host : u->host;
    *port = ct && ct->to_port ? ct->to_port : u->port;
    *addr = cli_resolve_find(o->resolve, o->n_resolve, *host, *port);
    return ct != NULL;
}

static int check(lt_opts *o, int mode_given, char *err, size_t errlen)
{
    int bare =
        strncasecmp(o->target, "https://", 8) != 0 && strncasecmp(o->target, "http://", 7) != 0;
    if (evtls_url_parse(o->target, 1, &o->url) != 0)
        return lt_fail(err, errlen, "'%s': %s", o->target, o->url.error);
    if (!mode_given)
        o->mode = bare ? LT_MODE_HANDSHAKE : LT_MODE_REQUEST;
    /* --connect-to, then --resolve on where it leads (curl's order; other
     * hosts' entries are ignored): a --resolve for it is --address. */
    const char *resolved;
    if (dial_of(o, &o->url, &o->dial_host, &o->dial_port, &resolved) && o->n_addrs)
        return lt_fail(err, errlen, "--connect-to and --address: give one of them");
    if (resolved && o->n_addrs)
        return lt_fail(err, errlen, "--resolve and --address: give one of them");
    if (resolved)
        o->addrs[o->n_addrs++] = resolved;
    if (o->mode == LT_MODE_REQUEST && bare)
        return lt_fail(err, errlen, "--mode request needs an https:// or http:// URL, not '%s'",
                       o->target);
    if (o->warm_up && (o->total == 0 || o->rate > 0 || o->mode == LT_MODE_HOLD))
        return lt_fail(err, errlen, "--warm-up is for -n runs in the closed loop");
    if (o->threads > o->conns)
        return lt_fail(err, errlen, "--threads %u is more than --connections %u", o->threads,
                       o->conns);
    if (cli_tls_check(&o->tls, err, errlen) != 0)
        return -1;
    /* Families that cannot meet: refused now, not as a failed run. */
    const char *dest[LT_MAX_ADDRS + 1];
    unsigned n_dest = 0;
    if (o->n_addrs)
        for (unsigned i = 0; i < o->n_addrs; i++)
            dest[n_dest++] = o->addrs[i];
    else if (o->url.host_is_ip)
        dest[n_dest++] = o->url.host;
    for (unsigned i = 0; i < n_dest; i++) {
        int fam = literal_family(dest[i]);
        if (o->tls.family && fam && fam != o->tls.family)
            return lt_fail(err, errlen,
                           "--family %d and the IPv%d address %s: nothing to connect to",
                           o->tls.family, fam, dest[i]);
        for (unsigned j = 0; j < o->n_sources; j++)
            if (fam && literal_family(o->sources[j]) != fam)
                return lt_fail(err, errlen,
                               "--source %s cannot reach the IPv%d address %s (another family)",
                               o->sources[j], fam, dest[i]);
    }
    for (unsigned j = 0; j < o->n_sources; j++)
        if (o->tls.family && literal_family(o->sources[j]) != o->tls.family)
            return lt_fail(err, errlen, "--source %s is not an IPv%d address (--family %d)",
                           o->sources[j], o->tls.family, o->tls.family);
    for (unsigned k = 0; k < o->n_thresholds && !o->targets_path; k++)
        if (o->thresholds[k].target[0])
            return lt_fail(err, errlen, "--threshold %s: {target:...} is for --targets",
                           o->thresholds[k].text);
    if (o->script_path && (o->mode != LT_MODE_REQUEST || o->targets_path))
        return lt_fail(err, errlen, "--script makes the requests: not with %s",
                       o->targets_path ? "--targets" : "--mode handshake or hold");
    if (o->n_script_args && !o->script_path)
        return lt_fail(err, errlen, "arguments after '--' are a script's: give --script");
    if (o->mode != LT_MODE_REQUEST) {
        const char *http = o->reqs_per_conn         ? "--requests-per-conn"
                           : o->max_body            ? "--max-body"
                           : o->method              ? "--method"
                           : o->n_headers           ? "--header"
                           : o->data                ? "--data"
                           : o->timeout_ms          ? "--ttfb-timeout"
                           : o->request_timeout_ms  ? "--request-timeout"
                           : o->expect_status_given ? "--expect-status"
                           : o->expect_body         ? "--expect-body"
                           : o->expect_header       ? "--expect-header"
                                                    : NULL;
        if (http)
            return lt_fail(err, errlen, "%s is for --mode request", http);
    }
    if (o->no_resume && o->resume_given && o->resume_ratio > 0)
        return lt_fail(err, errlen, "--no-resume and --resume-ratio %.2f: give one of them",
                       o->resume_ratio);
    if (o->session_file && (o->resume_ratio <= 0 || o->tls.http2))
        return lt_fail(err, errlen,
                       "--session-file: sessions are kept and offered with --resume-ratio above "
                       "0 (and not with HTTP/2, whose connections are the pool's)");
    if (o->early_ratio > 0) {
        /* Early data rides on a resumed handshake's first flight, and only
         * a request that may be replayed goes there (RFC 8470). */
        const char *m = o->method ? o->method : o->data ? "POST" : "GET";
        if (o->mode != LT_MODE_REQUEST || o->tls.http2 || o->resume_ratio <= 0)
            return lt_fail(err, errlen,
                           "--early-data-ratio: early data goes with the requests of resumed "
                           "HTTP/1.1 connections: it needs --mode request, --resume-ratio above "
                           "0 and no --http2");
        if (!evtls_http_method_early_safe(m))
            return lt_fail(err, errlen,
                           "--early-data-ratio: a %s is never sent early (it could be replayed, "
                           "RFC 8470): only GET, HEAD, OPTIONS and TRACE",
                           m);
        o->tls.early_data = EVTLS_EARLY_DATA_MAX;
    }
    if (o->max_streams && !o->tls.http2)
        return lt_fail(err, errlen,
                       "--max-concurrent-streams needs --http2 or "
                       "--http2-prior-knowledge");
    if (o->tls.http2) {
        const char *no = o->mode != LT_MODE_REQUEST ? "--mode handshake and hold"
                         : o->n_addrs               ? "--address"
                         : o->resume_ratio > 0      ? "--resume-ratio"
                         : o->reqs_per_conn         ? "--requests-per-conn"
                                                    : NULL;
        if (no)
            return lt_fail(err, errlen, "%s: not with HTTP/2 (its connections are the pool's)", no);
        if (o->max_streams == 0)
            o->max_streams = 1;
        o->tls.max_streams = o->max_streams;
    }
    if (o->n_stages && o->stages_conns) {
        /* the stages are the closed loop's connections (k6's ramping-VUs)
         * and its time; -c is their highest level */
        const char *no = o->rate > 0               ? "--rate"
                         : o->ramp_us              ? "--ramp-up"
                         : o->total                ? "-n"
                         : o->duration_us          ? "-d"
                         : o->mode == LT_MODE_HOLD ? "--mode hold"
                         : o->tls.http2            ? "--http2"
                                                   : NULL;
        if (no)
            return lt_fail(err, errlen,
                           "--conn-stages and %s: the stages give the connections and the time",
                           no);
        o->conns = 0;
        for (unsigned i = 0; i < o->n_stages; i++) {
            o->duration_us += o->stage_us[i];
            if (o->stage_rate[i] > o->conns)
                o->conns = (unsigned)o->stage_rate[i];
        }
        if (o->threads > o->conns)
            return lt_fail(err, errlen, "--threads %u is more than the stages' %u connections",
                           o->threads, o->conns);
    } else if (o->n_stages) {
        /* the stages are the open loop's rate (k6's ramping-arrival-rate) and
         * its time */
        const char *no = o->rate > 0               ? "--rate"
                         : o->ramp_us              ? "--ramp-up"
                         : o->total                ? "-n"
                         : o->duration_us          ? "-d"
                         : o->mode == LT_MODE_HOLD ? "--mode hold"
                                                   : NULL;
        if (no)
            return lt_fail(err, errlen, "--stages and %s: the stages give the rate and the time",
                           no);
        for (unsigned i = 0; i < o->n_stages; i++) {
            o->duration_us += o->stage_us[i];
            if (o->stage_rate[i] > o->rate)
                o->rate = o->stage_rate[i]; /* the highest: the open loop's ceiling */
        }
    }
    if (o->mode == LT_MODE_HOLD && (o->rate > 0 || o->total))
        return lt_fail(err, errlen, "--mode hold takes neither %s", o->rate > 0 ? "--rate" : "-n");
    if (o->mode != LT_MODE_HOLD && o->total == 0 && o->duration_us == 0)
        o->duration_us = 10 * 1000000ull;
    if (o->method == NULL)
        o->method = o->data ? "POST" : "GET";
    return 0;
}

int lt_opts_parse(int argc, char **argv, lt_opts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->conns = 10;
    o->threads = 1;
    cli_tls_init(&o->tls);
    o->tls.tls_min = 12;
    o->tls.tls_max = 13;
    o->shard_count = 1;
    int mode_given = 0;
    /* wrk's: the arguments after "--" are the script's (init(args)) */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            for (int k = i + 1; k < argc; k++) {
                if (o->n_script_args == sizeof o->script_args / sizeof o->script_args[0])
                    return lt_fail(err, errlen, "more than 64 arguments after '--'");
                o->script_args[o->n_script_args++] = argv[k];
            }
            argc = i;
            break;
        }
    opterr = 0;
    optind = 0; /* GNU: reinitialise, so that the parser can run again */
    int ch, idx;
    static const char shortopts[] = ":m:c:M:n:d:t:X:H:s:h";
    if (cli_check_options(argc, argv, long_opts, shortopts, err, errlen) != 0)
        return -1;
    while ((ch = getopt_long(argc, argv, shortopts, long_opts, &idx)) != -1) {
        if (ch == ':')
            return lt_fail(err, errlen, "%s needs a value", argv[optind - 1]);
        if (ch == '?')
            return lt_fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
        const char *name = ch >= 256 ? long_opts[idx].name : "";
        int rc = one_option(o, ch, name, optarg, &mode_given, err, errlen);
        if (rc != 0)
            return rc;
    }
    o->mode_given = mode_given;
    if (o->targets_path) { /* the rest is checked with the file (lt_opts_use_targets) */
        if (optind != argc)
            return lt_fail(err, errlen, "--targets and a URL ('%s'): give one of them",
                           argv[optind]);
        return 0;
    }
    if (optind == argc)
        return lt_fail(err, errlen, "no target given (https://HOST:PORT/PATH or HOST:PORT)");
    o->target = argv[optind];
    int rc = check(o, mode_given, err, errlen);
    if (rc != 0)
        return rc;
    for (int i = optind + 1; i < argc; i++) {
        evtls_url u;
        if (o->mode != LT_MODE_REQUEST)
            return lt_fail(err, errlen,
                           "one target only ('%s' is extra): several URLs are for "
                           "--mode request",
                           argv[i]);
        if (o->n_more_urls == LT_MAX_URLS - 1)
            return lt_fail(err, errlen, "at most %d URLs", LT_MAX_URLS);
        if (evtls_url_parse(argv[i], 0, &u) != 0)
            return lt_fail(err, errlen, "'%s': %s", argv[i], u.error);
        if (strcasecmp(u.host, o->url.host) != 0 || u.port != o->url.port ||
            u.plain != o->url.plain)
            return lt_fail(err, errlen,
                           "'%s': the URLs of one run share a scheme, host and port (the "
                           "first is '%s')",
                           argv[i], o->target);
        o->more_urls[o->n_more_urls++] = argv[i];
    }
    return 0;
}

/* -c shared among the targets without their own "connections", by
 * weight (largest remainders, ties to the first); each origin's is its
 * targets' sum. Returns 0 or -1. */
static int share_conns(lt_opts *o, const lt_targets *ts, char *err, size_t errlen)
{
    uint64_t given = 0, wsum = 0;
    for (unsigned i = 0; i < ts->n; i++) {
        given += ts->t[i].conns;
        wsum += ts->t[i].conns ? 0 : ts->t[i].weight;
    }
    if (given > o->conns || (given == o->conns && wsum > 0))
        return lt_fail(err, errlen,
                       "--targets: the targets' \"connections\" add up to %llu, leaving %s of "
                       "-c %u for the others",
                       (unsigned long long)given, given > o->conns ? "less than none" : "none",
                       o->conns);
    uint64_t rest = o->conns - given, used = 0;
    unsigned share[LT_MAX_TARGETS];
    double frac[LT_MAX_TARGETS];
    for (unsigned i = 0; i < ts->n; i++) {
        const lt_target *t = &ts->t[i];
        double exact = t->conns || wsum == 0 ? 0 : (double)rest * t->weight / (double)wsum;
        share[i] = t->conns ? t->conns : (unsigned)exact;
        frac[i] = t->conns ? -1 : exact - (double)share[i];
        used += t->conns ? 0 : share[i];
    }
    for (; used < rest; used++) { /* the remainder, largest fractions first */
        unsigned best = 0;
        for (unsigned i = 1; i < ts->n; i++)
            if (frac[i] > frac[best])
                best = i;
        share[best]++;
        frac[best] = -1;
    }
    for (unsigned i = 0; i < ts->n; i++)
        o->origins[o->target_origin[i]].conns += share[i];
    /* Every thread of every shard serves every origin: an origin short of
     * a connection each takes them from the one with the most. */
    unsigned least = o->threads * (o->shard_count ? o->shard_count : 1);
    for (unsigned g = 0; g < o->n_origins; g++)
        while (o->origins[g].conns < least) {
            unsigned most = g;
            for (unsigned h = 0; h < o->n_origins; h++)
                if (o->origins[h].conns > o->origins[most].conns)
                    most = h;
            if (o->origins[most].conns <= least)
                break; /* none to spare: refused below */
            o->origins[most].conns--;
            o->origins[g].conns++;
        }
    for (unsigned g = 0; g < o->n_origins; g++) {
        const struct lt_origin *og = &o->origins[g];
        uint64_t here = lt_share_of(og->conns, o->shard_index, o->shard_count);
        if (here < o->threads)
            return lt_fail(err, errlen,
                           "--targets: %s:%u gets %llu of the %u connections%s, fewer than "
                           "its %u threads (each thread serves every origin): raise -c or "
                           "lower -t",
                           og->url->host, og->url->port, (unsigned long long)here, o->conns,
                           o->shard_count > 1 ? " in this shard" : "", o->threads);
    }
    return 0;
}

int lt_opts_use_targets(lt_opts *o, const lt_targets *ts, char *err, size_t errlen)
{
    o->targets = ts;
    if (o->mode_given && o->mode != LT_MODE_REQUEST)
        return lt_fail(err, errlen, "--targets: requests, not --mode %s",
                       o->mode == LT_MODE_HOLD ? "hold" : "handshake");
    const char *no = o->method ? "--method" : o->data ? "--data" : NULL;
    if (no)
        return lt_fail(err, errlen, "--targets and %s: give a target's method and body in the file",
                       no);
    for (unsigned i = 0; i < ts->n; i++) {
        evtls_url *u = &o->target_url[i];
        if (evtls_url_parse(ts->t[i].url, 0, u) != 0)
            return lt_fail(err, errlen, "--targets: line %u: '%s': %s", ts->t[i].line, ts->t[i].url,
                           u->error);
        if (u->plain != o->target_url[0].plain)
            return lt_fail(err, errlen,
                           "--targets: line %u: '%s': the targets of one run are all https:// "
                           "or all http://",
                           ts->t[i].line, ts->t[i].url);
        if (o->early_ratio > 0) {
            const char *m = ts->t[i].method                       ? ts->t[i].method
                            : ts->t[i].body || ts->t[i].body_file ? "POST"
                                                                  : "GET";
            if (!evtls_http_method_early_safe(m))
                return lt_fail(err, errlen,
                               "--early-data-ratio: target '%s' is a %s, never sent early (it "
                               "could be replayed, RFC 8470)",
                               ts->t[i].name, m);
        }
        unsigned g = 0; /* its origin: the scheme, host and port */
        while (g < o->n_origins && !(strcasecmp(o->origins[g].url->host, u->host) == 0 &&
                                     o->origins[g].url->port == u->port))
            g++;
        if (g == o->n_origins) {
            struct lt_origin *og = &o->origins[o->n_origins++];
            og->url = u;
            dial_of(o, u, &og->dial_host, &og->dial_port, &og->addr);
        }
        o->target_origin[i] = g;
    }
    for (unsigned k = 0; k < o->n_thresholds; k++) { /* {target:NAME} names one of them */
        unsigned i = 0;
        while (o->thresholds[k].target[0] && i < ts->n &&
               strcmp(ts->t[i].name, o->thresholds[k].target) != 0)
            i++;
        if (i == ts->n)
            return lt_fail(err, errlen, "--threshold %s: no target is named '%s'",
                           o->thresholds[k].text, o->thresholds[k].target);
    }
    for (unsigned g = 0; o->tls.http2 && g < o->n_origins; g++)
        if (o->origins[g].addr)
            return lt_fail(err, errlen,
                           "--resolve: not with HTTP/2 (its connections are the pool's, which "
                           "resolves the names)");
    if (o->n_origins > 1 && o->n_addrs)
        return lt_fail(err, errlen,
                       "--targets of %u origins and --address: give each its address with "
                       "--resolve HOST:PORT:ADDR",
                       o->n_origins);
    o->target = ts->t[0].url;
    o->mode = LT_MODE_REQUEST;
    int rc = check(o, 1, err, errlen);
    if (rc != 0)
        return rc;
    o->method = NULL; /* each target's own */
    return share_conns(o, ts, err, errlen);
}
