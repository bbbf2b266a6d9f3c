/*
 * evtls/resolver.h - asynchronous name resolution on the caller's
 * event_base (libevent's evdns). Numeric addresses never reach it, and
 * /etc/hosts is consulted before any name server.
 */
#ifndef EVTLS_RESOLVER_H
#define EVTLS_RESOLVER_H

#include "evtls/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct evtls_resolver evtls_resolver;

/* Creates a resolver on base. With nameserver NULL it reads the system's
 * /etc/resolv.conf; otherwise it asks only the given server, written
 * "IP", "IP:PORT" or "[IPv6]:PORT". /etc/hosts is read in both cases.
 * These files are read here, once, not on every lookup.
 * Returns NULL on failure (out of memory or an unparsable nameserver). */
EVTLS_API evtls_resolver *evtls_resolver_new(struct event_base *base, const char *nameserver);

/* Drops the caller's reference. Connections that use the resolver hold
 * their own, so it lives until the last of them is freed. NULL is ignored. */
EVTLS_API void evtls_resolver_free(evtls_resolver *r);

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_RESOLVER_H */
