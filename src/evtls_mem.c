/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_mem.c - a thin, counting allocator layer under wolfSSL.
 *
 * Every block gets a 16-byte header (a magic word, the owner, flags and
 * the size asked for), so a free knows whose count to lower. The owner is
 * what evtls was doing on this thread when wolfSSL allocated (set around
 * wolfSSL_new, the handshake, record I/O and context building).
 *
 * wolfSSL's session object is the one large block of a connection: with
 * Debian's build (SESSION_CERTS, WOLFSSL_ALT_CERT_CHAINS) it holds two
 * arrays of nine 2 KB certificate slots, zeroed by wolfSSL_new and mostly
 * never written. Blocks of exactly that size are placed on whole pages,
 * so that after the handshake the pages still all zero can be handed back
 * to the kernel (MADV_DONTNEED). That is invisible to wolfSSL: an anonymous
 * page given back reads as zeros, which is what it held, and a write maps
 * a fresh one.
 *
 * The layer is installed only before wolfSSL_Init and never over the
 * program's own allocators; a block it did not make (no magic word) is
 * passed to the C library as it is. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/memory.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "evtls_mem_int.h"
#include "evtls_sized.h"

#define MAGIC      0x65767473u /* "evts" */
#define FLAG_PAGED 1u          /* placed on whole pages (a session object) */
#define PAGE       4096u

struct hdr {
    uint32_t magic;
    uint16_t owner;
    uint16_t flags;
    uint64_t size;
};
_Static_assert(sizeof(struct hdr) == 16, "the header keeps malloc's 16-byte alignment");

static atomic_size_t live_bytes[EVTLS_MEM_OWNERS];
static atomic_size_t live_blocks[EVTLS_MEM_OWNERS];
static atomic_size_t released_pages;
static int installed;
static int disabled;
/* Learned once, read by every thread's allocations (including threads of
 * the program's own that use wolfSSL while evtls initialises). */
static atomic_size_t session_size; /* 0 = not known */
static _Thread_local int learning; /* this thread is in evtls__mem_learn_session_size */
static _Thread_local size_t learned_max;

_Thread_local evtls_mem_owner evtls__mem_cur_owner = EVTLS_MEM_TLS_OTHER;
static _Thread_local void *watched_session;
static _Thread_local int watching;

static size_t span_of(size_t size)
{
    return (sizeof(struct hdr) + size + PAGE - 1) & ~(size_t)(PAGE - 1);
}

static void count(unsigned owner, size_t size, int sign)
{
    if (sign > 0) {
        atomic_fetch_add_explicit(&live_bytes[owner], size, memory_order_relaxed);
        atomic_fetch_add_explicit(&live_blocks[owner], 1, memory_order_relaxed);
    } else {
        atomic_fetch_sub_explicit(&live_bytes[owner], size, memory_order_relaxed);
        atomic_fetch_sub_explicit(&live_blocks[owner], 1, memory_order_relaxed);
    }
}

static struct hdr *ours(void *p)
{
    struct hdr *h = (struct hdr *)((char *)p - sizeof(struct hdr));
    return h->magic == MAGIC ? h : NULL;
}

static void *layer_malloc(size_t size)
{
    if (learning && size > learned_max)
        learned_max = size;
    struct hdr *h;
    unsigned owner = evtls__mem_cur_owner, flags = 0;
    size_t ss = atomic_load_explicit(&session_size, memory_order_relaxed);
    if (ss != 0 && size == ss && watching) {
        /* The session object of a new connection, which lives as long as
         * it does. Copies made to serialise or offer a session are brief
         * and stay ordinary blocks: whole-page blocks freed between live
         * ones would leave page-aligned holes that malloc reuses badly. */
        h = aligned_alloc(PAGE, span_of(size));
        owner = EVTLS_MEM_TLS_SESSION;
        flags = FLAG_PAGED;
    } else {
        if (ss != 0 && size == ss)
            owner = EVTLS_MEM_TLS_SESSION;
        if (size > SIZE_MAX - sizeof *h)
            return NULL;
        h = malloc(sizeof *h + size);
    }
    if (h == NULL)
        return NULL;
    h->magic = MAGIC;
    h->owner = (uint16_t)owner;
    h->flags = (uint16_t)flags;
    h->size = size;
    count(owner, size, 1);
    if (flags & FLAG_PAGED)
        watched_session = h + 1;
    return h + 1;
}

static void layer_free(void *p)
{
    if (p == NULL)
        return;
    struct hdr *h = ours(p);
    if (h == NULL) {
        free(p);
        return;
    }
    count(h->owner, (size_t)h->size, -1);
    h->magic = 0;
    free(h);
}

