/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_resolver.c - name resolution on the caller's event_base.
 *
 * A lookup asks up to two families. Each family is answered from, in
 * order: the hosts file, the cache, a DNS query already in flight for the
 * same name, or a new evdns query. Answers are always delivered from the
 * loop: at-hand answers through a deferred event, DNS answers from the
 * evdns callback (which libevent itself runs from the loop). */
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "evtls_error_int.h"
#include "evtls_log_int.h"
#include "evtls_history.h"
#include "evtls_resolver_int.h"
#include "evtls_time.h"
#include "evtls_sized.h"

#define CACHE_DEFAULT 128
#define MAX_TTL_S     3600
#define NEG_TTL_S     5
#define MAX_NAME      256
#define HOSTS_DEFAULT "/etc/hosts"
#define RESOLV_CONF "/etc/resolv.conf"

/* slot 0 is AAAA, slot 1 is A */
#define SLOT_OF(fam) ((fam) == 6 ? 0 : 1)
#define FAM_OF(slot) ((slot) == 0 ? 6 : 4)

struct ip {
    uint8_t b[16]; /* 4 bytes used for IPv4 */
};

struct answer {
    int err;
    uint8_t n;
    struct ip ip[EVTLS__MAX_ADDRS];
};

struct cache_ent {
    char *name; /* NULL: free slot */
    int slot;
    uint64_t expires_ms, used;
    struct answer ans;
};

struct host_ent {
    char *name;
    int slot;
    struct ip ip;
};

struct query;

/* A lookup waiting on a query, linked into the query's list. */
struct waiter {
    LIST_ENTRY(waiter) link;
    struct query *q; /* NULL when not waiting */
    evtls__lookup *l;
};

struct query {
    struct query *next;
    evtls_resolver *r;
    struct evdns_request *req;
    LIST_HEAD(, waiter) waiters;
    int slot;
    char name[MAX_NAME];
};

struct evtls_resolver {
    int refs;
    struct event_base *base;
    struct evdns_base *dns;
    struct query *queries; /* in flight */
    struct host_ent *hosts;
    size_t n_hosts;
    struct cache_ent *cache;
    size_t cache_cap;
    uint64_t use_clock;
    evtls__history hist;
    evtls_resolver_stats st;
};

struct evtls__lookup {
    evtls_resolver *r;
    evtls__resolve_cb cb;
    void *arg;
    uint16_t port;
    unsigned pending; /* slots not delivered yet */
    unsigned ready;   /* slots answered, awaiting the deferred delivery */
    int in_deliver;   /* inside cb */
    int cancelled;
    struct waiter w[2];
    struct answer ans[2];
    struct event deliver;
};

/* ------------------------------------------------------------------ */

static uint64_t mono_ms(void)
{
    return evtls__now_us() / 1000u;
}

/* Lower-cases name without a trailing dot into out. Returns 0 or -1. */
static int normalize(const char *name, char *out)
{
    size_t n = strlen(name);
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == 0 || n >= MAX_NAME)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    out[n] = '\0';
    return 0;
}

static void hosts_clear(evtls_resolver *r)
{
    for (size_t i = 0; i < r->n_hosts; i++)
        free(r->hosts[i].name);
    free(r->hosts);
    r->hosts = NULL;
    r->n_hosts = 0;
}

static int hosts_add(evtls_resolver *r, const char *name, int slot, const struct ip *ip,
                     size_t *cap)
{
    if (r->n_hosts == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct host_ent *h = realloc(r->hosts, nc * sizeof *h);
        if (h == NULL)
            return -1;
        r->hosts = h;
        *cap = nc;
    }
    char norm[MAX_NAME];
    if (normalize(name, norm) != 0)
        return 0;
    struct host_ent *e = &r->hosts[r->n_hosts];
    e->name = strdup(norm);
    if (e->name == NULL)
        return -1;
    e->slot = slot;
    e->ip = *ip;
    r->n_hosts++;
    return 0;
}

