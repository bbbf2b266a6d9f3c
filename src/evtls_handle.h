/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_handle.h - handles that cannot alias (internal). A pool checkout or
 * a fetch is given to the application as a number, not as the address of
 * its record: records are recycled (or freed), and a late cancel through
 * an address would reach whatever lives there now. The number names a
 * slot of one process-wide table and the slot's generation; once the
 * record is spent the slot's generation moves on, so the old number finds
 * nothing and the cancel is a no-op. */
#ifndef EVTLS_HANDLE_H
#define EVTLS_HANDLE_H

#include <stdint.h>

typedef uintptr_t evtls__handle; /* 0 is never a handle */

/* A new handle for obj, or 0 when out of memory. */
evtls__handle evtls__handle_new(void *obj);

/* The object of a live handle; NULL for 0 or a spent one. */
void *evtls__handle_get(evtls__handle h);

/* Spends h: evtls__handle_get finds nothing for it from now on. A spent
 * or 0 handle is ignored. */
void evtls__handle_drop(evtls__handle h);

#endif
