/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_session.c - serialised TLS sessions per origin, newest first. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evtls_log_int.h"
#include "evtls_session_int.h"
#include "evtls_base64.h" /* evtls__hex_digit */
#include "evtls_sized.h"
#include "evtls_tls.h"

#define DEFAULT_PER_ORIGIN 4
#define MAX_PER_ORIGIN     65536
#define MAX_DER            (16 * 1024)
/* Format 3 names the build's session layout after the magic (a session
 * serialised by a wolfSSL built with other options is misread by this
 * one); formats 2 and 1 are read too, each session kept only if this
 * build reads it back to the same bytes. */
#define FILE_MAGIC   "evtls-sessions 3" /* + layout; key, single use, ALPN, session */
#define FILE_MAGIC_2 "evtls-sessions 2" /* key, single use, ALPN, session */
#define FILE_MAGIC_1 "evtls-sessions 1" /* key, single use, session */

struct sess {
    uint8_t *der; /* NULL: empty slot */
    size_t len;
    uint64_t seq;  /* when stored: newer is larger */
    char alpn[16]; /* the ALPN protocol of the connection it came from, "" if none */
};

/* An origin's sessions: single-use TLS 1.3 tickets in a ring (newest at
 * top, the oldest overwritten when full), and at most one reusable TLS 1.2
 * session. Every operation is O(1) in the number held. */
struct origin {
    char *key;
    uint64_t used;
    size_t n, top; /* tickets held; ring[top] is the newest */
    struct sess *ring;
    struct sess reusable;
};

struct evtls_session_cache {
    int refs;
    size_t cap, n, per_origin;
    uint64_t clock;
    struct origin *o;
    evtls_session_stats st;
};

evtls_session_cache *evtls_session_cache_new(size_t max_origins)
{
    evtls_session_cache *sc = calloc(1, sizeof *sc);
    if (sc == NULL)
        return NULL;
    sc->refs = 1;
    sc->cap = max_origins ? max_origins : 256;
    sc->per_origin = DEFAULT_PER_ORIGIN;
    sc->o = calloc(sc->cap, sizeof *sc->o);
    if (sc->o == NULL) {
        free(sc);
        return NULL;
    }
    return sc;
}

evtls_session_cache *evtls_session_cache_ref(evtls_session_cache *sc)
{
    if (sc == NULL)
        return NULL;
    sc->refs++;
    return sc;
}

static size_t held(const struct origin *o)
{
    return o->n + (o->reusable.der != NULL);
}

/* The k-th newest ticket (k < n). */
static struct sess *ticket(struct origin *o, size_t per_origin, size_t k)
{
    return &o->ring[(o->top + per_origin - k) % per_origin];
}

static void origin_clear(evtls_session_cache *sc, struct origin *o)
{
    for (size_t k = 0; k < o->n; k++)
        free(ticket(o, sc->per_origin, k)->der);
    free(o->reusable.der);
    free(o->ring);
    free(o->key);
    memset(o, 0, sizeof *o);
}

void evtls_session_cache_clear(evtls_session_cache *sc)
{
    if (sc == NULL)
        return;
    for (size_t i = 0; i < sc->n; i++)
        origin_clear(sc, &sc->o[i]);
    sc->n = 0;
    sc->st.origins = sc->st.sessions = 0;
}

void evtls_session_cache_unref(evtls_session_cache *sc)
{
    if (sc == NULL || --sc->refs > 0)
        return;
    evtls_session_cache_clear(sc);
    free(sc->o);
    free(sc);
}

void evtls_session_cache_get_stats_sized(const evtls_session_cache *sc, evtls_session_stats *st,
                                         size_t size)
{
    if (sc && st)
        EVTLS__COPY_OUT(st, size, &sc->st);
}

static struct origin *find(evtls_session_cache *sc, const char *key)
{
    for (size_t i = 0; i < sc->n; i++)
        if (strcmp(sc->o[i].key, key) == 0)
            return &sc->o[i];
    return NULL;
}

static void drop_origin(evtls_session_cache *sc, struct origin *o)
{
    sc->st.sessions -= held(o);
    sc->st.origins--;
    origin_clear(sc, o);
    *o = sc->o[--sc->n]; /* keep the array dense */
    memset(&sc->o[sc->n], 0, sizeof sc->o[sc->n]);
}

