/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lt_script.c - wrk's script API on Lua 5.4 (lt_script.h). */
#include "lt_script.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#define LT_SCRIPT_THREADS 1024
#define THREAD_MT         "evtls.thread"
#define ADDR_MT           "evtls.addr"
#define STATS_MT          "evtls.stats"

struct lt_script {
    lua_State *L;
    const lt_opts *o;
    int main;
    int f_request, f_response, f_delay; /* registry references, LUA_NOREF when not defined */
    int stop;
    char addr[64]; /* thread.addr: numeric host */
    uint16_t port;
    int has_addr;
    int owned;   /* a main state frees it */
    int running; /* a thread's loop runs it: nothing may block */
    lt_script *threads[LT_SCRIPT_THREADS];
    unsigned n_threads;
    /* the last request made, kept while request() returns the same bytes */
    lt_sreq *last;
    char *last_raw;
    size_t last_len;
    /* the rest of a string that held several requests (wrk's pipelining),
     * sent one after the other before request() is called again */
    char *pending;
    size_t pending_len, pending_off;
    FILE *out; /* done(): where print and io.write go */
};

/* An address of wrk.lookup. */
struct addr_ud {
    char host[64];
    uint16_t port;
};

/* done()'s latency and requests: percentile(p), min, max, mean, stdev. */
struct stats_ud {
    const lt_hist *h; /* latency, in us */
    double *v;        /* or values, sorted */
    size_t n;
};

/* ---- requests: wrk.format's bytes parsed */

static const char *line_end(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL)
        return NULL;
    *next = nl + 1;
    return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
}

int lt_raw_req_parse(char *raw, size_t len, lt_raw_req *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *p = raw, *end = raw + len;
    const char *next, *eol = line_end(p, end, &next);
    if (eol == NULL) {
        snprintf(err, errlen, "a request without its line's end (\"METHOD PATH HTTP/1.1\\r\\n\")");
        return -1;
    }
    char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (sp1 == NULL || sp1 == p || sp2 == NULL || (size_t)(sp1 - p) >= sizeof out->method ||
        sp2 == sp1 + 1 || eol - sp2 < 9 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        snprintf(err, errlen, "'%.*s' is not a request line (\"METHOD PATH HTTP/1.1\")",
                 (int)(eol - p > 60 ? 60 : eol - p), p);
        return -1;
    }
    memcpy(out->method, p, (size_t)(sp1 - p));
    *sp2 = '\0';
    out->target = sp1 + 1;
    long clen = -1;
    for (p = (char *)next;;) {
        eol = line_end(p, end, &next);
        if (eol == NULL) {
            snprintf(err, errlen, "the headers do not end (an empty line after them)");
            return -1;
        }
        if (eol == p) { /* the empty line */
            p = (char *)next;
            break;
        }
        char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon == p) {
            snprintf(err, errlen, "'%.*s' is not a header", (int)(eol - p > 60 ? 60 : eol - p), p);
            return -1;
        }
        *colon = '\0';
        char *v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        *(char *)eol = '\0';
        if (strcasecmp(p, "Host") == 0) {
            out->host = v;
        } else if (strcasecmp(p, "Content-Length") == 0) {
            char *e;
            clen = strtol(v, &e, 10);
            if (*v == '\0' || *e != '\0' || clen < 0) {
                snprintf(err, errlen, "Content-Length '%s' is not a length", v);
                return -1;
            }
        } else if (strcasecmp(p, "Transfer-Encoding") == 0) {
            snprintf(err, errlen, "a chunked request body is not sent (give Content-Length)");
            return -1;
        } else if (out->n_headers == sizeof out->names / sizeof out->names[0]) {
            snprintf(err, errlen, "more than 64 headers");
            return -1;
        } else {
            out->names[out->n_headers] = p;
            out->values[out->n_headers++] = v;
        }
        p = (char *)next;
    }
    size_t blen = clen > 0 ? (size_t)clen : 0;
    if ((size_t)(end - p) < blen) {
        snprintf(err, errlen, "Content-Length %ld, but %zu bytes of body", clen, (size_t)(end - p));
        return -1;
    }
    out->body = clen >= 0 ? p : NULL;
    out->body_len = blen;
    out->used = (size_t)(p + blen - raw);
    return 0;
}

