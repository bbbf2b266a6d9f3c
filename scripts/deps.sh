#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# deps.sh [run|test|bench] - installs the Debian packages evtls needs, if missing.
#   run:  build tools, libevent, wolfSSL, http-parser, libidn2, zlib, nghttp2, Lua 5.4 (evtls-load
#         --script), openssl (for the demo certificate),
#         and what builds the tuned wolfSSL from Debian's source package
#         (autoconf, automake, libtool, dpkg-dev for apt-get source)
#   bench: the test set (which has the load-test anchors too)
#   test: the above plus cmocka, nginx, dnsmasq, tinyproxy, gnutls-bin and curl (peers and
#         the verdicts to agree with in tests/trust_matrix.sh), iproute2 (ss, to choose free
#         ports), clang with libFuzzer, valgrind,
#         qemu-user (runs the tuned build as older CPUs), Open MPI (evtls-load-mpi),
#         libhdrhistogram-java with a JDK (an HdrHistogram decoder not ours), jq and
#         python3-yaml (to read results and the Kubernetes manifests), chromium (renders
#         the HTML report headless), the load-test anchors h2load (nghttp2-client) and wrk
#         and strace (the benchmarks run briefly in the suite, tests/bench_brief.sh),
#         softhsm2 and opensc (a PKCS#11 token for client keys, tests/integration/test_pkcs11.c),
#         prometheus (a real scraper of evtls-load --metrics-listen, tests/tools/prometheus.sh),
#         and Node.js with npm (for the http-server test peer, installed from
#         npm into tests/node)
# Needs root for apt-get (or sudo, which is used when present).
set -euo pipefail
what=${1:-run}
pkgs=(build-essential cmake pkg-config libevent-dev libwolfssl-dev libhttp-parser-dev libidn2-dev zlib1g-dev libnghttp2-dev liblua5.4-dev openssl
      ca-certificates autoconf automake libtool dpkg-dev)
if [ "$what" = test ] || [ "$what" = bench ]; then
  pkgs+=(libcmocka-dev nginx-light dnsmasq-base procps iproute2 clang libclang-rt-14-dev valgrind qemu-user
        tinyproxy gnutls-bin curl libopenmpi-dev openmpi-bin libhdrhistogram-java default-jdk-headless jq python3-yaml
        chromium nghttp2-client nghttp2-server python3-h2 wrk strace softhsm2 opensc prometheus)
  # Node.js: the machine's own if it has one, else Debian's.
  command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
install_node_peers() {
  # Node's http-server, pinned in tests/node/package-lock.json.
  local dir
  dir=$(cd "$(dirname "$0")/../tests/node" && pwd)
  if [ ! -x "$dir/node_modules/.bin/http-server" ]; then
    echo "installing the Node test peers (npm ci in tests/node)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}
if [ ${#missing[@]} -eq 0 ]; then
  [ "$what" != run ] && install_node_peers
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "run as root (apt-get install ${missing[*]})" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx on port 80 when it is installed; our tests start their
# own instances on loopback ports, so the system one is not needed.
if [ "$what" != run ] && pgrep -x nginx >/dev/null 2>&1; then
  $SUDO nginx -s stop 2>/dev/null || true
fi
# The same for tinyproxy's service (port 8888): the tests run their own.
if [ "$what" != run ] && pgrep -x tinyproxy >/dev/null 2>&1; then
  $SUDO pkill -x tinyproxy 2>/dev/null || true
fi
[ "$what" != run ] && install_node_peers
exit 0
