/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn.c - the glue layer: one TLS client connection on an
 * event_base. It owns the socket's event and the timers, and drives the
 * sans-I/O pieces below it:
 *
 *   eyeballs (name -> connected fd: resolver, RFC 6724 sort, dialer)
 *   -> tls (fd -> TLS stream, reporting WANT_READ / WANT_WRITE)
 *
 * It also runs the retry loop: a retryable failure before the connection
 * is up tears the attempt down and starts a new one after a wait.
 *
 * Each piece reports through a callback or a status; nothing below calls up
 * into this file except through those callbacks. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evtls/conn.h"
#include "evtls_addr.h"
#include "evtls_cfg_int.h"
#include "evtls_conn_int.h"
#include "evtls_eyeballs.h"
#include "evtls_error_int.h"
#include "evtls_log_int.h"
#include "evtls_mem_int.h"
#include "evtls_resolver_int.h"
#include "evtls_retry.h"
#include "evtls_session_int.h"
#include "evtls_tls.h"
#include "evtls_tlsctx.h"

#define READ_CHUNK          16384 /* one TLS record's worth of plaintext */
#define READS_PER_EVENT     16    /* fairness: a read burst is at most 16 records, */
#define READ_BURST_US       2000  /* or 2 ms, then the rest waits for the next pass */
#define DEFAULT_WRITE_LIMIT (64 * 1024)
#define RESOLUTION_DELAY_MS 50 /* RFC 8305 section 3 */

struct evtls_conn {
    struct event_base *base;
    struct event_base *own_base; /* private base when created with NULL */
    evtls_cfg *cfg;
    const struct evtls__cfg_values *v;
    evtls_resolver *resolver;
    unsigned long id;
    evtls_conn_state state;

    evtls__he *he; /* the name-to-socket race, while it runs */
    evtls__tls *tls;
    int fd;

    struct event io_ev;       /* the socket, armed with what the state needs */
    short io_armed;           /* EV_READ|EV_WRITE io_ev is added with, 0 if none */
    int read_unwanted;        /* readable while nobody reads: EV_READ is dropped until read_start */
    struct event phase_timer; /* the current phase's timeout */
    struct event deadline_timer; /* EVTLS_TIMEOUT_TOTAL */
    struct event defer_ev;       /* work that must not run inside an API call */
    struct event yield_ev;       /* a read burst's rest, on the loop's next pass */

    /* What the handshake, the read path and the write path wait on
     * (0, EV_READ or EV_WRITE): a TLS read may need a write and the reverse. */
    short hs_wait, rd_wait, wr_wait;

    evtls_connect_cb connect_cb;
    void *connect_arg;
    evtls_read_cb read_cb;
    void *read_arg;
    int reading;
    evtls_drain_cb drain_cb;
    void *drain_arg;
    evtls_close_cb close_cb;
    void *close_arg;
    int close_err;
    evtls_retry_cb retry_cb;
    void *retry_arg;
    void *userdata; /* the application's, never touched here */
    void *owner;    /* the pool's entry (evtls_conn_int.h) */
    evtls__conn_owner_cb on_let_go;
    evtls_session_cache *sessions;
    int no_offer;        /* store the server's sessions, offer none */
    int close_wait_peer; /* evtls_conn_shutdown: wait for the peer's close */
    int close_sent;      /* our close_notify is out */
    char *session_key;   /* the origin's key in sessions */

    struct event retry_timer; /* the wait between connect attempts */
    unsigned retry_left_s;    /* countdown: seconds still to wait */
    uint16_t port;
    uint8_t host_is_ip; /* host is an address literal: no lookup */
    uint8_t name_is_ip; /* the name checked is an address: no SNI, IP SANs */

    struct evbuffer *out; /* queued plaintext, created on first write */
    size_t write_limit;
    size_t write_inflight; /* bytes handed to wolfSSL that it still owes */

    /* deferred work flags, served by defer_ev */
    unsigned pending_drain : 1;
    unsigned pending_error : 1;
    unsigned pending_close_done : 1;

    int in_cb;   /* depth of user callbacks on the stack */
    int dead;    /* freed inside a callback: destroyed on the way out */
    int pumping; /* inside event_base_loop() called by connect_poll */

    struct timespec t_start, t_mark;
    evtls_last_error err;
    evtls_conn_info info;
    char name[256]; /* name for SNI and verification */
};

static atomic_ulong next_id = 1;

/* Jitter for the backoff (xorshift64*, seeded per thread); not for keys. */
static uint32_t evtls__random_u32(void)
{
    static _Thread_local uint64_t x;
    if (x == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)&x ^ 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

/* ------------------------------------------------------------------ */
/* helpers */

static uint64_t elapsed_us(const struct timespec *from)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)((now.tv_sec - from->tv_sec) * 1000000 + (now.tv_nsec - from->tv_nsec) / 1000);
}

/* Returns the time since the last mark and sets a new mark. */
static uint64_t lap_us(evtls_conn *c)
{
    uint64_t us = elapsed_us(&c->t_mark);
    clock_gettime(CLOCK_MONOTONIC, &c->t_mark);
    return us;
}

static void arm_timer(struct event *ev, unsigned ms)
{
    if (ms == 0) {
        event_del(ev);
        return;
    }
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_add(ev, &tv);
}

static void on_io(evutil_socket_t fd, short what, void *arg);

static void record_attempts(evtls_conn *c, const struct evtls__dial_report *rep)
{
    c->info.attempts = rep->attempts;
    c->info.candidates = rep->candidates;
    c->info.n_attempt_info = rep->n_info;
    memcpy(c->info.attempt, rep->info, sizeof rep->info);
}

/* Re-arms io_ev with the events the current state waits on. */
static void io_update(evtls_conn *c)
{
    short want = 0;
    if (c->fd >= 0) {
        if (c->state == EVTLS_STATE_HANDSHAKING || c->state == EVTLS_STATE_CLOSING)
            want = c->hs_wait;
        if (c->state == EVTLS_STATE_CONNECTED && c->reading)
            want |= c->rd_wait;
        /* Between requests EV_READ stays armed (one epoll_ctl saved each
         * way per request); if the socket turns readable while nobody
         * reads, on_io drops it until the next read_start. */
        else if (c->state == EVTLS_STATE_CONNECTED && (c->io_armed & EV_READ) && !c->read_unwanted)
            want |= EV_READ;
        if ((c->state == EVTLS_STATE_CONNECTED || c->state == EVTLS_STATE_CLOSING) && c->out &&
            evbuffer_get_length(c->out) > 0)
            want |= c->wr_wait;
    }
    if (want == c->io_armed)
        return;
    event_del(&c->io_ev);
    c->io_armed = want;
    if (want) {
        event_assign(&c->io_ev, c->base, c->fd, (short)(want | EV_PERSIST), on_io, c);
        event_add(&c->io_ev, NULL);
    }
}