/* An evtls request from raw's first request (raw is changed). */
static lt_sreq *build_request(lt_script *t, char *raw, size_t len, size_t *used, char *err,
                              size_t errlen)
{
    lt_raw_req q;
    char why[200];
    if (lt_raw_req_parse(raw, len, &q, why, sizeof why) != 0) {
        snprintf(err, errlen, "request(): %s", why);
        return NULL;
    }
    *used = q.used;
    lt_sreq *r = calloc(1, sizeof *r);
    evtls_http_req *req =
        r ? evtls_http_req_new(q.method, q.host ? q.host : t->o->url.authority, q.target) : NULL;
    if (req == NULL) {
        free(r);
        snprintf(err, errlen,
                 "request(): '%s %s' is not a request evtls sends (GET, HEAD, POST, PUT, DELETE, "
                 "OPTIONS or PATCH, a path without spaces)",
                 q.method, q.target);
        return NULL;
    }
    r->req = req;
    r->refs = 1;
    for (unsigned i = 0; i < q.n_headers; i++)
        if (evtls_http_req_add_header(req, q.names[i], q.values[i]) != 0) {
            snprintf(err, errlen, "request(): header '%s' cannot be sent", q.names[i]);
            lt_sreq_unref(r);
            return NULL;
        }
    if (q.body && evtls_http_req_set_body(req, q.body, q.body_len) != 0) {
        snprintf(err, errlen, "request(): a %s takes no body", q.method);
        lt_sreq_unref(r);
        return NULL;
    }
    return r;
}

void lt_sreq_unref(lt_sreq *r)
{
    if (r && --r->refs == 0) {
        evtls_http_req_free(r->req);
        free(r);
    }
}

/* ---- calling Lua */

/* Calls the function under nargs arguments on the stack with nres
 * results; a failure's message (file and line) in err. */
static int call(lua_State *L, int nargs, int nres, const char *what, char *err, size_t errlen)
{
    if (lua_pcall(L, nargs, nres, 0) == LUA_OK)
        return 0;
    const char *msg = lua_tostring(L, -1);
    snprintf(err, errlen, "%s: %s", what, msg ? msg : "an error without a message");
    lua_pop(L, 1);
    return -1;
}

static int ref_global(lua_State *L, const char *name)
{
    if (lua_getglobal(L, name) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return LUA_NOREF;
    }
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* ---- values copied between states (thread:get and thread:set) */

static int copy_value(lua_State *from, int idx, lua_State *to, int depth)
{
    idx = lua_absindex(from, idx);
    switch (lua_type(from, idx)) {
    case LUA_TNIL: lua_pushnil(to); return 0;
    case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(from, idx))
            lua_pushinteger(to, lua_tointeger(from, idx));
        else
            lua_pushnumber(to, lua_tonumber(from, idx));
        return 0;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(from, idx, &n);
        lua_pushlstring(to, s, n);
        return 0;
    }
    case LUA_TTABLE:
        if (depth > 16)
            return -1;
        lua_newtable(to);
        lua_pushnil(from);
        while (lua_next(from, idx)) {
            if (copy_value(from, -2, to, depth + 1) != 0 ||
                copy_value(from, -1, to, depth + 1) != 0) {
                lua_pop(from, 2);
                return -1;
            }
            lua_settable(to, -3);
            lua_pop(from, 1);
        }
        return 0;
    default: return -1;
    }
}

/* ---- the thread object */

static lt_script *check_thread(lua_State *L)
{
    return *(lt_script **)luaL_checkudata(L, 1, THREAD_MT);
}

