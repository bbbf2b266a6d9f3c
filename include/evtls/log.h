/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evtls/log.h - leveled logging. The default logger writes esp-idf style
 * lines to stderr: "I (1234) evtls: message", where 1234 is milliseconds
 * since the library was first used.
 */
#ifndef EVTLS_LOG_H
#define EVTLS_LOG_H

#include "evtls/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum evtls_log_level {
    EVTLS_LOG_NONE = 0,
    EVTLS_LOG_ERROR,
    EVTLS_LOG_WARN,
    EVTLS_LOG_INFO,
    EVTLS_LOG_DEBUG,
    EVTLS_LOG_VERBOSE
} evtls_log_level;

/* A log handler receives the level, the milliseconds since start, the
 * formatted message (no trailing newline) and the arg given with it. */
typedef void (*evtls_log_fn)(evtls_log_level level, unsigned long ms, const char *msg, void *arg);

/* Installs a log handler for the whole process; NULL restores the default
 * stderr logger. Returns 0. Once it returns, no thread is inside the old
 * handler or will call it again: its arg may be freed. The handler runs
 * under a lock, so it must not wait for another thread that logs. Inside
 * the handler, evtls's own lines on that thread are dropped, this call is
 * refused (EVTLS_ERR_STATE), and so are calls that free or change pools,
 * clients and connections (a line may come from the middle of any change):
 * the checkout, fetch, check-in and close calls return EVTLS_ERR_STATE,
 * the free, release, abort, shutdown and cancel calls do nothing. */
EVTLS_API int evtls_log_set_handler(evtls_log_fn fn, void *arg);

/* Sets the most verbose level that is logged (default EVTLS_LOG_WARN: a
 * library is quiet unless something is wrong; or the value of the
 * EVTLS_LOG environment variable: error, warn, info, debug, verbose or
 * none). INFO adds a line per connection made. Returns 0, or EVTLS_ERR_INVALID_ARG for a value
 * that is no level. */
EVTLS_API int evtls_log_set_level(evtls_log_level level);

/* Returns the current level. */
EVTLS_API evtls_log_level evtls_log_get_level(void);

/* Parses "none", "error", "warn", "info", "debug" or "verbose" into *out.
 * Returns 0, or EVTLS_ERR_INVALID_ARG for anything else. */
EVTLS_API int evtls_log_level_parse(const char *s, evtls_log_level *out);

/* Logs one message through the current handler, if level is enabled. */
EVTLS_API void evtls_log(evtls_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif /* EVTLS_LOG_H */
