/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_time.h - the monotonic clock in microseconds (internal). */
#ifndef EVTLS_TIME_H
#define EVTLS_TIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t evtls__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif
