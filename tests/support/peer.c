/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer.c - starts and stops real TLS peers on loopback for the tests. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "peer.h"
#include "proc.h"

const char *pki_dir(void)
{
    const char *d = getenv("EVTLS_TEST_PKI");
#ifdef EVTLS_TEST_PKI_DEFAULT
    if (d == NULL)
        d = EVTLS_TEST_PKI_DEFAULT;
#endif
    return d ? d : "pki";
}

int pki_ensure(void)
{
    struct stat sb;
    if (stat(pki("ca.pem"), &sb) == 0)
        return 0;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash %s %s >/dev/null", EVTLS_MKCERTS_PATH, pki_dir());
    return system(cmd) == 0 ? 0 : -1;
}

const char *pki(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", pki_dir(), name);
    return b;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Set around a spawn: the child's stdin is a pipe whose write end it holds
 * itself, so that it never reads an end (s_server without -www quits at
 * its stdin's end, -ign_eof or not). */
static int spawn_endless_stdin;

static pid_t spawn(const char *const *argv, int *out_fd)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    pid_t me = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        proc_die_with_parent(me);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        int in[2];
        if (spawn_endless_stdin && pipe(in) == 0) {
            dup2(in[0], 0);
            close(in[0]); /* in[1] stays open, in this process alone */
        } else {
            dup2(open("/dev/null", O_RDONLY), 0);
        }
        close(pfd[0]);
        close(pfd[1]);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
    *out_fd = pfd[0];
    return pid;
}

size_t peer_output(struct peer *p, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t r = read(p->out_fd, buf + n, size - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

int peer_s_server(struct peer *p, const char *const *extra)
{
    return peer_s_server_at(p, 0, extra);
}

/* Runs argv[0..n) plus extra and reads its output until ready() says it
 * is up (1), or it exits, or 10 s pass. Returns 0 or -1. */
static int spawn_ready(struct peer *p, const char **argv, int n, const char *const *extra,
                       int (*ready)(struct peer *p, const char *out, void *ctx), void *ctx)
{
    for (int i = 0; extra && extra[i] && n < 46; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    p->pid = spawn(argv, &p->out_fd);
    if (p->pid < 0)
        return -1;
    char buf[8192];
    size_t have = 0;
    for (int waited = 0; waited < 10000; waited += 10) {
        ssize_t r = read(p->out_fd, buf + have, sizeof buf - 1 - have);
        if (r > 0) {
            have += (size_t)r;
            buf[have] = '\0';
            if (ready(p, buf, ctx))
                return 0;
        }
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            buf[have] = '\0';
            fprintf(stderr, "%s exited: %s\n", argv[0], buf);
            p->pid = 0;
            close(p->out_fd);
            p->out_fd = -1;
            return -1;
        }
        sleep_ms(10);
    }
    peer_stop(p);
    return -1;
}

static int s_server_ready(struct peer *p, const char *out, void *ctx)
{
    uint16_t port = *(const uint16_t *)ctx;
    /* With port 0 it prints "ACCEPT ADDR:PORT"; with a given port, just
     * "ACCEPT". (The faultpeer prints the former too.) */
    const char *a = strstr(out, "ACCEPT");
    const char *eol = a ? strchr(a, '\n') : NULL;
    if (eol == NULL)
        return 0;
    if (port == 0) {
        const char *colon = a;
        for (const char *q = a; q < eol; q++)
            if (*q == ':')
                colon = q;
        if (colon == a)
            return 0;
        port = (uint16_t)atoi(colon + 1);
    }
    p->port = port;
    return 1;
}

int peer_s_server_at(struct peer *p, uint16_t port, const char *const *extra)
{
    return peer_s_server_on(p, "127.0.0.1", port, extra);
}

int peer_s_server_on(struct peer *p, const char *addr, uint16_t port, const char *const *extra)
{
    char accept[64];
    snprintf(accept, sizeof accept, "%s:%u", addr, port);
    const char *argv[48] = {"openssl", "s_server", "-accept", accept, "-www"};
    memset(p, 0, sizeof *p);
    return spawn_ready(p, argv, 5, extra, s_server_ready, &port);
}

/* Writes pki("big-chain.pem"): copies of the test CA adding up to more
 * than 100 KiB of DER, as an over-long chain for s_server's -cert_chain. */
static const char *big_chain(void)
{
    static char path[512]; /* not pki()'s rotating buffer: the caller keeps it */
    snprintf(path, sizeof path, "%s", pki("big-chain.pem"));
    struct stat der;
    if (access(path, R_OK) == 0)
        return path;
    FILE *in = fopen(pki("ca.pem"), "r");
    static char pem[8192];
    size_t n = in ? fread(pem, 1, sizeof pem, in) : 0;
    if (in)
        fclose(in);
    if (n == 0 || stat(pki("ca.der"), &der) != 0 || der.st_size == 0)
        return NULL;
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
    FILE *out = fopen(tmp, "w");
    if (out == NULL)
        return NULL;
    for (long total = 0; total <= 100 * 1024; total += (long)der.st_size)
        fwrite(pem, 1, n, out);
    if (fclose(out) != 0 || rename(tmp, path) != 0)
        return NULL;
    return path;
}

int peer_fault(struct peer *p, const char *mode, const char *const *extra)
{
    if (strcmp(mode, "big-chain") == 0 || strcmp(mode, "tls10") == 0) {
        const char *args[16] = {"-cert", pki("server.pem"), "-key", pki("server.key")};
        int n = 4;
        if (strcmp(mode, "tls10") == 0) {
            args[n++] = "-tls1"; /* OpenSSL 3 offers TLS 1.0 only at security level 0 */
            args[n++] = "-cipher";
            args[n++] = "DEFAULT@SECLEVEL=0";
        } else {
            args[n++] = "-cert_chain";
            if ((args[n++] = big_chain()) == NULL)
                return -1;
        }
        for (int i = 0; extra && extra[i] && n < 15; i++)
            args[n++] = extra[i];
        args[n] = NULL;
        return peer_s_server(p, args);
    }
    const char *argv[48] = {EVTLS_FAULTPEER_PATH,
                            "--cert",
                            pki("server.pem"),
                            "--key",
                            pki("server.key"),
                            "--mode",
                            mode};
    uint16_t port = 0;
    memset(p, 0, sizeof *p);
    return spawn_ready(p, argv, 7, extra, s_server_ready, &port);
}

static int http_server_ready(struct peer *p, const char *out, void *ctx)
{
    (void)p;
    (void)ctx;
    return strstr(out, "Hit CTRL-C") != NULL;
}

int peer_http_server(struct peer *p, const char *root, const char *cert, const char *key)
{
    if (access(EVTLS_HTTP_SERVER_PATH, X_OK) != 0) {
        fprintf(stderr, "%s is missing: run 'npm ci' in tests/node (scripts/test.sh does)\n",
                EVTLS_HTTP_SERVER_PATH);
        return -1;
    }
    char port[16];
    memset(p, 0, sizeof *p);
    p->port = unused_port();
    snprintf(port, sizeof port, "%u", p->port);
    const char *argv[48] = {EVTLS_HTTP_SERVER_PATH,
                            root,
                            "-S",
                            "-C",
                            cert,
                            "-K",
                            key,
                            "-p",
                            port,
                            "-a",
                            "127.0.0.1",
                            "-c-1"};
    return spawn_ready(p, argv, 12, NULL, http_server_ready, NULL);
}

/* The first port of the kernel's ephemeral range (the ports connect()
 * takes for its own end), so that a port chosen below it is never taken by
 * one of the thousands of client connections other tests open at the same
 * time. */
static unsigned ephemeral_low(void)
{
    unsigned low = 32768, high = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%u %u", &low, &high) != 2 || low <= 11000 || low > 65535)
            low = 32768;
        fclose(f);
    }
    return low;
}

/* Binds a socket of TYPE to 127.0.0.1:PORT and closes it: 1 when it could. */
static int bindable(int type, uint16_t port)
{
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* A random port below the ephemeral range that is free for TCP (and for UDP
 * when UDP is set) on 127.0.0.1, or 0. */
static uint16_t free_port(int udp)
{
    static unsigned seed;
    if (seed == 0)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    unsigned span = ephemeral_low() - 10000;
    for (int tries = 0; tries < 1000; tries++) {
        uint16_t port = (uint16_t)(10000 + (unsigned)rand_r(&seed) % span);
        if (bindable(SOCK_STREAM, port) && (!udp || bindable(SOCK_DGRAM, port)))
            return port;
    }
    return 0;
}

uint16_t unused_port(void)
{
    return free_port(0);
}

int listen_loopback(int backlog, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return fd;
}

static int port_open(uint16_t port);

/* Waits (10 s at most) until the started peer listens on p->port. Returns
 * 0, or -1 when it exits first (its output is printed) or never listens. */
static int wait_listening(struct peer *p, const char *name)
{
    for (int waited = 0; waited < 10000; waited += 10) {
        if (port_open(p->port))
            return 0;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            char buf[2048];
            peer_output(p, buf, sizeof buf);
            fprintf(stderr, "%s exited: %s (see %s)\n", name, buf, p->dir);
            p->pid = 0;
            return -1;
        }
        sleep_ms(10);
    }
    peer_stop(p);
    return -1;
}

int peer_tinyproxy(struct peer *p, const char *basic_auth)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/evtls-tinyproxy-XXXXXX");
    if (mkdtemp(p->dir) == NULL)
        return -1;
    p->port = unused_port();
    char conf[512];
    snprintf(conf, sizeof conf, "%s/tinyproxy.conf", p->dir);
    FILE *f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    /* No ConnectPort line: CONNECT to any port is allowed. */
    fprintf(f,
            "Port %u\nListen 127.0.0.1\nTimeout 30\nMaxClients 200\n"
            "LogFile \"%s/tinyproxy.log\"\nLogLevel Connect\nPidFile \"%s/tinyproxy.pid\"\n"
            "Allow 127.0.0.1\n%s%s\n",
            p->port, p->dir, p->dir, basic_auth ? "BasicAuth " : "", basic_auth ? basic_auth : "");
    fclose(f);
    const char *argv[] = {"tinyproxy", "-d", "-c", conf, NULL};
    p->pid = spawn(argv, &p->out_fd);
    return p->pid < 0 ? -1 : wait_listening(p, "tinyproxy");
}

static int port_open(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
    close(fd);
    return ok;
}

int peer_nginx(struct peer *p, const char *server_directives)
{
    return peer_nginx_ex(p, 0, server_directives);
}

int peer_nginx_ex(struct peer *p, int listen_also, const char *server_directives)
{
    uint16_t port = (listen_also & PEER_NGINX_SAME_PORT) ? p->port : 0;
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/evtls-nginx-XXXXXX");
    if (mkdtemp(p->dir) == NULL)
        return -1;
    p->port = port ? port : unused_port();
    char conf[512], listen6[160] = "", opts4[64], backlog[32];
    snprintf(backlog, sizeof backlog, "%s%s",
             (listen_also & PEER_NGINX_BACKLOG_8) ? " backlog=8" : "",
             (listen_also & PEER_NGINX_HTTP2) ? " http2" : "");
    snprintf(conf, sizeof conf, "%s/nginx.conf", p->dir);
    snprintf(opts4, sizeof opts4, "%s%s",
             (listen_also & PEER_NGINX_SNDBUF_256K) ? " sndbuf=262144" : "", backlog);
    if (listen_also & PEER_NGINX_IPV6)
        snprintf(listen6, sizeof listen6, "listen [::1]:%u ssl%s;", p->port, backlog);
    if (listen_also & PEER_NGINX_127_0_0_2)
        snprintf(listen6 + strlen(listen6), sizeof listen6 - strlen(listen6),
                 " listen 127.0.0.2:%u ssl%s;", p->port, backlog);
    FILE *f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    fprintf(f,
            "daemon off;\nmaster_process off;\nworker_processes 1;\n"
            "error_log %s/error.log info;\npid %s/nginx.pid;\n"
            "worker_rlimit_nofile 20000;\nevents { worker_connections 16384; }\n"
            "http {\n"
            "  log_format evtls '$connection $connection_requests $ssl_protocol "
            "$ssl_session_reused $status $remote_addr $server_addr $ssl_early_data';\n"
            /* a location's own log of what was asked (the path last) */
            "  log_format path '$connection $status $request_method $request_uri';\n"
            "  access_log %s/access.log evtls;\n"
            "  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
            "  uwsgi_temp_path %s; scgi_temp_path %s;\n"
            "  server {\n"
            "    listen 127.0.0.1:%u ssl%s;\n"
            "    %s\n"
            "    ssl_certificate %s; ssl_certificate_key %s;\n"
            "    ssl_protocols TLSv1.2 TLSv1.3;\n"
            "    location / { return 200 \"hello from nginx\\n\"; }\n"
            "    %s\n"
            "  }\n"
            "}\n",
            p->dir, p->dir, p->dir, p->dir, p->dir, p->dir, p->dir, p->dir, p->port, opts4, listen6,
            pki("server.pem"), pki("server.key"), server_directives ? server_directives : "");
    fclose(f);
    const char *argv[] = {"nginx", "-c", conf, "-p", p->dir, NULL};
    p->pid = spawn(argv, &p->out_fd);
    return p->pid < 0 ? -1 : wait_listening(p, "nginx");
}

int peer_s_server_plain(struct peer *p, const char *const *extra)
{
    const char *argv[48] = {"openssl", "s_server", "-accept", "127.0.0.1:0"};
    uint16_t any = 0;
    memset(p, 0, sizeof *p);
    spawn_endless_stdin = 1;
    int rc = spawn_ready(p, argv, 4, extra, s_server_ready, &any);
    spawn_endless_stdin = 0;
    return rc;
}

int peer_gnutls_serv(struct peer *p, const char *option)
{
    memset(p, 0, sizeof *p);
    p->port = unused_port();
    char port[16];
    snprintf(port, sizeof port, "%u", p->port);
    const char *argv[] = {
        "gnutls-serv",     "--http",        "--port",          port,   "--x509certfile",
        pki("server.pem"), "--x509keyfile", pki("server.key"), option, NULL};
    p->pid = spawn(argv, &p->out_fd);
    return p->pid < 0 ? -1 : wait_listening(p, "gnutls-serv");
}

int peer_relay(struct peer *p, uint16_t to, unsigned delay_ms, const char *const *extra)
{
    char port[16], delay[16];
    snprintf(port, sizeof port, "%u", to);
    snprintf(delay, sizeof delay, "%u", delay_ms);
    const char *argv[8] = {EVTLS_RELAY_PATH, "--to", port, "--delay", delay};
    uint16_t any = 0;
    memset(p, 0, sizeof *p);
    return spawn_ready(p, argv, 5, extra, s_server_ready, &any);
}

int peer_nghttpd(struct peer *p, const char *docroot, const char *const *extra)
{
    memset(p, 0, sizeof *p);
    p->port = unused_port();
    char port[16], root[300];
    snprintf(port, sizeof port, "%u", p->port);
    snprintf(root, sizeof root, "--htdocs=%s", docroot);
    const char *argv[32] = {"nghttpd", "--address=127.0.0.1", root, "--no-content-length"};
    size_t n = 4;
    for (size_t i = 0; extra && extra[i] && n < 28; i++)
        argv[n++] = extra[i];
    argv[n++] = port;
    argv[n++] = pki("server.key");
    argv[n++] = pki("server.pem");
    argv[n] = NULL;
    p->pid = spawn(argv, &p->out_fd);
    return p->pid < 0 ? -1 : wait_listening(p, "nghttpd");
}

int peer_h2(struct peer *p, const char *mode, int arg, int plain)
{
    memset(p, 0, sizeof *p);
    p->port = unused_port();
    char port[16], a[16];
    snprintf(port, sizeof port, "%u", p->port);
    snprintf(a, sizeof a, "%d", arg);
    const char *argv[12] = {"/usr/bin/python3", EVTLS_H2PEER_PATH, port,
                            pki("server.pem"),  pki("server.key"), mode};
    size_t n = 6;
    if (arg >= 0) {
        argv[n++] = "--arg";
        argv[n++] = a;
    }
    if (plain)
        argv[n++] = "--plain";
    argv[n] = NULL;
    p->pid = spawn(argv, &p->out_fd);
    return p->pid < 0 ? -1 : wait_listening(p, "h2peer");
}

void peer_stop(struct peer *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        int status;
        for (int i = 0; i < 300; i++) {
            if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
                p->pid = 0;
                break;
            }
            sleep_ms(10);
        }
        if (p->pid > 0) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
        }
        p->pid = 0;
    }
    if (p->out_fd > 0) {
        close(p->out_fd);
        p->out_fd = 0;
    }
    if (p->dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", p->dir);
        p->dir[0] = '\0';
    }
}

