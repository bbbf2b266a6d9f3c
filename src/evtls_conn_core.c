/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn_core.c - the connection's state machine core: the table of
 * states and the moves between them with its one writer, the socket
 * events that follow from a state, callbacks into the application (the
 * object survives a free from inside one), teardown and destruction.
 * The phase files (connect, stream, close) are built on these. */
#include <event2/buffer.h>
#include <event2/event.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evtls_conn_core.h"
#include "evtls_error_int.h"
#include "evtls_log_int.h"
#include "evtls_mem_int.h"
#include "evtls_session_int.h"
#include "evtls_time.h"

/* Returns the time since the last mark and sets a new mark. */
uint64_t evtls__conn_lap_us(evtls_conn *c)
{
    uint64_t now = evtls__now_us();
    uint64_t us = now - c->t_mark_us;
    c->t_mark_us = now;
    return us;
}

void evtls__conn_arm_timer(struct event *ev, unsigned ms)
{
    if (ms == 0) {
        event_del(ev);
        return;
    }
    struct timeval tv = evtls__tv_ms(ms);
    event_add(ev, &tv);
}

/* Runs the connection's deferred work (on_defer) from the loop. */
void evtls__conn_defer(evtls_conn *c)
{
    event_active(&c->defer_ev, 0, 0);
}

void evtls__conn_record_attempts(evtls_conn *c, const struct evtls__dial_report *rep)
{
    c->info.order_reason = rep->order_reason;
    c->info.attempt_delay_ms = rep->attempt_delay_ms;
    c->info.races_held = rep->races_held;
    c->info.attempts = rep->attempts;
    c->info.candidates = rep->candidates;
    c->info.n_attempt_info = rep->n_info;
    memcpy(c->info.attempt, rep->info, sizeof rep->info);
}

/* Re-arms io_ev with the events the current state waits on. */
void evtls__conn_io_update(evtls_conn *c)
{
    short want = 0;
    if (c->fd >= 0) {
        if (c->state == EVTLS_STATE_HANDSHAKING || c->state == EVTLS_STATE_PROXYING)
            want = c->hs_wait;
        if (c->state == EVTLS_STATE_CLOSING)
            want = c->close_wait;
        if (c->state == EVTLS_STATE_CONNECTED && evtls__conn_reading(c))
            want |= c->rd_wait;
        /* READ_OFF keeps EV_READ as it was; READ_UNWANTED drops it. */
        else if (c->state == EVTLS_STATE_CONNECTED && (c->io_armed & EV_READ) &&
                 c->read_mode == READ_OFF)
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
        /* The callback stays the one evtls_conn_new assigned. */
        event_assign(&c->io_ev, c->base, c->fd, (short)(want | EV_PERSIST),
                     event_get_callback(&c->io_ev), c);
        event_add(&c->io_ev, NULL);
    }
}

/* Reading's modes (read_mode): entering one applies its timer. */
void evtls__conn_set_read(evtls_conn *c, enum evtls__read_mode to)
{
    enum evtls__read_mode from = c->read_mode;
    c->read_mode = to;
    if (to == READ_YIELD) {
        static const struct timeval next_pass = {0, 0};
        evtimer_add(&c->yield_ev, &next_pass);
    } else if (to == READ_PEEK) {
        static const struct timeval peek = {0, EVTLS__LOWAT_PEEK_MS * 1000};
        evtimer_add(&c->yield_ev, &peek);
    } else if (from == READ_YIELD || from == READ_PEEK) {
        event_del(&c->yield_ev);
    }
    if (c->state == EVTLS_STATE_CONNECTED)
        evtls__conn_io_update(c);
}

/* The object's life (life): entering a stage runs what it owes. */
void evtls__conn_set_life(evtls_conn *c, enum evtls__life to)
{
    c->life = to;
    if (to == LIFE_CLOSE_DUE)
        evtls__conn_defer(c); /* the close callback, from the loop */
    else if (to == LIFE_FREED && c->in_cb == 0)
        evtls__conn_destroy(c);
}

/* WAITING's timer: a countdown ticks each second, the retry policy's wait
 * is one timer, and no wait runs the retry from the loop at once. */
void evtls__conn_arm_wait(evtls_conn *c)
{
    if (c->retry_left_s > 0)
        evtls__conn_arm_timer(&c->retry_timer, 1000);
    else if (c->retry_wait_ms > 0)
        evtls__conn_arm_timer(&c->retry_timer, c->retry_wait_ms);
    else
        event_active(&c->retry_timer, EV_TIMEOUT, 0);
}

static void enter_connected(evtls_conn *c)
{
    c->hs_wait = 0;
    c->rd_wait = EV_READ;
    c->wr_wait = EV_WRITE;
    evtls__conn_io_update(c);
}

static void enter_proxying(evtls_conn *c)
{
    c->proxy_phase = PROXY_SEND; /* the CONNECT request goes out first */
}

static void enter_closing(evtls_conn *c)
{
    /* Start from the loop, on writable: the close callback must not run
     * inside the API call that closed. */
    c->close_phase = CLOSE_FLUSH;
    c->close_wait = EV_WRITE;
    evtls__conn_io_update(c);
}

