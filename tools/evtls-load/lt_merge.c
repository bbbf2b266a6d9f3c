/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_merge.c - see lt_merge.h. */
#include "lt_merge.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evtls/error.h>

#include "lt_hdr.h"
#include "lt_json.h"
#include "lt_run.h"

#define PROG "evtls-load merge"

/* One added result's series, kept apart until the merge aligns them. */
struct part {
    lt_second *series;
    size_t n_series;
    uint64_t series_start_unix_us;
};

/* What a result holds besides its counters. */
struct meta {
    double cpu_user, cpu_sys;
    long rss_peak, rss_base, rss_held;
    uint64_t held, unfinished;
    /* hold mode's memory line: the held-weighted slope, the fixed costs
     * and the fewest held, summed; slopes is how many results had one */
    double slope_x_held, fixed_kib;
    uint64_t fit_from, slopes, results;
    int interrupted;
    unsigned threads;
    uint64_t series_start;
};

struct lt_merge {
    lt_stats total; /* counters and histograms; no series */
    struct part *parts;
    size_t n_parts;
    lt_shard_row *rows;
    size_t n_rows;
    lt_json **trees; /* kept: the TLS names point into them */
    size_t n_trees;
    const lt_json *fp; /* the first result's fingerprint */
    char *fp_text, *fp_name;
    struct meta sum;
    unsigned shard_count;
    /* --targets: each target's counters (the first result's names and
     * order; the fingerprint holds them alike in every result) */
    lt_stats *targets;
    lt_target_info target_info[LT_MAX_TARGETS];
    unsigned n_targets;
    /* the merged result, made by lt_merge_result */
    lt_stats merged;
    lt_opts o;
    lt_result res;
};

static void free_targets(lt_stats *ts, unsigned n);

lt_merge *lt_merge_new(void)
{
    lt_merge *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    lt_stats_init(&m->total);
    lt_stats_init(&m->merged);
    return m;
}

void lt_merge_free(lt_merge *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_parts; i++)
        lt_series_free(m->parts[i].series, m->parts[i].n_series);
    free(m->parts);
    free(m->rows);
    for (size_t i = 0; i < m->n_trees; i++)
        lt_json_free(m->trees[i]);
    free(m->trees);
    free(m->fp_text);
    free(m->fp_name);
    lt_stats_free(&m->merged);
    free_targets(m->targets, m->n_targets);
    free(m);
}

static int need_u64(const lt_json *obj, const char *key, uint64_t *v, const char *where, char *err,
                    size_t errlen)
{
    if (lt_json_u64(lt_json_get(obj, key), v) != 0)
        return lt_fail(err, errlen, "%s: no whole number \"%s\"", where, key);
    return 0;
}

/* The first difference between two fingerprints, NULL when they agree. */
static const char *fp_diff(const lt_json *a, const lt_json *b, char **va, char **vb)
{
    *va = *vb = NULL;
    for (const lt_json *x = a->child; x; x = x->next) {
        const lt_json *y = lt_json_get(b, x->key);
        *va = lt_json_text(x);
        *vb = y ? lt_json_text(y) : NULL;
        if (*va == NULL || *vb == NULL || strcmp(*va, *vb) != 0)
            return x->key;
        free(*va);
        free(*vb);
        *va = *vb = NULL;
    }
    for (const lt_json *y = b->child; y; y = y->next)
        if (lt_json_get(a, y->key) == NULL) {
            *vb = lt_json_text(y);
            return y->key;
        }
    return NULL;
}