/* The connection's states and the moves between them: set_state is the
 * only writer of c->state, logs every move at debug level, and reports a
 * move the table does not have as a bug. The events the connection
 * watches follow from its state in one place, io_update. */
#define S(x) (1u << EVTLS_STATE_##x)
static const uint16_t next_states[] = {
    [EVTLS_STATE_IDLE] = S(RESOLVING) | S(CONNECTING) | S(FAILED) | S(CLOSED),
    /* back to IDLE: a start that failed inside evtls_conn_connect */
    [EVTLS_STATE_RESOLVING] = S(CONNECTING) | S(WAITING) | S(FAILED) | S(CLOSED) | S(IDLE),
    [EVTLS_STATE_CONNECTING] = S(HANDSHAKING) | S(WAITING) | S(FAILED) | S(CLOSED) | S(IDLE),
    [EVTLS_STATE_HANDSHAKING] = S(CONNECTED) | S(WAITING) | S(FAILED) | S(CLOSED),
    [EVTLS_STATE_CONNECTED] = S(CLOSING) | S(CLOSED) | S(FAILED),
    [EVTLS_STATE_CLOSING] = S(CLOSED),
    [EVTLS_STATE_CLOSED] = 0,
    [EVTLS_STATE_FAILED] = 0,
    [EVTLS_STATE_WAITING] = S(RESOLVING) | S(CONNECTING) | S(FAILED) | S(CLOSED),
};
#undef S

static void set_state(evtls_conn *c, evtls_conn_state to)
{
    evtls_conn_state from = c->state;
    if (from == to)
        return;
    if ((unsigned)from >= sizeof next_states / sizeof next_states[0] ||
        !(next_states[from] & (1u << to)))
        LOGE("conn#%lu: internal error: no move from %s to %s", c->id, evtls_conn_state_name(from),
             evtls_conn_state_name(to));
    LOGD("conn#%lu: %s -> %s", c->id, evtls_conn_state_name(from), evtls_conn_state_name(to));
    c->state = to;
}

static short wait_of(evtls__tls_status st)
{
    return st == EVTLS__TLS_WANT_WRITE ? EV_WRITE : EV_READ;
}

/* Enters a user callback. */
static void user_enter(evtls_conn *c)
{
    c->in_cb++;
}

static void conn_destroy(evtls_conn *c);

/* Leaves a user callback. Returns 1 when c was freed or closed inside it:
 * the caller must then return without touching c. */
static int user_leave(evtls_conn *c)
{
    c->in_cb--;
    if (c->dead) {
        if (c->in_cb == 0)
            conn_destroy(c);
        return 1;
    }
    return 0;
}

/* Releases every resource of the connection but the struct itself. */
/* Releases what one connect try holds: the race, TLS, the socket and the
 * phase timer. */
