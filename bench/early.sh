#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# early.sh [BUILD_DIR] - TLS 1.3 early data (0-RTT) against itself in the
# same run, through the delaying relay (tests/support/relay.c: 25 ms each
# way, a round trip of 50 ms; the kernel here has no netem) to nginx with
# ssl_early_data: resumed TLS 1.3 connections, one GET each, one at a time,
# with --early-data-ratio 1 and without. Prints each run's median time to
# first byte from the start of the connect (evtls-load's ttfb_conn) and
# their ratio (target <= 0.72).
#
# The relay holds bytes, not TCP's own handshake: the kernel completes the
# connect to the relay at once. So no round trip is spent connecting here;
# without early data the first byte comes after two round trips (the TLS
# handshake, then the request), with it after one: the ratio to expect is
# about 0.5 (with a connect's round trip, 3 becoming 2: 0.67).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup "${1:-$(dirname "$0")/../build}" bench evtls-load
load=$build/bin/evtls-load
relay=$build/tests/evtls-relay
[ -x "$relay" ] || { echo "early.sh: no $relay (build the tests)" >&2; exit 1; }
N=40 WARM=2 DELAY=25
[ -n "${BENCH_BRIEF:-}" ] && N=6
work=$(mktemp -d /tmp/evtls-early.XXXXXX)
relay_pid=
trap '[ -z "$relay_pid" ] || kill "$relay_pid" 2>/dev/null; bench_nginx_stop; rm -rf "$work"' EXIT
read -r port < <(bench_free_port 1)
bench_nginx_start "$work" "$pki" "listen 127.0.0.1:$port ssl; ssl_protocols TLSv1.3; ssl_early_data on;"
setpriv --pdeathsig KILL -- "$relay" --to "$port" --delay "$DELAY" >"$work/relay.out" 2>&1 &
relay_pid=$!
for _ in $(seq 200); do
  grep -qs '^ACCEPT ' "$work/relay.out" && break
  sleep 0.05
done
rport=$(sed -n 's/^ACCEPT 127.0.0.1:\([0-9]*\)$/\1/p' "$work/relay.out")
[ -n "$rport" ] || { echo "early.sh: the relay did not start" >&2; exit 1; }
u=https://localhost:$rport/

run() { # NAME ARGS...: N resumed connections (the first WARM uncounted), one GET each
  local name=$1
  shift
  "$load" --cacert "$pki/ca.pem" -t 1 -c 1 -n $N --warm-up $WARM --requests-per-conn 1 \
    --resume-ratio 1 --no-progress --json "$work/$name.json" "$@" "$u" >"$work/$name.out" 2>&1 || {
    cat "$work/$name.out" >&2
    exit 1
  }
  jq -e '.errors == 0' "$work/$name.json" >/dev/null || { cat "$work/$name.out" >&2; exit 1; }
}
run early --early-data-ratio 1
run plain
early_ms=$(jq -er '.latency.ttfb_conn.p50_ms' "$work/early.json")
plain_ms=$(jq -er '.latency.ttfb_conn.p50_ms' "$work/plain.json")
accepted=$(jq -er '.counters.early_accepted' "$work/early.json")
resumed=$(bench_json "$work/early.json" resumed)
ops=$(bench_json "$work/early.json" operations)
[ "$accepted" = "$ops" ] || { echo "early.sh: $accepted of $ops requests went early" >&2; exit 1; }
ratio=$(awk -v e="$early_ms" -v p="$plain_ms" 'BEGIN {printf "%.2f", e / p}')
echo "through the relay ($DELAY ms each way), resumed TLS 1.3 + GET, one connection at a time:"
echo "  with early data: $accepted of $ops requests accepted early ($resumed resumed);" \
  "time to first byte from the connect's start, median $early_ms ms"
echo "  without: median $plain_ms ms"
echo "time to first byte with early data / without: $ratio (target <= 0.72)"
bench_report operations="$ops" early_accepted="$accepted" ttfb_conn_ms_early="$early_ms" \
  ttfb_conn_ms_plain="$plain_ms" ratio="$ratio"
