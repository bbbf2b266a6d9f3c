/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_proxy.h - HTTP CONNECT tunnels through a proxy (RFC 9110 section
 * 9.3.6), the pure parts (internal): the proxy URL, the request, and the
 * proxy's answer. */
#ifndef EVTLS_PROXY_H
#define EVTLS_PROXY_H

#include <stddef.h>
#include <stdint.h>

#define EVTLS__PROXY_DEFAULT_PORT 1080 /* curl's */
#define EVTLS__PROXY_ANSWER_MAX   8192 /* status line and headers */

/* Parses "http://[user[:password]@]host[:port]" (or the same without
 * "http://"; user and password may be percent-encoded) into a malloc'd
 * host (no brackets), the port and, with a user, the malloc'd base64 of
 * "user:password" for Proxy-Authorization. Returns 0, EVTLS_ERR_INVALID_ARG
 * or EVTLS_ERR_NOMEM. */
int evtls__proxy_parse(const char *url, char **host, uint16_t *port, char **auth);

/* Writes the CONNECT request for host:port into out. Returns its length,
 * or -1 when it does not fit. */
int evtls__proxy_request(char *out, size_t cap, const char *host, uint16_t port, const char *auth);

/* Reads the proxy's answer so far (len bytes). Returns 0 while the header
 * block is incomplete, 1 when it is whole (*status set, *used the bytes of
 * the block: what follows belongs to the tunnel), -1 when it is not an
 * HTTP/1.x answer or exceeds EVTLS__PROXY_ANSWER_MAX. */
int evtls__proxy_answer(const char *buf, size_t len, int *status, size_t *used);

#endif