/* The connection's states, each with the moves out of it and what
 * entering it does: set_state is the only writer of c->state, logs every
 * move at debug level, and applies the new state's entry actions here,
 * once: its phase timeout armed (or the phase timer stopped), the total
 * connect deadline armed on entering the connect phase from outside it
 * and stopped on leaving it, the retry wait's timer stopped on leaving
 * WAITING, and the state's own entry function (its timer, the events it
 * watches). A move the table does not have is a bug: it aborts a debug
 * build; a release build fails the connection with EVTLS_ERR_INTERNAL
 * instead of making it. */
#define S(x)     (1u << EVTLS_STATE_##x)
#define NO_PHASE -1 /* the state has no phase timeout: the phase timer stops */
static const struct state_desc {
    uint16_t next;               /* the states it may move to */
    int phase_timeout;           /* the EVTLS_TIMEOUT_* armed on entry, or NO_PHASE */
    uint8_t connecting;          /* part of the connect: EVTLS_TIMEOUT_TOTAL runs */
    void (*entry)(evtls_conn *); /* the rest of what entering it does, or NULL */
} states[] = {
    [EVTLS_STATE_IDLE] = {S(RESOLVING) | S(CONNECTING) | S(FAILED) | S(CLOSED), NO_PHASE, 0, NULL},
    /* back to IDLE: a start that failed inside evtls_conn_connect */
    [EVTLS_STATE_RESOLVING] = {S(CONNECTING) | S(WAITING) | S(FAILED) | S(CLOSED) | S(IDLE),
                               EVTLS_TIMEOUT_DNS, 1, NULL},
    /* CONNECTING -> CONNECTED: plain TCP; -> PROXYING: through a proxy */
    [EVTLS_STATE_CONNECTING] = {S(HANDSHAKING) | S(PROXYING) | S(CONNECTED) | S(WAITING) |
                                    S(FAILED) | S(CLOSED) | S(IDLE),
                                EVTLS_TIMEOUT_CONNECT, 1, NULL},
    [EVTLS_STATE_PROXYING] = {S(HANDSHAKING) | S(CONNECTED) | S(WAITING) | S(FAILED) | S(CLOSED),
                              EVTLS_TIMEOUT_HANDSHAKE, 1, enter_proxying},
    [EVTLS_STATE_HANDSHAKING] = {S(CONNECTED) | S(WAITING) | S(FAILED) | S(CLOSED),
                                 EVTLS_TIMEOUT_HANDSHAKE, 1, NULL},
    [EVTLS_STATE_CONNECTED] = {S(CLOSING) | S(CLOSED) | S(FAILED), NO_PHASE, 0, enter_connected},
    [EVTLS_STATE_CLOSING] = {S(CLOSED), EVTLS_TIMEOUT_CLOSE, 0, enter_closing},
    [EVTLS_STATE_CLOSED] = {0, NO_PHASE, 0, NULL},
    [EVTLS_STATE_FAILED] = {0, NO_PHASE, 0, NULL},
    /* its wait is the retry policy's (retry_left_s / retry_wait_ms) */
    [EVTLS_STATE_WAITING] = {S(RESOLVING) | S(CONNECTING) | S(FAILED) | S(CLOSED), NO_PHASE, 1,
                             evtls__conn_arm_wait},
};
#undef S

/* Enters to: the state's entry actions. */
static void enter(evtls_conn *c, evtls_conn_state to)
{
    evtls_conn_state from = c->state;
    LOGD("conn#%lu: %s -> %s", c->id, evtls_conn_state_name(from), evtls_conn_state_name(to));
    c->state = to;
    int t = states[to].phase_timeout;
    if (t == NO_PHASE || c->v == NULL)
        event_del(&c->phase_timer);
    else
        evtls__conn_arm_timer(&c->phase_timer, c->v->timeouts_ms[t]);
    if (states[to].connecting && !states[from].connecting && c->v)
        evtls__conn_arm_timer(&c->deadline_timer, c->v->timeouts_ms[EVTLS_TIMEOUT_TOTAL]);
    else if (!states[to].connecting && states[from].connecting)
        event_del(&c->deadline_timer);
    if (from == EVTLS_STATE_WAITING)
        event_del(&c->retry_timer);
    if (states[to].entry)
        states[to].entry(c);
}

int evtls__conn_move_allowed(evtls_conn_state from, evtls_conn_state to)
{
    return (unsigned)from < sizeof states / sizeof states[0] &&
           (unsigned)to < sizeof states / sizeof states[0] && (states[from].next & (1u << to));
}

void evtls__conn_set_state(evtls_conn *c, evtls_conn_state to)
{
    evtls_conn_state from = c->state;
    if (from == to)
        return;
    if (!evtls__conn_move_allowed(from, to)) {
        LOGE("conn#%lu: internal error: no move from %s to %s", c->id, evtls_conn_state_name(from),
             evtls_conn_state_name(to));
#ifndef NDEBUG
        abort(); /* a debug build stops at the bug */
#else
        if (!evtls__conn_move_allowed(from, EVTLS_STATE_FAILED))
            return; /* already ended: nothing to fail */
        evtls__err_set(&c->err, EVTLS_ERR_INTERNAL, "no move from %s to %s",
                       evtls_conn_state_name(from), evtls_conn_state_name(to));
        to = EVTLS_STATE_FAILED;
#endif
    }
    enter(c, to);
}

