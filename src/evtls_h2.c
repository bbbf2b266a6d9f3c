/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_h2.c - HTTP/2 sessions and streams over an evtls_conn, on
 * nghttp2's memory interface (see evtls_h2.h for the contract).
 *
 * Bytes flow: the connection's read callback hands what TLS decrypted to
 * nghttp2_session_mem_recv; what nghttp2 has to send is taken with
 * nghttp2_session_mem_send and queued with evtls_conn_write up to the
 * connection's write limit (the rest kept, resumed on drain). So wolfSSL's
 * WANT_READ / WANT_WRITE stay where they are, in the connection.
 *
 * No user code runs inside nghttp2: a stream's head, body pieces and end
 * are kept on the stream while nghttp2 parses and given to its sink after
 * it returns (a body that is only buffered is taken at once, no user code
 * being involved); a request body's producer is called before mem_send and
 * its piece handed to nghttp2 from a buffer. Data is acknowledged
 * (WINDOW_UPDATE) only once the sink took it, so a reader that is slow or
 * paused holds back its own stream and never the others. What a read
 * brings is given at once; what that makes nghttp2 send leaves from the
 * session's event after the read burst, gathered per thread into records
 * of up to 16 KiB (the session holds output only under backpressure).
 * Liveness: a PING after a read-idle time, the connection failed when its
 * ACK is late. */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "evtls_cfg_int.h"
#include "evtls_conn_int.h"
#include "evtls_h2.h"
#include "evtls_http_int.h"
#include "evtls_log_int.h"
#include "evtls_time.h"

/* nghttp2 1.61 renamed the functions that take and return sizes (the *2
 * API, nghttp2_ssize); 1.52 (Debian 12) has only the first. */
#if NGHTTP2_VERSION_NUM >= 0x013d00
typedef nghttp2_ssize h2_ssize;
typedef nghttp2_data_provider2 h2_provider;
#define H2_MEM_RECV       nghttp2_session_mem_recv2
#define H2_MEM_SEND       nghttp2_session_mem_send2
#define H2_SUBMIT_REQUEST nghttp2_submit_request2
#else
typedef ssize_t h2_ssize;
typedef nghttp2_data_provider h2_provider;
#define H2_MEM_RECV       nghttp2_session_mem_recv
#define H2_MEM_SEND       nghttp2_session_mem_send
#define H2_SUBMIT_REQUEST nghttp2_submit_request
#endif

#define STREAM_WINDOW   (256u * 1024u)        /* per stream: what one slow reader may hold */
#define CONN_WINDOW     (16u * 1024u * 1024u) /* the connection's */
#define HEADER_LIST_MAX (64u * 1024u)         /* SETTINGS_MAX_HEADER_LIST_SIZE we announce */
#define PIECE           16384u
#define ASSUMED_STREAMS 100u /* RFC 9113 section 6.5.2 recommends at least 100 */

TAILQ_HEAD(stream_list, evtls__h2_stream);

struct evtls__h2 {
    evtls_conn *c; /* NULL once the connection is gone (streams still to hear of it) */
    nghttp2_session *ng;
    struct event work_ev; /* deliveries due and what is to be sent, from the loop */
    struct stream_list streams;
    struct stream_list due; /* streams with something for their sink */
    unsigned open;          /* streams nghttp2 has not closed yet */
    unsigned cap;           /* the client's cap on open streams */
    uint8_t *pend;          /* bytes nghttp2 gave that the write buffer did not take yet */
    size_t pend_off, pend_len, pend_cap;
    int draining; /* GOAWAY received: no new streams */
    int dead;     /* the connection failed or a connection error: nothing more */
    int dead_err; /* what open streams end with */
    uint32_t dead_code;
    int goaway_sent; /* nghttp2 queued a GOAWAY of ours (a protocol error) */
    int working;     /* inside deliver/flush: a nested run waits for the loop */
    evtls__h2_counts n;
    /* liveness: after ping_idle_us without a read, a PING; its ACK due
     * within ping_timeout_ms (ping_out) */
    struct event ping_ev;
    uint64_t last_read_us, ping_idle_us;
    unsigned ping_timeout_ms;
    int ping_out;
};

struct evtls__h2_stream {
    TAILQ_ENTRY(evtls__h2_stream) link;
    TAILQ_ENTRY(evtls__h2_stream) due_link;
    int on_due;
    evtls__h2 *h;
    int32_t id;
    const evtls__h2_sink *sink;
    void *ctx;
    /* the request body: a buffer, or a producer's pieces */
    const uint8_t *body; /* own_body, the request's copy */
    uint8_t *own_body;
    size_t body_len, body_off;
    int has_producer, produced_all, paused, wants_data;
    uint64_t produce_left; /* EVTLS_HTTP_LENGTH_UNKNOWN: until the producer says 0 */
    uint8_t *piece;
    size_t piece_len, piece_off;
    /* the response */
    int final_seen; /* a final (non-1xx) status came */
    int in_trailer; /* the next fields are trailers */
    int head_due, head_given;
    int ended;   /* END_STREAM received */
    uint8_t *rx; /* body bytes not yet given to the sink */
    size_t rx_len, rx_cap;
    size_t ack; /* bytes the sink took while nghttp2 parsed, to acknowledge */
    int done_due, done_err;
    uint32_t done_code;
    const char *done_detail;
    int local_err; /* the sink refused a field: the error to end with */
    int sent;      /* its HEADERS went out: the server may have seen it */
};

