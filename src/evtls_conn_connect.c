/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn_connect.c - connect, phase by phase, and the retry loop:
 *
 *   IDLE -> RESOLVING -> CONNECTING -> HANDSHAKING -> CONNECTED
 *   a retryable failure in any of the three: -> WAITING -> RESOLVING ...
 *
 * The race from name to socket is the eyeballs module's; the handshake is
 * the tls module's; whether a failure is worth another try and how long to
 * wait is the pure retry policy's (evtls_retry.c). This file feeds them
 * the connection's settings, times each phase and moves the state. */
#include <event2/event.h>

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "evtls_addr.h"
#include "evtls_conn_connect.h"
#include "evtls_idna.h"
#include "evtls_log_int.h"
#include "evtls_origin.h"
#include "evtls_proxy.h"
#include "evtls_resolver_int.h"
#include "evtls_retry.h"
#include "evtls_session_int.h"
#include "evtls_time.h"
#include "evtls_tlsctx.h"

#define EVTLS__RESOLUTION_DELAY_MS 50 /* RFC 8305 section 3 */

/* Jitter for the backoff (xorshift64*, seeded per thread); not for keys. */
static uint32_t evtls__random_u32(void)
{
    static _Thread_local uint64_t x;
    if (x == 0) {
        x = evtls__now_us() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)&x ^ 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

/* ------------------------------------------------------------------ */
/* connect: phase by phase */

static void log_connected(evtls_conn *c)
{
    const evtls_conn_info *i = &c->info;
    if (c->v->plain_tcp) {
        LOGI("conn#%lu: connected to %s:%u (%s, IPv%d) plain TCP%s; dns %.1f ms, tcp %.1f ms, "
             "total %.1f ms",
             c->id, i->host, i->port, i->peer_addr, i->family,
             c->v->proxy_host ? " through the proxy" : "", (double)i->dns_us / 1000.0,
             (double)i->tcp_us / 1000.0, (double)i->total_us / 1000.0);
        return;
    }
    LOGI("conn#%lu: connected to %s:%u (%s, IPv%d) %s %s %s%s%s, resumed=%s; dns %.1f ms, "
         "tcp %.1f ms, tls %.1f ms, total %.1f ms",
         c->id, i->host, i->port, i->peer_addr, i->family, i->tls_version ? i->tls_version : "?",
         i->cipher ? i->cipher : "?", i->group ? i->group : "?", i->alpn[0] ? ", alpn " : "",
         i->alpn, i->resumed ? "yes" : "no", (double)i->dns_us / 1000.0, (double)i->tcp_us / 1000.0,
         (double)i->tls_us / 1000.0, (double)i->total_us / 1000.0);
}

static void connected(evtls_conn *c)
{
    c->info.tls_us = evtls__conn_lap_us(c);
    c->info.total_us = evtls__now_us() - c->t_start_us;
    evtls__tls_get_info(c->tls, &c->info);
    c->info.session_offered = evtls__tls_offered(c->tls);
    c->info.early_data = (evtls_early_data)evtls__tls_early_status(c->tls);
    c->info.early_data_bytes = c->info.early_data ? c->early_len : 0;
    if (c->sessions && c->info.session_offered)
        evtls__session_result(c->sessions, c->info.resumed);
    evtls__conn_harvest_session(c);
    /* the phase timer and the deadline stop; the socket is watched for reading */
    evtls__conn_set_state(c, EVTLS_STATE_CONNECTED);
    if (evtls__log_enabled(EVTLS_LOG_INFO))
        log_connected(c);
    evtls_connect_cb cb = c->connect_cb;
    c->connect_cb = NULL;
    if (cb) {
        evtls__conn_user_enter(c);
        cb(c, 0, c->connect_arg);
        evtls__conn_user_leave(c);
    }
}

void evtls__conn_handshake_step(evtls_conn *c)
{
    evtls__tls_status st = evtls__tls_handshake(c->tls, &c->err);
    switch (st) {
    case EVTLS__TLS_DONE: connected(c); return;
    case EVTLS__TLS_WANT_READ:
    case EVTLS__TLS_WANT_WRITE:
        c->hs_wait = evtls__conn_wait_of(st);
        evtls__conn_io_update(c);
        return;
    case EVTLS__TLS_EOF:
    case EVTLS__TLS_FAIL: evtls__conn_fail(c, c->err.code ? c->err.code : EVTLS_ERR_TLS); return;
    default:
        evtls__conn_fail(
            c, evtls__err_set(&c->err, EVTLS_ERR_INTERNAL, "handshake status %d", (int)st));
        return;
    }
}

/* TLS on the connected socket (through the proxy's tunnel if any); with
 * plain TCP the connection is up at once. */
static void start_tls(evtls_conn *c)
{
    struct evtls__tls_params p = {
        .name = c->name,
        .name_is_ip = c->name_is_ip,
        .skip_common_name = c->v->skip_common_name,
        .insecure = c->v->insecure_skip_verify,
        .alpn = c->v->alpn,
        .alpn_fail_on_mismatch = c->v->alpn_fail_on_mismatch,
        .id = c->id,
        .plain = c->v->plain_tcp,
        .psk_identity = c->v->psk_identity,
        .psk_key = c->v->psk_key,
        .psk_key_len = c->v->psk_key_len,
        .pins = c->v->pins,
        .n_pins = c->v->n_pins,
        .min_rsa_bits = c->v->min_rsa_bits,
        .min_ec_bits = c->v->min_ec_bits,
        .cert_status = c->v->cert_status,
    };
    uint8_t *sess = NULL;
    c->info.session_alpn[0] = '\0';
    if (c->sessions && c->session_key) {
        p.want_session = 1;
        if (!c->no_offer && evtls__session_get(c->sessions, c->session_key, &sess, &p.session_len,
                                               c->info.session_alpn))
            p.session = sess;
    }
    /* Early data speaks the protocol of the session it rides on: HTTP/1.1
     * bytes also on a session that had no ALPN. */
    if (c->early && p.session &&
        (strcmp(c->info.session_alpn, c->early_alpn) == 0 ||
         (c->info.session_alpn[0] == '\0' && strcmp(c->early_alpn, "http/1.1") == 0))) {
        p.early = c->early;
        p.early_len = c->early_len;
        p.early_max = c->v->early_data_max;
    }
    c->tls = evtls__tls_new(evtls__cfg_wolfssl_ctx(c->cfg), c->fd, &p, &c->err);
    free(sess);
    if (c->tls == NULL) {
        evtls__conn_fail(c, c->err.code);
        return;
    }
    if (p.plain) {
        connected(c);
        return;
    }
    evtls__conn_set_state(c, EVTLS_STATE_HANDSHAKING); /* its timeout armed */
    evtls__conn_handshake_step(c);
}

/* Fails the proxy phase with code and a detail. */
static void proxy_fail(evtls_conn *c, int code, int sys_errno, const char *what)
{
    evtls__err_set(&c->err, code, "proxy %s:%u: %s", c->v->proxy_host, c->v->proxy_port, what);
    c->err.sys_errno = sys_errno;
    evtls__conn_fail(c, code);
}

void evtls__conn_proxy_step(evtls_conn *c)
{
    while (c->proxy_phase == PROXY_SEND && c->proxy_off < c->proxy_len) {
        ssize_t r =
            send(c->fd, c->proxy_buf + c->proxy_off, c->proxy_len - c->proxy_off, MSG_NOSIGNAL);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            c->hs_wait = EV_WRITE;
            evtls__conn_io_update(c);
            return;
        }
        if (r < 0) {
            proxy_fail(c, EVTLS_ERR_PROXY_CONNECT, errno, "the CONNECT request could not be sent");
            return;
        }
        c->proxy_off += (size_t)r;
    }
    if (c->proxy_phase == PROXY_SEND) {
        c->proxy_phase = PROXY_ANSWER;
        c->proxy_len = 0;
    }
    for (;;) {
        /* Nothing but the proxy's answer can come before our first byte
         * through the tunnel: a TLS server waits for the ClientHello. */
        ssize_t r =
            recv(c->fd, c->proxy_buf + c->proxy_len, EVTLS__PROXY_ANSWER_MAX - c->proxy_len, 0);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            c->hs_wait = EV_READ;
            evtls__conn_io_update(c);
            return;
        }
        if (r < 0) {
            proxy_fail(c, errno == ECONNRESET ? EVTLS_ERR_PROXY_REFUSED : EVTLS_ERR_PROXY_CONNECT,
                       errno, "the connection failed before the proxy answered");
            return;
        }
        if (r == 0) {
            proxy_fail(c, EVTLS_ERR_PROXY_REFUSED, 0, "closed without answering the CONNECT");
            return;
        }
        c->proxy_len += (size_t)r;
        int status;
        size_t used;
        int k = evtls__proxy_answer(c->proxy_buf, c->proxy_len, &status, &used);
        if (k == 0)
            continue;
        if (k < 0) {
            proxy_fail(c, EVTLS_ERR_PROXY_REFUSED, 0, "its answer is not HTTP/1.x");
            return;
        }
        if (status / 100 != 2) {
            char line[120];
            size_t n = strcspn(c->proxy_buf, "\r\n");
            snprintf(line, sizeof line, "refused the tunnel: \"%.*s\"", (int)(n < 90 ? n : 90),
                     c->proxy_buf);
            proxy_fail(c, EVTLS_ERR_PROXY_REFUSED, 0, line);
            return;
        }
        if (used != c->proxy_len) {
            proxy_fail(c, EVTLS_ERR_PROXY_REFUSED, 0, "sent data after its answer");
            return;
        }
        LOGD("conn#%lu: tunnel to %s:%u through proxy %s:%u", c->id, c->info.host,
             (unsigned)c->port, c->v->proxy_host, c->v->proxy_port);
        free(c->proxy_buf);
        c->proxy_buf = NULL;
        c->info.proxy_us = evtls__conn_lap_us(c);
        start_tls(c);
        return;
    }
}

