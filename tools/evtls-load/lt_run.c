/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_run.c - see lt_run.h.
 *
 * The main thread starts one worker per -t (each with its own event_base),
 * shows a progress line on a terminal, stops the workers on SIGINT/SIGTERM,
 * merges their counters. See lt_worker.c for the load shapes. */
#include "lt_run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <evtls/evtls.h>

#include "lt_html.h"
#include "lt_json.h"
#include "lt_worker.h"

#define PROG "evtls-load"

struct run {
    const lt_opts *o;
    lt_worker **w;
    unsigned n, done;
    struct event_base *base;
    struct event *tick, *done_ev, *sig_int, *sig_term;
    int done_fd[2];
    int progress;
    int interrupted;      /* the signal that stopped the run, 0 if none */
    int aborted;          /* --abort-on-threshold ended it */
    FILE *series;         /* --series-out: a JSON line a second, or NULL */
    lt_metrics *metrics;  /* --metrics-listen, or NULL */
    uint64_t series_next; /* the next second to write */
    uint64_t next_abort_check;
    uint64_t t0, last_ops, last_t;
    uint64_t next_print; /* the progress line's next whole second after t0 */
    long rss_base_kb, rss_held_kb;
    uint64_t held_max;
    /* Hold mode: (held, resident KiB) each time more were held, for the
     * least-squares line through them (lt_memory_slope). */
    double fit_n, fit_x, fit_y, fit_xx, fit_xy;
    uint64_t fit_lo;
    lt_script *script; /* --script: the main thread's state (setup, done) */
    /* --abort-on-threshold: the successful operations' latency of every
     * whole second read so far (the series' layout), for total_ok's
     * percentile thresholds while the run goes */
    uint64_t live_slot[LT_SERIES_SLOTS], live_n, live_sec;
    int script_failed; /* a script error ended a thread's run, and so the others' */
};

int lt_read_inputs(lt_opts *o, lt_targets *ts, char *err, size_t errlen)
{
    memset(ts, 0, sizeof *ts);
    if (o->data && cli_data(o->data, &o->data_buf, &o->data_len, err, errlen) != 0)
        return -1;
    if (o->targets_path == NULL)
        return 0;
    size_t len;
    char *text = lt_read_file(o->targets_path, &len);
    if (text == NULL)
        return lt_fail(err, errlen, "--targets %s: cannot read it: %s", o->targets_path,
                       strerror(errno));
    char perr[400];
    int rc = lt_targets_parse(text, len, ts, perr, sizeof perr);
    free(text);
    if (rc != 0)
        return lt_fail(err, errlen, "--targets %s: %s", o->targets_path, perr);
    for (unsigned i = 0; i < ts->n; i++) { /* the bodies named by file, as given */
        lt_target *t = &ts->t[i];
        if (t->body_file == NULL)
            continue;
        t->body = lt_read_file(t->body_file, &t->body_len);
        if (t->body == NULL)
            return lt_fail(err, errlen, "--targets %s: line %u: body file %s: %s", o->targets_path,
                           t->line, t->body_file, strerror(errno));
    }
    return lt_opts_use_targets(o, ts, err, errlen);
}

void lt_inputs_free(lt_opts *o, lt_targets *ts)
{
    free(o->data_buf);
    o->data_buf = NULL;
    lt_targets_free(ts);
}

uint64_t lt_unix_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

char *lt_command_line(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    char *s = malloc(n), *p = s;
    if (s == NULL)
        return NULL;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]);
        if (i)
            *p++ = ' ';
        memcpy(p, argv[i], l);
        p += l;
    }
    *p = 0;
    return s;
}

static long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "re");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static uint64_t sum(const struct run *r, uint64_t (*get)(const lt_worker *))
{
    uint64_t s = 0;
    for (unsigned i = 0; i < r->n; i++)
        s += get(r->w[i]);
    return s;
}

/* Hold mode: resident memory once every connection is open. */
static void watch_held(struct run *r)
{
    uint64_t held = sum(r, lt_worker_held);
    if (held > r->held_max) {
        r->held_max = held;
        r->rss_held_kb = rss_kb();
        double x = (double)held, y = (double)r->rss_held_kb;
        if (r->fit_n == 0)
            r->fit_lo = held;
        r->fit_n++;
        r->fit_x += x;
        r->fit_y += y;
        r->fit_xx += x * x;
        r->fit_xy += x * y;
    }
}