static void schedule(evtls__h2 *h)
{
    if (h->c && !h->working)
        event_active(&h->work_ev, EV_TIMEOUT, 0);
}

const char *evtls_http_h2_error_name(uint32_t code)
{
    static const char *const names[] = {"NO_ERROR",
                                        "PROTOCOL_ERROR",
                                        "INTERNAL_ERROR",
                                        "FLOW_CONTROL_ERROR",
                                        "SETTINGS_TIMEOUT",
                                        "STREAM_CLOSED",
                                        "FRAME_SIZE_ERROR",
                                        "REFUSED_STREAM",
                                        "CANCEL",
                                        "COMPRESSION_ERROR",
                                        "CONNECT_ERROR",
                                        "ENHANCE_YOUR_CALM",
                                        "INADEQUATE_SECURITY",
                                        "HTTP_1_1_REQUIRED"};
    return code < sizeof names / sizeof names[0] ? names[code] : "UNKNOWN_CODE";
}

/* ---- streams */

static void mark_due(evtls__h2_stream *s)
{
    if (s->on_due || s->h == NULL)
        return;
    s->on_due = 1;
    TAILQ_INSERT_TAIL(&s->h->due, s, due_link);
}

static void unlink_stream(evtls__h2_stream *s)
{
    evtls__h2 *h = s->h;
    if (h == NULL)
        return;
    if (s->on_due)
        TAILQ_REMOVE(&h->due, s, due_link);
    s->on_due = 0;
    TAILQ_REMOVE(&h->streams, s, link);
    s->h = NULL;
}

static void stream_free(evtls__h2_stream *s)
{
    unlink_stream(s);
    free(s->rx);
    free(s->piece);
    free(s->own_body);
    free(s);
}

/* The stream ends with err (once); its sink hears of it when due. */
static void stream_end(evtls__h2_stream *s, int err, uint32_t code, const char *detail)
{
    if (s->done_due)
        return;
    s->done_due = 1;
    s->done_err = err;
    s->done_code = code;
    s->done_detail = detail;
    mark_due(s);
}

/* nghttp2 no longer calls us about s (its id may stay open there). */
static void forget(evtls__h2_stream *s)
{
    evtls__h2 *h = s->h;
    if (h && h->ng && s->id > 0)
        nghttp2_session_set_stream_user_data(h->ng, s->id, NULL);
}

void evtls__h2_stream_cancel(evtls__h2_stream *s)
{
    if (s == NULL)
        return;
    evtls__h2 *h = s->h;
    if (h && h->ng && !h->dead) {
        if (s->id > 0 && nghttp2_session_get_stream_user_data(h->ng, s->id) == s)
            nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        /* what it received and nobody acknowledged yet frees the
         * connection's window (the stream's goes with the stream) */
        if (s->rx_len + s->ack)
            nghttp2_session_consume_connection(h->ng, s->rx_len + s->ack);
        schedule(h);
    }
    forget(s);
    stream_free(s);
}

void evtls__h2_stream_resume(evtls__h2_stream *s)
{
    if (s == NULL || !s->paused)
        return;
    s->paused = 0;
    if (s->h)
        schedule(s->h);
}

/* ---- nghttp2's callbacks: record, never call user code */

static evtls__h2_stream *stream_of(nghttp2_session *ng, int32_t id)
{
    return id > 0 ? nghttp2_session_get_stream_user_data(ng, id) : NULL;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
                     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    (void)flags;
    (void)ud;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0; /* PUSH_PROMISE: push is off (SETTINGS_ENABLE_PUSH 0) */
    evtls__h2_stream *s = stream_of(ng, frame->hd.stream_id);
    if (s == NULL || s->local_err)
        return 0;
    int rc = 0;
    if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
        int st = 0;
        for (size_t i = 0; i < vlen && i < 3; i++)
            st = st * 10 + (value[i] - '0');
        if (st >= 200)
            s->final_seen = 1;
        rc = st >= 200 ? s->sink->status(s->ctx, st) : 0;
    } else if (nlen > 0 && name[0] == ':') {
        return 0; /* no other pseudo-header in a response (nghttp2 checks) */
    } else if (s->final_seen || s->in_trailer) {
        rc = s->sink->field(s->ctx, s->in_trailer, (const char *)name, nlen, (const char *)value,
                            vlen);
    }
    if (rc != 0) {
        s->local_err = rc;                            /* e.g. the header list is over the limit */
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* the stream is reset */
    }
    return 0;
}