/* Connected to the proxy: ask it for the tunnel to the origin. */
static void start_proxy(evtls_conn *c)
{
    c->proxy_buf = malloc(EVTLS__PROXY_ANSWER_MAX);
    int n = c->proxy_buf ? evtls__proxy_request(c->proxy_buf, EVTLS__PROXY_ANSWER_MAX, c->info.host,
                                                c->port, c->v->proxy_auth)
                         : -1;
    if (n < 0) {
        evtls__conn_fail(c, evtls__err_set(&c->err, EVTLS_ERR_NOMEM, "proxy request"));
        return;
    }
    c->proxy_len = (size_t)n;
    c->proxy_off = 0;
    evtls__conn_set_state(c, EVTLS_STATE_PROXYING); /* its timeout armed, the request first */
    evtls__conn_proxy_step(c);
}

/* The TCP connect won (to the origin, or to the proxy). */
static void tcp_connected(evtls_conn *c, int fd, const evtls__addr *peer)
{
    c->fd = fd;
    c->info.tcp_us = evtls__conn_lap_us(c);
    if (peer && peer->len) {
        evtls__addr_str(peer, c->info.peer_addr, sizeof c->info.peer_addr);
        c->info.family = evtls__addr_family(peer);
    }
    LOGD("conn#%lu: TCP connected to %s%s after %u attempt(s)", c->id,
         c->v->proxy_host ? "the proxy at " : "", c->info.peer_addr, c->info.attempts);
    if (c->v->proxy_host)
        start_proxy(c);
    else
        start_tls(c);
}

