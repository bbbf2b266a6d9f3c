/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_stats.c - evtls-load's counters and its summary. */
#include "lt_stats.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <evtls/error.h>

#include "evtls_cli.h"
#include "lt_hdr.h"
#include "lt_json.h" /* lt_print */

/* clang-format off */
#define C(f, how) {#f, offsetof(lt_stats, f), how}
/* clang-format on */
const lt_counter lt_counters[] = {
    C(conns_ok, LT_SUM),       C(conns_failed, LT_SUM),
    C(attempts, LT_SUM),       C(attempts_lost, LT_SUM),
    C(retried, LT_SUM),        C(due, LT_SUM),
    C(never_started, LT_SUM),  C(backoffs, LT_SUM),
    C(settle_us, LT_MAX),      C(offers_missed, LT_SUM),
    C(offered, LT_SUM),        C(resumed, LT_SUM),
    C(reqs_ok, LT_SUM),        C(reqs_failed, LT_SUM),
    C(ops_ok, LT_SUM),         C(ops_failed, LT_SUM),
    C(bytes_in, LT_SUM),       C(bytes_out, LT_SUM),
    C(body_bytes, LT_SUM),     C(slot_reqs_min, LT_MIN),
    C(slot_reqs_max, LT_MAX),  C(stop_late_us, LT_MAX),
    C(status_errors, LT_SUM),  C(tls_other, LT_SUM),
    C(series_dropped, LT_SUM), C(read_wakes, LT_SUM),
    C(ended_by_d, LT_MAX),     C(h2_responses, LT_SUM),
    C(h2_refused, LT_SUM),     C(h2_goaways, LT_SUM),
    C(h2_conns, LT_SUM),       C(h2_peer_max_streams, LT_MAX),
    C(early_accepted, LT_SUM), C(early_rejected, LT_SUM),
    C(early_not_sent, LT_SUM), C(early_bytes, LT_SUM),
    C(early_425, LT_SUM),      C(checks, LT_SUM),
    C(checks_failed, LT_SUM),
};
#undef C
const size_t lt_n_counters = sizeof lt_counters / sizeof lt_counters[0];

static uint64_t *counter(lt_stats *st, const lt_counter *c)
{
    return (uint64_t *)(void *)((char *)st + c->off);
}

static uint64_t counter_get(const lt_stats *st, const lt_counter *c)
{
    return *(const uint64_t *)(const void *)((const char *)st + c->off);
}

void lt_stats_init(lt_stats *st)
{
    memset(st, 0, sizeof *st);
    st->slot_reqs_min = UINT64_MAX;
    for (int i = 0; i < LT_NPHASES; i++)
        lt_hist_reset(&st->hist[i]);
}

void lt_series_free(lt_second *series, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(series[i].slot);
    free(series);
}

void lt_stats_free(lt_stats *st)
{
    lt_series_free(st->series, st->n_series);
    st->series = NULL;
    st->n_series = 0;
}

/* Second sec of st's series, grown to hold it; NULL when out of memory. */
static lt_second *second_at(lt_stats *st, uint64_t sec)
{
    if (sec >= LT_SERIES_MAX)
        return NULL;
    if (sec >= st->n_series) {
        size_t n = st->n_series ? st->n_series : 16;
        while (n <= sec)
            n *= 2;
        if (n > LT_SERIES_MAX)
            n = LT_SERIES_MAX;
        lt_second *s = realloc(st->series, n * sizeof *s);
        if (s == NULL)
            return NULL;
        memset(s + st->n_series, 0, (n - st->n_series) * sizeof *s);
        st->series = s;
        st->n_series = n;
    }
    return &st->series[sec];
}

/* Second sec, with its latency counts when slot is set, to take ops more
 * operations; NULL (the operations counted as dropped) when out of range
 * or memory. */
static lt_second *second_for(lt_stats *st, uint64_t sec, uint64_t ops, int slot)
{
    lt_second *s = second_at(st, sec);
    if (s && slot && s->slot == NULL)
        s->slot = calloc(LT_SERIES_SLOTS, sizeof *s->slot);
    if (s == NULL || (slot && s->slot == NULL)) {
        st->series_dropped += ops;
        return NULL;
    }
    return s;
}

int lt_stats_second(lt_stats *st, uint64_t sec, int err, uint64_t latency_us)
{
    lt_second *s = second_for(st, sec, 1, err == 0);
    if (s == NULL)
        return -1;
    s->ops++;
    if (err)
        s->errors++;
    else
        s->slot[lt_layout_slot_of(LT_SERIES_SUB_BITS,
                                  latency_us > LT_HIST_VMAX ? LT_HIST_VMAX : latency_us)]++;
    return 0;
}

int lt_stats_second_add(lt_stats *st, uint64_t sec, uint64_t ops, uint64_t errors,
                        const uint64_t *slot)
{
    if (ops == 0)
        return 0;
    lt_second *to = second_for(st, sec, ops, slot != NULL);
    if (to == NULL)
        return -1;
    to->ops += ops;
    to->errors += errors;
    for (unsigned k = 0; slot && k < LT_SERIES_SLOTS; k++)
        to->slot[k] += (uint32_t)slot[k];
    return 0;
}

int lt_stats_merge_series(lt_stats *dst, const lt_second *series, size_t n, uint64_t shift)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const lt_second *from = &series[i];
        lt_second *to =
            from->ops ? second_for(dst, i + shift, from->ops, from->slot != NULL) : NULL;
        if (to == NULL) {
            rc = from->ops ? -1 : rc;
            continue;
        }
        to->ops += from->ops;
        to->errors += from->errors;
        for (unsigned k = 0; from->slot && k < LT_SERIES_SLOTS; k++)
            to->slot[k] += from->slot[k];
    }
    return rc;
}

