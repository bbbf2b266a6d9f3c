/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn.c - one TLS client connection on an event_base: the object,
 * its settings and getters, and the dispatch of the loop's events to the
 * part of the state machine the current state belongs to (see
 * evtls_conn_core.h for the map of the files):
 *
 *   eyeballs (name -> connected fd: resolver, RFC 6724 sort, dialer)
 *   -> tls (fd -> TLS stream, reporting WANT_READ / WANT_WRITE)
 *
 * The connection owns its socket's event and its timers and defers its
 * own callbacks: none runs inside an API call. */
#include <event2/buffer.h>
#include <event2/event.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtls_conn_close.h"
#include "evtls_conn_connect.h"
#include "evtls_conn_stream.h"
#include "evtls_mem_int.h"
#include "evtls_resolver_int.h"
#include "evtls_session_int.h"
#include "evtls_tlsctx.h"

#define DEFAULT_WRITE_LIMIT (64 * 1024)

static atomic_ulong next_id = 1;

/* The loop's events, dispatched by state: the socket's, the phase timer's
 * and the deferred work's. */

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    evtls_conn *c = arg;
    switch (c->state) {
    case EVTLS_STATE_HANDSHAKING: evtls__conn_handshake_step(c); return;
    case EVTLS_STATE_PROXYING: evtls__conn_proxy_step(c); return;
    case EVTLS_STATE_CONNECTED:
        if ((what & EV_READ) && c->read_mode == READ_OFF)
            evtls__conn_set_read(c, READ_UNWANTED); /* not level-triggered again */
        evtls__conn_user_enter(c);                  /* hold c across both paths */
        if ((what & c->wr_wait) && c->out && evbuffer_get_length(c->out) > 0)
            evtls__conn_do_write(c);
        /* With a burst's rest due on the next pass (yield_ev), that is when
         * reading goes on: not also now, which would make two bursts. */
        if (c->life == LIFE_OPEN && c->state == EVTLS_STATE_CONNECTED && evtls__conn_reading(c) &&
            (what & c->rd_wait) && c->read_mode != READ_YIELD) {
            if (c->read_mode == READ_PEEK) /* the socket came before the peek: it is moot */
                evtls__conn_set_read(c, READ_WAIT);
            if (fd >= 0)
                c->info.read_wakes++; /* not the burst's rest or the peek (fd -1) */
            evtls__conn_do_read(c);
        }
        evtls__conn_user_leave(c);
        return;
    case EVTLS_STATE_CLOSING: evtls__conn_close_step(c); return;
    default: return;
    }
}

static void on_phase_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_conn *c = arg;
    switch (c->state) {
    case EVTLS_STATE_RESOLVING:
    case EVTLS_STATE_CONNECTING:
    case EVTLS_STATE_PROXYING:
    case EVTLS_STATE_HANDSHAKING: evtls__conn_phase_timeout(c); return;
    case EVTLS_STATE_CLOSING: evtls__conn_close_timeout(c); return;
    default: return;
    }
}

/* The rest of a read burst (do_read), on the loop's next pass; or the
 * peek at bytes below the wake-up mark, which finds the flow slow. */
static void on_yield(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    evtls_conn *c = arg;
    if (!evtls__conn_reading(c))
        return;
    /* A peek: the socket stayed quiet for its interval, so the flow slowed. */
    if (c->read_mode == READ_PEEK) {
        c->info.read_peeks++;
        evtls__conn_lowat_off(c);
    }
    evtls__conn_set_read(c, READ_WAIT); /* yield_ev has fired */
    on_io(fd, c->rd_wait, c);           /* fd is -1: not counted as a wake-up */
}

static void on_defer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls_conn *c = arg;
    if (c->life == LIFE_CLOSE_DUE) {
        evtls_close_cb cb = c->close_cb;
        c->close_cb = NULL;
        if (cb) {
            evtls__conn_user_enter(c);
            cb(c, c->close_err, c->close_arg);
            c->in_cb--;
        }
        evtls__conn_set_life(c, LIFE_FREED); /* destroyed now unless a callback still runs */
        return;
    }
    if (c->pending_error) {
        c->pending_error = 0;
        evtls__conn_fail(c, c->err.code);
        return;
    }
    if (c->pending_drain) {
        c->pending_drain = 0;
        if (c->drain_cb && c->out && evbuffer_get_length(c->out) == 0) {
            evtls__conn_user_enter(c);
            c->drain_cb(c, c->drain_arg);
            evtls__conn_user_leave(c);
        }
    }
}

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
    evtls__conn_set_state(c, EVTLS_STATE_IDLE);
    event_assign(&c->io_ev, base, -1, 0, on_io, c);
    event_assign(&c->phase_timer, base, -1, 0, on_phase_timeout, c);
    event_assign(&c->deadline_timer, base, -1, 0, evtls__conn_on_deadline, c);
    event_assign(&c->defer_ev, base, -1, 0, on_defer, c);
    event_assign(&c->retry_timer, base, -1, 0, evtls__conn_on_retry, c);
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
    evtls_session_cache_unref(c->sessions);
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

int evtls_conn_set_early_data(evtls_conn *c, const char *alpn, const void *data, size_t len)
{
    if (c == NULL || (len && data == NULL) || len > EVTLS__EARLY_DATA_MAX ||
        (alpn && strlen(alpn) >= sizeof c->early_alpn))
        return EVTLS_ERR_INVALID_ARG;
    if (c->state != EVTLS_STATE_IDLE)
        return EVTLS_ERR_STATE;
    uint8_t *copy = NULL;
    if (len && (copy = malloc(len)) == NULL)
        return EVTLS_ERR_NOMEM;
    if (len)
        memcpy(copy, data, len);
    free(c->early);
    c->early = copy;
    c->early_len = len;
    c->early_claimed = 0;
    snprintf(c->early_alpn, sizeof c->early_alpn, "%s", alpn ? alpn : "http/1.1");
    return 0;
}

int evtls_conn_set_userdata(evtls_conn *c, void *p)
{
    if (c == NULL)
        return EVTLS_ERR_INVALID_ARG;
    c->userdata = p;
    return 0;
}

void *evtls_conn_get_userdata(const evtls_conn *c)
{
    return c ? c->userdata : NULL;
}

const int evtls__owner_gone = 1;

struct event_base *evtls_conn_get_base(const evtls_conn *c)
{
    return c ? c->base : NULL;
}

int evtls_conn_set_retry_cb(evtls_conn *c, evtls_retry_cb cb, void *arg)
{
    if (c == NULL)
        return EVTLS_ERR_INVALID_ARG;
    c->retry_cb = cb;
    c->retry_arg = arg;
    return 0;
}

int evtls_conn_set_resolver(evtls_conn *c, evtls_resolver *r)
{
    if (c == NULL || r == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (c->state != EVTLS_STATE_IDLE)
        return EVTLS_ERR_STATE;
    evtls_resolver_unref(c->resolver);
    c->resolver = evtls__resolver_ref(r);
    return 0;
}

evtls_conn_state evtls_conn_get_state(const evtls_conn *c)
{
    return c ? c->state : EVTLS_STATE_FAILED;
}

int evtls_conn_get_fd(const evtls_conn *c)
{
    return c ? c->fd : -1;
}

const evtls_last_error *evtls_conn_get_last_error(const evtls_conn *c)
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