/* Reads a hosts(5) file: "address name [aliases...]", '#' comments. */
static int hosts_load(evtls_resolver *r, const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    size_t cap = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL;
        char *addr = strtok_r(line, " \t\r\n", &save);
        if (addr == NULL)
            continue;
        struct ip ip;
        memset(&ip, 0, sizeof ip);
        int slot;
        if (inet_pton(AF_INET, addr, ip.b) == 1)
            slot = 1;
        else if (inet_pton(AF_INET6, addr, ip.b) == 1)
            slot = 0;
        else
            continue;
        for (char *name = strtok_r(NULL, " \t\r\n", &save); name;
             name = strtok_r(NULL, " \t\r\n", &save))
            if (hosts_add(r, name, slot, &ip, &cap) != 0) {
                fclose(f);
                return -1;
            }
    }
    fclose(f);
    return 0;
}

/* Fills the hosts answer for name. Returns 1 if the hosts file (or the
 * localhost rule of RFC 6761) knows the name, whatever the family. */
static int hosts_lookup(const evtls_resolver *r, const char *name, int slot, struct answer *a)
{
    int known = 0;
    memset(a, 0, sizeof *a);
    for (size_t i = 0; i < r->n_hosts; i++) {
        if (strcmp(r->hosts[i].name, name) != 0)
            continue;
        known = 1;
        if (r->hosts[i].slot == slot && a->n < EVTLS__MAX_ADDRS)
            a->ip[a->n++] = r->hosts[i].ip;
    }
    size_t len = strlen(name);
    int localhost =
        strcmp(name, "localhost") == 0 || (len > 10 && strcmp(name + len - 10, ".localhost") == 0);
    if (localhost && a->n == 0) {
        /* RFC 6761 section 6.3: loopback, never sent to a name server. */
        known = 1;
        if (slot == 1) {
            a->ip[0].b[0] = 127;
            a->ip[0].b[3] = 1;
        } else {
            a->ip[0].b[15] = 1;
        }
        a->n = 1;
    }
    if (known && a->n == 0)
        a->err = EVTLS_ERR_DNS_NODATA;
    return known;
}

/* ------------------------------------------------------------------ */
/* cache */

static struct cache_ent *cache_find(evtls_resolver *r, const char *name, int slot)
{
    if (r->cache == NULL)
        return NULL;
    uint64_t now = mono_ms();
    for (size_t i = 0; i < r->cache_cap; i++) {
        struct cache_ent *e = &r->cache[i];
        if (e->name == NULL || e->slot != slot || strcmp(e->name, name) != 0)
            continue;
        if (e->expires_ms <= now) {
            free(e->name);
            e->name = NULL;
            r->st.cache_entries--;
            return NULL;
        }
        e->used = ++r->use_clock;
        return e;
    }
    return NULL;
}

static void cache_store(evtls_resolver *r, const char *name, int slot, const struct answer *a,
                        uint32_t ttl_s)
{
    if (r->cache_cap == 0 || ttl_s == 0)
        return;
    if (r->cache == NULL) {
        r->cache = calloc(r->cache_cap, sizeof *r->cache);
        if (r->cache == NULL)
            return;
    }
    uint64_t now = mono_ms();
    struct cache_ent *victim = NULL;
    for (size_t i = 0; i < r->cache_cap; i++) {
        struct cache_ent *e = &r->cache[i];
        if (e->name && e->slot == slot && strcmp(e->name, name) == 0) {
            victim = e; /* replace the old answer */
            break;
        }
        if (e->name == NULL || e->expires_ms <= now) {
            if (victim == NULL || victim->name != NULL)
                victim = e;
        } else if (victim == NULL || (victim->name && e->used < victim->used)) {
            victim = e; /* least recently used */
        }
    }
    char *copy = victim->name && strcmp(victim->name, name) == 0 ? victim->name : strdup(name);
    if (copy == NULL)
        return;
    if (victim->name == NULL)
        r->st.cache_entries++;
    else if (victim->name != copy)
        free(victim->name);
    victim->name = copy;
    victim->slot = slot;
    victim->expires_ms = now + (uint64_t)ttl_s * 1000;
    victim->used = ++r->use_clock;
    victim->ans = *a;
}

static void cache_clear(evtls_resolver *r)
{
    for (size_t i = 0; r->cache && i < r->cache_cap; i++)
        free(r->cache[i].name);
    free(r->cache);
    r->cache = NULL;
    r->st.cache_entries = 0;
}