/* The liveness timer, due in us. */
static void arm_ping(evtls__h2 *h, uint64_t us)
{
    if (h->ping_idle_us == 0 || h->c == NULL)
        return;
    struct timeval tv = evtls__tv_us(us);
    event_add(&h->ping_ev, &tv);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    evtls__h2 *h = ud;
    switch (frame->hd.type) {
    case NGHTTP2_SETTINGS:
        h->n.peer_max_streams =
            nghttp2_session_get_remote_settings(ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
        if (h->c)
            evtls__conn_info_mut(h->c)->h2_peer_max_streams = h->n.peer_max_streams;
        break;
    case NGHTTP2_PING:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && h->ping_out) {
            h->ping_out = 0;
            arm_ping(h, h->ping_idle_us);
        }
        break;
    case NGHTTP2_GOAWAY:
        h->draining = 1;
        h->n.goaways++;
        if (h->c)
            evtls__conn_info_mut(h->c)->h2_goaways++;
        LOGD("h2: GOAWAY last-stream-id %d, %s", frame->goaway.last_stream_id,
             evtls_http_h2_error_name(frame->goaway.error_code));
        if (frame->goaway.error_code != NGHTTP2_NO_ERROR) {
            h->dead_err = EVTLS_ERR_H2_CONNECTION;
            h->dead_code = frame->goaway.error_code;
        }
        break;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA: {
        evtls__h2_stream *s = stream_of(ng, frame->hd.stream_id);
        if (s == NULL)
            break;
        if (frame->hd.type == NGHTTP2_HEADERS && s->final_seen && !s->head_due && !s->in_trailer) {
            s->head_due = 1; /* the final response's header block is complete */
            s->in_trailer = 1;
            mark_due(s);
        }
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
            s->ended = 1;
            /* The whole response came while the request body is still
             * going out (an early 413, say): the upload stops (RFC 9113
             * section 8.1, RST_STREAM with NO_ERROR), or the stream would
             * wait on a window the server no longer opens. */
            int body_left = s->has_producer ? !s->produced_all || s->piece_off < s->piece_len
                                            : s->body_off < s->body_len;
            if (body_left && s->final_seen) {
                nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
            }
        }
        break;
    }
    default: break;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *ud)
{
    (void)flags;
    evtls__h2 *h = ud;
    evtls__h2_stream *s = stream_of(ng, id);
    if (s == NULL) {
        nghttp2_session_consume_connection(h->ng, len); /* a stream we let go of */
        return 0;
    }
    if (s->sink->data_now) { /* a buffered body: no user code, taken now */
        int rc = s->sink->data_now(s->ctx, data, len);
        if (rc != 0) {
            s->local_err = rc; /* e.g. over the body limit: the stream is reset */
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
        s->ack += len; /* acknowledged once nghttp2 returns */
        mark_due(s);
        return 0;
    }
    if (s->rx_len + len > s->rx_cap) {
        size_t cap = s->rx_cap ? s->rx_cap : 4096;
        while (cap < s->rx_len + len)
            cap *= 2;
        uint8_t *b = realloc(s->rx, cap);
        if (b == NULL) {
            s->local_err = EVTLS_ERR_NOMEM;
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
        s->rx = b;
        s->rx_cap = cap;
    }
    memcpy(s->rx + s->rx_len, data, len);
    s->rx_len += len;
    mark_due(s);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
    evtls__h2 *h = ud;
    if (h->open)
        h->open--;
    evtls__h2_stream *s = stream_of(ng, id);
    if (s == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    s->id = -s->id; /* closed: nothing to reset */
    if (s->local_err) {
        stream_end(s, s->local_err, code, "the response was refused");
    } else if (code == NGHTTP2_NO_ERROR && s->ended) {
        stream_end(s, 0, 0, NULL);
    } else if (code == NGHTTP2_REFUSED_STREAM) {
        h->n.refused++;
        stream_end(s, EVTLS_ERR_H2_REFUSED, code,
                   h->draining ? "above the GOAWAY's last stream id: never processed"
                               : "the server refused the stream (REFUSED_STREAM)");
    } else if (h->dead_err || h->goaway_sent) {
        stream_end(s, EVTLS_ERR_H2_CONNECTION, h->dead_code ? h->dead_code : code,
                   "HTTP/2 connection error");
    } else if (code == NGHTTP2_NO_ERROR) {
        stream_end(s, EVTLS_ERR_HTTP_TRUNCATED, code, "the stream closed inside the response");
    } else {
        h->n.reset++;
        stream_end(s, EVTLS_ERR_H2_STREAM, code, "the server reset the stream");
    }
    return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *ud)
{
    evtls__h2 *h = ud;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        evtls__h2_stream *s = stream_of(ng, frame->hd.stream_id);
        if (s) {
            s->sent = 1;
            s->sink->sent(s->ctx);
        }
    }
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
        h->goaway_sent = 1;
        h->draining = 1;
        h->dead_code = frame->goaway.error_code;
    }
    return 0;
}

/* A request's HEADERS could not go (a GOAWAY came first, or the stream
 * ids ran out): the server never saw it. */
static int on_frame_not_send(nghttp2_session *ng, const nghttp2_frame *frame, int lib_error,
                             void *ud)
{
    (void)ng;
    evtls__h2 *h = ud;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    evtls__h2_stream *s;
    TAILQ_FOREACH(s, &h->streams, link)
    if (s->id == frame->hd.stream_id && !s->done_due) {
        LOGD("h2: stream %d not sent: %s", s->id, nghttp2_strerror(lib_error));
        h->n.refused++;
        s->id = -s->id;
        stream_end(s, EVTLS_ERR_H2_REFUSED, NGHTTP2_REFUSED_STREAM,
                   "the request could not be sent (the server is going away)");
        break;
    }
    if (h->open)
        h->open--;
    return 0;
}

/* The request body, from the buffer or the producer's current piece. */
static h2_ssize read_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
                          uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)ng;
    (void)id;
    (void)ud;
    evtls__h2_stream *s = src->ptr;
    if (!s->has_producer) {
        size_t n = s->body_len - s->body_off;
        if (n > len)
            n = len;
        if (n)
            memcpy(buf, s->body + s->body_off, n);
        s->body_off += n;
        if (s->body_off == s->body_len)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        return (h2_ssize)n;
    }
    if (s->piece_off == s->piece_len) {
        if (s->produced_all) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            return 0;
        }
        s->wants_data = 1; /* the producer runs before the next mem_send */
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = s->piece_len - s->piece_off;
    if (n > len)
        n = len;
    memcpy(buf, s->piece + s->piece_off, n);
    s->piece_off += n;
    if (s->piece_off == s->piece_len && s->produced_all)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (h2_ssize)n;
}