static void *layer_realloc(void *p, size_t size)
{
    if (p == NULL)
        return layer_malloc(size);
    struct hdr *h = ours(p);
    if (h == NULL)
        return realloc(p, size);
    if (h->flags & FLAG_PAGED) {
        /* Moves between the two kinds of block: a copy. */
        void *q = layer_malloc(size);
        if (q == NULL)
            return NULL;
        memcpy(q, p, size < h->size ? size : (size_t)h->size);
        layer_free(p);
        return q;
    }
    if (size > SIZE_MAX - sizeof *h)
        return NULL;
    unsigned owner = h->owner;
    size_t old = (size_t)h->size;
    struct hdr *n = realloc(h, sizeof *h + size);
    if (n == NULL)
        return NULL;
    n->size = size;
    if (size >= old)
        atomic_fetch_add_explicit(&live_bytes[owner], size - old, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&live_bytes[owner], old - size, memory_order_relaxed);
    return n + 1;
}

void evtls_mem_layer_disable(void)
{
    disabled = 1;
}

void evtls__mem_install(void)
{
    if (disabled)
        return;
    wolfSSL_Malloc_cb m = NULL;
    wolfSSL_Free_cb f = NULL;
    wolfSSL_Realloc_cb r = NULL;
    if (wolfSSL_GetAllocators(&m, &f, &r) != 0 || m != NULL || f != NULL || r != NULL)
        return; /* the program's own allocators stay */
    if (wolfSSL_SetAllocators(layer_malloc, layer_free, layer_realloc) == 0)
        installed = 1;
}

void evtls__mem_learn_session_size(void)
{
    if (!installed)
        return;
    learning = 1;
    learned_max = 0;
    WOLFSSL_SESSION *s = wolfSSL_SESSION_new();
    learning = 0;
    if (s == NULL)
        return;
    wolfSSL_SESSION_free(s);
    /* Only worth pages of its own if it spans several of them. */
    if (learned_max >= 4 * PAGE)
        atomic_store_explicit(&session_size, learned_max, memory_order_relaxed);
}

void evtls__mem_session_watch(void)
{
    watched_session = NULL;
    watching = 1;
}

void *evtls__mem_session_taken(void)
{
    watching = 0;
    void *s = watched_session;
    watched_session = NULL;
    return s;
}

static int page_is_zero(const unsigned char *page)
{
    static const unsigned char zero[PAGE];
    return memcmp(page, zero, PAGE) == 0;
}

void evtls__mem_release_zero_pages(void *session)
{
    if (session == NULL)
        return;
    struct hdr *h = ours(session);
    if (h == NULL || !(h->flags & FLAG_PAGED))
        return;
    unsigned char *base = (unsigned char *)h;
    size_t span = span_of((size_t)h->size);
    size_t run = 0, given = 0; /* run: zero pages ending at the current one */
    for (size_t off = 0; off <= span; off += PAGE) {
        if (off < span && page_is_zero(base + off)) {
            run++;
            continue;
        }
        if (run > 0 && madvise(base + off - run * PAGE, run * PAGE, MADV_DONTNEED) == 0)
            given += run;
        run = 0;
    }
    if (given)
        atomic_fetch_add_explicit(&released_pages, given, memory_order_relaxed);
}

void evtls__mem_note(evtls_mem_owner owner, long delta)
{
    if (delta >= 0)
        count((unsigned)owner, (size_t)delta, 1);
    else
        count((unsigned)owner, (size_t)-delta, -1);
}

void evtls_mem_get_stats_sized(evtls_mem_stats *out, size_t size)
{
    if (out == NULL)
        return;
    evtls_mem_stats s;
    memset(&s, 0, sizeof s);
    s.enabled = installed;
    for (int i = 0; i < EVTLS_MEM_OWNERS; i++) {
        s.bytes[i] = atomic_load_explicit(&live_bytes[i], memory_order_relaxed);
        s.blocks[i] = atomic_load_explicit(&live_blocks[i], memory_order_relaxed);
    }
    s.released_pages = atomic_load_explicit(&released_pages, memory_order_relaxed);
    s.session_object_bytes = atomic_load_explicit(&session_size, memory_order_relaxed);
    EVTLS__COPY_OUT(out, size, &s);
}

const char *evtls_mem_owner_name(evtls_mem_owner owner)
{
    switch (owner) {
    case EVTLS_MEM_TLS_SESSION: return "tls-session";
    case EVTLS_MEM_TLS_CONN: return "tls-conn";
    case EVTLS_MEM_TLS_HANDSHAKE: return "tls-handshake";
    case EVTLS_MEM_TLS_RECORDS: return "tls-records";
    case EVTLS_MEM_TLS_CONFIG: return "tls-config";
    case EVTLS_MEM_TLS_OTHER: return "tls-other";
    case EVTLS_MEM_EVTLS: return "evtls";
    default: return "?";
    }
}
