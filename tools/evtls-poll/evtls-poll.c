/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls-poll - esp-idf's https_request example as a command: fetch a URL
 * over TLS, verify the server, print the response, count down 10...0 and
 * go again, resuming the TLS session from the second round on.
 *
 * Everything runs on one libevent loop: name resolution, connect, handshake,
 * the HTTP/1.1 exchange (evtls/http.h), the countdown and the signals. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <evtls/evtls.h>

#include "cli_tls.h"
#include "cli_writeout.h"
#include "evtls_cli.h"

#define PROG "evtls-poll"

static const char usage_text[] =
    "Usage: " PROG " [options] https://HOST[:PORT][/PATH]   (or http:// for plain TCP)\n"
    "\n"
    "Fetches the URL over TLS each round, prints the response and the timings,\n"
    "then counts down (10... to 0..., one line a second) and goes again. From the\n"
    "second round on, the TLS session is resumed (session tickets / IDs).\n"
    "\n"
    "Rounds:\n"
    "  --interval TIME        time between rounds (default 10 s), counted down a second\n"
    "                         at a time when whole seconds (e.g. 10, 0.5, 250ms)\n"
    "  --count N              rounds to run, 0 = until interrupted (default 0)\n"
    "  --quiet                print only the status line of each response on stdout\n"
    "                         (the log goes to stderr)\n"
    "  --json                 one JSON object per round on stdout (fields: round, url,\n"
    "                         status, resumed, family, address, tls_version, cipher,\n"
    "                         group, alpn, dns_ms, connect_ms, handshake_ms, ttfb_ms,\n"
    "                         total_ms, bytes, attempt, error, error_detail); the\n"
    "                         countdown and the summary go to stderr\n"
    "  --verbose              the library's debug trace on stderr (handshake messages,\n"
    "                         WANT_READ/WANT_WRITE, address selection)\n"
    "\n"
    "Request:\n"
    "  -X, --method METHOD    GET (default), HEAD, POST, PUT, DELETE, OPTIONS, PATCH\n"
    "  -I, --head             HEAD (curl's -I)\n"
    "\n"
    "As curl:\n"
    "  -o, --output FILE      the body to FILE (each round's, replacing the last)\n"
    "  -w, --write-out FORMAT after each round, FORMAT on stdout with curl's variables:\n"
    "                         %%{http_code} %%{http_version} %%{time_namelookup}\n"
    "                         %%{time_connect} %%{time_appconnect} %%{time_pretransfer}\n"
    "                         %%{time_starttransfer} %%{time_total} %%{size_download}\n"
    "                         %%{speed_download} %%{remote_ip} %%{remote_port} %%{url}\n"
    "                         %%{scheme} %%{num_connects} %%{exitcode} %%{errormsg}\n"
    "                         %%{ssl_verify_result} %%{tls_earlydata}; \\n, \\t, %%%%\n"
    "  -s, --silent           no log, countdown or summary: the response (and -w) only\n"
    "  -m, --max-time TIME    each round's whole time, the connect included (exit 28)\n"
    "  --retry N              a round that fails transiently (a timeout; HTTP 408, 429,\n"
    "                         500, 502, 503 or 504) is tried again, up to N times, after\n"
    "                         1 s, 2 s, 4 s... (at most 10 min), as curl's --retry\n"
    "  -H, --header 'N: V'    add a request header (repeatable)\n"
    "  -d, --data TEXT        request body, or @FILE for a file's bytes (the method\n"
    "                         becomes POST unless given)\n"
    "  --ttfb-timeout TIME    time allowed from request to first response byte\n"
    "                         (default 30s)\n"
    "  --max-body BYTES       largest response body accepted (default 16777216)\n"
    "\n"
    "TLS and connection (the same options as evtls-load's):\n"
    "%s"
    "  --no-resume            never resume: a full handshake every round\n"
    "  --early-data           send the request with the ClientHello of a resumed TLS 1.3\n"
    "                         handshake (0-RTT), when the ticket allows it: GET, HEAD,\n"
    "                         OPTIONS and TRACE only (RFC 8470); rejected early, it goes\n"
    "                         again after the handshake; a 425 answer is retried once\n"
    "                         without (curl's --tls-earlydata; the tuned build has it)\n"
    "  --session-file FILE    load sessions from FILE at start, save them at exit\n"
    "                         (mode 0600: it holds secrets)\n"
    "  --resolver IP[:PORT]   DNS server to ask (default: /etc/resolv.conf)\n"
    "  --resolve HOST:PORT:ADDR  connect to ADDR for HOST:PORT, still sending and\n"
    "                         verifying HOST (curl's; repeatable, other hosts ignored)\n"
    "  --connect-to HOST1:PORT1:HOST2:PORT2  connect to HOST2:PORT2 for HOST1:PORT1\n"
    "                         (empty: any, or the same), still verifying HOST1 (curl's)\n"
    "  --address ADDR         connect to ADDR instead of the host's addresses, still\n"
    "                         verifying the host's name, as evtls-load\n"
    "  --source ADDR          bind the connection to this local address (repeatable:\n"
    "                         the one of the destination's family), as evtls-load\n"
    "  --race-limit N         Happy Eyeballs attempts racing at once (default 8), as\n"
    "                         evtls-load\n"
    "%s"
    "\n"
    "  -h, --help             this text\n"
    "  --version              the versions of evtls and wolfSSL, and the build's features\n"
    "\n"
    "TIME is a number with a unit, ms, s, m or h (as in evtls-load); a bare number is\n"
    "in seconds, as curl's.\n"
    "A response with status 400 or above counts as a failed round (as in evtls-load,\n"
    "and as curl -f; -f is taken).\n"
    "Exit status: 0 when every round succeeded; when one failed, curl's status for the\n"
    "last failure: 6 the name did not resolve, 7 no connection (refused, unreachable,\n"
    "the proxy), 28 a timeout, 35 a TLS failure, 60 the certificate refused, 90 a pin\n"
    "mismatch, 58 the client key's token failed, 8 a malformed response, 18 a truncated one, 56 "
    "the peer's reset or a\n"
    "refused CONNECT, 22 a status of 400 or above, 1 anything else; 2 on a usage or\n"
    "configuration error. SIGINT or SIGTERM stops at once, with the summary, and exits\n"
    "130 or 143 (128 + the signal, as a shell reports it); a round cut short by them\n"
    "counts neither as success nor as failure.\n";