/* ---- the session */

static void work(evutil_socket_t fd, short what, void *arg);

static nghttp2_session_callbacks *the_callbacks; /* made once, read-only after */

static void make_callbacks(void)
{
    nghttp2_session_callbacks *c;
    if (nghttp2_session_callbacks_new(&c) != 0)
        return;
    nghttp2_session_callbacks_set_on_header_callback(c, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(c, on_frame_send);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(c, on_frame_not_send);
    the_callbacks = c;
}

static nghttp2_session_callbacks *callbacks(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_callbacks);
    return the_callbacks;
}

int evtls__h2_wanted(evtls_conn *c)
{
    const struct evtls__cfg_values *v = evtls__conn_cfg_values(c);
    if (v->plain_tcp)
        return v->http2 == EVTLS_HTTP2_PRIOR_KNOWLEDGE;
    return strcmp(evtls_conn_get_info(c)->alpn, "h2") == 0;
}

evtls__h2 *evtls__h2_of(const evtls_conn *c)
{
    return evtls__conn_proto(c);
}

static void fail_all(evtls__h2 *h, int err, uint32_t code, const char *detail)
{
    h->dead = 1;
    event_del(&h->ping_ev);
    if (h->dead_err == 0)
        h->dead_err = err;
    evtls__h2_stream *s;
    TAILQ_FOREACH(s, &h->streams, link)
    {
        forget(s);
        if (s->sent)
            stream_end(s, err, code, detail);
        else /* never sent: nothing reached the server, it may go again */
            stream_end(s, EVTLS_ERR_H2_REFUSED, NGHTTP2_REFUSED_STREAM,
                       "the connection ended before the request was sent");
    }
}

/* The session's end: with the connection (destroyed), or earlier. */
static void session_free(void *arg)
{
    evtls__h2 *h = arg;
    if (h->ng) {
        nghttp2_session_del(h->ng);
        h->ng = NULL;
    }
    /* Streams still open hear of it from the loop (never inside the free
     * that got here); the struct goes after the last. */
    h->c = NULL;
    event_del(&h->ping_ev);
    evtls__h2_stream *s;
    TAILQ_FOREACH(s, &h->streams, link)
    stream_end(s, EVTLS_ERR_CANCELLED, 0, "the connection was freed under the stream");
    free(h->pend);
    h->pend = NULL;
    if (TAILQ_EMPTY(&h->streams)) {
        event_del(&h->work_ev);
        free(h);
        return;
    }
    h->dead = 1;
    event_active(&h->work_ev, EV_TIMEOUT, 0);
}

static void on_read(evtls_conn *c, const uint8_t *data, ssize_t n, void *arg);
static void on_drain(evtls_conn *c, void *arg);

