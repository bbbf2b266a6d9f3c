/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evtls/resolver.h - asynchronous name resolution on the caller's
 * event_base (libevent's evdns).
 *
 * AAAA and A are asked separately, so a connection can start on the first
 * family that answers (Happy Eyeballs, RFC 8305). Numeric addresses never
 * reach the resolver; names in the hosts file (and "localhost", RFC 6761)
 * are answered without DNS. Answers are cached for their TTL (at most one
 * hour) in a bounded cache; NXDOMAIN and empty answers for 5 s (RFC 2308).
 * Concurrent lookups of the same name share one query. Failures are
 * distinct: EVTLS_ERR_DNS_NXDOMAIN, EVTLS_ERR_DNS_NODATA (the name exists
 * but has no address of the family), EVTLS_ERR_DNS_SERVFAIL,
 * EVTLS_ERR_DNS_TIMEOUT, and EVTLS_ERR_DNS for anything else (refused,
 * malformed reply).
 */
#ifndef EVTLS_RESOLVER_H
#define EVTLS_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include "evtls/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct evtls_resolver evtls_resolver;

/* Creates a resolver on base. With nameserver NULL it reads the system's
 * /etc/resolv.conf; otherwise it asks only the given server, written
 * "IP", "IP:PORT" or "[IPv6]:PORT". /etc/hosts is read in both cases.
 * These files are read here, once, not on every lookup. Each query is
 * sent again after 2 s without an answer, 3 times at most.
 * Returns NULL on failure (out of memory or an unparsable nameserver). */
EVTLS_API evtls_resolver *evtls_resolver_new(struct event_base *base, const char *nameserver);

/* Replaces the hosts file read by evtls_resolver_new() with path (NULL:
 * none). Returns 0, or EVTLS_ERR_INVALID_ARG if the file cannot be read. */
EVTLS_API int evtls_resolver_set_hosts_file(evtls_resolver *r, const char *path);

/* Sets the most answers the cache keeps (default 128; 0 turns caching
 * off) and empties it. */
EVTLS_API int evtls_resolver_set_cache_size(evtls_resolver *r, size_t entries);

/* Forgets every cached answer. */
EVTLS_API void evtls_resolver_clear_cache(evtls_resolver *r);

/* Happy Eyeballs' memory (RFC 8305 sections 4 and 5), kept per destination
 * (name and port) for the connections that use this resolver: the address
 * that won recently is dialled first (a remembered winner that fails falls
 * back to the others at once, and is forgotten), an address that failed
 * recently is dialled last, and the attempt delay follows the connect
 * times measured (srtt + 4 * rttvar, within 100 ms .. 2 s). Sets the most
 * destinations remembered (default 1024, least recently used forgotten
 * first; 0 turns the memory off) and how long a fact is kept (default 10
 * minutes), and forgets everything. Returns 0, EVTLS_ERR_INVALID_ARG, or
 * EVTLS_ERR_STATE when a connect in progress holds an entry and the size
 * would change. `evtls_conn_get_info` says why an address went first. */
EVTLS_API int evtls_resolver_set_history(evtls_resolver *r, size_t max_entries, unsigned ttl_ms);

/* Forgets what Happy Eyeballs remembers. */
EVTLS_API void evtls_resolver_clear_history(evtls_resolver *r);

typedef struct evtls_resolver_stats {
    uint64_t lookups;    /* per family asked */
    uint64_t hosts_hits; /* answered from the hosts file */
    uint64_t cache_hits; /* answered from the cache */
    uint64_t queries;    /* DNS queries sent (not counting retransmissions) */
    uint64_t coalesced;  /* lookups that joined a query already in flight */
    size_t cache_entries;
    size_t history_entries; /* destinations Happy Eyeballs remembers */
} evtls_resolver_stats;

/* Copies the counters since creation. */
EVTLS_API void evtls_resolver_get_stats_sized(const evtls_resolver *r, evtls_resolver_stats *st,
                                              size_t size);
static inline void evtls_resolver_get_stats(const evtls_resolver *r, evtls_resolver_stats *st)
{
    evtls_resolver_get_stats_sized(r, st, sizeof(evtls_resolver_stats));
}

/* Adds a reference and returns r (NULL for NULL). */
EVTLS_API evtls_resolver *evtls_resolver_ref(evtls_resolver *r);

/* Drops the caller's reference. Connections that use the resolver hold
 * their own, so it lives until the last of them is freed. NULL is ignored. */
EVTLS_API void evtls_resolver_unref(evtls_resolver *r);

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_RESOLVER_H */
