/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn_poll.c - the foreign-loop API (esp_transport_connect_async's
 * shape): a connection made on no base gets a private one, which each
 * call runs once without blocking; the application learns every fd the
 * connection waits on, with its direction, and the next deadline, and
 * sleeps until one is due. */
#include <event2/event.h>

#include <stdint.h>

#include "evtls_conn_connect.h"

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
        if (evtls__conn_start(c, host, port) != 0) {
            evtls__conn_set_state(c, EVTLS_STATE_FAILED);
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
        if (c->life == LIFE_ENDED) {
            evtls__conn_destroy(c);
            return -1;
        }
    }
    switch (c->state) {
    case EVTLS_STATE_CONNECTED: fill_want(c, want, 0); return 1;
    case EVTLS_STATE_RESOLVING:
    case EVTLS_STATE_WAITING: fill_want(c, want, 0); return 0;
    case EVTLS_STATE_CONNECTING: fill_want(c, want, 0); return 0;
    case EVTLS_STATE_HANDSHAKING:
    case EVTLS_STATE_PROXYING: fill_want(c, want, c->hs_wait); return 0;
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
    evtls__conn_harvest_session(c);
    switch (st) {
    case EVTLS__TLS_DONE: return (ssize_t)n;
    case EVTLS__TLS_WANT_READ:
    case EVTLS__TLS_WANT_WRITE:
        fill_want(c, want, evtls__conn_wait_of(st));
        return EVTLS_ERR_WOULDBLOCK;
    case EVTLS__TLS_EOF:
        evtls__conn_teardown(c, 0);
        evtls__conn_set_state(c, EVTLS_STATE_CLOSED);
        return EVTLS_EOF;
    default:
        evtls__conn_teardown(c, 1);
        evtls__conn_set_state(c, EVTLS_STATE_FAILED);
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
    case EVTLS__TLS_WANT_WRITE:
        fill_want(c, want, evtls__conn_wait_of(st));
        return EVTLS_ERR_WOULDBLOCK;
    default:
        evtls__conn_teardown(c, 1);
        evtls__conn_set_state(c, EVTLS_STATE_FAILED);
        return c->err.code;
    }
}