static int read_hist(const lt_json *lat, const lt_json *hists, int phase, lt_hist *h, char *err,
                     size_t errlen)
{
    const char *name = lt_phase_names[phase];
    const lt_json *l = lt_json_get(lat, name), *enc = lt_json_get(hists, name);
    char where[64];
    snprintf(where, sizeof where, "latency.%s", name);
    uint64_t count, min = 0, max = 0, sum = 0, clamped = 0;
    if (need_u64(l, "count", &count, where, err, errlen) != 0)
        return -1;
    if (count == 0)
        return enc == NULL || enc->type == LT_JNULL
                   ? 0
                   : lt_fail(err, errlen, "histograms.%s: values where latency.%s has none", name,
                             name);
    if (need_u64(l, "min_us", &min, where, err, errlen) ||
        need_u64(l, "max_us", &max, where, err, errlen) ||
        need_u64(l, "sum_us", &sum, where, err, errlen) ||
        need_u64(l, "clamped", &clamped, where, err, errlen))
        return -1;
    const char *s = lt_json_str(enc);
    if (s == NULL)
        return lt_fail(err, errlen, "histograms.%s: no HdrHistogram string", name);
    char why[160];
    if (lt_hdr_decode(s, strlen(s), LT_HIST_SUB_BITS, h->slot, LT_HIST_SLOTS, why, sizeof why) != 0)
        return lt_fail(err, errlen, "histograms.%s: %s", name, why);
    uint64_t n = 0;
    for (unsigned i = 0; i < LT_HIST_SLOTS; i++)
        n += h->slot[i];
    /* min and max must lie in the layout (their slots are read) and in
     * buckets that hold values. */
    if (n != count || min > max || max > LT_HIST_VMAX || h->slot[lt_hist_slot_of(min)] == 0 ||
        h->slot[lt_hist_slot_of(max)] == 0)
        return lt_fail(err, errlen,
                       "histograms.%s holds %llu values, latency.%s says %llu (min %llu, max %llu)",
                       name, (unsigned long long)n, name, (unsigned long long)count,
                       (unsigned long long)min, (unsigned long long)max);
    h->count = count;
    h->min = min;
    h->max = max;
    h->sum = (double)sum;
    h->clamped = clamped;
    return 0;
}

static int read_series(const lt_json *series, lt_stats *st, char *err, size_t errlen)
{
    if (series == NULL || series->type != LT_JARR)
        return lt_fail(err, errlen, "no \"series\" list");
    static uint64_t wide[LT_SERIES_SLOTS];
    for (const lt_json *s = series->child; s; s = s->next) {
        uint64_t t, ops, errors;
        if (need_u64(s, "t", &t, "series", err, errlen) ||
            need_u64(s, "ops", &ops, "series", err, errlen) ||
            need_u64(s, "errors", &errors, "series", err, errlen))
            return -1;
        if (t >= LT_SERIES_MAX || errors > ops)
            return lt_fail(err, errlen,
                           "series: second %llu is out of range or has more errors than "
                           "operations",
                           (unsigned long long)t);
        const char *enc = lt_json_str(lt_json_get(s, "hist"));
        char why[160];
        uint64_t n = 0;
        if (enc) {
            if (lt_hdr_decode(enc, strlen(enc), LT_SERIES_SUB_BITS, wide, LT_SERIES_SLOTS, why,
                              sizeof why) != 0)
                return lt_fail(err, errlen, "series second %llu: %s", (unsigned long long)t, why);
            for (unsigned k = 0; k < LT_SERIES_SLOTS; k++)
                n += wide[k];
        }
        if (n != ops - errors)
            return lt_fail(err, errlen, "series second %llu: %llu latencies for %llu successes",
                           (unsigned long long)t, (unsigned long long)n,
                           (unsigned long long)(ops - errors));
        if (lt_stats_second_add(st, t, ops, errors, enc ? wide : NULL) != 0)
            return lt_fail(err, errlen, "out of memory");
    }
    return 0;
}

static int error_code(const char *name)
{
    for (int i = 1; i < LT_ERR_SLOTS; i++)
        if (strcmp(evtls_err_name(-i), name) == 0)
            return i;
    return 0;
}

/* Reads the counters, statuses, errors, TLS and histograms of j (a
 * result, or one of its targets) into st. */