static void log_attempts(const evtls_conn *c)
{
    for (unsigned i = 0; i < c->info.n_attempt_info; i++) {
        const evtls_attempt_info *a = &c->info.attempt[i];
        static const char *const names[] = {"won", "failed", "lost the race", "aborted"};
        LOGD("conn#%lu: attempt %u to %s (IPv%d) at +%.1f ms: %s%s%s after %.1f ms", c->id, i + 1,
             a->addr, a->family, a->start_us / 1000.0, names[a->outcome], a->err ? ", " : "",
             a->err ? evtls_strerror(a->err) : "", a->duration_us / 1000.0);
    }
}

static void on_he(enum evtls__he_event ev, int fd, int err, int sys_errno, const evtls__addr *peer,
                  const struct evtls__dial_report *rep, void *arg)
{
    evtls_conn *c = arg;
    if (ev == EVTLS__HE_DIALING) {
        /* Addresses are in: the connect phase (and its timeout) begins. */
        c->info.dns_us = evtls__conn_lap_us(c);
        evtls__conn_set_state(c, EVTLS_STATE_CONNECTING); /* its timeout armed */
        return;
    }
    c->he = NULL;
    if (rep)
        evtls__conn_record_attempts(c, rep);
    if (evtls__log_enabled(EVTLS_LOG_DEBUG))
        log_attempts(c);
    if (fd >= 0) {
        tcp_connected(c, fd, peer);
        return;
    }
    if (c->v->proxy_host) { /* a dead proxy is not the origin's failure */
        if (c->state == EVTLS_STATE_RESOLVING)
            c->info.dns_us = evtls__conn_lap_us(c);
        char what[200];
        snprintf(what, sizeof what, "%s (%s)",
                 c->state == EVTLS_STATE_RESOLVING ? "its name did not resolve" : "cannot connect",
                 evtls_strerror(err));
        proxy_fail(c, EVTLS_ERR_PROXY_CONNECT, sys_errno, what);
        return;
    }
    if (c->state == EVTLS_STATE_RESOLVING) {
        c->info.dns_us = evtls__conn_lap_us(c);
        evtls__conn_fail(c, evtls__err_set(&c->err, err, "resolving '%s'", c->info.host));
        return;
    }
    if (err == EVTLS_ERR_INTERFACE)
        evtls__err_set(&c->err, err, "binding a socket to interface '%s' failed", c->v->interface);
    else
        evtls__err_set(&c->err, err, "TCP connect to %s:%u failed after %u attempt%s", c->info.host,
                       c->info.port, c->info.attempts, c->info.attempts == 1 ? "" : "s");
    c->err.sys_errno = sys_errno;
    evtls__conn_fail(c, err);
}

