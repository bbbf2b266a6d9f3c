/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_proxy.c - see evtls_proxy.h. */
#include "evtls_proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "evtls/error.h"
#include "evtls_base64.h"

/* Percent-decodes n bytes of s into out (cap). Returns the length or -1. */
static int unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = evtls__hex_digit(s[i + 1]), l = evtls__hex_digit(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}

int evtls__proxy_parse(const char *url, char **host_out, uint16_t *port_out, char **auth_out)
{
    *host_out = NULL;
    *auth_out = NULL;
    const char *p = url;
    if (strncasecmp(p, "http://", 7) == 0)
        p += 7;
    else if (strstr(p, "://"))
        return EVTLS_ERR_INVALID_ARG; /* https:// and socks proxies are not spoken */
    size_t n = strcspn(p, "/?#");
    if (p[n] == '/' && p[n + 1] != '\0')
        return EVTLS_ERR_INVALID_ARG; /* a path means something else */
    char auth[512] = "";
    const char *at = memchr(p, '@', n);
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        char user[256], pass[256] = "";
        size_t ulen = colon ? (size_t)(colon - p) : (size_t)(at - p);
        if (ulen == 0 || unescape(p, ulen, user, sizeof user) < 0 ||
            (colon && unescape(colon + 1, (size_t)(at - colon - 1), pass, sizeof pass) < 0))
            return EVTLS_ERR_INVALID_ARG;
        char both[520];
        snprintf(both, sizeof both, "%s:%s", user, pass);
        if (evtls__b64_encode((const uint8_t *)both, strlen(both), auth, sizeof auth) < 0)
            return EVTLS_ERR_INVALID_ARG;
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *host = p, *hend;
    const char *rest;
    if (*p == '[') {
        hend = memchr(p, ']', n);
        if (hend == NULL)
            return EVTLS_ERR_INVALID_ARG;
        host = p + 1;
        rest = hend + 1;
    } else {
        hend = p;
        while ((size_t)(hend - p) < n && *hend != ':')
            hend++;
        rest = hend;
    }
    size_t hlen = (size_t)(hend - host);
    unsigned long port = EVTLS__PROXY_DEFAULT_PORT;
    if ((size_t)(rest - p) < n && *rest == ':') {
        char *e;
        port = strtoul(rest + 1, &e, 10);
        if (e == rest + 1 || port == 0 || port > 65535 || (size_t)(e - p) != n)
            return EVTLS_ERR_INVALID_ARG;
    } else if ((size_t)(rest - p) != n) {
        return EVTLS_ERR_INVALID_ARG;
    }
    if (hlen == 0 || hlen > 253)
        return EVTLS_ERR_INVALID_ARG;
    for (size_t i = 0; i < hlen; i++)
        if ((unsigned char)host[i] <= ' ' || host[i] == '@' || host[i] == '/')
            return EVTLS_ERR_INVALID_ARG;
    char *h = strndup(host, hlen);
    char *a = auth[0] ? strdup(auth) : NULL;
    if (h == NULL || (auth[0] && a == NULL)) {
        free(h);
        free(a);
        return EVTLS_ERR_NOMEM;
    }
    *host_out = h;
    *auth_out = a;
    *port_out = (uint16_t)port;
    return 0;
}

int evtls__proxy_request(char *out, size_t cap, const char *host, uint16_t port, const char *auth)
{
    int v6 = strchr(host, ':') != NULL;
    char hp[300];
    snprintf(hp, sizeof hp, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port);
    int n =
        snprintf(out, cap, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", hp, hp,
                 auth ? "Proxy-Authorization: Basic " : "", auth ? auth : "", auth ? "\r\n" : "");
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int evtls__proxy_answer(const char *buf, size_t len, int *status, size_t *used)
{
    /* "HTTP/1.x SSS ..." */
    size_t check = len < 12 ? len : 12;
    static const char head[] = "HTTP/1.";
    for (size_t i = 0; i < check; i++) {
        if (i < 7 && buf[i] != head[i])
            return -1;
        if (i == 7 && buf[i] != '0' && buf[i] != '1')
            return -1;
        if (i == 8 && buf[i] != ' ')
            return -1;
        if (i >= 9 && i < 12 && (buf[i] < '0' || buf[i] > '9'))
            return -1;
    }
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            if (i < 12)
                return -1;
            *status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
            *used = i + 4;
            return 1;
        }
    return len >= EVTLS__PROXY_ANSWER_MAX ? -1 : 0;
}
