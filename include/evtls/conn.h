/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evtls/conn.h - one TLS client connection driven by an event_base.
 *
 * Two ways to drive a connection, sharing one state machine:
 *  (a) callbacks: evtls_conn_connect() returns at once and calls the
 *      completion callback exactly once, from the event loop, with 0 or an
 *      error code. A call that fails synchronously returns the error and
 *      never calls the callback.
 *  (b) polling, like esp_transport_connect_async(): evtls_conn_connect_poll()
 *      returns -1 (failed), 0 (in progress) or 1 (connected) and may be
 *      called again and again. Each call runs the event_base once without
 *      blocking (on a private base), then reports the fd and direction the
 *      connection waits on, so an application with its own poll loop (and
 *      no libevent of its own) can wait on that fd itself.
 *
 * Phases: resolve (skipped for numeric hosts) -> TCP connect -> TLS
 * handshake -> established. Every phase has its own timeout (see
 * evtls_cfg_set_timeout) enforced by the loop's timers; nothing blocks.
 *
 * Dual stack (RFC 8305, Happy Eyeballs v2): AAAA and A are asked at once.
 * Connecting starts as soon as AAAA answers, or when A answers and AAAA
 * has not after 50 ms (the Resolution Delay). The addresses are sorted by
 * RFC 6724 (using the source address the kernel would pick for each) and
 * the families interleaved; a new attempt starts every Connection Attempt
 * Delay (EVTLS_TIMEOUT_ATTEMPT_DELAY, 250 ms) or at once when one fails.
 * The first TCP connect to complete wins, the others are closed, and TLS
 * runs on the winner only. evtls_conn_info says which address won and why
 * each other attempt lost.
 *
 * Retries: with evtls_cfg_set_retry_countdown() or
 * evtls_cfg_set_retry_backoff(), a connect that fails for a
 * retryable reason (evtls_err_is_retryable(), and a peer that closes
 * during the handshake) is tried again after a countdown or a backoff, in
 * state EVTLS_STATE_WAITING, until it succeeds, the attempts run out or
 * EVTLS_TIMEOUT_TOTAL expires. Certificate, configuration and version
 * errors fail at once. The completion callback runs once, at the end.
 *
 * Callbacks: no callback is ever called from inside the API call that
 * asked for it. Inside any callback the application may call
 * evtls_conn_close(), evtls_conn_abort() or evtls_conn_free() on the
 * connection; no callback of that connection runs afterwards.
 */
#ifndef EVTLS_CONN_H
#define EVTLS_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "evtls/cfg.h"
#include "evtls/error.h"
#include "evtls/resolver.h"
#include "evtls/session.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct evtls_conn evtls_conn;

typedef enum evtls_conn_state {
    EVTLS_STATE_IDLE = 0, /* created, not connecting yet */
    EVTLS_STATE_RESOLVING,
    EVTLS_STATE_CONNECTING, /* TCP connect under way */
    EVTLS_STATE_HANDSHAKING,
    EVTLS_STATE_CONNECTED,
    EVTLS_STATE_CLOSING, /* sending close_notify */
    EVTLS_STATE_CLOSED,  /* closed cleanly */
    EVTLS_STATE_FAILED,  /* see evtls_conn_get_last_error() */
    EVTLS_STATE_WAITING, /* a connect failed; waiting to retry (see evtls_cfg_set_retry_*) */
    EVTLS_STATE_PROXYING /* connected to the proxy, asking it for the tunnel (cfg's proxy) */
} evtls_conn_state;

/* What a connection waits on: set by evtls_conn_connect_poll(). */
#define EVTLS_WANT_READ  0x02
#define EVTLS_WANT_WRITE 0x04
typedef struct evtls_want {
    int fd;         /* the fd to wait on, or -1 when waiting on a timer only */
    int events;     /* EVTLS_WANT_READ and/or EVTLS_WANT_WRITE, 0 with fd -1 */
    int timeout_ms; /* call again within this many ms (the next deadline) even if fd
                       is not ready; -1: no deadline, wait for fd alone */
} evtls_want;

