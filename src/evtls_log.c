/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_log.c - leveled logging with an esp-idf style default handler. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "evtls/error.h"
#include "evtls/log.h"
#include "evtls_log_int.h"
#include "evtls_time.h"

/* A program may set the level or the handler on one thread while another
 * logs: the level is atomic, the handler and its argument change together
 * under a lock that only a line actually logged takes. */
/* The handler is called under the read side of log_lock and swapped under
 * its write side: once evtls_log_set_handler returns, no thread is inside
 * the old handler or will enter it (its argument may be freed). A handler
 * that logs, or calls into evtls (which may log), does not re-enter it:
 * in_handler marks the thread, and such lines are dropped. */
static pthread_rwlock_t log_lock = PTHREAD_RWLOCK_INITIALIZER;
static evtls_log_fn log_fn;
static void *log_arg;
static _Thread_local int in_handler;
static atomic_int log_level = EVTLS_LOG_WARN;
static uint64_t log_start_us;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* Reads the start time and EVTLS_LOG once per process. */
static void log_init_once(void)
{
    log_start_us = evtls__now_us();
    evtls_log_level lvl = EVTLS_LOG_WARN; /* quiet by default: warnings and errors */
    const char *env = getenv("EVTLS_LOG");
    if (env && evtls_log_level_parse(env, &lvl) != 0)
        lvl = EVTLS_LOG_WARN;
    atomic_store_explicit(&log_level, (int)lvl, memory_order_relaxed);
}

static void log_init(void)
{
    pthread_once(&log_once, log_init_once);
}

int evtls_log_level_parse(const char *s, evtls_log_level *out)
{
    static const char *const names[] = {"none", "error", "warn", "info", "debug", "verbose"};
    if (s == NULL || out == NULL)
        return EVTLS_ERR_INVALID_ARG;
    for (int i = 0; i < 6; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (evtls_log_level)i;
            return 0;
        }
    }
    return EVTLS_ERR_INVALID_ARG;
}

int evtls_log_set_handler(evtls_log_fn fn, void *arg)
{
    if (in_handler) /* it would wait for itself */
        return EVTLS_ERR_STATE;
    log_init();
    pthread_rwlock_wrlock(&log_lock);
    log_fn = fn;
    log_arg = arg;
    pthread_rwlock_unlock(&log_lock);
    return 0;
}

int evtls__log_in_handler(void)
{
    return in_handler;
}

int evtls_log_set_level(evtls_log_level level)
{
    if ((int)level < EVTLS_LOG_NONE || (int)level > EVTLS_LOG_VERBOSE)
        return EVTLS_ERR_INVALID_ARG;
    log_init();
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
    return 0;
}

evtls_log_level evtls_log_get_level(void)
{
    log_init();
    return (evtls_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

int evtls__log_enabled(evtls_log_level level)
{
    log_init();
    return level != EVTLS_LOG_NONE &&
           (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

static void default_handler(evtls_log_level level, unsigned long ms, const char *msg)
{
    static const char letters[] = "?EWIDV";
    fprintf(stderr, "%c (%lu) evtls: %s\n", letters[level], ms, msg);
}

__attribute__((format(printf, 2, 0))) static void vlog(evtls_log_level level, const char *fmt,
                                                       va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    unsigned long ms = (unsigned long)((evtls__now_us() - log_start_us) / 1000u);
    pthread_rwlock_rdlock(&log_lock);
    in_handler = 1;
    if (log_fn)
        log_fn(level, ms, msg, log_arg);
    else
        default_handler(level, ms, msg);
    in_handler = 0;
    pthread_rwlock_unlock(&log_lock);
}

void evtls_log(evtls_log_level level, const char *fmt, ...)
{
    if (fmt == NULL || in_handler || !evtls__log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}