/* Read-idle long enough: a PING; its ACK late: the connection is dead. */
static void on_ping_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls__h2 *h = arg;
    if (h->c == NULL || h->dead)
        return;
    uint64_t now = evtls__now_us();
    if (h->ping_out) {
        h->n.pings_lost++;
        LOGI("h2: no PING ACK within %u ms: the connection is closed", h->ping_timeout_ms);
        evtls__conn_kill(h->c, EVTLS_ERR_H2_CONNECTION, "no answer to a PING: the peer is gone");
        return; /* the connection's failure reaches every stream through on_read */
    }
    if (now - h->last_read_us < h->ping_idle_us) { /* read since: wait the rest */
        arm_ping(h, h->ping_idle_us - (now - h->last_read_us));
        return;
    }
    if (nghttp2_submit_ping(h->ng, NGHTTP2_FLAG_NONE, NULL) == 0) {
        h->ping_out = 1;
        arm_ping(h, (uint64_t)h->ping_timeout_ms * 1000u);
        schedule(h);
    }
}

evtls__h2 *evtls__h2_get(evtls_conn *c)
{
    evtls__h2 *h = evtls__conn_proto(c);
    if (h)
        return h;
    nghttp2_session_callbacks *cbs = callbacks();
    nghttp2_option *opt = NULL;
    if (cbs == NULL || nghttp2_option_new(&opt) != 0)
        return NULL;
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_peer_max_concurrent_streams(opt, ASSUMED_STREAMS);
    /* a client has no use for closed streams (they serve a server's
     * priority tree): none kept */
    nghttp2_option_set_no_closed_streams(opt, 1);
    h = calloc(1, sizeof *h);
    if (h && nghttp2_session_client_new2(&h->ng, cbs, h, opt) != 0) {
        free(h);
        h = NULL;
    }
    nghttp2_option_del(opt);
    if (h == NULL)
        return NULL;
    h->c = c;
    h->cap = evtls__conn_cfg_values(c)->http2_max_streams;
    h->n.peer_max_streams = ASSUMED_STREAMS;
    evtls__conn_info_mut(c)->h2_peer_max_streams = ASSUMED_STREAMS;
    TAILQ_INIT(&h->streams);
    TAILQ_INIT(&h->due);
    event_assign(&h->work_ev, evtls_conn_get_base(c), -1, 0, work, h);
    event_assign(&h->ping_ev, evtls_conn_get_base(c), -1, 0, on_ping_timer, h);
    const struct evtls__cfg_values *v = evtls__conn_cfg_values(c);
    h->ping_idle_us = (uint64_t)v->http2_ping_idle_ms * 1000u;
    h->ping_timeout_ms = v->http2_ping_timeout_ms;
    h->last_read_us = evtls__now_us();
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 0}, /* the server opens none */
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, HEADER_LIST_MAX},
    };
    int rc = nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    if (rc == 0)
        rc = nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
    if (rc == 0 && evtls_conn_read_start(c, on_read, h) != 0)
        rc = -1;
    if (rc != 0) {
        nghttp2_session_del(h->ng);
        free(h);
        return NULL;
    }
    evtls__conn_set_proto(c, h, session_free);
    schedule(h); /* the preface and SETTINGS go out from the loop */
    arm_ping(h, h->ping_idle_us);
    return h;
}

int evtls__h2_closed(const evtls__h2 *h)
{
    return h == NULL || h->dead || h->draining || h->c == NULL ||
           (h->ng && nghttp2_session_get_next_stream_id(h->ng) >= (1u << 31));
}

unsigned evtls__h2_limit(const evtls__h2 *h)
{
    if (evtls__h2_closed(h))
        return 0;
    return h->cap < h->n.peer_max_streams ? h->cap : h->n.peer_max_streams;
}

void evtls__h2_get_counts(const evtls__h2 *h, evtls__h2_counts *out)
{
    if (h)
        *out = h->n;
    else
        memset(out, 0, sizeof *out);
}