/* Enters a user callback. */
void evtls__conn_user_enter(evtls_conn *c)
{
    c->in_cb++;
}

/* Leaves a user callback. Returns 1 when c was freed or closed inside it:
 * the caller must then return without touching c. */
int evtls__conn_user_leave(evtls_conn *c)
{
    c->in_cb--;
    if (c->life == LIFE_FREED) {
        if (c->in_cb == 0)
            evtls__conn_destroy(c);
        return 1;
    }
    return 0;
}

/* Releases what one connect try holds: the race, TLS, the socket and the
 * phase timer. */
void evtls__conn_teardown_attempt(evtls_conn *c, int rst)
{
    if (c->he) {
        struct evtls__dial_report rep;
        evtls__he_cancel(c->he, &rep);
        c->he = NULL;
        if (rep.attempts)
            evtls__conn_record_attempts(c, &rep);
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
    free(c->proxy_buf);
    c->proxy_buf = NULL;
}

/* Releases every resource of the connection but the struct itself. */
void evtls__conn_teardown(evtls_conn *c, int rst)
{
    evtls__conn_teardown_attempt(c, rst);
    if (c->read_mode == READ_YIELD || c->read_mode == READ_PEEK)
        evtls__conn_set_read(c, READ_WAIT); /* its timer goes with the socket */
    event_del(&c->retry_timer);
    event_del(&c->deadline_timer);
    if (c->out) {
        evbuffer_free(c->out);
        c->out = NULL;
    }
}

void evtls__conn_destroy(evtls_conn *c)
{
    evtls__conn_teardown(c, 0);
    event_del(&c->defer_ev);
    if (c->proto_free) {
        void (*fn)(void *) = c->proto_free;
        c->proto_free = NULL;
        fn(c->proto);
        c->proto = NULL;
    }
    if (c->pumping) {
        /* connect_poll is inside event_base_loop on own_base: it finishes. */
        c->life = LIFE_ENDED;
        return;
    }
    if (c->own_base) {
        /* Let evdns deliver the cancellation it owes before the base goes. */
        event_base_loop(c->own_base, EVLOOP_NONBLOCK);
    }
    evtls_resolver_unref(c->resolver);
    evtls_session_cache_unref(c->sessions);
    free(c->session_key);
    free(c->early);
    evtls_cfg_unref(c->cfg);
    if (c->own_base)
        event_base_free(c->own_base);
    evtls__mem_note(EVTLS_MEM_EVTLS, -(long)sizeof *c);
    free(c);
}

/* Moves a new resumable session (if any) into the session cache. */
void evtls__conn_harvest_session(evtls_conn *c)
{
    uint8_t *der;
    size_t len;
    int single;
    while (c->sessions && c->tls && evtls__tls_take_session(c->tls, &der, &len, &single)) {
        LOGD("conn#%lu: session stored (%zu bytes, %s)", c->id, len,
             single ? "TLS 1.3 ticket, single use" : "TLS 1.2, reusable");
        evtls__session_put(c->sessions, c->session_key, der, len, single, c->info.alpn);
    }
}

void evtls__conn_set_owner(evtls_conn *c, void *owner, evtls__conn_owner_cb on_let_go)
{
    c->owner = owner;
    c->on_let_go = owner ? on_let_go : NULL;
}

void evtls__conn_set_race_gate(evtls_conn *c, int (*gate)(void *arg, int take), void *arg)
{
    c->race_gate = gate;
    c->race_arg = arg;
}

void evtls__conn_set_proto(evtls_conn *c, void *proto, void (*free_fn)(void *proto))
{
    c->proto = proto;
    c->proto_free = proto ? free_fn : NULL;
}

void *evtls__conn_proto(const evtls_conn *c)
{
    return c ? c->proto : NULL;
}

evtls_conn_info *evtls__conn_info_mut(evtls_conn *c)
{
    return &c->info;
}

const struct evtls__cfg_values *evtls__conn_cfg_values(const evtls_conn *c)
{
    return c->v;
}

void *evtls__conn_owner(const evtls_conn *c)
{
    return c ? c->owner : NULL;
}

/* The holder is done with a pooled connection: its pool hears of it.
 * Returns 1 when the pool keeps c for its other holders (a shared HTTP/2
 * connection): the caller then leaves c alone. */
int evtls__conn_let_go(evtls_conn *c, int closing)
{
    evtls__conn_owner_cb cb = c->on_let_go;
    void *owner = c->owner;
    if (cb == NULL || owner == NULL || owner == EVTLS__OWNER_GONE)
        return 0;
    c->owner = NULL;
    c->on_let_go = NULL;
    if (cb(c, owner, closing)) {
        c->owner = owner;
        c->on_let_go = cb;
        return 1;
    }
    return 0;
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
    case EVTLS_STATE_PROXYING: return "PROXYING";
    default: return "UNKNOWN";
    }
}
