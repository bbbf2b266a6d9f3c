/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evtls/mem.h - where the memory of TLS connections goes.
 *
 * When evtls initialises wolfSSL (on the first evtls_cfg_build), it routes
 * wolfSSL's allocations through a thin layer over malloc that counts the
 * live bytes of each owner below, and that lets a connection give back the
 * pages of wolfSSL's per-connection session object that stay all zero
 * (about 32 KB of its 37.5 KB with Debian's wolfSSL build, whose session
 * carries two fixed nine-certificate chain arrays).
 */
#ifndef EVTLS_MEM_H
#define EVTLS_MEM_H

#include <stddef.h>
#include "evtls/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Who holds a live block. wolfSSL's blocks are attributed to what evtls
 * was doing when wolfSSL allocated them. */
typedef enum {
    EVTLS_MEM_TLS_SESSION,   /* wolfSSL session objects (one per connection, and copies) */
    EVTLS_MEM_TLS_CONN,      /* the rest of wolfSSL_new: the WOLFSSL object and its parts */
    EVTLS_MEM_TLS_HANDSHAKE, /* kept from the handshake: peer certificate copy, cipher
                                states; also wolfSSL's per-thread ECC point cache */
    EVTLS_MEM_TLS_RECORDS,   /* allocated while reading, writing or closing */
    EVTLS_MEM_TLS_CONFIG,    /* WOLFSSL_CTX: trusted CAs, keys, lists */
    EVTLS_MEM_TLS_OTHER,     /* any other wolfSSL allocation (serialising sessions, ...) */
    EVTLS_MEM_EVTLS,         /* evtls's own connection and TLS state */
    EVTLS_MEM_OWNERS
} evtls_mem_owner;

/* A snapshot of the counters (all zero when the accounting is off). */
typedef struct evtls_mem_stats {
    int enabled;                     /* 1 when evtls's allocator layer is in use */
    size_t bytes[EVTLS_MEM_OWNERS];  /* live bytes asked for, per owner */
    size_t blocks[EVTLS_MEM_OWNERS]; /* live blocks, per owner */
    size_t released_pages;           /* zero pages given back so far (cumulative) */
    /* wolfSSL's session object, when it is large enough to get pages of its
     * own (whose empty ones are given back after each handshake): its size;
     * 0 when it is small and stays in the heap (a build without
     * SESSION_CERTS, like the tuned one). */
    size_t session_object_bytes;
} evtls_mem_stats;

/* Fills s with the current counters. Safe from any thread. */
EVTLS_API void evtls_mem_get_stats_sized(evtls_mem_stats *s, size_t size);
static inline void evtls_mem_get_stats(evtls_mem_stats *s)
{
    evtls_mem_get_stats_sized(s, sizeof(evtls_mem_stats));
}

/* Returns a short name for an owner ("tls-session", ...), or "?". */
EVTLS_API const char *evtls_mem_owner_name(evtls_mem_owner owner);

/* Keeps evtls from installing its allocator layer. Call it before the
 * first evtls call if the program itself allocates wolfSSL objects before
 * evtls initialises and frees them afterwards (a layer installed between
 * the two would be handed blocks it did not make). evtls never installs
 * its layer over allocators the program set with wolfSSL_SetAllocators. */
EVTLS_API void evtls_mem_layer_disable(void);

#ifdef __cplusplus
}
#endif

#endif /* EVTLS_MEM_H */
