/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn_close.h - the end of a connection (internal). */
#ifndef EVTLS_CONN_CLOSE_H
#define EVTLS_CONN_CLOSE_H

#include "evtls_conn_core.h"

/* The socket is ready in CLOSING. */
void evtls__conn_close_step(evtls_conn *c);
/* The close timeout fired in CLOSING. */
void evtls__conn_close_timeout(evtls_conn *c);

#endif
