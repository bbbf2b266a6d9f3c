/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_session_int.h - what the connection layer uses of a session cache. */
#ifndef EVTLS_SESSION_INT_H
#define EVTLS_SESSION_INT_H

#include <stddef.h>
#include <stdint.h>
#include "evtls/session.h"

/* Returns 1 with a malloc'd copy of the newest session for key (a
 * single-use one is removed), or 0. */
int evtls__session_get(evtls_session_cache *sc, const char *key, uint8_t **der, size_t *len,
                       char alpn[16]);

/* Stores a session for key, taking ownership of der. */
void evtls__session_put(evtls_session_cache *sc, const char *key, uint8_t *der, size_t len,
                        int single_use, const char *alpn);

/* Counts a handshake that offered a session: resumed or not. */
void evtls__session_result(evtls_session_cache *sc, int resumed);

#endif
