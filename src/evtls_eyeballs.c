/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_eyeballs.c - Happy Eyeballs v2 (RFC 8305) on one event_base.
 *
 *   resolver --(AAAA, A answers)--> here: sort (RFC 6724), interleave
 *   --(ordered addresses, "more may come")--> dialer --(winner fd)--> owner
 *
 * Section 3: connecting starts on the first AAAA answer, or on an A
 * answer once AAAA has had the Resolution Delay to arrive. Answers that
 * come later join the list of addresses not yet tried (section 4). */
#include <event2/event.h>
#include <event2/event_struct.h>

#include <stdlib.h>
#include <string.h>

#include "evtls_addrsel.h"
#include "evtls_error_int.h"
#include "evtls_eyeballs.h"
#include "evtls_log_int.h"
#include "evtls_time.h"

struct evtls__he {
    struct event_base *base;
    struct evtls__he_opts opts;
    evtls__he_cb cb;
    void *arg;
    evtls__lookup *lookup; /* NULL once both answers are in */
    evtls__dialer *dialer; /* NULL until dialing */
    struct event res_delay;
    int err[2]; /* per family slot (0: IPv6, 1: IPv4), 0 when answered with addresses */
    int answered[2];
    size_t n; /* candidates so far, both families */
    struct evtls__cand cand[2 * EVTLS__MAX_ADDRS];
};

static void he_free(evtls__he *h)
{
    if (h->lookup)
        evtls__resolve_cancel(h->lookup);
    if (h->dialer)
        evtls__dial_cancel(h->dialer);
    evtls__history_release(h->opts.dial.dest);
    event_del(&h->res_delay);
    free(h);
}

void evtls__he_cancel(evtls__he *h, struct evtls__dial_report *rep)
{
    if (h == NULL)
        return;
    if (rep) {
        if (h->dialer)
            evtls__dial_get_report(h->dialer, rep);
        else
            memset(rep, 0, sizeof *rep);
    }
    he_free(h);
}

static void on_dialed(int fd, int err, int sys_errno, const struct evtls__dial_report *rep,
                      void *arg)
{
    evtls__he *h = arg;
    h->dialer = NULL;
    evtls__addr peer;
    memset(&peer, 0, sizeof peer);
    if (fd >= 0) {
        peer.len = sizeof peer.ss;
        if (getpeername(fd, (struct sockaddr *)&peer.ss, &peer.len) != 0)
            peer.len = 0;
    }
    evtls__he_cb cb = h->cb;
    void *cb_arg = h->arg;
    he_free(h);
    cb(EVTLS__HE_DONE, fd, err, sys_errno, &peer, rep, cb_arg);
}

/* Sorts what is known and hands it to the dialer. */
static void push_addresses(evtls__he *h)
{
    struct evtls__cand sorted[2 * EVTLS__MAX_ADDRS];
    evtls__addr order[2 * EVTLS__MAX_ADDRS];
    memcpy(sorted, h->cand, h->n * sizeof *sorted);
    evtls__addrsel_sort(sorted, h->n, evtls__policy_default, evtls__policy_default_n);
    for (size_t i = 0; i < h->n; i++)
        order[i] = sorted[i].dst;
    evtls__addrsel_interleave(order, h->n);
    unsigned why =
        evtls__history_order(h->opts.dial.history, h->opts.dial.dest, order, h->n, evtls__now_us());
    evtls__dial_set_reason(h->dialer, why);
    if (evtls__log_enabled(EVTLS_LOG_DEBUG)) {
        char buf[48];
        for (size_t i = 0; i < h->n; i++)
            LOGD("eyeballs: #%zu %s", i + 1, evtls__addr_str(&order[i], buf, sizeof buf));
    }
    evtls__dial_update(h->dialer, order, h->n, h->lookup != NULL);
}

static void fail_now(evtls__he *h, int err)
{
    evtls__he_cb cb = h->cb;
    void *cb_arg = h->arg;
    he_free(h);
    cb(EVTLS__HE_DONE, -1, err, 0, NULL, NULL, cb_arg);
}

