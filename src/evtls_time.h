/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_time.h - the one clock (monotonic, in microseconds) and the one
 * conversion to libevent's timeval (internal). */
#ifndef EVTLS_TIME_H
#define EVTLS_TIME_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

static inline uint64_t evtls__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline struct timeval evtls__tv_us(uint64_t us)
{
    struct timeval tv = {(time_t)(us / 1000000u), (suseconds_t)(us % 1000000u)};
    return tv;
}

static inline struct timeval evtls__tv_ms(uint64_t ms)
{
    return evtls__tv_us(ms * 1000u);
}

#endif