static int read_stats(const lt_json *j, lt_stats *st, char *err, size_t errlen)
{
    const lt_json *counters = lt_json_get(j, "counters");
    for (size_t i = 0; i < lt_n_counters; i++) {
        uint64_t v;
        if (need_u64(counters, lt_counters[i].name, &v, "counters", err, errlen) != 0)
            return -1;
        *(uint64_t *)(void *)((char *)st + lt_counters[i].off) = v;
    }
    const lt_json *codes = lt_json_get(j, "status_codes");
    for (const lt_json *c = codes ? codes->child : NULL; c; c = c->next) {
        uint64_t n;
        long code = strtol(c->key, NULL, 10);
        if (code < 100 || code > 599 || lt_json_u64(c, &n) != 0)
            return lt_fail(err, errlen, "status_codes: bad entry \"%s\"", c->key);
        st->codes[code] += n;
        st->status[code / 100] += n;
    }
    const lt_json *errs = lt_json_get(j, "error_list");
    for (const lt_json *e = errs ? errs->child : NULL; e; e = e->next) {
        uint64_t n;
        const char *name = lt_json_str(lt_json_get(e, "code"));
        if (name == NULL || need_u64(e, "count", &n, "error_list", err, errlen) != 0)
            return lt_fail(err, errlen, "error_list: an entry without code and count");
        if (strcmp(name, "HTTP_STATUS") != 0) /* that one is the status_errors counter */
            st->errors[error_code(name)] += n;
    }
    const lt_json *tls = lt_json_get(j, "tls");
    for (const lt_json *t = tls ? tls->child : NULL; t; t = t->next) {
        uint64_t n;
        if (need_u64(t, "count", &n, "tls", err, errlen) != 0)
            return -1;
        lt_stats_tls_n(st, lt_json_str(lt_json_get(t, "version")),
                       lt_json_str(lt_json_get(t, "cipher")), lt_json_str(lt_json_get(t, "group")),
                       n);
    }
    const lt_json *lat = lt_json_get(j, "latency"), *hists = lt_json_get(j, "histograms");
    for (int i = 0; i < LT_NPHASES; i++)
        if (read_hist(lat, hists, i, &st->hist[i], err, errlen) != 0)
            return -1;
    return 0;
}

/* --targets: each target's figures of result j into ts (n of them, as
 * the result lists them, with their info); 0 with none. Returns 0 or -1. */
static int read_targets(const lt_json *j, lt_stats **ts, lt_target_info *info, unsigned *n,
                        char *err, size_t errlen)
{
    const lt_json *list = lt_json_get(j, "targets");
    *n = 0;
    *ts = NULL;
    for (const lt_json *t = list ? list->child : NULL; t; t = t->next)
        (*n)++;
    if (*n > LT_MAX_TARGETS)
        return lt_fail(err, errlen, "targets: more than %d", LT_MAX_TARGETS);
    if (*n == 0)
        return 0;
    if ((*ts = calloc(*n, sizeof **ts)) == NULL)
        return lt_fail(err, errlen, "out of memory");
    unsigned i = 0;
    for (const lt_json *t = list->child; t; t = t->next, i++) {
        uint64_t w;
        lt_stats_init(&(*ts)[i]);
        info[i] = (lt_target_info){
            lt_json_str(lt_json_get(t, "name")), lt_json_str(lt_json_get(t, "method")),
            lt_json_str(lt_json_get(t, "url")),
            lt_json_u64(lt_json_get(t, "weight"), &w) == 0 ? (unsigned)w : 0};
        char why[400];
        if (info[i].name == NULL || read_stats(t, &(*ts)[i], why, sizeof why) != 0)
            return lt_fail(err, errlen, "target %u: %s", i + 1, info[i].name ? why : "no name");
    }
    return 0;
}

static void free_targets(lt_stats *ts, unsigned n)
{
    for (unsigned i = 0; ts && i < n; i++)
        lt_stats_free(&ts[i]);
    free(ts);
}

