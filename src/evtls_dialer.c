/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_dialer.c - non-blocking TCP connects, staggered and raced.
 *
 * RFC 8305 section 5: start the first attempt, then start the next one
 * after the Connection Attempt Delay, or at once when an attempt fails; the
 * first connect to complete wins and the others are closed.
 *
 * A racing attempt (one started while another still connects) needs a
 * place under the race limit, counted per destination in the history
 * entry (and under the owner's gate); without one it waits for the next
 * delay or for the attempt in flight to fail. The history hears who won,
 * after how long, and which address failed. */
#include <event2/event.h>
#include <event2/event_struct.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evtls_dialer.h"
#include "evtls_time.h"
#include "evtls_error_int.h"
#include "evtls_log_int.h"

struct attempt {
    int fd; /* -1 when finished */
    struct event ev;
    struct evtls__dialer *d; /* owner, so the event callback needs no search */
    size_t idx;              /* index in d->addrs */
    uint64_t start_us;
    evtls_attempt_outcome outcome;
    int racing; /* holds a place under the race limit */
    int err, sys_errno;
    uint32_t duration_us;
};

struct evtls__dialer {
    struct event_base *base;
    struct evtls__dial_opts opts;
    evtls__dial_cb cb;
    void *arg;
    struct event next_timer; /* starts the next attempt */
    struct event kick;       /* deferred start or finish */
    size_t n, started, in_flight;
    unsigned racing_own; /* racing attempts, when no history entry counts them */
    unsigned races_held;
    evtls_order_reason order_reason;
    int more;
    int last_err, last_errno;
    uint64_t t0_us;
    evtls__addr addrs[EVTLS__DIAL_MAX];
    struct attempt *att[EVTLS__DIAL_MAX]; /* one per started address */
};

/* Takes a place under the race limit (and the owner's gate). */
static int race_take(evtls__dialer *d)
{
    unsigned *racing = d->opts.dest ? &d->opts.dest->racing : &d->racing_own;
    if (*racing >= d->opts.race_limit)
        return 0;
    if (d->opts.race_gate && !d->opts.race_gate(d->opts.race_arg, 1))
        return 0;
    (*racing)++;
    return 1;
}

static void race_give(evtls__dialer *d)
{
    unsigned *racing = d->opts.dest ? &d->opts.dest->racing : &d->racing_own;
    if (*racing)
        (*racing)--;
    if (d->opts.race_gate)
        d->opts.race_gate(d->opts.race_arg, -1);
}

static void attempt_release(struct attempt *a)
{
    if (a->racing) {
        a->racing = 0;
        race_give(a->d);
    }
}

static void attempt_close(struct attempt *a)
{
    if (a->fd >= 0) {
        event_del(&a->ev);
        close(a->fd);
        a->fd = -1;
    }
    attempt_release(a);
}

static void dialer_free(evtls__dialer *d)
{
    uint64_t now = evtls__now_us();
    for (size_t i = 0; i < d->started; i++) {
        struct attempt *a = d->att[i];
        /* Cancelled (the connect timer, the owner) while unanswered for
         * longer than the longest attempt delay: remembered as failed. */
        if (a->fd >= 0 && now - a->start_us >= EVTLS__DELAY_MAX_MS * 1000u)
            evtls__history_failed(d->opts.dest, &d->addrs[a->idx], now);
        attempt_close(a);
        free(a);
    }
    event_del(&d->next_timer);
    event_del(&d->kick);
    free(d);
}

void evtls__dial_cancel(evtls__dialer *d)
{
    if (d)
        dialer_free(d);
}

void evtls__dial_get_report(const evtls__dialer *d, struct evtls__dial_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->attempts = (unsigned)d->started;
    rep->candidates = (unsigned)d->n;
    rep->races_held = d->races_held;
    rep->order_reason = d->order_reason;
    rep->attempt_delay_ms = d->opts.attempt_delay_ms;
    uint64_t now = evtls__now_us();
    for (size_t i = 0; i < d->started && i < EVTLS_ATTEMPT_INFO_MAX; i++) {
        const struct attempt *a = d->att[i];
        evtls_attempt_info *o = &rep->info[rep->n_info++];
        evtls__addr_str(&d->addrs[a->idx], o->addr, sizeof o->addr);
        o->family = evtls__addr_family(&d->addrs[a->idx]);
        o->start_us = (uint32_t)(a->start_us - d->t0_us);
        if (a->fd >= 0) {
            o->outcome = EVTLS_ATTEMPT_ABORTED;
            o->duration_us = (uint32_t)(now - a->start_us);
        } else {
            o->outcome = a->outcome;
            o->err = a->err;
            o->sys_errno = a->sys_errno;
            o->duration_us = a->duration_us;
        }
    }
}

static void finish(evtls__dialer *d, int fd, int err, int sys_errno)
{
    struct evtls__dial_report rep;
    uint64_t now = evtls__now_us();
    /* Attempts still connecting lost the race. */
    for (size_t i = 0; i < d->started; i++) {
        struct attempt *a = d->att[i];
        if (a->fd >= 0) {
            a->outcome = EVTLS_ATTEMPT_LOST;
            a->duration_us = (uint32_t)(now - a->start_us);
            attempt_close(a);
        }
    }
    evtls__dial_get_report(d, &rep);
    evtls__dial_cb cb = d->cb;
    void *arg = d->arg;
    dialer_free(d);
    cb(fd, err, sys_errno, &rep, arg);
}

static void set_sockopts(int fd, const struct evtls__dial_opts *o)
{
    int one = 1;
    /* TLS records are written whole; Nagle would only delay handshakes. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (o->ka_idle > 0) {
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &o->ka_idle, sizeof o->ka_idle);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &o->ka_interval, sizeof o->ka_interval);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &o->ka_count, sizeof o->ka_count);
    }
    if (o->sndbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof o->sndbuf);
    if (o->rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof o->rcvbuf);
}

/* Binds fd to the configured source address of its family, if any.
 * Returns 0 or an errno. */
static int bind_source(int fd, int af, const struct evtls__dial_opts *o)
{
    const struct evtls__source *src = af == AF_INET6 ? o->src6 : o->src4;
    if (src == NULL)
        return 0;
#ifdef IP_BIND_ADDRESS_NO_PORT
    /* Let connect() pick the port for the whole 4-tuple, not bind() for
     * the address alone: otherwise every source address is limited to one
     * ephemeral port range across all destinations. */
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
    return bind(fd, (const struct sockaddr *)&src->ss, src->len) == 0 ? 0 : errno;
}

static void start_next(evtls__dialer *d);

/* Ends the dial with a failure if nothing is left to try or wait for. */
static void maybe_give_up(evtls__dialer *d)
{
    if (d->in_flight == 0 && d->started == d->n && !d->more)
        finish(d, -1, d->last_err, d->last_errno);
}

/* An attempt failed with sys_errno; err is its evtls code (0: the code
 * of sys_errno). */
static void attempt_failed(evtls__dialer *d, struct attempt *a, int sys_errno, int err)
{
    char buf[48];
    attempt_close(a);
    d->in_flight--;
    a->outcome = EVTLS_ATTEMPT_FAILED;
    a->sys_errno = d->last_errno = sys_errno;
    a->err = d->last_err = err ? err : evtls__err_from_errno(sys_errno);
    a->duration_us = (uint32_t)(evtls__now_us() - a->start_us);
    evtls__history_failed(d->opts.dest, &d->addrs[a->idx], evtls__now_us());
    LOGD("dial: attempt to %s failed: %s", evtls__addr_str(&d->addrs[a->idx], buf, sizeof buf),
         strerror(sys_errno));
    if (d->started < d->n) {
        /* RFC 8305 section 5: a failure starts the next attempt at once. */
        event_del(&d->next_timer);
        start_next(d);
        return;
    }
    maybe_give_up(d);
}

static void attempt_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct attempt *a = arg;
    evtls__dialer *d = a->d;
    int so_error = 0;
    socklen_t len = sizeof so_error;
    /* The connect finished: SO_ERROR says how (0 is success). */
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
        so_error = errno;
    if (so_error != 0) {
        attempt_failed(d, a, so_error, 0);
        return;
    }
    event_del(&a->ev);
    a->fd = -1; /* handed over: not closed by dialer_free */
    attempt_release(a);
    a->outcome = EVTLS_ATTEMPT_WON;
    a->duration_us = (uint32_t)(evtls__now_us() - a->start_us);
    if (d->opts.history)
        evtls__history_won(d->opts.history, d->opts.dest, &d->addrs[a->idx], a->duration_us,
                           evtls__now_us());
    d->in_flight--;
    finish(d, (int)fd, 0, 0);
}

static void start_next(evtls__dialer *d)
{
    if (d->started >= d->n)
        return;
    int racing = 0;
    if (d->in_flight > 0) {
        /* A race: only with a place under the limit; else the next delay
         * (or the failure of what is in flight) tries again. */
        if (!race_take(d)) {
            d->races_held++;
            LOGD("dial: race limit reached, attempt %zu waits", d->started + 1);
            struct timeval tv = evtls__tv_ms(d->opts.attempt_delay_ms);
            event_add(&d->next_timer, &tv);
            return;
        }
        racing = 1;
    }
    size_t i = d->started;
    struct attempt *a = calloc(1, sizeof *a);
    if (a == NULL) {
        if (racing)
            race_give(d);
        d->last_err = EVTLS_ERR_NOMEM;
        d->n = d->started; /* nothing more can be tried */
        d->more = 0;
        maybe_give_up(d);
        return;
    }
    d->att[d->started++] = a;
    a->d = d;
    a->racing = racing;
    a->idx = i;
    a->start_us = evtls__now_us();
    if (i == 0)
        d->t0_us = a->start_us;
    const evtls__addr *addr = &d->addrs[i];
    char buf[48];
    int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err = 0, code = 0;
    if (fd < 0) {
        err = errno;
    } else {
        set_sockopts(fd, &d->opts);
        if (d->opts.interface && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, d->opts.interface,
                                            (socklen_t)strlen(d->opts.interface)) != 0) {
            err = errno;
            code = EVTLS_ERR_INTERFACE;
        }
        if (err == 0)
            err = bind_source(fd, addr->ss.ss_family, &d->opts);
        if (err == 0 && connect(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 &&
            errno != EINPROGRESS)
            err = errno;
    }
    LOGD("dial: attempt %zu to %s port %u", i + 1, evtls__addr_str(addr, buf, sizeof buf),
         ntohs(((const struct sockaddr_in *)&addr->ss)->sin_port));
    d->in_flight++;
    a->fd = fd;
    if (err) {
        attempt_failed(d, a, err, code); /* closes fd, goes on or finishes */
        return;
    }
    event_assign(&a->ev, d->base, fd, EV_WRITE, attempt_ready, a);
    event_add(&a->ev, NULL);
    /* The delay runs even when nothing is queued yet: an address that
     * arrives before it ends waits for it. */
    struct timeval tv = evtls__tv_ms(d->opts.attempt_delay_ms);
    event_add(&d->next_timer, &tv);
}

static void next_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    start_next(arg);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls__dialer *d = arg;
    /* Start now if nothing is connecting (a failure starts the next at
     * once) or if the attempt delay already ran out with nothing queued. */
    if (d->started < d->n &&
        (d->in_flight == 0 || !event_pending(&d->next_timer, EV_TIMEOUT, NULL))) {
        event_del(&d->next_timer);
        start_next(d);
        return;
    }
    maybe_give_up(d);
}