int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (d == NULL)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the DIR's own fd */
}

int listen_blackhole6(uint16_t port, int fill[4])
{
    /* A listener whose accept queue is full: the kernel drops new SYNs, so
     * connects to [::1]:port neither succeed nor fail. */
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    sin6.sin6_addr = in6addr_loopback;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin6, sizeof sin6) != 0 || listen(fd, 0) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        (void)connect(fill[i], (struct sockaddr *)&sin6, sizeof sin6);
    }
    sleep_ms(50);
    return fd;
}

static int dnsmasq_ready(struct peer *p, const char *out, void *ctx)
{
    (void)p;
    (void)ctx;
    return strstr(out, "cleared cache") != NULL;
}

int peer_dnsmasq(struct peer *p, const char *const *options)
{
    /* The port can still be taken between this choice and dnsmasq's bind
     * (other tests open thousands of TCP connections): a few tries. */
    for (int attempt = 0; attempt < 5; attempt++) {
        memset(p, 0, sizeof *p);
        p->port = free_port(1);
        if (p->port == 0)
            continue;
        char port[32];
        snprintf(port, sizeof port, "--port=%u", p->port);
        /* No change of user or group (by default it takes the group
         * dip): that would clear the signal that ends it with the test
         * (proc_die_with_parent). */
        const char *argv[48] = {"dnsmasq",
                                "--keep-in-foreground",
                                "--conf-file=/dev/null",
                                "--no-resolv",
                                "--no-hosts",
                                "--bind-interfaces",
                                "--listen-address=127.0.0.1",
                                port,
                                "--log-queries",
                                "--log-facility=-",
                                "--pid-file=",
                                "--user=root",
                                "--group=root"};
        if (spawn_ready(p, argv, 13, options, dnsmasq_ready, NULL) == 0)
            return 0;
    }
    return -1;
}

