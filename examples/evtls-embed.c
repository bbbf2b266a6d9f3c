/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls-embed - the smallest real embedding of evtls.
 *
 * An application that already runs its own libevent loop (here: one with a
 * start-up timer) opens a TLS connection through evtls, sends one request,
 * prints the answer and closes gracefully. Nothing blocks the loop.
 *
 *   evtls-embed HOST PORT [CA_FILE]
 */
#include <event2/event.h>
#include <evtls/evtls.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct app {
    struct event_base *base;
    evtls_cfg *cfg;
    const char *host;
    uint16_t port;
    int status; /* process exit status */
};

static void on_closed(evtls_conn *c, int err, void *arg)
{
    (void)c;
    struct app *app = arg;
    printf("connection closed%s%s\n", err ? ": " : "", err ? evtls_strerror(err) : "");
    event_base_loopexit(app->base, NULL);
}

static void on_data(evtls_conn *c, const uint8_t *data, ssize_t n, void *arg)
{
    struct app *app = arg;
    if (n > 0) {
        fwrite(data, 1, (size_t)n, stdout);
        return;
    }
    if (n != EVTLS_EOF) {
        fprintf(stderr, "read failed: %s\n", evtls_strerror((int)n));
        app->status = 1;
    }
    /* Done either way: send close_notify and let the loop finish. */
    if (evtls_conn_close(c, on_closed, app) != 0)
        event_base_loopexit(app->base, NULL);
}

static void on_connected(evtls_conn *c, int err, void *arg)
{
    struct app *app = arg;
    if (err) {
        char buf[400];
        fprintf(stderr, "connect failed: %s\n",
                evtls_last_error_format(evtls_conn_get_last_error(c), buf, sizeof buf));
        app->status = 1;
        evtls_conn_free(c);
        event_base_loopexit(app->base, NULL);
        return;
    }
    const evtls_conn_info *i = evtls_conn_get_info(c);
    printf("connected to %s (IPv%d) with %s %s in %.1f ms\n", i->peer_addr, i->family,
           i->tls_version, i->cipher, (double)i->total_us / 1000.0);
    char req[512];
    snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", app->host);
    if (evtls_conn_write(c, req, strlen(req)) != 0 || evtls_conn_read_start(c, on_data, app) != 0) {
        app->status = 1;
        evtls_conn_free(c);
        event_base_loopexit(app->base, NULL);
    }
}

/* The application's own timer: it decides when to connect. */
static void on_start(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct app *app = arg;
    evtls_conn *c = evtls_conn_new(app->base, app->cfg);
    if (c == NULL || evtls_conn_connect(c, app->host, app->port, on_connected, app) != 0) {
        fprintf(stderr, "cannot start a connection\n");
        evtls_conn_free(c);
        app->status = 1;
        event_base_loopexit(app->base, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3 || atoi(argv[2]) <= 0 || atoi(argv[2]) > 65535) {
        fprintf(stderr, "usage: %s HOST PORT [CA_FILE]\n", argv[0]);
        return 2;
    }
    struct app app = {.host = argv[1], .port = (uint16_t)atoi(argv[2])};
    app.base = event_base_new();
    app.cfg = evtls_cfg_new();
    if (argc > 3 && evtls_cfg_set_ca_file(app.cfg, argv[3]) != 0)
        return 2;
    if (evtls_cfg_build(app.cfg) != 0) {
        char buf[400];
        fprintf(stderr, "bad configuration: %s\n",
                evtls_last_error_format(evtls_cfg_get_last_error(app.cfg), buf, sizeof buf));
        return 2;
    }
    struct event *start = evtimer_new(app.base, on_start, &app);
    struct timeval soon = {0, 1000};
    evtimer_add(start, &soon);
    event_base_dispatch(app.base);
    event_free(start);
    evtls_cfg_unref(app.cfg);
    event_base_free(app.base);
    return app.status;
}
