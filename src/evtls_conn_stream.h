/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn_stream.h - an established connection's reading and writing (internal). */
#ifndef EVTLS_CONN_STREAM_H
#define EVTLS_CONN_STREAM_H

#include "evtls_conn_core.h"

/* Writes queued data until empty or blocked. Returns 0, or 1 when the
 * connection failed (c->err filled; the caller reports it). */
int evtls__conn_flush_out(evtls_conn *c);
/* The socket is ready for the write path, or for the read path. */
void evtls__conn_do_write(evtls_conn *c);
void evtls__conn_do_read(evtls_conn *c);
/* Every byte wakes the loop again, and no peek is due: the peek found the
 * flow slow, or reading stopped. */
void evtls__conn_lowat_off(evtls_conn *c);

#endif
