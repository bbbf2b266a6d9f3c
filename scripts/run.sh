#!/usr/bin/env bash
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
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVTLS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
pki=$(mktemp -d /tmp/evtls-demo.XXXXXX)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$pki"' EXIT
bash "$root/scripts/mkcerts.sh" "$pki"
"$build/examples/evtls-https-server" --cert "$pki/server.pem" --key "$pki/server.key" \
  >"$pki/server.out" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q listening "$pki/server.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$pki/server.out")
port=${url##*:}; port=${port%/}
echo "demo server: $url (certificate and CA made just now, removed on exit)"
[ $# -eq 0 ] && set -- --count 3
"$build/examples/evtls-poll" --cacert "$pki/ca.pem" "$@" "https://localhost:$port/"
