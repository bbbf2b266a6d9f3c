#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh [evtls-poll options] - the main job on an embedded default: builds
# evtls, makes a fresh certificate, starts the demo HTTPS server on loopback
# and polls it with evtls-poll (3 rounds, the 10...0 countdown between them,
# the session resumed from round 2). Options replace the default "--count 3"
# (e.g. --count 0 to poll until Ctrl-C, --verbose to follow every handshake
# step, --json).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh" run
build=$root/build-run
# The tuned wolfSSL (built once from Debian's source, a few minutes) is the
# fast one; EVTLS_WOLFSSL=system uses the system library instead.
[ -f "$root/build-wolfssl/prefix/lib/libwolfssl.a" ] || [ "${EVTLS_WOLFSSL:-tuned}" != tuned ] ||
  echo "building evtls; the first run also builds its wolfSSL from Debian's source (2-4 minutes)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVTLS_BUILD_TESTS=OFF \
  -DEVTLS_WOLFSSL="${EVTLS_WOLFSSL:-tuned}" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
pki=$(mktemp -d /tmp/evtls-demo.XXXXXX)
. "$root/scripts/demo_server.sh"
trap 'demo_server_stop; rm -rf "$pki"' EXIT
bash "$root/scripts/mkcerts.sh" "$pki"
demo_server_start "$build" "$pki" "$pki/server.out"
url=$demo_url
port=$demo_port
echo "demo server: $url (certificate and CA made just now, removed on exit)"
[ $# -eq 0 ] && set -- --count 3
"$build/bin/evtls-poll" --cacert "$pki/ca.pem" "$@" "https://localhost:$port/"