/* One fd a polling application watches for a connection (see
 * evtls_conn_poll_fds). */
typedef struct evtls_poll_fd {
    int fd;
    int events; /* EVTLS_WANT_READ and/or EVTLS_WANT_WRITE */
} evtls_poll_fd;

/* How one TCP connect attempt ended (Happy Eyeballs keeps several). */
typedef enum evtls_attempt_outcome {
    EVTLS_ATTEMPT_WON = 0, /* connected first: the connection uses it */
    EVTLS_ATTEMPT_FAILED,  /* the connect failed (err, sys_errno say how) */
    EVTLS_ATTEMPT_LOST,    /* still connecting when another won: closed */
    EVTLS_ATTEMPT_ABORTED  /* still connecting when the phase timed out or was cancelled */
} evtls_attempt_outcome;

/* Why the first address of the last try went first. */
typedef enum evtls_order_reason {
    EVTLS_ORDER_RFC6724 = 0, /* no history: RFC 6724 sort and family interleaving */
    EVTLS_ORDER_WINNER = 1,  /* it won to this destination recently (the resolver's memory) */
    EVTLS_ORDER_LOSER = 2    /* RFC 6724 order, with an address that failed recently moved last */
} evtls_order_reason;

#define EVTLS_ATTEMPT_INFO_MAX 8
typedef struct evtls_attempt_info {
    char addr[48]; /* without port */
    int family;    /* 4 or 6 */
    evtls_attempt_outcome outcome;
    int err;           /* evtls_err for FAILED, else 0 */
    int sys_errno;     /* errno for FAILED, else 0 */
    uint32_t start_us; /* when it started, after the first attempt's start */
    uint32_t duration_us;
} evtls_attempt_info;

/* What became of a connection's early data (evtls_conn_set_early_data). */
typedef enum evtls_early_data {
    EVTLS_EARLY_DATA_NOT_SENT = 0, /* none went early: none given, the configuration allows
                                      none, no session offered, its ticket allows too few
                                      bytes, or another ALPN protocol */
    EVTLS_EARLY_DATA_ACCEPTED = 1, /* the server took it: its application got the bytes */
    EVTLS_EARLY_DATA_REJECTED = 2  /* the server dropped it unread (a reused ticket, a
                                      HelloRetryRequest...): send the bytes again */
} evtls_early_data;

/* Connection facts, filled as the connection progresses. Strings are
 * empty until known. Timings are in microseconds, 0 when the phase did not
 * run (dns_us is 0 for a numeric host). Fields are only appended. */