static int thread_get(lua_State *L)
{
    lt_script *t = check_thread(L);
    const char *name = luaL_checkstring(L, 2);
    if (t->L == L) {
        lua_getglobal(L, name);
        return 1;
    }
    lua_getglobal(t->L, name);
    int rc = copy_value(t->L, -1, L, 0);
    lua_pop(t->L, 1);
    if (rc != 0)
        return luaL_error(L,
                          "thread:get('%s'): only nil, booleans, numbers, strings and tables "
                          "of them are copied",
                          name);
    return 1;
}

static int thread_set(lua_State *L)
{
    lt_script *t = check_thread(L);
    const char *name = luaL_checkstring(L, 2);
    luaL_checkany(L, 3);
    if (t->L == L) {
        lua_pushvalue(L, 3);
        lua_setglobal(L, name);
        return 0;
    }
    if (copy_value(L, 3, t->L, 0) != 0)
        return luaL_error(L,
                          "thread:set('%s'): only nil, booleans, numbers, strings and tables "
                          "of them are copied",
                          name);
    lua_setglobal(t->L, name);
    return 0;
}

static int thread_stop(lua_State *L)
{
    check_thread(L)->stop = 1;
    return 0;
}

static int thread_index(lua_State *L)
{
    lt_script *t = check_thread(L);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "addr") == 0) {
        if (!t->has_addr)
            lua_pushnil(L);
        else {
            struct addr_ud *a = lua_newuserdatauv(L, sizeof *a, 0);
            snprintf(a->host, sizeof a->host, "%s", t->addr);
            a->port = t->port;
            luaL_setmetatable(L, ADDR_MT);
        }
        return 1;
    }
    if (strcmp(key, "get") == 0)
        lua_pushcfunction(L, thread_get);
    else if (strcmp(key, "set") == 0)
        lua_pushcfunction(L, thread_set);
    else if (strcmp(key, "stop") == 0)
        lua_pushcfunction(L, thread_stop);
    else
        lua_pushnil(L);
    return 1;
}

static int thread_newindex(lua_State *L)
{
    lt_script *t = check_thread(L);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "addr") != 0)
        return luaL_error(L, "a thread has addr, get, set and stop; '%s' cannot be set", key);
    if (lua_isnil(L, 3)) {
        t->has_addr = 0;
        return 0;
    }
    struct addr_ud *a = luaL_checkudata(L, 3, ADDR_MT);
    snprintf(t->addr, sizeof t->addr, "%s", a->host);
    t->port = a->port;
    t->has_addr = 1;
    return 0;
}

static void push_thread(lua_State *L, lt_script *t)
{
    lt_script **u = lua_newuserdatauv(L, sizeof *u, 0);
    *u = t;
    luaL_setmetatable(L, THREAD_MT);
}

/* ---- addresses: wrk.lookup and wrk.connect (setup only) */

static int addr_tostring(lua_State *L)
{
    struct addr_ud *a = luaL_checkudata(L, 1, ADDR_MT);
    if (strchr(a->host, ':'))
        lua_pushfstring(L, "[%s]:%d", a->host, (int)a->port);
    else
        lua_pushfstring(L, "%s:%d", a->host, (int)a->port);
    return 1;
}

/* wrk.lookup and wrk.connect block: not once a thread's loop runs. */
static void no_blocking(lua_State *L)
{
    const lt_script *s = *(lt_script **)lua_getextraspace(L);
    if (s->running)
        luaL_error(L, "wrk.lookup and wrk.connect block: they run in setup(), init() or the "
                      "script's main chunk, not in delay(), request() or response()");
}