/* Reads one result's counters, histograms, series and rows. */
static int read_result(const lt_json *j, lt_stats *st, struct meta *mt, lt_shard_row **rows,
                       size_t *n_rows, char *err, size_t errlen)
{
    if (read_stats(j, st, err, errlen) != 0)
        return -1;
    if (need_u64(j, "series_start_unix_us", &mt->series_start, "the result", err, errlen) != 0 ||
        read_series(lt_json_get(j, "series"), st, err, errlen) != 0)
        return -1;
    uint64_t v;
    mt->cpu_user = lt_json_num(lt_json_get(j, "cpu_user_s"), 0);
    mt->cpu_sys = lt_json_num(lt_json_get(j, "cpu_sys_s"), 0);
    mt->rss_peak = (long)lt_json_num(lt_json_get(j, "rss_peak_kb"), 0);
    mt->rss_base = (long)lt_json_num(lt_json_get(j, "rss_base_kb"), 0);
    mt->rss_held = (long)lt_json_num(lt_json_get(j, "rss_held_kb"), 0);
    mt->held = lt_json_u64(lt_json_get(j, "held"), &v) == 0 ? v : 0;
    const lt_json *slope = lt_json_get(j, "kib_per_held");
    if (slope && slope->type == LT_JNUM) {
        mt->slopes = 1;
        mt->slope_x_held = lt_json_num(slope, 0) * (double)mt->held;
        mt->fixed_kib = lt_json_num(lt_json_get(j, "fixed_kib"), 0);
        mt->fit_from = lt_json_u64(lt_json_get(j, "fit_from"), &v) == 0 ? v : 0;
    }
    mt->unfinished = lt_json_u64(lt_json_get(j, "unfinished"), &v) == 0 ? v : 0;
    mt->interrupted =
        lt_json_get(j, "interrupted") && lt_json_get(j, "interrupted")->type == LT_JTRUE;
    mt->threads = lt_json_u64(lt_json_get(j, "threads"), &v) == 0 ? (unsigned)v : 0;
    const lt_json *list = lt_json_get(j, "shards");
    size_t n = 0;
    for (const lt_json *r = list ? list->child : NULL; r; r = r->next)
        n++;
    if (n == 0)
        return lt_fail(err, errlen, "no \"shards\" table");
    *rows = calloc(n, sizeof **rows);
    if (*rows == NULL)
        return lt_fail(err, errlen, "out of memory");
    *n_rows = n;
    size_t i = 0;
    for (const lt_json *r = list->child; r; r = r->next, i++) {
        lt_shard_row *w = &(*rows)[i];
        uint64_t idx, conns, threads;
        if (need_u64(r, "index", &idx, "shards", err, errlen) ||
            need_u64(r, "start_unix_us", &w->start_unix_us, "shards", err, errlen) ||
            need_u64(r, "began_unix_us", &w->began_unix_us, "shards", err, errlen) ||
            need_u64(r, "end_unix_us", &w->end_unix_us, "shards", err, errlen) ||
            need_u64(r, "operations", &w->ops, "shards", err, errlen) ||
            need_u64(r, "errors", &w->errors, "shards", err, errlen) ||
            need_u64(r, "connections", &conns, "shards", err, errlen) ||
            need_u64(r, "threads", &threads, "shards", err, errlen))
            return -1;
        w->index = (unsigned)idx;
        w->conns = conns;
        w->threads = (unsigned)threads;
        w->cpu_s = lt_json_num(lt_json_get(r, "cpu_s"), 0);
        w->rss_peak_kb = (long)lt_json_num(lt_json_get(r, "rss_peak_kb"), 0);
        const char *host = lt_json_str(lt_json_get(r, "host"));
        snprintf(w->host, sizeof w->host, "%s", host ? host : "");
    }
    return 0;
}