void lt_stats_error(lt_stats *st, int err)
{
    unsigned i = err < 0 && -err < LT_ERR_SLOTS ? (unsigned)-err : 0;
    st->errors[i]++; /* slot 0: a code out of range (never expected) */
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

void lt_stats_tls_n(lt_stats *st, const char *version, const char *cipher, const char *group,
                    uint64_t n)
{
    for (unsigned i = 0; i < st->n_tls; i++) {
        lt_tls_kind *k = &st->tls[i];
        if (same(k->version, version) && same(k->cipher, cipher) && same(k->group, group)) {
            k->n += n;
            return;
        }
    }
    if (st->n_tls == LT_MAX_TLS) {
        st->tls_other += n;
        return;
    }
    st->tls[st->n_tls++] = (lt_tls_kind){version, cipher, group, n};
}

void lt_stats_tls(lt_stats *st, const char *version, const char *cipher, const char *group)
{
    lt_stats_tls_n(st, version, cipher, group, 1);
}

int lt_stats_merge(lt_stats *dst, const lt_stats *src)
{
    for (size_t i = 0; i < lt_n_counters; i++) {
        uint64_t *d = counter(dst, &lt_counters[i]);
        uint64_t v = counter_get(src, &lt_counters[i]);
        if (lt_counters[i].how == LT_SUM)
            *d += v;
        else if (lt_counters[i].how == LT_MAX ? v > *d : v < *d)
            *d = v;
    }
    for (size_t i = 0; i < sizeof dst->codes / sizeof dst->codes[0]; i++)
        dst->codes[i] += src->codes[i];
    for (int i = 0; i < 6; i++)
        dst->status[i] += src->status[i];
    for (int i = 0; i < LT_ERR_SLOTS; i++)
        dst->errors[i] += src->errors[i];
    for (unsigned i = 0; i < src->n_tls; i++)
        lt_stats_tls_n(dst, src->tls[i].version, src->tls[i].cipher, src->tls[i].group,
                       src->tls[i].n);
    for (int i = 0; i < LT_NPHASES; i++)
        lt_hist_merge(&dst->hist[i], &src->hist[i]);
    return lt_stats_merge_series(dst, src->series, src->n_series, 0);
}

static const char *mode_name(lt_mode m)
{
    return m == LT_MODE_HANDSHAKE ? "handshake" : m == LT_MODE_REQUEST ? "request" : "hold";
}

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static double per_s(uint64_t n, double s)
{
    return s > 0 ? (double)n / s : 0;
}

static double share(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0;
}

void lt_each_error(FILE *f, const lt_stats *st, lt_err_row_fn row)
{
    int first = 1;
    for (int cls = EVTLS_CLASS_USAGE; cls <= EVTLS_CLASS_HTTP; cls++)
        for (int i = 1; i < LT_ERR_SLOTS; i++)
            if (st->errors[i] && (int)evtls_err_get_class(-i) == cls)
                row(f, evtls_err_class_name((evtls_err_class)cls), evtls_err_name(-i),
                    evtls_strerror(-i), st->errors[i], &first);
    if (st->status_errors)
        row(f, "status", "HTTP_STATUS", "an HTTP status not expected (by default 400 or above)",
            st->status_errors, &first);
    if (st->errors[0])
        row(f, "internal", "UNKNOWN", "an error code evtls-load does not know", st->errors[0],
            &first);
}

static void text_error_row(FILE *f, const char *cls, const char *name, const char *text, uint64_t n,
                           int *first)
{
    (void)first;
    fprintf(f, "  %-9s %-24s %10llu  %s\n", cls, name, (unsigned long long)n, text);
}

static void text_target_error_row(FILE *f, const char *cls, const char *name, const char *text,
                                  uint64_t n, int *first)
{
    (void)first, (void)text;
    fprintf(f, "      errors: %-9s %-24s %10llu\n", cls, name, (unsigned long long)n);
}

/* The run: what, where, how long, how fast. */
static void text_run(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    uint64_t hs = st->conns_ok;
    /* -c as given: in the open loop a ceiling, and in a shard or a merge
     * the whole test's; what was opened is on the connections line. */
    char streams[48] = "";
    if (o->max_streams)
        snprintf(streams, sizeof streams, " x -M %u (HTTP/2 streams each)", o->max_streams);
    fprintf(f, "\nevtls-load: %s mode, %s, -c %u (%s)%s, %u thread%s%s\n", mode_name(o->mode),
            o->target, o->conns,
            o->rate > 0 ? "at most that many connections at once"
            : r->shard_index != LT_MERGED && r->shard_count > 1 ? "connections of the whole test"
                                                                : "connections at once",
            streams, o->threads, o->threads == 1 ? "" : "s",
            r->interrupted ? " (interrupted)" : "");
    if (r->shard_index == LT_MERGED)
        fprintf(f, "merged: %zu result%s of %u shard%s, %u thread%s in all\n", r->n_shards,
                r->n_shards == 1 ? "" : "s", r->shard_count, r->shard_count == 1 ? "" : "s",
                o->threads, o->threads == 1 ? "" : "s");
    else if (r->shard_count > 1)
        fprintf(f, "shard %u of %u (0-based) on %s: %llu of the %u connections\n", r->shard_index,
                r->shard_count, r->host ? r->host : "?", (unsigned long long)r->conns_here,
                o->conns);
    if (o->mode == LT_MODE_HOLD && st->settle_us)
        /* The rate of the handshakes over the time they took, not the hold. */
        fprintf(f, "finished in %.2f s: %.1f handshakes/s over the %.2f s every connection took",
                r->elapsed_s, per_s(hs, (double)st->settle_us / 1e6), (double)st->settle_us / 1e6);
    else if (o->mode == LT_MODE_REQUEST) /* requests lead; handshakes are their cost */
        fprintf(f, "finished in %.2f s: %.1f requests/s (%.1f handshakes/s)", r->elapsed_s,
                per_s(st->reqs_ok, r->elapsed_s), per_s(hs, r->elapsed_s));
    else
        fprintf(f, "finished in %.2f s: %.1f handshakes/s", r->elapsed_s, per_s(hs, r->elapsed_s));
    fputc('\n', f);
}

/* The connections: the open loop's schedule, back-offs, handshakes, sessions, TCP attempts. */
static void text_connections(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    uint64_t hs = st->conns_ok;
    if (o->rate > 0) {
        /* The schedule asked for (the ramp included) against what ran: every
         * operation that came due is done, failed, unfinished or never
         * started, and the four add up. */
        uint64_t done = st->ops_ok + st->ops_failed;
        char asked[96];
        if (r->shard_index != LT_MERGED && r->shard_count > 1)
            snprintf(asked, sizeof asked, "%.1f/s for the whole test, %.1f/s for this shard",
                     o->rate, o->rate / r->shard_count);
        else
            snprintf(asked, sizeof asked, "%.1f/s", o->rate);
        fprintf(f,
                "open loop: rate asked %s%s: %llu operations due in the run (%.1f/s), "
                "%llu done (%.1f/s: %.1f %% of the due), %llu failed among them, %llu "
                "unfinished, %llu never started (due, and still waiting for a free connection "
                "when the run ended)\n",
                asked, o->ramp_us ? " after the ramp" : "", (unsigned long long)st->due,
                per_s(st->due, r->elapsed_s), (unsigned long long)done, per_s(done, r->elapsed_s),
                100 * share(done, st->due), (unsigned long long)st->ops_failed,
                (unsigned long long)r->unfinished, (unsigned long long)st->never_started);
    }
    if (st->backoffs)
        fprintf(f,
                "connect failures: %llu; each slot waited after one (10 ms, doubling to 1 s) "
                "rather than hammer a server that refuses\n",
                (unsigned long long)st->backoffs);
    fprintf(f,
            "connections: %llu succeeded, %llu failed; resumed %llu (%.1f %%), offered a "
            "session %llu\n",
            (unsigned long long)hs, (unsigned long long)st->conns_failed,
            (unsigned long long)st->resumed, 100 * share(st->resumed, hs),
            (unsigned long long)st->offered);
    if (o->early_ratio > 0) {
        uint64_t asked = st->early_accepted + st->early_rejected + st->early_not_sent;
        fprintf(f,
                "early data (TLS 1.3 0-RTT, --early-data-ratio %.2f): %llu connections gave their "
                "request to the ClientHello: %llu accepted, %llu rejected (sent again after the "
                "handshake), %llu not sent (the ticket allowed none); %llu bytes early; %llu 425 "
                "Too Early (sent again without)\n",
                o->early_ratio, (unsigned long long)asked, (unsigned long long)st->early_accepted,
                (unsigned long long)st->early_rejected, (unsigned long long)st->early_not_sent,
                (unsigned long long)st->early_bytes, (unsigned long long)st->early_425);
    }
    if (st->offers_missed)
        fprintf(f,
                "note: %llu handshake%s owed a session offer for --resume-ratio %.2f found none "
                "to offer (every one ran before any server had sent a session): use more "
                "operations than connections (-n above -c) or a longer -d\n",
                (unsigned long long)st->offers_missed, st->offers_missed == 1 ? "" : "s",
                o->resume_ratio);
    fprintf(f,
            "TCP attempts: %llu for %llu connects, %llu lost a Happy Eyeballs race (each "
            "may be one more connection at the server)\n",
            (unsigned long long)st->attempts, (unsigned long long)(st->conns_ok + st->conns_failed),
            (unsigned long long)st->attempts_lost);
}

/* Request mode: requests, statuses, retries, requests per connection. */
static void text_requests(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    if (o->mode == LT_MODE_REQUEST) {
        fprintf(f,
                "requests: %llu succeeded, %llu failed; status 2xx %llu, 3xx %llu, 4xx %llu, "
                "5xx %llu\n",
                (unsigned long long)st->reqs_ok, (unsigned long long)st->reqs_failed,
                (unsigned long long)st->status[2], (unsigned long long)st->status[3],
                (unsigned long long)st->status[4], (unsigned long long)st->status[5]);
        int any = 0;
        for (int c = 100; c < 600; c++)
            if (st->codes[c]) {
                fprintf(f, "%s %d x%llu", any ? "," : "status codes:", c,
                        (unsigned long long)st->codes[c]);
                any = 1;
            }
        if (any)
            fputc('\n', f);
        fprintf(f, "retried after the keep-alive race: %llu%s\n", (unsigned long long)st->retried,
                o->no_retry ? " (--no-retry: none are)" : "");
        if (o->tls.http2)
            fprintf(f,
                    "HTTP/2: %llu of %llu responses over h2, on %llu connections (%.1f streams "
                    "each, up to %u at once; the server allows %llu); %llu refused by the server "
                    "(sent again), %llu GOAWAYs\n",
                    (unsigned long long)st->h2_responses,
                    (unsigned long long)(st->reqs_ok + st->status_errors),
                    (unsigned long long)st->h2_conns,
                    st->h2_conns ? (double)(st->reqs_ok + st->reqs_failed) / (double)st->h2_conns
                                 : 0.0,
                    o->max_streams, (unsigned long long)st->h2_peer_max_streams,
                    (unsigned long long)st->h2_refused, (unsigned long long)st->h2_goaways);
    }
    if (o->mode == LT_MODE_REQUEST && st->slot_reqs_max > 0)
        fprintf(f, "requests per %s: min %llu, max %llu\n",
                o->max_streams ? "stream slot (-c x -M of them)" : "connection",
                (unsigned long long)st->slot_reqs_min, (unsigned long long)st->slot_reqs_max);
}

/* Bytes, the end of the run, errors. */
static void text_transfer(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    /* MiB, as wrk's "MB" (1,048,576 bytes), and labelled so; the JSON has
     * the bytes. */
    const double mib = 1024.0 * 1024.0;
    fprintf(f,
            "transfer: %.2f MiB received (%.2f MiB of bodies), %.2f MiB sent; %.2f MiB/s "
            "received; %llu read wake-ups\n",
            (double)st->bytes_in / mib, (double)st->body_bytes / mib, (double)st->bytes_out / mib,
            per_s(st->bytes_in, r->elapsed_s) / mib, (unsigned long long)st->read_wakes);
    if (st->ended_by_d && o->mode != LT_MODE_HOLD)
        fprintf(f, "stopped %.1f ms after -d was up\n", (double)st->stop_late_us / 1000);
    else if (o->duration_us && o->total && !r->interrupted && o->mode != LT_MODE_HOLD)
        fprintf(f, "ended by -n before -d was up\n");
    if (o->mode == LT_MODE_HOLD)
        fprintf(f, "held: %llu connections open at once\n", (unsigned long long)r->held);
    if (r->unfinished)
        fprintf(f, "unfinished at the end (not counted): %llu\n",
                (unsigned long long)r->unfinished);
    fprintf(f, "errors: %llu\n", (unsigned long long)st->ops_failed);
    lt_each_error(f, st, text_error_row);
    if (st->checks)
        fprintf(f, "checks: %llu made, %llu failed (%.2f %% passed; counted apart from errors)\n",
                (unsigned long long)st->checks, (unsigned long long)st->checks_failed,
                100.0 * (double)(st->checks - st->checks_failed) / (double)st->checks);
}

/* TLS versions and ciphers; latency by phase. */
static void text_tables(FILE *f, const lt_result *r)
{
    const lt_stats *st = r->st;
    fprintf(f, "TLS:\n");
    for (unsigned i = 0; i < st->n_tls; i++)
        fprintf(f, "  %-8s %-32s %-8s %10llu\n", st->tls[i].version, st->tls[i].cipher,
                st->tls[i].group ? st->tls[i].group : "-", (unsigned long long)st->tls[i].n);
    if (st->tls_other)
        fprintf(f, "  (others)%44llu\n", (unsigned long long)st->tls_other);
    fprintf(f, "latency (ms)      count        min       mean        p50        p75        p90"
               "        p95        p99      p99.9        max\n");
    for (int i = 0; i < LT_NPHASES; i++) {
        const lt_hist *h = &st->hist[i];
        if (h->count == 0)
            continue;
        fprintf(f, "  %-11s %9llu %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n",
                lt_phase_names[i], (unsigned long long)h->count, ms(h->min), lt_hist_mean(h) / 1000,
                ms(lt_hist_percentile(h, 50)), ms(lt_hist_percentile(h, 75)),
                ms(lt_hist_percentile(h, 90)), ms(lt_hist_percentile(h, 95)),
                ms(lt_hist_percentile(h, 99)), ms(lt_hist_percentile(h, 99.9)), ms(h->max));
    }
    fprintf(f, "  (total: every operation, failed ones included; total_ok: the successful "
               "ones)\n");
}

/* What the client spent: CPU, the shards, memory. */
static void text_cost(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    uint64_t ops = st->ops_ok + st->ops_failed;
    double cpu = r->cpu_user_s + r->cpu_sys_s;
    fprintf(f, "client cpu: %.2f s user, %.2f s sys; %.1f us per operation\n", r->cpu_user_s,
            r->cpu_sys_s, ops ? cpu * 1e6 / (double)ops : 0);
    if (r->shard_index == LT_MERGED && r->n_shards) {
        uint64_t first, last;
        lt_start_span(r->shards, r->n_shards, &first, &last);
        char when[40];
        lt_iso_time(first, when, sizeof when);
        fprintf(f, "shards (start skew %.3f ms; first start %s):\n", (double)(last - first) / 1000,
                when);
        fprintf(f, "  shard  host                  start+ms    time s   operations     errors  "
                   "conns  cpu s\n");
        for (size_t i = 0; i < r->n_shards; i++) {
            const lt_shard_row *w = &r->shards[i];
            fprintf(f, "  %5u  %-20.20s %9.3f %9.3f %12llu %10llu %6llu %6.2f\n", w->index, w->host,
                    (double)(w->began_unix_us - first) / 1000,
                    (double)(w->end_unix_us - w->start_unix_us) / 1e6, (unsigned long long)w->ops,
                    (unsigned long long)w->errors, (unsigned long long)w->conns, w->cpu_s);
        }
    }
    fprintf(f, "memory: peak RSS %ld KiB%s", r->rss_peak_kb,
            r->shard_index == LT_MERGED ? " (the largest shard's)" : "");
    if (o->mode == LT_MODE_HOLD && r->held && r->kib_per_held >= 0)
        /* The slope as the connections opened: the fixed costs (the
         * workers made, each thread's first use) apart, whatever -c is. */
        fprintf(f,
                "; %.1f KiB per held connection (the slope from %llu to %llu held), over %ld KiB "
                "before connecting and %.0f KiB of fixed first-use costs",
                r->kib_per_held, (unsigned long long)r->fit_from, (unsigned long long)r->held,
                r->rss_base_kb, r->fixed_kib);
    else if (o->mode == LT_MODE_HOLD && r->held)
        fprintf(f,
                "; %ld KiB before connecting, %ld KiB holding %llu (per connection: not measured, "
                "it is the slope as the connections open: give --ramp-up)",
                r->rss_base_kb, r->rss_held_kb, (unsigned long long)r->held);
    fputc('\n', f);
}

/* --targets: each target's share of the run. */
static void text_targets(FILE *f, const lt_result *r)
{
    if (r->n_targets == 0)
        return;
    fprintf(f, "targets:          weight   requests     errors  requests/s      2xx      3xx      "
               "4xx      5xx    p50 ms    p95 ms    p99 ms\n");
    for (unsigned i = 0; i < r->n_targets; i++) {
        const lt_stats *st = &r->targets[i];
        const lt_hist *h = &st->hist[LT_TOTAL];
        uint64_t ops = st->ops_ok + st->ops_failed;
        fprintf(f,
                "  %s\n  %14s %8u %10llu %10llu %11.2f %8llu %8llu %8llu %8llu %9.3f %9.3f %9.3f\n",
                r->target_info[i].name, "", r->target_info[i].weight, (unsigned long long)ops,
                (unsigned long long)st->ops_failed, per_s(ops, r->elapsed_s),
                (unsigned long long)st->status[2], (unsigned long long)st->status[3],
                (unsigned long long)st->status[4], (unsigned long long)st->status[5],
                ms(lt_hist_percentile(h, 50)), ms(lt_hist_percentile(h, 95)),
                ms(lt_hist_percentile(h, 99)));
        lt_each_error(f, st, text_target_error_row);
    }
    fprintf(f, "  (latency: total, every operation of the target)\n");
}

void lt_report_text(FILE *f, const lt_result *r)
{
    text_run(f, r);
    text_connections(f, r);
    text_requests(f, r);
    text_transfer(f, r);
    text_tables(f, r);
    text_targets(f, r);
    text_cost(f, r);
}

void lt_iso_time(uint64_t unix_us, char *out, size_t n)
{
    time_t t = (time_t)(unix_us / 1000000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03uZ", day, (unsigned)(unix_us % 1000000u / 1000u));
}

uint64_t lt_second_percentile(const lt_second *s, double p)
{
    uint64_t n = 0, seen = 0;
    for (unsigned k = 0; k < LT_SERIES_SLOTS; k++)
        n += s->slot[k];
    uint64_t rank = (uint64_t)((p / 100.0) * (double)n + 0.999999999);
    for (unsigned k = 0; k < LT_SERIES_SLOTS; k++) {
        seen += s->slot[k];
        if (seen >= (rank ? rank : 1))
            return lt_layout_high(LT_SERIES_SUB_BITS, k);
    }
    return 0;
}

static void json_series(FILE *f, const lt_stats *st)
{
    size_t last = st->n_series;
    while (last > 0 && st->series[last - 1].ops == 0)
        last--;
    static uint64_t wide[LT_SERIES_SLOTS];
    for (size_t i = 0; i < last; i++) {
        const lt_second *s = &st->series[i];
        fprintf(f, "%s{\"t\":%zu,\"ops\":%llu,\"errors\":%llu,", i ? "," : "", i,
                (unsigned long long)s->ops, (unsigned long long)s->errors);
        if (s->slot == NULL) {
            fputs("\"p50_ms\":null,\"p99_ms\":null,\"hist\":null}", f);
            continue;
        }
        for (unsigned k = 0; k < LT_SERIES_SLOTS; k++)
            wide[k] = s->slot[k];
        char *enc = lt_hdr_encode(LT_SERIES_SUB_BITS, wide, LT_SERIES_SLOTS);
        fprintf(f, "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"hist\":%s%s%s}",
                ms(lt_second_percentile(s, 50)), ms(lt_second_percentile(s, 99)), enc ? "\"" : "",
                enc ? enc : "null", enc ? "\"" : "");
        free(enc);
    }
}

void lt_start_span(const lt_shard_row *rows, size_t n, uint64_t *first, uint64_t *last)
{
    *first = UINT64_MAX;
    *last = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].began_unix_us < *first)
            *first = rows[i].began_unix_us;
        if (rows[i].began_unix_us > *last)
            *last = rows[i].began_unix_us;
    }
}