int udp_silent(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return fd;
}

int peer_nginx_early_log(const struct peer *p, int want, int *status, char (*early)[4], int max)
{
    const char *path = peer_nginx_log(p, want);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, fp)) {
        char e[4] = "";
        int st = 0;
        if (sscanf(line, "%*s %*s %*s %*s %d %*s %*s %3s", &st, e) != 2) {
            n = -1;
            break;
        }
        if (n < max) {
            status[n] = st;
            memcpy(early[n], e, sizeof e);
        }
        n++;
    }
    fclose(fp);
    return truncate(path, 0) == 0 ? n : -1;
}

int peer_log_lines(const char *path, int want)
{
    unsigned polls = 1000 * test_time_scale(); /* 10 ms apart */
    int lines = 0;
    for (unsigned i = 0; i < polls; i++) {
        FILE *f = fopen(path, "r");
        int ch;
        lines = 0;
        while (f && (ch = getc(f)) != EOF)
            lines += ch == '\n';
        if (f)
            fclose(f);
        if (lines >= want)
            break;
        usleep(10000);
    }
    return lines;
}

const char *peer_nginx_log(const struct peer *p, int want)
{
    static char path[sizeof p->dir + 16];
    snprintf(path, sizeof path, "%s/access.log", p->dir);
    if (want > 0)
        peer_log_lines(path, want);
    return path;
}