/* Starts one try: the race from name to socket. Returns 0 or an error. */
static int start_attempt(evtls_conn *c)
{
    struct evtls__he_opts o = {
        .family = c->v->family,
        .resolution_delay_ms = EVTLS__RESOLUTION_DELAY_MS,
        .learn_delay = !c->v->attempt_delay_set, /* a delay the user set is kept */
        .dial =
            {
                .attempt_delay_ms = c->v->timeouts_ms[EVTLS_TIMEOUT_ATTEMPT_DELAY],
                .ka_idle = c->v->ka_idle,
                .ka_interval = c->v->ka_interval,
                .ka_count = c->v->ka_count,
                .sndbuf = c->v->sndbuf,
                .rcvbuf = c->v->rcvbuf,
                .src4 = evtls__cfg_next_source(c->cfg, 4),
                .src6 = evtls__cfg_next_source(c->cfg, 6),
                .race_limit = c->v->race_limit,
                .interface = c->v->interface,
                .race_gate = c->race_gate,
                .race_arg = c->race_arg,
            },
    };
    /* Through a proxy, the race is to the proxy. */
    const char *dial_host = c->v->proxy_host ? c->v->proxy_host : c->info.host;
    uint16_t dial_port = c->v->proxy_host ? c->v->proxy_port : c->port;
    evtls__addr probe;
    int numeric = c->v->proxy_host ? evtls__addr_parse_numeric(dial_host, dial_port, &probe) == 1
                                   : c->host_is_ip;
    if (!numeric && c->resolver == NULL) {
        c->resolver = evtls_resolver_new(c->base, NULL);
        if (c->resolver == NULL)
            return evtls__err_set(&c->err, EVTLS_ERR_DNS, "cannot create a resolver");
    }
    c->info.n_attempt_info = 0;
    c->info.attempts = 0;
    c->info.peer_addr[0] = '\0';
    c->info.family = 0;
    c->info.dns_us = c->info.tcp_us = c->info.tls_us = 0;
    c->t_mark_us = evtls__now_us();
    /* The state's entry arms its phase timeout (DNS, or connect). */
    evtls__conn_set_state(c, numeric ? EVTLS_STATE_CONNECTING : EVTLS_STATE_RESOLVING);
    c->he = evtls__he_start(c->base, c->resolver, dial_host, dial_port, &o, on_he, c);
    if (c->he == NULL)
        return evtls__err_set(&c->err, EVTLS_ERR_NOMEM, "connect");
    return 0;
}