lt_shard_row lt_result_row(const lt_result *r)
{
    lt_shard_row w;
    memset(&w, 0, sizeof w);
    w.index = r->shard_index;
    snprintf(w.host, sizeof w.host, "%s", r->host ? r->host : "");
    w.start_unix_us = r->start_unix_us;
    w.began_unix_us = r->began_unix_us;
    w.end_unix_us = r->end_unix_us;
    w.ops = r->st->ops_ok + r->st->ops_failed;
    w.errors = r->st->ops_failed;
    w.conns = r->conns_here;
    w.threads = r->o->threads;
    w.cpu_s = r->cpu_user_s + r->cpu_sys_s;
    w.rss_peak_kb = r->rss_peak_kb;
    return w;
}

#define FNV_BASIS 0xcbf29ce484222325ull

/* FNV-1a, 64 bits, over n bytes of p, from h: a fingerprint's hash (not a
 * secret's). */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void write_fingerprint(FILE *f, const void *arg)
{
    const lt_opts *o = arg;
    fprintf(f, "{\"mode\":\"%s\",\"urls\":[", mode_name(o->mode));
    cli_json_string(f, o->target);
    for (unsigned i = 0; i < o->n_more_urls; i++) {
        fputc(',', f);
        cli_json_string(f, o->more_urls[i]);
    }
    fprintf(
        f,
        "],\"connections\":%u,\"requests\":%llu,\"duration_us\":%llu,\"rate\":%.6g,"
        "\"ramp_up_us\":%llu,\"requests_per_conn\":%u,\"resume_ratio\":%.6g,"
        "\"early_data_ratio\":%.6g,\"warm_up\":%llu,\"tls_min\":%d,\"tls_max\":%d,\"no_retry\":%s,"
        "\"race_limit\":%u,\"family\":%d,\"data_bytes\":%zu,\"headers\":%u,\"shards\":%u,"
        "\"http2\":%d,\"max_streams\":%u,\"method\":",
        o->conns, (unsigned long long)o->total, (unsigned long long)o->duration_us, o->rate,
        (unsigned long long)o->ramp_us, o->reqs_per_conn, o->resume_ratio, o->early_ratio,
        (unsigned long long)o->warm_up, o->tls.tls_min, o->tls.tls_max,
        o->no_retry ? "true" : "false", o->race_limit, o->tls.family, o->data_len, o->n_headers,
        o->shard_count, o->tls.http2, o->max_streams);
    cli_json_string(f, o->mode == LT_MODE_REQUEST ? o->method : NULL);
    fputs(",\"stages\":", f);
    cli_json_string(f, o->stages_text);
    fputs(",\"ciphers\":", f);
    cli_json_string(f, o->tls.ciphers);
    fputs(",\"groups\":", f);
    cli_json_string(f, o->tls.groups);
    fputs(",\"alpn\":", f);
    cli_json_string(f, o->tls.alpn);
    /* Every byte of the request (method, each header as given, the body),
     * hashed: runs that sent different requests are not one test. */
    uint64_t h = fnv1a(FNV_BASIS, o->method ? o->method : "", o->method ? strlen(o->method) : 0);
    for (unsigned i = 0; i < o->n_headers; i++)
        h = fnv1a(h, o->headers[i], strlen(o->headers[i]) + 1); /* the NUL separates them */
    h = fnv1a(h, o->data_buf ? o->data_buf : "", o->data_buf ? o->data_len : 0);
    fprintf(f, ",\"request_fnv1a\":\"%016llx\"", (unsigned long long)h);
    /* --targets: each one's request, weight and connections, and the draw's
     * seed */
    fprintf(f, ",\"seed\":%llu,\"targets\":[", (unsigned long long)o->seed);
    for (unsigned i = 0; o->targets && i < o->targets->n; i++) {
        const lt_target *t = &o->targets->t[i];
        uint64_t th =
            fnv1a(FNV_BASIS, t->method ? t->method : "", t->method ? strlen(t->method) : 0);
        for (unsigned k = 0; k < t->n_headers; k++)
            th = fnv1a(th, t->headers[k], strlen(t->headers[k]) + 1);
        th = fnv1a(th, t->body ? t->body : "", t->body_len);
        th = fnv1a(th, t->expect_status, t->expect_status_given ? sizeof t->expect_status : 0);
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        cli_json_string(f, t->name);
        fputs(",\"url\":", f);
        cli_json_string(f, t->url);
        fprintf(f, ",\"weight\":%u,\"connections\":%u,\"request_fnv1a\":\"%016llx\"}", t->weight,
                t->conns, (unsigned long long)th);
    }
    fputc(']', f);
    /* How the server is verified and what is offered to it. */
    fprintf(f,
            ",\"insecure\":%s,\"no_verify_name\":%s,\"client_cert\":%s,\"pins\":%s,"
            "\"crl\":%s,\"cert_status\":%s,\"psk\":%s,\"servername\":",
            o->tls.insecure ? "true" : "false", o->tls.no_verify_name ? "true" : "false",
            o->tls.cert ? "true" : "false", o->net.pins ? "true" : "false",
            o->net.crl_file ? "true" : "false", o->net.cert_status ? "true" : "false",
            o->net.psk_identity ? "true" : "false");
    cli_json_string(f, o->tls.servername);
    /* Where the connections go and how long each step may take. */
    fputs(",\"dial\":", f); /* --connect-to's destination, else the URL's host */
    cli_json_string(f, o->dial_host);
    fprintf(f, ",\"dial_port\":%u", o->dial_port);
    fputs(",\"addresses\":[", f);
    for (unsigned i = 0; i < o->n_addrs; i++) {
        fputs(i ? "," : "", f);
        cli_json_string(f, o->addrs[i]);
    }
    fprintf(f,
            "],\"connect_ms\":%u,\"handshake_ms\":%u,\"ttfb_timeout_ms\":%u,"
            "\"request_timeout_ms\":%u,\"max_body\":%llu,\"retries\":%u}",
            o->tls.connect_ms, o->tls.handshake_ms, o->timeout_ms, o->request_timeout_ms,
            (unsigned long long)o->max_body, o->tls.retries);
}