typedef struct evtls_conn_info {
    char host[256]; /* the host given to connect */
    uint16_t port;
    char peer_addr[48];      /* the address connected to, without port */
    int family;              /* 4 or 6, 0 until connected */
    unsigned attempts;       /* TCP connect attempts made */
    const char *tls_version; /* e.g. "TLSv1.3" (static string); NULL until the server's
                                hello chose a version and a suite ("none": plain TCP) */
    const char *cipher;      /* e.g. "TLS13-AES128-GCM-SHA256" (static string), or NULL */
    const char *group;       /* key-exchange group, e.g. "X25519" (static string) */
    char alpn[32];           /* the negotiated ALPN protocol, empty if none */
    int resumed;             /* 1 if the handshake resumed a session */
    uint64_t dns_us, tcp_us, tls_us, total_us;
    uint64_t bytes_in, bytes_out; /* TLS record bytes on the wire, so far */
    unsigned connect_attempt;     /* 1 for the first try, 2... after retries */
    unsigned n_attempt_info;      /* entries of attempt[] used (the last try's) */
    evtls_attempt_info attempt[EVTLS_ATTEMPT_INFO_MAX];
    int session_offered;             /* a cached session was offered (see resumed) */
    unsigned candidates;             /* addresses known to the last try, in RFC 6724 / Happy
                                        Eyeballs order (attempt[] lists those tried) */
    evtls_order_reason order_reason; /* why attempt[0]'s address went first */
    unsigned attempt_delay_ms;       /* the Happy Eyeballs attempt delay the last try used:
                                        the configured one, or one learnt from connect times */
    unsigned races_held; /* times the last try's next attempt waited for the race limit */
    uint64_t proxy_us;   /* through a proxy: from the TCP connect to the proxy's 2xx answer */
    uint64_t read_wakes; /* times the socket woke reading on the established connection
                            (a large body is read in few, see evtls_http's exchange) */
    uint64_t read_marks; /* times a wake-up mark was raised on the socket (a large body
                            arriving fast: the socket wakes the reader only once a good part
                            of the rest is there) */
    uint64_t read_peeks; /* times the peek found the flow slowed under a mark and lowered
                            it, so that no received byte waits longer than the peek */
    /* HTTP/2, once a session runs on the connection: the server's
     * SETTINGS_MAX_CONCURRENT_STREAMS (100 assumed until its SETTINGS
     * come), streams opened, and GOAWAYs received */
    unsigned h2_peer_max_streams;
    uint64_t h2_streams;
    unsigned h2_goaways;
    /* The ALPN protocol of the connection the offered session came from
     * ("" when none was offered or it had none): the session cache keeps
     * it with each ticket, in its file too */
    char session_alpn[16];
    /* TLS 1.3 early data, once connected: its fate, and the bytes that
     * went with the ClientHello (0 when NOT_SENT) */
    evtls_early_data early_data;
    size_t early_data_bytes;
} evtls_conn_info;

typedef void (*evtls_connect_cb)(evtls_conn *c, int err, void *arg);
/* Data received: n > 0 bytes at data; n == EVTLS_EOF when the peer sent
 * close_notify; n < 0 another error (data NULL). After EVTLS_EOF or an
 * error no more data arrives. The data is only valid during the call. */
typedef void (*evtls_read_cb)(evtls_conn *c, const uint8_t *data, ssize_t n, void *arg);
/* The write buffer has fully drained to the socket. */
typedef void (*evtls_drain_cb)(evtls_conn *c, void *arg);
/* The connection is closed; the handle is freed right after this returns. */
typedef void (*evtls_close_cb)(evtls_conn *c, int err, void *arg);

/* Creates a connection on base using cfg (built now if it was not; on a
 * build failure NULL is returned and evtls_cfg_get_last_error() says why). With
 * base NULL the connection owns a private event_base, which suits
 * evtls_conn_connect_poll() in an application without libevent.
 * Takes a reference on cfg. Returns NULL on failure. */
EVTLS_API evtls_conn *evtls_conn_new(struct event_base *base, evtls_cfg *cfg);

/* Called when a connect attempt failed and another is scheduled: attempt
 * is the number of the one that failed, err why, wait_ms the wait before
 * the next. */
typedef void (*evtls_retry_cb)(evtls_conn *c, unsigned attempt, int err, unsigned wait_ms,
                               void *arg);

/* Sets the retry callback (before connecting). Returns 0 or
 * EVTLS_ERR_INVALID_ARG for a NULL connection. */
EVTLS_API int evtls_conn_set_retry_cb(evtls_conn *c, evtls_retry_cb cb, void *arg);

/* Offers sessions from sc for resumption and stores the sessions the
 * server gives (a reference is taken). Only valid before connecting. */
EVTLS_API int evtls_conn_set_session_cache(evtls_conn *c, evtls_session_cache *sc);

/* With on 0, the connection offers no cached session (a full handshake)
 * but still stores the sessions the server gives in its cache (default 1:
 * offer). A load generator sets the share of resumed handshakes with it.
 * Only valid before connecting. */
EVTLS_API int evtls_conn_set_session_offer(evtls_conn *c, int on);

