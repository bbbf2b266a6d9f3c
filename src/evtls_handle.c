/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_handle.c - handles that cannot alias (see evtls_handle.h).
 *
 * The table grows by doubling and never shrinks; free slots are reused
 * last-freed first. A handle is the slot's index plus one in the low half
 * of the number and the slot's generation in the high half (16 bits each
 * on a 32-bit machine), so a spent handle is found again only after its
 * slot was reused 2^32 (2^16) times. One mutex: checkouts and fetches of
 * several threads' loops may share the table. */
#include <pthread.h>
#include <stdlib.h>

#include "evtls_handle.h"

#define HALF     (sizeof(evtls__handle) * 4)
#define LOW_MASK (((evtls__handle)1 << HALF) - 1)

struct slot {
    void *obj;         /* NULL when free */
    evtls__handle gen; /* bumped when the handle is spent */
    size_t next_free;  /* index + 1 of the next free slot, 0 for none */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
static size_t n_slots, cap_slots, first_free; /* first_free: index + 1 */

evtls__handle evtls__handle_new(void *obj)
{
    if (obj == NULL)
        return 0;
    pthread_mutex_lock(&lock);
    size_t i;
    if (first_free) {
        i = first_free - 1;
        first_free = slots[i].next_free;
    } else {
        if (n_slots == cap_slots) {
            size_t cap = cap_slots ? cap_slots * 2 : 64;
            struct slot *s = cap < LOW_MASK ? realloc(slots, cap * sizeof *s) : NULL;
            if (s == NULL) {
                pthread_mutex_unlock(&lock);
                return 0;
            }
            slots = s;
            cap_slots = cap;
        }
        i = n_slots++;
        slots[i].gen = 1;
    }
    slots[i].obj = obj;
    slots[i].next_free = 0;
    evtls__handle h = (slots[i].gen << HALF) | (evtls__handle)(i + 1);
    pthread_mutex_unlock(&lock);
    return h;
}

/* The slot of a live h, with the lock held; NULL otherwise. */
static struct slot *find(evtls__handle h)
{
    size_t i = (size_t)(h & LOW_MASK);
    if (i == 0 || i > n_slots)
        return NULL;
    struct slot *s = &slots[i - 1];
    if (s->obj == NULL || (s->gen & LOW_MASK) != (h >> HALF))
        return NULL;
    return s;
}

void *evtls__handle_get(evtls__handle h)
{
    pthread_mutex_lock(&lock);
    struct slot *s = find(h);
    void *obj = s ? s->obj : NULL;
    pthread_mutex_unlock(&lock);
    return obj;
}

void evtls__handle_drop(evtls__handle h)
{
    pthread_mutex_lock(&lock);
    struct slot *s = find(h);
    if (s) {
        s->obj = NULL;
        s->gen = (s->gen + 1) & LOW_MASK;
        if (s->gen == 0)
            s->gen = 1;
        s->next_free = first_free;
        first_free = (size_t)(s - slots) + 1;
    }
    pthread_mutex_unlock(&lock);
}