char *lt_fingerprint(const lt_opts *o)
{
    return lt_print(write_fingerprint, o);
}

static void write_result(FILE *f, const void *r)
{
    lt_report_json(f, r);
}

char *lt_report_json_text(const lt_result *r)
{
    return lt_print(write_result, r);
}

static void json_error_row(FILE *f, const char *cls, const char *name, const char *text, uint64_t n,
                           int *first)
{
    fprintf(f, "%s{\"class\":\"%s\",\"code\":\"%s\",\"count\":%llu,\"text\":", *first ? "" : ",",
            cls, name, (unsigned long long)n);
    cli_json_string(f, text);
    fputc('}', f);
    *first = 0;
}

/* The format, the shard, the run and its totals. */
static void json_run(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    uint64_t ops = st->ops_ok + st->ops_failed;
    fputs("{\"format\":\"" LT_RESULT_FORMAT "\",\"shard\":{", f);
    if (r->shard_index == LT_MERGED)
        fprintf(f, "\"index\":null,\"count\":%u,\"host\":null},", r->shard_count);
    else {
        fprintf(f, "\"index\":%u,\"count\":%u,\"host\":", r->shard_index, r->shard_count);
        cli_json_string(f, r->host);
        fputs("},", f);
    }
    char when[40];
    lt_iso_time(r->start_unix_us, when, sizeof when);
    fprintf(f, "\"start\":\"%s\",\"start_unix_us\":%llu,\"end_unix_us\":%llu,\"command\":", when,
            (unsigned long long)r->start_unix_us, (unsigned long long)r->end_unix_us);
    cli_json_string(f, r->command);
    fputc(',', f);
    fprintf(f, "\"mode\":\"%s\",\"target\":", mode_name(o->mode));
    cli_json_string(f, o->target);
    fprintf(f,
            ",\"threads\":%u,\"concurrency\":%u,\"connections_here\":%llu,\"duration_s\":%.3f,"
            "\"interrupted\":%s,"
            "\"connections\":%llu,\"connections_failed\":%llu,\"requests\":%llu,"
            "\"requests_failed\":%llu,\"operations\":%llu,\"errors\":%llu,\"unfinished\":%llu,"
            "\"handshakes_per_s\":%.2f,\"requests_per_s\":%.2f,\"operations_per_s\":%.2f,"
            "\"rate_asked\":%.2f,\"offered\":%llu,\"resumed\":%llu,\"resumed_ratio\":%.4f,",
            o->threads, o->conns, (unsigned long long)r->conns_here, r->elapsed_s,
            r->interrupted ? "true" : "false", (unsigned long long)st->conns_ok,
            (unsigned long long)st->conns_failed, (unsigned long long)st->reqs_ok,
            (unsigned long long)st->reqs_failed, (unsigned long long)ops,
            (unsigned long long)st->ops_failed, (unsigned long long)r->unfinished,
            o->mode == LT_MODE_HOLD && st->settle_us
                ? per_s(st->conns_ok, (double)st->settle_us / 1e6)
                : per_s(st->conns_ok, r->elapsed_s),
            per_s(st->reqs_ok, r->elapsed_s), per_s(ops, r->elapsed_s), o->rate,
            (unsigned long long)st->offered, (unsigned long long)st->resumed,
            share(st->resumed, st->conns_ok));
}

