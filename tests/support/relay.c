/* SPDX-License-Identifier: GPL-2.0-or-later */
/* relay.c - evtls-relay, a delaying TCP relay for the tests and benchmarks
 * (the kernel here has no netem): it listens on 127.0.0.1 and relays each
 * connection to a loopback target, holding every byte for a fixed delay in
 * each direction, so that a round trip costs twice the delay and the
 * round trips a handshake saves become visible.
 *
 *   evtls-relay --to PORT --delay MS [--target ADDR] [--hold MS] [--rcvbuf BYTES]
 *
 * --hold leaves the client's bytes unread for that long after the accept,
 * and --rcvbuf sets the receive buffer of the sockets it accepts: with a
 * small one, a client's first flight fills the window and its send
 * blocks (WANT_WRITE) until the hold ends.
 *
 * It prints "ACCEPT 127.0.0.1:PORT" once it listens, then relays until
 * killed. Bytes go on in the order they came, each no sooner than its
 * arrival plus the delay; a FIN is passed on the same way (after the bytes
 * before it), and a reset ends both sides. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

/* Bytes read from one side, due at the other at due_us. */
struct chunk {
    struct chunk *next;
    uint64_t due_us;
    size_t len, off;
    int fin; /* no bytes: the sender's FIN, to pass on */
    uint8_t data[];
};

struct pair;

/* One direction: read from `from`, held in a queue, written to `to`. */
struct way {
    struct pair *pr;
    int from, to;
    struct event *rd, *wr, *timer;
    struct chunk *head, *tail;
    int eof, closed_out;
};

struct pair {
    struct way a, b; /* client to server, server to client */
    int fds[2];
};

static uint64_t delay_us, hold_us;
static struct sockaddr_in target;
static struct event_base *base;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void way_free(struct way *w)
{
    event_free(w->rd);
    event_free(w->wr);
    event_free(w->timer);
    while (w->head) {
        struct chunk *c = w->head;
        w->head = c->next;
        free(c);
    }
}

static void pair_end(struct pair *pr)
{
    way_free(&pr->a);
    way_free(&pr->b);
    close(pr->fds[0]);
    close(pr->fds[1]);
    free(pr);
}

static void pair_maybe_done(struct pair *pr)
{
    if (pr->a.closed_out && pr->b.closed_out)
        pair_end(pr);
}

/* Writes what is due; arms the timer for the next chunk or waits to write. */
static void flush(struct way *w)
{
    uint64_t now = now_us();
    while (w->head && w->head->due_us <= now) {
        struct chunk *c = w->head;
        if (c->fin) {
            shutdown(w->to, SHUT_WR);
            w->closed_out = 1;
        } else {
            ssize_t n = send(w->to, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                event_add(w->wr, NULL);
                return;
            }
            if (n < 0) { /* the other side is gone: so is this pair */
                pair_end(w->pr);
                return;
            }
            c->off += (size_t)n;
            if (c->off < c->len) {
                event_add(w->wr, NULL);
                return;
            }
        }
        w->head = c->next;
        if (w->head == NULL)
            w->tail = NULL;
        free(c);
    }
    if (w->head) {
        uint64_t wait = w->head->due_us - now;
        struct timeval tv = {(time_t)(wait / 1000000u), (suseconds_t)(wait % 1000000u)};
        evtimer_add(w->timer, &tv);
    } else if (w->closed_out) {
        pair_maybe_done(w->pr);
    }
}

static void queue(struct way *w, const uint8_t *data, size_t len, int fin)
{
    struct chunk *c = malloc(sizeof *c + len);
    if (c == NULL) {
        perror("evtls-relay: malloc");
        exit(1);
    }
    c->next = NULL;
    c->due_us = now_us() + delay_us;
    c->len = len;
    c->off = 0;
    c->fin = fin;
    memcpy(c->data, data, len);
    if (w->tail)
        w->tail->next = c;
    else
        w->head = c;
    w->tail = c;
    if (w->head == c)
        flush(w);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct way *w = arg;
    uint8_t buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) { /* a reset: both sides end now */
        pair_end(w->pr);
        return;
    }
    if (n == 0) {
        event_del(w->rd);
        w->eof = 1;
        queue(w, NULL, 0, 1);
        return;
    }
    queue(w, buf, (size_t)n, 0);
}