/* ------------------------------------------------------------------ */
/* the retry loop */

/* Whether a failed try is worth another. The error table says which
 * failures are transient (a peer that closes or resets during the
 * handshake included); the deadline and memory exhaustion end the loop. */
void evtls__conn_on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_conn *c = arg;
    if (c->v->retry_mode == EVTLS_RETRY_COUNTDOWN && c->retry_left_s > 0) {
        c->retry_left_s--;
        LOGI("conn#%lu: %u...", c->id, c->retry_left_s);
        if (c->retry_left_s > 0) {
            evtls__conn_arm_wait(c); /* the next second */
            return;
        }
    }
    c->info.connect_attempt++;
    LOGI("conn#%lu: connect attempt %u to %s:%u", c->id, c->info.connect_attempt, c->info.host,
         c->port);
    evtls__err_clear(&c->err);
    int rc = start_attempt(c);
    if (rc != 0)
        evtls__conn_fail(c, rc);
}

/* Decides whether a failure of the current try starts a wait for another.
 * Returns 1 when a retry is scheduled. */
static int schedule_retry(evtls_conn *c, int code, evtls_conn_state was)
{
    const struct evtls__cfg_values *v = c->v;
    const struct evtls__retry_policy policy = {
        v->retry_mode,   v->retry_countdown_s,  v->retry_base_ms,
        v->retry_cap_ms, v->retry_max_attempts, v->timeouts_ms[EVTLS_TIMEOUT_TOTAL]};
    unsigned wait_ms;
    if (!evtls__retry_decide(&policy, c->info.connect_attempt, code,
                             (evtls__now_us() - c->t_start_us) / 1000, evtls__random_u32(),
                             &wait_ms))
        return 0;
    char buf[400];
    LOGI("conn#%lu: connect attempt %u to %s:%u failed in %s: %s; retrying in %u ms", c->id,
         c->info.connect_attempt, c->info.host, c->port, evtls_conn_state_name(was),
         evtls_last_error_format(&c->err, buf, sizeof buf), wait_ms);
    c->retry_left_s = v->retry_mode == EVTLS_RETRY_COUNTDOWN && v->retry_countdown_s > 0
                          ? v->retry_countdown_s
                          : 0;
    c->retry_wait_ms = wait_ms;
    if (c->retry_left_s)
        LOGI("conn#%lu: %u...", c->id, c->retry_left_s);
    evtls__conn_set_state(c, EVTLS_STATE_WAITING); /* its timer armed */
    if (c->retry_cb) {
        evtls__conn_user_enter(c);
        c->retry_cb(c, c->info.connect_attempt, code, wait_ms, c->retry_arg);
        evtls__conn_user_leave(c);
    }
    return 1;
}

