/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_stats.c - evtls-load's counters and its summary. */
#include "lt_stats.h"

#include <string.h>

#include <evtls/error.h>

#include "evtls_cli.h"

static const char *const phase_names[LT_NPHASES] = {"dns",     "tcp",  "tls",
                                                    "connect", "ttfb", "total"};

void lt_stats_init(lt_stats *st)
{
    memset(st, 0, sizeof *st);
    st->slot_reqs_min = UINT64_MAX;
    for (int i = 0; i < LT_NPHASES; i++)
        lt_hist_reset(&st->hist[i]);
}

void lt_stats_error(lt_stats *st, int err)
{
    unsigned i = err < 0 && -err < LT_ERR_SLOTS ? (unsigned)-err : 0;
    st->errors[i]++; /* slot 0: a code out of range (never expected) */
}

void lt_stats_tls(lt_stats *st, const char *version, const char *cipher, const char *group)
{
    for (unsigned i = 0; i < st->n_tls; i++) {
        lt_tls_kind *k = &st->tls[i];
        if (k->version == version && k->cipher == cipher && k->group == group) {
            k->n++;
            return;
        }
    }
    if (st->n_tls == LT_MAX_TLS) {
        st->tls_other++;
        return;
    }
    st->tls[st->n_tls++] = (lt_tls_kind){version, cipher, group, 1};
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

void lt_stats_merge(lt_stats *dst, const lt_stats *src)
{
    dst->conns_ok += src->conns_ok;
    dst->attempts += src->attempts;
    dst->attempts_lost += src->attempts_lost;
    dst->retried += src->retried;
    for (size_t i = 0; i < sizeof dst->codes / sizeof dst->codes[0]; i++)
        dst->codes[i] += src->codes[i];
    dst->due += src->due;
    dst->never_started += src->never_started;
    dst->backoffs += src->backoffs;
    dst->offers_missed += src->offers_missed;
    if (src->settle_us > dst->settle_us)
        dst->settle_us = src->settle_us;
    dst->conns_failed += src->conns_failed;
    dst->offered += src->offered;
    dst->resumed += src->resumed;
    dst->reqs_ok += src->reqs_ok;
    dst->reqs_failed += src->reqs_failed;
    dst->ops_ok += src->ops_ok;
    dst->ops_failed += src->ops_failed;
    dst->bytes_in += src->bytes_in;
    dst->bytes_out += src->bytes_out;
    dst->body_bytes += src->body_bytes;
    if (src->slot_reqs_min < dst->slot_reqs_min)
        dst->slot_reqs_min = src->slot_reqs_min;
    if (src->slot_reqs_max > dst->slot_reqs_max)
        dst->slot_reqs_max = src->slot_reqs_max;
    if (src->stop_late_us > dst->stop_late_us)
        dst->stop_late_us = src->stop_late_us;
    dst->status_errors += src->status_errors;
    dst->tls_other += src->tls_other;
    for (int i = 0; i < 6; i++)
        dst->status[i] += src->status[i];
    for (int i = 0; i < LT_ERR_SLOTS; i++)
        dst->errors[i] += src->errors[i];
    for (unsigned i = 0; i < src->n_tls; i++) {
        const lt_tls_kind *k = &src->tls[i];
        unsigned j = 0;
        while (j < dst->n_tls &&
               !(same(dst->tls[j].version, k->version) && same(dst->tls[j].cipher, k->cipher) &&
                 same(dst->tls[j].group, k->group)))
            j++;
        if (j < dst->n_tls)
            dst->tls[j].n += k->n;
        else if (dst->n_tls < LT_MAX_TLS)
            dst->tls[dst->n_tls++] = *k;
        else
            dst->tls_other += k->n;
    }
    for (int i = 0; i < LT_NPHASES; i++)
        lt_hist_merge(&dst->hist[i], &src->hist[i]);
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

/* Failures per class, then per code, for both outputs. */
typedef void (*err_row_fn)(FILE *f, const char *cls, const char *name, const char *text, uint64_t n,
                           int *first);

static void each_error(FILE *f, const lt_stats *st, err_row_fn row)
{
    int first = 1;
    for (int cls = EVTLS_CLASS_USAGE; cls <= EVTLS_CLASS_HTTP; cls++)
        for (int i = 1; i < LT_ERR_SLOTS; i++)
            if (st->errors[i] && (int)evtls_err_get_class(-i) == cls)
                row(f, evtls_err_class_name((evtls_err_class)cls), evtls_err_name(-i),
                    evtls_strerror(-i), st->errors[i], &first);
    if (st->status_errors)
        row(f, "status", "HTTP_STATUS", "HTTP status 400 or above", st->status_errors, &first);
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

void lt_report_text(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    uint64_t hs = st->conns_ok;
    fprintf(f, "\nevtls-load: %s mode, %s, %u connection%s, %u thread%s%s\n", mode_name(o->mode),
            o->target, o->conns, o->conns == 1 ? "" : "s", o->threads, o->threads == 1 ? "" : "s",
            r->interrupted ? " (interrupted)" : "");
    if (o->mode == LT_MODE_HOLD && st->settle_us)
        /* The rate of the handshakes over the time they took, not the hold. */
        fprintf(f, "finished in %.2f s: %.1f handshakes/s over the %.2f s every connection took",
                r->elapsed_s, per_s(hs, (double)st->settle_us / 1e6), (double)st->settle_us / 1e6);
    else
        fprintf(f, "finished in %.2f s: %.1f handshakes/s", r->elapsed_s, per_s(hs, r->elapsed_s));
    if (o->mode == LT_MODE_REQUEST)
        fprintf(f, ", %.1f requests/s", per_s(st->reqs_ok, r->elapsed_s));
    fputc('\n', f);
    if (o->rate > 0) {
        /* The schedule asked for (the ramp included) against what ran: every
         * operation that came due is done, failed, unfinished or never
         * started, and the four add up. */
        uint64_t done = st->ops_ok + st->ops_failed;
        fprintf(f,
                "open loop: rate asked %.1f/s%s: %llu operations due in the run (%.1f/s), "
                "%llu done (%.1f/s: %.1f %% of the due), %llu failed among them, %llu "
                "unfinished, %llu never started (no free connection when due)\n",
                o->rate, o->ramp_us ? " after the ramp" : "", (unsigned long long)st->due,
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
    }
    if (o->mode == LT_MODE_REQUEST && st->slot_reqs_max > 0)
        fprintf(f, "requests per connection: min %llu, max %llu\n",
                (unsigned long long)st->slot_reqs_min, (unsigned long long)st->slot_reqs_max);
    fprintf(f, "transfer: %.2f MB received (%.2f MB of bodies), %.2f MB sent; %.2f MB/s received\n",
            (double)st->bytes_in / 1e6, (double)st->body_bytes / 1e6, (double)st->bytes_out / 1e6,
            per_s(st->bytes_in, r->elapsed_s) / 1e6);
    if (o->duration_us && o->mode != LT_MODE_HOLD && !r->interrupted)
        fprintf(f, "stopped %.1f ms after -d was up\n", (double)st->stop_late_us / 1000);
    if (o->mode == LT_MODE_HOLD)
        fprintf(f, "held: %llu connections open at once\n", (unsigned long long)r->held);
    if (r->unfinished)
        fprintf(f, "unfinished at the end (not counted): %llu\n",
                (unsigned long long)r->unfinished);
    fprintf(f, "errors: %llu\n", (unsigned long long)st->ops_failed);
    each_error(f, st, text_error_row);
    fprintf(f, "TLS:\n");
    for (unsigned i = 0; i < st->n_tls; i++)
        fprintf(f, "  %-8s %-32s %-8s %10llu\n", st->tls[i].version, st->tls[i].cipher,
                st->tls[i].group ? st->tls[i].group : "-", (unsigned long long)st->tls[i].n);
    if (st->tls_other)
        fprintf(f, "  (others)%44llu\n", (unsigned long long)st->tls_other);
    fprintf(f, "latency (ms)    count        min       mean        p50        p90        p99"
               "      p99.9        max\n");
    for (int i = 0; i < LT_NPHASES; i++) {
        const lt_hist *h = &st->hist[i];
        if (h->count == 0)
            continue;
        fprintf(f, "  %-8s %10llu %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n",
                phase_names[i], (unsigned long long)h->count, ms(h->min), lt_hist_mean(h) / 1000,
                ms(lt_hist_percentile(h, 50)), ms(lt_hist_percentile(h, 90)),
                ms(lt_hist_percentile(h, 99)), ms(lt_hist_percentile(h, 99.9)), ms(h->max));
    }
    uint64_t ops = st->ops_ok + st->ops_failed;
    double cpu = r->cpu_user_s + r->cpu_sys_s;
    fprintf(f, "client cpu: %.2f s user, %.2f s sys; %.1f us per operation\n", r->cpu_user_s,
            r->cpu_sys_s, ops ? cpu * 1e6 / (double)ops : 0);
    fprintf(f, "memory: peak RSS %ld KiB", r->rss_peak_kb);
    if (o->mode == LT_MODE_HOLD && r->held)
        /* Before: the workers made (TLS configuration, loops, slots); their
         * first use (a malloc arena per thread, first handshakes) is still
         * spread over the connections: read it at hundreds of them, or
         * against a one-connection run as bench/mem_per_conn.sh does. */
        fprintf(f, "; %.1f KiB per held connection (%ld KiB before, %ld KiB holding)",
                (double)(r->rss_held_kb - r->rss_base_kb) / (double)r->held, r->rss_base_kb,
                r->rss_held_kb);
    fputc('\n', f);
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

void lt_report_json(FILE *f, const lt_result *r)
{
    const lt_opts *o = r->o;
    const lt_stats *st = r->st;
    uint64_t ops = st->ops_ok + st->ops_failed;
    fprintf(f, "{\"mode\":\"%s\",\"target\":", mode_name(o->mode));
    cli_json_string(f, o->target);
    fprintf(f,
            ",\"threads\":%u,\"concurrency\":%u,\"duration_s\":%.3f,\"interrupted\":%s,"
            "\"connections\":%llu,\"connections_failed\":%llu,\"requests\":%llu,"
            "\"requests_failed\":%llu,\"operations\":%llu,\"errors\":%llu,\"unfinished\":%llu,"
            "\"handshakes_per_s\":%.2f,\"requests_per_s\":%.2f,\"operations_per_s\":%.2f,"
            "\"rate_asked\":%.2f,\"offered\":%llu,\"resumed\":%llu,\"resumed_ratio\":%.4f,",
            o->threads, o->conns, r->elapsed_s, r->interrupted ? "true" : "false",
            (unsigned long long)st->conns_ok, (unsigned long long)st->conns_failed,
            (unsigned long long)st->reqs_ok, (unsigned long long)st->reqs_failed,
            (unsigned long long)ops, (unsigned long long)st->ops_failed,
            (unsigned long long)r->unfinished,
            o->mode == LT_MODE_HOLD && st->settle_us
                ? per_s(st->conns_ok, (double)st->settle_us / 1e6)
                : per_s(st->conns_ok, r->elapsed_s),
            per_s(st->reqs_ok, r->elapsed_s), per_s(ops, r->elapsed_s), o->rate,
            (unsigned long long)st->offered, (unsigned long long)st->resumed,
            share(st->resumed, st->conns_ok));
    if (o->rate > 0)
        fprintf(f, "\"due\":%llu,\"never_started\":%llu,", (unsigned long long)st->due,
                (unsigned long long)st->never_started);
    else
        fputs("\"due\":null,\"never_started\":null,", f);
    fprintf(f, "\"backoffs\":%llu,\"offers_missed\":%llu,", (unsigned long long)st->backoffs,
            (unsigned long long)st->offers_missed);
    fprintf(f, "\"attempts\":%llu,\"attempts_lost\":%llu,\"retried\":%llu,",
            (unsigned long long)st->attempts, (unsigned long long)st->attempts_lost,
            (unsigned long long)st->retried);
    fprintf(f, "\"bytes_in\":%llu,\"bytes_out\":%llu,\"body_bytes\":%llu,\"bytes_in_per_s\":%.1f,",
            (unsigned long long)st->bytes_in, (unsigned long long)st->bytes_out,
            (unsigned long long)st->body_bytes, per_s(st->bytes_in, r->elapsed_s));
    if (o->mode == LT_MODE_REQUEST && st->slot_reqs_max > 0)
        fprintf(f, "\"requests_per_connection\":{\"min\":%llu,\"max\":%llu},",
                (unsigned long long)st->slot_reqs_min, (unsigned long long)st->slot_reqs_max);
    if (o->duration_us && o->mode != LT_MODE_HOLD && !r->interrupted)
        fprintf(f, "\"stop_late_ms\":%.3f,", (double)st->stop_late_us / 1000);
    fprintf(f, "\"status\":{\"2xx\":%llu,\"3xx\":%llu,\"4xx\":%llu,\"5xx\":%llu},",
            (unsigned long long)st->status[2], (unsigned long long)st->status[3],
            (unsigned long long)st->status[4], (unsigned long long)st->status[5]);
    fputs("\"status_codes\":{", f);
    for (int c = 100, first = 1; c < 600; c++)
        if (st->codes[c]) {
            fprintf(f, "%s\"%d\":%llu", first ? "" : ",", c, (unsigned long long)st->codes[c]);
            first = 0;
        }
    fputs("},", f);
    fprintf(f, "\"error_list\":[");
    each_error(f, st, json_error_row);
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
    fprintf(f, "],\"latency\":{");
    int first = 1;
    for (int i = 0; i < LT_NPHASES; i++) {
        const lt_hist *h = &st->hist[i];
        if (h->count == 0) { /* every phase has its key: no sample, null figures */
            fprintf(f,
                    "%s\"%s\":{\"count\":0,\"min_ms\":null,\"mean_ms\":null,\"p50_ms\":null,"
                    "\"p90_ms\":null,\"p99_ms\":null,\"p999_ms\":null,\"max_ms\":null}",
                    first ? "" : ",", phase_names[i]);
            first = 0;
            continue;
        }
        fprintf(f,
                "%s\"%s\":{\"count\":%llu,\"min_ms\":%.3f,\"mean_ms\":%.3f,\"p50_ms\":%.3f,"
                "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}",
                first ? "" : ",", phase_names[i], (unsigned long long)h->count, ms(h->min),
                lt_hist_mean(h) / 1000, ms(lt_hist_percentile(h, 50)),
                ms(lt_hist_percentile(h, 90)), ms(lt_hist_percentile(h, 99)),
                ms(lt_hist_percentile(h, 99.9)), ms(h->max));
        first = 0;
    }
    fprintf(f,
            "},\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"rss_peak_kb\":%ld,\"held\":%llu,"
            "\"rss_base_kb\":%ld,\"rss_held_kb\":%ld}\n",
            r->cpu_user_s, r->cpu_sys_s, r->rss_peak_kb, (unsigned long long)r->held,
            r->rss_base_kb, r->rss_held_kb);
}
