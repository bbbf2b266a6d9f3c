#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# mem_per_conn.sh [BUILD_DIR] - resident memory per idle pooled TLS
# connection at 1,000 and at 10,000 connections (bench_mem: TLS 1.3,
# X25519, ECDSA P-256, verified, full handshakes), with the heap by owner;
# then 1,000 TLS 1.2 connections resuming one session, where the server
# sends no certificate: the difference is what wolfSSL's copy of the peer
# certificate costs. Then evtls-load against nginx: 5,000 held idle
# connections and a 5,000-connection keep-alive storm, per connection.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" test bench_mem
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
SMALL=1000 BIG=10000 C=5000 D=2
if [ -n "${BENCH_BRIEF:-}" ]; then
  SMALL=100 BIG=300 C=300 D=1
fi
"$build/bench/bench_mem" $SMALL
"$build/bench/bench_mem" $BIG
"$build/bench/bench_mem" $SMALL resumed

# evtls-load as a user runs it, against nginx: resident memory per held
# idle connection (hold mode, 5,000 held, against the same run with 1), and
# the peak of a keep-alive storm (-m request -c 5000) over a one-connection
# run, per connection.
load=$build/bin/evtls-load
if [ -x "$load" ]; then
  work=$(mktemp -d /tmp/evtls-mem.XXXXXX)
  trap 'bench_nginx_stop; rm -rf "$work"' EXIT
  port=$(bench_free_port)
  bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl; ssl_protocols TLSv1.3;"
  j() { bench_json "$work/$1.json" "$2"; }
  run_load() { # NAME ARGS...
    local name=$1; shift
    "$load" --cacert "$pki/ca.pem" --no-progress --json "$work/$name.json" "$@" >"$work/$name.out" 2>&1 ||
      { echo "mem_per_conn: evtls-load $* failed:"; tail -5 "$work/$name.out"; exit 1; }
  }
  run_load hold1 -m hold -c 1 -d 1 "127.0.0.1:$port"
  run_load holdC -m hold -c $C -d $D --ramp-up $D "127.0.0.1:$port"
  run_load storm1 -m request -c 1 -d $D "https://127.0.0.1:$port/"
  run_load stormC -m request -c $C -d $((D + 2)) --ramp-up $D "https://127.0.0.1:$port/"
  read -r held_each storm_each < <(awk -v h1="$(j hold1 rss_held_kb)" -v hc="$(j holdC rss_held_kb)" \
    -v s1="$(j storm1 rss_peak_kb)" -v sc="$(j stormC rss_peak_kb)" -v c=$C \
    'BEGIN {printf "%.1f %.1f\n", (hc - h1) / (c - 1), (sc - s1) / (c - 1)}')
  bench_report held="$(j holdC held)" held_kib_each="$held_each" held_kib_slope="$(j holdC kib_per_held)" \
    storm_kib_each="$storm_each"
  awk -v h1="$(j hold1 rss_held_kb)" -v hc="$(j holdC rss_held_kb)" -v held="$(j holdC held)" \
      -v slope="$(j holdC kib_per_held)" \
      -v s1="$(j storm1 rss_peak_kb)" -v sc="$(j stormC rss_peak_kb)" -v c=$C 'BEGIN {
    printf "evtls-load, %d connections held idle: %.1f KiB resident per connection (held %d; vs 1 held);",
           c, (hc - h1) / (c - 1), held
    printf " %.1f KiB as the slope while they opened\n", slope
    printf "evtls-load, keep-alive storm of %d connections: peak %.1f KiB per connection over a one-connection run\n",
           c, (sc - s1) / (c - 1) }'
fi