evtls__dialer *evtls__dial_new(struct event_base *base, const struct evtls__dial_opts *opts,
                               evtls__dial_cb cb, void *arg)
{
    evtls__dialer *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->base = base;
    d->opts = *opts;
    d->cb = cb;
    d->arg = arg;
    d->more = 1;
    d->last_err = EVTLS_ERR_SOCKET;
    event_assign(&d->next_timer, base, -1, 0, next_timer_cb, d);
    event_assign(&d->kick, base, -1, 0, kick_cb, d);
    return d;
}

void evtls__dial_set_reason(evtls__dialer *d, evtls_order_reason order_reason)
{
    d->order_reason = order_reason;
}

static int same_addr(const evtls__addr *a, const evtls__addr *b)
{
    return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

int evtls__dial_update(evtls__dialer *d, const evtls__addr *addrs, size_t n, int more)
{
    size_t k = d->started;
    for (size_t i = 0; i < n && k < EVTLS__DIAL_MAX; i++) {
        int seen = 0;
        for (size_t j = 0; j < k && !seen; j++)
            seen = same_addr(&d->addrs[j], &addrs[i]);
        if (!seen)
            d->addrs[k++] = addrs[i];
    }
    d->n = k;
    d->more = more;
    /* Starting (or giving up) happens from the loop, never inside this
     * call, so the callback cannot run inside the caller. */
    event_active(&d->kick, EV_TIMEOUT, 0);
    return 0;
}