/* ------------------------------------------------------------------ */
/* options */

struct options {
    const char *url_text;
    unsigned interval_ms, count;
    int quiet, json, verbose;
    const char *method, *data;
    const char *headers[32];
    int n_headers;
    unsigned ttfb_ms;
    unsigned long long max_body;
    struct cli_tls tls;            /* --cacert ... --handshake-timeout, as evtls-load */
    struct cli_resolve resolve[8]; /* --resolve HOST:PORT:ADDR, as curl's */
    unsigned n_resolve;
    struct cli_connect_to connect_to[8]; /* --connect-to HOST1:PORT1:HOST2:PORT2, as curl's */
    unsigned n_connect_to;
    const char *sources[16]; /* --source, as evtls-load's */
    const char *address;     /* --address, as evtls-load's */
    size_t n_sources;
    int no_resume;
    int early_data; /* --early-data */
    const char *session_file;
    const char *resolver;
    struct cli_net net;
    const char *output;    /* -o: the body to this file (each round's, overwritten) */
    const char *write_out; /* -w: curl's format, after each round */
    int silent;            /* -s: nothing on stderr but usage errors */
    unsigned max_time_ms;  /* -m: each round's whole time, connect included */
    unsigned retry;        /* --retry: a round's transient failure tried again, as curl's */
};

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '" PROG " --help'.\n");
    va_end(ap);
    exit(2);
}

static unsigned long long parse_num(const char *opt, const char *s, unsigned long long max)
{
    char *end;
    errno = 0;
    if (s == NULL || *s < '0' || *s > '9')
        usage_error("%s: '%s' is not a number", opt, s ? s : "");
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v > max)
        usage_error("%s: '%s' is not a number from 0 to %llu", opt, s, max);
    return v;
}

/* A time in the syntax both tools take (cli_parse_duration); a bare number
 * is in seconds. Returns milliseconds. */
static unsigned long long parse_time_ms(const char *opt, const char *s, unsigned long long max_ms)
{
    uint64_t us;
    if (cli_parse_duration(s, 1e6, &us) != 0 || us / 1000 > max_ms || (us > 0 && us < 1000))
        usage_error("%s: '%s' is not a time (e.g. 500ms, 2s, 1.5; at most %llu s)", opt, s,
                    max_ms / 1000);
    return us / 1000;
}

/* A timeout: 1 ms to 1 h, as both tools take one (cli_parse_timeout_ms). */
static unsigned timeout_ms(const char *opt, const char *s)
{
    unsigned ms;
    if (cli_parse_timeout_ms(s, &ms) != 0)
        usage_error("%s: '%s' is not a time from 1ms to 1h (e.g. 500ms, 2s, 1.5)", opt, s);
    return ms;
}

enum {
    O_INTERVAL = 256,
    O_COUNT,
    O_QUIET,
    O_JSON,
    O_VERBOSE,
    O_TTFB,
    O_MAXBODY,
    O_NORESUME,
    O_SESSFILE,
    O_RESOLVER,
    O_RESOLVE,
    O_CONNECT_TO,
    O_SOURCE,
    O_ADDRESS,
    O_RACE,
    O_RETRY,
    O_EARLY,
    O_NET, /* cli_net_option */
    O_TLS, /* cli_tls_option */
};

static const struct option long_opts[] = {
    {"interval", required_argument, 0, O_INTERVAL},
    {"count", required_argument, 0, O_COUNT},
    {"quiet", no_argument, 0, O_QUIET},
    {"json", no_argument, 0, O_JSON},
    {"verbose", no_argument, 0, O_VERBOSE},
    {"method", required_argument, 0, 'X'},
    {"head", no_argument, 0, 'I'},
    {"output", required_argument, 0, 'o'},
    {"write-out", required_argument, 0, 'w'},
    {"silent", no_argument, 0, 's'},
    {"max-time", required_argument, 0, 'm'},
    {"retry", required_argument, 0, O_RETRY},
    {"fail", no_argument, 0, 'f'},
    {"header", required_argument, 0, 'H'},
    {"data", required_argument, 0, 'd'},
    {"ttfb-timeout", required_argument, 0, O_TTFB},
    {"max-body", required_argument, 0, O_MAXBODY},
    {"no-resume", no_argument, 0, O_NORESUME},
    {"early-data", no_argument, 0, O_EARLY},
    {"tls-earlydata", no_argument, 0, O_EARLY},
    {"session-file", required_argument, 0, O_SESSFILE},
    {"resolver", required_argument, 0, O_RESOLVER},
    {"resolve", required_argument, 0, O_RESOLVE},
    {"connect-to", required_argument, 0, O_CONNECT_TO},
    {"source", required_argument, 0, O_SOURCE},
    {"address", required_argument, 0, O_ADDRESS},
    {"race-limit", required_argument, 0, O_RACE},
    CLI_TLS_LONG_OPTIONS(O_TLS),
    CLI_NET_LONG_OPTIONS(O_NET),
    {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, 'V'},
    {0, 0, 0, 0},
};