/* "status":{...},"status_codes":{...}: responses by class and code. */
static void json_statuses(FILE *f, const lt_stats *st)
{
    fprintf(f, "\"status\":{\"2xx\":%llu,\"3xx\":%llu,\"4xx\":%llu,\"5xx\":%llu},",
            (unsigned long long)st->status[2], (unsigned long long)st->status[3],
            (unsigned long long)st->status[4], (unsigned long long)st->status[5]);
    fputs("\"status_codes\":{", f);
    for (int c = 100, first = 1; c < 600; c++)
        if (st->codes[c]) {
            fprintf(f, "%s\"%d\":%llu", first ? "" : ",", c, (unsigned long long)st->codes[c]);
            first = 0;
        }
    fputc('}', f);
}

/* The schedule, attempts, bytes, statuses. */
static void json_counts(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    if (o->rate > 0)
        fprintf(f, "\"due\":%llu,\"never_started\":%llu,", (unsigned long long)st->due,
                (unsigned long long)st->never_started);
    else
        fputs("\"due\":null,\"never_started\":null,", f);
    fprintf(f, "\"backoffs\":%llu,\"offers_missed\":%llu,", (unsigned long long)st->backoffs,
            (unsigned long long)st->offers_missed);
    fprintf(f, "\"checks\":{\"made\":%llu,\"failed\":%llu},", (unsigned long long)st->checks,
            (unsigned long long)st->checks_failed);
    fprintf(f,
            "\"early_data\":{\"ratio\":%.4f,\"accepted\":%llu,\"rejected\":%llu,\"not_sent\":%llu,"
            "\"bytes\":%llu,\"too_early\":%llu},",
            o->early_ratio, (unsigned long long)st->early_accepted,
            (unsigned long long)st->early_rejected, (unsigned long long)st->early_not_sent,
            (unsigned long long)st->early_bytes, (unsigned long long)st->early_425);
    fprintf(f, "\"attempts\":%llu,\"attempts_lost\":%llu,\"retried\":%llu,",
            (unsigned long long)st->attempts, (unsigned long long)st->attempts_lost,
            (unsigned long long)st->retried);
    fprintf(f, "\"bytes_in\":%llu,\"bytes_out\":%llu,\"body_bytes\":%llu,\"bytes_in_per_s\":%.1f,",
            (unsigned long long)st->bytes_in, (unsigned long long)st->bytes_out,
            (unsigned long long)st->body_bytes, per_s(st->bytes_in, r->elapsed_s));
    if (o->mode == LT_MODE_REQUEST && st->slot_reqs_max > 0)
        fprintf(f, "\"requests_per_connection\":{\"min\":%llu,\"max\":%llu},",
                (unsigned long long)st->slot_reqs_min, (unsigned long long)st->slot_reqs_max);
    if (st->ended_by_d && o->mode != LT_MODE_HOLD)
        fprintf(f, "\"stop_late_ms\":%.3f,", (double)st->stop_late_us / 1000);
    fprintf(f, "\"ended_by\":\"%s\",",
            r->interrupted   ? "signal"
            : r->aborted     ? "threshold"
            : st->ended_by_d ? "duration"
            : o->total       ? "requests"
                             : "connections"); /* hold mode: nothing held */
    json_statuses(f, st);
    fputc(',', f);
}

