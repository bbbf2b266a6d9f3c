/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn_core.h - the connection object, shared by the files that
 * make it up (internal; the pool's view is evtls_conn_int.h):
 *
 *   evtls_conn_core.c     the state table and its one writer, the events
 *                         that follow from a state, teardown, callbacks
 *   evtls_conn_connect.c  connect phase by phase, and the retry loop
 *   evtls_conn_stream.c   established: reading and writing
 *   evtls_conn_close.c    closing, aborting, freeing
 *   evtls_conn_poll.c     the foreign-loop API (a private base polled)
 *   evtls_conn.c          the object: creation, loop dispatch, settings
 *
 * Data flows one way: the phase files use the core (each has its own
 * header for what the files above it call), the object file
 * dispatches loop events to the phase files, and nothing below calls up
 * except through the callbacks it was given. */
#ifndef EVTLS_CONN_CORE_H
#define EVTLS_CONN_CORE_H

#include <event2/event.h>
#include <event2/event_struct.h>

#include <stdint.h>

#include "evtls/conn.h"
#include "evtls_cfg_int.h"
#include "evtls_conn_int.h"
#include "evtls_error_int.h"
#include "evtls_eyeballs.h"
#include "evtls_tls.h"

#define EVTLS__READ_CHUNK      16384 /* one TLS record's worth of plaintext */
#define EVTLS__READS_PER_EVENT 16    /* fairness: a read burst is at most 16 records, */
#define EVTLS__READ_BURST_US   2000  /* or 2 ms, then the rest waits for the next pass */

/* A reader that knows more is coming (evtls__conn_expect) lets the socket
 * wake it only once this much has arrived (SO_RCVLOWAT), when the flow is
 * fast: the current burst has read at least EVTLS__LOWAT_FAST bytes. Bytes
 * below the mark wait EVTLS__LOWAT_PEEK_MS at most: then the flow counts
 * as slow and every byte wakes the loop again. */
#define EVTLS__LOWAT_MAX     (256u * 1024u)
#define EVTLS__LOWAT_MIN     (32u * 1024u)
#define EVTLS__LOWAT_FAST    (32u * 1024u)
#define EVTLS__LOWAT_PEEK_MS 10
/* Ciphertext of the expected bytes that can already be in user space when
 * the socket is waited on: one partial record in wolfSSL, with margin. */
#define EVTLS__LOWAT_SLACK (32u * 1024u)

struct evtls_conn {
    struct event_base *base;
    struct event_base *own_base; /* private base when created with NULL */
    evtls_cfg *cfg;
    const struct evtls__cfg_values *v;
    evtls_resolver *resolver;
    unsigned long id;
    evtls_conn_state state; /* written by evtls__conn_set_state alone */

    evtls__he *he; /* the name-to-socket race, while it runs */
    evtls__tls *tls;
    int fd;

    struct event io_ev;          /* the socket, armed with what the state needs */
    short io_armed;              /* EV_READ|EV_WRITE io_ev is added with, 0 if none */
    struct event phase_timer;    /* the current phase's timeout */
    struct event deadline_timer; /* EVTLS_TIMEOUT_TOTAL */
    struct event defer_ev;       /* work that must not run inside an API call */
    struct event yield_ev;       /* READ_YIELD's and READ_PEEK's timer (read_mode) */
    struct event retry_timer;    /* the wait between connect attempts */

    /* What each step waits on (0, EV_READ or EV_WRITE): a TLS read may
     * need a write and the reverse. The connect step's (the proxy's answer,
     * then the handshake) and the close's are apart, each read only in its
     * own states (evtls__conn_io_update). */
    short hs_wait, close_wait, rd_wait, wr_wait;

    evtls_connect_cb connect_cb;
    void *connect_arg;
    evtls_read_cb read_cb;
    void *read_arg;
    /* Reading, CONNECTED's sub-state, written by evtls__conn_set_read
     * alone, which applies each mode's timer:
     *   READ_OFF       nobody reads; EV_READ may stay armed between
     *                  requests (an epoll_ctl saved each way)
     *   READ_UNWANTED  nobody reads and the socket turned readable: EV_READ
     *                  is dropped until read_start
     *   READ_WAIT      reading: the socket is waited on (rd_wait)
     *   READ_YIELD     reading: a burst's rest is due on the loop's next
     *                  pass (yield_ev, a zero timer)
     *   READ_PEEK      reading: bytes below the wake-up mark are looked at
     *                  after EVTLS__LOWAT_PEEK_MS (yield_ev), unless the
     *                  socket wakes first */
    enum evtls__read_mode { READ_OFF, READ_UNWANTED, READ_WAIT, READ_YIELD, READ_PEEK } read_mode;
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
    void *proto; /* the protocol session living on it (HTTP/2), freed with it */
    void (*proto_free)(void *proto);
    int (*race_gate)(void *arg, int take); /* the owner's count of racing sockets */
    void *race_arg;
    evtls_session_cache *sessions;
    int no_offer;   /* store the server's sessions, offer none */
    uint8_t *early; /* early data given (evtls_conn_set_early_data), or NULL */
    size_t early_len;
    char early_alpn[16];
    int early_claimed;   /* an exchange has taken it as its request */
    int close_wait_peer; /* evtls_conn_shutdown: wait for the peer's close */
    /* CLOSING's phases: the write buffer goes out, then our close_notify,
     * then (evtls_conn_shutdown) the peer's close */
    enum { CLOSE_FLUSH, CLOSE_NOTIFY, CLOSE_PEER } close_phase;
    char *session_key; /* the origin's key in sessions */

    unsigned retry_left_s;  /* WAITING, countdown: seconds still to wait */
    unsigned retry_wait_ms; /* WAITING otherwise: the policy's wait (0: at once) */
    uint16_t port;
    uint8_t host_is_ip; /* host is an address literal: no lookup */
    uint8_t name_is_ip; /* the name checked is an address: no SNI, IP SANs */

    struct evbuffer *out; /* queued plaintext, created on first write */
    size_t write_limit;
    size_t write_inflight; /* bytes handed to wolfSSL that it still owes */
    uint32_t rcvlowat;     /* SO_RCVLOWAT set by evtls__conn_expect; 0: the default, 1 */
    uint32_t burst_bytes;  /* plaintext read so far by the current (or last) read burst */

    /* deferred work flags, served by defer_ev */
    unsigned pending_drain : 1;
    unsigned pending_error : 1;

    /* The object's life, written by evtls__conn_set_life alone:
     *   LIFE_OPEN       in use
     *   LIFE_CLOSE_DUE  closed: the close callback is due from the loop
     *                   (defer_ev), then the object goes
     *   LIFE_FREED      freed inside one of its callbacks: destroyed when
     *                   the last of them returns (in_cb back to 0)
     *   LIFE_ENDED      destroyed while connect_poll runs the private loop:
     *                   connect_poll frees the struct when the loop returns */
    enum evtls__life { LIFE_OPEN, LIFE_CLOSE_DUE, LIFE_FREED, LIFE_ENDED } life;
    int in_cb;             /* depth of user callbacks on the stack */
    unsigned pumping : 1;  /* inside event_base_loop() called by connect_poll */
    unsigned exchange : 1; /* an HTTP exchange runs on it (evtls__conn_set_exchange) */

    uint64_t t_start_us, t_mark_us; /* the connect's start, the current phase's */
    evtls_last_error err;
    evtls_conn_info info;
    char name[256]; /* name for SNI and verification */
    /* through a proxy: the request's unsent rest, then the answer so far */
    char *proxy_buf;
    size_t proxy_len, proxy_off;
    /* PROXYING's phases: the CONNECT request goes out, then its answer comes */
    enum { PROXY_SEND, PROXY_ANSWER } proxy_phase;
};

/* evtls_conn_core.c: the state machine core */
void evtls__conn_set_state(evtls_conn *c, evtls_conn_state to);

/* 1 when the state table has the move from -> to. */
int evtls__conn_move_allowed(evtls_conn_state from, evtls_conn_state to);
void evtls__conn_io_update(evtls_conn *c);
void evtls__conn_set_read(evtls_conn *c, enum evtls__read_mode to);
void evtls__conn_set_life(evtls_conn *c, enum evtls__life to);
void evtls__conn_arm_wait(evtls_conn *c);
static inline int evtls__conn_reading(const evtls_conn *c)
{
    return c->read_mode >= READ_WAIT;
}
void evtls__conn_user_enter(evtls_conn *c);
int evtls__conn_user_leave(evtls_conn *c); /* 1: c is gone, touch it no more */
void evtls__conn_teardown_attempt(evtls_conn *c, int rst);
void evtls__conn_teardown(evtls_conn *c, int rst);
void evtls__conn_destroy(evtls_conn *c);
void evtls__conn_harvest_session(evtls_conn *c);
void evtls__conn_record_attempts(evtls_conn *c, const struct evtls__dial_report *rep);
void evtls__conn_arm_timer(struct event *ev, unsigned ms);
uint64_t evtls__conn_lap_us(evtls_conn *c);
int evtls__conn_let_go(evtls_conn *c, int closing);
void evtls__conn_defer(evtls_conn *c);

static inline short evtls__conn_wait_of(evtls__tls_status st)
{
    return st == EVTLS__TLS_WANT_WRITE ? EV_WRITE : EV_READ;
}

#endif