int lt_merge_add(lt_merge *m, const char *text, size_t len, const char *name, char *err,
                 size_t errlen)
{
    char why[512];
    lt_json *j = lt_json_parse(text, len, why, sizeof why);
    if (j == NULL)
        return lt_fail(err, errlen, "%s: not JSON: %s", name, why);
    const char *format = lt_json_str(lt_json_get(j, "format"));
    const lt_json *fp = lt_json_get(j, "fingerprint");
    const lt_json *shard = lt_json_get(j, "shard");
    uint64_t count;
    int bad_format = format == NULL || strcmp(format, LT_RESULT_FORMAT) != 0;
    if (bad_format || fp == NULL || fp->type != LT_JOBJ ||
        lt_json_u64(lt_json_get(shard, "count"), &count) != 0 || count == 0) {
        if (bad_format && format && strncmp(format, "evtls-result/", 13) == 0)
            lt_fail(err, errlen,
                    "%s: written by another version of evtls-load (format %s; this one reads "
                    "%s): the shards of a test are merged by the evtls-load that made them",
                    name, format, LT_RESULT_FORMAT);
        else if (bad_format)
            lt_fail(err, errlen, "%s: not an evtls-load result (format \"%s\" expected, %s found)",
                    name, LT_RESULT_FORMAT, format ? format : "none");
        else
            lt_fail(err, errlen, "%s: a damaged result: no %s", name,
                    fp == NULL || fp->type != LT_JOBJ ? "fingerprint object" : "shard count");
        lt_json_free(j); /* format points into it */
        return -1;
    }
    if (m->fp) {
        char *va, *vb;
        const char *key = fp_diff(m->fp, fp, &va, &vb);
        if (key) {
            lt_fail(err, errlen,
                    "%s and %s are results of different tests: %s is %s in one, %s in "
                    "the other",
                    m->fp_name, name, key, va ? va : "absent", vb ? vb : "absent");
            free(va);
            free(vb);
            lt_json_free(j);
            return -1;
        }
    }
    lt_stats *st = malloc(sizeof *st);
    lt_json **trees = realloc(m->trees, (m->n_trees + 1) * sizeof *trees);
    struct part *parts = trees ? realloc(m->parts, (m->n_parts + 1) * sizeof *parts) : NULL;
    if (trees)
        m->trees = trees;
    if (parts)
        m->parts = parts;
    if (st == NULL || parts == NULL) {
        free(st);
        lt_json_free(j);
        return lt_fail(err, errlen, "out of memory");
    }
    lt_stats_init(st);
    struct meta mt;
    memset(&mt, 0, sizeof mt);
    lt_shard_row *rows = NULL;
    size_t n_rows = 0;
    lt_stats *tst = NULL;
    lt_target_info tinfo[LT_MAX_TARGETS];
    unsigned n_targets = 0;
    int rc = read_result(j, st, &mt, &rows, &n_rows, why, sizeof why);
    if (rc == 0)
        rc = read_targets(j, &tst, tinfo, &n_targets, why, sizeof why);
    if (rc != 0)
        lt_fail(err, errlen, "%s: %s", name, why);
    for (unsigned i = 0;
         rc == 0 && m->fp && i < (n_targets > m->n_targets ? n_targets : m->n_targets); i++)
        if (n_targets != m->n_targets || strcmp(tinfo[i].name, m->target_info[i].name) != 0)
            rc = lt_fail(err, errlen, "%s: its targets are not %s's", name, m->fp_name);
    for (size_t i = 0; rc == 0 && i < n_rows; i++) {
        if (rows[i].index >= count)
            rc = lt_fail(err, errlen, "%s: shard %u of %llu does not exist", name, rows[i].index,
                         (unsigned long long)count);
        for (size_t k = 0; rc == 0 && k < m->n_rows; k++)
            if (m->rows[k].index == rows[i].index)
                rc = lt_fail(err, errlen,
                             "%s: shard %u is merged already (from another file); "
                             "each shard counts once",
                             name, rows[i].index);
        for (size_t k = 0; rc == 0 && k < i; k++)
            if (rows[k].index == rows[i].index)
                rc = lt_fail(err, errlen, "%s: shard %u is listed twice", name, rows[i].index);
    }
    lt_shard_row *all = rc == 0 ? realloc(m->rows, (m->n_rows + n_rows) * sizeof *all) : NULL;
    if (rc == 0 && all == NULL)
        rc = lt_fail(err, errlen, "out of memory");
    if (all)
        m->rows = all; /* room grown, still n_rows of them: m stays whole if the rest fails */
    if (rc == 0 && m->fp == NULL) {
        m->fp_text = lt_json_text(fp);
        m->fp_name = strdup(name);
        if (m->fp_text == NULL || m->fp_name == NULL) {
            free(m->fp_text);
            free(m->fp_name);
            m->fp_text = m->fp_name = NULL;
            rc = lt_fail(err, errlen, "out of memory");
        }
    }
    if (rc == 0 && m->fp == NULL && n_targets &&
        (m->targets = calloc(n_targets, sizeof *m->targets)) == NULL)
        rc = lt_fail(err, errlen, "out of memory");
    if (rc != 0) {
        free(rows);
        lt_stats_free(st);
        free(st);
        free_targets(tst, n_targets);
        lt_json_free(j);
        return -1;
    }
    /* Accepted: nothing fails past this point. */
    m->rows = all;
    memcpy(m->rows + m->n_rows, rows, n_rows * sizeof *rows);
    m->n_rows += n_rows;
    free(rows);
    m->trees[m->n_trees++] = j;
    if (m->fp == NULL) {
        m->fp = fp;
        m->shard_count = (unsigned)count;
        m->n_targets = n_targets; /* the names point into the tree kept */
        memcpy(m->target_info, tinfo, n_targets * sizeof *tinfo);
        for (unsigned i = 0; i < n_targets; i++)
            lt_stats_init(&m->targets[i]);
    }
    for (unsigned i = 0; i < n_targets; i++)
        lt_stats_merge(&m->targets[i], &tst[i]); /* no series */
    free_targets(tst, n_targets);
    /* The series waits for the merge to align it; the rest adds up now. */
    m->parts[m->n_parts++] = (struct part){st->series, st->n_series, mt.series_start};
    st->series = NULL;
    st->n_series = 0;
    lt_stats_merge(&m->total, st); /* no series: nothing to allocate */
    m->sum.cpu_user += mt.cpu_user;
    m->sum.cpu_sys += mt.cpu_sys;
    if (mt.rss_peak > m->sum.rss_peak)
        m->sum.rss_peak = mt.rss_peak;
    m->sum.rss_base += mt.rss_base;
    m->sum.rss_held += mt.rss_held;
    m->sum.held += mt.held;
    m->sum.slope_x_held += mt.slope_x_held;
    m->sum.fixed_kib += mt.fixed_kib;
    m->sum.fit_from += mt.fit_from;
    m->sum.slopes += mt.slopes;
    m->sum.results++;
    m->sum.unfinished += mt.unfinished;
    m->sum.interrupted |= mt.interrupted;
    m->sum.threads += mt.threads;
    free(st);
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const lt_shard_row *x = a, *y = b;
    return x->start_unix_us < y->start_unix_us ? -1 : x->start_unix_us > y->start_unix_us;
}