/* Errors, TLS, latency by phase. */
int lt_threshold_eval(const lt_stats *st, double elapsed_s, const struct lt_threshold *t,
                      double *value)
{
    uint64_t ops = st->ops_ok + st->ops_failed;
    double v, limit = t->limit;
    *value = 0;
    switch (t->kind) {
    case LT_TH_ERRORS_RATE:
        if (ops == 0)
            return -1;
        v = (double)st->ops_failed / (double)ops;
        break;
    case LT_TH_CHECKS_RATE: /* the share passed, as k6's checks rate */
        if (st->checks == 0)
            return -1;
        v = (double)(st->checks - st->checks_failed) / (double)st->checks;
        break;
    case LT_TH_RPS:
        if (!(elapsed_s > 0))
            return -1;
        v = (double)ops / elapsed_s;
        break;
    default: {
        const lt_hist *h = &st->hist[t->phase];
        if (h->count == 0)
            return -1;
        v = t->p < 0      ? lt_hist_mean(h)
            : t->p >= 100 ? (double)h->max /* exact, as the table's max */
                          : (double)lt_hist_percentile(h, t->p);
        *value = v / 1000; /* shown in ms, compared in us */
        return t->above ? v > limit : v < limit;
    }
    }
    *value = v;
    return t->above ? v > limit : v < limit;
}

