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

#endif
