/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_mem_int.h - the allocator layer under wolfSSL (see evtls/mem.h). */
#ifndef EVTLS_MEM_INT_H
#define EVTLS_MEM_INT_H

#include <stddef.h>
#include "evtls/mem.h"

/* Installs the layer under wolfSSL unless disabled or the program set its
 * own allocators. Must run before wolfSSL_Init; called once. */
void evtls__mem_install(void);

/* Learns the size of wolfSSL's session object (after wolfSSL_Init). */
void evtls__mem_learn_session_size(void);

/* The owner of this thread's next wolfSSL allocations. */
extern _Thread_local evtls_mem_owner evtls__mem_cur_owner;

/* Sets the owner of this thread's next wolfSSL allocations; returns the
 * previous owner, to be given back to evtls__mem_owner_set. Inline: it
 * brackets every TLS read and write. */
static inline evtls_mem_owner evtls__mem_owner_set(evtls_mem_owner owner)
{
    evtls_mem_owner prev = evtls__mem_cur_owner;
    evtls__mem_cur_owner = owner;
    return prev;
}

/* Forgets, then after wolfSSL_new returns, the session object that this
 * thread's wolfSSL_new allocated (NULL when the layer is off). */
void evtls__mem_session_watch(void);
void *evtls__mem_session_taken(void);

/* Gives back the all-zero pages of a session object returned by
 * evtls__mem_session_taken (NULL is ignored). Transparent: a page given
 * back reads as zeros, as it did, and a later write maps it again. */
void evtls__mem_release_zero_pages(void *session);

/* Counts evtls's own per-connection state (delta may be negative). */
void evtls__mem_note(evtls_mem_owner owner, long delta);

#endif
