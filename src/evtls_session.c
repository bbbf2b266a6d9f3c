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

#define PER_ORIGIN 4
#define MAX_DER    (16 * 1024)
#define FILE_MAGIC "evtls-sessions 1"

struct sess {
    uint8_t *der;
    size_t len;
    int single_use;
};

struct origin {
    char *key;
    uint64_t used;
    size_t n;
    struct sess s[PER_ORIGIN]; /* s[0] newest */
};

struct evtls_session_cache {
    int refs;
    size_t cap, n;
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
    sc->o = calloc(sc->cap, sizeof *sc->o);
    if (sc->o == NULL) {
        free(sc);
        return NULL;
    }
    return sc;
}

evtls_session_cache *evtls_session_cache_ref(evtls_session_cache *sc)
{
    sc->refs++;
    return sc;
}

static void origin_clear(struct origin *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->s[i].der);
    free(o->key);
    memset(o, 0, sizeof *o);
}

void evtls_session_cache_clear(evtls_session_cache *sc)
{
    if (sc == NULL)
        return;
    for (size_t i = 0; i < sc->n; i++)
        origin_clear(&sc->o[i]);
    sc->n = 0;
    sc->st.origins = sc->st.sessions = 0;
}

void evtls_session_cache_free(evtls_session_cache *sc)
{
    if (sc == NULL || --sc->refs > 0)
        return;
    evtls_session_cache_clear(sc);
    free(sc->o);
    free(sc);
}

void evtls_session_cache_get_stats(const evtls_session_cache *sc, evtls_session_stats *st)
{
    if (sc && st)
        *st = sc->st;
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
    sc->st.sessions -= o->n;
    sc->st.origins--;
    origin_clear(o);
    *o = sc->o[--sc->n]; /* keep the array dense */
    memset(&sc->o[sc->n], 0, sizeof sc->o[sc->n]);
}

int evtls__session_get(evtls_session_cache *sc, const char *key, uint8_t **der, size_t *len)
{
    struct origin *o = find(sc, key);
    if (o == NULL || o->n == 0)
        return 0;
    o->used = ++sc->clock;
    struct sess *s = &o->s[0];
    if (s->single_use) {
        *der = s->der; /* handed over */
        *len = s->len;
        memmove(&o->s[0], &o->s[1], (o->n - 1) * sizeof o->s[0]);
        o->n--;
        sc->st.sessions--;
        if (o->n == 0)
            drop_origin(sc, o);
        return 1;
    }
    *der = malloc(s->len);
    if (*der == NULL)
        return 0;
    memcpy(*der, s->der, s->len);
    *len = s->len;
    return 1;
}

void evtls__session_put(evtls_session_cache *sc, const char *key, uint8_t *der, size_t len,
                        int single_use)
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
        if (o->key == NULL) {
            free(der);
            return;
        }
        sc->n++;
        sc->st.origins++;
    }
    o->used = ++sc->clock;
    if (!single_use) {
        /* A reusable (TLS 1.2) session replaces the older reusable ones. */
        size_t k = 0;
        for (size_t i = 0; i < o->n; i++) {
            if (!o->s[i].single_use) {
                free(o->s[i].der);
                sc->st.sessions--;
            } else {
                o->s[k++] = o->s[i];
            }
        }
        o->n = k;
    }
    if (o->n == PER_ORIGIN) {
        free(o->s[PER_ORIGIN - 1].der);
        o->n--;
        sc->st.sessions--;
    }
    memmove(&o->s[1], &o->s[0], o->n * sizeof o->s[0]);
    o->s[0] = (struct sess){der, len, single_use};
    o->n++;
    sc->st.sessions++;
    sc->st.stored++;
}

void evtls__session_result(evtls_session_cache *sc, int resumed)
{
    sc->st.offered++;
    if (resumed)
        sc->st.resumed++;
    else
        sc->st.refused++;
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
    fprintf(f, "%s\n", FILE_MAGIC);
    for (size_t i = 0; i < sc->n; i++) {
        const struct origin *o = &sc->o[i];
        for (size_t k = o->n; k-- > 0;) { /* oldest first: loading restores the order */
            fprintf(f, "%s\t%d\t", o->key, o->s[k].single_use);
            for (size_t b = 0; b < o->s[k].len; b++)
                fprintf(f, "%02x", o->s[k].der[b]);
            fputc('\n', f);
        }
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return EVTLS_ERR_INVALID_ARG;
    }
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int evtls_session_cache_load(evtls_session_cache *sc, const char *path)
{
    if (sc == NULL || path == NULL)
        return EVTLS_ERR_INVALID_ARG;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return EVTLS_ERR_INVALID_ARG;
    char *line = NULL;
    size_t cap = 0;
    int loaded = 0, bad = 0;
    ssize_t n = getline(&line, &cap, f);
    if (n < 0 || strncmp(line, FILE_MAGIC "\n", sizeof FILE_MAGIC) != 0)
        bad = 1;
    /* Parse everything first, so a malformed file loads nothing. */
    struct pending {
        char *key;
        uint8_t *der;
        size_t len;
        int single;
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
            int hi = hexval(t2[1 + 2 * b]), lo = hexval(t2[2 + 2 * b]);
            if (hi < 0 || lo < 0)
                bad = 1;
            der[b] = (uint8_t)(hi << 4 | lo);
        }
        *t1 = '\0';
        list[np] = (struct pending){strdup(line), der, hex / 2, t1[1] == '1'};
        np++;
        if (list[np - 1].key == NULL)
            bad = 1;
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < np; i++) {
        if (bad) {
            free(list[i].der);
        } else {
            evtls__session_put(sc, list[i].key, list[i].der, list[i].len, list[i].single);
            loaded++;
        }
        free(list[i].key);
    }
    free(list);
    if (bad) {
        LOGW("session cache: %s is not a session file; nothing loaded", path);
        return EVTLS_ERR_INVALID_ARG;
    }
    return loaded;
}
