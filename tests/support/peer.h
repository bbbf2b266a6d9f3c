/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer.h - real TLS peers for the tests: openssl s_server and nginx,
 * started on loopback, plus raw listeners for fault cases. These helpers
 * may block: they run in the test, never on the library's loop. */
#ifndef EVTLS_TEST_PEER_H
#define EVTLS_TEST_PEER_H

#include <stdint.h>
#include <sys/types.h>

struct peer {
    pid_t pid;
    uint16_t port;
    int out_fd;    /* the child's stdout+stderr, non-blocking */
    char dir[256]; /* scratch directory (nginx) */
};

/* The directory holding the test PKI (made by scripts/mkcerts.sh). */
const char *pki_dir(void);

/* Makes the test PKI in pki_dir() unless it is there (the benchmarks run
 * without ctest's pki step). Returns 0 or -1. */
int pki_ensure(void);

/* Returns "<pki_dir>/<name>" in a static rotating buffer. */
const char *pki(const char *name);

/* Starts `openssl s_server -accept 127.0.0.1:0 -www` with the given extra
 * arguments (NULL-terminated) and waits until it listens. Returns 0. */
int peer_s_server(struct peer *p, const char *const *extra);

/* `openssl s_server -accept 127.0.0.1:0` without -www: it prints what it
 * reads (early data too, with -early_data); its stdin never ends. */
int peer_s_server_plain(struct peer *p, const char *const *extra);

/* Starts `gnutls-serv --http` (GnuTLS's test server) with the test
 * certificate and one more option (NULL: none); it listens on every
 * address of the port, and is only ever reached on 127.0.0.1. */
int peer_gnutls_serv(struct peer *p, const char *option);

/* The same on a given port of 127.0.0.1. */
int peer_s_server_at(struct peer *p, uint16_t port, const char *const *extra);
/* The same on addr ("127.0.0.1", "[::1]"). */
int peer_s_server_on(struct peer *p, const char *addr, uint16_t port, const char *const *extra);

/* Starts the scripted TLS server (tests/support/faultpeer.c) on 127.0.0.1
 * with the test server certificate, answering in the given mode (its
 * list is at the top of faultpeer.c); extra arguments as for
 * peer_s_server. Two more modes are s_server with a fault: "big-chain"
 * sends a certificate chain of more than 100 KiB, "tls10" speaks only
 * TLS 1.0. */
int peer_fault(struct peer *p, const char *mode, const char *const *extra);

/* Starts Node's http-server (npm, installed in tests/node) as its users
 * run it: `http-server ROOT -S -C cert -K key` on 127.0.0.1. Returns 0. */
int peer_http_server(struct peer *p, const char *root, const char *cert, const char *key);

/* Starts tinyproxy (Debian's) on 127.0.0.1 as an HTTP CONNECT proxy to
 * any port, logging each connection to "<dir>/tinyproxy.log"; with
 * basic_auth ("user password") it asks for those credentials (407
 * without). Returns 0. */
int peer_tinyproxy(struct peer *p, const char *basic_auth);

/* Starts nginx on 127.0.0.1 with an ssl server whose directives are given
 * (inside the server block). Returns 0. */
int peer_nginx(struct peer *p, const char *server_directives);

/* The same, also listening on the same port of [::1] and/or 127.0.0.2.
 * The access log's lines read "$connection $connection_requests
 * $ssl_protocol $ssl_session_reused $status $remote_addr $server_addr
 * $ssl_early_data" (the last "1" for a request taken as early data). */
#define PEER_NGINX_IPV6      1
#define PEER_NGINX_127_0_0_2 2
/* 127.0.0.1's sockets get a 256 KiB send buffer (TCP autotuning would
 * otherwise give a few connections most of the bandwidth). */
#define PEER_NGINX_SNDBUF_256K 4
/* Every listening socket gets an accept queue of 8: a burst of connects
 * waits (SYNs dropped and sent again), like a server under a storm. */
#define PEER_NGINX_BACKLOG_8 8
/* Every listening socket speaks HTTP/2 too (ALPN h2). */
#define PEER_NGINX_HTTP2 16
/* It listens on p->port as given: a server started again where the one
 * before was (its clients' sessions are keyed by the port). */
#define PEER_NGINX_SAME_PORT 32
int peer_nginx_ex(struct peer *p, int listen_also, const char *server_directives);

/* nginx's access log once it holds want lines (peer_nginx_log): each
 * line's status and early-data field ("1" or "-") into status[] and
 * early[], up to max of them. Returns the lines (-1 for one that is not
 * the format's) and empties the log (nginx appends). */
int peer_nginx_early_log(const struct peer *p, int want, int *status, char (*early)[4], int max);

/* Starts evtls-relay (tests/support/relay.c) on 127.0.0.1, relaying to
 * 127.0.0.1:to with delay_ms added each way (a round trip of twice that:
 * the kernel here has no netem), with extra options (NULL-terminated, or
 * NULL: relay.c lists them). Returns 0. */
int peer_relay(struct peer *p, uint16_t to, unsigned delay_ms, const char *const *extra);

/* Starts nghttpd (nghttp2's HTTP/2 server) on 127.0.0.1 with the test
 * certificate, serving files from docroot; extra options may be NULL. */
int peer_nghttpd(struct peer *p, const char *docroot, const char *const *extra);

/* Starts the scripted HTTP/2 server (tests/support/h2peer.py, on Debian's
 * python3-h2) in mode on 127.0.0.1; arg < 0 leaves the mode's default,
 * plain serves h2 without TLS. */
int peer_h2(struct peer *p, const char *mode, int arg, int plain);

/* Waits until nginx's access log holds at least want lines (nginx writes
 * a request's line just after sending its response, so a client can see
 * the response first) or a safety limit of 10 s (times test_time_scale())
 * passes. Returns the path of the log, in a static buffer. */
const char *peer_nginx_log(const struct peer *p, int want);

/* The lines of the log file at path once it holds want of them (nginx
 * logs a request after its response), polled 10 ms apart for up to 10 s
 * times the time scale; what it holds then otherwise. */
int peer_log_lines(const char *path, int want);

/* Starts dnsmasq answering on 127.0.0.1:p->port (UDP) with nothing but
 * the given options (e.g. "--host-record=a.test,127.0.0.1,::1"); it never
 * forwards anywhere. Its query log is read with peer_output(). */
int peer_dnsmasq(struct peer *p, const char *const *options);

/* A listener on [::1]:port whose accept queue is full, so SYNs to it go
 * unanswered; fill[] receives the 4 sockets that fill it. Returns the
 * listening fd or -1. */
int listen_blackhole6(uint16_t port, int fill[4]);

/* A UDP socket on 127.0.0.1 that never answers. Returns it; *port set. */
int udp_silent(uint16_t *port);

/* Reads what the peer printed so far into buf (NUL-terminated). */
size_t peer_output(struct peer *p, char *buf, size_t size);

/* Stops the peer and reaps it. */
void peer_stop(struct peer *p);

/* A loopback TCP listener that never accepts. Returns the fd; *port set. */
int listen_loopback(int backlog, uint16_t *port);

/* A port on 127.0.0.1 where nothing listens (bound, then closed), chosen
 * below the kernel's ephemeral range so that no client connection takes it. */
uint16_t unused_port(void);

/* Number of open file descriptors of this process. */
int count_open_fds(void);

#endif
