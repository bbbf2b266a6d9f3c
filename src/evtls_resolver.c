/* evtls_resolver.c - name resolution through libevent's evdns on the
 * caller's event_base. Results are always delivered from the loop. */
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <event2/event_struct.h>

#include <stdlib.h>
#include <string.h>

#include "evtls_error_int.h"
#include "evtls_log_int.h"
#include "evtls_resolver_int.h"

struct evtls_resolver {
    int refs;
    struct event_base *base;
    struct evdns_base *dns;
};

struct evtls__lookup {
    evtls_resolver *r;
    struct evdns_getaddrinfo_request *req; /* NULL once evdns answered */
    struct event deliver;                  /* defers a synchronous answer */
    evtls__resolve_cb cb;                  /* NULL once cancelled */
    void *arg;
    uint16_t port;
    int in_call;  /* inside evdns_getaddrinfo() */
    int answered; /* evdns has called gai_cb */
    int err;
    size_t n;
    evtls__addr addrs[EVTLS__MAX_ADDRS];
};

evtls_resolver *evtls_resolver_new(struct event_base *base, const char *nameserver)
{
    if (base == NULL)
        return NULL;
    evtls_resolver *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->refs = 1;
    r->base = base;
    /* DISABLE_WHEN_INACTIVE: an idle resolver must not keep the loop alive. */
    int flags = EVDNS_BASE_DISABLE_WHEN_INACTIVE;
    if (nameserver == NULL)
        flags |= EVDNS_BASE_INITIALIZE_NAMESERVERS;
    r->dns = evdns_base_new(base, flags);
    if (r->dns == NULL)
        goto fail;
    if (nameserver && evdns_base_nameserver_ip_add(r->dns, nameserver) != 0) {
        LOGE("resolver: cannot use name server '%s'", nameserver);
        goto fail;
    }
    evdns_base_load_hosts(r->dns, NULL);
    return r;
fail:
    if (r->dns)
        evdns_base_free(r->dns, 0);
    free(r);
    return NULL;
}

evtls_resolver *evtls__resolver_ref(evtls_resolver *r)
{
    r->refs++;
    return r;
}

void evtls_resolver_free(evtls_resolver *r)
{
    if (r == NULL || --r->refs > 0)
        return;
    evdns_base_free(r->dns, 0);
    free(r);
}

static int map_eai(int eai)
{
    switch (eai) {
    case 0: return 0;
    case EVUTIL_EAI_NONAME: return EVTLS_ERR_DNS_NXDOMAIN;
    case EVUTIL_EAI_NODATA: return EVTLS_ERR_DNS_NODATA;
    case EVUTIL_EAI_ADDRFAMILY: return EVTLS_ERR_DNS_NODATA;
    case EVUTIL_EAI_AGAIN: return EVTLS_ERR_DNS_SERVFAIL;
    case EVUTIL_EAI_MEMORY: return EVTLS_ERR_NOMEM;
    case EVUTIL_EAI_CANCEL: return EVTLS_ERR_CANCELLED;
    default: return EVTLS_ERR_DNS;
    }
}

static void lookup_free(evtls__lookup *l)
{
    event_del(&l->deliver);
    evtls_resolver_free(l->r);
    free(l);
}

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls__lookup *l = arg;
    evtls__resolve_cb cb = l->cb;
    if (cb)
        cb(l->err, l->addrs, l->n, l->arg);
    lookup_free(l);
}

static void gai_cb(int result, struct evutil_addrinfo *res, void *arg)
{
    evtls__lookup *l = arg;
    l->req = NULL;
    l->answered = 1;
    l->err = map_eai(result);
    for (struct evutil_addrinfo *ai = res; ai && l->n < EVTLS__MAX_ADDRS; ai = ai->ai_next) {
        if (evtls__addr_from_sockaddr(ai->ai_addr, l->port, &l->addrs[l->n]) != 0)
            continue;
        /* The hosts file and DNS can both answer: keep each address once. */
        size_t k = 0;
        while (k < l->n && memcmp(&l->addrs[k], &l->addrs[l->n], sizeof l->addrs[k]) != 0)
            k++;
        if (k == l->n)
            l->n++;
    }
    if (res)
        evutil_freeaddrinfo(res);
    if (l->err == 0 && l->n == 0)
        l->err = EVTLS_ERR_DNS_NODATA;
    if (l->err != 0)
        l->n = 0;
    if (l->cb == NULL) { /* cancelled: evdns owed us this last call */
        lookup_free(l);
        return;
    }
    if (l->in_call) {
        /* Answered synchronously (hosts file): deliver from the loop. */
        event_active(&l->deliver, 0, 0);
        return;
    }
    deliver_cb(-1, 0, l);
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
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    l->in_call = 1;
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(r->dns, host, NULL, &hints, gai_cb, l);
    l->in_call = 0;
    if (!l->answered)
        l->req = req;
    return l;
}

void evtls__resolve_cancel(evtls__lookup *l)
{
    if (l == NULL)
        return;
    l->cb = NULL;
    if (l->req) {
        /* evdns calls gai_cb once more with EAI_CANCEL; it frees l then. */
        evdns_getaddrinfo_cancel(l->req);
        return;
    }
    lookup_free(l);
}
