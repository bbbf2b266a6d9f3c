/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evtls/evtls.h - the whole public API of evtls, an event-loop async TLS
 * client library on libevent and wolfSSL.
 *
 * Threads, in one place:
 * - Per base: every connection, pool, client and resolver is made on one
 *   event_base and used only on the thread that runs that base's loop, with
 *   everything it hands out (checkout and fetch handles, exchanges,
 *   responses). Several threads each run their own base with their own
 *   objects; nothing of one base is touched from another's thread.
 * - Shared by any threads: a built evtls_cfg (read-only once built; threads
 *   may even race its build, which happens once under its lock), the log
 *   handler and level (evtls_log_set_handler: once it returns the old
 *   handler is never called again), the error and version functions, and
 *   evtls_mem_get_stats. A session cache is shared by the objects of one
 *   base only; handles are numbers valid on any thread but cancelled on
 *   their base's.
 * - Per thread: evtls_thread_cleanup before a thread that ran connections
 *   exits.
 *
 * Structs that grow: options and stats structs go to the library with
 * their size as the program was compiled (the inline wrappers, e.g.
 * evtls_pool_new for evtls_pool_new_sized, pass sizeof), and structs only
 * grow at their end. A program built against an older header keeps
 * working with a newer library: options it does not know keep their
 * defaults, stats it does not know are not written, request fields it
 * does not know are off. Structs the library hands out by pointer
 * (connection, checkout and fetch info) also only grow at their end, and
 * evtls_build_info carries its size itself.
 *
 * Lifetimes: free what was made on a base (clients, pools, connections,
 * resolvers; in any order among them) before event_base_free(base) - they
 * hold events in it - and run the loop once after freeing objects with
 * work in flight if anything must be let go of (a cancelled DNS query ends
 * on the loop's next turn). A configuration and a session cache are
 * reference-counted and outlive their last user by themselves.
 */
#ifndef EVTLS_EVTLS_H
#define EVTLS_EVTLS_H

#include "evtls/error.h"
#include "evtls/log.h"
#include "evtls/cfg.h"
#include "evtls/resolver.h"
#include "evtls/session.h"
#include "evtls/conn.h"
#include "evtls/pool.h"
#include "evtls/http.h"
#include "evtls/client.h"
#include "evtls/mem.h"
#include "evtls/version.h"

#endif /* EVTLS_EVTLS_H */
