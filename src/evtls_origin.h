/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_origin.h - the one definition of an origin key (internal, pure):
 * what the pool groups connections by and what the session cache files
 * sessions under. Both are "host|port|tag": the host as DNS compares it
 * (lower case, no brackets around an IPv6 literal, no trailing dot), the
 * port, and a tag naming what else must match for the two to be
 * interchangeable (for the pool, the configuration object; for a session,
 * the name verified, ALPN, versions and trust). */
#ifndef EVTLS_ORIGIN_H
#define EVTLS_ORIGIN_H

#include <stddef.h>
#include <stdint.h>

#define EVTLS__ORIGIN_KEY_MAX 640

/* Writes the key into out (cap bytes). Returns its length, or -1 when the
 * host is empty or holds '|' or a control byte, port is 0, or the key
 * does not fit. */
int evtls__origin_key(char *out, size_t cap, const char *host, uint16_t port, const char *tag);

#endif