static void parse_options(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    o->interval_ms = 10000;
    o->ttfb_ms = 30000;
    o->max_body = 16u * 1024u * 1024u;
    cli_tls_init(&o->tls);
    opterr = 0;
    int ch, idx;
    char err[300];
    if (cli_check_options(argc, argv, long_opts, ":X:H:d:hIfo:w:sm:", err, sizeof err) != 0)
        usage_error("%s", err);
    while ((ch = getopt_long(argc, argv, ":X:H:d:hIfo:w:sm:", long_opts, &idx)) != -1) {
        const char *name = ch >= 256 ? long_opts[idx].name : NULL;
        char optname[40];
        snprintf(optname, sizeof optname, "--%s", name ? name : "");
        switch (ch) {
        case O_INTERVAL: o->interval_ms = (unsigned)parse_time_ms(optname, optarg, 86400000); break;
        case O_COUNT: o->count = (unsigned)parse_num(optname, optarg, UINT_MAX); break;
        case O_QUIET: o->quiet = 1; break;
        case O_JSON: o->json = 1; break;
        case O_VERBOSE: o->verbose = 1; break;
        case 'X': o->method = optarg; break;
        case 'I': o->method = "HEAD"; break; /* curl's -I */
        case 'o': o->output = optarg; break;
        case 'w': o->write_out = optarg; break;
        case 's': o->silent = 1; break;
        case 'm': o->max_time_ms = timeout_ms(optname, optarg); break;
        case 'f': break; /* curl's -f is the rule here: a status of 400 or above fails (22) */
        case 'H':
            if (o->n_headers == 32)
                usage_error("--header: at most 32 headers");
            if (strchr(optarg, ':') == NULL)
                usage_error("--header: '%s' is not 'Name: value'", optarg);
            o->headers[o->n_headers++] = optarg;
            break;
        case 'd': o->data = optarg; break;
        case O_TTFB: o->ttfb_ms = timeout_ms(optname, optarg); break;
        case O_MAXBODY: o->max_body = parse_num(optname, optarg, 1ull << 40); break;
        case O_NORESUME: o->no_resume = 1; break;
        case O_SESSFILE: o->session_file = optarg; break;
        case O_EARLY: o->early_data = 1; break;
        case O_RESOLVER: o->resolver = optarg; break;
        case O_NET: cli_net_option(&o->net, name, optarg); break;
        case O_RESOLVE:
            if (o->n_resolve == sizeof o->resolve / sizeof o->resolve[0])
                usage_error("--resolve: at most 8");
            if (cli_parse_resolve(optarg, &o->resolve[o->n_resolve++], err, sizeof err) != 0)
                usage_error("%s", err);
            break;
        case O_RETRY: o->retry = (unsigned)parse_num(optname, optarg, 1000); break;
        case O_CONNECT_TO:
            if (o->n_connect_to == sizeof o->connect_to / sizeof o->connect_to[0])
                usage_error("--connect-to: at most 8");
            if (cli_parse_connect_to(optarg, &o->connect_to[o->n_connect_to++], err, sizeof err))
                usage_error("%s", err);
            break;
        case O_ADDRESS:
        case O_SOURCE: {
            unsigned char a[16];
            if (inet_pton(AF_INET, optarg, a) != 1 && inet_pton(AF_INET6, optarg, a) != 1)
                usage_error("%s: '%s' is not an IP address", optname, optarg);
            if (ch == O_ADDRESS) {
                if (o->address)
                    usage_error("--address: one (evtls-poll makes one connection a round)");
                o->address = optarg;
                break;
            }
            if (o->n_sources == sizeof o->sources / sizeof o->sources[0])
                usage_error("--source: at most 16 addresses");
            o->sources[o->n_sources++] = optarg;
            break;
        }
        case O_RACE:
            o->tls.race_limit = (int)parse_num(optname, optarg, EVTLS_RACE_LIMIT_MAX);
            break;
        case O_TLS:
            if (cli_tls_option(&o->tls, name, optarg, err, sizeof err) < 0)
                usage_error("%s", err);
            break;
        case 'h': printf(usage_text, cli_tls_usage, cli_net_usage); exit(0);
        case 'V': cli_print_version(PROG); exit(0);
        case ':': usage_error("%s needs a value", argv[optind - 1]);
        default: usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind == argc)
        usage_error("no URL given");
    if (optind + 1 < argc)
        usage_error("one URL only ('%s' is extra)", argv[optind + 1]);
    o->url_text = argv[optind];
    if (cli_tls_check(&o->tls, err, sizeof err) != 0)
        usage_error("%s", err);
    if (o->write_out) { /* every variable known before the first round */
        const char *unknown = NULL;
        struct cli_round none = {0};
        FILE *null = fopen("/dev/null", "we");
        int bad = null && cli_write_out(null, o->write_out, &none, &unknown) != 0;
        if (null)
            fclose(null);
        if (bad)
            usage_error("--write-out: unknown variable '%.*s'",
                        (int)(strchr(unknown, '}') - unknown + 1), unknown);
    }
    if (o->method == NULL)
        o->method = o->data ? "POST" : "GET";
}

/* ------------------------------------------------------------------ */
/* state */

struct poller {
    struct options o;
    struct event_base *base;
    evtls_cfg *cfg;
    evtls_resolver *resolver;
    evtls_session_cache *sessions;
    evtls_url url;
    const char *dial_host; /* the URL's host, or where --connect-to or --resolve send it */
    uint16_t dial_port;    /* the URL's port, or --connect-to's */
    int by_resolve;        /* dial_host is --resolve's address */
    evtls_http_req *req;
    evtls_http_opts http;
    FILE *text; /* where human-readable lines go (stderr with --json) */

    /* the current round */
    unsigned round;
    evtls_conn *conn;
    evtls_http_exchange *x;
    uint64_t t_round;
    int status;
    char proto[12]; /* "HTTP/2", "HTTP/1.1", "HTTP/1.0" once a status came */
    uint64_t body_bytes, ttfb_us;
    int err;
    char err_detail[256];
    evtls_conn_info info; /* kept: the connection may be gone at the round's end */
    int have_info;

    /* between rounds */
    struct event *tick, *sig_int, *sig_term;
    int countdown;
    int stopping;
    int signal;             /* the signal that stopped it, 0 if none: exit status 128 + signal */
    int exit_code;          /* the last failed round's exit status, curl's for that failure */
    unsigned retries_left;  /* --retry: tries the current round still has */
    unsigned retry_s;       /* the wait before the next try, doubling */
    int retrying;           /* the tick starts the same round again */
    int retrying_now;       /* start_round is that try: keep the round's tries */
    FILE *out;              /* -o's file, or NULL */
    int early_ok;           /* --early-data and a method that may go early */
    int too_early;          /* the round is sent again without early data after a 425 */
    struct event *deadline; /* -m: the round's whole time */

    /* summary */
    unsigned ok, failed, resumed, offered;
    double total_min, total_max, total_sum;
};

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void say(struct poller *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct poller *p, const char *fmt, ...)
{
    if (p->o.silent)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(p->text, "I " PROG ": ");
    vfprintf(p->text, fmt, ap);
    fputc('\n', p->text);
    fflush(p->text);
    va_end(ap);
}

static void start_round(struct poller *p);
static void finish(struct poller *p);

/* ------------------------------------------------------------------ */
/* output */

/* A phase's time in ms, or null for a phase that was not reached. */
static void json_ms(FILE *f, const char *key, int reached, uint64_t us)
{
    if (reached)
        fprintf(f, ",\"%s\":%.3f", key, ms(us));
    else
        fprintf(f, ",\"%s\":null", key);
}

static const char *early_name(evtls_early_data e)
{
    return e == EVTLS_EARLY_DATA_ACCEPTED   ? "accepted"
           : e == EVTLS_EARLY_DATA_REJECTED ? "rejected"
                                            : "not_sent";
}

static void print_json(struct poller *p, const evtls_conn_info *ci, uint64_t total_us)
{
    FILE *f = stdout;
    int connected = ci && ci->family != 0;
    fprintf(f, "{\"round\":%u,\"url\":", p->round);
    cli_json_string(f, p->o.url_text);
    fprintf(f, ",\"status\":%d,\"protocol\":", p->status);
    cli_json_string(f, p->status ? p->proto : NULL);
    fprintf(f, ",\"resumed\":%s,\"family\":", ci && ci->resumed ? "true" : "false");
    if (connected)
        fprintf(f, "%d", ci->family);
    else
        fputs("null", f);
    fputs(",\"address\":", f);
    cli_json_string(f, connected ? ci->peer_addr : NULL);
    fputs(",\"tls_version\":", f);
    cli_json_string(f, ci ? ci->tls_version : NULL);
    fputs(",\"cipher\":", f);
    cli_json_string(f, ci ? ci->cipher : NULL);
    fputs(",\"group\":", f);
    cli_json_string(f, ci ? ci->group : NULL);
    fputs(",\"alpn\":", f);
    cli_json_string(f, ci && ci->alpn[0] ? ci->alpn : NULL);
    /* A phase is reached when the next one began (a numeric host's DNS
     * takes 0 ms and is reached). */
    int tcp = connected, tls = ci && ci->tls_version && !p->url.plain && p->status != 0;
    json_ms(f, "dns_ms", ci && (connected || ci->dns_us > 0), ci ? ci->dns_us : 0);
    json_ms(f, "connect_ms", tcp, ci ? ci->tcp_us : 0);
    json_ms(f, "handshake_ms", tls || (ci && ci->tls_us > 0), ci ? ci->tls_us : 0);
    json_ms(f, "ttfb_ms", p->status != 0, p->ttfb_us); /* a status line came */
    fputs(",\"early_data\":", f);
    cli_json_string(f, ci && ci->tls_version ? early_name(ci->early_data) : NULL);
    fprintf(f, ",\"early_data_bytes\":%zu", ci ? ci->early_data_bytes : 0);
    fprintf(f, ",\"total_ms\":%.3f,\"bytes\":%" PRIu64 ",\"attempt\":%u,\"error\":", ms(total_us),
            p->body_bytes, ci ? ci->connect_attempt : 0);
    int bad_status = p->err == 0 && p->status >= 400;
    cli_json_string(f, p->err ? evtls_err_name(p->err) : bad_status ? "HTTP_STATUS" : NULL);
    fputs(",\"error_detail\":", f);
    char status_text[48];
    snprintf(status_text, sizeof status_text, "HTTP status %d", p->status);
    cli_json_string(f, p->err ? p->err_detail : bad_status ? status_text : NULL);
    fputs("}\n", f);
    fflush(f);
}

/* Says which address was chosen and why: its place in the RFC 6724 order
 * and what happened to the attempts before it (Happy Eyeballs). */
static void print_address_choice(struct poller *p, const evtls_conn_info *ci)
{
    if (p->by_resolve) {
        say(p, "address %s given by --resolve for %s:%u: no DNS lookup", ci->peer_addr, p->url.host,
            p->dial_port);
        return;
    }
    if (p->url.host_is_ip) {
        say(p, "address %s is a literal: no DNS lookup", ci->peer_addr);
        return;
    }
    unsigned won = ci->n_attempt_info;
    for (unsigned i = 0; i < ci->n_attempt_info; i++)
        if (ci->attempt[i].outcome == EVTLS_ATTEMPT_WON)
            won = i;
    if (ci->candidates <= 1) {
        say(p, "resolved %s to %s (IPv%d), the only address", p->url.host, ci->peer_addr,
            ci->family);
        return;
    }
    if (won == 0) {
        say(p, "resolved %s to %u addresses; chose %s (IPv%d): first in RFC 6724 order%s",
            p->url.host, ci->candidates, ci->peer_addr, ci->family,
            ci->n_attempt_info > 1 ? ", connected before the others" : "");
        return;
    }
    say(p,
        "resolved %s to %u addresses; chose %s (IPv%d), attempt %u in RFC 6724 order:", p->url.host,
        ci->candidates, ci->peer_addr, ci->family, won + 1);
    for (unsigned i = 0; i < ci->n_attempt_info; i++) {
        const evtls_attempt_info *a = &ci->attempt[i];
        const char *what = a->outcome == EVTLS_ATTEMPT_WON      ? "connected"
                           : a->outcome == EVTLS_ATTEMPT_FAILED ? evtls_strerror(a->err)
                           : a->outcome == EVTLS_ATTEMPT_LOST   ? "lost the race"
                                                                : "aborted";
        say(p, "  %s (IPv%d) started at +%.1f ms: %s after %.1f ms", a->addr, a->family,
            ms(a->start_us), what, ms(a->duration_us));
    }
}

/* ------------------------------------------------------------------ */
/* a round */

/* curl's -w after a round, from what it measured. */
static void write_out(struct poller *p, const evtls_conn_info *ci, uint64_t total)
{
    int connected = ci && ci->family != 0;
    struct cli_round r = {
        .http_code = p->status,
        .http_minor = strcmp(p->proto, "HTTP/1.0") != 0,
        .http2 = strcmp(p->proto, "HTTP/2") == 0,
        .dns_us = ci ? ci->dns_us : 0,
        .tcp_us = connected ? ci->tcp_us : 0,
        .tls_us = ci && ci->tls_version ? ci->tls_us : 0,
        .ttfb_us = p->ttfb_us,
        .total_us = total,
        .size_download = p->body_bytes,
        .remote_ip = connected ? ci->peer_addr : NULL,
        .remote_port = p->url.port,
        .url = p->o.url_text,
        .scheme = p->url.plain ? "http" : "https",
        .num_connects = connected,
        .exitcode = cli_curl_exit(p->err, p->status),
        .errormsg = p->err ? p->err_detail : "",
        .ssl_verify_result = p->o.tls.insecure || p->o.tls.no_verify_name,
        .tls_earlydata = !ci                                           ? 0
                         : ci->early_data == EVTLS_EARLY_DATA_ACCEPTED ? (long)ci->early_data_bytes
                         : ci->early_data == EVTLS_EARLY_DATA_REJECTED ? -(long)ci->early_data_bytes
                                                                       : 0,
    };
    cli_write_out(stdout, p->o.write_out, &r, NULL);
    fflush(stdout);
}

/* curl's transient failures, the ones --retry tries again. */
static int transient(const struct poller *p)
{
    if (p->err)
        return cli_curl_exit(p->err, 0) == 28; /* a timeout */
    static const int codes[] = {408, 429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (p->status == codes[i])
            return 1;
    return 0;
}

/* --retry: a transient failure of the round is tried again after a wait
 * (1 s doubling, 10 min at most) and not counted. Returns 1 when it is. */
static int retry_round(struct poller *p)
{
    if (p->stopping || p->retries_left == 0 || !transient(p))
        return 0;
    p->retries_left--;
    if (p->err)
        say(p, "round %u: %s (%s); trying again in %u s, %u tr%s left", p->round,
            evtls_strerror(p->err), evtls_err_name(p->err), p->retry_s, p->retries_left,
            p->retries_left == 1 ? "y" : "ies");
    else
        say(p, "round %u: HTTP status %d; trying again in %u s, %u tr%s left", p->round, p->status,
            p->retry_s, p->retries_left, p->retries_left == 1 ? "y" : "ies");
    if (p->conn) {
        evtls_conn_free(p->conn);
        p->conn = NULL;
    }
    p->retrying = 1;
    struct timeval tv = {(time_t)p->retry_s, 0};
    evtimer_add(p->tick, &tv);
    p->retry_s = p->retry_s >= 300 ? 600 : 2 * p->retry_s;
    return 1;
}

static void end_round(struct poller *p)
{
    uint64_t total = now_us() - p->t_round;
    if (p->deadline)
        evtimer_del(p->deadline);
    if (p->out)
        fflush(p->out);
    if (p->conn && !p->have_info) {
        p->info = *evtls_conn_get_info(p->conn);
        p->have_info = 1;
    }
    const evtls_conn_info *ci = p->have_info ? &p->info : NULL;
    /* 425 Too Early (RFC 8470 section 5.2): the server would not act on
     * the request in early data; it goes once more, on a new connection,
     * after the handshake. */
    if (p->err == 0 && p->status == 425 && ci && ci->early_data == EVTLS_EARLY_DATA_ACCEPTED &&
        !p->too_early && !p->stopping) {
        say(p, "round %u: 425 Too Early: sending the request again without early data", p->round);
        if (p->conn) {
            evtls_conn_free(p->conn);
            p->conn = NULL;
        }
        p->too_early = 1;
        p->retrying_now = 1;
        p->round--;
        start_round(p);
        return;
    }
    p->too_early = 0;
    if (retry_round(p))
        return;
    /* As evtls-load counts it: a response with status 400 or above is a
     * failed round (the status line is printed as it came). */
    if (p->err == 0 && p->status < 400) {
        p->ok++;
        double t = ms(total);
        if (p->ok == 1 || t < p->total_min)
            p->total_min = t;
        if (t > p->total_max)
            p->total_max = t;
        p->total_sum += t;
    } else {
        p->failed++;
        p->exit_code = cli_curl_exit(p->err, p->status); /* the last failure's, as curl's */
    }
    if (ci && ci->resumed)
        p->resumed++;
    if (ci && ci->session_offered)
        p->offered++;
    if (p->o.json)
        print_json(p, ci, total);
    if (p->o.write_out)
        write_out(p, ci, total);
    if (p->err == 0 && p->status >= 400)
        say(p, "round %u failed: HTTP status %d", p->round, p->status);
    if (p->err == 0 && ci)
        say(p,
            "timings: dns %.1f ms, connect %.1f ms, handshake %.1f ms, ttfb %.1f ms, "
            "total %.1f ms; %" PRIu64 " body bytes; session resumed: %s",
            ms(ci->dns_us), ms(ci->tcp_us), ms(ci->tls_us), ms(p->ttfb_us), ms(total),
            p->body_bytes, ci->resumed ? "yes" : (ci->session_offered ? "no (refused)" : "no"));
    else if (strncmp(p->err_detail, evtls_strerror(p->err), strlen(evtls_strerror(p->err))) == 0)
        say(p, "round %u failed: %s", p->round, p->err_detail); /* already names the error */
    else
        say(p, "round %u failed: %s (%s): %s", p->round, evtls_strerror(p->err),
            evtls_err_name(p->err), p->err_detail);
    if (p->conn) {
        evtls_conn_free(p->conn); /* already closed, or failed */
        p->conn = NULL;
    }
    say(p, "connection closed");
    if (p->stopping || (p->o.count && p->round >= p->o.count)) {
        finish(p);
        return;
    }
    if (p->o.interval_ms % 1000 != 0) {
        /* Not whole seconds: one wait, no countdown lines. */
        say(p, "next round in %.3f s", p->o.interval_ms / 1000.0);
        p->countdown = 1;
        struct timeval tv = {(time_t)(p->o.interval_ms / 1000),
                             (suseconds_t)(p->o.interval_ms % 1000) * 1000};
        evtimer_add(p->tick, &tv);
        return;
    }
    p->countdown = (int)(p->o.interval_ms / 1000);
    say(p, "%d...", p->countdown);
    if (p->countdown == 0) {
        say(p, "Starting again!");
        start_round(p);
        return;
    }
    struct timeval one = {1, 0};
    evtimer_add(p->tick, &one);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct poller *p = arg;
    if (p->retrying) { /* the same round, tried again */
        p->retrying = 0;
        p->retrying_now = 1;
        p->round--;
        start_round(p);
        return;
    }
    p->countdown--;
    if (p->o.interval_ms % 1000 == 0)
        say(p, "%d...", p->countdown);
    if (p->countdown > 0) {
        struct timeval one = {1, 0};
        evtimer_add(p->tick, &one);
        return;
    }
    say(p, "Starting again!");
    start_round(p);
}

static void on_closed(evtls_conn *c, int err, void *arg)
{
    (void)c;
    (void)err; /* a failed close_notify does not undo a complete response */
    struct poller *p = arg;
    p->conn = NULL; /* freed by the library after this callback */
    end_round(p);
}

static int on_head(evtls_http_exchange *x, const evtls_http_resp *r, void *arg)
{
    (void)x;
    struct poller *p = arg;
    p->status = evtls_http_resp_get_status(r);
    snprintf(p->proto, sizeof p->proto, "%s", evtls_http_resp_get_protocol(r));
    if (p->o.json)
        return 0;
    const char *reason = evtls_http_resp_get_reason(r);
    printf("%s %d%s%s\n", p->proto, p->status, reason[0] ? " " : "", reason);
    if (!p->o.quiet) {
        const char *n, *v;
        for (size_t i = 0; evtls_http_resp_get_header(r, i, &n, &v) == 0; i++)
            printf("%s: %s\n", n, v);
        printf("\n");
    }
    fflush(stdout);
    return 0;
}

static int on_body(evtls_http_exchange *x, const uint8_t *data, size_t len, void *arg)
{
    (void)x;
    struct poller *p = arg;
    if (p->out)
        fwrite(data, 1, len, p->out);
    else if (!p->o.json && !p->o.quiet)
        fwrite(data, 1, len, stdout);
    return 0;
}

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)x;
    struct poller *p = arg;
    p->x = NULL;
    p->status = evtls_http_resp_get_status(r);
    p->body_bytes = evtls_http_resp_get_body_bytes(r);
    p->ttfb_us = evtls_http_resp_get_ttfb_us(r);
    if (!p->o.json && !p->o.quiet && !p->out && p->body_bytes) {
        fputc('\n', stdout);
        fflush(stdout);
    }
    if (p->deadline)
        evtimer_del(p->deadline); /* the response is whole: the close is not timed */
    if (err) {
        p->err = err;
        const evtls_last_error *le = evtls_conn_get_last_error(p->conn);
        if (le->code == err)
            evtls_last_error_format(le, p->err_detail, sizeof p->err_detail);
        else
            snprintf(p->err_detail, sizeof p->err_detail, "%s", evtls_strerror(err));
        end_round(p);
        return;
    }
    p->info = *evtls_conn_get_info(p->conn);
    p->have_info = 1;
    /* A graceful close: close_notify, then "connection closed". */
    if (evtls_conn_close(p->conn, on_closed, p) != 0)
        end_round(p);
}