/* --session-file: every thread's sessions, into one file. */
static void save_sessions(const struct run *r)
{
    evtls_session_cache *all = evtls_session_cache_new(4);
    int n = all && evtls_session_cache_set_capacity(all, 65536) == 0 ? 0 : EVTLS_ERR_NOMEM;
    for (unsigned i = 0; i < r->n && n >= 0; i++) {
        int k = lt_worker_sessions_into(r->w[i], all);
        n = k < 0 ? k : n + k;
    }
    if (n < 0 || evtls_session_cache_save(all, r->o->session_file) != 0)
        fprintf(stderr, PROG ": cannot save sessions to %s\n", r->o->session_file);
    else
        fprintf(stderr, PROG ": %d session%s saved to %s\n", n, n == 1 ? "" : "s",
                r->o->session_file);
    evtls_session_cache_unref(all);
}

#define PROGRESS_GRACE_US 200000

/* The seconds that ended (and their grace) since the last call: their
 * successful operations' latency added to r's live counts. */
static void live_latency(struct run *r, uint64_t now)
{
    static uint32_t slot[LT_SERIES_SLOTS];
    uint64_t ended =
        now > r->t0 + PROGRESS_GRACE_US ? (now - r->t0 - PROGRESS_GRACE_US) / 1000000 : 0;
    for (; r->live_sec < ended; r->live_sec++) {
        uint64_t ops = 0, errs = 0;
        memset(slot, 0, sizeof slot);
        for (unsigned i = 0; i < r->n; i++)
            lt_worker_add_second(r->w[i], r->live_sec, slot, &ops,
                                 &errs); /* a second missed: left out */
        for (unsigned k = 0; k < LT_SERIES_SLOTS; k++) {
            r->live_slot[k] += slot[k];
            r->live_n += slot[k];
        }
    }
}

/* Percentile p of r's live counts (the highest value of its slot), us. */
static uint64_t live_percentile(const struct run *r, double p)
{
    uint64_t rank = (uint64_t)((p / 100.0) * (double)r->live_n + 0.999999999), seen = 0;
    for (unsigned k = 0; k < LT_SERIES_SLOTS; k++) {
        seen += r->live_slot[k];
        if (seen >= (rank ? rank : 1))
            return lt_layout_high(LT_SERIES_SUB_BITS, k);
    }
    return 0;
}

/* --abort-on-threshold: once a second, the errors.rate and checks.rate
 * thresholds on the counts so far, and total_ok's percentiles on the
 * whole seconds so far (to 1 %: the series' layout); one that fails ends
 * the run. The others are checked at the end. */
static void check_abort(struct run *r, uint64_t now)
{
    const lt_opts *o = r->o;
    if (!o->abort_on_threshold || r->aborted || r->interrupted || now < r->t0 + 1000000 ||
        now < r->next_abort_check)
        return;
    r->next_abort_check = now + 1000000;
    live_latency(r, now);
    uint64_t ops = sum(r, lt_worker_ops_done), errs = sum(r, lt_worker_errors), checks = 0,
             failed = 0;
    for (unsigned i = 0; i < r->n; i++) {
        uint64_t f;
        checks += lt_worker_checks(r->w[i], &f);
        failed += f;
    }
    for (unsigned i = 0; i < o->n_thresholds; i++) {
        const struct lt_threshold *t = &o->thresholds[i];
        double v;
        if (t->target[0]) /* a target's: at the end */
            continue;
        if (t->kind == LT_TH_ERRORS_RATE && ops > 0)
            v = (double)errs / (double)ops;
        else if (t->kind == LT_TH_CHECKS_RATE && checks > 0)
            v = (double)(checks - failed) / (double)checks;
        else if (t->kind == LT_TH_LATENCY && t->phase == LT_TOTAL_OK && t->p > 0 && t->p < 100 &&
                 r->live_n > 0)
            v = (double)live_percentile(r, t->p);
        else
            continue;
        if (t->above ? v > t->limit : v < t->limit)
            continue;
        if (t->kind == LT_TH_LATENCY)
            fprintf(stderr,
                    "\n" PROG ": threshold %s failed (%.3f ms so far, whole seconds): the run "
                    "ends here (--abort-on-threshold)\n",
                    t->text, v / 1000);
        else
            fprintf(stderr,
                    "\n" PROG ": threshold %s failed (%.4f so far): the run ends here "
                    "(--abort-on-threshold)\n",
                    t->text, v);
        r->aborted = 1;
        for (unsigned k = 0; k < r->n; k++)
            lt_worker_stop(r->w[k]);
        return;
    }
}

