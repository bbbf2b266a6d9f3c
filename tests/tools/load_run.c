/* SPDX-License-Identifier: GPL-2.0-or-later */
/* load_run.c - see load_run.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "load_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peer.h"

struct proc load_proc;
static char dir[64];

int load_dir_make(const char *name)
{
    snprintf(dir, sizeof dir, "/tmp/%s-%d", name, (int)getpid());
    return mkdir(dir, 0755);
}

const char *load_dir(void)
{
    return dir;
}

const char *load_log(const char *name)
{
    static char p[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s.log", dir, name);
    return p[k];
}

void load_dir_remove(const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        unlink(load_log(names[i]));
    rmdir(dir);
}

int load_run(unsigned timeout_ms, ...)
{
    va_list ap;
    va_start(ap, timeout_ms);
    int st = proc_run_va(&load_proc, EVTLS_LOAD_PATH, timeout_ms, ap);
    va_end(ap);
    if (st < 0)
        fail_msg("evtls-load did not end in %u ms; stdout:\n%s\nstderr:\n%s", timeout_ms,
                 load_proc.out, load_proc.err);
    return st;
}

int load_take_log(const char *name, int want, char *copy, size_t cap)
{
    peer_log_lines(load_log(name), want);
    usleep(50000); /* a line beyond want, if one were coming, would show */
    int n = peer_log_lines(load_log(name), 0);
    if (copy) {
        FILE *f = fopen(load_log(name), "r");
        size_t got = f ? fread(copy, 1, cap - 1, f) : 0;
        copy[got] = '\0';
        if (f)
            fclose(f);
    }
    if (truncate(load_log(name), 0) != 0)
        fail_msg("cannot truncate %s", load_log(name));
    return n;
}

lt_json *load_result(const char *path)
{
    static char text[1 << 20];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("no result %s; stdout:\n%s\nstderr:\n%s", path, load_proc.out, load_proc.err);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    char err[160];
    lt_json *j = lt_json_parse(text, n, err, sizeof err);
    if (j == NULL)
        fail_msg("%s: not JSON: %s", path, err);
    return j;
}

uint64_t load_u64(const lt_json *j, const char *key)
{
    uint64_t v;
    if (lt_json_u64(lt_json_get(j, key), &v) != 0)
        fail_msg("no count \"%s\"", key);
    return v;
}