static int wrk_lookup(lua_State *L)
{
    no_blocking(L);
    const char *host = luaL_checkstring(L, 1), *service = luaL_checkstring(L, 2);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0)
        return luaL_error(L, "unable to resolve %s:%s %s", host, service, gai_strerror(rc));
    lua_newtable(L);
    int i = 1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        struct addr_ud *a = lua_newuserdatauv(L, sizeof *a, 0);
        const void *ip = ai->ai_family == AF_INET6
                             ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                             : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
        inet_ntop(ai->ai_family, ip, a->host, sizeof a->host);
        a->port = ntohs(ai->ai_family == AF_INET6 ? ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port
                                                  : ((struct sockaddr_in *)ai->ai_addr)->sin_port);
        luaL_setmetatable(L, ADDR_MT);
        lua_rawseti(L, -2, i++);
    }
    freeaddrinfo(res);
    return 1;
}

/* true when a TCP connect to addr succeeds within a second. */
static int wrk_connect(lua_State *L)
{
    no_blocking(L);
    struct addr_ud *a = luaL_checkudata(L, 1, ADDR_MT);
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, a->host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(a->port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, a->host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(a->port);
        sl = sizeof *s6;
    } else {
        lua_pushboolean(L, 0);
        return 1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), ok = 0;
    if (fd >= 0 && (connect(fd, (struct sockaddr *)&ss, sl) == 0 || errno == EINPROGRESS)) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int soerr = 0;
        socklen_t el = sizeof soerr;
        ok = poll(&pfd, 1, 1000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) == 0 &&
             soerr == 0;
    }
    if (fd >= 0)
        close(fd);
    lua_pushboolean(L, ok);
    return 1;
}

/* ---- wrk.format(method, path, headers, body) */

static int wrk_format(lua_State *L)
{
    lua_settop(L, 4);
    lua_getglobal(L, "wrk"); /* 5 */
    const char *field[4] = {"method", "path", "headers", "body"};
    for (int i = 0; i < 4; i++)
        if (lua_isnil(L, i + 1)) {
            lua_getfield(L, 5, field[i]);
            lua_replace(L, i + 1);
        }
    size_t blen = 0;
    const char *body = lua_isnil(L, 4) ? NULL : luaL_checklstring(L, 4, &blen);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, luaL_checkstring(L, 1));
    luaL_addchar(&b, ' ');
    luaL_addstring(&b, luaL_checkstring(L, 2));
    luaL_addstring(&b, " HTTP/1.1\r\n");
    int host = 0;
    if (lua_istable(L, 3)) {
        lua_pushnil(L);
        while (lua_next(L, 3)) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                const char *name = lua_tostring(L, -2);
                if (strcasecmp(name, "Content-Length") != 0 && !lua_isnil(L, -1)) {
                    host |= strcasecmp(name, "Host") == 0;
                    lua_pushvalue(L, -2);
                    luaL_addvalue(&b);
                    luaL_addstring(&b, ": ");
                    lua_pushvalue(L, -1);
                    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
                        return luaL_error(L, "wrk.format: header '%s' is not a string", name);
                    luaL_addvalue(&b);
                    luaL_addstring(&b, "\r\n");
                }
            }
            lua_pop(L, 1);
        }
    }
    if (!host) {
        lua_getfield(L, 5, "authority");
        luaL_addstring(&b, "Host: ");
        luaL_addvalue(&b);
        luaL_addstring(&b, "\r\n");
    }
    if (body) {
        lua_pushfstring(L, "Content-Length: %I\r\n", (lua_Integer)blen);
        luaL_addvalue(&b);
    }
    luaL_addstring(&b, "\r\n");
    if (body)
        luaL_addlstring(&b, body, blen);
    luaL_pushresult(&b);
    return 1;
}

static int wrk_request(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    return 1;
}

/* ---- the state */