/* ------------------------------------------------------------------ */
/* public */

evtls_resolver *evtls_resolver_new(struct event_base *base, const char *nameserver)
{
    if (base == NULL)
        return NULL;
    evtls_resolver *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->refs = 1;
    r->base = base;
    r->cache_cap = CACHE_DEFAULT;
    /* DISABLE_WHEN_INACTIVE: an idle resolver must not keep the loop alive.
     * The name servers are added after it is set: libevent 2.1.12's
     * INITIALIZE_NAMESERVERS adds them first, arming each one's UDP socket
     * for good, and the loop never ends (libevent issue 1488). */
    r->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (r->dns == NULL)
        goto fail;
    /* As INITIALIZE_NAMESERVERS would: a missing file means 127.0.0.1. */
    if (nameserver == NULL &&
        evdns_base_resolv_conf_parse(r->dns, DNS_OPTIONS_ALL, RESOLV_CONF) == -1)
        goto fail;
    if (nameserver && evdns_base_nameserver_ip_add(r->dns, nameserver) != 0) {
        LOGE("resolver: cannot use name server '%s'", nameserver);
        goto fail;
    }
    if (evtls__history_configure(&r->hist, EVTLS__HISTORY_DEFAULT_MAX,
                                 EVTLS__HISTORY_DEFAULT_TTL_MS) != 0)
        goto fail;
    evdns_base_set_option(r->dns, "timeout:", "2");
    evdns_base_set_option(r->dns, "attempts:", "3");
    if (hosts_load(r, HOSTS_DEFAULT) != 0)
        hosts_clear(r); /* no hosts file: DNS only */
    return r;
fail:
    if (r->dns)
        evdns_base_free(r->dns, 0);
    hosts_clear(r);
    evtls__history_free(&r->hist);
    free(r);
    return NULL;
}

int evtls_resolver_set_hosts_file(evtls_resolver *r, const char *path)
{
    if (r == NULL)
        return EVTLS_ERR_INVALID_ARG;
    hosts_clear(r);
    if (path && hosts_load(r, path) != 0) {
        hosts_clear(r);
        return EVTLS_ERR_INVALID_ARG;
    }
    return 0;
}

int evtls_resolver_set_cache_size(evtls_resolver *r, size_t entries)
{
    if (r == NULL || entries > 65536)
        return EVTLS_ERR_INVALID_ARG;
    cache_clear(r);
    r->cache_cap = entries;
    return 0;
}

void evtls_resolver_clear_cache(evtls_resolver *r)
{
    if (r)
        cache_clear(r);
}

void evtls_resolver_get_stats_sized(const evtls_resolver *r, evtls_resolver_stats *st,
                                    size_t size)
{
    if (r && st) {
        evtls_resolver_stats s = r->st;
        s.history_entries = evtls__history_size(&r->hist);
        EVTLS__COPY_OUT(st, size, &s);
    }
}

int evtls_resolver_set_history(evtls_resolver *r, size_t max_entries, unsigned ttl_ms)
{
    if (r == NULL || max_entries > 1000000 || (max_entries && ttl_ms == 0))
        return EVTLS_ERR_INVALID_ARG;
    if (evtls__history_configure(&r->hist, max_entries, ttl_ms) != 0)
        return EVTLS_ERR_STATE; /* a connect in progress holds an entry */
    return 0;
}

void evtls_resolver_clear_history(evtls_resolver *r)
{
    if (r)
        evtls__history_clear(&r->hist);
}

struct evtls__history *evtls__resolver_history(evtls_resolver *r)
{
    return r ? &r->hist : NULL;
}

evtls_resolver *evtls__resolver_ref(evtls_resolver *r)
{
    r->refs++;
    return r;
}

evtls_resolver *evtls_resolver_ref(evtls_resolver *r)
{
    return r ? evtls__resolver_ref(r) : NULL;
}

void evtls_resolver_unref(evtls_resolver *r)
{
    if (r == NULL || --r->refs > 0)
        return;
    evdns_base_free(r->dns, 0);
    hosts_clear(r);
    cache_clear(r);
    evtls__history_free(&r->hist);
    free(r);
}