/* TLS 1.3 early data (RFC 8446 section 2.3): a copy of len bytes of data
 * to send with the ClientHello, before the handshake ends, when the
 * connection resumes a session whose ticket allows that many, the
 * configuration allows them (evtls_cfg_set_early_data) and the session
 * came from a connection that spoke alpn (NULL or "http/1.1": HTTP/1.1,
 * also taken from a session without ALPN). Once connected,
 * evtls_conn_info.early_data says whether they went and were taken; unless
 * ACCEPTED the server's application saw none of them, and the caller
 * writes them again in the normal way (evtls_http_exchange_start does for
 * a request given with evtls_http_req_send_early). An attacker can replay
 * early data: give only bytes that are safe to repeat (RFC 8470). Only
 * before connecting (EVTLS_ERR_STATE after); len 0 takes back earlier
 * ones. Returns 0, EVTLS_ERR_INVALID_ARG (len above 16384) or NOMEM. */
EVTLS_API int evtls_conn_set_early_data(evtls_conn *c, const char *alpn, const void *data,
                                        size_t len);

/* An application pointer carried by the connection; the library never
 * reads or writes it (a pool keeps its own record apart). The setter
 * returns 0 or EVTLS_ERR_INVALID_ARG for a NULL connection. */
EVTLS_API int evtls_conn_set_userdata(evtls_conn *c, void *p);
EVTLS_API void *evtls_conn_get_userdata(const evtls_conn *c);

/* For a connected connection that is not reading: checks without
 * blocking whether it can still be used (one non-blocking TLS read; a
 * late TLS 1.3 session ticket is consumed and stored). Returns 1 if so, 0
 * when the peer closed, sent close_notify or unexpected data, or it broke.
 * This is what a pool does before reusing an idle connection. */
EVTLS_API int evtls_conn_check_alive(evtls_conn *c);

/* Uses r for name resolution (a reference is taken). Without one, the
 * connection makes its own resolver from the system configuration when it
 * first needs one. Only valid before connecting. */
EVTLS_API int evtls_conn_set_resolver(evtls_conn *c, evtls_resolver *r);

/* Starts connecting to host:port (host: a name, an IPv4 address, or an
 * IPv6 address with or without brackets). Returns 0 and later calls cb
 * once with 0 or an error; or returns an error now (bad argument, wrong
 * state) and never calls cb. */
EVTLS_API EVTLS_MUST_CHECK int evtls_conn_connect(evtls_conn *c, const char *host, uint16_t port,
                                                  evtls_connect_cb cb, void *arg);

/* Polling connect (esp_transport_connect_async style). The first call
 * starts connecting; later calls continue (host and port are then
 * ignored and may be NULL/0). When the connection owns a private
 * event_base (created with base NULL), each call runs it once without
 * blocking; with the caller's base, the caller runs it. Returns 1 when
 * connected, 0 while in progress (want, if not NULL, tells what to wait
 * on) and -1 on failure (see evtls_conn_get_last_error()). */
EVTLS_API int evtls_conn_connect_poll(evtls_conn *c, const char *host, uint16_t port,
                                      evtls_want *want);

/* For a connection on its own event_base (evtls_conn_new with base NULL):
 * every fd it waits on now, with its direction (while Happy Eyeballs races,
 * one per attempt; while resolving, the resolver's), up to max of them into
 * fds, and in *timeout_ms (if not NULL) the time to its next deadline, -1
 * when none. Returns how many fds it waits on (if more than max, call again
 * with room for all), or -1 for a connection on the caller's base. A
 * polling application sleeps in poll(2) on these fds until one is ready or
 * the timeout passes, then calls evtls_conn_connect_poll again: no wake-up
 * at a fixed interval is ever needed. */
EVTLS_API int evtls_conn_poll_fds(const evtls_conn *c, evtls_poll_fd *fds, int max,
                                  int *timeout_ms);

/* Direct, non-blocking I/O for polling applications that do not run the
 * event loop after connecting (esp_transport_read/write without blocking).
 * evtls_conn_recv returns the number of bytes read (> 0), EVTLS_EOF when the
 * peer sent close_notify, EVTLS_ERR_WOULDBLOCK with want filled when
 * nothing can be read now, or another error. evtls_conn_send returns len
 * when all bytes were sent, EVTLS_ERR_WOULDBLOCK with want filled (call
 * again later with the same bytes), or an error. Do not mix them with
 * evtls_conn_read_start/evtls_conn_write on the same connection. */
