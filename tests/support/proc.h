/* SPDX-License-Identifier: GPL-2.0-or-later */
/* proc.h - runs a program of ours (evtls-poll, evtls-load) as the user
 * would, with its stdout and stderr kept apart, a time limit, signals. */
#ifndef EVTLS_TEST_PROC_H
#define EVTLS_TEST_PROC_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#define PROC_BUF (256 * 1024)

struct proc {
    pid_t pid;
    int out_fd, err_fd;
    int status; /* exit status once ended; 128+N when killed by signal N */
    size_t out_len, err_len;
    char out[PROC_BUF], err[PROC_BUF]; /* NUL-terminated, truncated if longer */
};

/* In a child between fork and exec, with the pid its parent had before
 * the fork: the child gets SIGKILL when that process ends, however it
 * ends (PR_SET_PDEATHSIG); it exits at once if the parent is gone already. */
void proc_die_with_parent(pid_t parent);

/* Starts argv (argv[0] a path) with stdin from /dev/null. Returns 0 or -1. */
int proc_start(struct proc *p, const char *const *argv);

/* Collects output until needle appears in stdout or stderr (returns 0),
 * the program exits or timeout_ms pass (returns -1). Every timeout_ms here
 * is a safety limit against a hang, never an assertion on speed, and is
 * multiplied by test_time_scale() (harness.h). */
int proc_wait_for(struct proc *p, const char *needle, unsigned timeout_ms);

/* Collects output until the program exits and returns its status; after
 * timeout_ms it is killed and -1 is returned. */
int proc_wait(struct proc *p, unsigned timeout_ms);

/* proc_start + proc_wait. */
int proc_run(struct proc *p, const char *const *argv, unsigned timeout_ms);

/* proc_run with argv path, then the arguments in ap up to a NULL. */
int proc_run_va(struct proc *p, const char *path, unsigned timeout_ms, va_list ap);

/* Number of non-overlapping occurrences of needle in s. */
int count_of(const char *s, const char *needle);

#endif
