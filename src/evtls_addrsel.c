/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_addrsel.c - RFC 6724 destination address selection (section 6)
 * and the Happy Eyeballs interleaving of RFC 8305 section 4. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evtls_addrsel.h"
#include "evtls_log_int.h"

#define MAX_SORT 64 /* candidates beyond this keep their order */

/* RFC 6724 section 2.1. */
const struct evtls__policy evtls__policy_default[] = {
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, 50, 0},      /* ::1/128 */
    {{0}, 0, 40, 1},                                                     /* ::/0 */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0}, 96, 35, 4}, /* ::ffff:0:0/96 */
    {{0x20, 0x02}, 16, 30, 2},                                           /* 2002::/16 */
    {{0x20, 0x01, 0, 0}, 32, 5, 5},                                      /* 2001::/32 */
    {{0xfc}, 7, 3, 13},                                                  /* fc00::/7 */
    {{0}, 96, 1, 3},                                                     /* ::/96 */
    {{0xfe, 0xc0}, 10, 1, 11},                                           /* fec0::/10 */
    {{0x3f, 0xfe}, 16, 1, 12},                                           /* 3ffe::/16 */
};
const size_t evtls__policy_default_n =
    sizeof evtls__policy_default / sizeof evtls__policy_default[0];

void evtls__addrsel_ip16(const evtls__addr *a, uint8_t out[16])
{
    if (a->ss.ss_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16);
        return;
    }
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, &((const struct sockaddr_in *)&a->ss)->sin_addr, 4);
}

static int is_v4(const uint8_t ip[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(ip, mapped, 12) == 0;
}

int evtls__addrsel_scope(const evtls__addr *a)
{
    uint8_t ip[16];
    evtls__addrsel_ip16(a, ip);
    if (is_v4(ip)) {
        /* Section 3.2: loopback and auto-configured addresses are
         * link-local, everything else (private ones too) global. */
        if (ip[12] == 127 || (ip[12] == 169 && ip[13] == 254))
            return EVTLS__SCOPE_LINK;
        return EVTLS__SCOPE_GLOBAL;
    }
    if (ip[0] == 0xff)
        return ip[1] & 0x0f; /* multicast carries its scope */
    static const uint8_t loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (memcmp(ip, loop, 16) == 0)
        return EVTLS__SCOPE_LINK; /* RFC 4007 section 4 */
    if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
        return EVTLS__SCOPE_LINK;
    if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0xc0)
        return EVTLS__SCOPE_SITE;
    return EVTLS__SCOPE_GLOBAL;
}

static int prefix_match(const uint8_t *a, const uint8_t *p, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, p, bytes) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[bytes] & mask) == (p[bytes] & mask);
}

const struct evtls__policy *evtls__addrsel_classify(const evtls__addr *a,
                                                    const struct evtls__policy *table, size_t n)
{
    uint8_t ip[16];
    evtls__addrsel_ip16(a, ip);
    const struct evtls__policy *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (prefix_match(ip, table[i].prefix, table[i].prefix_len) &&
            (best == NULL || table[i].prefix_len > best->prefix_len))
            best = &table[i];
    return best;
}

int evtls__addrsel_common_prefix(const evtls__addr *a, const evtls__addr *b)
{
    if (a->ss.ss_family != AF_INET6 || b->ss.ss_family != AF_INET6)
        return 0;
    uint8_t x[16], y[16];
    evtls__addrsel_ip16(a, x);
    evtls__addrsel_ip16(b, y);
    if (is_v4(x) || is_v4(y))
        return 0;
    int bits = 0;
    for (int i = 0; i < 8; i++) { /* up to the /64 subnet prefix */
        uint8_t d = x[i] ^ y[i];
        if (d == 0) {
            bits += 8;
            continue;
        }
        while ((d & 0x80) == 0) {
            bits++;
            d = (uint8_t)(d << 1);
        }
        break;
    }
    return bits;
}

struct attrs {
    int usable;
    int dscope, sscope;
    int dlabel, slabel, prec;
};

static struct attrs attrs_of(const struct evtls__cand *c, const struct evtls__policy *t, size_t n)
{
    struct attrs a = {0};
    a.usable = c->src.len != 0;
    a.dscope = evtls__addrsel_scope(&c->dst);
    const struct evtls__policy *d = evtls__addrsel_classify(&c->dst, t, n);
    a.dlabel = d ? d->label : -1;
    a.prec = d ? d->precedence : 0;
    if (a.usable) {
        a.sscope = evtls__addrsel_scope(&c->src);
        const struct evtls__policy *s = evtls__addrsel_classify(&c->src, t, n);
        a.slabel = s ? s->label : -2;
    } else {
        a.sscope = -1;
        a.slabel = -2;
    }
    return a;
}

/* Returns < 0 when a (candidate ia) goes before b (candidate ib), > 0 when
 * after, 0 when no rule decides (rule 10: keep the order). */