static void on_retry(evtls_conn *c, unsigned attempt, int err, unsigned wait_ms, void *arg)
{
    (void)c;
    struct poller *p = arg;
    say(p, "connect failed (%s); attempt %u in %.1f s", evtls_err_name(err), attempt + 1,
        wait_ms / 1000.0);
}

static void on_connected(evtls_conn *c, int err, void *arg)
{
    struct poller *p = arg;
    if (err) {
        p->err = err;
        evtls_last_error_format(evtls_conn_get_last_error(c), p->err_detail, sizeof p->err_detail);
        end_round(p);
        return;
    }
    const evtls_conn_info *ci = evtls_conn_get_info(c);
    print_address_choice(p, ci);
    if (ci->proxy_us)
        say(p, "tunnel through the proxy in %.1f ms", ms(ci->proxy_us));
    if (p->url.plain) {
        say(p, "connected to %s port %u (IPv%d) in %.1f ms; plain TCP, no TLS", ci->peer_addr,
            ci->port, ci->family, ms(ci->total_us));
    } else {
        const char *trust = p->o.tls.insecure ? "server NOT verified (--insecure)"
                            : p->o.tls.no_verify_name
                                ? "certificate chain verified, name NOT checked"
                            : p->o.net.psk_identity ? "pre-shared key accepted"
                                                    : "certificate verified";
        say(p, "connected to %s port %u (IPv%d) in %.1f ms; %s %s %s%s%s; %s%s; session %s",
            ci->peer_addr, ci->port, ci->family, ms(ci->total_us), ci->tls_version,
            ci->cipher ? ci->cipher : "", ci->group ? ci->group : "", ci->alpn[0] ? ", ALPN " : "",
            ci->alpn, trust, p->o.net.pins ? ", public key pinned" : "",
            ci->resumed ? "resumed" : (ci->session_offered ? "offered, not resumed" : "new"));
    }
    if (ci->early_data == EVTLS_EARLY_DATA_ACCEPTED)
        say(p, "%s %s sent as early data (%zu bytes, with the ClientHello): accepted", p->o.method,
            p->url.target, ci->early_data_bytes);
    else if (ci->early_data == EVTLS_EARLY_DATA_REJECTED)
        say(p, "early data rejected by the server (%zu bytes): the request goes again",
            ci->early_data_bytes);
    else if (p->early_ok && !p->too_early && !p->url.plain)
        say(p, "early data not sent: %s",
            !ci->session_offered ? "no session to resume"
                                 : "the session's ticket allows none (or too little)");
    evtls_http_cbs cbs = {on_head, on_body, on_done};
    int rc = evtls_http_exchange_start(c, p->req, &p->http, &cbs, p, &p->x);
    if (rc != 0) {
        p->err = rc;
        snprintf(p->err_detail, sizeof p->err_detail, "cannot send the request");
        end_round(p);
        return;
    }
    if (evtls_conn_get_info(c)->early_data != EVTLS_EARLY_DATA_ACCEPTED)
        say(p, "%s %s sent", p->o.method, p->url.target);
}

