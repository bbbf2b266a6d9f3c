/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_origin.c - origin keys: see evtls_origin.h. */
#include "evtls_origin.h"
#include "evtls_idna.h"

#include <stdio.h>
#include <string.h>

int evtls__origin_key(char *out, size_t cap, const char *host, uint16_t port, const char *tag)
{
    if (out == NULL || cap == 0 || host == NULL || port == 0)
        return -1;
    char ascii[256], why[160]; /* an international name keys as its A-labels */
    if (evtls__has_non_ascii(host, strlen(host))) {
        if (evtls__host_to_ascii(host, strlen(host), ascii, sizeof ascii, why, sizeof why) != 0)
            return -1;
        host = ascii;
    }
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n > 1 && host[n - 1] == '.') /* "example.com." is "example.com" */
        n--;
    if (n == 0 || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)host[i];
        if (ch <= ' ' || ch == 0x7f || ch == '|')
            return -1;
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch);
    }
    int m = snprintf(out + n, cap - n, "|%u|%s", (unsigned)port, tag ? tag : "");
    if (m < 0 || (size_t)m >= cap - n)
        return -1;
    return (int)n + m;
}
