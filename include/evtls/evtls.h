/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evtls/evtls.h - the whole public API of evtls, an event-loop async TLS
 * client library on libevent and wolfSSL.
 */
#ifndef EVTLS_EVTLS_H
#define EVTLS_EVTLS_H

#include "evtls/error.h"
#include "evtls/log.h"
#include "evtls/cfg.h"
#include "evtls/resolver.h"
#include "evtls/session.h"
#include "evtls/conn.h"
#include "evtls/pool.h"
#include "evtls/http.h"
#include "evtls/client.h"
#include "evtls/mem.h"
#include "evtls/version.h"

#endif /* EVTLS_EVTLS_H */