/* ------------------------------------------------------------------ */
/* lookups */

static void lookup_free(evtls__lookup *l)
{
    event_del(&l->deliver);
    evtls_resolver_unref(l->r);
    free(l);
}

/* Delivers slot's answer. Returns 1 when l is gone (last answer given, or
 * cancelled inside the callback). */
static int deliver_slot(evtls__lookup *l, int slot)
{
    const struct answer *a = &l->ans[slot];
    evtls__addr addrs[EVTLS__MAX_ADDRS];
    size_t n = 0;
    int fam = FAM_OF(slot);
    for (size_t i = 0; a->err == 0 && i < a->n; i++) {
        evtls__addr *x = &addrs[n++];
        memset(x, 0, sizeof *x);
        if (fam == 4) {
            struct sockaddr_in *s = (struct sockaddr_in *)&x->ss;
            s->sin_family = AF_INET;
            s->sin_port = htons(l->port);
            memcpy(&s->sin_addr, a->ip[i].b, 4);
            x->len = sizeof *s;
        } else {
            struct sockaddr_in6 *s = (struct sockaddr_in6 *)&x->ss;
            s->sin6_family = AF_INET6;
            s->sin6_port = htons(l->port);
            memcpy(&s->sin6_addr, a->ip[i].b, 16);
            x->len = sizeof *s;
        }
    }
    l->pending &= ~(1u << slot);
    int last = l->pending == 0;
    l->in_deliver = 1;
    l->cb(fam, a->err, addrs, n, last, l->arg);
    l->in_deliver = 0;
    if (last || l->cancelled) {
        if (!last)
            evtls__resolve_cancel(l);
        else
            lookup_free(l);
        return 1;
    }
    return 0;
}

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls__lookup *l = arg;
    for (int slot = 0; slot < 2; slot++) {
        if (!(l->ready & (1u << slot)))
            continue;
        l->ready &= ~(1u << slot);
        if (deliver_slot(l, slot))
            return;
    }
}

static int map_dns_err(int result)
{
    switch (result) {
    case DNS_ERR_NONE: return 0;
    case DNS_ERR_NOTEXIST: return EVTLS_ERR_DNS_NXDOMAIN;
    case DNS_ERR_NODATA: return EVTLS_ERR_DNS_NODATA;
    case DNS_ERR_SERVERFAILED: return EVTLS_ERR_DNS_SERVFAIL;
    case DNS_ERR_TIMEOUT: return EVTLS_ERR_DNS_TIMEOUT;
    case DNS_ERR_CANCEL: return EVTLS_ERR_CANCELLED;
    default: return EVTLS_ERR_DNS;
    }
}

static void waiter_unlink(struct waiter *w)
{
    LIST_REMOVE(w, link);
    w->q = NULL;
}

static void query_unlink(struct query *q)
{
    struct query **pp = &q->r->queries;
    while (*pp && *pp != q)
        pp = &(*pp)->next;
    if (*pp)
        *pp = q->next;
}

static void dns_cb(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    struct query *q = arg;
    evtls_resolver *r = q->r;
    q->req = NULL;
    query_unlink(q);
    struct answer a;
    memset(&a, 0, sizeof a);
    a.err = map_dns_err(result);
    if (a.err == 0) {
        for (int i = 0; i < count && a.n < EVTLS__MAX_ADDRS; i++) {
            if (type == DNS_IPv4_A && q->slot == 1)
                memcpy(a.ip[a.n++].b, (const uint8_t *)addresses + 4 * i, 4);
            else if (type == DNS_IPv6_AAAA && q->slot == 0)
                memcpy(a.ip[a.n++].b, (const uint8_t *)addresses + 16 * i, 16);
        }
        if (a.n == 0)
            a.err = EVTLS_ERR_DNS_NODATA;
    }
    LOGD("resolver: %s %s -> %s, %u address%s, ttl %d", q->slot ? "A" : "AAAA", q->name,
         a.err ? evtls_err_name(a.err) : "OK", a.n, a.n == 1 ? "" : "es", ttl);
    if (a.err == 0)
        cache_store(r, q->name, q->slot, &a,
                    ttl < 0           ? 0
                    : ttl > MAX_TTL_S ? MAX_TTL_S
                                      : (uint32_t)ttl);
    else if (a.err == EVTLS_ERR_DNS_NXDOMAIN || a.err == EVTLS_ERR_DNS_NODATA)
        cache_store(r, q->name, q->slot, &a, NEG_TTL_S);
    /* Each waiter is detached before its callback, which may cancel any
     * other lookup, this query's waiters included. */
    struct waiter *w;
    while ((w = LIST_FIRST(&q->waiters)) != NULL) {
        waiter_unlink(w);
        w->l->ans[q->slot] = a;
        deliver_slot(w->l, q->slot);
    }
    free(q);
    evtls_resolver_unref(r);
}