/* -m: the round's whole time passed, wherever it was. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct poller *p = arg;
    if (p->x) {
        evtls_http_exchange_cancel(p->x);
        p->x = NULL;
    }
    p->err = EVTLS_ERR_TIMEOUT;
    snprintf(p->err_detail, sizeof p->err_detail, "--max-time: the round took more than %u ms",
             p->o.max_time_ms);
    end_round(p); /* frees the connection, wherever it was */
}

static void start_round(struct poller *p)
{
    if (!p->retrying_now) { /* a new round: its tries and its first wait */
        p->retries_left = p->o.retry;
        p->retry_s = 1;
    }
    p->retrying_now = 0;
    p->round++;
    p->status = 0;
    p->proto[0] = '\0';
    p->body_bytes = 0;
    p->ttfb_us = 0;
    p->err = 0;
    p->err_detail[0] = '\0';
    p->have_info = 0;
    p->t_round = now_us();
    if (p->out) { /* -o holds the latest round's body */
        fflush(p->out);
        rewind(p->out);
        if (ftruncate(fileno(p->out), 0) != 0)
            say(p, "cannot empty %s: %s", p->o.output, strerror(errno));
    }
    if (p->deadline) {
        struct timeval tv = {(time_t)(p->o.max_time_ms / 1000),
                             (suseconds_t)(p->o.max_time_ms % 1000) * 1000};
        evtimer_add(p->deadline, &tv);
    }
    say(p, "round %u: %s", p->round, p->o.url_text);
    p->conn = evtls_conn_new(p->base, p->cfg);
    int rc = p->conn ? 0 : EVTLS_ERR_NOMEM;
    if (rc == 0)
        rc = evtls_conn_set_resolver(p->conn, p->resolver);
    if (rc == 0 && p->sessions)
        rc = evtls_conn_set_session_cache(p->conn, p->sessions);
    if (rc == 0 && p->early_ok && !p->too_early)
        rc = evtls_http_req_send_early(p->req, p->conn);
    if (rc == 0) {
        evtls_conn_set_retry_cb(p->conn, on_retry, p);
        rc = evtls_conn_connect(p->conn, p->dial_host, p->dial_port, on_connected, p);
    }
    if (rc != 0) {
        p->err = rc;
        snprintf(p->err_detail, sizeof p->err_detail, "cannot start the connection");
        end_round(p);
    }
}

