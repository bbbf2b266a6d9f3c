/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_dialer.h - TCP connect to the first reachable of several addresses,
 * attempts staggered by the Happy Eyeballs connection attempt delay
 * (RFC 8305 section 5). Addresses may keep arriving while it dials. */
#ifndef EVTLS_DIALER_H
#define EVTLS_DIALER_H

#include <stddef.h>
#include "evtls/conn.h"
#include "evtls_addr.h"
#include "evtls_cfg_int.h"
#include "evtls_history.h"

struct event_base;
typedef struct evtls__dialer evtls__dialer;

#define EVTLS__DIAL_MAX 32 /* addresses one dial considers */

struct evtls__dial_opts {
    unsigned attempt_delay_ms;          /* RFC 8305 section 5 Connection Attempt Delay */
    int ka_idle, ka_interval, ka_count; /* TCP keep-alive, idle 0 = off */
    int sndbuf, rcvbuf;                 /* SO_SNDBUF, SO_RCVBUF (0: the kernel's) */
    const struct evtls__source *src4;   /* bind IPv4 attempts here (NULL: any) */
    const struct evtls__source *src6;   /* bind IPv6 attempts here (NULL: any) */
    /* What is remembered of the destination (both NULL: nothing): the
     * winner and failures are recorded, racing attempts counted there. */
    const evtls__history *history;
    struct evtls__dest *dest;
    unsigned race_limit;   /* racing attempts in flight per destination */
    const char *interface; /* SO_BINDTODEVICE, or NULL */
    /* An owner's own count of sockets (a pool's per-origin limit): take 1
     * asks for a racing socket (1: granted), take -1 gives it back. */
    int (*race_gate)(void *arg, int take);
    void *race_arg;
};

/* What happened to each attempt, in start order. */
struct evtls__dial_report {
    unsigned attempts;               /* connects started */
    unsigned candidates;             /* addresses known, in the order they are tried */
    unsigned n_info;                 /* entries used in info (the first EVTLS_ATTEMPT_INFO_MAX) */
    unsigned races_held;             /* times a racing attempt waited for the race limit */
    evtls_order_reason order_reason; /* of the order dialled */
    unsigned attempt_delay_ms;
    evtls_attempt_info info[EVTLS_ATTEMPT_INFO_MAX];
};

/* Outcome: fd >= 0 connected with err 0; or fd -1 with an evtls_err and
 * the errno of the last failure. Always called from the loop, exactly
 * once, unless the dial is cancelled first. The dialer is freed before
 * the call; rep is valid during it. */
typedef void (*evtls__dial_cb)(int fd, int err, int sys_errno, const struct evtls__dial_report *rep,
                               void *arg);

/* Creates a dialer with no addresses yet. Returns NULL when out of memory. */
evtls__dialer *evtls__dial_new(struct event_base *base, const struct evtls__dial_opts *opts,
                               evtls__dial_cb cb, void *arg);

/* Sets the order of the addresses to try: addresses already tried keep
 * their place, the others are tried in the order of addrs. more says
 * whether further addresses may come; while it is set, the dialer does
 * not give up when every attempt so far has failed. Starts dialing (from
 * the loop) when nothing is in flight. Returns 0, or -1 when out of
 * memory. */
int evtls__dial_update(evtls__dialer *d, const evtls__addr *addrs, size_t n, int more);

/* Records why the order given to evtls__dial_update is what it is. */
void evtls__dial_set_reason(evtls__dialer *d, evtls_order_reason order_reason);

/* Fills rep with the attempts so far, in-flight ones as ABORTED. */
void evtls__dial_get_report(const evtls__dialer *d, struct evtls__dial_report *rep);

/* Stops every attempt and frees the dialer; the callback is not called. */
void evtls__dial_cancel(evtls__dialer *d);

#endif
