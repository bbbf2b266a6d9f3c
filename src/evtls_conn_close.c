/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn_close.c - the end of a connection: a graceful close (queued
 * data flushed, close_notify sent, the peer's close awaited when asked,
 * bounded by the close timeout) in state CLOSING; an abortive close (RST);
 * free from anywhere, inside the connection's own callbacks included; and
 * failing a pooled connection in place. */
#include <event2/buffer.h>
#include <event2/event.h>

#include <stdint.h>

#include "evtls_conn_close.h"
#include "evtls_conn_stream.h"
#include "evtls_log_int.h"

/* The close timeout fired: the rest is cut short with an RST. */
void evtls__conn_close_timeout(evtls_conn *c)
{
    c->close_err = EVTLS_ERR_TIMEOUT;
    evtls__conn_teardown(c, 1);
    evtls__conn_set_state(c, EVTLS_STATE_CLOSED);
    evtls__conn_set_life(c, LIFE_CLOSE_DUE);
}

void evtls__conn_close_step(evtls_conn *c)
{
    if (evtls__conn_flush_out(c)) {
        c->close_err = c->err.code;
        goto done;
    }
    if (c->out && evbuffer_get_length(c->out) > 0) {
        evtls__conn_io_update(c);
        return;
    }
    if (c->close_phase == CLOSE_FLUSH)
        c->close_phase = CLOSE_NOTIFY;
    if (c->close_phase == CLOSE_NOTIFY) {
        evtls__tls_status st = evtls__tls_shutdown(c->tls, &c->err);
        if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE) {
            c->close_wait = evtls__conn_wait_of(st);
            evtls__conn_io_update(c);
            return;
        }
        if (st == EVTLS__TLS_FAIL) {
            c->close_err = c->err.code;
            goto done;
        }
        c->close_phase = CLOSE_PEER;
        LOGD("conn#%lu: close_notify sent", c->id);
    }
    if (c->close_wait_peer) { /* CLOSE_PEER */
        /* Read and drop what the peer still sends until its close_notify or
         * its FIN: session tickets among it are stored. */
        uint8_t scratch[EVTLS__READ_CHUNK];
        for (;;) {
            size_t n = 0;
            evtls_last_error ignored;
            evtls__tls_status st = evtls__tls_read(c->tls, scratch, sizeof scratch, &n, &ignored);
            evtls__conn_harvest_session(c);
            if (st == EVTLS__TLS_WANT_READ || st == EVTLS__TLS_WANT_WRITE) {
                c->close_wait = evtls__conn_wait_of(st);
                evtls__conn_io_update(c);
                return;
            }
            if (st != EVTLS__TLS_DONE)
                break; /* close_notify, FIN or reset: the close is complete either way */
        }
        LOGD("conn#%lu: the peer's close seen", c->id);
    }
done:
    evtls__conn_teardown(c, c->close_err != 0);
    evtls__conn_set_state(c, EVTLS_STATE_CLOSED);
    evtls__conn_set_life(c, LIFE_CLOSE_DUE);
}

void evtls__conn_kill(evtls_conn *c, int code, const char *detail)
{
    if (c->state != EVTLS_STATE_CONNECTED)
        return;
    evtls__err_set(&c->err, code, "%s", detail);
    LOGD("conn#%lu: failed in place: %s", c->id, detail);
    evtls__conn_teardown(c, 1);
    evtls__conn_set_state(c, EVTLS_STATE_FAILED);
    if (c->read_cb && evtls__conn_reading(c)) {
        c->pending_error = 1; /* evtls__conn_fail() from the loop tells the reader */
        evtls__conn_defer(c);
    }
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
    if (c->state == EVTLS_STATE_CLOSING || c->life != LIFE_OPEN || evtls__log_in_handler())
        return EVTLS_ERR_STATE;
    if (evtls__conn_let_go(c, 1)) {
        LOGW("conn#%lu: close refused: other holders share this HTTP/2 connection (give it back "
             "with evtls_pool_checkin or evtls_pool_release)",
             c->id);
        return EVTLS_ERR_STATE;
    }
    c->connect_cb = NULL;
    c->read_cb = NULL;
    evtls__conn_set_read(c, READ_OFF);
    c->drain_cb = NULL;
    c->pending_drain = 0;
    c->pending_error = 0;
    c->close_cb = cb;
    c->close_arg = arg;
    c->close_err = 0;
    if (c->state == EVTLS_STATE_CONNECTED) {
        /* its close timeout armed, and the close starts from the loop */
        evtls__conn_set_state(c, EVTLS_STATE_CLOSING);
        return 0;
    }
    evtls__conn_teardown(c, 0);
    if (c->state != EVTLS_STATE_FAILED)
        evtls__conn_set_state(c, EVTLS_STATE_CLOSED);
    evtls__conn_set_life(c, LIFE_CLOSE_DUE);
    return 0;
}

static void free_now(evtls_conn *c, int rst)
{
    if (evtls__conn_let_go(c, 0))
        return; /* only this holder's share of a shared connection */
    c->connect_cb = NULL;
    c->read_cb = NULL;
    c->drain_cb = NULL;
    c->close_cb = NULL;
    evtls__conn_set_read(c, READ_OFF);
    evtls__conn_teardown(c, rst);
    evtls__conn_set_life(c, LIFE_FREED); /* destroyed now unless a callback still runs */
}

void evtls_conn_abort(evtls_conn *c)
{
    if (c && !evtls__log_in_handler())
        free_now(c, 1);
}

void evtls_conn_free(evtls_conn *c)
{
    if (c == NULL || evtls__log_in_handler())
        return;
    if (evtls__conn_let_go(c, 0))
        return; /* only this holder's share of a shared connection */
    if (c->state == EVTLS_STATE_CONNECTED && c->tls) {
        evtls_last_error ignored;
        evtls__tls_shutdown(c->tls, &ignored); /* best effort, never waits */
    }
    free_now(c, 0);
}
