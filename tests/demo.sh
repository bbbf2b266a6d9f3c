#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.sh BUILD_DIR - the README's main job without install/build steps:
# the demo server on loopback, the embedding example against it.
set -euo pipefail
build=$1
out=$(mktemp)
. "$(dirname "$0")/../scripts/demo_server.sh"
trap 'demo_server_stop; rm -f "$out"' EXIT
demo_server_start "$build" "$build/pki" "$out"
port=$demo_port
res=$("$build/examples/evtls-embed" localhost "$port" "$build/pki/ca.pem")
echo "$res"
grep -q 'Hello from the evtls demo server' <<<"$res"
grep -q 'connection closed$' <<<"$res"
# A wrong trust anchor fails with the specific error, exit status 1.
if "$build/examples/evtls-embed" localhost "$port" "$build/pki/other-ca.pem" 2>"$out.err"; then
  echo "untrusted server was accepted"; exit 1
fi
grep -q CERT_UNTRUSTED "$out.err"; rm -f "$out.err"
echo "demo: ok"

# The main job of scripts/run.sh: evtls-poll against the demo server, two
# rounds, the second resumed.
res=$("$build/bin/evtls-poll" --count 2 --interval 1 --quiet --cacert "$build/pki/ca.pem" 2>&1 \
      "https://localhost:$port/")
echo "$res"
grep -q 'session resumed: yes' <<<"$res"
grep -q 'I evtls-poll: 1...' <<<"$res"
grep -q 'summary: 2 rounds, 2 ok, 0 failed' <<<"$res"
echo "demo: poll ok"

# The demo server's --client-ca mode, checked with openssl s_client:
# refused without a client certificate, served with one.
demo_server_stop
demo_server_start "$build" "$build/pki" "$out" --client-ca "$build/pki/ca.pem"
port=$demo_port
get() { printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$port" \
          -CAfile "$build/pki/ca.pem" "$@" 2>/dev/null || true; }
if get | grep -q 'Hello from the evtls demo server'; then echo "served without a client certificate"; exit 1; fi
get -cert "$build/pki/client.pem" -key "$build/pki/client.key" | grep -q 'Hello from the evtls demo server'
echo "demo: mutual TLS ok"
