/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_addrsel.c - libFuzzer harness for RFC 6724 destination selection
 * and the Happy Eyeballs interleave (pure: no socket is made).
 *
 * Input: records of 33 bytes: a family byte (even: IPv6, odd: IPv4), the
 * destination (16 bytes, an IPv4 one in the first 4) and a source (16
 * bytes; all zero = no usable source). Up to 32 records. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evtls_addrsel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC  33
#define MAXN 32

static void make_addr(int v4, const uint8_t *b, evtls__addr *a)
{
    memset(a, 0, sizeof *a);
    if (v4) {
        struct sockaddr_in *s = (struct sockaddr_in *)&a->ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(443);
        memcpy(&s->sin_addr, b, 4);
        a->len = sizeof *s;
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(443);
        memcpy(&s->sin6_addr, b, 16);
        a->len = sizeof *s;
    }
}

static int is_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* Every input address is in out exactly once (compared as ip16). */
static void check_permutation(const evtls__addr *in, const evtls__addr *out, size_t n)
{
    int used[MAXN] = {0};
    for (size_t i = 0; i < n; i++) {
        uint8_t a[16];
        evtls__addrsel_ip16(&in[i], a);
        size_t j = 0;
        for (; j < n; j++) {
            uint8_t b[16];
            evtls__addrsel_ip16(&out[j], b);
            if (!used[j] && evtls__addr_family(&in[i]) == evtls__addr_family(&out[j]) &&
                memcmp(a, b, 16) == 0)
                break;
        }
        if (j == n)
            abort();
        used[j] = 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size / REC;
    if (n > MAXN)
        n = MAXN;
    struct evtls__cand c[MAXN], again[MAXN];
    evtls__addr before[MAXN], after[MAXN];
    for (size_t i = 0; i < n; i++) {
        const uint8_t *r = data + i * REC;
        int v4 = r[0] & 1;
        make_addr(v4, r + 1, &c[i].dst);
        if (is_zero(r + 17, 16))
            memset(&c[i].src, 0, sizeof c[i].src); /* unreachable: len 0 */
        else
            make_addr(v4, r + 17, &c[i].src);
        before[i] = c[i].dst;
        (void)evtls__addrsel_scope(&c[i].dst);
        (void)evtls__addrsel_classify(&c[i].dst, evtls__policy_default, evtls__policy_default_n);
        (void)evtls__addrsel_common_prefix(&c[i].dst, &c[i].src);
    }
    evtls__addrsel_sort(c, n, evtls__policy_default, evtls__policy_default_n);
    for (size_t i = 0; i < n; i++)
        after[i] = c[i].dst;
    check_permutation(before, after, n);
    /* A sorted list sorts to itself: the order is consistent. */
    memcpy(again, c, n * sizeof c[0]);
    evtls__addrsel_sort(again, n, evtls__policy_default, evtls__policy_default_n);
    for (size_t i = 0; i < n; i++)
        if (memcmp(&again[i].dst, &c[i].dst, sizeof c[i].dst) != 0)
            abort();
    evtls__addr mixed[MAXN];
    memcpy(mixed, after, n * sizeof after[0]);
    evtls__addrsel_interleave(mixed, n);
    check_permutation(after, mixed, n);
    if (n > 0 && memcmp(&mixed[0], &after[0], sizeof mixed[0]) != 0)
        abort(); /* the best address keeps its place */
    return 0;
}
