/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_retry.c - see evtls_retry.h. */
#include "evtls_retry.h"

#include "evtls/error.h"

int evtls__retry_decide(const struct evtls__retry_policy *p, unsigned attempt, int code,
                        uint64_t elapsed_ms, uint32_t rnd, unsigned *wait_ms)
{
    if (p->mode == EVTLS_RETRY_NONE || code == EVTLS_ERR_TIMEOUT || code == EVTLS_ERR_NOMEM ||
        !evtls_err_is_retryable(code))
        return 0;
    if (p->max_attempts && attempt >= p->max_attempts)
        return 0;
    unsigned wait;
    if (p->mode == EVTLS_RETRY_COUNTDOWN) {
        wait = p->countdown_s * 1000;
    } else {
        /* Full jitter (the AWS architecture blog's "exponential backoff and
         * jitter"): uniform in [0, min(cap, base * 2^(attempt-1))]. */
        unsigned k = attempt ? attempt : 1;
        uint64_t ceiling = (uint64_t)p->base_ms << (k > 20 ? 20 : k - 1);
        if (ceiling > p->cap_ms)
            ceiling = p->cap_ms;
        wait = (unsigned)(rnd % (uint32_t)(ceiling + 1));
    }
    if (p->deadline_ms && elapsed_ms + wait >= p->deadline_ms)
        return 0; /* the deadline would end the wait: fail now */
    *wait_ms = wait;
    return 1;
}