/* The phase timer fired in RESOLVING, CONNECTING or HANDSHAKING. */
void evtls__conn_phase_timeout(evtls_conn *c)
{
    switch (c->state) {
    case EVTLS_STATE_RESOLVING:
        evtls__conn_fail(c, evtls__err_set(&c->err, EVTLS_ERR_DNS_TIMEOUT,
                                           "no answer for '%s' in %u ms", c->info.host,
                                           c->v->timeouts_ms[EVTLS_TIMEOUT_DNS]));
        return;
    case EVTLS_STATE_PROXYING:
        evtls__conn_fail(c, evtls__err_set(&c->err, EVTLS_ERR_PROXY_REFUSED,
                                           "proxy %s:%u: no answer to the CONNECT in %u ms",
                                           c->v->proxy_host, c->v->proxy_port,
                                           c->v->timeouts_ms[EVTLS_TIMEOUT_HANDSHAKE]));
        return;
    case EVTLS_STATE_CONNECTING:
        evtls__conn_fail(c, evtls__err_set(&c->err, EVTLS_ERR_CONNECT_TIMEOUT,
                                           "TCP connect to %s:%u not done in %u ms", c->info.host,
                                           c->info.port, c->v->timeouts_ms[EVTLS_TIMEOUT_CONNECT]));
        return;
    default:
        evtls__conn_fail(c,
                         evtls__err_set(&c->err, EVTLS_ERR_HANDSHAKE_TIMEOUT,
                                        "TLS handshake with %s:%u not done in %u ms", c->info.host,
                                        c->info.port, c->v->timeouts_ms[EVTLS_TIMEOUT_HANDSHAKE]));
        return;
    }
}

void evtls__conn_on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_conn *c = arg;
    evtls__conn_fail(c, evtls__err_set(&c->err, EVTLS_ERR_TIMEOUT,
                                       "connect to %s:%u not done in %u ms (%s)", c->info.host,
                                       c->info.port, c->v->timeouts_ms[EVTLS_TIMEOUT_TOTAL],
                                       evtls_conn_state_name(c->state)));
}

/* Fails the connection with code (c->err already filled, or filled here).
 * Delivers the error to whoever waits: the connect callback, else the
 * read callback, else the next API call. */
void evtls__conn_fail(evtls_conn *c, int code)
{
    if (c->err.code != code)
        evtls__err_set(&c->err, code, NULL);
    evtls_conn_state was = c->state;
    evtls__conn_teardown_attempt(c, 1);
    if ((was == EVTLS_STATE_RESOLVING || was == EVTLS_STATE_CONNECTING ||
         was == EVTLS_STATE_HANDSHAKING) &&
        schedule_retry(c, code, was))
        return;
    evtls__conn_teardown(c, 1);
    evtls__conn_set_state(c, EVTLS_STATE_FAILED);
    char buf[400];
    /* Info, not a warning: the failure is the caller's, told through its
     * callback (a tool printed it twice, and a load test thousands of
     * times). */
    if (was != EVTLS_STATE_FAILED && evtls__log_enabled(EVTLS_LOG_INFO)) /* in place: logged then */
        LOGI("conn#%lu: %s %s:%u failed in %s: %s", c->id,
             was == EVTLS_STATE_CONNECTED ? "connection to" : "connect to", c->info.host,
             c->info.port, evtls_conn_state_name(was),
             evtls_last_error_format(&c->err, buf, sizeof buf));
    evtls_connect_cb ccb = c->connect_cb;
    c->connect_cb = NULL;
    if (ccb) {
        evtls__conn_user_enter(c);
        ccb(c, code, c->connect_arg);
        evtls__conn_user_leave(c);
        return;
    }
    if (c->read_cb && evtls__conn_reading(c)) {
        evtls__conn_set_read(c, READ_OFF);
        evtls__conn_user_enter(c);
        c->read_cb(c, NULL, code, c->read_arg);
        evtls__conn_user_leave(c);
    }
}

static int host_ok(const char *host)
{
    size_t n = strlen(host);
    if (n == 0 || n > 253 + 2)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)host[i] <= ' ' || host[i] == '/' || host[i] == '\\' || host[i] == 0x7f)
            return 0;
    return 1;
}

