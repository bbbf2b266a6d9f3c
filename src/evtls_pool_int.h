/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_pool_int.h - what the client needs of a pool and the public API
 * does not offer (internal). */
#ifndef EVTLS_POOL_INT_H
#define EVTLS_POOL_INT_H

#include "evtls/pool.h"

/* Closes every idle connection of the origin: after a request met the
 * keep-alive race on one of them, the others (idle as long or longer) are
 * not trusted either, and the retry gets a new connection. */
void evtls__pool_drop_idle(evtls_pool *p, const evtls_cfg *cfg, const char *host, uint16_t port);

/* evtls_pool_checkout for a request that may go as TLS 1.3 early data
 * (its HTTP/1.1 bytes, len of them, valid until the callback or a
 * cancel): an idle connection is given as usual; a connection dialled for
 * this checkout carries the bytes with its ClientHello and is given to
 * this checkout alone. One it stopped waiting for (a cancel, a timeout,
 * another connection first) is closed when the server took its early
 * data, and serves the next waiter when it did not. */
int evtls__pool_checkout_early(evtls_pool *p, evtls_cfg *cfg, const char *host, uint16_t port,
                               const uint8_t *early, size_t len, evtls_checkout_cb cb, void *arg,
                               evtls_checkout **handle);

#endif
