/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls-foreign-loop - evtls from an application with its own poll(2) loop
 * and no libevent calls of its own (esp_transport_connect_async's shape,
 * done so that the application sleeps).
 *
 * Every URL gets a connection on its own private event_base. The loop asks
 * each connection what it waits on (evtls_conn_poll_fds while connecting:
 * every racing socket and the resolver's; the want of evtls_conn_send and
 * evtls_conn_recv after) and the time to its next deadline, sleeps in one
 * poll(2) for all of them, and lets each connection go on when it wakes.
 * No fixed-interval wake-ups: a handshake that waits 10 s on a silent peer
 * costs a handful of waits, not one per few milliseconds.
 *
 *   evtls-foreign-loop [--cacert FILE] [--handshake-timeout MS] [--count-waits] URL...
 *
 * Prints one line per URL: the URL, then the response's status code or the
 * error's name (e.g. HANDSHAKE_TIMEOUT). Exits 0 when every URL got a
 * response, 1 otherwise, 2 on bad usage. --count-waits prints the number
 * of poll(2) calls on stderr at the end. */
#include <evtls/evtls.h>
#include <evtls/http.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_URLS 64
#define MAX_FDS  16 /* per connection: racing attempts and the resolver */

enum phase { CONNECTING, SENDING, RECEIVING, DONE };

struct job {
    const char *text;
    evtls_url url;
    evtls_conn *c;
    enum phase phase;
    char req[1024];
    size_t req_len;
    char head[64]; /* the status line, as far as it came */
    size_t head_len;
    evtls_want want; /* what SENDING / RECEIVING waits on */
    int ok;
};

static void finish(struct job *j, const char *result, int ok)
{
    printf("%s %s\n", j->text, result);
    fflush(stdout);
    j->ok = ok;
    j->phase = DONE;
    evtls_conn_free(j->c);
    j->c = NULL;
}

static void fail(struct job *j, int err)
{
    finish(j, evtls_err_name(err), 0);
}

