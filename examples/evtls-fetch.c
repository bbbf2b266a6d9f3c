/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls-fetch.c - several URLs through one client (evtls/client.h): every
 * request at once on one event_base, connections pooled and reused, the
 * keep-alive race retried. Prints one line per URL, in the order given:
 *
 *   URL STATUS BODY-BYTES [retried]      or      URL ERROR-NAME: detail
 *
 * Exit status 0 when every URL got a response, 1 otherwise, 2 for bad
 * usage.
 *
 *   evtls-fetch [--cacert FILE] [--deadline MS] URL...
 */
#include <event2/event.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evtls/evtls.h>

struct job {
    const char *url;
    char line[512];
    int ok;
};

static int pending;

static void on_fetched(int err, const evtls_http_resp *r, const evtls_fetch_info *info, void *arg)
{
    struct job *j = arg;
    if (err == 0) {
        snprintf(j->line, sizeof j->line, "%s %d %llu%s", j->url, evtls_http_resp_get_status(r),
                 (unsigned long long)evtls_http_resp_get_body_bytes(r),
                 info->retried ? " retried" : "");
        j->ok = 1;
    } else {
        snprintf(j->line, sizeof j->line, "%s %s: %s", j->url, evtls_err_name(err),
                 info->error && info->error->detail[0] ? info->error->detail : evtls_strerror(err));
    }
    pending--;
}

int main(int argc, char **argv)
{
    const char *cacert = NULL;
    unsigned deadline = 0;
    int first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
        if (first + 1 >= argc) {
            fprintf(stderr, "evtls-fetch: %s needs a value\n", argv[first]);
            return 2;
        }
        if (strcmp(argv[first], "--cacert") == 0)
            cacert = argv[first + 1];
        else if (strcmp(argv[first], "--deadline") == 0)
            deadline = (unsigned)strtoul(argv[first + 1], NULL, 10);
        else {
            fprintf(stderr, "evtls-fetch: unknown option '%s'\n", argv[first]);
            return 2;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "usage: evtls-fetch [--cacert FILE] [--deadline MS] URL...\n");
        return 2;
    }
    for (int i = first; i < argc; i++) { /* every URL checked before any request */
        evtls_url u;
        if (evtls_url_parse(argv[i], 0, &u) != 0) {
            fprintf(stderr, "evtls-fetch: %s: %s\n", argv[i], u.error);
            return 2;
        }
    }
    struct event_base *base = event_base_new();
    evtls_cfg *cfg = evtls_cfg_new();
    if (cacert && evtls_cfg_set_ca_file(cfg, cacert) != 0) {
        fprintf(stderr, "evtls-fetch: --cacert: %s\n", evtls_cfg_get_last_error(cfg)->detail);
        return 2;
    }
    evtls_client_opts o;
    evtls_client_opts_default(&o);
    o.deadline_ms = deadline;
    evtls_client *cl = evtls_client_new(base, cfg, &o);
    evtls_cfg_unref(cfg);
    if (cl == NULL) {
        fprintf(stderr, "evtls-fetch: cannot set up the client\n");
        return 2;
    }
    size_t n = (size_t)(argc - first);
    struct job *jobs = n <= 4096 ? calloc(n, sizeof *jobs) : NULL;
    if (jobs == NULL) {
        fprintf(stderr, "evtls-fetch: too many URLs\n");
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        jobs[i].url = argv[first + (int)i];
        evtls_request rq = {.url = jobs[i].url};
        int rc = evtls_client_fetch(cl, &rq, on_fetched, &jobs[i], NULL);
        if (rc != 0) {
            fprintf(stderr, "evtls-fetch: %s: %s\n", jobs[i].url, evtls_strerror(rc));
            return 2;
        }
        pending++;
    }
    while (pending > 0)
        event_base_loop(base, EVLOOP_ONCE);
    int all_ok = 1;
    for (size_t i = 0; i < n; i++) {
        puts(jobs[i].line);
        all_ok &= jobs[i].ok;
    }
    evtls_client_free(cl);
    event_base_free(base);
    free(jobs);
    evtls_thread_cleanup();
    return all_ok ? 0 : 1;
}