/* Starts the state machine; shared by both ways of driving it. */
int evtls__conn_start(evtls_conn *c, const char *host, uint16_t port)
{
    if (c->state != EVTLS_STATE_IDLE)
        return EVTLS_ERR_STATE;
    if (host == NULL || port == 0 || !host_ok(host))
        return evtls__err_set(&c->err, EVTLS_ERR_INVALID_ARG, "bad host or port");
    /* An international name goes to DNS, SNI and verification as A-labels. */
    char ascii[256], why[160];
    if (evtls__has_non_ascii(host, strlen(host))) {
        if (evtls__host_to_ascii(host, strlen(host), ascii, sizeof ascii, why, sizeof why) != 0)
            return evtls__err_set(&c->err, EVTLS_ERR_INVALID_ARG, "%s", why);
        host = ascii;
    }
    evtls__addr addr;
    int numeric = evtls__addr_parse_numeric(host, port, &addr);
    if (numeric < 0)
        return evtls__err_set(&c->err, EVTLS_ERR_INVALID_ARG, "malformed address '%s'", host);
    if (numeric && c->v->family && evtls__addr_family(&addr) != c->v->family)
        return evtls__err_set(&c->err, EVTLS_ERR_INVALID_ARG,
                              "'%s' is not an IPv%d address, as the family setting requires", host,
                              c->v->family);
    const char *name = c->v->server_name ? c->v->server_name : host;
    if (evtls__host_strip(name, c->name, sizeof c->name) != 0 ||
        evtls__host_strip(host, c->info.host, sizeof c->info.host) != 0)
        return evtls__err_set(&c->err, EVTLS_ERR_INVALID_ARG, "host name too long");
    /* "example.test." is absolute for DNS (which gets it as written) but
     * the same name for TLS: SNI carries no trailing dot (RFC 6066 section
     * 3) and a certificate names the host without one, as curl does. */
    size_t nl = strlen(c->name);
    if (nl > 1 && c->name[nl - 1] == '.' && c->name[nl - 2] != '.')
        c->name[nl - 1] = '\0';
    evtls__addr name_addr;
    c->host_is_ip = numeric;
    c->name_is_ip = evtls__addr_parse_numeric(c->name, 0, &name_addr) == 1;
    c->info.port = c->port = port;
    if (c->sessions) {
        /* A session is valid for what it was negotiated under: the name
         * verified, ALPN, versions, and trust (a session made without
         * verification must not let a verifying configuration skip its
         * checks). */
        char tag[400], key[EVTLS__ORIGIN_KEY_MAX];
        snprintf(tag, sizeof tag, "%s|%s|%d-%d|%016llx", c->name, c->v->alpn ? c->v->alpn : "",
                 c->v->tls_min, c->v->tls_max, (unsigned long long)c->v->trust_tag);
        if (evtls__origin_key(key, sizeof key, c->info.host, port, tag) < 0)
            return evtls__err_set(&c->err, EVTLS_ERR_INVALID_ARG, "bad host '%s'", host);
        free(c->session_key);
        if ((c->session_key = strdup(key)) == NULL)
            return evtls__err_set(&c->err, EVTLS_ERR_NOMEM, "session key");
    }
    c->t_start_us = c->t_mark_us = evtls__now_us();
    evtls__err_clear(&c->err);
    c->info.connect_attempt = 1;
    int rc = start_attempt(c); /* entering the connect arms EVTLS_TIMEOUT_TOTAL */
    if (rc != 0) {
        evtls__conn_teardown(c, 0);
        evtls__conn_set_state(c, EVTLS_STATE_IDLE);
    }
    return rc;
}

int evtls_conn_connect(evtls_conn *c, const char *host, uint16_t port, evtls_connect_cb cb,
                       void *arg)
{
    if (c == NULL || cb == NULL)
        return EVTLS_ERR_INVALID_ARG;
    int rc = evtls__conn_start(c, host, port);
    if (rc == 0) {
        c->connect_cb = cb;
        c->connect_arg = arg;
    }
    return rc;
}
