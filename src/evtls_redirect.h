/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_redirect.h - what following an HTTP redirect means (internal,
 * pure): where it goes (RFC 3986 reference resolution of Location against
 * the request's URL), with which method (RFC 9110 section 15.4, as
 * browsers, Go and curl do it), and whether the credentials go along. */
#ifndef EVTLS_REDIRECT_H
#define EVTLS_REDIRECT_H

#include <stddef.h>

#include "evtls/http.h"

/* 1 for the statuses a client follows: 301, 302, 303, 307, 308. */
int evtls__redirect_status(int status);

/* Resolves location against base into out (an absolute http(s) URL, its
 * fragment dropped, "." and ".." segments removed). Returns 0, or -1 when
 * it does not fit. */
int evtls__redirect_resolve(const evtls_url *base, const char *location, char *out, size_t cap);

/* The method of the next request: GET after a 303 (HEAD stays HEAD), and
 * after a 301 or 302 to a POST; the same method otherwise (307, 308). */
const char *evtls__redirect_method(int status, const char *method);

/* 1 when the next request goes to another origin (scheme, host or port):
 * the Authorization, Proxy-Authorization and Cookie headers stay behind. */
int evtls__redirect_cross_origin(const evtls_url *from, const evtls_url *to);

#endif