/* RFC 9113 section 8.2.2: connection-specific fields are not sent. */
static int connection_specific(const char *name, const char *value)
{
    static const char *const drop[] = {
        "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        if (strcasecmp(name, drop[i]) == 0)
            return 1;
    return strcasecmp(name, "te") == 0 && strcasecmp(value, "trailers") != 0;
}

int evtls__h2_submit(evtls__h2 *h, const evtls_http_req *req, const evtls__h2_sink *sink, void *ctx,
                     int has_producer, evtls__h2_stream **out)
{
    *out = NULL;
    if (evtls__h2_closed(h)) /* draining: the server would not process it */
        return h && h->dead_err ? h->dead_err : h && h->c ? EVTLS_ERR_H2_REFUSED : EVTLS_ERR_STATE;
    evtls__h2_stream *s = calloc(1, sizeof *s);
    /* the fields and the lower-cased names: on the stack for the usual
     * request (nghttp2 copies them) */
    nghttp2_nv nv_stack[24];
    char names_stack[512];
    size_t max_nv = req->nh + 8;
    size_t names_len = 0;
    for (size_t i = 0; i < req->nh; i++)
        names_len += strlen(req->h[i].name) + 1;
    nghttp2_nv *nv = max_nv <= 24 ? nv_stack : calloc(max_nv, sizeof *nv);
    char *names = names_len < sizeof names_stack ? names_stack : malloc(names_len + 1);
    if (s && req->body_len && (s->own_body = malloc(req->body_len)) != NULL)
        memcpy(s->own_body, req->body, req->body_len); /* the request may go first */
    if (s == NULL || (req->body_len && s->own_body == NULL) || nv == NULL || names == NULL) {
        if (s)
            free(s->own_body);
        free(s);
        if (nv != nv_stack)
            free(nv);
        if (names != names_stack)
            free(names);
        return EVTLS_ERR_NOMEM;
    }
    const char *authority = req->authority;
    for (size_t i = 0; i < req->nh; i++)
        if (strcasecmp(req->h[i].name, "Host") == 0)
            authority = req->h[i].value;
    size_t k = 0;
#define NV(n, nl, v)                                                                               \
    nv[k++] = (nghttp2_nv){(uint8_t *)(n), (uint8_t *)(v), (nl), strlen(v), NGHTTP2_NV_FLAG_NONE}
    NV(":method", 7, req->method);
    NV(":scheme", 7, evtls__conn_cfg_values(h->c)->plain_tcp ? "http" : "https");
    NV(":authority", 10, authority);
    NV(":path", 5, req->target);
    int has_ua = 0, has_accept = 0;
    char *p = names;
    for (size_t i = 0; i < req->nh; i++) {
        const char *name = req->h[i].name, *value = req->h[i].value;
        if (connection_specific(name, value))
            continue;
        size_t nl = strlen(name);
        for (size_t j = 0; j <= nl; j++)
            p[j] = (char)((name[j] >= 'A' && name[j] <= 'Z') ? name[j] + 32 : name[j]);
        has_ua |= strcmp(p, "user-agent") == 0;
        has_accept |= strcmp(p, "accept") == 0;
        NV(p, nl, value);
        p += nl + 1;
    }
    if (!has_ua)
        NV("user-agent", 10, "evtls/0.1");
    if (!has_accept)
        NV("accept", 6, "*/*");
    char length[24];
    int needs_length = req->has_body || strcmp(req->method, "POST") == 0 ||
                       strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0;
    if (has_producer && req->produce_len != EVTLS_HTTP_LENGTH_UNKNOWN)
        snprintf(length, sizeof length, "%llu", (unsigned long long)req->produce_len);
    else if (!has_producer && needs_length)
        snprintf(length, sizeof length, "%zu", req->body_len);
    else
        length[0] = '\0';
    if (length[0])
        NV("content-length", 14, length);
#undef NV
    s->h = h;
    s->sink = sink;
    s->ctx = ctx;
    s->has_producer = has_producer;
    s->produce_left = req->produce_len;
    s->body = s->own_body;
    s->body_len = req->body_len;
    h2_provider prd;
    memset(&prd, 0, sizeof prd);
    prd.source.ptr = s;
    prd.read_callback = read_body;
    int has_data = has_producer || req->body_len > 0;
    int32_t id = H2_SUBMIT_REQUEST(h->ng, NULL, nv, k, has_data ? &prd : NULL, s);
    if (nv != nv_stack)
        free(nv);
    if (names != names_stack)
        free(names);
    if (id < 0) {
        free(s->own_body);
        free(s);
        if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE)
            return EVTLS_ERR_H2_REFUSED; /* ids used up: another connection */
        return id == NGHTTP2_ERR_NOMEM ? EVTLS_ERR_NOMEM : EVTLS_ERR_STATE;
    }
    s->id = id;
    TAILQ_INSERT_TAIL(&h->streams, s, link);
    h->open++;
    h->n.streams++;
    evtls__conn_info_mut(h->c)->h2_streams++;
    schedule(h); /* HEADERS go out from the loop, with the other streams' */
    *out = s;
    return 0;
}

/* ---- the loop's side: deliveries, producers, sending */

