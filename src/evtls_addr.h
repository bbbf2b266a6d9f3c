/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_addr.h - socket address helpers (pure, no I/O). */
#ifndef EVTLS_ADDR_H
#define EVTLS_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A candidate destination: an address with its port set. */
typedef struct evtls__addr {
    struct sockaddr_storage ss;
    socklen_t len;
} evtls__addr;

/* Parses a numeric IPv4 or IPv6 host ("::1" or "[::1]") with port into a.
 * Returns 1 if host is numeric, 0 if it is a name, -1 if it is malformed
 * (brackets around something that is not an IPv6 address). */
int evtls__addr_parse_numeric(const char *host, uint16_t port, evtls__addr *a);

/* Writes the address without port ("127.0.0.1", "::1") into buf. */
const char *evtls__addr_str(const evtls__addr *a, char *buf, size_t size);

/* Returns 4 or 6. */
int evtls__addr_family(const evtls__addr *a);

/* Copies host into out without surrounding brackets (for SNI and name
 * checks). Returns 0, or -1 if it does not fit. */
int evtls__host_strip(const char *host, char *out, size_t size);

#endif