/* Second sec's figures over every thread (the live counts each keeps of
 * the running second and the one before). Returns 1 when every thread's
 * were read whole. */
static int second_figures(struct run *r, uint64_t sec, uint64_t *ops, uint64_t *errors,
                          uint64_t *p50, uint64_t *p99)
{
    static uint32_t slot[LT_SERIES_SLOTS];
    memset(slot, 0, sizeof slot);
    lt_second last = {.slot = slot};
    int whole = 1;
    *ops = *errors = 0;
    for (unsigned i = 0; i < r->n; i++)
        if (lt_worker_add_second(r->w[i], sec, slot, ops, errors) != 0)
            whole = 0;
    *p50 = lt_second_percentile(&last, 50);
    *p99 = lt_second_percentile(&last, 99);
    return whole;
}

/* A scrape: every thread's counters. */
static void fill_metrics(void *arg, struct lt_metrics_view *v)
{
    struct run *r = arg;
    for (unsigned i = 0; i < r->n; i++)
        lt_worker_metrics(r->w[i], v);
}

/* --series-out: one JSON line a second, as the final series has it. */
static void series_line(FILE *f, uint64_t sec, uint64_t ops, uint64_t errors, uint64_t p50,
                        uint64_t p99)
{
    fprintf(f, "{\"t\":%llu,\"ops\":%llu,\"errors\":%llu,", (unsigned long long)sec,
            (unsigned long long)ops, (unsigned long long)errors);
    if (ops > errors)
        fprintf(f, "\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n", (double)p50 / 1000, (double)p99 / 1000);
    else
        fputs("\"p50_ms\":null,\"p99_ms\":null}\n", f);
    fflush(f);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct run *r = arg;
    uint64_t now = lt_now_us();
    if (r->o->mode == LT_MODE_HOLD)
        watch_held(r);
    check_abort(r, now);
    if ((!r->progress && !r->series) || now < r->t0)
        return;
    if (r->next_print == 0)
        r->next_print = r->t0 + 1000000;
    /* A little after the second's end, so that the threads have counted
     * the operations that ended just before it. */
    if (now < r->next_print + PROGRESS_GRACE_US)
        return;
    /* On whole seconds after the start (a late tick does not shift the
     * next); the rate over the time that really passed. */
    double el = (double)(r->next_print - r->t0) / 1e6;
    while (r->next_print <= now)
        r->next_print += 1000000;
    uint64_t sec = (uint64_t)el - 1, s_ops, s_errs, p50, p99;
    int whole = second_figures(r, sec, &s_ops, &s_errs, &p50, &p99);
    if (r->series && whole && sec >= r->series_next) {
        series_line(r->series, sec, s_ops, s_errs, p50, p99);
        r->series_next = sec + 1;
    }
    if (!r->progress)
        return;
    uint64_t ops = sum(r, lt_worker_ops_done), errs = sum(r, lt_worker_errors);
    double dt = (double)(now - (r->last_t > r->t0 ? r->last_t : r->t0)) / 1e6;
    char pos[64];
    if (r->o->mode == LT_MODE_HOLD)
        snprintf(pos, sizeof pos, "%llu/%u held", (unsigned long long)sum(r, lt_worker_held),
                 r->o->conns);
    else if (r->o->total && !r->o->duration_us)
        snprintf(pos, sizeof pos, "%llu/%llu", (unsigned long long)ops,
                 (unsigned long long)r->o->total);
    else
        snprintf(pos, sizeof pos, "%.0fs/%gs, %llu done", el, (double)r->o->duration_us / 1e6,
                 (unsigned long long)ops);
    printf("\r\033[K[%6.1fs] %s  %.0f/s  errors %llu", el, pos,
           dt > 0 ? (double)(ops - r->last_ops) / dt : 0, (unsigned long long)errs);
    /* every thread's successes of the last whole second */
    if (r->o->mode != LT_MODE_HOLD && whole && p99)
        printf("  p99 %.1fms", (double)p99 / 1000);
    if (r->o->rate > 0) /* due and waiting for a free connection */
        printf("  backlog %llu", (unsigned long long)sum(r, lt_worker_backlog));
    fflush(stdout);
    r->last_ops = ops;
    r->last_t = now;
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct run *r = arg;
    char b[64];
    ssize_t n = read(fd, b, sizeof b);
    if (n > 0)
        r->done += (unsigned)n;
    for (unsigned i = 0; i < r->n && !r->script_failed; i++)
        if (lt_worker_script_failed(r->w[i])) { /* one thread's script failed: all end */
            r->script_failed = 1;
            for (unsigned k = 0; k < r->n; k++)
                lt_worker_stop(r->w[k]);
        }
    if (r->done >= r->n)
        event_base_loopbreak(r->base);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct run *r = arg;
    if (r->interrupted) /* a second signal: stop waiting */
        exit(128 + (int)sig);
    r->interrupted = (int)sig; /* the exit status says which: 128 + sig */
    for (unsigned i = 0; i < r->n; i++)
        lt_worker_stop(r->w[i]);
}

