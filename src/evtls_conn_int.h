/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtls_conn_int.h - what the pool needs of a connection and the public
 * API does not offer: a private owner slot (the public userdata is the
 * application's), a hook run when the holder frees or closes a pooled
 * connection, and failing a connection in place. */
#ifndef EVTLS_CONN_INT_H
#define EVTLS_CONN_INT_H

#include <stdint.h>

#include "evtls/conn.h"

/* The owner value of a connection whose pool let go of it (freed, or shut
 * down past its timeout) while it was checked out. */
#define EVTLS__OWNER_GONE ((void *)&evtls__owner_gone)
extern const int evtls__owner_gone;

/* Called once when the holder frees (or closes: closing 1) a connection
 * that still has an owner; the owner slot is cleared first. Returns 1 when
 * the owner keeps the connection because other holders share it (a pooled
 * HTTP/2 connection): the slot is set again, a free or abort only gave
 * the holder's share back, and a close is refused (EVTLS_ERR_STATE). Not
 * a user callback: it runs inside evtls_conn_free/abort/close and must not
 * call back. */
typedef int (*evtls__conn_owner_cb)(evtls_conn *c, void *owner, int closing);

/* Sets (or with NULL clears) the owner and its hook. */
void evtls__conn_set_owner(evtls_conn *c, void *owner, evtls__conn_owner_cb on_let_go);

/* Gives the connection's Happy Eyeballs races to the owner's count too
 * (a pool counts sockets, racing attempts included): take 1 asks for a
 * racing socket (returns 1 when granted), take -1 gives one back. Before
 * connecting. */
void evtls__conn_set_race_gate(evtls_conn *c, int (*gate)(void *arg, int take), void *arg);

/* A protocol session that lives on c (HTTP/2): free_fn frees it when c is
 * destroyed (it must not call back into c). NULL clears the slot. */
void evtls__conn_set_proto(evtls_conn *c, void *proto, void (*free_fn)(void *proto));
void *evtls__conn_proto(const evtls_conn *c);

/* The connection's facts, for the protocol session to fill in its part. */
evtls_conn_info *evtls__conn_info_mut(evtls_conn *c);

/* The values of the configuration c was made with. */
struct evtls__cfg_values;
const struct evtls__cfg_values *evtls__conn_cfg_values(const evtls_conn *c);

/* The owner, NULL if none. */
void *evtls__conn_owner(const evtls_conn *c);

/* Fails an established connection in place with code: the socket is reset
 * and closed now, the state is FAILED, and whoever waits on it (a read
 * callback, i.e. an HTTP exchange) gets the error from the loop. The
 * object stays allocated: it is its holder's to free. */
void evtls__conn_kill(evtls_conn *c, int code, const char *detail);

/* The reader (an HTTP exchange) knows that at least `more` bytes of
 * plaintext are still to come on c: while the flow is fast, the socket
 * wakes the loop only when a good part of them has arrived (SO_RCVLOWAT,
 * never more than what must still come, so the wait always ends), and
 * each wake-up reads many records. Bytes below that mark wait 10 ms at
 * most (the connection's peek, EVTLS__LOWAT_PEEK_MS). A reader with an
 * idle timeout of its own calls this only when that timeout is at least
 * EVTLS__EXPECT_MIN_IDLE_MS, so that the peek always comes first. 0 goes
 * back to waking on every byte; so does read_stop. */
#define EVTLS__EXPECT_MIN_IDLE_MS 50
void evtls__conn_expect(evtls_conn *c, uint64_t more);

/* An HTTP exchange starts (on 1) or ends (on 0) on c. While one runs, a
 * second is refused and a pool takes c back only as broken: its stream is
 * mid-request. evtls__conn_has_exchange says whether one runs. */
void evtls__conn_set_exchange(evtls_conn *c, int on);

/* A user callback runs about c outside of c's own events (an exchange's
 * resume): c is not destroyed under it. evtls__conn_unhold returns 1 when
 * c was freed or closed meanwhile (and is now gone). */
void evtls__conn_hold(evtls_conn *c);
int evtls__conn_unhold(evtls_conn *c);
int evtls__conn_has_exchange(const evtls_conn *c);

/* The first exchange on c takes the early data given to c as its request
 * (len bytes at bytes): returns 1 when the server accepted those very bytes
 * early (they are not written again), 0 when they must be written (none
 * given, not sent, rejected, or claimed before), or EVTLS_ERR_STATE when
 * the server accepted other bytes early: it is answering another request. */
int evtls__conn_claim_early(evtls_conn *c, const uint8_t *bytes, size_t len);

#endif
