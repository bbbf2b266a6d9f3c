/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_resolver_int.h - asynchronous lookups for the connection layer. */
#ifndef EVTLS_RESOLVER_INT_H
#define EVTLS_RESOLVER_INT_H

#include <stddef.h>
#include <stdint.h>
#include "evtls/resolver.h"
#include "evtls_addr.h"

#define EVTLS__MAX_ADDRS 16 /* per family */

typedef struct evtls__lookup evtls__lookup;

/* One family's answer (family 4 or 6): err 0 with n >= 1 addresses (port
 * set), or an evtls_err with n == 0. last is set on the final call; the
 * lookup is freed when that call returns. Always called from the event
 * loop, never from inside evtls__resolve(). When both families are asked,
 * answers already at hand come IPv6 first. */
typedef void (*evtls__resolve_cb)(int family, int err, const evtls__addr *addrs, size_t n, int last,
                                  void *arg);

/* What Happy Eyeballs remembers of the destinations r's users dialled. */
struct evtls__history *evtls__resolver_history(evtls_resolver *r);

/* Adds a reference to r and returns it. */
evtls_resolver *evtls__resolver_ref(evtls_resolver *r);

/* Starts resolving the name host for family (0: AAAA and A, 4: A, 6:
 * AAAA); numeric hosts are the caller's business (they need no lookup).
 * Returns the lookup, or NULL when out of memory (cb is then never called). */
evtls__lookup *evtls__resolve(evtls_resolver *r, const char *host, uint16_t port, int family,
                              evtls__resolve_cb cb, void *arg);

/* Cancels a lookup; its callback is not called again. Safe inside it. */
void evtls__resolve_cancel(evtls__lookup *l);

#endif