int evtls__session_get(evtls_session_cache *sc, const char *key, uint8_t **der, size_t *len,
                       char alpn[16])
{
    struct origin *o = find(sc, key);
    if (o == NULL || held(o) == 0)
        return 0;
    o->used = ++sc->clock;
    struct sess *t = o->n ? ticket(o, sc->per_origin, 0) : NULL;
    if (t && (o->reusable.der == NULL || t->seq > o->reusable.seq)) {
        *der = t->der; /* a single-use ticket is handed over */
        *len = t->len;
        if (alpn)
            memcpy(alpn, t->alpn, sizeof t->alpn);
        t->der = NULL;
        o->top = (o->top + sc->per_origin - 1) % sc->per_origin;
        o->n--;
        sc->st.sessions--;
        if (held(o) == 0)
            drop_origin(sc, o);
        return 1;
    }
    *der = malloc(o->reusable.len);
    if (*der == NULL)
        return 0;
    memcpy(*der, o->reusable.der, o->reusable.len);
    *len = o->reusable.len;
    if (alpn)
        memcpy(alpn, o->reusable.alpn, sizeof o->reusable.alpn);
    return 1;
}

/* The ALPN name as kept: up to 15 bytes of a protocol name, "" for none
 * (or one too long to keep: offered as unknown). */
static void keep_alpn(char out[16], const char *alpn)
{
    size_t n = alpn ? strlen(alpn) : 0;
    if (n >= 16)
        n = 0;
    memcpy(out, alpn ? alpn : "", n);
    out[n] = '\0';
}

/* Adds a ticket as the newest, dropping the oldest when the ring is full. */
static void push_ticket(evtls_session_cache *sc, struct origin *o, uint8_t *der, size_t len,
                        uint64_t seq, const char *alpn)
{
    o->top = (o->top + 1) % sc->per_origin;
    struct sess *slot = &o->ring[o->top];
    if (o->n == sc->per_origin) { /* the slot after the newest is the oldest */
        free(slot->der);
        o->n--;
        sc->st.sessions--;
    }
    *slot = (struct sess){der, len, seq, ""};
    keep_alpn(slot->alpn, alpn);
    o->n++;
    sc->st.sessions++;
}

void evtls__session_put(evtls_session_cache *sc, const char *key, uint8_t *der, size_t len,
                        int single_use, const char *alpn)
{
    struct origin *o = find(sc, key);
    if (o == NULL) {
        if (sc->n == sc->cap) { /* drop the least recently used origin */
            struct origin *lru = &sc->o[0];
            for (size_t i = 1; i < sc->n; i++)
                if (sc->o[i].used < lru->used)
                    lru = &sc->o[i];
            drop_origin(sc, lru);
        }
        o = &sc->o[sc->n];
        o->key = strdup(key);
        o->ring = calloc(sc->per_origin, sizeof *o->ring);
        if (o->key == NULL || o->ring == NULL) {
            free(o->key);
            free(o->ring);
            memset(o, 0, sizeof *o);
            free(der);
            return;
        }
        sc->n++;
        sc->st.origins++;
    }
    o->used = ++sc->clock;
    if (single_use) {
        push_ticket(sc, o, der, len, sc->clock, alpn);
    } else {
        /* A reusable (TLS 1.2) session replaces the older one. */
        if (o->reusable.der)
            free(o->reusable.der);
        else
            sc->st.sessions++;
        o->reusable = (struct sess){der, len, sc->clock, ""};
        keep_alpn(o->reusable.alpn, alpn);
    }
    sc->st.stored++;
}

int evtls_session_cache_set_capacity(evtls_session_cache *sc, size_t per_origin)
{
    if (sc == NULL || per_origin == 0 || per_origin > MAX_PER_ORIGIN)
        return EVTLS_ERR_INVALID_ARG;
    size_t old = sc->per_origin;
    for (size_t i = 0; i < sc->n; i++) {
        struct origin *o = &sc->o[i];
        struct sess *ring = calloc(per_origin, sizeof *ring);
        if (ring == NULL)
            return EVTLS_ERR_NOMEM;
        /* Keep the newest, in order: the oldest kept goes in first. */
        size_t keep = o->n < per_origin ? o->n : per_origin;
        for (size_t k = keep; k < o->n; k++) {
            free(ticket(o, old, k)->der);
            sc->st.sessions--;
        }
        for (size_t k = 0; k < keep; k++)
            ring[keep - 1 - k] = *ticket(o, old, k);
        free(o->ring);
        o->ring = ring;
        o->n = keep;
        o->top = keep ? keep - 1 : 0;
    }
    sc->per_origin = per_origin;
    return 0;
}

