/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls-https-server - a small HTTPS server on the same reactor: libevent
 * accepts, wolfSSL_accept runs non-blocking (WANT_READ -> EV_READ,
 * WANT_WRITE -> EV_WRITE), and every request gets a small static page.
 * Keep-alive is honoured; client certificates can be required. It is the
 * local peer that the demo and the examples talk to.
 *
 *   evtls-https-server --cert FILE --key FILE [--addr IP] [--port N]
 *                      [--client-ca FILE] [--idle-timeout MS]
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <event2/event.h>
#include <event2/listener.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_MAX 8192

static const char page[] = "<!DOCTYPE html><html><head><title>evtls</title></head>"
                           "<body><h1>Hello from the evtls demo server</h1></body></html>\n";

struct server {
    struct event_base *base;
    WOLFSSL_CTX *ctx;
    unsigned idle_ms;
    unsigned long served;
};

enum phase { HANDSHAKE, READ_REQUEST, WRITE_RESPONSE, SHUTDOWN };

struct client {
    struct server *srv;
    int fd;
    WOLFSSL *ssl;
    enum phase phase;
    struct event *io, *idle;
    char req[REQ_MAX];
    size_t req_len;
    char resp[1024];
    size_t resp_len;
    int close_after;
};

static void client_free(struct client *c)
{
    event_free(c->io);
    event_free(c->idle);
    wolfSSL_free(c->ssl);
    close(c->fd);
    free(c);
}

static void on_io(evutil_socket_t fd, short what, void *arg);

/* Waits for what wolfSSL needs next. */
static void wait_for(struct client *c, int ssl_err)
{
    short ev = ssl_err == WOLFSSL_ERROR_WANT_WRITE ? EV_WRITE : EV_READ;
    event_del(c->io);
    event_assign(c->io, c->srv->base, c->fd, ev, on_io, c);
    event_add(c->io, NULL);
    struct timeval tv = {(time_t)(c->srv->idle_ms / 1000),
                         (suseconds_t)(c->srv->idle_ms % 1000) * 1000};
    event_add(c->idle, &tv);
}

static void build_response(struct client *c)
{
    /* HTTP/1.0 and "Connection: close" end the connection after this. */
    c->close_after = strstr(c->req, "HTTP/1.0") != NULL || strcasestr(c->req, "connection: close");
    int head = strncmp(c->req, "HEAD ", 5) == 0;
    c->resp_len = (size_t)snprintf(c->resp, sizeof c->resp,
                                   "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                   "Content-Length: %zu\r\nConnection: %s\r\n\r\n%s",
                                   sizeof page - 1, c->close_after ? "close" : "keep-alive",
                                   head ? "" : page);
}

/* Runs the client's state machine as far as the socket allows. */
static void step(struct client *c)
{
    for (;;) {
        int ret, err;
        switch (c->phase) {
        case HANDSHAKE:
            ret = wolfSSL_accept(c->ssl);
            if (ret != WOLFSSL_SUCCESS)
                goto blocked_or_failed;
            c->phase = READ_REQUEST;
            continue;
        case READ_REQUEST:
            ret = wolfSSL_read(c->ssl, c->req + c->req_len, (int)(REQ_MAX - 1 - c->req_len));
            if (ret <= 0)
                goto blocked_or_failed;
            c->req_len += (size_t)ret;
            c->req[c->req_len] = '\0';
            if (strstr(c->req, "\r\n\r\n")) {
                build_response(c);
                c->phase = WRITE_RESPONSE;
            } else if (c->req_len == REQ_MAX - 1) {
                goto done; /* request too large */
            }
            continue;
        case WRITE_RESPONSE:
            ret = wolfSSL_write(c->ssl, c->resp, (int)c->resp_len);
            if (ret <= 0)
                goto blocked_or_failed;
            c->srv->served++;
            c->req_len = 0;
            c->phase = c->close_after ? SHUTDOWN : READ_REQUEST;
            continue;
        case SHUTDOWN:
            ret = wolfSSL_shutdown(c->ssl);
            if (ret == WOLFSSL_SUCCESS || ret == WOLFSSL_SHUTDOWN_NOT_DONE)
                goto done;
            goto blocked_or_failed;
        default: goto done;
        }
    blocked_or_failed:
        err = wolfSSL_get_error(c->ssl, ret);
        if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
            wait_for(c, err);
            return;
        }
        goto done;
    }
