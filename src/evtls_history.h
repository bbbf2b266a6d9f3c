/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_history.h - what Happy Eyeballs remembers per destination (name
 * and port), as RFC 8305 sections 4 and 5 allow (internal; pure: the
 * clock is passed in):
 *
 *   - the address that won recently, dialled first next time;
 *   - the address that failed recently, dialled last;
 *   - the connect times measured, smoothed as TCP smooths RTTs (RFC 6298),
 *     from which the attempt delay follows: srtt + 4 * rttvar within
 *     [100 ms, 2 s] (with no history the configured delay, 250 ms by
 *     default);
 *   - how many racing attempts (a connection's second socket and more) are
 *     in flight to the destination, for the race limit.
 *
 * The table is bounded (least recently used entries go first, never one a
 * dial holds), every fact expires after the TTL, and it can be cleared. */
#ifndef EVTLS_HISTORY_H
#define EVTLS_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "evtls/conn.h" /* evtls_order_reason */
#include "evtls_addr.h"
#include "evtls_origin.h"

#define EVTLS__HISTORY_DEFAULT_MAX    1024
#define EVTLS__HISTORY_DEFAULT_TTL_MS (10u * 60u * 1000u)
#define EVTLS__DELAY_MIN_MS           100
#define EVTLS__DELAY_MAX_MS           2000

struct evtls__dest {
    char key[EVTLS__ORIGIN_KEY_MAX]; /* "" when the slot is free */
    uint64_t hash;    /* of key: the other destinations are passed without a strcmp */
    uint64_t used_us; /* last acquired: the LRU order */
    unsigned refs;    /* dials holding the entry */
    unsigned racing;  /* racing attempts in flight */
    uint64_t won_us, failed_us, sampled_us; /* 0: no such fact */
    evtls__addr winner, loser;
    uint32_t srtt_us, rttvar_us, samples;
};

typedef struct evtls__history {
    struct evtls__dest *d;
    size_t cap;      /* 0: remembering is off */
    uint64_t ttl_us; /* a fact older than this is forgotten */
} evtls__history;

/* Sets the size (entries, 0 turns remembering off) and the TTL; forgets
 * everything not held. Returns 0, or -1 when out of memory (the old
 * table is kept). */
int evtls__history_configure(evtls__history *h, size_t cap, uint64_t ttl_ms);
void evtls__history_free(evtls__history *h);

/* Forgets every fact; entries held by dials stay, empty. */
void evtls__history_clear(evtls__history *h);

/* Entries in use. */
size_t evtls__history_size(const evtls__history *h);

/* The entry for host:port, made if new (evicting the least recently used
 * entry no dial holds), with a reference; NULL when remembering is off,
 * the table is full of held entries, or the host makes no key. */
struct evtls__dest *evtls__history_acquire(evtls__history *h, const char *host, uint16_t port,
                                           uint64_t now_us);
void evtls__history_release(struct evtls__dest *d);

/* Reorders addrs (n of them) by what d remembers. Returns the reason. */
evtls_order_reason evtls__history_order(const evtls__history *h, const struct evtls__dest *d,
                                        evtls__addr *addrs, size_t n, uint64_t now_us);

/* The attempt delay learnt for d, in ms, or 0 with no fresh samples (the
 * configured delay, 250 ms by default, applies then). */
unsigned evtls__history_delay_ms(const evtls__history *h, const struct evtls__dest *d,
                                 uint64_t now_us);

/* A connect to addr completed after connect_us: addr won. */
void evtls__history_won(const evtls__history *h, struct evtls__dest *d, const evtls__addr *addr,
                        uint32_t connect_us, uint64_t now_us);

/* A connect to addr failed (refused, unreachable, unanswered too long). */
void evtls__history_failed(struct evtls__dest *d, const evtls__addr *addr, uint64_t now_us);

#endif
