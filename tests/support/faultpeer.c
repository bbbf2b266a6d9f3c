/* SPDX-License-Identifier: GPL-2.0-or-later */
/* faultpeer.c - a scripted TLS server for the tests (a real wolfSSL server
 * on loopback, one connection at a time, blocking: it is a test peer, not
 * part of the library). Each --mode answers in one way, good or bad, so
 * that the client's handling of it can be asserted:
 *
 *   ok, chunked, close, close-bare    HTTP framings (close-bare: no close_notify)
 *   truncate, truncate-bare           a body cut short, with / without close_notify
 *   garbage, huge-header              random bytes for a status line; a 1 MiB header
 *   silent                            handshakes, then never answers the request
 *   hs-silent                         accepts TCP, never speaks TLS
 *   hs-close, hs-rst                  reads the ClientHello, then FIN / RST
 *   hs-cut                            sends 60 bytes of its real first flight, then RST
 *   hs-random                         4 KiB of random bytes instead of a ServerHello
 *   hs-drip                           its real handshake, one byte every 100 ms
 *   burst-drip                        a 1.375 MiB body: 1 MiB at once (corked: in full
 *                                     segments), then 24 records of 16 KiB, each sent when a
 *                                     byte arrives on --control-fd (the client got the one
 *                                     before), or 30 ms apart without one (a fast flow
 *                                     turned slow)
 *   paced                             an 8 MiB body in 16 KiB records, 64 KiB a millisecond
 *                                     (a reader faster than its server)
 *   bad-mac                           the first record after the handshake is corrupted
 *   no-read                           handshakes, then never reads again
 *   close-second                      answers a connection's first request, closes it
 *                                     (no close_notify) on its second: the keep-alive race
 *   redirect                          /redirect/CODE?LOCATION answered with that status and
 *                                     Location, /loop with a 302 to itself, anything else
 *                                     200 with X-Method, X-Target, X-Got-Body, X-Auth, X-Cookie
 *   no-body-length                    /204 and /304 answered with a Content-Length and no body
 *                                     (RFC 9110 lets a 304 carry the 200's), others 200; kept alive
 *   mix                               each connection takes the next of the quick fault
 *                                     modes in turn (for soaks)
 *
 *   evtls-faultpeer --cert PEM --key PEM --mode MODE [--port N] [--addr IP]
 *                   [--control-fd FD] [--plain]
 *
 * (--plain: the same answers over TCP, no TLS; later options override earlier ones; --addr defaults
 * to 127.0.0.1 and must be a loopback address). It prints "ACCEPT ADDR:PORT" when it listens, then
 * serves until killed. Every response carries X-Conn (the connection's number) and X-Req (the
 * request's number on that connection) where it has headers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

static const char *mode = "ok";
static int control_fd = -1; /* burst-drip's pacing, inherited from the test */
static unsigned conn_no;

/* The connection being served, for the send hook below. */
static int cur_fd = -1;
static int fd_gone;        /* the hook already closed (reset) cur_fd */
static int handshake_done; /* wolfSSL_accept has returned */
static size_t sent;        /* bytes sent on cur_fd so far */