/* Raises the open-files limit as far as allowed; fails when -c cannot fit. */
static int fit_fd_limit(const lt_opts *o, uint64_t conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* One socket per connection (two while Happy Eyeballs races), plus
     * the threads' pipes and a margin for files, DNS and the loop. */
    rlim_t need = (rlim_t)conns + 8u * o->threads + 64u;
    if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur) {
        fprintf(stderr,
                PROG ": --connections %llu needs about %llu file descriptors; the limit is %llu\n",
                (unsigned long long)conns, (unsigned long long)need,
                (unsigned long long)rl.rlim_cur);
        return -1;
    }
    return 0;
}

/* When the workers start (CLOCK_MONOTONIC): a moment from now, or at
 * --start-at. Returns 0, or -1 when --start-at is too far off. */
static int start_time(const lt_opts *o, uint64_t *t0)
{
    uint64_t mono = lt_now_us(), unix_now = lt_unix_us();
    *t0 = mono + 20000;
    if (o->start_at_us == 0)
        return 0;
    if (o->start_at_us > unix_now + 86400ull * 1000000u) {
        fprintf(stderr, PROG ": --start-at is more than a day away\n");
        return -1;
    }
    if (o->start_at_us < unix_now) {
        fprintf(stderr,
                PROG ": warning: --start-at was %.3f s ago; starting now (the shards' start skew "
                     "will show it)\n",
                (double)(unix_now - o->start_at_us) / 1e6);
        return 0;
    }
    *t0 = mono + (o->start_at_us - unix_now);
    return 0;
}

/* --script: the main thread's state runs setup(thread) for each thread,
 * then each thread's state init(args). */
static int script_setup(struct run *r)
{
    char err[600];
    r->script = lt_script_new(r->o, 1, err, sizeof err);
    for (unsigned i = 0; r->script && i < r->n; i++)
        if (lt_script_setup(r->script, lt_worker_script(r->w[i]), err, sizeof err) != 0) {
            fprintf(stderr, PROG ": --script %s: %s\n", r->o->script_path, err);
            return -1;
        }
    for (unsigned i = 0; r->script && i < r->n; i++) {
        if (lt_script_init(lt_worker_script(r->w[i]), err, sizeof err) != 0) {
            fprintf(stderr, PROG ": --script %s: %s\n", r->o->script_path, err);
            return -1;
        }
        lt_worker_script_ready(r->w[i]);
    }
    if (r->script == NULL)
        fprintf(stderr, PROG ": --script: %s\n", err);
    return r->script ? 0 : -1;
}

