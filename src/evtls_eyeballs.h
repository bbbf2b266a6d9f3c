/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_eyeballs.h - from a host name to a connected TCP socket, Happy
 * Eyeballs v2 (RFC 8305): resolve both families, sort by RFC 6724, race
 * staggered connects. Composes the resolver, address selection and the
 * dialer; reports upward only through its callback. */
#ifndef EVTLS_EYEBALLS_H
#define EVTLS_EYEBALLS_H

#include <stdint.h>
#include "evtls_dialer.h"
#include "evtls_resolver_int.h"

typedef struct evtls__he evtls__he;

struct evtls__he_opts {
    int family;                   /* 0 (both), 4 or 6 */
    unsigned resolution_delay_ms; /* RFC 8305 section 3: wait for AAAA after A */
    int learn_delay;              /* the history's learnt attempt delay replaces dial's */
    struct evtls__dial_opts dial;
};

enum evtls__he_event {
    EVTLS__HE_DIALING, /* addresses in hand: the first connect starts now */
    EVTLS__HE_DONE     /* fd >= 0 connected, or fd -1 and err */
};

/* DIALING comes at most once, before DONE; DONE exactly once, unless the
 * race is cancelled. rep is set for DONE (NULL if it failed before any
 * connect). peer is the winner's address for DONE with fd >= 0. The race
 * is freed before DONE is called. */
typedef void (*evtls__he_cb)(enum evtls__he_event ev, int fd, int err, int sys_errno,
                             const evtls__addr *peer, const struct evtls__dial_report *rep,
                             void *arg);

/* Starts the race to host:port. A numeric host is dialed at once, with no
 * resolver (r may be NULL then, and DIALING is not reported). Returns
 * NULL when out of memory. */
evtls__he *evtls__he_start(struct event_base *base, evtls_resolver *r, const char *host,
                           uint16_t port, const struct evtls__he_opts *opts, evtls__he_cb cb,
                           void *arg);

/* Stops the race (the callback is not called) after filling rep, if not
 * NULL, with the attempts so far. */
void evtls__he_cancel(evtls__he *h, struct evtls__dial_report *rep);

#endif
