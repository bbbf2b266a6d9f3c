/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_addr.c - socket address helpers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "evtls_addr.h"

int evtls__host_strip(const char *host, char *out, size_t size)
{
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n + 1 > size)
        return -1;
    memcpy(out, host, n);
    out[n] = '\0';
    return 0;
}

int evtls__addr_parse_numeric(const char *host, uint16_t port, evtls__addr *a)
{
    char buf[64];
    int bracketed = host[0] == '[';
    if (evtls__host_strip(host, buf, sizeof buf) != 0)
        return bracketed ? -1 : 0;
    memset(a, 0, sizeof *a);
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
    if (inet_pton(AF_INET6, buf, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        a->len = sizeof *s6;
        return 1;
    }
    if (bracketed)
        return -1;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
    if (inet_pton(AF_INET, buf, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        a->len = sizeof *s4;
        return 1;
    }
    return 0;
}

const char *evtls__addr_str(const evtls__addr *a, char *buf, size_t size)
{
    const void *src = a->ss.ss_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
    if (inet_ntop(a->ss.ss_family, src, buf, (socklen_t)size) == NULL)
        snprintf(buf, size, "?");
    return buf;
}

int evtls__addr_family(const evtls__addr *a)
{
    return a->ss.ss_family == AF_INET6 ? 6 : 4;
}