int lt_threshold_eval_result(const lt_result *r, const struct lt_threshold *t, double *value)
{
    if (t->target[0] == '\0')
        return lt_threshold_eval(r->st, r->elapsed_s, t, value);
    for (unsigned i = 0; i < r->n_targets; i++)
        if (strcmp(r->target_info[i].name, t->target) == 0)
            return lt_threshold_eval(&r->targets[i], r->elapsed_s, t, value);
    *value = 0;
    return -1;
}

const char *lt_threshold_unit(const struct lt_threshold *t)
{
    return t->kind == LT_TH_LATENCY ? " ms" : t->kind == LT_TH_RPS ? "/s" : "";
}

/* Each --threshold with its statistic's value and verdict (k6's). */
static void json_thresholds(FILE *f, const lt_result *r)
{
    fputs(",\"thresholds\":[", f);
    for (unsigned i = 0; r->o && i < r->o->n_thresholds; i++) {
        const struct lt_threshold *t = &r->o->thresholds[i];
        double v;
        int met = lt_threshold_eval_result(r, t, &v);
        /* a latency's value in ms (value_ms), a rate's or rps's as it is */
        const char *key = t->kind == LT_TH_LATENCY ? "value_ms" : "value";
        fprintf(f, "%s{\"threshold\":", i ? "," : "");
        cli_json_string(f, t->text);
        if (met < 0)
            fprintf(f, ",\"%s\":null,\"met\":false}", key);
        else
            fprintf(f, ",\"%s\":%.6g,\"met\":%s}", key, v, met ? "true" : "false");
    }
    fputc(']', f);
}

/* "latency":{...}: each phase's figures (null without a sample). */
static void json_latency(FILE *f, const lt_stats *st)
{
    fputs("\"latency\":{", f);
    int first = 1;
    for (int i = 0; i < LT_NPHASES; i++) {
        const lt_hist *h = &st->hist[i];
        if (h->count == 0) { /* every phase has its key: no sample, null figures */
            fprintf(f,
                    "%s\"%s\":{\"count\":0,\"min_ms\":null,\"mean_ms\":null,\"p50_ms\":null,"
                    "\"p75_ms\":null,\"p90_ms\":null,\"p95_ms\":null,\"p99_ms\":null,"
                    "\"p999_ms\":null,\"max_ms\":null}",
                    first ? "" : ",", lt_phase_names[i]);
            first = 0;
            continue;
        }
        fprintf(f,
                "%s\"%s\":{\"count\":%llu,\"min_ms\":%.3f,\"mean_ms\":%.3f,\"p50_ms\":%.3f,"
                "\"p75_ms\":%.3f,\"p90_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f,"
                "\"p999_ms\":%.3f,\"max_ms\":%.3f,"
                "\"min_us\":%llu,\"max_us\":%llu,\"sum_us\":%.0f,\"clamped\":%llu}",
                first ? "" : ",", lt_phase_names[i], (unsigned long long)h->count, ms(h->min),
                lt_hist_mean(h) / 1000, ms(lt_hist_percentile(h, 50)),
                ms(lt_hist_percentile(h, 75)), ms(lt_hist_percentile(h, 90)),
                ms(lt_hist_percentile(h, 95)), ms(lt_hist_percentile(h, 99)),
                ms(lt_hist_percentile(h, 99.9)), ms(h->max), (unsigned long long)h->min,
                (unsigned long long)h->max, h->sum, (unsigned long long)h->clamped);
        first = 0;
    }
    fputc('}', f);
}