static int start_workers(struct run *r)
{
    const lt_opts *o = r->o;
    char err[512];
    r->n = o->threads;
    r->w = calloc(r->n, sizeof *r->w);
    if (r->w == NULL)
        return -1;
    uint64_t t0;
    if (start_time(o, &t0) != 0)
        return -1;
    r->t0 = r->last_t = t0;
    uint64_t conns = lt_share_of(o->conns, o->shard_index, o->shard_count);
    uint64_t total = lt_share_of(o->total, o->shard_index, o->shard_count);
    for (unsigned i = 0; i < r->n; i++) {
        lt_share sh = {
            .idx = i,
            .of = r->n,
            .shard = o->shard_index,
            .shards = o->shard_count,
            .conns = (unsigned)lt_share_of(conns, i, r->n),
            .total = lt_share_of(total, i, r->n),
            .t0_us = t0,
            /* Hold mode's workers start -d themselves, once every
             * connection is made or has failed. */
            .end_us = o->duration_us && o->mode != LT_MODE_HOLD ? t0 + o->duration_us : 0,
            .done_fd = r->done_fd[1],
        };
        r->w[i] = lt_worker_new(o, &sh, err, sizeof err);
        if (r->w[i] == NULL) {
            fprintf(stderr, PROG ": %s\n", err);
            return -1;
        }
    }
    if (o->script_path && script_setup(r) != 0)
        return -1;
    if (o->session_file) {
        int loaded = 0, refused = 0;
        for (unsigned i = 0; i < r->n; i++) {
            int n = lt_worker_sessions_loaded(r->w[i]);
            loaded += n > 0 ? n : 0;
            refused |= n < 0;
        }
        if (refused)
            fprintf(stderr,
                    PROG ": ignoring %s: not a session file of this build, or not the user's own "
                         "with mode 0600\n",
                    o->session_file);
        else if (loaded > 0)
            fprintf(stderr, PROG ": %d session%s loaded from %s, shared between %u thread%s\n",
                    loaded, loaded == 1 ? "" : "s", o->session_file, r->n, r->n == 1 ? "" : "s");
    }
    /* The baseline for memory per connection: with the workers made (their
     * TLS configuration built, loops, resolvers and slots), so that the
     * fixed cost is not spread over the connections. */
    r->rss_base_kb = rss_kb();
    for (unsigned i = 0; i < r->n; i++) {
        int rc = lt_worker_start(r->w[i]);
        if (rc != 0) {
            fprintf(stderr, PROG ": cannot start a thread: %s\n", strerror(rc));
            return -1;
        }
    }
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const lt_logrec *x = a, *y = b;
    return x->start_us < y->start_us ? -1 : x->start_us > y->start_us;
}

/* --log-file, after the run: every thread's records, by start time. */
static int write_log(const struct run *r, const char *path)
{
    size_t total = 0;
    uint64_t dropped = 0;
    for (unsigned i = 0; i < r->n; i++) {
        size_t n;
        uint64_t d;
        lt_worker_log(r->w[i], &n, &d);
        total += n;
        dropped += d;
    }
    lt_logrec *all = malloc((total ? total : 1) * sizeof *all);
    FILE *f = fopen(path, "we");
    if (all == NULL || f == NULL) {
        fprintf(stderr, PROG ": --log-file: cannot write '%s': %s\n", path, strerror(errno));
        free(all);
        if (f)
            fclose(f);
        return -1;
    }
    size_t at = 0;
    for (unsigned i = 0; i < r->n; i++) {
        size_t n;
        uint64_t d;
        const lt_logrec *l = lt_worker_log(r->w[i], &n, &d);
        if (n)
            memcpy(all + at, l, n * sizeof *l);
        at += n;
    }
    qsort(all, total, sizeof *all, by_start);
    /* The error column names what the summary counts: a 4xx or 5xx answer
     * is the HTTP_STATUS error there, so here too. */
    for (size_t i = 0; i < total; i++)
        fprintf(f, "%llu\t%d\t%s\t%u\n", (unsigned long long)all[i].start_us, all[i].status,
                all[i].err             ? evtls_err_name(all[i].err)
                : all[i].status >= 400 ? "HTTP_STATUS"
                                       : "-",
                all[i].total_us);
    free(all);
    if (fclose(f) != 0) {
        fprintf(stderr, PROG ": --log-file: cannot write '%s'\n", path);
        return -1;
    }
    if (dropped)
        fprintf(stderr, PROG ": --log-file: %llu operations past the %d a thread not written\n",
                (unsigned long long)dropped, LT_LOG_MAX);
    return 0;
}

