/* evtls_dialer.h - TCP connect to the first reachable of several addresses,
 * attempts staggered by the Happy Eyeballs connection attempt delay. */
#ifndef EVTLS_DIALER_H
#define EVTLS_DIALER_H

#include <stddef.h>
#include "evtls_addr.h"

struct event_base;
typedef struct evtls__dialer evtls__dialer;

struct evtls__dial_opts {
    unsigned attempt_delay_ms;          /* RFC 8305 section 5 Connection Attempt Delay */
    int ka_idle, ka_interval, ka_count; /* TCP keep-alive, idle 0 = off */
};

/* Outcome: fd >= 0 connected to addrs[winner] with err 0; or fd -1 with an
 * evtls_err and the errno of the last failure. attempts counts the
 * connects started. Always called from the loop, exactly once, unless the
 * dial is cancelled first. The dialer is freed before the call. */
typedef void (*evtls__dial_cb)(int fd, int err, int sys_errno, size_t winner, unsigned attempts,
                               void *arg);

/* Starts dialing addrs[0..n) in order. Returns NULL when out of memory. */
evtls__dialer *evtls__dial(struct event_base *base, const evtls__addr *addrs, size_t n,
                           const struct evtls__dial_opts *opts, evtls__dial_cb cb, void *arg);

/* Stops every attempt and frees the dialer; the callback is not called. */
void evtls__dial_cancel(evtls__dialer *d);

#endif
