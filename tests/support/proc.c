/* SPDX-License-Identifier: GPL-2.0-or-later */
/* proc.c - see proc.h. */
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"

static unsigned long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long)ts.tv_sec * 1000ul + (unsigned long)ts.tv_nsec / 1000000ul;
}

void proc_die_with_parent(pid_t parent)
{
    /* Set in the child before exec (and kept across it: none of our peers
     * is set-user-ID), so that a test that ends in any way, a failed
     * assertion, a crash or ctest's SIGKILL included, takes its peers with
     * it. The check covers a parent gone before the prctl. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
}

int proc_start(struct proc *p, const char *const *argv)
{
    int o[2], e[2];
    memset(p, 0, sizeof *p);
    p->status = -1;
    if (pipe(o) != 0)
        return -1;
    if (pipe(e) != 0) {
        close(o[0]);
        close(o[1]);
        return -1;
    }
    pid_t me = getpid();
    p->pid = fork();
    if (p->pid == 0) {
        proc_die_with_parent(me);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        close(o[0]);
        close(e[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    p->out_fd = o[0];
    p->err_fd = e[0];
    fcntl(p->out_fd, F_SETFD, FD_CLOEXEC);
    fcntl(p->err_fd, F_SETFD, FD_CLOEXEC);
    return p->pid > 0 ? 0 : -1;
}

/* Reads what is there (waiting up to ms); returns 0 when both pipes ended. */
static int pump(struct proc *p, int ms)
{
    struct pollfd pf[2] = {{p->out_fd, POLLIN, 0}, {p->err_fd, POLLIN, 0}};
    int live = (p->out_fd >= 0) + (p->err_fd >= 0);
    if (live == 0)
        return 0;
    poll(pf, 2, ms);
    for (int i = 0; i < 2; i++) {
        int *fd = i ? &p->err_fd : &p->out_fd;
        char *buf = i ? p->err : p->out;
        size_t *len = i ? &p->err_len : &p->out_len;
        if (*fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        char tmp[8192];
        ssize_t n = read(*fd, tmp, sizeof tmp);
        if (n <= 0) {
            close(*fd);
            *fd = -1;
            continue;
        }
        size_t k = (size_t)n;
        if (k > PROC_BUF - 1 - *len)
            k = PROC_BUF - 1 - *len;
        memcpy(buf + *len, tmp, k);
        *len += k;
        buf[*len] = '\0';
    }
    return (p->out_fd >= 0) || (p->err_fd >= 0);
}

int proc_wait_for(struct proc *p, const char *needle, unsigned timeout_ms)
{
    unsigned long end = mono_ms() + (unsigned long)timeout_ms * test_time_scale();
    while (mono_ms() < end) {
        if (strstr(p->out, needle) || strstr(p->err, needle))
            return 0;
        if (!pump(p, 20))
            break;
    }
    return strstr(p->out, needle) || strstr(p->err, needle) ? 0 : -1;
}

int proc_wait(struct proc *p, unsigned timeout_ms)
{
    unsigned long end = mono_ms() + (unsigned long)timeout_ms * test_time_scale();
    while (pump(p, 20) && mono_ms() < end)
        ;
    int st;
    while (waitpid(p->pid, &st, WNOHANG) == 0) {
        if (mono_ms() >= end) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            p->status = -1;
            goto done;
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
done:
    for (int i = 0; i < 2; i++) {
        int *fd = i ? &p->err_fd : &p->out_fd;
        if (*fd >= 0) {
            close(*fd);
            *fd = -1;
        }
    }
    return p->status;
}

int proc_run(struct proc *p, const char *const *argv, unsigned timeout_ms)
{
    if (proc_start(p, argv) != 0)
        return -1;
    return proc_wait(p, timeout_ms);
}

int proc_run_va(struct proc *p, const char *path, unsigned timeout_ms, va_list ap)
{
    const char *argv[64] = {path};
    int n = 1;
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 63)
        argv[n++] = a;
    argv[n] = NULL;
    return proc_run(p, argv, timeout_ms);
}

int count_of(const char *s, const char *needle)
{
    int n = 0;
    size_t k = strlen(needle);
    while ((s = strstr(s, needle)) != NULL) {
        n++;
        s += k;
    }
    return n;
}
