/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_h2_response.c - libFuzzer harness for the HTTP/2 response path: the
 * bytes an HTTP/2 server sends (after its empty SETTINGS) reach a real
 * connection over loopback TCP (prior knowledge, no TLS), whose session
 * (evtls_h2.c over nghttp2) carries three exchanges at once: a GET with a
 * buffered body, a GET whose body goes to a callback, a POST with a body.
 * Then the server's end of the socket closes. Every exchange must end,
 * exactly once, by the library's own doing (data, an error, the end of the
 * stream), and what the response accessors say must hold together; ASan,
 * UBSan and LeakSanitizer watch the rest.
 *
 * Input: the server's bytes, as they go on the wire. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <evtls/evtls.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int listener = -1;
static uint16_t port;
static evtls_cfg *cfg;

static int setup(void)
{
    evtls_log_set_level(EVTLS_LOG_NONE);
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(listener, 16) != 0 || getsockname(listener, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    port = ntohs(sa.sin_port);
    cfg = evtls_cfg_new();
    if (cfg == NULL || evtls_cfg_set_plain_tcp(cfg, 1) != 0 ||
        evtls_cfg_set_http2(cfg, EVTLS_HTTP2_PRIOR_KNOWLEDGE, 0) != 0 ||
        evtls_cfg_set_http2_ping(cfg, 0, 0) != 0 || evtls_cfg_build(cfg) != 0)
        return -1;
    return 0;
}

struct ex {
    int done;
    size_t streamed;
};

static int on_body(evtls_http_exchange *x, const uint8_t *d, size_t n, void *arg)
{
    (void)x;
    struct ex *e = arg;
    if (n > 0 && d == NULL)
        abort();
    e->streamed += n;
    return 0;
}

static void on_done(evtls_http_exchange *x, int err, const evtls_http_resp *r, void *arg)
{
    (void)x;
    struct ex *e = arg;
    if (e->done++)
        abort(); /* once */
    if (err == 0) {
        int status = evtls_http_resp_get_status(r);
        if (status < 200 || status > 999 || strcmp(evtls_http_resp_get_protocol(r), "HTTP/2"))
            abort();
    }
    size_t nh = evtls_http_resp_get_header_count(r);
    for (size_t i = 0; i < nh; i++) {
        const char *n, *v;
        if (evtls_http_resp_get_header(r, i, &n, &v) != 0 || n == NULL || v == NULL)
            abort();
    }
    size_t blen;
    const uint8_t *b = evtls_http_resp_get_body(r, &blen);
    if (blen > 0 && b == NULL)
        abort();
}

static void on_connected(evtls_conn *c, int err, void *arg)
{
    (void)c;
    *(int *)arg = err ? -1 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (listener < 0 && setup() != 0)
        abort();
    struct event_base *base = event_base_new();
    evtls_conn *c = evtls_conn_new(base, cfg);
    int connected = 0;
    if (evtls_conn_connect(c, "127.0.0.1", port, on_connected, &connected) != 0)
        abort();
    while (connected == 0)
        event_base_loop(base, EVLOOP_ONCE);
    int srv = accept(listener, NULL, NULL);
    if (connected < 0 || srv < 0)
        abort();
    /* the server's side: its empty SETTINGS, the input, then its end */
    static const uint8_t settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
    if (write(srv, settings, sizeof settings) != (ssize_t)sizeof settings ||
        (size && write(srv, data, size) != (ssize_t)size))
        abort();
    shutdown(srv, SHUT_WR);

    struct ex e[3] = {{0}};
    evtls_http_opts o;
    evtls_http_opts_default(&o);
    o.max_body_bytes = 4096;
    o.max_header_bytes = 2048;
    evtls_http_cbs buffered = {NULL, NULL, on_done}, streamed = {NULL, on_body, on_done};
    evtls_http_req *get = evtls_http_req_new("GET", "127.0.0.1", "/a");
    evtls_http_req *post = evtls_http_req_new("POST", "127.0.0.1", "/b");
    if (get == NULL || post == NULL || evtls_http_req_set_body(post, "x=1", 3) != 0)
        abort();
    int started = (evtls_http_exchange_start(c, get, &o, &buffered, &e[0], NULL) == 0) +
                  (evtls_http_exchange_start(c, get, &o, &streamed, &e[1], NULL) == 0) +
                  (evtls_http_exchange_start(c, post, &o, &buffered, &e[2], NULL) == 0);
    evtls_http_req_free(get);
    evtls_http_req_free(post);
    /* the server's end closes the connection: every exchange ends */
    while (e[0].done + e[1].done + e[2].done < started)
        event_base_loop(base, EVLOOP_ONCE);
    evtls_conn_free(c);
    close(srv);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    return 0;
}
