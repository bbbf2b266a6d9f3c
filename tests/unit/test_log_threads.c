/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_log_threads.c - the log level and handler set on one thread while
 * others log, built with ThreadSanitizer (tests/CMakeLists.txt): TSan
 * fails the run on any data race in evtls_log.c. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "evtls/log.h"
#include "evtls_log_int.h"

static atomic_int lines;

static void count(evtls_log_level level, unsigned long ms, const char *msg, void *arg)
{
    (void)level, (void)ms, (void)msg, (void)arg;
    atomic_fetch_add(&lines, 1);
}

/* A handler whose argument is "freed" right after it is swapped out: it
 * must never be called with it again. */
struct owned {
    atomic_int freed;
};
static struct owned first, second;
static atomic_int late_calls;

static void owned_handler(evtls_log_level level, unsigned long ms, const char *msg, void *arg)
{
    (void)level, (void)ms, (void)msg;
    struct owned *o = arg;
    if (atomic_load(&o->freed))
        atomic_fetch_add(&late_calls, 1);
}

static void *logger(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++)
        evtls_log(EVTLS_LOG_WARN, "line %d", i);
    return NULL;
}

int main(void)
{
    evtls_log_set_handler(count, NULL);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, logger, NULL);
    for (int i = 0; i < 20000; i++) {
        evtls_log_set_level(i % 2 ? EVTLS_LOG_NONE : EVTLS_LOG_WARN);
        evtls_log_set_handler(count, NULL);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    evtls_log_set_level(EVTLS_LOG_WARN);
    int before = atomic_load(&lines);
    logger(NULL);
    /* Every line at an enabled level reached the handler. */
    int got = atomic_load(&lines) - before;
    printf("%d of 20000 lines logged after the race\n", got);
    /* Swaps while others log: after evtls_log_set_handler returns, the
     * old handler's argument is marked freed; a call with it is late. */
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, logger, NULL);
    for (int i = 0; i < 20000; i++) {
        struct owned *now = i % 2 ? &first : &second, *old = i % 2 ? &second : &first;
        atomic_store(&now->freed, 0);
        evtls_log_set_handler(owned_handler, now);
        atomic_store(&old->freed, 1);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    evtls_log_set_handler(NULL, NULL);
    printf("%d calls of a swapped-out handler\n", atomic_load(&late_calls));
    return got == 20000 && atomic_load(&late_calls) == 0 ? 0 : 1;
}