static int compare(const struct evtls__cand *a, const struct evtls__cand *b, int ia, int ib,
                   const struct attrs *xa, const struct attrs *ya)
{
    struct attrs x = *xa, y = *ya;
    int dbg = evtls__log_enabled(EVTLS_LOG_DEBUG);
    /* Rule 1: avoid unusable destinations. */
    if (x.usable != y.usable) {
        if (dbg)
            LOGD("addrsel: rule 1, cand_%d usable %d, cand_%d usable %d", ia, x.usable, ib,
                 y.usable);
        return x.usable ? -1 : 1;
    }
    /* Rule 2: prefer matching scope. */
    int mx = x.dscope == x.sscope, my = y.dscope == y.sscope;
    if (mx != my) {
        if (dbg)
            LOGD("addrsel: rule 2, cand_%d scope (%d) match %d, cand_%d scope (%d) match %d", ia,
                 x.dscope, mx, ib, y.dscope, my);
        return mx ? -1 : 1;
    }
    /* Rule 5: prefer matching label. */
    mx = x.dlabel == x.slabel;
    my = y.dlabel == y.slabel;
    if (mx != my) {
        if (dbg)
            LOGD("addrsel: rule 5, cand_%d label (%d) match %d, cand_%d label (%d) match %d", ia,
                 x.dlabel, mx, ib, y.dlabel, my);
        return mx ? -1 : 1;
    }
    /* Rule 6: prefer higher precedence. */
    if (x.prec != y.prec) {
        if (dbg)
            LOGD("addrsel: rule 6, cand_%d precedence %d, cand_%d precedence %d", ia, x.prec, ib,
                 y.prec);
        return x.prec > y.prec ? -1 : 1;
    }
    /* Rule 8: prefer smaller scope. */
    if (x.dscope != y.dscope) {
        if (dbg)
            LOGD("addrsel: rule 8, cand_%d scope (%d), cand_%d scope (%d)", ia, x.dscope, ib,
                 y.dscope);
        return x.dscope < y.dscope ? -1 : 1;
    }
    /* Rule 9: longest matching prefix, for two IPv6 destinations only
     * (for IPv4 it would favour arbitrary neighbours of a private source). */
    if (a->dst.ss.ss_family == AF_INET6 && b->dst.ss.ss_family == AF_INET6 && x.usable) {
        int px = evtls__addrsel_common_prefix(&a->dst, &a->src);
        int py = evtls__addrsel_common_prefix(&b->dst, &b->src);
        if (px != py) {
            if (dbg)
                LOGD("addrsel: rule 9, cand_%d prefix %d, cand_%d prefix %d", ia, px, ib, py);
            return px > py ? -1 : 1;
        }
    }
    if (dbg)
        LOGD("addrsel: rule 10, cand_%d before cand_%d (order kept)", ia < ib ? ia : ib,
             ia < ib ? ib : ia);
    return 0;
}

void evtls__addrsel_sort(struct evtls__cand *c, size_t n, const struct evtls__policy *table,
                         size_t table_n)
{
    if (n > MAX_SORT)
        n = MAX_SORT;
    /* Each candidate's scopes, labels and precedence, found once. */
    struct attrs at[MAX_SORT];
    int orig[MAX_SORT];
    for (size_t i = 0; i < n; i++) {
        orig[i] = (int)i;
        at[i] = attrs_of(&c[i], table, table_n);
    }
    /* Insertion sort: stable, and n is a handful. */
    for (size_t i = 1; i < n; i++) {
        struct evtls__cand cur = c[i];
        struct attrs cur_at = at[i];
        int oi = orig[i];
        size_t j = i;
        while (j > 0 && compare(&cur, &c[j - 1], oi, orig[j - 1], &cur_at, &at[j - 1]) < 0) {
            c[j] = c[j - 1];
            at[j] = at[j - 1];
            orig[j] = orig[j - 1];
            j--;
        }
        c[j] = cur;
        at[j] = cur_at;
        orig[j] = oi;
    }
}

int evtls__addrsel_source(const evtls__addr *dst, evtls__addr *src)
{
    memset(src, 0, sizeof *src);
    int fd = socket(dst->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* Connecting a UDP socket only picks a route and a source address. */
    socklen_t len = sizeof src->ss;
    int rc = -1;
    if (connect(fd, (const struct sockaddr *)&dst->ss, dst->len) == 0 &&
        getsockname(fd, (struct sockaddr *)&src->ss, &len) == 0) {
        src->len = len;
        rc = 0;
    }
    close(fd);
    if (rc != 0)
        memset(src, 0, sizeof *src);
    return rc;
}

void evtls__addrsel_interleave(evtls__addr *a, size_t n)
{
    /* Each position takes the first remaining address of the family that
     * did not take the previous one, if any is left. */
    for (size_t i = 1; i < n; i++) {
        sa_family_t want = a[i - 1].ss.ss_family == AF_INET6 ? AF_INET : AF_INET6;
        size_t k = i;
        while (k < n && a[k].ss.ss_family != want)
            k++;
        if (k == n || k == i)
            continue;
        evtls__addr t = a[k];
        memmove(&a[i + 1], &a[i], (k - i) * sizeof *a);
        a[i] = t;
    }
}