static int mode_is(const char *m)
{
    return strcmp(mode, m) == 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Closes fd so that the peer gets a TCP RST instead of a FIN. */
static void reset_fd(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* wolfSSL's send hook: writes what wolfSSL hands over, with the mode's
 * fault applied to the bytes on the wire. */
static int fault_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    (void)ssl;
    (void)ctx;
    if (fd_gone)
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    if (mode_is("hs-drip")) {
        sleep_ms(100);
        if (sent == 0) {
            printf("DRIP\n");
            fflush(stdout);
        }
        sz = 1;
    } else if (mode_is("hs-cut") && sent + (size_t)sz >= 60) {
        ssize_t n = send(cur_fd, buf, 60 - sent, MSG_NOSIGNAL);
        (void)n;
        reset_fd(cur_fd);
        fd_gone = 1;
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    } else if (mode_is("bad-mac") && handshake_done) {
        buf[sz - 1] ^= 0x5a; /* the last byte of the record's AEAD tag */
    }
    ssize_t n = send(cur_fd, buf, (size_t)sz, MSG_NOSIGNAL);
    if (n <= 0)
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    sent += (size_t)n;
    return (int)n;
}

/* The modes that never start TLS. Returns 1 when fd was handled. */
static int raw_fault(int fd)
{
    char b[4096];
    if (mode_is("hs-silent")) {
        while (read(fd, b, sizeof b) > 0) /* until the client gives up */
            ;
        return 1;
    }
    if (!mode_is("hs-close") && !mode_is("hs-rst") && !mode_is("hs-random"))
        return 0;
    if (read(fd, b, sizeof b) <= 0) /* the ClientHello */
        return 1;
    if (mode_is("hs-rst")) {
        reset_fd(fd);
        fd_gone = 1;
    } else if (mode_is("hs-random")) {
        srand(conn_no);
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (char)(rand() & 0xff);
        ssize_t n = write(fd, b, sizeof b);
        (void)n;
        while (read(fd, b, sizeof b) > 0) /* until the client gives up */
            ;
    }
    return 1;
}

/* mix: the quick fault modes, one per connection in turn. */
static const char *const mix_modes[] = {"hs-close", "hs-rst",        "hs-cut",   "hs-random",
                                        "bad-mac",  "truncate-bare", "truncate", "garbage"};

/* --plain: no TLS at all (ssl is NULL), the same answers over TCP. */
static int plain;

static int write_all(WOLFSSL *ssl, const void *p, size_t n)
{
    if (ssl == NULL)
        return send(cur_fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
    return wolfSSL_write(ssl, p, (int)n) == (int)n ? 0 : -1;
}

static int read_some(WOLFSSL *ssl, char *buf, int cap)
{
    if (ssl == NULL)
        return (int)recv(cur_fd, buf, (size_t)cap, 0);
    return wolfSSL_read(ssl, buf, cap);
}

static int write_str(WOLFSSL *ssl, const char *s)
{
    return write_all(ssl, s, strlen(s));
}

/* Reads one request (headers and a Content-Length body). Returns its body
 * length, or -1 when the client went away. */
static char target[1024];   /* the last request's target */
static char req_head[8192]; /* the last request's header lines */

/* The value of the last request's header name, or "-" (in a static buffer). */
static const char *req_header(const char *name)
{
    static char v[256];
    char want[64];
    snprintf(want, sizeof want, "\r\n%s:", name);
    const char *h = strcasestr(req_head, want);
    if (h == NULL)
        return "-";
    h += strlen(want);
    h += strspn(h, " ");
    snprintf(v, sizeof v, "%.*s", (int)strcspn(h, "\r\n"), h);
    return v;
}

static long read_request(WOLFSSL *ssl, char *method, size_t mcap)
{
    static char buf[65536];
    size_t have = 0;
    char *end = NULL;
    while (end == NULL) {
        if (have == sizeof buf - 1)
            return -1;
        int n = read_some(ssl, buf + have, (int)(sizeof buf - 1 - have));
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    snprintf(method, mcap, "%.*s", (int)strcspn(buf, " "), buf);
    snprintf(req_head, sizeof req_head, "%.*s", (int)(end + 2 - buf), buf);
    const char *t = buf + strcspn(buf, " ");
    t += *t == ' ';
    snprintf(target, sizeof target, "%.*s", (int)strcspn(t, " \r\n"), t);
    long body = 0;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl && cl < end)
        body = strtol(cl + 17, NULL, 10);
    long got = (long)(have - (size_t)(end + 4 - buf));
    while (got < body) {
        int n = read_some(ssl, buf, (int)sizeof buf);
        if (n <= 0)
            return -1;
        got += n;
    }
    return body;
}

static void serve(WOLFSSL *ssl)
{
    char method[16], head[512];
    for (unsigned req = 1;; req++) {
        long body = read_request(ssl, method, sizeof method);
        if (body < 0)
            return;
        const char *hello = "hello from faultpeer\n";
        /* close-second: the keep-alive race, every time: the first request
         * of a connection is answered, the second read and left without an
         * answer, the connection closed (no close_notify). */
        if (mode_is("close-second") && req >= 2)
            return;
        if (mode_is("ok") || mode_is("bad-mac") || mode_is("hs-drip") || mode_is("close-second")) {
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nX-Conn: %u\r\nX-Req: %u\r\n"
                     "X-Method: %s\r\nX-Got-Body: %ld\r\n\r\n",
                     strlen(hello), conn_no, req, method, body);
            if (write_str(ssl, head) || (strcmp(method, "HEAD") && write_str(ssl, hello)))
                return;
        } else if (mode_is("redirect")) {
            /* /redirect/CODE?LOCATION: that status, that Location; /loop: a
             * 302 to itself; anything else: 200 telling what came. */
            int code = 0;
            const char *loc = NULL;
            if (strncmp(target, "/redirect/", 10) == 0 && strchr(target, '?')) {
                code = atoi(target + 10);
                loc = strchr(target, '?') + 1;
            } else if (strcmp(target, "/loop") == 0) {
                code = 302;
                loc = "/loop";
            }
            static char big[2048];
            if (code) {
                snprintf(big, sizeof big,
                         "HTTP/1.1 %d Moved\r\nLocation: %s\r\nContent-Length: 6\r\n\r\nmoved\n",
                         code, loc);
            } else {
                char auth[256];
                snprintf(auth, sizeof auth, "%s", req_header("Authorization"));
                snprintf(big, sizeof big,
                         "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nX-Method: %s\r\n"
                         "X-Target: %s\r\nX-Got-Body: %ld\r\nX-Auth: %s\r\nX-Cookie: %s\r\n"
                         "X-Req: %u\r\n\r\n%s",
                         strlen(hello), method, target, body, auth, req_header("Cookie"), req,
                         strcmp(method, "HEAD") ? hello : "");
            }
            if (write_str(ssl, big))
                return;
        } else if (mode_is("no-body-length")) {
            /* 204 and 304 with the Content-Length a 200 would have, and no
             * body; anything else: 200 with hello. Kept alive. */
            int st = strcmp(target, "/204") == 0 ? 204 : strcmp(target, "/304") == 0 ? 304 : 200;
            snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nX-Conn: %u\r\nX-Req: %u\r\n%s\r\n",
                     st,
                     st == 204   ? "No Content"
                     : st == 304 ? "Not Modified"
                                 : "OK",
                     strlen(hello), conn_no, req, st == 304 ? "ETag: \"v1\"\r\n" : "");
            if (write_str(ssl, head) ||
                (st == 200 && strcmp(method, "HEAD") && write_str(ssl, hello)))
                return;
        } else if (mode_is("burst-drip") || mode_is("paced")) {
            static char piece[16384];
            memset(piece, 'd', sizeof piece);
            int paced = mode_is("paced"), n = paced ? 512 : 64 + 24;
            snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                     (size_t)n * sizeof piece);
            int cork = 1; /* burst-drip: the burst goes out in full segments */
            if (!paced)
                setsockopt(cur_fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof cork);
            if (write_str(ssl, head))
                return;
            for (int i = 0; i < n; i++) {
                if (!paced && i == 64) {
                    cork = 0;
                    setsockopt(cur_fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof cork);
                }
                if (!paced && i >= 64 && control_fd >= 0) {
                    char go;
                    if (read(control_fd, &go, 1) != 1)
                        return;
                } else if (paced ? i > 0 && i % 4 == 0 : i >= 64) {
                    sleep_ms(paced ? 1 : 30);
                }
                if (write_all(ssl, piece, sizeof piece))
                    return;
            }
        } else if (strcmp(mode, "chunked") == 0) {
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Conn: %u\r\n"
                     "X-Req: %u\r\n\r\n",
                     conn_no, req);
            if (write_str(ssl, head))
                return;
            /* Each chunk in its own record, so the client sees them apart. */
            for (int i = 1; i <= 3; i++) {
                snprintf(head, sizeof head, "7\r\nchunk-%d\r\n", i);
                if (write_str(ssl, head))
                    return;
            }
            if (write_str(ssl, "0\r\n\r\n"))
                return;
        } else if (strcmp(mode, "close") == 0 || strcmp(mode, "close-bare") == 0) {
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nConnection: close\r\nX-Conn: %u\r\n\r\n", conn_no);
            if (write_str(ssl, head) || write_str(ssl, "until ") || write_str(ssl, "the end\n"))
                return;
            if (strcmp(mode, "close") == 0)
                wolfSSL_shutdown(ssl); /* close-bare: main() closes the fd, no close_notify */
            return;
        } else if (strcmp(mode, "truncate") == 0 || strcmp(mode, "truncate-bare") == 0) {
            if (write_str(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n") ||
                write_str(ssl, "only a tenth of the promised body arrives; the rest never "
                               "does, the server stops here.\n"))
                return;
            if (strcmp(mode, "truncate") == 0)
                wolfSSL_shutdown(ssl);
            return;
        } else if (strcmp(mode, "garbage") == 0) {
            unsigned char junk[64];
            for (size_t i = 0; i < sizeof junk; i++)
                junk[i] = (unsigned char)(rand() & 0xff);
            junk[0] = 0x00; /* never a plausible "HTTP/" */
            write_all(ssl, junk, sizeof junk);
            wolfSSL_shutdown(ssl);
            return;
        } else if (strcmp(mode, "huge-header") == 0) {
            static char big[16384];
            memset(big, 'h', sizeof big);
            if (write_str(ssl, "HTTP/1.1 200 OK\r\nX-Huge: "))
                return;
            for (int i = 0; i < 64; i++) /* 1 MiB of one header value */
                if (write_all(ssl, big, sizeof big))
                    return;
            write_str(ssl, "\r\nContent-Length: 0\r\n\r\n");
            return;
        } else if (strcmp(mode, "silent") == 0) {
            char b[256];
            while (wolfSSL_read(ssl, b, sizeof b) > 0) /* until the client gives up */
                ;
            return;
        } else {
            fprintf(stderr, "unknown mode %s\n", mode);
            exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL;
    int port = 0;
    const char *addr = "127.0.0.1";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--plain") == 0) { /* a flag: no value */
            plain = 1;
            continue;
        }
        if (i + 1 >= argc)
            break;
        const char *v = argv[++i];
        if (strcmp(argv[i - 1], "--cert") == 0)
            cert = v;
        else if (strcmp(argv[i - 1], "--key") == 0)
            key = v;
        else if (strcmp(argv[i - 1], "--mode") == 0)
            mode = v;
        else if (strcmp(argv[i - 1], "--port") == 0)
            port = atoi(v);
        else if (strcmp(argv[i - 1], "--addr") == 0)
            addr = v;
        else if (strcmp(argv[i - 1], "--control-fd") == 0)
            control_fd = atoi(v);
    }
    static const char *const known[] = {
        "ok",           "chunked",     "close",   "close-bare",     "truncate", "truncate-bare",
        "garbage",      "huge-header", "silent",  "hs-silent",      "hs-close", "hs-rst",
        "hs-cut",       "hs-random",   "hs-drip", "bad-mac",        "no-read",  "mix",
        "close-second", "burst-drip",  "paced",   "no-body-length", "redirect"};
    int valid = 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        valid |= strcmp(mode, known[i]) == 0;
    if (!valid) {
        fprintf(stderr, "faultpeer: unknown mode %s\n", mode);
        return 2;
    }
    if (cert == NULL || key == NULL) {
        fprintf(stderr, "usage: %s --cert PEM --key PEM --mode MODE [--port N]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    wolfSSL_Init();
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
    if (ctx == NULL || wolfSSL_CTX_use_certificate_chain_file(ctx, cert) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_PrivateKey_file(ctx, key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
        fprintf(stderr, "faultpeer: cannot load %s / %s\n", cert, key);
        return 1;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        len = sizeof *sin;
    } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        len = sizeof *sin6;
    } else {
        fprintf(stderr, "faultpeer: bad --addr %s\n", addr);
        return 2;
    }
    int lfd = socket(ss.ss_family, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&ss, len) != 0 || listen(lfd, 64) != 0 ||
        getsockname(lfd, (struct sockaddr *)&ss, &len) != 0) {
        perror("faultpeer: listen");
        return 1;
    }
    printf("ACCEPT %s:%u\n", addr,
           ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port));
    fflush(stdout);
    int mix = strcmp(mode, "mix") == 0;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (mix)
            mode = mix_modes[conn_no % (sizeof mix_modes / sizeof mix_modes[0])];
        conn_no++;
        cur_fd = fd;
        fd_gone = handshake_done = 0;
        sent = 0;
        if (plain) {
            serve(NULL);
        } else if (!raw_fault(fd)) {
            WOLFSSL *ssl = wolfSSL_new(ctx);
            wolfSSL_set_fd(ssl, fd);
            wolfSSL_SSLSetIOSend(ssl, fault_send);
            if (wolfSSL_accept(ssl) == WOLFSSL_SUCCESS) {
                handshake_done = 1;
                if (mode_is("no-read"))
                    for (;;)
                        pause(); /* until killed: the client's writes pile up */
                serve(ssl);
            }
            wolfSSL_free(ssl);
        }
        if (!fd_gone)
            close(fd);
    }
}
