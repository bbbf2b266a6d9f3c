/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_log_int.h - internal logging shortcuts. */
#ifndef EVTLS_LOG_INT_H
#define EVTLS_LOG_INT_H

#include "evtls/log.h"

/* Returns 1 when level is logged; check it before costly formatting. */
int evtls__log_enabled(evtls_log_level level);

/* 1 on a thread that is inside the application's log handler. A line is
 * logged from anywhere, in the middle of any change; so calls that free
 * or change pools, clients and connections are refused from there
 * (EVTLS_ERR_STATE, or nothing done for a void one), as from a pool's
 * state hook. */
int evtls__log_in_handler(void);

#define LOGE(...) evtls_log(EVTLS_LOG_ERROR, __VA_ARGS__)
#define LOGW(...) evtls_log(EVTLS_LOG_WARN, __VA_ARGS__)
#define LOGI(...) evtls_log(EVTLS_LOG_INFO, __VA_ARGS__)
#define LOGD(...)                                                                                  \
    do {                                                                                           \
        if (evtls__log_enabled(EVTLS_LOG_DEBUG))                                                   \
            evtls_log(EVTLS_LOG_DEBUG, __VA_ARGS__);                                               \
    } while (0)

#endif
