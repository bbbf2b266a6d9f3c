/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evtls/session.h - a cache of TLS sessions for resumption, per origin.
 *
 * Sessions are kept serialised (DER, under 1 KB each, instead of a live
 * WOLFSSL_SESSION of tens of KB). For each origin (server name, host, port
 * and ALPN list) the newest sessions are kept, up to 4: a TLS 1.2 session
 * (ticket or session ID) may be offered again and again; a TLS 1.3 ticket
 * is offered once and then dropped (RFC 8446 section C.4). TLS 1.3 tickets
 * arrive after the handshake and are stored when they arrive, which needs
 * the connection to read at least once after connecting.
 *
 * A cache may be shared by any number of connections and pools on one
 * thread; it is reference-counted like a configuration.
 */
#ifndef EVTLS_SESSION_H
#define EVTLS_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "evtls/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct evtls_session_cache evtls_session_cache;

typedef struct evtls_session_stats {
    uint64_t stored;  /* sessions taken from connections */
    uint64_t offered; /* handshakes that offered a session */
    uint64_t resumed; /* ... and resumed */
    uint64_t refused; /* ... and got a full handshake instead */
    size_t origins;   /* origins with at least one session */
    size_t sessions;  /* sessions held */
} evtls_session_stats;

/* Creates an empty cache for up to max_origins origins (0: 256); the
 * least recently used origin is dropped beyond that. */
EVTLS_API evtls_session_cache *evtls_session_cache_new(size_t max_origins);

/* Sets how many single-use (TLS 1.3) tickets the cache keeps per origin
 * (default 4, at most 65536): the newest are kept. A client making many
 * concurrent connections to one origin wants about one per connection.
 * Returns 0, EVTLS_ERR_INVALID_ARG or EVTLS_ERR_NOMEM. */
EVTLS_API int evtls_session_cache_set_capacity(evtls_session_cache *sc, size_t per_origin);

/* Adds a reference and returns sc. */
EVTLS_API evtls_session_cache *evtls_session_cache_ref(evtls_session_cache *sc);

/* Drops a reference; the last frees the cache. NULL is ignored. */
EVTLS_API void evtls_session_cache_unref(evtls_session_cache *sc);

/* Forgets every session. */
EVTLS_API void evtls_session_cache_clear(evtls_session_cache *sc);

/* Writes every session to path (mode 0600, replaced atomically), so a
 * restarted process can resume. Returns 0 or EVTLS_ERR_INVALID_ARG. */
EVTLS_API int evtls_session_cache_save(const evtls_session_cache *sc, const char *path);

/* Adds the sessions saved in path. Returns the number loaded, or
 * EVTLS_ERR_INVALID_ARG when the file is missing or malformed, or is not a
 * regular file owned by the effective user and unwritable by group and
 * others (nothing is loaded then; a warning is logged for the last). */
EVTLS_API int evtls_session_cache_load(evtls_session_cache *sc, const char *path);

/* As evtls_session_cache_load, but only share index of count: the
 * sessions whose place in the file, from 0, is index modulo count. Threads
 * with a cache each load their own share of one file: a single-use TLS 1.3
 * ticket is offered by one of them, never by two. Returns the number
 * loaded, or EVTLS_ERR_INVALID_ARG (index not below count, and as above). */
EVTLS_API int evtls_session_cache_load_share(evtls_session_cache *sc, const char *path,
                                             unsigned index, unsigned count);

/* Adds a copy of every session of src to dst, oldest first (dst's
 * capacity per origin keeps the newest), e.g. the threads' caches into one
 * to save. Returns the number copied, or EVTLS_ERR_INVALID_ARG or NOMEM. */
EVTLS_API int evtls_session_cache_merge(evtls_session_cache *dst, const evtls_session_cache *src);

/* Copies the counters. */
EVTLS_API void evtls_session_cache_get_stats_sized(const evtls_session_cache *sc,
                                                   evtls_session_stats *st, size_t size);
static inline void evtls_session_cache_get_stats(const evtls_session_cache *sc,
                                                 evtls_session_stats *st)
{
    evtls_session_cache_get_stats_sized(sc, st, sizeof(evtls_session_stats));
}

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_SESSION_H */