done:
    client_free(c);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    step(arg);
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_free(arg); /* a silent or stalled client is dropped */
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)l;
    (void)sa;
    (void)len;
    struct server *srv = arg;
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL || (c->ssl = wolfSSL_new(srv->ctx)) == NULL) {
        free(c);
        close(fd);
        return;
    }
    c->srv = srv;
    c->fd = fd;
    /* Replies go out at once: with Nagle, a response written right after
     * a session ticket waits for the client's delayed ACK (40 ms). */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    wolfSSL_set_fd(c->ssl, fd);
    c->io = event_new(srv->base, fd, EV_READ, on_io, c);
    c->idle = evtimer_new(srv->base, on_idle, c);
    step(c);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct server *srv = arg;
    fprintf(stderr, "stopping after %lu responses\n", srv->served);
    event_base_loopexit(srv->base, NULL);
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --cert FILE --key FILE [--addr IP] [--port N] [--client-ca FILE]\n"
            "          [--idle-timeout MS]\n"
            "Serves a small page over HTTPS on IP:N (default 127.0.0.1, port 0 = any free\n"
            "port); prints the URL once listening. --client-ca requires client certificates.\n",
            argv0);
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *addr = "127.0.0.1", *client_ca = NULL;
    int port = 0;
    struct server srv = {.idle_ms = 30000};
    static const struct option opts[] = {{"cert", required_argument, 0, 'c'},
                                         {"key", required_argument, 0, 'k'},
                                         {"addr", required_argument, 0, 'a'},
                                         {"port", required_argument, 0, 'p'},
                                         {"client-ca", required_argument, 0, 'C'},
                                         {"idle-timeout", required_argument, 0, 'i'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    for (int o; (o = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (o) {
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'C': client_ca = optarg; break;
        case 'i': srv.idle_ms = (unsigned)atoi(optarg); break;
        case 'h': usage(argv[0]); return 0;
        default: usage(argv[0]); return 2;
        }
    }
    if (cert == NULL || key == NULL || port < 0 || port > 65535 || srv.idle_ms == 0) {
        usage(argv[0]);
        return 2;
    }
    wolfSSL_Init();
    srv.ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
    int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1};
    if (srv.ctx == NULL || wolfSSL_CTX_SetMinVersion(srv.ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_certificate_chain_file(srv.ctx, cert) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_PrivateKey_file(srv.ctx, key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_set_groups(srv.ctx, groups, 2) != WOLFSSL_SUCCESS) {
        fprintf(stderr, "cannot load the certificate or key\n");
        return 1;
    }
    if (client_ca) {
        if (wolfSSL_CTX_load_verify_locations(srv.ctx, client_ca, NULL) != WOLFSSL_SUCCESS) {
            fprintf(stderr, "cannot load the client CA\n");
            return 1;
        }
        wolfSSL_CTX_set_verify(srv.ctx, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                               NULL);
    } else {
        wolfSSL_CTX_set_verify(srv.ctx, WOLFSSL_VERIFY_NONE, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
    srv.base = event_base_new();
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sslen;
    if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        sslen = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ss.ss_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        sslen = sizeof(struct sockaddr_in6);
    } else {
        fprintf(stderr, "--addr must be a numeric IP address\n");
        return 2;
    }
    struct evconnlistener *l =
        evconnlistener_new_bind(srv.base, on_accept, &srv,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                1024, (struct sockaddr *)&ss, (int)sslen);
    if (l == NULL) {
        fprintf(stderr, "cannot listen on %s:%d: %s\n", addr, port, strerror(errno));
        return 1;
    }
    sslen = sizeof ss;
    getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &sslen);
    port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
    printf(ss.ss_family == AF_INET ? "listening on https://%s:%d/\n"
                                   : "listening on https://[%s]:%d/\n",
           addr, port);
    fflush(stdout);
    struct event *sigint = evsignal_new(srv.base, SIGINT, on_signal, &srv);
    struct event *sigterm = evsignal_new(srv.base, SIGTERM, on_signal, &srv);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    event_base_dispatch(srv.base);
    event_free(sigint);
    event_free(sigterm);
    evconnlistener_free(l);
    event_base_free(srv.base);
    wolfSSL_CTX_free(srv.ctx);
    wolfSSL_Cleanup();
    return 0;
}
