/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn_stream.c - an established connection's reading and writing:
 * plaintext queued and flushed through TLS, records read in bursts fair to
 * the rest of the loop, and the liveness check a pool makes before reuse.
 * State CONNECTED; a peer's close_notify moves to CLOSED, an error to
 * FAILED (evtls__conn_fail). */
#include <event2/buffer.h>
#include <event2/event.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "evtls_conn_connect.h"
#include "evtls_conn_stream.h"
#include "evtls_log_int.h"
#include "evtls_time.h"

/* Writes queued data until the buffer is empty or the socket blocks.
 * Returns 0, or 1 when the connection failed (already reported if
 * report is set, else left for the deferred path). Used by closing too. */
int evtls__conn_flush_out(evtls_conn *c)
{
    while (c->out && evbuffer_get_length(c->out) > 0) {
        size_t len = evbuffer_get_length(c->out);
        if (c->write_inflight)
            len = c->write_inflight; /* wolfSSL needs the same bytes again */
        else if (len > EVTLS__READ_CHUNK)
            len = EVTLS__READ_CHUNK;
        const uint8_t *p = evbuffer_pullup(c->out, (ev_ssize_t)len);
        evtls__tls_status st = evtls__tls_write(c->tls, p, len, &c->err);
        if (st == EVTLS__TLS_DONE) {
            evbuffer_drain(c->out, len);
            c->write_inflight = 0;
            continue;
        }
        if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE) {
            c->write_inflight = len;
            c->wr_wait = evtls__conn_wait_of(st);
            return 0;
        }
        return 1;
    }
    return 0;
}

void evtls__conn_do_write(evtls_conn *c)
{
    if (evtls__conn_flush_out(c)) {
        evtls__conn_fail(c, c->err.code);
        return;
    }
    if (evbuffer_get_length(c->out) == 0 && c->drain_cb) {
        evtls__conn_user_enter(c);
        c->drain_cb(c, c->drain_arg);
        if (evtls__conn_user_leave(c))
            return;
    }
    if (c->state == EVTLS_STATE_CONNECTED)
        evtls__conn_io_update(c);
}

/* Reads records to the read callback: a burst of at most EVTLS__READS_PER_EVENT
 * records or EVTLS__READ_BURST_US, then the rest waits for the loop's next pass
 * (a zero timer: it fires after the next poll of the sockets, so every
 * other socket and timer of the loop gets its turn first; event_active
 * would run it again within this same pass). */
void evtls__conn_do_read(evtls_conn *c)
{
    uint8_t buf[EVTLS__READ_CHUNK];
    uint64_t start_us = evtls__now_us();
    c->burst_bytes = 0;
    for (int i = 0;
         i < EVTLS__READS_PER_EVENT && evtls__conn_reading(c) && c->state == EVTLS_STATE_CONNECTED;
         i++) {
        if (i > 0 && evtls__now_us() - start_us >= EVTLS__READ_BURST_US)
            break;
        size_t n = 0;
        evtls__tls_status st = evtls__tls_read(c->tls, buf, sizeof buf, &n, &c->err);
        evtls__conn_harvest_session(c);
        if (st == EVTLS__TLS_DONE) {
            c->burst_bytes += (uint32_t)n;
            evtls__conn_user_enter(c);
            c->read_cb(c, buf, (ssize_t)n, c->read_arg);
            if (evtls__conn_user_leave(c))
                return;
            continue;
        }
        if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE) {
            c->rd_wait = evtls__conn_wait_of(st);
            /* bytes below the wake-up mark wait EVTLS__LOWAT_PEEK_MS at most */
            evtls__conn_set_read(c, c->rcvlowat ? READ_PEEK : READ_WAIT);
            return;
        }
        if (st == EVTLS__TLS_EOF) {
            LOGD("conn#%lu: peer sent close_notify", c->id);
            evtls__conn_set_read(c, READ_OFF);
            evtls__conn_set_state(c, EVTLS_STATE_CLOSED);
            evtls_read_cb cb = c->read_cb;
            evtls__conn_teardown(c, 0);
            evtls__conn_user_enter(c);
            cb(c, NULL, EVTLS_EOF, c->read_arg);
            evtls__conn_user_leave(c);
            return;
        }
        evtls__conn_fail(c, c->err.code);
        return;
    }
    /* Still readable after a fair share: come back on the next pass. */
    if (evtls__conn_reading(c) && c->state == EVTLS_STATE_CONNECTED)
        evtls__conn_set_read(c, READ_YIELD);
}

static void set_lowat(evtls_conn *c, uint32_t v)
{
    int val = v ? (int)v : 1;
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &val, sizeof val) != 0) {
        LOGD("conn#%lu: SO_RCVLOWAT %d: %s", c->id, val, strerror(errno));
        v = 0;
    }
    c->rcvlowat = v;
}