/* Attaches slot of l to a query for name, joining one in flight. */
static int query_join(evtls__lookup *l, const char *name, int slot)
{
    evtls_resolver *r = l->r;
    struct query *q = r->queries;
    while (q && (q->slot != slot || strcmp(q->name, name) != 0))
        q = q->next;
    if (q) {
        r->st.coalesced++;
    } else {
        q = calloc(1, sizeof *q);
        if (q == NULL)
            return -1;
        q->r = r;
        q->slot = slot;
        strcpy(q->name, name);
        q->req = slot == 1 ? evdns_base_resolve_ipv4(r->dns, name, 0, dns_cb, q)
                           : evdns_base_resolve_ipv6(r->dns, name, 0, dns_cb, q);
        if (q->req == NULL) {
            free(q);
            return -1;
        }
        evtls__resolver_ref(r);
        q->next = r->queries;
        r->queries = q;
        r->st.queries++;
    }
    struct waiter *w = &l->w[slot];
    w->l = l;
    w->q = q;
    LIST_INSERT_HEAD(&q->waiters, w, link);
    return 0;
}

evtls__lookup *evtls__resolve(evtls_resolver *r, const char *host, uint16_t port, int family,
                              evtls__resolve_cb cb, void *arg)
{
    evtls__lookup *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->r = evtls__resolver_ref(r);
    l->cb = cb;
    l->arg = arg;
    l->port = port;
    event_assign(&l->deliver, r->base, -1, 0, deliver_cb, l);

    char name[MAX_NAME];
    if (normalize(host, name) != 0) {
        int slot = family == 6 ? 0 : 1;
        l->ans[slot].err = EVTLS_ERR_DNS_NXDOMAIN;
        l->pending = l->ready = 1u << slot;
        event_active(&l->deliver, 0, 0);
        return l;
    }
    l->pending = family == 4 ? 2u : family == 6 ? 1u : 3u;
    for (int slot = 0; slot < 2; slot++) {
        if (!(l->pending & (1u << slot)))
            continue;
        r->st.lookups++;
        if (hosts_lookup(r, name, slot, &l->ans[slot])) {
            r->st.hosts_hits++;
            l->ready |= 1u << slot;
            continue;
        }
        struct cache_ent *e = cache_find(r, name, slot);
        if (e) {
            r->st.cache_hits++;
            l->ans[slot] = e->ans;
            l->ready |= 1u << slot;
            continue;
        }
        if (query_join(l, name, slot) != 0) {
            l->ans[slot].err = EVTLS_ERR_DNS;
            l->ready |= 1u << slot;
        }
    }
    if (l->ready)
        event_active(&l->deliver, 0, 0);
    return l;
}

void evtls__resolve_cancel(evtls__lookup *l)
{
    if (l == NULL)
        return;
    if (l->in_deliver) {
        l->cancelled = 1; /* deliver_slot finishes the job */
        return;
    }
    for (int slot = 0; slot < 2; slot++) {
        struct query *q = l->w[slot].q;
        if (q == NULL)
            continue;
        waiter_unlink(&l->w[slot]);
        /* Nobody else waits: stop the query. evdns then calls dns_cb with
         * DNS_ERR_CANCEL (or the answer it already had), which frees it. */
        if (LIST_EMPTY(&q->waiters) && q->req) {
            query_unlink(q); /* no later lookup may join it */
            evdns_cancel_request(q->r->dns, q->req);
        }
    }
    lookup_free(l);
}