static void teardown_attempt(evtls_conn *c, int rst)
{
    if (c->he) {
        struct evtls__dial_report rep;
        evtls__he_cancel(c->he, &rep);
        c->he = NULL;
        if (rep.attempts)
            record_attempts(c, &rep);
    }
    if (c->tls) {
        evtls__tls_get_info(c->tls, &c->info);
        evtls__tls_free(c->tls);
        c->tls = NULL;
    }
    event_del(&c->io_ev);
    c->io_armed = 0;
    if (c->fd >= 0) {
        if (rst) {
            struct linger lg = {1, 0}; /* abortive close: RST */
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(c->fd);
        c->fd = -1;
    }
    event_del(&c->phase_timer);
}

/* Releases every resource of the connection but the struct itself. */
static void teardown(evtls_conn *c, int rst)
{
    teardown_attempt(c, rst);
    event_del(&c->yield_ev);
    event_del(&c->retry_timer);
    event_del(&c->deadline_timer);
    if (c->out) {
        evbuffer_free(c->out);
        c->out = NULL;
    }
}

static void conn_destroy(evtls_conn *c)
{
    teardown(c, 0);
    event_del(&c->defer_ev);
    if (c->pumping) {
        /* connect_poll is inside event_base_loop on own_base: it finishes. */
        c->dead = 2;
        return;
    }
    if (c->own_base) {
        /* Let evdns deliver the cancellation it owes before the base goes. */
        event_base_loop(c->own_base, EVLOOP_NONBLOCK);
    }
    evtls_resolver_free(c->resolver);
    evtls_session_cache_free(c->sessions);
    free(c->session_key);
    evtls_cfg_free(c->cfg);
    if (c->own_base)
        event_base_free(c->own_base);
    evtls__mem_note(EVTLS_MEM_EVTLS, -(long)sizeof *c);
    free(c);
}

static void fail(evtls_conn *c, int code);

/* ------------------------------------------------------------------ */
/* connect: phase by phase */

static void log_connected(evtls_conn *c)
{
    const evtls_conn_info *i = &c->info;
    LOGI("conn#%lu: connected to %s:%u (%s, IPv%d) %s %s %s%s%s, resumed=%s; dns %.1f ms, "
         "tcp %.1f ms, tls %.1f ms, total %.1f ms",
         c->id, i->host, i->port, i->peer_addr, i->family, i->tls_version ? i->tls_version : "?",
         i->cipher ? i->cipher : "?", i->group ? i->group : "?", i->alpn[0] ? ", alpn " : "",
         i->alpn, i->resumed ? "yes" : "no", (double)i->dns_us / 1000.0, (double)i->tcp_us / 1000.0,
         (double)i->tls_us / 1000.0, (double)i->total_us / 1000.0);
}

/* Moves a new resumable session (if any) into the session cache. */
static void harvest_session(evtls_conn *c)
{
    uint8_t *der;
    size_t len;
    int single;
    while (c->sessions && c->tls && evtls__tls_take_session(c->tls, &der, &len, &single)) {
        LOGD("conn#%lu: session stored (%zu bytes, %s)", c->id, len,
             single ? "TLS 1.3 ticket, single use" : "TLS 1.2, reusable");
        evtls__session_put(c->sessions, c->session_key, der, len, single);
    }
}

static void connected(evtls_conn *c)
{
    c->info.tls_us = lap_us(c);
    c->info.total_us = elapsed_us(&c->t_start);
    evtls__tls_get_info(c->tls, &c->info);
    c->info.session_offered = evtls__tls_offered(c->tls);
    if (c->sessions && c->info.session_offered)
        evtls__session_result(c->sessions, c->info.resumed);
    harvest_session(c);
    event_del(&c->phase_timer);
    event_del(&c->deadline_timer);
    set_state(c, EVTLS_STATE_CONNECTED);
    c->hs_wait = 0;
    c->rd_wait = EV_READ;
    c->wr_wait = EV_WRITE;
    io_update(c);
    if (evtls__log_enabled(EVTLS_LOG_INFO))
        log_connected(c);
    evtls_connect_cb cb = c->connect_cb;
    c->connect_cb = NULL;
    if (cb) {
        user_enter(c);
        cb(c, 0, c->connect_arg);
        user_leave(c);
    }
}

static void handshake_step(evtls_conn *c)
{
    evtls__tls_status st = evtls__tls_handshake(c->tls, &c->err);
    switch (st) {
    case EVTLS__TLS_DONE: connected(c); return;
    case EVTLS__TLS_WANT_READ:
    case EVTLS__TLS_WANT_WRITE:
        c->hs_wait = wait_of(st);
        io_update(c);
        return;
    case EVTLS__TLS_EOF:
    case EVTLS__TLS_FAIL: fail(c, c->err.code ? c->err.code : EVTLS_ERR_TLS); return;
    default:
        fail(c, evtls__err_set(&c->err, EVTLS_ERR_INTERNAL, "handshake status %d", (int)st));
        return;
    }
}

static void start_tls(evtls_conn *c, int fd, const evtls__addr *peer)
{
    c->fd = fd;
    c->info.tcp_us = lap_us(c);
    if (peer && peer->len) {
        evtls__addr_str(peer, c->info.peer_addr, sizeof c->info.peer_addr);
        c->info.family = evtls__addr_family(peer);
    }
    LOGD("conn#%lu: TCP connected to %s after %u attempt(s)", c->id, c->info.peer_addr,
         c->info.attempts);
    struct evtls__tls_params p = {
        .name = c->name,
        .name_is_ip = c->name_is_ip,
        .skip_common_name = c->v->skip_common_name,
        .insecure = c->v->insecure_skip_verify,
        .alpn = c->v->alpn,
        .alpn_fail_on_mismatch = c->v->alpn_fail_on_mismatch,
        .id = c->id,
    };
    uint8_t *sess = NULL;
    if (c->sessions && c->session_key) {
        p.want_session = 1;
        if (!c->no_offer && evtls__session_get(c->sessions, c->session_key, &sess, &p.session_len))
            p.session = sess;
    }
    c->tls = evtls__tls_new(evtls__cfg_wolfssl_ctx(c->cfg), fd, &p, &c->err);
    free(sess);
    if (c->tls == NULL) {
        fail(c, c->err.code);
        return;
    }
    set_state(c, EVTLS_STATE_HANDSHAKING);
    arm_timer(&c->phase_timer, c->v->timeouts_ms[EVTLS_TIMEOUT_HANDSHAKE]);
    handshake_step(c);
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
        c->info.dns_us = lap_us(c);
        set_state(c, EVTLS_STATE_CONNECTING);
        arm_timer(&c->phase_timer, c->v->timeouts_ms[EVTLS_TIMEOUT_CONNECT]);
        return;
    }
    c->he = NULL;
    if (rep)
        record_attempts(c, rep);
    if (evtls__log_enabled(EVTLS_LOG_DEBUG))
        log_attempts(c);
    if (fd >= 0) {
        start_tls(c, fd, peer);
        return;
    }
    if (c->state == EVTLS_STATE_RESOLVING) {
        c->info.dns_us = lap_us(c);
        fail(c, evtls__err_set(&c->err, err, "resolving '%s'", c->info.host));
        return;
    }
    evtls__err_set(&c->err, err, "TCP connect to %s:%u failed after %u attempt%s", c->info.host,
                   c->info.port, c->info.attempts, c->info.attempts == 1 ? "" : "s");
    c->err.sys_errno = sys_errno;
    fail(c, err);
}

/* Starts one try: the race from name to socket. Returns 0 or an error. */
static int start_attempt(evtls_conn *c)
{
    struct evtls__he_opts o = {
        .family = c->v->family,
        .resolution_delay_ms = RESOLUTION_DELAY_MS,
        .dial =
            {
                .attempt_delay_ms = c->v->timeouts_ms[EVTLS_TIMEOUT_ATTEMPT_DELAY],
                .ka_idle = c->v->ka_idle,
                .ka_interval = c->v->ka_interval,
                .ka_count = c->v->ka_count,
                .src4 = evtls__cfg_next_source(c->cfg, 4),
                .src6 = evtls__cfg_next_source(c->cfg, 6),
            },
    };
    int numeric = c->host_is_ip;
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
    clock_gettime(CLOCK_MONOTONIC, &c->t_mark);
    set_state(c, numeric ? EVTLS_STATE_CONNECTING : EVTLS_STATE_RESOLVING);
    arm_timer(&c->phase_timer,
              c->v->timeouts_ms[numeric ? EVTLS_TIMEOUT_CONNECT : EVTLS_TIMEOUT_DNS]);
    c->he = evtls__he_start(c->base, c->resolver, c->info.host, c->port, &o, on_he, c);
    if (c->he == NULL)
        return evtls__err_set(&c->err, EVTLS_ERR_NOMEM, "connect");
    return 0;
}

/* ------------------------------------------------------------------ */
/* the retry loop */

/* Whether a failed try is worth another. The error table says which
 * failures are transient (a peer that closes or resets during the
 * handshake included); the deadline and memory exhaustion end the loop. */
