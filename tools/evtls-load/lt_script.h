/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_script.h - evtls-load --script FILE.lua: wrk's script API on Lua 5.4,
 * so that a wrk user's script runs unchanged.
 *
 * One Lua state per worker thread, used by that thread alone (no lock),
 * and one on the main thread for setup() and done(). As wrk:
 * - the main state runs setup(thread) once per thread before the run:
 *   thread.addr (get and set: the address that thread connects to, from
 *   wrk.lookup), thread:get(name), thread:set(name, value) (a global of the
 *   thread's state; numbers, strings, booleans and tables of them are
 *   copied), thread:stop();
 * - each thread's state runs init(args) (the arguments after "--"), then
 *   for each request delay() (milliseconds to wait first), request() (the
 *   request's bytes, usually from wrk.format; without request() the
 *   request wrk.format() makes after init, once) and response(status,
 *   headers, body) when defined;
 * - the main state runs done(summary, latency, requests) after the run.
 * wrk's table: scheme, host, port, method, path, headers, body, thread
 * (a thread's own), format(method, path, headers, body), request() (the
 * request format() makes after init), lookup(host, service) and
 * connect(addr) (they block: not once a thread's loop runs).
 * A Lua error names the file and line and ends the run (exit 1). */
#ifndef LT_SCRIPT_H
#define LT_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <evtls/http.h>

#include "lt_opts.h"
#include "lt_stats.h"

typedef struct lt_script lt_script;

/* A request a script made, shared by the slots that send it. */
typedef struct lt_sreq {
    evtls_http_req *req;
    unsigned refs;
} lt_sreq;

/* Loads o->script_path into a new state and runs its main chunk, wrk's
 * table set from o (main: the setup state, with wrk.lookup and
 * wrk.connect). Returns NULL with err set ("FILE:LINE: ..."). */
lt_script *lt_script_new(const lt_opts *o, int main, char *err, size_t errlen);

/* setup(thread) in the main state m for the thread whose state is t,
 * which m then owns (freed with m). Returns 0 or -1 with err set. */
int lt_script_setup(lt_script *m, lt_script *t, char *err, size_t errlen);

/* init(args) in t, and the request wrk.format() makes then when the
 * script has no request(). Returns 0 or -1 with err set. */
int lt_script_init(lt_script *t, char *err, size_t errlen);

/* The address setup() gave the thread (thread.addr), NULL for none. */
const char *lt_script_addr(const lt_script *t, uint16_t *port);

/* The next request (a reference: give it back with lt_sreq_unref).
 * NULL with err set on a script error. */
lt_sreq *lt_script_request(lt_script *t, char *err, size_t errlen);
void lt_sreq_unref(lt_sreq *r);

/* delay(): the milliseconds to wait before the next request (0 without
 * delay()). Returns 0 or -1 with err set. */
int lt_script_delay(lt_script *t, unsigned *ms, char *err, size_t errlen);

/* The script has response(): the body is to be kept for it. */
int lt_script_wants_response(const lt_script *t);

/* response(status, headers, body). Returns 0 or -1 with err set. */
int lt_script_response(lt_script *t, const evtls_http_resp *r, const char *body, size_t len,
                       char *err, size_t errlen);

/* thread:stop() was called in t. */
int lt_script_stop_asked(const lt_script *t);

/* done(summary, latency, requests) in m, its output on out (print and
 * io.write). Returns 0 or -1 with the error printed. */
int lt_script_done(lt_script *m, const lt_result *r, FILE *out);

/* A main state owns t (lt_script_setup): the worker does not free it. */
int lt_script_owned(const lt_script *t);

void lt_script_free(lt_script *s);

/* The request in raw (wrk.format's bytes, one or more requests) parsed:
 * the first one's method, target, headers (Host apart) and body, and
 * where the next begins. Pure. Returns 0, or -1 with the reason in err. */
typedef struct lt_raw_req {
    char method[16];
    const char *target, *host; /* into a copy the caller gave (NUL-terminated in it) */
    const char *names[64], *values[64];
    unsigned n_headers;
    const char *body;
    size_t body_len;
    size_t used; /* bytes of raw this request took */
} lt_raw_req;
int lt_raw_req_parse(char *raw, size_t len, lt_raw_req *out, char *err, size_t errlen);

#endif
