#!/usr/bin/env bash
# mem_per_conn.sh [BUILD_DIR] - resident memory per idle pooled TLS
# connection at 1,000 and at 10,000 connections (bench_mem: TLS 1.3,
# X25519, ECDSA P-256, verified, full handshakes), with the heap by owner;
# then 1,000 TLS 1.2 connections resuming one session, where the server
# sends no certificate: the difference is what wolfSSL's copy of the peer
# certificate costs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
bash "$root/scripts/deps.sh" test
if [ ! -x "$build/bench/bench_mem" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" >/dev/null
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$build/bench/bench_mem" 1000
"$build/bench/bench_mem" 10000
"$build/bench/bench_mem" 1000 resumed