static void retry_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_conn *c = arg;
    if (c->v->retry_mode == EVTLS_RETRY_COUNTDOWN && c->retry_left_s > 0) {
        c->retry_left_s--;
        LOGI("conn#%lu: %u...", c->id, c->retry_left_s);
        if (c->retry_left_s > 0) {
            arm_timer(&c->retry_timer, 1000);
            return;
        }
    }
    c->info.connect_attempt++;
    LOGI("conn#%lu: connect attempt %u to %s:%u", c->id, c->info.connect_attempt, c->info.host,
         c->port);
    evtls__err_clear(&c->err);
    int rc = start_attempt(c);
    if (rc != 0)
        fail(c, rc);
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
    if (!evtls__retry_decide(&policy, c->info.connect_attempt, code, elapsed_us(&c->t_start) / 1000,
                             evtls__random_u32(), &wait_ms))
        return 0;
    char buf[400];
    LOGW("conn#%lu: connect attempt %u to %s:%u failed in %s: %s; retrying in %u ms", c->id,
         c->info.connect_attempt, c->info.host, c->port, evtls_conn_state_name(was),
         evtls_last_error_format(&c->err, buf, sizeof buf), wait_ms);
    set_state(c, EVTLS_STATE_WAITING);
    if (v->retry_mode == EVTLS_RETRY_COUNTDOWN && v->retry_countdown_s > 0) {
        c->retry_left_s = v->retry_countdown_s;
        LOGI("conn#%lu: %u...", c->id, c->retry_left_s);
        arm_timer(&c->retry_timer, 1000);
    } else if (wait_ms) {
        arm_timer(&c->retry_timer, wait_ms);
    } else {
        c->retry_left_s = 0;
        event_active(&c->retry_timer, EV_TIMEOUT, 0);
    }
    if (c->retry_cb) {
        user_enter(c);
        c->retry_cb(c, c->info.connect_attempt, code, wait_ms, c->retry_arg);
        user_leave(c);
    }
    return 1;
}

static void on_phase_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_conn *c = arg;
    switch (c->state) {
    case EVTLS_STATE_RESOLVING:
        fail(c, evtls__err_set(&c->err, EVTLS_ERR_DNS_TIMEOUT, "no answer for '%s' in %u ms",
                               c->info.host, c->v->timeouts_ms[EVTLS_TIMEOUT_DNS]));
        return;
    case EVTLS_STATE_CONNECTING:
        fail(c, evtls__err_set(&c->err, EVTLS_ERR_CONNECT_TIMEOUT,
                               "TCP connect to %s:%u not done in %u ms", c->info.host, c->info.port,
                               c->v->timeouts_ms[EVTLS_TIMEOUT_CONNECT]));
        return;
    case EVTLS_STATE_HANDSHAKING:
        fail(c, evtls__err_set(&c->err, EVTLS_ERR_HANDSHAKE_TIMEOUT,
                               "TLS handshake with %s:%u not done in %u ms", c->info.host,
                               c->info.port, c->v->timeouts_ms[EVTLS_TIMEOUT_HANDSHAKE]));
        return;
    case EVTLS_STATE_CLOSING:
        c->close_err = EVTLS_ERR_TIMEOUT;
        teardown(c, 1);
        set_state(c, EVTLS_STATE_CLOSED);
        c->pending_close_done = 1;
        event_active(&c->defer_ev, 0, 0);
        return;
    default: return;
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_conn *c = arg;
    fail(c, evtls__err_set(&c->err, EVTLS_ERR_TIMEOUT, "connect to %s:%u not done in %u ms (%s)",
                           c->info.host, c->info.port, c->v->timeouts_ms[EVTLS_TIMEOUT_TOTAL],
                           evtls_conn_state_name(c->state)));
}

/* Fails the connection with code (c->err already filled, or filled here).
 * Delivers the error to whoever waits: the connect callback, else the
 * read callback, else the next API call. */
static void fail(evtls_conn *c, int code)
{
    if (c->err.code != code)
        evtls__err_set(&c->err, code, NULL);
    evtls_conn_state was = c->state;
    teardown_attempt(c, 1);
    if ((was == EVTLS_STATE_RESOLVING || was == EVTLS_STATE_CONNECTING ||
         was == EVTLS_STATE_HANDSHAKING) &&
        schedule_retry(c, code, was))
        return;
    teardown(c, 1);
    set_state(c, EVTLS_STATE_FAILED);
    char buf[400];
    if (was != EVTLS_STATE_FAILED) /* failed in place earlier: logged then */
        LOGW("conn#%lu: %s %s:%u failed in %s: %s", c->id,
             was == EVTLS_STATE_CONNECTED ? "connection to" : "connect to", c->info.host,
             c->info.port, evtls_conn_state_name(was),
             evtls_last_error_format(&c->err, buf, sizeof buf));
    evtls_connect_cb ccb = c->connect_cb;
    c->connect_cb = NULL;
    if (ccb) {
        user_enter(c);
        ccb(c, code, c->connect_arg);
        user_leave(c);
        return;
    }
    if (c->read_cb && c->reading) {
        c->reading = 0;
        user_enter(c);
        c->read_cb(c, NULL, code, c->read_arg);
        user_leave(c);
    }
}

/* ------------------------------------------------------------------ */
/* established: reading and writing */

/* Writes queued data until the buffer is empty or the socket blocks.
 * Returns 0, or 1 when the connection failed (already reported if
 * report is set, else left for the deferred path). */
static int flush_out(evtls_conn *c)
{
    while (c->out && evbuffer_get_length(c->out) > 0) {
        size_t len = evbuffer_get_length(c->out);
        if (c->write_inflight)
            len = c->write_inflight; /* wolfSSL needs the same bytes again */
        else if (len > READ_CHUNK)
            len = READ_CHUNK;
        const uint8_t *p = evbuffer_pullup(c->out, (ev_ssize_t)len);
        evtls__tls_status st = evtls__tls_write(c->tls, p, len, &c->err);
        if (st == EVTLS__TLS_DONE) {
            evbuffer_drain(c->out, len);
            c->write_inflight = 0;
            continue;
        }
        if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE) {
            c->write_inflight = len;
            c->wr_wait = wait_of(st);
            return 0;
        }
        return 1;
    }
    return 0;
}

static void do_write(evtls_conn *c)
{
    if (flush_out(c)) {
        fail(c, c->err.code);
        return;
    }
    if (evbuffer_get_length(c->out) == 0 && c->drain_cb) {
        user_enter(c);
        c->drain_cb(c, c->drain_arg);
        if (user_leave(c))
            return;
    }
    if (c->state == EVTLS_STATE_CONNECTED)
        io_update(c);
}

/* Reads records to the read callback: a burst of at most READS_PER_EVENT
 * records or READ_BURST_US, then the rest waits for the loop's next pass
 * (a zero timer: it fires after the next poll of the sockets, so every
 * other socket and timer of the loop gets its turn first; event_active
 * would run it again within this same pass). */
