/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn_connect.h - connect phase by phase, and the retry loop (internal). */
#ifndef EVTLS_CONN_CONNECT_H
#define EVTLS_CONN_CONNECT_H

#include "evtls_conn_core.h"

/* Starts the state machine (IDLE -> RESOLVING or CONNECTING). Returns 0
 * or an error, with the state back at IDLE. */
int evtls__conn_start(evtls_conn *c, const char *host, uint16_t port);
/* The socket is ready in HANDSHAKING. */
void evtls__conn_handshake_step(evtls_conn *c);
/* The socket is ready in PROXYING: the CONNECT request goes out, the
 * proxy's answer comes in; a 2xx starts TLS (or plain TCP) through it. */
void evtls__conn_proxy_step(evtls_conn *c);
/* Fails the current try: a retry if the policy allows one, else FAILED
 * and the error delivered to whoever waits. */
void evtls__conn_fail(evtls_conn *c, int code);
/* The phase timer fired in RESOLVING, CONNECTING or HANDSHAKING. */
void evtls__conn_phase_timeout(evtls_conn *c);
/* Loop callbacks: the total deadline, and the wait between tries. */
void evtls__conn_on_deadline(evutil_socket_t fd, short what, void *arg);
void evtls__conn_on_retry(evutil_socket_t fd, short what, void *arg);

#endif