/* The length of the union of the shards' counted times, in seconds. */
static double union_s(lt_shard_row *rows, size_t n)
{
    qsort(rows, n, sizeof *rows, by_start);
    uint64_t total = 0, from = 0, to = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = rows[i].start_unix_us, b = rows[i].end_unix_us > a ? rows[i].end_unix_us : a;
        if (i == 0 || a > to) {
            total += to - from;
            from = a;
            to = b;
        } else if (b > to)
            to = b;
    }
    total += to - from;
    return (double)total / 1e6;
}

static int by_index(const void *a, const void *b)
{
    const lt_shard_row *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

const lt_result *lt_merge_result(lt_merge *m, const lt_opts *opts, const char *command)
{
    if (m->fp == NULL)
        return NULL;
    lt_stats_free(&m->merged);
    m->merged = m->total;
    m->merged.series = NULL;
    m->merged.n_series = 0;
    uint64_t origin = UINT64_MAX;
    for (size_t i = 0; i < m->n_parts; i++)
        if (m->parts[i].series_start_unix_us < origin)
            origin = m->parts[i].series_start_unix_us;
    for (size_t i = 0; i < m->n_parts; i++) {
        /* Aligned to the nearest second of the earliest start. */
        uint64_t shift = (m->parts[i].series_start_unix_us - origin + 500000) / 1000000;
        if (lt_stats_merge_series(&m->merged, m->parts[i].series, m->parts[i].n_series, shift) != 0)
            return NULL;
    }
    /* The options of the test, from its fingerprint. */
    const lt_json *fp = m->fp;
    lt_opts *o = &m->o;
    *o = *opts;
    const char *mode = lt_json_str(lt_json_get(fp, "mode"));
    o->mode = mode && strcmp(mode, "request") == 0 ? LT_MODE_REQUEST
              : mode && strcmp(mode, "hold") == 0  ? LT_MODE_HOLD
                                                   : LT_MODE_HANDSHAKE;
    const lt_json *urls = lt_json_get(fp, "urls");
    o->target = urls && urls->child && lt_json_str(urls->child) ? lt_json_str(urls->child) : "?";
    uint64_t v;
    o->conns = lt_json_u64(lt_json_get(fp, "connections"), &v) == 0 ? (unsigned)v : 0;
    o->total = lt_json_u64(lt_json_get(fp, "requests"), &v) == 0 ? v : 0;
    o->duration_us = lt_json_u64(lt_json_get(fp, "duration_us"), &v) == 0 ? v : 0;
    o->ramp_us = lt_json_u64(lt_json_get(fp, "ramp_up_us"), &v) == 0 ? v : 0;
    o->rate = lt_json_num(lt_json_get(fp, "rate"), 0);
    o->resume_ratio = lt_json_num(lt_json_get(fp, "resume_ratio"), 0);
    o->early_ratio = lt_json_num(lt_json_get(fp, "early_data_ratio"), 0);
    o->tls.http2 = lt_json_u64(lt_json_get(fp, "http2"), &v) == 0 ? (int)v : 0;
    o->max_streams = lt_json_u64(lt_json_get(fp, "max_streams"), &v) == 0 ? (unsigned)v : 0;
    const lt_json *nr = lt_json_get(fp, "no_retry");
    o->no_retry = nr && nr->type == LT_JTRUE;
    o->threads = m->sum.threads;
    o->shard_count = m->shard_count;
    qsort(m->rows, m->n_rows, sizeof *m->rows, by_index);
    lt_shard_row *tmp = malloc(m->n_rows * sizeof *tmp);
    if (tmp == NULL)
        return NULL;
    memcpy(tmp, m->rows, m->n_rows * sizeof *tmp);
    double elapsed = union_s(tmp, m->n_rows);
    uint64_t start = tmp[0].start_unix_us, end = 0, conns = 0;
    for (size_t i = 0; i < m->n_rows; i++) {
        if (tmp[i].end_unix_us > end)
            end = tmp[i].end_unix_us;
        conns += tmp[i].conns;
    }
    free(tmp);
    m->res = (lt_result){
        .o = o,
        .st = &m->merged,
        .elapsed_s = elapsed,
        .cpu_user_s = m->sum.cpu_user,
        .cpu_sys_s = m->sum.cpu_sys,
        .rss_base_kb = m->sum.rss_base,
        .rss_peak_kb = m->sum.rss_peak,
        .rss_held_kb = m->sum.rss_held,
        .held = m->sum.held,
        /* every result had its slope: their mean weighted by connections */
        .kib_per_held = m->sum.slopes == m->sum.results && m->sum.held
                            ? m->sum.slope_x_held / (double)m->sum.held
                            : -1,
        .fixed_kib = m->sum.fixed_kib,
        .fit_from = m->sum.fit_from,
        .unfinished = m->sum.unfinished,
        .interrupted = m->sum.interrupted,
        .shard_index = LT_MERGED,
        .shard_count = m->shard_count,
        .host = NULL,
        .start_unix_us = start,
        .end_unix_us = end,
        .series_start_unix_us = origin,
        .fingerprint = m->fp_text,
        .shards = m->rows,
        .n_shards = m->n_rows,
        .conns_here = conns,
        .command = command,
        .targets = m->targets,
        .target_info = m->target_info,
        .n_targets = m->n_targets,
    };
    return &m->res;
}

size_t lt_merge_missing(const lt_merge *m, unsigned *out, size_t n)
{
    size_t k = 0;
    for (unsigned i = 0; i < m->shard_count; i++) {
        size_t j = 0;
        while (j < m->n_rows && m->rows[j].index != i)
            j++;
        if (j == m->n_rows) {
            if (k < n)
                out[k] = i;
            k++;
        }
    }
    return k;
}

static const char merge_usage[] =
    "Usage: evtls-load merge [options] FILE...\n"
    "\n"
    "Merges evtls-load results (--json files, format " LT_RESULT_FORMAT ") of one test run\n"
    "in shards (--shard I/N, evtls-load-mpi, a Kubernetes Indexed Job): counters and\n"
    "latency histogram buckets are summed exactly, rates are over the union of the\n"
    "shards' times, the per-second series are aligned on the wall clock, and a table\n"
    "of the shards shows each one and the start skew. A merged result merges again.\n"
    "Results of different tests, or holding one shard twice, are refused (exit 2).\n"
    "\n"
    "      --json FILE        write the merged result to FILE (-: stdout)\n"
    "      --html FILE        write the merged report to FILE (-: stdout): one page\n"
    "                         (charts in SVG, no script, nothing fetched)\n"
    "      --max-errors N     exit 1 when more than N operations failed (default 0)\n"
    "      --threshold PHASE.STAT<TIME  exit 1 unless the merged statistic is below\n"
    "                         TIME (as evtls-load's; repeatable)\n"
    "      --allow-partial    merge even when shards are missing (a note names them);\n"
    "                         without it a partial set is refused (exit 2)\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit status: 0 merged; 1 a threshold or the error limit not met; 2 bad usage,\n"
    "an unreadable or damaged file, or results that do not belong together.\n";

int lt_merge_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", required_argument, 0, 'j'},
        {"html", required_argument, 0, 'H'},
        {"max-errors", required_argument, 0, 'e'},
        {"threshold", required_argument, 0, 'T'},
        {"allow-partial", no_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    static lt_opts o;
    memset(&o, 0, sizeof o);
    const char *json = NULL, *html = NULL;
    int ch, allow_partial = 0;
    char cerr[300];
    if (cli_check_options(argc, argv, opts, ":h", cerr, sizeof cerr) != 0) {
        fprintf(stderr, PROG ": %s\nTry '" PROG " merge --help'.\n", cerr);
        return 2;
    }
    opterr = 0;
    optind = 0;
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'j': json = optarg; break;
        case 'H': html = optarg; break;
        case 'e':
            errno = 0;
            o.max_errors = strtoull(optarg, &end, 10);
            if (errno || *end || optarg[0] == '-' || end == optarg) {
                fprintf(stderr, PROG ": --max-errors: '%s' is not a count\n", optarg);
                return 2;
            }
            break;
        case 'T':
            if (o.n_thresholds == sizeof o.thresholds / sizeof o.thresholds[0] ||
                lt_parse_threshold(optarg, &o.thresholds[o.n_thresholds]) != 0) {
                fprintf(stderr, PROG ": --threshold: '%s' is not PHASE.STAT<TIME\n", optarg);
                return 2;
            }
            o.n_thresholds++;
            break;
        case 'p': allow_partial = 1; break;
        case 'h': fputs(merge_usage, stdout); return 0;
        case ':': fprintf(stderr, PROG ": %s needs a value\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, PROG ": unknown option '%s'\n", argv[optind - 1]); return 2;
        }
    }
    if (optind == argc) {
        fprintf(stderr, PROG ": no result files given\nTry '" PROG " --help'.\n");
        return 2;
    }
    lt_merge *m = lt_merge_new();
    if (m == NULL)
        return 1;
    int status = 0;
    for (int i = optind; i < argc && status == 0; i++) {
        size_t len;
        char *text = lt_read_file(argv[i], &len), err[1024];
        if (text == NULL) {
            fprintf(stderr, PROG ": cannot read '%s': %s\n", argv[i], strerror(errno));
            status = 2;
        } else if (lt_merge_add(m, text, len, argv[i], err, sizeof err) != 0) {
            fprintf(stderr, PROG ": %s\n", err);
            status = 2;
        }
        free(text);
    }
    char *command = lt_command_line(argc + 1, argv - 1);
    const lt_result *r = status == 0 ? lt_merge_result(m, &o, command) : NULL;
    if (status == 0 && r == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        status = 1;
    }
    if (r) {
        /* Shards missing: the result is not the whole run. Refused unless
         * asked for (a Job's failed pod must not pass as a full load). */
        unsigned miss[16];
        size_t n = lt_merge_missing(m, miss, 16);
        if (n) {
            fprintf(stderr, PROG ": %s: %zu of the %u shards missing (",
                    allow_partial ? "note" : "error", n, r->shard_count);
            for (size_t i = 0; i < n && i < 16; i++)
                fprintf(stderr, "%s%u", i ? ", " : "", miss[i]);
            fprintf(stderr, "%s)%s\n", n > 16 ? ", ..." : "",
                    allow_partial ? "" : ": give every shard's result, or --allow-partial");
        }
        status = n && !allow_partial ? 2 : lt_conclude(r, r->o, json, html);
    }
    free(command);
    lt_merge_free(m);
    return status;
}