static void do_read(evtls_conn *c)
{
    uint8_t buf[READ_CHUNK];
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < READS_PER_EVENT && c->reading && c->state == EVTLS_STATE_CONNECTED; i++) {
        if (i > 0 && elapsed_us(&start) >= READ_BURST_US)
            break;
        size_t n = 0;
        evtls__tls_status st = evtls__tls_read(c->tls, buf, sizeof buf, &n, &c->err);
        harvest_session(c);
        if (st == EVTLS__TLS_DONE) {
            user_enter(c);
            c->read_cb(c, buf, (ssize_t)n, c->read_arg);
            if (user_leave(c))
                return;
            continue;
        }
        if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE) {
            c->rd_wait = wait_of(st);
            io_update(c);
            return;
        }
        if (st == EVTLS__TLS_EOF) {
            LOGD("conn#%lu: peer sent close_notify", c->id);
            c->reading = 0;
            set_state(c, EVTLS_STATE_CLOSED);
            evtls_read_cb cb = c->read_cb;
            teardown(c, 0);
            user_enter(c);
            cb(c, NULL, EVTLS_EOF, c->read_arg);
            user_leave(c);
            return;
        }
        fail(c, c->err.code);
        return;
    }
    /* Still readable after a fair share: come back on the next pass. */
    if (c->reading && c->state == EVTLS_STATE_CONNECTED) {
        static const struct timeval next_pass = {0, 0};
        evtimer_add(&c->yield_ev, &next_pass);
    }
}

/* ------------------------------------------------------------------ */
/* closing */

static void close_step(evtls_conn *c)
{
    if (flush_out(c)) {
        c->close_err = c->err.code;
        goto done;
    }
    if (c->out && evbuffer_get_length(c->out) > 0) {
        io_update(c);
        return;
    }
    if (!c->close_sent) {
        evtls__tls_status st = evtls__tls_shutdown(c->tls, &c->err);
        if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE) {
            c->hs_wait = wait_of(st);
            io_update(c);
            return;
        }
        if (st == EVTLS__TLS_FAIL) {
            c->close_err = c->err.code;
            goto done;
        }
        c->close_sent = 1;
        LOGD("conn#%lu: close_notify sent", c->id);
    }
    if (c->close_wait_peer) {
        /* Read and drop what the peer still sends until its close_notify or
         * its FIN: session tickets among it are stored. */
        uint8_t scratch[READ_CHUNK];
        for (;;) {
            size_t n = 0;
            evtls_last_error ignored;
            evtls__tls_status st = evtls__tls_read(c->tls, scratch, sizeof scratch, &n, &ignored);
            harvest_session(c);
            if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE) {
                c->hs_wait = wait_of(st);
                io_update(c);
                return;
            }
            if (st != EVTLS__TLS_DONE)
                break; /* close_notify, FIN or reset: the close is complete either way */
        }
        LOGD("conn#%lu: the peer's close seen", c->id);
    }
done:
    teardown(c, c->close_err != 0);
    set_state(c, EVTLS_STATE_CLOSED);
    c->pending_close_done = 1;
    event_active(&c->defer_ev, 0, 0);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    evtls_conn *c = arg;
    switch (c->state) {
    case EVTLS_STATE_HANDSHAKING: handshake_step(c); return;
    case EVTLS_STATE_CONNECTED:
        if ((what & EV_READ) && !c->reading && !c->read_unwanted) {
            c->read_unwanted = 1; /* kept armed, and now readable: not level-triggered again */
            io_update(c);
        }
        user_enter(c); /* hold c across both paths */
        if ((what & c->wr_wait) && c->out && evbuffer_get_length(c->out) > 0)
            do_write(c);
        /* With a burst's rest due on the next pass (yield_ev), that is when
         * reading goes on: not also now, which would make two bursts. */
        if (!c->dead && c->state == EVTLS_STATE_CONNECTED && c->reading && (what & c->rd_wait) &&
            !event_pending(&c->yield_ev, EV_TIMEOUT, NULL))
            do_read(c);
        user_leave(c);
        return;
    case EVTLS_STATE_CLOSING: close_step(c); return;
    default: return;
    }
}

/* The rest of a read burst (do_read), on the loop's next pass. */
static void on_yield(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    evtls_conn *c = arg;
    if (c->reading)
        on_io(fd, c->rd_wait, c); /* yield_ev is no longer pending here */
}

static void on_defer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_conn *c = arg;
    if (c->pending_close_done) {
        c->pending_close_done = 0;
        evtls_close_cb cb = c->close_cb;
        c->close_cb = NULL;
        if (cb) {
            user_enter(c);
            cb(c, c->close_err, c->close_arg);
            c->in_cb--;
        }
        c->dead = 1;
        if (c->in_cb == 0)
            conn_destroy(c);
        return;
    }
    if (c->pending_error) {
        c->pending_error = 0;
        fail(c, c->err.code);
        return;
    }
    if (c->pending_drain) {
        c->pending_drain = 0;
        if (c->drain_cb && c->out && evbuffer_get_length(c->out) == 0) {
            user_enter(c);
            c->drain_cb(c, c->drain_arg);
            user_leave(c);
        }
    }
}

/* ------------------------------------------------------------------ */
/* public API */

evtls_conn *evtls_conn_new(struct event_base *base, evtls_cfg *cfg)
{
    if (cfg == NULL || evtls_cfg_build(cfg) != 0)
        return NULL;
    evtls_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    evtls__mem_note(EVTLS_MEM_EVTLS, (long)sizeof *c);
    if (base == NULL) {
        c->own_base = event_base_new();
        if (c->own_base == NULL) {
            evtls__mem_note(EVTLS_MEM_EVTLS, -(long)sizeof *c);
            free(c);
            return NULL;
        }
        base = c->own_base;
    }
    c->base = base;
    c->cfg = evtls_cfg_ref(cfg);
    c->v = evtls__cfg_values(cfg);
    c->id = atomic_fetch_add(&next_id, 1);
    c->fd = -1;
    c->write_limit = DEFAULT_WRITE_LIMIT;
    set_state(c, EVTLS_STATE_IDLE);
    event_assign(&c->io_ev, base, -1, 0, on_io, c);
    event_assign(&c->phase_timer, base, -1, 0, on_phase_timeout, c);
    event_assign(&c->deadline_timer, base, -1, 0, on_deadline, c);
    event_assign(&c->defer_ev, base, -1, 0, on_defer, c);
    event_assign(&c->retry_timer, base, -1, 0, retry_tick, c);
    event_assign(&c->yield_ev, base, -1, 0, on_yield, c);
    evtls__err_clear(&c->err);
    return c;
}