void evtls__session_result(evtls_session_cache *sc, int resumed)
{
    sc->st.offered++;
    if (resumed)
        sc->st.resumed++;
    else
        sc->st.refused++;
}

/* Calls fn with each session of sc, each origin's oldest first (so that
 * putting them back in that order restores it), until fn returns
 * non-zero: returns that, or 0. */
static int each_session(const evtls_session_cache *sc,
                        int (*fn)(void *arg, const char *key, const struct sess *t, int single),
                        void *arg)
{
    int rc = 0;
    for (size_t i = 0; i < sc->n && rc == 0; i++) {
        struct origin *o = &sc->o[i];
        int reusable_done = o->reusable.der == NULL;
        for (size_t k = o->n; k-- > 0 && rc == 0;) {
            const struct sess *t = ticket(o, sc->per_origin, k);
            if (!reusable_done && o->reusable.seq < t->seq) {
                rc = fn(arg, o->key, &o->reusable, 0);
                reusable_done = 1;
            }
            if (rc == 0)
                rc = fn(arg, o->key, t, 1);
        }
        if (!reusable_done && rc == 0)
            rc = fn(arg, o->key, &o->reusable, 0);
    }
    return rc;
}

static int write_session(void *arg, const char *key, const struct sess *t, int single_use)
{
    FILE *f = arg;
    fprintf(f, "%s\t%d\t%s\t", key, single_use, t->alpn);
    for (size_t b = 0; b < t->len; b++)
        fprintf(f, "%02x", t->der[b]);
    fputc('\n', f);
    return 0;
}

struct merge {
    evtls_session_cache *dst;
    int copied;
};

/* Puts a copy of t into the merge's cache under key. */
static int put_copy(void *arg, const char *key, const struct sess *t, int single_use)
{
    struct merge *m = arg;
    uint8_t *der = malloc(t->len);
    if (der == NULL)
        return EVTLS_ERR_NOMEM;
    memcpy(der, t->der, t->len);
    evtls__session_put(m->dst, key, der, t->len, single_use, t->alpn);
    m->copied++;
    return 0;
}

int evtls_session_cache_merge(evtls_session_cache *dst, const evtls_session_cache *src)
{
    if (dst == NULL || src == NULL || dst == src)
        return EVTLS_ERR_INVALID_ARG;
    struct merge m = {dst, 0};
    int rc = each_session(src, put_copy, &m);
    return rc ? rc : m.copied;
}

int evtls_session_cache_save(const evtls_session_cache *sc, const char *path)
{
    if (sc == NULL || path == NULL)
        return EVTLS_ERR_INVALID_ARG;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= (int)sizeof tmp)
        return EVTLS_ERR_INVALID_ARG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return EVTLS_ERR_INVALID_ARG;
    }
    char layout[64];
    evtls__tls_session_layout(layout, sizeof layout);
    fprintf(f, "%s %s\n", FILE_MAGIC, layout);
    each_session(sc, write_session, f); /* oldest first: loading restores the order */
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return EVTLS_ERR_INVALID_ARG;
    }
    return 0;
}

int evtls_session_cache_load(evtls_session_cache *sc, const char *path)
{
    return evtls_session_cache_load_share(sc, path, 0, 1);
}