/* ------------------------------------------------------------------ */
/* start and stop */

/* The rounds' summary and the peak memory (not with -s). */
static void print_summary(const struct poller *p, FILE *f)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(f, "I " PROG ": summary: %u round%s, %u ok, %u failed", p->ok + p->failed,
            p->ok + p->failed == 1 ? "" : "s", p->ok, p->failed);
    if (p->ok)
        fprintf(f, "; total ms min %.1f / avg %.1f / max %.1f", p->total_min, p->total_sum / p->ok,
                p->total_max);
    fprintf(f, "; sessions resumed %u of %u offered\n", p->resumed, p->offered);
    fprintf(f, "I " PROG ": peak memory (max resident set): %ld KiB\n", ru.ru_maxrss);
    fflush(f);
}

static void finish(struct poller *p)
{
    evtimer_del(p->tick);
    evsignal_del(p->sig_int);
    evsignal_del(p->sig_term);
    if (!p->o.silent)
        print_summary(p, p->text);
    if (p->sessions && p->o.session_file &&
        evtls_session_cache_save(p->sessions, p->o.session_file) != 0)
        fprintf(stderr, PROG ": cannot save sessions to %s\n", p->o.session_file);
    event_base_loopexit(p->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct poller *p = arg;
    say(p, "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    p->stopping = 1;
    p->signal = (int)sig;
    if (p->x) { /* a round in flight is dropped, not counted */
        evtls_http_exchange_cancel(p->x);
        p->x = NULL;
    }
    if (p->conn) {
        evtls_conn_free(p->conn);
        p->conn = NULL;
    }
    finish(p);
}

static void build(struct poller *p)
{
    struct options *o = &p->o;
    if (evtls_url_parse(o->url_text, 0, &p->url) != 0)
        usage_error("'%s': %s", o->url_text, p->url.error);
    p->req = evtls_http_req_new(o->method, p->url.authority, p->url.target);
    if (p->req == NULL)
        usage_error("--method: '%s' is not one of GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH",
                    o->method);
    char herr[320];
    if (cli_request_headers(p->req, o->headers, (size_t)o->n_headers, herr, sizeof herr) != 0)
        usage_error("%s", herr);
    if (o->data) {
        char *body, err[300];
        size_t len;
        if (cli_data(o->data, &body, &len, err, sizeof err) != 0)
            usage_error("%s", err);
        int rc = evtls_http_req_set_body(p->req, body, len); /* the request keeps a copy */
        free(body);
        if (rc != 0)
            usage_error("--data: cannot use it");
    }
    if (o->output && (p->out = fopen(o->output, "we")) == NULL)
        usage_error("--output: cannot write '%s': %s", o->output, strerror(errno));
    evtls_http_opts_default(&p->http);
    p->http.ttfb_timeout_ms = o->ttfb_ms;
    p->http.max_body_bytes = o->max_body;

    cli_tls_warn(&o->tls, PROG);
    struct cli_tls t = o->tls;
    t.net = &o->net;
    /* --connect-to, then --resolve on where it leads (curl's order): the
     * connection goes there; the URL's host is still the name sent (SNI)
     * and verified, and the Host header. */
    p->dial_host = p->url.host;
    p->dial_port = p->url.port;
    const struct cli_connect_to *ct =
        cli_connect_to_find(o->connect_to, o->n_connect_to, p->url.host, p->url.port);
    if (ct && ct->to_host[0])
        p->dial_host = ct->to_host;
    if (ct && ct->to_port)
        p->dial_port = ct->to_port;
    if (o->address && (ct || o->n_resolve))
        usage_error("--address with --connect-to or --resolve: give one of them");
    const char *addr = o->address
                           ? o->address
                           : cli_resolve_find(o->resolve, o->n_resolve, p->dial_host, p->dial_port);
    if (addr) {
        p->dial_host = addr;
        p->by_resolve = 1;
    }
    if (p->dial_host != p->url.host && t.servername == NULL)
        t.servername = p->url.host;
    t.sources = o->sources;
    t.n_sources = o->n_sources;
    if (o->early_data) {
        if (o->no_resume)
            usage_error("--early-data rides on a resumed session: not with --no-resume");
        if (p->url.plain)
            usage_error("--early-data is TLS 1.3's: not on an http:// URL");
        t.early_data = EVTLS_EARLY_DATA_MAX;
        p->early_ok = evtls_http_method_early_safe(o->method);
        if (!p->early_ok)
            fprintf(stderr,
                    PROG ": --early-data: a %s is never sent early (it could be replayed, RFC "
                         "8470): it goes after the handshake\n",
                    o->method);
    }
    char cerr[400];
    if (cli_tls_build(&t, p->url.plain, p->url.host, &p->cfg, cerr, sizeof cerr) != 0)
        usage_error("%s", cerr);
    p->resolver = evtls_resolver_new(p->base, o->resolver);
    if (p->resolver == NULL)
        usage_error("--resolver: '%s' is not IP[:PORT]", o->resolver ? o->resolver : "");
    if (!o->no_resume) {
        p->sessions = evtls_session_cache_new(0);
        int loaded = 0;
        if (o->session_file && access(o->session_file, F_OK) == 0 &&
            (loaded = evtls_session_cache_load(p->sessions, o->session_file)) < 0)
            fprintf(stderr,
                    PROG ": ignoring %s: not a session file, or not the user's own "
                         "with mode 0600\n",
                    o->session_file);
        else if (o->session_file && loaded > 0)
            fprintf(stderr, PROG ": %d session%s loaded from %s\n", loaded, loaded == 1 ? "" : "s",
                    o->session_file);
    }
}

int main(int argc, char **argv)
{
    static struct poller p;
    parse_options(argc, argv, &p.o);
    if (p.o.verbose)
        evtls_log_set_level(EVTLS_LOG_DEBUG);
    else if (p.o.silent)
        evtls_log_set_level(EVTLS_LOG_NONE); /* curl's -s: nothing on stderr */
    else if (getenv("EVTLS_LOG") == NULL)
        evtls_log_set_level(EVTLS_LOG_WARN); /* the poller prints what matters itself */
    p.text =
        p.o.json || p.o.quiet ? stderr : stdout; /* --quiet: stdout has the status lines alone */
    signal(SIGPIPE, SIG_IGN);
    p.base = event_base_new();
    if (p.base == NULL)
        return 1;
    build(&p);
    p.tick = evtimer_new(p.base, on_tick, &p);
    if (p.o.max_time_ms)
        p.deadline = evtimer_new(p.base, on_deadline, &p);
    p.sig_int = evsignal_new(p.base, SIGINT, on_signal, &p);
    p.sig_term = evsignal_new(p.base, SIGTERM, on_signal, &p);
    evsignal_add(p.sig_int, NULL);
    evsignal_add(p.sig_term, NULL);
    start_round(&p);
    event_base_dispatch(p.base);

    int status = p.signal ? 128 + p.signal : p.exit_code;
    event_free(p.tick);
    if (p.deadline)
        event_free(p.deadline);
    if (p.out)
        fclose(p.out);
    event_free(p.sig_int);
    event_free(p.sig_term);
    evtls_http_req_free(p.req);
    evtls_session_cache_unref(p.sessions);
    evtls_resolver_unref(p.resolver);
    evtls_cfg_unref(p.cfg);
    event_base_free(p.base);
    return status;
}