static void on_due(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    flush(arg);
}

/* --hold is over: the client's bytes are read from now on. */
static void on_hold_end(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct way *w = arg;
    event_free(w->timer); /* from now on the queue's */
    w->timer = evtimer_new(base, on_due, w);
    event_add(w->rd, NULL);
}

static void way_init(struct pair *pr, struct way *w, int from, int to, uint64_t hold)
{
    w->pr = pr;
    w->from = from;
    w->to = to;
    w->rd = event_new(base, from, EV_READ | EV_PERSIST, on_read, w);
    w->wr = event_new(base, to, EV_WRITE, on_due, w);
    if (hold == 0) {
        w->timer = evtimer_new(base, on_due, w);
        event_add(w->rd, NULL);
        return;
    }
    /* the hold's timer first (nothing is queued before the reading
     * starts), then the queue's */
    w->timer = evtimer_new(base, on_hold_end, w);
    struct timeval tv = {(time_t)(hold / 1000000u), (suseconds_t)(hold % 1000000u)};
    evtimer_add(w->timer, &tv);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what, (void)arg;
    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return;
    /* The target is on loopback: its connect completes at once (or fails). */
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s < 0 || connect(s, (struct sockaddr *)&target, sizeof target) != 0) {
        if (s >= 0)
            close(s);
        close(c);
        return;
    }
    evutil_make_socket_nonblocking(s);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct pair *pr = calloc(1, sizeof *pr);
    if (pr == NULL) {
        close(c);
        close(s);
        return;
    }
    pr->fds[0] = c;
    pr->fds[1] = s;
    way_init(pr, &pr->a, c, s, hold_us);
    way_init(pr, &pr->b, s, c, 0);
}

int main(int argc, char **argv)
{
    long to = -1, delay = -1, hold = 0, rcvbuf = 0;
    const char *addr = "127.0.0.1";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--to") == 0)
            to = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--delay") == 0)
            delay = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--target") == 0)
            addr = argv[i + 1];
        else if (strcmp(argv[i], "--hold") == 0)
            hold = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--rcvbuf") == 0)
            rcvbuf = strtol(argv[i + 1], NULL, 10);
    }
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    if (to <= 0 || to > 65535 || delay < 0 || delay > 10000 || hold < 0 || hold > 10000 ||
        rcvbuf < 0 || inet_pton(AF_INET, addr, &target.sin_addr) != 1 ||
        (ntohl(target.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "usage: evtls-relay --to PORT --delay MS [--target 127.x.y.z] [--hold MS] "
                        "[--rcvbuf BYTES]\n");
        return 2;
    }
    target.sin_port = htons((uint16_t)to);
    delay_us = (uint64_t)delay * 1000u;
    hold_us = (uint64_t)hold * 1000u;
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t ll = sizeof la;
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rb = (int)rcvbuf; /* inherited by the accepted sockets */
    if (rb > 0)
        setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&la, sizeof la) != 0 || listen(lfd, 1024) != 0 ||
        getsockname(lfd, (struct sockaddr *)&la, &ll) != 0) {
        perror("evtls-relay: listen");
        return 1;
    }
    base = event_base_new();
    struct event *acc = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
    event_add(acc, NULL);
    printf("ACCEPT 127.0.0.1:%u\n", ntohs(la.sin_port));
    fflush(stdout);
    event_base_dispatch(base);
    event_free(acc);
    event_base_free(base);
    close(lfd);
    return 0;
}