/* Takes a job as far as it goes without waiting. */
static void step(struct job *j)
{
    if (j->phase == CONNECTING) {
        int rc = evtls_conn_connect_poll(j->c, j->url.host, j->url.port, NULL);
        if (rc < 0) {
            fail(j, evtls_conn_get_last_error(j->c)->code);
            return;
        }
        if (rc == 0)
            return;
        j->phase = SENDING;
    }
    if (j->phase == SENDING) {
        ssize_t n = evtls_conn_send(j->c, j->req, j->req_len, &j->want);
        if (n == EVTLS_ERR_WOULDBLOCK)
            return;
        if (n < 0) {
            fail(j, (int)n);
            return;
        }
        j->phase = RECEIVING;
    }
    while (j->phase == RECEIVING) {
        char buf[4096];
        ssize_t n = evtls_conn_recv(j->c, buf, sizeof buf, &j->want);
        if (n == EVTLS_ERR_WOULDBLOCK)
            return;
        if (n <= 0) {
            fail(j, n == 0 || n == EVTLS_EOF ? EVTLS_ERR_HTTP_TRUNCATED : (int)n);
            return;
        }
        size_t take = (size_t)n < sizeof j->head - 1 - j->head_len
                          ? (size_t)n
                          : sizeof j->head - 1 - j->head_len;
        memcpy(j->head + j->head_len, buf, take);
        j->head_len += take;
        j->head[j->head_len] = '\0';
        char *eol = strstr(j->head, "\r\n");
        if (eol == NULL && j->head_len < sizeof j->head - 1)
            continue; /* the status line is not complete yet */
        int status = 0;
        if (eol == NULL || sscanf(j->head, "HTTP/1.%*d %3d", &status) != 1 || status < 100) {
            fail(j, EVTLS_ERR_HTTP_MALFORMED);
            return;
        }
        char code[16];
        snprintf(code, sizeof code, "%d", status);
        finish(j, code, 1);
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: evtls-foreign-loop [--cacert FILE] [--handshake-timeout MS] "
                    "[--count-waits] URL...\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *cacert = NULL;
    long hs_ms = 0;
    int count_waits = 0, n = 0;
    static struct job jobs[MAX_URLS];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cacert") == 0 && i + 1 < argc) {
            cacert = argv[++i];
        } else if (strcmp(argv[i], "--handshake-timeout") == 0 && i + 1 < argc) {
            char *end;
            hs_ms = strtol(argv[++i], &end, 10);
            if (*end || hs_ms <= 0 || hs_ms > 3600000)
                return usage();
        } else if (strcmp(argv[i], "--count-waits") == 0) {
            count_waits = 1;
        } else if (argv[i][0] == '-' || n == MAX_URLS) {
            return usage();
        } else {
            struct job *j = &jobs[n++];
            j->text = argv[i];
            if (evtls_url_parse(argv[i], 0, &j->url) != 0) {
                fprintf(stderr, "evtls-foreign-loop: %s: %s\n", argv[i], j->url.error);
                return 2;
            }
            if (j->url.plain) { /* one TLS configuration serves every URL here */
                fprintf(stderr, "evtls-foreign-loop: %s: https:// URLs only\n", argv[i]);
                return 2;
            }
            /* Built apart, then copied: the URL's parts live in the same job. */
            char req[sizeof j->req];
            int len = snprintf(req, sizeof req,
                               "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                               j->url.target, j->url.authority);
            if (len < 0 || (size_t)len >= sizeof req) {
                fprintf(stderr, "evtls-foreign-loop: %s: too long for a request line\n", argv[i]);
                return 2;
            }
            j->req_len = (size_t)len;
            memcpy(j->req, req, j->req_len);
        }
    }
    if (n == 0)
        return usage();
    evtls_cfg *cfg = evtls_cfg_new();
    if (cfg == NULL || (cacert && evtls_cfg_set_ca_file(cfg, cacert) != 0) ||
        (hs_ms && evtls_cfg_set_timeout(cfg, EVTLS_TIMEOUT_HANDSHAKE, (unsigned)hs_ms) != 0) ||
        evtls_cfg_build(cfg) != 0) {
        fprintf(stderr, "evtls-foreign-loop: bad configuration: %s\n",
                cfg ? evtls_cfg_get_last_error(cfg)->detail : "out of memory");
        evtls_cfg_unref(cfg);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        struct job *j = &jobs[i];
        j->c = evtls_conn_new(NULL, cfg); /* NULL: a private event_base of its own */
        if (j->c == NULL)
            finish(j, "NOMEM", 0);
    }
    unsigned long waits = 0;
    for (;;) {
        struct pollfd pfd[MAX_URLS * MAX_FDS];
        int nfd = 0, timeout = -1, active = 0;
        for (int i = 0; i < n; i++) {
            struct job *j = &jobs[i];
            if (j->phase != DONE)
                step(j);
            if (j->phase == DONE)
                continue;
            active++;
            evtls_poll_fd fds[MAX_FDS];
            int t = -1, k = 0;
            if (j->phase == CONNECTING) {
                k = evtls_conn_poll_fds(j->c, fds, MAX_FDS, &t);
                k = k > MAX_FDS ? MAX_FDS : k < 0 ? 0 : k;
            } else {
                fds[0] = (evtls_poll_fd){j->want.fd, j->want.events};
                k = j->want.fd >= 0;
                t = j->want.timeout_ms;
            }
            for (int f = 0; f < k; f++)
                pfd[nfd++] =
                    (struct pollfd){fds[f].fd,
                                    (short)(((fds[f].events & EVTLS_WANT_READ) ? POLLIN : 0) |
                                            ((fds[f].events & EVTLS_WANT_WRITE) ? POLLOUT : 0)),
                                    0};
            if (t >= 0 && (timeout < 0 || t < timeout))
                timeout = t;
        }
        if (active == 0)
            break;
        poll(pfd, (nfds_t)nfd, timeout); /* sleeps until a socket or a deadline */
        waits++;
    }
    int all_ok = 1;
    for (int i = 0; i < n; i++)
        all_ok &= jobs[i].ok;
    if (count_waits)
        fprintf(stderr, "evtls-foreign-loop: %lu waits\n", waits);
    evtls_cfg_unref(cfg);
    return all_ok ? 0 : 1;
}
