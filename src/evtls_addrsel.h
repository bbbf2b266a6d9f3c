/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_addrsel.h - RFC 6724 destination address selection.
 *
 * The sort is a pure function of its inputs: the candidates, the source
 * address the kernel would use for each, and the policy table. Finding the
 * source addresses is a separate call, so tests can inject them. */
#ifndef EVTLS_ADDRSEL_H
#define EVTLS_ADDRSEL_H

#include <stddef.h>
#include <stdint.h>
#include "evtls_addr.h"

/* One row of the policy table (RFC 6724 section 2.1). IPv4 addresses are
 * looked up as IPv4-mapped IPv6 addresses (::ffff:a.b.c.d). */
struct evtls__policy {
    uint8_t prefix[16];
    uint8_t prefix_len;
    uint8_t precedence;
    uint8_t label;
};

/* The default policy table of RFC 6724 section 2.1. */
extern const struct evtls__policy evtls__policy_default[];
extern const size_t evtls__policy_default_n;

/* A destination and the source address that would be used to reach it;
 * src.len == 0 means there is none (the destination is unusable). */
struct evtls__cand {
    evtls__addr dst;
    evtls__addr src;
};

/* Scope values of RFC 4291 / RFC 6724 section 3.1 (smaller is narrower). */
enum {
    EVTLS__SCOPE_INTERFACE = 0x1,
    EVTLS__SCOPE_LINK = 0x2,
    EVTLS__SCOPE_ADMIN = 0x4,
    EVTLS__SCOPE_SITE = 0x5,
    EVTLS__SCOPE_ORG = 0x8,
    EVTLS__SCOPE_GLOBAL = 0xe
};

/* Writes the address as 16 bytes, IPv4 as IPv4-mapped. */
void evtls__addrsel_ip16(const evtls__addr *a, uint8_t out[16]);

/* The scope of an address (IPv4 per RFC 6724 section 3.2). */
int evtls__addrsel_scope(const evtls__addr *a);

/* The longest-prefix-matching row of table for a (NULL if none). */
const struct evtls__policy *evtls__addrsel_classify(const evtls__addr *a,
                                                    const struct evtls__policy *table, size_t n);

/* Length of the common prefix of two IPv6 addresses, up to 64 bits (the
 * source's subnet prefix); 0 when either is IPv4. */
int evtls__addrsel_common_prefix(const evtls__addr *a, const evtls__addr *b);

/* Sorts c[0..n) best first by rules 1, 2, 5, 6, 8, 9 and 10 of RFC 6724
 * section 6 (stable, so rule 10 keeps the given order). At debug level,
 * logs the rule that decided each comparison. */
void evtls__addrsel_sort(struct evtls__cand *c, size_t n, const struct evtls__policy *table,
                         size_t table_n);

/* Finds the source address the kernel would choose for dst, without
 * sending anything (a UDP socket is connected, then asked its name).
 * Returns 0, or -1 with src->len = 0 when dst is unreachable. */
int evtls__addrsel_source(const evtls__addr *dst, evtls__addr *src);

/* Reorders a sorted list for Happy Eyeballs (RFC 8305 section 4): the
 * first address keeps its place, then families alternate. */
void evtls__addrsel_interleave(evtls__addr *a, size_t n);

#endif