static void set_wrk(lt_script *s)
{
    lua_State *L = s->L;
    const lt_opts *o = s->o;
    lua_newtable(L);
    lua_pushstring(L, o->url.plain ? "http" : "https");
    lua_setfield(L, -2, "scheme");
    lua_pushstring(L, o->url.host);
    lua_setfield(L, -2, "host");
    lua_pushfstring(L, "%d", (int)o->url.port);
    lua_setfield(L, -2, "port");
    lua_pushstring(L, o->url.authority);
    lua_setfield(L, -2, "authority");
    lua_pushstring(L, o->method ? o->method : "GET");
    lua_setfield(L, -2, "method");
    lua_pushstring(L, o->url.target);
    lua_setfield(L, -2, "path");
    lua_newtable(L); /* -H's headers */
    for (unsigned i = 0; i < o->n_headers; i++) {
        const char *colon = strchr(o->headers[i], ':'), *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        lua_pushlstring(L, o->headers[i], (size_t)(colon - o->headers[i]));
        lua_pushstring(L, v);
        lua_settable(L, -3);
    }
    lua_setfield(L, -2, "headers");
    if (o->data) {
        lua_pushlstring(L, o->data_buf ? o->data_buf : o->data,
                        o->data_buf ? o->data_len : strlen(o->data));
        lua_setfield(L, -2, "body");
    }
    lua_pushcfunction(L, wrk_format);
    lua_setfield(L, -2, "format");
    lua_pushcfunction(L, wrk_lookup);
    lua_setfield(L, -2, "lookup");
    lua_pushcfunction(L, wrk_connect);
    lua_setfield(L, -2, "connect");
    if (!s->main) {
        push_thread(L, s);
        lua_setfield(L, -2, "thread");
    }
    lua_setglobal(L, "wrk");
}