static void json_tables(FILE *f, const lt_result *r)
{
    const lt_stats *st = r->st;
    fprintf(f, "\"error_list\":[");
    lt_each_error(f, st, json_error_row);
    fprintf(f, "],\"tls\":[");
    for (unsigned i = 0; i < st->n_tls; i++) {
        fprintf(f, "%s{\"version\":", i ? "," : "");
        cli_json_string(f, st->tls[i].version);
        fprintf(f, ",\"cipher\":");
        cli_json_string(f, st->tls[i].cipher);
        fprintf(f, ",\"group\":");
        cli_json_string(f, st->tls[i].group);
        fprintf(f, ",\"count\":%llu}", (unsigned long long)st->tls[i].n);
    }
    fprintf(f, "],");
    json_latency(f, st);
    json_thresholds(f, r);
    fputc(',', f);
}

/* The histograms, counters and the per-second series. */
/* "histograms":{...},"counters":{...}: what merges exactly. */
static void json_hists_counters(FILE *f, const lt_stats *st)
{
    fputs("\"histograms\":{", f);
    for (int i = 0; i < LT_NPHASES; i++) {
        const lt_hist *h = &st->hist[i];
        char *enc = h->count ? lt_hdr_encode(LT_HIST_SUB_BITS, h->slot, LT_HIST_SLOTS) : NULL;
        fprintf(f, "%s\"%s\":%s%s%s", i ? "," : "", lt_phase_names[i], enc ? "\"" : "",
                enc ? enc : "null", enc ? "\"" : "");
        free(enc);
    }
    fputs("},\"counters\":{", f);
    for (size_t i = 0; i < lt_n_counters; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", lt_counters[i].name,
                (unsigned long long)counter_get(st, &lt_counters[i]));
    fputc('}', f);
}

static void json_histograms(FILE *f, const lt_result *r)
{
    const lt_stats *st = r->st;
    json_hists_counters(f, st);
    fprintf(f, ",\"series_start_unix_us\":%llu,\"series\":[",
            (unsigned long long)r->series_start_unix_us);
    json_series(f, st);
}

/* The shards, the client's costs, the fingerprint; the end of the object. */
/* "targets":[...]: each target's figures, as the run's (mergeable). */
static void json_targets(FILE *f, const lt_result *r)
{
    fputs("\"targets\":[", f);
    for (unsigned i = 0; i < r->n_targets; i++) {
        const lt_stats *st = &r->targets[i];
        const lt_target_info *ti = &r->target_info[i];
        uint64_t ops = st->ops_ok + st->ops_failed;
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        cli_json_string(f, ti->name);
        fputs(",\"method\":", f);
        cli_json_string(f, ti->method);
        fputs(",\"url\":", f);
        cli_json_string(f, ti->url);
        fprintf(f,
                ",\"weight\":%u,\"operations\":%llu,\"errors\":%llu,\"requests\":%llu,"
                "\"requests_failed\":%llu,\"operations_per_s\":%.2f,\"connections\":%llu,"
                "\"checks\":{\"made\":%llu,\"failed\":%llu},",
                ti->weight, (unsigned long long)ops, (unsigned long long)st->ops_failed,
                (unsigned long long)st->reqs_ok, (unsigned long long)st->reqs_failed,
                per_s(ops, r->elapsed_s), (unsigned long long)st->conns_ok,
                (unsigned long long)st->checks, (unsigned long long)st->checks_failed);
        json_statuses(f, st);
        fputs(",\"error_list\":[", f);
        lt_each_error(f, st, json_error_row);
        fputs("],", f);
        json_latency(f, st);
        fputc(',', f);
        json_hists_counters(f, st);
        fputc('}', f);
    }
    fputs("],", f);
}

static void json_shards(FILE *f, const lt_result *r)
{
    fputs("],", f);
    json_targets(f, r);
    fputs("\"shards\":[", f);
    lt_shard_row self = lt_result_row(r);
    const lt_shard_row *rows = r->n_shards ? r->shards : &self;
    size_t n_rows = r->n_shards ? r->n_shards : 1;
    for (size_t i = 0; i < n_rows; i++) {
        const lt_shard_row *w = &rows[i];
        fprintf(f, "%s{\"index\":%u,\"host\":", i ? "," : "", w->index);
        cli_json_string(f, w->host);
        fprintf(f,
                ",\"start_unix_us\":%llu,\"began_unix_us\":%llu,\"end_unix_us\":%llu,"
                "\"operations\":%llu,"
                "\"errors\":%llu,\"connections\":%llu,\"threads\":%u,\"cpu_s\":%.3f,"
                "\"rss_peak_kb\":%ld}",
                (unsigned long long)w->start_unix_us, (unsigned long long)w->began_unix_us,
                (unsigned long long)w->end_unix_us, (unsigned long long)w->ops,
                (unsigned long long)w->errors, (unsigned long long)w->conns, w->threads, w->cpu_s,
                w->rss_peak_kb);
    }
    uint64_t first_start, last_start;
    lt_start_span(rows, n_rows, &first_start, &last_start);
    fprintf(f, "],\"start_skew_ms\":%.3f,", (double)(last_start - first_start) / 1000);
    fprintf(f,
            "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"rss_peak_kb\":%ld,\"held\":%llu,"
            "\"rss_base_kb\":%ld,\"rss_held_kb\":%ld,",
            r->cpu_user_s, r->cpu_sys_s, r->rss_peak_kb, (unsigned long long)r->held,
            r->rss_base_kb, r->rss_held_kb);
    if (r->kib_per_held >= 0)
        fprintf(f, "\"kib_per_held\":%.3f,\"fixed_kib\":%.1f,\"fit_from\":%llu,", r->kib_per_held,
                r->fixed_kib, (unsigned long long)r->fit_from);
    else
        fputs("\"kib_per_held\":null,\"fixed_kib\":null,\"fit_from\":null,", f);
    /* Last: the test's own keys (connections, requests) repeat the top's. */
    fprintf(f, "\"fingerprint\":%s}\n", r->fingerprint ? r->fingerprint : "null");
}

void lt_report_json(FILE *f, const lt_result *r)
{
    json_run(f, r);
    json_counts(f, r);
    json_tables(f, r);
    json_histograms(f, r);
    json_shards(f, r);
}
