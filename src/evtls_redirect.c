/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_redirect.c - what following an HTTP redirect means (pure). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "evtls_redirect.h"

int evtls__redirect_status(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* RFC 3986 section 3.1: scheme ":" before any '/', '?' or '#'. */
static size_t scheme_len(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' ? i : 0;
}

/* RFC 3986 section 5.2.4, in place on a path that starts with '/'. */
static void remove_dot_segments(char *path)
{
    char *out = path; /* the output buffer grows behind the input */
    const char *in = path;
    while (*in) {
        if (strncmp(in, "/./", 3) == 0) {
            in += 2;
        } else if (strcmp(in, "/.") == 0) {
            in += 1;
            *out++ = '/';
            break;
        } else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            int last = in[3] == '\0';
            in += 3;
            while (out > path && *--out != '/') /* drop the last output segment */
                ;
            if (last) {
                *out++ = '/';
                break;
            }
        } else {
            do
                *out++ = *in++;
            while (*in && *in != '/');
        }
    }
    *out = '\0';
}

int evtls__redirect_resolve(const evtls_url *base, const char *location, char *out, size_t cap)
{
    if (base == NULL || location == NULL || cap == 0)
        return -1;
    char ref[2 * EVTLS_URL_TARGET_MAX];
    size_t n = strcspn(location, "#"); /* a fragment never goes on the wire */
    if (n >= sizeof ref)
        return -1;
    memcpy(ref, location, n);
    ref[n] = '\0';
    const char *scheme = base->plain ? "http" : "https";
    int w;
    if (scheme_len(ref)) {
        w = snprintf(out, cap, "%s", ref);
    } else if (ref[0] == '/' && ref[1] == '/') {
        w = snprintf(out, cap, "%s:%s", scheme, ref);
    } else {
        /* A path: absolute, a query on the base's path, or relative to the
         * base's directory; then the dot segments go. */
        char path[2 * EVTLS_URL_TARGET_MAX];
        size_t base_path = strcspn(base->target, "?");
        if (ref[0] == '/') {
            w = snprintf(path, sizeof path, "%s", ref);
        } else if (ref[0] == '\0') { /* only a fragment: the same resource */
            w = snprintf(path, sizeof path, "%s", base->target);
        } else if (ref[0] == '?') {
            w = snprintf(path, sizeof path, "%.*s%s", (int)base_path, base->target, ref);
        } else {
            size_t dir = base_path;
            while (dir > 0 && base->target[dir - 1] != '/')
                dir--;
            w = snprintf(path, sizeof path, "%.*s%s", (int)dir, base->target, ref);
        }
        if (w < 0 || (size_t)w >= sizeof path)
            return -1;
        size_t q = strcspn(path, "?");
        char query[sizeof path];
        snprintf(query, sizeof query, "%s", path + q);
        path[q] = '\0';
        if (path[0] != '/') { /* a base target of "*" or a bare query: root it */
            memmove(path + 1, path, strlen(path) + 1);
            path[0] = '/';
        }
        remove_dot_segments(path);
        w = snprintf(out, cap, "%s://%s%s%s", scheme, base->authority, path, query);
    }
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

const char *evtls__redirect_method(int status, const char *method)
{
    if (status == 303 && strcmp(method, "HEAD") != 0)
        return "GET";
    if ((status == 301 || status == 302) && strcmp(method, "POST") == 0)
        return "GET";
    return method;
}

int evtls__redirect_cross_origin(const evtls_url *from, const evtls_url *to)
{
    return from->plain != to->plain || from->port != to->port ||
           strcasecmp(from->host, to->host) != 0;
}