/* Returns 0, or -1 when h was freed (the owner's callback failed it). */
static int begin_dialing(evtls__he *h)
{
    event_del(&h->res_delay);
    unsigned learnt =
        evtls__history_delay_ms(h->opts.dial.history, h->opts.dial.dest, evtls__now_us());
    if (learnt && h->opts.learn_delay)
        h->opts.dial.attempt_delay_ms = learnt;
    h->dialer = evtls__dial_new(h->base, &h->opts.dial, on_dialed, h);
    if (h->dialer == NULL) {
        fail_now(h, EVTLS_ERR_NOMEM);
        return -1;
    }
    push_addresses(h);
    /* The owner may cancel h from inside DIALING; nothing touches h after. */
    h->cb(EVTLS__HE_DIALING, -1, 0, 0, NULL, NULL, h->arg);
    return 0;
}

static void res_delay_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evtls__he *h = arg;
    LOGD("eyeballs: no AAAA answer within %u ms, starting with IPv4", h->opts.resolution_delay_ms);
    begin_dialing(h);
}

/* The error to report when no family gave an address (RFC 8305 leaves
 * this open): a name that does not exist, else a failure that says more
 * than "no address of this family". */
static int combined_error(const evtls__he *h)
{
    int e6 = h->answered[0] ? h->err[0] : 0, e4 = h->answered[1] ? h->err[1] : 0;
    if (e6 == EVTLS_ERR_DNS_NXDOMAIN || e4 == EVTLS_ERR_DNS_NXDOMAIN)
        return EVTLS_ERR_DNS_NXDOMAIN;
    if (e6 && e6 != EVTLS_ERR_DNS_NODATA)
        return e6;
    if (e4 && e4 != EVTLS_ERR_DNS_NODATA)
        return e4;
    return EVTLS_ERR_DNS_NODATA;
}

static void on_answer(int family, int err, const evtls__addr *addrs, size_t n, int last, void *arg)
{
    evtls__he *h = arg;
    int slot = family == 6 ? 0 : 1;
    if (last)
        h->lookup = NULL; /* freed by the resolver when this returns */
    h->answered[slot] = 1;
    h->err[slot] = err;
    for (size_t i = 0; i < n && h->n < 2 * EVTLS__MAX_ADDRS; i++) {
        struct evtls__cand *c = &h->cand[h->n++];
        c->dst = addrs[i];
        evtls__addrsel_source(&c->dst, &c->src);
    }
    if (h->dialer) {
        push_addresses(h); /* late answer: joins the untried addresses */
        return;
    }
    if (h->n == 0) {
        if (last)
            fail_now(h, combined_error(h));
        return;
    }
    if (family == 4 && !last) {
        /* A before AAAA: give AAAA the Resolution Delay. */
        if (!event_pending(&h->res_delay, EV_TIMEOUT, NULL)) {
            struct timeval tv = evtls__tv_ms(h->opts.resolution_delay_ms);
            event_add(&h->res_delay, &tv);
        }
        return;
    }
    begin_dialing(h);
}

evtls__he *evtls__he_start(struct event_base *base, evtls_resolver *r, const char *host,
                           uint16_t port, const struct evtls__he_opts *opts, evtls__he_cb cb,
                           void *arg)
{
    evtls__he *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->base = base;
    h->opts = *opts;
    if (h->opts.resolution_delay_ms > 999)
        h->opts.resolution_delay_ms = 999;
    h->cb = cb;
    h->arg = arg;
    event_assign(&h->res_delay, base, -1, 0, res_delay_cb, h);
    evtls__addr num;
    if (evtls__addr_parse_numeric(host, port, &num) == 1) {
        h->dialer = evtls__dial_new(base, &h->opts.dial, on_dialed, h);
        if (h->dialer == NULL || evtls__dial_update(h->dialer, &num, 1, 0) != 0) {
            he_free(h);
            return NULL;
        }
        return h;
    }
    evtls__history *hist = evtls__resolver_history(r);
    h->opts.dial.history = hist;
    h->opts.dial.dest = hist ? evtls__history_acquire(hist, host, port, evtls__now_us()) : NULL;
    h->lookup = evtls__resolve(r, host, port, opts->family, on_answer, h);
    if (h->lookup == NULL) {
        evtls__history_release(h->opts.dial.dest);
        free(h);
        return NULL;
    }
    return h;
}
