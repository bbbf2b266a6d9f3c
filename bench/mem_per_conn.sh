#!/usr/bin/env bash
# mem_per_conn.sh [BUILD_DIR] - resident memory per idle pooled TLS
# connection at 1,000 and at 10,000 connections (bench_mem: TLS 1.3,
# X25519, ECDSA P-256, verified, full handshakes), with the heap by owner;
# then 1,000 TLS 1.2 connections resuming one session, where the server
# sends no certificate: the difference is what wolfSSL's copy of the peer
# certificate costs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" test bench_mem
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$build/bench/bench_mem" 1000
"$build/bench/bench_mem" 10000
"$build/bench/bench_mem" 1000 resumed
