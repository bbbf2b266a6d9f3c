/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_history.c - Happy Eyeballs' memory: see evtls_history.h. */
#include "evtls_history.h"

#include <stdlib.h>
#include <string.h>

static int fresh(const evtls__history *h, uint64_t at_us, uint64_t now_us)
{
    return at_us != 0 && now_us >= at_us && now_us - at_us <= h->ttl_us;
}

static int same(const evtls__addr *a, const evtls__addr *b)
{
    return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static void forget(struct evtls__dest *d)
{
    d->won_us = d->failed_us = d->sampled_us = 0;
    d->srtt_us = d->rttvar_us = d->samples = 0;
}

int evtls__history_configure(evtls__history *h, size_t cap, uint64_t ttl_ms)
{
    h->ttl_us = ttl_ms * 1000u;
    if (cap == h->cap) {
        evtls__history_clear(h);
        return 0;
    }
    for (size_t i = 0; i < h->cap; i++)
        if (h->d[i].refs)
            return -1; /* a dial holds an entry: the size cannot change now */
    struct evtls__dest *d = NULL;
    if (cap && (d = calloc(cap, sizeof *d)) == NULL)
        return -1;
    free(h->d);
    h->d = d;
    h->cap = cap;
    return 0;
}

void evtls__history_free(evtls__history *h)
{
    free(h->d);
    h->d = NULL;
    h->cap = 0;
}

void evtls__history_clear(evtls__history *h)
{
    for (size_t i = 0; i < h->cap; i++) {
        forget(&h->d[i]);
        if (h->d[i].refs == 0)
            h->d[i].key[0] = '\0';
    }
}

size_t evtls__history_size(const evtls__history *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->cap; i++)
        n += h->d[i].key[0] != '\0';
    return n;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

struct evtls__dest *evtls__history_acquire(evtls__history *h, const char *host, uint16_t port,
                                           uint64_t now_us)
{
    char key[EVTLS__ORIGIN_KEY_MAX];
    if (h->cap == 0 || evtls__origin_key(key, sizeof key, host, port, "") < 0)
        return NULL;
    uint64_t hash = fnv1a(key);
    struct evtls__dest *free_slot = NULL, *lru = NULL;
    for (size_t i = 0; i < h->cap; i++) {
        struct evtls__dest *d = &h->d[i];
        if (d->key[0] == '\0') {
            if (free_slot == NULL)
                free_slot = d;
            continue;
        }
        if (d->hash == hash && strcmp(d->key, key) == 0) {
            d->used_us = now_us;
            d->refs++;
            return d;
        }
        if (d->refs == 0 && (lru == NULL || d->used_us < lru->used_us))
            lru = d;
    }
    struct evtls__dest *d = free_slot ? free_slot : lru;
    if (d == NULL)
        return NULL;
    memset(d, 0, sizeof *d);
    memcpy(d->key, key, strlen(key) + 1);
    d->hash = hash;
    d->used_us = now_us;
    d->refs = 1;
    return d;
}

void evtls__history_release(struct evtls__dest *d)
{
    if (d && d->refs)
        d->refs--;
}

evtls_order_reason evtls__history_order(const evtls__history *h, const struct evtls__dest *d,
                                        evtls__addr *addrs, size_t n, uint64_t now_us)
{
    evtls_order_reason why = EVTLS_ORDER_RFC6724;
    if (d == NULL || n < 2)
        return why;
    if (fresh(h, d->failed_us, now_us)) {
        for (size_t i = 0; i + 1 < n; i++)
            if (same(&addrs[i], &d->loser)) {
                evtls__addr a = addrs[i];
                memmove(&addrs[i], &addrs[i + 1], (n - 1 - i) * sizeof *addrs);
                addrs[n - 1] = a;
                why = EVTLS_ORDER_LOSER;
                break;
            }
    }
    if (fresh(h, d->won_us, now_us)) {
        for (size_t i = 0; i < n; i++)
            if (same(&addrs[i], &d->winner)) {
                if (i > 0) {
                    evtls__addr a = addrs[i];
                    memmove(&addrs[1], &addrs[0], i * sizeof *addrs);
                    addrs[0] = a;
                }
                why = EVTLS_ORDER_WINNER;
                break;
            }
    }
    return why;
}

unsigned evtls__history_delay_ms(const evtls__history *h, const struct evtls__dest *d,
                                 uint64_t now_us)
{
    if (d == NULL || d->samples == 0 || !fresh(h, d->sampled_us, now_us))
        return 0;
    uint64_t ms = ((uint64_t)d->srtt_us + 4u * (uint64_t)d->rttvar_us + 999u) / 1000u;
    if (ms < EVTLS__DELAY_MIN_MS)
        ms = EVTLS__DELAY_MIN_MS;
    if (ms > EVTLS__DELAY_MAX_MS)
        ms = EVTLS__DELAY_MAX_MS;
    return (unsigned)ms;
}

void evtls__history_won(const evtls__history *h, struct evtls__dest *d, const evtls__addr *addr,
                        uint32_t connect_us, uint64_t now_us)
{
    if (d == NULL)
        return;
    d->winner = *addr;
    d->won_us = now_us;
    if (d->failed_us && same(&d->loser, addr))
        d->failed_us = 0;
    /* RFC 6298 section 2, the connect time as the sample; samples older
     * than the TTL are forgotten and the first new one starts over. */
    if (d->samples == 0 || !fresh(h, d->sampled_us, now_us)) {
        d->srtt_us = connect_us;
        d->rttvar_us = connect_us / 2u;
        d->samples = 0;
    } else {
        uint32_t diff = d->srtt_us > connect_us ? d->srtt_us - connect_us : connect_us - d->srtt_us;
        d->rttvar_us = (3u * d->rttvar_us + diff) / 4u;
        d->srtt_us = (7u * d->srtt_us + connect_us) / 8u;
    }
    d->samples++;
    d->sampled_us = now_us;
}

void evtls__history_failed(struct evtls__dest *d, const evtls__addr *addr, uint64_t now_us)
{
    if (d == NULL)
        return;
    if (d->won_us && same(&d->winner, addr))
        d->won_us = 0; /* a remembered winner that fails is a winner no more */
    d->loser = *addr;
    d->failed_us = now_us;
}