static void free_run(struct run *r)
{
    for (unsigned i = 0; r->w && i < r->n; i++) {
        if (r->w[i])
            lt_worker_stop(r->w[i]);
        lt_worker_free(r->w[i]);
    }
    free(r->w);
    lt_script_free(r->script); /* with the threads' states (unless the result took it) */
    lt_metrics_free(r->metrics);
    struct event *evs[] = {r->tick, r->done_ev, r->sig_int, r->sig_term};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i])
            event_free(evs[i]);
    if (r->base)
        event_base_free(r->base);
    for (int i = 0; i < 2; i++)
        if (r->done_fd[i] >= 0)
            close(r->done_fd[i]);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void lt_run_out_free(lt_run_out *out)
{
    if (out->total) {
        lt_stats_free(out->total);
        free(out->total);
    }
    free(out->fingerprint);
    lt_script_free(out->script);
    for (unsigned i = 0; out->targets && i < out->n_targets; i++)
        lt_stats_free(&out->targets[i]);
    free(out->targets);
    free(out->target_info);
    memset(out, 0, sizeof *out);
}

/* --targets: every thread's counters of each target, added up, and what
 * each target is. Returns 0 or -1 when out of memory. */
static int merge_targets(const lt_opts *o, struct run *r, lt_run_out *out)
{
    if (o->targets == NULL)
        return 0;
    unsigned n = o->targets->n;
    out->targets = calloc(n, sizeof *out->targets);
    out->target_info = calloc(n, sizeof *out->target_info);
    if (out->targets == NULL || out->target_info == NULL)
        return -1;
    out->n_targets = n;
    for (unsigned t = 0; t < n; t++) {
        const lt_target *tg = &o->targets->t[t];
        lt_stats_init(&out->targets[t]);
        out->target_info[t] = (lt_target_info){tg->name,
                                               tg->method ? tg->method
                                               : tg->body ? "POST"
                                                          : "GET",
                                               tg->url, tg->weight};
        for (unsigned i = 0; i < r->n; i++)
            lt_stats_merge(&out->targets[t], lt_worker_target_stats(r->w[i], t));
    }
    return 0;
}

