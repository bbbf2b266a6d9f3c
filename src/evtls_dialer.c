/* evtls_dialer.c - non-blocking TCP connects, staggered and raced.
 *
 * RFC 8305 section 5: start the first attempt, then start the next one
 * after the Connection Attempt Delay, or at once when an attempt fails; the
 * first connect to complete wins and the others are closed. */
#include <event2/event.h>
#include <event2/event_struct.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evtls_dialer.h"
#include "evtls_error_int.h"
#include "evtls_log_int.h"

struct attempt {
    int fd; /* -1 when not started or finished */
    struct event ev;
    struct evtls__dialer *d; /* owner, so the event callback needs no search */
};

struct evtls__dialer {
    struct event_base *base;
    struct evtls__dial_opts opts;
    evtls__dial_cb cb;
    void *arg;
    struct event next_timer; /* starts the next attempt */
    size_t n, started, in_flight;
    int last_err, last_errno;
    evtls__addr *addrs; /* our copy, n entries */
    struct attempt *att;
};

static void attempt_close(struct attempt *a)
{
    if (a->fd >= 0) {
        if (event_initialized(&a->ev))
            event_del(&a->ev);
        close(a->fd);
        a->fd = -1;
    }
}

static void dialer_free(evtls__dialer *d)
{
    for (size_t i = 0; i < d->started; i++)
        attempt_close(&d->att[i]);
    event_del(&d->next_timer);
    free(d->att);
    free(d->addrs);
    free(d);
}

void evtls__dial_cancel(evtls__dialer *d)
{
    if (d)
        dialer_free(d);
}

static void finish(evtls__dialer *d, int fd, int err, int sys_errno, size_t winner)
{
    evtls__dial_cb cb = d->cb;
    void *arg = d->arg;
    unsigned attempts = (unsigned)d->started;
    dialer_free(d);
    cb(fd, err, sys_errno, winner, attempts, arg);
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
}

static void start_next(evtls__dialer *d);

static void attempt_failed(evtls__dialer *d, size_t i, int sys_errno)
{
    char buf[48];
    attempt_close(&d->att[i]);
    d->in_flight--;
    d->last_errno = sys_errno;
    d->last_err = evtls__err_from_errno(sys_errno);
    LOGD("dial: attempt %zu to %s failed: %s", i + 1,
         evtls__addr_str(&d->addrs[i], buf, sizeof buf), strerror(sys_errno));
    if (d->started < d->n) {
        /* RFC 8305 section 5: a failure starts the next attempt at once. */
        event_del(&d->next_timer);
        start_next(d);
    } else if (d->in_flight == 0) {
        finish(d, -1, d->last_err, d->last_errno, 0);
    }
}

static void attempt_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct attempt *at = arg;
    evtls__dialer *d = at->d;
    size_t i = (size_t)(at - d->att);
    int so_error = 0;
    socklen_t len = sizeof so_error;
    /* The connect finished: SO_ERROR says how (0 is success). */
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
        so_error = errno;
    if (so_error != 0) {
        attempt_failed(d, i, so_error);
        return;
    }
    event_del(&d->att[i].ev);
    d->att[i].fd = -1; /* handed over: not closed by dialer_free */
    finish(d, (int)fd, 0, 0, i);
}

static void start_next(evtls__dialer *d)
{
    while (d->started < d->n) {
        size_t i = d->started++;
        const evtls__addr *a = &d->addrs[i];
        struct attempt *at = &d->att[i];
        char buf[48];
        int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int err = 0;
        if (fd < 0) {
            err = errno;
        } else {
            set_sockopts(fd, &d->opts);
            if (connect(fd, (const struct sockaddr *)&a->ss, a->len) != 0 && errno != EINPROGRESS)
                err = errno;
        }
        LOGD("dial: attempt %zu to %s port %u", i + 1, evtls__addr_str(a, buf, sizeof buf),
             ntohs(((const struct sockaddr_in *)&a->ss)->sin_port));
        d->in_flight++;
        at->fd = fd;
        if (err) {
            attempt_failed(d, i, err); /* closes fd */
            return;                    /* attempt_failed went on (or finished) */
        }
        event_assign(&at->ev, d->base, fd, EV_WRITE, attempt_ready, at);
        event_add(&at->ev, NULL);
        if (d->started < d->n) {
            struct timeval tv = {(time_t)(d->opts.attempt_delay_ms / 1000),
                                 (suseconds_t)(d->opts.attempt_delay_ms % 1000) * 1000};
            event_add(&d->next_timer, &tv);
        }
        return;
    }
}

static void next_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    start_next(arg);
}

evtls__dialer *evtls__dial(struct event_base *base, const evtls__addr *addrs, size_t n,
                           const struct evtls__dial_opts *opts, evtls__dial_cb cb, void *arg)
{
    if (n == 0)
        return NULL;
    evtls__dialer *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->addrs = malloc(n * sizeof *addrs);
    d->att = calloc(n, sizeof *d->att);
    if (d->addrs == NULL || d->att == NULL) {
        free(d->addrs);
        free(d->att);
        free(d);
        return NULL;
    }
    memcpy(d->addrs, addrs, n * sizeof *addrs);
    for (size_t i = 0; i < n; i++) {
        d->att[i].fd = -1;
        d->att[i].d = d;
    }
    d->base = base;
    d->opts = *opts;
    d->cb = cb;
    d->arg = arg;
    d->n = n;
    d->last_err = EVTLS_ERR_SOCKET;
    /* The first attempt starts from the loop, so the callback can never
     * run inside evtls__dial(). */
    event_assign(&d->next_timer, base, -1, 0, next_timer_cb, d);
    event_active(&d->next_timer, EV_TIMEOUT, 0);
    return d;
}