EVTLS_API ssize_t evtls_conn_recv(evtls_conn *c, void *buf, size_t cap, evtls_want *want);
EVTLS_API ssize_t evtls_conn_send(evtls_conn *c, const void *data, size_t len, evtls_want *want);

/* Starts delivering received data to cb. Valid once connected. Data that
 * arrives while reading is stopped stays in the kernel, so the peer is
 * slowed down (backpressure). */
EVTLS_API int evtls_conn_read_start(evtls_conn *c, evtls_read_cb cb, void *arg);

/* Stops delivering data. */
EVTLS_API int evtls_conn_read_stop(evtls_conn *c);

/* Queues len bytes for sending. All or nothing: returns 0 when queued, or
 * EVTLS_ERR_WOULDBLOCK when they would take the write buffer past its limit
 * (nothing is queued; wait for the drain callback), or another error. */
EVTLS_API EVTLS_MUST_CHECK int evtls_conn_write(evtls_conn *c, const void *data, size_t len);

/* Bytes queued and not yet handed to the socket. */
EVTLS_API size_t evtls_conn_get_write_pending(const evtls_conn *c);

/* Sets the write buffer's limit in bytes (default 64 KiB, at least 1). */
EVTLS_API int evtls_conn_set_write_limit(evtls_conn *c, size_t limit);

/* Calls cb each time the write buffer becomes empty. Returns 0 or
 * EVTLS_ERR_INVALID_ARG. */
EVTLS_API int evtls_conn_set_drain_cb(evtls_conn *c, evtls_drain_cb cb, void *arg);

/* Graceful close: flushes queued data, sends close_notify, closes the
 * socket, then calls cb (if not NULL) from the loop with 0 or the error
 * that cut the close short, and frees c. Bounded by EVTLS_TIMEOUT_CLOSE.
 * No other callback of c runs after this call. Also valid while
 * connecting (it then cancels). Returns 0 or EVTLS_ERR_STATE if c is
 * already closing. */
EVTLS_API int evtls_conn_close(evtls_conn *c, evtls_close_cb cb, void *arg);

/* Like evtls_conn_close, then waits for the peer's close_notify (or its
 * FIN) within the close timeout, reading and dropping what the peer still
 * sends. A TLS 1.3 server sends its session tickets after the handshake;
 * a connection that closes right after connecting stores them this way.
 * A peer that stays silent ends the close with EVTLS_ERR_TIMEOUT. */
EVTLS_API int evtls_conn_shutdown(evtls_conn *c, evtls_close_cb cb, void *arg);

/* Abortive close: resets the TCP connection (no close_notify) and frees c
 * at once. No callback of c runs afterwards. NULL is ignored. */
EVTLS_API void evtls_conn_abort(evtls_conn *c);

/* Frees c: if connected, one non-blocking attempt to send close_notify,
 * then the socket is closed and c freed at once. NULL is ignored. */
EVTLS_API void evtls_conn_free(evtls_conn *c);

/* The current state. */
EVTLS_API evtls_conn_state evtls_conn_get_state(const evtls_conn *c);

/* Returns the name of a state, e.g. "HANDSHAKING". */
EVTLS_API const char *evtls_conn_state_name(evtls_conn_state s);

/* The event_base the connection runs on (its private one for base NULL). */
EVTLS_API struct event_base *evtls_conn_get_base(const evtls_conn *c);

/* The socket's fd, or -1 when there is none. */
EVTLS_API int evtls_conn_get_fd(const evtls_conn *c);

/* The last failure of c (code EVTLS_OK when none). Valid until c is freed. */
EVTLS_API const evtls_last_error *evtls_conn_get_last_error(const evtls_conn *c);

/* Facts about c. Valid until c is freed. */
EVTLS_API const evtls_conn_info *evtls_conn_get_info(const evtls_conn *c);

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_CONN_H */
