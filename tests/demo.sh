#!/usr/bin/env bash
# demo.sh BUILD_DIR - the README's main job without install/build steps:
# the demo server on loopback, the embedding example against it.
set -euo pipefail
build=$1
out=$(mktemp)
trap 'kill $srv 2>/dev/null || true; wait $srv 2>/dev/null || true; rm -f "$out"' EXIT
"$build/examples/evtls-https-server" --cert "$build/pki/server.pem" --key "$build/pki/server.key" >"$out" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
port=$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$out")
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
res=$("$build/examples/evtls-poll" --count 2 --interval 1 --quiet --cacert "$build/pki/ca.pem" \
      "https://localhost:$port/")
echo "$res"
grep -q 'session resumed: yes' <<<"$res"
grep -q 'I evtls-poll: 1...' <<<"$res"
grep -q 'summary: 2 rounds, 2 ok, 0 failed' <<<"$res"
echo "demo: poll ok"

# The demo server's --client-ca mode, checked with openssl s_client:
# refused without a client certificate, served with one.
kill $srv; wait $srv 2>/dev/null || true
"$build/examples/evtls-https-server" --cert "$build/pki/server.pem" --key "$build/pki/server.key" \
  --client-ca "$build/pki/ca.pem" >"$out" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
port=$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$out")
get() { printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$port" \
          -CAfile "$build/pki/ca.pem" "$@" 2>/dev/null || true; }
if get | grep -q 'Hello from the evtls demo server'; then echo "served without a client certificate"; exit 1; fi
get -cert "$build/pki/client.pem" -key "$build/pki/client.key" | grep -q 'Hello from the evtls demo server'
echo "demo: mutual TLS ok"