/* Gives s what is due; s may be gone after. */
static void deliver_one(evtls__h2_stream *s)
{
    evtls__h2 *h = s->h;
    if (s->head_due && !s->head_given) {
        s->head_given = 1;
        if (s->sink->head(s->ctx) != 0) {
            /* the exchange stopped (it ended itself through its sink) */
            return;
        }
    }
    if (s->ack && h && h->ng) { /* taken while nghttp2 parsed */
        nghttp2_session_consume(h->ng, s->id > 0 ? s->id : -s->id, s->ack);
        s->ack = 0;
    }
    size_t off = 0;
    while (off < s->rx_len && s->head_given) {
        size_t n = s->rx_len - off;
        /* the sink sees the pieces as they came, up to 16 KiB at a time */
        if (n > PIECE)
            n = PIECE;
        if (s->sink->data(s->ctx, s->rx + off, n) != 0)
            return; /* the stream was cancelled or failed: s is gone */
        off += n;
        /* acknowledged as taken (a closed stream's: the connection's part) */
        if (h && h->ng)
            nghttp2_session_consume(h->ng, s->id > 0 ? s->id : -s->id, n);
    }
    if (off) {
        memmove(s->rx, s->rx + off, s->rx_len - off);
        s->rx_len -= off;
    }
    if (s->done_due) {
        unlink_stream(s);
        int reusable = h && h->c && !evtls__h2_closed(h);
        const evtls__h2_sink *sink = s->sink;
        void *ctx = s->ctx;
        int err = s->done_err;
        uint32_t code = s->done_code;
        const char *detail = s->done_detail;
        free(s->rx);
        free(s->piece);
        free(s->own_body);
        free(s);
        sink->done(ctx, err, code, detail, reusable, h == NULL || h->c == NULL);
    }
}

/* The producers whose stream waits for data: their next piece, outside
 * nghttp2. Returns 1 when some stream got data to send. */
static int produce(evtls__h2 *h)
{
    int any = 0;
    evtls__h2_stream *s, *next;
    for (s = TAILQ_FIRST(&h->streams); s; s = next) {
        next = TAILQ_NEXT(s, link);
        if (!s->has_producer || !s->wants_data || s->paused || s->produced_all || s->done_due ||
            s->id <= 0)
            continue;
        if (s->piece == NULL && (s->piece = malloc(PIECE)) == NULL) {
            evtls__h2_stream_cancel(s);
            continue;
        }
        size_t cap = PIECE;
        if (s->produce_left != EVTLS_HTTP_LENGTH_UNKNOWN && s->produce_left < cap)
            cap = (size_t)s->produce_left;
        long n = cap ? s->sink->produce(s->ctx, s->piece, cap) : 0;
        if (h->c == NULL)
            return 0; /* the connection was freed from inside the producer */
        if (n == EVTLS_HTTP_BODY_PAUSE) {
            s->paused = 1;
            continue;
        }
        if (n == EVTLS_ERR_CANCELLED)
            continue; /* the exchange went meanwhile (its cancel freed s) */
        if (n < 0 || (size_t)n > cap ||
            (n == 0 && s->produce_left != EVTLS_HTTP_LENGTH_UNKNOWN && s->produce_left > 0)) {
            int err = n < 0 ? (int)n : EVTLS_ERR_INVALID_ARG;
            if (n >= 0)
                LOGW("h2: the body producer gave %s bytes than the length it announced",
                     n == 0 ? "fewer" : "more");
            nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
            forget(s);
            stream_end(s, err, NGHTTP2_CANCEL, "the request body failed");
            continue;
        }
        s->piece_len = (size_t)n;
        s->piece_off = 0;
        if (s->produce_left != EVTLS_HTTP_LENGTH_UNKNOWN)
            s->produce_left -= (uint64_t)n;
        if (n == 0 || s->produce_left == 0)
            s->produced_all = 1;
        s->wants_data = 0;
        nghttp2_session_resume_data(h->ng, s->id);
        any = 1;
    }
    return any;
}

/* Keeps n bytes the write buffer did not take (in order, after what is
 * kept already): the session holds output only under backpressure. */
static int keep(evtls__h2 *h, const uint8_t *data, size_t n)
{
    if (h->pend_len + n > h->pend_cap) {
        size_t cap = h->pend_cap ? h->pend_cap : PIECE;
        while (cap < h->pend_len + n)
            cap *= 2;
        uint8_t *b = realloc(h->pend, cap);
        if (b == NULL)
            return EVTLS_ERR_NOMEM;
        h->pend = b;
        h->pend_cap = cap;
    }
    memcpy(h->pend + h->pend_len, data, n);
    h->pend_len += n;
    return 0;
}

/* Writes n bytes, or keeps what the write buffer does not take. */
static int put(evtls__h2 *h, const uint8_t *data, size_t n)
{
    if (h->pend_off < h->pend_len)
        return keep(h, data, n);
    while (n > 0) {
        size_t k = n > PIECE ? PIECE : n;
        int rc = evtls_conn_write(h->c, data, k);
        if (rc == EVTLS_ERR_WOULDBLOCK)
            return keep(h, data, n);
        if (rc != 0)
            return rc;
        data += k;
        n -= k;
    }
    return 0;
}

/* Frames are gathered here, per thread, up to a record's worth: the
 * HEADERS of many streams leave in one TLS record and one send, and an
 * idle session holds no output buffer. */
static _Thread_local uint8_t scratch[2 * PIECE];

