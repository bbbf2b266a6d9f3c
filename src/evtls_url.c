/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_url.c - https URL parsing (pure), on libhttp-parser's URL parser.
 *
 * http_parser_parse_url splits the URL (RFC 3986 syntax); this file adds
 * what a client needs before it connects: only https, no user info, a
 * host that fits, a port in range, no bytes that could split a request. */
#include <arpa/inet.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "evtls/http.h"
#include "evtls_idna.h"

static int bad(evtls_url *u, const char *why)
{
    u->error = why;
    return EVTLS_ERR_BAD_URL;
}

static int has_ctl_or_space(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

static int copy_part(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        return -1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

static int set_host(evtls_url *u, const char *h, size_t n)
{
    if (n == 0)
        return bad(u, "the host is empty");
    if (copy_part(u->host, sizeof u->host, h, n) != 0)
        return bad(u, "the host is longer than 255 bytes");
    unsigned char a[16];
    if (inet_pton(AF_INET6, u->host, a) == 1)
        u->host_is_ip = 6;
    else if (inet_pton(AF_INET, u->host, a) == 1)
        u->host_is_ip = 4;
    return 0;
}

int evtls_url_parse(const char *text, int allow_bare, evtls_url *u)
{
    if (u == NULL)
        return EVTLS_ERR_INVALID_ARG;
    memset(u, 0, sizeof *u);
    u->port = 443;
    if (text == NULL || *text == '\0')
        return bad(u, "the URL is empty");
    size_t len = strlen(text);
    if (len > EVTLS_URL_TARGET_MAX + EVTLS_URL_HOST_MAX)
        return bad(u, "the URL is too long");
    if (has_ctl_or_space(text))
        return bad(u, "the URL contains a space or a control character");

    const char *sep = strstr(text, "://");
    if (sep == NULL) {
        if (!allow_bare)
            return bad(u, "the URL has no scheme (expected https://)");
        /* HOST[:PORT] (an IPv6 literal in brackets): parse it as a URL. */
        if (strchr(text, '/') || strchr(text, '?') || strchr(text, '#') || strchr(text, '@'))
            return bad(u, "expected HOST:PORT or an https:// URL");
        char tmp[EVTLS_URL_HOST_MAX + 16];
        if (snprintf(tmp, sizeof tmp, "https://%s/", text) >= (int)sizeof tmp)
            return bad(u, "the host is longer than 255 bytes");
        return evtls_url_parse(tmp, 0, u);
    }
    if ((size_t)(sep - text) == 4 && strncasecmp(text, "http", 4) == 0) {
        u->plain = 1;
        u->port = 80;
    } else if ((size_t)(sep - text) != 5 || strncasecmp(text, "https", 5) != 0) {
        return bad(u, "unsupported scheme (expected https:// or http://)");
    }

    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    size_t hlen = strcspn(auth, ":/?#");
    if (evtls__has_non_ascii(auth, hlen)) {
        /* An international name (a literal address is ASCII): its A-labels
         * in the URL, then parsed as any other. The host is ASCII then, so
         * this happens once; non-ASCII elsewhere is refused below. */
        char ascii[EVTLS_URL_HOST_MAX], again[EVTLS_URL_TARGET_MAX + EVTLS_URL_HOST_MAX + 16];
        if (evtls__host_to_ascii(auth, hlen, ascii, sizeof ascii, u->error_text,
                                 sizeof u->error_text) != 0)
            return bad(u, u->error_text);
        if (snprintf(again, sizeof again, "%.*s%s%s", (int)(auth - text), text, ascii,
                     auth + hlen) >= (int)sizeof again)
            return bad(u, "the URL is too long");
        return evtls_url_parse(again, 0, u);
    }
    if (alen > 0 && auth[alen - 1] == ':')
        return bad(u, "the port is empty");

    struct http_parser_url pu;
    http_parser_url_init(&pu);
    if (http_parser_parse_url(text, len, 0, &pu) != 0)
        return bad(u, "the URL is malformed (check the host and the port, 1-65535)");
    if (pu.field_set & (1u << UF_USERINFO))
        return bad(u, "user info (user@) in URLs is not supported");
    if (!(pu.field_set & (1u << UF_HOST)))
        return bad(u, "the URL has no host");
    int rc = set_host(u, text + pu.field_data[UF_HOST].off, pu.field_data[UF_HOST].len);
    if (rc != 0)
        return rc;

    /* The authority as written (host with brackets, and the port). */
    if (copy_part(u->authority, sizeof u->authority, auth, alen) != 0)
        return bad(u, "the host is longer than 255 bytes");
    if (pu.field_set & (1u << UF_PORT)) {
        /* http_parser_parse_url accepts ports up to 65535; 0 is no port. */
        if (pu.port == 0)
            return bad(u, "the port is out of range (1-65535)");
        u->port = pu.port;
    }

    size_t tlen = 0;
    if (pu.field_set & (1u << UF_PATH))
        tlen = pu.field_data[UF_PATH].len;
    if (pu.field_set & (1u << UF_QUERY))
        tlen += 1 + pu.field_data[UF_QUERY].len;
    if (tlen + 2 > sizeof u->target)
        return bad(u, "the path is longer than 2047 bytes");
    if (pu.field_set & (1u << UF_PATH))
        memcpy(u->target, text + pu.field_data[UF_PATH].off, pu.field_data[UF_PATH].len);
    else
        strcpy(u->target, "/");
    if (pu.field_set & (1u << UF_QUERY)) {
        size_t at = strlen(u->target);
        u->target[at++] = '?';
        memcpy(u->target + at, text + pu.field_data[UF_QUERY].off, pu.field_data[UF_QUERY].len);
        u->target[at + pu.field_data[UF_QUERY].len] = '\0';
    }
    return 0;
}
