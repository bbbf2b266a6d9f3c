/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_retry.h - the retry policy as a pure function (no clock, no
 * randomness of its own, no I/O): whether a failed connect try is tried
 * again, and after how long. evtls_conn.c passes in the time spent and a
 * random number; tests pass in their own. */
#ifndef EVTLS_RETRY_H
#define EVTLS_RETRY_H

#include <stdint.h>

#include "evtls/cfg.h"

struct evtls__retry_policy {
    evtls_retry_mode mode;
    unsigned countdown_s;     /* COUNTDOWN: the wait, in whole seconds */
    unsigned base_ms, cap_ms; /* BACKOFF: full jitter in [0, min(cap, base * 2^(k-1))] */
    unsigned max_attempts;    /* all tries counted; 0: until the deadline */
    unsigned deadline_ms;     /* EVTLS_TIMEOUT_TOTAL, 0: none */
};

/* Decides about try number attempt (1 for the first) that failed with
 * code, elapsed_ms after the connect began; rnd is a uniformly random
 * 32-bit number. Returns 1 with *wait_ms set when another try follows, 0
 * when the failure is final: retries off, a failure that will not go away
 * by itself (certificates, configuration, NXDOMAIN, the overall deadline,
 * out of memory), the tries used up, or a wait that would reach the
 * deadline. */
int evtls__retry_decide(const struct evtls__retry_policy *p, unsigned attempt, int code,
                        uint64_t elapsed_ms, uint32_t rnd, unsigned *wait_ms);

#endif