/* Queues what nghttp2 has to send, as far as the write buffer takes it. */
static int flush(evtls__h2 *h)
{
    while (h->pend_off < h->pend_len) {
        size_t n = h->pend_len - h->pend_off;
        if (n > PIECE)
            n = PIECE;
        int rc = evtls_conn_write(h->c, h->pend + h->pend_off, n);
        if (rc == EVTLS_ERR_WOULDBLOCK) {
            evtls_conn_set_drain_cb(h->c, on_drain, h);
            return 0;
        }
        if (rc != 0)
            return rc;
        h->pend_off += n;
    }
    free(h->pend); /* drained: nothing held while idle */
    h->pend = NULL;
    h->pend_off = h->pend_len = h->pend_cap = 0;
    for (;;) {
        size_t used = 0;
        int rc = 0;
        while (used < PIECE && rc == 0) {
            const uint8_t *data;
            h2_ssize n = H2_MEM_SEND(h->ng, &data);
            if (n < 0)
                return EVTLS_ERR_H2_CONNECTION;
            if (n == 0) {
                if (!produce(h))
                    break;
                if (h->c == NULL)
                    return 0;
                continue;
            }
            if (used + (size_t)n > sizeof scratch) {
                rc = put(h, scratch, used);
                used = 0;
                if (rc == 0 && (size_t)n > sizeof scratch) {
                    rc = put(h, data, (size_t)n);
                    continue;
                }
            }
            memcpy(scratch + used, data, (size_t)n);
            used += (size_t)n;
        }
        if (rc == 0 && used)
            rc = put(h, scratch, used);
        if (rc != 0)
            return rc;
        if (h->pend_off < h->pend_len) { /* the write buffer is full: on drain */
            evtls_conn_set_drain_cb(h->c, on_drain, h);
            return 0;
        }
        if (used == 0)
            break;
    }
    evtls_conn_set_drain_cb(h->c, NULL, NULL);
    return 0;
}

/* Deliveries, then sending: after nghttp2 read, from the session's event
 * and on drain. The connection is held: a sink may free it, and then h
 * goes at the end with it. */
static void run(evtls__h2 *h, int send)
{
    if (h->working)
        return;
    evtls_conn *c = h->c;
    if (c == NULL) { /* the connection is gone: only the streams' ends */
        h->working = 1;
        evtls__h2_stream *s;
        while ((s = TAILQ_FIRST(&h->due)) != NULL)
            deliver_one(s);
        h->working = 0;
        if (TAILQ_EMPTY(&h->streams)) {
            event_del(&h->work_ev);
            free(h);
        }
        return;
    }
    evtls__conn_hold(c);
    h->working = 1;
    for (int round = 0; round < 4; round++) {
        evtls__h2_stream *s;
        while ((s = TAILQ_FIRST(&h->due)) != NULL && h->c) {
            TAILQ_REMOVE(&h->due, s, due_link);
            s->on_due = 0;
            deliver_one(s);
        }
        if (h->c == NULL || h->dead || evtls_conn_get_state(c) != EVTLS_STATE_CONNECTED)
            break;
        if (!send)
            break; /* the session's event sends, once the read burst is over */
        int rc = flush(h);
        if (rc != 0 && h->c) {
            fail_all(h, rc, 0, "the connection failed while sending");
            continue;
        }
        if (TAILQ_EMPTY(&h->due))
            break;
    }
    h->working = 0;
    if (!evtls__conn_unhold(c) && h->c && (!send || !TAILQ_EMPTY(&h->due)))
        event_active(&h->work_ev, EV_TIMEOUT, 0);
}

static void work(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    run(arg, 1);
}

static void on_drain(evtls_conn *c, void *arg)
{
    (void)c;
    run(arg, 1);
}

static void on_read(evtls_conn *c, const uint8_t *data, ssize_t n, void *arg)
{
    (void)c;
    evtls__h2 *h = arg;
    if (n > 0)
        h->last_read_us = evtls__now_us();
    if (n > 0 && !h->dead) {
        h2_ssize rv = H2_MEM_RECV(h->ng, data, (size_t)n);
        if (rv < 0) {
            LOGD("h2: connection error: %s", nghttp2_strerror((int)rv));
            h->dead_code = NGHTTP2_PROTOCOL_ERROR;
            fail_all(h, EVTLS_ERR_H2_CONNECTION, NGHTTP2_PROTOCOL_ERROR,
                     "the server broke the HTTP/2 protocol");
        } else if (h->dead_err && h->open == 0) {
            h->dead = 1; /* a GOAWAY with an error, every stream done */
        }
    } else if (n <= 0) {
        int err = (int)n;
        if (n == EVTLS_EOF || n == EVTLS_ERR_PEER_CLOSED)
            err = h->draining && h->open == 0 ? EVTLS_ERR_PEER_CLOSED : EVTLS_ERR_HTTP_TRUNCATED;
        if (h->dead_err)
            err = h->dead_err;
        fail_all(h, err, h->dead_code, "the connection ended");
    }
    /* what the read brought is given now; what it makes nghttp2 send
     * (new streams, WINDOW_UPDATE, acks) leaves once the burst of records
     * is read: one record and one send for many responses' successors */
    run(h, 0);
}
