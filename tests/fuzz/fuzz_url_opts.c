/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_url_opts.c - libFuzzer harness for what users type: URLs
 * (evtls_url_parse, as evtls-poll and evtls-load take them), a redirect's
 * Location resolved against one (evtls__redirect_resolve), and
 * evtls-load's whole command line (lt_opts_parse, pure), plus durations.
 *
 * Input: NUL-separated strings. The first is parsed as a URL, bare
 * HOST:PORT allowed or not by its length's parity, the second resolved
 * against it as a Location; all of them, after a program name, are the
 * command line, but the last of two or more, which is parsed as a
 * --targets file (lt_targets_parse, pure) and, when the command line asked
 * for one, taken by it; the weighted draw is checked exact over a cycle;
 * and as a --script's request bytes (lt_raw_req_parse, pure). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <evtls/http.h>

#include "evtls_redirect.h"
#include "fuzz_text.h"
#include "lt_opts.h"
#include "lt_script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static void check_url(const char *text, int allow_bare, const char *location)
{
    evtls_url u;
    int rc = evtls_url_parse(text, allow_bare, &u);
    if (rc == 0) {
        if (u.port == 0 || u.host[0] == '\0')
            abort(); /* a parsed URL always names a host and a port */
        char next[EVTLS_URL_HOST_MAX + EVTLS_URL_TARGET_MAX + 24];
        if (location && evtls__redirect_resolve(&u, location, next, sizeof next) == 0) {
            evtls_url n;
            int r2 = evtls_url_parse(next, 0, &n);
            if (r2 != 0 && r2 != EVTLS_ERR_BAD_URL && r2 != EVTLS_ERR_INVALID_ARG)
                abort();
            /* A path reference stays on the base's origin. */
            if (r2 == 0 && location[0] == '/' && location[1] != '/' &&
                evtls__redirect_cross_origin(&u, &n))
                abort();
        }
    } else if (rc != EVTLS_ERR_BAD_URL && rc != EVTLS_ERR_INVALID_ARG) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = fuzz_text(data, size); /* the parsers take C strings */
    if (buf == NULL)
        return 0;
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "evtls-load";
    for (size_t off = 0; off <= size && argc <= MAX_ARGS; off += strlen(buf + off) + 1)
        argv[argc++] = buf + off;
    argv[argc] = NULL;
    check_url(argv[1], strlen(argv[1]) & 1, argc > 2 ? argv[2] : NULL);
    uint64_t us;
    for (int i = 1; i < argc; i++)
        if (lt_parse_duration(argv[i], &us) == 0 && us > UINT64_MAX / 2)
            abort();
    lt_opts o;
    char err[512];
    err[0] = '\0';
    /* The last string is a --targets file's text; the others the command
     * line (all of them when there is one). */
    const char *ttext = argv[argc - 1];
    if (argc > 2)
        argv[--argc] = NULL;
    int rc = lt_opts_parse(argc, argv, &o, err, sizeof err);
    if (rc == 0) {
        if (o.conns == 0 || o.threads == 0 || o.n_addrs > LT_MAX_ADDRS ||
            o.n_headers > LT_MAX_HEADERS || (o.tls.tls_min != 12 && o.tls.tls_min != 13))
            abort(); /* accepted options are always usable */
    } else if (rc != 1 && (rc != -1 || err[0] == '\0')) {
        abort(); /* a refusal always says why */
    }
    /* The last string as a --targets file; a parsed one taken by the
     * command line when that asked for a targets file. */
    static lt_targets ts;
    err[0] = '\0';
    int trc = lt_targets_parse(ttext, strlen(ttext), &ts, err, sizeof err);
    if (trc == 0) {
        if (ts.n == 0 || ts.n > LT_MAX_TARGETS)
            abort();
        for (unsigned i = 0; i < ts.n; i++)
            if (ts.t[i].url == NULL || ts.t[i].name == NULL || ts.t[i].weight == 0)
                abort(); /* a parsed target has a URL, a name and a weight */
        if (rc == 0 && o.targets_path) {
            err[0] = '\0';
            if (lt_opts_use_targets(&o, &ts, err, sizeof err) != 0 && err[0] == '\0')
                abort();
        }
        lt_draw d;
        unsigned idx[LT_MAX_TARGETS], w[LT_MAX_TARGETS], seen[LT_MAX_TARGETS] = {0};
        for (unsigned i = 0; i < ts.n; i++)
            idx[i] = i, w[i] = ts.t[i].weight;
        if (lt_draw_init(&d, idx, w, ts.n, (uint64_t)size) == 0) {
            for (uint64_t g = 0; g < d.W; g++)
                seen[lt_draw_at(&d, g + d.W * 3)]++;
            for (unsigned i = 0; i < ts.n; i++)
                if (seen[i] != w[i])
                    abort(); /* a whole cycle holds each target its weight's times */
            lt_draw_free(&d);
        }
    } else if (err[0] == '\0') {
        abort();
    }
    lt_targets_free(&ts);
    /* and as a script's request bytes (wrk.format's, one or several) */
    size_t tl = strlen(ttext), off = 0;
    char *raw = malloc(tl + 1);
    if (raw) {
        memcpy(raw, ttext, tl + 1);
        lt_raw_req q;
        while (off < tl && lt_raw_req_parse(raw + off, tl - off, &q, err, sizeof err) == 0) {
            if (q.used == 0 || q.used > tl - off || q.method[0] == '\0' || q.target == NULL)
                abort(); /* each request parsed takes some bytes, has a method and a path */
            off += q.used;
        }
        free(raw);
    }
    free(buf);
    return 0;
}