int evtls_conn_set_session_cache(evtls_conn *c, evtls_session_cache *sc)
{
    if (c == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (c->state != EVTLS_STATE_IDLE)
        return EVTLS_ERR_STATE;
    evtls_session_cache_free(c->sessions);
    c->sessions = sc ? evtls_session_cache_ref(sc) : NULL;
    return 0;
}

int evtls_conn_set_session_offer(evtls_conn *c, int on)
{
    if (c == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (c->state != EVTLS_STATE_IDLE)
        return EVTLS_ERR_STATE;
    c->no_offer = !on;
    return 0;
}

void evtls_conn_set_userdata(evtls_conn *c, void *p)
{
    if (c)
        c->userdata = p;
}

void *evtls_conn_get_userdata(const evtls_conn *c)
{
    return c ? c->userdata : NULL;
}

const int evtls__owner_gone = 1;

void evtls__conn_set_owner(evtls_conn *c, void *owner, evtls__conn_owner_cb on_let_go)
{
    c->owner = owner;
    c->on_let_go = owner ? on_let_go : NULL;
}

void *evtls__conn_owner(const evtls_conn *c)
{
    return c ? c->owner : NULL;
}

/* The holder is done with a pooled connection: its pool hears of it. */
static void let_go(evtls_conn *c)
{
    evtls__conn_owner_cb cb = c->on_let_go;
    void *owner = c->owner;
    if (cb == NULL || owner == NULL || owner == EVTLS__OWNER_GONE)
        return;
    c->owner = NULL;
    c->on_let_go = NULL;
    cb(c, owner);
}

void evtls__conn_kill(evtls_conn *c, int code, const char *detail)
{
    if (c->state != EVTLS_STATE_CONNECTED)
        return;
    evtls__err_set(&c->err, code, "%s", detail);
    LOGD("conn#%lu: failed in place: %s", c->id, detail);
    teardown(c, 1);
    set_state(c, EVTLS_STATE_FAILED);
    if (c->read_cb && c->reading) {
        c->pending_error = 1; /* fail() from the loop tells the reader */
        event_active(&c->defer_ev, 0, 0);
    }
}

struct event_base *evtls_conn_get_base(const evtls_conn *c)
{
    return c ? c->base : NULL;
}

int evtls_conn_check_alive(evtls_conn *c)
{
    /* Inside one of c's own callbacks too (the next checkout is often made
     * from an exchange's done callback): the read below is not nested in
     * another TLS call, since the callback runs between them. */
    if (c == NULL || c->state != EVTLS_STATE_CONNECTED || c->reading)
        return 0;
    /* One non-blocking TLS read: WANT_READ means nothing came but what
     * TLS itself consumes (a late session ticket); anything else (data,
     * close_notify, EOF, an error) means the connection is not reusable. */
    uint8_t b[1];
    size_t n = 0;
    evtls__tls_status st = evtls__tls_read(c->tls, b, sizeof b, &n, &c->err);
    harvest_session(c);
    if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE)
        return 1;
    LOGD("conn#%lu: idle connection is %s", c->id,
         st == EVTLS__TLS_DONE  ? "receiving unexpected data"
         : st == EVTLS__TLS_EOF ? "closed by the peer"
                                : "broken");
    return 0;
}

void evtls_conn_set_retry_cb(evtls_conn *c, evtls_retry_cb cb, void *arg)
{
    if (c) {
        c->retry_cb = cb;
        c->retry_arg = arg;
    }
}

int evtls_conn_set_resolver(evtls_conn *c, evtls_resolver *r)
{
    if (c == NULL || r == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (c->state != EVTLS_STATE_IDLE)
        return EVTLS_ERR_STATE;
    evtls_resolver_free(c->resolver);
    c->resolver = evtls__resolver_ref(r);
    return 0;
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
static int start(evtls_conn *c, const char *host, uint16_t port)
{
    if (c->state != EVTLS_STATE_IDLE)
        return EVTLS_ERR_STATE;
    if (host == NULL || port == 0 || !host_ok(host))
        return evtls__err_set(&c->err, EVTLS_ERR_INVALID_ARG, "bad host or port");
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
    evtls__addr name_addr;
    c->host_is_ip = numeric;
    c->name_is_ip = evtls__addr_parse_numeric(c->name, 0, &name_addr) == 1;
    c->info.port = c->port = port;
    if (c->sessions) {
        /* The origin: what a session was negotiated for, and under which
         * trust (a session made without verification must not let a
         * verifying configuration skip its checks). */
        char key[640];
        snprintf(key, sizeof key, "%s|%s|%u|%s|%d-%d|%016llx", c->name, c->info.host, port,
                 c->v->alpn ? c->v->alpn : "", c->v->tls_min, c->v->tls_max,
                 (unsigned long long)evtls__cfg_trust_tag(c->v));
        free(c->session_key);
        c->session_key = strdup(key);
    }
    clock_gettime(CLOCK_MONOTONIC, &c->t_start);
    c->t_mark = c->t_start;
    evtls__err_clear(&c->err);
    c->info.connect_attempt = 1;
    arm_timer(&c->deadline_timer, c->v->timeouts_ms[EVTLS_TIMEOUT_TOTAL]);
    int rc = start_attempt(c);
    if (rc != 0) {
        teardown(c, 0);
        set_state(c, EVTLS_STATE_IDLE);
    }
    return rc;
}

int evtls_conn_connect(evtls_conn *c, const char *host, uint16_t port, evtls_connect_cb cb,
                       void *arg)
{
    if (c == NULL || cb == NULL)
        return EVTLS_ERR_INVALID_ARG;
    int rc = start(c, host, port);
    if (rc == 0) {
        c->connect_cb = cb;
        c->connect_arg = arg;
    }
    return rc;
}

/* Fills want from what the connection waits on now. */
/* What a connection on its own base waits on: every fd with its direction
 * (from the private base's events: the connection's socket, the racing
 * attempts' sockets, the resolver's) and the time to the next timer. */
struct poll_scan {
    evtls_poll_fd *fds;
    int max, n;
    struct timeval now;
    long timeout_ms; /* -1: no timer */
};

static int scan_event(const struct event_base *base, const struct event *ev, void *arg)
{
    (void)base;
    struct poll_scan *k = arg;
    struct timeval at;
    if (event_pending(ev, EV_TIMEOUT, &at)) {
        long ms = 0;
        if (evutil_timercmp(&at, &k->now, >)) {
            struct timeval d;
            evutil_timersub(&at, &k->now, &d);
            ms = (long)d.tv_sec * 1000 + ((long)d.tv_usec + 999) / 1000; /* never early */
        }
        if (k->timeout_ms < 0 || ms < k->timeout_ms)
            k->timeout_ms = ms;
    }
    evutil_socket_t fd = event_get_fd(ev);
    short io = event_pending(ev, EV_READ | EV_WRITE, NULL);
    if (fd < 0 || !io)
        return 0;
    int events = ((io & EV_READ) ? EVTLS_WANT_READ : 0) | ((io & EV_WRITE) ? EVTLS_WANT_WRITE : 0);
    for (int i = 0; i < k->n && i < k->max; i++)
        if (k->fds[i].fd == fd) {
            k->fds[i].events |= events;
            return 0;
        }
    if (k->n < k->max)
        k->fds[k->n] = (evtls_poll_fd){(int)fd, events};
    k->n++;
    return 0;
}

int evtls_conn_poll_fds(const evtls_conn *c, evtls_poll_fd *fds, int max, int *timeout_ms)
{
    if (c == NULL || c->own_base == NULL || (fds == NULL && max > 0) || max < 0)
        return -1;
    struct poll_scan k = {fds, max, 0, {0, 0}, -1};
    event_base_gettimeofday_cached(c->own_base, &k.now);
    event_base_foreach_event(c->own_base, scan_event, &k);
    if (timeout_ms)
        *timeout_ms = (int)(k.timeout_ms > INT32_MAX ? INT32_MAX : k.timeout_ms);
    return k.n;
}

/* The single-fd answer of evtls_conn_connect_poll/recv/send: the fd the
 * connection waits on (the socket with wait, else the first fd its own
 * base watches), and the time to its next timer. No fixed wake-ups: an
 * application sleeps until a socket is ready or a deadline is due. */
static void fill_want(const evtls_conn *c, evtls_want *want, short wait)
{
    if (want == NULL)
        return;
    evtls_poll_fd first = {-1, 0};
    int timeout_ms = -1;
    if (c->own_base)
        evtls_conn_poll_fds(c, &first, 1, &timeout_ms);
    if (wait && c->fd >= 0) {
        first.fd = c->fd;
        first.events =
            ((wait & EV_READ) ? EVTLS_WANT_READ : 0) | ((wait & EV_WRITE) ? EVTLS_WANT_WRITE : 0);
    }
    want->fd = first.fd;
    want->events = first.fd >= 0 ? first.events : 0;
    want->timeout_ms = timeout_ms;
}

int evtls_conn_connect_poll(evtls_conn *c, const char *host, uint16_t port, evtls_want *want)
{
    if (c == NULL)
        return -1;
    if (c->state == EVTLS_STATE_IDLE) {
        if (start(c, host, port) != 0) {
            set_state(c, EVTLS_STATE_FAILED);
            return -1;
        }
    }
    /* A private base is ours to run: once, without blocking. A caller's
     * base is run by the caller (libevent 2.1 cannot tell us safely whether
     * it is running now). */
    if (c->own_base && !c->in_cb) {
        c->pumping = 1;
        event_base_loop(c->base, EVLOOP_NONBLOCK);
        c->pumping = 0;
        if (c->dead == 2) {
            c->dead = 1;
            conn_destroy(c);
            return -1;
        }
    }
    switch (c->state) {
    case EVTLS_STATE_CONNECTED: fill_want(c, want, 0); return 1;
    case EVTLS_STATE_RESOLVING:
    case EVTLS_STATE_WAITING: fill_want(c, want, 0); return 0;
    case EVTLS_STATE_CONNECTING: fill_want(c, want, 0); return 0;
    case EVTLS_STATE_HANDSHAKING: fill_want(c, want, c->hs_wait); return 0;
    default: fill_want(c, want, 0); return -1;
    }
}

ssize_t evtls_conn_recv(evtls_conn *c, void *buf, size_t cap, evtls_want *want)
{
    if (c == NULL || buf == NULL || cap == 0)
        return EVTLS_ERR_INVALID_ARG;
    if (c->state != EVTLS_STATE_CONNECTED)
        return c->state == EVTLS_STATE_CLOSED ? EVTLS_EOF : EVTLS_ERR_STATE;
    size_t n = 0;
    evtls__tls_status st = evtls__tls_read(c->tls, buf, cap, &n, &c->err);
    harvest_session(c);
    switch (st) {
    case EVTLS__TLS_DONE: return (ssize_t)n;
    case EVTLS__TLS_WANT_READ:
    case EVTLS__TLS_WANT_WRITE: fill_want(c, want, wait_of(st)); return EVTLS_ERR_WOULDBLOCK;
    case EVTLS__TLS_EOF:
        teardown(c, 0);
        set_state(c, EVTLS_STATE_CLOSED);
        return EVTLS_EOF;
    default:
        teardown(c, 1);
        set_state(c, EVTLS_STATE_FAILED);
        return c->err.code;
    }
}

ssize_t evtls_conn_send(evtls_conn *c, const void *data, size_t len, evtls_want *want)
{
    if (c == NULL || (data == NULL && len > 0))
        return EVTLS_ERR_INVALID_ARG;
    if (c->state != EVTLS_STATE_CONNECTED)
        return EVTLS_ERR_STATE;
    if (len == 0)
        return 0;
    evtls__tls_status st = evtls__tls_write(c->tls, data, len, &c->err);
    switch (st) {
    case EVTLS__TLS_DONE: return (ssize_t)len;
    case EVTLS__TLS_WANT_READ:
    case EVTLS__TLS_WANT_WRITE: fill_want(c, want, wait_of(st)); return EVTLS_ERR_WOULDBLOCK;
    default:
        teardown(c, 1);
        set_state(c, EVTLS_STATE_FAILED);
        return c->err.code;
    }
}

int evtls_conn_read_start(evtls_conn *c, evtls_read_cb cb, void *arg)
{
    if (c == NULL || cb == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (c->state != EVTLS_STATE_CONNECTED)
        return c->state == EVTLS_STATE_FAILED ? c->err.code : EVTLS_ERR_STATE;
    c->read_cb = cb;
    c->read_arg = arg;
    if (!c->reading) {
        c->reading = 1;
        c->read_unwanted = 0;
        io_update(c);
        /* Records may already sit decrypted inside wolfSSL (they came with
         * the handshake's last flight): try a read from the loop. */
        event_active(&c->io_ev, c->rd_wait, 0);
    }
    return 0;
}

int evtls_conn_read_stop(evtls_conn *c)
{
    if (c == NULL)
        return EVTLS_ERR_INVALID_ARG;
    c->reading = 0;
    event_del(&c->yield_ev);
    if (c->state == EVTLS_STATE_CONNECTED)
        io_update(c);
    return 0;
}

int evtls_conn_write(evtls_conn *c, const void *data, size_t len)
{
    if (c == NULL || (data == NULL && len > 0))
        return EVTLS_ERR_INVALID_ARG;
    if (c->state != EVTLS_STATE_CONNECTED)
        return c->state == EVTLS_STATE_FAILED ? c->err.code : EVTLS_ERR_STATE;
    if (len == 0)
        return 0;
    if (c->out == NULL && (c->out = evbuffer_new()) == NULL)
        return EVTLS_ERR_NOMEM;
    size_t queued = evbuffer_get_length(c->out);
    if (queued + len > c->write_limit && queued > 0)
        return EVTLS_ERR_WOULDBLOCK;
    if (evbuffer_add(c->out, data, len) != 0)
        return EVTLS_ERR_NOMEM;
    if (queued > 0)
        return 0; /* already waiting on the socket */
    /* Try at once: most writes go out without a trip through the loop. */
    if (flush_out(c)) {
        c->pending_error = 1; /* reported from the loop, not from this call */
        event_active(&c->defer_ev, 0, 0);
        return 0;
    }
    if (evbuffer_get_length(c->out) == 0) {
        if (c->drain_cb) {
            c->pending_drain = 1;
            event_active(&c->defer_ev, 0, 0);
        }
    } else {
        io_update(c);
    }
    return 0;
}

size_t evtls_conn_write_pending(const evtls_conn *c)
{
    return c && c->out ? evbuffer_get_length(c->out) : 0;
}

int evtls_conn_set_write_limit(evtls_conn *c, size_t limit)
{
    if (c == NULL || limit == 0)
        return EVTLS_ERR_INVALID_ARG;
    c->write_limit = limit;
    return 0;
}

void evtls_conn_set_drain_cb(evtls_conn *c, evtls_drain_cb cb, void *arg)
{
    if (c == NULL)
        return;
    c->drain_cb = cb;
    c->drain_arg = arg;
}

int evtls_conn_shutdown(evtls_conn *c, evtls_close_cb cb, void *arg)
{
    int rc = evtls_conn_close(c, cb, arg);
    if (rc == 0)
        c->close_wait_peer = 1;
    return rc;
}

int evtls_conn_close(evtls_conn *c, evtls_close_cb cb, void *arg)
{
    if (c == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (c->state == EVTLS_STATE_CLOSING || c->dead || c->close_cb || c->pending_close_done)
        return EVTLS_ERR_STATE;
    c->connect_cb = NULL;
    c->read_cb = NULL;
    c->reading = 0;
    c->drain_cb = NULL;
    c->pending_drain = 0;
    c->pending_error = 0;
    c->close_cb = cb;
    c->close_arg = arg;
    c->close_err = 0;
    let_go(c);
    if (c->state == EVTLS_STATE_CONNECTED) {
        set_state(c, EVTLS_STATE_CLOSING);
        arm_timer(&c->phase_timer, c->v->timeouts_ms[EVTLS_TIMEOUT_CLOSE]);
        /* Start from the loop (on writable): the close callback must not
         * run inside this call. */
        c->hs_wait = EV_WRITE;
        io_update(c);
        return 0;
    }
    teardown(c, 0);
    if (c->state != EVTLS_STATE_FAILED)
        set_state(c, EVTLS_STATE_CLOSED);
    c->pending_close_done = 1;
    event_active(&c->defer_ev, 0, 0);
    return 0;
}

static void free_now(evtls_conn *c, int rst)
{
    let_go(c);
    c->connect_cb = NULL;
    c->read_cb = NULL;
    c->drain_cb = NULL;
    c->close_cb = NULL;
    c->reading = 0;
    teardown(c, rst);
    c->dead = 1;
    if (c->in_cb == 0)
        conn_destroy(c);
}

void evtls_conn_abort(evtls_conn *c)
{
    if (c)
        free_now(c, 1);
}

void evtls_conn_free(evtls_conn *c)
{
    if (c == NULL)
        return;
    if (c->state == EVTLS_STATE_CONNECTED && c->tls) {
        evtls_last_error ignored;
        evtls__tls_shutdown(c->tls, &ignored); /* best effort, never waits */
    }
    free_now(c, 0);
}

evtls_conn_state evtls_conn_get_state(const evtls_conn *c)
{
    return c ? c->state : EVTLS_STATE_FAILED;
}

const char *evtls_conn_state_name(evtls_conn_state s)
{
    switch (s) {
    case EVTLS_STATE_IDLE: return "IDLE";
    case EVTLS_STATE_RESOLVING: return "RESOLVING";
    case EVTLS_STATE_CONNECTING: return "CONNECTING";
    case EVTLS_STATE_HANDSHAKING: return "HANDSHAKING";
    case EVTLS_STATE_CONNECTED: return "CONNECTED";
    case EVTLS_STATE_CLOSING: return "CLOSING";
    case EVTLS_STATE_CLOSED: return "CLOSED";
    case EVTLS_STATE_FAILED: return "FAILED";
    case EVTLS_STATE_WAITING: return "WAITING";
    default: return "UNKNOWN";
    }
}

int evtls_conn_fd(const evtls_conn *c)
{
    return c ? c->fd : -1;
}

const evtls_last_error *evtls_conn_last_error(const evtls_conn *c)
{
    return c ? &c->err : NULL;
}

const evtls_conn_info *evtls_conn_get_info(const evtls_conn *c)
{
    if (c == NULL)
        return NULL;
    if (c->tls) { /* the byte counters are live; the rest is set at each phase */
        evtls_conn *m = (evtls_conn *)c;
        evtls__tls_bytes(m->tls, &m->info.bytes_in, &m->info.bytes_out);
    }
    return &c->info;
}