int lt_run(const lt_opts *o, const char *command, lt_run_out *out)
{
    memset(out, 0, sizeof *out);
    struct run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.done_fd[0] = r.done_fd[1] = -1;
    uint64_t conns_here = lt_share_of(o->conns, o->shard_index, o->shard_count);
    if (fit_fd_limit(o, conns_here) != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    /* The library logs each connection; thousands a second would cost more
     * than the load itself. Its failures are counted and summarised here
     * instead (EVTLS_LOG=warn or debug brings the lines back). */
    if (getenv("EVTLS_LOG") == NULL)
        evtls_log_set_level(EVTLS_LOG_ERROR);
    r.progress = !o->no_progress && isatty(STDOUT_FILENO);
    if (o->series_out) {
        int out_is_stdout = strcmp(o->series_out, "-") == 0;
        r.series = out_is_stdout ? stdout : fopen(o->series_out, "we");
        if (r.series == NULL) {
            fprintf(stderr, PROG ": --series-out: cannot write '%s': %s\n", o->series_out,
                    strerror(errno));
            return 1;
        }
        if (out_is_stdout)
            r.progress = 0; /* stdout is the series' */
    }
    r.base = event_base_new();
    if (r.base == NULL || pipe2(r.done_fd, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, PROG ": cannot set up the main loop\n");
        free_run(&r);
        return 1;
    }
    r.done_ev = event_new(r.base, r.done_fd[0], EV_READ | EV_PERSIST, done_cb, &r);
    r.tick = event_new(r.base, -1, EV_PERSIST, tick_cb, &r);
    r.sig_int = evsignal_new(r.base, SIGINT, signal_cb, &r);
    r.sig_term = evsignal_new(r.base, SIGTERM, signal_cb, &r);
    struct timeval tick = {0, 100000};
    event_add(r.done_ev, NULL);
    event_add(r.tick, &tick);
    event_add(r.sig_int, NULL);
    event_add(r.sig_term, NULL);
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    /* Monotonic time maps to the wall clock through one reading of both. */
    uint64_t mono0 = lt_now_us(), unix0 = lt_unix_us();
    if (start_workers(&r) != 0) {
        free_run(&r);
        return 2;
    }
    if (o->metrics_listen) {
        char err[160];
        r.metrics = lt_metrics_new(r.base, o->metrics_listen, fill_metrics, &r, err, sizeof err);
        if (r.metrics == NULL) {
            fprintf(stderr, PROG ": %s\n", err);
            free_run(&r);
            return 2;
        }
    }
    event_base_dispatch(r.base);
    uint64_t t_end = lt_now_us();
    if (r.progress)
        printf("\r\033[K");
    if (o->mode == LT_MODE_HOLD)
        watch_held(&r);

    out->total = malloc(sizeof *out->total);
    if (out->total == NULL) {
        free_run(&r);
        return 1;
    }
    lt_stats_init(out->total);
    uint64_t unfinished = 0;
    for (unsigned i = 0; i < r.n; i++) {
        lt_worker_join(r.w[i]);
        if (lt_stats_merge(out->total, lt_worker_stats(r.w[i])) != 0)
            fprintf(stderr, PROG ": out of memory for the per-second series\n");
        unfinished += lt_worker_unfinished(r.w[i]);
    }
    if (merge_targets(o, &r, out) != 0)
        fprintf(stderr, PROG ": out of memory for the targets' figures\n");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (o->session_file)
        save_sessions(&r);
    if (r.metrics && o->metrics_linger_us) { /* the final figures, for a last scrape */
        struct timeval tv = {(time_t)(o->metrics_linger_us / 1000000),
                             (suseconds_t)(o->metrics_linger_us % 1000000)};
        event_del(r.tick);
        event_base_loopexit(r.base, &tv);
        event_base_dispatch(r.base);
    }
    if (r.series) { /* the seconds not written live, from the merged series (exact) */
        size_t n = out->total->n_series;
        while (n > 0 && out->total->series[n - 1].ops == 0)
            n--;
        for (uint64_t sec = r.series_next; sec < n; sec++) {
            const lt_second *s = &out->total->series[sec];
            series_line(r.series, sec, s->ops, s->errors, s->slot ? lt_second_percentile(s, 50) : 0,
                        s->slot ? lt_second_percentile(s, 99) : 0);
        }
        if (r.series != stdout)
            fclose(r.series);
        r.series = NULL;
    }
    /* The run counts from its scheduled start (the open loop's schedule
     * and latencies count from it too), or with --warm-up from the end of
     * the last warm-up. When the last thread actually began is kept apart:
     * the shards' start skew is measured with it. */
    uint64_t t_from = r.t0, began = r.t0;
    for (unsigned i = 0; i < r.n; i++) {
        if (lt_worker_began(r.w[i]) > began)
            began = lt_worker_began(r.w[i]);
        if (lt_worker_warm_end(r.w[i]) > t_from)
            t_from = lt_worker_warm_end(r.w[i]);
    }
    if (gethostname(out->host, sizeof out->host - 1) != 0)
        snprintf(out->host, sizeof out->host, "unknown");
    out->fingerprint = lt_fingerprint(o);
    out->res = (lt_result){
        .o = o,
        .st = out->total,
        .elapsed_s = t_end > t_from ? (double)(t_end - t_from) / 1e6 : 0,
        .cpu_user_s = tv_s(ru.ru_utime) - tv_s(ru0.ru_utime),
        .cpu_sys_s = tv_s(ru.ru_stime) - tv_s(ru0.ru_stime),
        .rss_base_kb = r.rss_base_kb,
        .rss_peak_kb = ru.ru_maxrss,
        .rss_held_kb = r.rss_held_kb,
        .kib_per_held = -1,
        .held = r.held_max,
        .unfinished = unfinished,
        .interrupted = r.interrupted,
        .aborted = r.aborted,
        .shard_index = o->shard_index,
        .shard_count = o->shard_count,
        .host = out->host,
        .start_unix_us = unix0 + (t_from - mono0),
        .began_unix_us = unix0 + (began - mono0),
        .end_unix_us = unix0 + (t_end - mono0),
        .series_start_unix_us = unix0 + (r.t0 - mono0),
        .fingerprint = out->fingerprint,
        .conns_here = conns_here,
        .command = command,
        .targets = out->targets,
        .target_info = out->target_info,
        .n_targets = out->n_targets,
    };
    /* Memory per held connection: the slope of resident memory against
     * the connections held, over the ramp's samples (every 100 ms), so that
     * the fixed costs (the workers, each thread's first use) are apart,
     * whatever -c is. Only with a ramp: without one every connection's
     * memory is taken at the start, before any is held. */
    double den = r.fit_n * r.fit_xx - r.fit_x * r.fit_x;
    if (o->ramp_us > 0 && r.fit_n >= 3 && r.held_max >= 2 * r.fit_lo && den > 0) {
        double slope = (r.fit_n * r.fit_xy - r.fit_x * r.fit_y) / den;
        out->res.kib_per_held = slope;
        out->res.fixed_kib = (r.fit_y - slope * r.fit_x) / r.fit_n - (double)r.rss_base_kb;
        out->res.fit_from = r.fit_lo;
    }
    int rc = 0;
    if (o->log_file && write_log(&r, o->log_file) != 0)
        rc = 1;
    out->script = r.script; /* done() runs after the summary */
    out->script_failed = r.script_failed;
    r.script = NULL;
    free_run(&r);
    if (rc != 0)
        lt_run_out_free(out);
    return rc;
}

/* Writes r to path with write (- is stdout); returns 0 or 1. */
static int write_file(const char *path, const char *option, const lt_result *r,
                      void (*write)(FILE *f, const lt_result *r))
{
    if (strcmp(path, "-") == 0) {
        write(stdout, r);
        return fflush(stdout) != 0;
    }
    FILE *f = fopen(path, "we");
    if (f == NULL) {
        fprintf(stderr, PROG ": %s: cannot write '%s': %s\n", option, path, strerror(errno));
        return 1;
    }
    write(f, r);
    if (fclose(f) != 0) {
        fprintf(stderr, PROG ": %s: cannot write '%s'\n", option, path);
        return 1;
    }
    return 0;
}

int lt_conclude(const lt_result *r, const lt_opts *o, const char *json_path, const char *html_path)
{
    const lt_stats *total = r->st;
    const lt_result *out = r;
    int th_failed = 0;
    /* --json - (or --html -): that on stdout, the text summary on stderr. */
    int to_stdout = (json_path && strcmp(json_path, "-") == 0) ||
                    (html_path && strcmp(html_path, "-") == 0) ||
                    (o->series_out && strcmp(o->series_out, "-") == 0);
    FILE *text = to_stdout ? stderr : stdout;
    lt_report_text(text, r);
    int status = 0;
    if (json_path)
        status |= write_file(json_path, "--json", r, lt_report_json);
    if (html_path)
        status |= write_file(html_path, "--html", r, lt_report_html);
    for (unsigned i = 0; i < o->n_thresholds; i++) {
        const struct lt_threshold *t = &o->thresholds[i];
        double v;
        int met = lt_threshold_eval_result(out, t, &v);
        if (met < 0)
            fprintf(text, "threshold %s: NOT met (no sample)\n", t->text);
        else
            fprintf(text, "threshold %s: %s (%.*f%s)\n", t->text, met ? "met" : "NOT met",
                    t->kind == LT_TH_LATENCY ? 3
                    : t->kind == LT_TH_RPS   ? 1
                                             : 4,
                    v, lt_threshold_unit(t));
        if (met != 1)
            th_failed = 1;
    }
    /* A client at the end of its CPU measures itself, not the server (a
     * merged result's CPU is every shard's over their threads). */
    double cpu = r->cpu_user_s + r->cpu_sys_s, avail = r->elapsed_s * o->threads;
    if (r->shard_index != LT_MERGED && avail > 0.5 && cpu / avail >= 0.9)
        fprintf(stderr,
                PROG ": warning: the client used %.0f %% of its %u thread%s' CPU time: it may "
                     "be the bottleneck, not the server (try -t)\n",
                100 * cpu / avail, o->threads, o->threads == 1 ? "" : "s");
    uint64_t errors = total->ops_failed;
    if (errors > o->max_errors) {
        fprintf(stderr, PROG ": %llu errors, more than --max-errors %llu\n",
                (unsigned long long)errors, (unsigned long long)o->max_errors);
        status = 1;
    } else if (total->ops_ok == 0 && !r->interrupted) {
        fprintf(stderr, PROG ": no operation succeeded\n");
        status = 1;
    }
    /* a failed threshold says so apart (k6's exit 99; 3 here), unless the
     * run could not be made at all */
    if (th_failed && status == 0)
        status = 3;
    return status;
}