void evtls__conn_set_exchange(evtls_conn *c, int on)
{
    c->exchange = on ? 1 : 0;
}

int evtls__conn_has_exchange(const evtls_conn *c)
{
    return c->exchange;
}

int evtls__conn_claim_early(evtls_conn *c, const uint8_t *bytes, size_t len)
{
    if (c->early == NULL || c->early_claimed)
        return 0;
    c->early_claimed = 1;
    int same = len == c->early_len && memcmp(bytes, c->early, len) == 0;
    if (c->info.early_data != EVTLS_EARLY_DATA_ACCEPTED)
        return 0;
    if (!same) {
        evtls__err_set(&c->err, EVTLS_ERR_STATE,
                       "the server accepted other early data: it answers another request");
        return EVTLS_ERR_STATE;
    }
    return 1;
}

void evtls__conn_hold(evtls_conn *c)
{
    evtls__conn_user_enter(c);
}

int evtls__conn_unhold(evtls_conn *c)
{
    return evtls__conn_user_leave(c);
}

void evtls__conn_expect(evtls_conn *c, uint64_t more)
{
    uint64_t want = more > EVTLS__LOWAT_SLACK ? more - EVTLS__LOWAT_SLACK : 0;
    if (want > EVTLS__LOWAT_MAX)
        want = EVTLS__LOWAT_MAX;
    if (c->rcvlowat == 0) {
        if (want >= EVTLS__LOWAT_MIN && c->burst_bytes >= EVTLS__LOWAT_FAST) {
            set_lowat(c, (uint32_t)want);
            c->info.read_marks += c->rcvlowat != 0;
        }
        return;
    }
    if (want >= c->rcvlowat)
        return;
    /* Never above what must still come: halved (a few calls a body, not
     * one a record), and back to every byte below the minimum. */
    uint32_t v = c->rcvlowat;
    while (v > want)
        v /= 2;
    set_lowat(c, v < EVTLS__LOWAT_MIN ? 0 : v);
}

void evtls__conn_lowat_off(evtls_conn *c)
{
    if (c->rcvlowat)
        set_lowat(c, 0);
}

int evtls_conn_check_alive(evtls_conn *c)
{
    /* Inside one of c's own callbacks too (the next checkout is often made
     * from an exchange's done callback): the read below is not nested in
     * another TLS call, since the callback runs between them. */
    if (c == NULL || c->state != EVTLS_STATE_CONNECTED || evtls__conn_reading(c))
        return 0;
    /* One non-blocking TLS read: WANT_READ means nothing came but what
     * TLS itself consumes (a late session ticket); anything else (data,
     * close_notify, EOF, an error) means the connection is not reusable. */
    uint8_t b[1];
    size_t n = 0;
    evtls__tls_status st = evtls__tls_read(c->tls, b, sizeof b, &n, &c->err);
    evtls__conn_harvest_session(c);
    if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE)
        return 1;
    LOGD("conn#%lu: idle connection is %s", c->id,
         st == EVTLS__TLS_DONE  ? "receiving unexpected data"
         : st == EVTLS__TLS_EOF ? "closed by the peer"
                                : "broken");
    return 0;
}

int evtls_conn_read_start(evtls_conn *c, evtls_read_cb cb, void *arg)
{
    if (c == NULL || cb == NULL)
        return EVTLS_ERR_INVALID_ARG;
    if (c->state != EVTLS_STATE_CONNECTED)
        return c->state == EVTLS_STATE_FAILED ? c->err.code : EVTLS_ERR_STATE;
    c->read_cb = cb;
    c->read_arg = arg;
    if (!evtls__conn_reading(c)) {
        evtls__conn_set_read(c, READ_WAIT);
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
    evtls__conn_set_read(c, READ_OFF); /* the socket's events follow */
    evtls__conn_lowat_off(c);
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
    if (evtls__conn_flush_out(c)) {
        c->pending_error = 1; /* reported from the loop, not from this call */
        evtls__conn_defer(c);
        return 0;
    }
    if (evbuffer_get_length(c->out) == 0) {
        if (c->drain_cb) {
            c->pending_drain = 1;
            evtls__conn_defer(c);
        }
    } else {
        evtls__conn_io_update(c);
    }
    return 0;
}

size_t evtls_conn_get_write_pending(const evtls_conn *c)
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

int evtls_conn_set_drain_cb(evtls_conn *c, evtls_drain_cb cb, void *arg)
{
    if (c == NULL)
        return EVTLS_ERR_INVALID_ARG;
    c->drain_cb = cb;
    c->drain_arg = arg;
    return 0;
}