int evtls_session_cache_load_share(evtls_session_cache *sc, const char *path, unsigned index,
                                   unsigned count)
{
    if (sc == NULL || path == NULL || index >= count)
        return EVTLS_ERR_INVALID_ARG;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return EVTLS_ERR_INVALID_ARG;
    /* The file holds resumption secrets, and a session planted by someone
     * else would be offered to servers in this user's name: only a regular
     * file of this user's own that no one else may write is read. */
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH))) {
        LOGW("session file %s refused: not a regular file of this user's own, or writable "
             "by others",
             path);
        fclose(f);
        return EVTLS_ERR_INVALID_ARG;
    }
    char *line = NULL;
    size_t cap = 0;
    int loaded = 0, bad = 0;
    ssize_t n = getline(&line, &cap, f);
    int v1 = n >= 0 && strncmp(line, FILE_MAGIC_1 "\n", sizeof FILE_MAGIC_1) == 0;
    int v2 = n >= 0 && strncmp(line, FILE_MAGIC_2 "\n", sizeof FILE_MAGIC_2) == 0;
    if (n < 0 || (!v1 && !v2 && strncmp(line, FILE_MAGIC " ", sizeof FILE_MAGIC) != 0))
        bad = 1;
    if (!bad && !v1 && !v2) {
        char layout[64];
        evtls__tls_session_layout(layout, sizeof layout);
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line + sizeof FILE_MAGIC, layout) != 0) {
            LOGW("session file %s refused: its sessions are laid out for %s, this build's "
                 "wolfSSL lays them out as %s (another build wrote it); nothing loaded",
                 path, line + sizeof FILE_MAGIC, layout);
            free(line);
            fclose(f);
            return EVTLS_ERR_INVALID_ARG;
        }
    }
    /* Parse everything first, so a malformed file loads nothing. */
    struct pending {
        char *key;
        uint8_t *der;
        size_t len;
        int single;
        char alpn[16];
    } *list = NULL;
    size_t np = 0;
    while (!bad && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (t1 == NULL || t2 == NULL || (t1[1] != '0' && t1[1] != '1') || t2 != t1 + 2) {
            bad = 1;
            break;
        }
        char alpn[16] = "";
        if (!v1) { /* the ALPN field: a protocol name, no blank or control */
            char *t3 = strchr(t2 + 1, '\t');
            size_t an = t3 ? (size_t)(t3 - (t2 + 1)) : 16;
            for (size_t k = 0; k < an && an < 16; k++)
                if ((unsigned char)t2[1 + k] <= 0x20 || (unsigned char)t2[1 + k] >= 0x7f)
                    an = 16;
            if (an >= 16) {
                bad = 1;
                break;
            }
            memcpy(alpn, t2 + 1, an);
            alpn[an] = '\0';
            t2 = t3;
        }
        size_t hex = strlen(t2 + 1);
        if (hex == 0 || hex % 2 || hex / 2 > MAX_DER) {
            bad = 1;
            break;
        }
        uint8_t *der = malloc(hex / 2);
        struct pending *nl = realloc(list, (np + 1) * sizeof *list);
        if (der == NULL || nl == NULL) {
            free(der);
            if (nl)
                list = nl;
            bad = 1;
            break;
        }
        list = nl;
        for (size_t b = 0; b < hex / 2 && !bad; b++) {
            int hi = evtls__hex_digit(t2[1 + 2 * b]), lo = evtls__hex_digit(t2[2 + 2 * b]);
            if (hi < 0 || lo < 0)
                bad = 1;
            der[b] = (uint8_t)(hi << 4 | lo);
        }
        *t1 = '\0';
        list[np] = (struct pending){strdup(line), der, hex / 2, t1[1] == '1', ""};
        memcpy(list[np].alpn, alpn, sizeof alpn);
        np++;
        if (list[np - 1].key == NULL)
            bad = 1;
    }
    free(line);
    fclose(f);
    size_t unsound = 0;
    for (size_t i = 0; i < np; i++) {
        if (!bad && !evtls__tls_session_sound(list[i].der, list[i].len)) {
            unsound++; /* from another build, or damaged: never offered */
            free(list[i].der);
        } else if (bad || i % count != index) { /* another share's */
            free(list[i].der);
        } else {
            evtls__session_put(sc, list[i].key, list[i].der, list[i].len, list[i].single,
                               list[i].alpn);
            loaded++;
        }
        free(list[i].key);
    }
    free(list);
    if (bad) {
        LOGW("session cache: %s is not a session file; nothing loaded", path);
        return EVTLS_ERR_INVALID_ARG;
    }
    if (unsound)
        LOGW("session cache: %zu session(s) of %s left out: this build's wolfSSL does not read "
             "them back whole (written by another build?)",
             unsound, path);
    return loaded;
}