static void metatables(lua_State *L)
{
    luaL_newmetatable(L, THREAD_MT);
    lua_pushcfunction(L, thread_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, thread_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pop(L, 1);
    luaL_newmetatable(L, ADDR_MT);
    lua_pushcfunction(L, addr_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

lt_script *lt_script_new(const lt_opts *o, int main, char *err, size_t errlen)
{
    lt_script *s = calloc(1, sizeof *s);
    if (s == NULL || (s->L = luaL_newstate()) == NULL) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->o = o;
    s->main = main;
    s->f_request = s->f_response = s->f_delay = LUA_NOREF;
    s->out = stdout;
    *(lt_script **)lua_getextraspace(s->L) = s;
    luaL_openlibs(s->L);
    metatables(s->L);
    set_wrk(s);
    if (luaL_loadfile(s->L, o->script_path) != LUA_OK) {
        const char *msg = lua_tostring(s->L, -1);
        snprintf(err, errlen, "%s", msg ? msg : "cannot load the script");
        lt_script_free(s);
        return NULL;
    }
    if (call(s->L, 0, 0, "the script", err, errlen) != 0) {
        lt_script_free(s);
        return NULL;
    }
    return s;
}

int lt_script_setup(lt_script *m, lt_script *t, char *err, size_t errlen)
{
    if (m->n_threads == LT_SCRIPT_THREADS)
        return snprintf(err, errlen, "more than %d threads", LT_SCRIPT_THREADS), -1;
    m->threads[m->n_threads++] = t;
    t->owned = 1;
    if (lua_getglobal(m->L, "setup") != LUA_TFUNCTION) {
        lua_pop(m->L, 1);
        return 0;
    }
    push_thread(m->L, t);
    return call(m->L, 1, 0, "setup()", err, errlen);
}

int lt_script_init(lt_script *t, char *err, size_t errlen)
{
    lua_State *L = t->L;
    if (lua_getglobal(L, "init") == LUA_TFUNCTION) {
        lua_newtable(L); /* the arguments after "--" */
        for (unsigned i = 0; i < t->o->n_script_args; i++) {
            lua_pushstring(L, t->o->script_args[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        if (call(L, 1, 0, "init()", err, errlen) != 0)
            return -1;
    } else {
        lua_pop(L, 1);
    }
    /* wrk.request(): the request wrk.format() makes now, with what init()
     * set (wrk's setup example returns it from its own request()) */
    lua_getglobal(L, "wrk");
    lua_pushcfunction(L, wrk_format);
    if (call(L, 0, 1, "wrk.format()", err, errlen) != 0)
        return -1;
    lua_pushcclosure(L, wrk_request, 1);
    lua_setfield(L, -2, "request");
    lua_pop(L, 1);
    t->f_request = ref_global(L, "request");
    t->f_response = ref_global(L, "response");
    t->f_delay = ref_global(L, "delay");
    t->running = 1;
    if (t->f_request == LUA_NOREF) { /* wrk's: the request wrk.format() makes now, every time */
        lua_pushcfunction(L, wrk_format);
        if (call(L, 0, 1, "wrk.format()", err, errlen) != 0)
            return -1;
        size_t len, used;
        const char *raw = lua_tolstring(L, -1, &len);
        t->last_raw = malloc(len + 1);
        if (t->last_raw == NULL)
            return snprintf(err, errlen, "out of memory"), -1;
        memcpy(t->last_raw, raw, len + 1);
        t->last_len = len;
        lua_pop(L, 1);
        char *work = malloc(len + 1);
        if (work == NULL)
            return snprintf(err, errlen, "out of memory"), -1;
        memcpy(work, t->last_raw, len + 1);
        t->last = build_request(t, work, len, &used, err, errlen);
        free(work);
        if (t->last == NULL)
            return -1;
    }
    return 0;
}

const char *lt_script_addr(const lt_script *t, uint16_t *port)
{
    *port = t->port;
    return t->has_addr ? t->addr : NULL;
}

/* The next of a string's several requests. */
static lt_sreq *next_pending(lt_script *t, char *err, size_t errlen)
{
    size_t used;
    lt_sreq *r = build_request(t, t->pending + t->pending_off, t->pending_len - t->pending_off,
                               &used, err, errlen);
    t->pending_off += r ? used : t->pending_len;
    if (t->pending_off >= t->pending_len) {
        free(t->pending);
        t->pending = NULL;
    }
    return r;
}

lt_sreq *lt_script_request(lt_script *t, char *err, size_t errlen)
{
    if (t->pending)
        return next_pending(t, err, errlen);
    if (t->f_request == LUA_NOREF) {
        t->last->refs++;
        return t->last;
    }
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->f_request);
    if (call(L, 0, 1, "request()", err, errlen) != 0)
        return NULL;
    size_t len;
    const char *raw = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (raw == NULL) {
        snprintf(err, errlen, "request(): returned %s, not the request's bytes",
                 luaL_typename(L, -1));
        lua_pop(L, 1);
        return NULL;
    }
    if (t->last && len == t->last_len && memcmp(raw, t->last_raw, len) == 0) {
        lua_pop(L, 1); /* the same bytes as the last time: the same request */
        t->last->refs++;
        return t->last;
    }
    char *copy = malloc(len + 1), *work = malloc(len + 1);
    if (copy == NULL || work == NULL) {
        free(copy);
        free(work);
        lua_pop(L, 1);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(copy, raw, len);
    copy[len] = '\0';
    memcpy(work, raw, len + 1);
    lua_pop(L, 1);
    size_t used;
    lt_sreq *r = build_request(t, work, len, &used, err, errlen);
    if (r && used < len) { /* several requests: the others after this one */
        memcpy(work, copy, len + 1);
        t->pending = work;
        t->pending_len = len;
        t->pending_off = used;
        free(copy);
        return r;
    }
    free(work);
    if (r == NULL) {
        free(copy);
        return NULL;
    }
    lt_sreq_unref(t->last);
    free(t->last_raw);
    t->last = r;
    t->last_raw = copy;
    t->last_len = len;
    r->refs++;
    return r;
}

int lt_script_delay(lt_script *t, unsigned *ms, char *err, size_t errlen)
{
    *ms = 0;
    if (t->f_delay == LUA_NOREF)
        return 0;
    lua_rawgeti(t->L, LUA_REGISTRYINDEX, t->f_delay);
    if (call(t->L, 0, 1, "delay()", err, errlen) != 0)
        return -1;
    int isnum;
    lua_Number v = lua_tonumberx(t->L, -1, &isnum);
    lua_pop(t->L, 1);
    if (!isnum || !(v >= 0) || v > 3600000) {
        snprintf(err, errlen, "delay(): not a number of milliseconds from 0 to 3600000");
        return -1;
    }
    *ms = (unsigned)v;
    return 0;
}

int lt_script_wants_response(const lt_script *t)
{
    return t->f_response != LUA_NOREF;
}

int lt_script_response(lt_script *t, const evtls_http_resp *r, const char *body, size_t len,
                       char *err, size_t errlen)
{
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->f_response);
    lua_pushinteger(L, evtls_http_resp_get_status(r));
    size_t n = r ? evtls_http_resp_get_header_count(r) : 0;
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        if (evtls_http_resp_get_header(r, i, &name, &value) == 0) {
            lua_pushstring(L, value);
            lua_setfield(L, -2, name);
        }
    }
    lua_pushlstring(L, body ? body : "", len);
    return call(L, 3, 0, "response()", err, errlen);
}

int lt_script_stop_asked(const lt_script *t)
{
    return t->stop;
}

/* ---- done() */

static int stats_percentile(lua_State *L)
{
    struct stats_ud *u = luaL_checkudata(L, 1, STATS_MT);
    double p = luaL_checknumber(L, 2);
    if (u->h) {
        lua_pushinteger(L, (lua_Integer)lt_hist_percentile(u->h, p));
        return 1;
    }
    if (u->n == 0) {
        lua_pushinteger(L, 0);
        return 1;
    }
    size_t k = (size_t)ceil(p / 100 * (double)u->n);
    lua_pushnumber(L, u->v[k == 0 ? 0 : k > u->n ? u->n - 1 : k - 1]);
    return 1;
}

/* The mean and standard deviation of u's values. */
static void stats_moments(const struct stats_ud *u, double *mean, double *stdev)
{
    double m = 0, sq = 0;
    if (u->h && u->h->count) {
        m = lt_hist_mean(u->h);
        for (unsigned i = 0; i < LT_HIST_SLOTS; i++)
            if (u->h->slot[i]) {
                double mid = ((double)lt_hist_slot_low(i) + (double)lt_hist_slot_high(i)) / 2;
                sq += (double)u->h->slot[i] * (mid - m) * (mid - m);
            }
        sq /= (double)u->h->count;
    } else if (!u->h && u->n) {
        for (size_t i = 0; i < u->n; i++)
            m += u->v[i] / (double)u->n;
        for (size_t i = 0; i < u->n; i++)
            sq += (u->v[i] - m) * (u->v[i] - m) / (double)u->n;
    }
    *mean = m;
    *stdev = sqrt(sq);
}

static int stats_index(lua_State *L)
{
    struct stats_ud *u = luaL_checkudata(L, 1, STATS_MT);
    const char *key = luaL_checkstring(L, 2);
    int any = u->h ? u->h->count > 0 : u->n > 0;
    double mean, stdev;
    if (strcmp(key, "percentile") == 0)
        lua_pushcfunction(L, stats_percentile);
    else if (strcmp(key, "min") == 0)
        lua_pushnumber(L, !any ? 0 : u->h ? (double)u->h->min : u->v[0]);
    else if (strcmp(key, "max") == 0)
        lua_pushnumber(L, !any ? 0 : u->h ? (double)u->h->max : u->v[u->n - 1]);
    else if (strcmp(key, "mean") == 0 || strcmp(key, "stdev") == 0) {
        stats_moments(u, &mean, &stdev);
        lua_pushnumber(L, key[0] == 'm' ? mean : stdev);
    } else
        lua_pushnil(L);
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void push_stats(lua_State *L, const lt_hist *h, double *v, size_t n)
{
    struct stats_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->h = h;
    u->v = v;
    u->n = n;
    luaL_setmetatable(L, STATS_MT);
}

/* print and io.write to out. */
static int print_out(lua_State *L)
{
    lt_script *s = *(lt_script **)lua_touserdata(L, lua_upvalueindex(1));
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *t = luaL_tolstring(L, i, &len);
        if (i > 1)
            fputc('\t', s->out);
        fwrite(t, 1, len, s->out);
        lua_pop(L, 1);
    }
    fputc('\n', s->out);
    return 0;
}

int lt_script_done(lt_script *m, const lt_result *r, FILE *out)
{
    lua_State *L = m->L;
    if (lua_getglobal(L, "done") != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return 0;
    }
    m->out = out;
    if (out != stdout) /* stdout carries the result: the script writes beside the summary */
        (void)luaL_dostring(L, "io.output(io.stderr)");
    lt_script **self = lua_newuserdatauv(L, sizeof *self, 0);
    *self = m;
    lua_pushcclosure(L, print_out, 1);
    lua_setglobal(L, "print");
    luaL_newmetatable(L, STATS_MT);
    lua_pushcfunction(L, stats_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    const lt_stats *st = r->st;
    /* summary: wrk's fields */
    lua_newtable(L);
    lua_pushinteger(L, (lua_Integer)(r->elapsed_s * 1e6));
    lua_setfield(L, -2, "duration");
    lua_pushinteger(L, (lua_Integer)(st->ops_ok + st->ops_failed));
    lua_setfield(L, -2, "requests");
    lua_pushinteger(L, (lua_Integer)st->bytes_in);
    lua_setfield(L, -2, "bytes");
    uint64_t timeouts = 0, others = 0;
    for (int i = 1; i < LT_ERR_SLOTS; i++) {
        if (evtls_err_get_class(-i) == EVTLS_CLASS_TIMEOUT)
            timeouts += st->errors[i];
        else
            others += st->errors[i];
    }
    lua_newtable(L);
    lua_pushinteger(L, (lua_Integer)st->conns_failed);
    lua_setfield(L, -2, "connect");
    lua_pushinteger(L, (lua_Integer)(others > st->conns_failed ? others - st->conns_failed : 0));
    lua_setfield(L, -2, "read");
    lua_pushinteger(L, 0);
    lua_setfield(L, -2, "write");
    lua_pushinteger(L, (lua_Integer)st->status_errors);
    lua_setfield(L, -2, "status");
    lua_pushinteger(L, (lua_Integer)timeouts);
    lua_setfield(L, -2, "timeout");
    lua_setfield(L, -2, "errors");
    push_stats(L, &st->hist[LT_TOTAL], NULL, 0); /* latency, us */
    /* requests: the requests of each second of the run */
    size_t n = st->n_series;
    while (n > 0 && st->series[n - 1].ops == 0)
        n--;
    double *v = n ? malloc(n * sizeof *v) : NULL;
    for (size_t i = 0; v && i < n; i++)
        v[i] = (double)st->series[i].ops;
    if (v)
        qsort(v, n, sizeof *v, cmp_double);
    push_stats(L, NULL, v, v ? n : 0);
    char err[600];
    int rc = call(L, 3, 0, "done()", err, sizeof err);
    free(v);
    fflush(out);
    if (rc != 0)
        fprintf(stderr, "evtls-load: --script %s: %s\n", m->o->script_path, err);
    return rc;
}

int lt_script_owned(const lt_script *t)
{
    return t->owned;
}

void lt_script_free(lt_script *s)
{
    if (s == NULL)
        return;
    for (unsigned i = 0; i < s->n_threads; i++) {
        s->threads[i]->owned = 0;
        lt_script_free(s->threads[i]);
    }
    if (s->L)
        lua_close(s->L);
    lt_sreq_unref(s->last);
    free(s->last_raw);
    free(s->pending);
    free(s);
}
